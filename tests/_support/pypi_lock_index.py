"""A local PEP 691/700 index for locking tests: like :mod:`_support.pypi_graph`, but every
version gets a wheel and an sdist with real sha256 hashes, sizes and upload times (unless the
project is listed in ``unhashed``, whose files carry no hashes).

The wheels are real (a zip with ``METADATA``, ``WHEEL`` and ``RECORD``, byte-identical each
time) so that pip can download, hash-check and read them (``pip install --dry-run
--require-hashes``); sdists are placeholder bytes."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Collection

from _support.pypi_graph import SIMPLE_JSON, Graph, metadata
from _support.registry import LocalRegistry

UPLOAD_TIME = "2024-05-01T12:30:00.000000Z"


#: Wheel file name -> its bytes, for the graphs served so far (the latest graph wins).
_WHEELS: dict[str, bytes] = {}


def wheel_bytes(name: str, version: str, meta: bytes) -> bytes:
    """A minimal valid ``py3-none-any`` wheel holding ``meta`` as its METADATA."""
    dist_info = f"{name.replace('-', '_')}-{version}.dist-info"
    members = {
        f"{dist_info}/METADATA": meta,
        f"{dist_info}/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: tuskops-tests\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n"
        ),
    }
    record = "".join(f"{path},,\n" for path in members) + f"{dist_info}/RECORD,,\n"
    members[f"{dist_info}/RECORD"] = record.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 5, 1, 12, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def content(filename: str) -> bytes:
    """The bytes served for a file: the wheel built for it, else placeholder bytes."""
    return _WHEELS.get(filename) or f"contents of {filename}\n".encode()


def sha256(filename: str) -> str:
    return hashlib.sha256(content(filename)).hexdigest()


def serve_lock_graph(graph: Graph, unhashed: Collection[str] = ()) -> LocalRegistry:
    """A running registry serving ``graph`` under ``/simple/``; shut it down after use."""
    registry = LocalRegistry()
    base = registry.base
    for name, versions in graph.items():
        files: list[dict[str, object]] = []
        for version, rel in versions.items():
            stem = f"{name.replace('-', '_')}-{version}"
            wheel = f"{stem}-py3-none-any.whl"
            meta = metadata(name, version, rel)
            registry.add(f"/files/{wheel}.metadata", meta, "application/octet-stream")
            _WHEELS[wheel] = wheel_bytes(name, version, meta)
            for filename in (wheel, f"{stem}.tar.gz"):
                registry.add(f"/files/{filename}", content(filename), "application/octet-stream")
                entry: dict[str, object] = {
                    "filename": filename,
                    "url": f"{base}/files/{filename}",
                    "hashes": {} if name in unhashed else {"sha256": sha256(filename)},
                    "size": len(content(filename)),
                    "upload-time": UPLOAD_TIME,
                }
                if filename == wheel:
                    entry["core-metadata"] = {"sha256": hashlib.sha256(meta).hexdigest()}
                if rel.requires_python and rel.file_requires_python:
                    entry["requires-python"] = rel.requires_python
                if rel.yanked is not None:
                    entry["yanked"] = rel.yanked or True
                files.append(entry)
        page = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
        registry.add(f"/simple/{name}/", page, SIMPLE_JSON)
    return registry
