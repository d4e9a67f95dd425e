"""Creation functions and the seeded generator, compared with PyTorch's shapes and dtypes."""

import numpy as np
import pytest
import torch

import axon


def test_tensor_copies_its_input():
    a = np.array([1.0, 2.0])
    t = axon.tensor(a)
    a[0] = 5.0
    assert t.tolist() == [1.0, 2.0] and t.dtype == np.float64
    u = axon.tensor(t)
    assert u.data is not t.data
    assert axon.tensor(3.0, requires_grad=True).requires_grad


def test_from_numpy_shares_memory():
    a = np.zeros(3, dtype=np.float64)
    t = axon.from_numpy(a)
    a[1] = 4.0
    assert t.tolist() == [0.0, 4.0, 0.0] and t.dtype == np.float64 and t.data is a
    with pytest.raises(TypeError, match="from_numpy"):
        axon.from_numpy([1.0, 2.0])


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_shape_forms_and_dtypes(name):
    fn = getattr(axon, name)
    assert fn(2, 3).shape == (2, 3) and fn((2, 3)).shape == (2, 3) and fn([4]).shape == (4,)
    assert fn(2, 3).dtype == np.float32 and fn().shape == ()
    assert fn(2, dtype=np.float64).dtype == np.float64
    x = fn(2, requires_grad=True)
    assert x.requires_grad and x.is_leaf
    with pytest.raises(ValueError, match="negative dimension"):
        fn(-1, 2)


def test_zeros_ones_values():
    assert axon.zeros(2, 2).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert axon.ones(3, dtype=np.int64).tolist() == [1, 1, 1]


@pytest.mark.parametrize("fill, dtype", [(1.5, np.float32), (2, np.int64), (True, np.bool_)])
def test_full(fill, dtype):
    x = axon.full((2, 3), fill)
    t = torch.full((2, 3), fill)
    assert x.dtype == dtype == t.numpy().dtype
    np.testing.assert_array_equal(x.data, t.numpy())
    assert axon.full(3, 0.5).shape == (3,)
    assert axon.full((2,), 1, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize(
    "args", [(5,), (2, 7), (1, 2, 0.25), (0.0, 1.0, 0.1), (5, 0, -1), (-3, 3, 2)]
)
def test_arange(args):
    x, t = axon.arange(*args), torch.arange(*args)
    assert x.dtype == t.numpy().dtype
    np.testing.assert_allclose(x.data, t.numpy(), rtol=1e-6)
    assert axon.arange(3, dtype=np.float64).dtype == np.float64


def test_linspace_and_eye():
    np.testing.assert_allclose(axon.linspace(0, 1, 5).data, torch.linspace(0, 1, 5).numpy())
    assert axon.linspace(-1, 1, 3).dtype == np.float32
    np.testing.assert_array_equal(axon.eye(3).data, torch.eye(3).numpy())
    np.testing.assert_array_equal(axon.eye(2, 4).data, torch.eye(2, 4).numpy())
    assert axon.eye(2).dtype == np.float32


def test_like_functions():
    x = axon.ones(2, 3, dtype=np.float64)
    for name in ("zeros_like", "ones_like", "randn_like", "rand_like"):
        y = getattr(axon, name)(x)
        assert y.shape == (2, 3) and y.dtype == np.float64, name
        assert getattr(axon, name)(x, dtype=np.float32).dtype == np.float32
        assert getattr(axon, name)(x, requires_grad=True).requires_grad
    f = axon.full_like(x, 7)
    assert f.dtype == np.float64 and f.tolist() == [[7.0] * 3] * 2
    assert axon.zeros_like(axon.tensor([1, 2])).dtype == np.int64


def test_rand_randn_randint_distributions():
    axon.manual_seed(0)
    u = axon.rand(10_000)
    assert u.data.min() >= 0 and u.data.max() < 1 and abs(u.data.mean() - 0.5) < 0.02
    n = axon.randn(10_000)
    assert abs(n.data.mean()) < 0.05 and abs(n.data.std() - 1) < 0.05
    r = axon.randint(3, 7, (1000,))
    assert r.dtype == np.int64 and r.data.min() == 3 and r.data.max() == 6
    assert axon.randint(5, size=(2, 3)).shape == (2, 3)
    p = axon.randperm(6)
    assert sorted(p.tolist()) == list(range(6)) and p.dtype == np.int64


def test_manual_seed_makes_draws_reproducible():
    def draws():
        return (
            axon.randn(3, 4).data,
            axon.rand(5).data,
            axon.randint(0, 100, (6,)).data,
            axon.randn_like(axon.zeros(2)).data,
            axon.randperm(5).data,
            axon.empty(4).uniform_(-1, 1).data.copy(),
            axon.empty(4).normal_().data.copy(),
        )

    axon.manual_seed(1234)
    first = draws()
    axon.manual_seed(1234)
    second = draws()
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    axon.manual_seed(4321)
    assert not np.array_equal(draws()[0], first[0])
    with pytest.raises(TypeError, match="manual_seed"):
        axon.manual_seed(1.5)


def test_rng_state_roundtrip():
    axon.manual_seed(7)
    state = axon.get_rng_state()
    a = axon.randn(4).data
    axon.set_rng_state(state)
    np.testing.assert_array_equal(axon.randn(4).data, a)
