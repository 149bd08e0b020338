#!/usr/bin/env bash
# bf16 mixed precision against fp32, in one run on this machine: recur's layer (--precision bf16:
# bfloat16 products, float accumulation) and oneDNN's own LSTM / linear-before-reset GRU forward
# primitive in bf16, beside both in fp32 and beside PyTorch's fp32 (1 thread, its fastest here).
# recur and oneDNN keep their faster of 1 and 2 threads; every time is a median (--repeat). Then
# streaming (RnnStream, LSTM H=256, B=1) in both precisions. Ratios: reference time / recur time.
#   bench/bf16_table.sh [build dir] [repeat]      (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
repeat=${2:-10}
source bench/lib.sh
printf "%-5s %-15s %9s %9s | %9s %9s | %9s %9s %9s %9s | %9s %9s %9s\n" cell "(H,B,T)" torch_fwd \
  torch_trn dnn_f32 dnn_bf16 recur_f32 recur_bf16 rtrn_f32 rtrn_bf16 "bf16/f32" "trn/pt" "fwd/dnn16"
for cell in lstm gru; do
  for hbt in "128 1 100" "256 32 64" "512 32 64" "1024 16 32"; do
    read -r H B T <<<"$hbt"
    args=(--cell "$cell" --hidden "$H" --batch "$B" --seq-len "$T" --input-size "$H" --repeat "$repeat")
    torch=$(/usr/bin/python3 bench/torch_layer_bench.py "${args[@]}" --layers 1 --threads 1)
    pf=$(field forward_ms <<<"$torch")
    pt=$(field train_ms <<<"$torch")
    d32=$(fastest "$build/recur_onednn_bench" "${args[@]}" --precision fp32)
    d16=$(fastest "$build/recur_onednn_bench" "${args[@]}" --precision bf16)
    r32=$(fastest "$build/recur" bench-rnn "${args[@]}" --mode forward --precision fp32)
    r16=$(fastest "$build/recur" bench-rnn "${args[@]}" --mode forward --precision bf16)
    t32=$(fastest "$build/recur" bench-rnn "${args[@]}" --mode train --precision fp32)
    t16=$(fastest "$build/recur" bench-rnn "${args[@]}" --mode train --precision bf16)
    awk -v c="$cell" -v s="($H,$B,$T)" -v pf="$pf" -v pt="$pt" -v d32="$d32" -v d16="$d16" \
        -v r32="$r32" -v r16="$r16" -v t32="$t32" -v t16="$t16" 'BEGIN {
      printf "%-5s %-15s %9.2f %9.2f | %9.2f %9.2f | %9.2f %9.2f %9.2f %9.2f | %8.2fx %8.2fx %8.2fx\n",
             c, s, pf, pt, d32, d16, r32, r16, t32, t16, r32 / r16, pt / t16, d16 / r16 }'
  done
done
echo "bf16/f32 = recur fp32 forward / recur bf16 forward; trn/pt = PyTorch fp32 fwd+bwd / recur bf16 fwd+bwd;"
echo "fwd/dnn16 = oneDNN bf16 forward / recur bf16 forward"
for p in fp32 bf16; do
  for th in 1 2; do
    us=$("$build/recur" bench-rnn --mode step --hidden 256 --batch 1 --seq-len 200 --repeat "$repeat" \
         --threads "$th" --precision "$p" | field median_ms)
    awk -v p="$p" -v th="$th" -v ms="$us" 'BEGIN { printf "streaming LSTM H=256 B=1 %s %d thread(s): %.1f us/step\n", p, th, ms * 1000 }'
  done
done
echo "times in ms; $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(grep -o -m1 'amx_bf16' /proc/cpuinfo || echo 'no AMX')"
