"""``Module``: the base class of every layer and model.

A Module owns Parameters (learnable weights), buffers (state that is saved
but not learned, such as batch-norm running means) and child Modules, all
registered by plain attribute assignment::

    class TwoLayer(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(784, 128)   # a child module
            self.out = nn.Linear(128, 10)

        def forward(self, x):
            return self.out(F.relu(self.hidden(x)))

Calling the module runs forward pre-hooks, ``forward``, then forward hooks;
full backward hooks see the gradients flowing out of and into the module.
Names in ``state_dict()`` follow PyTorch's (``hidden.weight``, ``out.bias``),
so a PyTorch state_dict converted to arrays loads directly.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from axon.nn.hooks import RemovableHandle, wrap_for_backward_hooks
from axon.nn.parameter import Parameter
from axon.tensor import Tensor


class IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list


class Module:
    """Base class for all neural-network modules (as ``torch.nn.Module``)."""

    training: bool

    def __init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", OrderedDict())
        set_(self, "_buffers", OrderedDict())
        set_(self, "_non_persistent_buffers", set())
        set_(self, "_modules", OrderedDict())
        set_(self, "_forward_pre_hooks", OrderedDict())
        set_(self, "_forward_hooks", OrderedDict())
        set_(self, "_backward_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # ------------------------------------------------------------- calling
    def __call__(self, *args, **kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            new_args = hook(self, args)
            if new_args is not None:
                args = new_args if isinstance(new_args, tuple) else (new_args,)
        if self._backward_hooks:
            args, on_output = wrap_for_backward_hooks(self, args)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            new_output = hook(self, args, output)
            if new_output is not None:
                output = new_output
        if self._backward_hooks:
            output = on_output(output)
        return output

    # --------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__ and isinstance(value, (Parameter, Module)):
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before assigning {name!r}"
            )
        # as PyTorch: replacing a registered weight or child with anything else is an
        # error, not a silent unregistering (the weight would stop being trained)
        if value is not None and not isinstance(value, Parameter):
            if name in self.__dict__.get("_parameters", ()):
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} as "
                    f"parameter {name!r} (a Parameter or None expected)"
                )
            if name in self.__dict__.get("_modules", ()) and not isinstance(value, Module):
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} as "
                    f"child module {name!r} (a Module or None expected)"
                )
        for store in ("_parameters", "_buffers", "_modules"):
            if store in self.__dict__ and name in self.__dict__[store]:
                if (
                    store == "_buffers"
                    and (value is None or isinstance(value, Tensor))
                    and not isinstance(value, Parameter)
                ):
                    self._buffers[name] = value
                    return
                del self.__dict__[store][name]
        if isinstance(value, Parameter):
            self.__dict__.pop(name, None)  # a plain attribute of that name would shadow it
            self._parameters[name] = value
        elif isinstance(value, Module):
            self.__dict__.pop(name, None)
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(store, {}):
                del self.__dict__[store][name]
                self._non_persistent_buffers.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, for an absent optional weight such as a bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None")
        self.__dict__.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is not learned; ``persistent=False`` keeps it out of state_dict."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}"
            )
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------ iteration
    def named_modules(
        self, memo: set | None = None, prefix: str = ""
    ) -> Iterator[tuple[str, Module]]:
        """Every module in the tree (self first), each once, with its dotted name."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def _named_members(self, store: str, prefix: str, recurse: bool):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(name, parameter) pairs; a parameter shared by two modules appears once."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules:
                raise AttributeError(
                    f"get_submodule: {type(module).__name__} has no submodule {part!r} ({target!r})"
                )
            module = module._modules[part]
        return module

    # ---------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics)."""
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode: same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data.fill(0)

    def apply(self, fn) -> Module:
        """Call ``fn(module)`` on every submodule (children first) and self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, dtype) -> Module:
        """Cast floating-point parameters and buffers to ``dtype`` in place."""
        dtype = np.dtype(dtype)
        for t in list(self.parameters()) + list(self.buffers()):
            if t.dtype.kind == "f":
                t.data = t.data.astype(dtype)
                if t.grad is not None:
                    t.grad = Tensor._make(t.grad.data.astype(dtype))
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    def half(self) -> Module:
        return self.to(np.float16)

    # ----------------------------------------------------------- state dict
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict:
        """Parameters and persistent buffers by dotted name (tensors share memory)."""
        out: OrderedDict = OrderedDict()
        for module_prefix, module in self.named_modules(prefix=prefix.rstrip(".")):
            dot = f"{module_prefix}." if module_prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[dot + name] = p if keep_vars else p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent_buffers:
                    out[dot + name] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values into this module's parameters and buffers (in place).

        Values may be Tensors or NumPy arrays. A shape mismatch always raises,
        naming the key and both shapes; with ``strict`` (the default) missing or
        unexpected keys raise too. Returns ``(missing_keys, unexpected_keys)``.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != target.shape:
                raise ValueError(
                    f"load_state_dict: size mismatch for {key!r}: the checkpoint has shape "
                    f"{array.shape}, the model has shape {target.shape}"
                )
        if strict and (missing or unexpected):
            raise KeyError(
                f"load_state_dict for {type(self).__name__}: missing keys {missing}, "
                f"unexpected keys {unexpected}"
            )
        for key, target in own.items():
            if key in state_dict:
                value = state_dict[key]
                array = value.data if isinstance(value, Tensor) else np.asarray(value)
                np.copyto(target.data, array, casting="unsafe")
                target._vc[0] += 1
        return IncompatibleKeys(missing, unexpected)

    def save(self, path) -> None:
        """Save ``state_dict()`` to ``path`` as safetensors (atomic write)."""
        from axon.serialization import save

        save(self.state_dict(), path)

    def load(self, path, strict: bool = True) -> IncompatibleKeys:
        """Load weights saved by ``save`` (or any safetensors file with matching names)."""
        from axon.serialization import load

        return self.load_state_dict(load(path), strict=strict)

    # ---------------------------------------------------------------- hooks
    def _add_hook(self, store: OrderedDict, hook) -> RemovableHandle:
        handle = RemovableHandle(store)
        store[handle.id] = hook
        return handle

    def register_forward_pre_hook(self, hook) -> RemovableHandle:
        """``hook(module, args)`` runs before forward; it may return new args."""
        return self._add_hook(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook) -> RemovableHandle:
        """``hook(module, args, output)`` runs after forward; it may return a new output."""
        return self._add_hook(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` runs when the module's input gradients are ready.

        ``grad_output`` holds the gradients with respect to the module's tensor
        outputs, ``grad_input`` those with respect to its tensor inputs (None for
        inputs that don't require grad). The hook may return a new grad_input.
        """
        return self._add_hook(self._backward_hooks, hook)

    # ---------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """One line of settings shown inside the module's repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {child_repr}")
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def summary(self, *example_inputs, input_shape=None) -> str:
        """A table of every leaf layer's output shape and parameter count.

        Pass example inputs, or ``input_shape=(1, 784)`` for one float32 zeros input.
        """
        from axon.nn.summary import summarize

        return summarize(self, example_inputs, input_shape)
