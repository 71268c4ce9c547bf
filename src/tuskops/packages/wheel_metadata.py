"""A wheel's core metadata without downloading the wheel: ``zipfile`` over HTTP range requests.

PEP 658 lets an index serve a wheel's ``METADATA`` file on its own, and :mod:`.clients` uses it
whenever the index offers one. An index that does not (PEP 503 HTML pages from older servers,
mirrors that drop the ``core-metadata`` key) still serves the wheel, and a wheel is a zip file
whose directory sits at its end: reading the last few kilobytes, then the ``METADATA`` member,
costs two or three small requests instead of the whole file (pip's "lazy wheel" does the same).

The zip format is read by the standard library's :mod:`zipfile`, not by hand: it reads from a
:class:`SparseFile` that holds the byte ranges fetched so far and raises :class:`NeedBytes` for
anything else; :func:`read_metadata` fetches what was asked and tries again.

Integrity: a range read cannot be checked against the wheel's sha256 (that needs every byte),
so the result says which way it was obtained (``verified`` is False for range reads). When the
server ignores ``Range`` and sends the whole file, the file *is* verified against the index's
hashes. Results are remembered under the wheel's sha256 (content-addressed: a file with that
hash never changes), so a warm cache answers without any request.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

from tuskops.errors import PackageError
from tuskops.packages.http import RegistryClient, verify
from tuskops.packages.registry import Artifact

__all__ = ["NeedBytes", "SparseFile", "WheelMetadata", "read_metadata"]

#: The first read: the end of the file, where the central directory usually fits entirely.
TAIL_BYTES = 64 * 1024
#: Smallest range fetched for a miss, so that zipfile's small reads cost one request.
MIN_FETCH = 16 * 1024
MAX_ROUNDS = 8


class NeedBytes(Exception):
    """``zipfile`` asked for bytes not fetched yet."""

    def __init__(self, start: int, size: int) -> None:
        self.start = start
        self.size = size
        super().__init__(f"need bytes {start}..{start + size}")


class SparseFile(io.RawIOBase):
    """A read-only, seekable file of ``length`` bytes of which only some ranges are known."""

    def __init__(self, length: int) -> None:
        self.length = length
        self.chunks: list[tuple[int, bytes]] = []
        self.pos = 0

    def add(self, start: int, data: bytes) -> None:
        self.chunks.append((start, data))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.length}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self.length - self.pos
        size = min(size, self.length - self.pos)
        if size <= 0:
            return b""
        for start, data in self.chunks:
            if start <= self.pos and self.pos + size <= start + len(data):
                out = data[self.pos - start : self.pos - start + size]
                self.pos += size
                return out
        raise NeedBytes(self.pos, size)


@dataclass(frozen=True)
class WheelMetadata:
    content: bytes
    #: True when the whole wheel was read and matched the index's hash.
    verified: bool
    #: "range requests", "whole file" or "cache".
    how: str


def _metadata_member(archive: zipfile.ZipFile) -> str:
    """The ``*.dist-info/METADATA`` at the top of the wheel (PEP 427)."""
    names = [
        n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
    ]
    if len(names) != 1:
        raise PackageError(f"not a wheel: {len(names)} top-level .dist-info/METADATA files")
    return names[0]


def _extract(archive_file: io.RawIOBase | io.BytesIO) -> bytes:
    with zipfile.ZipFile(archive_file) as archive:
        return archive.read(_metadata_member(archive))


async def read_metadata(client: RegistryClient, artifact: Artifact) -> WheelMetadata:
    """The ``METADATA`` file of the wheel ``artifact``; see the module docstring."""
    digest = artifact.hashes.get("sha256")
    memo_key = f"wheel-metadata sha256:{digest}" if digest else None
    if memo_key is not None:
        remembered = client.recall(memo_key)
        if remembered is not None:
            return WheelMetadata(remembered, verified=False, how="cache")

    result = await _fetch(client, artifact.url, artifact.hashes)
    if memo_key is not None:
        client.remember(memo_key, result.content)
    return result


async def _fetch(client: RegistryClient, url: str, hashes: Mapping[str, str]) -> WheelMetadata:
    tail = await client.get_range(url, -TAIL_BYTES)
    if tail.status == 200:  # the server ignored Range: we have the whole wheel, so check it
        verify(tail.content, hashes, url=url)
        return WheelMetadata(_bytes_of(tail.content, url), verified=True, how="whole file")
    length = _total_length(tail.headers.get("content-range"), url)
    sparse = SparseFile(length)
    sparse.add(length - len(tail.content), tail.content)
    for _ in range(MAX_ROUNDS):
        sparse.seek(0)
        try:
            return WheelMetadata(_extract(sparse), verified=False, how="range requests")
        except NeedBytes as need:
            start = need.start
            end = min(length, start + max(need.size, MIN_FETCH)) - 1
            part = await client.get_range(url, start, end)
            if part.status == 200:
                verify(part.content, hashes, url=url)
                return WheelMetadata(_bytes_of(part.content, url), verified=True, how="whole file")
            sparse.add(start, part.content)
        except zipfile.BadZipFile as exc:
            raise PackageError(f"{url}: not a readable wheel: {exc}") from None
    raise PackageError(f"{url}: wheel metadata not found after {MAX_ROUNDS} range requests")


def _bytes_of(data: bytes, url: str) -> bytes:
    try:
        return _extract(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise PackageError(f"{url}: not a readable wheel: {exc}") from None


def _total_length(content_range: str | None, url: str) -> int:
    """``Content-Range: bytes 7980425-7988616/7988617`` -> 7988617."""
    if content_range:
        _, _, total = content_range.rpartition("/")
        if total.strip().isdigit():
            return int(total)
    raise PackageError(f"{url}: partial response without a usable Content-Range header")
