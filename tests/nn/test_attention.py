"""Fused scaled dot-product attention, MultiheadAttention and the KV cache."""

from __future__ import annotations

import numpy as np
import pytest

import axon
import axon.nn.functional as F
import axon.ops.attention as attention_ops
from axon import nn
from axon.autograd import gradcheck
from tests.helpers import check_module_parity, check_op

torch = pytest.importorskip("torch")
TF = torch.nn.functional
torch.backends.mha.set_fastpath_enabled(False)  # the regular (differentiable) path only


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _t(value):
    return torch.tensor(value) if isinstance(value, np.ndarray) else value


# ------------------------------------------------------------ the fused op
SHAPES = [
    ((2, 3, 4), (2, 5, 4), (2, 5, 6)),  # L != S, Ev != E
    ((2, 2, 4, 3), (2, 2, 4, 3), (2, 2, 4, 3)),  # (N, heads, T, D)
    ((2, 3, 3, 4), (1, 3, 5, 4), (1, 3, 5, 2)),  # key/value broadcast over the batch
]


@pytest.mark.torch
def test_sdpa_matches_torch_and_finite_differences():
    check_op(F.scaled_dot_product_attention, None, TF.scaled_dot_product_attention, SHAPES)


@pytest.mark.torch
def test_sdpa_causal_and_scale():
    def ours(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3)

    def theirs(q, k, v):
        return TF.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3)

    check_op(ours, None, theirs, SHAPES[:2])


@pytest.mark.torch
def test_sdpa_bool_mask_with_a_fully_masked_row():
    mask = np.random.default_rng(1).random((3, 5)) > 0.4
    mask[:, 0] = True
    mask[1] = False  # a query that may see nothing: output 0, as torch's safe softmax

    def ours(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    def theirs(q, k, v):
        return TF.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(mask))

    check_op(ours, None, theirs, [SHAPES[0]])
    out = ours(*(axon.randn(*s) for s in SHAPES[0]))
    assert not np.any(out.data[:, 1])


@pytest.mark.torch
def test_sdpa_float_mask_gets_a_gradient():
    def ours(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)

    def theirs(q, k, v, m):
        return TF.scaled_dot_product_attention(q, k, v, attn_mask=m)

    check_op(ours, None, theirs, [SHAPES[0] + ((3, 5),), SHAPES[1] + ((2, 1, 4, 4),)])


def test_sdpa_dropout_gradients_and_determinism():
    rng = np.random.default_rng(0)
    q, k, v = (axon.tensor(rng.standard_normal(s), requires_grad=True) for s in SHAPES[0])

    def fn(q, k, v):
        axon.manual_seed(3)  # the same dropout mask on every call of the finite differences
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.4)

    assert gradcheck(fn, [q, k, v], atol=1e-6, rtol=1e-5)
    assert not np.allclose(fn(q, k, v).data, F.scaled_dot_product_attention(q, k, v).data)
    np.testing.assert_array_equal(fn(q, k, v).data, fn(q, k, v).data)
    zeros = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert not np.any(zeros.data)


@pytest.mark.torch
def test_sdpa_in_many_cache_blocks_matches_torch(monkeypatch):
    monkeypatch.setattr(attention_ops, "BLOCK_BYTES", 1)  # one block per first-batch-dim row

    def ours(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)

    def theirs(q, k, v, m):
        return TF.scaled_dot_product_attention(q, k, v, attn_mask=m)

    check_op(ours, None, theirs, [SHAPES[2] + ((1, 3, 1, 5),), SHAPES[1] + ((2, 1, 1, 4),)])


def test_blocking_changes_nothing_with_dropout_and_weights(monkeypatch):
    rng = np.random.default_rng(0)
    q, k, v = (axon.tensor(rng.standard_normal((3, 2, 4, 5)), requires_grad=True) for _ in range(3))
    mask = axon.tensor(rng.standard_normal((3, 1, 4, 4)), requires_grad=True)
    upstream = [axon.tensor(rng.standard_normal(s)) for s in ((3, 2, 4, 5), (3, 2, 4, 4))]

    def run():
        axon.manual_seed(0)
        outs = attention_ops.attention(q, k, v, mask, None, 0.3, need_weights=True)
        grads = axon.autograd.grad(outs, [q, k, v, mask], upstream)
        return [o.data for o in outs] + [g.data for g in grads]

    whole = run()
    monkeypatch.setattr(attention_ops, "BLOCK_BYTES", 1)
    for a, b in zip(whole, run(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_sdpa_stays_float32_and_rejects_bad_input():
    q = axon.randn(2, 3, 4, requires_grad=True)
    out = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    out.sum().backward()
    assert out.dtype == q.grad.dtype == np.float32
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool), is_causal=True)
    with pytest.raises(ValueError, match=r"key \(\.\.\., S, E\)"):
        F.scaled_dot_product_attention(q, axon.randn(2, 3, 5), q)
    with pytest.raises(ValueError, match="doesn't broadcast"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((2, 2), bool))


def test_sdpa_second_derivative_raises_naming_attention():
    q = axon.randn(2, 3, 4, requires_grad=True)
    (g,) = axon.autograd.grad(F.scaled_dot_product_attention(q, q, q).sum(), [q], create_graph=True)
    with pytest.raises(NotImplementedError, match="attention"):
        g.sum().backward()


# ------------------------------------------------------------ MultiheadAttention
E, HEADS, L, S, N = 8, 2, 5, 7, 3


def _mha_parity(inputs, mha_kw=None, call_kw=None, kind="self"):
    """Parity for MHA; kind: 'self' (x, x, x), 'cross' (x, y, y) or 'qkv' (x, y, z)."""
    mha_kw, call_kw = mha_kw or {}, call_kw or {}
    torch.manual_seed(0)
    ours, theirs = (
        nn.MultiheadAttention(E, HEADS, **mha_kw),
        torch.nn.MultiheadAttention(E, HEADS, **mha_kw),
    )

    def caller(kw):
        if kind == "self":
            return lambda m, x: m(x, x, x, **kw)
        if kind == "cross":
            return lambda m, x, y: m(x, y, y, **kw)
        return lambda m, x, y, z: m(x, y, z, **kw)

    torch_kw = {k: _t(v) for k, v in call_kw.items()}
    check_module_parity(
        ours, theirs, inputs, forward=caller(call_kw), torch_forward=caller(torch_kw)
    )


CAUSAL = np.triu(np.ones((L, L), bool), 1)
PADDING = np.zeros((N, S), bool)
PADDING[0, 5:] = True
PADDING[2, 1] = True


@pytest.mark.torch
@pytest.mark.parametrize(
    "call_kw",
    [
        {},
        {"need_weights": False},
        {"average_attn_weights": False},
        {"attn_mask": CAUSAL},
        {"attn_mask": CAUSAL, "need_weights": False, "is_causal": True},
        {"attn_mask": np.where(CAUSAL, -np.inf, 0).astype(np.float32)},
    ],
    ids=["weights", "no-weights", "per-head", "bool-causal", "is_causal-hint", "float-causal"],
)
def test_mha_self_attention_matches_torch(call_kw):
    _mha_parity([_x(L, N, E)], call_kw=call_kw)


@pytest.mark.torch
@pytest.mark.parametrize(
    "call_kw",
    [
        {"key_padding_mask": PADDING},
        {"key_padding_mask": PADDING, "need_weights": False},
        {"key_padding_mask": PADDING, "attn_mask": np.random.default_rng(2).random((L, S)) > 0.8},
        {"attn_mask": _x(N * HEADS, L, S, seed=3), "average_attn_weights": False},
    ],
    ids=["padding", "padding-no-weights", "padding+bool", "float-3d"],
)
def test_mha_cross_attention_masks_match_torch(call_kw):
    _mha_parity([_x(L, N, E), _x(S, N, E, seed=1)], call_kw=call_kw, kind="cross")


@pytest.mark.torch
def test_mha_layouts_and_options_match_torch():
    _mha_parity([_x(N, L, E)], {"batch_first": True})
    _mha_parity(
        [_x(N, L, E), _x(N, S, E, seed=1)], {"batch_first": True}, {"need_weights": False}, "cross"
    )
    _mha_parity(
        [_x(L, N, E), _x(S, N, 6, seed=1), _x(S, N, 4, seed=2)], {"kdim": 6, "vdim": 4}, kind="qkv"
    )
    _mha_parity([_x(L, N, E)], {"bias": False})
    _mha_parity([_x(L, E)])  # unbatched
    _mha_parity(
        [_x(L, E), _x(S, E, seed=1)],
        {"batch_first": True},
        {"average_attn_weights": False},
        "cross",
    )


@pytest.mark.torch
def test_mha_parameter_names_are_torch_names():
    packed = set(nn.MultiheadAttention(E, HEADS).state_dict())
    assert packed == set(torch.nn.MultiheadAttention(E, HEADS).state_dict())
    split = set(nn.MultiheadAttention(E, HEADS, kdim=6, vdim=4).state_dict())
    assert split == set(torch.nn.MultiheadAttention(E, HEADS, kdim=6, vdim=4).state_dict())
    assert "q_proj_weight" in split and "in_proj_weight" not in split


def test_mha_dropout_only_in_training():
    axon.manual_seed(0)
    mha = nn.MultiheadAttention(E, HEADS, dropout=0.5)
    x = axon.tensor(_x(L, N, E))
    a, w = mha(x, x, x)
    assert not np.allclose(w.data.sum(-1), 1)  # dropped weights, rescaled
    mha.eval()
    b, w = mha(x, x, x)
    np.testing.assert_allclose(w.data.sum(-1), 1, rtol=1e-5)
    assert not np.allclose(a.data, b.data)


def test_mha_errors():
    with pytest.raises(ValueError, match="multiple of num_heads"):
        nn.MultiheadAttention(10, 3)
    mha = nn.MultiheadAttention(E, HEADS)
    with pytest.raises(ValueError, match=r"embed_dim=8.*got \(5, 3, 6\)"):
        mha(axon.randn(L, N, 6), axon.randn(L, N, 6), axon.randn(L, N, 6))
    x = axon.randn(L, N, E)
    with pytest.raises(ValueError, match=r"attn_mask of shape \(4, 4\)"):
        mha(x, x, x, attn_mask=np.zeros((4, 4), bool))
    with pytest.raises(ValueError, match="key_padding_mask"):
        mha(x, x, x, key_padding_mask=np.zeros((N, 2), bool))


# ------------------------------------------------------------ KV cache
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("record", [False, True])
def test_kv_cache_token_by_token_equals_full_causal_forward(batch_first, record):
    axon.manual_seed(0)
    mha = nn.MultiheadAttention(16, 4, batch_first=batch_first)
    seq_axis = 1 if batch_first else 0
    x = axon.randn(2, 6, 16) if batch_first else axon.randn(6, 2, 16)
    full, _ = mha(x, x, x, is_causal=True, need_weights=False)
    cache = nn.KVCache()
    steps = []
    with axon.set_grad_enabled(record):
        for t in range(6):
            x_t = x[:, t : t + 1] if batch_first else x[t : t + 1]
            y_t, _ = mha(x_t, x_t, x_t, kv_cache=cache, is_causal=True, need_weights=False)
            steps.append(y_t)
    assert len(cache) == 6 and cache.keys.shape == (2, 4, 6, 4)
    np.testing.assert_allclose(axon.cat(steps, seq_axis).data, full.data, rtol=1e-5, atol=1e-6)
    if record:  # the cache is differentiable: same parameter gradients as the full pass
        axon.cat(steps, seq_axis).sum().backward()
        incremental = mha.in_proj_weight.grad.data.copy()
        mha.zero_grad()
        full.sum().backward()
        np.testing.assert_allclose(incremental, mha.in_proj_weight.grad.data, rtol=1e-4, atol=1e-5)


def test_kv_cache_prefill_then_decode_and_reset():
    axon.manual_seed(0)
    mha = nn.MultiheadAttention(16, 4, batch_first=True)
    x = axon.randn(2, 40, 16)  # long enough to grow the buffer past its first capacity
    with axon.no_grad():
        full, _ = mha(x, x, x, is_causal=True)
        cache = nn.KVCache()
        head, _ = mha(x[:, :30], x[:, :30], x[:, :30], kv_cache=cache, is_causal=True)
        tail = [
            mha(x[:, t : t + 1], x[:, t : t + 1], x[:, t : t + 1], kv_cache=cache, is_causal=True)[
                0
            ]
            for t in range(30, 40)
        ]
    np.testing.assert_allclose(axon.cat([head, *tail], 1).data, full.data, rtol=1e-5, atol=1e-6)
    cache.reset()
    assert len(cache) == 0 and cache.keys is None
    with pytest.raises(ValueError, match="KVCache"):
        cache.update(axon.randn(2, 4, 1, 4), axon.randn(2, 4, 1, 4))
        cache.update(axon.randn(1, 4, 1, 4), axon.randn(1, 4, 1, 4))
