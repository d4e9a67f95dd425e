"""Switches that turn graph recording off and on: ``no_grad``, ``enable_grad``.

Both work as context managers and as decorators, as in PyTorch::

    with axon.no_grad():
        y = model(x)          # no graph is recorded

    @axon.no_grad()
    def evaluate(model): ...
"""

from __future__ import annotations

import functools
import threading

_state = threading.local()


def is_grad_enabled() -> bool:
    """True when operations on tensors that require grad record a graph."""
    return getattr(_state, "enabled", True)


def _set(enabled: bool) -> None:
    _state.enabled = enabled


class _GradMode:
    """Base for the grad-mode context managers; also usable as decorators."""

    _enabled: bool = True

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        if cls is set_grad_enabled or not (args or kwargs):
            return self
        if len(args) == 1 and callable(args[0]) and not kwargs:
            return self(args[0])  # ``@no_grad`` without parentheses, as PyTorch allows
        raise TypeError(f"{cls.__name__}() takes no arguments (or the function it decorates)")

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set(self._enabled)
        return self

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Disable graph recording inside the block (inference, parameter updates)."""

    _enabled = False


class enable_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Re-enable graph recording inside a ``no_grad`` block."""

    _enabled = True


class inference_mode(no_grad):  # noqa: N801 - PyTorch's name
    """Same as ``no_grad`` in axon (there is no separate inference tensor kind)."""


class set_grad_enabled(_GradMode):  # noqa: N801 - PyTorch's name
    """Set graph recording on or off: ``with set_grad_enabled(train): ...``.

    As in PyTorch, a plain call ``set_grad_enabled(False)`` switches the mode
    right away (until switched back); as a context manager it is restored on exit.
    """

    def __init__(self, mode: bool = True):
        self._enabled = bool(mode)
        self._prev = is_grad_enabled()
        _set(self._enabled)

    def __enter__(self):
        return self  # already switched by __init__

    def __call__(self, fn):
        _set(self._prev)  # used as a decorator: undo the switch __init__ made
        mode = self._enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper
