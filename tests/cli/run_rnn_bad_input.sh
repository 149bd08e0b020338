#!/usr/bin/env bash
# `recur run-rnn` on bad input: every case must exit with status 1 (an error, not a crash; 2 for a
# wrong command line), print a message naming the offending file or tensor, and leave no output
# file behind.
# Usage: run_rnn_bad_input.sh RECUR_BINARY SOURCE_DIR
set -uo pipefail
recur=$1
src=$2
fx="$src/tests/fixtures/rnn/lstm_1layer_full.safetensors"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

# A good weights file and input: the lstm_1layer_full fixture is an LSTM with I=3, H=8.
/usr/bin/python3 - "$work" <<'PY'
import json, struct, sys
import numpy as np
d = sys.argv[1]
def st(path, tensors, raw_header=None):
    header, blobs, off = {}, [], 0
    for k, a in tensors.items():
        a = np.ascontiguousarray(a, dtype="<f4"); b = a.tobytes()
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h))); f.write(h); f.write(b"".join(blobs))
rng = np.random.default_rng(0)
H, I = 8, 3
w = {"weight_ih_l0": rng.standard_normal((4 * H, I)), "weight_hh_l0": rng.standard_normal((4 * H, H)),
     "bias_ih_l0": rng.standard_normal(4 * H), "bias_hh_l0": rng.standard_normal(4 * H)}
st(f"{d}/good.safetensors", w)
st(f"{d}/unknown_key.safetensors", {**w, "decoder.weight": np.zeros((2, 2))})
st(f"{d}/missing_key.safetensors", {k: v for k, v in w.items() if k != "bias_hh_l0"})
st(f"{d}/bad_shape.safetensors", {**w, "bias_ih_l0": np.zeros(5)})
st(f"{d}/nan_weight.safetensors", {**w, "weight_hh_l0": np.full((4 * H, H), np.nan)})
st(f"{d}/garbage_header.safetensors", w, raw_header=b"{not json at all")
good = open(f"{d}/good.safetensors", "rb").read()
open(f"{d}/truncated.safetensors", "wb").write(good[: len(good) - 17])
open(f"{d}/empty.safetensors", "wb").close()
open(f"{d}/garbage.safetensors", "wb").write(b"\x00\x01garbage" * 10)
try:  # a torch.save file (a zip archive) where safetensors belong
    import torch
    torch.save({k: torch.tensor(v) for k, v in w.items()}, f"{d}/model.pt")
except ImportError:
    pass
np.save(f"{d}/x.npy", rng.standard_normal((5, 2, I)).astype(np.float32))
np.save(f"{d}/x_wrong_features.npy", rng.standard_normal((5, 2, I + 1)).astype(np.float32))
np.save(f"{d}/x_2d.npy", rng.standard_normal((5, I)).astype(np.float32))
x = rng.standard_normal((5, 2, I)).astype(np.float32); x[3, 1, 2] = np.nan
np.save(f"{d}/x_nan.npy", x)
raw = open(f"{d}/x.npy", "rb").read()
open(f"{d}/x_truncated.npy", "wb").write(raw[:-9])
open(f"{d}/x_garbage.npy", "wb").write(b"PK\x03\x04 this is a zip, not npy")
np.save(f"{d}/h0_wrong.npy", np.zeros((2, 2, H), dtype=np.float32))
np.save(f"{d}/lengths_bad.npy", np.array([5, 9], dtype=np.int64))
np.save(f"{d}/lengths_count.npy", np.array([5], dtype=np.int64))
np.save(f"{d}/g_wrong.npy", np.zeros((5, 2, H + 1), dtype=np.float32))
PY

expect_error() {  # description, text the message must contain, then run-rnn arguments
  local what=$1 needle=$2
  shift 2
  rm -f "$work/y.npy" "$work/grads.safetensors"
  local err status want=${WANT:-1}
  err=$("$recur" run-rnn --cell lstm --out "$work/y.npy" "$@" 2>&1 >/dev/null)
  status=$?
  if [[ $status -ne $want ]]; then
    echo "FAIL $what: exit status $status (expected $want): $err"; failures=$((failures + 1)); return
  fi
  if [[ "$err" != *"$needle"* ]]; then
    echo "FAIL $what: message does not name '$needle': $err"; failures=$((failures + 1)); return
  fi
  if [[ -e "$work/y.npy" || -e "$work/grads.safetensors" ]]; then
    echo "FAIL $what: an output file was written despite the error"; failures=$((failures + 1)); return
  fi
  echo "ok   $what: $err"
}
W="$work/good.safetensors"
X="$work/x.npy"
expect_error "missing weights" "nope.safetensors" --model "$work/nope.safetensors" --input "$X"
expect_error "empty weights" "empty.safetensors" --model "$work/empty.safetensors" --input "$X"
expect_error "truncated weights" "truncated.safetensors" --model "$work/truncated.safetensors" --input "$X"
expect_error "garbage weights" "garbage.safetensors" --model "$work/garbage.safetensors" --input "$X"
expect_error "garbage header" "garbage_header.safetensors" --model "$work/garbage_header.safetensors" --input "$X"
if [[ -e "$work/model.pt" ]]; then
  expect_error "torch.save file" "recur.save_state_dict" --model "$work/model.pt" --input "$X"
fi
expect_error "unknown key" "decoder.weight" --model "$work/unknown_key.safetensors" --input "$X"
expect_error "missing key" "bias_hh_l0" --model "$work/missing_key.safetensors" --input "$X"
expect_error "wrong weight shape" "bias_ih_l0" --model "$work/bad_shape.safetensors" --input "$X"
expect_error "NaN in weights" "weight_hh_l0" --model "$work/nan_weight.safetensors" --input "$X"
expect_error "missing input" "missing.npy" --model "$W" --input "$work/missing.npy"
expect_error "truncated input" "x_truncated.npy" --model "$W" --input "$work/x_truncated.npy"
expect_error "garbage input" "x_garbage.npy" --model "$W" --input "$work/x_garbage.npy"
expect_error "NaN in input" "x_nan.npy" --model "$W" --input "$work/x_nan.npy"
expect_error "input features" "x_wrong_features.npy" --model "$W" --input "$work/x_wrong_features.npy"
expect_error "input rank" "x_2d.npy" --model "$W" --input "$work/x_2d.npy"
expect_error "h0 shape" "h0_wrong.npy" --model "$W" --input "$X" --h0 "$work/h0_wrong.npy"
expect_error "length out of range" "lengths_bad.npy: lengths[1] = 9" --model "$W" --input "$X" --lengths "$work/lengths_bad.npy"
expect_error "length count" "lengths_count.npy" --model "$W" --input "$X" --lengths "$work/lengths_count.npy"
expect_error "grad-output shape" "g_wrong.npy" --model "$W" --input "$X" --grad-output "$work/g_wrong.npy" --grads "$work/grads.safetensors"
WANT=2 expect_error "grads without grad-output" "--grad-output" --model "$W" --input "$X" --grads "$work/grads.safetensors"
# And the good files work.
if ! "$recur" run-rnn --cell lstm --model "$W" --input "$X" --out "$work/y.npy"; then
  echo "FAIL good input was refused"; failures=$((failures + 1))
fi
[[ $failures -eq 0 ]] && echo "every bad input refused cleanly" || { echo "$failures bad-input cases failed"; exit 1; }
