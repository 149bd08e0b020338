#!/usr/bin/env bash
# `recur train-classifier`, `eval-classifier`, `classify` on a slice of real data: language
# identification of fortunes (Debian's fortunes-* packages, turned into labelled text by
# `recur data fortunes-lang`). Three languages, 300 training examples each, a small bidirectional
# LSTM over bytes: test accuracy must clear 0.6 (chance is 0.33; it typically reaches ~0.9).
# Also: eval-classifier reproduces the trainer's test accuracy from the saved model, a run resumed
# from its epoch-1 checkpoint ends exactly where an uninterrupted one does, and malformed input is
# refused with the file and line.
# Usage: classifier_smoke.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
if [[ ! -d /usr/share/games/fortunes/de || ! -d /usr/share/games/fortunes/ru ]]; then
  echo "SKIP: fortunes-de / fortunes-ru not installed (scripts/setup.sh)"
  exit 77
fi
cd "$work"
"$recur" data fortunes-lang --out lang >/dev/null || fail "recur data fortunes-lang"
for split in train valid test; do
  n=300; [[ $split != train ]] && n=60
  for l in de en ru; do grep -m "$n" "^$l	" "lang/$split.tsv"; done > "$split.tsv"
done
common=(--train train.tsv --valid valid.tsv --test test.tsv --hidden 32 --embed 16 --max-len 120
        --batch 16 --threads 1 --log-every 20)
"$recur" train-classifier "${common[@]}" --epochs 3 --out a.safetensors >a.out 2>a.log ||
  fail "training: $(tail -5 a.log)"
cat a.out
acc=$(sed -n 's/^test accuracy: \([0-9.]*\).*/\1/p' a.out)
awk -v a="$acc" 'BEGIN { exit !(a > 0.6) }' || fail "test accuracy $acc is not above 0.6"
[[ -s a.confusion.svg && -s a.svg && -s a.metrics.jsonl ]] || fail "missing confusion/plot/metrics files"
grep -q "<svg" a.confusion.svg || fail "a.confusion.svg is not SVG"

# The saved model scores the test file exactly as the trainer did.
"$recur" eval-classifier --model a.safetensors --data test.tsv --confusion e.svg > e.out || fail "eval-classifier"
eacc=$(sed -n 's/^accuracy \([0-9.]*\).*/\1/p' e.out)
[[ "$eacc" == "$acc" ]] || fail "eval-classifier says $eacc, training said $acc"
grep -q "macro F1" e.out || fail "no per-class report"
# classify: one line per input text, the top label first.
got=$(printf 'Der Mensch ist, was er isst, und wer nicht arbeitet, soll auch nicht essen.\n' |
      "$recur" classify --model a.safetensors --top 2)
[[ $(wc -l <<<"$got") -eq 1 && "$got" =~ ^(de|en|ru)\ [0-9.]+\ \ (de|en|ru)\ [0-9.]+$ ]] ||
  fail "classify printed '$got'"
# The same texts as TEXT arguments and as the lines of --text FILE give the same lines: --text
# reads the file, never classifies its name.
de='Der Mensch ist, was er isst, und wer nicht arbeitet, soll auch nicht essen.'
en='The quick brown fox jumps over the lazy dog, and then it runs away.'
printf '%s\n%s\n' "$de" "$en" > texts.txt
byfile=$("$recur" classify --model a.safetensors --top 2 --text texts.txt) || fail "classify --text FILE"
byarg=$("$recur" classify --model a.safetensors --top 2 "$de" "$en") || fail "classify TEXT TEXT"
[[ $(wc -l <<<"$byfile") -eq 2 && "$byfile" == "$byarg" && "$(head -1 <<<"$byfile")" == "$got" ]] ||
  fail "classify --text texts.txt printed '$byfile', the arguments '$byarg', stdin '$got'"

# Resume: 1 epoch, then --resume to 3 epochs, ends with the uninterrupted run's numbers.
"$recur" train-classifier "${common[@]}" --epochs 1 --out b.safetensors >/dev/null 2>b.log || fail "run B: $(tail -3 b.log)"
"$recur" train-classifier "${common[@]}" --epochs 3 --out b.safetensors --resume b.ckpt.safetensors \
  > b.out 2>>b.log || fail "resumed run: $(tail -3 b.log)"
diff <(grep -E "accuracy" a.out) <(grep -E "accuracy" b.out) || fail "the resumed run differs"
cmp <(grep '"kind":"val"' a.metrics.jsonl | sed 's/"seconds":[^,]*,//') \
    <(grep '"kind":"val"' b.metrics.jsonl | sed 's/"seconds":[^,]*,//') || fail "validation records differ"
# ... and a resume with different settings is refused.
"$recur" train-classifier "${common[@]}" --epochs 3 --lr 0.01 --out b.safetensors --resume b.ckpt.safetensors \
  >/dev/null 2>c.log && fail "a resume with another --lr was accepted"
grep -q "lr: checkpoint" c.log || fail "unclear message: $(cat c.log)"

# Bad input names the file and line.
printf 'de\tHallo Welt\nnolabel-line\n' > bad.tsv
"$recur" train-classifier --train bad.tsv --valid valid.tsv --out x.safetensors >/dev/null 2>x.log &&
  fail "a malformed file was accepted"
grep -q "bad.tsv:2" x.log || fail "no file:line in '$(cat x.log)'"
printf 'xx\tunknown label\n' > unk.tsv
"$recur" eval-classifier --model a.safetensors --data unk.tsv >/dev/null 2>u.log && fail "unknown label accepted"
grep -q "label 'xx' is not one of the training labels" u.log || fail "unclear message: $(cat u.log)"
echo "classifier smoke test: test accuracy $acc"
