#!/usr/bin/env bash
# Sequence classification (N -> 1) on the three real data sets of docs/data.md, with the settings
# whose results docs/classification.md reports: language identification of fortunes (12
# languages, bytes), English fortune topics (words, three heads side by side) and Fashion-MNIST
# read row by row (28 steps of 28 pixels). Writes data under data/ and models under out/.
#   scripts/classify.sh [lang|topic|fashion ...]     (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
mkdir -p data out
tasks=("$@")
[[ ${#tasks[@]} -gt 0 ]] || tasks=(lang topic fashion)
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
    *) echo "classify.sh: unknown task '$task' (lang, topic, fashion)" >&2; exit 2 ;;
  esac
done
