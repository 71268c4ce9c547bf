"""Cargo: SemVer 2.0 versions and Cargo's version requirements, as the ``semver`` crate has them.

Hand-written, because no Python library implements Cargo's flavour: the ``semver`` crate
(which Cargo uses) differs from npm's node-semver and from the SemVer spec's silence on
requirements. The parser follows the crate's ``parse.rs`` (strict versions: exactly
``major.minor.patch``, no ``v`` prefix, no leading zeros in numbers or numeric pre-release
identifiers, values up to ``u64::MAX``; requirements: comma-separated comparators, spaces
allowed around operators and commas, at most 32 comparators, ``*``/``x``/``X`` wildcards that
must be the only comparator when alone) and reports errors with the crate's messages and a
caret under the offending text. Matching follows the crate's ``eval.rs``.

Ordering is SemVer precedence: major, minor, patch, then pre-release (a version without one is
greater; identifiers compared numerically when both are numbers, numbers below alphanumerics,
a longer list greater when all before are equal). Build metadata is kept for display but
ignored by ordering and equality: Cargo treats ``1.0.0+a`` and ``1.0.0+b`` as one version
(crates.io refuses to publish both); the crate's ``Ord`` tie-breaks on build metadata.

Requirements (the Cargo book, "Specifying Dependencies"): a bare version is a caret
requirement; ``^`` allows changes that keep the left-most non-zero of major.minor.patch
(``^1.2.3`` := ``>=1.2.3, <2.0.0``, ``^0.2.3`` := ``>=0.2.3, <0.3.0``, ``^0.0.3`` :=
``>=0.0.3, <0.0.4``, ``^0.0`` := ``>=0.0.0, <0.1.0``, ``^0`` := ``>=0.0.0, <1.0.0``); ``~``
allows patch changes, or minor ones when only the major is given; ``*``, ``1.*``, ``1.2.*``
are wildcards; ``= > >= < <=`` compare (``>1`` is ``>=2.0.0``, ``<=1.2`` is ``<1.3.0``);
comma is AND.

The pre-release rule (``semver`` crate): a version with a pre-release (``1.2.3-alpha.1``)
matches only if every comparator matches it *and* some comparator names the same
major.minor.patch with a pre-release of its own. So ``>=1.2.3-alpha`` takes ``1.2.3-beta`` but
not ``1.2.4-alpha``; ``*`` and ``^1`` take no pre-release at all. Because of that rule the
matched set is not one union of intervals, so a :class:`CargoConstraint` keeps two, each exact
on its own kind of version:

* ``ranges``: exact for releases (versions without a pre-release). A release matches iff it is
  in ``ranges``. The upper bounds are the least version of the next release line (``^1.2.3``
  is ``[1.2.3, 2.0.0-0)``), so the pre-releases of ``2.0.0`` fall outside as they should.
* ``prerelease_ranges``: exactly the pre-releases that match.

Set operations are exact set operations on what ``contains`` accepts, applied to both parts
(intersection: a version two dependents both accept). This differs from joining two
requirement strings with a comma, where one side's pre-release comparator would opt in the
other side's versions: ``>=1.0.0-alpha`` joined with ``<2`` accepts ``1.0.0-beta``, but the
intersection of the two constraints does not (``<2`` alone rejects it, as Cargo would when the
two requirements come from different crates).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tuskops.errors import VersionSyntaxError
from tuskops.packages.versions import Bound, Interval, Ranges

__all__ = [
    "SCHEME",
    "CargoConstraint",
    "CargoScheme",
    "CargoVersion",
    "Comparator",
]

ECOSYSTEM = "cargo"
U64_MAX = 2**64 - 1
MAX_COMPARATORS = 32

_NUMERIC = re.compile(r"[0-9]+")


def _pre_key(pre: tuple[str, ...]) -> tuple[Any, ...]:
    if not pre:
        return (1,)
    return (0, tuple((0, int(i)) if _NUMERIC.fullmatch(i) else (1, i) for i in pre))


class CargoVersion:
    """A SemVer 2.0 version, ordered by precedence (build metadata ignored)."""

    __slots__ = ("_key", "build", "major", "minor", "patch", "pre")

    def __init__(
        self, major: int, minor: int, patch: int, pre: tuple[str, ...] = (), build: str = ""
    ) -> None:
        self.major = major
        self.minor = minor
        self.patch = patch
        self.pre = pre
        self.build = build
        self._key: tuple[Any, ...] = (major, minor, patch, _pre_key(pre))

    @classmethod
    def parse(cls, text: str) -> CargoVersion:
        return SCHEME.parse_version(text)

    @property
    def is_prerelease(self) -> bool:
        return bool(self.pre)

    @property
    def triple(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __lt__(self, other: Any) -> bool:
        if not isinstance(other, CargoVersion):
            return NotImplemented
        return self._key < other._key

    def __le__(self, other: Any) -> bool:
        if not isinstance(other, CargoVersion):
            return NotImplemented
        return self._key <= other._key

    def __gt__(self, other: Any) -> bool:
        if not isinstance(other, CargoVersion):
            return NotImplemented
        return self._key > other._key

    def __ge__(self, other: Any) -> bool:
        if not isinstance(other, CargoVersion):
            return NotImplemented
        return self._key >= other._key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CargoVersion):
            return NotImplemented
        return self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += "-" + ".".join(self.pre)
        if self.build:
            text += "+" + self.build
        return text

    def __repr__(self) -> str:
        return f"CargoVersion({str(self)!r})"


def _v(major: int, minor: int, patch: int, pre: tuple[str, ...] = ()) -> CargoVersion:
    return CargoVersion(major, minor, patch, pre)


def _first(major: int, minor: int = 0, patch: int = 0) -> CargoVersion:
    """The least version of a release line: ``M.m.p-0`` (``0`` is the least pre-release)."""
    return CargoVersion(major, minor, patch, ("0",))


_EMPTY: Ranges[CargoVersion] = Ranges.empty()
_UNIVERSE: Ranges[CargoVersion] = Ranges.higher_than(_first(0))


# --- parsing (after semver's parse.rs) --------------------------------------------------------

_POSITION = {
    "major": "major version number",
    "minor": "minor version number",
    "patch": "patch version number",
    "pre": "pre-release identifier",
    "build": "build metadata",
}


class _Fail(Exception):
    def __init__(self, reason: str, start: int, end: int = -1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.start = start
        self.end = start + 1 if end < 0 else end


def _char_after(text: str, i: int, pos: str) -> _Fail:
    return _Fail(f"unexpected character {text[i]!r} after {_POSITION[pos]}", i)


def _numeric(text: str, i: int, pos: str) -> tuple[int, int]:
    start = j = i
    value = 0
    while j < len(text) and "0" <= text[j] <= "9":
        if value == 0 and j > start:
            raise _Fail(f"invalid leading zero in {_POSITION[pos]}", start, j + 1)
        value = value * 10 + int(text[j])
        if value > U64_MAX:
            raise _Fail(f"value of {_POSITION[pos]} exceeds u64::MAX", start, j + 1)
        j += 1
    if j > start:
        return value, j
    if j < len(text):
        raise _Fail(f"unexpected character {text[j]!r} while parsing {_POSITION[pos]}", j)
    raise _Fail(f"unexpected end of input while parsing {_POSITION[pos]}", j)


def _dot(text: str, i: int, pos: str) -> int:
    if i < len(text) and text[i] == ".":
        return i + 1
    if i < len(text):
        raise _char_after(text, i, pos)
    raise _Fail(f"unexpected end of input while parsing {_POSITION[pos]}", i)


def _identifier(text: str, i: int, pos: str) -> tuple[tuple[str, ...], int]:
    """Dot-separated [0-9A-Za-z-]+ identifiers; () if none starts at ``i``."""
    parts: list[str] = []
    j = i
    while True:
        start = j
        while j < len(text) and (text[j].isascii() and (text[j].isalnum() or text[j] == "-")):
            j += 1
        segment = text[start:j]
        if not segment:
            if not parts and (j >= len(text) or text[j] != "."):
                return (), i
            raise _Fail(f"empty identifier segment in {_POSITION[pos]}", start)
        if pos == "pre" and len(segment) > 1 and segment.isdigit() and segment[0] == "0":
            raise _Fail(f"invalid leading zero in {_POSITION[pos]}", start, j)
        parts.append(segment)
        if j < len(text) and text[j] == ".":
            j += 1
            continue
        return tuple(parts), j


def _parse_version(text: str) -> CargoVersion:
    if not text:
        raise _Fail("empty string, expected a semver version", 0)
    major, i = _numeric(text, 0, "major")
    i = _dot(text, i, "major")
    minor, i = _numeric(text, i, "minor")
    i = _dot(text, i, "minor")
    patch, i = _numeric(text, i, "patch")
    pos = "patch"
    pre: tuple[str, ...] = ()
    build: tuple[str, ...] = ()
    if i < len(text) and text[i] == "-":
        pos = "pre"
        pre, j = _identifier(text, i + 1, "pre")
        if not pre:
            raise _Fail(f"empty identifier segment in {_POSITION[pos]}", i + 1)
        i = j
    if i < len(text) and text[i] == "+":
        pos = "build"
        build, j = _identifier(text, i + 1, "build")
        if not build:
            raise _Fail(f"empty identifier segment in {_POSITION[pos]}", i + 1)
        i = j
    if i < len(text):
        raise _char_after(text, i, pos)
    return CargoVersion(major, minor, patch, pre, ".".join(build))


def _is_wildcard(text: str, i: int) -> bool:
    return i < len(text) and text[i] in "*xX"


def _skip_spaces(text: str, i: int) -> int:
    while i < len(text) and text[i] == " ":
        i += 1
    return i


_OPS = ("<=", ">=", "=", ">", "<", "~", "^")


@dataclass(frozen=True)
class Comparator:
    """One comparator of a requirement, as the ``semver`` crate stores it."""

    op: str  # "=", ">", ">=", "<", "<=", "~", "^", or "*" (wildcard: ``1.*``, ``1.2.*``)
    major: int
    minor: int | None
    patch: int | None
    pre: tuple[str, ...] = ()

    def __str__(self) -> str:
        parts = [str(self.major)]
        for part in (self.minor, self.patch):
            if part is not None:
                parts.append(str(part))
            elif self.op == "*":
                parts.append("*")
                break
        text = ".".join(parts)
        if self.pre:
            text += "-" + ".".join(self.pre)
        return text if self.op == "*" else self.op + text


def _comparator(text: str, i: int) -> tuple[Comparator, str, int]:
    op = "^"
    default_op = True
    for candidate in _OPS:
        if text.startswith(candidate, i):
            op, default_op = candidate, False
            i += len(candidate)
            break
    i = _skip_spaces(text, i)
    pos = "major"
    major, i = _numeric(text, i, pos)
    minor: int | None = None
    patch: int | None = None
    has_wildcard = False
    if i < len(text) and text[i] == ".":
        pos = "minor"
        i += 1
        if _is_wildcard(text, i):
            has_wildcard = True
            if default_op:
                op = "*"
            i += 1
        else:
            minor, i = _numeric(text, i, pos)
    if i < len(text) and text[i] == ".":
        pos = "patch"
        i += 1
        if _is_wildcard(text, i):
            if default_op:
                op = "*"
            i += 1
        elif has_wildcard:
            raise _Fail("unexpected character after wildcard in version req", i)
        else:
            patch, i = _numeric(text, i, pos)
    pre: tuple[str, ...] = ()
    if patch is not None and i < len(text) and text[i] == "-":
        pos = "pre"
        pre, j = _identifier(text, i + 1, "pre")
        if not pre:
            raise _Fail(f"empty identifier segment in {_POSITION[pos]}", i + 1)
        i = j
    if patch is not None and i < len(text) and text[i] == "+":
        pos = "build"
        build, j = _identifier(text, i + 1, "build")
        if not build:
            raise _Fail(f"empty identifier segment in {_POSITION[pos]}", i + 1)
        i = j  # build metadata in a requirement is accepted and ignored
    i = _skip_spaces(text, i)
    return Comparator(op, major, minor, patch, pre), pos, i


def _wildcard_only_error(text: str, i: int, error: _Fail) -> _Fail:
    if _is_wildcard(text, i):
        rest = _skip_spaces(text, i + 1)
        if rest >= len(text) or text[rest] == ",":
            return _Fail(
                f"wildcard req ({text[i]}) must be the only comparator in the version req", i
            )
    return error


def _parse_requirement(text: str) -> tuple[Comparator, ...]:
    i = _skip_spaces(text, 0)
    if _is_wildcard(text, i):
        rest = _skip_spaces(text, i + 1)
        if rest >= len(text):
            return ()
        if text[rest] == ",":
            raise _Fail(
                f"wildcard req ({text[i]}) must be the only comparator in the version req", i
            )
        raise _Fail("unexpected character after wildcard in version req", rest)
    comparators: list[Comparator] = []
    while True:
        try:
            comparator, pos, i = _comparator(text, i)
        except _Fail as error:
            raise _wildcard_only_error(text, i, error) from None
        comparators.append(comparator)
        if i >= len(text):
            return tuple(comparators)
        if text[i] != ",":
            raise _Fail(f"expected comma after {_POSITION[pos]}, found {text[i]!r}", i)
        i = _skip_spaces(text, i + 1)
        if len(comparators) == MAX_COMPARATORS:
            raise _Fail("excessive number of version comparators", i, len(text))


# --- desugaring to ranges (after semver's eval.rs) --------------------------------------------


def _comparator_sets(c: Comparator) -> tuple[Ranges[CargoVersion], Ranges[CargoVersion]]:
    """(the releases it matches, the pre-releases it matches), each as ranges exact on that
    kind of version, before the pre-release rule."""
    M, m, p, pre = c.major, c.minor, c.patch, c.pre
    if m is not None and p is not None:
        v = _v(M, m, p, pre)
        if c.op in ("=", "*"):
            same: Ranges[CargoVersion] = Ranges.singleton(v)
            return same, same
        if c.op == ">":
            return _both(Ranges.higher_than(v, inclusive=False))
        if c.op == ">=":
            return _both(Ranges.higher_than(v))
        if c.op == "<":
            return _both(Ranges.lower_than(v))
        if c.op == "<=":
            return _both(Ranges.lower_than(v, inclusive=True))
        if c.op == "~":
            return _both(Ranges.between(v, _first(M, m + 1)))
        # caret
        if M > 0:
            upper = _first(M + 1)
        elif m > 0:
            upper = _first(0, m + 1)
        else:
            upper = _first(0, 0, p + 1)
        return _both(Ranges.between(v, upper))
    # Partial: 1 or 1.2 (pre-releases need a patch, so there are none here).
    if m is None:
        line_start, line_end = _first(M), _first(M + 1)
    else:
        line_start, line_end = _first(M, m), _first(M, m + 1)
    release_start = CargoVersion(line_start.major, line_start.minor, 0)
    line: Ranges[CargoVersion] = Ranges.between(release_start, line_end)
    if c.op in ("=", "*", "~"):
        return line, _EMPTY
    if c.op == ">":
        return _both(Ranges.higher_than(line_end))
    if c.op == ">=":
        return Ranges.higher_than(release_start), Ranges.higher_than(line_end)
    if c.op == "<":
        return _both(Ranges.lower_than(line_start))
    if c.op == "<=":
        return Ranges.lower_than(line_end), Ranges.lower_than(line_start)
    # caret
    if m is None:
        return _both(Ranges.between(line_start, line_end))
    upper = _first(M + 1) if M > 0 else _first(0, m + 1)
    return Ranges.between(release_start, upper), Ranges.between(line_start, upper)


def _both(r: Ranges[CargoVersion]) -> tuple[Ranges[CargoVersion], Ranges[CargoVersion]]:
    return r, r


def _slice(triple: tuple[int, int, int]) -> Ranges[CargoVersion]:
    """Every pre-release of ``M.m.p``."""
    return Ranges.between(_first(*triple), _v(*triple))


def _from_comparators(text: str, comparators: tuple[Comparator, ...]) -> CargoConstraint:
    releases: Ranges[CargoVersion] = _UNIVERSE
    pres: Ranges[CargoVersion] = _UNIVERSE
    opted_in: Ranges[CargoVersion] = _EMPTY
    for c in comparators:
        rel, pre = _comparator_sets(c)
        releases = releases & rel
        pres = pres & pre
        if c.pre and c.minor is not None and c.patch is not None:
            opted_in = opted_in | _slice((c.major, c.minor, c.patch))
    return CargoConstraint(text, releases & _UNIVERSE, pres & opted_in, comparators)


# --- constraints ------------------------------------------------------------------------------


def _least_above(bound: Bound[CargoVersion] | None, *, prerelease: bool) -> CargoVersion:
    """The least release (or pre-release) at or after a lower bound."""
    if bound is None:
        return _first(0) if prerelease else _v(0, 0, 0)
    v = bound.version
    if prerelease:
        if v.pre:
            return v if bound.inclusive else _v(*v.triple, (*v.pre, "0"))
        return _first(v.major, v.minor, v.patch + 1)
    if not v.pre:
        return v if bound.inclusive else _v(v.major, v.minor, v.patch + 1)
    return _v(*v.triple)


def _holds(interval: Interval[CargoVersion], *, prerelease: bool) -> bool:
    """Whether the interval holds some release (or some pre-release)."""
    least = _least_above(interval.lower, prerelease=prerelease)
    return interval.contains(least)


def _holds_any(ranges: Ranges[CargoVersion], *, prerelease: bool) -> bool:
    return any(_holds(i, prerelease=prerelease) for i in ranges.intervals)


@dataclass(frozen=True, eq=False)
class CargoConstraint:
    """A Cargo version requirement as two exact sets (see the module doc)."""

    #: The requirement as written (derived constraints get a descriptive text).
    text: str
    #: Exact for releases: a release matches iff it is here.
    ranges: Ranges[CargoVersion]
    #: Exactly the pre-releases that match.
    prerelease_ranges: Ranges[CargoVersion] = field(default_factory=Ranges.empty)
    #: The parsed comparators (empty for ``*`` and for derived constraints).
    comparators: tuple[Comparator, ...] = ()

    def contains(self, version: CargoVersion) -> bool:
        """Whether Cargo would accept ``version`` for this requirement."""
        if version.pre:
            return self.prerelease_ranges.contains(version)
        return self.ranges.contains(version)

    def __contains__(self, version: CargoVersion) -> bool:
        return self.contains(version)

    def filter(self, versions: Iterable[CargoVersion]) -> Iterator[CargoVersion]:
        return (v for v in versions if self.contains(v))

    def intersection(self, other: CargoConstraint) -> CargoConstraint:
        return CargoConstraint(
            f"({self.text}) && ({other.text})",
            self.ranges & other.ranges,
            self.prerelease_ranges & other.prerelease_ranges,
        )

    def union(self, other: CargoConstraint) -> CargoConstraint:
        return CargoConstraint(
            f"({self.text}) || ({other.text})",
            self.ranges | other.ranges,
            self.prerelease_ranges | other.prerelease_ranges,
        )

    def complement(self) -> CargoConstraint:
        return CargoConstraint(
            f"not ({self.text})",
            _UNIVERSE - self.ranges,
            _UNIVERSE - self.prerelease_ranges,
        )

    def difference(self, other: CargoConstraint) -> CargoConstraint:
        return self.intersection(other.complement())

    def is_empty(self) -> bool:
        """Whether no version at all matches (exact, including pre-releases)."""
        return not _holds_any(self.ranges, prerelease=False) and not _holds_any(
            self.prerelease_ranges, prerelease=True
        )

    def is_subset(self, other: CargoConstraint) -> bool:
        return self.difference(other).is_empty()

    __and__ = intersection
    __or__ = union
    __invert__ = complement
    __sub__ = difference

    def __eq__(self, other: object) -> bool:
        """Same releases and same pre-releases (compared as sets of versions)."""
        if not isinstance(other, CargoConstraint):
            return NotImplemented
        return (self - other).is_empty() and (other - self).is_empty()

    def __hash__(self) -> int:
        # Equality is by set, and two representations of one set may differ outside the
        # versions they are exact on; so every constraint hashes alike.
        return hash(CargoConstraint)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"CargoConstraint({self.text!r}, {self.ranges})"


class CargoScheme:
    """SemVer 2.0 versions and Cargo version requirements."""

    name = ECOSYSTEM

    def parse_version(self, text: str) -> CargoVersion:
        try:
            return _parse_version(text)
        except _Fail as exc:
            raise VersionSyntaxError(
                ECOSYSTEM, "version", text, exc.reason, exc.start, exc.end
            ) from None

    def is_prerelease(self, version: CargoVersion) -> bool:
        """A version with a pre-release part (``1.0.0-alpha.1``)."""
        return version.is_prerelease

    def parse_constraint(self, text: str) -> CargoConstraint:
        try:
            comparators = _parse_requirement(text)
        except _Fail as exc:
            raise VersionSyntaxError(
                ECOSYSTEM, "version requirement", text, exc.reason, exc.start, exc.end
            ) from None
        return _from_comparators(text, comparators)


SCHEME = CargoScheme()
