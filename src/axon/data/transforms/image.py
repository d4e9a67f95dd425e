"""Image augmentation on batches of shape (N, C, H, W), float (pixels in [0, 1]).

Every transform draws its random parameters per image, as arrays of shape
(N,), then moves pixels with whole-batch indexing: no Python loop over
images or pixels. Apply them before ``Normalize``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from axon.data.transforms.base import Transform, as_float


def _images(x: np.ndarray, name: str) -> np.ndarray:
    if x.ndim != 4:
        raise ValueError(f"{name}: expects a batch of images (N, C, H, W), got shape {x.shape}")
    return as_float(x)


def _range(v, name: str) -> tuple[float, float]:
    """``d`` -> ``(-d, d)``; ``(lo, hi)`` -> itself."""
    if isinstance(v, (int, float, np.number)):
        return -float(v), float(v)
    lo, hi = (float(a) for a in v)
    if lo > hi:
        raise ValueError(f"{name}: range ({lo}, {hi}) is empty")
    return lo, hi


def _pair(v, name: str) -> tuple[int, int]:
    h, w = (int(v), int(v)) if isinstance(v, (int, np.integer)) else (int(a) for a in v)
    if h <= 0 or w <= 0:
        raise ValueError(f"{name}: size must be positive, got {v!r}")
    return h, w


class RandomCrop(Transform):
    """Pad by ``padding`` (with ``fill``), then cut a random ``size`` window from each image.

    Shape: (N, C, H, W) -> (N, C, h, w) with ``(h, w) = size``.

    Example::

        >>> RandomCrop(32, padding=4)(x)      # CIFAR-style: shifts by up to 4 pixels
    """

    def __init__(self, size, padding: int = 0, fill: float = 0.0, generator=None):
        super().__init__(generator)
        self.size, self.padding, self.fill = _pair(size, "RandomCrop"), int(padding), float(fill)

    def apply(self, x: np.ndarray) -> np.ndarray:
        x = _images(x, "RandomCrop")
        p, (h, w) = self.padding, self.size
        if p:
            x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=self.fill)
        n, _, hp, wp = x.shape
        if h > hp or w > wp:
            raise ValueError(f"RandomCrop: crop {h}x{w} is larger than the padded image {hp}x{wp}")
        top = self.rng.integers(0, hp - h + 1, size=(n,))
        left = self.rng.integers(0, wp - w + 1, size=(n,))
        # A strided view of every possible window, (N, C, Hp-h+1, Wp-w+1, h, w), then one pick per image.
        windows = sliding_window_view(x, (h, w), axis=(2, 3))
        return windows[np.arange(n), :, top, left]  # (N, C, h, w), a copy


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability ``p``.

    Shape: (N, ..., W) -> the same (flips the last axis; works for 1-D signals too).
    """

    def __init__(self, p: float = 0.5, generator=None):
        super().__init__(generator)
        self.p = float(p)

    def apply(self, x: np.ndarray) -> np.ndarray:
        flip = self.rng.random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = x[flip][..., ::-1]
        return out


class ColorJitter(Transform):
    """Random brightness and contrast, per image; the result is clipped to [0, 1].

    brightness: ``x * b`` with ``b ~ U[max(0, 1 - brightness), 1 + brightness]``;
    contrast: ``(x - m) * c + m`` with ``c`` drawn likewise and ``m`` the
    image's mean over all channels and pixels (torchvision uses the mean of
    its greyscale version; close enough for augmentation, and defined for
    any number of channels).

    Shape: (N, C, H, W) -> the same.
    """

    def __init__(self, brightness: float = 0.0, contrast: float = 0.0, generator=None):
        super().__init__(generator)
        self.brightness, self.contrast = float(brightness), float(contrast)

    def _factors(self, amount: float, n: int) -> np.ndarray:
        return self.rng.uniform(max(0.0, 1 - amount), 1 + amount, size=(n, 1, 1, 1)).astype(
            np.float32
        )

    def apply(self, x: np.ndarray) -> np.ndarray:
        x = _images(x, "ColorJitter")
        if self.brightness:
            x = x * self._factors(self.brightness, len(x))
        if self.contrast:
            m = x.mean(axis=(1, 2, 3), keepdims=True)
            x = (x - m) * self._factors(self.contrast, len(x)) + m
        return np.clip(x, 0.0, 1.0).astype(x.dtype, copy=False)


class RandomAffine(Transform):
    """Random rotation, translation and scaling about the image centre.

    Each output pixel is mapped back to where it comes from in the input
    (the inverse transform, for the whole batch of pixel grids at once) and
    sampled there: ``"nearest"`` pixel or ``"bilinear"`` blend of the four
    around it. Places outside the input get ``fill``.

    Args:
        degrees: angle range; ``d`` means U[-d, d]; ``(lo, hi)`` explicit.
            Positive angles turn the picture counter-clockwise as displayed.
        translate: ``(fx, fy)``: shifts up to ``fx * W`` and ``fy * H`` pixels.
        scale: ``(lo, hi)`` zoom factor range (> 1 enlarges).
        interpolation: ``"bilinear"`` or ``"nearest"``.

    Shape: (N, C, H, W) -> the same.
    """

    def __init__(
        self,
        degrees=0.0,
        translate=None,
        scale=None,
        interpolation: str = "bilinear",
        fill: float = 0.0,
        generator=None,
    ):
        super().__init__(generator)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(
                f"{type(self).__name__}: interpolation must be 'nearest' or 'bilinear', got "
                f"{interpolation!r}"
            )
        self.degrees = _range(degrees, type(self).__name__)
        self.translate = None if translate is None else tuple(float(t) for t in translate)
        self.scale = None if scale is None else _range(scale, type(self).__name__)
        self.interpolation, self.fill = interpolation, float(fill)

    def apply(self, x: np.ndarray) -> np.ndarray:
        x = _images(x, type(self).__name__)
        n, c, h, w = x.shape
        rng = self.rng
        angle = np.deg2rad(rng.uniform(self.degrees[0], self.degrees[1], size=(n,)))
        tx = ty = np.zeros(n)
        if self.translate is not None:
            tx = rng.uniform(-1, 1, size=(n,)) * self.translate[0] * w
            ty = rng.uniform(-1, 1, size=(n,)) * self.translate[1] * h
        s = (
            np.ones(n)
            if self.scale is None
            else rng.uniform(self.scale[0], self.scale[1], size=(n,))
        )
        cos, sin = (v[:, None, None] for v in (np.cos(angle), np.sin(angle)))  # (N, 1, 1)
        cy, cx = (h - 1) / 2, (w - 1) / 2
        ys, xs = np.mgrid[0:h, 0:w]
        u = xs - cx - tx[:, None, None]  # (N, H, W): output pixel relative to the moved centre
        v = ys - cy - ty[:, None, None]
        # Inverse of "rotate counter-clockwise (y pointing down), then scale": where each output pixel comes from.
        src_x = (cos * u - sin * v) / s[:, None, None] + cx
        src_y = (sin * u + cos * v) / s[:, None, None] + cy
        flat = x.reshape(n, c, h * w)
        if self.interpolation == "nearest":
            out = self._gather(flat, np.rint(src_y), np.rint(src_x), h, w)
        else:
            y0, x0 = np.floor(src_y), np.floor(src_x)
            wy = (src_y - y0)[:, None].astype(x.dtype)  # (N, 1, H, W) weights
            wx = (src_x - x0)[:, None].astype(x.dtype)
            out = (
                (1 - wy) * (1 - wx) * self._gather(flat, y0, x0, h, w)
                + (1 - wy) * wx * self._gather(flat, y0, x0 + 1, h, w)
                + wy * (1 - wx) * self._gather(flat, y0 + 1, x0, h, w)
                + wy * wx * self._gather(flat, y0 + 1, x0 + 1, h, w)
            )
        return out.astype(x.dtype, copy=False)

    def _gather(
        self, flat: np.ndarray, yi: np.ndarray, xi: np.ndarray, h: int, w: int
    ) -> np.ndarray:
        """flat (N, C, H*W) sampled at integer coords (N, H, W) -> (N, C, H, W); outside -> fill."""
        n, c = flat.shape[:2]
        inside = (yi >= 0) & (yi < h) & (xi >= 0) & (xi < w)
        index = (yi.clip(0, h - 1) * w + xi.clip(0, w - 1)).astype(np.int64).reshape(n, 1, h * w)
        values = np.take_along_axis(flat, index, axis=2).reshape(n, c, h, w)
        return np.where(inside[:, None], values, np.asarray(self.fill, flat.dtype))


class RandomRotation(RandomAffine):
    """Rotate each image by a random angle (``RandomAffine`` with rotation only).

    Example::

        >>> RandomRotation(15, interpolation="nearest")(x)   # angles U[-15, 15] degrees
    """

    def __init__(self, degrees, interpolation: str = "bilinear", fill: float = 0.0, generator=None):
        super().__init__(degrees, interpolation=interpolation, fill=fill, generator=generator)
