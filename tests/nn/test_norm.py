"""LayerNorm and RMSNorm: the fused ops through check_op, the layers through check_module_parity."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import axon
import axon.nn.functional as F
from axon import nn
from tests.helpers import check_module_parity, check_op

RNG = np.random.default_rng(0)


def np_layer_norm(x, n_dims, w=None, b=None, eps=1e-5):
    axes = tuple(range(x.ndim - n_dims, x.ndim))
    mu = x.mean(axes, keepdims=True)
    y = (x - mu) / np.sqrt(((x - mu) ** 2).mean(axes, keepdims=True) + eps)
    return y * (1 if w is None else w) + (0 if b is None else b)


def np_rms_norm(x, n_dims, w=None, eps=None):
    eps = np.finfo(x.dtype).eps if eps is None else eps
    axes = tuple(range(x.ndim - n_dims, x.ndim))
    y = x / np.sqrt((x * x).mean(axes, keepdims=True) + eps)
    return y * (1 if w is None else w)


@pytest.mark.parametrize(
    "shape,norm", [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 4), (3, 4)), ((7,), (7,))]
)
def test_layer_norm_op(shape, norm):
    n = len(norm)
    check_op(
        lambda x, w, b: F.layer_norm(x, norm, w, b),
        lambda x, w, b: np_layer_norm(x, n, w, b),
        lambda x, w, b: TF.layer_norm(x, norm, w, b),
        [(shape, norm, norm)],
    )
    check_op(
        lambda x: F.layer_norm(x, norm, eps=1e-3),
        lambda x: np_layer_norm(x, n, eps=1e-3),
        lambda x: TF.layer_norm(x, norm, eps=1e-3),
        [(shape,)],
    )
    check_op(
        lambda x, b: F.layer_norm(x, norm, None, b),
        lambda x, b: np_layer_norm(x, n, None, b),
        lambda x, b: TF.layer_norm(x, norm, None, b),
        [(shape, norm)],
    )
    check_op(
        lambda x, w: F.layer_norm(x, norm, w),
        lambda x, w: np_layer_norm(x, n, w),
        lambda x, w: TF.layer_norm(x, norm, w),
        [(shape, norm)],
    )


@pytest.mark.parametrize("shape,norm", [((4, 6), (6,)), ((2, 3, 4), (3, 4))])
def test_rms_norm_op(shape, norm):
    n = len(norm)
    check_op(
        lambda x, w: F.rms_norm(x, norm, w),
        lambda x, w: np_rms_norm(x, n, w),
        lambda x, w: TF.rms_norm(x, norm, w),
        [(shape, norm)],
    )
    check_op(
        lambda x: F.rms_norm(x, norm, eps=1e-4),
        lambda x: np_rms_norm(x, n, eps=1e-4),
        lambda x: TF.rms_norm(x, norm, eps=1e-4),
        [(shape,)],
    )


@pytest.mark.parametrize("kind", ["layer", "rms"])
def test_norm_double_backward_matches_torch(kind):
    x, w, b = RNG.standard_normal((3, 6)), RNG.standard_normal(6), RNG.standard_normal(6)
    if kind == "layer":
        fa = lambda x, w, b: F.layer_norm(x, (6,), w, b)  # noqa: E731
        ft = lambda x, w, b: TF.layer_norm(x, (6,), w, b)  # noqa: E731
    else:
        fa = lambda x, w, b: F.rms_norm(x, (6,), w) * b  # noqa: E731
        ft = lambda x, w, b: TF.rms_norm(x, (6,), w) * b  # noqa: E731
    A = [axon.tensor(a, requires_grad=True) for a in (x, w, b)]
    T = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    g = RNG.standard_normal((3, 6))
    ga = axon.autograd.grad(fa(*A), A, axon.tensor(g), create_graph=True)
    gt = torch.autograd.grad(ft(*T), T, torch.tensor(g), create_graph=True)
    ha = axon.autograd.grad(sum((t * t).sum() for t in ga), A, allow_unused=True)
    ht = torch.autograd.grad(sum((t * t).sum() for t in gt), T, allow_unused=True)
    for a, t in zip(ha, ht, strict=True):
        if t is None:
            assert a is None or not np.any(a.data)
        else:
            np.testing.assert_allclose(a.data, t.numpy(), rtol=1e-7, atol=1e-12)


def test_layer_norm_backward_on_broadcast_gradient_and_float32():
    x = axon.randn(3, 4, 8, requires_grad=True)
    ln = nn.LayerNorm(8)
    y = ln(x)
    assert y.dtype == np.float32
    y.sum().backward()  # the upstream gradient is a read-only broadcast view
    assert x.grad.dtype == ln.weight.grad.dtype == ln.bias.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, 0, atol=1e-5)  # sum of a normalized row is constant


@pytest.mark.parametrize(
    "kwargs", [{}, {"eps": 1e-3}, {"elementwise_affine": False}, {"bias": False}]
)
@pytest.mark.parametrize("norm", [8, (3, 8)])
def test_LayerNorm_matches_torch(kwargs, norm):
    torch.manual_seed(0)
    theirs = torch.nn.LayerNorm(norm, **kwargs)
    with torch.no_grad():  # non-trivial affine parameters
        for p in theirs.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    ours = nn.LayerNorm(norm, **kwargs)
    check_module_parity(ours, theirs, [RNG.standard_normal((2, 3, 8)).astype(np.float32) * 3 + 1])
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("kwargs", [{}, {"eps": 1e-5}, {"elementwise_affine": False}])
@pytest.mark.parametrize("norm", [8, [3, 8]])
def test_RMSNorm_matches_torch(kwargs, norm):
    torch.manual_seed(0)
    theirs = torch.nn.RMSNorm(norm, **kwargs)
    with torch.no_grad():
        for p in theirs.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    ours = nn.RMSNorm(norm, **kwargs)
    check_module_parity(ours, theirs, [RNG.standard_normal((2, 3, 8)).astype(np.float32) * 2])
    assert repr(ours) == repr(theirs)


def test_norm_layers_init_and_state_dict():
    ln, tln = nn.LayerNorm((2, 3)), torch.nn.LayerNorm((2, 3))
    assert list(ln.state_dict()) == list(tln.state_dict()) == ["weight", "bias"]
    np.testing.assert_array_equal(ln.weight.data, np.ones((2, 3)))
    np.testing.assert_array_equal(ln.bias.data, np.zeros((2, 3)))
    assert ln.weight.dtype == np.float32
    assert list(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]
    assert list(nn.LayerNorm(4, elementwise_affine=False).state_dict()) == []
    assert list(nn.RMSNorm(4).state_dict()) == list(torch.nn.RMSNorm(4).state_dict())


def test_norm_errors_name_the_layer_and_shapes():
    with pytest.raises(
        ValueError, match=r"LayerNorm\(\(8,\)\): expected input of shape \(\*, 8\), got \(2, 5\)"
    ):
        nn.LayerNorm(8)(axon.randn(2, 5))
    with pytest.raises(ValueError, match=r"RMSNorm\(\(2, 4\)\).*\(\*, 2, 4\).*\(4,\)"):
        nn.RMSNorm((2, 4))(axon.randn(4))
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape"):
        F.layer_norm(axon.randn(2, 4), (4,), axon.ones(3))
    with pytest.raises(ValueError, match=r"rms_norm: expected input of shape \(\*, 4\)"):
        F.rms_norm(axon.randn(2, 3), 4)
