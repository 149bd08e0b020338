#!/usr/bin/env bash
# `recur run-onnx` end to end: a language model exported by torch.onnx (fixture) run on its .npy
# token ids reproduces PyTorch's log-probabilities; --list names the inputs and outputs; NAME=FILE
# binds by name; a missing input, a corrupt model and an unknown output are clean errors.
# Usage: run_onnx_smoke.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fx="$2/tests/fixtures/onnx"
fail() { echo "FAIL: $*"; exit 1; }
out=$("$recur" run-onnx --model "$fx/torch_lm_lstm_bidir.onnx" --list) || fail "--list: $out"
grep -q "input  tokens (int64, rank 2)" <<<"$out" || fail "--list: $out"
grep -q "output logp" <<<"$out" || fail "--list: $out"
"$recur" run-onnx --model "$fx/torch_lm_lstm_bidir.onnx" --input "$fx/torch_lm_lstm_bidir.in.tokens.npy" \
  --out "$work/logp.npy" || fail "run"
/usr/bin/python3 - "$work/logp.npy" "$fx/torch_lm_lstm_bidir.out.logp.npy" <<'PY' || fail "outputs differ from PyTorch's"
import sys, numpy as np
got, want = np.load(sys.argv[1]), np.load(sys.argv[2])
assert got.shape == want.shape, (got.shape, want.shape)
assert np.abs(got - want).max() < 1e-5, np.abs(got - want).max()
PY
echo "ok   torch.onnx LSTM language model reproduces PyTorch's log-probabilities"
"$recur" run-onnx --model "$fx/torch_gru_h0.onnx" --input h0="$fx/torch_gru_h0.in.h0.npy" \
  --input x="$fx/torch_gru_h0.in.x.npy" --out hn="$work/hn.npy" || fail "NAME=FILE run"
/usr/bin/python3 -c "import sys, numpy as np; assert np.abs(np.load(sys.argv[1]) - np.load(sys.argv[2])).max() < 1e-5" \
  "$work/hn.npy" "$fx/torch_gru_h0.out.hn.npy" || fail "GRU hn differs"
echo "ok   inputs and outputs bound by name"
expect_error() {  # what, needle, args...
  local what=$1 needle=$2
  shift 2
  local err status
  err=$("$recur" "$@" 2>&1 >/dev/null)
  status=$?
  [[ $status -eq 1 ]] || fail "$what: exit status $status: $err"
  [[ "$err" == *"$needle"* ]] || fail "$what: message lacks '$needle': $err"
  echo "ok   $what: $err"
}
expect_error "missing input" "no value given for the model's input 'h0'" \
  run-onnx --model "$fx/torch_gru_h0.onnx" --input "$fx/torch_gru_h0.in.x.npy" --out "$work/y.npy"
head -c 500 "$fx/torch_lm_lstm_bidir.onnx" > "$work/cut.onnx"
expect_error "truncated model" "cut.onnx" run-onnx --model "$work/cut.onnx" --input x.npy --out "$work/y.npy"
expect_error "unknown output" "no output 'nope'" \
  run-onnx --model "$fx/torch_gru_h0.onnx" --input "$fx/torch_gru_h0.in.x.npy" --input "$fx/torch_gru_h0.in.h0.npy" \
  --out nope="$work/y.npy"
[[ ! -e "$work/y.npy" ]] || fail "a failed run wrote an output"
echo "run-onnx smoke test: ok"
