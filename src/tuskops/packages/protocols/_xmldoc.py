"""A small, safe XML reader for registry responses (maven-metadata.xml, .nuspec).

Built on expat, like the manifest readers: DOCTYPE and entity declarations are refused (no
entity expansion, no external fetches), namespaces are dropped to local names, and every
element keeps its ``line:col`` so errors can point into the response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from xml.parsers import expat

from tuskops.errors import PackageError

#: Builds the caller's error from a message and a ``line:col`` location.
ErrorFactory = Callable[[str, str], PackageError]


@dataclass
class Element:
    tag: str
    line: int
    col: int
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Element] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    @property
    def where(self) -> str:
        return f"{self.line}:{self.col}"

    def child(self, tag: str) -> Element | None:
        return next(self.all(tag), None)

    def all(self, tag: str) -> Iterator[Element]:
        return (c for c in self.children if c.tag == tag)

    def value(self, tag: str) -> str | None:
        node = self.child(tag)
        return None if node is None else node.text


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def parse(data: bytes, error: ErrorFactory) -> Element:
    """Parse ``data`` into an element tree; malformed XML raises ``error(message, line:col)``."""
    parser = expat.ParserCreate(namespace_separator="}")
    stack: list[Element] = []
    roots: list[Element] = []

    def position() -> str:
        return f"{parser.CurrentLineNumber}:{parser.CurrentColumnNumber + 1}"

    def start(name: str, attrs: dict[str, str]) -> None:
        node = Element(
            _local(name),
            parser.CurrentLineNumber,
            parser.CurrentColumnNumber + 1,
            {_local(k): v for k, v in attrs.items()},
        )
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_name: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        if stack:
            stack[-1].parts.append(text)

    def doctype(*_args: object) -> None:
        raise error("DOCTYPE declarations are not allowed", position())

    def entity(*_args: object) -> None:
        raise error("entity declarations are not allowed", position())

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = entity
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        message = expat.errors.messages[exc.code] if exc.code else str(exc)
        raise error(f"not well-formed XML: {message}", f"{exc.lineno}:{exc.offset + 1}") from None
    return roots[0]
