"""The shared harness every op and layer goes through.

``check_op`` checks one op over several input shapes:
  1. forward (float64) against a NumPy reference;
  2. gradients (float64) against central finite differences (``gradcheck``);
  3. the same results for non-contiguous inputs;
  4. when PyTorch is importable: float32 forward and gradients against
     PyTorch, and that axon kept float32 (no silent float64 upcast).

``check_module_parity`` copies a PyTorch module's weights into the matching
axon module through ``load_state_dict`` (so the parameter names must match
PyTorch's), then compares outputs, input gradients and every parameter's
gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

import axon
from axon.autograd import gradcheck

try:
    import torch

    HAVE_TORCH = True
except ImportError:  # pragma: no cover - CI installs torch
    torch = None
    HAVE_TORCH = False

requires_torch = pytest.mark.skipif(
    not HAVE_TORCH, reason="PyTorch is not installed (parity oracle)"
)


def _flat(out) -> list:
    if isinstance(out, (tuple, list)):
        return [o for item in out for o in _flat(item)]
    return [out]


def uniform_inputs(domain=(-2.0, 2.0)):
    """Input maker: float64 uniform values in ``domain`` for each shape."""

    def make(rng, shapes):
        return [rng.uniform(*domain, size=s) for s in shapes]

    return make


DEFAULT_INPUTS = uniform_inputs()  # float64 uniform on [-2, 2]


def away_from_zero(low=0.2, high=2.0):
    """Input maker: values with |x| in [low, high] and random sign (avoids kinks at 0)."""

    def make(rng, shapes):
        return [rng.uniform(low, high, size=s) * rng.choice([-1, 1], size=s) for s in shapes]

    return make


def noncontiguous(a: np.ndarray) -> np.ndarray:
    """The same values as ``a`` in a non-contiguous array (every other element of a wider one)."""
    if a.ndim == 0:
        return a
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    wide[..., ::2] = a
    return wide[..., ::2]


def check_op(
    axon_fn: Callable,
    numpy_fn: Callable | None,
    torch_fn: Callable | None,
    cases: Sequence[Sequence[tuple]],
    make_inputs: Callable = DEFAULT_INPUTS,
    nondiff: Sequence[int] = (),
    rtol64: float = 1e-6,
    atol64: float = 1e-7,
    rtol32: float = 1e-5,
    atol32: float = 1e-6,
    seed: int = 0,
) -> None:
    """Check an op for every case (a case is a tuple of input shapes).

    Args:
        axon_fn, numpy_fn, torch_fn: the op in each library, taking the inputs
            positionally (numpy_fn may be None when there is no simple reference).
        make_inputs: ``make(rng, shapes) -> list of arrays``; float arrays are
            made differentiable unless their index is in ``nondiff``.
    """
    rng = np.random.default_rng(seed)
    for shapes in cases:
        arrays = make_inputs(rng, shapes)
        is_float = [a.dtype.kind == "f" and i not in nondiff for i, a in enumerate(arrays)]
        _check_forward(axon_fn, numpy_fn, arrays, shapes)
        if any(is_float):
            _check_gradients(axon_fn, arrays, is_float, rtol64, atol64, shapes)
            _check_noncontiguous(axon_fn, arrays, is_float, shapes)
        if HAVE_TORCH and torch_fn is not None:
            _check_torch(axon_fn, torch_fn, arrays, is_float, rtol32, atol32, shapes, rng)


def _tensors(arrays, is_float=None, dtype=None, requires_grad=False):
    out = []
    for i, a in enumerate(arrays):
        if a.dtype.kind == "f" and dtype is not None:
            a = a.astype(dtype)
        grad = requires_grad and is_float is not None and is_float[i]
        out.append(axon.Tensor(a, requires_grad=grad))
    return out


def _check_forward(axon_fn, numpy_fn, arrays, shapes):
    outs = _flat(axon_fn(*_tensors(arrays)))
    if numpy_fn is None:
        return
    refs = _flat(numpy_fn(*arrays))
    assert len(outs) == len(refs), f"{shapes}: {len(outs)} outputs vs {len(refs)} in the reference"
    for o, r in zip(outs, refs, strict=True):
        np.testing.assert_allclose(
            o.data, r, rtol=1e-7, atol=1e-10, err_msg=f"forward, shapes {shapes}"
        )
        assert o.shape == np.shape(r), (
            f"forward shape {o.shape} != reference {np.shape(r)} for {shapes}"
        )


def _check_gradients(axon_fn, arrays, is_float, rtol, atol, shapes):
    inputs = _tensors(arrays, is_float, requires_grad=True)

    def fn(*xs):
        return tuple(o for o in _flat(axon_fn(*xs)) if o.dtype.kind == "f")

    try:
        gradcheck(fn, inputs, eps=1e-6, atol=atol, rtol=rtol)
    except AssertionError as e:
        raise AssertionError(f"shapes {shapes}: {e}") from None


def _grads_for(axon_fn, arrays, is_float, transform, seed=1):
    inputs = [axon.Tensor(transform(a), requires_grad=is_float[i]) for i, a in enumerate(arrays)]
    outs = [o for o in _flat(axon_fn(*inputs)) if o.requires_grad]
    rng = np.random.default_rng(seed)
    upstream = [axon.Tensor(rng.standard_normal(o.shape)) for o in outs]
    if outs:
        axon.autograd.backward(outs, upstream)
    return [o.data for o in _flat(axon_fn(*_tensors(arrays)))], [
        None if t.grad is None else t.grad.data for t in inputs
    ]


def _check_noncontiguous(axon_fn, arrays, is_float, shapes):
    out_c, grads_c = _grads_for(axon_fn, arrays, is_float, lambda a: a)
    out_n, grads_n = _grads_for(axon_fn, arrays, is_float, noncontiguous)
    for a, b in zip(out_c, out_n, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=f"non-contiguous forward, {shapes}")
    for a, b in zip(grads_c, grads_n, strict=True):
        if a is not None:
            np.testing.assert_allclose(
                a, b, rtol=1e-12, atol=1e-14, err_msg=f"non-contiguous grad, {shapes}"
            )


def _check_torch(axon_fn, torch_fn, arrays, is_float, rtol, atol, shapes, rng):
    inputs = _tensors(arrays, is_float, dtype=np.float32, requires_grad=True)
    t_inputs = []
    for i, a in enumerate(arrays):
        a = a.astype(np.float32) if a.dtype.kind == "f" else a
        t_inputs.append(torch.tensor(a, requires_grad=bool(is_float[i])))
    outs = _flat(axon_fn(*inputs))
    t_outs = _flat(torch_fn(*t_inputs))
    for o, t in zip(outs, t_outs, strict=True):
        if o.dtype.kind == "f":
            assert o.dtype == np.float32, f"{shapes}: axon output is {o.dtype}, expected float32"
        np.testing.assert_allclose(
            o.data,
            t.detach().numpy(),
            rtol=rtol,
            atol=atol,
            err_msg=f"forward vs PyTorch, shapes {shapes}",
        )
    diff = [(o, t) for o, t in zip(outs, t_outs, strict=True) if o.requires_grad]
    if not diff:
        return
    upstream = [rng.standard_normal(o.shape).astype(np.float32) for o, _ in diff]
    axon.autograd.backward([o for o, _ in diff], [axon.Tensor(u) for u in upstream])
    torch.autograd.backward([t for _, t in diff], [torch.tensor(u) for u in upstream])
    for i, (x, tx) in enumerate(zip(inputs, t_inputs, strict=True)):
        if not is_float[i]:
            continue
        t_grad = tx.grad
        if t_grad is None:
            assert x.grad is None or not np.any(x.grad.data), (
                f"{shapes}: input {i} grad should be zero"
            )
            continue
        assert x.grad is not None, f"{shapes}: input {i} got no gradient (PyTorch has one)"
        assert x.grad.dtype == np.float32, (
            f"{shapes}: input {i} grad is {x.grad.dtype}, expected float32"
        )
        np.testing.assert_allclose(
            x.grad.data,
            t_grad.numpy(),
            rtol=rtol,
            atol=atol,
            err_msg=f"gradient of input {i} vs PyTorch, shapes {shapes}",
        )


def check_module_parity(
    module,
    torch_module,
    inputs: Sequence[np.ndarray],
    modes: Sequence[str] = ("train", "eval"),
    rtol: float = 1e-4,
    atol: float = 1e-5,
    forward: Callable | None = None,
    torch_forward: Callable | None = None,
    seed: int = 0,
) -> None:
    """Same weights in both libraries -> same outputs and gradients (float32).

    The torch module's ``state_dict()`` is converted to NumPy and loaded with
    ``module.load_state_dict(..., strict=True)``: key names must equal PyTorch's.
    ``forward(module, *tensors)`` / ``torch_forward(torch_module, *tensors)``
    override how each is called (default: ``module(*inputs)``).
    """
    if not HAVE_TORCH:
        pytest.skip("PyTorch is not installed (parity oracle)")
    module.load_state_dict(
        {k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()}
    )
    forward = forward or (lambda m, *xs: m(*xs))
    torch_forward = torch_forward or (lambda m, *xs: m(*xs))
    for mode in modes:
        module.train(mode == "train")
        torch_module.train(mode == "train")
        xs = [axon.Tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
        txs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in inputs]
        outs = [o for o in _flat(forward(module, *xs)) if isinstance(o, axon.Tensor)]
        t_outs = [
            o for o in _flat(torch_forward(torch_module, *txs)) if isinstance(o, torch.Tensor)
        ]
        assert len(outs) == len(t_outs), f"{mode}: {len(outs)} outputs vs PyTorch's {len(t_outs)}"
        for i, (o, t) in enumerate(zip(outs, t_outs, strict=True)):
            assert o.shape == tuple(t.shape), (
                f"{mode}: output {i} shape {o.shape} vs PyTorch {tuple(t.shape)}"
            )
            np.testing.assert_allclose(
                o.data,
                t.detach().numpy(),
                rtol=rtol,
                atol=atol,
                err_msg=f"{mode}: output {i} vs PyTorch",
            )
        rng = np.random.default_rng(seed)
        pairs = [
            (o, t) for o, t in zip(outs, t_outs, strict=True) if o.requires_grad and t.requires_grad
        ]
        upstream = [rng.standard_normal(o.shape).astype(np.float32) for o, _ in pairs]
        module.zero_grad()
        torch_module.zero_grad()
        if pairs:
            axon.autograd.backward([o for o, _ in pairs], [axon.Tensor(u) for u in upstream])
            torch.autograd.backward([t for _, t in pairs], [torch.tensor(u) for u in upstream])
        for i, (x, tx) in enumerate(zip(xs, txs, strict=True)):
            if tx.grad is not None:
                assert x.grad is not None, f"{mode}: input {i} has no gradient"
                np.testing.assert_allclose(
                    x.grad.data,
                    tx.grad.numpy(),
                    rtol=rtol,
                    atol=atol,
                    err_msg=f"{mode}: gradient of input {i} vs PyTorch",
                )
        t_params = dict(torch_module.named_parameters())
        for name, p in module.named_parameters():
            tp = t_params[name]
            if tp.grad is None:
                assert p.grad is None or not np.any(p.grad.data), (
                    f"{mode}: {name} should have no gradient"
                )
                continue
            assert p.grad is not None, f"{mode}: parameter {name} has no gradient"
            np.testing.assert_allclose(
                p.grad.data,
                tp.grad.numpy(),
                rtol=rtol,
                atol=atol,
                err_msg=f"{mode}: gradient of {name} vs PyTorch",
            )
        for name, b in module.named_buffers():
            tb = dict(torch_module.named_buffers()).get(name)
            if tb is not None and tb.dtype.is_floating_point:
                np.testing.assert_allclose(
                    b.data,
                    tb.numpy(),
                    rtol=rtol,
                    atol=atol,
                    err_msg=f"{mode}: buffer {name} vs PyTorch",
                )
