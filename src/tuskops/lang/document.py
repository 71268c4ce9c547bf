"""The result of evaluating a ``.tsk`` file."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tuskops.core.resource import Resource, Sensitive
from tuskops.lang.source import Diagnostic

REDACTED = "(sensitive)"


@dataclass(frozen=True)
class DirectiveInfo:
    """A ``#!name args`` line kept as metadata."""

    name: str
    args: str
    file: str
    line: int


@dataclass
class Document:
    """An evaluated file.

    ``data`` is the output object: str, int, float, bool, None, list, dict, and
    :class:`Resource` objects where an operator returned desired state. Use :meth:`to_plain`
    for JSON-compatible data.
    """

    data: dict[str, Any]
    warnings: list[Diagnostic] = field(default_factory=list)
    directives: list[DirectiveInfo] = field(default_factory=list)
    #: Resources returned by calls standing alone as statements (not stored under a key).
    statement_resources: list[Resource] = field(default_factory=list)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __contains__(self, key: object) -> bool:
        return key in self.data

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def lookup(self, dotted: str, default: Any = None) -> Any:
        """``doc.lookup("app.web.image")``; ``default`` when the path is not there."""
        value = lookup_path(self.data, dotted)
        return default if value is MISSING else value

    @property
    def resources(self) -> list[Resource]:
        """Every resource in the document, in document order, then statement calls'."""
        found = list(_resources_in(self.data))
        for res in self.statement_resources:
            found.extend(_resources_in(res))
        return found

    def to_plain(self, *, redact: bool = True) -> dict[str, Any]:
        """JSON-compatible data; Sensitive strings redacted unless ``redact`` is False."""
        plain = _plain(self.data, redact)
        assert isinstance(plain, dict)
        return plain

    def to_json(self, *, redact: bool = True, indent: int | None = 2) -> str:
        return json.dumps(self.to_plain(redact=redact), indent=indent, ensure_ascii=False)

    def to_flat(self, *, redact: bool = True) -> dict[str, Any]:
        """Dotted keys to leaf values, as the official parser's flat output."""
        out: dict[str, Any] = {}

        def visit(prefix: str, value: Any) -> None:
            if isinstance(value, dict) and value:
                for k, v in value.items():
                    visit(f"{prefix}.{k}" if prefix else str(k), v)
            else:
                out[prefix] = value

        visit("", self.to_plain(redact=redact))
        return out


#: What :func:`lookup_path` returns for a path that is not there (None is a value).
MISSING: Any = object()


def lookup_path(data: Any, dotted: str) -> Any:
    """The value at ``a.b.0.c`` in nested objects, arrays and resources, or ``MISSING``."""
    node = data
    for part in dotted.split("."):
        if isinstance(node, Resource):
            node = node.as_value()
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def _resources_in(value: Any) -> Iterator[Resource]:
    if isinstance(value, Resource):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _resources_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _resources_in(item)


def _plain(value: Any, redact: bool) -> Any:
    if isinstance(value, Resource):
        return _plain(value.as_value(), redact)
    if isinstance(value, Sensitive):
        return REDACTED if redact else str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v, redact) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, redact) for v in value]
    return value
