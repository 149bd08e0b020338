#!/usr/bin/env bash
# Sequence classification (N -> 1) on the three real data sets of docs/data.md, with the settings
# whose results docs/classification.md reports: language identification of fortunes (12
# languages, bytes), English fortune topics (words, three heads side by side) and Fashion-MNIST
# read row by row (28 steps of 28 pixels); and the seeds' Keras IMDB recipe on a binary task
# (fortunes about computers against the other topics), beside a plain softmax LSTM. Writes data
# under data/ and models under out/.
#   scripts/classify.sh [lang|topic|fashion|keras ...]     (default: all four)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
mkdir -p data out
tasks=("$@")
[[ ${#tasks[@]} -gt 0 ]] || tasks=(lang topic fashion keras)
for task in "${tasks[@]}"; do
  case $task in
    lang)
      build/recur data fortunes-lang --out data/fortunes-lang
      time build/recur train-classifier --train data/fortunes-lang/train.tsv \
        --valid data/fortunes-lang/valid.tsv --test data/fortunes-lang/test.tsv \
        --tokens char --max-len 200 --embed 32 --cell lstm --hidden 96 --epochs 5 \
        --lr 3e-3 --lr-schedule cosine --lr-min 0.05 --out out/lang.safetensors
      ;;
    topic)
      build/recur data fortunes-topic --out data/fortunes-topic
      for head in "pool --pooling last" "pool --pooling mean" "textrnn2" "rcnn"; do
        name=$(tr ' ' '_' <<<"$head" | sed 's/--pooling_//')
        # shellcheck disable=SC2086
        time build/recur train-classifier --train data/fortunes-topic/train.tsv \
          --valid data/fortunes-topic/valid.tsv --test data/fortunes-topic/test.tsv \
          --tokens word --max-words 8000 --max-len 120 --embed 64 --cell lstm --hidden 64 \
          --head $head --epochs 12 --lr 2e-3 --dropout 0 --out "out/topic-$name.safetensors"
      done
      ;;
    fashion)
      time build/recur train-classifier --idx-dir /usr/share/datasets/fashion-mnist --cell lstm \
        --hidden 128 --epochs 15 --batch 64 --lr 2e-3 --lr-schedule cosine --lr-min 0.05 \
        --out out/fashion.safetensors
      ;;
    keras)
      # Embedding(10000,128) -> LSTM(128, dropout 0.2) -> Dense(16, relu) -> Dense(1, sigmoid),
      # binary cross-entropy, Adam, the last 240 words of each text.
      build/recur data fortunes-topic --out data/fortunes-topic
      mkdir -p data/computers
      for split in train valid test; do
        awk -F'\t' -v OFS='\t' '{ print ($1 == "computers" ? "topic" : "rest"), $2 }' \
          "data/fortunes-topic/$split.tsv" > "data/computers/$split.tsv"
      done
      common=(--train data/computers/train.tsv --valid data/computers/valid.tsv
              --test data/computers/test.tsv --tokens word --max-words 10000 --max-len 240
              --embed 128 --rnn lstm:128 --epochs 8 --batch 32)
      time build/recur train-classifier "${common[@]}" --input-dropout 0.2 --dense 16 \
        --output sigmoid --keep last --out out/keras.safetensors
      time build/recur train-classifier "${common[@]}" --out out/computers-softmax.safetensors
      ;;
    *) echo "classify.sh: unknown task '$task' (lang, topic, fashion, keras)" >&2; exit 2 ;;
  esac
done
