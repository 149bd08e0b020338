#!/usr/bin/env bash
# The main job: build recur, take the King James Bible from Debian's bible-kjv, fit the count-based
# baseline (Kneser-Ney n-grams, orders 1-10), then train a character-level LSTM language model on
# the same split, report validation bits/char and perplexity of both, and print generated text.
# Extra arguments go to `recur train-lm` (e.g. --steps 3000 --hidden 512).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
mkdir -p data out
if [[ ! -s data/kjv.txt ]]; then
  command -v bible >/dev/null || { echo "demo: 'bible' not found; run scripts/setup.sh first" >&2; exit 1; }
  bible "Gen1:1-Rev22:21" > data/kjv.txt.tmp && mv data/kjv.txt.tmp data/kjv.txt
fi
echo "== the n-gram baseline (validation = the last 5% of the file)"
build/recur ngram --text data/kjv.txt --max-order 10
echo "== a 2-layer LSTM on the same split"
time build/recur train-lm --text data/kjv.txt --cell lstm --hidden 256 --layers 2 --embed 64 \
  --seq-len 25 --batch 32 --steps 11000 --lr 4e-3 --lr-schedule cosine --lr-min 0.05 --clip 5 \
  --out out/kjv-lstm.safetensors "$@"
echo "== more text from the trained model"
build/recur sample --model out/kjv-lstm.safetensors --prime "And God said" --length 300 --temperature 0.7 --seed 7
