#!/usr/bin/env bash
# --patience N (early stopping with keep-best, recur/train/early_stopping.h) in every trainer, on
# small slices of real data with a learning rate high enough that validation soon stops improving:
# the run stops N validations after its best one, before its last step or epoch; the model it writes
# scores exactly the best validation it logged (re-evaluated from the file where a command can); a
# run killed before the stop and resumed stops at the same step with the same model file, byte for
# byte; and --patience 0 writes the same model as a run without the flag.
# Usage: patience.sh RECUR_BINARY SOURCE_DIR. Needs bible-kjv, fortunes-de/-ru, python3-vega-datasets.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
vega=/usr/lib/python3/dist-packages/vega_datasets/_data
if [[ ! -d /usr/share/games/fortunes/de || ! -f $vega/seattle-weather.csv ]]; then
  echo "SKIP: fortunes-de or python3-vega-datasets not installed (scripts/setup.sh)"
  exit 77
fi
kjv_head 40000 "$work/kjv.txt"
cd "$work"

# The "stopped early at ...; ... from <epoch E (step S)|step S>: <score name> X" line of LOG:
# sets stop (epoch or step), best (the same) and best_score.
parse_summary() {
  local line
  line=$(grep -m1 "stopped early at" "$1") || fail "$1: no 'stopped early' line: $(tail -3 "$1")"
  echo "$line"
  stop=$(sed -n 's/.*stopped early at \(epoch \|step \)\([0-9]*\).*/\2/p' <<<"$line")
  best=$(sed -n 's/.*best weights, from \(epoch \|step \)\([0-9]*\).*/\2/p' <<<"$line")
  best_score=$(sed -n 's/.* \([0-9.]*\)$/\1/p' <<<"$line")
  [[ -n "$stop" && -n "$best" && -n "$best_score" ]] || fail "cannot read '$line'"
}
# The lowest of the numbers on stdin, as printed.
lowest() { sort -g | head -1; }
# An epoch trainer's run with --patience 1 and --epochs 12, logged in LOG: it stopped one epoch
# after its best, before the last, and the summary's score is the lowest "validation loss" logged.
check_epochs() {
  parse_summary "$1"
  (( stop < 12 && stop == best + 1 )) || fail "$1: stopped at epoch $stop, best $best"
  local low
  low=$(sed -n 's/^epoch [0-9]* (step [0-9]*): validation loss \([0-9.]*\),.*/\1/p' "$1" | lowest)
  [[ "$low" == "$best_score" ]] || fail "$1: the lowest validation loss is $low, the summary says $best_score"
}

# --- train-lm: validation every 10 steps, patience 2.
lm=(--text kjv.txt --hidden 32 --layers 1 --embed 16 --seq-len 32 --batch 8 --steps 400
    --val-every 10 --lr 0.05 --log-every 50 --sample-length 0 --threads 1)
"$recur" train-lm "${lm[@]}" --patience 2 --out lm.safetensors >lm.out 2>lm.log ||
  fail "train-lm: $(tail -3 lm.log)"
parse_summary lm.log
(( stop < 400 )) || fail "train-lm ran to step $stop"
(( stop == best + 20 )) || fail "train-lm stopped at step $stop, best was $best: expected 2 validations later"
low=$(sed -n 's/^validation at step [0-9]*: \([0-9.]*\) bpc.*/\1/p' lm.log | lowest)
[[ "$low" == "$best_score" ]] || fail "train-lm: the lowest validation logged is $low, the summary says $best_score"
grep -q "^validation at step $best: $best_score bpc" lm.log || fail "train-lm: step $best did not log $best_score"
# The model file scores what the best validation logged: the periodic check reads the validation
# tail (split_text_tail) as --batch streams, the final one as one stream.
/usr/bin/python3 - <<'PY'
t = open("kjv.txt", "rb").read()
cut = len(t) - int(len(t) * 0.05)
while cut < len(t) and not t[cut:cut + 1].isspace():
    cut += 1
open("tail.txt", "wb").write(t[cut:])
PY
ev=$("$recur" eval-lm --model lm.safetensors --text tail.txt --seq-len 32 --streams 8 --threads 1) ||
  fail "eval-lm"
[[ "$ev" == *": $best_score bits/char"* ]] || fail "eval-lm of the saved model: '$ev', best logged $best_score"
final=$(sed -n 's/^validation: \([0-9.]*\) bits\/char.*/\1/p' lm.out)
ev1=$("$recur" eval-lm --model lm.safetensors --text tail.txt --seq-len 32 --threads 1)
[[ "$ev1" == *": $final bits/char"* ]] || fail "eval-lm (one stream): '$ev1', the trainer printed $final"
# Killed after its best step and resumed: the same stop, the same file.
"$recur" train-lm "${lm[@]}" --patience 2 --steps $((stop - 10)) --out r.safetensors >/dev/null 2>r.log ||
  fail "train-lm, first part: $(tail -3 r.log)"
"$recur" train-lm "${lm[@]}" --patience 2 --resume r.ckpt.safetensors --out r.safetensors >/dev/null 2>>r.log ||
  fail "train-lm, resumed: $(tail -3 r.log)"
grep -q "stopped early at step $stop:" r.log || fail "the resumed train-lm did not stop at step $stop"
cmp -s r.safetensors lm.safetensors || fail "the resumed train-lm wrote another model"
# --patience 0 is off: the same file as no flag.
"$recur" train-lm "${lm[@]}" --steps 60 --out a.safetensors >/dev/null 2>a.log || fail "train-lm: $(tail -3 a.log)"
"$recur" train-lm "${lm[@]}" --steps 60 --patience 0 --out b.safetensors >/dev/null 2>b.log ||
  fail "train-lm --patience 0: $(tail -3 b.log)"
cmp -s a.safetensors b.safetensors || fail "train-lm --patience 0 wrote another model than no flag"
grep -q "best weights" b.log && fail "train-lm --patience 0 kept best weights"
# A negative patience is a usage error, refused before any work (exit status 2).
"$recur" train-lm "${lm[@]}" --patience -1 --out x.safetensors >/dev/null 2>x.log
status=$?
(( status == 2 )) && grep -q -- "--patience" x.log || fail "--patience -1: status $status, $(cat x.log)"
echo "train-lm: stopped at step $stop, best step $best ($best_score bpc); resume and --patience 0 alike"

# --- train-classifier (the epoch loop every epoch trainer shares): validation every epoch,
# patience 1.
"$recur" data fortunes-lang --out lang >/dev/null || fail "recur data fortunes-lang"
for split in train valid; do
  n=80; [[ $split != train ]] && n=30
  for l in de en ru; do grep -m "$n" "^$l	" "lang/$split.tsv"; done > "$split.tsv"
done
cls=(--train train.tsv --valid valid.tsv --hidden 16 --embed 8 --max-len 60 --batch 16 --lr 0.05
     --epochs 12 --threads 1 --log-every 100)
"$recur" train-classifier "${cls[@]}" --patience 1 --out c.safetensors >c.out 2>c.log ||
  fail "train-classifier: $(tail -3 c.log)"
check_epochs c.log
acc=$(sed -n "s/^epoch $best (step [0-9]*): validation loss [0-9.]*, accuracy \([0-9.]*\).*/\1/p" c.log)
[[ -n "$acc" ]] || fail "train-classifier: no validation line for epoch $best"
grep -q "^validation accuracy: $acc " c.out || fail "train-classifier reports $(head -1 c.out), epoch $best had $acc"
"$recur" eval-classifier --model c.safetensors --data valid.tsv >e.out || fail "eval-classifier"
grep -q "^accuracy $acc" e.out || fail "eval-classifier: $(grep ^accuracy e.out), epoch $best had $acc"
"$recur" train-classifier "${cls[@]}" --patience 1 --epochs "$stop" --out r.safetensors \
  >/dev/null 2>r.log || fail "train-classifier, first part"
"$recur" train-classifier "${cls[@]}" --patience 1 --resume r.ckpt.safetensors --out r.safetensors \
  >/dev/null 2>>r.log || fail "train-classifier, resumed: $(tail -3 r.log)"
cmp -s r.safetensors c.safetensors || fail "the resumed train-classifier wrote another model"
"$recur" train-classifier "${cls[@]}" --epochs 3 --out a.safetensors >/dev/null 2>&1 || fail "train-classifier"
"$recur" train-classifier "${cls[@]}" --epochs 3 --patience 0 --out b.safetensors >/dev/null 2>&1 ||
  fail "train-classifier --patience 0"
cmp -s a.safetensors b.safetensors || fail "train-classifier --patience 0 wrote another model than no flag"
echo "train-classifier: stopped at epoch $stop, best epoch $best; resume and --patience 0 alike"

# --- train-forecaster (its own loop): patience 1.
fc=(--csv "$vega/seattle-weather.csv" --target temp_max --window 14 --horizon 3 --hidden 16
    --batch 32 --lr 0.05 --epochs 12 --threads 1 --log-every 1000)
"$recur" train-forecaster "${fc[@]}" --patience 1 --out f.safetensors >f.out 2>f.log ||
  fail "train-forecaster: $(tail -3 f.log)"
check_epochs f.log
rmse=$(sed -n "s/^epoch $best (step [0-9]*): validation loss [0-9.]*, RMSE \([0-9.]*\),.*/\1/p" f.log)
grep -q "^validation RMSE of [^:]*: [^,]* $rmse," f.out ||
  fail "train-forecaster: $(grep '^validation RMSE' f.out); epoch $best had RMSE $rmse"

# --- train-tree (no checkpoints; keeps its best epoch by accuracy anyway): patience 1.
"$recur" data listops --out lo --train-size 300 --valid-size 100 --test-size 10 --max-depth 2 \
  --max-args 3 --seed 5 >/dev/null || fail "data listops"
"$recur" train-tree --cell recursive --train lo/train.tsv --valid lo/valid.tsv --epochs 12 \
  --hidden 16 --embed 8 --lr 0.05 --patience 1 --threads 1 >t.out 2>&1 || fail "train-tree: $(tail -3 t.out)"
parse_summary t.out
(( stop < 12 && stop == best + 1 )) || fail "train-tree stopped at epoch $stop, best $best"
(( $(grep -c "^epoch [0-9]*: train loss" t.out) == stop )) || fail "train-tree trained past epoch $stop"
most=$(sed -n 's/^epoch [0-9]*: .*validation accuracy \([0-9.]*\)%.*/\1/p' t.out | sort -g | tail -1)
grep -q "^epoch $best: .*validation accuracy $most%" t.out ||
  fail "train-tree: epoch $best is not the one of the highest validation accuracy ($most%)"
echo "train-tree: stopped at epoch $stop, best epoch $best"

# --- The other epoch trainers (the classifier's loop): each stops one epoch after its best and
# reports the best epoch's validation.
"$recur" data kjv-punct --text kjv.txt --out punct >/dev/null || fail "recur data kjv-punct"
"$recur" train-tagger --train punct/train.conll --valid punct/valid.conll --hidden 16 --embed 8 \
  --batch 16 --lr 0.1 --epochs 12 --threads 1 --log-every 1000 --patience 1 --out tg.safetensors \
  >tg.out 2>tg.log || fail "train-tagger: $(tail -3 tg.log)"
check_epochs tg.log
acc=$(sed -n "s/^epoch $best (step [0-9]*): validation loss [0-9.]*, token accuracy \([0-9.]*\),.*/\1/p" tg.log)
grep -q "^validation token accuracy: $acc " tg.out || fail "train-tagger: $(head -1 tg.out); epoch $best had $acc"
"$recur" train-clm --train train.tsv --valid valid.tsv --hidden 16 --embed 8 --cond-embed 4 \
  --max-len 60 --batch 16 --lr 0.1 --epochs 12 --threads 1 --log-every 1000 --patience 1 \
  --out clm.safetensors >clm.out 2>clm.log || fail "train-clm: $(tail -3 clm.log)"
parse_summary clm.log
(( stop < 12 && stop == best + 1 )) || fail "train-clm: stopped at epoch $stop, best $best"
bits=$(sed -n "s/^epoch $best (step [0-9]*): validation \([0-9.]*\) bits\/byte/\1/p" clm.log)
grep -q "^validation: $bits bits/byte" clm.out || fail "train-clm: $(head -1 clm.out); epoch $best had $bits"
dict=/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict
if [[ -s $dict ]]; then
  "$recur" data cmudict --out g2p >/dev/null || fail "recur data cmudict"
  head -2000 g2p/train.tsv > g-train.tsv
  head -200 g2p/valid.tsv > g-valid.tsv
  "$recur" train-seq2seq --train g-train.tsv --valid g-valid.tsv --hidden 16 --embed 8 \
    --target-embed 8 --batch 32 --lr 0.05 --epochs 12 --beam 1 --threads 1 --log-every 1000 \
    --patience 1 --out s.safetensors >s.out 2>s.log || fail "train-seq2seq: $(tail -3 s.log)"
  check_epochs s.log
  grep -q "loss $best_score)" s.out || fail "train-seq2seq: $(head -1 s.out); epoch $best had $best_score"
else
  echo "train-seq2seq not run: $dict not found (pocketsphinx-en-us)"
fi
echo "train-tagger, train-clm, train-seq2seq: stopped early, the best epoch's weights kept"
