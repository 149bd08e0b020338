"""recur.nn: torch.nn.Module recurrent layers that run on recur's engine, with autograd.

    recur.nn.LSTM / GRU / RNN   torch.nn.LSTM / GRU / RNN's arguments, call, parameter names and
                                state_dict keys (load_state_dict works both ways)
    recur.nn.Recurrent(spec, input_size)   any stack spec (docs/rnn-spec.md)

Inputs are CPU tensors, float32 (or float64 after .double()): padded (T, B, I) or (B, T, I) with
batch_first, a PackedSequence, or a pair (x, lengths). With torch.no_grad() (or when nothing
needs a gradient) the forward takes recur's inference path and keeps nothing for backward.
"""
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from . import _core

__all__ = ["LSTM", "GRU", "RNN", "Recurrent"]


def _array(t):
    """A numpy view of a CPU tensor (a copy only when it is not contiguous)."""
    if t.device.type != "cpu":
        raise ValueError(f"recur.nn runs on the CPU; got a tensor on {t.device}")
    return t.detach().contiguous().numpy()


class _RunStack(torch.autograd.Function):
    """recur's forward and BPTT as one autograd node: inputs x, the flat states (None where not
    given) and every weight; outputs y and the flat final states."""

    @staticmethod
    def forward(ctx, config, lengths, training, seed, n_states, x, *tensors):
        states = [None if s is None else _array(s) for s in tensors[:n_states]]
        weights = [_array(w) for w in tensors[n_states:]]
        y, final, tape = _core.forward(config, weights, _array(x), states, lengths, training, seed, True)
        ctx.tape = tape
        ctx.given = [s is not None for s in states]
        return (torch.from_numpy(y), *[torch.from_numpy(f) for f in final])

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, dy, *dfinal):
        dfinal = [None if d is None else _array(d) for d in dfinal]
        dx, dinit, dweights = _core.backward(ctx.tape, None if dy is None else _array(dy), dfinal)
        dstates = [torch.from_numpy(d) if given else None
                   for d, given in zip(dinit or [None] * len(ctx.given), ctx.given)]
        return (None, None, None, None, None, torch.from_numpy(dx), *dstates,
                *[torch.from_numpy(d) for d in dweights])


class _Recurrent(nn.Module):
    """What LSTM, GRU, RNN and Recurrent share: the parameters under PyTorch's names, the input
    forms, the state's structure, and the call into _RunStack (or the inference path)."""

    def __init__(self, config_args, batch_first, bias=True, dtype=None):
        super().__init__()
        self._config_args = config_args
        self.batch_first = batch_first
        self.bias = bias
        config = self._config
        seed = int(torch.randint(0, 2**62, (1,)).item())  # torch.manual_seed decides the weights
        self._weight_names = []
        self._zero_biases = {}
        for (name, shape), value in zip(config.weight_shapes(), config.initial_weights(seed)):
            self._weight_names.append(name)
            if not bias and name.startswith("bias_"):
                self._zero_biases[name] = tuple(shape)
            else:
                setattr(self, name, nn.Parameter(torch.from_numpy(value).to(dtype or torch.float32)))
        self._has_c = config.segment_has_cell_state()

    @property
    def _config(self):
        # Made again after unpickling: the compiled configuration does not pickle, its arguments do.
        if getattr(self, "_config_cache", None) is None:
            kind, *args = self._config_args
            make = _core._Config.torch if kind == "torch" else _core._Config.from_spec
            self._config_cache = make(*args)
        return self._config_cache

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_config_cache"] = None
        return state

    def flatten_parameters(self):
        """Nothing to do (torch.nn.LSTM's cuDNN weight layout); kept for code that calls it."""

    def _weights(self, dtype):
        out = []
        for name in self._weight_names:
            if name in self._zero_biases:
                out.append(torch.zeros(self._zero_biases[name], dtype=dtype))
            else:
                out.append(getattr(self, name))
        return out

    def forward(self, input, hx=None):
        """input: (T, B, I), (B, T, I) with batch_first, (T, I) unbatched, a PackedSequence, or a
        pair (x, lengths). Returns (output, h_n), or (output, (h_n, c_n)) for an LSTM; output is
        of the input's form (packed for packed, padded with zeros past each length for a pair)."""
        packed = isinstance(input, PackedSequence)
        lengths = None
        if packed:
            x, lengths = pad_packed_sequence(input)
        elif isinstance(input, (tuple, list)):
            x, lengths = input
            if self.batch_first:
                x = x.transpose(0, 1)
        else:
            x = input.transpose(0, 1) if self.batch_first and input.dim() == 3 else input
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(1)
        if x.dim() != 3:
            raise ValueError(f"input must have 2 or 3 dimensions, got {x.dim()}")
        weights = self._weights(self._dtype())
        if x.dtype != weights[0].dtype:
            raise ValueError(f"input is {x.dtype} but the weights are {weights[0].dtype}")
        batch = x.shape[1]
        states = self._flat_state(hx, batch, unbatched)
        lengths = [] if lengths is None else [int(n) for n in lengths]
        training = self.training and self._config.dropout > 0
        seed = int(torch.randint(0, 2**62, (1,)).item()) if training else 0
        needs_grad = torch.is_grad_enabled() and (
            x.requires_grad or any(w.requires_grad for w in weights)
            or any(s is not None and s.requires_grad for s in states))
        if needs_grad:
            y, *final = _RunStack.apply(self._config, lengths, training, seed, len(states), x, *states, *weights)
        else:
            y, final, _ = _core.forward(self._config, [_array(w) for w in weights], _array(x),
                                        [None if s is None else _array(s) for s in states], lengths,
                                        training, seed, False)
            y, final = torch.from_numpy(y), [torch.from_numpy(f) for f in final]
        if unbatched:
            y, final = y.squeeze(1), [f.squeeze(1) for f in final]
        if packed:
            y = self._pack_like(y, input)
        elif self.batch_first and y.dim() == 3:
            y = y.transpose(0, 1)
        return y, self._nested_state(final)

    def _dtype(self):
        for p in self.parameters():
            return p.dtype
        return torch.float32

    def _flat_state(self, hx, batch, unbatched):
        """hx as the flat list recur's core takes: per segment h, then c for an LSTM segment."""
        n = len(self._has_c)
        if hx is None:
            return [None] * (n + sum(self._has_c))
        parts = hx if n > 1 else [hx]
        if len(parts) != n:
            raise ValueError(f"hx: a list of {len(parts)} states for a stack of {n} segments")
        flat = []
        for part, has_c in zip(parts, self._has_c):
            if has_c:
                if not isinstance(part, (tuple, list)) or len(part) != 2:
                    raise ValueError("an LSTM's state is a pair (h_0, c_0)")
                flat.extend(part)
            else:
                flat.append(part)
        return [s.unsqueeze(1) if unbatched and s is not None else s for s in flat]

    def _nested_state(self, flat):
        out, k = [], 0
        for has_c in self._has_c:
            out.append((flat[k], flat[k + 1]) if has_c else flat[k])
            k += 2 if has_c else 1
        return out[0] if len(out) == 1 else out

    @staticmethod
    def _pack_like(y, packed_input):
        """y (T, B, H) in the batch's own order, packed as the input was (same batch sizes and
        sorting, so torch's pad_packed_sequence reads it back in the same order)."""
        order = packed_input.sorted_indices
        sorted_y = y if order is None else y.index_select(1, order)
        lengths = packed_input.batch_sizes.new_tensor(
            [int((packed_input.batch_sizes > b).sum()) for b in range(y.shape[1])])
        data = pack_padded_sequence(sorted_y, lengths, enforce_sorted=True).data
        return PackedSequence(data, packed_input.batch_sizes, packed_input.sorted_indices,
                              packed_input.unsorted_indices)


class _TorchRecurrent(_Recurrent):
    """torch.nn.LSTM / GRU / RNN's constructor and attributes."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        if proj_size:
            raise ValueError("proj_size is not supported by recur.nn (use torch.nn.LSTM for projections)")
        if device is not None and torch.device(device).type != "cpu":
            raise ValueError(f"recur.nn runs on the CPU, not {device}")
        super().__init__(("torch", mode, input_size, hidden_size, num_layers, bidirectional, float(dropout)),
                         batch_first, bias, dtype)
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, 0

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class LSTM(_TorchRecurrent):
    """torch.nn.LSTM on recur's engine: LSTM(input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(_TorchRecurrent):
    """torch.nn.GRU on recur's engine (PyTorch's reset-after candidate)."""

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)


class RNN(_TorchRecurrent):
    """torch.nn.RNN on recur's engine: nonlinearity 'tanh' (default) or 'relu'."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", *args, **kwargs):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers, *args, **kwargs)
        self.nonlinearity = nonlinearity

    def extra_repr(self):
        return super().extra_repr() + (", nonlinearity='relu'" if self.nonlinearity == "relu" else "")


class Recurrent(_Recurrent):
    """Any stack spec (docs/rnn-spec.md) as a torch module: Recurrent('lstm:64,peephole;gru:32', 10).
    The state of a stack of several segments (runs of alike layers) is a list with one h, or
    (h, c), per segment, bottom first."""

    def __init__(self, spec, input_size, batch_first=False, dtype=None):
        super().__init__(("spec", spec, input_size), batch_first, True, dtype)
        self.spec = self._config.spec
        self.input_size = input_size
        self.output_size = self._config.output_size

    def extra_repr(self):
        return f"'{self.spec}', {self.input_size}" + (", batch_first=True" if self.batch_first else "")
