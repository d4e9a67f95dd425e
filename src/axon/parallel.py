"""axon's own threads: split big array work across cores, the same result on any number.

A NumPy ufunc or a BLAS call releases the GIL while it runs, so a few Python
threads can work on disjoint parts of one array at once. Every helper here
cuts the work into independent pieces whose arithmetic does not depend on how
they are grouped, so results are bit-for-bit the same with any number of
threads:

- ``parallel_for``: any ``fn(lo, hi)`` over a range of independent items
  (images of a convolution batch, blocks of rows);
- ``blockwise``: an elementwise kernel over cache-sized blocks of flat arrays;
- ``run_elementwise``: an in-place elementwise kernel (an optimizer update)
  over contiguous slices of same-shaped arrays;
- ``matmul``: ``np.matmul`` with the rows of a large product, or the
  matrices of a batched one, computed by several threads.

One pool for everything. OpenBLAS keeps threads of its own, and after every
multi-threaded call they busy-wait for about 0.1 s: a second pool working in
that window (ours, or PyTorch's) competes with them for the cores, and small
products on two BLAS threads pay a hand-off per call (a convolution's
per-image GEMMs ran 1.4x slower than on one). So, as PyTorch does with its
BLAS, axon runs BLAS on one thread and splits matrix products itself (a
row-split GEMM on two threads is as fast as OpenBLAS's own). On import it
sets OpenBLAS, when NumPy uses it, to one thread: NumPy code outside axon
then runs BLAS single-threaded too; ``set_blas_threads(n)`` changes that.

The number of threads is, in order: ``set_num_threads(n)``, the
``OMP_NUM_THREADS`` environment variable (as PyTorch and OpenBLAS read it),
or the CPUs this process may use, at most 4.
"""

from __future__ import annotations

import ctypes
import glob
import itertools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# Below this many elements per slice, handing work to a thread costs more
# than it saves (a hand-off is ~20 us; Adam does ~1.5 ns per element).
MIN_SLICE = 1 << 17

#: Elements per block in ``blockwise``: a block and a few temporaries of its
#: size stay in cache while a kernel of many NumPy passes runs over it, and
#: the ~1 us a NumPy call costs is spread over enough elements (for a
#: 25-pass GELU over 2M floats, 128K-element blocks are 1.4x faster than
#: whole arrays and 2.5x faster than 4K-element blocks).
BLOCK = 1 << 17

#: A matrix product is split across threads from this many multiply-adds
#: (~0.2 ms of one core's work; a hand-off costs ~20 us, more on a busy machine).
MIN_SPLIT_MACS = 1 << 23


def _default_threads() -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    env = os.environ.get("OMP_NUM_THREADS", "")
    if env.strip().isdigit() and int(env) > 0:
        return min(int(env), cpus)
    return min(4, cpus)


_num_threads = _default_threads()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_local = threading.local()  # .inside: this thread runs a piece (nested calls stay on it)


def get_num_threads() -> int:
    """How many threads axon's parallel kernels use (see the module docstring)."""
    return _num_threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for axon's parallel kernels (1 turns threading off)."""
    global _num_threads, _pool
    if n < 1:
        raise ValueError(f"set_num_threads: need at least 1 thread, got {n}")
    _num_threads = int(n)
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True)
            _pool = None


def _forget_pool_after_fork() -> None:
    # A forked child (e.g. a data-loader worker) inherits the pool object but
    # not its threads; it must start its own if it ever needs one.
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


# ------------------------------------------------------------ BLAS threads
def _find_blas_thread_setter():
    """OpenBLAS's set-threads function (returning the previous count) from NumPy's library, or None."""
    candidates = glob.glob(
        os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*")
    )
    candidates += glob.glob(os.path.join(os.path.dirname(np.__file__), ".dylibs", "*openblas*"))
    try:
        with open("/proc/self/maps") as maps:
            candidates += sorted({line.split()[-1] for line in maps if "openblas" in line.lower()})
    except OSError:
        pass
    for path in candidates:
        try:
            # sets the count (process-wide in pthreads builds) and returns the previous one
            fn = ctypes.CDLL(path).openblas_set_num_threads_local
        except (OSError, AttributeError):
            continue
        fn.restype, fn.argtypes = ctypes.c_int, [ctypes.c_int]
        return fn
    return None


_blas_set = _find_blas_thread_setter()
#: OpenBLAS's thread count before axon set it to 1 (None: not OpenBLAS, left alone).
BLAS_THREADS_AT_IMPORT = _blas_set(1) if _blas_set is not None else None


def set_blas_threads(n: int) -> int | None:
    """Let OpenBLAS itself use ``n`` threads again (axon sets 1 on import); returns the old count.

    For NumPy code outside axon that multiplies large matrices. axon's own
    kernels then share the cores with OpenBLAS's threads (see the module docstring).
    """
    if n < 1:
        raise ValueError(f"set_blas_threads: need at least 1 thread, got {n}")
    return None if _blas_set is None else _blas_set(int(n))


def _worker_init() -> None:
    _local.inside = True


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=max(_num_threads - 1, 1),
                thread_name_prefix="axon",
                initializer=_worker_init,
            )
        return _pool


# ----------------------------------------------------------------- helpers
def parallel_for(n: int, fn, grain: int = 1) -> None:
    """Call ``fn(lo, hi)`` over ``range(n)`` cut into pieces, on up to ``get_num_threads()`` threads.

    Pieces hold at least ``grain`` items; there are a few per thread so a
    thread that the OS schedules late costs little (the others, and the
    calling thread, take its pieces from a shared counter). ``fn`` must only
    write to places no other piece touches. A call made inside a piece runs
    on its thread, unsplit. Exceptions propagate to the caller.
    """
    if n <= 0:
        return
    n_pieces = min(max(n // max(grain, 1), 1), 4 * _num_threads)
    helpers = min(_num_threads, n_pieces) - 1
    if helpers < 1 or getattr(_local, "inside", False):
        fn(0, n)
        return
    bounds = [n * i // n_pieces for i in range(n_pieces + 1)]
    next_piece = itertools.count()  # next() on it is atomic under the GIL

    def work() -> None:
        while (i := next(next_piece)) < n_pieces:
            if bounds[i] < bounds[i + 1]:
                fn(bounds[i], bounds[i + 1])

    pool = _get_pool()
    futures = [pool.submit(work) for _ in range(helpers)]
    _local.inside = True
    try:
        work()
    finally:
        _local.inside = False
        for f in futures:
            f.result()


def run_elementwise(kernel, arrays: list, **scalars) -> None:
    """Call ``kernel(*arrays, **scalars)``, split across threads when the arrays are large.

    ``arrays`` are same-shaped arrays (or None) that ``kernel`` treats
    elementwise; it writes its results into some of them in place. Arrays
    that are not C-contiguous are never split (a flat view would be a copy).
    Each slice gets exactly the arithmetic it would get in one piece, so the
    result is the same for any number of threads.
    """
    size = arrays[0].size
    if (
        size < 2 * MIN_SLICE
        or _num_threads < 2
        or not all(a is None or a.flags.c_contiguous for a in arrays)
    ):
        kernel(*arrays, **scalars)
        return
    flat = [None if a is None else a.reshape(-1) for a in arrays]

    def piece(lo: int, hi: int) -> None:
        kernel(*[None if a is None else a[lo:hi] for a in flat], **scalars)

    parallel_for(size, piece, grain=MIN_SLICE)


def blockwise(kernel, out: np.ndarray, *inputs: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """Run an elementwise ``kernel(out_block, *input_blocks)`` over cache-sized flat blocks.

    ``out`` and ``inputs`` are C-contiguous arrays of the same size; ``kernel``
    writes its result for one block into ``out_block`` (1-D views). Blocks go
    to up to ``get_num_threads()`` threads once the arrays are large. The
    arithmetic per element does not depend on the blocking, so the result is
    the same for any block size or thread count. Returns ``out``.
    """
    flat_out = out.reshape(-1)
    flat_in = [a.reshape(-1) for a in inputs]
    n = flat_out.size

    def piece(lo: int, hi: int) -> None:
        for start in range(lo, hi, block):
            stop = min(start + block, hi)
            kernel(flat_out[start:stop], *[a[start:stop] for a in flat_in])

    parallel_for(n, piece, grain=block)
    return out


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``np.matmul(a, b)``, computed by up to ``get_num_threads()`` threads.

    A batched product (more than two dims) is cut along its first batch dim;
    a large 2-D one into blocks of rows (or of columns, when it has few rows).
    Each output element is computed by one BLAS call over the same inputs as
    without threads. 1-D operands and small products go to NumPy as they are.
    """
    if a.ndim < 2 or b.ndim < 2 or _num_threads < 2 or getattr(_local, "inside", False):
        return np.matmul(a, b, out=out)
    m, k = a.shape[-2:]
    n = b.shape[-1]
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if math.prod(batch) * m * k * n < MIN_SPLIT_MACS:
        return np.matmul(a, b, out=out)
    shape = batch + (m, n)
    if out is None:
        out = np.empty(shape, np.result_type(a, b))
    if batch and batch[0] >= 2:
        a = a if a.ndim == len(shape) else a.reshape((1,) * (len(shape) - a.ndim) + a.shape)
        b = b if b.ndim == len(shape) else b.reshape((1,) * (len(shape) - b.ndim) + b.shape)

        def piece(lo: int, hi: int) -> None:
            np.matmul(
                a if a.shape[0] == 1 else a[lo:hi],
                b if b.shape[0] == 1 else b[lo:hi],
                out=out[lo:hi],
            )

        parallel_for(batch[0], piece)
    elif m >= 16 * _num_threads or m >= n:  # blocks of rows

        def piece(lo: int, hi: int) -> None:
            np.matmul(a[..., lo:hi, :], b, out=out[..., lo:hi, :])

        parallel_for(m, piece, grain=max(8, m // (2 * _num_threads)))
    else:  # few rows, many columns: blocks of columns

        def piece(lo: int, hi: int) -> None:
            np.matmul(a, b[..., lo:hi], out=out[..., lo:hi])

        parallel_for(n, piece, grain=max(16, n // (2 * _num_threads)))
    return out
