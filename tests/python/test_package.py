"""The package as a Python user meets it: `pip install .` into a fresh venv, the trainers as functions
that return results and print through sys.stdout, recur.load's model objects, save_state_dict and
the CLI's word on a torch.save file, and one version everywhere. Run by ctest with
PYTHONPATH=build/python."""
import os
import subprocess
import sys

import pytest
import torch

import recur
import recur.nn as rnn

SOURCE = os.environ.get("RECUR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.path.join(os.path.dirname(recur.__file__), "..", "..", "recur")
TEXT = "in the beginning god created the heaven and the earth. and the earth was without form.\n" * 40


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    d = tmp_path_factory.mktemp("lm")
    (d / "text.txt").write_text(TEXT)
    out = str(d / "lm.safetensors")
    result = recur.train_lm(text=str(d / "text.txt"), out=out, hidden=16, embed=8, seq_len=16, batch=4, steps=12,
                            threads=1, sample_length=0, log_every=4)
    return result


def test_pip_install_into_a_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-index", SOURCE], env=env, cwd=tmp_path,
                         capture_output=True, text=True)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    check = ("import recur, recur.nn, torch, numpy as np; m = recur.nn.LSTM(3, 4); "
             "print(recur.__version__, recur.__file__, m(torch.zeros(2, 1, 3))[0].shape)")
    out = subprocess.run([str(venv / "bin" / "python"), "-c", check], env=env, cwd=tmp_path, capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    version, path, shape = out.stdout.split(" ", 2)
    assert version == recur.__version__
    assert path.startswith(str(venv)), path
    assert shape.strip() == "torch.Size([2, 1, 4])"


def test_a_trainer_returns_its_result_and_prints_through_sys_stdout(lm, capsys, tmp_path):
    assert lm.model.endswith("lm.safetensors") and os.path.exists(lm.model)
    assert lm.metrics["train"]["step"] == 12 and lm.metrics["train"]["loss_nats"] > 0
    assert set(lm.files) >= {"metrics", "plot"}
    assert "trained 12 steps" in lm.output
    (tmp_path / "t.txt").write_text(TEXT)
    recur.eval_lm(model=lm.model, text=str(tmp_path / "t.txt"), threads=1)
    assert "bits/char" in capsys.readouterr().out


def test_load_gives_the_model_as_an_object(lm):
    model = lm.load()
    assert isinstance(model, recur.LanguageModel) and model.task == "lm"
    text = model.sample(length=30, prime="the ", seed=2)
    assert text.startswith("the ") and len(text) >= 30
    score = model.score(TEXT[:400])
    assert 0 < score["bits"] < 8 and score["tokens"] > 300
    assert "rnn.weight_hh_l0" in model.tensors
    assert model.metadata["format_version"] == recur.__version__


def test_save_state_dict_and_the_cli_names_a_torch_save_file(tmp_path):
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 5)
    recur.save_state_dict(lstm, tmp_path / "w.safetensors")
    ours = rnn.LSTM(3, 5)
    tensors, _ = recur.read_safetensors(str(tmp_path / "w.safetensors"))
    ours.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    x = torch.randn(4, 2, 3)
    torch.testing.assert_close(ours(x)[0], lstm(x)[0], atol=1e-5, rtol=1e-5)
    torch.save(lstm.state_dict(), tmp_path / "w.pt")
    with pytest.raises(recur.Error, match=r"torch.save file .*recur.save_state_dict"):
        recur.read_safetensors(str(tmp_path / "w.pt"))


def test_one_version_everywhere(lm, tmp_path):
    cli = subprocess.run([BINARY, "--version"], capture_output=True, text=True)
    assert cli.stdout.strip() == f"recur {recur.__version__}"
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        assert f"project(recur VERSION {recur.__version__} " in f.read()
    onnx = pytest.importorskip("onnx")
    out = tmp_path / "m.onnx"
    recur.export_onnx(model=lm.model, out=str(out))
    assert onnx.load(str(out)).producer_version == recur.__version__


def test_a_classifier_on_arrays_from_numpy(tmp_path):
    import numpy as np

    rng = np.random.default_rng(3)
    for split, n in (("train", 400), ("valid", 100)):
        x = rng.standard_normal((n, 6, 2)).astype(np.float32)
        lengths = rng.integers(2, 7, n)
        np.save(tmp_path / f"x_{split}.npy", x)
        np.save(tmp_path / f"y_{split}.npy", (x[np.arange(n), lengths - 1, 1] > 0).astype(np.int64))
        np.save(tmp_path / f"lengths_{split}.npy", lengths)
    result = recur.train_classifier(arrays=str(tmp_path), out=str(tmp_path / "c.safetensors"), rnn="gru:16",
                                    epochs=10, lr=0.01, threads=1, log_every=1000)
    model = result.load()
    assert isinstance(model, recur.Classifier) and model.metadata["input"] == "arrays"
    x = np.load(tmp_path / "x_valid.npy")
    lengths = np.load(tmp_path / "lengths_valid.npy")
    rows = model.predict(x, lengths=lengths, top=2)
    assert len(rows) == 100 and all(len(r) == 2 and r[0][1] >= r[1][1] for r in rows)
    predicted = np.array([int(r[0][0]) for r in rows])
    assert np.mean(predicted == np.load(tmp_path / "y_valid.npy")) > 0.8
