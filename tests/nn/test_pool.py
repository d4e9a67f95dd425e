"""Pooling: max/avg/adaptive-avg in 1-D and 2-D through check_op, the layers through check_module_parity."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import axon
import axon.nn.functional as F
from axon import nn
from tests.helpers import check_module_parity, check_op

RNG = np.random.default_rng(0)


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _out(size, k, s, p, d, ceil):
    room = size + 2 * p - d * (k - 1) - 1
    o = (math.ceil(room / s) if ceil else room // s) + 1
    if ceil and (o - 1) * s >= size + p:
        o -= 1
    return o


# ------------------------------------------------ NumPy references (pixel loops)
def np_max_pool2d(
    x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    (kh, kw), (ph, pw), (dh, dw) = map(_pair, (kernel_size, padding, dilation))
    sh, sw = _pair(kernel_size if stride is None else stride)
    n, c, h, w = x.shape
    oh, ow = _out(h, kh, sh, ph, dh, ceil_mode), _out(w, kw, sw, pw, dw, ceil_mode)
    out, idx = np.empty((n, c, oh, ow)), np.empty((n, c, oh, ow), dtype=np.int64)
    for a in range(oh):
        for b in range(ow):
            rows = [a * sh - ph + i * dh for i in range(kh)]
            cols = [b * sw - pw + j * dw for j in range(kw)]
            cells = [(r, q) for r in rows for q in cols if 0 <= r < h and 0 <= q < w]
            vals = np.stack([x[:, :, r, q] for r, q in cells], -1)  # (n, c, cells)
            best = vals.argmax(-1)
            out[:, :, a, b] = vals.max(-1)
            idx[:, :, a, b] = np.array([r * w + q for r, q in cells])[best]
    return (out, idx) if return_indices else out


def np_avg_pool2d(
    x,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    (kh, kw), (ph, pw) = _pair(kernel_size), _pair(padding)
    sh, sw = _pair(kernel_size if stride is None else stride)
    n, c, h, w = x.shape
    oh, ow = _out(h, kh, sh, ph, 1, ceil_mode), _out(w, kw, sw, pw, 1, ceil_mode)
    out = np.empty((n, c, oh, ow))
    for a in range(oh):
        for b in range(ow):
            r0, q0 = a * sh - ph, b * sw - pw
            r1, q1 = (
                min(r0 + kh, h + ph),
                min(q0 + kw, w + pw),
            )  # the window within the padded input
            total = x[:, :, max(r0, 0) : min(r1, h), max(q0, 0) : min(q1, w)].sum((2, 3))
            if divisor_override:
                div = divisor_override
            elif count_include_pad:
                div = (r1 - r0) * (q1 - q0)
            else:
                div = (min(r1, h) - max(r0, 0)) * (min(q1, w) - max(q0, 0))
            out[:, :, a, b] = total / div
    return out


def np_adaptive_avg_pool2d(x, size):
    oh, ow = _pair(size)
    oh, ow = oh or x.shape[2], ow or x.shape[3]
    h, w = x.shape[2:]
    out = np.empty(x.shape[:2] + (oh, ow))
    for a in range(oh):
        for b in range(ow):
            rows = slice(a * h // oh, -(-(a + 1) * h // oh))
            cols = slice(b * w // ow, -(-(b + 1) * w // ow))
            out[:, :, a, b] = x[:, :, rows, cols].mean((2, 3))
    return out


# ------------------------------------------------------------------ functional
MAX_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2},
    {"kernel_size": 3, "stride": 1, "padding": 1},  # overlapping windows: gradients add up
    {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 1), "dilation": (2, 1)},
    {"kernel_size": 3, "stride": 2, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "return_indices": True},
    {"kernel_size": 2, "return_indices": True},
]


@pytest.mark.parametrize("opts", MAX_CASES)
def test_max_pool2d_op(opts):
    check_op(
        lambda x: F.max_pool2d(x, **opts),
        lambda x: np_max_pool2d(x, **opts),
        lambda x: TF.max_pool2d(x, **opts),
        [((2, 3, 7, 8),)],
    )


@pytest.mark.parametrize(
    "opts",
    [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1},
        {"kernel_size": 2, "dilation": 2, "return_indices": True, "ceil_mode": True},
    ],
)
def test_max_pool1d_op(opts):
    o2 = {
        k: ((1 if k != "padding" else 0), v)
        if k in ("kernel_size", "stride", "padding", "dilation")
        else v
        for k, v in opts.items()
    }
    if "stride" not in opts:
        o2["stride"] = (1, opts["kernel_size"])

    def ref(x):
        out = np_max_pool2d(x[:, :, None], **o2)
        return tuple(t[:, :, 0] for t in out) if isinstance(out, tuple) else out[:, :, 0]

    check_op(
        lambda x: F.max_pool1d(x, **opts), ref, lambda x: TF.max_pool1d(x, **opts), [((2, 3, 9),)]
    )


def test_max_pool_gradient_goes_to_first_maximum_on_ties():
    # After a ReLU whole windows are 0: PyTorch routes the gradient to the first one.
    x = np.zeros((1, 1, 4, 4), dtype=np.float32)
    x[0, 0, 3, 3] = 1.0  # one window with a clear winner, three windows of ties
    a = axon.Tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    F.max_pool2d(a, 2).sum().backward()
    TF.max_pool2d(t, 2).sum().backward()
    np.testing.assert_array_equal(a.grad.data, t.grad.numpy())
    a3 = axon.Tensor(x, requires_grad=True)
    t3 = torch.tensor(x, requires_grad=True)
    F.max_pool2d(a3, 3, 1, 1).sum().backward()  # overlapping windows share a pixel
    TF.max_pool2d(t3, 3, 1, 1).sum().backward()
    np.testing.assert_array_equal(a3.grad.data, t3.grad.numpy())


AVG_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2},
    {"kernel_size": 3, "stride": 1, "padding": 1},
    {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False},
    {"kernel_size": (2, 3), "stride": (1, 2), "padding": (1, 1)},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": 2, "divisor_override": 3},
]


@pytest.mark.parametrize("opts", AVG_CASES)
def test_avg_pool2d_op(opts):
    check_op(
        lambda x: F.avg_pool2d(x, **opts),
        lambda x: np_avg_pool2d(x, **opts),
        lambda x: TF.avg_pool2d(x, **opts),
        [((2, 3, 7, 8),)],
    )


@pytest.mark.parametrize(
    "opts",
    [
        {"kernel_size": 2},
        {"kernel_size": 3, "stride": 2, "padding": 1},
        {"kernel_size": 3, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    ],
)
def test_avg_pool1d_op(opts):
    o2 = {
        k: ((1 if k != "padding" else 0), v) if k in ("kernel_size", "stride", "padding") else v
        for k, v in opts.items()
    }
    o2.setdefault("stride", (1, opts["kernel_size"]))
    check_op(
        lambda x: F.avg_pool1d(x, **opts),
        lambda x: np_avg_pool2d(x[:, :, None], **o2)[:, :, 0],
        lambda x: TF.avg_pool1d(x, **opts),
        [((2, 3, 9),)],
    )


@pytest.mark.parametrize("size", [1, (3, 4), (2, None), 5, (7, 8), (4, 2)])
def test_adaptive_avg_pool2d_op(size):
    check_op(
        lambda x: F.adaptive_avg_pool2d(x, size),
        lambda x: np_adaptive_avg_pool2d(x, size),
        lambda x: TF.adaptive_avg_pool2d(x, size),
        [((2, 3, 7, 8),)],
    )


@pytest.mark.parametrize("size", [1, 3, 4, 9])
def test_adaptive_avg_pool1d_op(size):
    check_op(
        lambda x: F.adaptive_avg_pool1d(x, size),
        lambda x: np_adaptive_avg_pool2d(
            x.reshape((-1,) + x.shape[-2:])[:, :, None], (1, size)
        ).reshape(x.shape[:-1] + (size,)),
        lambda x: TF.adaptive_avg_pool1d(x, size),
        [((2, 3, 9),), ((3, 9),)],
    )


def test_unbatched_pooling():
    x = RNG.standard_normal((3, 7, 8))
    check_op(
        lambda x: F.max_pool2d(x, 2),
        lambda x: np_max_pool2d(x[None], 2)[0],
        lambda x: TF.max_pool2d(x, 2),
        [((3, 7, 8),)],
    )
    check_op(
        lambda x: F.avg_pool2d(x, 3, 2, 1),
        lambda x: np_avg_pool2d(x[None], 3, 2, 1)[0],
        lambda x: TF.avg_pool2d(x, 3, 2, 1),
        [(x.shape,)],
    )


@pytest.mark.parametrize(
    "call,message",
    [
        (
            lambda: F.max_pool2d(axon.randn(1, 1, 4, 4), 2, padding=2),
            r"max_pool2d: padding 2 should be at most half",
        ),
        (
            lambda: F.max_pool2d(axon.randn(1, 1, 2, 2), 3),
            r"max_pool2d: kernel \(3, 3\).*doesn't fit.*\(1, 1, 2, 2\)",
        ),
        (lambda: F.avg_pool2d(axon.randn(4, 4), 2), r"avg_pool2d: expected a 4-D"),
        (lambda: F.adaptive_avg_pool2d(axon.randn(1, 1, 4, 4), 0), r"output_size"),
    ],
)
def test_functional_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------- layers
@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda m: m.MaxPool2d(2), (2, 3, 8, 8)),
        (lambda m: m.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 3, 7, 7)),
        (lambda m: m.MaxPool1d(3, stride=2), (2, 3, 11)),
        (lambda m: m.AvgPool2d(2), (2, 3, 8, 8)),
        (lambda m: m.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 7, 7)),
        (lambda m: m.AvgPool1d(4, stride=2, padding=1), (2, 3, 11)),
        (lambda m: m.AdaptiveAvgPool2d((1, 1)), (2, 3, 5, 5)),
        (lambda m: m.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
        (lambda m: m.AdaptiveAvgPool1d(4), (2, 3, 10)),
    ],
)
def test_pool_module_parity(make, shape):
    layer, t_layer = make(nn), make(torch.nn)
    check_module_parity(layer, t_layer, [RNG.standard_normal(shape).astype(np.float32)])
    assert repr(layer) == repr(t_layer)


def test_max_pool_module_return_indices():
    x = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
    _, idx = nn.MaxPool2d(2, return_indices=True)(axon.Tensor(x))
    _, tidx = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(idx.data, tidx.numpy())
    assert idx.dtype == np.int64


def test_pool_layer_errors():
    with pytest.raises(
        ValueError, match=r"MaxPool2d\(kernel_size=2.*expected a 4-D \(N, C, H, W\).*\(5, 5\)"
    ):
        nn.MaxPool2d(2)(axon.randn(5, 5))
    with pytest.raises(ValueError, match=r"AvgPool1d\(.*expected a 3-D \(N, C, L\)"):
        nn.AvgPool1d(2)(axon.randn(1, 2, 3, 4))
    with pytest.raises(
        ValueError, match=r"MaxPool2d\(kernel_size=3.*\): kernel \(3, 3\).*doesn't fit"
    ):
        nn.MaxPool2d(3)(axon.randn(1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool2d\(output_size=2\): expected a 4-D"):
        nn.AdaptiveAvgPool2d(2)(axon.randn(4))


@pytest.mark.parametrize("op", ["max", "avg", "adaptive"])
def test_pool_double_backward_matches_torch(op):
    fa, ft = {
        "max": (lambda x: F.max_pool2d(x, 3, 1, 1), lambda x: TF.max_pool2d(x, 3, 1, 1)),
        "avg": (lambda x: F.avg_pool2d(x, 3, 2, 1), lambda x: TF.avg_pool2d(x, 3, 2, 1)),
        "adaptive": (lambda x: F.adaptive_avg_pool2d(x, 3), lambda x: TF.adaptive_avg_pool2d(x, 3)),
    }[op]
    x, v = RNG.standard_normal((2, 2, 5, 5)), RNG.standard_normal((2, 2, 5, 5))
    a, t = axon.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = fa(a)
    (ga,) = axon.autograd.grad([(y * y * y).sum()], [a], create_graph=True)
    (ga * axon.Tensor(v)).sum().backward()
    ty = ft(t)
    (gt,) = torch.autograd.grad([(ty**3).sum()], [t], create_graph=True)
    (gt * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-9)
