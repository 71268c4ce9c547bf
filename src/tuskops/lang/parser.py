"""The TuskLang parser: tokens to the syntax tree of :mod:`tuskops.lang.ast`.

Why hand-written: this dialect needs things no parsing library gives together. Whether a value
is an expression or *bare text* (``host: 0.0.0.0``, ``url: http://x:8080/a``) is only known
after trying to parse it, and the fallback reads raw characters whose end depends on the
context (end of line, or ``,`` ``]`` ``}`` in flow context). Newlines are significant in some
places and whitespace in others; ``<`` closes a block only when alone on its line; ``#!``
directives interleave with any structure. Every syntax error of a file must be reported, which
needs recovery at statement boundaries.

Speed (the target: parse and evaluate a 10 MB data file in under 2 s). Such files are mostly
``key: constant`` lines, and any per-line Python work is too slow for them: one regex match and
one :class:`~tuskops.lang.ast.Assign` (with its spans) per line took ~4 s for 10 MB. So, where
a statement can start in a body, three fast paths come before the tokenizer:

1. **Constant runs** (``Parser._constant_run``): one regex (``_RUN``) matches a maximal run of
   lines whose values are constants JSON writes the same way (strings, numbers, booleans,
   null, ranges, one-line arrays and objects of those); ``re.split`` and ``str.join`` turn it
   into a JSON array, which the evaluator decodes in C. The whole run is one
   :class:`~tuskops.lang.ast.ConstantRun`. About 85% of the benchmark file goes this way.
2. **Simple lines** (``Parser._simple_line``): any other ``key: simple-value`` line (a
   ``$ref``, a bare word, a trailing comment, ...) is matched by one regex and builds exactly
   the nodes the tokenizer would.
3. **Section headers and block openers** (``[a.b]``, ``name {``, ``name >`` alone on their
   line) are matched whole rather than token by token.

Everything else, and every line a fast path does not accept in full, is tokenized; so errors
are always found, and reported, by the one general path.

Decisions where the spec is silent (documented in ``docs/language.md``):

- **Sections inside ``#!if``**: a ``[header]`` inside an ``#!if`` branch starts a section that
  ends with the branch. After ``#!endif`` the section that was active before the ``#!if``
  continues. So a :class:`~tuskops.lang.ast.Section` can sit in an ``IfBranch`` body inside
  another section's body; section paths are always absolute (from the root).
- **Sections elsewhere**: a header inside a block or object is an error (the enclosing block is
  reported as never closed, since sections exist only at the top level).
- **Bare text** is a value that is not a complete expression and holds none of
  ``" ' [ ] { } ( ) @ $``. It runs to the end of the line or a comment, trimmed, without a
  trailing ``;``. In *flow context* it also ends at ``,`` ``]`` ``}`` (and ``)`` in call
  arguments). Flow context is inside ``[...]``, call arguments and *any* ``{...}`` (a block or
  an object, one-line or not): since ``,`` separates members in ``{}``, a value there cannot
  hold an unquoted comma. Outside brackets and braces (file, sections, ``>`` blocks) commas are
  text: ``tags: a, b`` is the string ``"a, b"``.
- A lone identifier as a whole value is a :class:`BareWord`; a lone *dotted* identifier path as
  a whole value (``host: db.example.com``) is :class:`BareText`, because hostnames and file
  names are far more common there than references (write ``$app.version`` for a reference).
  Inside larger expressions and inside ``${...}`` a name or dotted path is a ``VarRef`` with
  ``sigil=False``.
- Whole values are assignment values, array items, object members and call arguments. Ranges
  (``8000-9000``) are recognised in assignment values and array items, not in call arguments
  (``@x(10-3)`` subtracts). Digits joined by two or more ``-`` (``2024-01-15``) are bare text.
- ``-`` before a number literal is folded into the literal (``Literal(-7)``, not ``Unary``).
- A value followed by ``,`` at the end of a line outside ``{}``/``[]`` is an error (a JSON
  habit), not the bare text ``"1,"``.
- ``;`` ends a statement and may be followed by another statement on the same line.
- Inside ``[...]`` and ``(...)`` line ends are whitespace; items need commas. Inside ``{...}``
  members are separated by commas or line ends.
- Quoted keys are taken whole (``"a.b": 1`` is one key); unquoted dotted keys are paths.
- ``#!`` directives may be indented. ``#!include`` takes a quoted path or the raw rest of the
  line. A directive's arguments end at a comment.
- Triple-quoted strings: the first line counts for the common indentation only if it starts a
  line (not when text follows the opening delimiter); ``\\r\\n`` inside becomes ``\\n``.
- ``\\uD83D\\uDE00`` (a surrogate pair written as two escapes) is one character.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import json
import operator
import re
from json.scanner import make_scanner
from typing import Any, Final, NoReturn

from tuskops.errors import TuskSyntaxError
from tuskops.lang import ast
from tuskops.lang.lexer import (
    DIRECTIVE,
    EOF,
    IDENT_PATTERN,
    NAME,
    NEWLINE,
    NUMBER,
    OTHER,
    STRING,
    VAR,
    Lexer,
    StringValue,
    Token,
)
from tuskops.lang.source import Diagnostic, Source, Span


def parse_source(source: Source, *, constant_runs: bool = True) -> ast.Module:
    """Parse one file. Raises :class:`TuskSyntaxError` listing every syntax error in it.

    ``constant_runs=False`` builds one :class:`~tuskops.lang.ast.Assign` per line instead of
    :class:`~tuskops.lang.ast.ConstantRun` nodes (same data, slower; for tools and tests).
    """
    # The tree is many small acyclic objects for a large file; the cyclic garbage collector
    # would rescan them over and over while they are being built. On the way out everything
    # allocated meanwhile is moved to the oldest generation without a scan (freeze + unfreeze
    # only move lists), so re-enabling the collector does not start with one full collection
    # of all those "young" objects either (measured at 1.5-3 s after a 10 MB parse).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        parser = Parser(source, constant_runs=constant_runs)
        module = parser.parse_module()
    finally:
        if gc_was_enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()
    if parser.diagnostics:
        ordered = sorted(
            parser.diagnostics, key=lambda d: d.span.start if d.span is not None else -1
        )
        raise TuskSyntaxError(ordered)
    return module


def parse_run_assigns(run: ast.ConstantRun) -> tuple[ast.Assign, ...]:
    """The Assign nodes the lines of ``run`` give when parsed one by one (see
    :meth:`tuskops.lang.ast.ConstantRun.assigns`)."""
    span = run.span
    parser = Parser(span.source, [], span.start, span.end, constant_runs=False)
    level = _Level(None, None, "a run", brace=False, allows_sections=False, line_end=-1)
    body, _ = parser.body(level)
    assigns = tuple(s for s in body if isinstance(s, ast.Assign))
    if parser.diagnostics or len(assigns) != len(body) or len(assigns) != len(run.keys):
        raise ValueError(f"not the span of a run: {span.location()}")
    return assigns


# --- internal helpers ---------------------------------------------------------------------------


def _start_of(diagnostic: Diagnostic) -> int:
    return diagnostic.span.start if diagnostic.span is not None else -1


class _ParseFailure(Exception):
    """A syntax error that abandons the current statement.

    ``resume`` is the offset of the token where parsing went wrong; recovery restarts at that
    token's line if it begins a later line (or ``resume_at_line``), else at the next line.
    """

    def __init__(
        self, diagnostic: Diagnostic | None, resume: int, *, resume_at_line: bool = False
    ) -> None:
        super().__init__(diagnostic.message if diagnostic is not None else "already reported")
        self.diagnostic = diagnostic  # None: the problem was recorded already (by the lexer)
        self.resume = resume
        # True when the statement ran into a later line because a bracket was left open:
        # that whole line is parsed again as a statement of its own.
        self.resume_at_line = resume_at_line


class _Level:
    """An open construct whose body holds statements: the file, a block, an object, an #!if."""

    __slots__ = (
        "allows_sections",
        "brace",
        "closer",
        "description",
        "line_end",
        "opener",
    )

    def __init__(
        self,
        closer: str | None,
        opener: Token | None,
        description: str,
        *,
        brace: bool,
        allows_sections: bool,
        line_end: int,
    ) -> None:
        self.closer = closer  # "}", "<", "endif" or None (the file)
        self.opener = opener
        self.description = description
        self.brace = brace  # members may be separated by "," and "}" may end a value
        self.allows_sections = allows_sections
        self.line_end = line_end  # end of the opener's line: values before it are inline


class _ValueContext:
    """Where a whole value stands: which tokens may follow it, and where bare text ends."""

    __slots__ = ("allow_range", "bare_end", "flow", "terminators")

    def __init__(
        self,
        terminators: frozenset[str],
        bare_end: re.Pattern[str],
        *,
        allow_range: bool,
        flow: bool,
    ) -> None:
        self.terminators = terminators
        self.bare_end = bare_end
        self.allow_range = allow_range
        self.flow = flow


_COMMENT_START = r"(?<=[ \t])(?:#|//|/\*)"
_LINE_BARE_END = re.compile(rf"\n|{_COMMENT_START}")
_FLOW_BARE_END = re.compile(rf"[,\]}}]|\n|{_COMMENT_START}")
_ARG_BARE_END = re.compile(rf"[,)\]}}]|\n|{_COMMENT_START}")
_LINE_TERMINATORS = frozenset({NEWLINE, EOF, ";"})
_BRACE_TERMINATORS = frozenset({NEWLINE, EOF, ";", ",", "}"})

_LINE_VALUE = _ValueContext(_LINE_TERMINATORS, _LINE_BARE_END, allow_range=True, flow=False)
_BRACE_VALUE = _ValueContext(_BRACE_TERMINATORS, _FLOW_BARE_END, allow_range=True, flow=True)
_ARRAY_ITEM = _ValueContext(frozenset({",", "]"}), _FLOW_BARE_END, allow_range=True, flow=True)
_CALL_ARG = _ValueContext(frozenset({",", ")"}), _ARG_BARE_END, allow_range=False, flow=True)

_NOT_BARE_TEXT = re.compile(r"[\"'\[\]{}()@$]")
_DIGITS_AND_DASHES = re.compile(r"(\d+)((?:-\d+)+)")
_VALUE_END = re.compile(r"[ \t\r]*(?:[;,\]})]|\n|\Z)|[ \t\r]+(?:#|//|/\*)")
_REST_OF_LINE_BLANK = re.compile(r"[ \t\r\f\v]*(?:(?<=[ \t])(?:#|//)[^\n]*)?(?:\n|\Z)")
_INDENT = re.compile(r"[ \t]*")

_PRECEDENCE: Final = {
    "||": 1,
    "&&": 2,
    "==": 3,
    "!=": 3,
    "<": 3,
    "<=": 3,
    ">": 3,
    ">=": 3,
    "+": 4,
    "-": 4,
    "*": 5,
    "/": 5,
    "%": 5,
}
_KEYWORDS: Final[dict[str, bool | None]] = {"true": True, "false": False, "null": None}

# The common line ``key: simple-value`` in one regular expression (see ``Parser._simple_lines``):
# a plain or dotted key, ':' or '=', then a string without escapes or ${}, a number, a range, a
# $reference or a word, then the end of the line (an optional ';' and a comment allowed); or
# the opening bracket of a one-line array or object of such values. Blank and comment lines
# after it are swallowed too. Anything else goes through the tokenizer.
_FAST_TAIL = r"[ \t]*;?[ \t]*(?:(?<=[ \t])(?:#(?!!)|//)[^\n]*)?(?:\r?\n|\Z)"
_FAST_BLANK_LINES = r"(?:[ \t\r\f\v]*(?:(?:#(?!!)|//)[^\n]*)?\n)*[ \t]*"
_NUMBER_INT = r"-?\d+(?:_\d+)*"
_NUMBER_FLOAT = r"-?\d+(?:_\d+)*\.\d+(?:_\d+)*"
_VAR = rf"\${IDENT_PATTERN}(?:\.(?:{IDENT_PATTERN}|\d+))*"
_FAST_LINE = re.compile(
    rf"(?P<key>{IDENT_PATTERN}(?:\.{IDENT_PATTERN})*)[ \t]*[:=][ \t]*"
    r"(?:(?:\"(?P<dq>[^\"\\$\n]*)\"|'(?P<sq>[^'\n]*)'"
    r"|(?P<range>\d+-\d+)"
    rf"|(?P<int>{_NUMBER_INT})(?![.\w])|(?P<float>{_NUMBER_FLOAT})(?![.\w])"
    rf"|(?P<var>{_VAR})"
    rf"|(?P<word>{IDENT_PATTERN}))"
    rf"{_FAST_TAIL}{_FAST_BLANK_LINES}"
    r"|(?P<open>[\[{]))"
)
_FAST_LINE_REST = re.compile(rf"{_FAST_TAIL}{_FAST_BLANK_LINES}")
# The end of a line that holds no more tokens (no ';' either), the blank and comment lines
# after it, and the next line's indentation.
_BARE_LINE_END = rf"[ \t]*(?:(?<=[ \t])(?:#(?!!)|//)[^\n]*)?(?:\r?\n|\Z){_FAST_BLANK_LINES}"
# `[a.b]` alone on its line, and the `{` or `>` ending the line of a block's name: matched
# whole instead of token by token (a data file has one of these every few lines).
_FAST_SECTION_HEADER = re.compile(
    rf"\[[ \t]*({IDENT_PATTERN}(?:\.{IDENT_PATTERN})*)[ \t]*(\])(?:{_BARE_LINE_END})"
)
_FAST_BLOCK_OPENER = re.compile(rf"[ \t]*([{{>]){_BARE_LINE_END}")
# One token of a one-line array or object in the fast path; a scalar must be a whole item.
_ITEM_END = r"(?=[ \t]*[,\]}])"
_FAST_FLOW_TOKEN = re.compile(
    r"[ \t]*(?:"
    rf"(?P<key>{IDENT_PATTERN})[ \t]*[:=]"
    rf"|\"(?P<dq>[^\"\\$\n]*)\"{_ITEM_END}"
    rf"|'(?P<sq>[^'\n]*)'{_ITEM_END}"
    rf"|(?P<int>{_NUMBER_INT}){_ITEM_END}"
    rf"|(?P<float>{_NUMBER_FLOAT}){_ITEM_END}"
    rf"|(?P<var>{_VAR}){_ITEM_END}"
    rf"|(?P<word>{IDENT_PATTERN}){_ITEM_END}"
    r"|(?P<open>[\[{])|(?P<close>[\]}])|(?P<comma>,))"
)
_EXPECT_ITEM, _EXPECT_VALUE, _EXPECT_SEPARATOR = 0, 1, 2
# A pseudo token: a statement may start here, not tokenized yet (see Parser._at_line_start).
_LINE_START: Final = "line start"

# --- constant runs (see ``Parser._constant_run`` and :class:`tuskops.lang.ast.ConstantRun`) -----
#
# ``_RUN`` matches a maximal sequence of lines ``key: constant`` (blank and comment lines may
# stand between them) whose values JSON writes the same way and decodes to the same data:
# strings, numbers, true/false/null, ranges, and one-line arrays/objects of those. The lines
# are then turned into one JSON array by ``re.split`` and ``str.join`` and decoded in C.
#
# Why split and join rather than ``re.sub`` with templates: on Python 3.11 a template
# replacement (``\1``) calls a Python function per match, which cost more than the decoding
# itself on a 10 MB file; ``split``, ``join`` and ``map(str.format, ...)`` never leave C.
# Possessive quantifiers (``*+``) and atomic groups keep the matching linear and cheap; a line
# that does not fit ends the run (trailing comments, ``$refs``, bare words, single quotes,
# escapes other than JSON's, ``1_000``, ``0xFF``, ``007``, keys ``true``/``false``/``null``)
# and goes the usual way.
_RUN_IDENT = r"[^\W\d][\w-]*+(?<!-)"  # IDENT_PATTERN, without backtracking
_RUN_KEY = rf"(?!(?i:true|false|null)[ \t]*[:=]){_RUN_IDENT}"
# A "..." string that TuskLang and JSON decode alike: only \n \t \r \" \\ \uXXXX escapes, no
# "${". It may not contain what looks like a flow key ("{a:" or ", a ="), so that the key
# quoting below never reaches into a string.
_RUN_STRING = (
    r'"[^"\\\n${,]*+'
    rf"(?>(?:[{{,](?![ \t]*{_RUN_IDENT}[ \t]*[:=])|\$(?!\{{)|\\[ntr\"\\]|\\u[0-9a-fA-F]{{4}})"
    r'[^"\\\n${,]*+)*+"'
)
# JSON integers (at most 640 digits: the smallest limit ``int()`` may be set to), fractions
# and exponents; "1.4.2", "1_000", "007" are not numbers here.
_RUN_INT = r"(?:0|[1-9][0-9]{0,639}+)"
_RUN_NUMBER = rf"-?{_RUN_INT}(?:\.[0-9]++)?+(?:[eE][+-]?[0-9]++)?+(?![\w.])"
_RUN_KEYWORD = r"(?:true|false|null)(?![\w-])"
_RUN_SCALAR = rf"{_RUN_STRING}|{_RUN_NUMBER}|{_RUN_KEYWORD}"


def _run_flow_pattern(depth: int) -> str:
    """One-line arrays and objects of scalars, nested at most ``depth`` deep, exactly as JSON
    allows them (items separated by commas, no trailing comma, keys in objects only), except
    that keys are plain identifiers and may repeat (checked when the run is decoded). So each
    value is one balanced JSON value. Deeper nesting is parsed the usual way.

    Arrays and objects have patterns of their own, so the pattern doubles with each level:
    depth 3 compiles in ~20 ms, depth 4 in ~40 ms (at import), for no gain on real files.
    """
    value = _RUN_SCALAR
    container = ""
    for _ in range(depth):
        array = rf"\[[ \t]*+(?>(?:{value})[ \t]*+(?:,[ \t]*+(?!\])|(?=\])))*+\]"
        obj = (
            rf"\{{[ \t]*+(?>{_RUN_KEY}[ \t]*+[:=][ \t]*+(?:{value})[ \t]*+"
            rf"(?:,[ \t]*+(?!\}})|(?=\}})))*+\}}"
        )
        container = rf"{array}|{obj}"
        value = rf"{_RUN_SCALAR}|{container}"
    return container


_RUN_FLOW = _run_flow_pattern(3)
_RUN_RANGE = rf"{_RUN_INT}-{_RUN_INT}"
_RUN_BLANK_LINES = r"(?:[ \t]*+(?:(?:#(?!!)|//)[^\n]*+)?\r?\n)*+"
# The range comes last: trying it first on every number costs more than backtracking to it.
_RUN_LINE = (
    rf"[ \t]*+{_RUN_KEY}[ \t]*+[:=][ \t]*+"
    rf"(?:{_RUN_STRING}|{_RUN_NUMBER}|{_RUN_FLOW}|{_RUN_KEYWORD}|{_RUN_RANGE})"
    r"[ \t]*+;?[ \t]*+\r?(?=\n|\Z)"
)
# Group 1 is the run from its first key to the end of its last line (without the line end);
# the match goes on over blank and comment lines and the next line's indentation.
_RUN = re.compile(
    rf"({_RUN_LINE}(?:\n{_RUN_BLANK_LINES}{_RUN_LINE})*+)(?:\n{_RUN_BLANK_LINES}[ \t]*+|\Z)"
)
_RUN_SEMICOLON = re.compile(r";[ \t]*+(?=\r?(?:\n|\Z))")
# "\n" + run: split at every line start into ["", key, value, key, value, ...].
_RUN_LINE_SPLIT = re.compile(rf"\n{_RUN_BLANK_LINES}[ \t]*+({_RUN_IDENT})[ \t]*+[:=][ \t]*+")
# In the JSON array of the values (one per line): a range as a whole value.
_RUN_RANGE_SPLIT = re.compile(rf"\n({_RUN_INT})-({_RUN_INT})(?=[ \t\r]*+(?:,\n|\]\Z))")
# A key inside a one-line object: split into [..., "{" or ",", key, ...] to quote it.
_RUN_OBJECT_KEY_SPLIT = re.compile(rf"([{{,])[ \t]*+({_RUN_IDENT})[ \t]*+[:=]")
_quote_key = '"{}":'.format
_range_min = '\n{{"min":{}'.format
_range_max = ',"max":{},"type":"range"}}'.format


class _DuplicateKey(Exception):
    """A one-line object of a run repeats a key: the run is parsed the usual way, which
    reports it."""


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise _DuplicateKey
    return members


def _an_object_repeats_a_key(
    separators: list[str], names: list[str], after: list[str], values_json: str
) -> bool:
    """Whether a one-line object of a run repeats a key, given the key split of its JSON:
    the separator before each key ("{" for an object's first key, else ","), the keys, and
    the text after each key up to the next one.

    Keys repeat across objects all the time (``[{port: 1}, {port: 2}]``), so this groups keys
    by object without decoding: an object's keys are its first key (after "{") and the ","
    keys after it, up to the next "{" key, unless an object closes in between (a "}" in the
    text before a "," key: ``{a: {x: 1}, a: 2}``); then the run is decoded with a hook that
    sees every object (which costs ~2 us per object, hence not always).
    """
    closes = map(operator.contains, after, itertools.repeat("}"))
    continues = map(operator.eq, separators[1:], itertools.repeat(","))
    if any(map(operator.and_, closes, continues)):
        try:
            _SCAN_JSON_UNIQUE(values_json, 0)
        except _DuplicateKey:
            return True
        return False
    objects = itertools.accumulate(map(operator.eq, separators, itertools.repeat("{")))
    return len(set(zip(objects, names, strict=True))) != len(names)


# (The scanner of json.loads, called directly: see tuskops.lang.ast.)
_unique_decoder = json.JSONDecoder(strict=False, object_pairs_hook=_unique_pairs)
_SCAN_JSON_UNIQUE = make_scanner(_unique_decoder)  # type: ignore[arg-type]


def _fast_constructor(cls: type, field_names: tuple[str, ...]) -> Any:
    """A constructor for the frozen slots dataclass ``cls`` that skips its ``__init__``.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``; setting
    the slots directly is about twice as fast, which matters for the millions of nodes of a
    large file. If ``cls`` no longer has exactly ``field_names`` (the AST changed), the plain
    class is returned, so this can never build an incomplete node.
    """
    if tuple(f.name for f in dataclasses.fields(cls)) != field_names:
        return cls
    new = object.__new__
    setters = [cls.__dict__[name].__set__ for name in field_names]
    if len(setters) == 2:
        set_a, set_b = setters

        def make2(a: object, b: object) -> object:
            node: object = new(cls)
            set_a(node, a)
            set_b(node, b)
            return node

        return make2
    if len(setters) == 3:
        set_a, set_b, set_c = setters

        def make3(a: object, b: object, c: object) -> object:
            node: object = new(cls)
            set_a(node, a)
            set_b(node, b)
            set_c(node, c)
            return node

        return make3
    if len(setters) == 4:
        set_a, set_b, set_c, set_d = setters

        def make4(a: object, b: object, c: object, d: object) -> object:
            node: object = new(cls)
            set_a(node, a)
            set_b(node, b)
            set_c(node, c)
            set_d(node, d)
            return node

        return make4
    if len(setters) == 5:
        set_a, set_b, set_c, set_d, set_e = setters

        def make5(a: object, b: object, c: object, d: object, e: object) -> object:
            node: object = new(cls)
            set_a(node, a)
            set_b(node, b)
            set_c(node, c)
            set_d(node, d)
            set_e(node, e)
            return node

        return make5
    return cls


_make_span = _fast_constructor(Span, ("source", "start", "end"))
_make_literal = _fast_constructor(ast.Literal, ("value", "span"))
_make_bare_word = _fast_constructor(ast.BareWord, ("name", "span"))
_make_array = _fast_constructor(ast.ArrayLit, ("items", "span"))
_make_object = _fast_constructor(ast.ObjectLit, ("body", "span"))
_make_range = _fast_constructor(ast.RangeLit, ("min", "max", "span"))
_make_var = _fast_constructor(ast.VarRef, ("name", "path", "span", "sigil"))
_make_assign = _fast_constructor(ast.Assign, ("key", "value", "span", "key_span"))
_make_run = _fast_constructor(ast.ConstantRun, ("keys", "values_json", "span"))
_make_block = _fast_constructor(ast.Block, ("key", "body", "span", "key_span", "style"))
_make_section = _fast_constructor(ast.Section, ("path", "body", "span", "header_span"))


class Parser:
    """Recursive-descent parser over a :class:`Lexer`.

    Statement bodies catch :class:`_ParseFailure`, record it and resynchronise, so one bad
    line costs one error. Inside a ``{...}`` opened on the same line a failure propagates to
    the enclosing statement instead, so a broken one-line object is one error too.
    """

    def __init__(
        self,
        source: Source,
        diagnostics: list[Diagnostic] | None = None,
        start: int = 0,
        limit: int | None = None,
        *,
        constant_runs: bool = True,
    ) -> None:
        self.source = source
        self.text = source.text
        self.diagnostics: list[Diagnostic] = [] if diagnostics is None else diagnostics
        self.lexer = Lexer(source, self.diagnostics, start, limit)
        self.levels: list[_Level] = []
        self.unwinding = False  # set when a level ends at a closer that is not its own
        self.constant_runs = constant_runs
        # A run that matched but could not be decoded is parsed line by line up to here, so
        # its lines are not matched again one start at a time (which would be quadratic).
        self.no_run_before = -1
        # Where the last line that is not simple was found (the tokenizer reads it next).
        self.not_simple_at = -1
        self.tok = self.lexer.next()

    # --- plumbing -------------------------------------------------------------------------------

    def advance(self) -> None:
        self.tok = self.lexer.next()

    def span(self, start: int, end: int) -> Span:
        return Span(self.source, start, end)

    def fail(
        self,
        message: str,
        start: int,
        end: int,
        hint: str | None = None,
        resume: int = -1,
        resume_at_line: bool = False,
    ) -> NoReturn:
        diagnostic = Diagnostic(message, Span(self.source, start, end), hint=hint)
        raise _ParseFailure(
            diagnostic, start if resume < 0 else resume, resume_at_line=resume_at_line
        )

    def record(self, message: str, start: int, end: int, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(message, Span(self.source, start, end), hint=hint))

    def reposition(self, offset: int) -> None:
        """Continue lexing at ``offset`` (after reading raw text)."""
        self.lexer.pos = offset
        self.tok = self.lexer.next()

    def _at_line_start(self, offset: int) -> None:
        """Continue at ``offset``, where a statement may start, without tokenizing it yet:
        most lines there are simple lines, which are read from the text (``_body`` tokenizes
        the line if it is not)."""
        self.lexer.pos = offset
        self.tok = Token(_LINE_START, offset, offset)

    def resync(self, failure_at: int, statement_start: int, at_line: bool = False) -> None:
        """Skip to where the next statement can start after an error at ``failure_at``."""
        text = self.text
        line_start = text.rfind("\n", 0, failure_at) + 1
        self.lexer.skip_newlines = False
        if line_start > statement_start and (at_line or not text[line_start:failure_at].strip()):
            # The bad token starts a later line (e.g. after an unclosed '['): parse that line.
            self.reposition(line_start)
            return
        line_end = text.find("\n", max(failure_at, statement_start), self.lexer.limit)
        self.reposition(self.lexer.limit if line_end < 0 else line_end + 1)

    def describe(self, tok: Token) -> str:
        kind = tok.kind
        if kind == NEWLINE:
            return "the end of the line"
        if kind == EOF:
            return (
                "the end of '${...}'"
                if self.lexer.limit < len(self.text)
                else "the end of the file"
            )
        if kind == STRING:
            shown = self.text[tok.start : min(tok.end, tok.start + 24)].split("\n")[0]
            return f"string {shown}" + ("..." if len(shown) < tok.end - tok.start else "")
        if kind == DIRECTIVE:
            return f"'#!{tok.value}'"
        if kind == NUMBER:
            return f"number {self.text[tok.start : tok.end]}"
        return f"'{self.text[tok.start : tok.end]}'"

    def line_of(self, offset: int) -> int:
        return self.source.line_col(offset)[0]

    # --- the file -------------------------------------------------------------------------------

    def parse_module(self) -> ast.Module:
        while self.tok.kind == NEWLINE:
            self.advance()
        whole = self.span(0, len(self.text))
        if self.tok.kind == "{":
            return ast.Module(self._object_style_body(), whole, object_style=True)
        level = _Level(
            None,
            None,
            "the file",
            brace=False,
            allows_sections=True,
            line_end=-1,
        )
        body, _ = self.body(level)
        return ast.Module(tuple(body), whole)

    def _object_style_body(self) -> tuple[ast.Statement, ...]:
        try:
            obj = self.object_literal()
        except _ParseFailure as failure:
            if failure.diagnostic is not None:
                self.diagnostics.append(failure.diagnostic)
            return ()
        while self.tok.kind == NEWLINE:
            self.advance()
        if self.tok.kind != EOF:
            tok = self.tok
            self.record(
                f"unexpected {self.describe(tok)} after the top-level object",
                tok.start,
                tok.end,
                hint="a file that starts with '{' is one object; put everything inside it",
            )
        return obj.body

    # --- statement bodies -----------------------------------------------------------------------

    def body(self, level: _Level) -> tuple[list[ast.Statement], Token | None]:
        """Statements up to ``level``'s closer; returns them and the closer token (not yet
        consumed), or None when the closer never came (already reported)."""
        self.levels.append(level)
        try:
            return self._body(level)
        finally:
            self.levels.pop()

    def _body(self, level: _Level) -> tuple[list[ast.Statement], Token | None]:
        statements: list[ast.Statement] = []
        current = statements  # the open section's body, or ``statements``
        section: tuple[tuple[str, ...], Span] | None = None
        section_end = 0
        closer: Token | None = None
        while True:
            tok = self.tok
            kind = tok.kind
            if kind in (NAME, _LINE_START):
                end = self._simple_lines(tok.start, current)
                if end >= 0:
                    section_end = end
                    continue
                if kind == _LINE_START:
                    self.reposition(tok.start)  # not simple: tokenize it after all
                    continue
            elif kind == NEWLINE:
                self.advance()
                continue
            elif kind == EOF:
                if level.closer is not None:
                    self._never_closed(level)
                break
            elif kind == "}" or (kind == "<" and self._alone_on_line(tok)):
                if level.closer == kind:
                    closer = tok
                    break
                if self._open_closer(kind):
                    self._never_closed(level)
                    break
                self._stray_closer(tok)
                self.advance()
                continue
            elif kind == DIRECTIVE and tok.value in ("elif", "else", "endif"):
                if level.closer == "endif":
                    closer = tok
                    break
                if self._open_closer("endif"):
                    self._never_closed(level)
                    break
                self.record(
                    f"'#!{tok.value}' without a matching '#!if'",
                    tok.start,
                    tok.end,
                )
                self.resync(tok.end, tok.start)
                continue
            elif kind == "[":
                if level.allows_sections:
                    header = self._section_header()
                    if header is not None:
                        if section is not None:
                            statements.append(self._section(section, current, section_end))
                        section = header
                        section_end = header[1].end
                        current = []
                    continue
                if any(outer.allows_sections for outer in self.levels):
                    self._never_closed(level)
                    break
                self.record(
                    "a section header is not allowed here",
                    tok.start,
                    tok.end,
                    hint="sections like [name] exist only at the top level of a file",
                )
                self.resync(tok.end, tok.start)
                continue
            statement_start = tok.start
            try:
                statement = self.statement(level)
                current.append(statement)
                section_end = statement.span.end
                if self.unwinding:
                    # A construct inside the statement was cut short by a closer that
                    # belongs further out; the loop hands that closer on.
                    self.unwinding = False
                else:
                    self._end_of_statement(level)
            except _ParseFailure as failure:
                if level.closer == "}" and failure.resume < level.line_end:
                    raise  # a one-line {...}: the enclosing statement reports it
                if failure.diagnostic is not None:
                    self.diagnostics.append(failure.diagnostic)
                self.resync(failure.resume, statement_start, failure.resume_at_line)
        if section is not None:
            statements.append(self._section(section, current, section_end))
        return statements, closer

    def _section(
        self,
        header: tuple[tuple[str, ...], Span],
        body: list[ast.Statement],
        end: int,
    ) -> ast.Section:
        path, header_span = header
        span = _make_span(self.source, header_span.start, end)
        section: ast.Section = _make_section(path, tuple(body), span, header_span)
        return section

    def _section_header(self) -> tuple[tuple[str, ...], Span] | None:
        """``[a.b]`` on its own line; None (reported) when it is malformed."""
        open_tok = self.tok
        fast = _FAST_SECTION_HEADER.match(self.text, open_tok.start, self.lexer.limit)
        if fast is not None:
            self._at_line_start(fast.end())
            span = _make_span(self.source, open_tok.start, fast.end(2))
            return tuple(fast.group(1).split(".")), span
        self.advance()
        name = self.tok
        if name.kind != NAME:
            self.record(
                f"expected a section name after '[', found {self.describe(name)}",
                name.start,
                name.end,
                hint="a section header is [name] or [a.b] on a line of its own",
            )
            self.resync(name.start, open_tok.start)
            return None
        self.advance()
        close = self.tok
        if close.kind != "]":
            self.record(
                f"expected ']' after the section name, found {self.describe(close)}",
                close.start,
                close.end,
            )
            self.resync(close.start, open_tok.start)
            return None
        self.advance()
        if self.tok.kind not in (NEWLINE, EOF):
            after = self.tok
            self.record(
                f"unexpected {self.describe(after)} after the section header",
                after.start,
                after.end,
                hint="a section header stands on a line of its own",
            )
            self.resync(after.start, open_tok.start)
        path = tuple(str(name.value).split("."))
        return path, self.span(open_tok.start, close.end)

    def _simple_lines(self, start: int, into: list[ast.Statement]) -> int:
        """Parse consecutive simple lines from ``start`` without the tokenizer.

        Runs of ``key: constant`` lines become one :class:`~tuskops.lang.ast.ConstantRun`
        each; other ``key: simple-value`` lines are matched by one regex each. Returns the end
        offset of the last statement, or -1 when the line at ``start`` is not simple (the
        caller tokenizes it). Builds exactly the nodes the tokenizing path builds for the
        same text (apart from the runs, which hold the same data).
        """
        if start == self.not_simple_at:
            return -1  # tried just now, when the lines before it were parsed
        text = self.text
        limit = self.lexer.limit
        runs = self.constant_runs
        last_end = -1
        while True:
            if runs and start >= self.no_run_before:
                matched = _RUN.match(text, start, limit)
                if matched is not None:
                    run = self._constant_run(matched)
                    if run is not None:
                        into.append(run)
                        last_end = run.span.end
                        start = matched.end()
                        continue
                    self.no_run_before = matched.end()
            line = self._simple_line(start, into)
            if line is None:
                self.not_simple_at = start
                break
            last_end, start = line
        if last_end >= 0:
            self.reposition(start)
        return last_end

    def _constant_run(self, matched: re.Match[str]) -> ast.ConstantRun | None:
        """The run matched by ``_RUN``, or None when it must be parsed line by line: a key
        repeats, a range's minimum is above its maximum, or a one-line array/object is not
        valid (those are reported, or read differently, by the usual path)."""
        start = matched.start(1)
        lines = matched.group(1)
        end = start + len(lines.rstrip(" \t;\r"))
        if ";" in lines:
            lines = _RUN_SEMICOLON.sub("", lines)
        parts = _RUN_LINE_SPLIT.split("\n" + lines)
        keys = tuple(parts[1::2])
        if len(set(keys)) != len(keys):
            return None
        values_json = "[\n" + ",\n".join(parts[2::2]) + "]"
        if "-" in values_json:
            pieces = _RUN_RANGE_SPLIT.split(values_json)
            if len(pieces) > 1:
                lows, highs = pieces[1::3], pieces[2::3]
                if any(map(operator.gt, map(int, lows), map(int, highs))):
                    return None
                pieces[1::3] = map(_range_min, lows)
                pieces[2::3] = map(_range_max, highs)
                values_json = "".join(pieces)
        if "{" in values_json:
            pieces = _RUN_OBJECT_KEY_SPLIT.split(values_json)
            if len(pieces) > 1:
                # One-line objects: quote their keys. The regex has checked everything else
                # JSON requires, but not that an object does not repeat a key.
                names = pieces[2::3]
                pieces[2::3] = map(_quote_key, names)
                values_json = "".join(pieces)
                if len(set(names)) != len(names) and _an_object_repeats_a_key(
                    pieces[1::3], names, pieces[3::3], values_json
                ):
                    return None
        run: ast.ConstantRun = _make_run(keys, values_json, _make_span(self.source, start, end))
        return run

    def _simple_line(self, start: int, into: list[ast.Statement]) -> tuple[int, int] | None:
        """One ``key: simple-value`` line at ``start`` (and the blank and comment lines after
        it): appends its Assign, returns the end of the statement and where the next line's
        text starts; None when the line is not that simple."""
        text = self.text
        m = _FAST_LINE.match(text, start)
        if m is None:
            return None
        kind = m.lastgroup or ""
        key_start = m.start()
        value_start, value_end = m.span(kind)
        if kind == "open":
            flow = self._fast_flow(value_start)
            if flow is None:
                return None
            value, value_end = flow
            rest = _FAST_LINE_REST.match(text, value_end)
            if rest is None:
                return None
            next_start = rest.end()
        else:
            next_start = m.end()
            scalar = self._fast_scalar(kind, m.group(kind), value_start, value_end)
            if scalar is None:
                return None
            value = scalar
            if kind == "dq" or kind == "sq":
                value_end += 1
        key = m.group("key")
        source = self.source
        into.append(
            _make_assign(
                tuple(key.split(".")) if "." in key else (key,),
                value,
                _make_span(source, key_start, value_end),
                _make_span(source, key_start, key_start + len(key)),
            )
        )
        return value_end, next_start

    def _fast_scalar(self, kind: str, raw: str, start: int, end: int) -> ast.Expr | None:
        """The node for a scalar matched by a fast-path regex; None to leave it to the
        tokenizer (a range whose minimum is above its maximum is an error reported there)."""
        source = self.source
        if kind == "dq" or kind == "sq":
            value: ast.Expr = _make_literal(raw, _make_span(source, start - 1, end + 1))
        elif kind == "int":
            value = _make_literal(int(raw), _make_span(source, start, end))
        elif kind == "float":
            value = _make_literal(float(raw), _make_span(source, start, end))
        elif kind == "word":
            lowered = raw.lower()
            if lowered in _KEYWORDS:
                value = _make_literal(_KEYWORDS[lowered], _make_span(source, start, end))
            else:
                value = _make_bare_word(raw, _make_span(source, start, end))
        elif kind == "var":
            name, *path = raw[1:].split(".")
            value = _make_var(name, tuple(path), _make_span(source, start, end), True)
        else:  # range
            low, high = raw.split("-")
            if int(low) > int(high):
                return None
            value = _make_range(int(low), int(high), _make_span(source, start, end))
        return value

    def _fast_flow(self, start: int) -> tuple[ast.Expr, int] | None:
        """A one-line array or object of scalars starting at ``text[start]`` (``[`` or ``{``)
        and its end offset, or None when it holds anything else (the tokenizer reads it)."""
        text = self.text
        source = self.source
        limit = text.find("\n", start)
        if limit < 0:
            limit = len(text)
        match = _FAST_FLOW_TOKEN.match
        make_span = _make_span
        fast_scalar = self._fast_scalar
        # Open containers: [is_object, start, items, state, key, key_start, key_end].
        stack: list[list[Any]] = []
        pos = start
        while True:
            m = match(text, pos, limit)
            if m is None:
                return None
            kind = m.lastgroup or ""
            pos = m.end()
            if kind == "open":
                if stack:
                    frame = stack[-1]
                    if frame[3] != (_EXPECT_VALUE if frame[0] else _EXPECT_ITEM):
                        return None
                stack.append([text[pos - 1] == "{", pos - 1, [], _EXPECT_ITEM, None, 0, 0])
                continue
            frame = stack[-1]
            state = frame[3]
            if kind == "comma":
                if state != _EXPECT_SEPARATOR:
                    return None
                frame[3] = _EXPECT_ITEM
                continue
            if kind == "key":
                if not frame[0] or state != _EXPECT_ITEM:
                    return None
                key_start = m.start("key")
                frame[4] = m.group("key")
                frame[5] = key_start
                frame[6] = m.end("key")
                frame[3] = _EXPECT_VALUE
                continue
            if kind == "close":
                if state == _EXPECT_VALUE or (text[pos - 1] == "}") != frame[0]:
                    return None
                stack.pop()
                span = make_span(source, frame[1], pos)
                value: ast.Expr = (
                    _make_object(tuple(frame[2]), span)
                    if frame[0]
                    else _make_array(tuple(frame[2]), span)
                )
                value_end = pos
                if not stack:
                    return value, pos
                frame = stack[-1]
                state = frame[3]
            else:
                value_start, value_end = m.span(kind)
                scalar = fast_scalar(kind, m.group(kind), value_start, value_end)
                if scalar is None:
                    return None
                value = scalar
                if kind == "dq" or kind == "sq":
                    value_end += 1
            # Attach the finished value to the open container.
            if frame[0]:
                if state != _EXPECT_VALUE:
                    return None
                key = frame[4]
                frame[2].append(
                    _make_assign(
                        (key,),
                        value,
                        make_span(source, frame[5], value_end),
                        make_span(source, frame[5], frame[6]),
                    )
                )
            else:
                if state != _EXPECT_ITEM:
                    return None
                frame[2].append(value)
            frame[3] = _EXPECT_SEPARATOR

    def _alone_on_line(self, tok: Token) -> bool:
        text = self.text
        line_start = text.rfind("\n", 0, tok.start) + 1
        if text[line_start : tok.start].strip(" \t\r\f\v"):
            return False
        return _REST_OF_LINE_BLANK.match(text, tok.end) is not None

    def _open_closer(self, kind: str) -> bool:
        """True when an enclosing construct is closed by ``kind`` ("}", "<", "endif")."""
        return any(level.closer == kind for level in self.levels)

    def _never_closed(self, level: _Level) -> None:
        opener = level.opener
        assert opener is not None
        self.unwinding = True
        if level.closer == "endif":
            self.record(
                "unterminated '#!if'", opener.start, opener.end, hint="add '#!endif' to close it"
            )
        elif level.closer == "<":
            self.record(
                f"{level.description} is never closed",
                opener.start,
                opener.end,
                hint="add a line holding only '<' to close it",
            )
        else:
            self.record(
                f"{level.description} is never closed",
                opener.start,
                opener.end,
                hint="add '}' to close it",
            )

    def _stray_closer(self, tok: Token) -> None:
        if tok.kind == "}":
            message = "unexpected '}': there is no open block or object to close"
        else:
            message = "unexpected '<': there is no open '>' block to close"
        self.record(message, tok.start, tok.end)

    def _end_of_statement(self, level: _Level) -> None:
        tok = self.tok
        kind = tok.kind
        if kind == ";":
            self.advance()
            return
        if kind in (NEWLINE, EOF):
            return
        if level.brace and kind in (",", "}"):
            if kind == ",":
                self.advance()
            return
        self.fail(
            f"unexpected {self.describe(tok)} after the statement",
            tok.start,
            tok.end,
            hint="put one statement per line" if not level.brace else "separate members with ','",
        )

    # --- statements -----------------------------------------------------------------------------

    def statement(self, level: _Level) -> ast.Statement:
        tok = self.tok
        kind = tok.kind
        if kind in (NAME, STRING):
            return self._keyed_statement(level)
        if kind == VAR:
            return self._global_assign(level)
        if kind == "@":
            call = self.call()
            return ast.CallStatement(call, call.span)
        if kind == DIRECTIVE:
            return self._directive(level)
        if kind == OTHER and tok.value == "$":
            self.fail(
                "expected a global name after '$'",
                tok.start,
                tok.end,
                hint="globals are written $name: value",
            )
        self.fail(
            f"expected a key, found {self.describe(tok)}",
            tok.start,
            tok.end,
            hint="a statement is key: value, key { ... }, [section], @call(...) or #!directive",
        )

    def _key(self, tok: Token) -> tuple[str, ...]:
        if tok.kind == NAME:
            name = str(tok.value)
            return tuple(name.split(".")) if "." in name else (name,)
        value = tok.value
        assert isinstance(value, StringValue)
        if not value.is_plain:
            self.fail("a key cannot contain '${...}'", tok.start, tok.end)
        return (value.text,)

    def _keyed_statement(self, level: _Level) -> ast.Statement:
        key_tok = self.tok
        key = self._key(key_tok)
        key_span: Span = _make_span(self.source, key_tok.start, key_tok.end)
        if key_tok.kind == NAME:
            opener = _FAST_BLOCK_OPENER.match(self.text, key_tok.end, self.lexer.limit)
            if opener is not None:
                # `name {` or `name >` and nothing else on the line: straight to the body.
                at = opener.start(1)
                open_tok = Token(opener.group(1), at, at + 1)
                self._at_line_start(opener.end())
                if open_tok.kind == "{":
                    return self._brace_block_body(key, key_span, open_tok)
                return self._angle_block_body(key, key_span, open_tok)
        self.advance()
        tok = self.tok
        kind = tok.kind
        if kind == ":" or kind == "=":
            self.advance()
            value = self._assigned_value(level, key_tok, tok)
            return ast.Assign(key, value, self.span(key_tok.start, value.span.end), key_span)
        if kind == "{":
            return self._brace_block(level, key, key_span)
        if kind == ">":
            return self._angle_block(level, key, key_span)
        shown = ".".join(key)
        if kind == "(" and key_tok.kind == NAME and tok.start == key_tok.end:
            self._call_without_at(key_tok)
        if kind in (NEWLINE, EOF):
            self.fail(
                f"'{shown}' has no ':' or '='",
                key_tok.start,
                key_tok.end,
                hint=f"write '{shown}: value', or '{shown} {{ ... }}' for a block",
            )
        self.fail(
            f"expected ':' or '=' after '{shown}', found {self.describe(tok)}",
            tok.start,
            tok.end,
            hint=f"write '{shown}: value'",
        )

    def _call_without_at(self, name_tok: Token) -> NoReturn:
        name = self.text[name_tok.start : name_tok.end]
        self.fail(
            f"'{name}(...)' is not a call: operator calls start with '@'",
            name_tok.start,
            name_tok.end,
            hint=f"did you mean @{name}(...)?",
        )

    def _value_context(self, level: _Level) -> _ValueContext:
        return _BRACE_VALUE if level.brace else _LINE_VALUE

    def _assigned_value(self, level: _Level, key_tok: Token, operator: Token) -> ast.Expr:
        """The value after ``key:``; an empty value is ``Literal(None)``."""
        tok = self.tok
        context = self._value_context(level)
        if tok.kind in context.terminators:
            empty = ast.Literal(None, self.span(operator.end, operator.end))
            if tok.kind == NEWLINE:
                self._check_yaml_nesting(key_tok)
            return empty
        return self.value(context)

    def _check_yaml_nesting(self, key_tok: Token) -> None:
        """``key:`` with nothing after it, then deeper-indented lines: the YAML habit."""
        text = self.text
        line_start = text.rfind("\n", 0, key_tok.start) + 1
        key_indent = text[line_start : key_tok.start]
        if key_indent.strip(" \t"):
            return  # the key does not start its line
        next_line = self.lexer.pos
        if next_line >= self.lexer.limit:
            return
        indent = _INDENT.match(text, next_line)
        assert indent is not None
        after = indent.end()
        if after >= len(text) or text[after] in "\r\n":
            return
        if len(indent.group()) > len(key_indent):
            shown = text[key_tok.start : key_tok.end]
            self.record(
                f"'{shown}' has no value, but the lines below it are indented further",
                key_tok.start,
                key_tok.end,
                hint=f"indentation does not nest keys; write a block: {shown} {{ ... }}",
            )

    def _brace_block(self, parent: _Level, key: tuple[str, ...], key_span: Span) -> ast.Block:
        open_tok = self.tok
        self.advance()
        return self._brace_block_body(key, key_span, open_tok)

    def _brace_block_body(self, key: tuple[str, ...], key_span: Span, open_tok: Token) -> ast.Block:
        """The rest of ``key { ...`` once the lexer is past the ``{``."""
        level = self._brace_level(open_tok, f"block '{'.'.join(key)}'")
        body, closer = self.body(level)
        end = self._consume_closer(closer, body, open_tok)
        span = _make_span(self.source, key_span.start, end)
        block: ast.Block = _make_block(key, tuple(body), span, key_span, "{")
        return block

    def _angle_block(self, parent: _Level, key: tuple[str, ...], key_span: Span) -> ast.Block:
        open_tok = self.tok
        self.advance()
        if self.tok.kind not in (NEWLINE, EOF):
            after = self.tok
            self.fail(
                f"unexpected {self.describe(after)} after '>'",
                after.start,
                after.end,
                hint="a '>' block starts on the next line and ends with '<' alone on a line",
            )
        return self._angle_block_body(key, key_span, open_tok)

    def _angle_block_body(self, key: tuple[str, ...], key_span: Span, open_tok: Token) -> ast.Block:
        """The rest of ``key > ...`` once the lexer is past the line of the ``>``."""
        level = _Level(
            "<",
            open_tok,
            f"block '{'.'.join(key)}'",
            brace=False,
            allows_sections=False,
            line_end=-1,
        )
        body, closer = self.body(level)
        end = self._consume_closer(closer, body, open_tok)
        span = _make_span(self.source, key_span.start, end)
        block: ast.Block = _make_block(key, tuple(body), span, key_span, ">")
        return block

    def _brace_level(self, open_tok: Token, description: str) -> _Level:
        line_end = self.text.find("\n", open_tok.end)
        return _Level(
            "}",
            open_tok,
            description,
            brace=True,
            allows_sections=False,
            line_end=len(self.text) if line_end < 0 else line_end,
        )

    def _consume_closer(
        self, closer: Token | None, body: list[ast.Statement], open_tok: Token
    ) -> int:
        """Step past a block's closer; the end offset of the block."""
        if closer is not None:
            self.advance()
            return closer.end
        return body[-1].span.end if body else open_tok.end

    def _global_assign(self, level: _Level) -> ast.GlobalAssign:
        var = self.tok
        name = str(var.value)
        if "." in name:
            self.fail(
                f"a global's name cannot be dotted: '${name}'",
                var.start,
                var.end,
                hint="define $name: value and read fields with $name.field",
            )
        self.advance()
        tok = self.tok
        if tok.kind not in (":", "="):
            self.fail(
                f"expected ':' or '=' after '${name}', found {self.describe(tok)}",
                tok.start,
                tok.end,
                hint=f"a global is defined as ${name}: value",
            )
        self.advance()
        value = self._assigned_value(level, var, tok)
        key_span = self.span(var.start, var.end)
        return ast.GlobalAssign(name, value, self.span(var.start, value.span.end), key_span)

    # --- directives -----------------------------------------------------------------------------

    def _directive(self, level: _Level) -> ast.Statement:
        tok = self.tok
        name = str(tok.value)
        if not name:
            self.fail(
                "expected a directive name after '#!'",
                tok.start,
                tok.end,
                hint="directives are #!include, #!if ... #!endif, or #!name args",
            )
        if name == "if":
            return self._if_directive(level)
        if name == "include":
            return self._include(tok)
        args, end = self._raw_arguments(tok.end)
        return ast.Directive(name, args, self.span(tok.start, end))

    def _raw_arguments(self, start: int) -> tuple[str, int]:
        """The rest of the line after ``start`` without a comment, trimmed; positions the
        lexer at the line end. Returns the text and its end offset."""
        text = self.text
        line_end = text.find("\n", start, self.lexer.limit)
        if line_end < 0:
            line_end = self.lexer.limit
        comment = _LINE_BARE_END.search(text, start, line_end)
        stop = comment.start() if comment is not None else line_end
        raw = text[start:stop]
        args = raw.strip()
        end = start + len(raw.rstrip()) if args else start
        self.reposition(line_end)
        return args, end

    def _include(self, tok: Token) -> ast.Include:
        self.advance()
        path_tok = self.tok
        if path_tok.kind == STRING:
            value = path_tok.value
            assert isinstance(value, StringValue)
            if not value.is_plain:
                self.fail(
                    "the file name of '#!include' cannot contain '${...}'",
                    path_tok.start,
                    path_tok.end,
                )
            self.advance()
            return ast.Include(value.text, self.span(tok.start, path_tok.end))
        path, end = self._raw_arguments(tok.end)
        if not path:
            self.fail(
                "'#!include' needs a file name",
                tok.start,
                tok.end,
                hint='write #!include "other.tsk"',
            )
        return ast.Include(path, self.span(tok.start, end))

    def _if_directive(self, level: _Level) -> ast.IfDirective:
        if_tok = self.tok
        if_level = _Level(
            "endif",
            if_tok,
            "'#!if'",
            brace=level.brace,
            allows_sections=level.allows_sections,
            line_end=-1,
        )
        branches: list[ast.IfBranch] = []
        branch_tok = if_tok
        condition: ast.Expr | None = self._directive_condition(if_tok)
        seen_else = False
        end = if_tok.end
        while True:
            body, closer = self.body(if_level)
            end = body[-1].span.end if body else max(end, branch_tok.end)
            branches.append(ast.IfBranch(condition, tuple(body), self.span(branch_tok.start, end)))
            if closer is None:
                break  # reported as unterminated
            which = str(closer.value)
            if which in ("elif", "else") and seen_else:
                self.record(f"'#!{which}' after '#!else'", closer.start, closer.end)
            if which == "endif":
                end = closer.end
                self.advance()
                self._directive_line_end(closer)
                break
            branch_tok = closer
            end = closer.end
            if which == "elif":
                condition = self._directive_condition(closer)
            else:
                seen_else = True
                condition = None
                self.advance()
                self._directive_line_end(closer)
        return ast.IfDirective(tuple(branches), self.span(if_tok.start, end))

    def _directive_condition(self, tok: Token) -> ast.Expr:
        """The expression after ``#!if`` / ``#!elif``; errors are recorded, not raised, so the
        branches still parse."""
        self.advance()
        start = self.tok.start
        try:
            if self.tok.kind in (NEWLINE, EOF):
                self.fail(
                    f"'#!{tok.value}' needs a condition",
                    tok.start,
                    tok.end,
                    hint=f'for example: #!{tok.value} @env("APP_ENV") == "prod"',
                )
            condition = self.expression()
            if self.tok.kind not in (NEWLINE, EOF):
                after = self.tok
                self.fail(
                    f"unexpected {self.describe(after)} after the condition",
                    after.start,
                    after.end,
                )
            return condition
        except _ParseFailure as failure:
            if failure.diagnostic is not None:
                self.diagnostics.append(failure.diagnostic)
            self.resync(failure.resume, start)
            return ast.Literal(None, self.span(tok.start, tok.end))

    def _directive_line_end(self, tok: Token) -> None:
        if self.tok.kind not in (NEWLINE, EOF):
            after = self.tok
            self.record(
                f"unexpected {self.describe(after)} after '#!{tok.value}'",
                after.start,
                after.end,
            )
            self.resync(after.start, tok.start)

    # --- values ---------------------------------------------------------------------------------

    def value(self, context: _ValueContext) -> ast.Expr:
        """A whole value: a range, an expression, or bare text."""
        tok = self.tok
        start = tok.start
        text = self.text
        if tok.kind == NUMBER and context.allow_range:
            dashed = _DIGITS_AND_DASHES.match(text, start, self.lexer.limit)
            if dashed is not None and _VALUE_END.match(text, dashed.end(), self.lexer.limit):
                return self._range_or_date(dashed)
        mark = len(self.diagnostics)
        complete = False
        try:
            expr = self.expression()
            after = self.tok
            if after.kind in context.terminators:
                return self._whole(expr)
            complete = True
            failure = self._unexpected_after_value(after)
        except _ParseFailure as raised:
            failure = raised
        # "a: 1," outside {} and []: a JSON habit, not the text "1,".
        if (
            complete
            and after.kind == ","
            and not context.flow
            and _REST_OF_LINE_BLANK.match(text, after.end, self.lexer.limit)
        ):
            raise _ParseFailure(
                Diagnostic(
                    "unexpected ',' after the value",
                    self.span(after.start, after.end),
                    hint="commas separate members only inside {...} and [...]",
                ),
                after.start,
            )
        bare = self._bare_text(start, context, mark)
        if bare is not None:
            return bare
        if len(self.diagnostics) > mark and failure.resume >= _start_of(self.diagnostics[mark]):
            # The lexer already reported a broken token here (e.g. the unterminated string
            # of "don't"); what follows from it is not a second error.
            raise _ParseFailure(None, failure.resume)
        raise failure

    def _unexpected_after_value(self, tok: Token) -> _ParseFailure:
        hint = "if the value is text, put it in quotes"
        if tok.kind == "(":
            hint = "operator calls are written @name(...); text with brackets needs quotes"
        return _ParseFailure(
            Diagnostic(
                f"unexpected {self.describe(tok)} after the value",
                self.span(tok.start, tok.end),
                hint=hint,
            ),
            tok.start,
        )

    def _whole(self, expr: ast.Expr) -> ast.Expr:
        """A lone name as a whole value is a bare word; a lone dotted path is bare text."""
        if isinstance(expr, ast.VarRef) and not expr.sigil:
            if not expr.path:
                return ast.BareWord(expr.name, expr.span)
            return ast.BareText(expr.span.text, expr.span)
        return expr

    def _range_or_date(self, dashed: re.Match[str]) -> ast.Expr:
        start, end = dashed.span()
        span = self.span(start, end)
        self.reposition(end)
        if dashed.group(2).count("-") > 1:
            return ast.BareText(dashed.group(), span)  # 2024-01-15: a date, as text
        low = int(dashed.group(1))
        high = int(dashed.group(2)[1:])
        if low > high:
            self.fail(
                f"bad range {dashed.group()}: {low} is greater than {high}",
                start,
                end,
                hint=f'write it as {high}-{low}, or quote it ("{dashed.group()}") if it is text',
            )
        return ast.RangeLit(low, high, span)

    def _bare_text(self, start: int, context: _ValueContext, mark: int) -> ast.BareText | None:
        """The raw text from ``start`` as bare text, or None if it cannot be bare text."""
        text = self.text
        limit = self.lexer.limit
        stop = context.bare_end.search(text, start, limit)
        raw = text[start : stop.start() if stop is not None else limit].rstrip(" \t\r\f\v")
        if raw.endswith(";"):
            raw = raw[:-1].rstrip(" \t\r\f\v")
        if not raw or _NOT_BARE_TEXT.search(raw):
            return None
        del self.diagnostics[mark:]  # errors of the attempt to read it as an expression
        end = start + len(raw)
        self.reposition(end)
        return ast.BareText(raw, self.span(start, end))

    # --- expressions ----------------------------------------------------------------------------

    def expression(self) -> ast.Expr:
        """``cond ? a : b`` and everything below it."""
        condition = self._binary(1)
        if self.tok.kind != "?":
            return condition
        question = self.tok
        self.advance()
        then = self.expression()
        if self.tok.kind != ":":
            tok = self.tok
            self.fail(
                f"expected ':' of the conditional started at '?', found {self.describe(tok)}",
                tok.start,
                tok.end,
                hint="a conditional is written cond ? then : otherwise",
                resume=max(tok.start, question.start),
            )
        self.advance()
        otherwise = self.expression()
        return ast.Ternary(
            condition,
            then,
            otherwise,
            self.span(condition.span.start, otherwise.span.end),
        )

    def _binary(self, min_precedence: int) -> ast.Expr:
        left = self._unary()
        while True:
            op = self.tok
            precedence = _PRECEDENCE.get(op.kind)
            if precedence is None or precedence < min_precedence:
                return left
            self.advance()
            right = self._binary(precedence + 1)
            left = ast.Binary(
                op.kind,
                left,
                right,
                self.span(left.span.start, right.span.end),
                self.span(op.start, op.end),
            )

    def _unary(self) -> ast.Expr:
        tok = self.tok
        if tok.kind == "!" or tok.kind == "-":
            self.advance()
            operand_tok = self.tok
            if tok.kind == "-" and operand_tok.kind == NUMBER:
                self.advance()
                number = operand_tok.value
                assert isinstance(number, int | float)
                return ast.Literal(-number, self.span(tok.start, operand_tok.end))
            operand = self._unary()
            return ast.Unary(tok.kind, operand, self.span(tok.start, operand.span.end))
        return self.primary()

    def primary(self) -> ast.Expr:
        tok = self.tok
        kind = tok.kind
        if kind == NUMBER:
            self.advance()
            number = tok.value
            assert isinstance(number, int | float)
            return ast.Literal(number, self.span(tok.start, tok.end))
        if kind == STRING:
            self.advance()
            return self._string(tok)
        if kind == NAME:
            self.advance()
            name = str(tok.value)
            lowered = name.lower()
            if lowered in _KEYWORDS:
                return ast.Literal(_KEYWORDS[lowered], self.span(tok.start, tok.end))
            if self.tok.kind == "(" and self.tok.start == tok.end:
                self._call_without_at(tok)
            parts = name.split(".")
            return ast.VarRef(parts[0], tuple(parts[1:]), self.span(tok.start, tok.end), False)
        if kind == VAR:
            self.advance()
            parts = str(tok.value).split(".")
            return ast.VarRef(parts[0], tuple(parts[1:]), self.span(tok.start, tok.end), True)
        if kind == "@":
            return self.call()
        if kind == "(":
            return self._parenthesized()
        if kind == "[":
            return self.array()
        if kind == "{":
            return self.object_literal()
        if kind in (NEWLINE, EOF):
            self.fail(f"expected a value, found {self.describe(tok)}", tok.start, tok.end)
        self.fail(
            f"expected a value, found {self.describe(tok)}",
            tok.start,
            tok.end,
            hint="text with special characters needs quotes",
        )

    def _parenthesized(self) -> ast.Expr:
        open_tok = self.tok
        saved = self.lexer.skip_newlines
        self.lexer.skip_newlines = True
        self.advance()
        if self.tok.kind == EOF:
            self._missing_closer(open_tok, ")", self.tok, separated=False)
        inner = self.expression()
        if self.tok.kind != ")":
            self._missing_closer(open_tok, ")", self.tok, separated=False)
        self.lexer.skip_newlines = saved
        self.advance()
        return inner

    def _missing_closer(
        self, open_tok: Token, closer: str, found: Token, separated: bool = True
    ) -> NoReturn:
        opener = self.text[open_tok.start : open_tok.end]
        if found.kind == EOF or self.line_of(found.start) > self.line_of(open_tok.start):
            self.fail(
                f"'{opener}' is never closed",
                open_tok.start,
                open_tok.end,
                hint=f"expected '{closer}' before {self.describe(found)}"
                f" on line {self.line_of(found.start)}",
                resume=found.start,
                resume_at_line=True,
            )
        separator = "',' or " if separated else ""
        self.fail(
            f"expected {separator}'{closer}', found {self.describe(found)}",
            found.start,
            found.end,
            hint=f"'{opener}' opened at column {self.source.line_col(open_tok.start)[1]}"
            f" is still open",
        )

    def array(self) -> ast.ArrayLit:
        open_tok = self.tok
        saved = self.lexer.skip_newlines
        self.lexer.skip_newlines = True
        self.advance()
        items: list[ast.Expr] = []
        while self.tok.kind != "]":
            if self.tok.kind == EOF:
                self._missing_closer(open_tok, "]", self.tok)
            items.append(self.value(_ARRAY_ITEM))
            kind = self.tok.kind
            if kind == ",":
                self.advance()
            elif kind != "]":
                self._missing_closer(open_tok, "]", self.tok)
        self.lexer.skip_newlines = saved
        close = self.tok
        self.advance()
        return ast.ArrayLit(tuple(items), self.span(open_tok.start, close.end))

    def object_literal(self) -> ast.ObjectLit:
        open_tok = self.tok
        saved = self.lexer.skip_newlines
        self.lexer.skip_newlines = False
        self.advance()
        level = self._brace_level(open_tok, "'{'")
        body, closer = self.body(level)
        self.lexer.skip_newlines = saved
        if closer is None:
            end = body[-1].span.end if body else open_tok.end
        else:
            end = closer.end
            self.advance()
        return ast.ObjectLit(tuple(body), self.span(open_tok.start, end))

    def call(self) -> ast.Call:
        at = self.tok
        self.advance()
        name_tok = self.tok
        if name_tok.kind != NAME or name_tok.start != at.end:
            self.fail(
                "expected an operator name right after '@'",
                at.start,
                at.end,
                hint='for example @env("HOME")',
            )
        self.advance()
        name = tuple(str(name_tok.value).split("."))
        name_span = self.span(name_tok.start, name_tok.end)
        if self.tok.kind != "(":
            return ast.Call(name, (), self.span(at.start, name_tok.end), name_span, False)
        open_tok = self.tok
        saved = self.lexer.skip_newlines
        self.lexer.skip_newlines = True
        self.advance()
        args: list[ast.Expr] = []
        while self.tok.kind != ")":
            if self.tok.kind == EOF:
                self._missing_closer(open_tok, ")", self.tok)
            args.append(self.value(_CALL_ARG))
            kind = self.tok.kind
            if kind == ",":
                self.advance()
            elif kind != ")":
                self._missing_closer(open_tok, ")", self.tok)
        self.lexer.skip_newlines = saved
        close = self.tok
        self.advance()
        return ast.Call(name, tuple(args), self.span(at.start, close.end), name_span, True)

    # --- strings --------------------------------------------------------------------------------

    def _string(self, tok: Token) -> ast.Expr:
        value = tok.value
        assert isinstance(value, StringValue)
        span = self.span(tok.start, tok.end)
        if value.is_plain:
            return ast.Literal(value.text, span)
        parts: list[str | ast.Expr] = []
        for part in value.parts:
            if isinstance(part, str):
                if part:
                    parts.append(part)
            else:
                parts.append(self._interpolation(*part))
        return ast.Interpolated(tuple(parts), span)

    def _interpolation(self, start: int, end: int) -> ast.Expr:
        """Parse the expression inside ``${...}`` (``text[start:end]``)."""
        if not self.text[start:end].strip():
            self.record("empty '${}' in string", start - 2, end + 1, hint="write ${name}")
            return ast.Literal("", self.span(start - 2, end + 1))
        inner = Parser(self.source, self.diagnostics, start, end)
        try:
            expr = inner.expression()
            if inner.tok.kind != EOF:
                after = inner.tok
                inner.fail(
                    f"unexpected {inner.describe(after)} in '${{...}}'", after.start, after.end
                )
        except _ParseFailure as failure:
            if failure.diagnostic is not None:
                self.diagnostics.append(failure.diagnostic)
            return ast.Literal("", self.span(start - 2, end + 1))
        return expr
