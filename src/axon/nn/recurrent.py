"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` (multi-layer, bidirectional).

Each layer and direction costs one GEMM for the input projection of every
time step, x W_ih^T + b_ih, and one fused scan op (``axon.ops.recurrent``)
that runs the recurrence step by step over time (never over the batch) and
backpropagates through time in closed form. Parameter names, gate order,
shapes and the returned ``(output, h_n)`` / ``(output, (h_n, c_n))`` follow
PyTorch, so a ``torch.nn.LSTM`` state_dict loads directly.
"""

from __future__ import annotations

import math

import numpy as np

from axon.nn import init
from axon.nn.module import Module
from axon.nn.parameter import Parameter
from axon.ops.dropout import dropout as _dropout
from axon.ops.elementwise import as_tensor
from axon.ops.linalg import linear
from axon.ops.movement import cat, reshape, split, stack, transpose, unsqueeze
from axon.ops.recurrent import GRUScan, LSTMScan, RNNScan

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def run_scan(mode: str, xw, w_hh, b_hh, h0, c0=None, w_hr=None, reverse: bool = False):
    """One layer, one direction: (output (T, B, H), h_n, c_n or None) from xw (T, B, G)."""
    if mode == "LSTM":
        return LSTMScan.apply(xw, w_hh, b_hh, h0, c0, w_hr, reverse)
    if mode == "GRU":
        out, h_n = GRUScan.apply(xw, w_hh, b_hh, h0, reverse)
    else:
        out, h_n = RNNScan.apply(xw, w_hh, b_hh, h0, mode == "RNN_RELU", reverse)
    return out, h_n, None


class RNNBase(Module):
    """What RNN, LSTM and GRU share: the parameters, the layer/direction loop, the states.

    Parameters, for layer k and the reverse direction's ``_reverse`` suffix
    (G = 1, 4 or 3 gates; H = hidden_size; P = proj_size or H)::

        weight_ih_l{k}  (G*H, input_size if k == 0 else P * num_directions)
        weight_hh_l{k}  (G*H, P)
        bias_ih_l{k}, bias_hh_l{k}  (G*H,)
        weight_hr_l{k}  (P, H)                  (LSTM with proj_size > 0 only)

    all initialised U(-1/sqrt(H), 1/sqrt(H)) as PyTorch does.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        dtype=np.float32,
    ):
        super().__init__()
        name = "RNN" if mode.startswith("RNN") else mode
        if hidden_size <= 0 or num_layers <= 0 or input_size < 0:
            raise ValueError(
                f"{name}: hidden_size and num_layers must be positive, got hidden_size={hidden_size}, "
                f"num_layers={num_layers}"
            )
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1], got {dropout}")
        if proj_size < 0 or proj_size >= hidden_size or (proj_size and mode != "LSTM"):
            raise ValueError(
                f"{name}: proj_size must be 0, or (LSTM only) between 1 and hidden_size - 1; "
                f"got proj_size={proj_size} with hidden_size={hidden_size}"
            )
        self.mode, self.name = mode, name
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        self.num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else real_hidden * self.num_directions
            for direction in range(self.num_directions):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                self.register_parameter(
                    "weight_ih" + sfx, Parameter(np.empty((gate_size, layer_in), dtype))
                )
                self.register_parameter(
                    "weight_hh" + sfx, Parameter(np.empty((gate_size, real_hidden), dtype))
                )
                if bias:
                    self.register_parameter("bias_ih" + sfx, Parameter(np.empty(gate_size, dtype)))
                    self.register_parameter("bias_hh" + sfx, Parameter(np.empty(gate_size, dtype)))
                if proj_size:
                    self.register_parameter(
                        "weight_hr" + sfx, Parameter(np.empty((proj_size, hidden_size), dtype))
                    )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch compatibility (cuDNN weight packing)."""

    def _weights(self, layer: int, direction: int) -> tuple:
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        get = self._parameters.get
        return (
            get("weight_ih" + sfx),
            get("weight_hh" + sfx),
            get("bias_ih" + sfx),
            get("bias_hh" + sfx),
            get("weight_hr" + sfx),
        )

    def _initial(self, state, what: str, size: int, batch: int, batched: bool, dtype):
        """h_0 or c_0 as a list of (B, size) pieces, one per layer and direction."""
        n = self.num_layers * self.num_directions
        if state is None:
            zeros = np.zeros((batch, size), dtype)
            return [zeros] * n
        state = as_tensor(state)
        expected = (n, batch, size) if batched else (n, size)
        if state.shape != expected:
            size_name = "proj_size" if what == "h_0" and self.proj_size else "hidden_size"
            raise ValueError(
                f"{self.name}: expected {what} of shape {expected} (num_layers * num_directions, "
                f"{'batch, ' if batched else ''}{size_name}), got {state.shape}"
            )
        if not batched:
            state = unsqueeze(state, 1)  # (L*D, 1, size)
        return [reshape(p, batch, size) for p in split(state, 1, 0)]  # each (B, size)

    def forward(self, input, hx=None):
        x = as_tensor(input)
        if x.ndim not in (2, 3):
            raise ValueError(
                f"{self.name}: expected input of shape (L, H_in), (L, N, H_in) or with batch_first "
                f"(N, L, H_in), got {x.shape}"
            )
        batched = x.ndim == 3
        if not batched:
            x = unsqueeze(x, 1)  # (T, 1, In)
        elif self.batch_first:
            x = transpose(x, 0, 1)  # (T, B, In)
        n_steps, batch, features = x.shape
        if features != self.input_size:
            raise ValueError(
                f"{self.name}(input_size={self.input_size}): input has {features} features "
                f"(shape {as_tensor(input).shape})"
            )
        is_lstm = self.mode == "LSTM"
        h_size = self.proj_size or self.hidden_size
        if is_lstm and hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise ValueError("LSTM: hx must be a tuple (h_0, c_0)")
        h_in, c_in = (hx if hx is not None else (None, None)) if is_lstm else (hx, None)
        h0 = self._initial(h_in, "h_0", h_size, batch, batched, x.dtype)
        c0 = (
            self._initial(c_in, "c_0", self.hidden_size, batch, batched, x.dtype)
            if is_lstm
            else None
        )
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(self.num_directions):
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, direction)
                k = layer * self.num_directions + direction
                # one GEMM projects the input of every time step
                xw = linear(reshape(x, n_steps * batch, x.shape[-1]), w_ih, b_ih)  # (T*B, G)
                xw = reshape(xw, n_steps, batch, w_ih.shape[0])  # (T, B, G)
                out, h, c = run_scan(
                    self.mode,
                    xw,
                    w_hh,
                    b_hh,
                    h0[k],
                    c0[k] if is_lstm else None,
                    w_hr,
                    reverse=direction == 1,
                )
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            x = outs[0] if len(outs) == 1 else cat(outs, -1)  # (T, B, D * H)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout)
        h_n = stack(h_n, 0)  # (L * D, B, H)
        if is_lstm:
            c_n = stack(c_n, 0)
        if not batched:
            x, h_n = reshape(x, n_steps, -1), reshape(h_n, h_n.shape[0], -1)  # drop the batch dim
            c_n = reshape(c_n, c_n.shape[0], -1) if is_lstm else c_n  # (L * D, H)
        elif self.batch_first:
            x = transpose(x, 0, 1)  # (B, T, D * H)
        return (x, (h_n, c_n)) if is_lstm else (x, h_n)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class RNN(RNNBase):
    r"""Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act = tanh or relu.

    Args:
        input_size: features of x_t.  hidden_size: features of h_t.
        num_layers: stacked layers; layer k > 0 reads layer k-1's output.
        nonlinearity: ``'tanh'`` or ``'relu'``.
        bias: learn b_ih and b_hh.  batch_first: input/output are (N, L, *).
        dropout: dropout on each layer's output except the last (training only).
        bidirectional: also run right-to-left; outputs are concatenated.

    Shape:
        input (L, N, H_in) (or (N, L, H_in) with batch_first, or unbatched (L, H_in));
        h_0 (D * num_layers, N, H_out), zeros if omitted.
        Returns output (L, N, D * H_out) and h_n (D * num_layers, N, H_out).

    Example::

        >>> rnn = nn.RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(axon.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype=np.float32,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(
            "RNN_" + nonlinearity.upper(),
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype=dtype,
        )


class LSTM(RNNBase):
    r"""Long short-term memory, with PyTorch's gate order (i, f, g, o).

        i, f, o = sigmoid(x_t W_i*^T + b_i* + h_{t-1} W_h*^T + b_h*),  g = tanh(...)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)          (then h_t W_hr^T when proj_size > 0)

    Args: as ``RNN`` (no nonlinearity), plus ``proj_size``: project h_t to this size.

    Shape:
        input (L, N, H_in) (or (N, L, H_in) with batch_first, or unbatched (L, H_in));
        hx = (h_0 (D * num_layers, N, H_out), c_0 (D * num_layers, N, H_cell)), zeros if omitted.
        Returns output (L, N, D * H_out) and (h_n, c_n); H_out = proj_size or hidden_size.

    Example::

        >>> lstm = nn.LSTM(10, 20, batch_first=True, bidirectional=True)
        >>> output, (h_n, c_n) = lstm(axon.randn(3, 5, 10))
        >>> output.shape, h_n.shape
        ((3, 5, 40), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        dtype=np.float32,
    ):
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            dtype=dtype,
        )


class GRU(RNNBase):
    r"""Gated recurrent unit, with PyTorch's gate order (r, z, n).

        r, z = sigmoid(x_t W_i*^T + b_i* + h_{t-1} W_h*^T + b_h*)
        n = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn))
        h_t = (1 - z) * n + z * h_{t-1}

    Args and Shape: as ``RNN`` (no nonlinearity).

    Example::

        >>> gru = nn.GRU(10, 20, num_layers=2, dropout=0.1)
        >>> output, h_n = gru(axon.randn(5, 3, 10))
        >>> output.shape
        (5, 3, 20)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype=np.float32,
    ):
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype=dtype,
        )
