"""``dependency-tree.json``: the resolved Maven tree as maven-dependency-plugin writes it.

Maven has no lockfile; what a Maven project resolves to is what ``mvn dependency:tree`` shows.
maven-dependency-plugin 3.7+ writes that tree as JSON (``-DoutputType=json -DoutputFile=...``):
one object per node with ``groupId``, ``artifactId``, ``version``, ``type``, ``scope``,
``classifier`` and ``optional`` (all strings; ``""`` for none, ``"true"``/``"false"``), and
``children`` only on nodes that have some. The root object is the project itself (scope
``""``). tuskops's Maven lock is that file:

* :func:`read_dependency_tree` reads it into a :class:`~tuskops.packages.manifests.Lockfile`:
  one :class:`~tuskops.packages.manifests.LockedPackage` per node below the root, in tree
  order (name ``groupId:artifactId``, ``dependencies`` as ``"groupId:artifactId version"``,
  ``extra`` with scope, type, classifier, optional), and the raw tree in ``extra["tree"]``.
* :func:`write_dependency_tree` writes ``extra["tree"]`` back in the plugin's exact layout.
  That layout is not ``json.dumps``'s (a closing ``]`` is indented two more spaces than its
  key, leaves carry no ``children``), hence the small hand-written serializer: a file
  ``mvn dependency:tree -DoutputType=json`` wrote reads and writes back to the same bytes
  (checked against the real plugin in the differential tests).
* :func:`render_tree` prints the tree as ``mvn dependency:tree`` does (text), and :func:`why`
  lists the paths from the project's direct dependencies to an artifact. The generic
  ``tree``/``why`` of :mod:`tuskops.packages.lock` normalise names as PyPI does, which would
  rewrite ``org.example:lib`` to ``org-example:lib``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from tuskops.errors import ManifestError, PackageError
from tuskops.packages.manifests import LockedPackage, Lockfile

__all__ = [
    "FIELDS",
    "FORMAT",
    "locked_packages",
    "read_dependency_tree",
    "render_tree",
    "why",
    "write_dependency_tree",
]

ECOSYSTEM = "maven"
FORMAT = "maven-dependency-plugin tree JSON"
#: The fields of every node, in the plugin's order.
FIELDS = ("groupId", "artifactId", "version", "type", "scope", "classifier", "optional")


def _check_node(node: Any, where: str, file: str) -> Mapping[str, Any]:
    if not isinstance(node, Mapping):
        raise ManifestError(file, f"{where}: expected an object")
    for key in FIELDS:
        value = node.get(key)
        if not isinstance(value, str):
            raise ManifestError(file, f"{where}.{key}: expected a string, got {value!r}")
    for key in ("groupId", "artifactId", "version"):
        if not node[key]:
            raise ManifestError(file, f"{where}.{key}: empty")
    if node["optional"] not in ("true", "false"):
        raise ManifestError(file, f"{where}.optional: expected 'true' or 'false'")
    children = node.get("children", [])
    if not isinstance(children, list):
        raise ManifestError(file, f"{where}.children: expected a list")
    for i, child in enumerate(children):
        _check_node(child, f"{where}.children[{i}]", file)
    return node


def _children(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = node.get("children", [])
    return found


def _name(node: Mapping[str, Any]) -> str:
    return f"{node['groupId']}:{node['artifactId']}"


def _walk(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every node below ``node``, pre-order."""
    for child in _children(node):
        yield child
        yield from _walk(child)


def locked_packages(tree: Mapping[str, Any]) -> tuple[LockedPackage, ...]:
    """One package per node below the project ``tree``, in tree order."""
    packages: list[LockedPackage] = []
    for node in _walk(tree):
        extra: dict[str, Any] = {"scope": node["scope"], "type": node["type"]}
        if node["classifier"]:
            extra["classifier"] = node["classifier"]
        packages.append(
            LockedPackage(
                name=_name(node),
                version=node["version"],
                dependencies=tuple(f"{_name(c)} {c['version']}" for c in _children(node)),
                dev=node["scope"] == "test",
                optional=node["optional"] == "true",
                extra=extra,
            )
        )
    return tuple(packages)


def read_dependency_tree(path: Path) -> Lockfile:
    """Read a ``dependency-tree.json`` (see the module docstring)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ManifestError(str(path), f"cannot read: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ManifestError(
            str(path), f"not JSON: {exc.msg}", f"{exc.lineno}:{exc.colno}"
        ) from None
    tree = _check_node(data, "$", str(path))
    return Lockfile(ECOSYSTEM, str(path), FORMAT, locked_packages(tree), {"tree": tree})


def _tree_of(lock: Lockfile) -> Mapping[str, Any]:
    tree = lock.extra.get("tree")
    if not isinstance(tree, Mapping):
        raise ValueError("a Maven dependency tree needs extra['tree'] (the project's node)")
    return _check_node(tree, "extra.tree", lock.path or "dependency-tree.json")


def _serialize(node: Mapping[str, Any], indent: int, lines: list[str], last: bool) -> None:
    pad = " " * indent
    lines.append(pad + "{")
    children = _children(node)
    fields = [f'{pad}  "{key}": {json.dumps(node[key])}' for key in FIELDS]
    if children:
        fields.append(f'{pad}  "children": [')
    lines.append(",\n".join(fields))
    for i, child in enumerate(children):
        _serialize(child, indent + 4, lines, i == len(children) - 1)
    if children:
        lines.append(pad + "    ]")
    lines.append(pad + ("}" if last else "},"))


def write_dependency_tree(lock: Lockfile) -> str:
    """``extra["tree"]`` in the plugin's layout (a ``ValueError`` when the lock has none)."""
    lines: list[str] = []
    _serialize(_tree_of(lock), 0, lines, True)
    return "\n".join(lines) + "\n"


def _label(node: Mapping[str, Any], *, root: bool = False) -> str:
    parts = [_name(node), node["type"]]
    if node["classifier"]:
        parts.append(node["classifier"])
    parts.append(node["version"])
    if not root:
        parts.append(node["scope"])
    text = ":".join(parts)
    return text + " (optional)" if node["optional"] == "true" and not root else text


def render_tree(lock: Lockfile) -> str:
    """The tree as ``mvn dependency:tree`` prints it: the project, then ``+-``/``\\-``
    branches with ``groupId:artifactId:type[:classifier]:version:scope``."""
    tree = _tree_of(lock)
    lines = [_label(tree, root=True)]

    def emit(node: Mapping[str, Any], prefix: str) -> None:
        children = _children(node)
        for i, child in enumerate(children):
            last = i == len(children) - 1
            branch = "\\- " if last else "+- "
            lines.append(f"{prefix}{branch}{_label(child)}")
            emit(child, prefix + ("   " if last else "|  "))

    emit(tree, "")
    return "\n".join(lines) + "\n"


def why(lock: Lockfile, name: str) -> list[list[str]]:
    """The path (names, the direct dependency first) to each node of ``name``
    (``groupId:artifactId``); a :class:`PackageError` when no node has that name."""
    tree = _tree_of(lock)
    paths: list[list[str]] = []

    def walk(node: Mapping[str, Any], path: list[str]) -> None:
        for child in _children(node):
            here = [*path, _name(child)]
            if _name(child) == name:
                paths.append(here)
            walk(child, here)

    walk(tree, [])
    if not paths:
        raise PackageError(f"{name} is not in {lock.path or 'the dependency tree'}")
    return paths
