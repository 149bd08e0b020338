#!/usr/bin/python3
"""Times PyTorch's nn.LSTM/nn.GRU/nn.RNN forward and forward+backward with the same arguments and
medians as `recur bench-rnn` (ms, one JSON line with forward_ms and train_ms)."""
import argparse
import json
import statistics
import time

import torch

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--cell", default="lstm")
for name, default in [("hidden", 256), ("batch", 32), ("steps", 100), ("input", 64), ("layers", 1),
                      ("threads", 1), ("repeat", 10)]:
    ap.add_argument("--" + name, type=int, default=default)
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(1)
if a.cell == "lstm":
    m = torch.nn.LSTM(a.input, a.hidden, a.layers)
elif a.cell == "gru":
    m = torch.nn.GRU(a.input, a.hidden, a.layers)
else:
    m = torch.nn.RNN(a.input, a.hidden, a.layers, nonlinearity=a.cell.split("_")[1])
x = torch.rand(a.steps, a.batch, a.input) * 2 - 1
dy = torch.rand(a.steps, a.batch, a.hidden) * 2 - 1
fwd, train = [], []
# forward: inference (no autograd graph), as recur's --mode forward and oneDNN's forward_inference
with torch.no_grad():
    for r in range(a.repeat + 1):
        t0 = time.perf_counter()
        y, _ = m(x)
        t1 = time.perf_counter()
        if r:
            fwd.append(1e3 * (t1 - t0))
for r in range(a.repeat + 1):
    xr = x.clone().requires_grad_(True)
    t0 = time.perf_counter()
    y, _ = m(xr)
    y.backward(dy)
    t2 = time.perf_counter()
    if r:
        train.append(1e3 * (t2 - t0))
print(json.dumps({"impl": "torch " + torch.__version__, "cell": a.cell, "hidden": a.hidden,
                  "batch": a.batch, "steps": a.steps, "input": a.input, "layers": a.layers,
                  "threads": a.threads, "forward_ms": round(statistics.median(fwd), 3),
                  "train_ms": round(statistics.median(train), 3)}))
