#!/usr/bin/python3
"""Trains the same character-level language model with `recur train-lm` and with PyTorch, one after
the other on this machine, and prints both validation bits/char, both wall times and the ratios.

The PyTorch side reproduces recur's data pipeline (src/data/vocab.cpp, src/train/lm_trainer.cpp,
src/models/language_model.cpp):
  - vocabulary: the sorted distinct bytes of the WHOLE file;
  - split: cut = len - int(len * val_fraction), moved forward to the next whitespace byte; the tail
    is validation (periodic validations read its first --val-tokens ids as `batch` streams);
  - the final validation: recur's binaries have read it three ways: the capped ids as `batch`
    streams, the whole tail as `batch` streams, the whole tail as one stream. Which one this binary
    does is told apart by the number of characters it scored, and PyTorch does the same;
  - training: `batch` contiguous streams of stream_len = len(train) // batch ids; step k reads
    window x = train[b*stream_len + pos : ... + seq_len], y = the same shifted by one; the state is
    carried (detached) between windows and reset to zero when pos + seq_len + 1 > stream_len (an
    epoch ended); [lr schedule] -> zero_grad -> forward -> mean cross-entropy -> backward ->
    clip_grad_norm_ -> Adam (cosine schedule: lr_k = lo + (lr - lo)(1 + cos(pi k / steps)) / 2 before
    update k = 0, 1, ..., lo = lr * lr_min, as recur's --lr-schedule cosine);
  - validation: S contiguous pieces of (n-1)//S targets over the validation ids above (S = batch,
    or 1 for a one-stream final validation),
    windows of seq_len (the last one shorter), state carried from a zero start, no dropout; bits
    per character = summed cross-entropy / scored targets / ln 2.
The architecture is nn.Embedding (N(0,1)) -> nn.LSTM/GRU/RNN (PyTorch's init, dropout between
layers) -> nn.Linear; recur uses the same distributions. Only the initial weights (different RNGs)
and the float summation order differ.

Cross-check: after its own run, the PyTorch model is loaded with the weights recur trained (same
tensor names) and runs the same final validation; it must give recur's bits/char (to float
rounding) and recur's vocabulary must be PyTorch's, else the two pipelines differ. (Not timed.)

Times: "train" is the training loop (the steps, with any intermediate validation; recur's figure
is its own clock, from its metrics file, at the last step); "total" is the wall time of the whole
run: the recur process from launch to exit, and for PyTorch reading the file to the final
validation (the Python/torch import is not counted). By default both sides validate only once, at
the end (recur gets --val-every = --steps), so the training times are comparable.

  /usr/bin/python3 bench/lm_vs_torch.py [--steps 1500] [--threads 2] [--torch-threads 1] [--torch-blas-threads N] ...

Note: Debian's PyTorch does its matrix products in OpenBLAS, whose thread pool torch.set_num_threads
does not set: "1 thread" can still keep every core busy. The table's cpu/wall column shows it;
--torch-blas-threads pins it.
"""
import argparse
import datetime
import json
import math
import os
import platform
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPACE = b" \t\n\v\f\r"  # std::isspace in the C locale
CELLS = ["lstm", "gru", "rnn_tanh", "rnn_relu"]


def fail(msg):
    print(f"lm_vs_torch: error: {msg}", file=sys.stderr)
    sys.exit(1)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--text", help="training text (default: data/kjv.txt, made with `bible` if missing)")
    ap.add_argument("--recur", default=os.path.join(ROOT, "build", "recur"), help="recur binary (default build/recur)")
    ap.add_argument("--cell", default="lstm", choices=CELLS)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--embed", type=int, default=64)
    ap.add_argument("--seq-len", type=int, default=100)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--lr-schedule", default="constant", choices=["constant", "cosine"],
                    help="constant, or cosine decay to lr * --lr-min (passed to recur only when cosine)")
    ap.add_argument("--lr-min", type=float, default=0.1, help="cosine schedule: final lr as a fraction of --lr")
    ap.add_argument("--clip", type=float, default=5.0, help="global gradient-norm clip (0: off)")
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--val-fraction", type=float, default=0.05)
    ap.add_argument("--val-tokens", type=int, default=200000,
                    help="cap on validation characters (0: all); see above for the final validation")
    ap.add_argument("--val-every", type=int, default=0,
                    help="validation interval in steps on both sides (0: only at the end)")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2, help="recur's CPU threads")
    ap.add_argument("--torch-threads", type=int, default=1, help="PyTorch's intra-op threads")
    ap.add_argument("--torch-blas-threads", type=int, default=0,
                    help="threads of the OpenBLAS under Debian's PyTorch (its matrix products; "
                         "torch.set_num_threads does not reach it); 0: leave its default (all cores, "
                         "or $OPENBLAS_NUM_THREADS)")
    a = ap.parse_args()
    if a.torch_blas_threads < 0:
        fail("--torch-blas-threads must be >= 0")
    for name in ["hidden", "layers", "embed", "seq_len", "batch", "steps", "log_every", "threads", "torch_threads"]:
        if getattr(a, name) <= 0:
            fail(f"--{name.replace('_', '-')} must be positive, got {getattr(a, name)}")
    if a.val_every < 0 or a.val_tokens < 0:
        fail("--val-every and --val-tokens must be >= 0")
    if not 0 < a.val_fraction < 0.5:
        fail(f"--val-fraction must be in (0, 0.5), got {a.val_fraction}")
    if a.lr <= 0 or a.clip < 0 or not 0 <= a.dropout < 0.95 or not 0 <= a.lr_min <= 1:
        fail("need --lr > 0, --clip >= 0, --dropout in [0, 0.95) and --lr-min in [0, 1]")
    return a


def default_text():
    path = os.path.join(ROOT, "data", "kjv.txt")
    if os.path.isfile(path) and os.path.getsize(path) > 0:
        return path
    if shutil.which("bible") is None:
        fail(f"{path} is missing and 'bible' (Debian's bible-kjv) is not installed; run scripts/setup.sh "
             "first or pass --text FILE")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    print(f"lm_vs_torch: writing {path} with bible \"Gen1:1-Rev22:21\"", flush=True)
    with open(path + ".tmp", "wb") as f:
        subprocess.run(["bible", "Gen1:1-Rev22:21"], stdout=f, check=True)
    os.replace(path + ".tmp", path)
    return path


def loadavg():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "?"


# ------------------------------------------------------------------------------------------------
# recur


def read_safetensors(path):
    """{name: (dtype, shape, bytes)} and the metadata of a safetensors file."""
    with open(path, "rb") as f:
        blob = f.read()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    return {k: (v["dtype"], v["shape"], blob[base + v["data_offsets"][0]:base + v["data_offsets"][1]])
            for k, v in header.items()}, meta


def run_recur(a, text, workdir):
    exe = a.recur
    if not os.path.exists(exe):
        fail(f"recur binary '{exe}' not found; build it (scripts/build.sh or ninja -C build) or pass --recur PATH")
    if not os.path.isfile(exe) or not os.access(exe, os.X_OK):
        fail(f"'{exe}' is not an executable file")
    out = os.path.join(workdir, "recur-lm.safetensors")
    cmd = [exe, "train-lm", "--text", text, "--tokens", "char", "--cell", a.cell, "--hidden", str(a.hidden),
           "--layers", str(a.layers), "--embed", str(a.embed), "--seq-len", str(a.seq_len),
           "--batch", str(a.batch), "--steps", str(a.steps), "--optimizer", "adam", "--lr", repr(a.lr),
           "--clip", repr(a.clip), "--dropout", repr(a.dropout), "--init", "uniform", "--seed", str(a.seed),
           "--val-fraction", repr(a.val_fraction), "--val-tokens", str(a.val_tokens),
           "--val-every", str(a.val_every or a.steps), "--log-every", str(a.log_every),
           "--threads", str(a.threads), "--sample-length", "0", "--out", out]
    if a.lr_schedule == "cosine":
        cmd[cmd.index("--clip"):cmd.index("--clip")] = ["--lr-schedule", "cosine", "--lr-min", repr(a.lr_min)]
    print("recur: " + shlex.join(cmd), flush=True)
    lines = []
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
    except OSError as e:
        fail(f"cannot run '{exe}': {e}")
    for line in p.stdout:
        lines.append(line.rstrip("\n"))
        print("  recur| " + lines[-1], flush=True)
    rc = p.wait()
    total = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    if rc != 0:
        fail(f"recur train-lm exited with status {rc}; its output is above")
    log = "\n".join(lines)

    def grab(pattern, what):
        m = re.search(pattern, log, re.M)
        if not m:
            fail(f"could not find {what} in recur's output (pattern {pattern!r})")
        return m

    m = grab(r"^train-lm: .*: (\d+) training and (\d+) validation characters .*?, (\d+) tokens in the vocabulary",
             "the data summary line")
    train_chars, val_chars, vocab = int(m[1]), int(m[2]), int(m[3])
    m = grab(r"^validation: ([0-9.eE+-]+|nan|inf) bits/char, perplexity \S+ over (\d+) characters",
             "the 'validation: X bits/char' line")
    bpc, scored = float(m[1]), int(m[2])
    m = grab(r"^trained (\d+) steps, (\d+) characters in ([0-9.]+) s", "the 'trained N steps' line")
    steps_done, chars_trained, seconds = int(m[1]), int(m[2]), float(m[3])
    if steps_done != a.steps:
        fail(f"recur trained {steps_done} steps, expected {a.steps}")
    # Training time from recur's own clock: the last training record (written before the final
    # validation); validation time: the final validation record minus that.
    train_s = val_s = None
    train_bpc = None
    metrics = os.path.join(workdir, "recur-lm.metrics.jsonl")
    try:
        with open(metrics) as f:
            recs = [json.loads(l) for l in f if l.strip()]
        tr = [r for r in recs if r.get("kind") == "train" and r.get("step") == a.steps]
        va = [r for r in recs if r.get("kind") == "val" and r.get("step") == a.steps]
        if tr:
            train_s, train_bpc = tr[-1]["seconds"], tr[-1]["bits_per_token"]
            if va:
                val_s = va[-1]["seconds"] - train_s
    except (OSError, ValueError, KeyError) as e:
        print(f"lm_vs_torch: warning: cannot read {metrics}: {e}; using recur's end-of-run time", file=sys.stderr)
    if train_s is None:
        train_s = seconds
    weights = vocab_bytes = None
    try:
        weights, meta = read_safetensors(os.path.join(workdir, "recur-lm.safetensors"))
        vocab_bytes = json.loads(meta["vocab"])
    except (OSError, ValueError, KeyError) as e:
        print(f"lm_vs_torch: warning: cannot read recur's model ({e}); no cross-check", file=sys.stderr)
    return dict(bpc=bpc, train_bpc=train_bpc, scored=scored, train_chars=train_chars, val_chars=val_chars,
                vocab=vocab, train_s=train_s, val_s=val_s, total_s=total, cpu_s=cpu_s, chars_trained=chars_trained,
                weights=weights, vocab_bytes=vocab_bytes)


# ------------------------------------------------------------------------------------------------
# PyTorch


def openblas_threads(want):
    """Sets (want > 0) and returns the thread count of the OpenBLAS loaded in this process, or None
    when there is none (Debian's PyTorch calls the system BLAS, which is OpenBLAS by default)."""
    import ctypes
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({l.split()[-1] for l in f if "openblas" in l.split()[-1]})
    except OSError:
        return None
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            if want > 0:
                lib.openblas_set_num_threads(ctypes.c_int(want))
            return int(lib.openblas_get_num_threads())
        except (OSError, AttributeError):
            continue
    return None


def scored_targets(n, batch):
    """How many targets evaluate_language_model scores over n ids."""
    nb = max(1, min(batch, n - 1))
    return (n - 1) // nb * nb


def run_torch(a, text, recur=None):
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(a.torch_threads)
    blas = openblas_threads(a.torch_blas_threads)
    t_start = time.perf_counter()
    with open(text, "rb") as f:
        data = f.read()
    if not data:
        fail(f"'{text}' is empty")
    nul = data.find(b"\0")
    if nul >= 0:
        fail(f"'{text}' holds a NUL byte at offset {nul}; recur refuses binary files")
    n = len(data)
    # Vocabulary: sorted distinct bytes of the whole file (Vocab::build, chars).
    raw = torch.from_numpy(np.frombuffer(data, dtype=np.uint8).astype(np.int64))
    present = torch.bincount(raw, minlength=256) > 0
    symbols = torch.nonzero(present).flatten()
    V = len(symbols)
    lut = torch.full((256,), -1, dtype=torch.int64)
    lut[symbols] = torch.arange(V)
    # Split (split_text_tail): cut = n - int(n*f), then forward to the next whitespace byte.
    cut = n - int(n * a.val_fraction)
    while cut < n and data[cut] not in SPACE:
        cut += 1
    train = lut[raw[:cut]]
    val_full = lut[raw[cut:]]
    val_capped = val_full[:a.val_tokens] if a.val_tokens > 0 else val_full
    # The final validation: the ids and streams this recur binary uses, see the top.
    candidates = [("whole tail", val_full, a.batch), ("capped", val_capped, a.batch), ("whole tail", val_full, 1)]
    final_mode, val_final, final_streams = candidates[0]
    recur_scored = recur["scored"] if recur else None
    if recur_scored is not None:
        hits = [c for c in candidates if scored_targets(len(c[1]), c[2]) == recur_scored]
        if hits:
            final_mode, val_final, final_streams = hits[0]
        else:
            print(f"lm_vs_torch: warning: recur scored {recur_scored} validation characters, which matches none "
                  f"of the known procedures; using the whole tail in {a.batch} streams", file=sys.stderr)
    final_mode += f", {final_streams} stream{'s' if final_streams > 1 else ''}"
    B, T = a.batch, a.seq_len
    stream_len = len(train) // B
    if stream_len < T + 1:
        fail(f"'{text}' has {len(train)} training characters: too few for {B} streams x {T + 1}")
    if len(val_full) < 2:
        fail(f"'{text}': the validation tail holds {len(val_full)} characters")
    streams = train[:B * stream_len].view(B, stream_len)  # row b = stream b

    torch.manual_seed(a.seed)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(V, a.embed)  # N(0, 1)
            drop = a.dropout if a.layers > 1 else 0.0  # between layers only, as recur
            if a.cell == "lstm":
                self.rnn = nn.LSTM(a.embed, a.hidden, a.layers, dropout=drop)
            elif a.cell == "gru":
                self.rnn = nn.GRU(a.embed, a.hidden, a.layers, dropout=drop)
            else:
                self.rnn = nn.RNN(a.embed, a.hidden, a.layers, nonlinearity=a.cell.split("_")[1], dropout=drop)
            self.decoder = nn.Linear(a.hidden, V)  # U(-1/sqrt(H), 1/sqrt(H)) weight and bias

        def forward(self, x, state):
            y, state = self.rnn(self.embedding(x), state)
            return self.decoder(y), state

    model = Model()
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)  # betas (0.9, 0.999), eps 1e-8: recur's

    def detach(state):
        if state is None:
            return None
        return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()

    def validate(val, nstreams=B):
        model.eval()
        nb = max(1, min(nstreams, len(val) - 1))
        piece = (len(val) - 1) // nb
        X = val[:nb * piece].view(nb, piece)
        Y = val[1:nb * piece + 1].view(nb, piece)
        nats, count, state = 0.0, 0, None
        with torch.no_grad():
            for pos in range(0, piece, T):
                x = X[:, pos:pos + T].t().contiguous()
                y = Y[:, pos:pos + T].t().contiguous()
                logits, state = model(x, state)
                nats += F.cross_entropy(logits.view(-1, V), y.view(-1), reduction="sum").item()
                count += y.numel()
        model.train()
        return nats / count / math.log(2), count

    print(f"torch: {text}: {len(train)} training and {len(val_full)} validation characters (final validation: "
          f"{final_mode}, {len(val_final)}), {V} tokens in the "
          f"vocabulary; {a.cell} {a.layers}x{a.hidden}, embedding {a.embed}, {B} streams x {T} steps, "
          f"{a.steps} updates ({(stream_len - 1) // T} per epoch), {torch.get_num_threads()} thread(s), "
          f"OpenBLAS {blas if blas is not None else '(not loaded)'} thread(s)", flush=True)
    model.train()
    pos, epoch, state = 0, 0, None
    interval_loss, interval_steps, train_bpc = 0.0, 0, None
    val_log = []
    lo = a.lr * a.lr_min
    t0 = time.perf_counter()
    c0 = time.process_time()
    for step in range(1, a.steps + 1):
        if pos + T + 1 > stream_len:  # an epoch ended: restart the streams with a fresh state
            epoch += 1
            pos, state = 0, None
        if a.lr_schedule == "cosine":  # lr for update step-1 of steps, as recur
            for g in opt.param_groups:
                g["lr"] = lo + 0.5 * (a.lr - lo) * (1 + math.cos(math.pi * (step - 1) / a.steps))
        x = streams[:, pos:pos + T].t().contiguous()          # (T, B)
        y = streams[:, pos + 1:pos + T + 1].t().contiguous()  # the next characters
        pos += T
        opt.zero_grad(set_to_none=False)
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.view(-1, V), y.view(-1))
        loss.backward()
        state = detach(state)
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        lv = loss.item()
        if not math.isfinite(lv):
            fail(f"PyTorch training loss became {lv} at step {step}")
        interval_loss += lv
        interval_steps += 1
        if step % a.log_every == 0 or step == a.steps:
            train_bpc = interval_loss / interval_steps / math.log(2)
            secs = time.perf_counter() - t0
            rate = step * T * B / secs
            print(f"  torch| step {step}/{a.steps}  loss {train_bpc:.4f} bpc  {rate:.0f} tok/s  elapsed {secs:.1f}s  "
                  f"eta {(a.steps - step) * T * B / rate:.0f}s", flush=True)
            interval_loss, interval_steps = 0.0, 0
        if a.val_every and step % a.val_every == 0 and step != a.steps:
            vb, vn = validate(val_capped)
            val_log.append((step, vb))
            print(f"  torch| validation at step {step}: {vb:.4f} bpc over {vn} characters", flush=True)
    train_s = time.perf_counter() - t0
    cpu_s = time.process_time() - c0
    t1 = time.perf_counter()
    bpc, scored = validate(val_final, final_streams)
    val_s = time.perf_counter() - t1
    print(f"  torch| validation at step {a.steps}: {bpc:.4f} bpc over {scored} characters", flush=True)
    total_s = time.perf_counter() - t_start
    # Cross-check (untimed): recur's trained weights in this PyTorch model, the same validation.
    cross = None
    same_vocab = None
    if recur and recur.get("vocab_bytes") is not None:
        same_vocab = recur["vocab_bytes"] == symbols.tolist()
    if recur and recur.get("weights"):
        try:
            sd = {}
            for k, (dt, shape, buf) in recur["weights"].items():
                if dt != "F32":
                    raise ValueError(f"tensor {k} is {dt}, expected F32")
                sd[k] = torch.from_numpy(np.frombuffer(buf, dtype="<f4").copy()).view(*shape)
            model.load_state_dict(sd, strict=True)
            cross, _ = validate(val_final, final_streams)
            print(f"  torch| cross-check: recur's trained weights in the PyTorch model: {cross:.4f} bpc "
                  f"(recur reported {recur['bpc']:.4f})", flush=True)
        except (RuntimeError, ValueError) as e:
            print(f"lm_vs_torch: warning: cannot load recur's weights into the PyTorch model: {e}", file=sys.stderr)
    return dict(bpc=bpc, train_bpc=train_bpc, scored=scored, train_chars=len(train), val_chars=len(val_full),
                vocab=V, train_s=train_s, val_s=val_s, total_s=total_s, cpu_s=cpu_s,
                final_val=final_mode, cross_bpc=cross, same_vocab=same_vocab,
                chars_trained=a.steps * T * B, epochs_started=epoch, version=torch.__version__, blas_threads=blas)


# ------------------------------------------------------------------------------------------------


def main():
    a = parse_args()
    text = os.path.abspath(a.text) if a.text else default_text()
    if not os.path.isfile(text):
        fail(f"text file '{text}' not found")
    a.recur = os.path.abspath(a.recur)
    if not os.path.exists(a.recur):  # fail before the long PyTorch run, not after
        fail(f"recur binary '{a.recur}' not found; build it (scripts/build.sh or ninja -C build) or pass --recur PATH")
    now = datetime.datetime.now().astimezone()
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    except OSError:
        pass
    print("command: " + shlex.join([sys.executable] + sys.argv))
    print("date:    " + now.strftime("%Y-%m-%d %H:%M:%S %Z"))
    print(f"machine: {platform.node()}, {os.cpu_count()} CPUs ({cpu}), load average {loadavg()}")
    print(f"text:    {text} ({os.path.getsize(text)} bytes)", flush=True)

    load = {"start": loadavg()}
    with tempfile.TemporaryDirectory(prefix="lm_vs_torch.") as work:
        r = run_recur(a, text, work)
    load["after_recur"] = loadavg()
    t = run_torch(a, text, r)
    load["after_torch"] = loadavg()

    print()
    print(f"data: train characters  recur {r['train_chars']}  torch {t['train_chars']}")
    print(f"      val characters    recur {r['val_chars']}  torch {t['val_chars']}  (scored in the final "
          f"validation: recur {r['scored']}, torch {t['scored']}; {t['final_val']})")
    print(f"      vocabulary        recur {r['vocab']}  torch {t['vocab']}")
    same = (r["train_chars"], r["val_chars"], r["vocab"], r["scored"]) == \
           (t["train_chars"], t["val_chars"], t["vocab"], t["scored"]) and t["same_vocab"] is not False
    if t["same_vocab"] is not None:
        print(f"      vocabularies are {'identical' if t['same_vocab'] else 'DIFFERENT'} (byte for byte)")
    cross_ok = None
    if t["cross_bpc"] is not None:
        cross_ok = abs(t["cross_bpc"] - r["bpc"]) < 1e-3
        print(f"cross-check: recur's trained weights evaluated by the PyTorch pipeline: {t['cross_bpc']:.4f} bpc, "
              f"recur's own figure {r['bpc']:.4f} ({'agree' if cross_ok else 'DISAGREE: the pipelines differ'})")
    if not same:
        print("WARNING: recur and PyTorch saw different data; the comparison is not like for like", flush=True)
    print(f"load average (1/5/15 min): start {load['start']}, after recur {load['after_recur']}, "
          f"after torch {load['after_torch']}")
    print()
    chars = a.steps * a.seq_len * a.batch
    tname = f"torch {t['version']} ({a.torch_threads} thr" + \
        (f", BLAS {t['blas_threads']})" if t["blas_threads"] is not None else ")")
    rows = [(f"recur ({a.threads} thr)", r), (tname, t)]
    hdr = (f"{'implementation':<32} {'val bpc':>8} {'train bpc':>9} {'train s':>9} {'val s':>7} {'total s':>9} "
           f"{'train tok/s':>12} {'cpu/wall':>8}")
    print(hdr)
    print("-" * len(hdr))
    for name, d in rows:
        tb = f"{d['train_bpc']:.4f}" if d["train_bpc"] is not None else "?"
        vs = f"{d['val_s']:.1f}" if d["val_s"] is not None else "?"
        util = d["cpu_s"] / (d["total_s"] if d is r else d["train_s"])
        print(f"{name:<32} {d['bpc']:>8.4f} {tb:>9} {d['train_s']:>9.1f} {vs:>7} {d['total_s']:>9.1f} "
              f"{chars / d['train_s']:>12.0f} {util:>8.2f}")
    gap = 100.0 * (r["bpc"] / t["bpc"] - 1.0)
    sp_train = t["train_s"] / r["train_s"]
    sp_total = t["total_s"] / r["total_s"]
    print()
    print(f"validation bpc: recur / torch - 1 = {gap:+.2f}%")
    print(f"speed-up (torch time / recur time): training {sp_train:.2f}x, total {sp_total:.2f}x")
    print(f"({a.steps} steps x {a.batch} streams x {a.seq_len} = {chars} training characters each; train bpc is "
          f"the mean over the last {a.log_every} steps; train s excludes the final validation; cpu/wall: CPU seconds per "
          f"wall second (recur: whole process, torch: training loop), near the thread count on an idle machine)")
    keys = ["bpc", "train_bpc", "train_s", "val_s", "total_s", "cpu_s", "train_chars", "val_chars", "scored", "vocab"]
    res = {"bench": "lm_vs_torch", "date": now.isoformat(timespec="seconds"), "text": text,
           "text_bytes": os.path.getsize(text),
           "config": {k: getattr(a, k) for k in ["cell", "hidden", "layers", "embed", "seq_len", "batch", "steps",
                                                "lr", "lr_schedule", "lr_min", "clip", "dropout", "seed", "val_fraction", "val_tokens",
                                                "val_every", "threads", "torch_threads", "torch_blas_threads"]},
           "recur": {**{k: r[k] for k in keys}, "tokens_per_s": chars / r["train_s"]},
           "torch": {**{k: t[k] for k in keys}, "tokens_per_s": chars / t["train_s"], "version": t["version"],
                     "final_val": t["final_val"], "blas_threads": t["blas_threads"]},
           "same_data": same, "cross_check_bpc": t["cross_bpc"], "cross_check_ok": cross_ok, "bpc_gap_pct": gap, "speedup_train": sp_train, "speedup_total": sp_total,
           "cpus": os.cpu_count(), "loadavg": load}
    print(json.dumps(res))
    return 0 if same and cross_ok is not False else 2


if __name__ == "__main__":
    sys.exit(main())
