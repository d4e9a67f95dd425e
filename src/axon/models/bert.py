"""BERT (Devlin et al., 2018): a bidirectional Transformer encoder.

    ids (B, T), token types (B, T), attention_mask (B, T) of 1 (token) / 0 (padding)
      -> word + position + token-type embeddings -> LayerNorm -> dropout   (B, T, C)
      -> num_hidden_layers x BertLayer                                     (B, T, C)
      -> last_hidden_state; pooling: mean over real tokens, [CLS], or the pooler

Every token attends to every other (no causal mask), except padding: the
attention_mask becomes an additive mask, -inf on padded keys. Only attention
needs the (B, T) grid; every other layer works on one token at a time, so
the layers run on the real tokens alone, packed as (N, C) rows (``Packing``),
and skip the work on padding (a third of all rows in a batch of sentences of
varied length). Padded positions therefore come out as zero vectors, as in
PyTorch's ``TransformerEncoder`` fast path (HF computes values there that no
pooling reads). A BertLayer is post-LayerNorm, as the original (GPT-2 and
later moved the norm first):

    h   = LayerNorm(x + dropout(attention(x) W_o + b_o))
    out = LayerNorm(h + dropout(GELU(h W_1 + b_1) W_2 + b_2))       GELU: the exact erf form

``BertConfig`` has the field names of HuggingFace's ``config.json``, so
``BertConfig.from_dict(json.load(f))`` reads one; ``models.pretrained`` maps
the weight names (axon keeps query, key and value in one (3C, C) matrix: one
GEMM instead of three).

Example::

    >>> model = BertModel(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
    ...                              num_attention_heads=4, intermediate_size=64))
    >>> ids = axon.tensor([[5, 6, 7, 0]]); mask = axon.tensor([[1, 1, 1, 0]])
    >>> model(ids, attention_mask=mask).shape
    (1, 4, 32)
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass

import numpy as np

from axon import nn
from axon.nn import functional as F
from axon.ops.movement import cat
from axon.tensor import Tensor

# HuggingFace's ``hidden_act`` names -> axon functions.
ACTIVATIONS = {
    "gelu": F.gelu,  # exact: x * Phi(x), Phi the normal CDF (erf)
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
}


@dataclass
class BertConfig:
    vocab_size: int = 30522  # WordPiece vocabulary
    hidden_size: int = 768  # C, the width of every token's vector
    num_hidden_layers: int = 12
    num_attention_heads: int = 12  # C must divide evenly: head size C / heads
    intermediate_size: int = 3072  # hidden width of each feed-forward block (usually 4C)
    hidden_act: str = "gelu"  # one of ACTIVATIONS ("gelu" is exact, as BERT)
    max_position_embeddings: int = 512  # longest sequence the position table covers
    type_vocab_size: int = 2  # token types (segment A / segment B)
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1  # after embeddings, attention output and feed-forward
    attention_probs_dropout_prob: float = 0.1  # on the attention weights
    pad_token_id: int = 0  # its embedding row starts at zero and gets no gradient
    add_pooling_layer: bool = True  # the pooler: tanh(Linear([CLS])), as HF's BertModel

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"BertConfig: hidden_size ({self.hidden_size}) must be a multiple of "
                f"num_attention_heads ({self.num_attention_heads})"
            )
        if self.hidden_act not in ACTIVATIONS:
            raise ValueError(
                f"BertConfig: hidden_act {self.hidden_act!r} is not supported; "
                f"choose one of {sorted(ACTIVATIONS)}"
            )

    @classmethod
    def from_dict(cls, d: dict) -> BertConfig:
        """From a HuggingFace ``config.json`` dict; fields BERT doesn't use are ignored."""
        kind = d.get("position_embedding_type", "absolute")
        if kind != "absolute":
            raise ValueError(f"BertConfig: position_embedding_type {kind!r} is not supported")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> BertConfig:
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))


class BertEmbeddings(nn.Module):
    """Token vectors: word + position + token type, then LayerNorm and dropout."""

    def __init__(self, c: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, input_ids, token_type_ids=None):
        n_positions, T = self.position_embeddings.num_embeddings, input_ids.shape[1]
        if n_positions < T:
            raise ValueError(
                f"BertEmbeddings: sequence of {T} tokens is longer than max_position_embeddings "
                f"({n_positions}); truncate the input"
            )
        x = self.word_embeddings(input_ids)  # (B, T, C)
        x = x + self.position_embeddings.weight[:T]  # (T, C), broadcast over the batch
        if token_type_ids is None:  # all segment A: one row, broadcast
            x = x + self.token_type_embeddings.weight[0]
        else:
            x = x + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.norm(x))


class Packing:
    """Where the real tokens of a padded (B, T) batch are, to pack and unpack them.

    The dense layers run on the N real tokens as (N, C) rows; attention
    needs them on the (B, T) grid, with the additive ``mask`` (B, 1, 1, T):
    0 for tokens, -inf for padding (None when nothing is padded).

        real   (N,)     flat position b * T + t of each real token
        slots  (B * T,) for each position, its row among the real tokens, or
                        N (a zero row) for padding
    """

    def __init__(self, attention_mask, batch: int, length: int, dtype=np.float32):
        self.batch, self.length = batch, length
        self.mask = self.real = self.slots = None
        if attention_mask is None:
            return
        keep = np.asarray(getattr(attention_mask, "data", attention_mask)).astype(bool)
        if keep.shape != (batch, length):
            raise ValueError(
                f"BertModel: attention_mask must be (B, T) = {(batch, length)}, got {keep.shape}"
            )
        if keep.all():
            return
        additive = np.where(keep, 0.0, -np.inf).astype(dtype)
        self.mask = Tensor._make(additive[:, None, None, :])  # (B, 1, 1, T): every head and query
        self.real = np.flatnonzero(keep)  # (N,)
        self.slots = np.full(batch * length, len(self.real))  # (B * T,)
        self.slots[self.real] = np.arange(len(self.real))

    def unpad(self, x):
        """(B, T, *F) -> (N, prod(F)): the real tokens' rows."""
        x = x.reshape(self.batch * self.length, -1)  # (B * T, F)
        return x if self.real is None else x[self.real]  # (N, F)

    def pad(self, x):
        """(N, F) -> (B, T, F), zero vectors at the padding."""
        if self.slots is not None:
            zero = Tensor._make(np.zeros((1, x.shape[1]), x.dtype))
            x = cat([x, zero])[self.slots]  # (N + 1, F) -> (B * T, F)
        return x.reshape(self.batch, self.length, -1)  # (B, T, F)


class BertLayer(nn.Module):
    """Self-attention and feed-forward, each with a residual and a LayerNorm after it (post-LN)."""

    def __init__(self, c: BertConfig):
        super().__init__()
        C = c.hidden_size
        self.num_heads, self.head_dim = c.num_attention_heads, C // c.num_attention_heads
        self.qkv = nn.Linear(C, 3 * C)  # query, key, value stacked: rows [0:C], [C:2C], [2C:3C]
        self.attn_out = nn.Linear(C, C)
        self.attn_norm = nn.LayerNorm(C, eps=c.layer_norm_eps)
        self.ff_in = nn.Linear(C, c.intermediate_size)
        self.ff_out = nn.Linear(c.intermediate_size, C)
        self.ff_norm = nn.LayerNorm(C, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)
        self.attention_dropout = c.attention_probs_dropout_prob
        self.act = ACTIVATIONS[c.hidden_act]

    def forward(self, x, packing: Packing):
        """x (N, C): the batch's real tokens (see ``Packing``) -> (N, C)."""
        B, T, H, D = packing.batch, packing.length, self.num_heads, self.head_dim
        qkv = packing.pad(self.qkv(x))  # (N, 3C) -> (B, T, 3C)
        qkv = qkv.reshape(B, T, 3, H, D).permute(2, 0, 3, 1, 4)  # (3, B, H, T, D)
        p = self.attention_dropout if self.training else 0.0
        a = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], packing.mask, dropout_p=p)
        a = packing.unpad(a.permute(0, 2, 1, 3))  # (B, H, T, D) -> (B, T, H, D) -> (N, C)
        h = self.attn_norm(x + self.dropout(self.attn_out(a)))  # (N, C)
        ff = self.ff_out(self.act(self.ff_in(h)))  # (N, intermediate) -> (N, C)
        return self.ff_norm(h + self.dropout(ff))  # (N, C)


class BertModel(nn.Module):
    """The BERT encoder (see the module docstring); as HF's ``BertModel`` without its heads.

    Args:
        config: a ``BertConfig``; or leave it out and pass its fields as keywords.

    Forward:
        input_ids (B, T) int; attention_mask (B, T) 1/0 (default: all tokens);
        token_type_ids (B, T) (default: all 0). Returns last_hidden_state (B, T, C),
        zero vectors at padded positions (see the module docstring).
    """

    def __init__(self, config: BertConfig | None = None, **kwargs):
        super().__init__()
        self.config = c = config if config is not None else BertConfig(**kwargs)
        self.embeddings = BertEmbeddings(c)
        self.layers = nn.ModuleList([BertLayer(c) for _ in range(c.num_hidden_layers)])
        self.pooler = nn.Linear(c.hidden_size, c.hidden_size) if c.add_pooling_layer else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """BERT's init: N(0, 0.02) weights and embeddings, zero biases, LayerNorm 1 and 0."""
        for m in self.modules():
            if isinstance(m, nn.Linear | nn.Embedding):
                nn.init.normal_(m.weight, 0.0, 0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
            if isinstance(m, nn.Embedding) and m.padding_idx is not None:
                m.weight.data[m.padding_idx] = 0

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        if input_ids.ndim != 2:
            raise ValueError(f"BertModel: input_ids must be (B, T), got shape {input_ids.shape}")
        B, T = input_ids.shape
        x = self.embeddings(input_ids, token_type_ids)  # (B, T, C)
        packing = Packing(attention_mask, B, T, x.dtype)
        x = packing.unpad(x)  # (N, C): the real tokens
        for layer in self.layers:
            x = layer(x, packing)  # (N, C)
        return packing.pad(x)  # (B, T, C), zeros at the padding

    def pool(self, last_hidden_state):
        """HF's pooler_output: tanh(Linear(the [CLS] vector)), (B, C)."""
        if self.pooler is None:
            raise ValueError("BertModel.pool: this model has no pooler (add_pooling_layer=False)")
        return self.pooler(cls_pool(last_hidden_state)).tanh()


def mean_pool(last_hidden_state, attention_mask=None):
    """Mean of the token vectors over real (non-padding) tokens: (B, T, C) -> (B, C).

    As sentence-transformers: sum(h * mask) / max(sum(mask), 1e-9).
    """
    if attention_mask is None:
        return last_hidden_state.mean(1)
    m = np.asarray(getattr(attention_mask, "data", attention_mask))
    m = Tensor._make(m.astype(last_hidden_state.dtype)[:, :, None])  # (B, T, 1)
    total = (last_hidden_state * m).sum(1)  # (B, C)
    count = m.sum(1).clamp(min=1e-9)  # (B, 1)
    return total / count


def cls_pool(last_hidden_state):
    """The vector of the first token ([CLS]): (B, T, C) -> (B, C)."""
    return last_hidden_state[:, 0]


class BertForSequenceClassification(nn.Module):
    """BERT with a classifier on the pooled [CLS] vector, as HF's class of the same name.

    Forward: the same inputs as ``BertModel``; returns logits (B, num_labels).
    """

    def __init__(self, config: BertConfig | None = None, num_labels: int = 2, **kwargs):
        super().__init__()
        self.bert = BertModel(config, **kwargs)
        c = self.bert.config
        if not c.add_pooling_layer:
            raise ValueError(
                "BertForSequenceClassification: needs the pooler (add_pooling_layer=True)"
            )
        self.dropout = nn.Dropout(c.hidden_dropout_prob)
        self.classifier = nn.Linear(c.hidden_size, num_labels)
        nn.init.normal_(self.classifier.weight, 0.0, 0.02)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        hidden = self.bert(input_ids, attention_mask, token_type_ids)  # (B, T, C)
        return self.classifier(self.dropout(self.bert.pool(hidden)))  # (B, num_labels)
