#!/usr/bin/env bash
# Data-parallel throughput of train-lm on this machine, in one run: the README's char-LM (LSTM
# 2x256, embedding 64, 32 streams x 25 steps in all) on 1 process with 1 and with all threads, and
# on N ranks (mpirun -np N, the streams split between them, the cores too). Prints training tokens/s
# (validation excluded), the scaling efficiency against N single-thread processes, and rank 0's time
# in the gradient allreduce per step.
# Usage: bench/mpi_scaling.sh [STEPS=300] [RANKS=2] [TEXT=data/kjv.txt] (from the repository root,
# after scripts/build.sh and scripts/demo.sh's data step). Extra train-lm arguments: RECUR_ARGS.
set -euo pipefail
steps=${1:-300}
ranks=${2:-2}
text=${3:-data/kjv.txt}
recur=${RECUR:-build/recur}
[[ -s $text ]] || { echo "no $text: run scripts/demo.sh once (it writes data/kjv.txt)"; exit 1; }
command -v mpirun >/dev/null || { echo "mpirun not found: scripts/setup.sh installs openmpi-bin"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
streams=32
model=(--text "$text" --cell lstm --hidden 256 --layers 2 --embed 64 --seq-len 25 --lr 4e-3 --clip 5
       --steps "$steps" --val-every 100000 --log-every "$steps" ${RECUR_ARGS:-})
rate() { sed -n 's/.*"kind":"train".*"tokens_per_second":\([0-9.]*\).*/\1/p' "$1" | tail -1; }
cores=$(nproc)
"$recur" train-lm "${model[@]}" --batch $streams --threads 1 --out "$out/a/m.safetensors" >/dev/null 2>&1
one=$(rate "$out/a/m.metrics.jsonl")
"$recur" train-lm "${model[@]}" --batch $streams --threads "$cores" --out "$out/b/m.safetensors" >/dev/null 2>&1
all=$(rate "$out/b/m.metrics.jsonl")
mpirun -np "$ranks" "$recur" train-lm "${model[@]}" --batch $((streams / ranks)) \
  --out "$out/c/m.safetensors" >"$out/c.log" 2>&1
dp=$(rate "$out/c/m.metrics.jsonl")
echo "train-lm, LSTM 2x256, $streams streams x 25 steps, $steps updates; $(nproc) cores; $(date -u +%F)"
printf '%-34s %10s\n' "run" "tokens/s"
printf '%-34s %10.0f\n' "1 process, 1 thread" "$one"
printf '%-34s %10.0f\n' "1 process, $cores threads" "$all"
printf '%-34s %10.0f\n' "$ranks ranks x $((streams / ranks)) streams" "$dp"
awk -v dp="$dp" -v one="$one" -v all="$all" -v n="$ranks" -v c="$cores" 'BEGIN {
  printf "scaling efficiency %.0f%% of %d single-thread processes; %.2fx the %d-thread process\n",
         100 * dp / (n * one), n, dp / all, c }'
grep -o "the gradient allreduce.*" "$out/c.log" || true
