"""Single-step recurrent cells: ``RNNCell``, ``LSTMCell``, ``GRUCell``.

A cell advances the state by one time step; the caller owns the loop (for
example to feed each output back as the next input while decoding). The
math, parameter names and initialisation are those of one layer of
``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` without the ``_l0`` suffix, as in
PyTorch. Each step runs the same fused kernels as the full layers, with a
sequence of length one.
"""

from __future__ import annotations

import math

import numpy as np

from axon.nn import init
from axon.nn.module import Module
from axon.nn.parameter import Parameter
from axon.nn.recurrent import run_scan
from axon.ops.elementwise import as_tensor
from axon.ops.linalg import linear
from axon.ops.movement import reshape


class _CellBase(Module):
    """Parameters weight_ih (G*H, in), weight_hh (G*H, H), bias_ih, bias_hh (G*H,), U(-1/sqrt(H), 1/sqrt(H))."""

    mode = ""
    num_gates = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype=np.float32):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        gate_size = self.num_gates * hidden_size
        self.weight_ih = Parameter(np.empty((gate_size, input_size), dtype))
        self.weight_hh = Parameter(np.empty((gate_size, hidden_size), dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(gate_size, dtype))
            self.bias_hh = Parameter(np.empty(gate_size, dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _state(self, state, batch: int, batched: bool, dtype, what: str = "hx"):
        """The (B, H) state: zeros when omitted; an unbatched (H,) state gains a batch dim."""
        if state is None:
            return np.zeros((batch, self.hidden_size), dtype)
        state = as_tensor(state)
        expected = (batch, self.hidden_size) if batched else (self.hidden_size,)
        if state.shape != expected:
            raise ValueError(
                f"{type(self).__name__}: expected {what} of shape {expected}, got {state.shape}"
            )
        return state if batched else reshape(state, 1, self.hidden_size)  # (1, H)

    def _step(self, input, h, c=None):
        """One step from x (B, in): the x projection, then the fused scan over one step."""
        xw = linear(input, self.weight_ih, self.bias_ih)  # (B, G*H)
        xw = reshape(xw, 1, *xw.shape)  # (1, B, G*H): a sequence of one step
        _, h_new, c_new = run_scan(self.mode, xw, self.weight_hh, self.bias_hh, h, c)
        return h_new, c_new

    def _input(self, input):
        x = as_tensor(input)
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}(input_size={self.input_size}): expected input of shape "
                f"(N, {self.input_size}) or ({self.input_size},), got {x.shape}"
            )
        batched = x.ndim == 2
        return (x if batched else reshape(x, 1, -1)), batched  # (B, in)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s


class RNNCell(_CellBase):
    r"""One Elman RNN step: h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act = tanh or relu.

    Shape: input (N, H_in) or (H_in,); hx (N, H) or (H,), zeros if omitted -> h' like hx.

    Example::

        >>> cell = nn.RNNCell(10, 20)
        >>> h = None
        >>> for x_t in axon.randn(6, 3, 10):
        ...     h = cell(x_t, h)
    """

    num_gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        dtype=np.float32,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'"
            )
        self.nonlinearity = nonlinearity
        self.mode = "RNN_" + nonlinearity.upper()
        super().__init__(input_size, hidden_size, bias, dtype)

    def forward(self, input, hx=None):
        x, batched = self._input(input)
        h, _ = self._step(x, self._state(hx, x.shape[0], batched, x.dtype))
        return h if batched else reshape(h, self.hidden_size)  # (H,)


class LSTMCell(_CellBase):
    r"""One LSTM step (gate order i, f, g, o as ``nn.LSTM``): returns (h', c').

        c' = f * c + i * g,   h' = o * tanh(c')

    Shape: input (N, H_in) or (H_in,); hx = (h, c), each (N, H) or (H,), zeros if omitted.

    Example::

        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(axon.randn(3, 10))
        >>> h, c = cell(axon.randn(3, 10), (h, c))
    """

    mode = "LSTM"
    num_gates = 4

    def forward(self, input, hx=None):
        x, batched = self._input(input)
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise ValueError("LSTMCell: hx must be a tuple (h, c)")
        h_in, c_in = hx if hx is not None else (None, None)
        h = self._state(h_in, x.shape[0], batched, x.dtype, "h")
        c = self._state(c_in, x.shape[0], batched, x.dtype, "c")
        h, c = self._step(x, h, c)
        if not batched:
            h, c = reshape(h, self.hidden_size), reshape(c, self.hidden_size)  # (H,)
        return h, c


class GRUCell(_CellBase):
    r"""One GRU step (gate order r, z, n as ``nn.GRU``).

        n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)),   h' = (1 - z) * n + z * h

    Shape: input (N, H_in) or (H_in,); hx (N, H) or (H,), zeros if omitted -> h' like hx.

    Example::

        >>> cell = nn.GRUCell(10, 20)
        >>> h = cell(axon.randn(3, 10))
    """

    mode = "GRU"
    num_gates = 3

    def forward(self, input, hx=None):
        x, batched = self._input(input)
        h, _ = self._step(x, self._state(hx, x.shape[0], batched, x.dtype))
        return h if batched else reshape(h, self.hidden_size)  # (H,)
