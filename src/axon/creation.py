"""Functions that make new tensors: ``tensor``, ``zeros``, ``randn``, ``arange`` ...

Floating results are float32 unless ``dtype`` says otherwise; random ones
draw from axon's seeded generator (``axon.manual_seed``).
"""

from __future__ import annotations

import numpy as np

from axon.random import get_generator
from axon.tensor import _DEFAULT_FLOAT, Tensor


def _shape(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    shape = tuple(int(s) for s in size)
    if any(s < 0 for s in shape):
        raise ValueError(f"negative dimension in size {shape}")
    return shape


def _new(array, requires_grad: bool) -> Tensor:
    return (
        Tensor._make(array).requires_grad_(requires_grad) if requires_grad else Tensor._make(array)
    )


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (floats become float32 by default)."""
    arr = np.array(data.data if isinstance(data, Tensor) else data, dtype=dtype, copy=True)
    from_numpy_or_tensor = isinstance(data, (np.ndarray, np.generic, Tensor))  # keep their dtype
    if dtype is None and arr.dtype == np.float64 and not from_numpy_or_tensor:
        arr = arr.astype(_DEFAULT_FLOAT)
    return Tensor(arr, requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (same dtype, no copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array)


def zeros(*size, dtype=_DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(_shape(size), dtype=dtype), requires_grad)


def ones(*size, dtype=_DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(_shape(size), dtype=dtype), requires_grad)


def empty(*size, dtype=_DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    return _new(np.empty(_shape(size), dtype=dtype), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = np.asarray(fill_value).dtype
        dtype = _DEFAULT_FLOAT if dtype == np.float64 else dtype
    return _new(np.full(_shape((size,)), fill_value, dtype=dtype), requires_grad)


def zeros_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(np.zeros(x.shape, dtype=dtype or x.dtype), requires_grad)


def ones_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(np.ones(x.shape, dtype=dtype or x.dtype), requires_grad)


def full_like(x: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    return _new(np.full(x.shape, fill_value, dtype=dtype or x.dtype), requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Values from ``start`` up to (not including) ``end``: int64 for ints, else float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if is_int else _DEFAULT_FLOAT
    return _new(np.arange(start, end, step, dtype=dtype), requires_grad)


def linspace(start, end, steps: int, dtype=_DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    return _new(np.linspace(start, end, steps, dtype=dtype), requires_grad)


def eye(n: int, m: int | None = None, dtype=_DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    return _new(np.eye(n, m, dtype=dtype), requires_grad)


def rand(*size, dtype=_DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1)."""
    return _new(get_generator().random(_shape(size), dtype=dtype), requires_grad)


def randn(*size, dtype=_DEFAULT_FLOAT, requires_grad: bool = False) -> Tensor:
    """Standard normal."""
    return _new(get_generator().standard_normal(_shape(size), dtype=dtype), requires_grad)


def randint(low, high=None, size=(), dtype=np.int64) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size=...)`` starts at 0)."""
    if high is None:
        low, high = 0, low
    return Tensor._make(get_generator().integers(low, high, size=_shape((size,)), dtype=dtype))


def randn_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    dtype = dtype or x.dtype
    return _new(get_generator().standard_normal(x.shape).astype(dtype, copy=False), requires_grad)


def rand_like(x: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    dtype = dtype or x.dtype
    return _new(get_generator().random(x.shape).astype(dtype, copy=False), requires_grad)


def randperm(n: int) -> Tensor:
    return Tensor._make(get_generator().permutation(n).astype(np.int64))
