"""The transform base class, and transforms for any kind of batch: Compose, Normalize, GaussianNoise.

A transform is a small callable object. It takes a whole BATCH (leading
axis = examples) as a NumPy array or an axon Tensor and returns the same
kind, so augmentation is a few array operations per batch rather than a
Python loop over examples. Random parameters are drawn per example, from
``generator`` if one was given, else from ``current_generator()``: inside a
``DataLoader`` that is the batch's own seeded generator (reproducible, and
the same with or without prefetching); elsewhere axon's generator.

Example::

    >>> aug = Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(), Normalize(mean, std)])
    >>> xb = aug(xb)                      # (N, 3, 32, 32) float32 -> same shape, float32
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from axon.data._rng import as_generator, current_generator
from axon.tensor import Tensor


class Transform:
    """Base class: subclasses define ``apply(x: ndarray) -> ndarray`` on a batch.

    Args:
        generator: seed or numpy Generator for this transform's draws; None
            (default) uses the loader's per-batch generator / axon's generator.
    """

    def __init__(self, generator: np.random.Generator | int | None = None):
        self.generator = as_generator(generator)

    @property
    def rng(self) -> np.random.Generator:
        return self.generator or current_generator()

    def __call__(self, x):
        if isinstance(x, Tensor):
            return Tensor._make(self.apply(x.data))
        return self.apply(np.asarray(x))

    def apply(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define apply")

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "generator")
        return f"{type(self).__name__}({fields})"


def as_float(x: np.ndarray) -> np.ndarray:
    """Floating inputs keep their dtype; integers (uint8 pixels) become float32."""
    return x if x.dtype.kind == "f" else x.astype(np.float32)


class Compose:
    """Apply transforms in order: ``Compose([a, b])(x) == b(a(x))``."""

    def __init__(self, transforms: Sequence):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self) -> str:
        inner = "".join(f"\n    {t!r}," for t in self.transforms)
        return f"Compose([{inner}\n])"


class Normalize(Transform):
    """``(x - mean) / std``, per channel (axis 1) or for the whole batch.

    Args:
        mean, std: numbers, or one value per channel (``x.shape[1]`` values,
            e.g. CIFAR-10's ``(0.4914, 0.4822, 0.4465)``).

    Shape:
        (N, C, ...) -> the same; float32 stays float32 (integers become float32).
    """

    def __init__(self, mean, std):
        super().__init__()
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        if np.any(self.std == 0):
            raise ValueError("Normalize: std must be non-zero")

    def apply(self, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        mean, std = self.mean, self.std
        if mean.ndim or std.ndim:  # per channel: (C,) -> (1, C, 1, ..., 1)
            c = max(mean.size, std.size)
            if x.ndim < 2 or x.shape[1] != c:
                raise ValueError(
                    f"Normalize: {c} per-channel values for a batch of shape {x.shape} "
                    "(channels on axis 1)"
                )
            shape = (1, c) + (1,) * (x.ndim - 2)
            mean, std = (
                np.broadcast_to(mean, (c,)).reshape(shape),
                np.broadcast_to(std, (c,)).reshape(shape),
            )
        return ((x - mean) / std).astype(x.dtype, copy=False)


class GaussianNoise(Transform):
    """Add N(0, std^2) noise to every value (images, MNIST-1D signals, features).

    Shape: any -> the same, float (integers become float32).
    """

    def __init__(self, std: float = 0.1, generator=None):
        super().__init__(generator)
        if std < 0:
            raise ValueError(f"GaussianNoise: std must be >= 0, got {std}")
        self.std = float(std)

    def apply(self, x: np.ndarray) -> np.ndarray:
        x = as_float(x)
        noise = self.rng.standard_normal(
            x.shape, dtype=np.float32 if x.dtype == np.float32 else np.float64
        )
        return x + (self.std * noise).astype(x.dtype, copy=False)
