"""Sets of versions as unions of intervals: the algebra every ecosystem's constraints share.

A resolver needs more than "does this version match": PubGrub-style conflict-driven search
intersects, unions and complements the sets of versions that constraints allow, and asks
whether a set is empty. :class:`Ranges` is that algebra over any totally ordered version type:
a finite union of disjoint, non-adjacent intervals, kept normalised so that two equal sets
compare equal.

No library offers this for arbitrary version types (``packaging``'s SpecifierSet and
node-semver's Range only answer membership), so it is written here; it is small, pure, and
checked against a brute-force model by property tests.

Ecosystem modules turn their constraint syntax (``^1.2``, ``>=1.0,<2``, ``[1.0,2.0)``, ``~>
2.1``) into ``Ranges`` of their own version type, adding the ecosystem's pre-release rules on
top where it has them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar


class Ordered(Protocol):
    """A totally ordered, hashable version type."""

    def __lt__(self, other: Any, /) -> bool: ...
    def __le__(self, other: Any, /) -> bool: ...
    def __hash__(self) -> int: ...


V = TypeVar("V", bound=Ordered)


@dataclass(frozen=True, slots=True)
class Bound(Generic[V]):
    """A finite end of an interval."""

    version: V
    inclusive: bool


@dataclass(frozen=True, slots=True)
class Interval(Generic[V]):
    """Versions between ``lower`` and ``upper``; None is unbounded on that side."""

    lower: Bound[V] | None
    upper: Bound[V] | None

    def contains(self, version: V) -> bool:
        lo, hi = self.lower, self.upper
        if lo is not None and (
            version < lo.version or (not lo.inclusive and version == lo.version)
        ):
            return False
        return not (
            hi is not None
            and (hi.version < version or (not hi.inclusive and version == hi.version))
        )

    def is_empty(self) -> bool:
        lo, hi = self.lower, self.upper
        if lo is None or hi is None:
            return False
        if lo.version == hi.version:
            return not (lo.inclusive and hi.inclusive)
        return hi.version < lo.version

    def __str__(self) -> str:
        lo, hi = self.lower, self.upper
        if lo is not None and hi is not None and lo.version == hi.version:
            return f"=={lo.version}"
        parts = []
        if lo is not None:
            parts.append(f"{'>=' if lo.inclusive else '>'}{lo.version}")
        if hi is not None:
            parts.append(f"{'<=' if hi.inclusive else '<'}{hi.version}")
        return ", ".join(parts) or "*"


def _lower_key_lt(a: Bound[V] | None, b: Bound[V] | None) -> bool:
    """Whether lower bound ``a`` starts strictly before lower bound ``b``."""
    if a is None:
        return b is not None
    if b is None:
        return False
    if a.version == b.version:
        return a.inclusive and not b.inclusive
    return a.version < b.version


def _upper_key_lt(a: Bound[V] | None, b: Bound[V] | None) -> bool:
    """Whether upper bound ``a`` ends strictly before upper bound ``b``."""
    if a is None:
        return False
    if b is None:
        return True
    if a.version == b.version:
        return not a.inclusive and b.inclusive
    return a.version < b.version


def _touches(upper: Bound[V] | None, lower: Bound[V] | None) -> bool:
    """Whether an interval ending at ``upper`` and one starting at ``lower`` (not before it)
    overlap or meet with no version between them, so that they merge into one."""
    if upper is None or lower is None:
        return True
    if lower.version < upper.version:
        return True
    if lower.version == upper.version:
        return upper.inclusive or lower.inclusive
    return False


class Ranges(Generic[V]):
    """A set of versions: a normalised union of intervals (sorted, disjoint, non-adjacent)."""

    __slots__ = ("_intervals",)

    def __init__(self, intervals: Iterable[Interval[V]] = ()) -> None:
        self._intervals: tuple[Interval[V], ...] = _normalise(intervals)

    # --- constructors -------------------------------------------------------------------------

    @classmethod
    def full(cls) -> Ranges[V]:
        return cls((Interval(None, None),))

    @classmethod
    def empty(cls) -> Ranges[V]:
        return cls(())

    @classmethod
    def singleton(cls, version: V) -> Ranges[V]:
        bound = Bound(version, True)
        return cls((Interval(bound, bound),))

    @classmethod
    def higher_than(cls, version: V, *, inclusive: bool = True) -> Ranges[V]:
        """``>= version`` (or ``> version``)."""
        return cls((Interval(Bound(version, inclusive), None),))

    @classmethod
    def lower_than(cls, version: V, *, inclusive: bool = False) -> Ranges[V]:
        """``< version`` (or ``<= version``)."""
        return cls((Interval(None, Bound(version, inclusive)),))

    @classmethod
    def between(
        cls, lower: V, upper: V, *, lower_inclusive: bool = True, upper_inclusive: bool = False
    ) -> Ranges[V]:
        """``>= lower, < upper`` by default."""
        return cls((Interval(Bound(lower, lower_inclusive), Bound(upper, upper_inclusive)),))

    # --- queries ------------------------------------------------------------------------------

    @property
    def intervals(self) -> tuple[Interval[V], ...]:
        return self._intervals

    def contains(self, version: V) -> bool:
        return any(interval.contains(version) for interval in self._intervals)

    def __contains__(self, version: V) -> bool:
        return self.contains(version)

    def is_empty(self) -> bool:
        return not self._intervals

    def is_full(self) -> bool:
        return self._intervals == (Interval(None, None),)

    def singleton_value(self) -> V | None:
        """The one version in the set, if it holds exactly one interval of one version."""
        if len(self._intervals) == 1:
            lo, hi = self._intervals[0].lower, self._intervals[0].upper
            if lo is not None and hi is not None and lo.version == hi.version:
                return lo.version
        return None

    def filter(self, versions: Iterable[V]) -> Iterator[V]:
        """The given versions that are in the set, in the given order."""
        return (v for v in versions if self.contains(v))

    # --- set algebra --------------------------------------------------------------------------

    def complement(self) -> Ranges[V]:
        gaps: list[Interval[V]] = []
        previous: Bound[V] | None = None
        start_open = True  # the next gap starts at -infinity
        for interval in self._intervals:
            if interval.lower is not None:
                gap_lo = None if start_open else _flip(previous)
                gaps.append(Interval(gap_lo, _flip(interval.lower)))
            start_open = False
            previous = interval.upper
            if previous is None:
                return Ranges(gaps)
        gaps.append(Interval(None if start_open else _flip(previous), None))
        return Ranges(gaps)

    def intersection(self, other: Ranges[V]) -> Ranges[V]:
        out: list[Interval[V]] = []
        mine, theirs = self._intervals, other._intervals
        i = j = 0
        while i < len(mine) and j < len(theirs):
            a, b = mine[i], theirs[j]
            lower = b.lower if _lower_key_lt(a.lower, b.lower) else a.lower
            upper = a.upper if _upper_key_lt(a.upper, b.upper) else b.upper
            candidate = Interval(lower, upper)
            if not candidate.is_empty():
                out.append(candidate)
            # Advance whichever interval ends first.
            if _upper_key_lt(a.upper, b.upper):
                i += 1
            else:
                j += 1
        return Ranges(out)

    def union(self, other: Ranges[V]) -> Ranges[V]:
        return Ranges((*self._intervals, *other._intervals))

    def difference(self, other: Ranges[V]) -> Ranges[V]:
        return self.intersection(other.complement())

    def is_subset(self, other: Ranges[V]) -> bool:
        return self.difference(other).is_empty()

    def is_disjoint(self, other: Ranges[V]) -> bool:
        return self.intersection(other).is_empty()

    __and__ = intersection
    __or__ = union
    __sub__ = difference
    __invert__ = complement

    # --- value semantics ----------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Ranges) and self._intervals == other._intervals

    def __hash__(self) -> int:
        return hash(self._intervals)

    def __str__(self) -> str:
        if not self._intervals:
            return "<empty>"
        return " || ".join(str(interval) for interval in self._intervals)

    def __repr__(self) -> str:
        return f"Ranges({str(self)!r})"


def _flip(bound: Bound[V] | None) -> Bound[V] | None:
    """The bound on the other side of ``bound`` (``< v`` becomes ``>= v``)."""
    return None if bound is None else Bound(bound.version, not bound.inclusive)


def _normalise(intervals: Iterable[Interval[V]]) -> tuple[Interval[V], ...]:
    items = [interval for interval in intervals if not interval.is_empty()]
    if len(items) <= 1:
        return tuple(items)
    items.sort(key=_SortByLower)
    merged: list[Interval[V]] = [items[0]]
    for interval in items[1:]:
        last = merged[-1]
        if _touches(last.upper, interval.lower):
            upper = interval.upper if _upper_key_lt(last.upper, interval.upper) else last.upper
            merged[-1] = Interval(last.lower, upper)
        else:
            merged.append(interval)
    return tuple(merged)


class _SortByLower:
    """Sort key: intervals by where they start."""

    __slots__ = ("interval",)

    def __init__(self, interval: Interval[Any]) -> None:
        self.interval = interval

    def __lt__(self, other: _SortByLower) -> bool:
        return _lower_key_lt(self.interval.lower, other.interval.lower)
