#!/usr/bin/env bash
# `recur train-classifier --arrays` and `eval-classifier --arrays` on the user's own .npy arrays:
# 1. Fashion-MNIST images as arrays train to the very model `--idx-dir` trains on the same images
#    (a slice: 1200 training and 200 test images, written both as IDX files and as arrays).
# 2. Lengths are honoured: ragged sequences whose class is the sign of the last real step's first
#    feature (the padding is noise) are learnt above 0.85 accuracy by a unidirectional GRU; a model
#    that read the padding would sit near 0.5.
#    classify --input predicts the same classes from the saved model.
# 3. Bad input (NaN inside a sequence, lengths past T, a missing y) fails naming the file.
# Usage: classifier_arrays.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
need_fashion_mnist_numpy
cd "$work"

/usr/bin/python3 - "$fm" <<'PY' || fail "making the arrays"
import gzip, struct, sys, os
import numpy as np
fm = sys.argv[1]
def idx(name):
    data = gzip.open(os.path.join(fm, name)).read()
    nd = data[3]
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * nd).reshape(dims)
def write_idx(name, a):
    head = struct.pack(">I", 0x0800 | a.ndim) + struct.pack(">" + "I" * a.ndim, *a.shape)
    with gzip.open(os.path.join("idx", name), "wb") as f:
        f.write(head + a.tobytes())
os.makedirs("idx"); os.makedirs("fm"); os.makedirs("ragged")
for split, stem, n in (("train", "train", 1200), ("test", "t10k", 200)):
    x, y = idx(stem + "-images-idx3-ubyte.gz")[:n], idx(stem + "-labels-idx1-ubyte.gz")[:n]
    write_idx(stem + "-images-idx3-ubyte.gz", x); write_idx(stem + "-labels-idx1-ubyte.gz", y)
    np.save(f"fm/x_{split}.npy", x.astype(np.float32) / np.float32(255))
    np.save(f"fm/y_{split}.npy", y.astype(np.int64))
rng = np.random.default_rng(7)
for split, n in (("train", 1500), ("valid", 300), ("test", 300)):
    T = 12
    x = rng.standard_normal((n, T, 3)).astype(np.float32)
    lengths = rng.integers(3, T + 1, n)
    y = (x[np.arange(n), lengths - 1, 0] > 0).astype(np.int32)
    np.save(f"ragged/x_{split}.npy", x); np.save(f"ragged/y_{split}.npy", y)
    np.save(f"ragged/lengths_{split}.npy", lengths)
PY

# 1. The same images, as IDX files and as arrays: the same model.
common=(--hidden 16 --epochs 2 --batch 32 --threads 1 --val-fraction 0.1 --log-every 1000)
"$recur" train-classifier --idx-dir idx "${common[@]}" --out i.safetensors >i.out 2>i.log ||
  fail "idx training: $(tail -3 i.log)"
"$recur" train-classifier --arrays fm "${common[@]}" --out a.safetensors >a.out 2>a.log ||
  fail "arrays training: $(tail -3 a.log)"
cat a.out
grep -q "^test accuracy" a.out || fail "no test accuracy"
diff <(grep accuracy i.out) <(grep accuracy a.out) || fail "arrays and IDX images trained differently"
/usr/bin/python3 - <<'PY' || fail "the two models' weights differ"
import json, struct
def tensors(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
    h.pop("__metadata__"); return {k: b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in h.items()}
assert tensors("i.safetensors") == tensors("a.safetensors")
PY

# 2. Ragged sequences: the lengths decide the label.
"$recur" train-classifier --arrays ragged --rnn gru:24 --epochs 12 --batch 32 --lr 0.01 \
  --threads 1 --log-every 1000 --out r.safetensors >r.out 2>r.log || fail "ragged training: $(tail -3 r.log)"
cat r.out
acc=$(sed -n 's/^test accuracy: \([0-9.]*\).*/\1/p' r.out)
awk -v a="$acc" 'BEGIN { exit !(a > 0.85) }' || fail "ragged test accuracy $acc is not above 0.85"
"$recur" eval-classifier --model r.safetensors --arrays ragged > e.out || fail "eval-classifier --arrays"
eacc=$(sed -n 's/^accuracy \([0-9.]*\).*/\1/p' e.out)
[[ "$eacc" == "$acc" ]] || fail "eval-classifier says $eacc, training said $acc"
# classify --input: a line per sequence, whose top classes score as eval-classifier did.
"$recur" classify --model r.safetensors --input ragged/x_test.npy --lengths ragged/lengths_test.npy \
  > c.out || fail "classify --input"
/usr/bin/python3 -c "
import numpy as np, sys
y = np.load('ragged/y_test.npy'); got = [int(l.split()[0]) for l in open('c.out')]
assert len(got) == len(y), (len(got), len(y))
acc = np.mean(np.array(got) == y); assert f'{acc:.4f}' == '$acc', (acc, '$acc')
" || fail "classify --input disagrees with eval-classifier"
"$recur" classify --model r.safetensors 'some text' > /dev/null 2>t.err && fail "text given to an array model"
grep -q "give --input" t.err || fail "array model without --input: $(cat t.err)"
"$recur" eval-classifier --model r.safetensors --arrays fm > /dev/null 2>w.err && fail "3 features read as 28"
grep -q "features" w.err || fail "wrong features not named: $(cat w.err)"
"$recur" eval-classifier --model r.safetensors --data x.tsv > /dev/null 2>m.err && fail "--data on an array model"
grep -q "give --arrays" m.err || fail "array model without --arrays: $(cat m.err)"

# 3. Bad input.
bad() {  # bad DIR NEEDLE PYTHON: breaks a copy of ragged/ and expects an error naming NEEDLE
  rm -rf "$1"; cp -r ragged "$1"
  /usr/bin/python3 -c "import numpy as np; import os; os.chdir('$1'); $3" || fail "breaking $1"
  "$recur" train-classifier --arrays "$1" --hidden 4 --epochs 1 --threads 1 --out b.safetensors \
    >/dev/null 2>b.err && fail "$1 was accepted"
  grep -q -- "$2" b.err || fail "$1: the error does not name '$2': $(cat b.err)"
  [[ ! -e b.safetensors ]] || fail "$1 wrote a model"
}
bad nan "x_train.npy': nan at \[4, 1, 2\]" \
  "x = np.load('x_train.npy'); x[4, 1, 2] = np.nan; np.save('x_train.npy', x); l = np.load('lengths_train.npy'); l[4] = 12; np.save('lengths_train.npy', l)"
bad long "lengths_valid.npy': length 13 at index 0" \
  "l = np.load('lengths_valid.npy'); l[0] = 13; np.save('lengths_valid.npy', l)"
bad noy "y_test.npy" "os.remove('y_test.npy')"
bad rank "expected (N, T, F)" "np.save('x_train.npy', np.zeros((5, 4), np.float32))"
echo "classifier_arrays: OK"
