"""Seq2Seq: a transformer encoder-decoder (T5-style layout) for sequence-to-sequence tasks.

    src (B, S) -> embed + positions -> encoder (bidirectional self-attention) -> memory (B, S, d)
    tgt_in (B, T) -> embed + positions -> decoder (causal self-attention, cross-attention
                     on memory) -> LayerNorm -> lm_head -> logits (B, T, V)

Choices, and how they differ from T5:

- Pre-norm with **LayerNorm** (T5 uses RMSNorm): x = x + sublayer(norm(x)),
  and a final LayerNorm closes each stack.
- **Learned absolute positions** (``nn.LearnedPositionalEmbedding``, one table
  for the source and one for the target), added to the token embeddings; T5
  instead adds a learned relative-position bias to the attention scores. So
  sequences are limited to ``max_len`` tokens.
- One token embedding is shared by encoder, decoder and the output layer
  (``lm_head`` is tied to it), as in T5 and "Attention Is All You Need".
- The encoder is ``nn.TransformerEncoder`` (pre-norm, ReLU); the decoder layer is
  written here on ``nn.MultiheadAttention`` so that while generating it can
  keep a key/value cache for both of its attentions.

Training is teacher forcing: the decoder reads ``tgt[:, :-1]`` (BOS, y1, y2 ...)
and predicts ``tgt[:, 1:]`` (y1, y2, ..., EOS). ``generate`` decodes greedily,
one token at a time: the decoder's self-attention appends each step's keys and
values to a ``KVCache``, and cross-attention projects the memory's keys and
values once (first step) and reuses them.

Example::

    >>> model = Seq2Seq(Seq2SeqConfig(vocab_size=14))
    >>> logits = model(src, tgt[:, :-1])              # (B, T, 14)
    >>> out = model.generate(src, max_len=10, bos=1, eos=2)   # (B, <= 11): BOS, answer, EOS, PAD...
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from axon.autograd.grad_mode import no_grad
from axon.nn import init
from axon.nn.activation import ReLU
from axon.nn.attention import KVCache, MultiheadAttention
from axon.nn.containers import ModuleList
from axon.nn.dropout import Dropout
from axon.nn.embedding import Embedding
from axon.nn.linear import Linear
from axon.nn.module import Module
from axon.nn.normalization import LayerNorm
from axon.nn.positional import LearnedPositionalEmbedding
from axon.nn.transformer import TransformerEncoder, TransformerEncoderLayer
from axon.tensor import Tensor


@dataclass
class Seq2SeqConfig:
    vocab_size: int = 14  # the synthetic tasks' vocabulary (axon.data.datasets.synthetic.SEQ_VOCAB)
    max_len: int = 64  # the longest source or target sequence (learned positions)
    d_model: int = 128  # model width
    n_head: int = 4
    n_encoder_layers: int = 2
    n_decoder_layers: int = 2
    d_ff: int = 512  # hidden width of the feed-forward blocks
    dropout: float = 0.1
    pad_id: int = 0  # source positions holding this id are masked out of attention


def _array(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


class FeedForward(Module):
    """Linear(d, d_ff) -> ReLU -> dropout -> Linear(d_ff, d), on every position (T5's original FF)."""

    def __init__(self, c: Seq2SeqConfig):
        super().__init__()
        self.linear1 = Linear(c.d_model, c.d_ff)
        self.act = ReLU()
        self.dropout = Dropout(c.dropout)
        self.linear2 = Linear(c.d_ff, c.d_model)

    def forward(self, x):
        B, T, d = x.shape
        # 2-D (B*T, d) inputs make each Linear one GEMM (NumPy's 3-D @ 2-D matmul is slower)
        h = self.linear2(self.dropout(self.act(self.linear1(x.reshape(B * T, d)))))  # (B*T, d)
        return h.reshape(B, T, d)  # (B, T, d)


class DecoderLayer(Module):
    """Pre-norm decoder layer: causal self-attention, cross-attention on memory, feed-forward."""

    def __init__(self, c: Seq2SeqConfig):
        super().__init__()
        self.norm1 = LayerNorm(c.d_model)
        self.self_attn = MultiheadAttention(
            c.d_model, c.n_head, dropout=c.dropout, batch_first=True
        )
        self.norm2 = LayerNorm(c.d_model)
        self.cross_attn = MultiheadAttention(
            c.d_model, c.n_head, dropout=c.dropout, batch_first=True
        )
        self.norm3 = LayerNorm(c.d_model)
        self.ff = FeedForward(c)
        self.dropout = Dropout(c.dropout)

    def forward(self, x, memory, memory_pad_mask=None, tgt_pad_mask=None, cache=None):
        """x (B, T, d), memory (B, S, d); ``cache``: a (self, cross) pair of KVCaches, or None."""
        self_kv, cross_kv = cache if cache is not None else (None, None)
        h = self.norm1(x)
        a, _ = self.self_attn(
            h,
            h,
            h,
            key_padding_mask=tgt_pad_mask,
            is_causal=True,
            need_weights=False,
            kv_cache=self_kv,
        )
        x = x + self.dropout(a)
        h = self.norm2(x)
        # memory's keys and values are the same at every decoding step: project them at the
        # first step, then pass no new positions (B, 0, d) and attend over the cached ones
        kv = memory if cross_kv is None or len(cross_kv) == 0 else memory[:, :0]
        a, _ = self.cross_attn(
            h, kv, kv, key_padding_mask=memory_pad_mask, need_weights=False, kv_cache=cross_kv
        )
        x = x + self.dropout(a)
        return x + self.dropout(self.ff(self.norm3(x)))


class Seq2Seq(Module):
    """Encoder-decoder transformer: ``forward(src, tgt_in, src_pad_mask, tgt_pad_mask) -> logits``.

    Args of forward:
        src: (B, S) int token ids.  tgt_in: (B, T) decoder inputs (BOS first).
        src_pad_mask: (B, S) bool, True at padding; default ``src == pad_id``.
        tgt_pad_mask: (B, T) bool, True at padding; default None (the causal mask
            already keeps real positions from seeing the padding after them).

    Shape: returns logits (B, T, vocab_size).
    """

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        c = self.config = config
        self.embed = Embedding(c.vocab_size, c.d_model)  # shared by encoder, decoder and lm_head
        self.src_pos = LearnedPositionalEmbedding(c.max_len, c.d_model)
        self.tgt_pos = LearnedPositionalEmbedding(c.max_len, c.d_model)
        self.dropout = Dropout(c.dropout)
        layer = TransformerEncoderLayer(
            c.d_model,
            c.n_head,
            c.d_ff,
            c.dropout,
            activation="relu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = TransformerEncoder(layer, c.n_encoder_layers, norm=LayerNorm(c.d_model))
        self.decoder = ModuleList([DecoderLayer(c) for _ in range(c.n_decoder_layers)])
        self.decoder_norm = LayerNorm(c.d_model)
        self.lm_head = Linear(c.d_model, c.vocab_size, bias=False)
        self.lm_head.weight = self.embed.weight  # tied: one Parameter
        init.normal_(self.embed.weight, 0.0, 0.02)

    def _check(self, name: str, ids: np.ndarray) -> None:
        if ids.ndim != 2 or not 0 < ids.shape[1] <= self.config.max_len:
            raise ValueError(
                f"Seq2Seq: {name} must be (B, L) with 1 <= L <= max_len={self.config.max_len}, got {ids.shape}"
            )

    def encode(self, src, src_pad_mask=None):
        """Memory (B, S, d) for source ids (B, S)."""
        src = _array(src)
        self._check("src", src)
        mask = src == self.config.pad_id if src_pad_mask is None else _array(src_pad_mask)
        x = self.dropout(self.src_pos(self.embed(src)))  # (B, S, d)
        return self.encoder(x, src_key_padding_mask=mask)

    def decode(self, tgt_in, memory, src_pad_mask, tgt_pad_mask=None, caches=None, offset: int = 0):
        """Logits (B, T, V) for decoder inputs (B, T) at positions offset .. offset + T - 1."""
        tgt_in = _array(tgt_in)
        B, T = tgt_in.shape
        x = self.dropout(self.tgt_pos(self.embed(tgt_in), offset=offset))  # (B, T, d)
        for i, layer in enumerate(self.decoder):
            x = layer(x, memory, src_pad_mask, tgt_pad_mask, caches[i] if caches else None)
        x = self.decoder_norm(x).reshape(B * T, self.config.d_model)  # (B*T, d)
        return self.lm_head(x).reshape(B, T, self.config.vocab_size)  # (B, T, V)

    def forward(self, src, tgt_in, src_pad_mask=None, tgt_pad_mask=None):
        src, tgt_in = _array(src), _array(tgt_in)
        self._check("tgt_in", tgt_in)
        src_pad_mask = src == self.config.pad_id if src_pad_mask is None else _array(src_pad_mask)
        memory = self.encode(src, src_pad_mask)
        return self.decode(tgt_in, memory, src_pad_mask, tgt_pad_mask)

    @no_grad()
    def generate(
        self, src, max_len: int, bos: int, eos: int, src_pad_mask=None, use_cache: bool = True
    ) -> Tensor:
        """Greedy decoding: start from BOS, append the most likely token until EOS or ``max_len`` tokens.

        Runs under ``no_grad`` in eval mode (restored afterwards). Rows that have
        produced EOS are filled with ``pad_id`` while the others finish; decoding
        stops early once every row has. ``use_cache=False`` re-runs the decoder
        on the whole prefix at each step (same tokens, slower).

        Returns: int64 Tensor (B, 1 + n) with n <= max_len: BOS, the tokens, PAD after EOS,
        laid out like the synthetic tasks' ``tgt``.
        """
        src = _array(src)
        if max_len > self.config.max_len:  # the last token is never fed back: positions < max_len
            raise ValueError(
                f"Seq2Seq.generate: max_len={max_len} exceeds the model's max_len={self.config.max_len}"
            )
        mask = src == self.config.pad_id if src_pad_mask is None else _array(src_pad_mask)
        was_training = self.training
        self.eval()
        try:
            memory = self.encode(src, mask)
            out = np.full((src.shape[0], 1), bos, dtype=np.int64)  # (B, 1)
            done = np.zeros(src.shape[0], dtype=bool)
            caches = [(KVCache(), KVCache()) for _ in self.decoder] if use_cache else None
            for step in range(max_len):
                if use_cache:  # only the newest token, at position `step`
                    logits = self.decode(out[:, -1:], memory, mask, caches=caches, offset=step)
                else:
                    logits = self.decode(out, memory, mask)
                next_id = logits.data[:, -1].argmax(axis=-1)  # (B,)
                next_id = np.where(done, self.config.pad_id, next_id)
                out = np.concatenate([out, next_id[:, None]], axis=1)  # (B, step + 2)
                done |= next_id == eos
                if done.all():
                    break
        finally:
            self.train(was_training)
        return Tensor._make(out)
