"""Activations through the shared harness: ReLU, Leaky ReLU, ELU, GELU, SiLU, Softplus."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import axon
import axon.nn.functional as F
from tests.helpers import away_from_zero, check_op, uniform_inputs

CASES = [((3, 4),), ((),), ((1, 5),), ((2, 1, 3),)]
_erf = np.vectorize(math.erf, otypes=[np.float64])


def test_relu():
    check_op(axon.relu, lambda x: np.maximum(x, 0), torch.relu, CASES, make_inputs=away_from_zero())
    check_op(
        lambda x: x.relu(),
        lambda x: np.maximum(x, 0),
        torch.relu,
        CASES[:2],
        make_inputs=away_from_zero(),
    )


def test_relu_gradient_at_zero_is_zero_like_torch():
    x = axon.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    axon.relu(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("slope", [0.01, 0.2, 1.5])
def test_leaky_relu(slope):
    check_op(
        lambda x: F.leaky_relu(x, slope),
        lambda x: np.where(x > 0, x, slope * x),
        lambda x: TF.leaky_relu(x, slope),
        CASES,
        make_inputs=away_from_zero(),
    )


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_elu(alpha):
    check_op(
        lambda x: F.elu(x, alpha),
        lambda x: np.where(x > 0, x, alpha * np.expm1(x)),
        lambda x: TF.elu(x, alpha),
        CASES,
        make_inputs=away_from_zero(0.05, 3.0),
    )


def test_gelu_exact():
    # default tolerances hold: axon's erf is computed in float64 and rounded
    check_op(
        F.gelu,
        lambda x: x * 0.5 * (1 + _erf(x / math.sqrt(2))),
        TF.gelu,
        CASES,
        make_inputs=uniform_inputs((-3, 3)),
    )


def test_gelu_tanh():
    def ref(x):
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))

    check_op(
        lambda x: F.gelu(x, approximate="tanh"),
        ref,
        lambda x: TF.gelu(x, approximate="tanh"),
        CASES,
        make_inputs=uniform_inputs((-3, 3)),
    )


def test_gelu_bad_approximate():
    with pytest.raises(ValueError, match="gelu"):
        F.gelu(axon.ones(2), approximate="fast")


def test_silu():
    check_op(
        F.silu, lambda x: x / (1 + np.exp(-x)), TF.silu, CASES, make_inputs=uniform_inputs((-4, 4))
    )


@pytest.mark.parametrize("beta, threshold", [(1.0, 20.0), (2.0, 20.0), (0.5, 1.0), (3.0, 2.0)])
def test_softplus(beta, threshold):
    # inputs cover both sides of the threshold (beta * x > threshold -> x itself),
    # kept away from it because the function has a (tiny) jump there
    def make(rng, shapes):
        x = rng.uniform(-3, 3, size=shapes[0])
        return [np.where(np.abs(beta * x - threshold) < 0.1, x + 0.3 / beta, x)]

    def ref(x):
        return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)

    check_op(
        lambda x: F.softplus(x, beta, threshold),
        ref,
        lambda x: TF.softplus(x, beta, threshold),
        CASES,
        make_inputs=make,
    )


def test_softplus_large_inputs_are_stable():
    x = axon.tensor([-200.0, 0.0, 30.0, 200.0], requires_grad=True)
    with np.errstate(over="raise", invalid="raise"):
        y = F.softplus(x)
        y.sum().backward()
    tx = torch.tensor([-200.0, 0.0, 30.0, 200.0], requires_grad=True)
    ty = TF.softplus(tx)
    ty.sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6)


def test_activations_keep_float32():
    x = axon.randn(4, 5, requires_grad=True)
    for fn in (
        axon.relu,
        F.gelu,
        F.silu,
        F.elu,
        F.softplus,
        F.leaky_relu,
        axon.sigmoid,
        axon.tanh,
        lambda t: F.gelu(t, approximate="tanh"),
    ):
        x.grad = None
        y = fn(x)
        assert y.dtype == np.float32
        y.sum().backward()
        assert x.grad.dtype == np.float32
