"""Activation functions: ReLU, Leaky ReLU, ELU, GELU, SiLU, Softplus.

ReLU and Leaky ReLU are written with ``where``; ReLU's array kernels are
tuned (see ``_relu_forward``, ``_relu_backward``). The smooth ones (GELU,
SiLU, ELU, Softplus) each describe f, f' and f'' on arrays; their backward is
one fused kernel, ``grad * f'(x)`` (``PointwiseGrad``), whose own backward
uses f'' so second derivatives work too. Exact GELU has a float32 fast path
(``_GeluExact.forward_fast``): a rational erf evaluated block by block in
cache, keeping Phi(x) for the backward.
"""

from __future__ import annotations

import math

import numpy as np

from axon.autograd.function import Function
from axon.autograd.grad_mode import is_grad_enabled
from axon.ops.elementwise import as_tensor, sigmoid_array, where
from axon.ops.special import _ALPHA, _BETA
from axon.ops.special import erf as _erf
from axon.parallel import BLOCK, blockwise
from axon.tensor import Tensor

_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


_ZEROS: dict = {}


def _zeros_block(dtype) -> np.ndarray:
    """A read-only block of zeros: ``np.maximum(x, 0)`` with a scalar 0 misses
    NumPy's SIMD loop (2.5x slower than against an array of zeros)."""
    z = _ZEROS.get(dtype)
    if z is None:
        z = _ZEROS[dtype] = np.zeros(BLOCK, dtype)
        z.flags.writeable = False
    return z


def _relu_block(out, x):
    np.maximum(x, _zeros_block(x.dtype)[: x.size], out=out)


def _relu_grad_block(out, grad, y):
    """out = grad where y > 0 else +0: bitwise AND with an all-ones/all-zeros mask.

    Exactly ``np.where(y > 0, grad, 0)`` (NaN or inf in grad at y <= 0 give 0,
    as PyTorch's threshold_backward) and ~9x faster: ``where`` branches per element.
    """
    bits = out.view(_INT_OF_SIZE[out.itemsize])
    np.greater(y, 0, out=bits)  # 1 / 0
    np.negative(bits, out=bits)  # all ones / all zeros
    np.bitwise_and(bits, grad.view(bits.dtype), out=bits)


_INT_OF_SIZE = {2: np.int16, 4: np.int32, 8: np.int64}


def _relu_forward(x: np.ndarray) -> np.ndarray:
    if x.dtype.kind != "f" or x.ndim == 0:
        return np.maximum(x, 0)
    return blockwise(_relu_block, np.empty(x.shape, x.dtype), np.ascontiguousarray(x))


def _relu_backward(grad: np.ndarray, y: np.ndarray) -> np.ndarray:
    if grad.shape != y.shape or grad.dtype != y.dtype or grad.itemsize not in _INT_OF_SIZE:
        return np.where(y > 0, grad, 0).astype(grad.dtype, copy=False)
    out = np.empty(y.shape, y.dtype)
    return blockwise(_relu_grad_block, out, np.ascontiguousarray(grad), y)


class Relu(Function):
    """max(x, 0).   d/dx = 1 where x > 0, else 0."""

    def forward(self, x):
        y = _relu_forward(x)
        self.save_for_backward(y)
        return y

    def backward(self, grad):
        (y,) = self.saved_tensors
        if is_grad_enabled():  # create_graph: a differentiable formula
            return where(y > 0, grad, 0)
        return Tensor._make(_relu_backward(grad.data, y.data))


class LeakyRelu(Function):
    """x if x > 0 else slope * x."""

    def forward(self, x, slope):
        positive = x > 0
        self.save_for_backward(positive)
        self.slope = slope
        return np.where(positive, x, x * x.dtype.type(slope))

    def backward(self, grad):
        (positive,) = self.saved_tensors
        return where(positive, grad, grad * self.slope)


# -------------------------------------------- smooth activations: f, f', f''
# float32 GELU: Phi(x) = 1/2 + 1/2 erf(x / sqrt 2), with erf(u) = u P(u^2) / Q(u^2) for
# |u| <= 4 (special.py's rational approximation; erf(4) rounds to 1 in float32).
# With t = x^2 = 2 u^2 the coefficients absorb the 1/2 and 1/sqrt(2):
#     Phi(x) = 1/2 + xc P'(t) / Q'(t),   xc = clip(x, -4 sqrt 2, 4 sqrt 2), t = xc^2
_GELU_CLIP = np.float32(4 * _SQRT_2)
_GELU_P = tuple(
    np.float32(float(a) / 2.0 ** (len(_ALPHA) - 1 - i) * 0.5 / _SQRT_2)
    for i, a in enumerate(_ALPHA)
)
_GELU_Q = tuple(np.float32(float(b) / 2.0 ** (len(_BETA) - 1 - i)) for i, b in enumerate(_BETA))


def _horner(t, coeffs):
    """c0 t^n + c1 t^(n-1) + ... + cn, as a new array (two passes per degree)."""
    r = t * coeffs[0]
    r += coeffs[1]
    for c in coeffs[2:]:
        r *= t
        r += c
    return r


def _gelu_block(out, x, phi):
    """out = x Phi(x), phi = Phi(x), for one float32 block (~25 passes, all in cache)."""
    xc = np.clip(x, -_GELU_CLIP, _GELU_CLIP)
    t = xc * xc
    p = _horner(t, _GELU_P)
    p /= _horner(t, _GELU_Q)
    p *= xc
    np.add(p, np.float32(0.5), out=phi)
    np.multiply(phi, x, out=out)


def _gelu_grad_block(out, grad, x, phi):
    """out = grad * (Phi(x) + x phi(x)), phi(x) = exp(-x^2/2) / sqrt(2 pi)."""
    t = x * x
    t *= np.float32(-0.5)
    np.exp(t, out=t)
    t *= x
    t *= np.float32(_INV_SQRT_2PI)
    t += phi
    np.multiply(t, grad, out=out)


class _GeluExact:
    """f = x * Phi(x);  f' = Phi + x * phi;  f'' = phi * (2 - x^2)."""

    name = "gelu"

    @staticmethod
    def forward_fast(x):
        """(f(x), Phi(x)) for float32 x; Phi is kept for ``grad_fast``."""
        x = np.ascontiguousarray(x)
        out, phi = np.empty_like(x), np.empty_like(x)
        return blockwise(_gelu_block, out, x, phi), phi

    @staticmethod
    def grad_fast(grad, x, phi):
        """grad * f'(x) from the Phi(x) that ``forward_fast`` kept."""
        return blockwise(_gelu_grad_block, np.empty_like(phi), np.ascontiguousarray(grad), x, phi)

    @staticmethod
    def f(x):
        return x * (0.5 * (1 + _erf(x / x.dtype.type(_SQRT_2))))

    @staticmethod
    def df(x):
        cdf = 0.5 * (1 + _erf(x / x.dtype.type(_SQRT_2)))
        return cdf + x * (np.exp(-0.5 * x * x) * x.dtype.type(_INV_SQRT_2PI))

    @staticmethod
    def d2f(x):
        return np.exp(-0.5 * x * x) * x.dtype.type(_INV_SQRT_2PI) * (2 - x * x)


class _GeluTanh:
    """f = x/2 * (1 + tanh(u)), u = sqrt(2/pi) * (x + 0.044715 x^3)."""

    name = "gelu(approximate='tanh')"

    @staticmethod
    def _parts(x):
        k = x.dtype.type(_SQRT_2_OVER_PI)
        c = x.dtype.type(_GELU_C)
        t = np.tanh(k * (x + c * x * x * x))
        du = k * (1 + 3 * c * x * x)
        return t, du, k, c

    @staticmethod
    def f(x):
        k = x.dtype.type(_SQRT_2_OVER_PI)
        return 0.5 * x * (1 + np.tanh(k * (x + x.dtype.type(_GELU_C) * x * x * x)))

    @classmethod
    def df(cls, x):
        t, du, _, _ = cls._parts(x)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du

    @classmethod
    def d2f(cls, x):
        t, du, k, c = cls._parts(x)
        d2u = 6 * k * c * x
        return (1 - t * t) * (du + 0.5 * x * (d2u - 2 * t * du * du))


class _Silu:
    """f = x * s, s = sigmoid(x);  f' = s (1 + x (1 - s));  f'' = s (1 - s)(2 + x (1 - 2 s))."""

    name = "silu"

    _sigmoid = staticmethod(sigmoid_array)

    @classmethod
    def f(cls, x):
        return x * cls._sigmoid(x)

    @classmethod
    def df(cls, x):
        s = cls._sigmoid(x)
        return s * (1 + x * (1 - s))

    @classmethod
    def d2f(cls, x):
        s = cls._sigmoid(x)
        return s * (1 - s) * (2 + x * (1 - 2 * s))


class _Elu:
    """f = x if x > 0 else alpha (e^x - 1);  f' = 1 or alpha e^x;  f'' = 0 or alpha e^x."""

    name = "elu"

    def __init__(self, alpha):
        self.alpha = alpha

    def f(self, x):
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def df(self, x):
        return np.where(x > 0, 1, self.alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)

    def d2f(self, x):
        return np.where(x > 0, 0, self.alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)


class _Softplus:
    """f = log(1 + e^(beta x)) / beta, and x itself where beta x > threshold."""

    name = "softplus"

    def __init__(self, beta, threshold):
        self.beta, self.threshold = beta, threshold

    def f(self, x):
        z = x * self.beta
        # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): no overflow for large z.
        soft = (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / self.beta
        return np.where(z > self.threshold, x, soft).astype(x.dtype, copy=False)

    def df(self, x):
        z = x * self.beta
        return np.where(z > self.threshold, 1, sigmoid_array(z)).astype(x.dtype, copy=False)

    def d2f(self, x):
        z = x * self.beta
        s = sigmoid_array(z)
        return np.where(z > self.threshold, 0, self.beta * s * (1 - s)).astype(x.dtype, copy=False)


class Pointwise(Function):
    """y = f(x) for a smooth activation ``fn`` that knows f, f' and f''.

    An ``fn`` may also offer ``forward_fast(x) -> (y, cache)`` and
    ``grad_fast(grad, x, cache)`` for float32 inputs: a tuned forward that
    keeps an intermediate (``cache``) the backward reuses.
    """

    def forward(self, x, fn):
        self.save_for_backward(x)
        self.fn = fn
        if x.dtype == np.float32 and x.ndim and hasattr(fn, "forward_fast"):
            y, self.cache = fn.forward_fast(x)
            return y
        return fn.f(x)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return PointwiseGrad.apply(grad, x, self.fn, getattr(self, "cache", None)), None


class PointwiseGrad(Function):
    """grad * f'(x), fused: the backward of ``Pointwise``.

    Its own backward (second derivatives):
        d/d grad = f'(x),    d/dx = grad * f''(x).
    """

    def forward(self, grad, x, fn, cache=None):
        self.save_for_backward(grad, x)
        self.fn = fn
        if cache is not None and grad.shape == x.shape and grad.dtype == x.dtype:
            return fn.grad_fast(grad, x, cache)
        return grad * fn.df(x)

    def backward(self, gg):
        if is_grad_enabled():
            raise NotImplementedError(
                f"{self.fn.name}: third and higher derivatives are not supported "
                "(create_graph=True on a second-order gradient)"
            )
        grad, x = self.saved_tensors
        d_grad = gg * Tensor._make(self.fn.df(x.data)) if self.needs_input_grad[0] else None
        d_x = gg * grad * Tensor._make(self.fn.d2f(x.data)) if self.needs_input_grad[1] else None
        return d_grad, d_x, None, None


# ------------------------------------------------------------ functional API
def relu(x):
    """max(x, 0)."""
    return Relu.apply(as_tensor(x))


def leaky_relu(x, negative_slope: float = 0.01):
    """x if x > 0 else negative_slope * x."""
    return LeakyRelu.apply(as_tensor(x), float(negative_slope))


def elu(x, alpha: float = 1.0):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return Pointwise.apply(as_tensor(x), _Elu(float(alpha)))  # a float: np.float64 would upcast


def gelu(x, approximate: str = "none"):
    """x * Phi(x) (Phi: the standard normal CDF), or its tanh approximation.

    Args:
        approximate: ``'none'`` for the exact erf form, ``'tanh'`` for
            0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Pointwise.apply(as_tensor(x), _GeluExact if approximate == "none" else _GeluTanh)


def silu(x):
    """x * sigmoid(x) (also called Swish)."""
    return Pointwise.apply(as_tensor(x), _Silu)


def softplus(x, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + exp(beta x)) / beta; linear where beta x > threshold (as PyTorch)."""
    return Pointwise.apply(as_tensor(x), _Softplus(float(beta), float(threshold)))
