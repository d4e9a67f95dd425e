"""``detect_anomaly()``: find the op that first produced NaN or Inf.

Inside the block every op's forward output and every gradient that backward
computes is checked for non-finite values; the first one raises a
``FloatingPointError`` naming the op and where in the user's code it ran.
This slows everything down (one ``isfinite`` per op), so it is a debugging
tool, off by default.
"""

from __future__ import annotations

import os
import threading
import traceback

import numpy as np

_state = threading.local()
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # .../axon/


def is_anomaly_enabled() -> bool:
    return getattr(_state, "enabled", False)


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Context manager that checks every forward output and gradient for NaN/Inf."""

    def __enter__(self):
        self._prev = is_anomaly_enabled()
        _state.enabled = True
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False


class paused:  # noqa: N801 - used like detect_anomaly
    """Skip the forward checks of the ops a backward formula runs.

    The engine checks the gradients that formula returns and names the node
    (``SqrtBackward``) instead of the primitive inside it (``Div``).
    """

    def __enter__(self):
        self._prev = is_anomaly_enabled()
        _state.enabled = False
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False


def user_stack() -> str:
    """The caller's stack without axon's own frames: where the op was written."""
    # by the package's own directory: a checkout may itself live in .../axon/ (as on CI)
    frames = [f for f in traceback.extract_stack()[:-1] if not f.filename.startswith(_PACKAGE_DIR)]
    return "".join(traceback.format_list(frames[-4:]))


def check_finite(array, op_name: str, what: str, stack: str | None = None) -> None:
    """Raise ``FloatingPointError`` if ``array`` holds NaN or Inf."""
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "fc":
        return
    if np.isfinite(array).all():
        return
    n_nan = int(np.isnan(array).sum())
    n_inf = int(np.isinf(array).sum())
    where = f"\nThe op was called at:\n{stack}" if stack else ""
    raise FloatingPointError(
        f"{op_name}: {what} has {n_nan} NaN and {n_inf} Inf values (shape {array.shape}){where}"
    )
