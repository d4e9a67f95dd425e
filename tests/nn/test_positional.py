"""Positional encodings: learned, sinusoidal, rotary (RoPE) properties and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import axon
import axon.nn.functional as F
from axon import nn
from tests.helpers import check_op


# ------------------------------------------------------------ sinusoidal
@pytest.mark.parametrize("dim", [8, 7])
def test_sinusoidal_table_is_the_paper_formula(dim):
    pos = nn.SinusoidalPositionalEncoding(dim, max_len=50)
    p, i = np.arange(50)[:, None], np.arange(dim)[None, :]
    angle = p / 10000 ** ((i - i % 2) / dim)  # 2i and 2i+1 share a frequency
    expected = np.where(i % 2 == 0, np.sin(angle), np.cos(angle))
    np.testing.assert_allclose(pos.pe.data, expected, atol=1e-6)
    assert pos.pe.dtype == np.float32
    assert "pe" not in pos.state_dict()  # a non-persistent buffer


def test_sinusoidal_adds_positions_with_offset_and_layout():
    pos = nn.SinusoidalPositionalEncoding(6, max_len=20)
    x = axon.randn(2, 5, 6)
    np.testing.assert_allclose(pos(x).data, x.data + pos.pe.data[:5])
    np.testing.assert_allclose(pos(x, offset=3).data, x.data + pos.pe.data[3:8])
    seq_first = nn.SinusoidalPositionalEncoding(6, max_len=20, batch_first=False)
    xt = axon.tensor(x.data.transpose(1, 0, 2).copy())
    np.testing.assert_allclose(seq_first(xt).data, pos(x).data.transpose(1, 0, 2))
    with pytest.raises(ValueError, match=r"max_len=20.*out of range"):
        pos(x, offset=18)


# ------------------------------------------------------------ learned
def test_learned_embedding_adds_a_trained_row_per_position():
    axon.manual_seed(0)
    pos = nn.LearnedPositionalEmbedding(10, 4)
    assert list(pos.state_dict()) == ["weight"] and pos.weight.shape == (10, 4)
    assert abs(pos.weight.data.std() - 0.02) < 0.01
    x = axon.randn(3, 4, 4)
    y = pos(x, offset=2)
    np.testing.assert_allclose(y.data, x.data + pos.weight.data[2:6])
    y.sum().backward()
    expected = np.zeros((10, 4), np.float32)
    expected[2:6] = 3  # each used position, once per batch element
    np.testing.assert_array_equal(pos.weight.grad.data, expected)
    with pytest.raises(ValueError, match=r"LearnedPositionalEmbedding\(dim=4\)"):
        pos(axon.randn(3, 4, 5))


# ------------------------------------------------------------ rotary
def _angles(n_steps, dim, base=10000.0, offset=0):
    inv = base ** (-np.arange(0, dim, 2) / dim)
    a = np.arange(offset, offset + n_steps)[:, None] * inv
    return np.cos(a), np.sin(a)


@pytest.mark.parametrize("interleaved", [False, True])
def test_apply_rotary_gradients(interleaved):
    cos, sin = _angles(3, 4)
    check_op(lambda x: F.apply_rotary(x, cos, sin, interleaved), None, None, [[(2, 3, 4)]])


def test_half_split_matches_the_rotate_half_formula():
    x = np.random.default_rng(0).standard_normal((2, 5, 8))
    cos, sin = _angles(5, 8)
    rotate_half = np.concatenate([-x[..., 4:], x[..., :4]], -1)
    expected = x * np.tile(cos, 2) + rotate_half * np.tile(sin, 2)  # GPT-NeoX / HF LLaMA
    rope = nn.RotaryEmbedding(8)
    np.testing.assert_allclose(rope.rotate(axon.tensor(x)).data, expected, atol=1e-12)


def test_interleaved_matches_complex_multiplication():
    x = np.random.default_rng(0).standard_normal((2, 5, 8))
    cos, sin = _angles(5, 8)
    z = (x[..., 0::2] + 1j * x[..., 1::2]) * (cos + 1j * sin)  # RoFormer / Meta LLaMA
    expected = np.stack([z.real, z.imag], -1).reshape(x.shape)
    rope = nn.RotaryEmbedding(8, interleaved=True)
    np.testing.assert_allclose(rope.rotate(axon.tensor(x)).data, expected, atol=1e-12)


@pytest.mark.parametrize("interleaved", [False, True])
def test_rotary_scores_depend_only_on_relative_position(interleaved):
    rope = nn.RotaryEmbedding(16, interleaved=interleaved)
    rng = np.random.default_rng(1)
    q, k = axon.tensor(rng.standard_normal((1, 16))), axon.tensor(rng.standard_normal((1, 16)))

    def score(m, n):
        return float((rope.rotate(q, [m]).data * rope.rotate(k, [n]).data).sum())

    for m, n in [(3, 1), (10, 2), (0, 7)]:
        for shift in (1, 5, 100):
            assert score(m + shift, n + shift) == pytest.approx(score(m, n), rel=1e-9, abs=1e-9)
    assert score(3, 1) != pytest.approx(score(3, 2))


def test_rotary_preserves_norms_and_float32():
    rope = nn.RotaryEmbedding(32)
    q, k = axon.randn(2, 4, 9, 32), axon.randn(2, 4, 9, 32)
    rq, rk = rope(q, k)
    assert rq.dtype == rk.dtype == np.float32
    np.testing.assert_allclose(
        np.linalg.norm(rq.data, axis=-1), np.linalg.norm(q.data, axis=-1), rtol=1e-5
    )


def test_rotary_offset_for_kv_cache_decoding():
    rope = nn.RotaryEmbedding(8)
    q = axon.randn(2, 6, 8)
    full, _ = rope(q, q)
    last, _ = rope(q[:, 5:], q[:, 5:], offset=5)
    np.testing.assert_allclose(last.data, full.data[:, 5:], rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="even"):
        nn.RotaryEmbedding(7)
