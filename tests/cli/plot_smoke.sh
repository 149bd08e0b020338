#!/usr/bin/env bash
# `recur plot` end to end: a hand-written metrics file (with a truncated last line, as a killed run
# leaves) becomes an SVG that parses as XML and names both curves; a missing, empty or
# bits_per_token-free metrics file exits with status 1 naming the file and writes no SVG.
# Usage: plot_smoke.sh RECUR_BINARY SOURCE_DIR
set -euo pipefail
recur=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/m.jsonl" <<'EOF'
{"kind":"train","step":10,"tokens":5120,"seconds":0.5,"loss_nats":3.1,"bits_per_token":4.47,"learning_rate":0.002}
{"kind":"train","step":20,"tokens":10240,"seconds":1.0,"loss_nats":2.4,"bits_per_token":3.46,"learning_rate":0.002}
{"kind":"val","step":20,"loss_nats":2.5,"bits_per_token":3.61,"perplexity":12.2}
{"kind":"train","step":30,"tokens":15360,"seconds":1.5,"loss_nats":2.0,"bits_per_token":2.89}
{"kind":"train","step":40,"tokens":20480,"seconds":2.0,"loss_nats":1.8,"bits_per_token":2.60}
{"kind":"val","step":40,"loss_nats":1.9,"bits_per_token":2.74,"perplexity":6.69}
EOF
printf '{"kind":"train","step":50,"tok' >> "$work/m.jsonl"

out=$("$recur" plot --metrics "$work/m.jsonl" --out "$work/p.svg" --title "smoke & test")
echo "$out"
[[ -s "$work/p.svg" ]] || { echo "FAIL: no SVG written"; exit 1; }
grep -q "4 train and 2 validation" <<<"$out" || { echo "FAIL: unexpected summary: $out"; exit 1; }
if [[ -x /usr/bin/python3 ]]; then
  /usr/bin/python3 - "$work/p.svg" <<'PY'
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
texts = [t.firstChild.data for t in doc.getElementsByTagName("text") if t.firstChild]
assert "train" in texts and "validation" in texts and "smoke & test" in texts, texts
assert len(doc.getElementsByTagName("path")) == 2, "expected a train and a validation line"
PY
else
  grep -q "<svg" "$work/p.svg" || { echo "FAIL: not an SVG"; exit 1; }
fi

# Bad input: exit status 1, a message naming the file, no SVG left behind.
: > "$work/empty.jsonl"
echo '{"kind":"train","step":1,"loss_nats":2.0}' > "$work/no_bpt.jsonl"
printf '{"kind":"train","step":1,"bits_per_token":2}\nnot json\n' > "$work/bad.jsonl"
for f in missing.jsonl empty.jsonl no_bpt.jsonl bad.jsonl; do
  set +e
  err=$("$recur" plot --metrics "$work/$f" --out "$work/bad.svg" 2>&1 >/dev/null)
  status=$?
  set -e
  if [[ $status -ne 1 ]]; then echo "FAIL: $f gave exit status $status: $err"; exit 1; fi
  grep -qF "$work/$f" <<<"$err" || { echo "FAIL: message for $f does not name it: $err"; exit 1; }
  [[ ! -e "$work/bad.svg" ]] || { echo "FAIL: $f left an SVG behind"; exit 1; }
  echo "refused $f: $err"
done
grep -qF "$work/bad.jsonl:2:" <<<"$err" || { echo "FAIL: no line number: $err"; exit 1; }
echo "plot smoke test: OK"
