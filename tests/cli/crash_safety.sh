#!/usr/bin/env bash
# Crash safety: `recur train-lm` is killed with SIGKILL at 20 moments, and each time the checkpoint
# left on disk loads and the run resumed from it ends exactly where an uninterrupted run ends (the
# final model's tensors bit for bit, and every training loss of the metrics file).
#
# The run writes a 2.6 MB checkpoint (model, Adam moments, carried state) at every one of its 40
# steps, so most of its time is checkpoint writing. Kills 1-10 land at random times in the run;
# kills 11-20 land as soon as a temporary checkpoint file appears (in the middle of a write: the
# temporary file is still there afterwards). A checkpoint is written to a temporary file, fsynced
# and renamed over the old one, so the one on disk is always whole; the metrics file's records past
# the checkpoint's step, and a last line cut short by the kill, are dropped on resume.
# Usage: crash_safety.sh RECUR_BINARY SOURCE_DIR. Needs Debian's bible-kjv (scripts/setup.sh).
set -uo pipefail
recur=$1
src=$2
source "$src/tests/cli/lib.sh"
kjv_head 300000 "$work/kjv.txt"
cd "$work"
fail() { echo "FAIL: $*"; exit 1; }
run=(--text "$work/kjv.txt" --cell lstm --hidden 128 --layers 2 --embed 16 --seq-len 32 --batch 8
     --steps 40 --checkpoint-every 1 --log-every 1 --val-every 10 --val-tokens 2000 --threads 1
     --sample-length 0)
losses() {  # the training records' steps and exact losses
  /usr/bin/python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["kind"] == "train":
        print(r["step"], repr(r["loss_nats"]))' "$1"
}

mkdir ref
start=$(date +%s%N)
"$recur" train-lm "${run[@]}" --out ref/m.safetensors >/dev/null 2>ref/log || fail "reference run: $(tail -3 ref/log)"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
losses ref/m.metrics.jsonl > ref/losses
[[ $(wc -l < ref/losses) == 40 ]] || fail "the reference run logged $(wc -l < ref/losses) steps, expected 40"
echo "reference run: 40 steps in $ms ms"

RANDOM=7  # the same moments on every run of the test
mid_write=0
for i in $(seq 1 20); do
  d=k$i
  mkdir $d
  "$recur" train-lm "${run[@]}" --out $d/m.safetensors >/dev/null 2>$d/log &
  pid=$!
  if (( i <= 10 )); then  # a random moment between 20% and 100% of the uninterrupted run's time
    delay=$(( ms / 5 + RANDOM % (ms * 4 / 5) ))
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  else  # the moment the k-th checkpoint write has begun (k random): busy-wait on shell builtins
    k=$(( 1 + RANDOM % 30 )) seen=0 last=""
    while kill -0 $pid 2>/dev/null; do
      tmp=$(compgen -G "$d/.m.ckpt.safetensors.tmp.*" | head -1 || true)
      if [[ -n $tmp && $tmp != "$last" ]]; then
        last=$tmp
        (( ++seen >= k )) && break
      fi
    done
  fi
  kill -KILL $pid 2>/dev/null
  wait $pid 2>/dev/null
  status=$?
  leftover=$(compgen -G "$d/.m.ckpt.safetensors.tmp.*" | wc -l)
  (( leftover > 0 )) && mid_write=$((mid_write + 1))
  if [[ ! -f $d/m.ckpt.safetensors ]]; then
    echo "kill $i: before the first checkpoint (status $status); nothing to resume"
    continue
  fi
  [[ $status == 137 ]] || echo "kill $i: the run had ended (status $status) before the kill"
  "$recur" train-lm "${run[@]}" --out $d/m.safetensors --resume $d/m.ckpt.safetensors >/dev/null 2>$d/resume.log ||
    fail "kill $i: the checkpoint left by the kill does not resume: $(tail -3 $d/resume.log)"
  at=$(grep -o "resumed from .* at step [0-9]*" $d/resume.log | grep -o "[0-9]*$")
  # The killed write's temporary file (its process gone) is removed by the resumed run's writes.
  left=$(compgen -G "$d/.m.ckpt.safetensors.tmp.*" | wc -l)
  (( left == 0 )) || fail "kill $i: the resumed run left $left temporary checkpoint file(s) behind"
  /usr/bin/python3 "$src/tests/cli/helpers/same_tensors.py" $d/m.safetensors ref/m.safetensors 0 >/dev/null ||
    fail "kill $i: the model resumed from step $at differs from the uninterrupted run's"
  losses $d/m.metrics.jsonl > $d/losses
  cmp -s $d/losses ref/losses || { diff $d/losses ref/losses | head -5; fail "kill $i: the losses differ"; }
  printf 'ok   kill %2d: %s; resumed from step %s; the model and the 40 losses equal the uninterrupted run'"'"'s\n' \
    $i "$( ((leftover > 0)) && echo "mid-write (temporary file left, then removed)" || echo "between writes")" "$at"
  rm -rf $d
done
(( mid_write >= 3 )) || fail "only $mid_write of the 20 kills landed during a checkpoint write"
echo "ok   $mid_write of the 20 kills landed in the middle of a checkpoint write"
