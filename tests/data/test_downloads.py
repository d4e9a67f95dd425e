"""Downloaded data sets, offline: IDX and CIFAR parsing, checksums, no-network errors, resume.

Only loopback addresses are used: a tiny HTTP server on 127.0.0.1 (with
Range support and a switch to cut a response short), and a closed port.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import pickle
import socket
import tarfile
import threading
import time

import numpy as np
import pytest

from axon.data.datasets import DownloadError, Resource, cifar10, fashion_mnist, mnist
from axon.data.datasets._download import fetch


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def idx_bytes(array: np.ndarray) -> bytes:
    code = {np.uint8: 0x08, np.int32: 0x0C, np.float32: 0x0D}[array.dtype.type]
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def closed_port_url(name: str) -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: connections are refused at once
    return f"http://127.0.0.1:{port}/{name}"


# ------------------------------------------------------------------- IDX
def test_read_idx_types_and_errors(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a.idx").write_bytes(idx_bytes(images))
    (tmp_path / "b.idx.gz").write_bytes(gzip.compress(idx_bytes(np.array([-5, 70000], np.int32))))
    (tmp_path / "c.idx").write_bytes(idx_bytes(np.array([[1.5, -2.0]], np.float32)))
    assert np.array_equal(mnist.read_idx(tmp_path / "a.idx"), images)
    ints = mnist.read_idx(tmp_path / "b.idx.gz")
    assert ints.tolist() == [-5, 70000] and ints.dtype.isnative
    assert mnist.read_idx(tmp_path / "c.idx").tolist() == [[1.5, -2.0]]
    (tmp_path / "bad.idx").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        mnist.read_idx(tmp_path / "bad.idx")
    (tmp_path / "short.idx").write_bytes(idx_bytes(images)[:-1])
    with pytest.raises(ValueError, match="data bytes"):
        mnist.read_idx(tmp_path / "short.idx")


def fake_mnist_files(directory, n_train=5, n_test=3):
    rng = np.random.default_rng(0)
    files = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train).astype(np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    resources = []
    for name, array in files.items():
        payload = gzip.compress(idx_bytes(array))
        (directory / name).write_bytes(payload)
        resources.append(Resource(name, (closed_port_url(name),), md5=md5(payload)))
    return files, resources


@pytest.mark.parametrize("loader", [mnist.load_mnist, fashion_mnist.load_fashion_mnist])
def test_mnist_style_loaders_parse_files_in_place(tmp_path, loader):
    files, resources = fake_mnist_files(tmp_path)
    train, test = loader(root=tmp_path, resources=resources)
    x, y = train.arrays
    assert x.shape == (5, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.allclose(x[:, 0] * 255, files["train-images-idx3-ubyte.gz"])
    assert np.array_equal(y, files["train-labels-idx1-ubyte.gz"])
    assert test.arrays[0].shape == (3, 1, 28, 28)
    flat, _ = loader(root=tmp_path, resources=resources, flatten=True)
    assert flat.arrays[0].shape == (5, 784)


def test_a_corrupt_file_on_disk_is_reported(tmp_path):
    _, resources = fake_mnist_files(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"not the real file")
    with pytest.raises(DownloadError, match=r"t10k-labels-idx1-ubyte\.gz is corrupt"):
        mnist.load_mnist(root=tmp_path, resources=resources)


def test_official_resources_are_complete():
    for module in (mnist, fashion_mnist):
        assert [r.filename for r in module.RESOURCES] == list(module._FILES)
        assert all(len(r.md5) == 32 and r.urls[0].startswith("https://") for r in module.RESOURCES)
    assert cifar10.RESOURCES[0].md5 == "c58f30108f718f92721af3b95e74349a"


# ----------------------------------------------------------------- CIFAR
def cifar_batch(n, start_label, protocol=2):
    data = (np.arange(n * 3072) % 256).astype(np.uint8).reshape(n, 3072)
    data[:, :1024] = 255  # red plane first
    return pickle.dumps(
        {
            b"batch_label": b"x",
            b"labels": [(start_label + i) % 10 for i in range(n)],
            b"data": data,
            b"filenames": [b"f"] * n,
        },
        protocol=protocol,
    )


def make_cifar_archive(path, extra=None):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        members = {f"data_batch_{i}": cifar_batch(2, i) for i in range(1, 6)}
        members["test_batch"] = cifar_batch(3, 7, protocol=5)
        members["batches.meta"] = pickle.dumps(
            {b"label_names": [c.encode() for c in cifar10.CLASSES]}, protocol=2
        )
        members.update(extra or {})
        for name, payload in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    path.write_bytes(buffer.getvalue())
    return Resource(path.name, (closed_port_url(path.name),), md5=md5(buffer.getvalue()))


def test_cifar10_parses_batches_from_the_archive(tmp_path):
    resource = make_cifar_archive(tmp_path / "cifar-10-python.tar.gz")
    train, test = cifar10.load_cifar10(root=tmp_path, resources=[resource])
    x, y = train.arrays
    assert x.shape == (10, 3, 32, 32) and x.dtype == np.float32 and y.dtype == np.int64
    assert (x[:, 0] == 1.0).all() and x.min() >= 0 and x.max() <= 1  # the red plane is channel 0
    assert y[:2].tolist() == [1, 2] and len(test) == 3 and test.arrays[1].tolist() == [7, 8, 9]
    raw, _ = cifar10.load_cifar10(root=tmp_path, resources=[resource], dtype=np.uint8)
    assert raw.arrays[0].dtype == np.uint8 and raw.arrays[0][0, 0, 0, 0] == 255


def test_cifar10_refuses_pickles_that_would_run_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    evil = pickle.dumps({b"data": np.zeros((1, 3072), np.uint8), b"labels": [Evil()]}, protocol=2)
    resource = make_cifar_archive(tmp_path / "cifar-10-python.tar.gz", {"data_batch_3": evil})
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        cifar10.load_cifar10(root=tmp_path, resources=[resource])


# ------------------------------------------------------------ no network
def test_no_network_fails_at_once_naming_files_and_folder(tmp_path):
    resources = [Resource(n, (closed_port_url(n),), md5="0" * 32) for n in ("a.gz", "b.gz")]
    start = time.perf_counter()
    with pytest.raises(DownloadError) as err:
        mnist.load_mnist(root=tmp_path / "mnist", resources=resources * 2)
    assert time.perf_counter() - start < 3
    message = str(err.value)
    assert "mnist: could not download a.gz" in message and "b.gz" in message
    assert str(tmp_path / "mnist") in message and "AXON_DATA_DIR" in message
    assert "md5 " + "0" * 32 in message


def test_download_false_fails_without_connecting(tmp_path):
    with pytest.raises(DownloadError, match="download=False"):
        cifar10.load_cifar10(root=tmp_path, download=False)


def test_default_folder_comes_from_axon_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("AXON_DATA_DIR", str(tmp_path))
    with pytest.raises(DownloadError, match=str(tmp_path / "cifar10")):
        cifar10.load_cifar10(
            download=False, resources=[Resource("x.tar.gz", ("http://127.0.0.1:9/x",), md5="0")]
        )


# --------------------------------------------------------------- resume
class Server:
    """Serves ``files`` on 127.0.0.1 with HTTP Range; records Range headers; can cut responses short."""

    def __init__(self, files, cut_first_response_at=None, honour_range=True):
        self.files, self.ranges = files, []
        self.cut_at, self.honour_range = cut_first_response_at, honour_range
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                body = outer.files.get(self.path.lstrip("/"))
                if body is None:
                    self.send_error(404)
                    return
                header = self.headers.get("Range")
                outer.ranges.append(header)
                start = (
                    int(header.split("=")[1].split("-")[0]) if header and outer.honour_range else 0
                )
                if start >= len(body) and header:
                    self.send_error(416)
                    return
                self.send_response(206 if start else 200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if outer.cut_at is not None:  # send part of it, then hang up
                    self.wfile.write(body[start : outer.cut_at])
                    outer.cut_at = None
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


PAYLOAD = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()


def test_partial_file_is_resumed_with_a_range_request(tmp_path):
    with Server({"f.bin": PAYLOAD}) as server:
        (tmp_path / "f.bin.part").write_bytes(PAYLOAD[:100_000])
        (path,) = fetch(
            "test", [Resource("f.bin", (server.url + "f.bin",), md5=md5(PAYLOAD))], tmp_path
        )
    assert server.ranges == ["bytes=100000-"]
    assert path.read_bytes() == PAYLOAD and not (tmp_path / "f.bin.part").exists()


def test_interrupted_download_resumes_where_it_stopped(tmp_path):
    sha = hashlib.sha256(PAYLOAD).hexdigest()
    with Server({"f.bin": PAYLOAD}, cut_first_response_at=123_456) as server:
        (path,) = fetch("test", [Resource("f.bin", (server.url + "f.bin",), sha256=sha)], tmp_path)
    assert server.ranges == [None, "bytes=123456-"]
    assert path.read_bytes() == PAYLOAD


def test_server_ignoring_range_restarts_the_file(tmp_path):
    with Server({"f.bin": PAYLOAD}, honour_range=False) as server:
        (tmp_path / "f.bin.part").write_bytes(b"garbage that must not stay")
        (path,) = fetch(
            "test", [Resource("f.bin", (server.url + "f.bin",), md5=md5(PAYLOAD))], tmp_path
        )
    assert path.read_bytes() == PAYLOAD


def test_bad_checksum_after_download_removes_the_file(tmp_path):
    with (
        Server({"f.bin": PAYLOAD}) as server,
        pytest.raises(DownloadError, match=r"expected 0+; the file was removed"),
    ):
        fetch("test", [Resource("f.bin", (server.url + "f.bin",), md5="0" * 32)], tmp_path)
    assert not (tmp_path / "f.bin").exists() and not (tmp_path / "f.bin.part").exists()


def test_second_mirror_is_used_when_the_first_fails(tmp_path):
    with Server({"f.bin": PAYLOAD}) as server:
        urls = (closed_port_url("f.bin"), server.url + "missing", server.url + "f.bin")
        (path,) = fetch("test", [Resource("f.bin", urls, md5=md5(PAYLOAD))], tmp_path)
    assert path.read_bytes() == PAYLOAD
