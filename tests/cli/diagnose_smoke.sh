#!/usr/bin/env bash
# `recur diagnose` on fresh layers: the JSON holds T+1 gradient norms and T Jacobian norms; a tanh
# RNN with PyTorch's initialisation loses the gradient over 100 steps (the seeds' vanishing
# gradient) while the identity-initialised ReLU RNN (IRNN) keeps it, with Jacobians of norm 1; an
# LSTM reports its gates; the SVG is written. (train_lm_smoke.sh runs it on a trained model.)
# Usage: diagnose_smoke.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
"$recur" diagnose --cell rnn_tanh --hidden 32 --seq-len 100 --out "$work/tanh.json" --svg "$work/tanh.svg" \
  || fail "diagnose tanh"
"$recur" diagnose --cell rnn_relu --init identity --hidden 32 --seq-len 100 --out "$work/irnn.json" \
  || fail "diagnose irnn"
"$recur" diagnose --cell lstm --hidden 16 --seq-len 40 --jacobian-every 4 --out "$work/lstm.json" \
  || fail "diagnose lstm"
grep -q "<svg" "$work/tanh.svg" || fail "no SVG"
/usr/bin/python3 - "$work" <<'PY' || fail "diagnose JSON"
import json, math, sys
d = sys.argv[1]
tanh, irnn, lstm = (json.load(open(f"{d}/{n}.json")) for n in ("tanh", "irnn", "lstm"))
for j, T in ((tanh, 100), (irnn, 100), (lstm, 40)):
    assert j["steps"] == T and len(j["grad_h"]) == T + 1 and len(j["jacobian_norm"]) == T, j.keys()
assert tanh["grad_h"][0] / tanh["grad_h"][100] < 1e-6, tanh["grad_h"][0]
assert irnn["grad_h"][0] / irnn["grad_h"][100] > 1e-2, irnn["grad_h"][0]
assert all(abs(v - 1) < 1e-9 for v in irnn["jacobian_norm"]), "IRNN Jacobians should be the identity"
assert set(lstm["gates"]) == {"input", "forget", "output"} and len(lstm["grad_c"]) == 41
# Every 4th Jacobian is analysed, the others are null.
assert lstm["jacobian_norm"][0] is not None and lstm["jacobian_norm"][1] is None
print("tanh ratio %.3g, IRNN ratio %.3g" % (tanh["grad_h"][0] / tanh["grad_h"][100], irnn["grad_h"][0] / irnn["grad_h"][100]))
PY
err=$("$recur" diagnose --model "$work/tanh.json" abc 2>&1) && fail "a JSON file loaded as a model"
grep -q "tanh.json" <<<"$err" || fail "unclear message: $err"
echo "diagnose smoke test: ok"
