"""``MultiheadAttention`` and ``KVCache`` (past keys and values for incremental decoding)."""

from __future__ import annotations

import numpy as np

from axon.autograd.grad_mode import is_grad_enabled
from axon.nn import init
from axon.nn.linear import Linear
from axon.nn.module import Module
from axon.nn.parameter import Parameter
from axon.ops.attention import attention, causal_additive, causal_blocked
from axon.ops.elementwise import as_tensor, where
from axon.ops.linalg import linear
from axon.ops.movement import cat, permute, reshape, split, unsqueeze
from axon.tensor import Tensor


class KVCache:
    """The keys and values one attention layer has seen so far, for token-by-token decoding.

    Pass the same ``KVCache`` to the layer at every step (one cache per layer;
    ``KVCache.for_layers(n)`` makes a list). Each call appends the step's keys
    and values (B, heads, T_new, head_dim) and attends over everything cached,
    so step t costs O(t) instead of re-running the whole prefix::

        cache = nn.KVCache()
        for t in range(T):
            y_t, _ = mha(x[:, t:t+1], x[:, t:t+1], x[:, t:t+1], kv_cache=cache, is_causal=True,
                         need_weights=False)

    Under ``no_grad`` (the usual case when generating) keys and values go into
    a preallocated buffer that doubles when full, so appending is amortised
    O(T_new); when gradients are recorded it concatenates instead, so the
    cache is differentiable.
    """

    def __init__(self):
        self.reset()

    @classmethod
    def for_layers(cls, num_layers: int) -> list:
        return [cls() for _ in range(num_layers)]

    def reset(self) -> None:
        """Forget everything (start a new sequence)."""
        self._k = self._v = None  # Tensors, or buffers whose first ``_len`` steps are filled
        self._len = 0
        self._buffered = False

    def __len__(self) -> int:
        """How many positions are cached (the offset of the next token)."""
        return self._len

    def update(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Append k, v (B, H, T_new, D) and return all cached keys and values (B, H, S, D)."""
        if self._k is not None and (
            k.shape[:2] != self._k.shape[:2] or k.shape[3] != self._k.shape[3]
        ):
            raise ValueError(
                f"KVCache: new keys of shape {k.shape} don't continue the cached ones "
                f"(B, H, {self._len}, D) = {self._k.shape[:2] + (self._len,) + self._k.shape[3:]}"
            )
        n_new = k.shape[2]
        recording = is_grad_enabled() and (k.requires_grad or v.requires_grad)
        if recording or (self._k is not None and not self._buffered):
            if self._buffered:  # switch from buffer to differentiable concatenation
                self._k, self._v = self.keys, self.values
            self._k = k if self._k is None else cat([self._k, k], 2)  # (B, H, S, D)
            self._v = v if self._v is None else cat([self._v, v], 2)
            self._buffered = False
        else:
            end = self._len + n_new
            if self._k is None or end > self._k.shape[2]:
                self._k = self._grow(self._k, k, end)
                self._v = self._grow(self._v, v, end)
            self._k.data[:, :, self._len : end] = k.data
            self._v.data[:, :, self._len : end] = v.data
            self._buffered = True
        self._len += n_new
        return self.keys, self.values

    def _grow(self, old, new, needed: int) -> Tensor:
        capacity = max(needed, 2 * (old.shape[2] if old is not None else 0), 16)
        buf = np.empty(
            new.shape[:2] + (capacity,) + new.shape[3:], new.dtype
        )  # (B, H, capacity, D)
        if old is not None:
            buf[:, :, : self._len] = old.data[:, :, : self._len]
        return Tensor._make(buf)

    @property
    def keys(self) -> Tensor | None:
        """Cached keys (B, H, S, D)."""
        if self._k is None or not self._buffered:
            return self._k
        return Tensor._make(self._k.data[:, :, : self._len])

    @property
    def values(self) -> Tensor | None:
        """Cached values (B, H, S, Dv)."""
        if self._v is None or not self._buffered:
            return self._v
        return Tensor._make(self._v.data[:, :, : self._len])


class MultiheadAttention(Module):
    r"""Attention over ``num_heads`` subspaces, as ``torch.nn.MultiheadAttention``.

        head_i = softmax(Q W_q,i^T (K W_k,i^T)^T / sqrt(d) + mask) (V W_v,i^T),   d = embed_dim / num_heads
        out = concat(head_1, ..., head_h) W_o^T + b_o

    Args:
        embed_dim: model width E.  num_heads: heads (E must divide evenly).
        dropout: dropout on the attention weights (training only).
        bias: learn in_proj_bias and out_proj.bias.
        kdim, vdim: feature sizes of key and value (default E); when they differ
            from E the projections are ``q_proj_weight``, ``k_proj_weight``,
            ``v_proj_weight`` instead of one packed ``in_proj_weight`` (3E, E).
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).

    Forward args (as PyTorch): ``query, key, value``; ``key_padding_mask`` (N, S),
    True (or -inf) for keys to ignore; ``need_weights``: also return the
    attention weights, averaged over heads if ``average_attn_weights``;
    ``attn_mask`` (L, S) or (N * heads, L, S), bool True = NOT allowed (the
    opposite of F.scaled_dot_product_attention's) or float, added; ``is_causal``:
    a causal mask (used as the mask when ``attn_mask`` is None, where PyTorch
    raises). axon adds ``kv_cache``: a ``KVCache`` for incremental decoding; with
    it, masks cover all S = cached + new keys and ``is_causal`` lets the new
    queries see every cached key.

    Shape:
        query (L, N, E), key (S, N, kdim), value (S, N, vdim) (or batch first, or
        unbatched (L, E)). Returns attn_output like query, and attn_weights
        (N, L, S) ((N, heads, L, S) without averaging) or None.

    Example::

        >>> mha = nn.MultiheadAttention(64, 8, batch_first=True)
        >>> x = axon.randn(2, 10, 64)
        >>> out, weights = mha(x, x, x)
        >>> out.shape, weights.shape
        ((2, 10, 64), (2, 10, 10))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        dtype=np.float32,
    ):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0 or embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: embed_dim ({embed_dim}) must be a positive multiple of num_heads ({num_heads})"
            )
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError(
                "MultiheadAttention: add_bias_kv and add_zero_attn are not supported"
            )
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.kdim, self.vdim = kdim or embed_dim, vdim or embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first = float(dropout), batch_first
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dtype))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dtype))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dtype))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty(3 * embed_dim, dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's: Xavier-uniform projections, zero biases (out_proj.weight keeps Linear's init)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    # ------------------------------------------------------------------ parts
    def _project(self, query, key, value):
        """q, k, v = query W_q^T + b_q, ...; one GEMM for all three in self-attention."""
        e = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e : 2 * e], b[2 * e :])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:
                return split(_linear(query, w, b), e, -1)  # (..., 3E) -> 3 x (..., E)
            if key is value:
                kv = _linear(key, w[e:], None if b is None else b[e:])  # (..., 2E)
                return (_linear(query, w[:e], bq), *split(kv, e, -1))
            wq, wk, wv = w[:e], w[e : 2 * e], w[2 * e :]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return _linear(query, wq, bq), _linear(key, wk, bk), _linear(value, wv, bv)

    def _heads(self, x):
        """(A0, A1, E) in the layer's layout -> (N, heads, T, head_dim), a view where possible."""
        x = reshape(x, *x.shape[:2], self.num_heads, self.head_dim)  # (A0, A1, H, D)
        return permute(x, (0, 2, 1, 3) if self.batch_first else (1, 2, 0, 3))  # (N, H, T, D)

    def _mask(self, attn_mask, key_padding_mask, is_causal, n, n_q, n_k, past, dtype):
        """Merge the masks into one for the fused op: bool True = blocked, or float added."""
        name = "MultiheadAttention"
        masks = []
        if attn_mask is not None:
            am = as_tensor(attn_mask)
            if am.shape == (n_q, n_k):
                am = reshape(am, 1, 1, n_q, n_k)  # (1, 1, L, S): every batch and head
            elif am.shape == (n * self.num_heads, n_q, n_k):
                am = reshape(am, n, self.num_heads, n_q, n_k)  # (N, H, L, S)
            else:
                raise ValueError(
                    f"{name}: attn_mask of shape {am.shape}; expected ({n_q}, {n_k}) or "
                    f"({n * self.num_heads}, {n_q}, {n_k}) (N * num_heads, L, S)"
                )
            masks.append(am)
        elif is_causal:
            if key_padding_mask is None:  # the common case: a cached additive mask, no merging
                return Tensor._make(causal_additive(n_q, n_k, past, dtype))
            masks.append(Tensor._make(causal_blocked(n_q, n_k, past)))
        if key_padding_mask is not None:
            kpm = as_tensor(key_padding_mask)
            if kpm.shape != (n, n_k):
                raise ValueError(
                    f"{name}: key_padding_mask of shape {kpm.shape}; expected (N, S) = {(n, n_k)}"
                )
            masks.append(reshape(kpm, n, 1, 1, n_k))  # (N, 1, 1, S): every head and query
        for m in masks:
            if m.dtype != np.bool_ and m.dtype.kind != "f":
                raise TypeError(
                    f"{name}: masks must be bool or floating point, got dtype {m.dtype}"
                )
        if not masks:
            return None
        if all(m.dtype == np.bool_ for m in masks):
            merged = masks[0].data
            for m in masks[1:]:
                merged = merged | m.data
            return Tensor._make(merged)
        # a float mask is present: bool masks become -inf where True, then all add up
        floats = [
            where(m, -np.inf, 0.0).to(dtype) if m.dtype == np.bool_ else m.to(dtype) for m in masks
        ]
        merged = floats[0]
        for m in floats[1:]:
            merged = merged + m
        return merged

    # ---------------------------------------------------------------- forward
    def forward(
        self,
        query,
        key,
        value,
        key_padding_mask=None,
        need_weights: bool = True,
        attn_mask=None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
        kv_cache: KVCache | None = None,
    ):
        same_kv = key is value
        same_qkv = query is key and same_kv
        query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
        batched = query.ndim == 3
        if not batched:  # unbatched (L, E): a batch of one
            axis = 0 if self.batch_first else 1
            query, key = unsqueeze(query, axis), unsqueeze(key, axis)
            value = key if same_kv else unsqueeze(value, axis)
            query = key if same_qkv else query
            if key_padding_mask is not None:
                key_padding_mask = unsqueeze(as_tensor(key_padding_mask), 0)  # (1, S)
        self._check(query, key, value)
        n = query.shape[0 if self.batch_first else 1]
        q, k, v = (self._heads(t) for t in self._project(query, key, value))  # each (N, H, T, D)
        past = len(kv_cache) if kv_cache is not None else 0
        if kv_cache is not None:
            k, v = kv_cache.update(k, v)  # (N, H, past + S_new, D)
        n_q, n_k = q.shape[2], k.shape[2]
        mask = self._mask(attn_mask, key_padding_mask, is_causal, n, n_q, n_k, past, query.dtype)
        dropout_p = self.dropout if self.training else 0.0
        result = attention(q, k, v, mask, None, dropout_p, need_weights, op="MultiheadAttention")
        out, weights = result if need_weights else (result, None)
        # (N, H, L, D) -> the input's layout (A0, A1, H, D) -> (A0 * A1, E): heads concatenated
        out = permute(out, (0, 2, 1, 3) if self.batch_first else (2, 0, 1, 3))
        a0, a1 = out.shape[:2]
        out = self.out_proj(reshape(out, a0 * a1, self.embed_dim))  # (A0 * A1, E)
        out = reshape(out, a0, a1, self.embed_dim)  # (A0, A1, E)
        if weights is not None and average_attn_weights:
            weights = weights.mean(1)  # (N, L, S)
        if not batched:
            seq_len = out.shape[1 if self.batch_first else 0]
            out = reshape(out, seq_len, self.embed_dim)  # (L, E)
            weights = None if weights is None else reshape(weights, weights.shape[1:])  # (L, S)
        return out, weights

    def _check(self, query, key, value) -> None:
        ok = query.ndim == key.ndim == value.ndim == 3
        ok = ok and (query.shape[-1], key.shape[-1], value.shape[-1]) == (
            self.embed_dim,
            self.kdim,
            self.vdim,
        )
        b = 0 if self.batch_first else 1
        ok = (
            ok
            and query.shape[b] == key.shape[b] == value.shape[b]
            and key.shape[1 - b] == value.shape[1 - b]
        )
        if not ok:
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ValueError(
                f"MultiheadAttention(embed_dim={self.embed_dim}, kdim={self.kdim}, vdim={self.vdim}): "
                f"expected query, key, value as {layout} with the same batch and key/value length, "
                f"got {query.shape}, {key.shape}, {value.shape}"
            )

    def extra_repr(self) -> str:
        s = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if not self._qkv_same_embed_dim:
            s += f", kdim={self.kdim}, vdim={self.vdim}"
        return s + (", batch_first=True" if self.batch_first else "")


def _linear(x, w, b):
    """linear() on (A0, A1, in) through one 2-D GEMM: NumPy runs a 3-D @ 2-D matmul as A0 small GEMMs."""
    y = linear(reshape(x, -1, x.shape[-1]), w, b)  # (A0 * A1, out)
    return reshape(y, *x.shape[:-1], w.shape[0])  # (A0, A1, out)
