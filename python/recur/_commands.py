"""Every command of the `recur` tool as a Python function, run in-process:

    result = recur.train_lm(text="kjv.txt", out="m.safetensors", rnn="lstm:256", steps=200)
    result.metrics["loss"], result.model, result.load().sample(length=100)

Keyword arguments are the command's options (name_x=v is --name-x v, True a flag, False and None
left out, a list several values); positional arguments are its TEXT arguments. What the command
prints goes through sys.stdout and sys.stderr, so a notebook or a captured test sees it."""
import json
import os
import sys
import threading
from dataclasses import dataclass, field

from . import _core

# Every command but `serve` (a server that runs until it is stopped: run it from a shell).
COMMANDS = [
    "train-lm", "sample", "eval-lm", "ngram", "data", "train-classifier", "eval-classifier", "classify",
    "train-tagger", "eval-tagger", "tag", "train-clm", "sample-clm", "train-forecaster", "forecast",
    "train-seq2seq", "eval-seq2seq", "translate", "train-tree", "esn", "run-esn", "rtrl", "bench-tasks",
    "jordan", "run-onnx", "export-onnx", "run-rnn", "bench-rnn", "diagnose", "plot",
]


@dataclass
class RunResult:
    """What a command did: what it printed, the model it wrote (the `out` option) and, for a
    trainer, its final metrics (the metrics file's last record of each kind: metrics["train"],
    metrics["val"], ...) and the files it wrote beside the model (metrics, plot, checkpoint)."""

    command: str
    output: str
    model: str = None
    metrics: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)

    def load(self):
        """The model the command wrote, as an object (recur.load)."""
        if self.model is None:
            raise ValueError(f"`recur {self.command}` wrote no model")
        from ._models import load

        return load(self.model)


class _Forwarded:
    """While a command runs, file descriptors 1 and 2 (where the C++ code prints) go into pipes,
    and threads copy what arrives to sys.stdout and sys.stderr (echo) and keep stdout's text. One
    command at a time: the descriptors are the process's."""

    def __init__(self, echo):
        self.echo = echo
        self.kept = []

    def __enter__(self):
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        self.saved = [os.dup(1), os.dup(2)]
        self.threads = []
        for fd, stream, keep in ((1, sys.stdout, True), (2, sys.stderr, False)):
            read_end, write_end = os.pipe()
            os.dup2(write_end, fd)
            os.close(write_end)
            thread = threading.Thread(target=self._copy, args=(read_end, stream, keep), daemon=True)
            thread.start()
            self.threads.append(thread)
        _core.line_buffered_stdout()
        return self

    def _copy(self, read_end, stream, keep):
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                text = chunk.decode("utf-8", errors="replace")
                if keep:
                    self.kept.append(text)
                if self.echo or not keep:
                    stream.write(text)
                    stream.flush()

    def __exit__(self, *exc):
        for fd, saved in zip((1, 2), self.saved):
            os.dup2(saved, fd)  # the pipes' last write ends close: the threads see their end
            os.close(saved)
        for thread in self.threads:
            thread.join()

    @property
    def text(self):
        return "".join(self.kept)


def _argv(command, positional, options):
    args = [command]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args += [flag, *[str(v) for v in value]]
        else:
            args += [flag, str(value)]
    if positional:
        args += ["--", *[str(p) for p in positional]]
    return args


def _final_records(path):
    """The metrics file's last record of each kind ("train", "val", ...), by kind."""
    records = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    records[record.get("kind", "")] = record
    except OSError:
        pass
    return records


def run(args, echo=True):
    """Runs the recur command line in-process (args without the program name, e.g.
    ['train-lm', '--text', 'a.txt', '--out', 'm.safetensors']); returns what it printed on stdout
    (also written to sys.stdout when echo) and raises recur.Error on failure."""
    with _Forwarded(echo) as forwarded:
        _core.run([str(a) for a in args])
    return forwarded.text


def run_command(command, *positional, _echo=True, **options):
    output = run(_argv(command, positional, options), echo=_echo)
    out = options.get("out")
    result = RunResult(command, output, model=str(out) if out else None)
    if out and command.startswith("train-"):
        files = _core.run_files(str(out))
        result.files = {k: v for k, v in files.items() if os.path.exists(v)}
        result.metrics = _final_records(files["metrics"])
    return result


def _command_function(command):
    def function(*positional, **options):
        return run_command(command, *positional, **options)

    function.__name__ = command.replace("-", "_")
    function.__doc__ = (f"Runs `recur {command}` with the keyword arguments as its options (see `recur {command} "
                        "--help`); returns a RunResult.")
    return function


__all_commands__ = {c.replace("-", "_"): _command_function(c) for c in COMMANDS}


def save_state_dict(state, path, metadata=None):
    """Writes a torch state_dict, a torch module's parameters or a dict of arrays to a safetensors
    file (float32), atomically; no third-party package needed."""
    if hasattr(state, "state_dict"):
        state = state.state_dict()
    arrays = {}
    for name, value in state.items():
        if hasattr(value, "detach"):
            value = value.detach().cpu().float().numpy()
        arrays[str(name)] = value
    _core.write_safetensors(str(path), arrays, {str(k): str(v) for k, v in (metadata or {}).items()})
