"""recur: recurrent neural networks (RNN, LSTM, GRU and the seeds' variants) in C++.

    recur.LSTM / GRU / RNN / Stack   numpy layers with PyTorch's call semantics and backward()
    recur.nn                         torch.nn.Module versions with autograd (imports torch)
    recur.Stream                     one step at a time, the state kept
    recur.train_lm(...), ...         every command as a function, returning a RunResult
    recur.load(path)                 a trained model as an object (.sample(), .predict(), ...)
    recur.save_state_dict(sd, path)  a torch state_dict (or dict of arrays) as safetensors
"""
from . import _core
from ._core import Error, Stream, __version__, read_safetensors, write_safetensors
from ._commands import RunResult, run, save_state_dict
from ._commands import __all_commands__ as _command_names
from ._models import Classifier, LanguageModel, Model, Tagger, Translator, load
from ._layers import GRU, LSTM, RNN, Stack

globals().update(_command_names)
del _command_names


def __getattr__(name):
    # recur.nn needs torch; it is imported when first asked for, not with recur.
    if name == "nn":
        import importlib

        return importlib.import_module(".nn", __name__)
    raise AttributeError(f"module 'recur' has no attribute '{name}'")
