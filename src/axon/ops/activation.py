"""Activation functions: ReLU, Leaky ReLU, ELU, GELU, SiLU, Softplus.

ReLU and Leaky ReLU are written with ``where`` in both directions. The smooth
ones (GELU, SiLU, ELU, Softplus) each describe f, f' and f'' on arrays; their
backward is one fused kernel, ``grad * f'(x)`` (``PointwiseGrad``), whose own
backward uses f'' so second derivatives work too.
"""

from __future__ import annotations

import math

import numpy as np

from axon.autograd.function import Function
from axon.autograd.grad_mode import is_grad_enabled
from axon.ops.elementwise import as_tensor, sigmoid_array, where
from axon.ops.special import erf as _erf
from axon.tensor import Tensor

_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


class Relu(Function):
    """max(x, 0).   d/dx = 1 where x > 0, else 0."""

    def forward(self, x):
        y = np.maximum(x, 0)
        self.save_for_backward(y)
        return y

    def backward(self, grad):
        (y,) = self.saved_tensors
        return where(y > 0, grad, 0)


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
class _GeluExact:
    """f = x * Phi(x);  f' = Phi + x * phi;  f'' = phi * (2 - x^2)."""

    name = "gelu"

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
    """y = f(x) for a smooth activation ``fn`` that knows f, f' and f''."""

    def forward(self, x, fn):
        self.save_for_backward(x)
        self.fn = fn
        return fn.f(x)

    def backward(self, grad):
        (x,) = self.saved_tensors
        return PointwiseGrad.apply(grad, x, self.fn), None


class PointwiseGrad(Function):
    """grad * f'(x), fused: the backward of ``Pointwise``.

    Its own backward (second derivatives):
        d/d grad = f'(x),    d/dx = grad * f''(x).
    """

    def forward(self, grad, x, fn):
        self.save_for_backward(grad, x)
        self.fn = fn
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
        return d_grad, d_x, None


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
