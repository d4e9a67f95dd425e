"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_``.

One implementation, in ``axon.nn.utils`` (where PyTorch keeps it too):
``nn`` sits below ``optim`` in axon's layers (DESIGN.md), so ``nn`` can't
import it from here; ``axon.optim`` re-exports it so that the training loop
finds clipping next to the optimizer::

    loss.backward()
    total_norm = axon.optim.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
"""

from axon.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_"]
