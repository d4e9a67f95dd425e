"""Grad modes, detect_anomaly, gradcheck and user-defined Functions."""

import numpy as np
import pytest

import axon
from axon.autograd import Function, gradcheck


# ----------------------------------------------------------------- grad modes
def _records():
    x = axon.ones(2, requires_grad=True)
    return (x * 2).requires_grad


def test_no_grad_context_manager():
    assert axon.is_grad_enabled()
    with axon.no_grad():
        assert not axon.is_grad_enabled()
        assert not _records()
    assert axon.is_grad_enabled() and _records()


def test_enable_grad_inside_no_grad_and_nesting():
    with axon.no_grad():
        with axon.enable_grad():
            assert _records()
        assert not _records()
        with axon.set_grad_enabled(True):
            assert _records()
    with axon.set_grad_enabled(False):
        assert not _records()
    assert _records()


def test_modes_restore_after_an_exception():
    with pytest.raises(ValueError), axon.no_grad():
        raise ValueError
    assert axon.is_grad_enabled()


def test_modes_as_decorators():
    @axon.no_grad()
    def infer():
        """Docstring kept."""
        return _records()

    @axon.enable_grad()
    def train():
        return _records()

    @axon.set_grad_enabled(False)
    def frozen():
        return _records()

    @axon.inference_mode()
    def inference():
        return _records()

    assert axon.is_grad_enabled()  # decorating doesn't switch anything
    assert infer() is False and infer.__name__ == "infer" and infer.__doc__ == "Docstring kept."
    assert frozen() is False and inference() is False
    with axon.no_grad():
        assert train() is True
        assert not axon.is_grad_enabled()
    assert axon.is_grad_enabled()


def test_no_grad_as_a_bare_decorator_like_torch():
    @axon.no_grad
    def infer(a, b=1):
        return _records(), a + b

    assert infer(1, b=2) == (False, 3)
    assert axon.is_grad_enabled()


def test_set_grad_enabled_as_a_plain_call_switches_the_mode_like_torch():
    try:
        axon.set_grad_enabled(False)
        assert not axon.is_grad_enabled()
        axon.set_grad_enabled(True)
        assert axon.is_grad_enabled()
    finally:
        axon.set_grad_enabled(True)


def test_no_grad_results_are_leaves():
    x = axon.ones(2, requires_grad=True)
    with axon.no_grad():
        y = x * 2
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None


# ------------------------------------------------------------ detect_anomaly
def test_detect_anomaly_names_the_op_that_made_nan_in_forward():
    x = axon.tensor([1.0, -1.0], requires_grad=True)
    with (
        np.errstate(invalid="ignore"),
        axon.detect_anomaly(),
        pytest.raises(FloatingPointError) as info,
    ):
        axon.log(x)
    message = str(info.value)
    assert message.startswith("Log: forward output has 1 NaN")
    assert "test_modes_and_checks.py" in message  # where the op was called


def test_detect_anomaly_names_the_op_whose_gradient_is_inf():
    x = axon.tensor([0.0, 1.0], requires_grad=True)
    message = r"SqrtBackward: an input gradient has 0 NaN and 1 Inf"
    with axon.detect_anomaly():
        y = x.sqrt() * 2
        with pytest.raises(FloatingPointError, match=message) as info, np.errstate(divide="ignore"):
            y.sum().backward()
    assert "x.sqrt()" in str(info.value)  # the forward call site is reported


def test_without_detect_anomaly_nan_passes_silently():
    x = axon.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        x.sqrt().sum().backward()
    assert np.isinf(x.grad.data[0])
    assert not axon.autograd.anomaly.is_anomaly_enabled()


# -------------------------------------------------------- Function, gradcheck
class Cube(Function):
    def forward(self, x):
        self.save_for_backward(x)
        return x**3

    def backward(self, grad):
        (x,) = self.saved_tensors
        return grad * 3 * x * x


class WrongScale(Function):
    """a * b with a deliberately wrong gradient for b."""

    def forward(self, a, b):
        self.save_for_backward(a, b)
        return a * b

    def backward(self, grad):
        a, b = self.saved_tensors
        return grad * b, grad * a * 1.01


def test_custom_function():
    x = axon.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = Cube.apply(x)
    assert repr(y.grad_fn) == "<CubeBackward>"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]
    x2 = axon.tensor([0.3, -0.7], dtype=np.float64, requires_grad=True)
    (g,) = axon.autograd.grad(Cube.apply(x2).sum(), x2, create_graph=True)
    (h,) = axon.autograd.grad(
        g.sum(), x2
    )  # backward written with Tensor ops: double backward for free
    np.testing.assert_allclose(h.data, 6 * x2.data)


def test_gradcheck_passes_on_correct_ops():
    rng = np.random.default_rng(0)
    a = axon.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = axon.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    assert gradcheck(lambda a, b: (a @ b).tanh(), (a, b)) is True
    assert gradcheck(Cube.apply, (a,)) is True
    assert gradcheck(lambda x: x.split(2, 1), a) is True  # several outputs


def test_gradcheck_fails_on_a_wrong_function_naming_the_input_and_element():
    rng = np.random.default_rng(0)
    a = axon.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    b = axon.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    with pytest.raises(
        AssertionError,
        match=r"gradcheck failed for input 1 \(shape \(2, 3\)\): at element \(\d, \d\)",
    ):
        gradcheck(WrongScale.apply, (a, b))
    assert gradcheck(WrongScale.apply, (a, b), raise_exception=False) is False
    assert gradcheck(WrongScale.apply, (a, b.detach())) is True  # input 0's gradient is right


def test_gradcheck_skips_outputs_that_are_not_differentiable():
    x = axon.tensor(np.array([1.0, -2.0]), requires_grad=True)
    # a constant float output and an integer one in front of the differentiable ones
    assert gradcheck(lambda t: (axon.ones(3, dtype=np.float64), t.argmax(), t * 2, t.sin()), (x,))


def test_gradcheck_input_checks():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(axon.tanh, (axon.ones(2, requires_grad=True),))
    with pytest.raises(ValueError, match="no input has requires_grad"):
        gradcheck(axon.tanh, (axon.ones(2, dtype=np.float64),))


def test_backward_returning_a_wrong_shape_is_reported():
    class Bad(Function):
        def forward(self, x):
            return x.sum()

        def backward(self, grad):
            return grad

    x = axon.ones(3, requires_grad=True)
    message = r"BadBackward returned a gradient of shape \(\) for an input of shape \(3,\)"
    with pytest.raises(RuntimeError, match=message):
        Bad.apply(x).backward()
