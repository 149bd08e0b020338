#!/usr/bin/env bash
# Grapheme-to-phoneme conversion (N -> M, encoder-decoder with attention) on CMUdict, with the
# settings whose results docs/seq2seq.md reports: a bidirectional LSTM encoder of 2x256, an LSTM
# decoder of 512 with Bahdanau attention, dropout 0.2, 10 epochs (about 35 minutes on 2 cores),
# beam 5 on test. `scripts/g2p.sh --hidden 128 --dropout 0` is the 10-minute model.
# Writes data/g2p and out/g2p.*; any extra arguments go to train-seq2seq (e.g. --context general,
# --sampling-schedule linear --teacher-forcing-end 0.8, --epochs 3).
#   scripts/g2p.sh [train-seq2seq options]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
mkdir -p data out
build/recur data cmudict --out data/g2p
time build/recur train-seq2seq --train data/g2p/train.tsv --valid data/g2p/valid.tsv \
  --test data/g2p/test.tsv --hidden 256 --dropout 0.2 --embed 64 --target-embed 64 --context bahdanau \
  --batch 64 --epochs 10 --lr 2e-3 --lr-schedule cosine --lr-min 0.05 --beam 5 \
  --out out/g2p.safetensors "$@"
for word in recurrent network tolkien; do
  printf '%s\t' "$word"
  build/recur translate --model out/g2p.safetensors --chars --beam 5 "$word"
done
