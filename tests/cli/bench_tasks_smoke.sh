#!/usr/bin/env bash
# `recur bench-tasks` at a tiny size: the table prints, every run is a JSON line with its verdict,
# the ESN solves the adding problem at T=4 and the copy task's accuracy is a fraction; the gradient
# flow SVGs are written; unknown models are refused.
# Usage: bench_tasks_smoke.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
out=$("$recur" bench-tasks --tasks adding,copy --models lstm,clockwork,esn --seq-lens 4,8 --hidden 16 \
      --max-steps 60 --eval-every 20 --esn-units 100 --esn-train 300 --test-sequences 64 --threads 1 \
      --out "$work/r.jsonl" --svg-prefix "$work/flow" --flow-length 30) || fail "bench-tasks"
echo "$out"
grep -q "^clockwork " <<<"$out" || fail "no clockwork row"
for t in adding copy; do grep -q "<svg" "$work/flow-$t.svg" || fail "no $t SVG"; done
/usr/bin/python3 - "$work/r.jsonl" <<'PY' || fail "JSON lines"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 12, len(rows)
for r in rows:
    assert r["task"] in ("adding", "copy") and r["T"] in (4, 8), r
    assert r["updates"] <= 60 and r["curve"], r
    if r["task"] == "copy":
        assert 0 <= r["metric"] <= 1, r
esn = [r for r in rows if r["model"] == "esn" and r["task"] == "adding" and r["T"] == 4][0]
assert esn["solved"] and esn["metric"] < 0.01, esn
PY
err=$("$recur" bench-tasks --models transformer 2>&1) && fail "unknown model accepted"
grep -q "unknown model 'transformer'" <<<"$err" || fail "unclear message: $err"
echo "bench-tasks smoke test: ok"
