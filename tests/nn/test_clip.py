"""nn.utils: gradient clipping and parameter <-> vector conversion, against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import axon
from axon import nn

RNG = np.random.default_rng(0)
SHAPES = [(4, 3), (3,), (2, 2, 5)]


def make_pair(scale=1.0):
    grads = [(RNG.standard_normal(s) * scale).astype(np.float32) for s in SHAPES]
    ours = [nn.Parameter(axon.zeros(*s)) for s in SHAPES]
    theirs = [torch.nn.Parameter(torch.zeros(s)) for s in SHAPES]
    for p, tp, g in zip(ours, theirs, grads, strict=True):
        p.grad = axon.tensor(g.copy())
        tp.grad = torch.tensor(g.copy())
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = make_pair()
    arrays = [p.grad.data for p in ours]
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=float(norm_type))
    t_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=float(norm_type))
    assert isinstance(total, axon.Tensor) and total.dtype == np.float32 and total.shape == ()
    np.testing.assert_allclose(total.item(), t_total.item(), rtol=1e-6)
    for p, tp, arr in zip(ours, theirs, arrays, strict=True):
        assert p.grad.data is arr  # clipped in place
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=1e-6, atol=1e-7)
    if max_norm < 1:
        new_total = nn.utils.clip_grad_norm_(ours, 1e6, norm_type=float(norm_type))
        np.testing.assert_allclose(new_total.item(), max_norm, rtol=1e-4)


def test_clip_grad_norm_inputs():
    p = nn.Parameter(axon.zeros(3))
    p.grad = axon.tensor([3.0, 4.0, 0.0])
    total = nn.utils.clip_grad_norm_(p, 1.0)  # a single tensor works too
    np.testing.assert_allclose(total.item(), 5.0)
    np.testing.assert_allclose(p.grad.data, [0.6, 0.8, 0.0], rtol=1e-5)
    no_grad = nn.Parameter(axon.zeros(2))
    assert (
        nn.utils.clip_grad_norm_([no_grad], 1.0).item() == 0.0
    )  # parameters without .grad are skipped
    model = nn.Linear(3, 2)
    model(axon.randn(4, 3)).sum().backward()
    total = nn.utils.clip_grad_norm_(model.parameters(), 0.1)  # a generator
    expected = math.sqrt(
        sum(float((q.grad.data.astype(np.float64) ** 2).sum()) for q in model.parameters())
    )
    assert total.item() > 0.1
    np.testing.assert_allclose(expected, 0.1, rtol=1e-4)  # the norm after clipping


def test_clip_grad_norm_nonfinite():
    ours, theirs = make_pair()
    ours[1].grad.data[0] = np.nan
    theirs[1].grad[0] = float("nan")
    with pytest.raises(
        RuntimeError, match=r"clip_grad_norm_: the total norm of order 2\.0 .* non-finite"
    ):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    total = nn.utils.clip_grad_norm_(ours, 1.0)
    t_total = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    assert np.isnan(total.item()) and np.isnan(t_total.item())
    assert np.isnan(ours[0].grad.data).all() and torch.isnan(theirs[0].grad).all()


def test_clip_grad_norm_read_only_gradient():
    p = nn.Parameter(axon.zeros(2, 3))
    p.grad = axon.Tensor(np.broadcast_to(np.float32(2.0), (2, 3)))
    nn.utils.clip_grad_norm_([p], 1.0)
    np.testing.assert_allclose(np.sqrt((p.grad.data**2).sum()), 1.0, rtol=1e-5)


def test_clip_grad_value_matches_torch():
    ours, theirs = make_pair(scale=2.0)
    arrays = [p.grad.data for p in ours]
    assert nn.utils.clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, tp, arr in zip(ours, theirs, arrays, strict=True):
        assert p.grad.data is arr and p.grad.dtype == np.float32
        np.testing.assert_array_equal(p.grad.data, tp.grad.numpy())


def test_parameters_to_vector_and_back():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    vec = nn.utils.parameters_to_vector(model.parameters())
    t_vec = torch.nn.utils.parameters_to_vector(tm.parameters())
    np.testing.assert_array_equal(vec.data, t_vec.detach().numpy())
    assert vec.shape == (26,) and vec.dtype == np.float32
    (vec * vec).sum().backward()  # differentiable: gradients reach the parameters
    np.testing.assert_allclose(model[0].weight.grad.data, 2 * model[0].weight.data)

    new = np.arange(26, dtype=np.float32)
    weight = model[0].weight
    version = weight._version
    nn.utils.vector_to_parameters(axon.tensor(new), model.parameters())
    torch.nn.utils.vector_to_parameters(torch.tensor(new), tm.parameters())
    for (name, p), tp in zip(model.named_parameters(), tm.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, tp.detach().numpy(), err_msg=name)
    assert model[0].weight is weight and weight._version > version  # in place, version bumped
    with pytest.raises(ValueError, match="the vector has 5 elements but the parameters hold 26"):
        nn.utils.vector_to_parameters(axon.zeros(5), model.parameters())
    with pytest.raises(ValueError, match="expected a 1-D vector"):
        nn.utils.vector_to_parameters(axon.zeros(2, 13), model.parameters())
