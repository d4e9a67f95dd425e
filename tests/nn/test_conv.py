"""Convolutions: conv1d/conv2d/conv_transpose2d through check_op, the layers through check_module_parity."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import axon
import axon.nn.functional as F
from axon import nn
from axon.autograd import grad as axon_grad
from tests.helpers import check_module_parity, check_op

RNG = np.random.default_rng(0)
# PyTorch's own note on its even-kernel 'same' path, not a problem of the test.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")
TOL = dict(rtol32=1e-4, atol32=1e-5)  # float32 sums of up to ~40 products


# ------------------------------------------------------------ NumPy references
def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def np_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct definition: a sum over kernel offsets of shifted, strided input slices."""
    (sh, sw), (dh, dw) = _pair(stride), _pair(dilation)
    if padding == "same":
        tot = [d * (k - 1) for d, k in zip((dh, dw), w.shape[2:], strict=True)]
        pads = [(t // 2, t - t // 2) for t in tot]
    else:
        pads = [(p, p) for p in _pair(0 if padding == "valid" else padding)]
    xp = np.pad(x, [(0, 0), (0, 0), *pads])
    n = x.shape[0]
    oc, cg, kh, kw = w.shape
    oh = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, oc, oh, ow))
    og = oc // groups
    for g in range(groups):
        xs, ws = xp[:, g * cg : (g + 1) * cg], w[g * og : (g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                patch = xs[
                    :,
                    :,
                    i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                    j * dw : j * dw + sw * (ow - 1) + 1 : sw,
                ]
                out[:, g * og : (g + 1) * og] += np.einsum("nchw,oc->nohw", patch, ws[:, :, i, j])
    return out if b is None else out + b.reshape(-1, 1, 1)


def np_conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Scatter definition: every input pixel adds a weighted kernel into the output."""
    (sh, sw), (ph, pw), (eh, ew), (dh, dw) = map(_pair, (stride, padding, output_padding, dilation))
    n, cin, h, wd = x.shape
    _, og, kh, kw = w.shape
    full = np.zeros(
        (
            n,
            og * groups,
            (h - 1) * sh + dh * (kh - 1) + 1 + eh,
            (wd - 1) * sw + dw * (kw - 1) + 1 + ew,
        )
    )
    cg = cin // groups
    for g in range(groups):
        xs, ws = x[:, g * cg : (g + 1) * cg], w[g * cg : (g + 1) * cg]
        for i in range(kh):
            for j in range(kw):
                full[
                    :,
                    g * og : (g + 1) * og,
                    i * dh : i * dh + sh * (h - 1) + 1 : sh,
                    j * dw : j * dw + sw * (wd - 1) + 1 : sw,
                ] += np.einsum("nchw,co->nohw", xs, ws[:, :, i, j])
    out = full[:, :, ph : full.shape[2] - ph, pw : full.shape[3] - pw]
    return out if b is None else out + b.reshape(-1, 1, 1)


# ------------------------------------------------------------------ functional
CONV2D_CASES = [
    # x shape, weight shape, options
    ((2, 3, 6, 7), (4, 3, 3, 3), {}),
    ((2, 3, 6, 7), (4, 3, 3, 3), {"padding": 1}),
    ((2, 3, 7, 7), (4, 3, 3, 2), {"stride": 2, "padding": (1, 0)}),
    ((2, 2, 7, 6), (3, 2, 3, 3), {"stride": (2, 1), "dilation": (1, 2), "padding": 2}),
    ((1, 4, 6, 6), (4, 2, 3, 3), {"groups": 2, "padding": 1}),
    ((2, 4, 6, 5), (4, 1, 3, 3), {"groups": 4, "padding": 1}),  # depthwise
    ((2, 2, 6, 6), (6, 1, 3, 3), {"groups": 2, "stride": 2}),  # channel multiplier 3 per group
    ((2, 3, 5, 6), (2, 3, 4, 2), {"padding": "same"}),  # even kernel: extra pad bottom/right
    ((2, 3, 7, 6), (2, 3, 3, 3), {"padding": "same", "dilation": 2}),
    ((2, 3, 5, 5), (2, 3, 3, 3), {"padding": "valid", "stride": 3}),
    ((2, 4, 5, 5), (3, 4, 1, 1), {}),  # 1x1
    ((3, 6, 6), (2, 3, 3, 3), {}),  # unbatched
]


@pytest.mark.parametrize("xs,ws,opts", CONV2D_CASES)
def test_conv2d_op(xs, ws, opts):
    check_op(
        lambda x, w, b: F.conv2d(x, w, b, **opts),
        lambda x, w, b: (
            np_conv2d(x[None], w, b, **opts)[0] if len(xs) == 3 else np_conv2d(x, w, b, **opts)
        ),
        lambda x, w, b: TF.conv2d(x, w, b, **opts),
        [(xs, ws, (ws[0],))],
        **TOL,
    )


def test_conv2d_without_bias():
    opts = {"stride": 2, "padding": 1, "groups": 2}
    check_op(
        lambda x, w: F.conv2d(x, w, **opts),
        lambda x, w: np_conv2d(x, w, **opts),
        lambda x, w: TF.conv2d(x, w, **opts),
        [((2, 4, 6, 6), (4, 2, 3, 3))],
        **TOL,
    )


@pytest.mark.parametrize(
    "opts",
    [
        {},
        {"stride": 2, "padding": 1},
        {"dilation": 2, "padding": "same"},
        {"groups": 2, "padding": 2, "stride": 3},
    ],
)
def test_conv1d_op(opts):
    ws = (4, 2, 3) if opts.get("groups") else (4, 4, 3)

    def ref(x, w, b):
        o = dict(opts)
        for k in ("stride", "dilation"):
            o[k] = (1, o.get(k, 1))
        if "padding" in o and o["padding"] != "same":
            o["padding"] = (0, o["padding"])
        return np_conv2d(x[:, :, None], w[:, :, None], b, **o)[:, :, 0]

    check_op(
        lambda x, w, b: F.conv1d(x, w, b, **opts),
        ref,
        lambda x, w, b: TF.conv1d(x, w, b, **opts),
        [((2, 4, 9), ws, (4,))],
        **TOL,
    )


CONVT_CASES = [
    ((2, 3, 4, 5), (3, 2, 3, 3), {}),
    ((2, 3, 4, 4), (3, 2, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 2, 3, 4), (2, 3, 2, 2), {"stride": 2}),  # the learned 2x upsampler
    (
        (1, 4, 3, 3),
        (4, 1, 3, 2),
        {
            "stride": (2, 3),
            "padding": (1, 0),
            "dilation": (1, 2),
            "output_padding": (1, 2),
            "groups": 2,
        },
    ),
    ((2, 2, 4, 3), (2, 2, 3, 3), {"dilation": 2, "output_padding": 1, "padding": 1}),
    ((3, 4, 4), (3, 2, 3, 3), {"padding": 1}),  # unbatched
]


@pytest.mark.parametrize("xs,ws,opts", CONVT_CASES)
def test_conv_transpose2d_op(xs, ws, opts):
    groups = opts.get("groups", 1)
    check_op(
        lambda x, w, b: F.conv_transpose2d(x, w, b, **opts),
        lambda x, w, b: (
            np_conv_transpose2d(x[None], w, b, **opts)[0]
            if len(xs) == 3
            else np_conv_transpose2d(x, w, b, **opts)
        ),
        lambda x, w, b: TF.conv_transpose2d(x, w, b, **opts),
        [(xs, ws, (ws[1] * groups,))],
        **TOL,
    )


def _double_backward_vs_torch(fa, ft, shapes):
    """d/d(inputs) of <v, dL/dx> with L = sum(y^3): second derivatives through the op."""
    arrays = [RNG.standard_normal(s) for s in shapes]
    v = RNG.standard_normal(shapes[0])
    xs = [axon.Tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = fa(*xs)
    (gx,) = axon_grad([(y * y * y).sum()], [xs[0]], create_graph=True)
    (gx * axon.Tensor(v)).sum().backward()
    ty = ft(*ts)
    (tgx,) = torch.autograd.grad([(ty**3).sum()], [ts[0]], create_graph=True)
    (tgx * torch.tensor(v)).sum().backward()
    for a, t in zip(xs, ts, strict=True):
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("opts", [{"padding": 1}, {"stride": 2, "groups": 2}])
def test_conv2d_double_backward_matches_torch(opts):
    _double_backward_vs_torch(
        lambda x, w, b: F.conv2d(x, w, b, **opts),
        lambda x, w, b: TF.conv2d(x, w, b, **opts),
        [(2, 4, 5, 5), (2, 2 if "groups" in opts else 4, 3, 3), (2,)],
    )


def test_conv_transpose2d_double_backward_matches_torch():
    opts = {"stride": 2, "padding": 1, "output_padding": 1}
    _double_backward_vs_torch(
        lambda x, w, b: F.conv_transpose2d(x, w, b, **opts),
        lambda x, w, b: TF.conv_transpose2d(x, w, b, **opts),
        [(2, 3, 3, 3), (3, 2, 3, 3), (2,)],
    )


def test_conv_keeps_float32_and_reuses_no_input_memory():
    x = axon.randn(2, 3, 8, 8)
    w = nn.Parameter(axon.randn(4, 3, 3, 3))
    y = F.conv2d(x, w, padding=1)
    assert y.dtype == np.float32 and y.data.flags.c_contiguous
    y.sum().backward()
    assert w.grad.dtype == np.float32 and x.grad is None


@pytest.mark.parametrize(
    "call,message",
    [
        (
            lambda: F.conv2d(axon.randn(2, 4, 8, 8), axon.randn(5, 3, 3, 3)),
            r"has 4 channels.*expects 3",
        ),
        (
            lambda: F.conv2d(axon.randn(2, 3, 2, 2), axon.randn(5, 3, 3, 3)),
            r"larger than the padded input",
        ),
        (
            lambda: F.conv2d(axon.randn(2, 4, 8, 8), axon.randn(5, 2, 3, 3), groups=2),
            r"groups=2 doesn't divide",
        ),
        (
            lambda: F.conv2d(
                axon.randn(2, 3, 8, 8), axon.randn(4, 3, 3, 3), padding="same", stride=2
            ),
            r"strided",
        ),
        (lambda: F.conv2d(axon.randn(8, 8), axon.randn(4, 3, 3, 3)), r"4-D \(batched\) or 3-D"),
        (
            lambda: F.conv2d(axon.randn(1, 3, 8, 8), axon.randn(4, 3, 3, 3), axon.randn(5)),
            r"bias of shape \(5,\)",
        ),
        (
            lambda: F.conv_transpose2d(
                axon.randn(1, 3, 4, 4), axon.randn(3, 2, 3, 3), stride=2, output_padding=2
            ),
            r"output_padding",
        ),
    ],
)
def test_functional_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------- layers
@pytest.mark.parametrize(
    "args,kwargs,shape",
    [
        ((3, 4, 3), {"padding": 1}, (2, 3, 6, 6)),
        ((4, 6, (3, 2)), {"stride": 2, "groups": 2, "bias": False}, (2, 4, 7, 6)),
        ((4, 4, 3), {"groups": 4, "padding": "same", "dilation": 2}, (2, 4, 6, 6)),
        ((3, 4, 3), {"padding": 1, "padding_mode": "reflect"}, (2, 3, 5, 5)),
        ((3, 4, 3), {"padding": 1, "padding_mode": "circular"}, (2, 3, 5, 5)),
        ((3, 2, 3), {"padding": 1, "padding_mode": "replicate"}, (3, 5, 5)),
    ],
)
def test_conv2d_module_parity(args, kwargs, shape):
    torch.manual_seed(0)
    check_module_parity(
        nn.Conv2d(*args, **kwargs),
        torch.nn.Conv2d(*args, **kwargs),
        [RNG.standard_normal(shape).astype(np.float32)],
    )


@pytest.mark.parametrize(
    "args,kwargs",
    [
        ((3, 4, 3), {}),
        ((4, 2, 5), {"stride": 2, "padding": 2, "groups": 2}),
        ((3, 4, 3), {"padding": "same", "padding_mode": "reflect"}),
    ],
)
def test_conv1d_module_parity(args, kwargs):
    torch.manual_seed(0)
    check_module_parity(
        nn.Conv1d(*args, **kwargs),
        torch.nn.Conv1d(*args, **kwargs),
        [RNG.standard_normal((2, args[0], 11)).astype(np.float32)],
    )


@pytest.mark.parametrize(
    "args,kwargs",
    [
        ((3, 4, 2), {"stride": 2}),
        ((4, 2, 3), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2}),
        ((3, 2, 3), {"dilation": 2, "bias": False}),
    ],
)
def test_conv_transpose2d_module_parity(args, kwargs):
    torch.manual_seed(0)
    check_module_parity(
        nn.ConvTranspose2d(*args, **kwargs),
        torch.nn.ConvTranspose2d(*args, **kwargs),
        [RNG.standard_normal((2, args[0], 4, 5)).astype(np.float32)],
    )


def test_conv_transpose2d_output_size():
    up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    t_up = torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    up.load_state_dict({k: v.detach().numpy() for k, v in t_up.state_dict().items()})
    x = RNG.standard_normal((1, 4, 5, 5)).astype(np.float32)
    y = up(axon.Tensor(x), output_size=(10, 10))
    np.testing.assert_allclose(
        y.data, t_up(torch.tensor(x), output_size=(10, 10)).detach().numpy(), atol=1e-5
    )
    with pytest.raises(ValueError, match=r"ConvTranspose2d: output_size \(12, 12\)"):
        up(axon.Tensor(x), output_size=(12, 12))


def test_conv_layers_match_torch_names_shapes_and_init():
    for a, t in [
        (nn.Conv2d(6, 8, (3, 5), groups=2), torch.nn.Conv2d(6, 8, (3, 5), groups=2)),
        (nn.Conv1d(4, 6, 3, bias=False), torch.nn.Conv1d(4, 6, 3, bias=False)),
        (nn.ConvTranspose2d(6, 4, 3, groups=2), torch.nn.ConvTranspose2d(6, 4, 3, groups=2)),
    ]:
        shapes = {k: tuple(v.shape) for k, v in a.state_dict().items()}
        assert shapes == {k: tuple(v.shape) for k, v in t.state_dict().items()}
        assert repr(a) == repr(t)
    axon.manual_seed(0)
    conv = nn.Conv2d(16, 64, 3)
    bound = 1 / math.sqrt(16 * 9)  # kaiming_uniform_(a=sqrt(5)) on fan_in = 144
    for p in (conv.weight.data, conv.bias.data):
        assert p.dtype == np.float32 and np.abs(p).max() <= bound and np.abs(p).max() > 0.9 * bound


@pytest.mark.parametrize(
    "layer,x,message",
    [
        (
            nn.Conv2d(3, 8, 3),
            axon.randn(8, 4, 32, 32),
            r"Conv2d\(in_channels=3\): input has 4 channels \(shape \(8, 4, 32, 32\)\)",
        ),
        (nn.Conv2d(3, 8, 3), axon.randn(3, 32), r"Conv2d\(in_channels=3\): expected a 4-D"),
        (
            nn.Conv1d(3, 8, 3),
            axon.randn(2, 5, 10),
            r"Conv1d\(in_channels=3\): input has 5 channels",
        ),
        (
            nn.Conv2d(3, 8, 5),
            axon.randn(1, 3, 4, 4),
            r"Conv2d\(in_channels=3\): kernel \(5, 5\).*larger than the padded input",
        ),
        (
            nn.ConvTranspose2d(3, 8, 3),
            axon.randn(1, 2, 4, 4),
            r"ConvTranspose2d\(in_channels=3\): input has 2",
        ),
    ],
)
def test_layer_errors(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer(x)


def test_layer_construction_errors():
    with pytest.raises(ValueError, match=r"Conv2d: groups=2 must divide in_channels=3"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"Conv2d: padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")


def test_weight_gradient_without_cached_columns(monkeypatch):
    # Large layers rebuild im2col in backward instead of holding it: same gradients.
    x, w, b = (
        RNG.standard_normal(s).astype(np.float32) for s in [(2, 3, 6, 6), (4, 3, 3, 3), (4,)]
    )

    def grads():
        ts = [axon.Tensor(a, requires_grad=True) for a in (x, w, b)]
        F.conv2d(*ts, stride=2, padding=1).sum().backward()
        return [t.grad.data for t in ts]

    cached = grads()
    monkeypatch.setattr("axon.ops.conv.CACHE_COLS_BYTES", 0)
    for a, r in zip(grads(), cached, strict=True):
        np.testing.assert_allclose(a, r, rtol=1e-6, atol=1e-6)


def test_mixed_dtypes_are_an_error():
    with pytest.raises(TypeError, match=r"conv2d: input \(float64\), weight \(float32\)"):
        F.conv2d(axon.Tensor(np.zeros((1, 3, 5, 5))), axon.randn(2, 3, 3, 3))
