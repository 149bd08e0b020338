#!/usr/bin/python3
"""same_tensors.py A B TOL: every tensor of two safetensors files agrees within TOL, relative to the
largest magnitude in the tensor (max |a - b| / max |a|); the same names and shapes in both.
Prints the worst tensor; exits 1 when a tensor is off, 2 when the files do not match up.
Used by the command-line tests (tests/cli/mpi_data_parallel.sh)."""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "BF16": None}


def load(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def main():
    a, b, tol = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
    if a.keys() != b.keys():
        print("different tensors:", sorted(a.keys() ^ b.keys()))
        return 2
    worst, worst_name = 0.0, ""
    for name in a:
        if a[name].shape != b[name].shape:
            print(f"{name}: shapes {a[name].shape} and {b[name].shape}")
            return 2
        x, y = a[name].astype(np.float64), b[name].astype(np.float64)
        scale = max(np.abs(x).max(initial=0.0), 1e-30)
        d = np.abs(x - y).max(initial=0.0) / scale
        if d > worst:
            worst, worst_name = d, name
    print(f"{len(a)} tensors; largest relative difference {worst:.3g} ({worst_name or '-'})")
    return 0 if worst <= tol else 1


if __name__ == "__main__":
    sys.exit(main())
