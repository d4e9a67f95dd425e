"""GPT: a decoder-only transformer language model, after nanoGPT's model.py.

    idx (B, T) -> token + position embeddings -> n_layer x Block -> LayerNorm -> lm_head -> logits (B, T, V)
    Block:  x = x + attn(ln_1(x));   x = x + mlp(ln_2(x))          (pre-norm, as GPT-2)

Inside the blocks the residual stream x is kept as a (B*T, C) matrix, one row
per position: every Linear is then a single 2-D GEMM (NumPy runs a batched
(B, T, C) @ (C, N) matmul several times slower), and only attention needs the
per-head view (B, n_head, T, head_size).

Attention is causal: position t sees positions <= t, so one forward pass
trains every position to predict the next token. ``lm_head`` shares its
weight with the token embedding ``wte`` (weight tying). Module names match
HuggingFace's GPT-2 (``transformer.h.0.attn.c_attn`` ...), so its weights load
with ``GPT.load_gpt2`` (HF stores them as Conv1D (in, out): transposed here).

``generate`` keeps a key/value cache: the prompt is run once (prefill), then
each new token runs through the network alone, attending to the cached keys
and values of all earlier positions, so a step costs O(T) attention and O(1)
everything else instead of re-running the whole context.

Example::

    >>> model = GPT(GPTConfig(vocab_size=65, block_size=64, n_layer=2, n_head=2, n_embd=64))
    >>> logits, loss = model(idx, targets)        # idx, targets (B, T) int64
    >>> out = model.generate(idx[:1, :8], max_new_tokens=20, temperature=0.8, top_k=10, seed=0)
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

import numpy as np

from axon.autograd.grad_mode import no_grad
from axon.models.generation import generator_for, sample_next
from axon.nn import functional as F
from axon.nn import init
from axon.nn.activation import GELU
from axon.nn.containers import ModuleDict, ModuleList
from axon.nn.dropout import Dropout
from axon.nn.embedding import Embedding
from axon.nn.linear import Linear
from axon.nn.module import Module
from axon.nn.normalization import LayerNorm
from axon.ops.attention import causal_additive
from axon.optim import AdamW, weight_decay_groups
from axon.serialization import load
from axon.tensor import Tensor


@dataclass
class GPTConfig:
    vocab_size: int = 50304  # GPT-2's 50257 rounded up to a multiple of 64
    block_size: int = 1024  # the longest context (number of learned positions)
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768  # model width C; each head has C / n_head features
    dropout: float = 0.0  # on embeddings, attention weights and residual branches
    bias: bool = True  # biases in Linear and LayerNorm (GPT-2: True)
    # the MLP's nonlinearity: "gelu" (exact, with erf) or "gelu_tanh" (GPT-2's "gelu_new")
    activation: str = "gelu"


# GPT-2's published sizes, for load_gpt2 (vocab 50257, 1024 positions, biases, tanh GELU)
GPT2_SIZES = {
    "gpt2": dict(n_layer=12, n_head=12, n_embd=768),  # 124M parameters
    "gpt2-medium": dict(n_layer=24, n_head=16, n_embd=1024),  # 350M
    "gpt2-large": dict(n_layer=36, n_head=20, n_embd=1280),  # 774M
    "gpt2-xl": dict(n_layer=48, n_head=25, n_embd=1600),  # 1558M
}


def gpt2_config(name: str = "gpt2") -> GPTConfig:
    """The GPTConfig of a published GPT-2 model ("gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl")."""
    return GPTConfig(
        vocab_size=50257, block_size=1024, bias=True, activation="gelu_tanh", **GPT2_SIZES[name]
    )


class LayerCache:
    """One layer's past keys and values, in arrays preallocated to block_size.

    Used only while generating (under no_grad): ``update`` writes the new
    steps' keys and values in place and returns views of everything so far.
    """

    def __init__(self, batch: int, n_head: int, block_size: int, head_dim: int, dtype):
        self.k = np.empty((batch, n_head, block_size, head_dim), dtype)  # (B, nh, block, hs)
        self.v = np.empty((batch, n_head, block_size, head_dim), dtype)
        self.length = 0  # positions filled so far

    def update(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Append k, v (B, nh, T, hs); return all cached keys and values (B, nh, length, hs)."""
        end = self.length + k.shape[2]
        if end > self.k.shape[2]:
            raise ValueError(f"LayerCache: {end} positions exceed block_size {self.k.shape[2]}")
        self.k[:, :, self.length : end] = k.data
        self.v[:, :, self.length : end] = v.data
        self.length = end
        return Tensor._make(self.k[:, :, :end]), Tensor._make(self.v[:, :, :end])


class CausalSelfAttention(Module):
    """Multi-head self-attention where position t attends to positions <= t."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(
                f"CausalSelfAttention: n_embd ({config.n_embd}) must be a multiple of n_head ({config.n_head})"
            )
        self.c_attn = Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v at once
        self.c_proj = Linear(config.n_embd, config.n_embd, bias=config.bias)  # mixes the heads
        self.resid_dropout = Dropout(config.dropout)
        self.n_head, self.dropout = config.n_head, config.dropout

    def forward(self, x, T: int, cache: LayerCache | None = None):
        """x: (B*T, C), the rows of B sequences of T positions each -> (B*T, C)."""
        BT, C = x.shape  # batch * time, channels (n_embd)
        B, nh, hs = BT // T, self.n_head, C // self.n_head
        qkv = self.c_attn(x)  # (B*T, 3C): queries, keys and values in one GEMM
        q, k, v = qkv.reshape(B, T, 3, nh, hs).permute(2, 0, 3, 1, 4)  # 3 x (B, nh, T, hs)
        p = self.dropout if self.training else 0.0
        if cache is None:  # y: (B, nh, T, hs)
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        else:
            k, v = cache.update(k, v)  # (B, nh, S, hs): the S - T cached positions, then these T
            S = k.shape[2]
            # query t is position S - T + t: it sees keys 0 .. S - T + t (no mask needed for T = 1)
            mask = None if T == 1 else Tensor._make(causal_additive(T, S, S - T, q.dtype))
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        y = y.permute(0, 2, 1, 3).reshape(B * T, C)  # (B*T, C): heads side by side
        return self.resid_dropout(self.c_proj(y))


class MLP(Module):
    """Position-wise feed-forward: Linear(C, 4C) -> GELU -> Linear(4C, C) -> dropout."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        if config.activation not in ("gelu", "gelu_tanh"):
            raise ValueError(
                f"GPT MLP: activation must be 'gelu' or 'gelu_tanh', got {config.activation!r}"
            )
        self.c_fc = Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = GELU(approximate="tanh" if config.activation == "gelu_tanh" else "none")
        self.c_proj = Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(Module):
    """A pre-norm transformer block: attention, then MLP, each added to the residual stream."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x, T: int, cache: LayerCache | None = None):
        x = x + self.attn(self.ln_1(x), T, cache)  # x: (B*T, C)
        return x + self.mlp(self.ln_2(x))


class GPT(Module):
    """The language model: ``forward(idx, targets=None) -> (logits, loss)``.

    Shape: idx (B, T) int64, T <= block_size -> logits (B, T, vocab_size);
    loss is the mean cross-entropy over all positions (targets equal to -1
    are ignored), or None without targets.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.transformer = ModuleDict(
            dict(
                wte=Embedding(config.vocab_size, config.n_embd),  # token embedding
                wpe=Embedding(config.block_size, config.n_embd),  # learned position embedding
                drop=Dropout(config.dropout),
                h=ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False)
        # weight tying: the input embedding and the output projection are one Parameter
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        # GPT-2's scaled init: each residual branch's output projection starts with
        # std 0.02 / sqrt(2 * n_layer), so the residual stream's variance doesn't grow with depth
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                init.normal_(p, 0.0, 0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: Module) -> None:
        if isinstance(module, (Linear, Embedding)):
            init.normal_(module.weight, 0.0, 0.02)
        if isinstance(module, Linear) and module.bias is not None:
            init.zeros_(module.bias)

    def get_num_params(self, non_embedding: bool = True) -> int:
        """Parameter count; by default without the position embedding (the token one is tied to lm_head)."""
        n = sum(p.numel() for p in self.parameters())
        return n - self.transformer.wpe.weight.numel() if non_embedding else n

    def _features(self, idx: np.ndarray, caches: list | None = None):
        """The final LayerNorm's output (B*T, C) for tokens ``idx`` (B, T) that follow the cached ones."""
        B, T = idx.shape
        start = caches[0].length if caches else 0  # position of idx's first token
        if start + T > self.config.block_size:
            raise ValueError(
                f"GPT: positions {start}..{start + T - 1} exceed block_size {self.config.block_size} "
                f"(input shape {idx.shape})"
            )
        tok_emb = self.transformer.wte(idx)  # (B, T, C)
        pos_emb = self.transformer.wpe(np.arange(start, start + T))  # (T, C), broadcast over B
        x = self.transformer.drop(tok_emb + pos_emb).reshape(B * T, self.config.n_embd)  # (B*T, C)
        for i, block in enumerate(self.transformer.h):
            x = block(x, T, caches[i] if caches else None)
        return self.transformer.ln_f(x)

    def forward(self, idx, targets=None):
        idx = idx.data if isinstance(idx, Tensor) else np.asarray(idx)
        if idx.ndim != 2:
            raise ValueError(f"GPT: expected idx of shape (B, T), got {idx.shape}")
        B, T = idx.shape
        logits = self.lm_head(self._features(idx))  # (B*T, V)
        loss = None
        if targets is not None:
            targets = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
            loss = F.cross_entropy(logits, targets.reshape(B * T), ignore_index=-1)
        return logits.reshape(B, T, self.config.vocab_size), loss  # (B, T, V)

    def _next_logits(self, idx: np.ndarray, caches: list | None = None):
        """Logits (B, V) of the last position only (the head on one position, not T)."""
        B, T = idx.shape
        x = self._features(idx, caches).reshape(B, T, self.config.n_embd)  # (B, T, C)
        return self.lm_head(x[:, -1])  # (B, V)

    def configure_optimizers(self, weight_decay: float, lr: float, betas=(0.9, 0.95)) -> AdamW:
        """AdamW that decays weight matrices and embeddings, not biases or LayerNorm weights."""
        return AdamW(weight_decay_groups(self.named_parameters(), weight_decay), lr=lr, betas=betas)

    @no_grad()
    def generate(
        self,
        idx,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        use_cache: bool = True,
    ) -> Tensor:
        """Extend ``idx`` (B, T) by ``max_new_tokens`` tokens, each fed back in as the next input.

        Runs under ``no_grad`` and in eval mode (no dropout; the mode is restored
        afterwards). ``temperature=0`` or ``top_k=1`` is greedy decoding;
        otherwise tokens are sampled (see ``axon.models.generation``) from a
        generator seeded with ``seed`` (None: axon's generator).

        With ``use_cache`` the prompt is prefilled once and each later step
        runs one token against the cached keys and values. The model knows only
        ``block_size`` positions, so, as without the cache, it sees at most the
        last ``block_size`` tokens: once the cache is full, every further step
        re-runs those tokens from scratch (their positions have all shifted, so
        the cached keys and values no longer apply). Results are the same
        with or without the cache; only the speed up to ``block_size`` differs.

        Returns: int64 Tensor (B, T + max_new_tokens).
        """
        idx = np.array(idx.data if isinstance(idx, Tensor) else idx, dtype=np.int64)  # a copy
        if idx.ndim != 2 or idx.shape[1] == 0:
            raise ValueError(
                f"GPT.generate: expected a non-empty idx of shape (B, T), got {idx.shape}"
            )
        rng = generator_for(seed)
        block = self.config.block_size
        was_training = self.training
        self.eval()
        try:
            caches = None
            for _ in range(max_new_tokens):
                if not use_cache:
                    logits = self._next_logits(idx[:, -block:])  # the whole (cropped) context
                elif caches is None or caches[0].length == block:  # prefill (again)
                    caches = self._new_caches(idx.shape[0])
                    logits = self._next_logits(idx[:, -block:], caches)
                else:
                    logits = self._next_logits(idx[:, -1:], caches)  # only the newest token
                next_id = sample_next(logits, temperature, top_k, top_p, rng)  # (B,)
                idx = np.concatenate([idx, next_id[:, None]], axis=1)  # (B, T + 1)
        finally:
            self.train(was_training)
        return Tensor._make(idx)

    def _new_caches(self, batch: int) -> list:
        c, dtype = self.config, self.lm_head.weight.dtype
        hs = c.n_embd // c.n_head
        return [LayerCache(batch, c.n_head, c.block_size, hs, dtype) for _ in range(c.n_layer)]

    # ---------------------------------------------------------------- GPT-2 weights
    @classmethod
    def from_gpt2_state_dict(cls, state_dict, config: GPTConfig) -> GPT:
        """A GPT holding HuggingFace GPT-2 weights (``GPT2LMHeadModel.state_dict()`` names).

        GPT-2 uses biases and the tanh GELU ("gelu_new"): ``config`` is given
        ``bias=True, activation="gelu_tanh"``; its sizes must match the weights.
        HF's Conv1D layers (c_attn, c_proj, c_fc) store weights as (in, out):
        they are transposed to Linear's (out, in). The causal-mask buffers
        (``attn.bias``, ``attn.masked_bias``) are skipped, and ``lm_head.weight``
        (often absent from the file) is the tied token embedding.
        """
        model = cls(dataclasses.replace(config, bias=True, activation="gelu_tanh"))
        conv1d = ("c_attn.weight", "c_proj.weight", "c_fc.weight")  # HF's Conv1D layers
        ours = {}
        for name, value in state_dict.items():
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if not name.startswith(("transformer.", "lm_head.")):  # the bare GPT2Model layout
                name = "transformer." + name
            if name.endswith((".attn.bias", ".attn.masked_bias")) or name == "lm_head.weight":
                continue
            ours[name] = array.T if name.endswith(conv1d) else array
        ours["lm_head.weight"] = ours["transformer.wte.weight"]  # tied
        model.load_state_dict(ours)
        return model

    @classmethod
    def load_gpt2(cls, path: str | os.PathLike, config: GPTConfig | None = None) -> GPT:
        """Load GPT-2 from a safetensors file, or a ``save_pretrained`` folder holding model.safetensors.

        ``config`` defaults to the 124M "gpt2" (``gpt2_config()``). No PyTorch needed.
        """
        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, "model.safetensors")
        return cls.from_gpt2_state_dict(load(path), config or gpt2_config())
