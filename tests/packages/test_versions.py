"""Ranges: the version-set algebra, checked against a brute-force model.

Endpoints are integers; membership only changes at integers, so sampling the integers and the
half-integers between them decides every set completely. That lets the test check canonical
form too: two Ranges are equal exactly when they hold the same versions.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from tuskops.packages.versions import Bound, Interval, Ranges

SAMPLES = [Fraction(k, 2) for k in range(-4, 24)]


@st.composite
def bounds(draw: st.DrawFn) -> Bound[int] | None:
    if draw(st.integers(0, 5)) == 0:
        return None
    return Bound(draw(st.integers(0, 9)), draw(st.booleans()))


intervals = st.builds(Interval, bounds(), bounds())
ranges = st.lists(intervals, max_size=5).map(Ranges)


def model(r: Ranges[int]) -> frozenset[Fraction]:
    return frozenset(x for x in SAMPLES if r.contains(x))  # type: ignore[arg-type]


@given(ranges, ranges)
def test_set_operations_match_the_model(a: Ranges[int], b: Ranges[int]) -> None:
    everything = frozenset(SAMPLES)
    assert model(a & b) == model(a) & model(b)
    assert model(a | b) == model(a) | model(b)
    assert model(a - b) == model(a) - model(b)
    assert model(~a) == everything - model(a)
    assert (a & b).is_empty() == (not (model(a) & model(b)))
    assert a.is_subset(b) == (model(a) <= model(b))


@given(ranges, ranges)
def test_normal_form_is_canonical(a: Ranges[int], b: Ranges[int]) -> None:
    assert (a == b) == (model(a) == model(b))
    assert ~~a == a
    assert a | b == b | a
    assert a & b == b & a


@given(ranges)
def test_intervals_are_sorted_disjoint_and_not_adjacent(a: Ranges[int]) -> None:
    for left, right in zip(a.intervals, a.intervals[1:], strict=False):
        assert left.upper is not None
        assert right.lower is not None
        gap = Ranges((Interval(Bound(left.upper.version, not left.upper.inclusive), None),))
        gap &= Ranges((Interval(None, Bound(right.lower.version, not right.lower.inclusive)),))
        assert not gap.is_empty()  # some version lies between them


def test_constructors_and_text() -> None:
    assert str(Ranges.between(1, 2)) == ">=1, <2"
    assert str(Ranges.singleton(3)) == "==3"
    assert str(Ranges.full()) == "*"
    assert str(Ranges.empty()) == "<empty>"
    assert str(Ranges.between(1, 2) | Ranges.higher_than(5, inclusive=False)) == ">=1, <2 || >5"
    assert Ranges.singleton(3).singleton_value() == 3
    assert Ranges.between(1, 2).singleton_value() is None
    assert Ranges.between(1, 2) | Ranges.between(2, 3) == Ranges.between(1, 3)
    assert not (Ranges.lower_than(2) | Ranges.higher_than(2, inclusive=False)).contains(2)
    assert list(Ranges.between(2, 4).filter([1, 2, 3, 4])) == [2, 3]
