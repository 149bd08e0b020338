#!/usr/bin/env bash
# The stack spec (--rnn, docs/rnn-spec.md) in every trainer: every kind and option below trains a
# few steps on a small slice of real data in train-lm, train-classifier, train-tagger, train-clm,
# train-seq2seq and train-forecaster. For each pair: the training losses are finite and the last
# logged one is below the first; the saved model loads and is evaluated by the task's own command;
# export-onnx writes a graph that passes ONNX's checker (the exporter runs it), or refuses naming the
# option ONNX cannot express. Bidirectional specs go to the trainers that read whole sequences, and
# are refused by name by those that read left to right. Mixed stacks (layers of different kinds and
# sizes) and the layers with their own time loop (clockwork, skip, deep) train everywhere but in
# train-clm, which refuses them by name.
# Usage: rnn_matrix.sh RECUR_BINARY SOURCE_DIR. Needs the Debian data packages (scripts/setup.sh).
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
vega=/usr/lib/python3/dist-packages/vega_datasets/_data
for need in /usr/share/games/fortunes/de "$vega/seattle-weather.csv" \
            /usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict; do
  [[ -e $need ]] || { echo "SKIP: $need not found (scripts/setup.sh)"; exit 77; }
done
kjv_head 60000 "$work/kjv.txt"
cd "$work"

# The data: 60 000 bytes of the Bible; 80 short fortunes in each of 3 languages; the punctuation tags of
# the Bible's first verses; 400 CMUdict pronunciations; Seattle's daily weather.
"$recur" data fortunes-lang --out lang >/dev/null || fail "recur data fortunes-lang"
for split in train valid; do
  for l in de en ru; do grep "^$l	" "lang/$split.tsv" | awk 'length($0) < 100' | head -80; done > "$split.tsv"
done
"$recur" data kjv-punct --text kjv.txt --out punct >/dev/null || fail "recur data kjv-punct"
"$recur" data cmudict --out g2p >/dev/null || fail "recur data cmudict"
head -400 g2p/train.tsv > g2p_train.tsv
head -60 g2p/valid.tsv > g2p_valid.tsv

quiet=(--threads 1 --log-every 1 --lr 0.01)
train() {  # train TRAINER SPEC OUT: the trainer's run on its data
  local t=$1 spec=$2 out=$3
  case $t in
    lm) "$recur" train-lm --text kjv.txt --rnn "$spec" --embed 8 --seq-len 16 --batch 4 --steps 12 \
          --val-tokens 400 --sample-length 0 "${quiet[@]}" --out "$out" ;;
    classifier) "$recur" train-classifier --train train.tsv --valid valid.tsv --rnn "$spec" --embed 8 \
          --batch 16 --epochs 2 "${quiet[@]}" --out "$out" ;;
    tagger) "$recur" train-tagger --train punct/valid.conll --valid punct/test.conll --rnn "$spec" \
          --embed 8 --batch 16 --epochs 1 "${quiet[@]}" --out "$out" ;;
    clm) "$recur" train-clm --train train.tsv --valid valid.tsv --rnn "$spec" --embed 8 --max-len 40 \
          --batch 16 --epochs 2 "${quiet[@]}" --out "$out" ;;
    seq2seq) "$recur" train-seq2seq --train g2p_train.tsv --valid g2p_valid.tsv --rnn "$spec" \
          --embed 8 --target-embed 8 --batch 16 --epochs 2 "${quiet[@]}" --out "$out" ;;
    forecaster) "$recur" train-forecaster --csv "$vega/seattle-weather.csv" --target temp_max \
          --window 8 --horizon 2 --rnn "$spec" --batch 32 --epochs 1 "${quiet[@]}" --out "$out" ;;
  esac
}
evaluate() {  # evaluate TRAINER MODEL: the task's own command on the saved model
  local t=$1 m=$2
  case $t in
    lm) "$recur" eval-lm --model "$m" --text kjv.txt ;;
    classifier) "$recur" eval-classifier --model "$m" --data valid.tsv ;;
    tagger) "$recur" eval-tagger --model "$m" --data punct/test.conll ;;
    clm) "$recur" sample-clm --model "$m" --count 1 --length 20 ;;
    seq2seq) "$recur" eval-seq2seq --model "$m" --data g2p_valid.tsv --beam 1 ;;
    forecaster) "$recur" forecast --model "$m" --csv "$vega/seattle-weather.csv" --threads 1 ;;
  esac
}
# The first and last logged training losses, or a word saying what is wrong with them.
losses() {
  /usr/bin/python3 -c '
import json, math, sys
xs = [json.loads(l)["loss_nats"] for l in open(sys.argv[1]) if json.loads(l).get("kind") == "train"]
if len(xs) < 2: print("too-few-records", len(xs))
elif not all(math.isfinite(x) for x in xs): print("non-finite", xs)
else: print(xs[0], xs[-1])' "$1"
}

specs=("rnn_tanh:12;rnn_tanh:12" "rnn_relu:12,leak=0.5,learn_leak" "rnn_sigmoid:12,residual"
       "rnn_tanh:12,residual=0.5" "lstm:12,peephole,dropout=0.1;lstm:12,peephole" "lstm:12,coupled"
       "lstm:12,ln" "gru:12,reset_before" "gru:12,ln;gru:12,ln" "rnn_tanh:12,residual,ln" "rnn_linear:12,leak=0.5"
       "lstm:12,peephole,dropout=0.1;gru:10,reset_before;rnn_tanh:8"
       "clockwork:12,periods=1/2/4" "skip:12,delay=3" "deep:12" "gru:12;skip:8,no_short;clockwork:8")
bi_specs=("lstm:12,bi=sum;lstm:12,bi=sum" "gru:12,reset_before,bi" "rnn_tanh:12,bi,dropout=0.2;rnn_tanh:12,bi"
          "gru:12,bi;lstm:8,peephole,bi=sum;rnn_relu:6,bi")
runs=0
for t in lm classifier tagger clm seq2seq forecaster; do
  all=("${specs[@]}" "${bi_specs[@]}")
  for spec in "${all[@]}"; do
    runs=$((runs + 1))
    m=m$runs.safetensors
    if [[ $spec == *bi* && ( $t == lm || $t == clm || $t == forecaster ) ]]; then
      train $t "$spec" $m >out$runs 2>log$runs && fail "$t took the bidirectional '$spec'"
      (( $(grep -c "error" log$runs) == 1 )) || fail "$t: $(cat log$runs)"
      grep -Eq "left to right|bidirectional|forwards" log$runs ||
        fail "$t refused '$spec' without saying why: $(cat log$runs)"
      [[ -e $m ]] && fail "$t wrote a model for a refused spec"
      echo "ok   $t refuses '$spec' (it reads left to right)"
      continue
    fi
    if [[ $t == clm && ( $spec == *gru:10* || $spec =~ (clockwork|skip|deep) ) ]]; then  # one size only
      train $t "$spec" $m >out$runs 2>log$runs && fail "$t took the mixed stack '$spec'"
      grep -q "'$spec' (a mixed stack, or a clockwork, skip or deep layer) is not supported" log$runs ||
        fail "$t refused '$spec' without saying why: $(cat log$runs)"
      [[ -e $m ]] && fail "$t wrote a model for a refused spec"
      echo "ok   $t refuses '$spec' (a mixed stack or an own-loop layer)"
      continue
    fi
    train $t "$spec" $m >out$runs 2>log$runs || fail "$t '$spec': $(tail -3 log$runs)"
    read -r first last <<<"$(losses ${m%.safetensors}.metrics.jsonl)"
    awk -v a="$first" -v b="$last" 'BEGIN { exit !(b + 0 < a + 0) }' ||
      fail "$t '$spec': the loss did not go down (first $first, last $last)"
    grep -aq 'rnn_spec":"' $m || fail "$t '$spec': the model's metadata has no rnn_spec"
    evaluate $t $m >eval$runs 2>&1 || fail "$t '$spec': evaluating the saved model: $(tail -3 eval$runs)"
    if "$recur" export-onnx --model $m --out m$runs.onnx >onnx$runs 2>&1; then
      # (seq2seq writes m.encoder.onnx and m.decoder.onnx)
      [[ -n $(compgen -G "m$runs*.onnx") ]] || fail "$t '$spec': export-onnx wrote nothing"
      how="exported to ONNX"
    else
      grep -Eq "ln \(layer norm\)|coupled \(gates\)|residual \(recurrence\)|leak \(leaky units\)|bi=sum|does not export|covers" onnx$runs ||
        fail "$t '$spec': export-onnx failed without naming why: $(cat onnx$runs)"
      [[ -n $(compgen -G "m$runs*.onnx") ]] && fail "$t '$spec': a refused export left a file"
      how="ONNX refused: $(grep -Eo "use [a-z_=]+ \([a-z ]+\)|a mixed stack|a (clockwork|skip|deep) layer" onnx$runs | head -1)"
    fi
    printf 'ok   %-10s %-48s loss %.3f -> %.3f; evaluated; %s\n' $t "'$spec'" "$first" "$last" "$how"
  done
done
echo "$runs trainer x spec pairs"
