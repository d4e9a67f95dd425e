"""axon: a deep-learning framework written from first principles on NumPy.

>>> import axon
>>> x = axon.randn(3, requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()          # x.grad == 2 * x
"""

from __future__ import annotations

import numpy as np

from axon import backend as _backend
from axon.autograd import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from axon.autograd.profiler import profile
from axon.creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from axon.ops.activation import elu, gelu, leaky_relu, relu, silu, softplus
from axon.ops.elementwise import (
    abs,
    add,
    clamp,
    cos,
    div,
    eq,
    erf,
    exp,
    ge,
    gt,
    isfinite,
    isnan,
    le,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    sub,
    tanh,
    where,
)
from axon.ops.linalg import matmul
from axon.ops.movement import (
    broadcast_to,
    cat,
    chunk,
    expand,
    flatten,
    index_select,
    masked_fill,
    one_hot,
    pad,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    transpose,
    tril,
    triu,
    unsqueeze,
)
from axon.ops.nn import log_softmax, softmax
from axon.ops.reduce import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    std,
    sum,
    var,
)
from axon.random import get_rng_state, manual_seed, set_rng_state
from axon.tensor import Tensor, _install_operators

_install_operators()

from axon import autograd, data, nn, optim  # noqa: E402  (public subpackages)
from axon.serialization import load, save  # noqa: E402

__version__ = "0.1.0"

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)
half, float, double, long = float16, float32, float64, int64  # noqa: A001 - PyTorch's names
concat = cat
clip = clamp
