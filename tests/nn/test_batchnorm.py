"""BatchNorm1d/2d and GroupNorm: fused ops through check_op, layers through check_module_parity,
running statistics against PyTorch, and a PyTorch CNN checkpoint loaded into axon."""

from __future__ import annotations

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


def np_batch_norm(x, w=None, b=None, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    view = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)
    return y * (1 if w is None else w.reshape(view)) + (0 if b is None else b.reshape(view))


def np_group_norm(x, groups, w=None, b=None, eps=1e-5):
    xg = x.reshape(x.shape[0], groups, -1)
    y = ((xg - xg.mean(2, keepdims=True)) / np.sqrt(xg.var(2, keepdims=True) + eps)).reshape(
        x.shape
    )
    view = (1, -1) + (1,) * (x.ndim - 2)
    return y * (1 if w is None else w.reshape(view)) + (0 if b is None else b.reshape(view))


# ------------------------------------------------------------------ functional
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5)])
def test_batch_norm_training_op(shape):
    c = (shape[1],)
    check_op(
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        np_batch_norm,
        lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True),
        [(shape, c, c)],
    )
    check_op(
        lambda x: F.batch_norm(x, None, None, training=True, eps=1e-3),
        lambda x: np_batch_norm(x, eps=1e-3),
        lambda x: TF.batch_norm(x, None, None, training=True, eps=1e-3),
        [(shape,)],
    )


@pytest.mark.parametrize("shape", [(5, 3), (2, 3, 4, 5)])
def test_batch_norm_eval_op(shape):
    c = shape[1]
    rm, rv = RNG.standard_normal(c), RNG.uniform(0.5, 2.0, c)
    view = (1, -1) + (1,) * (len(shape) - 2)

    def ref(x, w, b):
        return (x - rm.reshape(view)) / np.sqrt(rv.reshape(view) + 1e-5) * w.reshape(
            view
        ) + b.reshape(view)

    def run(lib, x, w, b):
        stats = [
            torch.tensor(s, dtype=x.dtype) if lib is torch else axon.tensor(s, dtype=x.dtype)
            for s in (rm, rv)
        ]
        fn = TF.batch_norm if lib is torch else F.batch_norm
        return fn(x, *stats, w, b, training=False)

    check_op(
        lambda x, w, b: run(axon, x, w, b),
        ref,
        lambda x, w, b: run(torch, x, w, b),
        [(shape, (c,), (c,))],
    )


@pytest.mark.parametrize(
    "shape,groups", [((2, 6, 5), 3), ((2, 6, 4, 3), 2), ((3, 4), 4), ((2, 4, 3, 3), 1)]
)
def test_group_norm_op(shape, groups):
    c = (shape[1],)
    check_op(
        lambda x, w, b: F.group_norm(x, groups, w, b),
        lambda x, w, b: np_group_norm(x, groups, w, b),
        lambda x, w, b: TF.group_norm(x, groups, w, b),
        [(shape, c, c)],
        rtol32=1e-4,
        atol32=1e-4,
    )
    check_op(
        lambda x: F.group_norm(x, groups),
        lambda x: np_group_norm(x, groups),
        lambda x: TF.group_norm(x, groups),
        [(shape,)],
        rtol32=1e-4,
        atol32=1e-4,
    )


def test_batch_norm_updates_running_stats_like_torch():
    x = (RNG.standard_normal((6, 3, 4, 4)) * 3 + 2).astype(np.float32)
    rm, rv = axon.zeros(3), axon.ones(3)
    trm, trv = torch.zeros(3), torch.ones(3)
    for _ in range(3):
        F.batch_norm(axon.Tensor(x), rm, rv, training=True, momentum=0.2)
        TF.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.2)
    np.testing.assert_allclose(rm.data, trm.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(rv.data, trv.numpy(), rtol=1e-5, atol=1e-6)  # unbiased variance


@pytest.mark.parametrize("kind", ["batch", "group"])
def test_norm_double_backward_matches_torch(kind):
    x, w, b, v = (RNG.standard_normal(s) for s in [(3, 4, 5), (4,), (4,), (3, 4, 5)])
    if kind == "batch":
        fa = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
        ft = lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    else:
        fa = lambda x, w, b: F.group_norm(x, 2, w, b)  # noqa: E731
        ft = lambda x, w, b: TF.group_norm(x, 2, w, b)  # noqa: E731
    xs = [axon.Tensor(a, requires_grad=True) for a in (x, w, b)]
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    y = fa(*xs)
    (gx,) = axon_grad([(y * y * y).sum()], [xs[0]], create_graph=True)
    (gx * axon.Tensor(v)).sum().backward()
    ty = ft(*ts)
    (tgx,) = torch.autograd.grad([(ty**3).sum()], [ts[0]], create_graph=True)
    (tgx * torch.tensor(v)).sum().backward()
    for a, t in zip(xs, ts, strict=True):
        np.testing.assert_allclose(a.grad.data, t.grad.numpy(), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize(
    "call,message",
    [
        (
            lambda: F.batch_norm(axon.randn(1, 3), None, None, training=True),
            r"more than 1 value per channel",
        ),
        (
            lambda: F.batch_norm(axon.randn(4, 3), axon.zeros(4), axon.ones(4)),
            r"running_mean of shape \(4,\).*3 channels",
        ),
        (lambda: F.batch_norm(axon.randn(4, 3), None, None), r"needs running_mean and running_var"),
        (lambda: F.group_norm(axon.randn(2, 6, 3), 4), r"num_groups=4 must divide the 6 channels"),
    ],
)
def test_functional_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------- layers
@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda m: m.BatchNorm2d(3), (4, 3, 5, 5)),
        (lambda m: m.BatchNorm2d(3, momentum=None), (4, 3, 5, 5)),  # cumulative moving average
        (lambda m: m.BatchNorm2d(3, affine=False, momentum=0.3, eps=1e-3), (4, 3, 2, 3)),
        (lambda m: m.BatchNorm2d(3, track_running_stats=False), (4, 3, 5, 5)),
        (lambda m: m.BatchNorm1d(5), (8, 5)),
        (lambda m: m.BatchNorm1d(5), (4, 5, 7)),
        (lambda m: m.GroupNorm(2, 6), (3, 6, 4, 4)),
        (lambda m: m.GroupNorm(3, 6, affine=False, eps=1e-3), (3, 6, 5)),
        (lambda m: m.BatchNorm2d(3, bias=False), (4, 3, 2, 2)),
        (lambda m: m.GroupNorm(2, 4, bias=False), (3, 4, 5)),
    ],
)
def test_norm_module_parity(make, shape):
    layer, t_layer = make(nn), make(torch.nn)
    with torch.no_grad():  # non-trivial weights and running statistics
        for p in t_layer.parameters():
            p.copy_(torch.randn_like(p))
        if getattr(t_layer, "running_mean", None) is not None:
            t_layer.running_mean.copy_(torch.randn(shape[1]))
            t_layer.running_var.copy_(torch.rand(shape[1]) + 0.5)
    x = (RNG.standard_normal(shape) * 2 + 1).astype(np.float32)
    # Train (batch statistics; buffers compared after the step), then eval (running statistics).
    check_module_parity(layer, t_layer, [x])
    assert repr(layer) == repr(t_layer)
    if getattr(t_layer, "num_batches_tracked", None) is not None:
        assert layer.num_batches_tracked.dtype == np.int64
        assert int(layer.num_batches_tracked.data) == int(t_layer.num_batches_tracked) == 1


def test_batch_norm_momentum_none_is_a_cumulative_average():
    bn, t_bn = nn.BatchNorm1d(3, momentum=None), torch.nn.BatchNorm1d(3, momentum=None)
    for _ in range(4):
        x = RNG.standard_normal((6, 3)).astype(np.float32)
        bn(axon.Tensor(x))
        t_bn(torch.tensor(x))
    np.testing.assert_allclose(
        bn.running_mean.data, t_bn.running_mean.numpy(), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(bn.running_var.data, t_bn.running_var.numpy(), rtol=1e-5, atol=1e-6)
    assert int(bn.num_batches_tracked.data) == 4


def test_batchnorm_state_dict_names_match_torch():
    for a, t in [
        (nn.BatchNorm2d(4), torch.nn.BatchNorm2d(4)),
        (nn.BatchNorm1d(4, affine=False), torch.nn.BatchNorm1d(4, affine=False)),
        (nn.GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)),
    ]:
        ours, theirs = a.state_dict(), t.state_dict()
        assert list(ours) == list(theirs)
        for k in ours:
            assert ours[k].shape == tuple(theirs[k].shape)
            np.testing.assert_array_equal(ours[k].data, theirs[k].numpy())


@pytest.mark.parametrize(
    "layer,x,message",
    [
        (
            nn.BatchNorm2d(16),
            axon.randn(8, 8, 4, 4),
            r"BatchNorm2d\(num_features=16\): input has 8 channels \(shape \(8, 8, 4, 4\)\)",
        ),
        (nn.BatchNorm2d(16), axon.randn(8, 16), r"BatchNorm2d\(num_features=16\): expected a 4-D"),
        (
            nn.BatchNorm1d(4),
            axon.randn(2, 4, 3, 3),
            r"BatchNorm1d\(num_features=4\): expected a 2-D \(N, C\) or 3-D",
        ),
        (
            nn.GroupNorm(2, 4),
            axon.randn(2, 6, 3),
            r"GroupNorm\(num_groups=2, num_channels=4\): input has 6 channels",
        ),
    ],
)
def test_layer_errors(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer(x)
    with pytest.raises(ValueError, match=r"GroupNorm: num_groups=4 must divide num_channels=6"):
        nn.GroupNorm(4, 6)


# ------------------------------------------------------- a small PyTorch CNN
def _cnn(m):
    return m.Sequential(
        m.Conv2d(3, 8, 3, padding=1),
        m.BatchNorm2d(8),
        m.ReLU(),
        m.MaxPool2d(2),
        m.Conv2d(8, 16, 3, stride=2, padding=1, bias=False),
        m.BatchNorm2d(16),
        m.ReLU(),
        m.AdaptiveAvgPool2d(2),
        m.Flatten(),
        m.Linear(64, 10),
    )


def test_pytorch_cnn_checkpoint_loads_and_matches():
    torch.manual_seed(0)
    t_net = _cnn(torch.nn)
    # Train a few steps in PyTorch so the BatchNorm statistics are non-trivial.
    opt = torch.optim.SGD(t_net.parameters(), lr=0.1)
    for _ in range(3):
        x = torch.randn(8, 3, 16, 16) * 2 + 0.5
        loss = TF.cross_entropy(t_net(x), torch.randint(0, 10, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    net = _cnn(nn)
    net.load_state_dict({k: v.detach().numpy() for k, v in t_net.state_dict().items()})
    assert int(net[1].num_batches_tracked.data) == 3
    t_net.eval()
    net.eval()
    x = (RNG.standard_normal((4, 3, 16, 16)) * 2).astype(np.float32)
    with torch.no_grad():
        expected = t_net(torch.tensor(x)).numpy()
    np.testing.assert_allclose(net(axon.Tensor(x)).data, expected, rtol=1e-4, atol=1e-5)
    # and a full training step's outputs, gradients and buffers agree too
    check_module_parity(net, t_net, [x], modes=("train",))
