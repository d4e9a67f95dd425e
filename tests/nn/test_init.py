"""nn.init: the formulas of torch.nn.init, checked by their statistics and shapes."""

import math

import numpy as np
import pytest

import axon
from axon.nn import init


def param(*shape):
    return axon.nn.Parameter(np.zeros(shape, np.float32))


def test_gains_match_pytorch():
    torch = pytest.importorskip("torch")
    for name, arg in [
        ("linear", None),
        ("relu", None),
        ("tanh", None),
        ("leaky_relu", 0.2),
        ("selu", None),
        ("conv2d", None),
        ("sigmoid", None),
    ]:
        assert init.calculate_gain(name, arg) == pytest.approx(
            torch.nn.init.calculate_gain(name, arg)
        )
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swishy")


def test_fans_and_bounds():
    axon.manual_seed(0)
    w = init.xavier_uniform_(param(200, 300))
    assert np.abs(w.data).max() <= math.sqrt(6 / 500) + 1e-7
    w = init.kaiming_uniform_(param(64, 32, 3, 3), nonlinearity="relu")  # fan_in = 32 * 9
    assert np.abs(w.data).max() <= math.sqrt(2) * math.sqrt(3 / 288) + 1e-7
    w = init.kaiming_normal_(param(400, 500), mode="fan_out", nonlinearity="relu")
    assert w.data.std() == pytest.approx(math.sqrt(2 / 400), rel=0.05)
    w = init.xavier_normal_(param(300, 300))
    assert w.data.std() == pytest.approx(math.sqrt(2 / 600), rel=0.05)
    with pytest.raises(ValueError, match="at least 2 dims"):
        init.xavier_uniform_(param(5))


def test_orthogonal_trunc_normal_and_constants():
    axon.manual_seed(0)
    for shape in [(6, 10), (10, 6)]:
        q = init.orthogonal_(param(*shape), gain=2.0).data.astype(np.float64)
        small = q @ q.T if shape[0] < shape[1] else q.T @ q
        np.testing.assert_allclose(small, 4 * np.eye(min(shape)), atol=1e-5)
    t = init.trunc_normal_(param(10000), std=1.0, a=-0.5, b=0.5).data
    assert t.min() >= -0.5 and t.max() <= 0.5
    assert init.constant_(param(3), 0.5).data.tolist() == [0.5] * 3
    assert init.ones_(param(2)).data.tolist() == [1.0, 1.0]
    assert init.zeros_(param(2)).data.tolist() == [0.0, 0.0]
    np.testing.assert_array_equal(init.eye_(param(2, 3)).data, np.eye(2, 3))
    n = init.normal_(param(20000), mean=1.0, std=2.0).data
    assert n.mean() == pytest.approx(1.0, abs=0.05) and n.std() == pytest.approx(2.0, rel=0.05)
    u = init.uniform_(param(1000), -1, 1).data
    assert u.dtype == np.float32 and u.min() >= -1 and u.max() <= 1
