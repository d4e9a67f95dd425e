"""Scaled dot-product attention as one fused op.

    S = Q K^T * scale + mask   (a bool mask becomes 0 / -inf)               (..., L, S)
    P = softmax(S)                     (rows that are masked entirely give P = 0, as PyTorch)
    O = dropout(P) V                                                        (..., L, Ev)

Forward works in place on the one (..., L, S) score buffer, which becomes P.
Backward is closed form, with Pd = dropout(P) and Z its keep-mask / (1 - p):

    dV = Pd^T dO         dP = (dO V^T) * Z
    dS = P * (dP - D),   D = rowsum(dP * P) = rowsum(dO * O)   (so D costs L*Ev, not L*S)
    dQ = dS K * scale    dK = dS^T Q * scale    d(float mask) = dS

Batch dims (``...``, e.g. (B, H)) broadcast like matmul's. The work runs in
blocks of about ``BLOCK_BYTES`` of scores along the first batch dim, each
block's products one batched BLAS call: no Python loop over single batch
elements, heads or time steps. Second derivatives are not supported (the
backward raises if differentiated).

Also here: ``Rotary``, the rotation kernel of rotary position embeddings (RoPE).
"""

from __future__ import annotations

import math

import numpy as np

from axon.autograd.function import Function
from axon.ops.elementwise import as_tensor
from axon.random import get_generator
from axon.tensor import Tensor

_CAUSAL: dict = {}


def causal_blocked(n_queries: int, n_keys: int, offset: int = 0) -> np.ndarray:
    """Bool (L, S) mask, True where query i may NOT see key j, i.e. j > i + offset.

    offset 0 is PyTorch's ``is_causal`` (top-left aligned); offset S - L lets L
    new queries at the end of a sequence see all S - L earlier keys (KV cache).
    Cached and read-only: it is built once per shape.
    """
    return _cached(
        ("blocked", n_queries, n_keys, offset),
        lambda: np.triu(np.ones((n_queries, n_keys), dtype=bool), k=offset + 1),
    )


def causal_additive(n_queries: int, n_keys: int, offset: int = 0, dtype=np.float32) -> np.ndarray:
    """``causal_blocked`` as a float mask to add: -inf where blocked, 0 elsewhere (cached)."""
    key = ("additive", n_queries, n_keys, offset, np.dtype(dtype))
    return _cached(key, lambda: additive_mask(causal_blocked(n_queries, n_keys, offset), dtype))


def _cached(key, build) -> np.ndarray:
    if key not in _CAUSAL:
        if len(_CAUSAL) > 64:
            _CAUSAL.clear()
        value = build()
        value.flags.writeable = False
        _CAUSAL[key] = value
    return _CAUSAL[key]


def additive_mask(blocked: np.ndarray, dtype) -> np.ndarray:
    """Bool mask (True = blocked) -> float mask to add to the scores (-inf / 0).

    Adding a float mask is ~4x faster than ``np.copyto(scores, -inf, where=blocked)``.
    """
    out = np.zeros(blocked.shape, dtype)
    out[blocked] = -np.inf
    return out


def _sum_to(a: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``a`` over the dims broadcasting added or stretched to reach ``shape``."""
    if a.shape == shape:
        return a
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1
    )
    return a.sum(axis=axes, keepdims=True).reshape(shape)


def _t(a: np.ndarray) -> np.ndarray:
    return a.swapaxes(-1, -2)  # a view: BLAS reads it transposed, no copy


def _row_sums(a: np.ndarray) -> np.ndarray:
    """a.sum(-1, keepdims=True) as a BLAS matrix-vector product: ~5x faster for short rows."""
    return np.matmul(a, np.ones(a.shape[-1], a.dtype))[..., None]


# Scores are processed in blocks of about this many bytes along the first batch
# dim: Q K^T, softmax and P V of one block run while it is still in cache, and the
# backward needs one block-sized dS buffer instead of a whole (..., L, S) one.
BLOCK_BYTES = 1 << 20


def _blocks(batch: tuple, n_q: int, n_k: int, itemsize: int) -> tuple[int, list]:
    """(block size, slices) along the first batch dim; one block when there is no batch."""
    if not batch:
        return 1, [Ellipsis]
    per_row = math.prod(batch[1:]) * n_q * n_k * itemsize
    step = max(1, BLOCK_BYTES // max(per_row, 1))
    return step, [slice(i, i + step) for i in range(0, batch[0], step)]


def _lead(a: np.ndarray | None, ndim: int) -> np.ndarray | None:
    """``a`` with size-1 dims in front up to ``ndim`` dims (a view), so blocks slice it evenly."""
    if a is None or a.ndim == ndim:
        return a
    return a.reshape((1,) * (ndim - a.ndim) + a.shape)  # (1, ..., 1, *a.shape)


def _part(a: np.ndarray | None, block):
    """``a``'s share of a block: all of it where it broadcasts along the first dim."""
    if a is None or block is Ellipsis or a.shape[0] == 1:
        return a
    return a[block]


class Attention(Function):
    """The fused op. ``mask`` is None or a float array added to the scores (-inf = blocked)."""

    def forward(self, q, k, v, mask, scale, dropout_p, need_weights):
        self.scale, self.dropout_p = scale, dropout_p
        self.mask_shape = mask.shape if mask is not None else None
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
        if mask is not None:
            batch = np.broadcast_shapes(batch, mask.shape[:-2])
        n_q, n_k, nd = q.shape[-2], k.shape[-2], len(batch) + 2
        probs = np.empty(batch + (n_q, n_k), q.dtype)  # becomes P, block by block
        out = np.empty(batch + (n_q, v.shape[-1]), q.dtype)
        self.keep = dropped = None
        if dropout_p > 0:  # one draw for the whole tensor: the same for any blocking
            draw = get_generator().random(probs.shape, dtype=np.float32)
            self.keep = draw >= np.float32(dropout_p)
            if need_weights:
                dropped = np.empty_like(probs)
        qs, k_, v_, mask_ = _lead(q * scale, nd), _lead(k, nd), _lead(v, nd), _lead(mask, nd)
        _, blocks = _blocks(batch, n_q, n_k, q.dtype.itemsize)
        for b in blocks:
            p = np.matmul(_part(qs, b), _t(_part(k_, b)), out=probs[b])  # scores, then P
            _softmax_(p, _part(mask_, b))
            if self.keep is not None:
                p = _dropout(p, self.keep[b], dropout_p, None if dropped is None else dropped[b])
            np.matmul(p, _part(v_, b), out=out[b])
        self.probs = probs
        self.save_for_backward(q, k, v, out)
        if not need_weights:
            return out
        return out, (dropped if dropped is not None else probs)

    def backward(self, d_out, d_weights=None):
        q, k, v, out = self.saved_tensors  # also checks none was modified in place
        need = self.needs_input_grad
        grads = AttentionBackward.apply(
            d_out, d_weights, q, k, v, out, node=self, mask_grad=need[3]
        )
        return tuple(g if wanted else None for g, wanted in zip(grads, need[:4], strict=True))


def _softmax_(scores: np.ndarray, mask: np.ndarray | None) -> None:
    """scores (+ mask) -> softmax over the last dim, in place."""
    if mask is not None:
        scores += mask
    row_max = scores.max(axis=-1, keepdims=True)  # (..., L, 1)
    if mask is not None:
        row_max[np.isneginf(row_max)] = 0  # fully masked row: exp(-inf - 0) = 0, not NaN
    scores -= row_max
    np.exp(scores, out=scores)
    total = _row_sums(scores)
    if mask is not None:
        total[total == 0] = 1  # fully masked row: P = 0 / 1 = 0 (PyTorch's safe softmax)
    scores *= 1 / total


def _dropout(p, keep, dropout_p, out=None):
    """p * keep / (1 - dropout_p), into ``out`` if given."""
    dropped = np.multiply(p, keep, out=out)
    dropped *= 1 / (1 - dropout_p) if dropout_p < 1 else 0
    return dropped


class AttentionBackward(Function):
    """dQ, dK, dV (and the float mask's gradient) in closed form; see the module docstring."""

    def forward(self, d_out, d_weights, q, k, v, out, node, mask_grad):
        probs, keep, scale, p = node.probs, node.keep, node.scale, node.dropout_p
        batch, (n_q, n_k) = probs.shape[:-2], probs.shape[-2:]
        nd = probs.ndim
        d_q = np.empty(batch + q.shape[-2:], q.dtype)  # at the broadcast batch shape;
        d_k = np.empty(batch + k.shape[-2:], k.dtype)  # summed back to each input's shape below
        d_v = np.empty(batch + v.shape[-2:], v.dtype)
        d_mask = np.empty_like(probs) if mask_grad else None
        step, blocks = _blocks(batch, n_q, n_k, probs.dtype.itemsize)
        buffer = np.empty(
            (min(step, batch[0]),) + probs.shape[1:] if batch else probs.shape, probs.dtype
        )
        qs, k_, v_ = _lead(q, nd), _lead(k, nd), _lead(v, nd)
        for b in blocks:
            pb = probs[b]
            d_s = buffer[: pb.shape[0]] if batch else buffer  # dP, then dS, for this block
            dropped = pb if keep is None else _dropout(pb, keep[b], p)
            np.matmul(_t(dropped), d_out[b], out=d_v[b])  # dV = dropout(P)^T dO
            np.matmul(d_out[b], _t(_part(v_, b)), out=d_s)  # d dropout(P) = dO V^T
            if d_weights is not None:
                d_s += d_weights[b]
            if keep is not None:
                _dropout(d_s, keep[b], p, out=d_s)
            if d_weights is None:  # D = rowsum(dP * P) = rowsum(dO * O): L*Ev work, not L*S
                row = np.einsum("...i,...i->...", d_out[b], out[b])[..., None]
            else:
                row = np.einsum("...i,...i->...", d_s, pb)[..., None]
            d_s -= row
            d_s *= pb  # dS = P * (dP - D)
            np.matmul(d_s, _part(k_, b), out=d_q[b])
            np.matmul(_t(d_s), _part(qs, b), out=d_k[b])
            if d_mask is not None:
                d_mask[b] = d_s
        d_q *= scale
        d_k *= scale
        # Function outputs must be arrays: an empty placeholder when the mask needs no gradient
        d_mask = _sum_to(d_mask, node.mask_shape) if mask_grad else np.zeros(0, probs.dtype)
        return _sum_to(d_q, q.shape), _sum_to(d_k, k.shape), _sum_to(d_v, v.shape), d_mask

    def backward(self, *grads):
        raise NotImplementedError(
            "scaled_dot_product_attention: second derivatives are not supported "
            "(create_graph=True followed by a backward through attention's gradient)"
        )


def _as_mask(op: str, mask, shape: tuple):
    """A user mask (bool: True = attend, as PyTorch; float: added) -> what Attention takes."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = Tensor(np.asarray(mask))
    try:
        np.broadcast_shapes(mask.shape, shape)
    except ValueError:
        raise ValueError(
            f"{op}: attn_mask of shape {mask.shape} doesn't broadcast to the scores {shape}"
        ) from None
    if mask.dtype == np.bool_:  # True = attend -> 0, False -> -inf
        return Tensor._make(additive_mask(~mask.data, np.float32))
    if mask.dtype.kind != "f":
        raise TypeError(f"{op}: attn_mask must be bool or floating point, got dtype {mask.dtype}")
    return mask


def attention(
    q,
    k,
    v,
    mask=None,
    scale=None,
    dropout_p: float = 0.0,
    need_weights: bool = False,
    op: str = "scaled_dot_product_attention",
):
    """The fused op on axon's own mask convention: bool ``mask`` True = blocked, float added.

    Returns O, or (O, dropout(P)) with ``need_weights``. Used by
    ``scaled_dot_product_attention`` and ``nn.MultiheadAttention``.
    """
    q, k, v = as_tensor(q), as_tensor(k), as_tensor(v)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(
            f"{op}: query, key and value need at least 2 dims, got {q.shape}, {k.shape}, {v.shape}"
        )
    if k.shape[-1] != q.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(
            f"{op}: expected query (..., L, E), key (..., S, E), value (..., S, Ev); "
            f"got {q.shape}, {k.shape}, {v.shape}"
        )
    try:
        np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(
            f"{op}: batch dims of {q.shape}, {k.shape}, {v.shape} don't broadcast"
        ) from None
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be in [0, 1], got {dropout_p}")
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    if mask is not None and mask.dtype == np.bool_:
        mask = Tensor._make(additive_mask(mask.data, q.dtype))
    elif mask is not None and mask.dtype != q.dtype:
        mask = mask.to(q.dtype)
    return Attention.apply(q, k, v, mask, float(scale), float(dropout_p), need_weights)


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
):
    r"""softmax(Q K^T * scale + mask) V, fused, as ``torch.nn.functional.scaled_dot_product_attention``.

    Args:
        query, key, value: (..., L, E), (..., S, E), (..., S, Ev); the batch dims
            (e.g. (N, heads)) broadcast.
        attn_mask: bool, True where a query may attend to a key (as PyTorch), or
            float, added to the scores; broadcastable to (..., L, S).
        dropout_p: dropout on the attention weights; applied whenever > 0 (pass
            ``dropout_p if self.training else 0.0`` from a module).
        is_causal: query i attends only to keys j <= i (top-left aligned when
            L != S, as PyTorch); an error together with ``attn_mask``.
        scale: default 1 / sqrt(E).

    Shape: returns (..., L, Ev). A query row whose keys are all masked out
    gets 0 (PyTorch's safe softmax), not NaN.

    Example::

        >>> q = k = v = axon.randn(2, 4, 16, 8)             # (N, heads, T, head_dim)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        (2, 4, 16, 8)
    """
    op = "scaled_dot_product_attention"
    q, k = as_tensor(query), as_tensor(key)
    n_q, n_k = q.shape[-2] if q.ndim >= 2 else 0, k.shape[-2] if k.ndim >= 2 else 0
    if is_causal and attn_mask is not None:
        raise ValueError(f"{op}: pass either attn_mask or is_causal=True, not both (as PyTorch)")
    mask = _as_mask(op, attn_mask, (n_q, n_k))
    if is_causal:
        mask = Tensor._make(causal_additive(n_q, n_k, 0, q.dtype))
    return attention(q, k, value, mask, scale, dropout_p, op=op)


# ---------------------------------------------------------------- rotary (RoPE)
class Rotary(Function):
    """Rotate feature pairs (a, b) of x by per-position angles: (a c - b s, b c + a s).

    ``cos``/``sin`` are (T, D/2), broadcast over x (..., T, D). Pairs are the two
    halves (a = x[..., :D/2], b = x[..., D/2:]) or, with ``interleaved``,
    neighbours (a = x[..., 0::2], b = x[..., 1::2]). A rotation is linear and
    orthogonal, so the backward is the rotation by -angle: this same op with -sin.
    """

    def forward(self, x, cos, sin, interleaved):
        self.cos, self.sin, self.interleaved = cos, sin, interleaved
        half = x.shape[-1] // 2
        first, second = (
            (slice(0, None, 2), slice(1, None, 2))
            if interleaved
            else (slice(0, half), slice(half, None))
        )
        a, b = x[..., first], x[..., second]
        out = np.empty_like(x)
        out_a, out_b = out[..., first], out[..., second]
        np.multiply(a, cos, out=out_a)
        out_a -= b * sin
        np.multiply(b, cos, out=out_b)
        out_b += a * sin
        return out

    def backward(self, grad):
        return Rotary.apply(grad, self.cos, -self.sin, self.interleaved)


def apply_rotary(x, cos, sin, interleaved: bool = False):
    """Rotary position embedding of x (..., T, D) with angle tables cos, sin (T, D/2).

    See ``nn.RotaryEmbedding``, which builds the tables from positions.
    """
    x = as_tensor(x)
    cos, sin = np.asarray(cos), np.asarray(sin)
    if (
        x.ndim < 2
        or x.shape[-1] % 2
        or cos.shape != (x.shape[-2], x.shape[-1] // 2)
        or sin.shape != cos.shape
    ):
        raise ValueError(
            f"apply_rotary: expected x (..., T, D) with D even and cos, sin (T, D/2); "
            f"got x {x.shape}, cos {cos.shape}, sin {sin.shape}"
        )
    return Rotary.apply(
        x, cos.astype(x.dtype, copy=False), sin.astype(x.dtype, copy=False), interleaved
    )
