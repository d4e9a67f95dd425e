"""Transformer layers and stacks, as ``torch.nn``'s (parameter names included).

    post-norm (norm_first=False, the original paper):   x = norm1(x + SA(x));    x = norm2(x + FF(x))
    pre-norm  (norm_first=True, GPT-2 and most since):   x = x + SA(norm1(x));    x = x + FF(norm2(x))

    SA(x) = dropout1(self_attn(x, x, x))          FF(x) = dropout2(linear2(dropout(act(linear1(x)))))

A decoder layer adds cross-attention on the encoder's output (``memory``)
between the two, with its own norm and dropout. Unlike PyTorch there is no
separate "fast path": eval mode runs the same code as training.
"""

from __future__ import annotations

import copy

import numpy as np

from axon.nn import init
from axon.nn.attention import KVCache, MultiheadAttention
from axon.nn.containers import ModuleList
from axon.nn.dropout import Dropout
from axon.nn.linear import Linear
from axon.nn.module import Module
from axon.nn.normalization import LayerNorm
from axon.ops.activation import gelu, relu
from axon.ops.movement import reshape


def _activation(name_or_fn):
    if name_or_fn == "relu":
        return relu
    if name_or_fn == "gelu":
        return gelu
    if callable(name_or_fn):
        return name_or_fn
    raise ValueError(
        f"Transformer layer: activation should be 'relu', 'gelu' or a callable, got {name_or_fn!r}"
    )


class _FeedForward:
    """The position-wise FF block, shared by encoder and decoder layers (a mixin)."""

    def _init_ff(self, d_model, dim_feedforward, dropout, activation, bias, dtype):
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.activation = _activation(activation)

    def _ff_block(self, x, drop):
        shape = x.shape
        # 2-D GEMMs: NumPy runs a 3-D @ 2-D matmul as one small GEMM per leading index
        x = reshape(x, -1, shape[-1])  # (N * T, d)
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return drop(reshape(x, shape))  # (N, T, d) or (T, N, d)


class TransformerEncoderLayer(_FeedForward, Module):
    r"""Self-attention then a feed-forward network, each with a residual connection and LayerNorm.

    Args:
        d_model: model width.  nhead: attention heads.
        dim_feedforward: hidden width of the FF network (default 2048).
        dropout: dropout after attention weights, inside FF and on each branch (default 0.1).
        activation: ``'relu'``, ``'gelu'`` or a callable (e.g. ``nn.GELU()``).
        layer_norm_eps: LayerNorm eps.  batch_first: (N, T, d) instead of (T, N, d).
        norm_first: pre-norm instead of post-norm.  bias: biases in Linear and LayerNorm.

    Forward: ``src``, ``src_mask`` (T, T) / (N*nhead, T, T), ``src_key_padding_mask``
    (N, T), ``is_causal`` (see ``MultiheadAttention``), and axon's ``kv_cache``
    (a ``KVCache``, for token-by-token decoding with a causal mask).

    Shape: src (T, N, d) or (N, T, d) with batch_first -> same.

    Example::

        >>> layer = nn.TransformerEncoderLayer(d_model=64, nhead=4, batch_first=True, norm_first=True)
        >>> layer(axon.randn(2, 10, 64), is_causal=True).shape
        (2, 10, 64)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation="relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        dtype=np.float32,
    ):
        super().__init__()
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self._init_ff(d_model, dim_feedforward, dropout, activation, bias, dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)

    def forward(
        self,
        src,
        src_mask=None,
        src_key_padding_mask=None,
        is_causal: bool = False,
        kv_cache: KVCache | None = None,
    ):
        x = src
        if self.norm_first:
            x = x + self._sa_block(
                self.norm1(x), src_mask, src_key_padding_mask, is_causal, kv_cache
            )
            x = x + self._ff_block(self.norm2(x), self.dropout2)
        else:
            x = self.norm1(
                x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal, kv_cache)
            )
            x = self.norm2(x + self._ff_block(x, self.dropout2))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal, kv_cache):
        x, _ = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
            kv_cache=kv_cache,
        )
        return self.dropout1(x)


class TransformerDecoderLayer(_FeedForward, Module):
    r"""Self-attention, cross-attention on ``memory``, then a feed-forward network.

    Each of the three blocks has a residual connection, a LayerNorm (norm1,
    norm2, norm3) and dropout (dropout1, 2, 3); ``multihead_attn`` is the
    cross-attention. Args as ``TransformerEncoderLayer``.

    Forward: ``tgt``, ``memory``, ``tgt_mask``, ``memory_mask``,
    ``tgt_key_padding_mask``, ``memory_key_padding_mask``, ``tgt_is_causal``,
    ``memory_is_causal``, and axon's ``kv_cache`` for the self-attention.

    Shape: tgt (T, N, d), memory (S, N, d) (batch first with batch_first) -> like tgt.

    Example::

        >>> layer = nn.TransformerDecoderLayer(d_model=64, nhead=4)
        >>> layer(axon.randn(7, 2, 64), axon.randn(10, 2, 64), tgt_is_causal=True).shape
        (7, 2, 64)
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation="relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        dtype=np.float32,
    ):
        super().__init__()
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self.multihead_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, dtype=dtype
        )
        self._init_ff(d_model, dim_feedforward, dropout, activation, bias, dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
        kv_cache: KVCache | None = None,
    ):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(
                self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal, kv_cache
            )
            x = x + self._mha_block(
                self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal
            )
            x = x + self._ff_block(self.norm3(x), self.dropout3)
        else:
            x = self.norm1(
                x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal, kv_cache)
            )
            x = self.norm2(
                x
                + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            )
            x = self.norm3(x + self._ff_block(x, self.dropout3))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal, kv_cache):
        x, _ = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
            kv_cache=kv_cache,
        )
        return self.dropout1(x)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x, _ = self.multihead_attn(
            x,
            memory,
            memory,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )
        return self.dropout2(x)


def _clones(layer: Module, n: int) -> ModuleList:
    """n independent deep copies (same initial weights, as PyTorch's stacks)."""
    return ModuleList([copy.deepcopy(layer) for _ in range(n)])


def _caches(kv_caches, n: int) -> list:
    if kv_caches is None:
        return [None] * n
    if len(kv_caches) != n:
        raise ValueError(
            f"Transformer stack: got {len(kv_caches)} KV caches for {n} layers (one per layer)"
        )
    return list(kv_caches)


class TransformerEncoder(Module):
    r"""``num_layers`` copies of ``encoder_layer`` applied in turn, then an optional final ``norm``.

    Forward: ``src``, ``mask``, ``src_key_padding_mask``, ``is_causal``, and axon's
    ``kv_caches`` (one ``KVCache`` per layer: ``KVCache.for_layers(num_layers)``).

    Example::

        >>> layer = nn.TransformerEncoderLayer(64, 4, dim_feedforward=128)
        >>> encoder = nn.TransformerEncoder(layer, num_layers=3, norm=nn.LayerNorm(64))
        >>> encoder(axon.randn(10, 2, 64)).shape
        (10, 2, 64)
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        src,
        mask=None,
        src_key_padding_mask=None,
        is_causal: bool | None = None,
        kv_caches: list | None = None,
    ):
        x = src
        for layer, cache in zip(self.layers, _caches(kv_caches, self.num_layers), strict=True):
            x = layer(
                x,
                src_mask=mask,
                src_key_padding_mask=src_key_padding_mask,
                is_causal=bool(is_causal),
                kv_cache=cache,
            )
        return self.norm(x) if self.norm is not None else x


class TransformerDecoder(Module):
    r"""``num_layers`` copies of ``decoder_layer`` applied in turn, then an optional final ``norm``.

    Forward: ``tgt``, ``memory`` and the masks of ``TransformerDecoderLayer``,
    plus axon's ``kv_caches`` (one ``KVCache`` per layer).

    Example::

        >>> layer = nn.TransformerDecoderLayer(64, 4, dim_feedforward=128)
        >>> decoder = nn.TransformerDecoder(layer, num_layers=2)
        >>> decoder(axon.randn(7, 2, 64), axon.randn(10, 2, 64)).shape
        (7, 2, 64)
    """

    def __init__(
        self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None
    ):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt,
        memory,
        tgt_mask=None,
        memory_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
        kv_caches: list | None = None,
    ):
        x = tgt
        for layer, cache in zip(self.layers, _caches(kv_caches, self.num_layers), strict=True):
            x = layer(
                x,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=bool(tgt_is_causal),
                memory_is_causal=memory_is_causal,
                kv_cache=cache,
            )
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    r"""The encoder-decoder model of "Attention Is All You Need", as ``torch.nn.Transformer``.

    Args: d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
    dim_feedforward=2048, dropout=0.1, activation, custom_encoder, custom_decoder,
    layer_norm_eps, batch_first, norm_first, bias (as the layers). Both stacks end
    with a LayerNorm (``encoder.norm``, ``decoder.norm``).

    Shape: src (S, N, d), tgt (T, N, d) (batch first with batch_first) -> (T, N, d).

    Example::

        >>> model = nn.Transformer(d_model=64, nhead=4, num_encoder_layers=2, num_decoder_layers=2)
        >>> tgt_mask = nn.Transformer.generate_square_subsequent_mask(7)
        >>> model(axon.randn(10, 2, 64), axon.randn(7, 2, 64), tgt_mask=tgt_mask).shape
        (7, 2, 64)
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation="relu",
        custom_encoder: Module | None = None,
        custom_decoder: Module | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        dtype=np.float32,
    ):
        super().__init__()
        kw = dict(
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            activation=activation,
            layer_norm_eps=layer_norm_eps,
            batch_first=batch_first,
            norm_first=norm_first,
            bias=bias,
            dtype=dtype,
        )
        if custom_encoder is None:
            custom_encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **kw),
                num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype),
            )
        if custom_decoder is None:
            custom_decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **kw),
                num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype),
            )
        self.encoder, self.decoder = custom_encoder, custom_decoder
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():  # PyTorch's init for the whole model: Xavier on every matrix
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(
        self,
        src,
        tgt,
        src_mask=None,
        tgt_mask=None,
        memory_mask=None,
        src_key_padding_mask=None,
        tgt_key_padding_mask=None,
        memory_key_padding_mask=None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ):
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz: int, dtype=np.float32):
        """Float (sz, sz) mask: 0 on and below the diagonal, -inf above (position i sees j <= i)."""
        from axon.tensor import Tensor

        return Tensor(np.triu(np.full((sz, sz), -np.inf, dtype), k=1))
