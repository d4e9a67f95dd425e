"""Machinery behind module hooks: removable handles and full backward hooks.

A full backward hook must see, at one moment, the gradients leaving the
module (w.r.t. its outputs) and entering it (w.r.t. its inputs). The module's
tensor outputs pass through an identity node that records their gradients;
its inputs pass through another identity node whose backward, which runs once
all the module's gradients have arrived, calls the hooks.
"""

from __future__ import annotations

import itertools

from axon.autograd.function import Function
from axon.tensor import Tensor

_ids = itertools.count()


class RemovableHandle:
    """Returned by ``register_*_hook``: ``handle.remove()`` unregisters the hook."""

    def __init__(self, store: dict):
        self._store = store
        self.id = next(_ids)

    def remove(self) -> None:
        self._store.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _HookState:
    def __init__(self, module, n_inputs: int, any_input_needs_grad: bool):
        self.module = module
        self.n_inputs = n_inputs
        self.any_input_needs_grad = any_input_needs_grad
        self.grad_output: tuple = ()

    def call_hooks(self, grad_input: tuple) -> tuple:
        for hook in list(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        return grad_input


class BackwardHookInputs(Function):
    """Identity over the module's inputs; its backward calls the module's hooks."""

    def forward(self, *arrays, state, positions):
        self.state, self.positions = state, positions
        return tuple(arrays)

    def backward(self, *grads):
        full = [None] * self.state.n_inputs
        for pos, g in zip(self.positions, grads, strict=True):
            full[pos] = g
        full = self.state.call_hooks(tuple(full))
        return tuple(full[pos] for pos in self.positions)


class BackwardHookOutputs(Function):
    """Identity over the module's outputs; its backward records grad_output."""

    def forward(self, *arrays, state):
        self.state = state
        return tuple(arrays)

    def backward(self, *grads):
        self.state.grad_output = grads
        if not self.state.any_input_needs_grad:
            self.state.call_hooks((None,) * self.state.n_inputs)
        return grads


def wrap_for_backward_hooks(module, args: tuple):
    """Route ``args`` through the input identity; return (args, function for the output)."""
    tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    grad_pos = [i for i in tensor_pos if args[i].requires_grad]
    state = _HookState(module, len(tensor_pos), bool(grad_pos))
    args = list(args)
    if grad_pos:
        # positions among the tensor inputs, as grad_input is indexed
        order = [tensor_pos.index(i) for i in grad_pos]
        wrapped = BackwardHookInputs.apply(
            *(args[i] for i in grad_pos), state=state, positions=order
        )
        for i, t in zip(grad_pos, wrapped, strict=True):
            args[i] = t

    def on_output(output):
        outs = output if isinstance(output, tuple) else (output,)
        pos = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o.requires_grad]
        if not pos:
            return output
        wrapped = BackwardHookOutputs.apply(*(outs[i] for i in pos), state=state)
        outs = list(outs)
        for i, t in zip(pos, wrapped, strict=True):
            outs[i] = t
        return tuple(outs) if isinstance(output, tuple) else outs[0]

    return tuple(args), on_output
