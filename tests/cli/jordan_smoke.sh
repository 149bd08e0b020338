#!/usr/bin/env bash
# `recur jordan`: a Jordan network fitted with teacher forcing to the logistic map predicts one step
# ahead well (NRMSE < 0.1) and, run free, drifts: after 10 of its own steps the error is at least
# five times the teacher-forced one.
# Usage: jordan_smoke.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
fail() { echo "FAIL: $*"; exit 1; }
out=$("$recur" jordan --steps 1500 --starts 10 --horizon 10) || fail "recur jordan"
echo "$out"
tf=$(sed -n 's/^teacher-forced.*NRMSE \([0-9.e-]*\)$/\1/p' <<<"$out")
h10=$(sed -n 's/^  h=10 *\([0-9.e-]*\)$/\1/p' <<<"$out")
[[ -n "$tf" && -n "$h10" ]] || fail "missing numbers"
/usr/bin/python3 -c 'import sys; t,h=map(float,sys.argv[1:]); sys.exit(0 if t < 0.1 and h > 5*t else 1)' "$tf" "$h10" \
  || fail "teacher-forced $tf, free at step 10 $h10"
"$recur" jordan --r 5 >/dev/null 2>&1 && fail "--r 5 accepted"
echo "jordan smoke test: ok"
