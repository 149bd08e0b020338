#!/usr/bin/env bash
# `recur run-rnn` against PyTorch on configurations generated afresh (not the committed fixtures):
# every cell, stacked, bidirectional, ragged lengths, batch-first; outputs, final states and all
# gradients within 1e-5 + 1e-5 |torch| (float32; see tests/layers/rnn_torch_parity_test.cpp).
# Usage: run_rnn_parity.sh RECUR_BINARY SOURCE_DIR. Needs Debian's python3-torch (scripts/setup.sh).
set -euo pipefail
recur=$1
src=$2
ref="$src/tests/fixtures/torch_rnn_reference.py"
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "SKIP: /usr/bin/python3 has no torch (install python3-torch: scripts/setup.sh)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0
run_case() {  # name, then arguments for the reference script's `case`
  local name=$1 cell=$2
  shift 2
  local d="$work/$name"
  /usr/bin/python3 "$ref" case "$d" --cell "$cell" "$@"
  local extra=()
  [[ -f "$d/lengths.npy" ]] && extra+=(--lengths "$d/lengths.npy")
  [[ "$cell" == lstm ]] && extra+=(--c0 "$d/c0.npy" --cn "$d/got_cn.npy")
  [[ " $* " == *" --batch-first "* ]] && extra+=(--batch-first)
  "$recur" run-rnn --cell "$cell" --model "$d/weights.safetensors" --input "$d/input.npy" \
    --out "$d/got_output.npy" --h0 "$d/h0.npy" --hn "$d/got_hn.npy" \
    --grad-output "$d/grad_output.npy" --grads "$d/got_grads.safetensors" "${extra[@]}"
  echo -n "$name: "
  /usr/bin/python3 "$ref" compare "$d"
  n=$((n + 1))
}
run_case lstm_3layer_bidir_ragged lstm --layers 3 --bidirectional --lengths 9,4,1,7 --steps 9 --input 5 --hidden 11 --seed 11
run_case lstm_batch_first lstm --layers 1 --steps 5 --batch 4 --input 3 --hidden 16 --batch-first --seed 12
run_case gru_3layer_bidir_ragged gru --layers 3 --bidirectional --lengths 2,8,8 --steps 8 --input 7 --hidden 9 --seed 13
run_case gru_batch_first_ragged gru --layers 2 --lengths 3,6 --steps 6 --input 4 --hidden 6 --batch-first --seed 14
run_case rnn_tanh_bidir rnn_tanh --layers 2 --bidirectional --steps 12 --batch 2 --input 3 --hidden 10 --seed 15
run_case rnn_relu_ragged rnn_relu --layers 3 --lengths 5,1,3 --steps 5 --input 6 --hidden 8 --seed 16
echo "all $n configurations match PyTorch"
