"""The numpy layers: recur.LSTM, GRU, RNN and Stack, each a recur._core._Layer (its own weights
and gradients, PyTorch's call semantics, backward(dy) for every gradient)."""
from . import _core


class _NumpyLayer(_core._Layer):
    def __call__(self, input, hx=None, lengths=None):
        if hasattr(input, "detach"):
            raise TypeError(f"recur.{type(self).__name__} takes numpy arrays; for torch tensors (with autograd) "
                            f"use recur.nn.{'Recurrent' if type(self).__name__ == 'Stack' else type(self).__name__}")
        return super().__call__(input, hx, lengths)


class _TorchArgs(_NumpyLayer):
    """torch.nn.LSTM's and GRU's constructor arguments (the subclass names its mode)."""

    mode = None

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, seed=1):
        config = _core._Config.torch(self.mode, input_size, hidden_size, num_layers, bidirectional, dropout)
        super().__init__(config, batch_first, seed, bias)


class LSTM(_TorchArgs):
    """LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, seed=1): numpy in and out, PyTorch's semantics and parameter names."""

    mode = "LSTM"


class GRU(_TorchArgs):
    """GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, seed=1): numpy in and out, PyTorch's semantics and parameter names."""

    mode = "GRU"


class RNN(_NumpyLayer):
    """RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, seed=1): numpy in and out, PyTorch's semantics."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, seed=1):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        config = _core._Config.torch("RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers,
                                     bidirectional, dropout)
        super().__init__(config, batch_first, seed, bias)


class Stack(_NumpyLayer):
    """Stack(spec, input_size, batch_first=False, seed=1): any stack spec (docs/rnn-spec.md), e.g.
    Stack('lstm:64,peephole;gru:32', 10). Called and differentiated as LSTM; the state of a stack
    of several segments (runs of alike layers) is a list with one h, or (h, c), per segment."""

    def __init__(self, spec, input_size, batch_first=False, seed=1):
        super().__init__(_core._Config.from_spec(spec, input_size), batch_first, seed, True)
