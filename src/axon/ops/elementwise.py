"""Elementwise ops: arithmetic, exp/log, trigonometry, comparisons, where, casts.

Binary ops broadcast like NumPy; their backward sums the gradient back to each
input's shape with ``sum_to_shape`` (the one helper that undoes broadcasting).
Python numbers stay Python numbers, so ``x * 2`` keeps ``x``'s dtype.
"""

from __future__ import annotations

import math

import numpy as np

from axon.autograd.function import Function
from axon.ops.special import erf as _erf_array
from axon.tensor import _DEFAULT_FLOAT, Tensor


def as_tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x)


def _is_scalar(x) -> bool:
    return isinstance(x, (int, float, bool, np.number, np.bool_))


def _operands(a, b):
    """Prepare two operands: Tensors stay, numbers stay numbers, the rest become Tensors.

    Integer and float operands are promoted as in PyTorch: an integer tensor
    meeting a float (number or tensor) becomes that float dtype (float32 for a
    Python float) instead of NumPy's float64, and NumPy scalars and 0-d float
    tensors don't upcast a float tensor that has dims.
    """
    if isinstance(a, Tensor) and isinstance(b, Tensor) and a.data.dtype == b.data.dtype:
        return a, b  # the common case: nothing to promote
    a, b = _number_or_tensor(a), _number_or_tensor(b)
    a, b = _promote_int_float(a, b), _promote_int_float(b, a)
    a, b = _zero_dim_float(a, b), _zero_dim_float(b, a)
    return a, b


def _zero_dim_float(x, other):
    """A 0-d float tensor meeting a float tensor with dims takes its dtype, as in PyTorch
    (``x_f32 * tensor(np.float64(2))`` stays float32, as ``x_f32 * 2.0`` does)."""
    if (
        isinstance(x, Tensor)
        and isinstance(other, Tensor)
        and x.ndim == 0
        and other.ndim
        and x.dtype != other.dtype
        and x.dtype.kind == other.dtype.kind == "f"
    ):
        return x.to(other.dtype)
    return x


def _number_or_tensor(x):
    if isinstance(x, np.generic):
        # NumPy 2 scalars are strongly typed (x * np.float64(2) would be float64):
        # treat them as the Python numbers PyTorch sees
        return x.item()
    return x if isinstance(x, Tensor) or _is_scalar(x) else Tensor(x)


def _floating(x) -> Tensor:
    """``x`` as a Tensor; integer and bool tensors become float32 (as PyTorch's exp, log...)."""
    x = as_tensor(x)
    return x.to(_DEFAULT_FLOAT) if x.dtype.kind in "biu" else x


def _broadcasting(name: str, fn, *args):
    """``fn(*args)``, with NumPy's broadcasting error replaced by one naming the op."""
    try:
        return fn(*args)
    except ValueError:
        shapes = [np.shape(a) for a in args if not _is_scalar(a)]
        try:
            np.broadcast_shapes(*shapes)
        except ValueError:
            raise ValueError(
                f"{name}: shapes {' and '.join(map(str, shapes))} can't be broadcast together"
            ) from None
        raise


def _promote_int_float(x, other):
    if not isinstance(x, Tensor) or x.dtype.kind not in "biu":
        return x
    if isinstance(other, Tensor) and other.dtype.kind == "f":
        return x.to(other.dtype)
    if isinstance(other, (float, np.floating)):
        return x.to(_DEFAULT_FLOAT)
    return x


def sum_to_shape(grad: Tensor, shape: tuple) -> Tensor:
    """Sum ``grad`` over the dims that broadcasting added or stretched to reach ``shape``."""
    if grad.shape == tuple(shape):
        return grad
    from axon.ops.reduce import SumToShape

    return SumToShape.apply(grad, tuple(shape))


# ------------------------------------------------------------------ arithmetic
class Add(Function):
    def forward(self, a, b):
        self.shapes = (np.shape(a), np.shape(b))
        return a + b

    def backward(self, grad):
        ga = sum_to_shape(grad, self.shapes[0]) if self.needs_input_grad[0] else None
        gb = sum_to_shape(grad, self.shapes[1]) if self.needs_input_grad[1] else None
        return ga, gb


class Sub(Function):
    def forward(self, a, b):
        self.shapes = (np.shape(a), np.shape(b))
        return a - b

    def backward(self, grad):
        ga = sum_to_shape(grad, self.shapes[0]) if self.needs_input_grad[0] else None
        gb = sum_to_shape(-grad, self.shapes[1]) if self.needs_input_grad[1] else None
        return ga, gb


class Mul(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved_tensors
        ga = sum_to_shape(grad * b, np.shape(a)) if self.needs_input_grad[0] else None
        gb = sum_to_shape(grad * a, np.shape(b)) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a / b

    def backward(self, grad):
        a, b = self.saved_tensors
        ga = sum_to_shape(grad / b, np.shape(a)) if self.needs_input_grad[0] else None
        # d(a/b)/db = -a / b^2
        gb = sum_to_shape(-grad * a / (b * b), np.shape(b)) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class PowScalar(Function):
    """x ** c for a constant exponent c.   d/dx = c * x ** (c - 1)

    Small integer exponents are computed by repeated multiplication: NumPy's
    float ``power`` is ~25x slower than ``x * x * x`` for ``x ** 3``.
    """

    def forward(self, x, c):
        self.save_for_backward(x)
        self.c = c
        if c == 2:
            return x * x
        if c == 3:
            return x * x * x
        if c == 1:
            return x.copy()
        if c == 0.5:
            return np.sqrt(x)
        if c == -1:
            return 1 / x
        if c == 0:
            return np.ones_like(x)
        return np.power(x, x.dtype.type(c) if x.dtype.kind == "f" else c)

    def backward(self, grad):
        (x,) = self.saved_tensors
        c = self.c
        if c == 0:
            return grad * 0
        return grad * (c * PowScalar.apply(x, c - 1))


class Pow(Function):
    """a ** b with both tensors.   d/da = b * a^(b-1),   d/db = a^b * log(a)"""

    def forward(self, a, b):
        out = np.power(a, b)
        self.save_for_backward(a, b, out)
        return out

    def backward(self, grad):
        a, b, out = self.saved_tensors
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to_shape(grad * b * pow(a, b - 1), np.shape(a))
        if self.needs_input_grad[1]:
            # log(a) is undefined for a <= 0; PyTorch reports 0 there when a == 0.
            a_t = a if isinstance(a, Tensor) else Tensor(a, dtype=out.dtype)  # keep float64 precise
            safe_log = where(a_t > 0, log(where(a_t > 0, a_t, 1)), 0)
            gb = sum_to_shape(grad * out * safe_log, np.shape(b))
        return ga, gb


# ---------------------------------------------------------------- unary maths
class Exp(Function):
    def forward(self, x):
        y = np.exp(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad):
        (y,) = self.saved_tensors
        return grad * y


class Log(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return np.log(x)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad / x


class Log1p(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return np.log1p(x)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad / (1 + x)


class Sqrt(Function):
    def forward(self, x):
        y = np.sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad):
        (y,) = self.saved_tensors
        return grad / (2 * y)


class Rsqrt(Function):
    """1 / sqrt(x).   d/dx = -0.5 * x^(-3/2) = -0.5 * y^3"""

    def forward(self, x):
        y = 1 / np.sqrt(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad):
        (y,) = self.saved_tensors
        return grad * (-0.5 * y * y * y)


class Abs(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return np.abs(x)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * sign(x)


class Sign(Function):
    def forward(self, x):
        return np.sign(x)

    def backward(self, grad):
        return grad * 0


class Sin(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return np.sin(x)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * cos(x)


class Cos(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return np.cos(x)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return -grad * sin(x)


class Tanh(Function):
    def forward(self, x):
        y = np.tanh(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad):
        (y,) = self.saved_tensors
        return grad * (1 - y * y)


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) on an array, without overflow for large |x|."""
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class Sigmoid(Function):
    """sigma(x) = 1 / (1 + exp(-x)).   d/dx = sigma (1 - sigma)"""

    def forward(self, x):
        y = sigmoid_array(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad):
        (y,) = self.saved_tensors
        return grad * y * (1 - y)


class Erf(Function):
    """erf(x).   d/dx = 2 / sqrt(pi) * exp(-x^2)"""

    def forward(self, x):
        self.save_for_backward(x)
        return _erf_array(x)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * (2 / math.sqrt(math.pi)) * exp(-(x * x))


class Clamp(Function):
    """min(max(x, lo), hi); the gradient passes where lo <= x <= hi (as PyTorch)."""

    def forward(self, x, lo, hi):
        keep = np.ones(x.shape, dtype=bool)
        if lo is not None:
            keep &= x >= lo
        if hi is not None:
            keep &= x <= hi
        self.save_for_backward(keep)
        return np.clip(x, lo, hi)

    def backward(self, grad):
        (keep,) = self.saved_tensors
        return grad * keep


class Maximum(Function):
    """max(a, b) elementwise; on ties the gradient is split half and half (as PyTorch)."""

    pick_greater = True

    def forward(self, a, b):
        first_wins = (a > b) if self.pick_greater else (a < b)
        share_a = first_wins + 0.5 * (a == b)
        self.save_for_backward(share_a.astype(np.result_type(a, b), copy=False))
        self.shapes = (np.shape(a), np.shape(b))
        return np.maximum(a, b) if self.pick_greater else np.minimum(a, b)

    def backward(self, grad):
        (share_a,) = self.saved_tensors
        ga = sum_to_shape(grad * share_a, self.shapes[0]) if self.needs_input_grad[0] else None
        gb = (
            sum_to_shape(grad * (1 - share_a), self.shapes[1]) if self.needs_input_grad[1] else None
        )
        return ga, gb


class Minimum(Maximum):
    pick_greater = False


class Where(Function):
    """cond ? a : b.   The gradient flows to a where cond holds, to b elsewhere."""

    def forward(self, cond, a, b):
        self.cond = cond
        self.shapes = (np.shape(a), np.shape(b))
        return np.where(cond, a, b)

    def backward(self, grad):
        cond = Tensor._make(self.cond)
        ga = gb = None
        if self.needs_input_grad[1]:
            ga = sum_to_shape(where(cond, grad, 0), self.shapes[0])
        if self.needs_input_grad[2]:
            gb = sum_to_shape(where(cond, 0, grad), self.shapes[1])
        return None, ga, gb


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype."""

    def forward(self, x, dtype):
        self.in_dtype = x.dtype
        return x.astype(dtype)

    def backward(self, grad):
        return grad.to(self.in_dtype)


class Clone(Function):
    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return grad


# ------------------------------------------------------------ functional API
def add(a, b):
    """a + b with broadcasting."""
    return _broadcasting("add", Add.apply, *_operands(a, b))


def sub(a, b):
    """a - b with broadcasting."""
    return _broadcasting("sub", Sub.apply, *_operands(a, b))


def mul(a, b):
    """a * b with broadcasting."""
    return _broadcasting("mul", Mul.apply, *_operands(a, b))


def div(a, b):
    """a / b with broadcasting (true division; integer inputs give float32)."""
    a, b = _operands(a, b)
    # still integer after _operands: the other side is an integer too
    if isinstance(a, Tensor) and a.dtype.kind in "biu":
        a = a.to(_DEFAULT_FLOAT)
    if isinstance(b, Tensor) and b.dtype.kind in "biu":
        b = b.to(_DEFAULT_FLOAT)
    return _broadcasting("div", Div.apply, a, b)


def neg(x):
    return Neg.apply(x)


def pow(base, exponent):  # noqa: A001 - PyTorch's name
    """base ** exponent: a constant exponent takes the fast ``PowScalar`` path."""
    if isinstance(base, Tensor) and _is_scalar(exponent):
        if base.dtype.kind in "biu" and isinstance(exponent, (float, np.floating)):
            base = base.to(_DEFAULT_FLOAT)
        return PowScalar.apply(base, exponent)
    return _broadcasting("pow", Pow.apply, *_operands(base, exponent))


def exp(x):
    return Exp.apply(_floating(x))


def log(x):
    return Log.apply(_floating(x))


def log1p(x):
    return Log1p.apply(_floating(x))


def sqrt(x):
    return Sqrt.apply(_floating(x))


def rsqrt(x):
    return Rsqrt.apply(_floating(x))


def abs(x):  # noqa: A001 - PyTorch's name
    return Abs.apply(as_tensor(x))


def sign(x):
    return Sign.apply(as_tensor(x))


def sin(x):
    return Sin.apply(_floating(x))


def cos(x):
    return Cos.apply(_floating(x))


def tanh(x):
    return Tanh.apply(_floating(x))


def sigmoid(x):
    return Sigmoid.apply(_floating(x))


def erf(x):
    return Erf.apply(_floating(x))


def clamp(x, min=None, max=None):  # noqa: A002 - PyTorch's names
    """Clamp into [min, max]; either bound may be None, a number, or a tensor."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    x = as_tensor(x)
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = x if min is None else maximum(x, min)
        return out if max is None else minimum(out, max)
    min, max = (b.item() if isinstance(b, np.generic) else b for b in (min, max))  # noqa: A001
    if x.dtype.kind in "biu" and (isinstance(min, float) or isinstance(max, float)):
        x = x.to(_DEFAULT_FLOAT)  # int tensor, float bounds: float32, as PyTorch
    return Clamp.apply(x, min, max)


def maximum(a, b):
    return _broadcasting("maximum", Maximum.apply, *_operands(a, b))


def minimum(a, b):
    return _broadcasting("minimum", Minimum.apply, *_operands(a, b))


def where(cond, a, b):
    """Elementwise ``a if cond else b``; ``cond`` is a bool tensor or array."""
    cond = cond.data if isinstance(cond, Tensor) else np.asarray(cond)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {cond.dtype}")
    a, b = _number_or_tensor(a), _number_or_tensor(b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)  # two numbers: PyTorch's dtype (float32 for floats), not NumPy's float64
    a, b = _operands(a, b)
    return _broadcasting("where", Where.apply, cond, a, b)


def cast(x, dtype):
    dtype = np.dtype(dtype)
    if x.dtype == dtype:
        return x
    return Cast.apply(x, dtype)


def clone(x):
    return Clone.apply(x)


# ------------------------------------------------- comparisons: no gradient
def _compare(ufunc):
    def compare(a, b):
        a, b = _operands(a, b)
        raw_a = a.data if isinstance(a, Tensor) else a
        raw_b = b.data if isinstance(b, Tensor) else b
        return Tensor._make(_broadcasting(ufunc.__name__, ufunc, raw_a, raw_b))

    compare.__name__ = ufunc.__name__
    compare.__doc__ = f"Elementwise ``{ufunc.__name__}`` (a bool tensor; no gradient)."
    return compare


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)


def logical_not(x):
    return Tensor._make(np.logical_not(as_tensor(x).data))


def isnan(x):
    return Tensor._make(np.isnan(as_tensor(x).data))


def isfinite(x):
    return Tensor._make(np.isfinite(as_tensor(x).data))
