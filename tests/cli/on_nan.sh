#!/usr/bin/env bash
# --on-nan on a real divergence: train-forecaster on Seattle's temperatures with plain SGD at lr 2.5
# and no clipping blows up in its second or third epoch (its loss becomes Inf: at step 31 in the
# release build, 33 in the -O1 sanitizer build; an epoch is 16 steps and ends with a checkpoint).
# With --on-nan stop (the default) the run stops at that step, names it and what held the Inf,
# writes no model, and leaves the last epoch's checkpoint exactly as a run that ended at that epoch
# wrote it (it resumes). With --on-nan skip the bad steps are skipped one by one, each named, until
# 10 in a row stop the run. A NaN injected into one gradient is covered by
# tests/train/nan_guard_test.cpp (stop and skip, on train-lm's loop).
# Usage: on_nan.sh RECUR_BINARY SOURCE_DIR. Skipped (77) without python3-vega-datasets.
set -uo pipefail
recur=$1
src=$2
source "$src/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
vega=/usr/lib/python3/dist-packages/vega_datasets/_data
if [[ ! -f $vega/seattle-weather.csv ]]; then
  echo "SKIP: $vega/seattle-weather.csv not found (install python3-vega-datasets: scripts/setup.sh)"
  exit 77
fi
cd "$work"
common=(--csv "$vega/seattle-weather.csv" --target temp_max --window 14 --horizon 3 --hidden 32
        --season 365 --threads 1 --log-every 20 --batch 64 --optimizer sgd --clip 0 --lr 2.5)

# 0. The divergence guard (on by default) stops this run while its loss is still finite: the step,
# the loss, exit status 1, no model. The NaN checks below turn it off to reach the Inf.
"$recur" train-forecaster "${common[@]}" --epochs 6 --out d.safetensors >/dev/null 2>d.log
rc=$?
[[ $rc == 1 ]] || fail "diverge: exit status $rc, expected 1: $(tail -3 d.log)"
grep -Eq "error: step [0-9]+: the loss [0-9.e+]+ is over 10 x 1 " d.log ||
  fail "diverge: no step and loss named: $(tail -2 d.log)"
grep -q "the run diverged" d.log || fail "diverge: the message does not say the run diverged"
[[ ! -e d.safetensors ]] || fail "diverge: a model was written after the run diverged"
echo "ok   the divergence guard: $(grep -o "step [0-9]*: the loss [0-9.e+]*" d.log)"
common+=(--diverge-ratio 0)

# 1. stop: the step, the tensor, exit status 1, no model, the good checkpoint kept.
"$recur" train-forecaster "${common[@]}" --epochs 6 --out a.safetensors >/dev/null 2>a.log
rc=$?
[[ $rc == 1 ]] || fail "stop: exit status $rc, expected 1: $(tail -3 a.log)"
grep -Eq "error: step [0-9]+: the loss is (inf|-?nan)" a.log || fail "stop: no step named: $(tail -2 a.log)"
grep -q -- "--on-nan stop" a.log || fail "stop: the message does not say what was done: $(tail -1 a.log)"
grep -q "last checkpoint was left as it was" a.log || fail "stop: nothing said of the checkpoint"
[[ ! -e a.safetensors ]] || fail "stop: a model was written after the NaN"
bad=$(grep -o "error: step [0-9]*" a.log | grep -o "[0-9]*$")
epochs=$(( (bad - 1) / 16 ))  # the epochs done before the bad step: the last checkpoint's
(( epochs >= 1 )) || fail "stop: the run diverged in its first epoch (step $bad), before any checkpoint"
# The reference: the same run, ended at that epoch.
"$recur" train-forecaster "${common[@]}" --epochs $epochs --out ref.safetensors >/dev/null 2>ref.log ||
  fail "reference run: $(tail -3 ref.log)"
/usr/bin/python3 "$src/tests/cli/helpers/same_tensors.py" a.ckpt.safetensors ref.ckpt.safetensors 0 >/dev/null ||
  fail "stop: the surviving checkpoint is not the one of epoch $epochs"
"$recur" train-forecaster "${common[@]}" --epochs $epochs --resume a.ckpt.safetensors --out a.safetensors \
  >/dev/null 2>a2.log || fail "stop: the surviving checkpoint does not resume: $(tail -2 a2.log)"
grep -q "resumed from a.ckpt.safetensors at step $((epochs * 16))" a2.log || fail "stop: resumed elsewhere: $(cat a2.log)"
echo "ok   stop: $(grep -o 'step [0-9]*: the loss is [a-z-]*' a.log), no model, the step-$((epochs * 16)) checkpoint kept and resumable"

# 2. skip: each bad step named and skipped, then 10 in a row stop the run.
"$recur" train-forecaster "${common[@]}" --epochs 6 --on-nan skip --out s.safetensors >/dev/null 2>s.log
rc=$?
[[ $rc == 1 ]] || fail "skip: exit status $rc, expected 1: $(tail -3 s.log)"
n=$(grep -c "; step skipped (--on-nan skip)" s.log)
[[ $n == 9 ]] || fail "skip: $n steps skipped before the stop, expected 9: $(cat s.log)"
grep -q "10 steps in a row were skipped (--on-nan skip), so the run stopped" s.log ||
  fail "skip: no stop after 10 in a row: $(tail -2 s.log)"
echo "ok   skip: 9 steps skipped and named, the 10th in a row stops the run"

# 3. A bad policy name is refused by the option parser.
"$recur" train-forecaster "${common[@]}" --on-nan ignore --out x.safetensors >/dev/null 2>x.log &&
  fail "--on-nan ignore was accepted"
grep -q "on-nan" x.log || fail "bad --on-nan: unclear message: $(cat x.log)"
echo "ok   --on-nan ignore refused"
