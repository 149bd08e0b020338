"""recur.load(path): a model file as an object of its task (the `task` key of its metadata), whose
methods run the matching command in-process and return what it printed, parsed:

    LanguageModel   .sample(length, prime, temperature, top_k, seed) -> str, .score(text) -> dict
    Classifier      .predict(texts or an (N, T, F) array, top, lengths) -> [[(label, probability), ...], ...]
    Tagger          .tag(texts) -> [str]
    Translator      .translate(texts, beam) -> [str]
    Model           any other file: .tensors, .metadata
"""
import os
import re
import tempfile

from . import _core
from ._commands import run_command


class Model:
    """A model file: its path, metadata and (read when first asked for) tensors."""

    def __init__(self, path, metadata):
        self.path = str(path)
        self.metadata = metadata
        self._tensors = None

    @property
    def task(self):
        return self.metadata.get("task", "")

    @property
    def tensors(self):
        if self._tensors is None:
            self._tensors = _core.read_safetensors(self.path)[0]
        return self._tensors

    def _run(self, command, *texts, **options):
        return run_command(command, *texts, _echo=False, model=self.path, **options).output

    def __repr__(self):
        return f"recur.{type(self).__name__}({self.path!r}, task={self.task!r})"


class LanguageModel(Model):
    """A model written by train-lm."""

    def sample(self, length=300, prime="", temperature=1.0, top_k=0, seed=1):
        """Generated text (starting with `prime`)."""
        return self._run("sample", length=length, prime=prime or None, temperature=temperature, top_k=top_k,
                         seed=seed)

    def score(self, text, seq_len=100):
        """{'bits': bits per token, 'perplexity': ..., 'tokens': ...} of the text (a string)."""
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
            f.write(text)
        try:
            out = self._run("eval-lm", text=f.name, seq_len=seq_len)
        finally:
            os.remove(f.name)
        m = re.search(r": ([0-9.]+) bits/\w+, perplexity ([0-9.]+), (\d+)", out)
        if not m:
            raise _core.Error(f"eval-lm printed no score: {out!r}")
        return {"bits": float(m[1]), "perplexity": float(m[2]), "tokens": int(m[3])}


class Classifier(Model):
    """A model written by train-classifier."""

    def predict(self, texts, top=1, lengths=None):
        """Per text, its `top` classes as (label, probability), most likely first. A model trained
        on arrays (--arrays) takes an (N, T, F) array instead, with optional (N,) lengths."""
        single = isinstance(texts, str)
        if single or isinstance(texts, (list, tuple)):
            out = self._run("classify", *([texts] if single else texts), top=top)
        else:
            out = self._predict_arrays(texts, lengths, top)
        rows = []
        for line in out.splitlines():
            fields = line.split()
            rows.append([(fields[k], float(fields[k + 1])) for k in range(0, len(fields) - 1, 2)])
        return rows[0] if single else rows

    def _predict_arrays(self, x, lengths, top):
        import numpy as np

        with tempfile.TemporaryDirectory() as d:
            np.save(os.path.join(d, "x.npy"), np.asarray(x, dtype=np.float32))
            options = {"input": os.path.join(d, "x.npy"), "top": top}
            if lengths is not None:
                np.save(os.path.join(d, "lengths.npy"), np.asarray(lengths, dtype=np.int64))
                options["lengths"] = os.path.join(d, "lengths.npy")
            return self._run("classify", **options)


class Tagger(Model):
    """A model written by train-tagger (punctuation and capitals restored)."""

    def tag(self, texts):
        single = isinstance(texts, str)
        lines = self._run("tag", *([texts] if single else texts)).splitlines()
        return lines[0] if single else lines


class Translator(Model):
    """A model written by train-seq2seq."""

    def translate(self, texts, beam=5):
        single = isinstance(texts, str)
        lines = self._run("translate", *([texts] if single else texts), beam=beam).splitlines()
        return lines[0] if single else lines


_BY_TASK = {"lm": LanguageModel, "classify": Classifier, "tag": Tagger, "seq2seq": Translator}


def load(path):
    """The model at `path` as an object of its task (LanguageModel, Classifier, Tagger, Translator,
    or Model for any other file)."""
    _, metadata = _core.read_safetensors(str(path))
    return _BY_TASK.get(metadata.get("task"), Model)(path, metadata)
