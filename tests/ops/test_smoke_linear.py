import numpy as np
import torch

import axon
from axon import nn
from tests.helpers import check_module_parity, check_op


def test_linear_op_and_module():
    check_op(lambda x, w, b: axon.nn.functional.linear(x, w, b), lambda x, w, b: x @ w.T + b,
             torch.nn.functional.linear, [((4, 3), (5, 3), (5,)), ((2, 4, 3), (5, 3), (5,)), ((3,), (2, 3), (2,))])
    torch.manual_seed(0)
    check_module_parity(nn.Linear(6, 4), torch.nn.Linear(6, 4), [np.random.randn(3, 6).astype(np.float32)])
