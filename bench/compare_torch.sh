#!/usr/bin/env bash
# recur's recurrent layer beside PyTorch's, in one run on this machine: medians of forward and
# forward+backward, and the speed-up (PyTorch time / recur time). PyTorch runs on 1 thread (its
# fastest here); recur on 1 and on 2 threads.
#   bench/compare_torch.sh [build dir]      (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
recur=${1:-build}/recur
printf "%-6s %-16s %-8s %12s %12s %10s %10s\n" cell "(H,B,T,I,L)" threads fwd_ms train_ms fwd_x train_x
for cfg in "lstm 128 1 100 128 1" "lstm 256 32 64 256 1" "lstm 256 32 100 64 2" "gru 256 32 64 256 1" "lstm 512 32 64 512 1"; do
  read -r cell H B T I L <<<"$cfg"
  args=(--cell "$cell" --hidden "$H" --batch "$B" --steps "$T" --input "$I" --layers "$L")
  rargs=(--cell "$cell" --hidden "$H" --batch "$B" --seq-len "$T" --input-size "$I" --layers "$L")
  torch=$(/usr/bin/python3 bench/torch_layer_bench.py "${args[@]}" --threads 1)
  tf=$(sed 's/.*"forward_ms": \([0-9.]*\).*/\1/' <<<"$torch")
  tt=$(sed 's/.*"train_ms": \([0-9.]*\).*/\1/' <<<"$torch")
  printf "%-6s %-16s %-8s %12.2f %12.2f %10s %10s\n" "$cell" "($H,$B,$T,$I,$L)" "torch 1" "$tf" "$tt" - -
  for th in 1 2; do
    median() { "$recur" bench-rnn "${rargs[@]}" --threads "$th" --mode "$1" |
                 sed 's/.*"median_ms": \([0-9.]*\).*/\1/'; }
    of=$(median forward)
    ot=$(median train)
    printf "%-6s %-16s %-8s %12.2f %12.2f %9.2fx %9.2fx\n" "$cell" "($H,$B,$T,$I,$L)" "recur $th" "$of" "$ot" \
      "$(awk -v a="$tf" -v b="$of" 'BEGIN{print a/b}')" "$(awk -v a="$tt" -v b="$ot" 'BEGIN{print a/b}')"
  done
done
