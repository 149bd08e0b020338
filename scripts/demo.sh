#!/usr/bin/env bash
# The main job: build recur, take the King James Bible from Debian's bible-kjv, train a
# character-level LSTM language model on it, report validation bits/char and perplexity, and print
# generated text. Extra arguments go to `recur train-lm` (e.g. --steps 3000 --hidden 512).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
mkdir -p data out
if [[ ! -s data/kjv.txt ]]; then
  command -v bible >/dev/null || { echo "demo: 'bible' not found; run scripts/setup.sh first" >&2; exit 1; }
  bible "Gen1:1-Rev22:21" > data/kjv.txt.tmp && mv data/kjv.txt.tmp data/kjv.txt
fi
echo "demo: training on data/kjv.txt ($(wc -c < data/kjv.txt) bytes)"
time build/recur train-lm --text data/kjv.txt --cell lstm --hidden 256 --layers 2 --embed 64 \
  --seq-len 100 --batch 32 --steps 1500 --lr 3e-3 --clip 5 --log-every 50 \
  --out out/kjv-lstm.safetensors "$@"
