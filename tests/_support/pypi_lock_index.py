"""A local PEP 691/700 index for locking tests: like :mod:`_support.pypi_graph`, but every
version gets a wheel and an sdist with real sha256 hashes, sizes and upload times (unless the
project is listed in ``unhashed``, whose files carry no hashes)."""

from __future__ import annotations

import hashlib
from collections.abc import Collection

from _support.pypi_graph import SIMPLE_JSON, Graph, metadata
from _support.registry import LocalRegistry

UPLOAD_TIME = "2024-05-01T12:30:00.000000Z"


def content(filename: str) -> bytes:
    """The bytes served for a file (only their hash and size matter)."""
    return f"contents of {filename}\n".encode()


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
