"""Source text, spans and diagnostics.

A :class:`Source` owns one file's text and maps offsets to lines and columns; a :class:`Span`
is a half-open ``[start, end)`` range of offsets in one source. A :class:`Diagnostic` renders
like a compiler message::

    app.tsk:3:12: error: unterminated string
        name: "shop
              ^~~~~
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class Source:
    """The text of one ``.tsk`` file (or string) and its line table."""

    __slots__ = ("_line_starts", "name", "path", "text")

    def __init__(self, text: str, name: str = "<string>", path: Path | None = None) -> None:
        self.text = text
        self.name = name
        self.path = path
        # Built on first use: only diagnostics need lines and columns, and a 10 MB file's
        # table costs about 0.1 s (5 % of the parse budget).
        self._line_starts: list[int] | None = None

    @property
    def line_starts(self) -> list[int]:
        """Offsets at which each line starts."""
        if self._line_starts is None:
            text = self.text
            starts = [0]
            append = starts.append
            find = text.find
            i = find("\n")
            while i != -1:
                append(i + 1)
                i = find("\n", i + 1)
            self._line_starts = starts
        return self._line_starts

    @classmethod
    def from_path(cls, path: Path) -> Source:
        """Read a file as UTF-8 (a BOM is dropped). ``OSError`` is left to the caller."""
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
        return cls(text, name=str(path), path=path)

    def line_col(self, offset: int) -> tuple[int, int]:
        """1-based line and column (in characters) of ``offset``."""
        offset = max(0, min(offset, len(self.text)))
        starts = self.line_starts
        line = bisect.bisect_right(starts, offset) - 1
        return line + 1, offset - starts[line] + 1

    def line_text(self, line: int) -> str:
        """The text of 1-based ``line`` without its line ending."""
        starts = self.line_starts
        start = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[start:end].rstrip("\r")

    @property
    def line_count(self) -> int:
        return len(self.line_starts)

    def __repr__(self) -> str:
        return f"Source({self.name!r})"


@dataclass(frozen=True, slots=True)
class Span:
    """``[start, end)`` offsets into ``source``."""

    source: Source = field(repr=False, compare=False)
    start: int
    end: int

    @property
    def line(self) -> int:
        return self.source.line_col(self.start)[0]

    @property
    def col(self) -> int:
        return self.source.line_col(self.start)[1]

    @property
    def text(self) -> str:
        return self.source.text[self.start : self.end]

    def to(self, other: Span) -> Span:
        """The span from the start of ``self`` to the end of ``other``."""
        return Span(self.source, self.start, max(self.end, other.end))

    def location(self) -> str:
        line, col = self.source.line_col(self.start)
        return f"{self.source.name}:{line}:{col}"


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A message about a span: an error or a warning."""

    message: str
    span: Span | None
    severity: Severity = Severity.ERROR
    hint: str | None = None
    #: Extra spans worth showing (e.g. the other members of a reference cycle).
    notes: tuple[tuple[str, Span], ...] = ()

    def render(self) -> str:
        lines = [self._header()]
        if self.span is not None:
            lines.extend(_excerpt(self.span))
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        for note, span in self.notes:
            lines.append(f"{span.location()}: note: {note}")
            lines.extend(_excerpt(span))
        return "\n".join(lines)

    def _header(self) -> str:
        where = self.span.location() if self.span is not None else "tuskops"
        return f"{where}: {self.severity.value}: {self.message}"

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"severity": self.severity.value, "message": self.message}
        if self.span is not None:
            line, col = self.span.source.line_col(self.span.start)
            out.update(file=self.span.source.name, line=line, col=col)
        if self.hint:
            out["hint"] = self.hint
        return out

    def __str__(self) -> str:
        return self.render()


def _excerpt(span: Span) -> list[str]:
    """The source line of ``span`` and a caret line under it (clipped to that line)."""
    source = span.source
    line, col = source.line_col(span.start)
    text = source.line_text(line)
    end_line, end_col = source.line_col(span.end)
    width = (end_col - col) if end_line == line else (len(text) - col + 1)
    width = max(1, width)
    # Tabs keep their width in the caret line so the caret lines up in a terminal.
    pad = "".join("\t" if ch == "\t" else " " for ch in text[: col - 1])
    return [f"    {text}", f"    {pad}^{'~' * (width - 1)}"]
