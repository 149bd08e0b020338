#!/usr/bin/python3
"""Training throughput of recur.nn.LSTM against torch.nn.LSTM inside the same torch training loop,
at 1 and 2 threads, on real data. A benchmark, not a test: it prints medians and ratios.

  char LM    embedding(64) -> LSTM(H) -> linear, Adam, on the King James Bible's characters
             (Debian's bible-kjv), (H, B, T) = (256, 32, 64) and (256, 1, 64)
  imdb shape the seeds' Keras IMDB recipe: Embedding(10000, 128) -> LSTM(128) -> Dense(16, relu)
             -> Dense(1, sigmoid), binary cross-entropy on padded batches with lengths; the texts
             are real (fortunes in German and English from `recur data fortunes-lang`, words
             mapped to 10000 ids), the label is the language

Both modules start from the same weights and see the same batches, so their loss curves must
agree (to float rounding that grows with the steps). Usage: bench/torch_training.py [--steps N]
(PYTHONPATH=build/python, or recur installed with pip)."""
import argparse
import collections
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from torch import nn

import recur
import recur.nn

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_name():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def kjv_ids():
    path = os.path.join(SOURCE, "data", "kjv.txt")
    if os.path.exists(path):
        text = open(path, encoding="utf-8").read()
    else:
        text = subprocess.run(["bible", "Gen1:1-Rev22:21"], capture_output=True, text=True, check=True).stdout
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    return torch.tensor([index[c] for c in text[:400_000]]), len(vocab)


def fortunes_batches(batch, max_len=80, vocab_size=10000):
    with tempfile.TemporaryDirectory() as d:
        recur.run(["data", "fortunes-lang", "--out", d], echo=False)
        rows = [line.rstrip("\n").split("\t", 1) for line in open(os.path.join(d, "train.tsv"), encoding="utf-8")]
    rows = [(label, text.lower().split()) for label, text in rows if label in ("de", "en") and text.split()]
    counts = collections.Counter(w for _, words in rows for w in words)
    ids = {w: i + 1 for i, (w, _) in enumerate(counts.most_common(vocab_size - 1))}
    g = torch.Generator().manual_seed(1)
    order = torch.randperm(len(rows), generator=g)
    batches = []
    for start in range(0, len(rows) - batch + 1, batch):
        chosen = [rows[int(i)] for i in order[start:start + batch]]
        seqs = [[ids.get(w, 0) for w in words[:max_len]] for _, words in chosen]
        lengths = torch.tensor([len(s) for s in seqs])
        x = torch.zeros(batch, int(lengths.max()), dtype=torch.long)
        for b, s in enumerate(seqs):
            x[b, :len(s)] = torch.tensor(s)
        y = torch.tensor([1.0 if label == "de" else 0.0 for label, _ in chosen])
        batches.append((x, lengths, y))
    return batches


class CharLM(nn.Module):
    def __init__(self, lib, vocab, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, 64)
        self.lstm = lib.LSTM(64, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, x):
        return self.out(self.lstm(self.embed(x))[0])


class ImdbShape(nn.Module):
    def __init__(self, lib):
        super().__init__()
        self.embed = nn.Embedding(10000, 128)
        self.lstm = lib.LSTM(128, 128, batch_first=True)
        self.dense = nn.Linear(128, 16)
        self.out = nn.Linear(16, 1)

    def forward(self, x, lengths):
        _, (h, _) = self.lstm((self.embed(x), lengths)) if isinstance(self.lstm, recur.nn.LSTM) else \
            self.lstm(nn.utils.rnn.pack_padded_sequence(self.embed(x), lengths, batch_first=True,
                                                        enforce_sorted=False))
        return torch.sigmoid(self.out(torch.relu(self.dense(h[-1])))).squeeze(1)


def train(make, batches, loss_of, steps, start=None):
    """Per-step seconds and losses of `steps` Adam steps (after 2 warm-up steps, not timed), from
    the weights `start` (a state_dict) or a fresh model's; returns the starting weights too."""
    torch.manual_seed(0)
    model = make()
    if start is not None:
        model.load_state_dict(start)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    times, losses = [], []
    for step in range(steps + 2):
        batch = batches[step % len(batches)]
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_of(model, batch)
        loss.backward()
        opt.step()
        if step >= 2:
            times.append(time.perf_counter() - t0)
            losses.append(loss.item())
    return times, losses, start


def lm_case(ids, vocab, hidden, batch, seq):
    g = torch.Generator().manual_seed(2)
    starts = torch.randint(0, len(ids) - seq - 1, (64, batch), generator=g)
    batches = [(torch.stack([ids[s:s + seq] for s in row]), torch.stack([ids[s + 1:s + seq + 1] for s in row]))
               for row in starts]

    def loss_of(model, b):
        return nn.functional.cross_entropy(model(b[0]).reshape(-1, vocab), b[1].reshape(-1))

    return batches, loss_of, lambda lib: (lambda: CharLM(lib, vocab, hidden))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20, help="timed training steps per case (default 20)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    a = ap.parse_args()
    ids, vocab = kjv_ids()
    cases = []
    for batch in (32, 1):
        batches, loss_of, maker = lm_case(ids, vocab, 256, batch, 64)
        cases.append((f"char LM  H=256 B={batch} T=64", batches, loss_of, maker))
    imdb = fortunes_batches(32)
    cases.append(("imdb shape H=128 B=32 T<=80", imdb, lambda m, b: nn.functional.binary_cross_entropy(
        m(b[0], b[1]), b[2]), lambda lib: (lambda: ImdbShape(lib))))
    print(f"# {cpu_name()}, torch {torch.__version__}, recur {recur.__version__}; median of {a.steps} steps")
    print(f"{'case':30} {'thr':>3} {'torch steps/s':>14} {'recur steps/s':>14} {'ratio':>6}  max |loss diff|")
    curves = []
    for threads in a.threads:
        torch.set_num_threads(threads)
        for name, batches, loss_of, maker in cases:
            tt, lt, start = train(maker(nn), batches, loss_of, a.steps)
            tr, lr, _ = train(maker(recur.nn), batches, loss_of, a.steps, start)
            st, sr = 1 / statistics.median(tt), 1 / statistics.median(tr)
            diff = max(abs(x - y) for x, y in zip(lt, lr))
            print(f"{name:30} {threads:>3} {st:>14.2f} {sr:>14.2f} {sr / st:>5.2f}x  {diff:.2e}", flush=True)
            curves.append((name, threads, lt, lr))
    print("\n# loss curves (every 5th step): torch / recur")
    for name, threads, lt, lr in curves:
        pairs = "  ".join(f"{x:.4f}/{y:.4f}" for x, y in list(zip(lt, lr))[::5])
        print(f"{name} ({threads} thr): {pairs}")


if __name__ == "__main__":
    sys.exit(main())
