"""npm versions and ranges: node-semver's semantics, with the set operations a resolver needs.

Hand-written because no maintained Python port of node-semver offers set operations: the ports
that exist answer membership only, and lag behind node-semver's desugaring (the ``-0`` upper
bounds of 7.x, build stripping, x-range order checks). This module follows node-semver 7.x as
documented in its README and as its ``Range`` class behaves, step by step:

1. the text is trimmed and runs of whitespace become one space; it is split on ``||``;
2. in each part, build metadata (``+...``) is removed, a hyphen range ``A - B`` is desugared,
   whitespace between an operator (``>=``, ``~``, ``^``) and its version is removed;
3. each space-separated comparator is desugared (caret, tilde, x-range, star) into plain
   comparators such as ``>=1.2.3 <2.0.0-0``; ``>=0.0.0`` becomes "any";
4. with ``loose``, comparators that still are not valid are dropped (the whole range must still
   have one valid comparator set); without it, they are errors;
5. a comparator set containing ``<0.0.0-0`` is just that; duplicates are dropped, and "any" is
   dropped from a set with other comparators; among several sets, null sets are dropped and a set
   that is only "any" replaces all the others.

Membership (:meth:`NpmRange.contains`) is node-semver's ``satisfies``: some comparator set
holds the version, and a version with a pre-release tag is accepted by a set only if a comparator
of that set has a pre-release tag on the same ``[major, minor, patch]`` (unless
``include_prerelease``).

Set operations. A constraint is a union of *clauses* ``(ranges, gate)``: a clause holds a
version if its ``Ranges`` holds it and its *gate* admits it. A gate admits release versions or
not (``releases``), and admits a pre-release version by its ``[major, minor, patch]``: either
only those in a finite set of triples, or all but those (``negated``). A parsed comparator set
is the clause ``(its ranges, releases + the set's pre-release triples)``; ``include_prerelease``
gives the gate that admits everything. Gates are closed under intersection and complement, so:

* ``a.intersection(b)`` holds exactly the versions both hold (clauses pairwise, gates
  intersected: a pre-release must pass both gates);
* ``a.union(b)`` holds exactly the versions either holds (clauses concatenated);
* ``a.complement()`` holds exactly the versions ``a`` does not: the complement of a clause
  ``(r, g)`` is ``(~r, everything) | (r, ~g)``, so it includes the pre-releases ``a`` hides
  inside its ranges (the complement of ``^1.2.3`` contains ``1.5.0-beta``);

``contains`` stays exact under all three. ``ranges`` is the union of the clauses' ranges (the
versions allowed before the pre-release rule), so the ``ranges`` of a complement can be wider
than ``~a.ranges``. ``is_empty`` is exact for release versions (``>1.2.3 <1.2.4-0`` is empty);
for pre-releases it treats version order as dense, as :class:`Ranges` does, so a set such as
``>1.0.0-a <1.0.0-a.0`` (adjacent pre-releases, nothing between) is reported non-empty.

Known deviations from node-semver: numeric pre-release identifiers above 2**53 compare exactly
here (node-semver keeps them as strings compared as floats); JavaScript's ``\\s`` also matches a
few Unicode spaces that Python's does not (U+FEFF).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from tuskops.errors import VersionSyntaxError
from tuskops.packages.versions import Interval, Ranges

__all__ = [
    "SCHEME",
    "Comparator",
    "NpmRange",
    "NpmScheme",
    "SemVer",
    "max_satisfying",
    "min_satisfying",
    "parse_range",
    "rsort",
    "sort",
]

MAX_LENGTH = 256
MAX_SAFE_INTEGER = 2**53 - 1

# --- the grammar (node-semver's, written out for Python's re) ---------------------------------

_NUM = r"0|[1-9][0-9]*"
_NUM_LOOSE = r"[0-9]+"
_NONNUM = r"[0-9]*[a-zA-Z-][a-zA-Z0-9-]*"
_PRE_ID = rf"(?:{_NONNUM}|{_NUM})"
_PRE_ID_LOOSE = rf"(?:{_NONNUM}|{_NUM_LOOSE})"
_PRE = rf"(?:-({_PRE_ID}(?:\.{_PRE_ID})*))"
_PRE_LOOSE = rf"(?:-?({_PRE_ID_LOOSE}(?:\.{_PRE_ID_LOOSE})*))"
_BUILD_ID = r"[a-zA-Z0-9-]+"
_BUILD = rf"(?:\+({_BUILD_ID}(?:\.{_BUILD_ID})*))"
_FULL_PLAIN = rf"v?({_NUM})\.({_NUM})\.({_NUM}){_PRE}?{_BUILD}?"
_LOOSE_PLAIN = rf"[v=\s]*({_NUM_LOOSE})\.({_NUM_LOOSE})\.({_NUM_LOOSE}){_PRE_LOOSE}?{_BUILD}?"
_GTLT = r"((?:<|>)?=?)"
_XID = rf"{_NUM}|x|X|\*"
_XID_LOOSE = rf"{_NUM_LOOSE}|x|X|\*"
_XPLAIN = rf"[v=\s]*({_XID})(?:\.({_XID})(?:\.({_XID})(?:{_PRE})?{_BUILD}?)?)?"
_XPLAIN_LOOSE = (
    rf"[v=\s]*({_XID_LOOSE})(?:\.({_XID_LOOSE})(?:\.({_XID_LOOSE})(?:{_PRE_LOOSE})?{_BUILD}?)?)?"
)

_FULL_RE = re.compile(rf"^{_FULL_PLAIN}$")
_LOOSE_RE = re.compile(rf"^{_LOOSE_PLAIN}$")
_BUILD_RE = re.compile(_BUILD)
_SPACES_RE = re.compile(r"\s+")
_HYPHEN_RE = re.compile(rf"^\s*({_XPLAIN})\s+-\s+({_XPLAIN})\s*$")
_HYPHEN_LOOSE_RE = re.compile(rf"^\s*({_XPLAIN_LOOSE})\s+-\s+({_XPLAIN_LOOSE})\s*$")
_COMPARATOR_TRIM_RE = re.compile(rf"(\s*){_GTLT}\s*({_LOOSE_PLAIN}|{_XPLAIN})")
_TILDE_TRIM_RE = re.compile(r"(\s*)(?:~>?)\s+")
_CARET_TRIM_RE = re.compile(r"(\s*)(?:\^)\s+")
_TILDE_RE = re.compile(rf"^(?:~>?){_XPLAIN}$")
_TILDE_LOOSE_RE = re.compile(rf"^(?:~>?){_XPLAIN_LOOSE}$")
_CARET_RE = re.compile(rf"^(?:\^){_XPLAIN}$")
_CARET_LOOSE_RE = re.compile(rf"^(?:\^){_XPLAIN_LOOSE}$")
_XRANGE_RE = re.compile(rf"^{_GTLT}\s*{_XPLAIN}$")
_XRANGE_LOOSE_RE = re.compile(rf"^{_GTLT}\s*{_XPLAIN_LOOSE}$")
_STAR_RE = re.compile(r"(<|>)?=?\s*\*")
_GTE0_RE = re.compile(r"^\s*>=\s*0\.0\.0\s*$")
_GTE0_PRE_RE = re.compile(r"^\s*>=\s*0\.0\.0-0\s*$")
_COMPARATOR_RE = re.compile(rf"^{_GTLT}\s*({_FULL_PLAIN})$|^$")
_COMPARATOR_LOOSE_RE = re.compile(rf"^{_GTLT}\s*({_LOOSE_PLAIN})$|^$")

# Longest valid prefixes, to put the caret under the first character that cannot belong.
_PRE_PREFIX = rf"-(?:{_PRE_ID}(?:\.{_PRE_ID})*\.?)?"
_PRE_PREFIX_LOOSE = rf"-?(?:{_PRE_ID_LOOSE}(?:\.{_PRE_ID_LOOSE})*\.?)?"
_BUILD_PREFIX = rf"\+(?:{_BUILD_ID}(?:\.{_BUILD_ID})*\.?)?"
_VERSION_PREFIX_RE = re.compile(
    rf"v?(?:(?:{_NUM})(?:\.(?:(?:{_NUM})(?:\.(?:(?:{_NUM})(?:{_PRE_PREFIX})?(?:{_BUILD_PREFIX})?)?)?)?)?)?"
)
_VERSION_PREFIX_LOOSE_RE = re.compile(
    rf"[v=\s]*(?:{_NUM_LOOSE}(?:\.(?:{_NUM_LOOSE}(?:\.(?:{_NUM_LOOSE}"
    rf"(?:{_PRE_PREFIX_LOOSE})?(?:{_BUILD_PREFIX})?)?)?)?)?)?"
)
_OPERATOR_PREFIX_RE = re.compile(r"(?:~>?|\^|(?:<|>)?=?)\s*")

Identifier = int | str


def _identifiers(text: str) -> tuple[Identifier, ...]:
    return tuple(int(part) if part.isdigit() else part for part in text.split("."))


def _identifier_key(identifier: Identifier) -> tuple[int, int, str]:
    """Numeric identifiers sort before alphanumeric ones; numbers compare numerically."""
    if isinstance(identifier, int):
        return (0, identifier, "")
    return (1, 0, identifier)


# --- versions ---------------------------------------------------------------------------------


class SemVer:
    """A SemVer 2.0 version, ordered by precedence (build metadata kept but ignored)."""

    __slots__ = ("_key", "build", "major", "minor", "patch", "prerelease")

    def __init__(
        self,
        major: int,
        minor: int,
        patch: int,
        prerelease: Sequence[Identifier] = (),
        build: Sequence[str] = (),
    ) -> None:
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease: tuple[Identifier, ...] = tuple(prerelease)
        self.build: tuple[str, ...] = tuple(build)
        self._key = (
            major,
            minor,
            patch,
            0 if self.prerelease else 1,
            tuple(_identifier_key(i) for i in self.prerelease),
        )

    @classmethod
    def parse(cls, text: str, *, loose: bool = False) -> SemVer:
        """Parse like ``new SemVer(text, loose)``: trimmed; ``v`` prefix always allowed; with
        ``loose`` also ``=`` and spaces before the version, leading zeros, and a pre-release
        without its ``-`` (``1.2.3beta``)."""
        if len(text) > MAX_LENGTH:
            raise VersionSyntaxError(
                "npm", "version", text, f"longer than {MAX_LENGTH} characters", MAX_LENGTH
            )
        stripped = text.strip()
        offset = len(text) - len(text.lstrip())
        match = (_LOOSE_RE if loose else _FULL_RE).match(stripped)
        if match is None:
            prefix = (_VERSION_PREFIX_LOOSE_RE if loose else _VERSION_PREFIX_RE).match(stripped)
            at = offset + (prefix.end() if prefix else 0)
            raise VersionSyntaxError("npm", "version", text, _unexpected(text, at), at, at + 1)
        numbers = []
        for group in (1, 2, 3):
            value = int(match.group(group))
            if value > MAX_SAFE_INTEGER:
                start, end = match.span(group)
                raise VersionSyntaxError(
                    "npm",
                    "version",
                    text,
                    "number larger than Number.MAX_SAFE_INTEGER",
                    offset + start,
                    offset + end,
                )
            numbers.append(value)
        pre = _identifiers(match.group(4)) if match.group(4) else ()
        build = tuple(match.group(5).split(".")) if match.group(5) else ()
        return cls(numbers[0], numbers[1], numbers[2], pre, build)

    @property
    def triple(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    @property
    def version(self) -> str:
        """The version without build metadata (node-semver's ``.version``)."""
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(i) for i in self.prerelease)
        return text

    def __str__(self) -> str:
        return self.version + ("+" + ".".join(self.build) if self.build else "")

    def __repr__(self) -> str:
        return f"SemVer({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SemVer) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __lt__(self, other: SemVer) -> bool:
        return self._key < other._key

    def __le__(self, other: SemVer) -> bool:
        return self._key <= other._key

    def __gt__(self, other: SemVer) -> bool:
        return self._key > other._key

    def __ge__(self, other: SemVer) -> bool:
        return self._key >= other._key

    def build_key(self) -> tuple[Any, ...]:
        """Precedence, then build metadata (node-semver's ``compareBuild``, used by ``sort``)."""
        return (self._key, tuple(_identifier_key(_maybe_int(b)) for b in self.build))


def _maybe_int(text: str) -> Identifier:
    return int(text) if text.isdigit() else text


def _unexpected(text: str, at: int) -> str:
    if at >= len(text):
        return "unexpected end of input"
    return f"unexpected {text[at]!r}"


# --- desugaring (text to text, as node-semver does it) ----------------------------------------


def _is_x(identifier: str | None) -> bool:
    return not identifier or identifier.lower() == "x" or identifier == "*"


def _inc(number: str) -> int:
    return int(number) + 1


def _replace_caret(comp: str, loose: bool, include_prerelease: bool) -> str:
    match = (_CARET_LOOSE_RE if loose else _CARET_RE).match(comp)
    if match is None:
        return comp
    major, minor, patch, pre = match.group(1, 2, 3, 4)
    z = "-0" if include_prerelease else ""
    if _is_x(major):
        return ""
    if _is_x(minor):
        return f">={major}.0.0{z} <{_inc(major)}.0.0-0"
    if _is_x(patch):
        if major == "0":
            return f">={major}.{minor}.0{z} <{major}.{_inc(minor)}.0-0"
        return f">={major}.{minor}.0{z} <{_inc(major)}.0.0-0"
    low = f">={major}.{minor}.{patch}" + (f"-{pre}" if pre else "")
    if major == "0":
        if minor == "0":
            return f"{low} <{major}.{minor}.{_inc(patch)}-0"
        return f"{low} <{major}.{_inc(minor)}.0-0"
    return f"{low} <{_inc(major)}.0.0-0"


def _replace_tilde(comp: str, loose: bool, include_prerelease: bool) -> str:
    match = (_TILDE_LOOSE_RE if loose else _TILDE_RE).match(comp)
    if match is None:
        return comp
    major, minor, patch, pre = match.group(1, 2, 3, 4)
    z = "-0" if include_prerelease else ""
    if _is_x(major):
        return ""
    if _is_x(minor):
        return f">={major}.0.0{z} <{_inc(major)}.0.0-0"
    if _is_x(patch):
        return f">={major}.{minor}.0{z} <{major}.{_inc(minor)}.0-0"
    low = f">={major}.{minor}.{patch}" + (f"-{pre}" if pre else "")
    return f"{low} <{major}.{_inc(minor)}.0-0"


def _replace_xrange(comp: str, loose: bool, include_prerelease: bool) -> str:
    match = (_XRANGE_LOOSE_RE if loose else _XRANGE_RE).match(comp)
    if match is None:
        return comp
    gtlt: str = match.group(1)
    major, minor, patch = match.group(2, 3, 4)
    if (_is_x(major) and not _is_x(minor)) or (_is_x(minor) and patch and not _is_x(patch)):
        return comp  # `*.1`, `1.x.2`: left as is, so it fails as a comparator
    x_major = _is_x(major)
    x_minor = x_major or _is_x(minor)
    x_patch = x_minor or _is_x(patch)
    if gtlt == "=" and x_patch:
        gtlt = ""
    pr = "-0" if include_prerelease else ""
    if x_major:
        return "<0.0.0-0" if gtlt in (">", "<") else "*"
    if gtlt and x_patch:
        M, m, p = int(major), (0 if x_minor else int(minor)), 0
        if gtlt == ">":
            gtlt = ">="
            if x_minor:
                M, m = M + 1, 0
            else:
                m += 1
        elif gtlt == "<=":
            gtlt = "<"
            if x_minor:
                M += 1
            else:
                m += 1
        if gtlt == "<":
            pr = "-0"
        return f"{gtlt}{M}.{m}.{p}{pr}"
    if x_minor:
        return f">={major}.0.0{pr} <{_inc(major)}.0.0-0"
    if x_patch:
        return f">={major}.{minor}.0{pr} <{major}.{_inc(minor)}.0-0"
    return comp


def _hyphen(match: re.Match[str], include_prerelease: bool) -> str:
    z = "-0" if include_prerelease else ""
    low, f_major, f_minor, f_patch, f_pre = match.group(1, 2, 3, 4, 5)
    high, t_major, t_minor, t_patch, t_pre = match.group(7, 8, 9, 10, 11)
    if _is_x(f_major):
        low = ""
    elif _is_x(f_minor):
        low = f">={f_major}.0.0{z}"
    elif _is_x(f_patch):
        low = f">={f_major}.{f_minor}.0{z}"
    elif f_pre:
        low = f">={low}"
    else:
        low = f">={low}{z}"
    if _is_x(t_major):
        high = ""
    elif _is_x(t_minor):
        high = f"<{_inc(t_major)}.0.0-0"
    elif _is_x(t_patch):
        high = f"<{t_major}.{_inc(t_minor)}.0-0"
    elif t_pre:
        high = f"<={t_major}.{t_minor}.{t_patch}-{t_pre}"
    elif include_prerelease:
        high = f"<{t_major}.{t_minor}.{_inc(t_patch)}-0"
    else:
        high = f"<={high}"
    return f"{low} {high}".strip()


def _desugar_comparator(comp: str, loose: bool, include_prerelease: bool) -> str:
    comp = _BUILD_RE.sub("", comp)
    comp = " ".join(
        _replace_caret(c, loose, include_prerelease) for c in _SPACES_RE.split(comp.strip())
    )
    comp = " ".join(
        _replace_tilde(c, loose, include_prerelease) for c in _SPACES_RE.split(comp.strip())
    )
    comp = " ".join(_replace_xrange(c, loose, include_prerelease) for c in _SPACES_RE.split(comp))
    return _STAR_RE.sub("", comp.strip(), count=1)


# --- comparators ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparator:
    """One desugared comparator: ``operator`` is ``<``, ``<=``, ``>``, ``>=`` or ``""`` (equal);
    ``version`` None means any version."""

    operator: str
    version: SemVer | None

    @property
    def value(self) -> str:
        return "" if self.version is None else f"{self.operator}{self.version.version}"

    def ranges(self) -> Ranges[SemVer]:
        v, op = self.version, self.operator
        if v is None:
            return Ranges.full()
        if op == "<":
            return Ranges.lower_than(v)
        if op == "<=":
            return Ranges.lower_than(v, inclusive=True)
        if op == ">":
            return Ranges.higher_than(v, inclusive=False)
        if op == ">=":
            return Ranges.higher_than(v)
        return Ranges.singleton(v)

    def __str__(self) -> str:
        return self.value


_NULL_SET = "<0.0.0-0"


class _RangeSyntax(Exception):
    def __init__(self, comp: str, offset: int, reason: str) -> None:
        self.comp, self.offset, self.reason = comp, offset, reason
        super().__init__(reason)


def _comparator(comp: str, loose: bool) -> Comparator:
    match = (_COMPARATOR_LOOSE_RE if loose else _COMPARATOR_RE).match(comp)
    if match is None:
        op = _OPERATOR_PREFIX_RE.match(comp)
        at = op.end() if op else 0
        rest = (_VERSION_PREFIX_LOOSE_RE if loose else _VERSION_PREFIX_RE).match(comp, at)
        at = rest.end() if rest else at
        raise _RangeSyntax(comp, at, "invalid comparator " + repr(comp))
    operator = match.group(1) or ""
    if operator == "=":
        operator = ""
    if not match.group(2):
        return Comparator(operator, None)
    try:
        version = SemVer.parse(match.group(2), loose=loose)
    except VersionSyntaxError as err:
        raise _RangeSyntax(comp, match.start(2) + err.start, err.reason) from None
    return Comparator(operator, version)


def _parse_set(part: str, loose: bool, include_prerelease: bool) -> list[Comparator]:
    part = _BUILD_RE.sub("", part)
    hyphen = _HYPHEN_LOOSE_RE if loose else _HYPHEN_RE
    part = hyphen.sub(lambda m: _hyphen(m, include_prerelease), part)
    part = _COMPARATOR_TRIM_RE.sub(r"\1\2\3", part)
    part = _TILDE_TRIM_RE.sub(r"\1~", part)
    part = _CARET_TRIM_RE.sub(r"\1^", part)
    desugared = " ".join(_desugar_comparator(c, loose, include_prerelease) for c in part.split(" "))
    gte0 = _GTE0_PRE_RE if include_prerelease else _GTE0_RE
    comps = [gte0.sub("", c.strip()) for c in _SPACES_RE.split(desugared)]
    if loose:
        comps = [c for c in comps if _COMPARATOR_LOOSE_RE.match(c)]
    seen: dict[str, Comparator] = {}
    comparators = [_comparator(text, loose) for text in comps]  # all checked, even after a null set
    for comparator in comparators:
        if comparator.value == _NULL_SET:
            return [comparator]
        seen.setdefault(comparator.value, comparator)
    if len(seen) > 1:
        seen.pop("", None)
    return list(seen.values())


def _locate(text: str, comp: str, offset: int) -> int:
    """Where character ``offset`` of comparator ``comp`` (whitespace removed in desugaring)
    lies in ``text``."""
    positions = [i for i, ch in enumerate(text) if not ch.isspace()]
    squashed = "".join(text[i] for i in positions)
    needle = "".join(ch for ch in comp if not ch.isspace())
    found = squashed.find(needle)
    if found < 0:
        return 0
    before = len([ch for ch in comp[:offset] if not ch.isspace()])
    index = found + before
    return positions[index] if index < len(positions) else len(text.rstrip())


# --- the gate and the constraint --------------------------------------------------------------

Triple = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Gate:
    """Which versions the pre-release rule lets through: release versions if ``releases``;
    a pre-release version if its triple is in ``triples`` (or, if ``negated``, is not)."""

    releases: bool
    triples: frozenset[Triple]
    negated: bool

    def allows(self, version: SemVer) -> bool:
        if not version.prerelease:
            return self.releases
        return (version.triple in self.triples) != self.negated

    def intersection(self, other: Gate) -> Gate:
        releases = self.releases and other.releases
        a, b = self.triples, other.triples
        if not self.negated and not other.negated:
            return Gate(releases, a & b, False)
        if not self.negated:
            return Gate(releases, a - b, False)
        if not other.negated:
            return Gate(releases, b - a, False)
        return Gate(releases, a | b, True)

    def complement(self) -> Gate:
        return Gate(not self.releases, self.triples, not self.negated)

    def allows_nothing(self) -> bool:
        return not self.releases and not self.negated and not self.triples


ALL = Gate(True, frozenset(), True)


@dataclass(frozen=True, slots=True)
class Clause:
    ranges: Ranges[SemVer]
    gate: Gate

    def contains(self, version: SemVer) -> bool:
        return self.ranges.contains(version) and self.gate.allows(version)

    def is_empty(self) -> bool:
        if self.ranges.is_empty() or self.gate.allows_nothing():
            return True
        gate = self.gate
        if gate.releases and any(_has_release(i) for i in self.ranges.intervals):
            return False
        if gate.negated:
            hidden = Ranges[SemVer].empty()
            for t in gate.triples:
                hidden = hidden | _prereleases_of(t)
            rest = self.ranges - hidden
            return all(
                i.lower is not None
                and i.upper is not None
                and i.lower.version == i.upper.version
                and not i.lower.version.prerelease
                for i in rest.intervals
            )
        return all((self.ranges & _prereleases_of(t)).is_empty() for t in gate.triples)


def _prereleases_of(triple: Triple) -> Ranges[SemVer]:
    """All pre-releases of ``triple``: ``>=M.m.p-0 <M.m.p``."""
    return Ranges.between(SemVer(*triple, (0,)), SemVer(*triple))


def _has_release(interval: Interval[SemVer]) -> bool:
    """Whether the interval holds a release version: the least release not below its start."""
    lower = interval.lower
    if lower is None:
        candidate = SemVer(0, 0, 0)
    elif lower.version.prerelease:
        candidate = SemVer(*lower.version.triple)
    elif lower.inclusive:
        candidate = lower.version
    else:
        v = lower.version
        candidate = SemVer(v.major, v.minor, v.patch + 1)
    return interval.contains(candidate)


def _simplify(clauses: Iterable[Clause]) -> tuple[Clause, ...]:
    """Drop clauses that hold nothing and merge clauses with the same gate (both exact)."""
    by_gate: dict[Gate, Ranges[SemVer]] = {}
    for clause in clauses:
        if clause.ranges.is_empty() or clause.gate.allows_nothing():
            continue
        previous = by_gate.get(clause.gate)
        by_gate[clause.gate] = clause.ranges if previous is None else previous | clause.ranges
    return tuple(Clause(r, g) for g, r in by_gate.items())


class NpmRange:
    """A node-semver range (or a set operation on ranges); see the module docstring."""

    __slots__ = ("clauses", "comparator_sets", "include_prerelease", "text")

    def __init__(
        self,
        text: str,
        clauses: Iterable[Clause],
        comparator_sets: tuple[tuple[Comparator, ...], ...] | None = None,
        include_prerelease: bool = False,
    ) -> None:
        self.text = text
        self.clauses = _simplify(clauses)
        #: The desugared comparator sets, for a parsed range (None for a combination).
        self.comparator_sets = comparator_sets
        self.include_prerelease = include_prerelease

    @property
    def ranges(self) -> Ranges[SemVer]:
        out: Ranges[SemVer] = Ranges.empty()
        for clause in self.clauses:
            out = out | clause.ranges
        return out

    @property
    def desugared(self) -> str | None:
        """node-semver's ``range.range``: e.g. ``>=1.2.3 <2.0.0-0`` for ``^1.2.3``."""
        if self.comparator_sets is None:
            return None
        return "||".join(" ".join(c.value for c in s).strip() for s in self.comparator_sets)

    def contains(self, version: SemVer | str) -> bool:
        """node-semver's ``satisfies``; a string is parsed loosely (False if not a version)."""
        if isinstance(version, str):
            try:
                version = SemVer.parse(version, loose=True)
            except VersionSyntaxError:
                return False
        return any(clause.contains(version) for clause in self.clauses)

    def __contains__(self, version: SemVer | str) -> bool:
        return self.contains(version)

    def intersection(self, other: NpmRange) -> NpmRange:
        clauses = [
            Clause(a.ranges & b.ranges, a.gate.intersection(b.gate))
            for a in self.clauses
            for b in other.clauses
        ]
        return NpmRange(f"({self.text}) and ({other.text})", clauses)

    def union(self, other: NpmRange) -> NpmRange:
        return NpmRange(f"({self.text}) or ({other.text})", (*self.clauses, *other.clauses))

    def complement(self) -> NpmRange:
        result = NpmRange("*", (Clause(Ranges.full(), ALL),))
        for clause in self.clauses:
            outside = NpmRange(
                "",
                (Clause(~clause.ranges, ALL), Clause(clause.ranges, clause.gate.complement())),
            )
            result = result.intersection(outside)
        return NpmRange(f"not ({self.text})", result.clauses)

    def difference(self, other: NpmRange) -> NpmRange:
        return self.intersection(other.complement())

    def is_empty(self) -> bool:
        return all(clause.is_empty() for clause in self.clauses)

    def is_subset(self, other: NpmRange) -> bool:
        return self.difference(other).is_empty()

    __and__ = intersection
    __or__ = union
    __invert__ = complement
    __sub__ = difference

    def __str__(self) -> str:
        desugared = self.desugared
        return (desugared or "*") if desugared is not None else self.text

    def __repr__(self) -> str:
        return f"NpmRange({self.text!r})"


def parse_range(text: str, *, loose: bool = False, include_prerelease: bool = False) -> NpmRange:
    """Parse like ``new Range(text, {loose, includePrerelease})`` (no length limit on a range,
    only on each version in it)."""
    raw = _SPACES_RE.sub(" ", text.strip())
    sets: list[list[Comparator]] = []
    try:
        for part in raw.split("||"):
            comparators = _parse_set(part.strip(), loose, include_prerelease)
            if comparators:
                sets.append(comparators)
    except _RangeSyntax as err:
        at = _locate(text, err.comp, err.offset)
        raise VersionSyntaxError("npm", "range", text, err.reason, at, at + 1) from None
    if not sets:
        start = len(text) - len(text.lstrip())
        raise VersionSyntaxError(
            "npm", "range", text, "no valid comparator set", start, len(text.rstrip())
        )
    if len(sets) > 1:
        first = sets[0]
        sets = [s for s in sets if s[0].value != _NULL_SET] or [first]
        if len(sets) > 1:
            for s in sets:
                if len(s) == 1 and s[0].version is None:
                    sets = [s]
                    break
    clauses = []
    for comparators in sets:
        ranges: Ranges[SemVer] = Ranges.full()
        for c in comparators:
            ranges = ranges & c.ranges()
        if include_prerelease:
            gate = ALL
        else:
            triples = frozenset(
                c.version.triple for c in comparators if c.version and c.version.prerelease
            )
            gate = Gate(True, triples, False)
        clauses.append(Clause(ranges, gate))
    return NpmRange(text, clauses, tuple(tuple(s) for s in sets), include_prerelease)


# --- helpers ----------------------------------------------------------------------------------

T = TypeVar("T", SemVer, str)


def _as_version(item: SemVer | str) -> SemVer | None:
    if isinstance(item, SemVer):
        return item
    try:
        return SemVer.parse(item, loose=True)
    except VersionSyntaxError:
        return None


def _as_range(constraint: NpmRange | str) -> NpmRange:
    return constraint if isinstance(constraint, NpmRange) else parse_range(constraint, loose=True)


def max_satisfying(versions: Iterable[T], constraint: NpmRange | str) -> T | None:
    """The highest version that satisfies ``constraint`` (the first of equals), or None.
    Strings that are not versions are skipped, as node-semver does."""
    rng = _as_range(constraint)
    best: tuple[T, SemVer] | None = None
    for item in versions:
        v = _as_version(item)
        if v is not None and rng.contains(v) and (best is None or best[1] < v):
            best = (item, v)
    return None if best is None else best[0]


def min_satisfying(versions: Iterable[T], constraint: NpmRange | str) -> T | None:
    """The lowest version that satisfies ``constraint`` (the first of equals), or None."""
    rng = _as_range(constraint)
    best: tuple[T, SemVer] | None = None
    for item in versions:
        v = _as_version(item)
        if v is not None and rng.contains(v) and (best is None or v < best[1]):
            best = (item, v)
    return None if best is None else best[0]


def _sort_key(item: SemVer | str) -> tuple[Any, ...]:
    v = item if isinstance(item, SemVer) else SemVer.parse(item, loose=True)
    return v.build_key()


def sort(versions: Iterable[T]) -> list[T]:
    """Ascending by precedence, then build metadata (node-semver's ``sort``)."""
    return sorted(versions, key=_sort_key)


def rsort(versions: Iterable[T]) -> list[T]:
    """Descending (node-semver's ``rsort``)."""
    return sorted(versions, key=_sort_key, reverse=True)


# --- the scheme -------------------------------------------------------------------------------


class NpmScheme:
    """npm's versions and ranges. npm (npm-package-arg, npm-pick-manifest) reads specs with
    node-semver's ``loose`` option, so that is the default here; pass ``loose=False`` for
    node-semver's strict mode, in which every bad comparator is an error."""

    name = "npm"

    def __init__(self, *, loose: bool = True, include_prerelease: bool = False) -> None:
        self.loose = loose
        self.include_prerelease = include_prerelease

    def parse_version(self, text: str) -> SemVer:
        return SemVer.parse(text, loose=self.loose)

    def is_prerelease(self, version: SemVer) -> bool:
        """A version with a pre-release part (``1.0.0-beta.1``)."""
        return bool(version.prerelease)

    def parse_constraint(self, text: str) -> NpmRange:
        return parse_range(text, loose=self.loose, include_prerelease=self.include_prerelease)


SCHEME = NpmScheme()
