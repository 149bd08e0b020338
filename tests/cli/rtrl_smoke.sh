#!/usr/bin/env bash
# `recur rtrl`: in double, RTRL's gradients equal BPTT's (largest difference below 1e-10) at every
# length, its memory does not grow with the length while BPTT's does; online learning of a delay
# line ends far below the error of predicting nothing (0.333).
# Usage: rtrl_smoke.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
fail() { echo "FAIL: $*"; exit 1; }
for cell in rnn_tanh lstm; do
  out=$("$recur" rtrl --cell "$cell" --hidden 6 --input-size 3 --batch 2 --seq-lens 5,50 --precision fp64) \
    || fail "rtrl compare $cell"
  echo "$out"
  /usr/bin/python3 - "$out" <<'PY' || fail "compare table for $cell"
import sys
rows = [l.split() for l in sys.argv[1].splitlines() if l.split() and l.split()[0].isdigit()]
assert [int(r[0]) for r in rows] == [5, 50], rows
assert all(float(r[5]) < 1e-10 and float(r[8].rstrip(')')) > 0.1 for r in rows), rows
assert int(rows[1][3]) > 5 * int(rows[0][3]), "BPTT memory should grow with T"
assert rows[0][4] == rows[1][4], "RTRL memory should not grow with T"
PY
done
out=$("$recur" rtrl --mode online --hidden 8 --seq-len 3000 --log-every 1000) || fail "rtrl online"
echo "$out"
last=$(grep "steps" <<<"$out" | tail -1 | awk '{print $NF}')
/usr/bin/python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 0.02 else 1)' "$last" \
  || fail "online error did not fall: $last"
err=$("$recur" rtrl --seq-lens 10,x 2>&1) && fail "bad --seq-lens accepted"
grep -q "'x' is not a positive integer" <<<"$err" || fail "unclear message: $err"
echo "rtrl smoke test: ok"
