"""Positional encodings: learned, sinusoidal and rotary (RoPE).

Attention is blind to order; these give each position an identity:

- ``LearnedPositionalEmbedding``: a trained vector per position, added (GPT-2, BERT).
- ``SinusoidalPositionalEncoding``: fixed sines and cosines of geometrically
  spaced frequencies, added ("Attention Is All You Need").
- ``RotaryEmbedding``: rotates query and key feature pairs by an angle
  proportional to the position, so q_m . k_n depends on m - n only (RoFormer,
  LLaMA). Applied to q and k inside attention, not added to the input.

The first two take ``x`` as (N, T, d) (or (T, N, d) with batch_first=False, or
(T, d)) and an ``offset``: the position of x's first step, for decoding one
token at a time after a KV cache holds the earlier ones.
"""

from __future__ import annotations

import math

import numpy as np

from axon.nn import init
from axon.nn.module import Module
from axon.nn.parameter import Parameter
from axon.ops.attention import apply_rotary
from axon.ops.elementwise import as_tensor
from axon.ops.movement import reshape
from axon.tensor import Tensor


def _add_positions(layer, x, table, offset: int):
    """x + table[offset : offset + T], broadcast over the batch dim."""
    x = as_tensor(x)
    if x.ndim not in (2, 3) or x.shape[-1] != layer.dim:
        raise ValueError(
            f"{type(layer).__name__}(dim={layer.dim}): expected input (N, T, {layer.dim}), "
            f"(T, N, {layer.dim}) or (T, {layer.dim}), got {x.shape}"
        )
    seq_axis = 1 if x.ndim == 3 and layer.batch_first else 0
    n_steps = x.shape[seq_axis]
    if offset < 0 or offset + n_steps > layer.max_len:
        raise ValueError(
            f"{type(layer).__name__}(max_len={layer.max_len}): positions {offset}..{offset + n_steps - 1} "
            f"are out of range (input {x.shape}, offset {offset})"
        )
    pe = table[offset : offset + n_steps]  # (T, d)
    if x.ndim == 3 and not layer.batch_first:
        pe = reshape(pe, n_steps, 1, layer.dim)  # (T, 1, d): broadcasts over the batch
    return x + pe


class LearnedPositionalEmbedding(Module):
    r"""A learned vector per position, added to the input: y[t] = x[t] + W[offset + t].

    Args:
        max_len: the longest sequence (positions 0 .. max_len - 1).
        dim: feature size.
        batch_first: input is (N, T, dim) (default) rather than (T, N, dim).
        init_std: weights start N(0, init_std^2) (0.02, as GPT-2 and BERT).

    Shape: (N, T, dim), (T, N, dim) or (T, dim) -> same.

    Example::

        >>> pos = nn.LearnedPositionalEmbedding(max_len=128, dim=64)
        >>> pos(axon.randn(2, 10, 64)).shape
        (2, 10, 64)
    """

    def __init__(
        self,
        max_len: int,
        dim: int,
        batch_first: bool = True,
        init_std: float = 0.02,
        dtype=np.float32,
    ):
        super().__init__()
        self.max_len, self.dim, self.batch_first, self.init_std = (
            max_len,
            dim,
            batch_first,
            init_std,
        )
        self.weight = Parameter(np.empty((max_len, dim), dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight, 0.0, self.init_std)

    def forward(self, x, offset: int = 0):
        return _add_positions(self, x, self.weight, offset)

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, dim={self.dim}"


def sinusoidal_table(max_len: int, dim: int, dtype=np.float32) -> np.ndarray:
    """(max_len, dim): PE[p, 2i] = sin(p / 10000^(2i/dim)),  PE[p, 2i+1] = cos(p / 10000^(2i/dim))."""
    position = np.arange(max_len, dtype=np.float64)[:, None]  # (max_len, 1)
    inv_freq = np.exp(
        np.arange(0, dim, 2, dtype=np.float64) * (-math.log(10000.0) / dim)
    )  # (ceil(dim/2),)
    angles = position * inv_freq  # (max_len, ceil(dim/2)), in float64 so large positions stay exact
    table = np.empty((max_len, dim), np.float64)
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : dim // 2])
    return table.astype(dtype)


class SinusoidalPositionalEncoding(Module):
    r"""Fixed sinusoids added to the input, as in "Attention Is All You Need".

        PE[pos, 2i] = sin(pos / 10000^(2i/d)),    PE[pos, 2i+1] = cos(pos / 10000^(2i/d))

    Each pair of features is a clock at its own frequency, so PE[pos + k] is a
    fixed linear function (a rotation) of PE[pos]. The table is a non-persistent
    buffer ``pe`` (max_len, dim): rebuilt at construction, never saved.

    Args:
        dim: feature size.  max_len: the longest sequence (default 5000).
        batch_first: input is (N, T, dim) (default) rather than (T, N, dim).

    Shape: (N, T, dim), (T, N, dim) or (T, dim) -> same.

    Example::

        >>> pos = nn.SinusoidalPositionalEncoding(64)
        >>> pos(axon.zeros(1, 3, 64))[0, 1, :2]        # position 1: sin(1), cos(1)
        tensor([0.8415, 0.5403])
    """

    def __init__(self, dim: int, max_len: int = 5000, batch_first: bool = True, dtype=np.float32):
        super().__init__()
        self.dim, self.max_len, self.batch_first = dim, max_len, batch_first
        self.register_buffer("pe", Tensor(sinusoidal_table(max_len, dim, dtype)), persistent=False)

    def forward(self, x, offset: int = 0):
        return _add_positions(self, x, self.pe, offset)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, max_len={self.max_len}"


class RotaryEmbedding(Module):
    r"""Rotary position embedding (RoPE) for queries and keys.

    Feature pairs (a_j, b_j), j < D/2, of a query or key at position p are rotated
    by the angle p * theta_j, theta_j = base^(-2j/D):

        a' = a cos(p theta_j) - b sin(p theta_j),    b' = b cos(p theta_j) + a sin(p theta_j)

    A rotation keeps norms, and rotating q by m*theta and k by n*theta leaves
    q . k depending on m - n only: attention sees relative positions.

    Pairing convention: by default pairs are the two halves of the head,
    (x_j, x_{j + D/2}) ("rotate_half", GPT-NeoX and Hugging Face LLaMA);
    ``interleaved=True`` pairs neighbours (x_{2j}, x_{2j+1}) (RoFormer and
    Meta's original LLaMA code). Weights trained with one convention need a
    permutation of q/k projection rows to work with the other.

    Args:
        head_dim: D, the per-head feature size (even).
        base: the frequency base (default 10000).
        interleaved: the pairing (see above).

    Forward: ``q, k`` (..., T, D); ``offset``: position of their first step (the
    KV-cache length when decoding), or explicit ``positions`` (T,). Returns the
    rotated (q, k).

    Example::

        >>> rope = nn.RotaryEmbedding(head_dim=16)
        >>> q = k = axon.randn(2, 4, 10, 16)             # (N, heads, T, head_dim)
        >>> q, k = rope(q, k)
        >>> q_new, k_new = rope(axon.randn(2, 4, 1, 16), axon.randn(2, 4, 1, 16), offset=10)
    """

    def __init__(self, head_dim: int, base: float = 10000.0, interleaved: bool = False):
        super().__init__()
        if head_dim <= 0 or head_dim % 2:
            raise ValueError(
                f"RotaryEmbedding: head_dim must be a positive even number, got {head_dim}"
            )
        self.head_dim, self.base, self.interleaved = head_dim, float(base), interleaved
        inv_freq = self.base ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)  # (D/2,)
        self.register_buffer("inv_freq", Tensor(inv_freq), persistent=False)

    def cos_sin(self, positions) -> tuple[np.ndarray, np.ndarray]:
        """Angle tables cos, sin of shape (T, D/2) for integer ``positions`` (T,)."""
        angles = np.asarray(positions, dtype=np.float64)[:, None] * self.inv_freq.data  # (T, D/2)
        return np.cos(angles), np.sin(angles)

    def rotate(self, x, positions=None, offset: int = 0):
        """Rotate one tensor x (..., T, D) at ``positions`` (default offset .. offset + T - 1)."""
        x = as_tensor(x)
        if x.ndim < 2 or x.shape[-1] != self.head_dim:
            raise ValueError(
                f"RotaryEmbedding(head_dim={self.head_dim}): expected (..., T, {self.head_dim}), "
                f"got {x.shape}"
            )
        if positions is None:
            positions = np.arange(offset, offset + x.shape[-2])
        cos, sin = self.cos_sin(positions.data if isinstance(positions, Tensor) else positions)
        return apply_rotary(x, cos, sin, self.interleaved)

    def forward(self, q, k, positions=None, offset: int = 0):
        return self.rotate(q, positions, offset), self.rotate(k, positions, offset)

    def extra_repr(self) -> str:
        return f"head_dim={self.head_dim}, base={self.base:g}" + (
            ", interleaved=True" if self.interleaved else ""
        )
