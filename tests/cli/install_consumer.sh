#!/usr/bin/env bash
# Packaging: `cmake --install` of this build into a scratch prefix, then the example program in
# examples/consumer built against the installed package twice, by find_package(recur CONFIG) and
# by pkg-config, and run on two real models: a PyTorch nn.LSTM state_dict (from the parity
# fixtures) and a language model trained by the installed `recur`. Each run streams, checks the
# stream against the whole-sequence call and checks that a missing file is a clean error.
# Usage: install_consumer.sh RECUR_BINARY SOURCE_DIR.
set -uo pipefail
recur=$1
src=$2
source "$src/tests/cli/lib.sh"
fail() { echo "FAIL: $*"; exit 1; }
build=$(dirname "$recur")
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 || fail "install: $(tail "$work/install.log")"
for f in include/recur/recur.h include/recur/layers/rnn.h lib/librecur.a lib/librecur.so bin/recur \
         lib/cmake/recur/recurConfig.cmake lib/pkgconfig/recur.pc; do
  [[ -e "$prefix/$f" ]] || fail "not installed: $f"
done
echo "ok   installed headers, static and shared library, tool, CMake package, pkg-config file"

# A sanitizer build's library needs the sanitizer runtime in the consumer too.
flags=""
grep -q "RECUR_SANITIZE:BOOL=ON" "$build/CMakeCache.txt" && flags="-fsanitize=address,undefined"

cmake -S "$src/examples/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" >"$work/consumer.log" 2>&1 \
  || fail "configure the consumer: $(tail -20 "$work/consumer.log")"
cmake --build "$work/consumer" >>"$work/consumer.log" 2>&1 || fail "build the consumer: $(tail -20 "$work/consumer.log")"
echo "ok   examples/consumer built with find_package(recur CONFIG)"
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" cc $flags -o "$work/consumer_pc" "$src/examples/consumer/stream.c" \
  $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs recur) -lm \
  -Wl,-rpath,"$prefix/lib" || fail "build the consumer with pkg-config"
echo "ok   examples/consumer built with pkg-config"

# Model 1: the weights of a PyTorch nn.LSTM (its state_dict, no recur metadata).
/usr/bin/python3 - "$src/tests/fixtures/rnn/lstm_1layer_full.safetensors" "$work/lstm.safetensors" <<'PY' || fail "extract the fixture's weights"
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
out_header, blobs, offset = {}, [], 0
for name, info in sorted(header.items()):
    if name == "__metadata__" or not name.startswith(("weight_", "bias_")):
        continue
    a, b = info["data_offsets"]
    out_header[name] = {"dtype": info["dtype"], "shape": info["shape"], "data_offsets": [offset, offset + b - a]}
    blobs.append(data[a:b])
    offset += b - a
h = json.dumps(out_header).encode()
h += b" " * (-len(h) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
PY
# Model 2: a small language model trained by the installed tool.
kjv_head 60000 "$work/kjv.txt"
"$prefix/bin/recur" train-lm --text "$work/kjv.txt" --hidden 32 --embed 8 --seq-len 20 --batch 4 \
  --steps 20 --threads 1 --sample-length 0 --out "$work/lm.safetensors" >/dev/null 2>"$work/lm.log" \
  || fail "train-lm: $(tail "$work/lm.log")"
for exe in "$work/consumer/recur_consumer" "$work/consumer_pc"; do
  out=$("$exe" "$work/lstm.safetensors" 6) || fail "$exe on the LSTM: $out"
  grep -q "rnn model, cell lstm, input 3, hidden 8" <<<"$out" || fail "LSTM info: $out"
  grep -q "whole sequence: equal to the stream" <<<"$out" || fail "LSTM stream: $out"
  grep -q "loading a missing file: file (cannot open 'no-such-model.safetensors'" <<<"$out" || fail "missing file: $out"
  out=$("$exe" "$work/lm.safetensors" 4) || fail "$exe on the LM: $out"
  grep -q "lm model, cell lstm" <<<"$out" || fail "LM info: $out"
  [[ $(grep -c "most likely next" <<<"$out") -eq 4 ]] || fail "LM steps: $out"
done
echo "ok   both consumers stream the PyTorch LSTM (equal to the whole sequence) and the language model"
echo "install consumer test: all checks passed"
