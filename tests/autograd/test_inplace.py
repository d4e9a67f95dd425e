"""In-place ops and version counters: what autograd allows, what it catches."""

import numpy as np
import pytest
import torch

import axon


def test_modifying_a_saved_input_makes_backward_raise():
    w = axon.tensor([1.0, 2.0], requires_grad=True)
    x = axon.tensor([3.0, 4.0])
    y = w * x  # mul saves x for w's gradient
    x.add_(1)
    with pytest.raises(RuntimeError, match=r"MulBackward: .*modified in place") as info:
        y.sum().backward()
    assert "shape (2,)" in str(info.value)


def test_modifying_a_saved_output_makes_backward_raise():
    x = axon.tensor([0.5, 1.0], requires_grad=True)
    y = (x * 2).tanh()  # tanh saves its output
    with axon.no_grad():
        y.mul_(2)  # outside the graph: written into the saved array itself
    with pytest.raises(RuntimeError, match=r"TanhBackward.*modified in place"):
        y.sum().backward()


def test_in_place_inside_the_graph_never_overwrites_saved_values():
    # PyTorch raises here (it overwrote h's memory); axon re-points h to a new
    # array, so the gradient of what was computed is still exact
    a = np.array([1.0, 2.0])
    x = axon.tensor(a, requires_grad=True)
    h = x * 2
    z = h * h
    y = z.tanh()
    h += 1
    y.mul_(3)  # the output tanh saved is untouched too
    assert h.tolist() == [3.0, 5.0]
    (z.sum() + y.sum()).backward()
    tx = torch.tensor(a, requires_grad=True)
    th = tx * 2
    tz = th * th
    (tz.sum() + 3 * tz.tanh().sum()).backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6)


def test_in_place_op_saving_its_own_input():
    # mul_ / div_ / pow_ save the tensor they modify: the value before the op
    a = np.array([0.5, 1.5, -2.0])
    x = axon.tensor(a, requires_grad=True)
    h = x.exp()
    h.mul_(h)
    h.pow_(1.5)
    h.div_(x)
    h *= x
    h.sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    th = tx.exp()
    th = th * th
    th = th**1.5 / tx * tx
    th.sum().backward()
    np.testing.assert_allclose(h.data, th.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-5)


def test_in_place_in_graph_keeps_shape_and_dtype():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    h.add_(axon.tensor([1.0, 1.0], dtype=np.float64))
    assert h.dtype == np.float32  # as PyTorch: the in-place result keeps the tensor's dtype
    with pytest.raises(
        TypeError, match=r"add_: can't write a result of dtype float32 and shape \(3, 2\)"
    ):
        h.add_(axon.ones(3, 1))
    h.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0]


def test_copy_into_a_non_leaf_does_not_alias_the_source():
    w = axon.tensor([1.0, 2.0], requires_grad=True)
    h = axon.zeros(2, requires_grad=True) * 1
    h.copy_(w)
    assert not np.shares_memory(h.data, w.data)
    (h * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]
    buf = axon.zeros(2, 3)
    buf.copy_(w.detach().reshape(2, 1))  # broadcasts, written in place
    assert buf.tolist() == [[1.0] * 3, [2.0] * 3]


def test_modifying_through_a_view_of_a_saved_tensor_raises():
    w = axon.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    x = axon.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = w * x.reshape(4)  # the reshape (a view) is saved by mul
    x[0, 0] = 10.0  # written through the base
    with pytest.raises(RuntimeError, match="modified in place"):
        y.sum().backward()


@pytest.mark.parametrize(
    "op",
    [
        lambda t: t.add_(1),
        lambda t: t.sub_(1),
        lambda t: t.mul_(2),
        lambda t: t.div_(2),
        lambda t: t.pow_(2),
        lambda t: t.zero_(),
        lambda t: t.fill_(3.0),
        lambda t: t.clamp_(0, 1),
        lambda t: t.copy_(axon.ones(3)),
        lambda t: t.masked_fill_(axon.tensor([True, False, True]), 0.0),
        lambda t: t.__setitem__(0, 5.0),
        lambda t: t.__iadd__(1),
        lambda t: t.__isub__(1),
        lambda t: t.__imul__(2),
        lambda t: t.__itruediv__(2),
    ],
)
def test_in_place_on_a_leaf_that_requires_grad_raises(op):
    x = axon.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"leaf tensor that requires grad.*no_grad"):
        op(x)
    assert x.tolist() == [1.0, 2.0, 3.0] and x._version == 0


def test_in_place_on_a_non_leaf_gives_correct_gradients():
    a = np.array([0.5, -1.0, 2.0, 0.25])
    x = axon.tensor(a, requires_grad=True)
    w = axon.tensor(a[::-1].copy(), requires_grad=True)
    h = x * 2
    h.add_(w)
    h.mul_(w)
    h[1] = h[0] * 3
    h.clamp_(-2.0, 5.0)
    h.sub_(1, alpha=0.5)
    h.div_(w)
    out = h.sin()
    out += h
    out.sum().backward()

    tx = torch.tensor(a, requires_grad=True)
    tw = torch.tensor(a[::-1].copy(), requires_grad=True)
    th = tx * 2
    th.add_(tw)
    th.mul_(tw)
    th[1] = th[0] * 3
    th.clamp_(-2.0, 5.0)
    th.sub_(1, alpha=0.5)
    th.div_(tw)
    tout = th.sin()
    tout += th
    tout.sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(w.grad.data, tw.grad.numpy(), rtol=1e-6)


def test_in_place_under_no_grad_on_a_leaf_updates_and_bumps_the_version():
    w = axon.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    array = w.data
    v0 = w._version
    with axon.no_grad():
        w -= 0.1 * w.grad
        w.mul_(2)
    assert w.data is array  # updated in place: optimizers and views see it
    np.testing.assert_allclose(w.data, [(1 - 0.2) * 2, (2 - 0.4) * 2], rtol=1e-6)
    assert w._version == v0 + 2
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


def test_in_place_on_a_tensor_outside_any_graph():
    x = axon.zeros(3)
    x += 1
    x[1:] *= 2  # a view of a tensor without grad, written in place
    assert x.tolist() == [1.0, 2.0, 2.0]
    i = axon.tensor([1, 2])
    with pytest.raises(TypeError, match="add_"):
        i.add_(0.5)  # float result can't be stored in int64, as PyTorch


def test_views_share_the_version_counter():
    x = axon.zeros(2, 3)
    views = [
        x[0],
        x.reshape(6),
        x.T,
        x.view(3, 2),
        x.unsqueeze(0),
        x.expand(4, 2, 3),
        x.detach(),
        x.transpose(0, 1),
        x[:, 1:],
        x.split(1, 0)[1],
        x.squeeze(),
    ]
    assert all(v._version == 0 for v in views)
    x.add_(1)
    assert all(v._version == 1 for v in views)
    views[0].mul_(3)  # through a view: the base sees the value and the bump
    assert x._version == 2 and x.tolist() == [[3.0] * 3, [1.0] * 3]
    assert all(v._version == 2 for v in views)
    fancy = x[[0, 1]]  # advanced indexing copies: its own counter
    x.add_(1)
    assert fancy._version == 0


def test_setitem_value_tensor_is_saved_by_value():
    # the value written by x[i] = v is copied: changing v later doesn't matter
    x = axon.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = axon.tensor([9.0])
    h = x * 1
    h[0:1] = v
    v.add_(1)
    h.sum().backward()
    assert h.tolist() == [9.0, 2.0, 3.0] and x.grad.tolist() == [0.0, 1.0, 1.0]


def test_uniform_and_normal_fill_in_place():
    axon.manual_seed(0)
    x = axon.empty(1000)
    x.uniform_(-2, 3)
    assert x.data.min() >= -2 and x.data.max() < 3 and x.dtype == np.float32
    x.normal_(1.0, 0.5)
    assert abs(x.data.mean() - 1.0) < 0.1 and abs(x.data.std() - 0.5) < 0.1
    assert x._version == 2
