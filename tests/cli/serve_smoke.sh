#!/usr/bin/env bash
# `recur serve` over real HTTP on loopback, for a language model trained on the King James Bible
# and a language classifier trained on Debian's fortunes: GET /healthz and /v1/model; generation
# (same seed, same text; streamed in chunks = the whole reply); classification of one text and of a
# list; every error status with a JSON body (400 malformed, 413 too large, 422 unusable, 404, 405);
# 8 concurrent clients get the single client's answer; 10 000 malformed requests (random bytes,
# deep nesting, truncations, wrong types and ranges) each get a 4xx JSON error and leave the
# server answering as before; SIGTERM stops it cleanly; a non-model file and a busy port are
# refused with a message. Usage: serve_smoke.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
src=$2
source "$src/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
kjv_head 200000 "$work/kjv.txt"
cd "$work"
client() { /usr/bin/python3 "$src/tests/cli/helpers/serve_client.py" "$@"; }

"$recur" train-lm --text kjv.txt --hidden 64 --embed 16 --batch 8 --seq-len 32 --steps 40 --threads 1 \
  --out lm.safetensors >lm.log 2>&1 || fail "train-lm: $(tail -3 lm.log)"
"$recur" data fortunes-lang --out lang >/dev/null || fail "recur data fortunes-lang"
head -300 lang/train.tsv > train.tsv
head -60 lang/valid.tsv > valid.tsv
"$recur" train-classifier --train train.tsv --valid valid.tsv --hidden 32 --embed 16 --epochs 1 --threads 1 \
  --out lang.safetensors >cls.log 2>&1 || fail "train-classifier: $(tail -3 cls.log)"

serve() {  # serve MODEL LOG: starts the server on a free port; sets $pid and $port
  "$recur" serve --model "$1" --port 0 --threads 4 >"$2" 2>&1 &
  pid=$!
  port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$2")
    [[ -n $port ]] && break
    sleep 0.05
  done
  [[ -n $port ]] || fail "the server did not start: $(cat "$2")"
}
stop() {  # stop LOG: SIGTERM, a clean exit within 10 s
  kill -TERM "$pid"
  timeout 10 tail --pid="$pid" -f /dev/null || fail "the server did not stop within 10 s of SIGTERM"
  wait "$pid" || fail "the server exited with status $?: $(cat "$1")"
  grep -q "recur serve: stopped" "$1" || fail "no clean stop: $(cat "$1")"
}

serve lm.safetensors lm-serve.log
client "$port" lm 10000 || fail "language model server"
kill -0 "$pid" || fail "the server died"
stop lm-serve.log
echo "ok   the language model's server stopped cleanly on SIGTERM"

serve lang.safetensors cls-serve.log
client "$port" classify || fail "classifier server"
# The port is taken: a second server says so.
"$recur" serve --model lang.safetensors --port "$port" >busy.log 2>&1 && fail "a second server took port $port"
grep -q "cannot listen on 127.0.0.1:$port" busy.log || fail "unclear message for a busy port: $(cat busy.log)"
echo "ok   a busy port is refused: $(head -1 busy.log | cut -c1-100)"
stop cls-serve.log

# A seq2seq model (grapheme-to-phoneme on CMUdict) answers what `recur translate` prints, greedy
# and as a beam's n-best list; a forecaster (Seattle's temperatures) forecasts from the CSV's
# last rows. Each is skipped where its data set is missing.
dict=/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict
if [[ -s $dict ]]; then
  "$recur" data cmudict --out g2p >/dev/null || fail "recur data cmudict"
  head -1500 g2p/train.tsv > g2p-train.tsv
  head -100 g2p/valid.tsv > g2p-valid.tsv
  "$recur" train-seq2seq --train g2p-train.tsv --valid g2p-valid.tsv --hidden 32 --embed 16 \
    --target-embed 16 --epochs 1 --threads 1 --out g2p.safetensors >s2s.log 2>&1 || fail "train-seq2seq: $(tail -3 s2s.log)"
  serve g2p.safetensors s2s-serve.log
  want=$("$recur" translate --model g2p.safetensors --chars "serving")
  got=$(curl -s -d '{"text": "serving", "chars": true}' "http://127.0.0.1:$port/v1/predict" |
        /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["text"])')
  [[ -n $want && $got == "$want" ]] || fail "served translation '$got', recur translate '$want'"
  want=$("$recur" translate --model g2p.safetensors --chars "serving" --beam 4 --nbest 2 | cut -f2)
  got=$(curl -s -d '{"text": "serving", "chars": true, "beam": 4, "nbest": 2}' "http://127.0.0.1:$port/v1/predict" |
        /usr/bin/python3 -c 'import json, sys; [print(h["text"]) for h in json.load(sys.stdin)["hypotheses"]]')
  [[ $got == "$want" ]] || fail "served n-best '$got', recur translate '$want'"
  status=$(curl -s -o bad.json -w '%{http_code}' -d '{"text": "x", "beam": 99}' "http://127.0.0.1:$port/v1/predict")
  [[ $status == 422 ]] && grep -q "'beam' must be in" bad.json || fail "beam 99: $status $(cat bad.json)"
  stop s2s-serve.log
  echo "ok   seq2seq: 'serving' -> '$(echo "$want" | head -1)', as recur translate says (greedy and 2-best of beam 4)"
fi
csv=/usr/lib/python3/dist-packages/vega_datasets/_data/seattle-weather.csv
if [[ -f $csv ]]; then
  "$recur" train-forecaster --csv "$csv" --target temp_max --window 14 --horizon 3 --hidden 16 --epochs 2 \
    --threads 1 --out fc.safetensors >fc.log 2>&1 || fail "train-forecaster: $(tail -3 fc.log)"
  serve fc.safetensors fc-serve.log
  body=$(/usr/bin/python3 -c '
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(json.dumps({"window": [float(r["temp_max"]) for r in rows[-20:]]}))' "$csv")
  reply=$(curl -s -d "$body" "http://127.0.0.1:$port/v1/predict")
  /usr/bin/python3 -c '
import json, math, sys
r = json.loads(sys.argv[1])
f = [step[0] for step in r["forecast"]]
assert r["targets"] == ["temp_max"] and r["horizon"] == 3 and len(f) == 3, r
assert all(math.isfinite(v) and -20 < v < 45 for v in f), f  # degrees C, Seattle
' "$reply" || fail "forecast reply: $reply"
  status=$(curl -s -o bad.json -w '%{http_code}' -d '{"window": [1, 2]}' "http://127.0.0.1:$port/v1/predict")
  [[ $status == 422 ]] && grep -q "holds 2 rows" bad.json || fail "a short window: $status $(cat bad.json)"
  stop fc-serve.log
  echo "ok   forecaster: the next 3 days' temp_max from the last 20 rows: $reply"
fi

printf 'not a model' > junk.safetensors
"$recur" serve --model junk.safetensors --port 0 >junk.log 2>&1 && fail "served a junk file"
grep -q "junk.safetensors" junk.log || fail "the refusal does not name the file: $(cat junk.log)"
echo "ok   a junk model file is refused: $(head -1 junk.log | cut -c1-100)"
echo "PASS"
