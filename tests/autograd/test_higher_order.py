"""Second (and third) derivatives: Hessian-vector products against PyTorch's, in float64."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import axon
import axon.nn.functional as F
from axon.autograd import grad

IDX = np.array([0, 2, 2, 1])


def _positive(rng, shape):
    return rng.uniform(0.5, 2.0, shape)


def _normal(rng, shape):
    return rng.uniform(-2.0, 2.0, shape)


def _away(rng, shape):
    return rng.uniform(0.2, 2.0, shape) * rng.choice([-1, 1], shape)


def _setitem(lib):
    def fn(x, v):
        y = x * 1.0
        y[1:, IDX[:2]] = v * v
        return y**3

    return fn


# name: (axon fn, torch fn, input shapes, input maker)
CASES = {
    "tanh": (axon.tanh, torch.tanh, [(3, 4)], _normal),
    "sigmoid": (axon.sigmoid, torch.sigmoid, [(3, 4)], _normal),
    "mul": (lambda a, b: a * b, torch.mul, [(3, 4), (4,)], _normal),
    "mul_self": (lambda a: a * a * a, lambda a: a * a * a, [(5,)], _normal),
    "matmul": (lambda a, b: a @ b, torch.matmul, [(2, 3, 4), (4, 2)], _normal),
    "matmul_vec": (
        lambda a, b: (a @ b).tanh(),
        lambda a, b: (a @ b).tanh(),
        [(3, 4), (4,)],
        _normal,
    ),
    "exp": (axon.exp, torch.exp, [(3, 4)], _normal),
    "log": (axon.log, torch.log, [(3, 4)], _positive),
    "softmax": (lambda x: x.softmax(-1), lambda x: x.softmax(-1), [(3, 4)], _normal),
    "softmax_dim0": (lambda x: x.softmax(0), lambda x: x.softmax(0), [(3, 4)], _normal),
    "log_softmax": (lambda x: x.log_softmax(-1), lambda x: x.log_softmax(-1), [(3, 4)], _normal),
    "div": (lambda a, b: a / b, torch.div, [(3, 4), (3, 1)], _positive),
    "pow_tensor": (lambda a, b: a**b, torch.pow, [(3, 4), (4,)], _positive),
    "pow_2": (lambda a: a**2, lambda a: a**2, [(3, 4)], _normal),
    "pow_3": (lambda a: a**3, lambda a: a**3, [(3, 4)], _normal),
    "pow_0.5": (lambda a: a**0.5, lambda a: a**0.5, [(3, 4)], _positive),
    "pow_-1": (lambda a: a**-1, lambda a: a**-1, [(3, 4)], _positive),
    "pow_1.7": (lambda a: a**1.7, lambda a: a**1.7, [(3, 4)], _positive),
    "rpow": (lambda a: 2.0**a, lambda a: 2.0**a, [(3, 4)], _normal),
    "sin": (axon.sin, torch.sin, [(3, 4)], _normal),
    "cos": (axon.cos, torch.cos, [(3, 4)], _normal),
    "sqrt": (axon.sqrt, torch.sqrt, [(3, 4)], _positive),
    "rsqrt": (axon.rsqrt, torch.rsqrt, [(3, 4)], _positive),
    "log1p": (axon.log1p, torch.log1p, [(3, 4)], _positive),
    "erf": (axon.erf, torch.erf, [(3, 4)], _normal),
    "gelu": (F.gelu, TF.gelu, [(3, 4)], _normal),
    "gelu_tanh": (
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: TF.gelu(x, approximate="tanh"),
        [(3, 4)],
        _normal,
    ),
    "silu": (F.silu, TF.silu, [(3, 4)], _normal),
    "softplus": (F.softplus, TF.softplus, [(3, 4)], _normal),
    "softplus_beta": (
        lambda x: F.softplus(x, 2.0, 1.0),
        lambda x: TF.softplus(x, 2.0, 1.0),
        [(3, 4)],
        _away,
    ),
    "elu": (F.elu, TF.elu, [(3, 4)], _away),
    "relu_sq": (lambda x: axon.relu(x) ** 2, lambda x: torch.relu(x) ** 2, [(3, 4)], _away),
    "leaky_relu_sq": (
        lambda x: F.leaky_relu(x, 0.1) ** 2,
        lambda x: TF.leaky_relu(x, 0.1) ** 2,
        [(3, 4)],
        _away,
    ),
    "abs_cubed": (lambda x: x.abs() ** 3, lambda x: x.abs() ** 3, [(3, 4)], _away),
    "sum_sq": (lambda x: x.sum(1) ** 2, lambda x: x.sum(1) ** 2, [(3, 4)], _normal),
    "sum_all_sq": (lambda x: x.sum() ** 2, lambda x: x.sum() ** 2, [(3, 4)], _normal),
    "mean_sq": (
        lambda x: x.mean((0, 2), keepdim=True) ** 2,
        lambda x: x.mean((0, 2), keepdim=True) ** 2,
        [(2, 3, 4)],
        _normal,
    ),
    "var": (lambda x: x.var(1), lambda x: x.var(1), [(3, 4)], _normal),
    "std": (lambda x: x.std(0), lambda x: x.std(0), [(3, 4)], _normal),
    "logsumexp": (lambda x: x.logsumexp(1), lambda x: x.logsumexp(1), [(3, 4)], _normal),
    "logsumexp_keep": (
        lambda x: x.logsumexp(0, keepdim=True),
        lambda x: x.logsumexp(0, keepdim=True),
        [(3, 4)],
        _normal,
    ),
    "amax_sq": (lambda x: x.amax(1) ** 2, lambda x: x.amax(1) ** 2, [(3, 4)], _normal),
    "getitem_sq": (lambda x: x[1:, ::2] ** 2, lambda x: x[1:, ::2] ** 2, [(3, 4)], _normal),
    "getitem_adv_sq": (
        lambda x: x[IDX] ** 2,
        lambda x: x[torch.from_numpy(IDX)] ** 2,
        [(3, 4)],
        _normal,
    ),
    "index_select_sq": (
        lambda x: axon.index_select(x, 1, IDX) ** 2,
        lambda x: torch.index_select(x, 1, torch.from_numpy(IDX)) ** 2,
        [(3, 4)],
        _normal,
    ),
    "reshape_T": (
        lambda x: x.reshape(2, 6).T ** 2,
        lambda x: x.reshape(2, 6).T ** 2,
        [(3, 4)],
        _normal,
    ),
    "expand": (lambda x: x.expand(3, 4) ** 3, lambda x: x.expand(3, 4) ** 3, [(4,)], _normal),
    "cat": (
        lambda a, b: axon.cat([a, b], 1) ** 2,
        lambda a, b: torch.cat([a, b], 1) ** 2,
        [(3, 2), (3, 1)],
        _normal,
    ),
    "split": (lambda x: x.split(2, 1)[1] ** 3, lambda x: x.split(2, 1)[1] ** 3, [(3, 4)], _normal),
    "pad_reflect": (
        lambda x: F.pad(x, (1, 2), "reflect") ** 2,
        lambda x: TF.pad(x, (1, 2), "reflect") ** 2,
        [(2, 4)],
        _normal,
    ),
    "pad_constant": (
        lambda x: F.pad(x, (1, 2)) ** 2,
        lambda x: TF.pad(x, (1, 2)) ** 2,
        [(2, 4)],
        _normal,
    ),
    "where": (
        lambda a, b: axon.where(a > 0, a * b, b * b),
        lambda a, b: torch.where(a > 0, a * b, b * b),
        [(3, 4), (3, 4)],
        _away,
    ),
    "maximum": (
        lambda a, b: axon.maximum(a, b) ** 2,
        lambda a, b: torch.maximum(a, b) ** 2,
        [(3, 4), (4,)],
        _normal,
    ),
    "clamp": (
        lambda x: x.clamp(-1.0, 1.0) ** 2,
        lambda x: x.clamp(-1.0, 1.0) ** 2,
        [(3, 4)],
        _normal,
    ),
    "tril": (lambda x: x.tril(-1) ** 2, lambda x: x.tril(-1) ** 2, [(3, 4)], _normal),
    "masked_fill": (
        lambda x: x.masked_fill(axon.tensor(IDX.reshape(4) > 1), 0.5) ** 3,
        lambda x: x.masked_fill(torch.from_numpy(IDX > 1), 0.5) ** 3,
        [(3, 4)],
        _normal,
    ),
    "setitem": (_setitem(axon), _setitem(torch), [(3, 4), (2, 2)], _normal),
    "stack": (
        lambda a, b: axon.stack([a, b * a], 1) ** 2,
        lambda a, b: torch.stack([a, b * a], 1) ** 2,
        [(3,), (3,)],
        _normal,
    ),
    "outer_squeeze": (
        lambda x: (x.unsqueeze(0) * x.unsqueeze(1)).squeeze(),
        lambda x: (x.unsqueeze(0) * x.unsqueeze(1)).squeeze(),
        [(3,)],
        _normal,
    ),
    "mlp": (
        lambda x, w: (x @ w).tanh().softmax(-1).log().mean(),
        lambda x, w: (x @ w).tanh().softmax(-1).log().mean(),
        [(3, 4), (4, 2)],
        _normal,
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hessian_vector_product_matches_torch(name):
    fn, tfn, shapes, maker = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [maker(rng, s) for s in shapes]
    xs = [axon.tensor(a, requires_grad=True) for a in arrays]
    txs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, tout = fn(*xs), tfn(*txs)
    w = rng.standard_normal(out.shape)
    vs = [rng.standard_normal(s) for s in shapes]

    gs = grad((out * axon.tensor(w)).sum(), xs, create_graph=True)
    assert all(g.requires_grad for g in gs), "first derivatives must be differentiable"
    s = axon.stack([(g * axon.tensor(v)).sum() for g, v in zip(gs, vs, strict=True)]).sum()
    hvps = grad(s, xs, allow_unused=True)

    tgs = torch.autograd.grad((tout * torch.tensor(w)).sum(), txs, create_graph=True)
    ts = sum((g * torch.tensor(v)).sum() for g, v in zip(tgs, vs, strict=True))
    thvps = torch.autograd.grad(ts, txs, allow_unused=True)

    for i, (g, tg) in enumerate(zip(gs, tgs, strict=True)):
        np.testing.assert_allclose(
            g.data,
            tg.detach().numpy(),
            rtol=1e-10,
            atol=1e-12,
            err_msg=f"{name}: first derivative, input {i}",
        )
    for i, (h, th) in enumerate(zip(hvps, thvps, strict=True)):
        h = np.zeros(shapes[i]) if h is None else h.data
        th = np.zeros(shapes[i]) if th is None else th.numpy()
        np.testing.assert_allclose(
            h, th, rtol=1e-9, atol=1e-12, err_msg=f"{name}: Hessian-vector product, input {i}"
        )


def test_second_derivative_with_backward_create_graph():
    x = axon.tensor([0.3, -1.2], dtype=np.float64, requires_grad=True)
    y = (x**3).sum()
    y.backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    x.grad = None
    g.sum().backward()
    np.testing.assert_allclose(x.grad.data, 6 * x.data)


@pytest.mark.parametrize(
    "name, fn, tfn",
    [
        ("tanh", axon.tanh, torch.tanh),
        ("sin", axon.sin, torch.sin),
        ("exp_mul", lambda x: x.exp() * x, lambda x: x.exp() * x),
        ("softmax", lambda x: x.softmax(-1), lambda x: x.softmax(-1)),
        ("sigmoid", axon.sigmoid, torch.sigmoid),
    ],
)
def test_third_derivative_matches_torch(name, fn, tfn):
    a = np.array([0.3, -1.2, 0.7])
    x = axon.tensor(a, requires_grad=True)
    tx = torch.tensor(a, requires_grad=True)
    (g1,) = grad(fn(x).sum(), x, create_graph=True)
    (g2,) = grad((g1 * g1).sum(), x, create_graph=True)
    (g3,) = grad(g2.sum(), x)
    (t1,) = torch.autograd.grad(tfn(tx).sum(), tx, create_graph=True)
    (t2,) = torch.autograd.grad((t1 * t1).sum(), tx, create_graph=True)
    (t3,) = torch.autograd.grad(t2.sum(), tx)
    np.testing.assert_allclose(g3.data, t3.numpy(), rtol=1e-9, err_msg=name)


@pytest.mark.parametrize(
    "name, fn", [("gelu", F.gelu), ("silu", F.silu), ("softplus", F.softplus), ("elu", F.elu)]
)
def test_third_derivative_of_fused_activations_raises_clearly(name, fn):
    x = axon.tensor([0.3, -1.2], dtype=np.float64, requires_grad=True)
    (g1,) = grad(fn(x).sum(), x, create_graph=True)
    (g2,) = grad(g1.sum(), x)  # second derivative: fine
    assert np.isfinite(g2.data).all()
    (g1,) = grad(fn(x).sum(), x, create_graph=True)
    with pytest.raises(
        NotImplementedError, match=rf"{name}: third and higher derivatives are not supported"
    ):
        grad(g1.sum(), x, create_graph=True)
