"""The evaluator: syntax tree -> :class:`~tuskops.lang.document.Document`.

Evaluation runs in two phases.

1. **Build.** The statements are walked in order and the output tree is laid out: sections and
   blocks become nested dicts, ``#!include`` merges the other file's statements in place,
   ``#!if`` picks a branch. A value that is a plain literal is stored directly, and a
   :class:`~tuskops.lang.ast.ConstantRun` (many ``key: constant`` lines) is decoded from its
   JSON in one C call and merged with one ``dict.update`` (the fast paths that keep large
   files quick); any other value is stored as a :class:`Thunk`, an unevaluated expression that
   remembers the block it was written in.
2. **Force.** Every thunk is evaluated in document order. A reference (``$a.b``, ``${a.b}``) to
   a key that holds a thunk forces that thunk first and memoises it; a thunk met again while it
   is being evaluated is a reference cycle. So references see the whole file, whatever their
   order.

Errors never stop evaluation: each is recorded as a Diagnostic and the failing value becomes
:data:`POISON`, which silently propagates through everything built from it (so one mistake is
reported once). At the end an :class:`~tuskops.errors.EvaluationError` lists them all.

Nothing here writes anywhere or opens a network connection; operators obey the same rule.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import gc
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tuskops.core.operator import CallContext, value_type_name
from tuskops.core.registry import Registry, default_registry
from tuskops.core.resource import Resource, Sensitive
from tuskops.errors import EvaluationError, LangError, OperatorError, UnknownActionError
from tuskops.lang import ast
from tuskops.lang.document import DirectiveInfo, Document
from tuskops.lang.source import Diagnostic, Severity, Source, Span

# --- values that only exist during evaluation -------------------------------------------------


class _Poison:
    """The value of anything whose evaluation failed (the error is already reported)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "POISON"


POISON: Any = _Poison()
_MISSING: Any = object()

# Thunk states
_PENDING, _ACTIVE, _DONE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class FileContext:
    """The file a statement came from: where its relative paths resolve."""

    path: Path | None
    base_dir: Path


class Scope:
    """A block being built: its dict, the enclosing block, and its key path from the root.

    ``frozen_lens`` ends the chain used to decide what "defined earlier" means for bare words
    (see :func:`_visible_lengths`): ``()`` at the document root, and for an object literal
    evaluated inside an expression the lengths its enclosing thunk saw.
    """

    __slots__ = ("frozen_lens", "node", "parent", "path")

    def __init__(
        self,
        node: dict[str, Any],
        parent: Scope | None,
        path: tuple[str, ...],
        frozen_lens: tuple[int, ...] | None = None,
    ) -> None:
        self.node = node
        self.parent = parent
        self.path = path
        self.frozen_lens = frozen_lens


class Thunk:
    """An expression waiting to be evaluated, with everything needed to evaluate it later."""

    __slots__ = (
        "expr",
        "file",
        "key",
        "lens",
        "name",
        "owner",
        "relative",
        "scope",
        "span",
        "state",
        "value",
    )

    def __init__(
        self,
        expr: ast.Expr,
        scope: Scope,
        file: FileContext,
        name: tuple[str, ...],
        span: Span,
        owner: dict[str, Any] | None = None,
        key: str = "",
        relative: bool = True,
    ) -> None:
        self.expr = expr
        self.scope = scope
        self.file = file
        #: The key path below ``scope`` (``relative``), or a name of its own (``$g``, ``#!if``).
        self.name = name
        self.relative = relative
        self.span = span
        #: The dict slot the value goes to once evaluated (None: a global or a statement call).
        self.owner = owner
        self.key = key
        #: How many keys each enclosing block held when the thunk was made: bare words may only
        #: refer to keys defined earlier. Only worked out when the expression can hold one.
        self.lens = _visible_lengths(scope) if _may_hold_bare_word(expr) else ()
        self.state = _PENDING
        self.value: Any = None

    @property
    def path(self) -> tuple[str, ...]:
        """The full key path, for messages and nested objects."""
        return self.scope.path + self.name if self.relative else self.name

    @property
    def label(self) -> str:
        return ".".join(self.path)


def _may_hold_bare_word(expr: ast.Expr) -> bool:
    kind = type(expr)
    if kind is ast.VarRef or kind is ast.Literal:
        return False
    if kind is ast.Call:
        assert isinstance(expr, ast.Call)
        return any(map(_may_hold_bare_word, expr.args))
    if kind is ast.Interpolated:
        assert isinstance(expr, ast.Interpolated)
        return any(_may_hold_bare_word(p) for p in expr.parts if not isinstance(p, str))
    if kind is ast.Binary:
        assert isinstance(expr, ast.Binary)
        return _may_hold_bare_word(expr.left) or _may_hold_bare_word(expr.right)
    return True  # bare words, arrays, objects, ternaries: worth the bookkeeping


def _visible_lengths(scope: Scope) -> tuple[int, ...]:
    lengths: list[int] = []
    current: Scope | None = scope
    while current is not None:
        lengths.append(len(current.node))
        if current.frozen_lens is not None:
            lengths.extend(current.frozen_lens)
            break
        current = current.parent
    return tuple(lengths)


def _key_index(node: dict[str, Any], key: str) -> int:
    for index, name in enumerate(node):
        if name == key:
            return index
    return -1


# --- value helpers ----------------------------------------------------------------------------


def type_of(value: Any) -> str:
    """The TuskLang name of a value's type, as used in error messages."""
    if isinstance(value, Resource):
        return "resource"
    return value_type_name(value)


def _is_number(value: Any) -> bool:
    kind = type(value)
    return kind is int or kind is float


def to_text(value: Any) -> str:
    """A value as TuskLang prints it inside a string: true/false/null, 3, 2.5, JSON."""
    if isinstance(value, str):
        return str(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    if type(value) is float:
        return repr(value)
    if isinstance(value, Resource):
        return value.id
    return json.dumps(_jsonable(value), ensure_ascii=False, separators=(",", ":"), default=str)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Resource):
        return _jsonable(value.as_value())
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def values_equal(left: Any, right: Any) -> bool:
    """``==``: values of different types are unequal (``1 == 1.0``, but ``1 != true``)."""
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if isinstance(left, str) and isinstance(right, str):
        return str(left) == str(right)
    if type(left) is not type(right):
        if isinstance(left, Mapping) and isinstance(right, Mapping):
            pass
        else:
            return False
    if isinstance(left, list):
        return len(left) == len(right) and all(map(values_equal, left, right))
    if isinstance(left, Mapping):
        return left.keys() == right.keys() and all(values_equal(left[k], right[k]) for k in left)
    return bool(left == right)


def _modulo(left: int | float, right: int | float) -> int | float:
    # The result takes the sign of the left operand, as in C, JavaScript and PHP.
    if type(left) is int and type(right) is int:
        remainder = abs(left) % abs(right)
        return -remainder if left < 0 else remainder
    return math.fmod(left, right)


def _divide(left: int | float, right: int | float) -> int | float:
    # Integers that divide exactly stay integers (6 / 3 == 2), so replica maths stays integral.
    if type(left) is int and type(right) is int and left % right == 0:
        return left // right
    return left / right


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "%": _modulo,
}

_ORDERING: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


def _cross_file_split(parts: tuple[str, ...]) -> tuple[tuple[str, ...], str | None] | None:
    """``("config", "database", "tsk", "get")`` -> (("config", "database"), "get")."""
    if len(parts) < 2:
        return None
    if parts[-1] == "tsk":
        return parts[:-1], None
    if len(parts) >= 3 and parts[-2] == "tsk":
        return parts[:-2], parts[-1]
    return None


# --- the evaluation of a set of files ---------------------------------------------------------


class Session:
    """Everything shared by the files of one evaluation: options, clock, caches.

    It is the :class:`~tuskops.core.operator.Loader` operators get: cross-file reads and
    ``peanu.tsk`` files are evaluated once per session, and a file that (indirectly) reads
    itself is a cycle error.
    """

    def __init__(
        self,
        *,
        offline: bool,
        env: Mapping[str, str],
        registry: Registry,
        now: datetime,
    ) -> None:
        self.offline = offline
        self.env = env
        self.registry = registry
        self.now = now
        #: The read-only lookup cache every CallContext shares.
        self.cache: dict[Any, Any] = {}
        self._documents: dict[Path, Document | LangError] = {}
        self._parsed: dict[Path, ast.Module] = {}
        #: Files being evaluated right now, outermost first (for cycle errors).
        self.active: list[Path] = []
        #: Warnings of files loaded on the side (cross-file reads, peanu.tsk).
        self.side_warnings: list[Diagnostic] = []
        #: LangErrors from loaded files whose diagnostics were already reported.
        self.reported: set[int] = set()

    def parse_file(self, path: Path, name: str | None = None) -> ast.Module:
        """Parse ``path`` once per session. OSError/UnicodeDecodeError go to the caller.

        ``name`` is how messages name the file (default: relative to the working directory
        when inside it).
        """
        key = path.resolve()
        module = self._parsed.get(key)
        if module is None:
            from tuskops.lang.parser import parse_source

            source = Source.from_path(key)
            source.name = name or _display_name(key)
            module = parse_source(source)
            self._parsed[key] = module
        return module

    def load_file(self, path: Path) -> dict[str, Any]:
        """Evaluate ``path`` (once per session) and return its data.

        Raises OperatorError for a cycle or an unreadable file, LangError for a file with
        errors.
        """
        key = path.resolve()
        if key in self.active:
            chain = [*self.active[self.active.index(key) :], key]
            raise OperatorError(
                f"cross-file cycle: {' -> '.join(p.name for p in chain)}",
                hint="a file must not read itself through other files",
            )
        known = self._documents.get(key)
        if isinstance(known, Document):
            return known.data
        if isinstance(known, LangError):
            raise known
        try:
            module = self.parse_file(key)
        except OSError as exc:
            raise OperatorError(f"cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise OperatorError(f"{path} is not UTF-8 text: {exc.reason}") from None
        except LangError as exc:
            self._documents[key] = exc
            raise
        self.active.append(key)
        try:
            doc = _Evaluation(self, FileContext(key, key.parent)).run(module)
        except LangError as exc:
            self._documents[key] = exc
            raise
        finally:
            self.active.pop()
        self._documents[key] = doc
        self.side_warnings.extend(doc.warnings)
        return doc.data


class _Evaluation:
    """One file (with everything it includes) being evaluated."""

    def __init__(self, session: Session, file: FileContext) -> None:
        self.session = session
        self.file = file
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.directives: list[DirectiveInfo] = []
        self.statement_resources: list[Resource] = []
        self.root: dict[str, Any] = {}
        self.root_scope = Scope(self.root, None, (), frozen_lens=())
        self.globals: dict[str, Thunk] = {}
        #: Key thunks and statement calls, in document order.
        self.pending: list[Thunk] = []
        #: Thunks being evaluated, innermost last (for cycle messages).
        self.stack: list[Thunk] = []
        #: Files being included right now (for include cycles).
        self.include_stack: list[Path] = [file.path] if file.path is not None else []
        self._eval_by_type: dict[type, Callable[[Any, Thunk], Any]] = {
            ast.Literal: self._eval_literal,
            ast.Interpolated: self._eval_interpolated,
            ast.BareText: self._eval_bare_text,
            ast.BareWord: self._eval_bare_word,
            ast.RangeLit: self._eval_range,
            ast.ArrayLit: self._eval_array,
            ast.ObjectLit: self._eval_object,
            ast.VarRef: self._eval_var_ref,
            ast.Unary: self._eval_unary,
            ast.Binary: self._eval_binary,
            ast.Ternary: self._eval_ternary,
            ast.Call: self._eval_call,
        }

    # --- diagnostics --------------------------------------------------------------------------

    def error(
        self,
        message: str,
        span: Span | None,
        hint: str | None = None,
        notes: tuple[tuple[str, Span], ...] = (),
    ) -> Any:
        """Record an error; returns POISON so callers can ``return self.error(...)``."""
        self.errors.append(Diagnostic(message, span, hint=hint, notes=notes))
        return POISON

    def warn(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self.warnings.append(Diagnostic(message, span, Severity.WARNING, hint=hint))

    # --- phase 1: build -----------------------------------------------------------------------

    def run(self, module: ast.Module) -> Document:
        self.build(module.body, self.root_scope, self.file)
        for thunk in self.pending:
            owner = thunk.owner
            if owner is None:  # a call standing alone as a statement
                self._collect_statement_result(self.force(thunk))
            elif owner.get(thunk.key) is thunk:  # skip values a duplicate key replaced
                # (POISON stays in place so later readers stay quiet; with any error the
                # document is not returned.)
                owner[thunk.key] = self.force(thunk)
        for thunk in self.globals.values():  # unused globals are checked too
            self.force(thunk)
        if self.errors:
            raise EvaluationError(_in_source_order(self.errors))
        return Document(
            data=self.root,
            warnings=self.warnings,
            directives=self.directives,
            statement_resources=self.statement_resources,
        )

    def build(self, body: tuple[ast.Statement, ...], scope: Scope, file: FileContext) -> None:
        """Lay out ``body`` into ``scope``'s dict (keys in order; non-literals as thunks)."""
        node = scope.node
        pending = self.pending
        constant_of = self._constant
        assign_type = ast.Assign
        run_type = ast.ConstantRun
        literal_type = ast.Literal
        bare_text_type = ast.BareText
        object_type = ast.ObjectLit
        # Typed as Any: dispatch is on the exact type (faster than isinstance chains on large
        # files), and each branch below only touches fields of the type it checked.
        statements: tuple[Any, ...] = body
        for stmt in statements:
            kind = type(stmt)
            if kind is run_type:
                # Many `key: constant` lines at once (decoded afresh: nothing in the document
                # is shared with the tree). Keys keep the position of their first definition,
                # as with Assign.
                keys = stmt.keys
                if not node.keys().isdisjoint(keys):
                    for name in keys:
                        if name in node:
                            self._duplicate(node, name, (*scope.path, name), stmt.key_span(name))
                node.update(zip(keys, stmt.values(), strict=True))
            elif kind is assign_type:
                key = stmt.key
                if len(key) != 1:
                    self._assign(stmt, scope, file)
                    continue
                # The common case, inlined: `name: value` in the current block.
                name = key[0]
                if name in node:
                    self._duplicate(node, name, scope.path + key, stmt.key_span)
                value = stmt.value
                value_kind = type(value)
                if value_kind is literal_type:
                    node[name] = value.value
                elif value_kind is bare_text_type:
                    node[name] = value.text
                elif value_kind is object_type:
                    # `key: { ... }` is laid out like a block, so references reach into it.
                    child: dict[str, Any] = {}
                    node[name] = child
                    self.build(value.body, Scope(child, scope, scope.path + key), file)
                else:
                    constant = constant_of(value, scope)
                    if constant is _MISSING:
                        constant = Thunk(value, scope, file, key, stmt.span, node, name)
                        pending.append(constant)
                    node[name] = constant
            elif kind is ast.Block:
                child = self._ensure_path(node, stmt.key, scope.path, stmt.key_span)
                self.build(stmt.body, Scope(child, scope, scope.path + stmt.key), file)
            elif kind is ast.Section:
                self.build(stmt.body, self._section_scope(stmt), file)
            elif kind is ast.GlobalAssign:
                self._global(stmt, scope, file)
            elif kind is ast.CallStatement:
                pending.append(Thunk(stmt.call, scope, file, ("@call",), stmt.span))
            elif kind is ast.Include:
                self._include(stmt, scope, file)
            elif kind is ast.IfDirective:
                self._if_directive(stmt, scope, file)
            elif kind is ast.Directive:
                self.directives.append(
                    DirectiveInfo(stmt.name, stmt.args, stmt.span.source.name, stmt.span.line)
                )
            else:  # pragma: no cover - the parser only produces the types above
                self.error(f"unexpected statement {kind.__name__}", getattr(stmt, "span", None))

    def _assign(self, stmt: ast.Assign, scope: Scope, file: FileContext) -> None:
        """``a.b.c: value``: the general case of an assignment."""
        key = stmt.key
        node = self._ensure_path(scope.node, key[:-1], scope.path, stmt.key_span)
        name = key[-1]
        if name in node:
            self._duplicate(node, name, scope.path + key, stmt.key_span)
        value = stmt.value
        if type(value) is ast.ObjectLit:
            assert isinstance(value, ast.ObjectLit)
            child: dict[str, Any] = {}
            node[name] = child
            self.build(value.body, Scope(child, scope, scope.path + key), file)
            return
        constant = self._constant(value, scope)
        if constant is not _MISSING:
            node[name] = constant
            return
        thunk = Thunk(value, scope, file, key, stmt.span, owner=node, key=name)
        node[name] = thunk
        self.pending.append(thunk)

    def _constant(self, value: Any, scope: Scope) -> Any:
        """The value of expression ``value`` when it needs no evaluation, else ``_MISSING``.

        (``value`` is typed Any for speed: dispatch is on the exact node type.)
        """
        kind = type(value)
        if kind is ast.Literal:
            return value.value
        if kind is ast.ArrayLit:
            items: list[Any] = []
            append = items.append
            literal_type = ast.Literal
            for item in value.items:
                if type(item) is literal_type:
                    append(item.value)
                    continue
                constant = self._constant(item, scope)
                if constant is _MISSING:
                    return _MISSING
                append(constant)
            return items
        if kind is ast.BareText:
            return value.text
        if kind is ast.BareWord:
            # A reference only if the key is already defined; otherwise it is plain text.
            current: Scope | None = scope
            while current is not None:
                if value.name in current.node:
                    return _MISSING
                current = current.parent
            return value.name
        if kind is ast.RangeLit:
            if value.min > value.max:
                return _MISSING  # evaluated later, to report the error
            return {"min": value.min, "max": value.max, "type": "range"}
        if kind is ast.ObjectLit:
            # Only the simple shape `{a: 1, b: "x"}` (as in arrays of objects); anything with
            # dotted or repeated keys, bare words or statements goes the general way.
            members: dict[str, Any] = {}
            for member in value.body:
                if type(member) is ast.ConstantRun:
                    if not members.keys().isdisjoint(member.keys):
                        return _MISSING
                    members.update(member.items())
                    continue
                if type(member) is not ast.Assign or len(member.key) != 1:
                    return _MISSING
                name = member.key[0]
                member_value = member.value
                if name in members or type(member_value) is ast.BareWord:
                    return _MISSING
                constant = self._constant(member_value, scope)
                if constant is _MISSING:
                    return _MISSING
                members[name] = constant
            return members
        return _MISSING

    def _duplicate(
        self, node: dict[str, Any], name: str, path: tuple[str, ...], span: Span
    ) -> None:
        previous = node[name]
        notes: tuple[tuple[str, Span], ...] = ()
        if isinstance(previous, Thunk):
            notes = (("the earlier value", previous.span),)
        self.warnings.append(
            Diagnostic(
                f"duplicate key '{'.'.join(path)}': the later value wins",
                span,
                Severity.WARNING,
                notes=notes,
            )
        )

    def _ensure_path(
        self, node: dict[str, Any], parts: tuple[str, ...], base: tuple[str, ...], span: Span
    ) -> dict[str, Any]:
        """The dict at ``parts`` below ``node``, creating (or replacing non-objects) as needed."""
        for index, part in enumerate(parts):
            existing = node.get(part, _MISSING)
            if type(existing) is dict:
                node = existing
                continue
            if existing is not _MISSING:
                where = ".".join(base + parts[: index + 1])
                self.warn(
                    f"'{where}' is replaced by an object: the later definition wins",
                    span,
                    hint=f"'{where}' was set to a value before",
                )
            child: dict[str, Any] = {}
            node[part] = child
            node = child
        return node

    def _section_scope(self, section: ast.Section) -> Scope:
        """Scopes for ``[a.b]``: the root, then ``a``, then ``a.b`` (created as needed)."""
        scope = self.root_scope
        for part in section.path:
            child = self._ensure_path(scope.node, (part,), scope.path, section.header_span)
            scope = Scope(child, scope, (*scope.path, part))
        return scope

    def _global(self, stmt: ast.GlobalAssign, scope: Scope, file: FileContext) -> None:
        if stmt.name in self.globals:
            self.warn(f"duplicate global '${stmt.name}': the later value wins", stmt.key_span)
        self.globals[stmt.name] = Thunk(
            stmt.value, scope, file, (f"${stmt.name}",), stmt.span, relative=False
        )

    def _include(self, stmt: ast.Include, scope: Scope, file: FileContext) -> None:
        path = Path(stmt.path).expanduser()
        if not path.is_absolute():
            path = file.base_dir / path
        try:
            resolved = path.resolve()
        except OSError:
            resolved = path
        if resolved in self.include_stack:
            chain = [*self.include_stack[self.include_stack.index(resolved) :], resolved]
            self.error(
                f"include cycle: {' -> '.join(p.name for p in chain)}",
                stmt.span,
                hint="a file must not include itself, directly or through other files",
            )
            return
        try:
            module = self.session.parse_file(resolved)
        except FileNotFoundError:
            self.error(
                f"included file '{stmt.path}' not found",
                stmt.span,
                hint=f"looked for {path} (paths are relative to the including file)",
            )
            return
        except OSError as exc:
            self.error(f"cannot include '{stmt.path}': {exc.strerror or exc}", stmt.span)
            return
        except UnicodeDecodeError as exc:
            self.error(f"included file '{stmt.path}' is not UTF-8 text: {exc.reason}", stmt.span)
            return
        except LangError as exc:  # syntax errors in the included file: report them all
            self.errors.extend(exc.diagnostics)
            self.error(f"included file '{stmt.path}' has syntax errors", stmt.span)
            return
        self.include_stack.append(resolved)
        try:
            self.build(module.body, scope, FileContext(resolved, resolved.parent))
        finally:
            self.include_stack.pop()

    def _if_directive(self, stmt: ast.IfDirective, scope: Scope, file: FileContext) -> None:
        for branch in stmt.branches:
            if branch.cond is None:  # #!else
                self.build(branch.body, scope, file)
                return
            # Conditions are evaluated while the file is laid out, so they see globals and
            # keys defined above the directive.
            thunk = Thunk(branch.cond, scope, file, ("#!if",), branch.span, relative=False)
            errors_before = len(self.errors)
            value = self.force(thunk)
            if value is POISON:
                for index in range(errors_before, len(self.errors)):
                    diagnostic = self.errors[index]
                    if diagnostic.message.startswith("undefined"):
                        self.errors[index] = dataclasses.replace(
                            diagnostic,
                            hint="#!if conditions see the globals and keys defined above them",
                        )
                return
            if type(value) is not bool:
                self.error(
                    f"#!if condition must be a boolean, got {type_of(value)}",
                    branch.cond.span,
                    hint='compare explicitly, e.g. #!if @env("APP_ENV") == "prod"',
                )
                return
            if value:
                self.build(branch.body, scope, file)
                return

    # --- phase 2: force -----------------------------------------------------------------------

    def force(self, thunk: Thunk) -> Any:
        """The value of ``thunk``, evaluating it on first use."""
        state = thunk.state
        if state == _DONE:
            return thunk.value
        if state == _ACTIVE:
            return self._cycle(thunk)
        thunk.state = _ACTIVE
        self.stack.append(thunk)
        value: Any = POISON
        try:
            value = self._eval_by_type[type(thunk.expr)](thunk.expr, thunk)
        except RecursionError:
            # Recorded by the innermost level that still has room to record it; the levels
            # above see POISON and stay quiet.
            value = self.error(
                "expression nested too deeply (or a very long chain of references)", thunk.span
            )
        except Exception as exc:  # an evaluator bug must not hide every other diagnostic
            value = self.error(
                f"internal error while evaluating '{thunk.label}': {type(exc).__name__}: {exc}",
                thunk.span,
            )
        finally:
            # Even when an error escapes, the thunk must not stay "in progress" (it would
            # later look like a cycle).
            self.stack.pop()
            thunk.value = value
            thunk.state = _DONE
        return value

    def _cycle(self, thunk: Thunk) -> Any:
        members = self.stack[self.stack.index(thunk) :]
        names = " -> ".join([*(m.label for m in members), thunk.label])
        notes = tuple((f"'{m.label}' is defined here", m.span) for m in members)
        # Reported once, at the member evaluated first; the notes show every member.
        return self.error(
            f"reference cycle: {names}",
            members[0].span,
            hint="each of these values depends on itself through the others",
            notes=notes,
        )

    def eval(self, expr: ast.Expr, ctx: Thunk) -> Any:
        return self._eval_by_type[type(expr)](expr, ctx)

    def materialize(self, value: Any) -> Any:
        """A copy of ``value`` with every thunk inside evaluated (references never alias)."""
        kind = type(value)
        if kind is Thunk:
            value = self.force(value)
            kind = type(value)
        if kind is dict:
            return {k: self.materialize(v) for k, v in value.items()}
        if kind is list:
            return [self.materialize(v) for v in value]
        return value

    def _member(self, node: dict[str, Any], key: str) -> Any:
        value = node[key]
        if type(value) is Thunk:
            return self.force(value)
        return value

    # --- expressions --------------------------------------------------------------------------

    def _eval_literal(self, expr: ast.Literal, ctx: Thunk) -> Any:
        return expr.value

    def _eval_bare_text(self, expr: ast.BareText, ctx: Thunk) -> Any:
        return expr.text

    def _eval_range(self, expr: ast.RangeLit, ctx: Thunk) -> Any:
        if expr.min > expr.max:
            return self.error(
                f"invalid range {expr.min}-{expr.max}: the minimum is greater than the maximum",
                expr.span,
                hint=f'quote it ("{expr.min}-{expr.max}") for text',
            )
        return {"min": expr.min, "max": expr.max, "type": "range"}

    def _eval_interpolated(self, expr: ast.Interpolated, ctx: Thunk) -> Any:
        pieces: list[str] = []
        sensitive = False
        for part in expr.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = self.eval(part, ctx)
            if value is POISON:
                return POISON
            sensitive = sensitive or isinstance(value, Sensitive)
            pieces.append(to_text(value))
        text = "".join(pieces)
        # A secret interpolated into a string keeps the whole string secret.
        return Sensitive(text) if sensitive else text

    def _eval_array(self, expr: ast.ArrayLit, ctx: Thunk) -> Any:
        return [self.eval(item, ctx) for item in expr.items]

    def _eval_object(self, expr: ast.ObjectLit, ctx: Thunk) -> Any:
        # An object inside an expression (an array item, a call argument) is laid out and
        # evaluated on the spot; its members see the enclosing blocks as the thunk saw them.
        node: dict[str, Any] = {}
        scope = Scope(node, ctx.scope, ctx.path, frozen_lens=ctx.lens)
        pending_before = len(self.pending)
        self.build(expr.body, scope, ctx.file)
        # Statement calls inside the object literal run now, in order, like any other.
        inner = self.pending[pending_before:]
        del self.pending[pending_before:]
        for thunk in inner:
            if thunk.owner is None:
                self._collect_statement_result(self.force(thunk))
        return self.materialize(node)

    def _eval_bare_word(self, expr: ast.BareWord, ctx: Thunk) -> Any:
        name = expr.name
        scope: Scope | None = ctx.scope
        level = 0
        lens = ctx.lens
        while scope is not None:
            node = scope.node
            if name in node and level < len(lens) and _key_index(node, name) < lens[level]:
                target = ".".join((*scope.path, name))
                self.warn(
                    f"bare word '{name}' resolved as a reference to key '{target}'",
                    expr.span,
                    hint=f'write "{name}" (quoted) for the text, or ${name} for the reference',
                )
                return self.materialize(self._member(node, name))
            scope = scope.parent
            level += 1
        return name

    def _eval_var_ref(self, expr: ast.VarRef, ctx: Thunk) -> Any:
        name = expr.name
        shown = f"${name}" if expr.sigil else name
        glob = self.globals.get(name)
        if glob is not None:
            found, value = self._walk(self.force(glob), expr.path, shown)
            if found:
                return self.materialize(value)
            return self.error(value, expr.span)
        failure: str | None = None
        skipped_own_key = False
        scope: Scope | None = ctx.scope
        while scope is not None:
            node = scope.node
            if name in node:
                # A value never refers to its own key: in `db { url: "${url.host}" }` or
                # `{ database: "${database.host}" }`, the name means the enclosing one.
                if node[name] is ctx:
                    skipped_own_key = True
                    scope = scope.parent
                    continue
                found, value = self._walk(self._member(node, name), expr.path, name)
                if found:
                    return self.materialize(value)
                failure = failure or value
            scope = scope.parent
        if failure is not None:
            return self.error(failure, expr.span)
        if skipped_own_key:
            return self.error(
                f"'{shown}' refers to the key being defined, and no enclosing block has a "
                f"key '{name}'",
                expr.span,
                hint="a value cannot refer to itself",
            )
        return self.error(
            f"undefined name '{shown}'",
            expr.span,
            hint=self._suggest_name(name, ctx.scope),
        )

    def _walk(self, value: Any, path: tuple[str, ...], shown: str) -> tuple[bool, Any]:
        """Follow ``path`` into ``value``: (True, the value) or (False, an error message).

        ``shown`` names ``value`` in messages ("" for a file's top level).
        """
        walked = shown
        for part in path:
            if value is POISON:
                return True, POISON
            if isinstance(value, Resource):
                value = value.as_value()
            if isinstance(value, dict):
                if part not in value:
                    if not walked:
                        return False, f"there is no key '{part}'"
                    return False, f"'{walked}' has no key '{part}'"
                value = self._member(value, part) if type(value) is dict else value[part]
            elif isinstance(value, list):
                if not part.isdigit() or int(part) >= len(value):
                    return False, (
                        f"'{walked}' is an array of {len(value)} items: '{part}' is not "
                        "an index of it"
                    )
                value = value[int(part)]
            else:
                return False, f"'{walked}' is {_a(type_of(value))}, it has no key '{part}'"
            walked = f"{walked}.{part}" if walked else part
        return True, value

    def _suggest_name(self, name: str, scope: Scope | None) -> str:
        candidates = [f"${g}" for g in self.globals]
        while scope is not None:
            candidates.extend(scope.node)
            scope = scope.parent
        close = difflib.get_close_matches(name, candidates, n=1)
        if close:
            return f"did you mean {close[0]}?"
        return "define it as a global ($name: value) or a key in this block or an enclosing one"

    def _eval_unary(self, expr: ast.Unary, ctx: Thunk) -> Any:
        value = self.eval(expr.operand, ctx)
        if value is POISON:
            return POISON
        if expr.op == "!":
            if type(value) is bool:
                return not value
            return self.error(
                f"cannot apply '!' to {type_of(value)}",
                expr.span,
                hint="'!' takes a boolean; compare explicitly (x == \"\", x == null)",
            )
        if _is_number(value):
            return -value
        return self.error(f"cannot apply '{expr.op}' to {type_of(value)}", expr.span)

    def _eval_binary(self, expr: ast.Binary, ctx: Thunk) -> Any:
        op = expr.op
        if op == "&&" or op == "||":
            return self._eval_logical(expr, ctx)
        left = self.eval(expr.left, ctx)
        right = self.eval(expr.right, ctx)
        if left is POISON or right is POISON:
            return POISON
        if op == "==":
            return values_equal(left, right)
        if op == "!=":
            return not values_equal(left, right)
        if op in _ORDERING:
            if (_is_number(left) and _is_number(right)) or (
                isinstance(left, str) and isinstance(right, str)
            ):
                return _ORDERING[op](left, right)
            return self._type_error(expr, left, right, "needs two numbers or two strings")
        if op == "+" and (isinstance(left, str) or isinstance(right, str)):
            text = to_text(left) + to_text(right)
            if isinstance(left, Sensitive) or isinstance(right, Sensitive):
                return Sensitive(text)
            return text
        if not (_is_number(left) and _is_number(right)):
            why = "needs numbers" + (" (or a string, to concatenate)" if op == "+" else "")
            return self._type_error(expr, left, right, why)
        if (op == "/" or op == "%") and right == 0:
            word = "division" if op == "/" else "modulo"
            return self.error(f"{word} by zero", expr.op_span)
        result = _ARITHMETIC[op](left, right)
        if type(result) is float and not math.isfinite(result):
            return self.error(f"'{op}' overflowed: the result is not a finite number", expr.op_span)
        return result

    def _type_error(self, expr: ast.Binary, left: Any, right: Any, why: str) -> Any:
        return self.error(
            f"cannot apply '{expr.op}' to {type_of(left)} and {type_of(right)}",
            expr.op_span,
            hint=f"'{expr.op}' {why}",
        )

    def _eval_logical(self, expr: ast.Binary, ctx: Thunk) -> Any:
        op = expr.op
        left = self.eval(expr.left, ctx)
        if left is POISON:
            return POISON
        if type(left) is not bool:
            return self.error(
                f"cannot apply '{op}' to {type_of(left)}: its operands must be booleans",
                expr.op_span,
                hint='compare explicitly, e.g. x != "" or x != null',
            )
        if (op == "&&" and not left) or (op == "||" and left):
            return left  # short-circuit: the right side is not evaluated
        right = self.eval(expr.right, ctx)
        if right is POISON:
            return POISON
        if type(right) is not bool:
            return self.error(
                f"cannot apply '{op}' to {type_of(right)}: its operands must be booleans",
                expr.op_span,
                hint='compare explicitly, e.g. x != "" or x != null',
            )
        return right

    def _eval_ternary(self, expr: ast.Ternary, ctx: Thunk) -> Any:
        cond = self.eval(expr.cond, ctx)
        if cond is POISON:
            return POISON
        if type(cond) is not bool:
            return self.error(
                f"the condition of '?:' must be a boolean, got {type_of(cond)}",
                expr.cond.span,
                hint='compare explicitly, e.g. $env == "prod" ? 3 : 1',
            )
        return self.eval(expr.then if cond else expr.otherwise, ctx)

    # --- operator calls -----------------------------------------------------------------------

    def _eval_call(self, call: ast.Call, ctx: Thunk) -> Any:
        args = [self.eval(arg, ctx) for arg in call.args]
        for arg in args:
            if arg is POISON:
                return POISON
        cross = _cross_file_split(call.name)
        if cross is not None and ".".join(call.name) not in self.session.registry:
            return self._cross_file(call, cross[0], cross[1], args, ctx)
        label = "@" + ".".join(call.name)
        try:
            resolved = self.session.registry.resolve(call.name, call.has_parens)
            operator = resolved.operator
            action = resolved.action
            if action is None:
                if args and isinstance(args[0], str) and operator.accepts_action(args[0]):
                    # @op("act", ...) is @op.act(...)
                    action = args.pop(0)
                elif operator.default_action is not None:
                    action = operator.default_action
                elif not operator.actions:
                    action = ""  # lets an operator without declared actions explain itself
                else:
                    actions = ", ".join(sorted(operator.actions))
                    raise UnknownActionError(
                        f"{label} needs an action",
                        hint=f"its actions are: {actions} (e.g. @{operator.name}."
                        f"{sorted(operator.actions)[0]}(...))",
                    )
            assert action is not None
            result = operator.invoke(action, args, self._call_context(call, ctx.file))
        except OperatorError as exc:
            return self.error(exc.message, call.span, hint=exc.hint)
        except LangError as exc:  # a file read through the loader has errors
            return self._loaded_file_failed(exc, call)
        except RecursionError:
            raise
        except Exception as exc:  # a broken operator (or plugin) must not hide other errors
            return self.error(f"{label} failed: {type(exc).__name__}: {exc}", call.span)
        return result

    def _call_context(self, call: ast.Call, file: FileContext) -> CallContext:
        session = self.session
        span = call.span
        return CallContext(
            file=file.path,
            base_dir=file.base_dir,
            offline=session.offline,
            env=session.env,
            now=session.now,
            loader=session,
            cache=session.cache,
            warn=lambda message: self.warn(message, span),
        )

    def _loaded_file_failed(self, exc: LangError, call: ast.Call) -> Any:
        if id(exc) not in self.session.reported:
            self.session.reported.add(id(exc))
            self.errors.extend(exc.diagnostics)
        files = dict.fromkeys(
            Path(d.span.source.name).name for d in exc.diagnostics if d.span is not None
        )
        where = ", ".join(files) if files else "a file it reads"
        return self.error(f"@{'.'.join(call.name)}: {where} has errors", call.span)

    def _collect_statement_result(self, value: Any) -> None:
        if isinstance(value, Resource):
            self.statement_resources.append(value)
        elif isinstance(value, list):
            self.statement_resources.extend(v for v in value if isinstance(v, Resource))

    # --- cross-file reads ---------------------------------------------------------------------

    def _cross_file(
        self,
        call: ast.Call,
        stem: tuple[str, ...],
        action: str | None,
        args: list[Any],
        ctx: Thunk,
    ) -> Any:
        written = f"@{'.'.join(stem)}.tsk"
        if action == "set":
            return self.error(
                f"{written}.set is refused: evaluation never changes files",
                call.span,
                hint="writes happen only through apply; read with "
                f'{written}.get("key.path", default)',
            )
        if action != "get":
            what = f"{written}.{action}" if action else written
            return self.error(
                f"{what} is not a cross-file read: only .get is supported",
                call.span,
                hint=f'read another file with {written}.get("key.path", default)',
            )
        if not 1 <= len(args) <= 2 or not isinstance(args[0], str):
            return self.error(
                f"{written}.get takes a key path (a string) and an optional default",
                call.span,
                hint=f'usage: {written}.get("database.host", "localhost")',
            )
        path, looked = self._find_tsk(stem, ctx.file.base_dir)
        if path is None:
            return self.error(
                f"{written}.get: file '{'.'.join(stem)}.tsk' not found",
                call.span,
                hint="looked for " + ", ".join(str(p) for p in looked),
            )
        try:
            data = self.session.load_file(path)
        except OperatorError as exc:
            return self.error(exc.message, call.span, hint=exc.hint)
        except LangError as exc:
            return self._loaded_file_failed(exc, call)
        found, value = self._walk(data, tuple(args[0].split(".")), "")
        if found:
            return self.materialize(value)
        if len(args) == 2:
            return args[1]
        return self.error(
            f"{written}.get: '{args[0]}' is not defined in {path.name} ({value})",
            call.span,
            hint=f'pass a default: {written}.get("{args[0]}", default)',
        )

    @staticmethod
    def _find_tsk(stem: tuple[str, ...], base_dir: Path) -> tuple[Path | None, list[Path]]:
        names = [".".join(stem) + ".tsk"]
        if len(stem) > 1:
            names.append(os.path.join(*stem) + ".tsk")
        directories = [base_dir, base_dir / "config", base_dir / "..", base_dir / ".." / "config"]
        looked: list[Path] = []
        for name in names:
            for directory in directories:
                candidate = directory / name
                looked.append(candidate)
                if candidate.is_file():
                    return candidate.resolve(), looked
        return None, looked


def _display_name(path: Path) -> str:
    """``path`` relative to the working directory when inside it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _in_source_order(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Grouped by file (in order of first appearance), by position within each file."""
    file_rank: dict[str, int] = {}
    for d in diagnostics:
        if d.span is not None:
            file_rank.setdefault(d.span.source.name, len(file_rank))

    def key(d: Diagnostic) -> tuple[int, int]:
        if d.span is None:
            return (-1, 0)
        return (file_rank[d.span.source.name], d.span.start)

    return sorted(diagnostics, key=key)


# --- entry points -----------------------------------------------------------------------------


def _session(
    offline: bool,
    env: Mapping[str, str] | None,
    registry: Registry | None,
    now: datetime | None,
) -> Session:
    return Session(
        offline=offline,
        env=dict(os.environ) if env is None else dict(env),
        registry=default_registry() if registry is None else registry,
        now=now if now is not None else datetime.now().astimezone(),
    )


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is parsed and evaluated.

    Both allocate millions of small acyclic objects; with the collector on, each collection
    rescans the growing syntax tree (on a 10 MB file that took longer than the evaluation).
    On the way out, everything allocated meanwhile is promoted to the oldest generation
    without a scan (``freeze`` + ``unfreeze`` only move lists), so re-enabling the collector
    does not trigger one huge collection of "young" objects either.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _run(session: Session, module: ast.Module, file: FileContext) -> Document:
    # Long reference chains recurse deeply; raise the limit for the evaluation only.
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old_limit, 20_000))
    if file.path is not None:
        session.active.append(file.path)
    try:
        doc = _Evaluation(session, file).run(module)
    finally:
        sys.setrecursionlimit(old_limit)
    doc.warnings.extend(session.side_warnings)
    return doc


def evaluate_module(
    module: ast.Module,
    *,
    path: Path | None = None,
    base_dir: Path | None = None,
    offline: bool = False,
    env: Mapping[str, str] | None = None,
    registry: Registry | None = None,
    now: datetime | None = None,
) -> Document:
    """Evaluate an already parsed module (``path``: the file it came from, if any)."""
    resolved = path.resolve() if path is not None else None
    if base_dir is None:
        base_dir = resolved.parent if resolved is not None else Path.cwd()
    with _no_cyclic_gc():
        session = _session(offline, env, registry, now)
        return _run(session, module, FileContext(resolved, base_dir))


def evaluate_source(
    source: Source,
    *,
    base_dir: Path,
    offline: bool = False,
    env: Mapping[str, str] | None = None,
    registry: Registry | None = None,
    now: datetime | None = None,
) -> Document:
    """Parse and evaluate ``source``; relative paths resolve against ``base_dir``."""
    from tuskops.lang.parser import parse_source

    with _no_cyclic_gc():
        session = _session(offline, env, registry, now)
        module = parse_source(source)  # TuskSyntaxError propagates: nothing is evaluated
        file = FileContext(source.path.resolve() if source.path else None, base_dir)
        return _run(session, module, file)


def evaluate_file(
    path: Path,
    *,
    offline: bool = False,
    env: Mapping[str, str] | None = None,
    registry: Registry | None = None,
    now: datetime | None = None,
) -> Document:
    """Parse and evaluate the file at ``path``."""
    with _no_cyclic_gc():
        session = _session(offline, env, registry, now)
        resolved = path.resolve()
        try:
            module = session.parse_file(resolved, name=str(path))
        except OSError as exc:
            message = f"cannot read {path}: {exc.strerror or exc}"
            raise EvaluationError([Diagnostic(message, None)]) from None
        except UnicodeDecodeError as exc:
            message = f"{path} is not UTF-8 text: {exc.reason}"
            raise EvaluationError([Diagnostic(message, None)]) from None
        return _run(session, module, FileContext(resolved, resolved.parent))
