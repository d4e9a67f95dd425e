"""Recurrent models: ``CharLSTM`` (a character language model) and ``GRUClassifier``.

    CharLSTM:       idx (B, T) -> Embedding -> LSTM -> Linear -> logits (B, T, V)
    GRUClassifier:  x (B, L) -> (B, L / chunk, chunk) steps -> GRU -> last hidden state -> Linear -> (B, classes)

Both build on ``nn.LSTM`` / ``nn.GRU``, which run the recurrence as one fused
scan op per layer. A recurrent network carries its whole past in a fixed-size
state (h, c), so ``CharLSTM.generate`` needs no cache and no context limit:
it feeds the prompt once, then one character at a time, passing the state on.

Example::

    >>> lm = CharLSTM(CharLSTMConfig(vocab_size=65))
    >>> logits, loss = lm(x, y)                          # x, y (B, T) int64
    >>> text_ids = lm.generate(x[:1, :10], max_new_tokens=200, temperature=0.8, seed=0)

    >>> clf = GRUClassifier(GRUClassifierConfig())       # MNIST-1D: 40 points, 10 classes
    >>> logits = clf(x)                                  # x (B, 40) -> (B, 10)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from axon.autograd.grad_mode import no_grad
from axon.models.generation import generator_for, sample_next
from axon.nn import functional as F
from axon.nn.dropout import Dropout
from axon.nn.embedding import Embedding
from axon.nn.linear import Linear
from axon.nn.module import Module
from axon.nn.recurrent import GRU, LSTM
from axon.ops.elementwise import as_tensor
from axon.ops.movement import cat
from axon.tensor import Tensor


def _ids(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


@dataclass
class CharLSTMConfig:
    vocab_size: int = 65  # number of distinct characters
    n_embd: int = 64  # size of each character's embedding
    hidden_size: int = 256  # LSTM state size
    num_layers: int = 2
    dropout: float = 0.0  # between LSTM layers and before the output layer


class CharLSTM(Module):
    """Character-level LSTM language model: predicts each next character.

    ``forward(idx, targets=None, state=None) -> (logits, loss)``; ``step`` also
    returns the final LSTM state for carrying on (truncated BPTT, generation).

    Shape: idx (B, T) int -> logits (B, T, vocab_size); loss is the mean
    cross-entropy over all positions (targets equal to -1 are ignored).
    """

    def __init__(self, config: CharLSTMConfig):
        super().__init__()
        c = self.config = config
        self.embed = Embedding(c.vocab_size, c.n_embd)
        self.lstm = LSTM(
            c.n_embd,
            c.hidden_size,
            c.num_layers,
            batch_first=True,
            dropout=c.dropout if c.num_layers > 1 else 0.0,
        )
        self.dropout = Dropout(c.dropout)
        self.head = Linear(c.hidden_size, c.vocab_size)

    def step(self, idx, state=None):
        """Logits (B, T, V) and the LSTM state (h, c) after the last character."""
        idx = _ids(idx)
        if idx.ndim != 2:
            raise ValueError(f"CharLSTM: expected idx of shape (B, T), got {idx.shape}")
        B, T = idx.shape
        out, state = self.lstm(self.embed(idx), state)  # (B, T, H); h, c (layers, B, H)
        out = self.dropout(out).reshape(B * T, self.config.hidden_size)  # (B*T, H): one GEMM
        return self.head(out).reshape(B, T, self.config.vocab_size), state  # (B, T, V)

    def forward(self, idx, targets=None, state=None):
        logits, _ = self.step(idx, state)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(
                logits.reshape(-1, self.config.vocab_size),
                _ids(targets).reshape(-1),
                ignore_index=-1,
            )
        return logits, loss

    @no_grad()
    def generate(
        self,
        idx,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
    ) -> Tensor:
        """Extend ``idx`` (B, T) by ``max_new_tokens`` sampled characters (see ``GPT.generate``).

        The prompt runs once; then each new character runs alone from the carried
        state. Under ``no_grad``, in eval mode (restored afterwards).
        Returns: int64 Tensor (B, T + max_new_tokens).
        """
        idx = np.array(_ids(idx), dtype=np.int64)  # a copy
        rng = generator_for(seed)
        was_training = self.training
        self.eval()
        try:
            logits, state = self.step(idx)  # the prompt, once
            for i in range(max_new_tokens):
                next_id = sample_next(logits.data[:, -1], temperature, top_k, top_p, rng)  # (B,)
                idx = np.concatenate([idx, next_id[:, None]], axis=1)  # (B, T + 1)
                if i < max_new_tokens - 1:
                    logits, state = self.step(next_id[:, None], state)  # one character, (B, 1)
        finally:
            self.train(was_training)
        return Tensor._make(idx)


@dataclass
class GRUClassifierConfig:
    seq_len: int = 40  # length of each input signal (MNIST-1D: 40)
    chunk: int = 1  # points per time step: the GRU runs seq_len / chunk steps of chunk features
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = False  # also read right to left; both final states feed the classifier
    dropout: float = 0.0  # between GRU layers and before the classifier
    num_classes: int = 10


class GRUClassifier(Module):
    """Reads a 1-D signal as a sequence with a GRU and classifies it from the final hidden state.

    Shape: x (B, seq_len) float -> logits (B, num_classes).
    """

    def __init__(self, config: GRUClassifierConfig):
        super().__init__()
        c = self.config = config
        if c.seq_len % c.chunk:
            raise ValueError(
                f"GRUClassifier: seq_len ({c.seq_len}) must be a multiple of chunk ({c.chunk})"
            )
        self.gru = GRU(
            c.chunk,
            c.hidden_size,
            c.num_layers,
            batch_first=True,
            dropout=c.dropout if c.num_layers > 1 else 0.0,
            bidirectional=c.bidirectional,
        )
        self.dropout = Dropout(c.dropout)
        self.fc = Linear(c.hidden_size * (2 if c.bidirectional else 1), c.num_classes)

    def forward(self, x):
        x = as_tensor(x)
        c = self.config
        if x.ndim != 2 or x.shape[1] != c.seq_len:
            raise ValueError(f"GRUClassifier: expected x of shape (B, {c.seq_len}), got {x.shape}")
        B = x.shape[0]
        steps = x.reshape(
            B, c.seq_len // c.chunk, c.chunk
        )  # (B, L, chunk): one time step per chunk
        _, h_n = self.gru(steps)  # (layers * directions, B, H)
        # the last layer's final state; with two directions, both ends of the sequence
        last = cat([h_n[-2], h_n[-1]], dim=1) if c.bidirectional else h_n[-1]  # (B, H) or (B, 2H)
        return self.fc(self.dropout(last))  # (B, num_classes)
