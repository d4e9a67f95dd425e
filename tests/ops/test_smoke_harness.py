import numpy as np
import torch

import axon
from tests.helpers import away_from_zero, check_op


def test_harness_on_mul_and_tanh():
    check_op(lambda a, b: a * b, np.multiply, torch.mul, [((3, 4), (3, 4)), ((2, 1, 3), (4, 1)), ((), (5,))])
    check_op(axon.tanh, np.tanh, torch.tanh, [((3, 4),), ((),), ((1, 5),)])
    check_op(axon.relu, lambda x: np.maximum(x, 0), torch.relu, [((3, 4),)], make_inputs=away_from_zero())
    check_op(lambda x: x.softmax(-1), None, lambda x: x.softmax(-1), [((3, 4),), ((2, 3, 5),)])
