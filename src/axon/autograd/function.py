"""``Function``: one differentiable op, forward and backward side by side.

An op is one subclass::

    class Tanh(Function):
        def forward(self, x):                 # raw arrays in, raw array out
            y = np.tanh(x)
            self.save_for_backward(y)         # keep only what backward needs
            return y

        def backward(self, grad):             # Tensors in, Tensors out
            (y,) = self.saved_tensors
            return grad * (1 - y * y)         # d tanh(x)/dx = 1 - tanh(x)^2

``backward`` returns one gradient per forward argument (None where there is
none); trailing non-tensor arguments such as dims or flags may be left out.

``forward`` works on NumPy arrays, so it is as fast as NumPy. ``backward`` is
written with Tensor operations: when the engine runs it under ``no_grad`` it
costs little more than the same NumPy code, and when a user asks for
``create_graph=True`` the very same formula records a graph, which is how
second derivatives work without writing every derivative twice. Hot
composites (GELU, layer norm, cross-entropy, convolution) instead call a
fused backward kernel wrapped in its own Function.

The object that runs ``forward`` is also the graph node ("ctx"): it holds the
saved arrays, which parents to send gradients to, and nothing else. Graph
edges point to nodes, never to intermediate Tensors, so an activation stays
in memory only if some backward needs it, and only until that backward ran.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from axon.autograd.anomaly import check_finite, is_anomaly_enabled, user_stack
from axon.autograd.grad_mode import is_grad_enabled

_RELEASED = object()  # marks a node whose saved arrays were freed by backward
_GRAPH_ATTRS = frozenset(("parents", "needs_input_grad", "_input_meta", "_out_meta"))  # no arrays

#: The open ``axon.autograd.profiler.profile``, or None (the only cost when off: this read).
_PROFILER: Any = None


class Function:
    """Base class of every differentiable op. Use ``Op.apply(*inputs)``."""

    #: True when forward returns a view of input 0: the output then shares the
    #: input's version counter, so in-place writes through either are seen.
    is_view = False

    # --------------------------------------------------------------- running
    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on the inputs' arrays and, if needed, record the node.

        Tensor arguments are unwrapped to their arrays; anything else (Python
        numbers, tuples of dims, ``None``) is passed to ``forward`` as it is.
        Returns a Tensor, or a tuple of Tensors if forward returns a tuple.
        """
        from axon.tensor import Tensor

        prof = _PROFILER
        if prof is not None:
            start = time.perf_counter()
        ctx = cls.__new__(cls)
        raw = []
        needs = []
        for a in args:
            if isinstance(a, Tensor):
                raw.append(a.data)
                needs.append(a.requires_grad)
            else:
                raw.append(a)
                needs.append(False)
        ctx.needs_input_grad = tuple(needs)
        ctx._to_save = ()
        out = ctx.forward(*raw, **kwargs)

        multi = isinstance(out, tuple)
        outs = out if multi else (out,)
        share = args[0]._vc if ctx.is_view and isinstance(args[0], Tensor) else None
        tensors = tuple(Tensor._make(o, share) for o in outs)
        if is_anomaly_enabled():
            for o in outs:
                check_finite(o, cls.__name__, "forward output", user_stack())

        if is_grad_enabled() and any(needs):
            ctx.parents = tuple(
                a._node() if need else None for a, need in zip(args, needs, strict=True)
            )
            ctx._input_meta = tuple(
                (a.data.shape, a.data.dtype) if need else None
                for a, need in zip(args, needs, strict=True)
            )
            ctx._out_meta = tuple((o.shape, o.dtype) for o in outs)
            ctx._tensor_hooks = None
            if is_anomaly_enabled():
                ctx._stack = user_stack()
            for i, t in enumerate(tensors):
                if t.data.dtype.kind in "fc":
                    t.requires_grad = True
                    t._ctx = ctx
                    t._out_idx = i
            ctx._saved = ctx._pack_saved(args, raw, outs, tensors)
        del ctx._to_save
        if prof is not None:
            prof._forward(cls.__name__, time.perf_counter() - start)
        return tensors if multi else tensors[0]

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no forward")

    def backward(self, *grads):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    # ---------------------------------------------------------------- saving
    def save_for_backward(self, *items) -> None:
        """Keep arrays (inputs, the output, or anything forward computed) for backward.

        Pass the very array objects forward received or returned: the node then
        hands the matching *Tensor* back in ``saved_tensors`` (connected to the
        graph, so double backward works) and checks it was not modified in place.
        """
        self._to_save = items

    def _pack_saved(self, args, raw, outs, tensors):
        packed = []
        for item in self._to_save:
            entry = ("const", item)
            # np.generic too: a ufunc on a 0-d array returns a NumPy scalar
            if isinstance(item, (np.ndarray, np.generic)):
                for a, r in zip(args, raw, strict=True):
                    if r is item and hasattr(a, "_vc"):
                        # Save what the input *is now* (array, node, version), not the
                        # Tensor object: an in-place op inside a graph later re-points
                        # that object to a new value. Leaves keep their identity, as
                        # gradients (and double-backward ones) are delivered to them.
                        if a._ctx is None and a.requires_grad:
                            entry = ("leaf", a, a._vc, a._vc[0])
                        else:
                            entry = ("input", r, a._ctx, a._out_idx, a._vc, a._vc[0])
                        break
                else:
                    for j, o in enumerate(outs):
                        if o is item:
                            vc = tensors[j]._vc
                            entry = ("output", j, o, vc, vc[0])
                            break
            packed.append(entry)
        return packed

    @property
    def saved_tensors(self) -> tuple:
        """The saved items as Tensors (Python scalars and None stay as they are)."""
        from axon.tensor import Tensor

        self._check_not_released(always=True)
        result = []
        for entry in self._saved:
            kind = entry[0]
            if kind == "leaf":
                _, tensor, vc, version = entry
                self._check_version(vc, version, tensor.shape)
                result.append(tensor)
            elif kind == "input":
                _, array, node, idx, vc, version = entry
                self._check_version(vc, version, np.shape(array))
                t = Tensor._make(array, vc)
                if node is not None:  # a non-leaf: keep it connected for double backward
                    t.requires_grad = True
                    t._ctx = node
                    t._out_idx = idx
                result.append(t)
            elif kind == "output":
                _, j, array, vc, version = entry
                self._check_version(vc, version, array.shape)
                t = Tensor._make(array, vc)
                if is_grad_enabled():  # create_graph: the output is a graph node too
                    t.requires_grad = True
                    t._ctx = self
                    t._out_idx = j
                result.append(t)
            else:
                item = entry[1]
                result.append(Tensor._make(item) if isinstance(item, np.ndarray) else item)
        return tuple(result)

    def _check_version(self, vc, version, shape) -> None:
        if vc[0] != version:
            raise RuntimeError(
                f"{self.name}: a tensor of shape {tuple(shape)} that this op saved for "
                f"backward was modified in place afterwards (version {vc[0]}, expected "
                f"{version}), so its gradient would be wrong. Use an out-of-place op "
                "(x = x + 1 instead of x += 1) or clone() the tensor before changing it."
            )

    def _release(self) -> None:
        """Free the saved arrays (and any array forward stashed on the node)."""
        had_state = bool(self._saved)
        self._saved = _RELEASED
        for key, value in list(vars(self).items()):
            # arrays, and tuples holding some (an index like x[mask, idx])
            if isinstance(value, np.ndarray) or (
                isinstance(value, tuple)
                and key not in _GRAPH_ATTRS
                and any(isinstance(v, np.ndarray) for v in value)
            ):
                delattr(self, key)
                had_state = True
        self._had_state = had_state

    def _check_not_released(self, always: bool = False) -> None:
        if self._saved is _RELEASED and (always or self._had_state):
            raise RuntimeError(
                f"{self.name}: trying to run backward through this part of the graph a "
                "second time, but its saved arrays were freed by the first backward. "
                "Pass retain_graph=True to the first backward() if you need to call it twice."
            )

    # ------------------------------------------------------------- reporting
    @property
    def name(self) -> str:
        """``MulBackward``-style name, as PyTorch prints ``grad_fn``."""
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name}>"
