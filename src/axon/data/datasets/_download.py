"""Downloading data files: checksummed, atomic, resumable, and quick to say "no network".

A file is fetched into ``<dir>/<name>.part``; an interrupted download leaves
that partial file, and the next attempt asks the server only for the rest
(HTTP ``Range: bytes=<size>-``). When complete, the checksum (MD5 or SHA-256,
as the data set's authors publish it) is checked and only then is the file
renamed to its final name, so a final name always holds a whole, verified
file. An advisory lock (``fcntl``, where available) keeps two processes from
writing the same ``.part``.

Without a network the first connection fails at once (DNS error, refused
connection, or a short ``AXON_DOWNLOAD_TIMEOUT``, default 5 s), and the error
names every missing file, its URL and checksum, and the folder to put it in
by hand.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class DownloadError(RuntimeError):
    """A data file could not be downloaded or failed its checksum."""


@dataclass(frozen=True)
class Resource:
    """One file of a data set: its name, the URLs to try in order, and its checksum.

    MD5 is what MNIST, Fashion-MNIST and CIFAR publish; it guards against
    truncated or corrupted transfers (the URLs are the trust anchor), which
    is its job here.
    """

    filename: str
    urls: tuple[str, ...]
    md5: str | None = None
    sha256: str | None = None

    def __post_init__(self):
        if not (self.md5 or self.sha256):
            raise ValueError(f"Resource {self.filename!r}: give an md5 or a sha256 checksum")

    @property
    def checksum(self) -> tuple[str, str]:
        if self.sha256:
            return "sha256", self.sha256
        return "md5", self.md5 or ""


def timeout_seconds() -> float:
    return float(os.environ.get("AXON_DOWNLOAD_TIMEOUT", "5"))


def file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: Path, resource: Resource) -> str | None:
    """None if ``path`` matches the resource's checksum, else the digest it has."""
    algorithm, expected = resource.checksum
    actual = file_digest(path, algorithm)
    return None if actual == expected.lower() else actual


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; downloads just aren't guarded
        yield
        return
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _stream(url: str, part: Path) -> None:
    """Append the rest of ``url`` to ``part`` (or write it whole if the server ignores Range)."""
    have = _size(part)
    headers = {"User-Agent": "axon-data"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=timeout_seconds()
        )
    except urllib.error.HTTPError as e:
        # 416: nothing left to send. The part may be complete; the checksum decides.
        if e.code == 416 and have:
            return
        raise
    with response:
        if have and response.status != 206:
            have = 0  # the server sent the whole file: start over
        length = response.headers.get("Content-Length")
        total = int(length) + have if length is not None else None
        from tqdm import tqdm  # axon dependency; imported here as only downloads need it

        bar = tqdm(
            total=total,
            initial=have,
            unit="B",
            unit_scale=True,
            leave=False,
            disable=None,
            desc=part.name.removesuffix(".part"),
        )
        with open(part, "ab" if have else "wb") as f, bar:
            while chunk := response.read(1 << 20):
                f.write(chunk)
                bar.update(len(chunk))
            f.flush()
            os.fsync(f.fileno())
    # read(n) returns b"" when the server hangs up early instead of raising: compare sizes ourselves.
    if total is not None and _size(part) < total:
        raise http.client.IncompleteRead(b"", total - _size(part))


def _try_url(url: str, part: Path, retries: int = 3) -> str | None:
    """Download ``url`` into ``part``, resuming after interruptions; None on success, else why not."""
    for _ in range(retries + 1):
        before = _size(part)
        try:
            _stream(url, part)
            return None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
            if (
                _size(part) <= before
            ):  # no progress at all (no network, refused, 404): give up on this URL
                return f"{url}: {e}"
    return f"{url}: still incomplete after {retries + 1} resumed attempts"


def _download(resource: Resource, dest: Path) -> list[str]:
    """Fetch one resource into ``dest`` (via ``dest.part``); return the errors met (empty on success)."""
    part = dest.with_name(dest.name + ".part")
    errors = []
    for url in resource.urls:
        error = _try_url(url, part)
        if error is not None:
            errors.append(error)
            continue
        bad = verify(part, resource)
        if bad is not None:
            part.unlink()
            algorithm, expected = resource.checksum
            raise DownloadError(
                f"{resource.filename}: downloaded from {url} but its {algorithm} is {bad}, "
                f"expected {expected}; the file was removed, try again"
            )
        os.replace(part, dest)  # atomic: the final name only ever holds a verified file
        return []
    return errors


def _manual_help(dataset: str, directory: Path, resources: Sequence[Resource]) -> str:
    lines = [
        f"No network? Download these files by hand and put them in {directory}",
        f"(or point AXON_DATA_DIR at a folder holding {directory.name}/):",
    ]
    for r in resources:
        algorithm, value = r.checksum
        lines.append(f"  {r.filename}  from {r.urls[0]}  ({algorithm} {value})")
    return "\n".join(lines)


def fetch(
    dataset: str, resources: Sequence[Resource], directory: Path, download: bool = True
) -> list[Path]:
    """Make sure every resource is in ``directory`` and verified; return their paths.

    Raises:
        DownloadError: a file can't be downloaded (naming all missing files
            and where to put them), or a file on disk fails its checksum.
    """
    directory = Path(directory)
    paths = [directory / r.filename for r in resources]
    missing = [r for r, p in zip(resources, paths, strict=True) if not p.is_file()]
    if missing and not download:
        help_text = _manual_help(dataset, directory, missing)
        raise DownloadError(f"{dataset}: files missing and download=False.\n{help_text}")
    if missing:
        directory.mkdir(parents=True, exist_ok=True)
    for i, r in enumerate(missing):
        dest = directory / r.filename
        with _lock(directory / f".{r.filename}.lock"):
            errors = (
                [] if dest.is_file() else _download(r, dest)
            )  # another process may have finished it
        if errors:
            reasons = "\n".join("  " + e for e in errors)
            raise DownloadError(
                f"{dataset}: could not download {r.filename}:\n{reasons}\n"
                + _manual_help(dataset, directory, missing[i:])
            )
    for r, p in zip(resources, paths, strict=True):
        bad = verify(p, r)
        if bad is not None:
            algorithm, expected = r.checksum
            raise DownloadError(
                f"{dataset}: {p} is corrupt or a different version ({algorithm} {bad}, expected "
                f"{expected}); delete it and load again"
            )
    return paths
