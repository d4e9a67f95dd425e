"""Fused neural-network ops: softmax and log-softmax along one dim.

Both subtract the row maximum before ``exp`` so large logits never overflow.
    softmax:      y = exp(x - m) / sum(exp(x - m))
                  dL/dx = y * (g - sum(g * y))
    log_softmax:  y = x - m - log(sum(exp(x - m)))
                  dL/dx = g - exp(y) * sum(g)
"""

from __future__ import annotations

import numpy as np

from axon.autograd.function import Function
from axon.ops.elementwise import as_tensor, exp
from axon.ops.reduce import normalize_dims


class Softmax(Function):
    def forward(self, x, dim):
        self.dim = dim
        y = np.asarray(x - np.max(x, axis=dim, keepdims=True))  # an array even for 0-d x
        np.exp(y, out=y)
        y /= np.sum(y, axis=dim, keepdims=True)
        self.save_for_backward(y)
        return y

    def backward(self, grad):
        (y,) = self.saved_tensors
        return y * (grad - (grad * y).sum(self.dim, keepdim=True)), None


class LogSoftmax(Function):
    def forward(self, x, dim):
        self.dim = dim
        shifted = x - np.max(x, axis=dim, keepdims=True)
        y = shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))
        self.save_for_backward(y)
        return y

    def backward(self, grad):
        (y,) = self.saved_tensors
        return grad - exp(y) * grad.sum(self.dim, keepdim=True), None


def softmax(x, dim: int = -1):
    """exp(x) / sum(exp(x)) along ``dim`` (default: the last)."""
    x = as_tensor(x)
    (d,) = normalize_dims("softmax", dim, x.ndim, x.shape) or (None,)
    return Softmax.apply(x, d)


def log_softmax(x, dim: int = -1):
    """log(softmax(x)) along ``dim``, computed stably."""
    x = as_tensor(x)
    (d,) = normalize_dims("log_softmax", dim, x.ndim, x.shape) or (None,)
    return LogSoftmax.apply(x, d)
