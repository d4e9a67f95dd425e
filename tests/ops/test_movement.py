"""Movement ops through the shared harness: reshape, permute, indexing, cat, split, pad, masks."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import axon
import axon.nn.functional as F
from tests.helpers import check_op


def _t(index):
    """The same index for PyTorch (NumPy arrays become torch tensors)."""
    items = index if isinstance(index, tuple) else (index,)
    out = tuple(torch.from_numpy(i) if isinstance(i, np.ndarray) else i for i in items)
    return out if isinstance(index, tuple) else out[0]


# ------------------------------------------------------------------ reshaping
@pytest.mark.parametrize(
    "shape, new",
    [
        ((3, 4), (2, 6)),
        ((3, 4), (-1,)),
        ((2, 3, 4), (6, -1)),
        ((), (1,)),
        ((1,), ()),
        ((2, 1, 3), (3, 2)),
        ((4,), (2, 1, 2)),
    ],
)
def test_reshape_and_view(shape, new):
    check_op(
        lambda x: x.reshape(new), lambda x: x.reshape(new), lambda x: x.reshape(new), [(shape,)]
    )
    check_op(lambda x: x.view(*new), lambda x: x.reshape(new), lambda x: x.reshape(new), [(shape,)])
    check_op(lambda x: axon.reshape(x, new), lambda x: x.reshape(new), None, [(shape,)])


@pytest.mark.parametrize(
    "shape, start, end",
    [((2, 3, 4), 0, -1), ((2, 3, 4), 1, -1), ((2, 3, 4, 2), 1, 2), ((3,), 0, -1), ((), 0, -1)],
)
def test_flatten(shape, start, end):
    check_op(
        lambda x: x.flatten(start, end),
        lambda x: torch.from_numpy(x).flatten(start, end).numpy(),
        lambda x: x.flatten(start, end),
        [(shape,)],
    )


@pytest.mark.parametrize(
    "shape, dim, sizes", [((2, 12), 1, (3, 4)), ((6,), 0, (2, -1)), ((6, 2), -2, (3, 1, 2))]
)
def test_unflatten(shape, dim, sizes):
    def ref(x):
        return torch.from_numpy(x).unflatten(dim, sizes).numpy()

    check_op(lambda x: x.unflatten(dim, sizes), ref, lambda x: x.unflatten(dim, sizes), [(shape,)])


@pytest.mark.parametrize(
    "shape, d0, d1", [((3, 4), 0, 1), ((2, 3, 4), 0, -1), ((2, 3, 4), 1, 1), ((5,), 0, -1)]
)
def test_transpose(shape, d0, d1):
    check_op(
        lambda x: x.transpose(d0, d1),
        lambda x: np.swapaxes(x, d0, d1),
        lambda x: x.transpose(d0, d1),
        [(shape,)],
    )


@pytest.mark.parametrize(
    "shape, dims", [((2, 3, 4), (2, 0, 1)), ((2, 3, 4), (-1, -3, 1)), ((3, 4), (1, 0)), ((), ())]
)
def test_permute(shape, dims):
    check_op(
        lambda x: x.permute(*dims),
        lambda x: np.transpose(x, dims),
        lambda x: x.permute(dims),
        [(shape,)],
    )
    check_op(lambda x: axon.permute(x, dims), lambda x: np.transpose(x, dims), None, [(shape,)])


def test_T_and_mT():
    check_op(lambda x: x.T, lambda x: x.T, lambda x: x.T, [((3, 4),)])
    check_op(
        lambda x: x.T, lambda x: x.T, None, [((5,),), ((2, 3, 4),), ((),)]
    )  # PyTorch deprecates these
    check_op(
        lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), lambda x: x.mT, [((2, 3, 4),), ((3, 4),)]
    )


@pytest.mark.parametrize(
    "shape, dim",
    [
        ((1, 3, 1), None),
        ((1, 3, 1), 0),
        ((1, 3, 1), -1),
        ((1, 3, 1), 1),
        ((1, 3, 1), (0, 2)),
        ((1,), None),
        ((2, 3), None),
    ],
)
def test_squeeze(shape, dim):
    def ref(x):
        return torch.from_numpy(x).squeeze(*(() if dim is None else (dim,))).numpy()

    check_op(
        lambda x: x.squeeze(dim),
        ref,
        lambda x: x.squeeze(*(() if dim is None else (dim,))),
        [(shape,)],
    )


@pytest.mark.parametrize(
    "shape, dim", [((3, 4), 0), ((3, 4), -1), ((3, 4), 1), ((), 0), ((2,), -2)]
)
def test_unsqueeze(shape, dim):
    check_op(
        lambda x: x.unsqueeze(dim),
        lambda x: np.expand_dims(x, dim),
        lambda x: x.unsqueeze(dim),
        [(shape,)],
    )


@pytest.mark.parametrize(
    "shape, target",
    [((3, 1), (2, 3, 4)), ((1,), (5,)), ((), (2, 3)), ((2, 1), (-1, 3)), ((1, 4), (3, 4))],
)
def test_expand_and_broadcast_to(shape, target):
    full = tuple(
        shape[i - (len(target) - len(shape))] if s == -1 else s for i, s in enumerate(target)
    )
    check_op(
        lambda x: x.expand(*target),
        lambda x: np.broadcast_to(x, full),
        lambda x: x.expand(*target),
        [(shape,)],
    )
    check_op(
        lambda x: axon.broadcast_to(x, full),
        lambda x: np.broadcast_to(x, full),
        lambda x: torch.broadcast_to(x, full),
        [(shape,)],
    )


def test_expand_as_view_as():
    check_op(
        lambda a, b: a.expand_as(b) * b,
        lambda a, b: a * b,
        lambda a, b: a.expand_as(b) * b,
        [((3, 1), (3, 4))],
    )
    check_op(
        lambda a, b: a.view_as(b) + b,
        lambda a, b: a.reshape(b.shape) + b,
        lambda a, b: a.view_as(b) + b,
        [((12,), (3, 4))],
    )


# ------------------------------------------------------------------- getitem
BASIC = [
    ((4, 5), 1),
    ((4, 5), -1),
    ((4, 5), (2, 3)),
    ((4, 5), slice(1, 3)),
    ((4, 5), (slice(None), slice(1, None, 2))),
    ((4, 5), (None, 1)),
    ((4, 5), (Ellipsis, 2)),
    ((4, 5), (Ellipsis, None)),
    ((3, 4, 5), (0, Ellipsis, None, slice(1, 4))),
    ((3, 4, 5), (slice(None), None, 2, slice(None))),
    ((5,), slice(10, 20)),  # empty slice
]


@pytest.mark.parametrize("shape, index", BASIC)
def test_getitem_basic(shape, index):
    check_op(lambda x: x[index], lambda x: x[index], lambda x: x[_t(index)], [(shape,)])


NEGATIVE_STEPS = [
    ((5,), slice(None, None, -1)),
    ((4, 5), (slice(None, None, -2), slice(1, None))),
    ((4, 5), (Ellipsis, slice(3, 0, -1))),
    ((3, 4, 5), (1, slice(None, None, -3), slice(-1, None, -2))),
]


@pytest.mark.parametrize("shape, index", NEGATIVE_STEPS)
def test_getitem_negative_steps(shape, index):
    # PyTorch has no negative-step slices: the reference is NumPy, plus float64 gradcheck
    check_op(lambda x: x[index], lambda x: x[index], None, [(shape,)])


_r = np.random.default_rng(7)
ADVANCED = [
    ((4, 5), np.array([0, 2, 0, 0])),  # repeated rows: backward must accumulate
    ((4, 5), (np.array([0, 2, 0]), np.array([1, 1, 1]))),  # the same element three times
    ((4, 5), (np.array([[0, 3], [3, 3]]), slice(1, 4))),
    ((4, 5), (slice(1, 3), np.array([4, 4, 0]))),
    ((3, 4, 5), (slice(None), np.array([1, 1, -1]), slice(None, None, 2))),
    ((3, 4, 5), (np.array([0, 2]), Ellipsis, np.array([4, 4]))),
    ((4, 5), _r.random((4, 5)) < 0.5),  # boolean mask over all dims
    ((4, 5), np.array([True, False, True, True])),  # boolean mask over rows
    ((3, 4, 5), (Ellipsis, np.array([True, False, False, True, True]))),
    ((4, 5), [1, 1, 2]),  # a Python list is an integer array
]


@pytest.mark.parametrize("shape, index", ADVANCED, ids=[f"adv{i}" for i in range(len(ADVANCED))])
def test_getitem_advanced(shape, index):
    np_index = np.asarray(index) if isinstance(index, list) else index
    check_op(lambda x: x[index], lambda x: x[np_index], lambda x: x[_t(np_index)], [(shape,)])


def test_getitem_with_tensor_indices():
    x = axon.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    idx = axon.tensor([2, 2, 0])
    y = x[idx, axon.tensor([1, 1, 3])]
    assert y.tolist() == [9.0, 9.0, 3.0]
    y.sum().backward()
    expected = np.zeros((3, 4))
    expected[2, 1] = 2
    expected[0, 3] = 1
    np.testing.assert_array_equal(x.grad.data, expected)
    mask = x > 5
    np.testing.assert_array_equal(x[mask].data, np.arange(6.0, 12.0))


def test_getitem_float_index_raises():
    with pytest.raises(IndexError):
        axon.ones(3)[axon.tensor([0.0, 1.0])]


# ------------------------------------------------------------------- setitem
SETITEM = [
    ((4, 5), 1, (5,)),
    ((4, 5), (slice(1, 3), slice(None, None, 2)), (2, 3)),
    ((4, 5), (slice(1, 3), slice(None, None, 2)), (3,)),  # value broadcasts
    ((4, 5), np.array([0, 2]), (2, 5)),
    ((4, 5), np.array([True, False, True, False]), (1, 5)),
    ((3, 4, 5), (Ellipsis, 0), ()),
    ((4, 5), (np.array([0, 3]), np.array([1, 4])), (2,)),
]


@pytest.mark.parametrize(
    "shape, index, vshape", SETITEM, ids=[f"set{i}" for i in range(len(SETITEM))]
)
def test_setitem_on_non_leaf(shape, index, vshape):
    def put(x, v):
        y = x * 1.0
        y[index] = v
        return y * 2.0

    def put_t(x, v):
        y = x * 1.0
        y[_t(index)] = v
        return y * 2.0

    def ref(x, v):
        y = x.copy()
        y[index] = v
        return y * 2.0

    check_op(put, ref, put_t, [(shape, vshape)])


def test_setitem_python_scalar_and_into_constant_tensor():
    x = axon.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y[1] = 10.0
    y.sum().backward()
    assert y.tolist() == [2.0, 10.0, 6.0]
    assert x.grad.tolist() == [2.0, 0.0, 2.0]
    # a tensor that doesn't require grad receives one that does: it joins the graph
    v = axon.tensor([5.0, 6.0], requires_grad=True)
    buf = axon.zeros(4)
    buf[1:3] = v
    assert buf.requires_grad and buf.grad_fn is not None
    (buf * axon.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert v.grad.tolist() == [2.0, 3.0]


def test_setitem_outside_graph_writes_in_place():
    x = axon.zeros(2, 3)
    data = x.data
    x[0, 1:] = axon.tensor([1.0, 2.0])
    assert x.data is data and x.tolist() == [[0.0, 1.0, 2.0], [0.0, 0.0, 0.0]]
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        x[5] = 1.0


# -------------------------------------------------------------- index_select
@pytest.mark.parametrize(
    "shape, dim, index",
    [
        ((4, 5), 0, [3, 0, 3]),
        ((4, 5), 1, [0, 2, 2, 1]),
        ((2, 3, 4), -1, [1]),
        ((5,), 0, [4, 4, 4, 0]),
    ],
)
def test_index_select(shape, dim, index):
    idx = np.array(index)
    check_op(
        lambda x: axon.index_select(x, dim, idx),
        lambda x: np.take(x, idx, axis=dim),
        lambda x: torch.index_select(x, dim, torch.from_numpy(idx)),
        [(shape,)],
    )
    check_op(
        lambda x: axon.index_select(x, dim, axon.tensor(index)),
        lambda x: np.take(x, idx, axis=dim),
        None,
        [(shape,)],
    )


# --------------------------------------------------------------- cat / stack
@pytest.mark.parametrize(
    "shapes, dim",
    [
        (((2, 3), (4, 3), (1, 3)), 0),
        (((2, 3), (2, 1), (2, 2)), -1),
        (((2, 0, 3), (2, 2, 3)), 1),
        (((3,), (2,)), 0),
    ],
)
def test_cat(shapes, dim):
    check_op(
        lambda *xs: axon.cat(xs, dim),
        lambda *xs: np.concatenate(xs, dim),
        lambda *xs: torch.cat(xs, dim),
        [shapes],
    )


@pytest.mark.parametrize(
    "shape, n, dim", [((2, 3), 3, 0), ((2, 3), 2, -1), ((2, 3), 2, 1), ((), 2, 0), ((4,), 1, 1)]
)
def test_stack(shape, n, dim):
    check_op(
        lambda *xs: axon.stack(xs, dim),
        lambda *xs: np.stack(xs, dim),
        lambda *xs: torch.stack(xs, dim),
        [(shape,) * n],
    )


def test_cat_only_some_inputs_require_grad():
    a = axon.ones(2, requires_grad=True)
    b = axon.zeros(3)
    y = axon.cat([a, b])
    (y * axon.arange(5).float()).sum().backward()
    assert a.grad.tolist() == [0.0, 1.0] and b.grad is None


# -------------------------------------------------------------- split/chunk
@pytest.mark.parametrize(
    "shape, size, dim",
    [((5, 3), 2, 0), ((5, 3), [1, 2], 1), ((4, 6), 3, -1), ((5, 3), [5], 0), ((5, 3), 10, 0)],
)
def test_split(shape, size, dim):
    def ref(x):
        if isinstance(size, int):
            n = x.shape[dim]
            cuts = list(range(size, n, size))
        else:
            cuts = list(np.cumsum(size)[:-1])
        return tuple(np.split(x, cuts, axis=dim))

    check_op(lambda x: x.split(size, dim), ref, lambda x: torch.split(x, size, dim), [(shape,)])


@pytest.mark.parametrize(
    "shape, chunks, dim", [((6, 2), 3, 0), ((5, 2), 3, 0), ((2, 7), 2, 1), ((3, 2), 5, 0)]
)
def test_chunk(shape, chunks, dim):
    def ref(x):
        return tuple(t.numpy() for t in torch.from_numpy(x).chunk(chunks, dim))

    check_op(lambda x: x.chunk(chunks, dim), ref, lambda x: torch.chunk(x, chunks, dim), [(shape,)])


def test_split_uses_only_some_outputs():
    x = axon.tensor(np.arange(6.0), requires_grad=True)
    _, b, _ = axon.split(x, 2)
    (b * 3).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 3.0, 3.0, 0.0, 0.0]


def test_split_sizes_must_add_up():
    with pytest.raises(ValueError, match=r"split: sizes \[1, 1\] don't add up to 3"):
        axon.ones(3).split([1, 1])


# ----------------------------------------------------------------------- pad
PADS = [
    ("constant", (2, 5), (1, 2)),
    ("constant", (3, 4), (1, 1, 2, 0)),
    ("constant", (2, 3, 4), (0, 0, 0, 0, 1, 1)),
    ("reflect", (2, 5), (2, 3)),
    ("reflect", (2, 4, 5), (1, 2, 3, 1)),
    ("replicate", (2, 5), (2, 3)),
    ("replicate", (2, 4, 5), (3, 1, 0, 2)),
    ("circular", (2, 5), (2, 3)),
    ("circular", (2, 4, 5), (1, 2, 3, 1)),
]


@pytest.mark.parametrize("mode, shape, pad", PADS)
def test_pad(mode, shape, pad):
    np_mode = {
        "reflect": "reflect",
        "replicate": "edge",
        "circular": "wrap",
        "constant": "constant",
    }[mode]

    def ref(x):
        widths = [(0, 0)] * x.ndim
        for i in range(len(pad) // 2):
            widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
        return np.pad(x, widths, mode=np_mode)

    check_op(lambda x: F.pad(x, pad, mode), ref, lambda x: TF.pad(x, pad, mode), [(shape,)])


def test_pad_constant_value():
    check_op(
        lambda x: F.pad(x, (1, 2), value=-3.0),
        lambda x: np.pad(x, [(0, 0), (1, 2)], constant_values=-3.0),
        lambda x: TF.pad(x, (1, 2), value=-3.0),
        [((2, 3),)],
    )


def test_pad_errors():
    with pytest.raises(ValueError, match="pad"):
        F.pad(axon.ones(2, 3), (1,))
    with pytest.raises(ValueError, match="pad: unknown mode 'mirror'"):
        F.pad(axon.ones(2, 3), (1, 1), mode="mirror")


# -------------------------------------------------------------- masked_fill
@pytest.mark.parametrize(
    "shape, mshape", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((), ())]
)
def test_masked_fill(shape, mshape):
    def make(rng, shapes):
        return [rng.uniform(-2, 2, shapes[0]), rng.random(shapes[1]) < 0.4]

    check_op(
        lambda x, m: x.masked_fill(m, -1.5),
        lambda x, m: np.where(m, -1.5, x),
        lambda x, m: x.masked_fill(m, -1.5),
        [(shape, mshape)],
        make_inputs=make,
    )
    check_op(
        lambda x, m: axon.masked_fill(x, m, float("-inf")).exp(),
        lambda x, m: np.exp(np.where(m, -np.inf, x)),
        lambda x, m: x.masked_fill(m, float("-inf")).exp(),
        [(shape, mshape)],
        make_inputs=make,
    )


def test_masked_fill_errors():
    with pytest.raises(TypeError, match="masked_fill"):
        axon.ones(3).masked_fill(axon.ones(3), 0.0)
    with pytest.raises(ValueError, match="masked_fill"):
        axon.ones(3).masked_fill(axon.tensor([True, False]), 0.0)


# ---------------------------------------------------------------- tril/triu
@pytest.mark.parametrize("diagonal", [-2, -1, 0, 1, 3])
@pytest.mark.parametrize("name", ["tril", "triu"])
def test_tril_triu(name, diagonal):
    check_op(
        lambda x: getattr(x, name)(diagonal),
        lambda x: getattr(np, name)(x, diagonal),
        lambda x: getattr(torch, name)(x, diagonal),
        [((4, 5),), ((2, 3, 4),), ((3, 3),)],
    )
    check_op(
        lambda x: getattr(axon, name)(x, diagonal=diagonal),
        lambda x: getattr(np, name)(x, diagonal),
        None,
        [((3, 2),)],
    )


# ------------------------------------------------------------------ one_hot
@pytest.mark.parametrize(
    "values, num_classes", [([0, 2, 1, 2], -1), ([[1, 0], [3, 3]], 5), ([], 3), (2, 4)]
)
def test_one_hot(values, num_classes):
    idx = np.array(values, dtype=np.int64)
    out = F.one_hot(axon.tensor(idx), num_classes)
    expected = TF.one_hot(torch.from_numpy(idx), num_classes).numpy()
    assert out.dtype == np.int64 and out.shape == expected.shape
    np.testing.assert_array_equal(out.data, expected)
    assert axon.one_hot is F.one_hot


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"one_hot: indices must lie in \[0, 3\)"):
        F.one_hot(axon.tensor([0, 3]), 3)
    with pytest.raises(TypeError, match="one_hot"):
        F.one_hot(axon.tensor([0.0, 1.0]), 3)
