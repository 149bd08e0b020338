#!/usr/bin/env bash
# `recur train-lm` checkpoints: a run stopped (at the end of --steps, or by Ctrl-C) and resumed with
# --resume logs exactly the losses of an uninterrupted run, step for step (compared as the exact
# doubles in the metrics files); and every bad resume or bad input is refused with a clear message,
# leaving the good checkpoint untouched.
# Usage: train_lm_resume.sh RECUR_BINARY SOURCE_DIR. Needs Debian's bible-kjv (scripts/setup.sh).
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
kjv_head 200000 "$work/kjv.txt"
cd "$work"
common=(--text kjv.txt --cell lstm --hidden 48 --layers 2 --dropout 0.2 --embed 16 --seq-len 40
        --batch 8 --log-every 4 --val-every 20 --threads 1 --sample-length 0)
fail() { echo "FAIL: $*"; exit 1; }
losses() {  # every training record, then the last record (the final validation), from a metrics file
  /usr/bin/python3 -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
for r in rs:
    if r["kind"] == "train":
        print(r["kind"], r["step"], repr(r["loss_nats"]))
print("last", rs[-1]["kind"], rs[-1]["step"], repr(rs[-1]["loss_nats"]))' "$1"
}
# (A run that stops at step 20 ends with its final validation over the whole split, where the
# uninterrupted run validates the capped split at step 20; so intermediate validations are not
# compared, the training losses and the final validation are.)

"$recur" train-lm "${common[@]}" --steps 60 --out a.safetensors >/dev/null 2>a.log || fail "run A: $(cat a.log)"
losses a.metrics.jsonl > a.txt
[[ $(wc -l < a.txt) -ge 16 ]] || fail "run A logged too little"

# 1. Stop at step 20, resume to 60.
"$recur" train-lm "${common[@]}" --steps 20 --out b.safetensors >/dev/null 2>b.log || fail "run B: $(cat b.log)"
"$recur" train-lm "${common[@]}" --steps 60 --out b.safetensors --resume b.ckpt.safetensors >/dev/null 2>b2.log \
  || fail "resume B: $(cat b2.log)"
grep -q "resumed from b.ckpt.safetensors at step 20" b2.log || fail "no resume message: $(cat b2.log)"
losses b.metrics.jsonl > b.txt
cmp -s a.txt b.txt || { diff a.txt b.txt | head; fail "resumed run B differs from the uninterrupted run"; }
echo "ok   stop at step 20 + resume = uninterrupted run ($(wc -l < a.txt) records equal)"

# 1b. The same in bf16 mixed precision: its own losses, resumed exactly.
"$recur" train-lm "${common[@]}" --precision bf16 --steps 60 --out h.safetensors >/dev/null 2>h.log || fail "bf16 run: $(cat h.log)"
"$recur" train-lm "${common[@]}" --precision bf16 --steps 20 --out h2.safetensors >/dev/null 2>h2.log || fail "bf16 run to 20: $(cat h2.log)"
"$recur" train-lm "${common[@]}" --precision bf16 --steps 60 --out h2.safetensors --resume h2.ckpt.safetensors \
  >/dev/null 2>h3.log || fail "bf16 resume: $(cat h3.log)"
losses h.metrics.jsonl > h.txt
losses h2.metrics.jsonl > h2.txt
cmp -s h.txt h2.txt || { diff h.txt h2.txt | head; fail "resumed bf16 run differs from the uninterrupted bf16 run"; }
cmp -s a.txt h.txt && fail "the bf16 run logged exactly the fp32 losses: nothing ran in bf16"
echo "ok   bf16: stop at step 20 + resume = uninterrupted bf16 run, and its losses differ from fp32's"

# 1c. A mixed stack (LSTM under a GRU under a tanh RNN, dropout between them): every segment's
# state is in the checkpoint, so the resumed run equals the uninterrupted one; and the checkpoint
# refuses to resume under another stack, naming it.
mixed=(--text kjv.txt --rnn "lstm:24,peephole,dropout=0.2;gru:16,reset_before;rnn_tanh:12" --embed 16
       --seq-len 40 --batch 8 --log-every 4 --val-every 20 --threads 1 --sample-length 0)
"$recur" train-lm "${mixed[@]}" --steps 40 --out x.safetensors >/dev/null 2>x.log || fail "mixed run: $(cat x.log)"
"$recur" train-lm "${mixed[@]}" --steps 20 --out y.safetensors >/dev/null 2>y.log || fail "mixed run to 20: $(cat y.log)"
"$recur" train-lm "${mixed[@]}" --steps 40 --out y.safetensors --resume y.ckpt.safetensors >/dev/null 2>y2.log \
  || fail "mixed resume: $(cat y2.log)"
losses x.metrics.jsonl > x.txt
losses y.metrics.jsonl > y.txt
cmp -s x.txt y.txt || { diff x.txt y.txt | head; fail "resumed mixed-stack run differs from the uninterrupted one"; }
cmp -s x.safetensors y.safetensors || fail "resumed mixed-stack model differs from the uninterrupted one"
other=("${mixed[@]}")
other[2]="lstm:24,peephole,dropout=0.2;gru:16;rnn_tanh:12"
"$recur" train-lm "${other[@]}" --steps 40 --out z.safetensors --resume y.ckpt.safetensors >/dev/null 2>z.log \
  && fail "a checkpoint of one mixed stack resumed under another"
grep -q "rnn" z.log || fail "the refused resume does not name the stack: $(cat z.log)"
echo "ok   mixed stack: stop at step 20 + resume = uninterrupted run; another stack is refused"

# 2. Ctrl-C in the middle: exit status 130, a checkpoint, and the resumed run equals run A.
"$recur" train-lm "${common[@]}" --steps 100000 --out c.safetensors >/dev/null 2>c.log &
pid=$!
for _ in $(seq 1 200); do
  [[ -f c.metrics.jsonl && $(wc -l < c.metrics.jsonl 2>/dev/null) -ge 3 ]] && break
  sleep 0.05
done
kill -INT $pid
wait $pid
status=$?
[[ $status -eq 130 ]] || fail "Ctrl-C: exit status $status, expected 130: $(cat c.log)"
grep -q "interrupted at step" c.log || fail "no interruption message: $(cat c.log)"
[[ -f c.ckpt.safetensors ]] || fail "no checkpoint after Ctrl-C"
stopped=$(sed -n 's/.*interrupted at step \([0-9]*\).*/\1/p' c.log)
[[ -n "$stopped" && $stopped -lt 60 ]] || fail "stopped at step '$stopped' (expected before 60)"
"$recur" train-lm "${common[@]}" --steps 60 --out c.safetensors --resume c.ckpt.safetensors >/dev/null 2>c2.log \
  || fail "resume C: $(cat c2.log)"
losses c.metrics.jsonl > c.txt
cmp -s a.txt c.txt || { diff a.txt c.txt | head; fail "run resumed after Ctrl-C differs"; }
echo "ok   Ctrl-C at step $stopped + resume = uninterrupted run"

# 3. Bad resumes and bad input: non-zero exit, a clear message, the good checkpoint untouched.
sum_before=$(md5sum < b.ckpt.safetensors)
expect_refusal() {  # what, needle, args...
  local what=$1 needle=$2
  shift 2
  local err status
  err=$("$recur" "$@" 2>&1 >/dev/null)
  status=$?
  [[ $status -ne 0 && $status -lt 128 ]] || fail "$what: exit status $status: $err"
  [[ "$err" == *"$needle"* ]] || fail "$what: message lacks '$needle': $err"
  echo "ok   $what: $(head -c 200 <<<"$err" | tr '\n' ' ')"
}
expect_refusal "resume with another hidden size" "hidden: checkpoint 48, this run 64" \
  train-lm "${common[@]}" --hidden 64 --steps 60 --out b.safetensors --resume b.ckpt.safetensors
expect_refusal "resume with another cell" "cell: checkpoint lstm, this run gru" \
  train-lm "${common[@]}" --cell gru --steps 60 --out b.safetensors --resume b.ckpt.safetensors
expect_refusal "resume in another precision" "precision: checkpoint fp32, this run bf16" \
  train-lm "${common[@]}" --precision bf16 --steps 60 --out b.safetensors --resume b.ckpt.safetensors
expect_refusal "resume on other text" "text-bytes" \
  train-lm "${common[@]/kjv.txt/full.txt}" --steps 60 --out b.safetensors --resume b.ckpt.safetensors
head -c 3000 b.ckpt.safetensors > truncated.ckpt
expect_refusal "truncated checkpoint" "truncated.ckpt" \
  train-lm "${common[@]}" --steps 60 --out b.safetensors --resume truncated.ckpt
expect_refusal "missing checkpoint" "nope.ckpt" \
  train-lm "${common[@]}" --steps 60 --out b.safetensors --resume nope.ckpt
[[ "$(md5sum < b.ckpt.safetensors)" == "$sum_before" ]] || fail "a refused resume changed the checkpoint"
: > empty.txt
expect_refusal "empty text" "empty" train-lm "${common[@]/kjv.txt/empty.txt}" --steps 5 --out e.safetensors
head -c 3000 /bin/ls > binary.txt
expect_refusal "binary file" "binary" train-lm "${common[@]/kjv.txt/binary.txt}" --steps 5 --out e.safetensors
head -c 200 kjv.txt > tiny.txt
expect_refusal "text smaller than one batch" "too few for one batch" \
  train-lm "${common[@]/kjv.txt/tiny.txt}" --steps 5 --out e.safetensors
printf 'caf\xe9 au lait\n' > latin1.txt
expect_refusal "non-UTF-8 in word mode" "not valid UTF-8" \
  train-lm --text latin1.txt --tokens word --steps 5 --out e.safetensors
[[ ! -e e.safetensors ]] || fail "a refused run wrote a model"
expect_refusal "sample from a non-LM file" "not a recur language model" sample --model b.ckpt.safetensors
expect_refusal "eval-lm on a missing text" "missing.txt" eval-lm --model b.safetensors --text missing.txt
echo "train-lm resume test: all checks passed"
