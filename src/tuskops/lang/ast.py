"""The syntax tree of a ``.tsk`` file: the contract between the parser and the evaluator.

Every node is an immutable dataclass with a ``span`` covering its source text. The parser
builds the tree without evaluating anything; the evaluator walks it. Nothing here does I/O.

Shape of a file::

    Module(body=(statement, ...))

Statements appear in module bodies, section bodies, block bodies and object literals:

- :class:`Assign` ``key: value`` / ``key = value`` / ``a.b.c: value``
- :class:`GlobalAssign` ``$name: value``
- :class:`Block` ``name { ... }`` and ``name > ... <``
- :class:`Section` ``[a.b]`` and every statement up to the next section header
- :class:`CallStatement` ``@validate.required(...)`` standing alone
- :class:`Include` ``#!include "other.tsk"``
- :class:`IfDirective` ``#!if / #!elif / #!else / #!endif``
- :class:`Directive` any other ``#!name args`` line (metadata)

Expressions are the value side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

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
