#!/usr/bin/env bash
# `recur export-onnx` end to end: a language model trained by `recur train-lm` on the Bible is
# exported; ONNX's own Python checker (Debian's python3-onnx, full check with shape inference)
# accepts the file; `recur run-onnx` runs it; a model ONNX cannot express is refused, and no file
# is left behind.
# Usage: export_onnx_check.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
source "$2/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
/usr/bin/python3 -c "import onnx" 2>/dev/null || { echo "SKIP: python3-onnx missing (scripts/setup.sh)"; exit 77; }
kjv_head 60000 "$work/kjv.txt"
cd "$work"
"$recur" train-lm --text kjv.txt --cell gru --hidden 24 --layers 2 --embed 8 --seq-len 20 --batch 4 \
  --steps 20 --threads 1 --sample-length 0 --out lm.safetensors >/dev/null 2>lm.log || fail "train-lm: $(tail lm.log)"
"$recur" export-onnx --model lm.safetensors --out lm.onnx >/dev/null || fail "export"
/usr/bin/python3 - lm.onnx <<'PY' || fail "ONNX's checker rejects the export"
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
ops = sorted({n.op_type for n in m.graph.node})
assert "GRU" in ops and "Gather" in ops, ops
assert [i.name for i in m.graph.input] == ["tokens", "h0"], [i.name for i in m.graph.input]
assert [o.name for o in m.graph.output] == ["logits", "hn"], [o.name for o in m.graph.output]
print("ok   onnx.checker (full check) accepts the exported GRU language model:", ", ".join(ops))
PY
/usr/bin/python3 -c "import numpy as np; np.save('t.npy', np.arange(12).reshape(6, 2) % 20); np.save('h0.npy', np.zeros((2, 2, 24), np.float32))"
"$recur" run-onnx --model lm.onnx --input tokens=t.npy --input h0=h0.npy --out logits=logits.npy || fail "run-onnx"
/usr/bin/python3 -c "import numpy as np; a = np.load('logits.npy'); assert a.shape[:2] == (6, 2) and np.isfinite(a).all(), a.shape" \
  || fail "logits"
echo "ok   run-onnx runs the exported model"
"$recur" train-lm --text kjv.txt --cell lstm --layer-norm --hidden 8 --embed 4 --seq-len 10 --batch 2 --steps 2 \
  --threads 1 --sample-length 0 --out ln.safetensors >/dev/null 2>&1 || fail "train-lm --layer-norm"
err=$("$recur" export-onnx --model ln.safetensors --out ln.onnx 2>&1) && fail "a layer-norm LSTM was exported"
grep -q "layer norm" <<<"$err" || fail "unclear refusal: $err"
[[ ! -e ln.onnx ]] || fail "a refused export left a file"
echo "ok   refused: $err"
echo "export-onnx check: ok"
