"""recur.nn: torch modules on recur's engine. Outputs and every gradient equal torch.nn.LSTM/GRU/RNN's
on randomly drawn configurations (layers, directions, batch_first, padded/packed/(x, lengths)
inputs, initial states); torch.autograd.gradcheck passes in float64; and the modules behave as
torch modules (nn.Sequential, optimizers, torch.save, train/eval, no_grad, load_state_dict both
ways). Run by ctest with PYTHONPATH=build/python."""
import io
import random

import pytest
import torch
from torch.nn.utils import stateless
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import recur
import recur.nn as rnn

torch.set_num_threads(1)
TOL = dict(atol=1e-5, rtol=1e-5)


def pair(kind, *args, **kw):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(*args, **kw)
    ours = getattr(rnn, kind)(*args, **kw)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def state_tensors(state):
    return list(state) if isinstance(state, tuple) else [state]


def draw_config(rng):
    kind = rng.choice(["LSTM", "GRU", "RNN"])
    kw = dict(num_layers=rng.choice([1, 2, 3]), bidirectional=rng.random() < 0.5,
              batch_first=rng.random() < 0.5, bias=rng.random() < 0.8)
    if kind == "RNN":
        kw["nonlinearity"] = rng.choice(["tanh", "relu"])
    return kind, kw


@pytest.mark.parametrize("draw", range(24))
def test_random_configurations_equal_torch(draw):
    rng = random.Random(draw)
    kind, kw = draw_config(rng)
    I, H, T, B = rng.randint(1, 9), rng.randint(1, 9), rng.randint(1, 7), rng.randint(1, 5)
    ours, theirs = pair(kind, I, H, **kw)
    form = rng.choice(["padded", "packed", "lengths"])
    with_state = rng.random() < 0.5
    torch.manual_seed(draw)
    x = torch.randn((B, T, I) if kw["batch_first"] else (T, B, I), requires_grad=True)
    lengths = torch.tensor([T] + [rng.randint(1, T) for _ in range(B - 1)])
    LD = kw["num_layers"] * (2 if kw["bidirectional"] else 1)
    h0 = [torch.randn(LD, B, H, requires_grad=True) for _ in range(2 if kind == "LSTM" else 1)]
    hx = (tuple(h0) if kind == "LSTM" else h0[0]) if with_state else None

    def run(module):
        if form == "packed":
            packed = pack_padded_sequence(x, lengths, batch_first=kw["batch_first"], enforce_sorted=False)
            y, state = module(packed, hx)
            y = pad_packed_sequence(y, batch_first=kw["batch_first"], total_length=T)[0]
        elif form == "lengths" and module is ours:
            y, state = module((x, lengths), hx)
        elif form == "lengths":  # torch's equivalent: packed in, padded with zeros out
            packed = pack_padded_sequence(x, lengths, batch_first=kw["batch_first"], enforce_sorted=False)
            y, state = module(packed, hx)
            y = pad_packed_sequence(y, batch_first=kw["batch_first"], total_length=T)[0]
        else:
            y, state = module(x, hx)
        weights = torch.randn(y.shape, generator=torch.Generator().manual_seed(1))
        loss = (y * weights).sum() + sum((s * (k + 2)).sum() for k, s in enumerate(state_tensors(state)))
        params = list(module.parameters())
        leaves = [x] + (h0 if with_state else [])
        grads = torch.autograd.grad(loss, leaves + params)
        return y, state_tensors(state), grads

    y1, s1, g1 = run(ours)
    y2, s2, g2 = run(theirs)
    torch.testing.assert_close(y1, y2, **TOL)
    for a, b in zip(s1, s2):
        torch.testing.assert_close(a, b, **TOL)
    assert len(g1) == len(g2)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("make", [
    lambda: rnn.LSTM(3, 4, num_layers=2, bidirectional=True),
    lambda: rnn.GRU(3, 4, num_layers=2),
    lambda: rnn.RNN(3, 4, nonlinearity="relu", bidirectional=True),
    lambda: rnn.Recurrent("lstm:4,peephole;gru:3,reset_before,bi=sum;rnn_tanh:2,leak=0.5,learn_leak", 3),
    lambda: rnn.Recurrent("clockwork:4,periods=1/2;skip:3,delay=2", 3),
])
def test_gradcheck_in_float64(make):
    torch.manual_seed(1)
    module = make().double()
    x = torch.randn(5, 2, 3, dtype=torch.float64, requires_grad=True)
    names = [n for n, _ in module.named_parameters()]

    def f(x, *weights):
        y, state = stateless.functional_call(module, dict(zip(names, weights)), (x,))
        flat = [t for s in (state if isinstance(state, list) else [state]) for t in state_tensors(s)]
        return (y, *flat)

    weights = [p.detach().clone().requires_grad_(True) for p in module.parameters()]
    assert torch.autograd.gradcheck(f, (x, *weights), eps=1e-6, atol=1e-6)


def test_gradcheck_reaches_the_initial_state_in_float64():
    module = rnn.LSTM(2, 3, num_layers=2).double()
    x = torch.randn(4, 2, 2, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 2, 3, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(2, 2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, h, c: module(x, (h, c))[0], (x, h0, c0))
    assert torch.autograd.gradcheck(lambda x, h, c: module(x, (h, c))[1][1], (x, h0, c0))


def test_a_spec_equals_torch_modules_in_a_row():
    torch.manual_seed(2)
    ours = rnn.Recurrent("lstm:5,bi;gru:4", 3)
    mods = [torch.nn.LSTM(3, 5, bidirectional=True), torch.nn.GRU(10, 4)]
    ours.load_state_dict({k.replace("_l0", f"_l{i}"): v for i, m in enumerate(mods) for k, v in m.state_dict().items()})
    x = torch.randn(6, 2, 3)
    y, state = ours(x)
    yt, s0 = mods[0](x)
    yt, s1 = mods[1](yt)
    torch.testing.assert_close(y, yt, **TOL)
    assert len(state) == 2
    torch.testing.assert_close(state[0][1], s0[1], **TOL)
    torch.testing.assert_close(state[1], s1, **TOL)


def test_state_dicts_load_both_ways_and_the_modules_pickle():
    ours, theirs = pair("LSTM", 4, 6, num_layers=2)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    other = torch.nn.LSTM(4, 6, num_layers=2)
    other.load_state_dict(ours.state_dict())
    buffer = io.BytesIO()
    torch.save(ours, buffer)
    buffer.seek(0)
    again = torch.load(buffer, weights_only=False)
    x = torch.randn(3, 2, 4)
    torch.testing.assert_close(again(x)[0], other(x)[0], **TOL)
    assert not rnn.GRU(2, 3, bias=False).state_dict().keys() & {"bias_ih_l0", "bias_hh_l0"}


def test_trains_inside_torch_code():
    """nn.Sequential-style model, a torch optimizer, the loss goes down; the same steps with
    torch.nn.LSTM give the same losses."""
    losses = {}
    for lib in (torch.nn, rnn):
        torch.manual_seed(3)
        lstm = lib.LSTM(4, 8, batch_first=True)
        if lib is rnn:
            lstm.load_state_dict(reference_state)
        else:
            reference_state = {k: v.clone() for k, v in lstm.state_dict().items()}
        torch.manual_seed(4)  # the same head and data for both
        head = torch.nn.Linear(8, 1)
        opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.05)
        x = torch.randn(16, 5, 4)
        target = x.sum(dim=(1, 2)).unsqueeze(1)
        curve = []
        for _ in range(30):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(head(lstm(x)[0][:, -1]), target)
            loss.backward()
            opt.step()
            curve.append(loss.item())
        losses[lib] = curve
    assert losses[rnn][-1] < 0.5 * losses[rnn][0]
    torch.testing.assert_close(torch.tensor(losses[rnn]), torch.tensor(losses[torch.nn]), rtol=1e-3, atol=1e-4)
    seq = torch.nn.Sequential(rnn.GRU(4, 3))
    assert isinstance(seq[0], torch.nn.Module) and isinstance(seq[0], rnn.GRU)


def test_dropout_in_train_mode_only_and_no_grad_takes_the_inference_path():
    module = rnn.LSTM(4, 8, num_layers=2, dropout=0.5)
    x = torch.randn(5, 3, 4)
    module.eval()
    a, b = module(x)[0], module(x)[0]
    torch.testing.assert_close(a, b)
    module.train()
    torch.manual_seed(4)
    c = module(x)[0]
    torch.manual_seed(4)
    d = module(x)[0]
    torch.testing.assert_close(c, d)  # torch's seed decides the masks
    assert (c - a).abs().max() > 1e-3
    module.eval()
    with torch.no_grad():
        y = module(x)[0]
    assert not y.requires_grad
    torch.testing.assert_close(y, a, atol=1e-6, rtol=1e-5)


def test_unbatched_input_and_clear_errors():
    ours, theirs = pair("GRU", 3, 4)
    x = torch.randn(5, 3)
    torch.testing.assert_close(ours(x)[0], theirs(x)[0], **TOL)
    with pytest.raises(ValueError, match="proj_size"):
        rnn.LSTM(3, 4, proj_size=2)
    with pytest.raises(recur.Error, match="input has 5 features"):
        ours(torch.randn(2, 1, 5))
    with pytest.raises(ValueError, match="float64"):
        ours(torch.randn(2, 1, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="pair"):
        rnn.LSTM(3, 4)(torch.randn(2, 1, 3), torch.zeros(1, 1, 4))
