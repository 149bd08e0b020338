#!/usr/bin/env bash
# Load on `recur serve` over loopback with wrk (Debian's wrk): sustained requests/s and latency
# percentiles at 1, 8 and 64 concurrent connections, for a language model (generation of LENGTH
# tokens per request) and a text classifier (one short text per request). The server computes as
# many requests at once as the machine has cores (the default --threads) and holds up to 128
# connections; wrk gets one thread and competes for the same cores.
# Usage: bench/serve_load.sh LM.safetensors CLASSIFIER.safetensors [SECONDS=10] [LENGTH=200]
# (e.g. the models scripts/demo.sh and scripts/classify.sh write).
set -euo pipefail
lm=$1
cls=$2
secs=${3:-10}
length=${4:-200}
recur=${RECUR:-build/recur}
command -v wrk >/dev/null || { echo "wrk not found: scripts/setup.sh installs it"; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"; [[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null || true' EXIT

load() {  # load MODEL BODY LABEL
  "$recur" serve --model "$1" --port 0 >"$out/serve.log" 2>&1 &
  pid=$!
  local port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out/serve.log")
    [[ -n $port ]] && break
    sleep 0.05
  done
  [[ -n $port ]] || { cat "$out/serve.log"; exit 1; }
  printf 'wrk.method = "POST"\nwrk.body = [[%s]]\nwrk.headers["Content-Type"] = "application/json"\n' \
    "$2" >"$out/post.lua"
  for c in 1 8 64; do
    # The previous row's connections hold server threads until their keep-alive ends (5 s).
    sleep 6
    wrk -t1 -c"$c" -d"${secs}s" --timeout 30s --latency -s "$out/post.lua" "http://127.0.0.1:$port/v1/predict" \
      >"$out/wrk.txt" 2>&1
    local rps p50 p99 errors
    rps=$(awk '/Requests\/sec/ {print $2}' "$out/wrk.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$out/wrk.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$out/wrk.txt")
    errors=$(grep -Eo "Non-2xx or 3xx responses: [0-9]+|Socket errors:.*" "$out/wrk.txt" || echo none)
    printf '%-40s %4d %10s %10s %10s  %s\n' "$3" "$c" "$rps" "$p50" "$p99" "$errors"
  done
  kill "$pid"
  wait "$pid" || true
  pid=""
}
echo "recur serve under wrk, ${secs}s per row, $(nproc) cores, $(date -u +%F)"
printf '%-40s %4s %10s %10s %10s  %s\n' "model" "conn" "req/s" "p50" "p99" "errors"
load "$lm" "{\"prompt\": \"And God said\", \"length\": $length, \"temperature\": 0.8}" \
  "LM, $length tokens per request"
load "$cls" '{"text": "Wer zuletzt lacht, lacht am besten."}' "classifier, one text"
