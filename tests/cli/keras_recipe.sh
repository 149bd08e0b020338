#!/usr/bin/env bash
# The seeds' Keras IMDB recipe as train-classifier options, on a binary task from Debian's
# fortunes (computers against the other topics): a word embedding, an LSTM with input dropout, a
# dense ReLU layer, a sigmoid output with binary cross-entropy, the last --max-len words kept.
# Test accuracy must beat the majority baseline and the AUC must clear 0.75 (it reaches ~0.88 on
# the full recipe in scripts/classify.sh); eval-classifier reproduces both from the saved model;
# export-onnx writes the graph; bad values are refused before training.
# Usage: keras_recipe.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
[[ -e /usr/share/games/fortunes/computers ]] || { echo "SKIP: fortunes not installed"; exit 77; }
cd "$work"
"$recur" data fortunes-topic --out topic >/dev/null || fail "recur data fortunes-topic"
for split in train valid test; do
  awk -F'\t' -v OFS='\t' '{ print ($1 == "computers" ? "topic" : "rest"), $2 }' "topic/$split.tsv" > "$split.tsv"
done
recipe=(--train train.tsv --valid valid.tsv --test test.tsv --tokens word --max-words 10000
        --max-len 240 --keep last --embed 64 --rnn lstm:64 --input-dropout 0.2 --dense 16
        --output sigmoid --epochs 6 --batch 32 --threads 2 --log-every 1000)
"$recur" train-classifier "${recipe[@]}" --out k.safetensors >k.out 2>k.log || fail "training: $(tail -3 k.log)"
cat k.out
read -r acc base < <(sed -n 's/^test accuracy: \([0-9.]*\) .*majority baseline \([0-9.]*\).*/\1 \2/p' k.out)
auc=$(sed -n 's/^test AUC: \([0-9.]*\)/\1/p' k.out)
[[ -n $acc && -n $base && -n $auc ]] || fail "no test accuracy, baseline or AUC"
awk -v a="$acc" -v b="$base" -v u="$auc" 'BEGIN { exit !(a > b && u > 0.75) }' ||
  fail "test accuracy $acc against the majority's $base, AUC $auc"
"$recur" eval-classifier --model k.safetensors --data test.tsv > e.out || fail "eval-classifier"
grep -q "^accuracy $acc " e.out || fail "eval-classifier: $(head -1 e.out), training said $acc"
grep -q "^AUC $auc (topic against rest)" e.out || fail "eval-classifier's AUC: $(grep AUC e.out)"
grep -q "^majority baseline $base (always rest)" e.out || fail "no majority baseline in the report"
"$recur" export-onnx --model k.safetensors --out k.onnx > /dev/null || fail "export-onnx"
# The model keeps the last 240 words of a longer text, when it classifies as when it trained.
head -c 4096 k.safetensors | grep -q '"keep":"last"' || fail "the model does not record --keep last"
for bad in "--output sigmoid --train topic/train.tsv --valid topic/valid.tsv" "--input-dropout 1" \
           "--head-dropout -0.1" "--keep middle" "--dense 0"; do
  # shellcheck disable=SC2086
  "$recur" train-classifier --train train.tsv --valid valid.tsv --out b.safetensors $bad \
    >/dev/null 2>b.err && fail "accepted $bad"
  [[ ! -e b.safetensors ]] || fail "$bad wrote a model"
done
grep -q "2 classes" <("$recur" train-classifier --train topic/train.tsv --valid topic/valid.tsv \
  --output sigmoid --out b.safetensors 2>&1) || fail "sigmoid over 10 classes not named"
echo "keras_recipe: OK"
