"""``Module.summary()``: each leaf layer's output shape and parameter count."""

from __future__ import annotations

import numpy as np

from axon.autograd.grad_mode import no_grad
from axon.tensor import Tensor


def _shape_of(output):
    if isinstance(output, Tensor):
        return tuple(output.shape)
    if isinstance(output, (tuple, list)):
        return [_shape_of(o) for o in output]
    return "-"


def summarize(model, example_inputs: tuple, input_shape=None) -> str:
    """Run one forward pass with hooks on every leaf module and tabulate what they saw."""
    if not example_inputs:
        if input_shape is None:
            raise ValueError("summary: pass example inputs or input_shape=(...)")
        example_inputs = (Tensor._make(np.zeros(input_shape, dtype=np.float32)),)
    rows = []
    handles = []
    for name, module in model.named_modules():
        if next(module.children(), None) is not None:
            continue
        n_params = sum(p.numel() for p in module.parameters(recurse=False))

        def record(mod, args, output, name=name, n_params=n_params):
            rows.append(
                (name or type(mod).__name__, type(mod).__name__, _shape_of(output), n_params)
            )

        handles.append(module.register_forward_hook(record))
    try:
        with no_grad():
            model(*example_inputs)
    finally:
        for h in handles:
            h.remove()
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    header = f"{'Layer (type)':<40}{'Output shape':<28}{'Param #':>12}"
    lines = [header, "=" * len(header)]
    for name, kind, shape, n in rows:
        lines.append(f"{f'{name} ({kind})':<40}{shape!s:<28}{n:>12,}")
    lines += [
        "=" * len(header),
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
    ]
    return "\n".join(lines)
