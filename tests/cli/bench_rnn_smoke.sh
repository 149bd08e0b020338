#!/usr/bin/env bash
# `recur bench-rnn` in its three modes at a small size: one JSON line each, with a positive median
# and GFLOP/s, and the configuration it ran; a streaming step of a bidirectional layer is refused.
# Checks that the benchmark runs and reports, not how fast (speed is measured by benchmarks).
# Usage: bench_rnn_smoke.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
fail() { echo "FAIL: $*"; exit 1; }
for mode in forward train step; do
  for cell in lstm gru rnn_tanh; do
    for precision in fp32 bf16; do
      out=$("$recur" bench-rnn --mode "$mode" --cell "$cell" --hidden 32 --batch 4 --seq-len 8 --input-size 16 \
          --layers 2 --threads 1 --repeat 3 --precision "$precision") || fail "bench-rnn --mode $mode --cell $cell --precision $precision"
    [[ $(wc -l <<<"$out") -eq 1 ]] || fail "more than one line: $out"
    /usr/bin/python3 - "$out" "$mode" "$cell" "$precision" <<'PY' || fail "bad JSON line for $mode $cell: $out"
import json, sys
r = json.loads(sys.argv[1])
assert r["mode"] == sys.argv[2] and r["cell"] == sys.argv[3] and r["precision"] == sys.argv[4], r
assert r["hidden"] == 32 and r["batch"] == 4 and r["input"] == 16 and r["layers"] == 2, r
assert r["median_ms"] > 0 and r["min_ms"] <= r["median_ms"] and r["gflops"] > 0, r
PY
    done
  done
  echo "ok   $mode: $out"
done
err=$("$recur" bench-rnn --mode step --bidirectional --hidden 8 2>&1 >/dev/null) && fail "bidirectional step ran"
grep -q "streams one direction" <<<"$err" || fail "unclear message: $err"
"$recur" bench-rnn --mode sideways >/dev/null 2>&1 && fail "an unknown mode was accepted"
"$recur" bench-rnn --precision fp16 >/dev/null 2>&1 && fail "an unknown precision was accepted"
echo "bench-rnn smoke test: ok"
