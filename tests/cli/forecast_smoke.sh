#!/usr/bin/env bash
# `recur train-forecaster` and `recur forecast` on real data: Seattle's daily maximum temperature
# 2012-2015 (seattle-weather.csv from Debian's python3-vega-datasets). A small LSTM, window 14,
# horizon 3, 4 epochs (well under a second): its test RMSE over the 3 steps must beat persistence's
# by 5% (measured: 3.42-3.49 against 3.88 over seeds 1-4).
# Also: the plots exist; `recur forecast` reproduces the trainer's table from the saved model; a run
# resumed from its epoch-2 checkpoint, and one stopped by Ctrl-C and resumed, end exactly where an
# uninterrupted one does; a resume with other settings is refused; stocks.csv with --where
# symbol=MSFT makes one series; a malformed CSV is refused with file:line:column.
# Usage: forecast_smoke.sh RECUR_BINARY SOURCE_DIR. Skipped (77) without python3-vega-datasets.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
vega=/usr/lib/python3/dist-packages/vega_datasets/_data
if [[ ! -f $vega/seattle-weather.csv || ! -f $vega/stocks.csv ]]; then
  echo "SKIP: $vega/seattle-weather.csv not found (install python3-vega-datasets: scripts/setup.sh)"
  exit 77
fi
cd "$work"
common=(--csv "$vega/seattle-weather.csv" --target temp_max --window 14 --horizon 3 --hidden 32
        --batch 16 --lr 5e-3 --season 365 --threads 1 --log-every 20)
# The report's rows: "<forecaster> v1 v2 v3 all"; $1 of the table named in $2.
all_rmse() { awk -v who="$1" '/ RMSE /{t=1; next} / MAE /{t=0} t && index($0, who) == 1 {print $NF; exit}' "$2"; }

"$recur" train-forecaster "${common[@]}" --epochs 4 --out a.safetensors >a.out 2>a.log ||
  fail "training: $(tail -5 a.log)"
cat a.out
rnn=$(all_rmse "lstm direct" a.out)
pers=$(all_rmse "persistence" a.out)
ar=$(all_rmse "linear AR" a.out)
[[ -n "$rnn" && -n "$pers" && -n "$ar" ]] || fail "no RMSE rows in the report"
grep -q "^seasonal (365)" a.out || fail "no seasonal baseline row"
awk -v r="$rnn" -v p="$pers" 'BEGIN { exit !(r < 0.95 * p) }' ||
  fail "the LSTM's test RMSE $rnn does not beat persistence's $pers by 5%"
[[ -s a.svg && -s a.forecast.svg && -s a.metrics.jsonl && -s a.ckpt.safetensors ]] ||
  fail "missing plot/forecast chart/metrics/checkpoint"
grep -q "<svg" a.forecast.svg && grep -q ">truth<" a.forecast.svg || fail "a.forecast.svg is not the forecast chart"

# The saved model forecasts the test part exactly as the trainer did.
"$recur" forecast --model a.safetensors --csv "$vega/seattle-weather.csv" --threads 1 --svg f.svg \
  > f.out 2>f.log || fail "recur forecast: $(cat f.log)"
diff <(sed -n '/^test part/,/^validation/p' a.out | grep -v '^validation') <(grep -v '^forecast chart' f.out) ||
  fail "recur forecast differs from the trainer's table"
[[ -s f.svg ]] || fail "recur forecast --svg wrote nothing"

# Resume: 2 epochs, then --resume to 4, ends with the uninterrupted run's numbers.
vals() { grep '"kind":"val"' "$1" | sed 's/"seconds":[^,]*,//'; }
"$recur" train-forecaster "${common[@]}" --epochs 2 --out b.safetensors >/dev/null 2>b.log || fail "run B: $(tail -3 b.log)"
"$recur" train-forecaster "${common[@]}" --epochs 4 --out b.safetensors --resume b.ckpt.safetensors \
  > b.out 2>>b.log || fail "resumed run: $(tail -3 b.log)"
diff <(grep -v '^trained\|^model:' a.out) <(grep -v '^trained\|^model:' b.out) || fail "the resumed run differs"
cmp <(vals a.metrics.jsonl) <(vals b.metrics.jsonl) || fail "validation records differ"
echo "ok   resume from epoch 2 = uninterrupted run"

# Ctrl-C mid-run: exit status 130, a checkpoint, and the resumed run equals run A.
"$recur" train-forecaster "${common[@]}" --epochs 1000 --log-every 1 --out c.safetensors >/dev/null 2>c.log &
pid=$!
for _ in $(seq 1 400); do
  [[ -f c.metrics.jsonl && $(wc -l < c.metrics.jsonl 2>/dev/null) -ge 30 ]] && break
  sleep 0.01
done
kill -INT $pid
wait $pid
status=$?
[[ $status -eq 130 ]] || fail "Ctrl-C: exit status $status, expected 130: $(tail -3 c.log)"
stopped=$(sed -n 's/.*stopped at step \([0-9]*\).*/\1/p' c.log)
per_epoch=$(sed -n 's/.* epochs of \([0-9]*\) updates.*/\1/p' a.log)
[[ -n "$stopped" && -n "$per_epoch" && $stopped -lt $((4 * per_epoch)) ]] ||
  fail "stopped at step '$stopped' (expected before $((4 * per_epoch)))"
"$recur" train-forecaster "${common[@]}" --epochs 4 --out c.safetensors --resume c.ckpt.safetensors \
  > c.out 2>>c.log || fail "resume after Ctrl-C: $(tail -3 c.log)"
diff <(grep -v '^trained\|^model:' a.out) <(grep -v '^trained\|^model:' c.out) || fail "the run resumed after Ctrl-C differs"
cmp <(vals a.metrics.jsonl) <(vals c.metrics.jsonl) || fail "validation records differ after Ctrl-C"
echo "ok   Ctrl-C at step $stopped + resume = uninterrupted run"

# ... and a resume with different settings is refused.
"$recur" train-forecaster "${common[@]}" --epochs 4 --window 10 --out b.safetensors --resume b.ckpt.safetensors \
  >/dev/null 2>d.log && fail "a resume with another --window was accepted"
grep -q "window: checkpoint" d.log || fail "unclear message: $(cat d.log)"

# Stocks: one series per symbol, or one symbol; the recursive strategy; another symbol through
# the saved model.
"$recur" train-forecaster --csv "$vega/stocks.csv" --target price --group-by symbol --where symbol=MSFT \
  --window 12 --horizon 2 --hidden 16 --epochs 2 --strategy recursive --residual --threads 1 \
  --out m.safetensors >m.out 2>m.log || fail "stocks: $(tail -3 m.log)"
grep -q "^test part: 18 forecasts from 1 series, horizon 2" m.out || fail "stocks: $(head -1 m.out)"
grep -q "^lstm recursive residual " m.out || fail "no recursive residual row: $(cat m.out)"
"$recur" forecast --model m.safetensors --csv "$vega/stocks.csv" --where symbol=AAPL --split all \
  > n.out 2>n.log || fail "forecast on AAPL: $(cat n.log)"
grep -q "^all part: 110 forecasts from 1 series" n.out || fail "AAPL: $(head -1 n.out)"

# Bad input names the file, line and column, or the columns there are.
sed '100s|.*|2012/04/09,0.0,12.x,5.0,4.7,rain|' "$vega/seattle-weather.csv" > bad.csv
"$recur" train-forecaster --csv bad.csv --target temp_max --out x.safetensors >/dev/null 2>x.log &&
  fail "a malformed CSV was accepted"
grep -q "bad.csv:100:16: '12.x' in column 'temp_max' is not a number" x.log || fail "no file:line:column in '$(cat x.log)'"
[[ ! -e x.safetensors ]] || fail "a model was written from a malformed CSV"
"$recur" train-forecaster --csv "$vega/seattle-weather.csv" --target tmax --out x.safetensors >/dev/null 2>y.log &&
  fail "a missing column was accepted"
grep -q "no column 'tmax'.*the header has: date, precipitation, temp_max, temp_min, wind, weather" y.log ||
  fail "unclear message: $(cat y.log)"
"$recur" train-forecaster --csv "$vega/seattle-weather.csv" --target temp_max --input-columns wind \
  --strategy recursive --out x.safetensors >/dev/null 2>z.log && fail "recursive without the target as input accepted"
grep -q "every target must be an input" z.log || fail "unclear message: $(cat z.log)"
echo "forecast smoke test: test RMSE lstm $rnn, persistence $pers, linear AR $ar"
