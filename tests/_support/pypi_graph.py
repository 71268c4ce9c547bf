"""A local PEP 691 index built from a small dependency graph, for the PyPI resolver tests.

``graph`` maps a project name to its versions, each a :class:`Rel` (Requires-Dist lines,
Requires-Python, yanked reason). Every version gets one wheel in the JSON project page at
``/simple/<name>/`` and a PEP 658 metadata file (``<wheel>.metadata``, hash in
``core-metadata``). Served by :class:`~_support.registry.LocalRegistry`, whose ``log`` counts
requests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from _support.registry import LocalRegistry

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class Rel:
    requires: Sequence[str] = ()
    requires_python: str | None = None
    #: PEP 592: the reason ("" for none) when yanked.
    yanked: str | None = None
    #: Put Requires-Python on the file entry (``data-requires-python``) too.
    file_requires_python: bool = True


Graph = Mapping[str, Mapping[str, Rel]]


def metadata(name: str, version: str, rel: Rel) -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    if rel.requires_python:
        lines.append(f"Requires-Python: {rel.requires_python}")
    lines.extend(f"Requires-Dist: {r}" for r in rel.requires)
    for extra in sorted(
        {r.split('extra == "')[1].split('"')[0] for r in rel.requires if "extra ==" in r}
    ):
        lines.append(f"Provides-Extra: {extra}")
    return ("\n".join(lines) + "\n").encode()


def serve_graph(graph: Graph) -> LocalRegistry:
    """A running registry serving ``graph`` under ``/simple/``; shut it down after use."""
    registry = LocalRegistry()
    base = registry.base
    for name, versions in graph.items():
        files: list[dict[str, object]] = []
        for version, rel in versions.items():
            wheel = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
            meta = metadata(name, version, rel)
            registry.add(f"/files/{wheel}.metadata", meta, "application/octet-stream")
            entry: dict[str, object] = {
                "filename": wheel,
                "url": f"{base}/files/{wheel}",
                "hashes": {"sha256": "0" * 64},
                "core-metadata": {"sha256": hashlib.sha256(meta).hexdigest()},
            }
            if rel.requires_python and rel.file_requires_python:
                entry["requires-python"] = rel.requires_python
            if rel.yanked is not None:
                entry["yanked"] = rel.yanked or True
            files.append(entry)
        page = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
        registry.add(f"/simple/{name}/", page, SIMPLE_JSON)
    return registry


def requested(registry: LocalRegistry, suffix: str) -> list[str]:
    """The paths requested so far that end with ``suffix``."""
    return [path for path, _ in registry.log if path.endswith(suffix)]
