"""Losses: every functional form through check_op, every module through check_module_parity."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import axon
import axon.nn.functional as F
from axon import nn
from tests.helpers import check_module_parity, check_op

# PyTorch warns that kl_div's 'mean' is not the true KL divergence; axon computes the same value.
pytestmark = pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss")

RNG = np.random.default_rng(0)
REDUCTIONS = ("mean", "sum", "none")


def logits_and_classes(n_classes: int, ignore: int | None = -100):
    """Input maker for (logits, class indices): a few targets equal ``ignore``."""

    def make(rng, shapes):
        x_shape, t_shape = shapes
        t = rng.integers(0, n_classes, size=t_shape)
        if ignore is not None and t.size > 2:
            t.reshape(-1)[:: max(t.size // 2, 2)] = ignore  # at least one ignored, not all
        return [rng.uniform(-2, 2, size=x_shape), t]

    return make


def logits_and_probs(rng, shapes):
    x_shape, t_shape = shapes
    p = rng.uniform(0.05, 1.0, size=t_shape)
    return [
        rng.uniform(-2, 2, size=x_shape),
        p / p.sum(axis=1 if len(t_shape) > 1 else 0, keepdims=True),
    ]


def np_cross_entropy(x, t, w=None, ignore_index=-100, eps=0.0, reduction="mean"):
    """A plain NumPy reference for class-index targets (N, C, *) / (N, *)."""
    n_classes = x.shape[1]
    logp = x - x.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    w = np.ones(n_classes) if w is None else w
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    picked = np.take_along_axis(logp, safe[:, None], 1)[:, 0]
    wb = w.reshape((1, -1) + (1,) * (x.ndim - 2))
    loss = -(1 - eps) * w[safe] * picked - eps / n_classes * (logp * wb).sum(1)
    loss = loss * valid
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / (w[safe] * valid).sum()


CE_CASES = [((6, 5), (6,)), ((3, 4, 5), (3, 5)), ((2, 3, 2, 3), (2, 2, 3))]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("eps", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_class_indices(reduction, eps, weighted):
    w64 = RNG.uniform(0.5, 2.0, size=5)
    for x_shape, t_shape in CE_CASES:
        c = x_shape[1]
        w = w64[:c] if weighted else None
        w32 = None if w is None else w.astype(np.float32)

        def ax(x, t, w=w):  # float64 weights for gradcheck, float32 for the torch run
            ww = None if w is None else axon.tensor(w.astype(x.dtype))
            return F.cross_entropy(x, t, ww, reduction=reduction, label_smoothing=eps)

        check_op(
            ax,
            lambda x, t, w=w: np_cross_entropy(x, t, w, eps=eps, reduction=reduction),
            lambda x, t, w32=w32: TF.cross_entropy(
                x,
                t,
                None if w32 is None else torch.tensor(w32),
                reduction=reduction,
                label_smoothing=eps,
            ),
            [(x_shape, t_shape)],
            make_inputs=logits_and_classes(c),
        )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("eps", [0.0, 0.3])
def test_cross_entropy_class_probabilities(reduction, eps):
    w = RNG.uniform(0.5, 2.0, size=4)
    for weight in (None, w):

        def ax(x, p, weight=weight):
            ww = None if weight is None else axon.tensor(weight.astype(x.dtype))
            return F.cross_entropy(x, p, ww, reduction=reduction, label_smoothing=eps)

        def tf(x, p, weight=weight):
            ww = None if weight is None else torch.tensor(weight.astype(np.float32))
            return TF.cross_entropy(x, p, ww, reduction=reduction, label_smoothing=eps)

        # both the logits and the target probabilities get gradients (as PyTorch)
        check_op(
            ax, None, tf, [((5, 4), (5, 4)), ((2, 4, 3), (2, 4, 3))], make_inputs=logits_and_probs
        )


def test_cross_entropy_unbatched_and_ignore_index_inside_range():
    check_op(
        lambda x, t: F.cross_entropy(x, t),
        None,
        TF.cross_entropy,
        [((5,), ())],
        make_inputs=logits_and_classes(5, ignore=None),
    )
    check_op(
        lambda x, t: F.cross_entropy(x, t, reduction="none"),
        None,
        lambda x, t: TF.cross_entropy(x, t, reduction="none"),
        [((5,), ())],
        make_inputs=logits_and_classes(5, ignore=None),
    )
    # ignore_index may name a real class: those targets are skipped
    check_op(
        lambda x, t: F.cross_entropy(x, t, ignore_index=2, label_smoothing=0.1),
        None,
        lambda x, t: TF.cross_entropy(x, t, ignore_index=2, label_smoothing=0.1),
        [((8, 4), (8,))],
        make_inputs=logits_and_classes(4, ignore=2),
    )


def test_cross_entropy_all_ignored_is_nan_like_torch():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    t = np.full(3, -100)
    ours = F.cross_entropy(axon.tensor(x), axon.tensor(t)).item()
    theirs = TF.cross_entropy(torch.tensor(x), torch.tensor(t)).item()
    assert np.isnan(ours) and np.isnan(theirs)


def test_cross_entropy_is_stable_for_huge_logits():
    x = axon.tensor([[1e4, -1e4, 0.0], [500.0, 500.0, -500.0]], requires_grad=True)
    loss = F.cross_entropy(x, axon.tensor([1, 0]))
    loss.backward()
    ref = TF.cross_entropy(torch.tensor(x.data), torch.tensor([1, 0]))
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-6)


@pytest.mark.parametrize("kind", ["indices", "probabilities"])
def test_cross_entropy_double_backward_matches_torch(kind):
    x = RNG.standard_normal((3, 4, 2))
    w = RNG.uniform(0.5, 2, 4)
    if kind == "indices":
        t = np.array([[0, 3], [1, -100], [2, 2]])
        ta, tt = axon.tensor(t), torch.tensor(t)
    else:
        t = RNG.uniform(0, 1, (3, 4, 2))
        ta, tt = axon.tensor(t, requires_grad=True), torch.tensor(t, requires_grad=True)
    xa, xt = axon.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ins_a = [xa] + ([ta] if kind == "probabilities" else [])
    ins_t = [xt] + ([tt] if kind == "probabilities" else [])
    la = F.cross_entropy(xa, ta, axon.tensor(w), label_smoothing=0.2)
    lt = TF.cross_entropy(xt, tt, torch.tensor(w), label_smoothing=0.2)
    ga = axon.autograd.grad(la, ins_a, create_graph=True)
    gt = torch.autograd.grad(lt, ins_t, create_graph=True)
    ha = axon.autograd.grad(sum((g * g * g).sum() for g in ga), ins_a)
    ht = torch.autograd.grad(sum((g * g * g).sum() for g in gt), ins_t)
    for a, b in zip(ha, ht, strict=True):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-7, atol=1e-12)


def test_cross_entropy_errors_name_the_loss_and_shapes():
    x = axon.randn(4, 3)
    with pytest.raises(ValueError, match=r"cross_entropy.*\(5,\).*\(4, 3\)"):
        F.cross_entropy(x, axon.tensor([0, 1, 2, 0, 1]))
    with pytest.raises(IndexError, match=r"cross_entropy: target class 3 .* 3 classes"):
        F.cross_entropy(x, axon.tensor([0, 1, 3, 0]))
    with pytest.raises(IndexError, match="target class -1"):
        F.cross_entropy(x, axon.tensor([0, 1, -1, 0]))
    with pytest.raises(ValueError, match=r"probabilities.*\(4, 3\)"):
        F.cross_entropy(x, axon.rand(4, 2))
    with pytest.raises(TypeError, match="cross_entropy: target must be"):
        F.cross_entropy(x, axon.tensor([True, False, True, True]))
    with pytest.raises(ValueError, match="ignore_index is not supported"):
        F.cross_entropy(x, axon.rand(4, 3), ignore_index=1)
    with pytest.raises(ValueError, match="weight must have shape"):
        F.cross_entropy(x, axon.tensor([0, 1, 2, 0]), weight=axon.ones(4))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, axon.tensor([0, 1, 2, 0]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, axon.tensor([0, 1, 2, 0]), label_smoothing=1.5)
    with pytest.raises(TypeError, match="nll_loss: target must hold integer"):
        F.nll_loss(x, axon.rand(4, 3))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss(reduction):
    w = RNG.uniform(0.5, 2.0, 5)

    def ref(x, t, w=None):
        return np_cross_entropy(
            x - np.log(np.exp(x).sum(1, keepdims=True)), t, w, reduction=reduction
        )

    log_probs = logits_and_classes(5)

    def make(rng, shapes):
        x, t = log_probs(rng, shapes)
        return [x - np.log(np.exp(x).sum(1, keepdims=True)), t]  # log-probabilities

    check_op(
        lambda x, t: F.nll_loss(x, t, reduction=reduction),
        lambda x, t: ref(x, t),
        lambda x, t: TF.nll_loss(x, t, reduction=reduction),
        [((6, 5), (6,)), ((2, 5, 3), (2, 3))],
        make_inputs=make,
    )
    check_op(
        lambda x, t: F.nll_loss(x, t, axon.tensor(w.astype(x.dtype)), reduction=reduction),
        lambda x, t: ref(x, t, w),
        lambda x, t: TF.nll_loss(x, t, torch.tensor(w.astype(np.float32)), reduction=reduction),
        [((6, 5), (6,))],
        make_inputs=make,
    )


def test_nll_loss_double_backward():
    x = RNG.standard_normal((4, 3))
    xa, xt = axon.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    t = np.array([0, 2, -100, 1])
    (ga,) = axon.autograd.grad(
        F.nll_loss(F.log_softmax(xa, 1), axon.tensor(t)), xa, create_graph=True
    )
    (gt,) = torch.autograd.grad(
        TF.nll_loss(TF.log_softmax(xt, 1), torch.tensor(t)), xt, create_graph=True
    )
    (ha,) = axon.autograd.grad((ga**3).sum(), xa)
    (ht,) = torch.autograd.grad((gt**3).sum(), xt)
    np.testing.assert_allclose(ha.data, ht.numpy(), rtol=1e-7, atol=1e-14)


def two(rng, shapes):
    return [rng.uniform(-2, 2, size=s) for s in shapes]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses(reduction):
    red = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    cases = [((4, 5), (4, 5)), ((3,), (3,)), ((2, 3), (3,))]  # the last one broadcasts
    check_op(lambda x, y: F.mse_loss(x, y, reduction), lambda x, y: red((x - y) ** 2), None, cases)
    check_op(
        lambda x, y: F.mse_loss(x, y, reduction),
        None,
        lambda x, y: TF.mse_loss(x, y, reduction=reduction),
        cases[:2],
    )
    check_op(
        lambda x, y: F.l1_loss(x, y, reduction),
        lambda x, y: red(np.abs(x - y)),
        lambda x, y: TF.l1_loss(x, y, reduction=reduction),
        cases[:2],
    )
    for delta in (1.0, 0.6):

        def huber(x, y, delta=delta):
            d = np.abs(x - y)
            return red(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)))

        check_op(
            lambda x, y, delta=delta: F.huber_loss(x, y, reduction, delta),
            huber,
            lambda x, y, delta=delta: TF.huber_loss(x, y, reduction=reduction, delta=delta),
            cases[:2],
        )
    for beta in (1.0, 0.6, 0.0):
        check_op(
            lambda x, y, beta=beta: F.smooth_l1_loss(x, y, reduction, beta),
            None,
            lambda x, y, beta=beta: TF.smooth_l1_loss(x, y, reduction=reduction, beta=beta),
            cases[:2],
        )


def test_regression_losses_broadcast_and_errors():
    x, y = RNG.standard_normal((2, 3)), RNG.standard_normal(3)
    np.testing.assert_allclose(
        F.mse_loss(axon.tensor(x), axon.tensor(y)).item(), np.mean((x - y) ** 2)
    )
    with pytest.raises(ValueError, match=r"mse_loss.*\(2, 3\).*\(4,\)"):
        F.mse_loss(axon.randn(2, 3), axon.randn(4))


def probs_and_targets(rng, shapes):
    x_shape, t_shape = shapes
    return [rng.uniform(0.05, 0.95, size=x_shape), rng.uniform(0, 1, size=t_shape)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction):
    red = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    w = RNG.uniform(0.5, 2.0, 3)
    check_op(
        lambda x, t: F.binary_cross_entropy(x, t, reduction=reduction),
        lambda x, t: red(-(t * np.log(x) + (1 - t) * np.log(1 - x))),
        lambda x, t: TF.binary_cross_entropy(x, t, reduction=reduction),
        [((4, 3), (4, 3)), ((5,), (5,))],
        make_inputs=probs_and_targets,
    )
    check_op(
        lambda x, t: F.binary_cross_entropy(x, t, axon.tensor(w.astype(x.dtype)), reduction),
        lambda x, t: red(-w * (t * np.log(x) + (1 - t) * np.log(1 - x))),
        lambda x, t: TF.binary_cross_entropy(
            x, t, torch.tensor(w.astype(np.float32)), reduction=reduction
        ),
        [((4, 3), (4, 3))],
        make_inputs=probs_and_targets,
    )


def test_binary_cross_entropy_saturated_inputs_stay_finite():
    x = axon.tensor([0.0, 1.0, 1.0, 0.0], requires_grad=True)
    t = np.array([0.0, 1.0, 0.0, 1.0], dtype=np.float32)
    loss = F.binary_cross_entropy(x, axon.tensor(t))
    loss.backward()
    tx = torch.tensor(x.data, requires_grad=True)
    ref = TF.binary_cross_entropy(tx, torch.tensor(t))
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-6)  # logs clamped at -100
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6)
    with pytest.raises(
        ValueError, match=r"binary_cross_entropy: input values must lie in \[0, 1\]"
    ):
        F.binary_cross_entropy(axon.tensor([1.5]), axon.tensor([1.0]))
    with pytest.raises(ValueError, match=r"target shape \(2,\) must equal input shape \(3,\)"):
        F.binary_cross_entropy(axon.rand(3), axon.rand(2))


def logits_and_targets(rng, shapes):
    x_shape, t_shape = shapes
    return [rng.uniform(-3, 3, size=x_shape), rng.uniform(0, 1, size=t_shape)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits(reduction):
    red = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    w, pw = RNG.uniform(0.5, 2.0, 3), RNG.uniform(0.5, 3.0, 3)

    def ref(x, t, w=1.0, pw=1.0):
        s = 1 / (1 + np.exp(-x))
        return red(-w * (pw * t * np.log(s) + (1 - t) * np.log(1 - s)))

    cases = [((4, 3), (4, 3)), ((2, 2, 3), (2, 2, 3))]
    check_op(
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction),
        ref,
        lambda x, t: TF.binary_cross_entropy_with_logits(x, t, reduction=reduction),
        cases,
        make_inputs=logits_and_targets,
    )
    check_op(
        lambda x, t: F.binary_cross_entropy_with_logits(
            x,
            t,
            axon.tensor(w.astype(x.dtype)),
            reduction,
            pos_weight=axon.tensor(pw.astype(x.dtype)),
        ),
        lambda x, t: ref(x, t, w, pw),
        lambda x, t: TF.binary_cross_entropy_with_logits(
            x,
            t,
            torch.tensor(w.astype(np.float32)),
            reduction=reduction,
            pos_weight=torch.tensor(pw.astype(np.float32)),
        ),
        cases,
        make_inputs=logits_and_targets,
    )


def test_binary_cross_entropy_with_logits_is_stable():
    x = axon.tensor([100.0, -100.0, 30.0, -30.0], requires_grad=True)
    t = axon.tensor([0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="sum")
    loss.backward()
    tx = torch.tensor(x.data, requires_grad=True)
    ref = TF.binary_cross_entropy_with_logits(tx, torch.tensor(t.data), reduction="sum")
    ref.backward()
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6, atol=1e-12)


def log_probs_and_probs(log_target):
    def make(rng, shapes):
        x_shape, t_shape = shapes
        x = rng.uniform(0.1, 1, size=x_shape)
        t = rng.uniform(0.1, 1, size=t_shape)
        x, t = np.log(x / x.sum(-1, keepdims=True)), t / t.sum(-1, keepdims=True)
        return [x, np.log(t) if log_target else t]

    return make


@pytest.mark.parametrize("reduction", REDUCTIONS + ("batchmean",))
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    def ref(x, t):
        p = np.exp(t) if log_target else t
        loss = p * (np.log(p) - x)
        return {
            "mean": np.mean,
            "sum": np.sum,
            "none": lambda a: a,
            "batchmean": lambda a: a.sum() / a.shape[0],
        }[reduction](loss)

    check_op(
        lambda x, t: F.kl_div(x, t, reduction, log_target),
        ref,
        lambda x, t: TF.kl_div(x, t, reduction=reduction, log_target=log_target),
        [((3, 4), (3, 4)), ((2, 2, 3), (2, 2, 3))],
        make_inputs=log_probs_and_probs(log_target),
    )


def test_kl_div_zero_target_contributes_zero():
    x = axon.tensor(np.log([[0.5, 0.5]]).astype(np.float32))
    loss = F.kl_div(x, axon.tensor([[0.0, 1.0]]), reduction="sum")
    np.testing.assert_allclose(loss.item(), -np.log(0.5), rtol=1e-6)


def test_cosine_similarity():
    def ref(a, b, dim=1):
        return (a * b).sum(dim) / (np.linalg.norm(a, axis=dim) * np.linalg.norm(b, axis=dim))

    check_op(
        lambda a, b: F.cosine_similarity(a, b),
        ref,
        TF.cosine_similarity,
        [((4, 5), (4, 5)), ((2, 3, 4), (2, 3, 4))],
    )
    check_op(
        lambda a, b: F.cosine_similarity(a, b, dim=-1),
        lambda a, b: ref(a, b, -1),
        lambda a, b: TF.cosine_similarity(a, b, dim=-1),
        [((3, 1, 4), (1, 2, 4))],
    )
    # a zero vector: the norm is clamped to eps, no nan in the value
    out = F.cosine_similarity(axon.zeros(1, 3), axon.ones(1, 3))
    assert out.item() == 0.0


# ------------------------------------------------------------------ modules
def _loss_parity(module, torch_module, x, target, **kw):
    """check_module_parity for a loss: the target is a constant, the input gets gradients."""
    t_axon = axon.tensor(target)
    t_torch = torch.tensor(target)
    check_module_parity(
        module,
        torch_module,
        [x],
        forward=lambda m, xx: m(xx, t_axon),
        torch_forward=lambda m, xx: m(xx, t_torch),
        **kw,
    )
    out = module(axon.tensor(x), t_axon)
    assert out.dtype == np.float32


CE_OPTIONS = [
    {},
    {"reduction": "sum"},
    {"reduction": "none"},
    {"label_smoothing": 0.1},
    {"ignore_index": 1},
    {"weight": True},
    {"weight": True, "label_smoothing": 0.2},
    {"weight": True, "ignore_index": 2, "label_smoothing": 0.3},
    {"weight": True, "ignore_index": 0, "reduction": "none", "label_smoothing": 0.1},
]


@pytest.mark.parametrize(
    "options", CE_OPTIONS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "default"
)
def test_CrossEntropyLoss_matches_torch(options):
    options = dict(options)
    c = 5
    if options.pop("weight", False):
        options["weight"] = RNG.uniform(0.5, 2.0, c).astype(np.float32)
    ours = nn.CrossEntropyLoss(**options)
    theirs = torch.nn.CrossEntropyLoss(
        **{k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}
    )
    ignore = options.get("ignore_index", -100)
    for x_shape, t_shape in [((8, c), (8,)), ((2, c, 3, 2), (2, 3, 2))]:
        x = RNG.standard_normal(x_shape).astype(np.float32)
        t = RNG.integers(0, c, t_shape)
        t.reshape(-1)[::3] = ignore  # ignore_index present in the targets
        _loss_parity(ours, theirs, x, t)
    # class probabilities as targets
    if options.get("ignore_index", -100) < 0:
        p = RNG.uniform(0, 1, (6, c)).astype(np.float32)
        _loss_parity(
            ours,
            theirs,
            RNG.standard_normal((6, c)).astype(np.float32),
            p / p.sum(1, keepdims=True),
        )


@pytest.mark.parametrize(
    "options",
    [{}, {"reduction": "sum"}, {"reduction": "none", "ignore_index": 2}, {"weight": True}],
)
def test_NLLLoss_matches_torch(options):
    options = dict(options)
    if options.pop("weight", False):
        options["weight"] = RNG.uniform(0.5, 2.0, 4).astype(np.float32)
    ours = nn.NLLLoss(**options)
    theirs = torch.nn.NLLLoss(
        **{k: torch.tensor(v) if k == "weight" else v for k, v in options.items()}
    )
    x = np.log(RNG.dirichlet(np.ones(4), size=6)).astype(np.float32)
    _loss_parity(ours, theirs, x, RNG.integers(0, 4, 6))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pointwise_loss_modules_match_torch(reduction):
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    y = RNG.standard_normal((4, 3)).astype(np.float32)
    probs = RNG.uniform(0.05, 0.95, (4, 3)).astype(np.float32)
    targets01 = RNG.uniform(0, 1, (4, 3)).astype(np.float32)
    w = RNG.uniform(0.5, 2, 3).astype(np.float32)
    pairs = [
        (nn.MSELoss(reduction=reduction), torch.nn.MSELoss(reduction=reduction), x, y),
        (nn.L1Loss(reduction=reduction), torch.nn.L1Loss(reduction=reduction), x, y),
        (
            nn.HuberLoss(reduction=reduction, delta=0.5),
            torch.nn.HuberLoss(reduction=reduction, delta=0.5),
            x,
            y,
        ),
        (
            nn.SmoothL1Loss(reduction=reduction, beta=0.5),
            torch.nn.SmoothL1Loss(reduction=reduction, beta=0.5),
            x,
            y,
        ),
        (
            nn.BCELoss(weight=w, reduction=reduction),
            torch.nn.BCELoss(weight=torch.tensor(w), reduction=reduction),
            probs,
            targets01,
        ),
        (
            nn.BCEWithLogitsLoss(reduction=reduction),
            torch.nn.BCEWithLogitsLoss(reduction=reduction),
            x,
            targets01,
        ),
        (
            nn.BCEWithLogitsLoss(weight=w, reduction=reduction, pos_weight=w[::-1].copy()),
            torch.nn.BCEWithLogitsLoss(
                weight=torch.tensor(w), reduction=reduction, pos_weight=torch.tensor(w[::-1].copy())
            ),
            x,
            targets01,
        ),
        (
            nn.KLDivLoss(reduction=reduction),
            torch.nn.KLDivLoss(reduction=reduction),
            np.log(probs),
            targets01,
        ),
        (
            nn.KLDivLoss(reduction=reduction, log_target=True),
            torch.nn.KLDivLoss(reduction=reduction, log_target=True),
            np.log(probs),
            np.log(targets01 + 0.1),
        ),
    ]
    for ours, theirs, a, b in pairs:
        _loss_parity(ours, theirs, a, b)


def test_pointwise_loss_modules_with_target_gradients():
    """check_module_parity sends gradients to every float input, the target included."""
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    y = RNG.standard_normal((3, 4)).astype(np.float32)
    for ours, theirs in [
        (nn.MSELoss(), torch.nn.MSELoss()),
        (nn.HuberLoss(), torch.nn.HuberLoss()),
        (
            nn.KLDivLoss(reduction="batchmean", log_target=True),
            torch.nn.KLDivLoss(reduction="batchmean", log_target=True),
        ),
    ]:
        check_module_parity(ours, theirs, [x, y])


def test_CosineSimilarity_matches_torch():
    a = RNG.standard_normal((4, 6)).astype(np.float32)
    b = RNG.standard_normal((4, 6)).astype(np.float32)
    check_module_parity(nn.CosineSimilarity(), torch.nn.CosineSimilarity(), [a, b])
    check_module_parity(
        nn.CosineSimilarity(dim=0, eps=1e-6), torch.nn.CosineSimilarity(dim=0, eps=1e-6), [a, b]
    )


def test_loss_modules_state_dict_and_repr_follow_torch():
    w = np.ones(3, dtype=np.float32)
    for ours, theirs in [
        (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
        (nn.CrossEntropyLoss(weight=w), torch.nn.CrossEntropyLoss(weight=torch.tensor(w))),
        (nn.NLLLoss(weight=w), torch.nn.NLLLoss(weight=torch.tensor(w))),
        (
            nn.BCEWithLogitsLoss(pos_weight=w),
            torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)),
        ),
        (nn.MSELoss(), torch.nn.MSELoss()),
        (nn.KLDivLoss(reduction="batchmean"), torch.nn.KLDivLoss(reduction="batchmean")),
        (nn.CosineSimilarity(), torch.nn.CosineSimilarity()),
    ]:
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert repr(ours) == repr(theirs)
    with pytest.raises(ValueError, match="MSELoss: reduction must be one of"):
        nn.MSELoss(reduction="batchmean")
