#!/usr/bin/env bash
# `recur train-clm` and `sample-clm` on a slice of real data: fortunes in three languages (Debian's
# fortunes-* packages via `recur data fortunes-lang`), 200 training texts each, a small LSTM with
# the language as initial state and every-step input. Checks: validation bits per byte below 4.8,
# well under a byte unigram model's 5.35 on this slice (8 is a uniform guess; it reaches about 4.1);
# samples come out for every condition; a run resumed from its epoch-1 checkpoint ends exactly as
# an uninterrupted one; bad input is refused clearly.
# Usage: clm_smoke.sh RECUR_BINARY SOURCE_DIR.
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
for split in train valid; do
  n=200; [[ $split != train ]] && n=40
  for l in de en ru; do grep -m "$n" "^$l	" "lang/$split.tsv"; done > "$split.tsv"
done
common=(--train train.tsv --valid valid.tsv --hidden 48 --embed 16 --cond-embed 8 --max-len 120
        --batch 16 --threads 1 --log-every 20 --lr 3e-3)
"$recur" train-clm "${common[@]}" --epochs 3 --out a.safetensors >a.out 2>a.log || fail "training: $(tail -5 a.log)"
cat a.out
bits=$(sed -n 's/^validation: \([0-9.]*\) bits\/byte/\1/p' a.out)
awk -v b="$bits" 'BEGIN { exit !(b > 0 && b < 4.8) }' || fail "validation $bits bits/byte is not below 4.8"
out=$("$recur" sample-clm --model a.safetensors --count 2 --length 60 --seed 3) || fail "sample-clm"
echo "$out"
for l in de en ru; do grep -q "^\[$l\] " <<<"$out" || fail "no sample for $l"; done
"$recur" sample-clm --model a.safetensors --condition xx >/dev/null 2>x.log && fail "unknown condition accepted"
grep -q "label 'xx' is not one of the training labels" x.log || fail "unclear message: $(cat x.log)"

# Resume: 1 epoch, then --resume to 3 epochs, ends with the uninterrupted run's numbers.
"$recur" train-clm "${common[@]}" --epochs 1 --out b.safetensors >/dev/null 2>b.log || fail "run B: $(tail -3 b.log)"
"$recur" train-clm "${common[@]}" --epochs 3 --out b.safetensors --resume b.ckpt.safetensors >b.out 2>>b.log ||
  fail "resumed run: $(tail -3 b.log)"
[[ "$(grep validation a.out)" == "$(grep validation b.out)" ]] || fail "resumed run: $(grep validation b.out), uninterrupted: $(grep validation a.out)"
"$recur" train-clm "${common[@]}" --epochs 3 --condition-mode init --out b.safetensors \
  --resume b.ckpt.safetensors >/dev/null 2>c.log && fail "a resume with another model was accepted"
grep -q "cannot resume with different settings" c.log || fail "unclear message: $(cat c.log)"
"$recur" sample-clm --model train.tsv >/dev/null 2>d.log && fail "a text file was taken for a model"
# The remaining length as input: sample-clm writes the length asked for, and needs it.
"$recur" train-clm "${common[@]}" --epochs 1 --time-input remaining --out t.safetensors >/dev/null 2>t.log ||
  fail "--time-input remaining: $(tail -3 t.log)"
out=$("$recur" sample-clm --model t.safetensors --condition de --count 3 --target-length 25 --seed 2) ||
  fail "sample-clm --target-length"
while IFS= read -r line; do
  [[ $line == "[de] "* ]] || continue
  text=${line#"[de] "}
  (( $(printf '%s' "$text" | wc -c) <= 25 )) || fail "a sample over --target-length 25: $text"
done <<<"$out"
"$recur" sample-clm --model t.safetensors --condition de >/dev/null 2>t.err && fail "no --target-length accepted"
grep -q "give the length to write" t.err || fail "unclear message: $(cat t.err)"
"$recur" export-onnx --model t.safetensors --out t.onnx >/dev/null 2>t.err && fail "a time input exported"
grep -q "a time input is not exported" t.err || fail "unclear export refusal: $(cat t.err)"
"$recur" train-clm "${common[@]}" --time-input remaining --ending length --out u.safetensors \
  >/dev/null 2>u.err && fail "remaining with the length head accepted"
grep -q "exclude each other" u.err || fail "unclear message: $(cat u.err)"
echo "clm smoke test: validation $bits bits/byte"
