#!/usr/bin/env bash
# Crash safety of every trainer that checkpoints and resumes (train-lm, train-classifier,
# train-tagger, train-clm, train-seq2seq, train-forecaster), by fault injection rather than timing:
# the test hook RECUR_TEST_CRASH="<point>:2:ckpt.safetensors" makes the atomic writer SIGKILL the
# run inside its second checkpoint write, at each of five points (before the header, mid-data,
# before fsync, between fsync and rename, after rename). Each time: the run died by SIGKILL (137);
# the killed write left exactly the temporary file that point implies (empty, half, whole, none);
# the checkpoint on disk resumes, from the first checkpoint's step, or the second's after the
# rename; the resumed run removes the temporary file; and its model equals an uninterrupted run's
# bit for bit, its metrics records too (but the wall-clock values).
# Usage: crash_safety.sh RECUR_BINARY SOURCE_DIR. The data come from Debian packages
# (scripts/setup.sh); a trainer whose data are missing is skipped, the test (77) if all are.
set -uo pipefail
recur=$1
src=$2
source "$src/tests/cli/lib.sh"
check=(/usr/bin/python3 "$src/tests/cli/helpers/crash_check.py")
fail() { echo "FAIL: $*"; exit 1; }
cd "$work"
points=(before-header mid-data before-fsync before-rename after-rename)
cases=0

# crash_cases COMMAND ARGS...: an uninterrupted run, then one killed at each point of its second
# checkpoint write and resumed. Every run checkpoints at regular intervals (of S steps), so a
# resume is from step S when the second write did not complete and from 2S when it was renamed.
crash_cases() {
  local name=$1 cmd=$1
  shift
  mkdir -p "$name"
  "$recur" "$cmd" "$@" --out "$name/ref/m.safetensors" >/dev/null 2>"$name/ref.log" ||
    fail "$name: the uninterrupted run: $(tail -3 "$name/ref.log")"
  local point d status temps at first="" what same
  for point in "${points[@]}"; do
    d=$name/$point
    mkdir -p "$d"
    {  # (the outer 2>/dev/null silences bash's "Killed" notice)
      RECUR_TEST_CRASH="$point:2:ckpt.safetensors" "$recur" "$cmd" "$@" --out "$d/m.safetensors" \
        >/dev/null 2>"$d/killed.log"
    } 2>/dev/null
    status=$?
    [[ $status == 137 ]] ||
      fail "$name, $point: exit status $status, expected 137 (SIGKILL): $(tail -3 "$d/killed.log")"
    temps=($(compgen -G "$d/.m.ckpt.safetensors.tmp.*"))
    (( ${#temps[@]} <= 1 )) || fail "$name, $point: ${#temps[@]} temporary files"
    what=$("${check[@]}" temp "$point" "${temps[0]:--}" 2>&1) || fail "$name, $point: $what"
    [[ -f $d/m.ckpt.safetensors ]] || fail "$name, $point: no checkpoint on disk"
    "$recur" "$cmd" "$@" --out "$d/m.safetensors" --resume "$d/m.ckpt.safetensors" \
      >/dev/null 2>"$d/resume.log" ||
      fail "$name, $point: the checkpoint left does not resume: $(tail -3 "$d/resume.log")"
    at=$(sed -n 's/.*resumed from .* at step \([0-9]*\)$/\1/p' "$d/resume.log")
    [[ -n $at ]] || fail "$name, $point: no resume message: $(tail -3 "$d/resume.log")"
    if [[ $point != after-rename ]]; then
      [[ -z $first ]] && first=$at
      (( at > 0 && at == first )) ||
        fail "$name, $point: resumed from step $at, expected the first checkpoint's ($first)"
    else
      (( at == 2 * first )) ||
        fail "$name, $point: resumed from step $at, expected the second checkpoint's ($((2 * first)))"
    fi
    temps=($(compgen -G "$d/.m.ckpt.safetensors.tmp.*"))
    (( ${#temps[@]} == 0 )) || fail "$name, $point: the resumed run left ${temps[*]}"
    same=$("${check[@]}" same "$d" "$name/ref" 2>&1) || fail "$name, $point: $same"
    echo "ok   $name, killed $point of checkpoint write 2 ($what): resumed from step $at; $same"
    cases=$((cases + 1))
    rm -rf "$d"
  done
}

skip() { echo "skip $1: $2 not found (scripts/setup.sh installs it)"; }
fortunes=/usr/share/games/fortunes
dict=/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict
vega=/usr/lib/python3/dist-packages/vega_datasets/_data
SECONDS=0

if command -v bible >/dev/null; then
  kjv_head 60000 kjv.txt
  crash_cases train-lm --text kjv.txt --cell lstm --hidden 16 --embed 8 --seq-len 16 --batch 4 \
    --steps 12 --checkpoint-every 4 --log-every 1 --val-every 4 --val-tokens 500 --threads 1 \
    --sample-length 0
  "$recur" data kjv-punct --text kjv.txt --out punct >/dev/null || fail "recur data kjv-punct"
  for s in train valid; do awk -v RS= -v ORS='\n\n' 'NR <= 40' punct/$s.conll > $s.conll; done
  crash_cases train-tagger --train train.conll --valid valid.conll --hidden 8 --embed 8 --batch 8 \
    --epochs 3 --threads 1 --log-every 2
else
  skip "train-lm, train-tagger" "bible (bible-kjv)"
fi

if [[ -d $fortunes/de && -d $fortunes/ru ]]; then
  "$recur" data fortunes-lang --out lang >/dev/null || fail "recur data fortunes-lang"
  for s in train valid; do
    for l in de en ru; do grep -m 12 "^$l	" lang/$s.tsv; done > $s.tsv
  done
  crash_cases train-classifier --train train.tsv --valid valid.tsv --hidden 8 --embed 8 \
    --max-len 40 --batch 8 --epochs 3 --threads 1 --log-every 2
  crash_cases train-clm --train train.tsv --valid valid.tsv --hidden 8 --embed 8 --cond-embed 4 \
    --max-len 40 --batch 8 --epochs 3 --threads 1 --log-every 2
else
  skip "train-classifier, train-clm" "$fortunes/de and ru (fortunes-de, fortunes-ru)"
fi

if [[ -s $dict ]]; then
  "$recur" data cmudict --out g2p >/dev/null || fail "recur data cmudict"
  head -40 g2p/train.tsv > g2p-train.tsv
  head -20 g2p/valid.tsv > g2p-valid.tsv
  crash_cases train-seq2seq --train g2p-train.tsv --valid g2p-valid.tsv --hidden 8 --embed 8 \
    --target-embed 8 --batch 8 --epochs 3 --threads 1 --log-every 2 --beam 1
else
  skip train-seq2seq "$dict (pocketsphinx-en-us)"
fi

if [[ -f $vega/seattle-weather.csv ]]; then
  crash_cases train-forecaster --csv "$vega/seattle-weather.csv" --target temp_max --window 7 \
    --horizon 2 --hidden 8 --batch 64 --epochs 3 --threads 1 --log-every 4
else
  skip train-forecaster "$vega/seattle-weather.csv (python3-vega-datasets)"
fi

(( cases > 0 )) || { echo "SKIP: no trainer's data found"; exit 77; }
echo "ok   $cases kills, each resumed bit for bit, in ${SECONDS}s"
