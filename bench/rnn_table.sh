#!/usr/bin/env bash
# The CPU speed table of the README, in one run on this machine: recur's layer against PyTorch's
# nn.LSTM/nn.GRU (1 thread, its fastest here) and against oneDNN's own LSTM / linear-before-reset
# GRU forward primitives (recur_onednn_bench), one layer, input size = hidden size, fp32. recur and
# oneDNN run on 1 and 2 threads and each keeps its faster; every time is a median (--repeat).
# Ratios are reference time / recur time (above 1: recur is faster). GFLOP/s count the GEMMs.
# The forward and train times are each the median of `rounds` runs, the runs of recur and oneDNN
# alternating (this VM's speed drifts by 10-30% over minutes; one run each compared a quiet moment
# with a noisy one). recur_ceiling_bench runs before and after the table: FMA throughput per core and
# oneDNN's square f32 matmul on 1 and 2 threads; the forward's GFLOP/s is shown as a share of that
# matmul at the forward's thread count.
#   bench/rnn_table.sh [build dir] [repeat] [rounds]      (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
repeat=${2:-10}
rounds=${3:-3}
source bench/lib.sh
# The machine's ceilings now (recur_ceiling_bench): oneDNN's square f32 matmul on 1 and 2 threads.
ceiling() {
  for th in 1 2; do "$build/recur_ceiling_bench" --threads "$th"; done
}
ceil_before=$(ceiling)
echo "$ceil_before"
mm1=$(head -1 <<<"$ceil_before" | field matmul_gflops)
mm2=$(tail -1 <<<"$ceil_before" | field matmul_gflops)
printf "%-5s %-15s %9s %9s %9s | %9s %9s %8s | %7s %7s %7s | %7s %7s | %6s %5s\n" cell "(H,B,T)" \
  torch_fwd torch_trn onednn_f recur_fwd recur_trn gflops "fwd/pt" "trn/pt" "fwd/dnn" "thr_fwd" \
  "thr_trn" "fwd_gf" "%mm"
for cell in lstm gru; do
  for hbt in "128 1 100" "256 32 64" "512 32 64" "1024 16 32"; do
    read -r H B T <<<"$hbt"
    args=(--cell "$cell" --hidden "$H" --batch "$B" --seq-len "$T" --input-size "$H" --repeat "$repeat")
    torch=$(/usr/bin/python3 bench/torch_layer_bench.py "${args[@]}" --layers 1 --threads 1)
    pf=$(field forward_ms <<<"$torch")
    pt=$(field train_ms <<<"$torch")
    declare -A rf=() rt=() df=() fr=() dr=() tr=()
    for th in 1 2; do fr[$th]=""; dr[$th]=""; tr[$th]=""; done
    for _ in $(seq "$rounds"); do
      for th in 1 2; do
        fr[$th]+=" $("$build/recur" bench-rnn "${args[@]}" --threads "$th" --mode forward | field median_ms)"
        dr[$th]+=" $("$build/recur_onednn_bench" "${args[@]}" --threads "$th" | field median_ms)"
        tr[$th]+=" $("$build/recur" bench-rnn "${args[@]}" --threads "$th" --mode train | field median_ms)"
      done
    done
    for th in 1 2; do
      rf[$th]=$(median <<<"${fr[$th]}")
      df[$th]=$(median <<<"${dr[$th]}")
      rt[$th]=$(median <<<"${tr[$th]}")
    done
    dnn=$(echo "${df[1]} ${df[2]}" | best)
    tf=1; awk -v a="${rf[2]}" -v b="${rf[1]}" 'BEGIN { exit !(a < b) }' && tf=2
    tt=1; awk -v a="${rt[2]}" -v b="${rt[1]}" 'BEGIN { exit !(a < b) }' && tt=2
    of=${rf[$tf]}; ot=${rt[$tt]}
    gf=$("$build/recur" bench-rnn "${args[@]}" --threads "$tt" --mode train | field gflops)
    # The forward's GEMM rate (2 T B (I + H) G H flops) and its share of the matmul ceiling at the
    # forward's thread count.
    mm=$mm1; [[ $tf == 2 ]] && mm=$mm2
    awk -v c="$cell" -v s="($H,$B,$T)" -v pf="$pf" -v pt="$pt" -v d="$dnn" -v of="$of" -v ot="$ot" \
        -v gf="$gf" -v tf="$tf" -v tt="$tt" -v H="$H" -v B="$B" -v T="$T" -v mm="$mm" 'BEGIN {
      G = c == "lstm" ? 4 : 3
      fg = 2 * T * B * (H + H) * G * H / (of * 1e6)
      printf "%-5s %-15s %9.2f %9.2f %9.2f | %9.2f %9.2f %8.1f | %6.2fx %6.2fx %6.2fx | %7d %7d | %6.1f %4.0f%%\n",
             c, s, pf, pt, d, of, ot, gf, pf / of, pt / ot, d / of, tf, tt, fg, 100 * fg / mm }'
  done
done
ceiling
echo "times in ms; gflops = recur train GEMM GFLOP/s; fwd_gf = recur forward GEMM GFLOP/s, %mm = its share of oneDNN's square matmul (ceiling lines, before and after); $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
