"""Maven versions (``ComparableVersion``) and version ranges (``VersionRange``).

Hand-written: no Python library reproduces Maven's ordering. Maven's order is not "semver with
qualifiers"; it is a token tree with its own quirks (``1.0.0.X1 < 1.0.0-X2``, ``2.0.a == 2-a``,
``1-ga`` equal in order to ``1``, a 10-digit zero that sorts above a 1-digit zero, ...), and
every quirk decides which artifact a build gets. This module is a clean-room re-implementation
of the behaviour of ``org.apache.maven.artifact.versioning.ComparableVersion`` as shipped in
Maven 3.9 (with the MNG-6964, MNG-7644, MNG-7700 and MNG-7714 fixes), learned from its Javadoc
and its test-suite, whose ordering sequences and equalities are the test data of
``tests/packages/ecosystems/test_maven.py``.

Ordering in brief:

* The text is lower-cased and split on ``.``, ``-`` and digit/letter transitions into items:
  numbers, strings (qualifiers), "combinations" (a string directly followed by a number, such
  as ``rc1``; ``x-1`` counts as ``x1``) and sub-lists (started by ``-`` or by a transition).
* Qualifiers order ``alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release
  < sp``, then unknown qualifiers lexically. A single ``a``/``b``/``m`` directly followed by a
  digit means alpha/beta/milestone.
* Null items (``0``, ``""``, empty lists) are trimmed from the end of each list, so ``1 == 1.0
  == 1.0.0 == 1-0``.
* Numbers are compared by size class first, as Maven does (up to 9 digits, up to 18, more),
  which only matters for zeros written with many leading zeros.

Equality is Maven's ``compareTo == 0`` (so ``1-ga == 1`` and ``1.0 == 1``), not its stricter
``equals``. The hash uses the leading run of numeric items with trailing zeros removed, which
every pair of versions that compare equal shares (see :meth:`MavenVersion.__hash__`);
:attr:`MavenVersion.canonical` is Maven's ``getCanonical()`` for display.

Ranges follow ``VersionRange.createFromVersionSpec``: ``[1.0,2.0)``, ``(,1.0]``, ``[1.0]``,
``[1.2,)``, unions ``(,1.0],[1.2,)``, and a bare ``1.0``, which is a *soft requirement*: it
prefers 1.0 but allows any version (``ranges`` is full, ``preferred`` is 1.0). Choosing the
preferred version (nearest-wins mediation) is the resolver's job. Malformed ranges raise
:class:`~tuskops.errors.VersionSyntaxError` with the message Maven gives.

Note: Maven 3's dependency resolution goes through maven-resolver's ``GenericVersionScheme``,
whose ``GenericVersion`` agrees with ``ComparableVersion`` on ordinary versions but differs in
corner cases; this module models ``ComparableVersion``, as specified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from tuskops.errors import VersionSyntaxError
from tuskops.packages.versions import Bound, Interval, Ranges

ECOSYSTEM: Final = "maven"

# --- items ----------------------------------------------------------------------------------

_QUALIFIERS: Final = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_RELEASE_QUALIFIERS: Final = frozenset({"ga", "final", "release"})
_RELEASE_INDEX: Final = str(_QUALIFIERS.index(""))
_MAX_INT_LENGTH: Final = 9
_PRERELEASE_WORDS: Final = frozenset(
    {"alpha", "beta", "milestone", "rc", "cr", "snapshot", "a", "b", "m", "preview", "ea", "dev"}
    | {"pre"}
)
_PRERELEASE_TOKEN_SPLIT: Final = re.compile(r"[.\-_]+|(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)")
_MAX_LONG_LENGTH: Final = 18


def _java_str_cmp(a: str, b: str) -> int:
    """Java's ``String.compareTo``: lexical by UTF-16 code unit."""
    ea, eb = a.encode("utf-16-be", "surrogatepass"), b.encode("utf-16-be", "surrogatepass")
    return (ea > eb) - (ea < eb)


def _comparable_qualifier(qualifier: str) -> str:
    if qualifier in _RELEASE_QUALIFIERS:
        return _RELEASE_INDEX
    if qualifier in _QUALIFIERS:
        return str(_QUALIFIERS.index(qualifier))
    return f"{len(_QUALIFIERS)}-{qualifier}"


@dataclass(frozen=True, slots=True)
class _Number:
    """A numeric item; ``size`` is Maven's class (0: int, 1: long, 2: big integer)."""

    size: int
    value: int

    def is_null(self) -> bool:
        return self.value == 0

    def compare(self, other: _Item | None) -> int:
        if other is None:
            return 0 if self.value == 0 else 1
        if isinstance(other, _Number):
            if self.size != other.size:
                return -1 if self.size < other.size else 1
            return (self.value > other.value) - (self.value < other.value)
        return 1  # 1.1 > 1-sp, 1.1 > 1-1

    def __str__(self) -> str:
        return str(self.value)


@dataclass(frozen=True, slots=True)
class _String:
    value: str

    def is_null(self) -> bool:
        return not self.value

    def compare(self, other: _Item | None) -> int:
        if other is None:
            return _java_str_cmp(_comparable_qualifier(self.value), _RELEASE_INDEX)
        if isinstance(other, _String):
            return _java_str_cmp(
                _comparable_qualifier(self.value), _comparable_qualifier(other.value)
            )
        if isinstance(other, _Combination):
            result = self.compare(other.string)
            return -1 if result == 0 else result
        return -1  # below numbers and lists

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class _Combination:
    """A qualifier directly followed by a number (``rc1``, ``x-1``)."""

    string: _String
    number: _Number

    def is_null(self) -> bool:
        return False

    def compare(self, other: _Item | None) -> int:
        if other is None:
            return self.string.compare(None)
        if isinstance(other, _String):
            result = self.string.compare(other)
            return 1 if result == 0 else result
        if isinstance(other, _Combination):
            result = self.string.compare(other.string)
            return result if result != 0 else self.number.compare(other.number)
        return -1  # below numbers and lists

    def __str__(self) -> str:
        return f"{self.string}{self.number}"


class _List(list["_Item"]):
    """A list of items: the whole version, or a sub-list started by ``-`` or a transition."""

    def is_null(self) -> bool:
        return not self

    def compare(self, other: _Item | None) -> int:
        if other is None:
            for item in self:
                result = item.compare(None)
                if result != 0:
                    return result
            return 0
        if isinstance(other, _Number):
            return -1
        if isinstance(other, _String | _Combination):
            return 1
        for i in range(max(len(self), len(other))):
            left = self[i] if i < len(self) else None
            right = other[i] if i < len(other) else None
            if left is None:
                result = 0 if right is None else -right.compare(None)
            else:
                result = left.compare(right)
            if result != 0:
                return result
        return 0

    def normalize(self) -> None:
        for i in range(len(self) - 1, -1, -1):
            if not self[i].is_null():
                continue
            if i == len(self) - 1:
                del self[i]
                continue
            following = self[i + 1]
            if isinstance(following, _String) or (
                isinstance(following, _List)
                and following
                and isinstance(following[0], _String | _Combination)
            ):
                del self[i]

    def __str__(self) -> str:
        out: list[str] = []
        for item in self:
            if out:
                out.append("-" if isinstance(item, _List) else ".")
            out.append(str(item))
        return "".join(out)


_Item = _Number | _String | _Combination | _List


def _number(digits: str) -> _Number:
    stripped = digits.lstrip("0") or digits  # Maven keeps an all-zero string as written
    size = 0 if len(stripped) <= _MAX_INT_LENGTH else 1 if len(stripped) <= _MAX_LONG_LENGTH else 2
    return _Number(size, int(stripped))


def _string(value: str, followed_by_digit: bool) -> _String:
    if followed_by_digit and len(value) == 1:
        value = {"a": "alpha", "b": "beta", "m": "milestone"}.get(value, value)
    return _String("rc" if value == "cr" else value)


def _combination(text: str) -> _Combination:
    text = text.replace("-", "")
    index = next((i for i, c in enumerate(text) if c.isdecimal()), 0)
    return _Combination(_string(text[:index], True), _number(text[index:]))


def _item(combination: bool, digit: bool, text: str) -> _Item:
    if combination:
        return _combination(text)
    if digit:
        return _number(text)
    return _string(text, False)


def _parse_items(version: str) -> _List:
    """ComparableVersion's tokeniser: the item tree of ``version``."""
    text = version.lower()
    items = _List()
    current = items
    stack = [items]
    is_digit = False
    is_combination = False
    start = 0

    def open_sublist() -> None:
        nonlocal current
        sub = _List()
        current.append(sub)
        current = sub
        stack.append(sub)

    i = 0
    while i < len(text):
        c = text[i]
        if c == ".":
            if i == start:
                current.append(_Number(0, 0))
            else:
                current.append(_item(is_combination, is_digit, text[start:i]))
            is_combination = False
            start = i + 1
        elif c == "-":
            if i == start:
                current.append(_Number(0, 0))
            else:
                if not is_digit and i != len(text) - 1 and text[i + 1].isdecimal():
                    is_combination = True  # X-1 is read as X1
                    i += 1
                    continue
                current.append(_item(is_combination, is_digit, text[start:i]))
            start = i + 1
            if current:
                open_sublist()
            is_combination = False
        elif c.isdecimal():
            if not is_digit and i > start:
                is_combination = True
                if current:
                    open_sublist()
            is_digit = True
        else:
            if is_digit and i > start:
                current.append(_item(is_combination, True, text[start:i]))
                start = i
                open_sublist()
                is_combination = False
            is_digit = False
        i += 1

    if len(text) > start:
        if not is_digit and current:
            open_sublist()  # 1.0.0.X1 < 1.0.0-X2: a trailing .X counts as -X
        current.append(_item(is_combination, is_digit, text[start:]))

    while stack:
        stack.pop().normalize()
    return items


# --- versions -------------------------------------------------------------------------------


class MavenVersion:
    """A Maven version, ordered exactly as ``ComparableVersion`` orders it."""

    __slots__ = ("_hash", "_items", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._items = _parse_items(text)
        key: list[int] = []
        for item in self._items:
            if not isinstance(item, _Number):
                break
            key.append(item.value)
        while key and key[-1] == 0:
            key.pop()
        self._hash = hash(tuple(key))

    @property
    def canonical(self) -> str:
        """Maven's ``getCanonical()``: the parsed item tree written back out."""
        return str(self._items)

    def compare(self, other: MavenVersion) -> int:
        """-1, 0 or 1, as ``ComparableVersion.compareTo``."""
        result = self._items.compare(other._items)
        return (result > 0) - (result < 0)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MavenVersion) and self.compare(other) == 0

    def __hash__(self) -> int:
        # Versions that compare equal agree, position by position, on their numeric items,
        # except that a missing item matches a zero; so the leading numbers without trailing
        # zeros are shared by all of them.
        return self._hash

    def __lt__(self, other: MavenVersion) -> bool:
        return self.compare(other) < 0

    def __le__(self, other: MavenVersion) -> bool:
        return self.compare(other) <= 0

    def __gt__(self, other: MavenVersion) -> bool:
        return self.compare(other) > 0

    def __ge__(self, other: MavenVersion) -> bool:
        return self.compare(other) >= 0

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"MavenVersion({self.text!r})"


# --- constraints ----------------------------------------------------------------------------


def _render(ranges: Ranges[MavenVersion]) -> str:
    """Maven range notation for ``ranges`` (``(,)`` for everything, ``()`` for nothing; Maven
    itself has no notation for those two)."""
    if ranges.is_empty():
        return "()"
    parts = []
    for interval in ranges.intervals:
        lo, hi = interval.lower, interval.upper
        if lo is not None and hi is not None and lo.version == hi.version:
            parts.append(f"[{lo.version}]")
            continue
        left = "(" if lo is None or not lo.inclusive else "["
        right = ")" if hi is None or not hi.inclusive else "]"
        lo_text = "" if lo is None else str(lo.version)
        hi_text = "" if hi is None else str(hi.version)
        parts.append(f"{left}{lo_text},{hi_text}{right}")
    return ",".join(parts)


@dataclass(frozen=True, slots=True)
class MavenConstraint:
    """A Maven version specification.

    ``ranges`` are the versions it allows. A bare version (``1.0``) is a soft requirement: it
    prefers 1.0 and allows any version, so ``ranges`` is full and ``preferred`` is 1.0. Hard
    ranges have ``preferred`` None. Maven has no pre-release rule for ranges: ``contains`` is
    membership in ``ranges``.
    """

    text: str
    ranges: Ranges[MavenVersion]
    preferred: MavenVersion | None = None

    @property
    def is_soft(self) -> bool:
        return self.preferred is not None

    def contains(self, version: MavenVersion) -> bool:
        return self.ranges.contains(version)

    def _derived(
        self, ranges: Ranges[MavenVersion], preferred: MavenVersion | None
    ) -> MavenConstraint:
        if preferred is not None and not ranges.contains(preferred):
            preferred = None
        if preferred is not None and ranges.is_full():
            return MavenConstraint(str(preferred), ranges, preferred)
        return MavenConstraint(_render(ranges), ranges, preferred)

    def intersection(self, other: MavenConstraint) -> MavenConstraint:
        """Both constraints; keeps a preference that the result still allows (this one's
        first)."""
        ranges = self.ranges & other.ranges
        preferred = self.preferred
        if preferred is None or not ranges.contains(preferred):
            preferred = other.preferred
        return self._derived(ranges, preferred)

    def union(self, other: MavenConstraint) -> MavenConstraint:
        preferred = self.preferred if self.preferred is not None else other.preferred
        return self._derived(self.ranges | other.ranges, preferred)

    def complement(self) -> MavenConstraint:
        return self._derived(~self.ranges, None)

    def is_empty(self) -> bool:
        return self.ranges.is_empty()

    def __str__(self) -> str:
        return self.text


class MavenScheme:
    """Maven versions (``ComparableVersion``) and version specifications (``VersionRange``)."""

    name = "maven"

    def parse_version(self, text: str) -> MavenVersion:
        """Any non-blank string is a Maven version (Maven accepts every string); blank text
        is rejected as a POM with an empty ``<version>`` is."""
        if not text.strip():
            raise VersionSyntaxError(ECOSYSTEM, "version", text, "empty version")
        return MavenVersion(text)

    def is_prerelease(self, version: MavenVersion) -> bool:
        """Maven has no notion of pre-release (``<release>`` in maven-metadata.xml is simply
        the newest non-SNAPSHOT). For "latest stable", a version counts as a pre-release when
        one of its tokens is a qualifier that orders before a release (alpha, beta,
        milestone, rc, snapshot and their short forms ``a``, ``b``, ``m``, ``cr``) or a
        common pre-release word (``preview``, ``ea``, ``dev``, ``pre``)."""
        tokens = _PRERELEASE_TOKEN_SPLIT.split(version.text.lower())
        return any(token in _PRERELEASE_WORDS for token in tokens)

    def parse_constraint(self, text: str) -> MavenConstraint:
        return _parse_spec(text)


def _error(text: str, reason: str, start: int, end: int = -1) -> VersionSyntaxError:
    return VersionSyntaxError(ECOSYSTEM, "version range", text, reason, start, end)


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] <= " ":  # Java's String.trim()
        i += 1
    return i


def _parse_spec(text: str) -> MavenConstraint:
    """``VersionRange.createFromVersionSpec``, with positions for the caret."""
    restrictions: list[Interval[MavenVersion]] = []
    upper: Bound[MavenVersion] | None = None
    i = _skip_space(text, 0)
    while i < len(text) and text[i] in "[(":
        close_paren, close_bracket = text.find(")", i), text.find("]", i)
        index = close_bracket
        if (close_bracket < 0 or close_paren < close_bracket) and close_paren >= 0:
            index = close_paren
        if index < 0:
            raise _error(text, "unbounded range (no closing ']' or ')')", i, len(text))
        restriction = _parse_restriction(text, i, index)
        # Like Maven, only a restriction after one with an upper bound is checked.
        if upper is not None and (
            restriction.lower is None or restriction.lower.version < upper.version
        ):
            raise _error(text, "ranges overlap", i, index + 1)
        restrictions.append(restriction)
        upper = restriction.upper
        i = _skip_space(text, index + 1)
        if i < len(text) and text[i] == ",":
            i = _skip_space(text, i + 1)
    rest = text[i:].rstrip()
    if rest:
        if restrictions:
            raise _error(
                text, "only fully-qualified sets allowed in multiple set scenario", i, len(text)
            )
        preferred = MavenVersion(rest)
        return MavenConstraint(text, Ranges.full(), preferred)
    if not restrictions:
        raise _error(text, "empty version specification", 0, len(text))
    return MavenConstraint(text, Ranges(restrictions))


def _parse_restriction(text: str, start: int, end: int) -> Interval[MavenVersion]:
    """One ``[...]`` / ``(...)`` restriction: ``text[start]`` opens it, ``text[end]`` closes."""
    spec = text[start : end + 1]
    lower_inclusive = spec.startswith("[")
    upper_inclusive = spec.endswith("]")
    inner = text[start + 1 : end]
    comma = inner.find(",")
    if comma < 0:
        if not (lower_inclusive and upper_inclusive):
            raise _error(text, "single version must be surrounded by []", start, end + 1)
        version_text = inner.strip()
        if not version_text:
            raise _error(text, "empty version", start, end + 1)
        version = MavenVersion(version_text)
        return Interval(Bound(version, True), Bound(version, True))
    lower_text, upper_text = inner[:comma].strip(), inner[comma + 1 :].strip()
    if lower_text == upper_text:
        raise _error(text, "range cannot have identical boundaries", start, end + 1)
    lower = MavenVersion(lower_text) if lower_text else None
    upper = MavenVersion(upper_text) if upper_text else None
    if lower is not None and upper is not None and upper < lower:
        raise _error(text, "range defies version ordering", start, end + 1)
    return Interval(
        None if lower is None else Bound(lower, lower_inclusive),
        None if upper is None else Bound(upper, upper_inclusive),
    )


SCHEME: Final = MavenScheme()
