#!/usr/bin/env bash
# `recur data` end to end on the installed Debian packages: fortunes-lang and fortunes-topic write
# three non-empty labeled splits in which every class appears in train and no text is in two
# splits; a second run gives identical files; fashion-mnist summarises the IDX files; cmudict
# writes the same G2P splits twice, no word in two of them (where pocketsphinx-en-us is
# installed); a missing package or a bad option exits 1 with a message naming it.
# Usage: data_smoke.sh RECUR_BINARY SOURCE_DIR. Needs the fortunes packages (scripts/setup.sh).
set -euo pipefail
recur=$1
source "$2/tests/cli/lib.sh"

root=/usr/share/games/fortunes
for f in fortunes bg brasil cs de eo es ga it pl ru chinese; do
  if [[ ! -e "$root/$f" ]]; then
    echo "SKIP: $root/$f is missing (install the fortunes packages: scripts/setup.sh)"
    exit 77
  fi
done

# check_splits DIR LABELS...: three non-empty files, every label in train, no text in two splits.
check_splits() {
  local dir=$1
  shift
  for s in train valid test; do
    [[ -s "$dir/$s.tsv" ]] || { echo "FAIL: $dir/$s.tsv is missing or empty"; exit 1; }
  done
  for label in "$@"; do
    grep -q "^$label"$'\t' "$dir/train.tsv" || { echo "FAIL: no '$label' example in train"; exit 1; }
  done
  local labels
  labels=$(cut -f1 "$dir/train.tsv" "$dir/valid.tsv" "$dir/test.tsv" | sort -u | tr '\n' ' ')
  [[ "$labels" == "$(printf '%s\n' "$@" | sort | tr '\n' ' ')" ]] \
    || { echo "FAIL: labels are '$labels', expected '$*'"; exit 1; }
  local dups
  dups=$(for s in train valid test; do cut -f2- "$dir/$s.tsv" | sort -u; done | sort | uniq -d | wc -l)
  [[ $dups -eq 0 ]] || { echo "FAIL: $dups texts appear in two splits of $dir"; exit 1; }
}

"$recur" data fortunes-lang --out "$work/lang" | tee "$work/lang.log"
check_splits "$work/lang" bg br cs de en eo es ga it pl ru zh
grep -q '^total ' "$work/lang.log" || { echo "FAIL: no per-class table"; exit 1; }

"$recur" data fortunes-topic --out "$work/topic" | tee "$work/topic.log"
check_splits "$work/topic" computers drugs education food law love politics science sports startrek

# Deterministic: the same files again, byte for byte.
"$recur" data fortunes-lang --out "$work/lang2" >/dev/null
for s in train valid test; do
  cmp -s "$work/lang/$s.tsv" "$work/lang2/$s.tsv" || { echo "FAIL: $s.tsv differs between runs"; exit 1; }
done

# The cap and length options reach the data set.
"$recur" data fortunes-lang --out "$work/small" --max-per-class 50 --min-chars 30 --max-chars 100 \
  >/dev/null
n=$(cat "$work/small/"*.tsv | wc -l)
[[ $n -le 600 ]] || { echo "FAIL: --max-per-class 50 over 12 classes gave $n examples"; exit 1; }

if [[ -e /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz ]]; then
  out=$("$recur" data fashion-mnist --out "$work/fm")
  echo "$out"
  grep -q '^train  60000 images of 28x28' <<<"$out" || { echo "FAIL: no train summary"; exit 1; }
  grep -q '^test   10000 images of 28x28' <<<"$out" || { echo "FAIL: no test summary"; exit 1; }
  grep -q '"label_counts"' "$work/fm/fashion-mnist.json" || { echo "FAIL: no JSON summary"; exit 1; }
fi

# G2P pairs from CMUdict: deterministic, and no source word in two splits.
if [[ -e /usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict ]]; then
  "$recur" data cmudict --out "$work/g2p" | tee "$work/g2p.log"
  "$recur" data cmudict --out "$work/g2p2" >/dev/null
  for s in train valid test; do
    [[ -s "$work/g2p/$s.tsv" ]] || { echo "FAIL: g2p/$s.tsv is missing or empty"; exit 1; }
    cmp -s "$work/g2p/$s.tsv" "$work/g2p2/$s.tsv" \
      || { echo "FAIL: g2p/$s.tsv differs between runs"; exit 1; }
  done
  dups=$(for s in train valid test; do cut -f1 "$work/g2p/$s.tsv" | sort -u; done | sort | uniq -d | wc -l)
  [[ $dups -eq 0 ]] || { echo "FAIL: $dups words appear in two G2P splits"; exit 1; }
  grep -q '^39 phonemes:' "$work/g2p.log" || { echo "FAIL: no phoneme inventory"; exit 1; }
else
  echo "skipping cmudict: the dictionary is missing (install pocketsphinx-en-us: scripts/setup.sh)"
fi

# Bad input: a missing package (an empty root), a bad length range, a missing IDX directory, a
# missing dictionary.
mkdir -p "$work/empty-root"
for args in "fortunes-lang --out $work/x --root $work/empty-root" \
    "fortunes-topic --out $work/x --min-chars 50 --max-chars 10" \
    "fashion-mnist --root $work/empty-root" \
    "cmudict --out $work/x --dict $work/empty-root/cmudict.dict"; do
  set +e
  err=$("$recur" data $args 2>&1 >/dev/null)
  status=$?
  set -e
  [[ $status -eq 1 ]] || { echo "FAIL: '$args' gave exit status $status: $err"; exit 1; }
  case "$args" in
    fortunes-lang*) needle="install fortunes-bg (scripts/setup.sh)" ;;
    fortunes-topic*) needle="50..10" ;;
    fashion-mnist*) needle="install dataset-fashion-mnist" ;;
    cmudict*) needle="install pocketsphinx-en-us (scripts/setup.sh) or pass --dict" ;;
  esac
  grep -qF -- "$needle" <<<"$err" || { echo "FAIL: '$args': message lacks '$needle': $err"; exit 1; }
  echo "refused ($status): $err"
done
[[ ! -e "$work/x" ]] || { echo "FAIL: a refused run created its output directory"; exit 1; }
echo "data smoke test: fortunes-lang $(wc -l <"$work/lang/train.tsv") training examples," \
  "fortunes-topic $(wc -l <"$work/topic/train.tsv")"
