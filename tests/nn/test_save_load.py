"""Saving and loading weights: safetensors round trips, clear errors, atomic writes."""

from __future__ import annotations

import os

import numpy as np
import pytest

import axon
import axon.serialization
from axon import nn


def model():
    return nn.Sequential(
        nn.Embedding(10, 6), nn.LayerNorm(6), nn.Linear(6, 8), nn.GELU(), nn.Linear(8, 3)
    )


def test_axon_save_load_round_trip_is_bit_identical(tmp_path):
    axon.manual_seed(0)
    a, b = model(), model()
    path = tmp_path / "weights.safetensors"
    axon.save(a.state_dict(), path)
    loaded = axon.load(path)
    assert sorted(loaded) == sorted(a.state_dict())  # safetensors orders keys its own way
    assert all(isinstance(v, axon.Tensor) and v.dtype == np.float32 for v in loaded.values())
    b.load_state_dict(loaded)
    idx = axon.tensor(np.arange(10).reshape(2, 5))
    np.testing.assert_array_equal(a(idx).data, b(idx).data)  # bit-identical
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert np.array_equal(p.data, q.data), name


def test_module_save_load_round_trip(tmp_path):
    axon.manual_seed(1)
    a, b = model(), model()
    path = tmp_path / "sub" / "model.safetensors"  # the directory is created
    a.save(path)
    result = b.load(path)
    assert result.missing_keys == [] and result.unexpected_keys == []
    idx = axon.tensor([[1, 2, 3]])
    np.testing.assert_array_equal(a(idx).data, b(idx).data)


def test_save_keeps_dtypes_and_metadata(tmp_path):
    path = tmp_path / "mixed.safetensors"
    state = {
        "w": axon.randn(2, 3),
        "h": axon.randn(4).half(),
        "steps": axon.tensor([7]),
        "t": axon.randn(3, 4).T,
    }  # a non-contiguous view
    axon.save(state, path, metadata={"epoch": 3})
    loaded = axon.load(path)
    for k, v in state.items():
        assert loaded[k].dtype == v.dtype and np.array_equal(loaded[k].data, v.data), k
    assert axon.serialization.load_metadata(path) == {"epoch": "3"}


def test_truncated_file_raises_a_clear_error(tmp_path):
    path = tmp_path / "model.safetensors"
    model().save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        ValueError, match=r"axon.load: .*model.safetensors.* not a valid safetensors file"
    ):
        axon.load(path)
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="truncated or corrupt"):
        model().load(path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        axon.load(tmp_path / "missing.safetensors")


def test_wrong_shape_state_dict_names_key_and_shapes(tmp_path):
    path = tmp_path / "small.safetensors"
    nn.Sequential(nn.Linear(6, 4)).save(path)
    target = nn.Sequential(nn.Linear(6, 5))
    with pytest.raises(ValueError, match=r"'0.weight'.*\(4, 6\).*\(5, 6\)"):
        target.load(path)
    with pytest.raises(KeyError, match=r"missing keys \['1.weight'"):
        nn.Sequential(nn.Linear(6, 4), nn.Linear(4, 2)).load(path)


def test_save_rejects_non_tensors(tmp_path):
    with pytest.raises(TypeError, match="only tensors and arrays can be saved"):
        axon.save({"lr": 0.1}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="expected a mapping"):
        axon.save([axon.zeros(1)], tmp_path / "x.safetensors")


@pytest.mark.parametrize("fail_at", ["write", "replace"])
def test_crash_mid_save_leaves_previous_file_and_no_temp(tmp_path, monkeypatch, fail_at):
    path = tmp_path / "model.safetensors"
    old = model()
    old.save(path)
    before = path.read_bytes()

    class CrashError(Exception):
        pass

    if fail_at == "replace":

        def boom(*args, **kwargs):
            raise CrashError("power cut during rename")

        monkeypatch.setattr(axon.serialization.os, "replace", boom)
    else:
        real_fdopen = os.fdopen

        class HalfWriter:
            def __init__(self, f):
                self.f = f

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

            def write(self, payload):
                self.f.write(payload[: len(payload) // 2])  # half the bytes reach the disk...
                raise CrashError("disk full")  # ...then the process dies

        monkeypatch.setattr(
            axon.serialization.os, "fdopen", lambda fd, mode: HalfWriter(real_fdopen(fd, mode))
        )

    with pytest.raises(CrashError):
        model().save(path)
    assert path.read_bytes() == before  # the previous file is intact
    assert sorted(os.listdir(tmp_path)) == ["model.safetensors"]  # no temporary file left behind
    monkeypatch.undo()
    restored = model()
    restored.load(path)
    idx = axon.tensor([[0, 9]])
    np.testing.assert_array_equal(restored(idx).data, old(idx).data)
