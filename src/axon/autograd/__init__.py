"""Automatic differentiation: the Function base, the engine, grad modes, checks.

Public API (as ``torch.autograd``): ``backward``, ``grad``, ``gradcheck``,
``Function``, ``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``detect_anomaly``.
"""

from __future__ import annotations

import numpy as np

from axon.autograd.anomaly import detect_anomaly
from axon.autograd.engine import run_backward
from axon.autograd.function import Function
from axon.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from axon.autograd.gradcheck import gradcheck

__all__ = [
    "Function",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "grad",
    "gradcheck",
    "inference_mode",
    "is_grad_enabled",
    "no_grad",
    "set_grad_enabled",
]


def _as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _root_grads(op: str, outputs, grad_outputs):
    """Check the outputs can be differentiated and build their seed gradients."""
    from axon.tensor import Tensor

    grads = _as_list(grad_outputs) or [None] * len(outputs)
    if len(grads) != len(outputs):
        raise ValueError(f"{op}: got {len(grads)} gradients for {len(outputs)} outputs")
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grads, strict=True)):
        if not isinstance(out, Tensor) or not out.requires_grad:
            raise RuntimeError(
                f"{op}: output {i} does not require grad: none of the tensors it was computed "
                "from had requires_grad=True, or it was computed under no_grad()"
            )
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(
                    f"{op}: a gradient can only be created implicitly for a one-element output, "
                    f"but output {i} has shape {out.shape}; pass gradient=... of that shape"
                )
            g = Tensor._make(np.ones(out.shape, dtype=out.dtype))
        else:
            g = g if isinstance(g, Tensor) else Tensor(g, dtype=out.dtype)
            if g.shape != out.shape:
                raise ValueError(
                    f"{op}: gradient of shape {g.shape} doesn't match output {i} of shape {out.shape}"
                )
        seeds.append(g)
    return seeds


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate d(tensors)/d(leaf) into each leaf's ``.grad`` (see ``Tensor.backward``)."""
    outputs = _as_list(tensors)
    seeds = _root_grads("backward", outputs, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    roots = [t._node() for t in outputs]
    if inputs is None:
        run_backward(roots, seeds, retain_graph, create_graph)
        return
    wanted = _as_list(inputs)
    captured = run_backward(
        roots, seeds, retain_graph, create_graph, capture=[t._node() for t in wanted]
    )
    for t in wanted:
        g = captured.get((id(t._node()[0]), t._node()[1]))
        if g is not None:
            g = g if create_graph else g.detach()
            t.grad = g if t.grad is None else t.grad + g


def grad(
    outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False
):
    """Return d(outputs)/d(inputs) without touching any ``.grad``.

    With ``create_graph=True`` the returned gradients are themselves part of
    a graph, so they can be differentiated again (second derivatives)::

        (g,) = axon.autograd.grad(y, x, create_graph=True)
        (h,) = axon.autograd.grad(g.sum(), x)      # d2y/dx2
    """
    outputs = _as_list(outputs)
    inputs_list = _as_list(inputs)
    for i, t in enumerate(inputs_list):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad")
    seeds = _root_grads("grad", outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    places = [t._node() for t in inputs_list]
    captured = run_backward(
        [t._node() for t in outputs], seeds, retain_graph, create_graph, capture=places
    )
    result = []
    for i, (node, idx) in enumerate(places):
        g = captured.get((id(node), idx))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {inputs_list[i].shape}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it"
            )
        result.append(g)
    return tuple(result)
