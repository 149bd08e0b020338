#!/usr/bin/env bash
# `recur ngram` end to end on real text: interpolated modified Kneser-Ney on 400 KB of the King
# James Bible must reach < 2.6 bits/char at order 5 on the validation tail, a sweep over orders 1..8
# must pick a better order than 1, and a missing or empty file must exit 1 naming the file.
# Usage: ngram_smoke.sh RECUR_BINARY SOURCE_DIR. Needs Debian's bible-kjv (scripts/setup.sh).
set -euo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
kjv_head 400000 "$work/kjv.txt"

out=$("$recur" ngram --text "$work/kjv.txt" --order 5 2>"$work/log")
echo "$out"
bpc=$(sed -n 's/^order 5: validation \([0-9.]*\) bits\/char.*/\1/p' <<<"$out")
[[ -n "$bpc" ]] || { echo "FAIL: no 'order 5: validation' line"; cat "$work/log"; exit 1; }
awk -v b="$bpc" 'BEGIN { exit !(b < 2.6) }' \
  || { echo "FAIL: order 5 gave $bpc bits/char, expected < 2.6"; exit 1; }

out=$("$recur" ngram --text "$work/kjv.txt" --max-order 8 2>"$work/log")
echo "$out"
[[ $(grep -c '^order [0-9]*: validation ' <<<"$out") -eq 8 ]] \
  || { echo "FAIL: expected 8 order lines"; exit 1; }
one=$(sed -n 's/^order 1: validation \([0-9.]*\) bits\/char.*/\1/p' <<<"$out")
best=$(sed -n 's/^best: order \([0-9]*\): validation \([0-9.]*\) bits\/char.*/\1 \2/p' <<<"$out")
[[ -n "$one" && -n "$best" ]] || { echo "FAIL: no order 1 or best line"; exit 1; }
read -r best_order best_bpc <<<"$best"
awk -v b="$best_bpc" -v o="$one" 'BEGIN { exit !(b < o - 1) }' \
  || { echo "FAIL: best order $best_order: $best_bpc bits/char, order 1: $one"; exit 1; }
[[ $best_order -gt 1 ]] || { echo "FAIL: best order is $best_order"; exit 1; }

# Word mode runs and reports bits/word.
out=$("$recur" ngram --text "$work/kjv.txt" --tokens word --order 3 2>"$work/log")
echo "$out"
grep -q '^order 3: validation [0-9.]* bits/word, perplexity [0-9.]* over [0-9]* words' <<<"$out" \
  || { echo "FAIL: no word-mode line"; exit 1; }

# Bad input: a missing file, an empty file (exit status 1), a bad order (a usage error, status 2):
# a message naming it.
: > "$work/empty.txt"
for args in "--text $work/missing.txt" "--text $work/empty.txt" "--text $work/kjv.txt --order 0" \
    "--text $work/kjv.txt --eval $work/missing_eval.txt"; do
  set +e
  err=$("$recur" ngram $args 2>&1 >/dev/null)
  status=$?
  set -e
  want=1
  [[ "$args" == *"--order 0" ]] && want=2
  [[ $status -eq $want ]] || { echo "FAIL: '$args' gave exit status $status, expected $want: $err"; exit 1; }
  case "$args" in
    *missing.txt) needle=missing.txt ;;
    *empty.txt) needle=empty.txt ;;
    *missing_eval.txt) needle=missing_eval.txt ;;
    *) needle="--order" ;;
  esac
  grep -qF -- "$needle" <<<"$err" \
    || { echo "FAIL: '$args': message lacks '$needle': $err"; exit 1; }
  echo "refused ($status): $err" | head -2
done
echo "ngram smoke test: order 5 $bpc bits/char; best order $best_order $best_bpc (order 1: $one)"
