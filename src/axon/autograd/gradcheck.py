"""``gradcheck``: compare autograd's gradients with float64 central differences.

For a function f and a random direction v over its outputs, the scalar
L(x) = sum(v * f(x)) has gradient dL/dx_i = (L(x + eps e_i) - L(x - eps e_i)) / (2 eps)
+ O(eps^2). Projecting on a random v checks every output at the cost of one
backward pass, and needs 2 forward passes per input element.
"""

from __future__ import annotations

import numpy as np


def gradcheck(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check ``fn``'s analytical gradients against finite differences.

    Args:
        fn: function of Tensors returning a Tensor or a tuple of Tensors.
        inputs: tuple of Tensors; those with ``requires_grad`` are checked and
            should be float64 (float32 differences are too coarse to be useful).
        eps: finite-difference step.
        atol, rtol: pass when |analytical - numerical| <= atol + rtol * |numerical|.
        raise_exception: raise ``AssertionError`` naming the input and worst
            element on failure (else return False).

    Returns:
        True when every checked input passes.
    """
    from axon.autograd import grad as autograd_grad
    from axon.autograd.grad_mode import no_grad
    from axon.tensor import Tensor

    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 inputs")

    def outputs_of(args):
        out = fn(*args)
        return out if isinstance(out, (tuple, list)) else (out,)

    first = outputs_of(inputs)
    # the differentiable outputs, by position: under no_grad (below) none requires grad
    keep = [k for k, o in enumerate(first) if isinstance(o, Tensor) and o.requires_grad]
    outs = [first[k] for k in keep]
    rng = np.random.default_rng(seed)
    directions = [rng.standard_normal(o.shape) for o in outs]

    def projected(args):
        with no_grad():
            values = outputs_of(args)
        return sum(float(np.sum(v * values[k].data)) for v, k in zip(directions, keep, strict=True))

    analytical = autograd_grad(
        outs, [inputs[i] for i in checked], [Tensor(v) for v in directions], allow_unused=True
    )
    for i, g in zip(checked, analytical, strict=True):
        x = inputs[i]
        numeric = np.zeros(x.shape)
        if not x.data.flags.c_contiguous:
            x.data = np.ascontiguousarray(x.data)
        flat = x.data.reshape(-1)  # a view: perturb in place, restore after
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = projected(inputs)
            flat[k] = orig - eps
            minus = projected(inputs)
            flat[k] = orig
            numeric.reshape(-1)[k] = (plus - minus) / (2 * eps)
        got = np.zeros(x.shape) if g is None else g.data
        error = np.abs(got - numeric)
        bound = atol + rtol * np.abs(numeric)
        if np.all(error <= bound):
            continue
        worst = np.unravel_index(np.argmax(error - bound), x.shape) if x.ndim else ()
        message = (
            f"gradcheck failed for input {i} (shape {x.shape}): at element {tuple(map(int, worst))} "
            f"analytical {got[worst]:.10g} vs numerical {numeric[worst]:.10g} "
            f"(|diff| {error[worst]:.3g} > atol {atol} + rtol {rtol} * |numerical|)"
        )
        if raise_exception:
            raise AssertionError(message)
        return False
    return True
