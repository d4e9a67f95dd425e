"""CharLSTM and GRUClassifier: shapes, state carrying, overfitting a batch, generation, save/load."""

from __future__ import annotations

import numpy as np
import pytest

import axon
from axon.models.recurrent import CharLSTM, CharLSTMConfig, GRUClassifier, GRUClassifierConfig
from axon.nn import functional as F
from axon.optim import AdamW

V = 12


def _lm(seed=0, **kw):
    axon.manual_seed(seed)
    return CharLSTM(
        CharLSTMConfig(**{**dict(vocab_size=V, n_embd=16, hidden_size=48, num_layers=2), **kw})
    )


def _clf(seed=0, **kw):
    axon.manual_seed(seed)
    return GRUClassifier(GRUClassifierConfig(**{**dict(seq_len=40, hidden_size=32), **kw}))


def _ids(*shape, seed=0):
    return np.random.default_rng(seed).integers(0, V, shape)


def _signals(n=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 40)).astype(np.float32), rng.integers(0, 10, n)


# ------------------------------------------------------------------ CharLSTM
def test_char_lstm_shapes_and_loss():
    model = _lm()
    idx, targets = _ids(3, 10), _ids(3, 10, seed=1)
    logits, loss = model(idx, targets)
    assert logits.shape == (3, 10, V) and model(idx)[1] is None
    expected = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    np.testing.assert_allclose(loss.item(), expected.item(), rtol=1e-6)
    with pytest.raises(ValueError, match=r"\(B, T\)"):
        model(np.zeros(5, np.int64))


def test_char_lstm_state_carries_over():
    """Running two halves with the state passed on equals running the whole sequence."""
    model = _lm().eval()
    idx = _ids(2, 12)
    whole, _ = model.step(idx)
    first, state = model.step(idx[:, :5])
    second, _ = model.step(idx[:, 5:], state)
    np.testing.assert_allclose(axon.cat([first, second], 1).data, whole.data, atol=1e-5)


def test_char_lstm_overfits_one_batch():
    model = _lm()
    idx = _ids(4, 17, seed=2)
    x, y = idx[:, :-1], idx[:, 1:]
    opt = AdamW(model.parameters(), lr=1e-2)
    first = None
    for _ in range(100):
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else loss.item()
    _, loss = model(x, y)
    assert first > 2.0 and loss.item() < 0.05, (first, loss.item())


def test_char_lstm_generate():
    model = _lm(dropout=0.2)
    prompt = _ids(2, 5)
    out = model.generate(prompt, 20, temperature=0.8, top_k=5, seed=3)
    assert out.shape == (2, 25) and out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.data[:, :5], prompt)
    np.testing.assert_array_equal(
        out.data, model.generate(prompt, 20, temperature=0.8, top_k=5, seed=3).data
    )
    assert model.training  # restored
    # greedy generation with the carried state == re-running the whole sequence each step
    greedy = model.generate(prompt, 8, temperature=0).data
    model.eval()
    seq = prompt.copy()
    for _ in range(8):
        logits, _ = model(seq)
        seq = np.concatenate([seq, logits.data[:, -1].argmax(-1)[:, None]], axis=1)
    np.testing.assert_array_equal(greedy, seq)


def test_char_lstm_save_load_round_trip(tmp_path):
    model = _lm().eval()
    axon.save(model.state_dict(), tmp_path / "lstm.safetensors")
    other = _lm(seed=1).eval()
    other.load_state_dict(axon.load(tmp_path / "lstm.safetensors"))
    idx = _ids(2, 9)
    np.testing.assert_array_equal(model(idx)[0].data, other(idx)[0].data)


# ------------------------------------------------------------- GRUClassifier
@pytest.mark.parametrize(
    "kw",
    [{}, dict(chunk=4), dict(bidirectional=True, num_layers=2, dropout=0.1)],
    ids=["points", "chunks", "bidirectional-2-layer"],
)
def test_gru_classifier_shapes(kw):
    model = _clf(**kw)
    x, _ = _signals(5)
    assert model(x).shape == (5, 10)
    with pytest.raises(ValueError, match=r"\(B, 40\)"):
        model(x[:, :30])


def test_gru_classifier_bad_chunk():
    with pytest.raises(ValueError, match="multiple of chunk"):
        _clf(chunk=3)


def test_gru_classifier_overfits_one_batch():
    model = _clf(chunk=2)
    x, y = _signals(16)
    opt = AdamW(model.parameters(), lr=1e-2)
    first = F.cross_entropy(model(x), y).item()
    for _ in range(80):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    final = F.cross_entropy(model(x), y).item()
    assert first > 1.8 and final < 0.05, (first, final)


def test_gru_classifier_save_load_round_trip(tmp_path):
    model = _clf(bidirectional=True).eval()
    axon.save(model.state_dict(), tmp_path / "gru.safetensors")
    other = _clf(seed=1, bidirectional=True).eval()
    other.load_state_dict(axon.load(tmp_path / "gru.safetensors"))
    x, _ = _signals(4)
    np.testing.assert_array_equal(model(x).data, other(x).data)
