"""Elementwise ops through the shared harness: arithmetic, maths, clamp, where, casts."""

import numpy as np
import pytest
import torch

import axon
from tests.helpers import away_from_zero, check_op, uniform_inputs

UNARY = [((3, 4),), ((),), ((1, 5),), ((2, 1, 3),)]
BINARY = [((3, 4), (3, 4)), ((2, 1, 3), (4, 1)), ((), (5,)), ((3, 1), ()), ((1,), (2, 3)), ((), ())]


def positive(low=0.3, high=2.0):
    return uniform_inputs((low, high))


# ------------------------------------------------------------------ arithmetic
@pytest.mark.parametrize(
    "name, fn, ref, tfn",
    [
        ("add", lambda a, b: a + b, np.add, torch.add),
        ("sub", lambda a, b: a - b, np.subtract, torch.sub),
        ("mul", lambda a, b: a * b, np.multiply, torch.mul),
        ("add_fn", axon.add, np.add, torch.add),
        ("sub_fn", axon.sub, np.subtract, torch.sub),
        ("mul_fn", axon.mul, np.multiply, torch.mul),
    ],
)
def test_binary_arithmetic(name, fn, ref, tfn):
    check_op(fn, ref, tfn, BINARY)


def test_div():
    # the divisor stays away from 0 so finite differences are well conditioned
    def make(rng, shapes):
        a = rng.uniform(-2, 2, size=shapes[0])
        b = rng.uniform(0.5, 2, size=shapes[1]) * rng.choice([-1, 1], size=shapes[1])
        return [a, b]

    check_op(lambda a, b: a / b, np.divide, torch.div, BINARY, make_inputs=make)
    check_op(axon.div, np.divide, torch.div, BINARY[:3], make_inputs=make)


@pytest.mark.parametrize(
    "fn, ref, tfn",
    [
        (lambda x: x + 2.5, lambda x: x + 2.5, lambda x: x + 2.5),
        (lambda x: 2.5 + x, lambda x: 2.5 + x, lambda x: 2.5 + x),
        (lambda x: x - 1, lambda x: x - 1, lambda x: x - 1),
        (lambda x: 2 - x, lambda x: 2 - x, lambda x: 2 - x),
        (lambda x: x * 3, lambda x: x * 3, lambda x: x * 3),
        (lambda x: 3 * x, lambda x: 3 * x, lambda x: 3 * x),
        (lambda x: x / 4, lambda x: x / 4, lambda x: x / 4),
        (lambda x: 1.5 / x, lambda x: 1.5 / x, lambda x: 1.5 / x),
        (lambda x: -x, np.negative, torch.neg),
        (axon.neg, np.negative, torch.neg),
    ],
)
def test_arithmetic_with_python_scalars(fn, ref, tfn):
    check_op(fn, ref, tfn, UNARY, make_inputs=away_from_zero())


# ----------------------------------------------------------------------- pow
def test_pow_tensor_exponent():
    def make(rng, shapes):
        return [rng.uniform(0.5, 2.0, size=shapes[0]), rng.uniform(-2, 2, size=shapes[1])]

    check_op(lambda a, b: a**b, np.power, torch.pow, BINARY, make_inputs=make)
    check_op(axon.pow, np.power, torch.pow, BINARY[:2], make_inputs=make)


@pytest.mark.parametrize("c", [2, 3, 0, 1, 2.0, -2])
def test_pow_integer_scalar_exponents(c):
    maker = away_from_zero() if c < 0 else uniform_inputs()
    check_op(
        lambda x: x**c, lambda x: np.power(x, float(c)), lambda x: x**c, UNARY, make_inputs=maker
    )


@pytest.mark.parametrize("c", [0.5, -1, 1.7, -0.5])
def test_pow_fractional_and_negative_scalar_exponents(c):
    check_op(
        lambda x: x**c,
        lambda x: np.power(x, float(c)),
        lambda x: x**c,
        UNARY,
        make_inputs=positive(),
    )


def test_rpow_scalar_base():
    check_op(lambda x: 2.0**x, lambda x: 2.0**x, lambda x: 2.0**x, UNARY)


def test_pow_zero_exponent_and_zero_base_gradient():
    # d/db a^b at a = 0 is 0 * log(0); PyTorch reports 0 there, not NaN
    a = axon.tensor([0.0, 2.0], requires_grad=True)
    b = axon.tensor([2.0, 3.0], requires_grad=True)
    (a**b).sum().backward()
    ta = torch.tensor([0.0, 2.0], requires_grad=True)
    tb = torch.tensor([2.0, 3.0], requires_grad=True)
    (ta**tb).sum().backward()
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), rtol=1e-6)


# --------------------------------------------------------------- unary maths
@pytest.mark.parametrize(
    "fn, ref, tfn, maker",
    [
        (axon.exp, np.exp, torch.exp, uniform_inputs()),
        (axon.log, np.log, torch.log, positive()),
        (axon.log1p, np.log1p, torch.log1p, uniform_inputs((-0.6, 2.0))),
        (axon.sqrt, np.sqrt, torch.sqrt, positive()),
        (axon.rsqrt, lambda x: 1 / np.sqrt(x), torch.rsqrt, positive()),
        (axon.abs, np.abs, torch.abs, away_from_zero()),
        (axon.sin, np.sin, torch.sin, uniform_inputs((-4, 4))),
        (axon.cos, np.cos, torch.cos, uniform_inputs((-4, 4))),
        (axon.tanh, np.tanh, torch.tanh, uniform_inputs((-3, 3))),
        (axon.sigmoid, lambda x: 1 / (1 + np.exp(-x)), torch.sigmoid, uniform_inputs((-6, 6))),
        (lambda x: x.exp(), np.exp, torch.exp, uniform_inputs()),
        (lambda x: x.log(), np.log, torch.log, positive()),
        (lambda x: abs(x), np.abs, torch.abs, away_from_zero()),
        (lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), torch.sigmoid, uniform_inputs()),
    ],
)
def test_unary(fn, ref, tfn, maker):
    check_op(fn, ref, tfn, UNARY, make_inputs=maker)


def test_erf():
    import math

    ref = np.vectorize(math.erf, otypes=[np.float64])
    check_op(axon.erf, ref, torch.erf, UNARY, make_inputs=uniform_inputs((-3, 3)))
    # every branch of the rational approximation, incl. the far tails
    x = np.array([0.0, 0.1, -0.46875, 0.47, 1.0, -2.5, 3.99, 4.01, -6.0, 10.0, 30.0, -1e-8])
    np.testing.assert_allclose(axon.erf(axon.tensor(x)).data, ref(x), rtol=1e-14, atol=1e-300)


def test_sign():
    check_op(axon.sign, np.sign, torch.sign, UNARY, make_inputs=away_from_zero())
    x = axon.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    y = axon.sign(x)
    assert y.tolist() == [-1.0, 0.0, 1.0]
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_sigmoid_extreme_inputs_do_not_overflow():
    x = axon.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = axon.sigmoid(x)
        y.sum().backward()
    expected = torch.sigmoid(torch.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0]))
    np.testing.assert_allclose(y.data, expected.numpy(), rtol=1e-6, atol=0)
    assert np.isfinite(x.grad.data).all()


# --------------------------------------------------------------------- clamp
def test_clamp_scalar_bounds():
    # inputs kept away from the bounds: the gradient has a jump there
    def make(rng, shapes):
        x = rng.uniform(-2, 2, size=shapes[0])
        return [np.where(np.abs(np.abs(x) - 0.5) < 0.05, x + 0.2, x)]

    check_op(
        lambda x: x.clamp(min=-0.5),
        lambda x: np.maximum(x, -0.5),
        lambda x: x.clamp(min=-0.5),
        UNARY,
        make_inputs=make,
    )
    check_op(
        lambda x: x.clamp(max=0.5),
        lambda x: np.minimum(x, 0.5),
        lambda x: x.clamp(max=0.5),
        UNARY,
        make_inputs=make,
    )
    check_op(
        lambda x: axon.clamp(x, -0.5, 0.5),
        lambda x: np.clip(x, -0.5, 0.5),
        lambda x: torch.clamp(x, -0.5, 0.5),
        UNARY,
        make_inputs=make,
    )


def test_clamp_gradient_at_the_bounds_matches_torch():
    values = [-1.0, -0.5, 0.0, 0.5, 1.0]
    x = axon.tensor(values, requires_grad=True)
    x.clamp(-0.5, 0.5).sum().backward()
    tx = torch.tensor(values, requires_grad=True)
    tx.clamp(-0.5, 0.5).sum().backward()
    np.testing.assert_array_equal(x.grad.data, tx.grad.numpy())


def test_clamp_tensor_bounds():
    def make(rng, shapes):
        x = rng.uniform(-2, 2, size=shapes[0])
        lo = rng.uniform(-1.5, -0.5, size=shapes[1])
        hi = rng.uniform(0.5, 1.5, size=shapes[2])
        return [x, lo, hi]

    cases = [((3, 4), (3, 4), (3, 4)), ((2, 3), (3,), (2, 1)), ((), (), ())]
    check_op(
        lambda x, lo, hi: axon.clamp(x, lo, hi),
        lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
        lambda x, lo, hi: torch.clamp(x, lo, hi),
        cases,
        make_inputs=make,
    )
    check_op(
        lambda x, lo: x.clamp(min=lo),
        np.maximum,
        lambda x, lo: x.clamp(min=lo),
        [((3, 4), (3, 4)), ((2, 3), (3,))],
        make_inputs=lambda rng, s: make(rng, (*s, ()))[:2],
    )


def test_clamp_without_bounds_raises():
    with pytest.raises(ValueError, match="clamp"):
        axon.clamp(axon.ones(3))


# ---------------------------------------------------------- maximum / minimum
@pytest.mark.parametrize(
    "fn, ref, tfn",
    [(axon.maximum, np.maximum, torch.maximum), (axon.minimum, np.minimum, torch.minimum)],
)
def test_maximum_minimum(fn, ref, tfn):
    check_op(fn, ref, tfn, BINARY)


def test_maximum_ties_split_the_gradient_like_torch():
    a = axon.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = axon.tensor([1.0, 1.0, 4.0], requires_grad=True)
    axon.maximum(a, b).sum().backward()
    ta = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    tb = torch.tensor([1.0, 1.0, 4.0], requires_grad=True)
    torch.maximum(ta, tb).sum().backward()
    np.testing.assert_array_equal(a.grad.data, ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.data, tb.grad.numpy())


# --------------------------------------------------------------------- where
def test_where():
    def make(rng, shapes):
        return [
            rng.random(shapes[0]) < 0.5,
            rng.uniform(-2, 2, shapes[1]),
            rng.uniform(-2, 2, shapes[2]),
        ]

    cases = [((3, 4), (3, 4), (3, 4)), ((2, 3), (3,), (2, 1)), ((3, 1), (1, 4), ()), ((), (), ())]
    check_op(axon.where, np.where, torch.where, cases, make_inputs=make)


def test_where_with_python_scalar_branch():
    def make(rng, shapes):
        return [rng.random(shapes[0]) < 0.5, rng.uniform(-2, 2, shapes[1])]

    check_op(
        lambda c, x: axon.where(c, x, 0.0),
        lambda c, x: np.where(c, x, 0.0),
        lambda c, x: torch.where(c, x, 0.0),
        [((3, 4), (3, 4)), ((2, 3), (3,))],
        make_inputs=make,
    )


def test_where_needs_a_bool_condition():
    with pytest.raises(TypeError, match="where"):
        axon.where(axon.ones(3), axon.ones(3), axon.zeros(3))


# --------------------------------------------------------------- comparisons
@pytest.mark.parametrize("op", ["__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"])
def test_comparisons_give_bool_and_no_gradient(op):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, (3, 4)).astype(np.float32)
    b = rng.integers(0, 3, (4,)).astype(np.float32)
    x = axon.tensor(a, requires_grad=True)
    out = getattr(x, op)(axon.tensor(b))
    expected = getattr(torch.tensor(a), op)(torch.tensor(b)).numpy()
    assert out.dtype == np.bool_
    assert not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(out.data, expected)
    # against a Python scalar, and the functional forms
    scalar = getattr(x, op)(1.0)
    np.testing.assert_array_equal(scalar.data, getattr(torch.tensor(a), op)(1.0).numpy())
    fn = getattr(axon, op.strip("_"))
    np.testing.assert_array_equal(fn(x, axon.tensor(b)).data, expected)


def test_logical_ops():
    a = axon.tensor([True, True, False, False])
    b = axon.tensor([True, False, True, False])
    assert (a & b).tolist() == [True, False, False, False]
    assert (a | b).tolist() == [True, True, True, False]
    assert (a ^ b).tolist() == [False, True, True, False]
    assert (~a).tolist() == [False, False, True, True]
    x = axon.tensor([1.0, float("nan"), float("inf")])
    assert axon.isnan(x).tolist() == [False, True, False]
    assert axon.isfinite(x).tolist() == [True, False, False]


# --------------------------------------------------------------- cast, clone
def test_clone():
    check_op(axon.Tensor.clone, np.copy, torch.clone, UNARY)
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert y.data is not x.data and not np.shares_memory(y.data, x.data)
    assert y.grad_fn is not None


@pytest.mark.parametrize(
    "method, dtype", [("double", np.float64), ("float", np.float32), ("half", np.float16)]
)
def test_cast_methods_are_differentiable(method, dtype):
    rng = np.random.default_rng(0)
    for src in (np.float32, np.float64):
        a = rng.standard_normal((3, 4)).astype(src)
        x = axon.tensor(a, requires_grad=True)
        y = getattr(x, method)()
        assert y.dtype == dtype
        g = rng.standard_normal((3, 4)).astype(dtype)
        y.backward(axon.tensor(g))
        assert x.grad.dtype == src  # the gradient comes back in the input's dtype
        tx = torch.tensor(a, requires_grad=True)
        getattr(tx, method)().backward(torch.tensor(g))
        np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6)


def test_cast_gradcheck_and_to():
    from axon.autograd import gradcheck

    x = axon.tensor(np.random.default_rng(0).standard_normal((2, 3)), requires_grad=True)
    assert gradcheck(lambda t: (t.to(axon.float64) * 3).sin(), (x,))
    assert x.to(np.float64) is x  # a no-op cast returns the tensor itself
    assert x.to("float32").dtype == np.float32
    assert x.astype(axon.float16).dtype == np.float16


def test_cast_to_integer_cuts_the_graph():
    x = axon.tensor([1.5, -2.5], requires_grad=True)
    y = x.long()
    assert y.dtype == np.int64 and not y.requires_grad
    assert y.tolist() == [1, -2]  # truncation toward zero, as PyTorch
    assert x.int().dtype == np.int32
    assert x.bool().tolist() == [True, True]
