"""The syntax tree of a ``.tsk`` file: the contract between the parser and the evaluator.

Every node is an immutable dataclass with a ``span`` covering its source text. The parser
builds the tree without evaluating anything; the evaluator walks it. Nothing here does I/O.

Shape of a file::

    Module(body=(statement, ...))

Statements appear in module bodies, section bodies, block bodies and object literals:

- :class:`Assign` ``key: value`` / ``key = value`` / ``a.b.c: value``
- :class:`ConstantRun` consecutive ``key: constant`` lines, as one node (see below)
- :class:`GlobalAssign` ``$name: value``
- :class:`Block` ``name { ... }`` and ``name > ... <``
- :class:`Section` ``[a.b]`` and every statement up to the next section header
- :class:`CallStatement` ``@validate.required(...)`` standing alone
- :class:`Include` ``#!include "other.tsk"``
- :class:`IfDirective` ``#!if / #!elif / #!else / #!endif``
- :class:`Directive` any other ``#!name args`` line (metadata)

Expressions are the value side.

**Constant runs.** Data-heavy files are mostly lines like ``replicas: 3``, ``name: "api"`` or
``limits: {cpu: "1m", burst: 3}``. One :class:`Assign` per line costs about six objects (the
node, its key tuple, the value node and three spans) and a few microseconds of Python work per
line, which alone exceeded the budget of a 10 MB file (< 2 s to parse and evaluate; one
``Assign`` per line took ~4 s to parse). So the parser stores a maximal sequence of such lines
of one body as one :class:`ConstantRun`: the keys, and the values as one JSON array the
evaluator decodes in C. Exactly the same text parsed line by line (``constant_runs=False`` in
the parser) gives the same data and the same diagnostics; :meth:`ConstantRun.assigns` gives
those ``Assign`` nodes for tools that want them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from json.scanner import make_scanner
from typing import Any, TypeAlias

from tuskops.lang.source import Span

# --- expressions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    """A number, boolean, null, or a string with no interpolation (``'...'``, ``'''...'''``,
    or ``"..."`` without ``${}``; escapes already decoded)."""

    value: str | int | float | bool | None
    span: Span


@dataclass(frozen=True, slots=True)
class Interpolated:
    """A ``"..."`` or ``\"\"\"...\"\"\"`` string containing ``${...}``.

    ``parts`` alternates freely between decoded text and embedded expressions.
    """

    parts: tuple[str | Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class BareText:
    """Unquoted text that is not a complete expression (``./data/app.db``, ``0.0.0.0``).

    Always evaluates to the string ``text`` (already trimmed).
    """

    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class BareWord:
    """A lone unquoted identifier as a whole value (``level: info``).

    Evaluates to the value of the key ``name`` if a key of that name was defined earlier in the
    current block or an enclosing one (a reference, with a warning), else to the string ``name``.
    """

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class RangeLit:
    """``8000-9000`` as a whole value: ``{"min": 8000, "max": 9000, "type": "range"}``."""

    min: int
    max: int
    span: Span


@dataclass(frozen=True, slots=True)
class ArrayLit:
    items: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ObjectLit:
    """``{ ... }`` as a value. Members are statements (usually :class:`Assign`)."""

    body: tuple[Statement, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class VarRef:
    """``$name`` / ``$name.a.b`` outside strings and ``${name.a.b}`` inside them.

    Reads the global ``name`` if one is defined, else the key path ``name.a.b`` resolved from
    the current block outward to the root. ``sigil`` is False for the ``${a.b}`` form written
    without ``$`` inside a string, and for bare dotted paths in expressions.
    """

    name: str
    path: tuple[str, ...]
    span: Span
    sigil: bool = True


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "!" or "-"
    operand: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # "||" "&&" "==" "!=" "<" "<=" ">" ">=" "+" "-" "*" "/" "%"
    left: Expr
    right: Expr
    span: Span
    op_span: Span


@dataclass(frozen=True, slots=True)
class Ternary:
    cond: Expr
    then: Expr
    otherwise: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Call:
    """``@a.b.c(args)`` or ``@a.b.c`` (``has_parens`` False: a zero-argument call).

    ``name`` holds the dotted parts as written; the evaluator resolves them through the
    operator registry (``@kubernetes.deployment`` = operator ``kubernetes``, action
    ``deployment``) and recognises the cross-file form ``@stem.tsk.get(...)``.
    """

    name: tuple[str, ...]
    args: tuple[Expr, ...]
    span: Span
    name_span: Span
    has_parens: bool = True


Expr: TypeAlias = (
    Literal
    | Interpolated
    | BareText
    | BareWord
    | RangeLit
    | ArrayLit
    | ObjectLit
    | VarRef
    | Unary
    | Binary
    | Ternary
    | Call
)

# --- statements -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Assign:
    """``key: value``; ``key`` holds the dotted path (one part for a plain key).

    An empty value (``key:``) is ``Literal(None)``.
    """

    key: tuple[str, ...]
    value: Expr
    span: Span
    key_span: Span


@dataclass(frozen=True, slots=True)
class ConstantRun:
    """Consecutive ``key: constant`` lines of one body, stored as one node.

    Each line is ``key: value`` or ``key = value`` with a plain (undotted, unquoted) key and a
    value that needs no evaluation: a ``"..."`` string without ``${}``, a number, ``true``
    ``false`` ``null``, a range ``8000-9000``, or a one-line ``[...]``/``{...}`` of those.
    Blank and comment lines may stand between them. The keys are distinct.

    ``keys`` are in source order; ``values_json`` is a JSON array of their values, in the same
    order (ranges already as ``{"min": .., "max": .., "type": "range"}``); ``span`` covers
    the run from its first key to the end of its last value.

    Why the values are kept as JSON text rather than decoded: the evaluator mutates the dicts
    it builds (``limits: {cpu: 1}`` then ``limits.memory: 2``), and a tree may be evaluated
    more than once (``evaluate_module``, a file included twice), so every evaluation needs
    fresh lists and dicts. Decoding the text per evaluation costs the same as copying decoded
    values in C would (0.13 s each for the 41,663 runs of the 10 MB benchmark, ``json``
    against a ``marshal`` round trip), but the parser then never decodes (it checks the text
    with its regex instead, saving another 0.13 s) and the tree holds no mutable objects.
    Positions of single keys are found on demand by :meth:`key_span` (for diagnostics)
    instead of storing a span per line.
    """

    keys: tuple[str, ...]
    values_json: str
    span: Span

    def values(self) -> list[Any]:
        """The values, in the order of :attr:`keys` (new objects on every call)."""
        return _decode_json_array(self.values_json)

    def items(self) -> Iterator[tuple[str, Any]]:
        """``(key, value)`` pairs, as ``dict.update`` takes them (new objects every call)."""
        return zip(self.keys, self.values(), strict=True)

    def key_span(self, key: str) -> Span:
        """Where ``key`` is written in the run (``ValueError`` if it is not one of its keys)."""
        if key not in self.keys:
            raise ValueError(f"{key!r} is not a key of this run")
        source = self.span.source
        found = re.compile(rf"(?:\A|\n)[ \t]*({re.escape(key)})[ \t]*[:=]").search(
            source.text[self.span.start : self.span.end]
        )
        assert found is not None  # a key of the run starts one of its lines
        start = self.span.start + found.start(1)
        return Span(source, start, start + len(key))

    def assigns(self) -> tuple[Assign, ...]:
        """The :class:`Assign` nodes the parser builds for the same lines without runs."""
        from tuskops.lang.parser import parse_run_assigns

        return parse_run_assigns(self)


# ``strict=False``: TuskLang strings may hold raw control characters (a tab) that strict JSON
# rejects. The scanner (what ``JSONDecoder.raw_decode`` calls) is called directly:
# ``json.loads`` builds a decoder per call, and ``JSONDecoder.decode`` adds two Python frames,
# which shows over thousands of runs. (Typeshed wants a scanner as the "context"; a decoder is
# what the json module itself passes.)
_SCAN_JSON = make_scanner(json.JSONDecoder(strict=False))  # type: ignore[arg-type]


def _decode_json_array(text: str) -> list[Any]:
    values, end = _SCAN_JSON(text, 0)
    if end != len(text) or type(values) is not list:  # the parser only stores valid arrays
        raise ValueError(f"not a JSON array: {text[:40]!r}")
    return values


@dataclass(frozen=True, slots=True)
class GlobalAssign:
    """``$name: value``: a file-wide variable, not part of the output."""

    name: str
    value: Expr
    span: Span
    key_span: Span


@dataclass(frozen=True, slots=True)
class Block:
    """``name { ... }`` or ``name > ... <``; ``key`` may be dotted."""

    key: tuple[str, ...]
    body: tuple[Statement, ...]
    span: Span
    key_span: Span
    style: str = "{"  # "{" or ">"


@dataclass(frozen=True, slots=True)
class Section:
    """``[a.b]`` and the statements that follow it up to the next section header.

    Keys in ``body`` go under the path ``a.b`` from the root.
    """

    path: tuple[str, ...]
    body: tuple[Statement, ...]
    span: Span
    header_span: Span


@dataclass(frozen=True, slots=True)
class CallStatement:
    call: Call
    span: Span


@dataclass(frozen=True, slots=True)
class Include:
    """``#!include "other.tsk"``: the other file's statements are merged at this point."""

    path: str
    span: Span


@dataclass(frozen=True, slots=True)
class IfBranch:
    """One arm of an ``#!if``: ``cond`` is None for ``#!else``."""

    cond: Expr | None
    body: tuple[Statement, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class IfDirective:
    branches: tuple[IfBranch, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Directive:
    """Any other ``#!name args`` line, kept as metadata (``#!target dir ./deploy``)."""

    name: str
    args: str
    span: Span


Statement: TypeAlias = (
    Assign
    | ConstantRun
    | GlobalAssign
    | Block
    | Section
    | CallStatement
    | Include
    | IfDirective
    | Directive
)


@dataclass(frozen=True, slots=True)
class Module:
    """A whole file. ``object_style`` is True when the file is one ``{...}`` literal."""

    body: tuple[Statement, ...]
    span: Span
    object_style: bool = False
