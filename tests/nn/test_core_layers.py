"""Activation layers, dropout and embedding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import axon
import axon.nn.functional as F
from axon import nn
from axon.ops.dropout import MaskScale
from axon.ops.embedding import _scatter_rows
from tests.helpers import check_module_parity, check_op

RNG = np.random.default_rng(0)

# ------------------------------------------------------------------ activations
ACTIVATIONS = [
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(), torch.nn.LeakyReLU()),
    (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)),
    (nn.ELU(), torch.nn.ELU()),
    (nn.ELU(alpha=0.5), torch.nn.ELU(alpha=0.5)),
    (nn.GELU(), torch.nn.GELU()),
    (nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh")),
    (nn.SiLU(), torch.nn.SiLU()),
    (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
    (nn.Softmax(dim=-1), torch.nn.Softmax(dim=-1)),
    (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)),
    (nn.Softplus(), torch.nn.Softplus()),
    (nn.Softplus(beta=2.0, threshold=1.0), torch.nn.Softplus(beta=2.0, threshold=1.0)),
]


@pytest.mark.parametrize("ours,theirs", ACTIVATIONS, ids=lambda m: repr(m))
def test_activation_layers_match_torch(ours, theirs):
    assert repr(ours) == repr(theirs)
    for shape in [(4, 5), (2, 3, 4)]:
        x = RNG.uniform(-3, 3, shape).astype(np.float32)
        x[np.abs(x) < 0.05] = 0.3  # keep away from ReLU's kink
        check_module_parity(ours, theirs, [x])
        assert ours(axon.tensor(x)).dtype == np.float32


def test_inplace_flags_are_accepted_and_shown_as_torch():
    for ours, theirs in [
        (nn.ReLU(inplace=True), torch.nn.ReLU(inplace=True)),
        (nn.LeakyReLU(0.1, inplace=True), torch.nn.LeakyReLU(0.1, inplace=True)),
        (nn.ELU(inplace=True), torch.nn.ELU(inplace=True)),
        (nn.SiLU(inplace=True), torch.nn.SiLU(inplace=True)),
    ]:
        assert repr(ours) == repr(theirs)
        x = axon.randn(3, 4, requires_grad=True)
        ours(x).sum().backward()  # computed out of place: the leaf is untouched
        assert x.grad is not None


def test_softmax_without_dim_follows_torch_legacy_rule():
    for shape in [(5,), (3, 4), (2, 3, 4), (2, 3, 4, 5)]:
        x = RNG.standard_normal(shape).astype(np.float32)
        with pytest.warns(UserWarning):
            ref = torch.nn.Softmax()(torch.tensor(x)).numpy()
        np.testing.assert_allclose(nn.Softmax()(axon.tensor(x)).data, ref, rtol=1e-6, atol=1e-7)
    assert repr(nn.Softmax()) == "Softmax(dim=None)"


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="GELU: approximate must be"):
        nn.GELU("fast")


# ----------------------------------------------------------------------- dropout
def test_mask_scale_op():
    mask = RNG.uniform(size=(4, 5)) > 0.3
    check_op(
        lambda x: MaskScale.apply(x, mask, 2.5),
        lambda x: x * mask * 2.5,
        lambda x: x * torch.tensor(mask) * 2.5,
        [((4, 5),)],
    )
    channel_mask = RNG.uniform(size=(2, 3, 1, 1)) > 0.5
    check_op(
        lambda x: MaskScale.apply(x, channel_mask, 2.0),
        lambda x: x * channel_mask * 2.0,
        None,
        [((2, 3, 4, 4),)],
    )


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics_and_scaling(p):
    axon.manual_seed(0)
    x = axon.ones(400, 500, requires_grad=True)
    y = F.dropout(x, p, training=True)
    assert y.dtype == np.float32
    zeroed = y.data == 0
    # 200k Bernoulli draws: the fraction is within ~4.5 standard deviations of p
    assert abs(zeroed.mean() - p) < 4.5 * np.sqrt(p * (1 - p) / zeroed.size)
    np.testing.assert_allclose(y.data[~zeroed], 1 / (1 - p), rtol=1e-6)
    y.backward(axon.ones(*y.shape))
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, y.data)  # d y / d x = mask / (1 - p)


def test_dropout_eval_identity_and_edge_probabilities():
    x = axon.randn(3, 4, requires_grad=True)
    drop = nn.Dropout(0.5).eval()
    assert drop(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, 0)
    with pytest.raises(
        ValueError, match=r"dropout probability must be between 0 and 1, got p=1\.5"
    ):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match=r"p=-0\.1"):
        F.dropout(x, -0.1)
    assert repr(nn.Dropout(0.2)) == repr(torch.nn.Dropout(0.2))
    assert repr(nn.Dropout2d(0.3)) == repr(torch.nn.Dropout2d(0.3))


def test_dropout_layers_in_eval_match_torch():
    x = RNG.standard_normal((2, 3, 4, 4)).astype(np.float32)
    check_module_parity(nn.Dropout(0.3), torch.nn.Dropout(0.3), [x], modes=("eval",))
    check_module_parity(nn.Dropout2d(0.3), torch.nn.Dropout2d(0.3), [x], modes=("eval",))


def test_dropout_same_seed_same_mask():
    x = axon.ones(50, 60)
    axon.manual_seed(123)
    a = nn.Dropout(0.3)(x).data
    b = nn.Dropout(0.3)(x).data
    axon.manual_seed(123)
    c = nn.Dropout(0.3)(x).data
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)  # consecutive calls draw new masks


def test_dropout_double_backward():
    axon.manual_seed(0)
    x = axon.randn(5, 6, requires_grad=True)
    y = F.dropout(x, 0.4)
    (g,) = axon.autograd.grad((y * y).sum(), x, create_graph=True)
    (h,) = axon.autograd.grad(g.sum(), x)
    mask_scale = (y.data != 0) / 0.6
    np.testing.assert_allclose(h.data, 2 * mask_scale**2, rtol=1e-6)


def test_dropout2d_drops_whole_channels():
    axon.manual_seed(1)
    x = axon.ones(64, 32, 5, 5, requires_grad=True)
    y = nn.Dropout2d(0.25)(x)
    per_channel = y.data.reshape(64, 32, -1)
    # every channel map is all zeros or all 1/(1-p)
    assert np.all((per_channel == 0).all(-1) | np.isclose(per_channel, 1 / 0.75).all(-1))
    frac = (per_channel[..., 0] == 0).mean()
    assert abs(frac - 0.25) < 4.5 * np.sqrt(0.25 * 0.75 / (64 * 32))
    y.backward(axon.ones(*y.shape))
    np.testing.assert_allclose(x.grad.data, y.data)
    y3 = F.dropout2d(axon.ones(4, 8, 10), 0.5)  # 3-D: (N, C, L), as PyTorch
    assert np.all((y3.data == 0).all(-1) | (y3.data == 2).all(-1))
    assert nn.Dropout2d().eval()(x) is x
    with pytest.raises(
        ValueError, match=r"dropout2d: expected an \(N, C, H, W\) input, got shape \(5,\)"
    ):
        F.dropout2d(axon.ones(5))


# ---------------------------------------------------------------------- embedding
def weights_and_indices(num: int, big: bool = False):
    def make(rng, shapes):
        w_shape, i_shape = shapes
        idx = rng.integers(0, num, size=i_shape)
        if idx.size > 2:
            idx.reshape(-1)[:2] = idx.reshape(-1)[-1]  # repeated indices add up
        return [rng.uniform(-2, 2, size=w_shape), idx]

    return make


def test_embedding_op():
    check_op(
        lambda w, i: F.embedding(i, w),
        lambda w, i: w[i],
        lambda w, i: TF.embedding(i, w),
        [((7, 3), (5,)), ((7, 4), (2, 6)), ((7, 2), ())],
        make_inputs=weights_and_indices(7),
    )
    # tables past the one-hot size: the sorted-layers scatter
    check_op(
        lambda w, i: F.embedding(i, w),
        None,
        lambda w, i: TF.embedding(i, w),
        [((300, 3), (100,))],
        make_inputs=weights_and_indices(300),
    )


@pytest.mark.parametrize("num", [7, 50, 300])  # one-hot matmul / sorted layers
@pytest.mark.parametrize("padding_idx", [1, -1])
def test_embedding_padding_row_gets_no_gradient(num, padding_idx):
    # (gradcheck can't cover padding_idx: its row's true derivative is not zero, by design)
    w = RNG.standard_normal((num, 4)).astype(np.float32)
    idx = RNG.integers(0, num, (6, 40))
    idx[0] = padding_idx % num
    wa, wt = axon.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    ya = F.embedding(axon.tensor(idx), wa, padding_idx)
    yt = TF.embedding(torch.tensor(idx), wt, padding_idx=padding_idx % num)
    g = RNG.standard_normal(ya.shape).astype(np.float32)
    ya.backward(axon.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(ya.data, yt.detach().numpy())
    np.testing.assert_allclose(wa.grad.data, wt.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert not wa.grad.data[padding_idx].any() and wa.grad.dtype == np.float32


@pytest.mark.parametrize(
    "num_rows,n", [(8, 1000), (64, 3000), (65, 3000), (1000, 5000), (100000, 300)]
)
def test_scatter_rows_strategies_match_add_at(num_rows, n):
    idx = RNG.integers(0, num_rows, n)
    idx[: n // 3] = 5  # one very frequent index: exercises the reduceat tail
    g = RNG.standard_normal((n, 7)).astype(np.float32)
    ref = np.zeros((num_rows, 7))
    np.add.at(ref, idx, g.astype(np.float64))
    out = _scatter_rows(g, idx, num_rows)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-4)
    assert not _scatter_rows(g[:0], idx[:0], num_rows).any()


@pytest.mark.parametrize("padding_idx", [None, 0, 3])
def test_Embedding_matches_torch(padding_idx):
    torch.manual_seed(0)
    theirs = torch.nn.Embedding(10, 4, padding_idx=padding_idx)
    ours = nn.Embedding(10, 4, padding_idx=padding_idx)
    idx = RNG.integers(0, 10, (3, 7))
    idx[0, :3] = 3  # the padding index, repeated
    check_module_parity(ours, theirs, [idx])
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if padding_idx is not None:
        assert not ours.weight.grad.data[padding_idx].any()


def test_Embedding_init_and_from_pretrained():
    axon.manual_seed(0)
    emb = nn.Embedding(2000, 16, padding_idx=-2)
    assert emb.padding_idx == 1998 and emb.weight.dtype == np.float32
    assert not emb.weight.data[1998].any()
    w = np.delete(emb.weight.data, 1998, axis=0)
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02  # N(0, 1), as PyTorch
    pre = nn.Embedding.from_pretrained(axon.randn(5, 3))
    assert not pre.weight.requires_grad and pre(axon.tensor([4])).shape == (1, 3)
    assert nn.Embedding.from_pretrained(
        np.ones((5, 3), np.float32), freeze=False
    ).weight.requires_grad


def test_Embedding_errors_name_layer_index_and_size():
    emb = nn.Embedding(10, 3)
    with pytest.raises(
        IndexError, match=r"Embedding\(10, 3\): index 12 is out of range for num_embeddings=10"
    ):
        emb(axon.tensor([1, 12]))
    with pytest.raises(IndexError, match=r"index -1 is out of range"):
        emb(axon.tensor([-1, 2]))
    with pytest.raises(TypeError, match=r"Embedding\(10, 3\): indices must be an integer tensor"):
        emb(axon.tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="padding_idx 10 must be within num_embeddings"):
        nn.Embedding(10, 3, padding_idx=10)


def test_embedding_double_backward():
    w = RNG.standard_normal((5, 3))
    idx = np.array([0, 1, 1, 4, 2])
    wa, wt = axon.tensor(w, requires_grad=True), torch.tensor(w, requires_grad=True)
    ya = F.embedding(axon.tensor(idx), wa, padding_idx=1) * wa
    yt = TF.embedding(torch.tensor(idx), wt, padding_idx=1) * wt
    (ga,) = axon.autograd.grad(ya.sum(), wa, create_graph=True)
    (gt,) = torch.autograd.grad(yt.sum(), wt, create_graph=True)
    (ha,) = axon.autograd.grad((ga * ga).sum(), wa)
    (ht,) = torch.autograd.grad((gt * gt).sum(), wt)
    np.testing.assert_allclose(ha.data, ht.numpy(), rtol=1e-12)


def test_public_names_are_exported():
    for name in [
        "ReLU",
        "LeakyReLU",
        "ELU",
        "GELU",
        "SiLU",
        "Sigmoid",
        "Tanh",
        "Softmax",
        "LogSoftmax",
        "Softplus",
        "Dropout",
        "Dropout2d",
        "Embedding",
        "LayerNorm",
        "RMSNorm",
        "MSELoss",
        "L1Loss",
        "HuberLoss",
        "SmoothL1Loss",
        "CrossEntropyLoss",
        "NLLLoss",
        "BCELoss",
        "BCEWithLogitsLoss",
        "KLDivLoss",
        "CosineSimilarity",
    ]:
        assert getattr(nn, name).__name__ == name
    for name in [
        "cross_entropy",
        "nll_loss",
        "mse_loss",
        "l1_loss",
        "huber_loss",
        "smooth_l1_loss",
        "binary_cross_entropy",
        "binary_cross_entropy_with_logits",
        "kl_div",
        "cosine_similarity",
        "layer_norm",
        "rms_norm",
        "dropout",
        "dropout2d",
        "embedding",
    ]:
        assert callable(getattr(F, name))
    for name in [
        "clip_grad_norm_",
        "clip_grad_value_",
        "parameters_to_vector",
        "vector_to_parameters",
    ]:
        assert callable(getattr(nn.utils, name))
