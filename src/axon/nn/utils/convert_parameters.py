"""Flatten parameters into one vector and back (for line searches, evolution strategies, ...)."""

from __future__ import annotations

import numpy as np

from axon.autograd.grad_mode import no_grad
from axon.ops.movement import cat
from axon.tensor import Tensor


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor (differentiable).

    Example::

        >>> vec = nn.utils.parameters_to_vector(model.parameters())
    """
    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (in place, in order)."""
    data = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    if data.ndim != 1:
        raise ValueError(f"vector_to_parameters: expected a 1-D vector, got shape {data.shape}")
    params = list(parameters)
    total = sum(p.data.size for p in params)
    if data.size != total:
        raise ValueError(
            f"vector_to_parameters: the vector has {data.size} elements but the parameters hold {total}"
        )
    offset = 0
    with no_grad():
        for p in params:
            n = p.data.size
            p.data[...] = data[offset : offset + n].reshape(p.shape)
            p._vc[0] += 1  # autograd must see that the values changed
            offset += n
