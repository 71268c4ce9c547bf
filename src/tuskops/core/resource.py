"""Desired-state resources: what operators return for ``plan`` and ``apply``.

A resource is pure data: an identity (operator, kind, namespace, name), a JSON-compatible
``body`` (the desired state) and hints for the engine (dependencies, apply order, which fields
are secret, how a directory target should lay it out). Targets decide how to realise it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: A path into a JSON value: object keys and array indices.
FieldPath = tuple[str | int, ...]

#: Apply order for resources without an explicit dependency between them (lower first), in the
#: spirit of Helm's install order: namespaces, then definitions, policy and RBAC, configuration,
#: storage, workloads, and what routes traffic to them.
ORDER_NAMESPACE = 0
ORDER_DEFINITION = 10
ORDER_POLICY = 20
ORDER_CONFIG = 30
ORDER_STORAGE = 40
ORDER_WORKLOAD = 50
ORDER_NETWORK = 60
ORDER_DEFAULT = 70

#: Key names whose values are treated as secret in plans even when not marked explicitly.
SECRET_KEY_PATTERN = re.compile(
    r"(pass(word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)",
    re.IGNORECASE,
)


class Sensitive(str):
    """A string that must not be shown: ``@secret(...)`` returns one.

    It behaves as the plain string everywhere (written to targets as is); plans, history and
    ``eval`` output show it redacted.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "Sensitive('***')"


@dataclass(frozen=True)
class Resource:
    """One unit of desired state."""

    #: The operator that produced it ("render", "kubernetes", ...).
    operator: str
    #: The kind within the operator ("file", "Deployment", ...).
    kind: str
    #: Unique within (operator, kind, namespace).
    name: str
    #: The desired state, JSON-compatible.
    body: Any
    namespace: str | None = None
    #: Ids of resources that must be applied first.
    depends_on: tuple[str, ...] = ()
    #: Tie-break for apply order among independent resources (see ORDER_*).
    order: int = ORDER_DEFAULT
    #: Paths into ``body`` whose values are secret (in addition to Sensitive values and
    #: secret-looking key names).
    secret_paths: tuple[FieldPath, ...] = ()
    #: Where a directory target puts it, relative to the target root. None: the target's
    #: default layout.
    path: str | None = None
    #: How a directory target serialises ``body``: "yaml", "json", "text", "env" or "toml".
    format: str = "yaml"
    #: Free-form labels the engine keeps in state (owner, source file, ...).
    labels: dict[str, str] = field(default_factory=dict, compare=False)
    #: Which part of a target it belongs to when one target spans several (a kubeconfig
    #: context of a multi-cluster Kubernetes target); part of the id, as ``@scope``.
    scope: str | None = None

    @property
    def id(self) -> str:
        parts = [self.operator, self.kind]
        if self.scope:
            parts.append(f"@{self.scope}")
        if self.namespace:
            parts.append(self.namespace)
        parts.append(self.name)
        return "/".join(parts)

    def as_value(self) -> dict[str, Any]:
        """How the resource reads inside a document (``eval`` output, ``$app.web.name``)."""
        out: dict[str, Any] = {
            "resource": self.id,
            "operator": self.operator,
            "kind": self.kind,
            "name": self.name,
        }
        if self.namespace:
            out["namespace"] = self.namespace
        if self.scope:
            out["scope"] = self.scope
        if self.path:
            out["path"] = self.path
        out["body"] = self.body
        return out

    def secret_field_paths(self) -> set[FieldPath]:
        """Every path in ``body`` to redact: declared, Sensitive values, and secret key names."""
        found: set[FieldPath] = set(self.secret_paths)
        for path, value in walk(self.body):
            if isinstance(value, Sensitive) or _is_secret_leaf(path, value):
                found.add(path)
        return found


def _is_secret_leaf(path: FieldPath, value: Any) -> bool:
    """A scalar under a key whose name says it is secret (``password``, ``api_key``, ...)."""
    return (
        bool(path)
        and isinstance(path[-1], str)
        and SECRET_KEY_PATTERN.search(path[-1]) is not None
        and not isinstance(value, dict | list)
    )


def walk(value: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    """Every (path, value) in a JSON-like value, the root included, depth first."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from walk(item, (*path, index))


def format_path(path: FieldPath) -> str:
    """``("spec", "ports", 0, "port")`` -> ``spec.ports[0].port``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out
