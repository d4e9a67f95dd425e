"""Transforms for 1-D signals such as MNIST-1D: batches of shape (N, L) or (N, C, L)."""

from __future__ import annotations

import numpy as np

from axon.data.transforms.base import Transform


class RandomShift(Transform):
    """Shift each signal along its last axis by a random whole number of steps.

    Args:
        max_shift: shifts are uniform on ``[-max_shift, max_shift]``.
        mode: ``"circular"`` (what falls off one end comes back at the other,
            ``np.roll``) or ``"zero"`` (vacated positions are 0).

    Shape: (N, L) or (N, C, L) -> the same (all channels of an example shift together).

    Example::

        >>> RandomShift(5)(x)                 # x (4000, 40) float32
    """

    def __init__(self, max_shift: int, mode: str = "circular", generator=None):
        super().__init__(generator)
        if mode not in ("circular", "zero"):
            raise ValueError(f"RandomShift: mode must be 'circular' or 'zero', got {mode!r}")
        self.max_shift, self.mode = int(max_shift), mode

    def apply(self, x: np.ndarray) -> np.ndarray:
        if x.ndim < 2:
            raise ValueError(
                f"RandomShift: expects a batch (N, L) or (N, C, L), got shape {x.shape}"
            )
        n, length = x.shape[0], x.shape[-1]
        shifts = self.rng.integers(-self.max_shift, self.max_shift + 1, size=(n,))
        source = np.arange(length) - shifts[:, None]  # (N, L): out[t] = x[t - shift]
        flat = x.reshape(n, -1, length)  # (N, C, L)
        if self.mode == "circular":
            out = np.take_along_axis(flat, (source % length)[:, None, :], axis=2)
        else:
            inside = (source >= 0) & (source < length)
            out = np.take_along_axis(flat, source.clip(0, length - 1)[:, None, :], axis=2)
            out = np.where(inside[:, None, :], out, np.zeros((), x.dtype))
        return out.reshape(x.shape)
