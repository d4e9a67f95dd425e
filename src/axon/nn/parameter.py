"""``Parameter``: a tensor that a Module registers as one of its weights."""

from __future__ import annotations

import numpy as np

from axon.tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor that is a module's learnable weight (``requires_grad=True`` by default).

    Assigning a Parameter to a Module attribute registers it, so it shows up
    in ``parameters()`` and ``state_dict()``.

    Example::

        >>> w = nn.Parameter(axon.randn(3, 4))
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), dtype=np.float32)
        super().__init__(data.data if isinstance(data, Tensor) else data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
