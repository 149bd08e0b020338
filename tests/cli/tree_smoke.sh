#!/usr/bin/env bash
# `recur data listops` and `recur train-tree` at a small size: the splits are written and share no
# expression, all three compositions learn shallow ListOps above the most frequent value's share
# (by 10 points), the model file is written, and a malformed expression is refused naming its file
# and example.
# Usage: tree_smoke.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
"$recur" data listops --out "$work/lo" --train-size 1500 --valid-size 200 --test-size 200 --max-depth 2 --max-args 3 \
  --seed 5 || fail "data listops"
/usr/bin/python3 - "$work/lo" <<'PY' || fail "listops files"
import sys
d = sys.argv[1]
sets = [set(l.split("\t", 1)[1] for l in open(f"{d}/{s}.tsv")) for s in ("train", "valid", "test")]
assert [len(s) for s in sets] == [1500, 200, 200], [len(s) for s in sets]
assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2]), "splits overlap"
PY
# The share of the most frequent value in the test split: the accuracy of always guessing it.
majority=$(/usr/bin/python3 -c 'import collections,sys; c=collections.Counter(l.split("\t")[0] for l in open(sys.argv[1])); print(100*max(c.values())/sum(c.values()))' "$work/lo/test.tsv")
for cell in recursive tree_lstm binary_lstm; do
  out=$("$recur" train-tree --cell "$cell" --train "$work/lo/train.tsv" --valid "$work/lo/valid.tsv" \
        --test "$work/lo/test.tsv" --epochs 10 --hidden 32 --embed 16 --threads 1 \
        --out "$work/$cell.safetensors") || fail "train-tree $cell"
  echo "$out"
  acc=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' <<<"$out")
  [[ -n "$acc" ]] || fail "no test accuracy for $cell"
  awk -v a="$acc" -v m="$majority" 'BEGIN { exit !(a > m + 10) }' \
    || fail "$cell test accuracy $acc%, expected 10 points above the majority share $majority%"
  [[ -s "$work/$cell.safetensors" ]] || fail "no model file for $cell"
done
printf '3\t[MAX 1 3 ]\n7\t[MAX 2 [FOO 1 ] ]\n' > "$work/bad.tsv"
err=$("$recur" train-tree --train "$work/bad.tsv" --valid "$work/lo/valid.tsv" 2>&1) && fail "bad expression accepted"
grep -q "bad.tsv example 2" <<<"$err" && grep -q "\[FOO" <<<"$err" || fail "unclear message: $err"
echo "tree smoke test: ok"
