#!/usr/bin/env bash
# `recur train-lm` end to end on real text: a small LSTM trained briefly on 300 KB of the King James
# Bible must beat the character unigram entropy (about 4.3 bits/char on this text; a uniform guess
# over its 73 symbols would be 6.2) by a clear margin, write a loadable model, and refuse bad input.
# Usage: train_lm_smoke.sh RECUR_BINARY SOURCE_DIR. Needs Debian's bible-kjv (scripts/setup.sh).
set -euo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
kjv_head 300000 "$work/kjv.txt"
out=$("$recur" train-lm --text "$work/kjv.txt" --hidden 96 --layers 1 --embed 32 --seq-len 50 \
  --batch 16 --steps 250 --lr 5e-3 --log-every 50 --sample-length 80 --threads 1 \
  --out "$work/m.safetensors" 2>"$work/log")
echo "$out"
bpc=$(sed -n 's/^validation: \([0-9.]*\) bits\/char.*/\1/p' <<<"$out")
[[ -n "$bpc" ]] || { echo "FAIL: no validation line"; cat "$work/log"; exit 1; }
grep -q "^step 250/250" "$work/log" || { echo "FAIL: no progress lines"; cat "$work/log"; exit 1; }
awk -v b="$bpc" 'BEGIN { exit !(b < 3.3) }' || { echo "FAIL: validation $bpc bits/char, expected < 3.3"; exit 1; }
# The model file is a safetensors file with the config in its metadata.
/usr/bin/python3 - "$work/m.safetensors" <<'PY'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    h = json.loads(f.read(n))
meta = h["__metadata__"]
assert meta["cell"] == "lstm" and meta["hidden_size"] == "96", meta
assert h["rnn.weight_hh_l0"]["shape"] == [384, 96], h["rnn.weight_hh_l0"]
assert "embedding.weight" in h and "decoder.weight" in h
PY
# `diagnose` reads the trained model: the gradient of the last character's loss back through time.
"$recur" diagnose --model "$work/m.safetensors" "In the beginning God created the heaven" \
  --jacobian-every 8 --out "$work/diag.json" >/dev/null || { echo "FAIL: diagnose on the model"; exit 1; }
/usr/bin/python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["steps"] == 38 and len(j["grad_h"]) == 39 and j["grad_h"][38] > 0, j["steps"]
assert set(j["gates"]) == {"input", "forget", "output"}' "$work/diag.json" || { echo "FAIL: diagnose JSON"; exit 1; }
# The model file works with `sample` and `eval-lm`.
sample=$("$recur" sample --model "$work/m.safetensors" --prime "In the beginning" --length 60 --top-k 5 --seed 3)
[[ "$sample" == "In the beginning"* && ${#sample} -ge 70 ]] || { echo "FAIL: sample: $sample"; exit 1; }
again=$("$recur" sample --model "$work/m.safetensors" --prime "In the beginning" --length 60 --top-k 5 --seed 3)
[[ "$sample" == "$again" ]] || { echo "FAIL: the same seed gave another sample"; exit 1; }
tail -c 15000 "$work/kjv.txt" > "$work/tail.txt"
ev=$("$recur" eval-lm --model "$work/m.safetensors" --text "$work/tail.txt")
echo "$ev"
ebpc=$(sed -n 's/.*: \([0-9.]*\) bits\/char.*/\1/p' <<<"$ev")
awk -v b="$ebpc" 'BEGIN { exit !(b > 0 && b < 3.3) }' || { echo "FAIL: eval-lm gave '$ebpc'"; exit 1; }
# Word level: trains and reports bits per word.
wout=$("$recur" train-lm --text "$work/kjv.txt" --tokens word --max-words 2000 --hidden 64 --layers 1 \
  --embed 32 --seq-len 20 --batch 16 --steps 60 --threads 1 --sample-length 20 --out "$work/new/dir/w.safetensors" 2>/dev/null)
grep -q "bits/word" <<<"$wout" || { echo "FAIL: word mode: $wout"; exit 1; }
# ... into an output directory it made itself.
[[ -s "$work/new/dir/w.safetensors" && -s "$work/new/dir/w.metrics.jsonl" ]] ||
  { echo "FAIL: no model in the new output directory"; exit 1; }
echo "$wout" | head -1
# Bad input: a missing file, an empty file, a bad option value.
: > "$work/empty.txt"
for args in "--text $work/missing.txt" "--text $work/empty.txt" "--text $work/kjv.txt --cell tree"; do
  set +e
  err=$("$recur" train-lm $args --steps 1 --out "$work/bad.safetensors" 2>&1 >/dev/null)
  status=$?
  set -e
  if [[ $status -eq 0 || $status -gt 127 ]]; then echo "FAIL: '$args' gave exit status $status"; exit 1; fi
  echo "refused ($status): $err" | head -2
done
# An output directory that cannot be made is refused before any training.
set +e
err=$("$recur" train-lm --text "$work/kjv.txt" --steps 1 --out "$work/empty.txt/m.safetensors" 2>&1 >/dev/null)
status=$?
set -e
[[ $status -eq 1 ]] && grep -q "cannot create the output directory" <<<"$err" ||
  { echo "FAIL: unmakeable output directory gave $status: $err"; exit 1; }
# Right to left (the seeds' p(x_T) p(x_{T-1} | x_T) ...): it learns the text read backwards
# (clearly better than a unigram guess), eval-lm scores the file's tail exactly as training's final
# validation did, sample writes what comes before the prime, and the left-to-right paths refuse it.
rl=$("$recur" train-lm --text "$work/kjv.txt" --hidden 64 --embed 16 --seq-len 50 --batch 16 --steps 150 \
  --lr 5e-3 --threads 1 --sample-length 0 --right-to-left --out "$work/r.safetensors" 2>"$work/rlog") ||
  { echo "FAIL: right-to-left training"; cat "$work/rlog"; exit 1; }
rbpc=$(sed -n 's/^validation: \([0-9.]*\) bits\/char.*/\1/p' <<<"$rl")
awk -v b="$rbpc" 'BEGIN { exit !(b < 3.6) }' || { echo "FAIL: right-to-left validation $rbpc bits/char"; exit 1; }
/usr/bin/python3 - "$work/kjv.txt" "$work/tail.txt" <<'PY'
import sys
text = open(sys.argv[1], "rb").read()
cut = len(text) - int(len(text) * 0.05)  # split_text_tail: the last 5%, from the next whitespace
while cut < len(text) and not chr(text[cut]).isspace():
    cut += 1
open(sys.argv[2], "wb").write(text[cut:])
PY
ev=$("$recur" eval-lm --model "$work/r.safetensors" --text "$work/tail.txt" --seq-len 50 --threads 1)
[[ "$ev" == *": $rbpc bits/char"* ]] ||
  { echo "FAIL: eval-lm of the right-to-left model says '$ev', training said $rbpc"; exit 1; }
s=$("$recur" sample --model "$work/r.safetensors" --prime "the LORD." --length 40 --seed 3)
[[ "$s" == *"the LORD." && ${#s} -gt 40 ]] || { echo "FAIL: a right-to-left sample must end with its prime: '$s'"; exit 1; }
set +e
err=$("$recur" export-onnx --model "$work/r.safetensors" --out "$work/r.onnx" 2>&1)
status=$?
set -e
[[ $status -eq 1 && "$err" == *"right-to-left"* && ! -e "$work/r.onnx" ]] ||
  { echo "FAIL: export-onnx of a right-to-left model gave $status: $err"; exit 1; }
echo "right to left: validation $rbpc bits/char; sample: ${s: -60}"
echo "train-lm smoke test: validation $bpc bits/char"
