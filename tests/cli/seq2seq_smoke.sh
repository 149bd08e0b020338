#!/usr/bin/env bash
# `recur train-seq2seq`, `eval-seq2seq` and `translate` on a slice of real data: grapheme-to-phoneme
# on CMUdict (Debian's pocketsphinx-en-us via `recur data cmudict`), 8000 training pronunciations,
# a small BiLSTM encoder and an LSTM decoder with Bahdanau attention, 3 epochs (about half a
# minute). Checks: test PER below 45% (it reaches about 30%; always writing the most frequent
# phoneme scores about 95%) and some words exactly right; eval-seq2seq reproduces the trainer's
# test numbers from the saved model; beam search does not do worse than greedy on PER by more than
# a point; translate spells out new words and prints an n-best list; a run resumed from its epoch-1
# checkpoint ends exactly as an uninterrupted one; scheduled sampling runs; bad input is refused
# with its file and line.
# Usage: seq2seq_smoke.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
dict=/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict
if [[ ! -s $dict ]]; then
  echo "SKIP: $dict not found (install pocketsphinx-en-us: scripts/setup.sh)"
  exit 77
fi
cd "$work"
"$recur" data cmudict --out g2p >/dev/null || fail "recur data cmudict"
head -8000 g2p/train.tsv > train.tsv
head -600 g2p/valid.tsv > valid.tsv
head -600 g2p/test.tsv > test.tsv

common=(--train train.tsv --valid valid.tsv --test test.tsv --hidden 64 --embed 32 --target-embed 32
        --batch 32 --threads 1 --log-every 50 --lr 3e-3 --beam 1)
SECONDS=0
"$recur" train-seq2seq "${common[@]}" --epochs 3 --out a.safetensors >a.out 2>a.log ||
  fail "training: $(tail -5 a.log)"
cat a.out
echo "training took ${SECONDS}s"
per=$(sed -n 's/^test (greedy): PER \([0-9.]*\)%  WER \([0-9.]*\)%.*/\1/p' a.out)
wer=$(sed -n 's/^test (greedy): PER \([0-9.]*\)%  WER \([0-9.]*\)%.*/\2/p' a.out)
[[ -n "$per" && -n "$wer" ]] || fail "no test numbers in: $(cat a.out)"
awk -v p="$per" -v w="$wer" 'BEGIN { exit !(p < 45 && w < 99) }' ||
  fail "test PER $per% / WER $wer%: not below 45% / 99%"
[[ -s a.svg && -s a.metrics.jsonl && -s a.ckpt.safetensors ]] || fail "missing plot/metrics/checkpoint"

# The saved model scores the test file exactly as the trainer did; beam search is no worse.
"$recur" eval-seq2seq --model a.safetensors --data test.tsv --beam 1 > e.out || fail "eval-seq2seq"
cat e.out
grep -q "token error rate (PER) $per%" e.out || fail "eval-seq2seq's PER differs from $per%"
grep -q "sequence error rate (WER) $wer%" e.out || fail "eval-seq2seq's WER differs from $wer%"
"$recur" eval-seq2seq --model a.safetensors --data test.tsv --beam 4 > b.out || fail "beam eval"
bper=$(sed -n 's/^token error rate (PER) \([0-9.]*\)%.*/\1/p' b.out)
awk -v b="$bper" -v p="$per" 'BEGIN { exit !(b <= p + 1) }' || fail "beam PER $bper% vs greedy $per%"

# translate: phonemes for new words, one line per input line; an n-best list with scores.
out=$(printf 'cat\n\nstation\n' | "$recur" translate --model a.safetensors --chars --beam 1) ||
  fail "translate"
echo "translate: $out"
[[ $(wc -l <<<"$out") -eq 3 && -z "$(sed -n 2p <<<"$out")" ]] || fail "translate printed '$out'"
grep -qE '^[A-Z]+( [A-Z]+)+$' <<<"$(sed -n 1p <<<"$out")" || fail "no phonemes for 'cat': '$out'"
nb=$("$recur" translate --model a.safetensors --chars station --beam 4 --nbest 3) ||
  fail "translate --nbest"
echo "$nb"
[[ $(wc -l <<<"$nb") -eq 3 ]] && grep -q "score" <<<"$nb" || fail "n-best list: '$nb'"

# Resume: 1 epoch, then --resume to 3, ends with the uninterrupted run's numbers.
vals() { grep '"kind":"val"' "$1" | sed 's/"seconds":[^,]*,//'; }
"$recur" train-seq2seq "${common[@]}" --epochs 1 --out r.safetensors >/dev/null 2>r.log ||
  fail "run R: $(tail -3 r.log)"
"$recur" train-seq2seq "${common[@]}" --epochs 3 --out r.safetensors --resume r.ckpt.safetensors \
  > r.out 2>>r.log || fail "resumed run: $(tail -3 r.log)"
grep -q "resumed from r.ckpt.safetensors" r.log || fail "no resume message"
diff <(grep PER a.out) <(grep PER r.out) || fail "the resumed run differs"
cmp <(vals a.metrics.jsonl) <(vals r.metrics.jsonl) || fail "validation records differ"

# Scheduled sampling and the other contexts train (one short epoch each).
head -1500 train.tsv > tiny.tsv
for extra in "--context general --sampling-schedule linear --teacher-forcing-end 0.5" \
             "--context bridge --context-use both --cell gru" "--context last --context-use input"; do
  # shellcheck disable=SC2086
  "$recur" train-seq2seq --train tiny.tsv --valid valid.tsv --hidden 32 --epochs 1 --threads 1 \
    --out x.safetensors $extra >x.out 2>x.log || fail "training with $extra: $(tail -3 x.log)"
  grep -q "^validation (greedy): PER" x.out || fail "no validation line with $extra"
done
grep -q "teacher forcing constant 1" a.log || fail "the log does not state the teacher forcing"

# Bad input names the file and line; a refused run writes no model.
printf 'a b\tAH B\nc d AH\n' > bad.tsv
"$recur" train-seq2seq --train bad.tsv --valid valid.tsv --out y.safetensors >/dev/null 2>y.log &&
  fail "a malformed file was accepted"
grep -q "bad.tsv:2" y.log || fail "no file:line in '$(cat y.log)'"
[[ ! -e y.safetensors ]] || fail "a refused run wrote a model"
"$recur" eval-seq2seq --model a.ckpt.safetensors --data test.tsv >/dev/null 2>z.log &&
  fail "a checkpoint was read as a seq2seq model"
grep -q "not a recur seq2seq model" z.log || fail "unclear message: $(cat z.log)"
"$recur" train-seq2seq --train tiny.tsv --valid valid.tsv --out w.safetensors --context dot \
  --hidden 32 --decoder-hidden 48 >/dev/null 2>w.log && fail "dot attention with unequal sizes ran"
grep -q "dot attention needs" w.log || fail "unclear message: $(cat w.log)"
echo "seq2seq smoke test: test PER $per%, WER $wer% (greedy); beam 4 PER $bper%"
