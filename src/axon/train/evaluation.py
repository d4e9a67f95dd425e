"""``Trainer.evaluate`` and ``Trainer.predict``: the model in eval mode, under ``no_grad``.

Both put the model back in the mode it was in (training, during ``fit``),
even if a batch raises.
"""

from __future__ import annotations

import numpy as np

from axon.autograd.grad_mode import no_grad
from axon.tensor import Tensor
from axon.train.metrics import MetricTracker


def evaluate(trainer, data) -> dict[str, float]:
    """The trainer's metrics (loss first) over every batch of ``data``."""
    if data is None:
        raise ValueError("Trainer.evaluate: no data given and no val_data")
    tracker = MetricTracker(trainer.metric_specs)
    model = trainer.model
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for batch in data:
                inputs, targets = trainer.split_batch(batch)
                outputs = trainer.forward(inputs)
                loss = trainer.loss_fn(outputs, targets)
                tracker.update(outputs, targets, float(loss.item()))
    finally:
        model.train(was_training)
    return tracker.compute()


def predict(trainer, data, batch_size: int = 256) -> Tensor:
    """Outputs for every batch of ``data``, concatenated along the first axis.

    ``data``: batches (``(inputs, targets)`` tuples or bare inputs), or one
    Tensor/array of inputs, cut into batches of ``batch_size``.
    """
    model = trainer.model
    if isinstance(data, (Tensor, np.ndarray)):
        array = data.data if isinstance(data, Tensor) else np.asarray(data)
        data = (Tensor._make(array[i : i + batch_size]) for i in range(0, len(array), batch_size))
    outputs = []
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for batch in data:
                if isinstance(batch, (tuple, list)):
                    inputs = trainer.split_batch(batch)[0] if len(batch) >= 2 else batch[0]
                else:
                    inputs = batch
                outputs.append(trainer.forward(inputs).data)
    finally:
        model.train(was_training)
    if not outputs:
        raise ValueError("Trainer.predict: data gave no batches")
    return Tensor._make(np.concatenate(outputs))
