#!/usr/bin/env bash
# `recur data kjv-punct`, `train-tagger`, `eval-tagger`, `tag` on a slice of real data: punctuation
# and capitalisation restoration of the first ~3000 verses of the King James Bible (Debian's
# bible-kjv). A small bidirectional LSTM, 5 epochs (a few seconds): test token accuracy must beat
# the majority-tag baseline ('lower' everywhere, ~0.75) by 0.08 (it typically reaches ~0.90), and
# the F1 of "punctuation present" must reach 0.6 and beat the positional baseline (first word Cap,
# last word period, ~0.40) by 0.2.
# Also: the data are the same on every run; eval-tagger reproduces the trainer's test numbers from
# the saved model; `recur tag` restores text (same words, now cased and punctuated); a run resumed
# from its epoch-2 checkpoint, and one stopped by Ctrl-C and resumed, end exactly where an
# uninterrupted one does; a resume with other settings and malformed CoNLL are refused (file:line).
# Usage: tagger_smoke.sh RECUR_BINARY SOURCE_DIR. Needs Debian's bible-kjv (scripts/setup.sh).
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
kjv_head 420000 "$work/kjv.txt"  # Genesis 1:1 to Leviticus 8
cd "$work"

"$recur" data kjv-punct --text kjv.txt --out punct > data.out || fail "recur data kjv-punct"
cat data.out
"$recur" data kjv-punct --text kjv.txt --out punct2 > /dev/null || fail "recur data kjv-punct (again)"
for split in train valid test; do
  [[ -s punct/$split.conll ]] || fail "no punct/$split.conll"
  cmp -s punct/$split.conll punct2/$split.conll || fail "$split.conll differs between two runs"
done
n=$(grep -c '^$' punct/train.conll)
[[ $n -gt 2000 ]] || fail "only $n training verses"
head -3 punct/train.conll | cmp -s - <(printf 'in\tCap\nthe\tlower\nbeginning\tlower\n') ||
  fail "train.conll does not start with Genesis 1:1: $(head -3 punct/train.conll)"

common=(--train punct/train.conll --valid punct/valid.conll --test punct/test.conll --hidden 64
        --embed 32 --batch 32 --threads 1 --log-every 20)
SECONDS=0
"$recur" train-tagger "${common[@]}" --epochs 5 --out a.safetensors >a.out 2>a.log ||
  fail "training: $(tail -5 a.log)"
cat a.out
echo "training took ${SECONDS}s"
num() { sed -n "s/.*$1 \\([0-9.]*\\).*/\\1/p" "$2" | head -1; }
acc=$(grep '^test' a.out | sed -n 's/.*token accuracy: \([0-9.]*\).*/\1/p')
pf1=$(grep '^test' a.out | sed -n 's/.*punctuation F1: \([0-9.]*\).*/\1/p')
base=$(grep '^test' a.out | sed -n 's/.*majority baseline: \([0-9.]*\).*/\1/p')
[[ -n "$acc" && -n "$pf1" && -n "$base" ]] || fail "no test numbers in: $(cat a.out)"
awk -v a="$acc" -v b="$base" 'BEGIN { exit !(a > b + 0.08) }' ||
  fail "test token accuracy $acc is not 0.08 above the majority baseline $base"
[[ -s a.confusion.svg && -s a.svg && -s a.metrics.jsonl && -s a.ckpt.safetensors ]] ||
  fail "missing confusion/plot/metrics/checkpoint files"

# The saved model scores the test file exactly as the trainer did.
"$recur" eval-tagger --model a.safetensors --data punct/test.conll --confusion e.svg > e.out ||
  fail "eval-tagger"
eacc=$(sed -n 's/^token accuracy \([0-9.]*\).*/\1/p' e.out)
[[ "$eacc" == "$acc" ]] || fail "eval-tagger says token accuracy $eacc, training said $acc"
grep -q "majority baseline $base" e.out || fail "eval-tagger's majority baseline differs from $base"
row=$(grep '^punctuation present' e.out)  # model P R F1, baseline P R F1, support
ef1=$(awk '{ print $5 }' <<<"$row")
bf1=$(awk '{ print $8 }' <<<"$row")
[[ "$ef1" == "$pf1" ]] || fail "eval-tagger says punctuation F1 $ef1, training said $pf1"
awk -v f="$ef1" -v b="$bf1" 'BEGIN { exit !(f >= 0.6 && f > b + 0.2) }' ||
  fail "punctuation F1 $ef1: not >= 0.6 and 0.2 above the positional baseline $bf1"
grep -q "^capitalised" e.out && grep -q "macro F1" e.out || fail "no full report: $(cat e.out)"
grep -q "<svg" e.svg || fail "e.svg is not SVG"

# tag: the same words back, now capitalised and punctuated; one output line per input line.
in="and god said let there be light and there was light and god saw the light that it was good"
out=$("$recur" tag --model a.safetensors "$in") || fail "tag TEXT"
echo "tag: $out"
[[ "$out" =~ ^And\  ]] || fail "tag did not capitalise the first word: '$out'"
[[ "$out" =~ [.,:\;?!] ]] || fail "tag put no punctuation in: '$out'"
[[ "$(tr -d '.,:;?!' <<<"$out" | tr 'A-Z' 'a-z')" == "$in" ]] || fail "tag changed the words: '$out'"
out=$(printf 'And the LORD spake unto Moses, saying,\n\nin the beginning\n' |
      "$recur" tag --model a.safetensors) || fail "tag from stdin"
[[ $(wc -l <<<"$out") -eq 3 && -z "$(sed -n 2p <<<"$out")" ]] || fail "tag from stdin printed '$out'"

# Resume: 2 epochs, then --resume to 5, ends with the uninterrupted run's numbers.
vals() { grep '"kind":"val"' "$1" | sed 's/"seconds":[^,]*,//'; }
"$recur" train-tagger "${common[@]}" --epochs 2 --out b.safetensors >/dev/null 2>b.log ||
  fail "run B: $(tail -3 b.log)"
"$recur" train-tagger "${common[@]}" --epochs 5 --out b.safetensors --resume b.ckpt.safetensors \
  > b.out 2>>b.log || fail "resumed run: $(tail -3 b.log)"
grep -q "resumed from b.ckpt.safetensors" b.log || fail "no resume message: $(cat b.log)"
diff <(grep accuracy a.out) <(grep accuracy b.out) || fail "the resumed run differs"
cmp <(vals a.metrics.jsonl) <(vals b.metrics.jsonl) || fail "validation records differ"

# Ctrl-C mid-epoch: exit status 130, a checkpoint, and the resumed run equals run A.
"$recur" train-tagger "${common[@]}" --epochs 1000 --log-every 1 --out c.safetensors >/dev/null 2>c.log &
pid=$!
for _ in $(seq 1 400); do
  [[ -f c.metrics.jsonl && $(wc -l < c.metrics.jsonl 2>/dev/null) -ge 100 ]] && break
  sleep 0.02
done
kill -INT $pid
wait $pid
status=$?
[[ $status -eq 130 ]] || fail "Ctrl-C: exit status $status, expected 130: $(tail -3 c.log)"
stopped=$(sed -n 's/.*stopped at step \([0-9]*\).*/\1/p' c.log)
per_epoch=$(sed -n 's/.* epochs of \([0-9]*\) updates.*/\1/p' a.log)
[[ -n "$stopped" && -n "$per_epoch" && $stopped -lt $((5 * per_epoch)) ]] ||
  fail "stopped at step '$stopped' (expected before $((5 * per_epoch)))"
"$recur" train-tagger "${common[@]}" --epochs 5 --out c.safetensors --resume c.ckpt.safetensors \
  > c.out 2>>c.log || fail "resume after Ctrl-C: $(tail -3 c.log)"
diff <(grep accuracy a.out) <(grep accuracy c.out) || fail "the run resumed after Ctrl-C differs"
cmp <(vals a.metrics.jsonl) <(vals c.metrics.jsonl) || fail "validation records differ after Ctrl-C"
echo "ok   Ctrl-C at step $stopped + resume = uninterrupted run"

# ... and a resume with different settings is refused.
"$recur" train-tagger "${common[@]}" --epochs 5 --hidden 32 --out b.safetensors \
  --resume b.ckpt.safetensors >/dev/null 2>r.log && fail "a resume with another --hidden was accepted"
grep -q "hidden_size=64" r.log || fail "unclear message: $(cat r.log)"

# Bad input names the file and line; eval-tagger refuses a file that is not a tagger.
printf 'in\tCap\nthe\tlower\n\nbeginning lower\n' > bad.conll
"$recur" train-tagger --train bad.conll --valid punct/valid.conll --out x.safetensors >/dev/null 2>x.log &&
  fail "a malformed file was accepted"
grep -q "bad.conll:4: no tab" x.log || fail "no file:line in '$(cat x.log)'"
printf 'in\tCap\n\tlower\n' > bad2.conll
"$recur" eval-tagger --model a.safetensors --data bad2.conll >/dev/null 2>y.log && fail "empty token accepted"
grep -q "bad2.conll:2: empty token" y.log || fail "unclear message: $(cat y.log)"
"$recur" eval-tagger --model a.ckpt.safetensors --data punct/test.conll >/dev/null 2>z.log &&
  fail "a checkpoint was read as a tagger"
grep -q "not a recur tagger" z.log || fail "unclear message: $(cat z.log)"
[[ ! -e x.safetensors ]] || fail "a refused run wrote a model"
echo "tagger smoke test: test token accuracy $acc (majority baseline $base), punctuation F1 $pf1 (positional baseline $bf1)"
