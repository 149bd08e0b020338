#!/usr/bin/env bash
# Usage errors of `recur`: a wrong command line exits with status 2 (not CLI11's 105-109), names
# the option, the value and what was expected, suggests the closest command or option (a typo, or
# a name 0.2 renamed), and starts no work: no output file appears. And --text is a file in every
# command (classify reads reviews.txt, it does not classify the string 'reviews.txt').
# Usage: usage_errors.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
cd "$work"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# usage NEEDLE ARGS...: `recur ARGS` must exit 2 with NEEDLE in its message, and write no out.*
usage() {
  local needle=$1
  shift
  rm -f out.*
  local err status
  err=$("$recur" "$@" 2>&1 >/dev/null)
  status=$?
  if [[ $status -ne 2 ]]; then fail "recur $*: exit status $status, expected 2: $err"; return; fi
  if [[ "$err" != *"$needle"* ]]; then fail "recur $*: message lacks '$needle': $err"; return; fi
  if compgen -G 'out.*' >/dev/null; then fail "recur $*: wrote $(ls out.*) despite the error"; return; fi
  echo "ok   recur $*"
  sed 's/^/       /' <<<"$err"
}

printf 'the quick brown fox jumps over the lazy dog\n%.0s' {1..200} > text.txt

# Typos and removed names: the suggestion.
usage "unknown command 'trian-lm'; did you mean train-lm?" trian-lm --text text.txt --out out.st
usage "unknown option --hiden; did you mean --hidden?" train-lm --text text.txt --out out.st --hiden 16
usage "unknown option --weights; did you mean --model?" run-rnn --cell lstm --weights w.st --input x.npy --out out.npy
usage "unknown option --steps; did you mean --seq-len?" bench-rnn --steps 8
usage "unknown option --save; did you mean --out?" esn --save out.st
usage "unknown option --temp; did you mean --temperature?" sample --model m.st --temp 0.5
usage "unknown command 'lisops'; did you mean listops?" data lisops --out out.d
usage "see: recur train-lm --help" train-lm --text text.txt --out out.st --no-such-option-at-all
# The data given no way, or two ways.
usage "give the data one way: --train and --valid" train-classifier --out out.st
usage "give the data one way" train-classifier --train text.txt --arrays d --valid text.txt --out out.st
usage "give the data one way: --train and --valid (labelled text) or --arrays" train-clm --out out.st
usage "give the data one way" train-clm --train text.txt --out out.st
# A missing required option, a stray argument.
usage "--text is required" train-lm --out out.st
usage "not expected: stray" train-lm --text text.txt --out out.st stray
# Bad values: named with the value and what was expected, refused before any training.
usage "--temperature: must be > 0, got -1" train-lm --text text.txt --out out.st --steps 5 --temperature -1
usage "--threads: must be >= 0, got -4" train-lm --text text.txt --out out.st --steps 5 --threads -4
usage "--threads: must be >= 0, got -4" train-classifier --train text.txt --valid text.txt --out out.st --threads -4
usage "--threads: must be >= 0, got -2" diagnose --cell lstm --out out.json --threads -2
usage "--threads: must be >= 0, got -1" rtrl --threads -1
usage "--val-fraction: must be in (0, 0.5), got 0.7" train-lm --text text.txt --out out.st --val-fraction 0.7
usage "--order: Value 0 not in range 1 to 64" ngram --text text.txt --order 0
usage "--nbest 3 needs --beam of at least as many" translate --model m.st --nbest 3 --beam 2 abc
usage "--seq-lens '10,x': 'x' is not a positive integer" rtrl --seq-lens 10,x
usage "unknown model 'transformer'" bench-tasks --models transformer --out out.jsonl
usage "--lr-schedule cosine needs a known length" train-lm --text text.txt --out out.st --time 5 --lr-schedule cosine
usage "--test-size 100 must cover --warmup + --horizon" esn --task mackey-glass --test-size 100 --out out.st
# --text is a file: a missing one is refused with a pointer to TEXT arguments.
usage "--text: File does not exist: reviews.txt" classify --model m.st --text reviews.txt
usage 'give a text itself as an argument' tag --model m.st --text "some words"
usage "excludes" translate --model m.st --text text.txt "a source"

# Help and version still succeed.
"$recur" train-lm --help >/dev/null || fail "train-lm --help"
"$recur" --version | grep -q "recur" || fail "--version"

# diagnose and rtrl take --threads and run with it.
"$recur" rtrl --threads 1 --hidden 4 --input-size 2 --seq-lens 5 >/dev/null || fail "rtrl --threads 1"
"$recur" diagnose --threads 1 --cell gru --hidden 8 --seq-len 10 --out out.json >/dev/null &&
  [[ -s out.json ]] || fail "diagnose --threads 1"

# classify --text reviews.txt classifies each line of the file (three lines out), not the string.
for i in $(seq 1 40); do
  printf 'pos\tgood great fine lovely %d\nneg\tbad awful poor dreadful %d\n' "$i" "$i"
done > labelled.tsv
"$recur" train-classifier --train labelled.tsv --valid labelled.tsv --out cls.safetensors \
  --hidden 8 --embed 8 --epochs 1 --batch 16 --threads 1 >/dev/null 2>&1 || fail "train-classifier"
printf 'good great\nbad awful\nlovely fine\n' > reviews.txt
got=$("$recur" classify --model cls.safetensors --text reviews.txt) || fail "classify --text FILE"
[[ $(wc -l <<<"$got") -eq 3 ]] || fail "classify --text reviews.txt printed '$got', expected 3 lines"
one=$("$recur" classify --model cls.safetensors reviews.txt) || fail "classify TEXT"
[[ $(wc -l <<<"$one") -eq 1 ]] || fail "classify reviews.txt (a TEXT) printed '$one'"

[[ $failures -eq 0 ]] && echo "usage errors: ok" || { echo "$failures usage-error checks failed"; exit 1; }
