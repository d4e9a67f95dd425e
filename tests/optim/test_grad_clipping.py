"""clip_grad_norm_ / clip_grad_value_ against torch.nn.utils, and their errors."""

from __future__ import annotations

import numpy as np
import pytest

import axon
from axon import optim

SHAPES = [(4, 3), (5,), (2, 3, 2)]


def grads_pair(scale, dtype, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [scale * rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ours = [axon.zeros(*s, dtype=dtype, requires_grad=True) for s in SHAPES]
    for p, a in zip(ours, arrays, strict=True):
        p.grad = axon.tensor(a.copy())
    return ours, arrays


@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, float("inf"), 1.0, 3.0, "inf"])
@pytest.mark.parametrize("scale", [0.01, 10.0])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_clip_grad_norm_matches_torch(norm_type, scale, dtype):
    torch = pytest.importorskip("torch")
    ours, arrays = grads_pair(scale, dtype)
    theirs = [
        torch.zeros(s, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
        for s in SHAPES
    ]
    for p, a in zip(theirs, arrays, strict=True):
        p.grad = torch.tensor(a.copy())
    total = optim.clip_grad_norm_(ours, max_norm=1.5, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm=1.5, norm_type=norm_type)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert isinstance(total, axon.Tensor) and total.shape == () and total.dtype == dtype
    np.testing.assert_allclose(total.item(), expected.item(), rtol=rtol)
    for p, t in zip(ours, theirs, strict=True):
        assert p.grad.dtype == dtype
        np.testing.assert_allclose(
            p.grad.data, t.grad.numpy(), rtol=rtol, atol=1e-7 if dtype == np.float32 else 0
        )


def test_clip_grad_norm_scales_to_max_norm_and_leaves_small_grads_alone():
    ours, arrays = grads_pair(10.0, np.float64)
    total = optim.clip_grad_norm_(ours, 1.0)
    assert total.item() == pytest.approx(np.sqrt(sum((a**2).sum() for a in arrays)))
    after = np.sqrt(sum((p.grad.data**2).sum() for p in ours))
    assert after == pytest.approx(1.0, rel=1e-5)

    small, arrays = grads_pair(0.001, np.float64)
    optim.clip_grad_norm_(iter(small), 1.0)  # any iterable, even a generator
    for p, a in zip(small, arrays, strict=True):
        np.testing.assert_array_equal(p.grad.data, a)


def test_clip_grad_norm_skips_params_without_grad_and_accepts_one_tensor():
    w = axon.zeros(3, requires_grad=True)
    w.grad = axon.tensor([3.0, 4.0, 0.0])
    no_grad = axon.zeros(2, requires_grad=True)
    assert optim.clip_grad_norm_([w, no_grad], 100.0).item() == pytest.approx(5.0)
    assert optim.clip_grad_norm_(w, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.grad.data, [0.6, 0.8, 0.0], rtol=1e-5)
    assert optim.clip_grad_norm_([no_grad], 1.0).item() == 0.0


@pytest.mark.filterwarnings("ignore:invalid value encountered")  # inf * 0 when scaling anyway
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_norm_raises_when_asked(bad):
    w = axon.zeros(3, requires_grad=True)
    w.grad = axon.tensor([1.0, bad, 2.0])
    with pytest.raises(RuntimeError, match=r"norm of order 2\.0") as info:
        optim.clip_grad_norm_([w], 1.0, error_if_nonfinite=True)
    assert str(bad) in str(info.value)  # the message names the norm
    np.testing.assert_array_equal(w.grad.data, [1.0, bad, 2.0])  # untouched
    total = optim.clip_grad_norm_([w], 1.0)  # without the flag: scaled, as torch does
    assert not np.isfinite(total.item())


def test_bad_norm_type_string():
    w = axon.zeros(2, requires_grad=True)
    w.grad = axon.ones(2)
    with pytest.raises(ValueError, match="fro"):
        optim.clip_grad_norm_([w], 1.0, norm_type="fro")


@pytest.mark.torch
def test_clip_grad_value_matches_torch():
    torch = pytest.importorskip("torch")
    ours, arrays = grads_pair(2.0, np.float32)
    theirs = [torch.zeros(s, requires_grad=True) for s in SHAPES]
    for p, a in zip(theirs, arrays, strict=True):
        p.grad = torch.tensor(a.copy())
    grad_arrays = [p.grad.data for p in ours]
    optim.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, t, g in zip(ours, theirs, grad_arrays, strict=True):
        assert p.grad.data is g  # in place
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())
