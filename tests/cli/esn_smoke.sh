#!/usr/bin/env bash
# `recur esn` and `recur run-esn` end to end at a small size: NARMA10 and Mackey-Glass reach a
# test NRMSE well below a trivial predictor's 1.0, a saved model reruns on .npy inputs to the
# same predictions, the npy task reads the user's sequences, and bad input gets a clear error.
# Usage: esn_smoke.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
field() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
below() { /usr/bin/python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$1" "$2"; }

out=$("$recur" esn --task narma10 --units 150 --train-size 1500 --test-size 500 --json --out "$work/n.safetensors") \
  || fail "esn narma10"
echo "narma10: $out"
below "$(field "$out" test_nrmse)" 0.5 || fail "narma10 test NRMSE too high: $out"
[[ $(field "$out" spectral_radius) == 0.9 ]] || fail "spectral radius not 0.9: $out"

out=$("$recur" esn --task mackey-glass --units 300 --spectral-radius 1.1 --train-size 2000 --test-size 600 \
      --washout 300 --trials 5 --json) || fail "esn mackey-glass"
echo "mackey-glass: $out"
below "$(field "$out" test_nrmse)" 0.05 || fail "mackey-glass NRMSE84 too high: $out"

# The npy task on a delay line y(t) = u(t-2), and run-esn on the saved model.
/usr/bin/python3 - "$work" <<'PY' || fail "making npy inputs"
import numpy as np, sys
rng = np.random.default_rng(0)
u = rng.uniform(-1, 1, size=(1200, 1))
y = np.concatenate([np.zeros((2, 1)), u[:-2]])
np.save(sys.argv[1] + "/u.npy", u)
np.save(sys.argv[1] + "/y.npy", y)
np.save(sys.argv[1] + "/nan.npy", np.where(np.arange(1200)[:, None] == 7, np.nan, u))
PY
out=$("$recur" esn --task npy --inputs "$work/u.npy" --targets "$work/y.npy" --units 100 --json) \
  || fail "esn npy"
echo "delay line: $out"
below "$(field "$out" test_nrmse)" 0.1 || fail "delay line NRMSE too high: $out"

"$recur" run-esn --model "$work/n.safetensors" --inputs "$work/u.npy" --out "$work/p.npy" >/dev/null \
  || fail "run-esn"
/usr/bin/python3 -c 'import numpy as np,sys; p=np.load(sys.argv[1]); assert p.shape==(1200,1) and np.isfinite(p).all(), p.shape' \
  "$work/p.npy" || fail "run-esn output"

err=$("$recur" esn --task npy --units 20 2>&1) && fail "npy task without files ran"
grep -q "needs --inputs" <<<"$err" || fail "unclear message: $err"
err=$("$recur" esn --task npy --inputs "$work/nan.npy" --targets "$work/y.npy" --units 20 2>&1) \
  && fail "NaN input accepted"
grep -q "nan.npy" <<<"$err" && grep -q "non-finite" <<<"$err" || fail "unclear NaN message: $err"
err=$("$recur" run-esn --model "$work/u.npy" --out "$work/q.npy" 2>&1) && fail "npy as a model"
grep -q "u.npy" <<<"$err" || fail "unclear message: $err"
echo "esn smoke test: ok"
