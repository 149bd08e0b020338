"""The Python module: layers equal PyTorch's on the same weights in outputs and in every gradient
(LSTM, GRU, RNN; stacked, bidirectional, batch-first, initial states), streaming equals the whole
sequence, safetensors round trip, the trainers as functions, and clear errors on bad input.
Run by ctest with PYTHONPATH=build/python."""
import json
import os

import numpy as np
import pytest
import torch

import recur

SOURCE = os.environ.get("RECUR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
torch.set_num_threads(1)


def layer_pair(kind, **kw):
    ours = getattr(recur, kind)(5, 7, **kw)
    theirs = getattr(torch.nn, kind)(5, 7, **kw)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("options", [dict(), dict(num_layers=2, bidirectional=True), dict(batch_first=True)])
def test_forward_and_gradients_equal_pytorch(kind, options):
    ours, theirs = layer_pair(kind, **options)
    rng = np.random.default_rng(3)
    T, B = 6, 3
    D = 2 if options.get("bidirectional") else 1
    L = options.get("num_layers", 1)
    shape = (B, T, 5) if options.get("batch_first") else (T, B, 5)
    x = rng.uniform(-1, 1, shape).astype(np.float32)
    h0 = rng.uniform(-1, 1, (L * D, B, 7)).astype(np.float32)
    c0 = rng.uniform(-1, 1, (L * D, B, 7)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0, requires_grad=True)
    c0t = torch.tensor(c0, requires_grad=True)
    lstm = kind == "LSTM"
    y, state = ours(x, (h0, c0) if lstm else h0)
    yt, statet = theirs(xt, (h0t, c0t) if lstm else h0t)
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-5)
    hn, hnt = (state[0], statet[0]) if lstm else (state, statet)
    np.testing.assert_allclose(hn, hnt.detach().numpy(), atol=1e-5)

    dy = rng.uniform(-1, 1, y.shape).astype(np.float32)
    dhn = rng.uniform(-1, 1, hn.shape).astype(np.float32)
    loss = (yt * torch.tensor(dy)).sum() + (hnt * torch.tensor(dhn)).sum()
    loss.backward()
    dx, dstate = ours.backward(dy, (dhn, None) if lstm else dhn)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(dstate[0] if lstm else dstate, h0t.grad.numpy(), atol=1e-5)
    if lstm:
        np.testing.assert_allclose(dstate[1], c0t.grad.numpy(), atol=1e-5)
    grads = ours.grads()
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), atol=1e-5, err_msg=name)
    # Gradients accumulate until zero_grad, as PyTorch's do.
    ours(x, (h0, c0) if lstm else h0)
    ours.backward(dy, (dhn, None) if lstm else dhn)
    np.testing.assert_allclose(ours.grads()["weight_hh_l0"], 2 * grads["weight_hh_l0"], rtol=1e-5, atol=1e-6)
    ours.zero_grad()
    assert not ours.grads()["weight_hh_l0"].any()


def test_layers_are_classes_and_train_returns_the_layer():
    gru = recur.GRU(3, 4)
    assert isinstance(gru, recur.GRU) and gru.train() is gru and gru.training
    assert gru.eval() is gru and not gru.training
    with pytest.raises(TypeError, match="recur.nn.GRU"):
        gru(torch.zeros(2, 1, 3, requires_grad=True))


def test_repr_names_the_layer():
    assert repr(recur.GRU(3, 4, num_layers=2, bidirectional=True)) == "recur.GRU(3, 4, num_layers=2, bidirectional=True)"


def test_lengths_give_zero_outputs_past_each_sequence():
    lstm = recur.LSTM(4, 3)
    x = np.ones((5, 2, 4), np.float32)
    y, (hn, cn) = lstm(x, lengths=[5, 2])
    assert np.all(y[2:, 1] == 0) and np.any(y[:2, 1] != 0)
    np.testing.assert_allclose(hn[0, 1], y[1, 1], atol=1e-7)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_stream_equals_whole_sequence(precision):
    gru = recur.GRU(4, 6, num_layers=2)
    gru.precision = precision
    x = np.random.default_rng(1).uniform(-1, 1, (7, 2, 4)).astype(np.float32)
    y, hn = gru(x)
    stream = recur.Stream(gru, batch=2, precision=precision)
    for t in range(7):
        np.testing.assert_allclose(stream.step(x[t]), y[t], atol=1e-4 if precision == "bf16" else 1e-5)
    np.testing.assert_allclose(stream.state, hn, atol=1e-4 if precision == "bf16" else 1e-5)
    stream.reset()
    assert not stream.state.any()


def test_bf16_is_close_to_fp32_and_not_equal():
    lstm = recur.LSTM(8, 16)
    x = np.random.default_rng(2).uniform(-1, 1, (9, 4, 8)).astype(np.float32)
    y32, _ = lstm(x)
    lstm.precision = "bf16"
    y16, _ = lstm(x)
    assert 0 < np.abs(y16 - y32).max() < 0.03


def test_save_and_load_round_trip(tmp_path):
    lstm = recur.LSTM(3, 4, num_layers=2)
    path = str(tmp_path / "lstm.safetensors")
    recur.write_safetensors(path, lstm.state_dict(), {"note": "from python"})
    tensors, meta = recur.read_safetensors(path)
    assert meta["note"] == "from python"
    other = recur.LSTM(3, 4, num_layers=2, seed=99)
    other.load_state_dict(tensors)
    x = np.ones((2, 1, 3), np.float32)
    np.testing.assert_array_equal(other(x)[0], lstm(x)[0])


def test_trainers_as_functions(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("the quick brown fox jumps over the lazy dog\n" * 200)
    out = str(tmp_path / "lm.safetensors")
    recur.train_lm(text=str(text), out=out, hidden=16, embed=8, seq_len=16, batch=4, steps=15,
                   threads=1, sample_length=0, precision="bf16")
    assert os.path.exists(out) and os.path.exists(str(tmp_path / "lm.metrics.jsonl"))
    tensors, meta = recur.read_safetensors(out)
    assert meta["task"] == "lm" and "rnn.weight_hh_l0" in tensors
    with pytest.raises(recur.Error, match="missing.txt"):
        recur.train_lm(text=str(tmp_path / "missing.txt"), out=out, steps=1)
    with pytest.raises(recur.Error, match="precision"):
        recur.run(["train-lm", "--text", str(text), "--out", out, "--precision", "fp8"])
    # Positional arguments are the command's TEXT arguments (here the text diagnose reads).
    diag = str(tmp_path / "diag.json")
    recur.diagnose("the quick brown fox", model=out, out=diag, jacobian_every=4, threads=1)
    with open(diag) as f:
        assert json.load(f)["steps"] == len("the quick brown fox") - 1
    # A usage error names the closest option, and nothing is trained.
    os.remove(out)
    with pytest.raises(recur.Error, match="did you mean --hidden"):
        recur.train_lm(text=str(text), out=out, hiden=16, steps=1)
    with pytest.raises(recur.Error, match="--temperature: must be > 0, got -1"):
        recur.train_lm(text=str(text), out=out, steps=1, temperature=-1)
    assert not os.path.exists(out)


def test_trainers_take_the_stack_spec(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text("the quick brown fox jumps over the lazy dog\n" * 200)
    out = str(tmp_path / "gru.safetensors")
    recur.train_lm(text=str(text), out=out, rnn="gru:12,reset_before;gru:12,reset_before", embed=8,
                   seq_len=16, batch=4, steps=5, threads=1, sample_length=0)
    tensors, meta = recur.read_safetensors(out)
    assert meta["rnn_spec"] == "gru:12,reset_before;gru:12,reset_before"
    assert meta["gru_convention"] == "reset_before" and "rnn.weight_hh_l1" in tensors
    # The spec is read before any work, and its errors name the layer and the option.
    os.remove(out)
    with pytest.raises(recur.Error, match="layer 2 .*'peephole' is for lstm"):
        recur.train_lm(text=str(text), out=out, rnn="gru:12;gru:12,peephole", steps=1)
    with pytest.raises(recur.Error, match="excluded by|excludes|--rnn"):
        recur.train_lm(text=str(text), out=out, rnn="gru:12", hidden=16, steps=1)
    assert not os.path.exists(out)


def test_bad_input_is_a_clear_error():
    lstm = recur.LSTM(3, 4)
    with pytest.raises(recur.Error, match="3 dimensions"):
        lstm(np.ones((2, 3), np.float32))
    with pytest.raises(recur.Error, match="input has 5 features"):
        lstm(np.ones((2, 1, 5), np.float32))
    bad = np.ones((2, 1, 3), np.float32)
    bad[1, 0, 2] = np.nan
    with pytest.raises(recur.Error, match="input"):
        lstm(bad)
    with pytest.raises(recur.Error, match="weight_hh_l0"):
        lstm.load_state_dict({**lstm.state_dict(), "weight_hh_l0": np.ones((3, 3), np.float32)})
    with pytest.raises(recur.Error, match="backward needs a forward"):
        recur.GRU(2, 2).backward(np.ones((1, 1, 2), np.float32))
    with pytest.raises(recur.Error, match="bidirectional"):
        recur.Stream(recur.LSTM(2, 2, bidirectional=True))


def test_a_mixed_stack_equals_pytorch_modules_in_a_row():
    """recur.Stack('lstm:7,bi;gru:4;rnn_tanh:6') is nn.LSTM(bidirectional) -> nn.GRU -> nn.RNN: the
    same outputs, final states and gradients on the same weights, the layers counted through the
    stack (the GRU's weights are weight_ih_l1, ...)."""
    ours = recur.Stack("lstm:7,bi;gru:4;rnn_tanh:6", 5)
    mods = [torch.nn.LSTM(5, 7, bidirectional=True), torch.nn.GRU(14, 4), torch.nn.RNN(4, 6)]
    weights = {}
    for layer, mod in enumerate(mods):
        for k, v in mod.state_dict().items():
            weights[k.replace("_l0", "_l%d" % layer)] = v.detach().numpy()
    ours.load_state_dict(weights)
    rng = np.random.default_rng(5)
    T, B = 6, 3
    x = rng.uniform(-1, 1, (T, B, 5)).astype(np.float32)
    h0 = [(rng.uniform(-1, 1, (2, B, 7)).astype(np.float32), rng.uniform(-1, 1, (2, B, 7)).astype(np.float32)),
          rng.uniform(-1, 1, (1, B, 4)).astype(np.float32), rng.uniform(-1, 1, (1, B, 6)).astype(np.float32)]
    xt = torch.tensor(x, requires_grad=True)
    h0t = [(torch.tensor(h0[0][0], requires_grad=True), torch.tensor(h0[0][1], requires_grad=True)),
           torch.tensor(h0[1], requires_grad=True), torch.tensor(h0[2], requires_grad=True)]
    y, state = ours(x, h0)
    yt, s0 = mods[0](xt, h0t[0])
    yt, s1 = mods[1](yt, h0t[1])
    yt, s2 = mods[2](yt, h0t[2])
    np.testing.assert_allclose(y, yt.detach().numpy(), atol=1e-5)
    assert len(state) == 3
    np.testing.assert_allclose(state[0][1], s0[1].detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(state[1], s1.detach().numpy(), atol=1e-5)
    dy = rng.uniform(-1, 1, y.shape).astype(np.float32)
    dh1 = rng.uniform(-1, 1, state[1].shape).astype(np.float32)
    loss = (yt * torch.tensor(dy)).sum() + (s1 * torch.tensor(dh1)).sum()
    loss.backward()
    zeros = [(None, np.zeros_like(state[0][1])), dh1, np.zeros_like(state[2])]
    dx, dstate = ours.backward(dy, zeros)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(dstate[0][1], h0t[0][1].grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(dstate[1], h0t[1].grad.numpy(), atol=1e-5)
    grads = ours.grads()
    for layer, mod in enumerate(mods):
        for name, p in mod.named_parameters():
            np.testing.assert_allclose(grads[name.replace("_l0", "_l%d" % layer)], p.grad.numpy(), atol=1e-5,
                                       err_msg=name)
    assert repr(ours) == "recur.Stack('lstm:7,bi;gru:4;rnn_tanh:6', 5)"


def test_a_stack_takes_the_layers_with_their_own_time_loop():
    layer = recur.Stack("gru:6;clockwork:8,periods=1/2;skip:4,delay=2", 3)
    x = np.random.default_rng(1).uniform(-1, 1, (7, 2, 3)).astype(np.float32)
    y, state = layer(x, lengths=[7, 4])
    assert y.shape == (7, 2, 4) and len(state) == 3
    assert np.all(y[4:, 1] == 0) and np.any(y[:4, 1] != 0)
    dx, _ = layer.backward(np.ones_like(y))
    assert dx.shape == x.shape and np.all(np.isfinite(dx))
    assert "weight_skip_l2" in layer.state_dict()
    with pytest.raises(recur.Error, match="option 'bi' is not for a clockwork layer"):
        recur.Stack("clockwork:8,bi", 3)
