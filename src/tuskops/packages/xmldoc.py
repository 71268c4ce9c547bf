"""A small, safe XML reader with positions, for every XML file of the package layer.

POMs, MSBuild project files, ``maven-metadata.xml`` and ``.nuspec`` responses all go through
:func:`parse`. It is built on expat because the standard library's ElementTree loses element
positions and ``defusedxml`` is not a dependency: DOCTYPE and entity declarations are refused
(no entity expansion, no external fetches), namespaces are reduced to local names (the
namespace is kept on the element), and every element keeps its ``line:col`` so errors can point
into the file.
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
    namespace: str = ""

    @property
    def text(self) -> str:
        return "".join(self.parts).strip()

    @property
    def where(self) -> str:
        return f"{self.line}:{self.col}"

    # XML's rule: names match exactly.
    def child(self, tag: str) -> Element | None:
        return next(self.all(tag), None)

    def all(self, tag: str) -> Iterator[Element]:
        return (c for c in self.children if c.tag == tag)

    def value(self, tag: str) -> str | None:
        node = self.child(tag)
        return None if node is None else node.text

    # MSBuild's rule: element and attribute names match case-insensitively.
    def named(self, tag: str) -> Iterator[Element]:
        lowered = tag.lower()
        return (c for c in self.children if c.tag.lower() == lowered)

    def attr(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.attrs.items() if k.lower() == lowered), None)


def _split(name: str) -> tuple[str, str]:
    namespace, _, local = name.rpartition("}")
    return namespace, local


def parse(
    data: bytes,
    error: ErrorFactory,
    *,
    doctype_message: str = "DOCTYPE declarations are not allowed",
    entity_message: str = "entity declarations are not allowed",
    malformed: str = "not well-formed XML",
    check_element: Callable[[str, str, str], None] | None = None,
) -> Element:
    """Parse ``data`` into an element tree (the root element).

    Problems raise ``error(message, "line:col")``. ``check_element(namespace, tag, where)`` is
    called for each element as it opens, so a caller can refuse foreign namespaces at their
    position.
    """
    parser = expat.ParserCreate(namespace_separator="}")
    stack: list[Element] = []
    roots: list[Element] = []

    def position() -> str:
        return f"{parser.CurrentLineNumber}:{parser.CurrentColumnNumber + 1}"

    def start(name: str, attrs: dict[str, str]) -> None:
        namespace, local = _split(name)
        if check_element is not None:
            check_element(namespace, local, position())
        node = Element(
            local,
            parser.CurrentLineNumber,
            parser.CurrentColumnNumber + 1,
            {_split(k)[1]: v for k, v in attrs.items()},
            namespace=namespace,
        )
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(_name: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        if stack:
            stack[-1].parts.append(text)

    def doctype(*_args: object) -> None:
        # expat reports the declaration after its name; point at its "<!DOCTYPE".
        at = data.rfind(b"<!DOCTYPE", 0, max(parser.CurrentByteIndex, 0) + 1)
        where = position()
        if at >= 0:
            line = data.count(b"\n", 0, at) + 1
            col = at - (data.rfind(b"\n", 0, at) + 1) + 1
            where = f"{line}:{col}"
        raise error(doctype_message, where)

    def entity(*_args: object) -> None:
        raise error(entity_message, position())

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
        raise error(f"{malformed}: {message}", f"{exc.lineno}:{exc.offset + 1}") from None
    return roots[0]
