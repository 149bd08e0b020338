#!/usr/bin/python3
"""Checks for tests/cli/crash_safety.sh (no numpy: it runs twice per case).

crash_check.py temp POINT FILE
    FILE is the temporary file a write killed at POINT left ("-": none). before-header: empty;
    mid-data: the whole header and exactly half of the file's bytes; before-fsync, before-rename:
    the whole safetensors file; after-rename: no file.
crash_check.py same DIR REF
    DIR/m.safetensors holds REF/m.safetensors's tensors bit for bit (names, dtypes, shapes, bytes),
    and DIR/m.metrics.jsonl has REF's records, every value as written but the wall-clock ones.
Prints what it found; exits 1 when a check fails."""
import json
import struct
import sys


def header(raw, path):
    """The safetensors header of `raw` and the file size it describes."""
    if len(raw) < 8:
        sys.exit(f"{path}: {len(raw)} bytes, too short for a safetensors header")
    n = struct.unpack("<Q", raw[:8])[0]
    if len(raw) < 8 + n:
        sys.exit(f"{path}: {len(raw)} bytes end inside the {n}-byte header")
    h = json.loads(raw[8:8 + n])
    end = max((v["data_offsets"][1] for k, v in h.items() if k != "__metadata__"), default=0)
    return h, 8 + n + end


def check_temp(point, path):
    if point == "after-rename":
        if path != "-":
            sys.exit(f"a write killed after its rename left the temporary file {path}")
        print("no temporary file")
        return
    if path == "-":
        sys.exit(f"a write killed at {point} left no temporary file")
    raw = open(path, "rb").read()
    if point == "before-header":
        if raw:
            sys.exit(f"{path}: {len(raw)} bytes written before the header")
        print("an empty temporary file")
        return
    _, whole = header(raw, path)
    want = whole // 2 if point == "mid-data" else whole
    if len(raw) != want:
        sys.exit(f"{path}: {len(raw)} bytes, expected {want} of the {whole}-byte file at {point}")
    print(f"a temporary file of {len(raw)} of {whole} bytes")


def tensors(path):
    raw = open(path, "rb").read()
    h, _ = header(raw, path)
    base = 8 + struct.unpack("<Q", raw[:8])[0]
    return {k: (v["dtype"], v["shape"], raw[base + v["data_offsets"][0]:base + v["data_offsets"][1]])
            for k, v in h.items() if k != "__metadata__"}


def records(path):
    wall_clock = ("seconds", "tokens_per_second")
    out = []
    for line in open(path):
        r = json.loads(line, parse_float=str)
        out.append({k: v for k, v in r.items() if k not in wall_clock})
    return out


def check_same(d, ref):
    a, b = tensors(f"{d}/m.safetensors"), tensors(f"{ref}/m.safetensors")
    if a.keys() != b.keys():
        sys.exit(f"the models hold different tensors: {sorted(a.keys() ^ b.keys())}")
    for name in a:
        if a[name] != b[name]:
            sys.exit(f"tensor {name} differs from the uninterrupted run's")
    ra, rb = records(f"{d}/m.metrics.jsonl"), records(f"{ref}/m.metrics.jsonl")
    for i, (x, y) in enumerate(zip(ra, rb)):
        if x != y:
            sys.exit(f"metrics record {i + 1} differs:\n  {x}\n  {y} (uninterrupted)")
    if len(ra) != len(rb):
        sys.exit(f"{len(ra)} metrics records, the uninterrupted run has {len(rb)}")
    print(f"{len(a)} tensors and {len(ra)} metrics records equal")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "temp":
        check_temp(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "same":
        check_same(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
