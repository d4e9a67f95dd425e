"""Activation layers: thin Modules over the functional activations.

Each layer holds only its settings; the maths (and the fused backward) lives
in ``axon.ops.activation`` / ``axon.ops.nn``. ``inplace`` arguments are
accepted for PyTorch compatibility and ignored: inside a graph axon computes
in-place ops out of place anyway.

Example::

    >>> act = nn.GELU(approximate="tanh")
    >>> act(axon.randn(4, 8)).shape
    (4, 8)
"""

from __future__ import annotations

from axon.nn.module import Module
from axon.ops.activation import elu, gelu, leaky_relu, relu, silu, softplus
from axon.ops.elementwise import sigmoid, tanh
from axon.ops.nn import log_softmax, softmax


def _inplace_repr(inplace: bool, sep: str = "") -> str:
    return f"{sep}inplace=True" if inplace else ""


class ReLU(Module):
    """max(x, 0), elementwise.  Shape: any -> same."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return relu(x)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x.  Shape: any -> same."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x):
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + _inplace_repr(self.inplace, ", ")


class ELU(Module):
    """x if x > 0 else alpha * (exp(x) - 1).  Shape: any -> same."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x):
        return elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace_repr(self.inplace, ", ")


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` for the tanh form."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x) (Swish).  Shape: any -> same."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return silu(x)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Sigmoid(Module):
    """1 / (1 + exp(-x)).  Shape: any -> same."""

    def forward(self, x):
        return sigmoid(x)


class Tanh(Module):
    """tanh(x).  Shape: any -> same."""

    def forward(self, x):
        return tanh(x)


def _legacy_softmax_dim(ndim: int) -> int:
    """PyTorch's choice when ``dim`` is not given: 0 for 0-, 1- and 3-D inputs, else 1."""
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """exp(x_i) / sum_j exp(x_j) along ``dim``; the outputs along ``dim`` sum to 1.

    Args:
        dim: the dim to normalize (give it: without it PyTorch's legacy rule
            picks 0 for 0-, 1- and 3-D inputs and 1 otherwise).
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return softmax(x, _legacy_softmax_dim(x.ndim) if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably (pair it with ``NLLLoss``)."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return log_softmax(x, _legacy_softmax_dim(x.ndim) if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (for stability)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"
