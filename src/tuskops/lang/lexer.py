"""The TuskLang tokenizer.

A pull lexer: the parser asks for one token at a time, so it can switch newline handling
(significant in statement bodies and ``{...}``, plain whitespace inside ``[...]`` and
``(...)``), re-position the lexer after reading raw text (bare text values, directive
arguments), and run a second lexer over the source range of a ``${...}`` inside a string.

Every token kind is matched by one compiled regular expression at the current offset, so runs
of identifier, number and whitespace characters cost one ``re.match`` rather than a Python loop
per character.

Comment rules (from the spec, made exact here):

- ``#``, ``//`` and ``/*`` start a comment only at the start of a line or right after
  whitespace; elsewhere they are ordinary characters (``http://x``, ``a#b``, ``./data/*.db``).
- ``#!name`` as the first thing on a line (indentation allowed) is a directive token;
  ``#!`` followed by ``/`` on line 1 is a shebang and the whole line is skipped.

Strings are decoded here: escapes in ``"..."`` and ``\"\"\"...\"\"\"``, the dedent rules of
triple-quoted strings, and the source ranges of ``${...}`` parts (which the parser parses as
expressions). Problems inside strings (bad escapes, unterminated strings) are recorded as
diagnostics and the token is still produced, so parsing goes on and every error is reported.
"""

from __future__ import annotations

import re
from typing import Final

from tuskops.lang.source import Diagnostic, Source, Span

# --- token kinds ------------------------------------------------------------------------------
# Punctuation and operators use their own text as kind ("{", "==", ...).
NAME: Final = "name"  # identifier, possibly dotted: value is the text ("a.b.c")
NUMBER: Final = "number"  # value is the int or float
VAR: Final = "var"  # $name / $name.a.b: value is the text without "$"
STRING: Final = "string"  # value is a StringValue
NEWLINE: Final = "newline"  # one or more line ends (blank and comment-only lines folded in)
EOF: Final = "eof"
DIRECTIVE: Final = "directive"  # "#!name" at line start: value is the name ("" if missing)
OTHER: Final = "other"  # any character no other token starts with: value is that character

IDENT_PATTERN: Final = r"[^\W\d](?:[\w-]*\w)?"
_NUMBER_PATTERN = (
    r"0[xX][0-9a-fA-F]+(?:_[0-9a-fA-F]+)*"
    r"|0[oO][0-7]+(?:_[0-7]+)*"
    r"|0[bB][01]+(?:_[01]+)*"
    r"|\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?(?:[eE][+-]?\d+)?"
)
_TOKEN_RE = re.compile(
    r"(?P<ws>[ \t\r\f\v]+)"
    r"|(?P<newline>\n)"
    rf"|(?P<name>{IDENT_PATTERN}(?:\.{IDENT_PATTERN})*)"
    rf"|(?P<number>{_NUMBER_PATTERN})"
    rf"|(?P<var>\${IDENT_PATTERN}(?:\.(?:{IDENT_PATTERN}|\d+))*)"
    r"|(?P<quote>[\"'])"
    r"|(?P<hash>\#)"
    r"|(?P<slash>//|/\*)"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[{}\[\](),:=;@?+\-*/%!<>.])"
    r"|(?P<other>.)",
    re.DOTALL,
)
# After a line end: the blank and comment-only lines that follow (never a "#!" line).
_BLANK_LINES_RE = re.compile(r"(?:[ \t\r\f\v]*(?:(?:#(?!!)|//)[^\n]*)?\n)*")
_DIRECTIVE_NAME_RE = re.compile(r"[A-Za-z_][\w-]*")
_WHITESPACE_BEFORE = frozenset(" \t\r\n\f\v")

# Strings.
_SIMPLE_DOUBLE_RE = re.compile(r'"([^"\\$\n]*)"')
_SIMPLE_SINGLE_RE = re.compile(r"'([^'\n]*)'")
_DOUBLE_END_RE = re.compile(r'["\\\n]|\$\{')
_TRIPLE_DOUBLE_END_RE = re.compile(r'"""|\\|\$\{')
_INTERPOLATION_SCAN_RE = re.compile(r"[{}\"'\n]")
_ESCAPE_OR_DOLLAR_RE = re.compile(r"[\\$]")
_HEX4_RE = re.compile(r"[0-9a-fA-F]{4}")
_SIMPLE_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
ESCAPE_HINT: Final = (
    "valid escapes are \\n \\t \\r \\\" \\\\ \\uXXXX; write literal text in '...' quotes"
)


class Token:
    """One token: ``kind``, the ``[start, end)`` offsets and a kind-specific ``value``."""

    __slots__ = ("end", "kind", "start", "value")

    def __init__(self, kind: str, start: int, end: int, value: object = None) -> None:
        self.kind = kind
        self.start = start
        self.end = end
        self.value = value

    def __repr__(self) -> str:
        return f"Token({self.kind!r}, {self.start}, {self.end}, {self.value!r})"


class StringValue:
    """A decoded string token.

    ``parts`` holds decoded text (``str``) and the ``(start, end)`` source ranges of the
    expressions inside ``${...}``. ``literal`` is True for ``'...'`` and ``'''...'''``.
    """

    __slots__ = ("literal", "parts")

    def __init__(self, parts: list[str | tuple[int, int]], literal: bool) -> None:
        self.parts = parts
        self.literal = literal

    @property
    def is_plain(self) -> bool:
        """True when there is no ``${...}``: the string is one piece of text."""
        return all(isinstance(part, str) for part in self.parts)

    @property
    def text(self) -> str:
        """The text of a plain string (the text parts only, for others)."""
        return "".join(part for part in self.parts if isinstance(part, str))


class _Unterminated(Exception):
    """A string or ``${`` without its closer; ``start``/``end`` locate the opener."""

    def __init__(self, message: str, start: int, end: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end
        self.hint = hint


class Lexer:
    """Tokens of ``source.text[start:limit]`` on demand.

    ``skip_newlines`` is set by the parser inside ``[...]`` and ``(...)``, where line ends are
    plain whitespace. Diagnostics are appended to the shared ``diagnostics`` list.
    """

    __slots__ = ("diagnostics", "limit", "pos", "skip_newlines", "source", "text")

    def __init__(
        self,
        source: Source,
        diagnostics: list[Diagnostic],
        start: int = 0,
        limit: int | None = None,
    ) -> None:
        self.source = source
        self.text = source.text
        self.diagnostics = diagnostics
        self.limit = len(self.text) if limit is None else limit
        self.pos = start
        self.skip_newlines = False
        if start == 0:
            self.pos = _skip_preamble(self.text)

    # --- errors -------------------------------------------------------------------------------

    def error(self, message: str, start: int, end: int, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(message, Span(self.source, start, end), hint=hint))

    # --- tokens -------------------------------------------------------------------------------

    def next(self) -> Token:
        text = self.text
        limit = self.limit
        pos = self.pos
        match = _TOKEN_RE.match
        while True:
            if pos >= limit:
                self.pos = limit
                return Token(EOF, limit, limit)
            m = match(text, pos, limit)
            assert m is not None  # the last alternative matches any character
            kind = m.lastgroup
            end = m.end()
            if kind == "ws":
                pos = end
                continue
            if kind == "newline":
                if self.skip_newlines:
                    pos = end
                    continue
                blank = _BLANK_LINES_RE.match(text, end, limit)
                self.pos = blank.end() if blank is not None else end
                return Token(NEWLINE, pos, end)
            if kind == "name":
                self.pos = end
                return Token(NAME, pos, end, m.group())
            if kind == "op":
                self.pos = end
                return Token(m.group(), pos, end)
            if kind == "number":
                self.pos = end
                return Token(NUMBER, pos, end, number_value(m.group()))
            if kind == "var":
                self.pos = end
                return Token(VAR, pos, end, text[pos + 1 : end])
            if kind == "quote":
                token = self._string(pos)
                self.pos = token.end
                return token
            after_space = pos == 0 or text[pos - 1] in _WHITESPACE_BEFORE
            if kind == "hash":
                if not after_space:
                    self.pos = end
                    return Token(OTHER, pos, end, "#")
                if text.startswith("#!", pos) and _only_indent_before(text, pos):
                    name = _DIRECTIVE_NAME_RE.match(text, pos + 2, limit)
                    name_end = name.end() if name is not None else pos + 2
                    self.pos = name_end
                    return Token(DIRECTIVE, pos, name_end, name.group() if name else "")
                pos = _line_end(text, pos, limit)
                continue
            if kind == "slash":
                if not after_space:
                    self.pos = pos + 1
                    return Token("/", pos, pos + 1)
                if m.group() == "//":
                    pos = _line_end(text, pos, limit)
                    continue
                close = text.find("*/", end, limit)
                if close < 0:
                    self.error("unterminated /* comment", pos, end, hint="close it with */")
                    pos = limit
                else:
                    pos = close + 2
                continue
            # kind == "other"
            self.pos = end
            return Token(OTHER, pos, end, m.group())

    # --- strings ------------------------------------------------------------------------------

    def _string(self, start: int) -> Token:
        text = self.text
        quote = text[start]
        if text.startswith(quote * 3, start):
            return self._triple_string(start, quote)
        if quote == '"':
            simple = _SIMPLE_DOUBLE_RE.match(text, start, self.limit)
            if simple is not None:
                return Token(STRING, start, simple.end(), StringValue([simple.group(1)], False))
            try:
                close = self._find_double_end(start + 1, triple=False)
            except _Unterminated as problem:
                return self._unterminated(start, problem)
            parts = self._decode(start + 1, close, dedent=None, first_at_line_start=False)
            return Token(STRING, start, close + 1, StringValue(parts, False))
        simple = _SIMPLE_SINGLE_RE.match(text, start, self.limit)
        if simple is not None:
            return Token(STRING, start, simple.end(), StringValue([simple.group(1)], True))
        return self._unterminated(start, _Unterminated("unterminated string", start, start + 1))

    def _unterminated(self, start: int, problem: _Unterminated) -> Token:
        """Report ``problem`` and end the token at the end of the line, so parsing goes on."""
        hint = problem.hint
        if hint is None and problem.start == start and self.text[start] in "\"'":
            hint = "strings cannot span lines; use \"\"\"...\"\"\" or '''...''' for several lines"
        self.error(problem.message, problem.start, problem.end, hint=hint)
        end = _line_end(self.text, start, self.limit)
        raw = self.text[start + 1 : end].rstrip("\r")
        return Token(STRING, start, end, StringValue([raw], True))

    def _find_double_end(self, pos: int, triple: bool) -> int:
        """Offset of the closing quote(s) of a ``"`` string whose text starts at ``pos``."""
        text = self.text
        limit = self.limit
        pattern = _TRIPLE_DOUBLE_END_RE if triple else _DOUBLE_END_RE
        opener = pos - (3 if triple else 1)
        while True:
            m = pattern.search(text, pos, limit)
            if m is None or m.group() == "\n":
                raise _Unterminated("unterminated string", opener, opener + (3 if triple else 1))
            found = m.group()
            if found == "\\":
                if not triple and text.startswith("\n", m.start() + 1):
                    raise _Unterminated("unterminated string", opener, opener + 1)
                pos = m.start() + 2
            elif found == "${":
                pos = self._find_interpolation_end(m.end(), multiline=triple) + 1
            else:
                return m.start()

    def _find_interpolation_end(self, pos: int, multiline: bool) -> int:
        """Offset of the ``}`` closing a ``${`` whose expression starts at ``pos``.

        Braces nest, and quotes inside the expression start strings of their own, so
        ``"${ {"a": "}"}.a }"`` finds the right brace.
        """
        text = self.text
        limit = self.limit
        opener = pos - 2
        depth = 1
        while True:
            m = _INTERPOLATION_SCAN_RE.search(text, pos, limit)
            if m is None or (m.group() == "\n" and not multiline):
                raise _Unterminated(
                    "unterminated '${' in string", opener, opener + 2, hint="close it with '}'"
                )
            found = m.group()
            at = m.start()
            if found == "{":
                depth += 1
                pos = at + 1
            elif found == "}":
                depth -= 1
                if depth == 0:
                    return at
                pos = at + 1
            elif found == '"':
                triple = text.startswith('"""', at)
                width = 3 if triple else 1
                pos = self._find_double_end(at + width, triple) + width
            elif found == "'":
                close = text.find("'''", at + 3, limit) if text.startswith("'''", at) else -2
                if close == -2:
                    simple = _SIMPLE_SINGLE_RE.match(text, at, limit)
                    if simple is None:
                        raise _Unterminated("unterminated string", at, at + 1)
                    pos = simple.end()
                elif close < 0:
                    raise _Unterminated("unterminated string", at, at + 3)
                else:
                    pos = close + 3
            else:  # a line end inside a multi-line string
                pos = at + 1

    def _triple_string(self, start: int, quote: str) -> Token:
        text = self.text
        open_end = start + 3
        try:
            if quote == '"':
                close = self._find_double_end(open_end, triple=True)
            else:
                close = text.find("'''", open_end, self.limit)
                if close < 0:
                    raise _Unterminated("unterminated string", start, open_end)
        except _Unterminated as problem:
            self.error(problem.message, problem.start, problem.end, hint=problem.hint)
            return Token(STRING, start, self.limit, StringValue([""], True))
        # Rule 1: a line end right after the opening delimiter is dropped.
        content_start = open_end
        first_at_line_start = False
        if text.startswith("\n", open_end):
            content_start, first_at_line_start = open_end + 1, True
        elif text.startswith("\r\n", open_end):
            content_start, first_at_line_start = open_end + 2, True
        # Rule 2: a closing delimiter alone on its line drops that line's indentation and the
        # line end before it.
        content_end = close
        last_newline = text.rfind("\n", open_end, close)
        if last_newline >= 0 and not text[last_newline + 1 : close].strip(" \t"):
            content_end = max(content_start, last_newline)
            if content_end > content_start and text[content_end - 1] == "\r":
                content_end -= 1
        # Rule 3: the common indentation of the remaining lines is removed.
        dedent = _common_indent(text[content_start:content_end], first_at_line_start)
        if quote == "'":
            content = text[content_start:content_end].replace("\r\n", "\n")
            return Token(
                STRING,
                start,
                close + 3,
                StringValue([_dedent_text(content, dedent, first_at_line_start)], True),
            )
        parts = self._decode(content_start, content_end, dedent, first_at_line_start)
        return Token(STRING, start, close + 3, StringValue(parts, False))

    def _decode(
        self, start: int, end: int, dedent: str | None, first_at_line_start: bool
    ) -> list[str | tuple[int, int]]:
        """Decode escapes and split out ``${...}`` in ``text[start:end]`` of a ``"`` string."""
        text = self.text
        parts: list[str | tuple[int, int]] = []
        pieces: list[str] = []
        pos = start
        while pos < end:
            m = _ESCAPE_OR_DOLLAR_RE.search(text, pos, end)
            piece_end = m.start() if m is not None else end
            if piece_end > pos:
                piece = text[pos:piece_end]
                if dedent is not None:
                    piece = _dedent_text(
                        piece.replace("\r\n", "\n"), dedent, first_at_line_start and pos == start
                    )
                pieces.append(piece)
            if m is None:
                break
            at = m.start()
            if text[at] == "$":
                if at + 1 < end and text[at + 1] == "{":
                    close = self._find_interpolation_end(at + 2, multiline=dedent is not None)
                    if pieces:
                        parts.append("".join(pieces))
                        pieces = []
                    parts.append((at + 2, close))
                    pos = close + 1
                else:
                    pieces.append("$")
                    pos = at + 1
                continue
            decoded, pos = self._escape(at, end)
            pieces.append(decoded)
        if pieces or not parts:
            parts.append("".join(pieces))
        return parts

    def _escape(self, at: int, end: int) -> tuple[str, int]:
        """Decode the escape at ``text[at]`` (a backslash): the text and the offset after it."""
        text = self.text
        letter = text[at + 1] if at + 1 < end else ""
        simple = _SIMPLE_ESCAPES.get(letter)
        if simple is not None:
            return simple, at + 2
        if letter == "u":
            hex4 = _HEX4_RE.match(text, at + 2, end)
            if hex4 is not None:
                code = int(hex4.group(), 16)
                after = at + 6
                # A UTF-16 surrogate pair written as two escapes is one character.
                if 0xD800 <= code <= 0xDBFF and text.startswith("\\u", after):
                    low = _HEX4_RE.match(text, after + 2, end)
                    if low is not None and 0xDC00 <= int(low.group(), 16) <= 0xDFFF:
                        combined = 0x10000 + ((code - 0xD800) << 10) + int(low.group(), 16) - 0xDC00
                        return chr(combined), after + 6
                return chr(code), after
            bad_end = at + 2
            while bad_end < min(end, at + 6) and text[bad_end] not in '"\n':
                bad_end += 1
            self.error("bad escape '\\u': expected four hex digits", at, bad_end, hint=ESCAPE_HINT)
            return text[at:bad_end], bad_end
        shown = letter if letter and letter != "\n" else ""
        self.error(f"bad escape '\\{shown}' in string", at, at + 1 + len(shown), hint=ESCAPE_HINT)
        return "\\" + shown, at + 1 + len(shown)


# --- helpers ------------------------------------------------------------------------------------


def number_value(text: str) -> int | float:
    """The value of a number token's text (``0xFF``, ``1_000``, ``1.5e-3``, ``007``)."""
    if len(text) > 1 and text[0] == "0" and text[1] in "xXoObB":
        return int(text, 0)
    if "." in text or "e" in text or "E" in text:
        return float(text)
    return int(text)


def _skip_preamble(text: str) -> int:
    """Offset after a byte order mark and a shebang line (``#!/...`` on line 1)."""
    pos = 1 if text.startswith("\ufeff") else 0
    if text.startswith("#!/", pos) or text.startswith("#! /", pos):
        end = text.find("\n", pos)
        return len(text) if end < 0 else end
    return pos


def _line_end(text: str, pos: int, limit: int) -> int:
    end = text.find("\n", pos, limit)
    return limit if end < 0 else end


def _only_indent_before(text: str, pos: int) -> bool:
    line_start = text.rfind("\n", 0, pos) + 1
    return not text[line_start:pos].strip(" \t\r\f\v\ufeff")


def _common_indent(content: str, first_at_line_start: bool) -> str:
    """The whitespace prefix shared by the non-blank lines of ``content``.

    The first line counts only when it starts a line (it does not when text follows the
    opening delimiter on the same line).
    """
    lines = content.replace("\r\n", "\n").split("\n")
    if not first_at_line_start:
        lines = lines[1:]
    indents = [line[: len(line) - len(line.lstrip(" \t"))] for line in lines if line.strip()]
    if not indents:
        return ""
    # Character by character on purpose: indentation is text, not a path.
    shortest, longest = min(indents), max(indents)
    common = 0
    while common < len(shortest) and shortest[common] == longest[common]:
        common += 1
    return shortest[:common]


def _dedent_text(piece: str, indent: str, at_line_start: bool) -> str:
    """Remove ``indent`` after every line end in ``piece`` (and at its start if it starts a
    line); whitespace-only lines become empty."""
    if not indent:
        return piece
    pattern = re.compile("\n(?:" + re.escape(indent) + r"|[ \t]*(?=\n|\Z))")
    if at_line_start:
        return pattern.sub("\n", "\n" + piece)[1:]
    return pattern.sub("\n", piece)
