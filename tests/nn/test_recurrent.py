"""RNN, LSTM, GRU and their cells: parity with PyTorch, BPTT gradients, states, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import axon
from axon import nn
from axon.autograd import gradcheck
from axon.ops.recurrent import GRUScan, LSTMScan, RNNScan
from tests.helpers import check_module_parity, check_op

torch = pytest.importorskip("torch")

T, B, IN, HID = 5, 3, 4, 6

LAYERS = {
    "RNN": (nn.RNN, torch.nn.RNN),
    "LSTM": (nn.LSTM, torch.nn.LSTM),
    "GRU": (nn.GRU, torch.nn.GRU),
}
CONFIGS = [
    {},
    {"num_layers": 2, "bidirectional": True},
    {"batch_first": True, "bias": False},
    {"num_layers": 3, "batch_first": True, "bidirectional": True},
]


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _pair(name, **kw):
    torch.manual_seed(0)
    ours, theirs = LAYERS[name]
    return ours(IN, HID, **kw), theirs(IN, HID, **kw)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize(
    "kw", CONFIGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "default"
)
def test_layer_matches_torch(name, kw):
    x = _x(B, T, IN) if kw.get("batch_first") else _x(T, B, IN)
    check_module_parity(*_pair(name, **kw), [x])


@pytest.mark.torch
def test_relu_rnn_matches_torch():
    check_module_parity(*_pair("RNN", nonlinearity="relu", num_layers=2), [_x(T, B, IN)])


@pytest.mark.torch
@pytest.mark.parametrize("kw", [{}, {"num_layers": 2, "bidirectional": True}])
def test_lstm_projection_matches_torch(kw):
    check_module_parity(*_pair("LSTM", proj_size=3, **kw), [_x(T, B, IN)])


@pytest.mark.torch
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_initial_states_match_torch(name):
    n = 4  # num_layers * directions
    h0, c0 = _x(n, B, HID, seed=1), _x(n, B, HID, seed=2)
    ours, theirs = _pair(name, num_layers=2, bidirectional=True)
    if name == "LSTM":
        check_module_parity(
            ours,
            theirs,
            [_x(T, B, IN), h0, c0],
            forward=lambda m, x, h, c: m(x, (h, c)),
            torch_forward=lambda m, x, h, c: m(x, (h, c)),
        )
    else:
        check_module_parity(ours, theirs, [_x(T, B, IN), h0])


@pytest.mark.torch
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_matches_torch(name):
    ours, theirs = _pair(name, num_layers=2, bidirectional=True)
    if name == "LSTM":
        fwd = lambda m, x, h, c: m(x, (h, c))  # noqa: E731
        check_module_parity(
            ours,
            theirs,
            [_x(T, IN), _x(4, HID, seed=1), _x(4, HID, seed=2)],
            forward=fwd,
            torch_forward=fwd,
        )
    else:
        check_module_parity(ours, theirs, [_x(T, IN), _x(4, HID, seed=1)])


@pytest.mark.torch
@pytest.mark.parametrize("name", ["RNNCell", "GRUCell", "LSTMCell"])
@pytest.mark.parametrize("batched", [True, False])
def test_cells_match_torch(name, batched):
    torch.manual_seed(0)
    ours, theirs = getattr(nn, name)(IN, HID), getattr(torch.nn, name)(IN, HID)
    lead = (B,) if batched else ()
    x, h, c = _x(*lead, IN), _x(*lead, HID, seed=1), _x(*lead, HID, seed=2)
    if name == "LSTMCell":
        fwd = lambda m, x, h, c: m(x, (h, c))  # noqa: E731
        check_module_parity(ours, theirs, [x, h, c], forward=fwd, torch_forward=fwd)
        check_module_parity(ours, theirs, [x])  # zero initial state
    else:
        check_module_parity(ours, theirs, [x, h])
        check_module_parity(ours, theirs, [x])


@pytest.mark.torch
def test_relu_cell_and_no_bias_cell_match_torch():
    torch.manual_seed(0)
    check_module_parity(
        nn.RNNCell(IN, HID, nonlinearity="relu"),
        torch.nn.RNNCell(IN, HID, nonlinearity="relu"),
        [_x(B, IN)],
    )
    check_module_parity(
        nn.GRUCell(IN, HID, bias=False), torch.nn.GRUCell(IN, HID, bias=False), [_x(B, IN)]
    )


@pytest.mark.torch
def test_torch_lstm_state_dict_loads_directly():
    theirs = torch.nn.LSTM(IN, HID, num_layers=2, bidirectional=True, proj_size=2)
    ours = nn.LSTM(IN, HID, num_layers=2, bidirectional=True, proj_size=2)
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(ours.state_dict()) == list(state)  # same names, same order
    ours.load_state_dict(state)
    x = _x(T, B, IN)
    out, (_, c) = ours(axon.tensor(x))
    t_out, (_, t_c) = theirs(torch.tensor(x))
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(c.data, t_c.detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.torch
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_saturated_gates_match_torch_without_overflow(name):
    x = 200 * _x(T, B, IN)  # sigmoid arguments far beyond exp's float32 range
    check_module_parity(*_pair(name), [x], atol=1e-4)


# ------------------------------------------------------------ BPTT in float64
def _scan_case(scan, gates, reverse, with_c=False):
    def fn(xw, w, b, h0, *c0):
        if scan is LSTMScan:
            return scan.apply(xw, w, b, h0, c0[0], None, reverse)
        if scan is RNNScan:
            return scan.apply(xw, w, b, h0, False, reverse)
        return scan.apply(xw, w, b, h0, reverse)

    shapes = [(4, 2, gates * 3), (gates * 3, 3), (gates * 3,), (2, 3)] + (
        [(2, 3)] if with_c else []
    )
    return fn, shapes


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("scan, gates", [(RNNScan, 1), (LSTMScan, 4), (GRUScan, 3)])
def test_scan_gradients_against_finite_differences(scan, gates, reverse):
    fn, shapes = _scan_case(scan, gates, reverse, with_c=scan is LSTMScan)
    check_op(fn, None, None, [shapes])


def test_lstm_projection_gradients_against_finite_differences():
    def fn(xw, w, b, h0, c0, w_hr):
        return LSTMScan.apply(xw, w, b, h0, c0, w_hr, True)

    check_op(fn, None, None, [[(3, 2, 12), (12, 2), (12,), (2, 2), (2, 3), (2, 3)]])


def test_relu_rnn_gradients_against_finite_differences():
    lstm = nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bidirectional=True).double()
    x = axon.tensor(np.random.default_rng(0).standard_normal((4, 2, 3)), requires_grad=True)
    assert gradcheck(lambda x: lstm(x), [x], atol=1e-6, rtol=1e-5)


# ------------------------------------------------------------ behaviour
def test_outputs_and_grads_stay_float32():
    lstm = nn.LSTM(IN, HID, num_layers=2)
    x = axon.tensor(_x(T, B, IN), requires_grad=True)
    out, (h, c) = lstm(x)
    assert out.dtype == h.dtype == c.dtype == np.float32
    (out.sum() + c.sum()).backward()
    assert x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in lstm.parameters())


def test_init_is_uniform_within_one_over_sqrt_hidden():
    axon.manual_seed(0)
    gru = nn.GRU(IN, 100, num_layers=2)
    bound = 1 / math.sqrt(100)
    values = np.concatenate([p.data.ravel() for p in gru.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.9 * bound and values.max() > 0.9 * bound


def test_dropout_between_layers_only_in_training():
    axon.manual_seed(0)
    lstm = nn.LSTM(IN, HID, num_layers=2, dropout=0.5)
    x = axon.tensor(_x(T, B, IN))
    axon.manual_seed(1)
    a, _ = lstm(x)
    axon.manual_seed(1)
    b, _ = lstm(x)
    c, _ = lstm(x)
    np.testing.assert_array_equal(a.data, b.data)  # same seed, same masks
    assert not np.allclose(a.data, c.data)
    lstm.eval()
    e1, _ = lstm(x)
    lstm.dropout = 0.0
    lstm.train()
    e2, _ = lstm(x)
    np.testing.assert_array_equal(e1.data, e2.data)  # eval == no dropout


def test_step_by_step_cells_equal_the_layer():
    axon.manual_seed(0)
    gru, cell = nn.GRU(IN, HID), nn.GRUCell(IN, HID)
    cell.load_state_dict({k.removesuffix("_l0"): v for k, v in gru.state_dict().items()})
    x = axon.tensor(_x(T, B, IN))
    out, h_n = gru(x)
    h = None
    for t in range(T):
        h = cell(x[t], h)
        np.testing.assert_allclose(h.data, out.data[t], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(h.data, h_n.data[0], rtol=1e-6, atol=1e-6)


def test_second_derivative_raises_naming_the_layer():
    rnn = nn.LSTM(IN, HID)
    x = axon.tensor(_x(T, B, IN), requires_grad=True)
    out, _ = rnn(x)
    (g,) = axon.autograd.grad(out.sum(), [x], create_graph=True)
    with pytest.raises(NotImplementedError, match="LSTMScan"):
        g.sum().backward()


def test_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"LSTM\(input_size=4\): input has 5 features"):
        nn.LSTM(IN, HID)(axon.randn(T, B, 5))
    with pytest.raises(ValueError, match=r"GRU: expected h_0 of shape \(2, 3, 6\)"):
        nn.GRU(IN, HID, num_layers=2)(axon.randn(T, B, IN), axon.randn(1, B, HID))
    with pytest.raises(ValueError, match="LSTM: hx must be a tuple"):
        nn.LSTM(IN, HID)(axon.randn(T, B, IN), axon.randn(1, B, HID))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(IN, HID, nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"LSTMCell\(input_size=4\)"):
        nn.LSTMCell(IN, HID)(axon.randn(B, 7))
    with pytest.raises(ValueError, match="proj_size"):
        nn.LSTM(IN, HID, proj_size=HID)


def test_repr():
    assert (
        repr(nn.LSTM(4, 6, num_layers=2, batch_first=True))
        == "LSTM(4, 6, num_layers=2, batch_first=True)"
    )
    assert repr(nn.GRUCell(4, 6, bias=False)) == "GRUCell(4, 6, bias=False)"
