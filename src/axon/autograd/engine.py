"""Reverse-mode automatic differentiation: walk the graph from the output back.

1. Collect every node reachable from the outputs with an explicit stack (no
   recursion, so a chain of 100,000 ops is fine) and count, for each node,
   how many edges lead into it.
2. Order the nodes so each comes after every node that sends it a gradient
   (Kahn's algorithm).
3. Visit them in that order: sum the gradients that arrived for each output,
   run the node's ``backward``, and pass each input gradient on to its parent.
   Leaves (tensors the user created with ``requires_grad=True``) add the
   gradient into ``.grad``. A node's saved arrays are freed as soon as its
   backward has run, unless ``retain_graph=True``.
"""

from __future__ import annotations

import time

import numpy as np

from axon.autograd import function as _function
from axon.autograd.anomaly import check_finite, is_anomaly_enabled, paused
from axon.autograd.function import Function
from axon.autograd.grad_mode import set_grad_enabled


def _topological_order(roots):
    """Nodes reachable from ``roots``, each after all nodes that feed it gradient."""
    incoming: dict[int, int] = {}
    nodes: dict[int, object] = {}
    stack = [node for node, _ in roots]
    while stack:
        node = stack.pop()
        if id(node) in nodes:
            continue
        nodes[id(node)] = node
        if isinstance(node, Function):
            for parent in node.parents:
                if parent is None:
                    continue
                pid = id(parent[0])
                incoming[pid] = incoming.get(pid, 0) + 1
                if pid not in nodes:
                    stack.append(parent[0])
    ready = [n for i, n in nodes.items() if incoming.get(i, 0) == 0]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        if isinstance(node, Function):
            for parent in node.parents:
                if parent is None:
                    continue
                pid = id(parent[0])
                incoming[pid] -= 1
                if incoming[pid] == 0:
                    ready.append(parent[0])
    return order


def _needed(order, targets):
    """ids of nodes whose backward leads to one of ``targets`` (for ``grad()``).

    A target's own backward runs only if it leads to another target: ``grad(loss, h)``
    must not free (or pay for) the graph below ``h``.
    """
    reaches = set(targets)
    needed = set()
    for node in reversed(order):
        if isinstance(node, Function) and any(
            p is not None and id(p[0]) in reaches for p in node.parents
        ):
            needed.add(id(node))
            reaches.add(id(node))
    return needed


def run_backward(roots, root_grads, retain_graph=False, create_graph=False, capture=None):
    """Backpropagate ``root_grads`` from ``roots`` (a list of ``(node, output_index)``).

    Without ``capture``, leaf gradients are accumulated into ``.grad``. With
    ``capture`` (a list of ``(node, output_index)``), nothing is accumulated and
    the summed gradient arriving at each captured place is returned instead.
    """
    prof = _function._PROFILER
    if prof is None:
        return _run_backward(roots, root_grads, retain_graph, create_graph, capture, None)
    # profiling: time each node's backward; ops it runs count toward it, not as forwards
    prof._depth += 1
    try:
        return _run_backward(
            roots,
            root_grads,
            retain_graph,
            create_graph,
            capture,
            prof if prof._depth == 1 else None,
        )
    finally:
        prof._depth -= 1


def _run_backward(roots, root_grads, retain_graph, create_graph, capture, prof):
    from axon.tensor import Tensor

    order = _topological_order(roots)
    buffers: dict[int, dict[int, Tensor]] = {}
    user_arrays = set()
    for (node, idx), g in zip(roots, root_grads, strict=True):
        _accumulate(buffers, node, idx, g)
        user_arrays.add(id(g.data))
    captured: dict[tuple[int, int], Tensor] = {}
    wanted = None if capture is None else {(id(n), i) for n, i in capture}
    needed = None if capture is None else _needed(order, {id(n) for n, _ in capture})
    assigned = set(user_arrays)

    with set_grad_enabled(create_graph):
        for node in order:
            grads = buffers.pop(id(node), None)
            if grads is None:
                continue
            if isinstance(node, Tensor):
                g = _run_hooks(node._hooks, grads[0])
                if wanted is not None:
                    if (id(node), 0) in wanted:
                        captured[(id(node), 0)] = g
                elif node.requires_grad:
                    if prof is not None:
                        start = time.perf_counter()
                    _accumulate_leaf(node, g, create_graph, assigned)
                    if prof is not None:
                        prof._add("AccumulateGrad", "backward", time.perf_counter() - start)
                continue

            outs = []
            for i, (shape, dtype) in enumerate(node._out_meta):
                g = grads.get(i)
                hooks = node._tensor_hooks.get(i) if node._tensor_hooks else None
                if g is not None and hooks:
                    g = _run_hooks(hooks, g)
                if wanted is not None and (id(node), i) in wanted and g is not None:
                    captured[(id(node), i)] = g
                if g is None and len(node._out_meta) > 1:
                    g = Tensor._make(np.zeros(shape, dtype))
                outs.append(g)
            if needed is not None and id(node) not in needed:
                continue

            node._check_not_released()
            if prof is not None:
                start = time.perf_counter()
            if is_anomaly_enabled():
                with paused():  # the check below names this node, not an op inside it
                    in_grads = node.backward(*outs)
            else:
                in_grads = node.backward(*outs)
            if prof is not None:
                prof._add(type(node).__name__, "backward", time.perf_counter() - start)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            # One gradient per forward argument; trailing non-tensor arguments
            # (dims, flags) may be left out.
            missing = len(node.parents) - len(in_grads)
            if missing < 0 or any(p is not None for p in node.parents[len(in_grads) :]):
                raise RuntimeError(
                    f"{node.name} returned {len(in_grads)} gradients for "
                    f"{len(node.parents)} inputs (an axon bug: please report it)"
                )
            in_grads = in_grads + (None,) * missing
            for parent, meta, g in zip(node.parents, node._input_meta, in_grads, strict=True):
                if parent is None or g is None:
                    continue
                g = _as_grad(g, meta, node)
                if is_anomaly_enabled():
                    check_finite(
                        g.data, node.name, "an input gradient", getattr(node, "_stack", None)
                    )
                _accumulate(buffers, parent[0], parent[1], g)
            if not retain_graph:
                node._release()
    return captured


def _as_grad(g, meta, node):
    """Check a gradient's shape and cast it to the input's dtype."""
    from axon.tensor import Tensor

    if not isinstance(g, Tensor):
        g = Tensor._make(np.asarray(g))
    shape, dtype = meta
    if g.data.shape != shape:
        raise RuntimeError(
            f"{node.name} returned a gradient of shape {g.data.shape} for an input of "
            f"shape {shape} (an axon bug: please report it)"
        )
    if g.data.dtype != dtype:
        g = g.to(dtype)
    return g


def _accumulate(buffers, node, idx, g):
    slot = buffers.setdefault(id(node), {})
    prev = slot.get(idx)
    slot[idx] = g if prev is None else prev + g


def _run_hooks(hooks, g):
    for hook in list(hooks or ()):
        new = hook(g)
        if new is not None:
            g = new
    return g


def _accumulate_leaf(leaf, g, create_graph, assigned):
    """Add ``g`` into ``leaf.grad``, never aliasing an array someone else holds."""
    from axon.tensor import Tensor

    if not create_graph:
        g = g.detach()
    if leaf.grad is None:
        arr = g.data
        shared = id(arr) in assigned or arr.base is not None or not arr.flags.writeable
        if shared and not create_graph:
            g = Tensor._make(arr.copy())
        assigned.add(id(g.data))
        leaf.grad = g
    elif create_graph or not leaf.grad.data.flags.writeable:
        leaf.grad = leaf.grad + g
    else:
        np.add(leaf.grad.data, g.data, out=leaf.grad.data)
