"""Seq2Seq: shapes, masks, overfitting a batch, cached greedy decoding, save/load."""

from __future__ import annotations

import numpy as np
import pytest

import axon
from axon.data.datasets.synthetic import BOS, EOS, PAD, SEQ_VOCAB, decode_tokens, reversal
from axon.models.seq2seq import Seq2Seq, Seq2SeqConfig
from axon.nn import functional as F
from axon.optim import AdamW

V = len(SEQ_VOCAB)


def _model(seed=0, **kw):
    axon.manual_seed(seed)
    cfg = dict(
        vocab_size=V,
        max_len=16,
        d_model=32,
        n_head=2,
        n_encoder_layers=1,
        n_decoder_layers=2,
        d_ff=64,
        dropout=0.0,
    )
    return Seq2Seq(Seq2SeqConfig(**{**cfg, **kw}))


def _data(n=8, seed=0):
    return reversal(n, 1, 6, seed=seed).arrays  # src (n, 7), tgt (n, 8)


def _loss(model, src, tgt):
    logits = model(src, tgt[:, :-1])
    return F.cross_entropy(logits.reshape(-1, V), tgt[:, 1:].reshape(-1), ignore_index=PAD)


def test_shapes_and_shared_embedding():
    model = _model()
    src, tgt = _data()
    logits = model(src, tgt[:, :-1])
    assert logits.shape == (8, 7, V) and logits.dtype == np.float32
    assert model.lm_head.weight is model.embed.weight
    assert model(axon.tensor(src), axon.tensor(tgt[:, :-1])).shape == (8, 7, V)
    with pytest.raises(ValueError, match="max_len=16"):
        model(np.ones((1, 17), np.int64), tgt[:1, :-1])


def test_source_padding_is_masked():
    """Changing tokens at padded source positions must not change the output."""
    model = _model().eval()
    src, tgt = _data()
    assert (src == PAD).any()
    noisy = np.where(src == PAD, 5, src)
    a = model(src, tgt[:, :-1])
    b = model(noisy, tgt[:, :-1], src_pad_mask=src == PAD)
    np.testing.assert_allclose(a.data, b.data, atol=1e-5)


def test_decoder_is_causal():
    model = _model().eval()
    src, tgt = _data()
    changed = tgt[:, :-1].copy()
    changed[:, 4:] = 7
    a, b = model(src, tgt[:, :-1]).data, model(src, changed).data
    np.testing.assert_allclose(a[:, :4], b[:, :4], atol=1e-5)
    assert not np.allclose(a[:, 4:], b[:, 4:])


def test_overfits_one_batch_and_decodes_it():
    model = _model()
    src, tgt = _data(8)
    opt = AdamW(model.parameters(), lr=5e-3)
    first = _loss(model, src, tgt).item()
    for _ in range(100):
        loss = _loss(model, src, tgt)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    final = _loss(model, src, tgt).item()
    assert first > 2.0 and final < 0.05, (first, final)
    out = model.generate(src, max_len=7, bos=BOS, eos=EOS)
    assert [decode_tokens(o) for o in out.data] == [decode_tokens(t) for t in tgt]


def test_cached_greedy_decoding_equals_uncached():
    model = _model(n_decoder_layers=3)
    src, _ = _data(6, seed=3)
    a = model.generate(src, max_len=10, bos=BOS, eos=EOS, use_cache=True)
    b = model.generate(src, max_len=10, bos=BOS, eos=EOS, use_cache=False)
    np.testing.assert_array_equal(a.data, b.data)
    assert a.data[:, 0].tolist() == [BOS] * 6 and a.dtype == np.int64
    # and decoding agrees with the teacher-forced forward on its own output
    logits = model.eval()(src, a.data[:, :-1]).data
    finished_before = np.cumsum(a.data == EOS, axis=1)[:, :-1] > 0  # (B, T): EOS already produced
    pred = np.where(finished_before, PAD, logits.argmax(-1))
    np.testing.assert_array_equal(pred, a.data[:, 1:])
    assert model.training is False  # we set eval above; generate restores the mode it found


def test_generate_restores_training_mode_and_builds_no_graph():
    model = _model()
    src, _ = _data(2)
    out = model.generate(src, max_len=5, bos=BOS, eos=EOS)
    assert model.training and not out.requires_grad
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(ValueError, match="max_len"):
        model.generate(src, max_len=17, bos=BOS, eos=EOS)
    assert model.generate(src, max_len=16, bos=BOS, eos=EOS, use_cache=False).shape[1] <= 17


def test_save_load_round_trip(tmp_path):
    model = _model().eval()
    src, tgt = _data()
    path = tmp_path / "seq2seq.safetensors"
    axon.save(model.state_dict(), path)
    other = _model(seed=1).eval()
    other.load_state_dict(axon.load(path))
    np.testing.assert_array_equal(model(src, tgt[:, :-1]).data, other(src, tgt[:, :-1]).data)
    np.testing.assert_array_equal(
        model.generate(src, 7, BOS, EOS).data, other.generate(src, 7, BOS, EOS).data
    )


@pytest.mark.slow
def test_learns_reversal_on_held_out_sequences():
    """A short version of examples/train_seq2seq.py: > 90% exact match in 200 steps."""
    model = _model(d_model=64, n_head=4, n_encoder_layers=2, d_ff=256)
    src, tgt = reversal(20_000, 1, 6, seed=0).arrays
    test_src, test_tgt = reversal(300, 4, 6, seed=1).arrays
    opt = AdamW(model.parameters(), lr=3e-3)
    rng = np.random.default_rng(0)
    for _ in range(200):
        rows = rng.integers(0, len(src), 64)
        loss = _loss(model, src[rows], tgt[rows])
        opt.zero_grad()
        loss.backward()
        opt.step()
    out = model.generate(test_src, 7, BOS, EOS).data
    acc = np.mean(
        [decode_tokens(o) == decode_tokens(t) for o, t in zip(out, test_tgt, strict=True)]
    )
    assert acc > 0.9, acc
