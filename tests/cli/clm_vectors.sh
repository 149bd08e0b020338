#!/usr/bin/env bash
# `recur train-clm --arrays` and `sample-clm --input`: text conditioned on a real vector (the
# seeds' 1 -> N with a vector x as the condition). Fashion-MNIST images, 2x2-pooled to 196 values,
# condition a byte LM that writes each image's class description ("Ankle boot", ...); greedy
# samples for held-out images must match their description exactly far more often than the 10%
# one class would (the bar is 35%; scripts and docs/classification.md report ~70% on more data).
# Also: the first-step condition mode trains, and malformed arrays are refused by file and line.
# Usage: clm_vectors.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
need_fashion_mnist_numpy
cd "$work"
/usr/bin/python3 "$2/scripts/fashion_vectors.py" --train 2000 --valid 300 --test 300 --out v ||
  fail "making the vectors"
"$recur" train-clm --arrays v --hidden 64 --epochs 8 --batch 32 --threads 2 --log-every 1000 \
  --out c.safetensors >c.out 2>c.log || fail "training: $(tail -3 c.log)"
cat c.out
"$recur" sample-clm --model c.safetensors --input v/x_test.npy --expect v/y_test.txt --top-k 1 \
  --quiet > s.out || fail "sample-clm"
cat s.out
pct=$(sed -n 's/^exact match: .*(\([0-9.]*\)%)/\1/p' s.out)
awk -v p="$pct" 'BEGIN { exit !(p > 35) }' || fail "exact match $pct% is not above 35%"
"$recur" sample-clm --model c.safetensors --input v/x_test.npy --top-k 1 > t.out || fail "sample-clm without --expect"
[[ $(wc -l < t.out) == 300 ]] || fail "expected a line per vector, got $(wc -l < t.out)"
"$recur" export-onnx --model c.safetensors --out c.onnx > /dev/null || fail "export-onnx"
"$recur" train-clm --arrays v --hidden 16 --epochs 1 --condition-mode first --threads 2 \
  --out f.safetensors > /dev/null 2>&1 || fail "the first-step mode"
"$recur" sample-clm --model c.safetensors --condition 3 2> e.err && fail "a class for a vector model"
grep -q "give --input" e.err || fail "vector model without --input: $(cat e.err)"

bad() {  # bad DIR NEEDLE PYTHON: breaks a copy of v/ and expects an error naming NEEDLE
  rm -rf "$1"; cp -r v "$1"
  (cd "$1" && /usr/bin/python3 -c "import numpy as np, os; $3") || fail "breaking $1"
  "$recur" train-clm --arrays "$1" --hidden 4 --epochs 1 --out b.safetensors >/dev/null 2>b.err &&
    fail "$1 was accepted"
  grep -q -- "$2" b.err || fail "$1: the error does not name '$2': $(cat b.err)"
  [[ ! -e b.safetensors ]] || fail "$1 wrote a model"
}
bad nan "x_train.npy': nan at \[7, 3\]" "x = np.load('x_train.npy'); x[7, 3] = np.nan; np.save('x_train.npy', x)"
bad lines "y_valid.txt' has 299 lines" "l = open('y_valid.txt').readlines(); open('y_valid.txt', 'w').write(''.join(l[1:]))"
bad width "x_valid.npy has vectors of 5 values" "np.save('x_valid.npy', np.zeros((300, 5), np.float32))"
bad empty "y_train.txt' line 2 is empty" "l = open('y_train.txt').readlines(); l[1] = '\n'; open('y_train.txt', 'w').write(''.join(l))"
bad none "lacks" "os.remove('y_train.txt')"
echo "clm_vectors: OK"
