"""Choosing the next token from a model's logits: greedy, temperature, top-k and top-p.

Shared by the language models' ``generate`` methods (GPT, CharLSTM). Given
the logits z (B, V) of the last position::

    greedy         next = argmax_v z_v                          (temperature 0, or top_k=1)
    temperature    p = softmax(z / T): T < 1 sharpens, T > 1 flattens
    top-k          keep the k largest logits, set the rest to -inf, then softmax
    top-p          keep the smallest set of most likely tokens whose probabilities
                   sum to at least p (the "nucleus"), renormalize, then sample

Randomness comes from a NumPy ``Generator``: ``generator_for(seed)`` gives
a fresh one seeded with ``seed`` (the same seed gives the same samples and
leaves axon's own stream alone), or axon's generator when ``seed`` is None
(so ``axon.manual_seed`` fixes it).

Example::

    >>> logits = np.array([[2.0, 1.0, 0.1]])
    >>> sample_next(logits, temperature=0)                        # greedy
    array([0])
    >>> sample_next(logits, top_k=2, generator=generator_for(0))  # token 0 or 1, reproducibly
"""

from __future__ import annotations

import numpy as np

from axon.random import get_generator
from axon.tensor import Tensor


def generator_for(seed: int | None) -> np.random.Generator:
    """A generator seeded with ``seed``, or axon's own generator when ``seed`` is None."""
    return get_generator() if seed is None else np.random.default_rng(seed)


def sample_next(
    logits,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: np.random.Generator | None = None,
) -> np.ndarray:
    """One token id per row of ``logits`` (B, V): greedy, or sampled after temperature/top-k/top-p.

    Args:
        logits: (B, V) Tensor or array of unnormalized log-probabilities.
        temperature: divides the logits; 0 means greedy (argmax).
        top_k: sample only among the k most likely tokens (1 is greedy).
        top_p: sample only from the nucleus of probability mass ``top_p`` (0 < top_p <= 1).
        generator: where the random numbers come from (default axon's generator).

    Returns: int64 array (B,).
    """
    z = np.asarray(logits.data if isinstance(logits, Tensor) else logits, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"sample_next: expected logits of shape (B, V), got {z.shape}")
    if temperature < 0:
        raise ValueError(f"sample_next: temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"sample_next: top_k must be >= 1, got {top_k}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"sample_next: top_p must be in (0, 1], got {top_p}")
    if temperature == 0 or top_k == 1:
        return z.argmax(axis=-1)
    z = z / temperature
    if top_k is not None and top_k < z.shape[-1]:
        kth = np.partition(z, -top_k, axis=-1)[:, -top_k, None]  # (B, 1): the k-th largest logit
        z = np.where(z < kth, -np.inf, z)
    probs = np.exp(z - z.max(axis=-1, keepdims=True))
    probs /= probs.sum(axis=-1, keepdims=True)  # (B, V)
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-probs, axis=-1)  # most likely first
        sorted_probs = np.take_along_axis(probs, order, axis=-1)
        # a token is in the nucleus if the mass of the tokens before it is still < top_p
        # (so the most likely token is always kept)
        outside = np.cumsum(sorted_probs, axis=-1) - sorted_probs >= top_p
        sorted_probs[outside] = 0.0
        probs = np.zeros_like(probs)
        np.put_along_axis(probs, order, sorted_probs, axis=-1)
        probs /= probs.sum(axis=-1, keepdims=True)
    # inverse-CDF sampling, all rows at once: the first token whose cumulative probability exceeds u
    rng = generator if generator is not None else get_generator()
    u = rng.random((z.shape[0], 1))  # (B, 1)
    cdf = np.cumsum(probs, axis=-1)  # (B, V)
    picked = (cdf <= u * cdf[:, -1:]).sum(axis=-1)
    # zero-probability tokens at the end can't be picked even if rounding leaves u near 1
    last_allowed = z.shape[-1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=-1)
    return np.minimum(picked, last_allowed).astype(np.int64)
