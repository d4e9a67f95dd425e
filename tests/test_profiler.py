"""axon.autograd.profiler: per-op time and call counts, forward and backward."""

from __future__ import annotations

import numpy as np
import pytest

import axon
from axon.autograd import function as function_module
from axon.autograd.profiler import OpStats, profile, record_function
from axon.nn import functional as F


def _mlp_step():
    rng = np.random.default_rng(0)
    x = axon.tensor(rng.standard_normal((8, 5)).astype(np.float32))
    w1 = axon.tensor(rng.standard_normal((16, 5)).astype(np.float32), requires_grad=True)
    w2 = axon.tensor(rng.standard_normal((3, 16)).astype(np.float32), requires_grad=True)
    target = axon.tensor(np.array([0, 1, 2, 0, 1, 2, 0, 1]))
    loss = F.cross_entropy(F.linear(F.relu(F.linear(x, w1)), w2), target)
    loss.backward()
    return w1, w2


def test_counts_every_op_forward_and_backward():
    with profile() as prof:
        _mlp_step()
    ops = prof.ops
    assert ops["Linear"].forward_calls == 2
    assert ops["Linear"].backward_calls == 2
    assert ops["Relu"].forward_calls == 1 and ops["Relu"].backward_calls == 1
    assert ops["CrossEntropy"].forward_calls == 1 and ops["CrossEntropy"].backward_calls == 1
    assert ops["AccumulateGrad"].backward_calls == 2  # w1 and w2
    assert all(isinstance(s, OpStats) for s in ops.values())
    assert all(s.forward_time >= 0 and s.backward_time >= 0 for s in ops.values())


def test_times_add_up_to_at_most_the_wall_time():
    with profile() as prof:
        _mlp_step()
    assert prof.total_time > 0
    assert 0 < prof.op_time <= prof.total_time * 1.01


def test_ops_inside_a_backward_are_not_counted_as_forwards():
    # Mul's backward multiplies with Tensor ops: that work belongs to MulBackward
    x = axon.randn(4, requires_grad=True)
    with profile() as prof:
        (x * x).sum().backward()
    assert prof.ops["Mul"].forward_calls == 1
    assert prof.ops["Mul"].backward_calls == 1


def test_table_lists_ops_sorted_by_time_and_the_total():
    with profile() as prof:
        _mlp_step()
    table = prof.table()
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["op", "fwd", "calls"]
    assert "Linear" in table and "CrossEntropy" in table
    assert "total" in lines[-1]
    rows = lines[2:-2]
    totals = [float(r.split()[-2]) for r in rows]
    assert totals == sorted(totals, reverse=True)
    assert len(prof.table(limit=2).splitlines()) == 2 + 2 + 2
    assert prof.table(sort_by="calls")
    with pytest.raises(ValueError, match="sort_by"):
        prof.table(sort_by="name")


def test_record_function_times_a_region_and_absorbs_its_ops():
    x = axon.randn(3, requires_grad=True)
    with profile() as prof:
        with record_function("my region"):
            y = x * 2
        y.sum().backward()
    assert prof.ops["my region"].forward_calls == 1
    assert "Mul" not in prof.ops or prof.ops["Mul"].forward_calls == 0
    with record_function("no profile open"):  # a no-op outside a profile
        pass


def test_profiles_nest_and_switch_off_completely():
    x = axon.randn(3, requires_grad=True)
    with profile() as outer:
        x * 2
        with profile() as inner:
            x * 3
        x * 4
    assert inner.ops["Mul"].forward_calls == 1
    assert outer.ops["Mul"].forward_calls == 2
    assert function_module._PROFILER is None
    x * 5  # nothing is recorded once every profile is closed
    assert outer.ops["Mul"].forward_calls == 2


def test_exported_from_utils():
    from axon import utils

    assert utils.profile is profile
    assert utils.record_function is record_function
