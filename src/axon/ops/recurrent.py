"""Recurrent scans: one RNN, LSTM or GRU layer over a whole sequence, as one op.

A recurrent layer does two kinds of work:

1. the input projection  xw = x W_ih^T + b_ih  for all time steps at once
   (one GEMM, done by the caller with ``linear``);
2. the recurrence, which must go step by step because h_t needs h_{t-1}.

Each ``*Scan`` Function below does part 2 for one layer and one direction. Its
forward loops over time (never over the batch) on raw arrays and keeps the
gate activations; its backward is backpropagation through time in closed
form: a reverse loop that only carries dh (and dc) from step to step, with
the weight gradient left to one GEMM over all steps at the end,

    dW_hh = sum_t dA_t^T h_{t-1} = dA^T H_prev      (A: the hidden-side pre-activations)

so a 100-step LSTM is one graph node instead of ~20 per step. The backward is
its own Function (``_ScanBackward``); its backward raises, so second
derivatives through a recurrent layer are not supported.

Gates follow PyTorch (and cuDNN), with hw_t = h_{t-1} W_hh^T + b_hh:

    RNN:   h_t = act(xw_t + hw_t),  act = tanh or relu
    LSTM:  [i, f, g, o] = xw_t + hw_t  (4H columns, in this order)
           i, f, o = sigmoid(.),  g = tanh(.)
           c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)   (then h_t W_hr^T with proj_size)
    GRU:   r, z = sigmoid(xw_t[:2H] + hw_t[:2H])
           n = tanh(xw_t[2H:] + r * hw_t[2H:])
           h_t = (1 - z) * n + z * h_{t-1}

``xw`` is (T, B, G) in time order. ``reverse=True`` runs t = T-1 down to 0 (the
second direction of a bidirectional layer), still writing each output at its
own time index, so no flips are needed.
"""

from __future__ import annotations

import numpy as np

from axon.autograd.function import Function


def _steps(n: int, reverse: bool) -> range:
    return range(n - 1, -1, -1) if reverse else range(n)


def _previous(states: np.ndarray, first: np.ndarray, reverse: bool) -> np.ndarray:
    """The state each step started from, in time order: (T, B, H)."""
    if reverse:
        return np.concatenate([states[1:], first[None]])
    return np.concatenate([first[None], states[:-1]])


def _sigmoid_(a: np.ndarray) -> np.ndarray:
    """In place: 1 / (1 + exp(-a)). exp is ~2x faster than tanh in NumPy; exp overflowing
    to inf for very negative a correctly gives 0 (callers silence the overflow warning)."""
    np.negative(a, out=a)
    np.exp(a, out=a)
    a += 1
    return np.divide(1, a, out=a)


_LSTM_SIGNS: dict = {}


def _lstm_signs(hidden: int, dtype) -> np.ndarray:
    """Per-column factors that turn [i, f, g, o] pre-activations into -x, -x, -2x, -x.

    Then one exp over all four gates and 1 / (1 + e) gives sigmoid for i, f, o and
    sigmoid(2x) for g, and tanh(x) = 2 sigmoid(2x) - 1 finishes g. Folding the
    factors into W_hh and xw once per sequence leaves 3 passes per step, not 4.
    """
    key = (hidden, np.dtype(dtype))
    if key not in _LSTM_SIGNS:
        signs = np.full(4 * hidden, -1.0, dtype)
        signs[2 * hidden : 3 * hidden] = -2.0
        _LSTM_SIGNS[key] = signs
    return _LSTM_SIGNS[key]


class _ScanBackward(Function):
    """Backpropagation through time for a scan; ``scan.bptt`` does the array math.

    Its inputs are the output gradients *and* the tensors the scan saved (its
    output among them): the gradients depend on those too, so under
    ``create_graph=True`` this node is recorded and a second backward through
    it raises instead of silently missing that dependence.
    """

    def forward(self, *arrays, n_grads, scan):
        self.scan_name = type(scan).__name__
        return scan.bptt(*arrays[:n_grads])

    def backward(self, *grads):
        raise NotImplementedError(
            f"{self.scan_name}: second derivatives through a recurrent layer are not supported "
            "(create_graph=True followed by a backward through the RNN's gradient)"
        )


class _Scan(Function):
    """Shared shape of the three scans: forward(xw, w_hh, b_hh, h0, [c0,] w_hr, reverse)."""

    def backward(self, *grads):
        saved = self.saved_tensors  # also checks nothing we saved was modified in place
        g = _ScanBackward.apply(*grads, *saved, n_grads=len(grads), scan=self)
        return tuple(
            gi if need else None for gi, need in zip(g, self.needs_input_grad, strict=False)
        )


class RNNScan(_Scan):
    """Elman RNN, h_t = act(xw_t + h_{t-1} W_hh^T + b_hh).  Returns (output (T, B, H), h_n)."""

    def forward(self, xw, w_hh, b_hh, h0, relu, reverse):
        self.relu, self.reverse = relu, reverse
        xb = xw + b_hh if b_hh is not None else xw.copy()  # (T, B, H), also the output buffer
        h = h0
        for t in _steps(xw.shape[0], reverse):
            a = xb[t]
            a += h @ w_hh.T
            np.maximum(a, 0, out=a) if relu else np.tanh(a, out=a)
            h = a
        self.out, self.w_hh, self.h0, self.has_bias = xb, w_hh, h0, b_hh is not None
        self.save_for_backward(w_hh, h0, xb)
        return xb, h.copy()

    def bptt(self, d_out, d_hn):
        out, w_hh = self.out, self.w_hh
        # act'(pre) from the output itself: relu' = [h > 0], tanh' = 1 - h^2
        da = (out > 0).astype(out.dtype) if self.relu else 1 - out * out
        dh = d_hn
        for t in _steps(out.shape[0], not self.reverse):
            a = da[t]
            a *= d_out[t] + dh  # in place: da becomes d(pre-activation)
            dh = a @ w_hh
        d_w = _outer_sum(da, _previous(out, self.h0, self.reverse))
        d_b = da.sum((0, 1)) if self.has_bias else np.zeros(0, out.dtype)
        return da, d_w, d_b, dh


class LSTMScan(_Scan):
    """LSTM; returns (output (T, B, P), h_n (B, P), c_n (B, H)); P = H unless ``w_hr`` projects."""

    def forward(self, xw, w_hh, b_hh, h0, c0, w_hr, reverse):
        n_steps, batch, four_h = xw.shape
        hidden = four_h // 4
        signs = _lstm_signs(hidden, xw.dtype)
        acts = xw + b_hh if b_hh is not None else xw.copy()  # (T, B, 4H): becomes [i, f, g, o]
        acts *= signs
        w_signed = w_hh * signs[:, None]  # (4H, P)
        recurrent = np.empty((batch, four_h), xw.dtype)  # h_{t-1} W_hh^T, reused every step
        cells = np.empty((n_steps, batch, hidden), xw.dtype)  # c_t
        tanh_c = np.empty_like(cells)
        out = np.empty((n_steps, batch, h0.shape[-1]), xw.dtype)  # h_t (projected if w_hr)
        h, c = h0, c0
        with np.errstate(over="ignore"):  # exp(large) = inf is the intended limit
            for t in _steps(n_steps, reverse):
                a = acts[t]
                a += np.matmul(h, w_signed.T, out=recurrent)
                np.exp(a, out=a)  # the four gates in one pass over (B, 4H)
                a += 1
                np.divide(1, a, out=a)
                i, f, g, o = (a[:, :hidden], a[:, hidden : 2 * hidden],
                              a[:, 2 * hidden : 3 * hidden], a[:, 3 * hidden :])  # fmt: skip
                g *= 2  # tanh(x) = 2 sigmoid(2x) - 1
                g -= 1
                c_new = cells[t]
                np.multiply(f, c, out=c_new)
                c_new += i * g
                np.tanh(c_new, out=tanh_c[t])
                if w_hr is None:
                    h = np.multiply(o, tanh_c[t], out=out[t])
                else:
                    h = np.matmul(o * tanh_c[t], w_hr.T, out=out[t])
                c = c_new
        self.reverse, self.has_bias = reverse, b_hh is not None
        self.acts, self.cells, self.tanh_c, self.out = acts, cells, tanh_c, out
        self.w_hh, self.w_hr, self.h0, self.c0 = w_hh, w_hr, h0, c0
        self.save_for_backward(w_hh, h0, c0, w_hr, out)
        return out, h.copy(), c.copy()

    def bptt(self, d_out, d_hn, d_cn):
        acts, tanh_c, w_hh, w_hr = self.acts, self.tanh_c, self.w_hh, self.w_hr
        hidden = tanh_c.shape[-1]
        # Derivative of each gate's activation w.r.t. its pre-activation, for all
        # steps at once: sigmoid' = a (1 - a), and tanh' = 1 - g^2 for the g gate.
        deriv = acts * (1 - acts)
        g_all = acts[..., 2 * hidden : 3 * hidden]
        np.subtract(1, g_all * g_all, out=deriv[..., 2 * hidden : 3 * hidden])
        o_dtanh = acts[..., 3 * hidden :] * (1 - tanh_c * tanh_c)  # dc_t / dh_t = o (1 - tanh^2 c)
        c_prev = _previous(self.cells, self.c0, self.reverse)
        d_acts = np.empty_like(acts)  # becomes d(pre-activations): the gradient of xw
        d_h_all = np.empty_like(self.out) if w_hr is not None else None
        dh, dc = d_hn, d_cn
        for t in _steps(acts.shape[0], not self.reverse):
            dh = d_out[t] + dh
            if w_hr is not None:
                d_h_all[t] = dh
                dh = dh @ w_hr  # back through the projection: d(o * tanh c)
            dc = dc + dh * o_dtanh[t]
            a, da = acts[t], d_acts[t]
            np.multiply(dc, a[:, 2 * hidden : 3 * hidden], out=da[:, :hidden])  # di = dc * g
            np.multiply(dc, c_prev[t], out=da[:, hidden : 2 * hidden])  # df = dc * c_{t-1}
            np.multiply(dc, a[:, :hidden], out=da[:, 2 * hidden : 3 * hidden])  # dg = dc * i
            np.multiply(dh, tanh_c[t], out=da[:, 3 * hidden :])  # do = dh * tanh c
            da *= deriv[t]
            dc = dc * a[:, hidden : 2 * hidden]  # through c_t = f * c_{t-1} + ...
            dh = da @ w_hh
        d_w = _outer_sum(d_acts, _previous(self.out, self.h0, self.reverse))
        d_b = d_acts.sum((0, 1)) if self.has_bias else np.zeros(0, acts.dtype)
        if w_hr is None:
            d_hr = np.zeros(0, acts.dtype)
        else:  # h_t = (o * tanh c_t) W_hr^T
            d_hr = _outer_sum(d_h_all, acts[..., 3 * hidden :] * tanh_c)
        return d_acts, d_w, d_b, dh, dc, d_hr


class GRUScan(_Scan):
    """GRU; returns (output (T, B, H), h_n (B, H))."""

    def forward(self, xw, w_hh, b_hh, h0, reverse):
        n_steps, batch, three_h = xw.shape
        hidden = three_h // 3
        hw = np.empty_like(xw)  # h_{t-1} W_hh^T + b_hh; its n part is needed in backward
        rz = np.empty((n_steps, batch, 2 * hidden), xw.dtype)  # [r, z] after the sigmoid
        ns = np.empty((n_steps, batch, hidden), xw.dtype)  # the candidate n_t
        out = np.empty_like(ns)
        h = h0
        with np.errstate(over="ignore"):  # exp(large) = inf in the sigmoid is intended
            for t in _steps(n_steps, reverse):
                np.matmul(h, w_hh.T, out=hw[t])
                if b_hh is not None:
                    hw[t] += b_hh
                np.add(xw[t, :, : 2 * hidden], hw[t, :, : 2 * hidden], out=rz[t])
                _sigmoid_(rz[t])
                r, z = rz[t, :, :hidden], rz[t, :, hidden:]
                n = np.multiply(r, hw[t, :, 2 * hidden :], out=ns[t])
                n += xw[t, :, 2 * hidden :]
                np.tanh(n, out=n)
                h = np.subtract(h, n, out=out[t])  # h_t = n + z * (h_{t-1} - n)
                h *= z
                h += n
        self.reverse, self.has_bias = reverse, b_hh is not None
        self.hw, self.rz, self.ns, self.out, self.w_hh, self.h0 = hw, rz, ns, out, w_hh, h0
        self.save_for_backward(w_hh, h0, out)
        return out, h.copy()

    def bptt(self, d_out, d_hn):
        rz, ns, w_hh = self.rz, self.ns, self.w_hh
        hidden = ns.shape[-1]
        r, z = rz[..., :hidden], rz[..., hidden:]
        h_prev = _previous(self.out, self.h0, self.reverse)
        # Per-step factors, for all steps at once (only dh is sequential):
        k_n = (1 - z) * (1 - ns * ns)  # dh_t -> d(n pre-activation)
        k_z = (h_prev - ns) * z * (1 - z)  # dh_t -> d(z pre-activation)
        k_r = self.hw[..., 2 * hidden :] * r * (1 - r)  # d(n pre) -> d(r pre)
        d_xw = np.empty_like(self.hw)  # d(x-side pre-activations) [r, z, n]
        d_hw = np.empty_like(self.hw)  # d(h-side pre-activations): n part is scaled by r
        dh = d_hn
        for t in _steps(ns.shape[0], not self.reverse):
            dh = d_out[t] + dh
            dn = np.multiply(dh, k_n[t], out=d_xw[t, :, 2 * hidden :])
            np.multiply(dn, k_r[t], out=d_hw[t, :, :hidden])
            np.multiply(dh, k_z[t], out=d_hw[t, :, hidden : 2 * hidden])
            np.multiply(dn, r[t], out=d_hw[t, :, 2 * hidden :])
            dh = dh * z[t] + d_hw[t] @ w_hh
        d_xw[..., : 2 * hidden] = d_hw[..., : 2 * hidden]
        d_w = _outer_sum(d_hw, h_prev)
        d_b = d_hw.sum((0, 1)) if self.has_bias else np.zeros(0, ns.dtype)
        return d_xw, d_w, d_b, dh


def _outer_sum(d: np.ndarray, x: np.ndarray) -> np.ndarray:
    """sum_t d_t^T x_t for d (T, B, G), x (T, B, H): one (G, T*B) @ (T*B, H) GEMM."""
    return d.reshape(-1, d.shape[-1]).T @ x.reshape(-1, x.shape[-1])
