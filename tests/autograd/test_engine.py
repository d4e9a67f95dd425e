"""The backward engine: long graphs, accumulation, retain_graph, freeing, hooks, grad()."""

import gc
import weakref

import numpy as np
import pytest
import torch

import axon
from axon.autograd import grad


def test_backward_through_a_10000_op_chain():
    x = axon.tensor([0.5, -0.5], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0001**10_000] * 2, rtol=1e-3)
    del y
    gc.collect()


def test_a_deep_graph_is_freed_without_recursion_error():
    x = axon.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(30_000):
        y = y + 1
    del y  # deallocating 30,000 nested nodes must not overflow the C stack
    gc.collect()


def test_gradients_accumulate_over_two_backward_calls():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3 + 2, 3 + 4])


def test_a_tensor_used_several_times():
    x = axon.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * x + x
    y.backward(axon.ones(3))
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 1)
    # and through a diamond: two paths from x meet again
    x.grad = None
    a = x.exp()
    (a * a.sin() + a).sum().backward()
    tx = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    ta = tx.exp()
    (ta * ta.sin() + ta).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy(), rtol=1e-5)


def test_leaf_grad_is_not_aliased_with_user_or_graph_arrays():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    g = axon.tensor([1.0, 1.0])
    (x + 0).backward(g)
    assert x.grad.data is not g.data and not np.shares_memory(x.grad.data, g.data)
    (x + 0).backward(g)
    assert g.tolist() == [1.0, 1.0] and x.grad.tolist() == [2.0, 2.0]
    y = axon.tensor([1.0, 2.0], requires_grad=True)
    z = axon.tensor([3.0, 4.0], requires_grad=True)
    (y + z).sum().backward()  # both leaves receive the same upstream gradient
    y.grad.data += 1
    assert z.grad.tolist() == [1.0, 1.0]


def test_second_backward_without_retain_graph_names_the_op():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    loss = x.tanh().sum()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"TanhBackward.*second time.*retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_a_second_backward():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    loss = (x.tanh() * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.data.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)


def test_saved_arrays_are_freed_after_backward():
    x = axon.randn(64, 32, requires_grad=True)
    w = axon.randn(32, 16, requires_grad=True)
    h = (x @ w).tanh()  # tanh saves its output for backward
    ref = weakref.ref(h.data)
    loss = (h * h).mean()
    del h
    gc.collect()
    assert ref() is not None  # the graph keeps it alive until backward ran
    loss.backward()
    gc.collect()
    assert ref() is None, "the tanh output is still referenced after backward"
    assert loss.item() > 0  # the user still holds loss


def test_index_arrays_are_freed_after_backward():
    x = axon.randn(100, requires_grad=True)
    mask = np.random.default_rng(0).random(100) > 0.5
    rows = np.arange(10)
    refs = [weakref.ref(mask), weakref.ref(rows)]
    loss = (
        (x[mask] ** 2).sum() + axon.index_select(x, 0, rows).sum() + axon.where(x > 0, x, 0.0).sum()
    )
    del mask, rows
    loss.backward()
    gc.collect()
    assert all(r() is None for r in refs)


def test_saved_arrays_are_kept_with_retain_graph():
    x = axon.randn(4, requires_grad=True)
    h = x.exp()
    ref = weakref.ref(h.data)
    loss = h.sum() * 1.0
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    assert ref() is not None


def test_backward_on_non_scalar_needs_a_gradient():
    x = axon.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward.*shape \(2, 3\).*gradient"):
        (x * 2).backward()
    with pytest.raises(ValueError, match="doesn't match"):
        (x * 2).backward(axon.ones(3))
    (x * 2).backward(axon.ones(2, 3))
    assert x.grad.tolist() == [[2.0] * 3] * 2


def test_backward_works_inside_no_grad():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    with axon.no_grad():
        loss.backward()
    assert x.grad.tolist() == [2.0, 4.0]


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        axon.ones(3).sum().backward()


def test_one_element_non_scalar_backward():
    x = axon.tensor([[2.0]], requires_grad=True)
    (x * x).backward()
    assert x.grad.tolist() == [[4.0]]


# ------------------------------------------------------------------- hooks
def test_hook_on_a_leaf_modifies_its_gradient():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]] and x.grad.tolist() == [30.0, 30.0]
    handle.remove()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [33.0, 33.0] and len(seen) == 1


def test_hook_on_a_non_leaf_changes_what_flows_upstream():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * 0.5)
    (y * y).sum().backward()
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    ty = tx * 2
    ty.register_hook(lambda g: g * 0.5)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(x.grad.data, tx.grad.numpy())


def test_hook_returning_none_keeps_the_gradient():
    x = axon.tensor([1.0], requires_grad=True)
    x.register_hook(lambda g: None)
    (x * 4).sum().backward()
    assert x.grad.tolist() == [4.0]


def test_register_hook_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="register_hook"):
        axon.ones(2).register_hook(lambda g: g)


def test_retain_grad():
    x = axon.tensor([0.1, 0.2], requires_grad=True)
    y = x * 3
    z = y.tanh()
    y.retain_grad()
    z.sum().backward()
    assert z.grad is None
    tx = torch.tensor([0.1, 0.2], requires_grad=True)
    ty = tx * 3
    ty.retain_grad()
    ty.tanh().sum().backward()
    np.testing.assert_allclose(y.grad.data, ty.grad.numpy(), rtol=1e-6)
    x.retain_grad()  # on a leaf: a no-op
    assert x.grad is not None


# ------------------------------------------------------------- autograd.grad
def test_grad_returns_without_touching_dot_grad():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    w = axon.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw = grad(y, [x, w])
    assert gx.tolist() == [3.0, 4.0] and gw.tolist() == [1.0, 2.0]
    assert x.grad is None and w.grad is None


def test_grad_allow_unused():
    x = axon.tensor([1.0], requires_grad=True)
    unused = axon.tensor([1.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match=r"input 1 .* was not used.*allow_unused"):
        grad(y, [x, unused], retain_graph=True)
    gx, gu = grad(y, [x, unused], allow_unused=True)
    assert gx.tolist() == [2.0] and gu is None


def test_grad_with_respect_to_an_intermediate_tensor():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    (gh,) = grad(y, h)
    assert gh.tolist() == [6.0, 12.0]
    assert x.grad is None


def test_grad_with_respect_to_an_intermediate_leaves_the_graph_below_intact():
    # as PyTorch: grad(l1, h) doesn't run (or free) TanhBackward, so l2 can still use it
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    h = x.tanh()
    l1, l2 = (h * h).sum(), (h * 3).sum()
    (gh,) = grad(l1, h)
    np.testing.assert_allclose(gh.data, 2 * h.data)
    l2.backward()
    np.testing.assert_allclose(x.grad.data, 3 * (1 - h.data**2), rtol=1e-6)


def test_grad_with_respect_to_an_intermediate_and_a_leaf():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    gh, gx = grad((h * h).sum(), [h, x])
    assert gh.tolist() == [6.0, 12.0] and gx.tolist() == [18.0, 36.0]


def test_backward_on_a_leaf_and_grad_of_a_tensor_by_itself():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    x.backward(axon.tensor([3.0, 4.0]))
    assert x.grad.tolist() == [3.0, 4.0]
    (g,) = grad(x * 2, x, axon.ones(2))
    assert g.tolist() == [2.0, 2.0]


def test_hook_on_a_tensor_used_twice_sees_the_summed_gradient_once():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    calls = []
    h.register_hook(lambda g: calls.append(g.tolist()))
    (h * h + h).sum().backward()
    assert calls == [[3.0, 5.0]]


def test_grad_with_grad_outputs_and_several_outputs():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2, x * x
    (g,) = grad([a, b], x, [axon.tensor([1.0, 1.0]), axon.tensor([0.5, 0.5])])
    assert g.tolist() == [2 + 1.0, 2 + 2.0]


def test_grad_input_without_grad_raises():
    with pytest.raises(RuntimeError, match="input 0"):
        grad(axon.ones(1, requires_grad=True).sum(), axon.ones(1))


def test_backward_inputs_argument():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    w = axon.tensor([3.0, 4.0], requires_grad=True)
    loss = (x * w).sum()
    loss.backward(inputs=[w])
    assert x.grad is None and w.grad.tolist() == [1.0, 2.0]
    loss2 = (x * w).sum()
    loss2.backward(inputs=w)
    assert w.grad.tolist() == [2.0, 4.0]  # accumulates as .backward() does
    # an intermediate tensor in inputs gets a .grad too (as PyTorch)
    h = x * 2
    (h * h).sum().backward(inputs=[h])
    assert h.grad.tolist() == [4.0, 8.0] and x.grad is None


def test_autograd_backward_function_with_several_roots():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    axon.autograd.backward([x * 2, (x * x).sum()], [axon.ones(2), None])
    assert x.grad.tolist() == [2 + 2.0, 2 + 4.0]


def test_grad_fn_names_and_leaves():
    x = axon.tensor([1.0], requires_grad=True)
    y = x * 2
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and repr(y.grad_fn) == "<MulBackward>"
    assert y.grad_fn.name == "MulBackward"
    assert (y + 1).grad_fn.name == "AddBackward"
    c = axon.ones(1) * 2
    assert c.is_leaf and not c.requires_grad


def test_multi_output_op_with_unused_outputs_and_integer_outputs():
    x = axon.tensor([[1.0, 5.0], [7.0, 2.0]], requires_grad=True)
    values, indices = x.max(1)
    assert not indices.requires_grad and indices.tolist() == [1, 0]
    values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0], [1.0, 0.0]]


def test_detach_cuts_the_graph():
    x = axon.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and np.shares_memory(d.data, y.data)
    (y * d).sum().backward()
    assert x.grad.tolist() == [4.0, 8.0]
