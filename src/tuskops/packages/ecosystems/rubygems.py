"""RubyGems: ``Gem::Version`` and ``Gem::Requirement``, modelled exactly.

Hand-written because no Python library implements RubyGems' rules faithfully: the packages
that exist treat gem versions as SemVer or PEP 440, which gets canonical equality
(``1.0 == 1.0.0 == 1``, ``1.0.a == 1.a``), numbers-beat-letters ordering (``1.0.a < 1.0``,
``5.a < 5.0.0.rc2 < 5.x``) and ``~>``'s "release below the bump" rule wrong.

Versions (``Gem::Version``):

* Syntax ``[0-9]+(\\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?`` with surrounding
  ASCII whitespace stripped; a blank string is version ``0``; every ``-`` becomes ``.pre.``
  (``1.2.3-rc1`` is ``1.2.3.pre.rc1``).
* Segments are the runs of digits (integers) and of letters (strings): ``1.0.a10`` is
  ``1, 0, "a", 10``. Canonical segments drop trailing zero segments and, in a pre-release,
  the first run of zero segments before a letter (RubyGems does this with two regex
  substitutions, reproduced here with their quirks); versions are equal when their
  canonical segments are equal.
* ``<=>`` walks the canonical segments, padding the shorter with ``0``: equal segments
  continue, a string is below a number, strings compare bytewise, numbers numerically.
* A version is a pre-release when it contains a letter.

Requirements (``Gem::Requirement``): each part is ``[op] version`` with op one of
``= != > < >= <= ~>`` (no op means ``=``); parts are ANDed; no parts means ``>= 0``.
``~> r`` means ``v >= r and v.release < r.bump`` (``~> 2.1`` is ``>= 2.1, < 3``, ``~>
2.1.3`` is ``>= 2.1.3, < 2.2``). Because it compares ``v.release``, the pre-releases of the
bump are excluded (``3.0.a`` is not in ``~> 2.1``, though ``3.0.a < 3``); the upper bound is
therefore a *floor* version that sorts just below every pre-release of the bump (printed as
``3.a-floor``, never parsed). ``!= v`` is everything but ``v``.

RubyGems' ``Gem::Requirement#satisfied_by?`` does **not** hide pre-releases: ``>= 1.0``
accepts ``2.0.a``. It is Bundler's resolver (and ``gem install`` without ``--pre``) that
skips pre-releases unless a requirement names one; that rule belongs to the resolver, so
``contains`` here is exactly ``satisfied_by?``.

Parsing ``parse_constraint``: ``Gem::Requirement.new`` takes each part as a separate string;
the text form joins them with commas (as Bundler's lockfiles and ``gem list`` print them),
so ``">= 1.0, < 2"`` is two parts. A blank text is the default requirement ``>= 0`` (a
Gemfile line without a version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from tuskops.errors import VersionSyntaxError
from tuskops.packages.versions import Ranges

__all__ = ["SCHEME", "RubygemsRequirement", "RubygemsScheme", "RubygemsVersion"]

NAME = "rubygems"

_WS = "[ \\t\\n\\v\\f\\r]"
_VERSION_BODY = r"[0-9]+(?>\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
_ANCHORED_VERSION = re.compile(rf"{_WS}*(?:{_VERSION_BODY})?{_WS}*\Z", re.ASCII)
_VERSION_PREFIX = re.compile(rf"{_WS}*(?:{_VERSION_BODY})?{_WS}*", re.ASCII)
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+", re.ASCII)
_OPERATORS = ("=", "!=", ">", "<", ">=", "<=", "~>")
_REQUIREMENT = re.compile(rf"{_WS}*(~>|!=|>=|<=|=|>|<)?{_WS}*({_VERSION_BODY}){_WS}*\Z", re.ASCII)
_OPERATOR_PREFIX = re.compile(rf"{_WS}*(~>|!=|>=|<=|=|>|<)?{_WS}*", re.ASCII)

_TRAILING_ZEROS = re.compile(r"(?<=[a-zA-Z.])[.0]+\Z")
_ZEROS_BEFORE_LETTER = re.compile(r"(?:(?<=\.)|\A)[0.]+(?=[a-zA-Z])")

Segment = int | str


def _segments(text: str) -> tuple[Segment, ...]:
    return tuple(int(s) if s.isdigit() else s for s in _SEGMENT.findall(text))


def _strip(text: str) -> str:
    return text.strip(" \t\n\v\f\r\0")


def _key(segment: Segment) -> tuple[int, int, str]:
    """Order of one segment: strings below numbers; the floor marker below both."""
    if isinstance(segment, int):
        return (2, segment, "")
    return (1, 0, segment)


_PAD = _key(0)
_FLOOR_KEY = (0, 0, "")


class RubygemsVersion:
    """A ``Gem::Version``. ``==`` and ``hash`` follow canonical segments, like Ruby's ``==``;
    :meth:`eql` is Ruby's ``eql?`` (same string)."""

    def __init__(self, version: str, *, _floor: bool = False) -> None:
        """``version`` must already be valid; use :meth:`RubygemsScheme.parse_version`."""
        text = _strip(version)
        if not text:
            text = "0"
        #: The version string as RubyGems keeps it (stripped, ``-`` as ``.pre.``).
        self.version: str = text.replace("-", ".pre.")
        #: Runs of digits (as ints) and of letters.
        self.segments: tuple[Segment, ...] = _segments(self.version)
        self._floor = _floor

    @cached_property
    def canonical_segments(self) -> tuple[Segment, ...]:
        """Segments with trailing zeros dropped, and for a pre-release the first run of zero
        segments before a letter (``1.0.0.a.1.0`` -> ``1, "a", 1``; only the first run:
        ``1.0.a.0.b`` -> ``1, "a", 0, "b"`` but ``1.a.0.b`` -> ``1, "a", "b"``)."""
        text = _TRAILING_ZEROS.sub("", self.version, count=1)
        if self.prerelease():
            text = _ZEROS_BEFORE_LETTER.sub("", text, count=1)
        return _segments(text)

    @cached_property
    def _keys(self) -> tuple[tuple[int, int, str], ...]:
        keys = tuple(_key(s) for s in self.canonical_segments)
        return (*keys, _FLOOR_KEY) if self._floor else keys

    # --- Gem::Version's methods --------------------------------------------------------------

    @property
    def is_floor(self) -> bool:
        """Whether this is the synthetic "just below every pre-release of" version."""
        return self._floor

    def prerelease(self) -> bool:
        """``prerelease?``: the version contains a letter."""
        return any(c.isalpha() for c in self.version)

    def release(self) -> RubygemsVersion:
        """``release``: the version without its trailing pre-release segments."""
        if not self.prerelease():
            return self
        return RubygemsVersion(".".join(str(s) for s in _release_segments(self.segments)))

    def bump(self) -> RubygemsVersion:
        """``bump``: drop pre-release segments and the last number, increment the new last
        (``5.2.4`` -> ``5.3``, ``5`` -> ``6``)."""
        segments = _release_segments(self.segments)
        if len(segments) > 1:
            segments.pop()
        segments[-1] = int(segments[-1]) + 1
        return RubygemsVersion(".".join(str(s) for s in segments))

    def approximate_recommendation(self) -> str:
        """``approximate_recommendation``: the ``~>`` requirement to suggest for it."""
        segments = _release_segments(self.segments)[:2]
        segments += [0] * (2 - len(segments))
        recommendation = "~> " + ".".join(str(s) for s in segments)
        return recommendation + ".a" if self.prerelease() else recommendation

    def eql(self, other: object) -> bool:
        """Ruby's ``eql?``: the same version string (``1.2`` is not eql ``1.2.0``)."""
        return isinstance(other, RubygemsVersion) and self.version == other.version

    # --- ordering ----------------------------------------------------------------------------

    def compare(self, other: RubygemsVersion) -> int:
        """``<=>``: -1, 0 or 1."""
        if self._floor == other._floor and (
            self.version == other.version or self.canonical_segments == other.canonical_segments
        ):
            return 0
        mine, theirs = self._keys, other._keys
        for i in range(max(len(mine), len(theirs))):
            a = mine[i] if i < len(mine) else _PAD
            b = theirs[i] if i < len(theirs) else _PAD
            if a != b:
                return -1 if a < b else 1
        return 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RubygemsVersion) and self.compare(other) == 0

    def __hash__(self) -> int:
        return hash((self.canonical_segments, self._floor))

    def __lt__(self, other: RubygemsVersion) -> bool:
        return self.compare(other) < 0

    def __le__(self, other: RubygemsVersion) -> bool:
        return self.compare(other) <= 0

    def __gt__(self, other: RubygemsVersion) -> bool:
        return self.compare(other) > 0

    def __ge__(self, other: RubygemsVersion) -> bool:
        return self.compare(other) >= 0

    def __str__(self) -> str:
        return f"{self.version}.a-floor" if self._floor else self.version

    def __repr__(self) -> str:
        return f"RubygemsVersion({str(self)!r})"


def _release_segments(segments: tuple[Segment, ...]) -> list[Segment]:
    """Segments with everything from the first string on popped (as ``release``/``bump``)."""
    out = list(segments)
    while any(isinstance(s, str) for s in out):
        out.pop()
    return out


def _floor_of(version: RubygemsVersion) -> RubygemsVersion:
    """The cut just below every pre-release of ``version`` (a release)."""
    return RubygemsVersion(version.version, _floor=True)


def _satisfies(op: str, version: RubygemsVersion, target: RubygemsVersion) -> bool:
    """One ``Gem::Requirement::OPS`` entry."""
    if op == "=":
        return version == target
    if op == "!=":
        return version != target
    if op == ">":
        return version > target
    if op == "<":
        return version < target
    if op == ">=":
        return version >= target
    if op == "<=":
        return version <= target
    return version >= target and version.release() < target.bump()  # ~>


def _ranges(op: str, target: RubygemsVersion) -> Ranges[RubygemsVersion]:
    if op == "=":
        return Ranges.singleton(target)
    if op == "!=":
        return ~Ranges.singleton(target)
    if op == ">":
        return Ranges.higher_than(target, inclusive=False)
    if op == "<":
        return Ranges.lower_than(target)
    if op == ">=":
        return Ranges.higher_than(target)
    if op == "<=":
        return Ranges.lower_than(target, inclusive=True)
    return Ranges.between(target, _floor_of(target.bump()))  # ~>


@dataclass(frozen=True, eq=False)
class RubygemsRequirement:
    """A ``Gem::Requirement``, or a set derived from requirements by set operations.

    ``requirements`` holds the parsed ``(op, version)`` pairs of a parsed requirement and is
    empty for derived sets; membership always agrees with ``ranges``."""

    text: str
    ranges: Ranges[RubygemsVersion]
    requirements: tuple[tuple[str, RubygemsVersion], ...] = ()

    def contains(self, version: RubygemsVersion) -> bool:
        """``satisfied_by?`` (pre-releases are not hidden; see the module docstring)."""
        if self.requirements:
            return all(_satisfies(op, version, target) for op, target in self.requirements)
        return self.ranges.contains(version)

    def satisfied_by(self, version: RubygemsVersion) -> bool:
        return self.contains(version)

    def __contains__(self, version: RubygemsVersion) -> bool:
        return self.contains(version)

    def prerelease(self) -> bool:
        """``Gem::Requirement#prerelease?``: some version in it is a pre-release (Bundler
        then lets pre-releases match)."""
        return any(version.prerelease() for _, version in self.requirements)

    def intersection(self, other: RubygemsRequirement) -> RubygemsRequirement:
        return RubygemsRequirement(
            f"({self.text}) AND ({other.text})",
            self.ranges & other.ranges,
            # Still a Gem::Requirement only when both sides are.
            self.requirements + other.requirements
            if self.requirements and other.requirements
            else (),
        )

    def union(self, other: RubygemsRequirement) -> RubygemsRequirement:
        return RubygemsRequirement(f"({self.text}) OR ({other.text})", self.ranges | other.ranges)

    def complement(self) -> RubygemsRequirement:
        return RubygemsRequirement(f"NOT ({self.text})", ~self.ranges)

    def difference(self, other: RubygemsRequirement) -> RubygemsRequirement:
        return self.intersection(other.complement())

    def is_empty(self) -> bool:
        return self.ranges.is_empty()

    __and__ = intersection
    __or__ = union
    __invert__ = complement
    __sub__ = difference

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RubygemsRequirement) and self.ranges == other.ranges

    def __hash__(self) -> int:
        return hash(self.ranges)

    def __str__(self) -> str:
        return self.text


class RubygemsScheme:
    """RubyGems versions and requirements."""

    name = NAME

    def parse_version(self, text: str) -> RubygemsVersion:
        """``Gem::Version.new``; VersionSyntaxError where it raises "Malformed version"."""
        if _ANCHORED_VERSION.match(text) is None:
            start = _VERSION_PREFIX.match(text)
            pos = start.end() if start is not None else 0
            raise VersionSyntaxError(NAME, "version", text, _unexpected(text, pos), pos, pos + 1)
        return RubygemsVersion(text)

    def is_prerelease(self, version: RubygemsVersion) -> bool:
        """``Gem::Version#prerelease?``: the version contains a letter."""
        return version.prerelease()

    def parse_constraint(self, text: str) -> RubygemsRequirement:
        """``Gem::Requirement.new`` of the comma-separated parts; blank is ``>= 0``."""
        parts: list[tuple[str, RubygemsVersion]] = []
        if _strip(text):
            offset = 0
            for part in text.split(","):
                parts.append(self._parse_part(text, part, offset))
                offset += len(part) + 1
        return self.requirement(parts, text)

    def requirement(
        self, parts: list[tuple[str, RubygemsVersion]], text: str | None = None
    ) -> RubygemsRequirement:
        """A requirement from ``(op, version)`` pairs; none means ``>= 0``."""
        if not parts:
            parts = [(">=", RubygemsVersion("0"))]
        ranges: Ranges[RubygemsVersion] = Ranges.full()
        for op, version in parts:
            ranges &= _ranges(op, version)
        if text is None:
            text = ", ".join(f"{op} {version}" for op, version in parts)
        return RubygemsRequirement(text, ranges, tuple(parts))

    def _parse_part(self, text: str, part: str, offset: int) -> tuple[str, RubygemsVersion]:
        match = _REQUIREMENT.match(part)
        if match is None:
            op_match = _OPERATOR_PREFIX.match(part)
            assert op_match is not None  # everything there is optional
            pos = op_match.end()
            if pos < len(part) and part[pos].isdigit():
                version_match = _VERSION_PREFIX.match(part, pos)
                assert version_match is not None
                pos = version_match.end()
                reason = _unexpected(part, pos)
            elif pos < len(part):
                reason = f"expected a version (starting with a digit), found {part[pos]!r}"
                if part[pos] in "=!<>~":
                    reason += f" (operators: {' '.join(_OPERATORS)})"
            else:
                reason = "expected a version"
            pos += offset
            raise VersionSyntaxError(NAME, "requirement", text, reason, pos, pos + 1)
        return (match.group(1) or "=", RubygemsVersion(match.group(2)))


def _unexpected(text: str, pos: int) -> str:
    if pos >= len(text):
        return "unexpected end"
    return f"unexpected {text[pos]!r}"


SCHEME = RubygemsScheme()
