"""Quantities: the examples of the Kubernetes docs ("Resource units in Kubernetes"), the API's
canonical forms, and round trips."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.quantity import (
    QuantityError,
    format_cpu,
    format_decimal,
    format_memory,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # CPU: "0.1" is the same as "100m"; 1 CPU = 1000m.
        ("0.1", Decimal("0.1")),
        ("100m", Decimal("0.1")),
        ("1", Decimal(1)),
        ("500m", Decimal("0.5")),
        # Memory: 128974848, 129e6, 129M, 128974848000m and 123Mi are all about the same.
        ("128974848", Decimal(128974848)),
        ("129e6", Decimal(129000000)),
        ("129M", Decimal(129000000)),
        ("128974848000m", Decimal(128974848)),
        ("123Mi", Decimal(128974848)),
        # Every suffix.
        ("1n", Decimal("1e-9")),
        ("1u", Decimal("1e-6")),
        ("1k", Decimal(1000)),
        ("1G", Decimal(10**9)),
        ("1T", Decimal(10**12)),
        ("1P", Decimal(10**15)),
        ("1E", Decimal(10**18)),
        ("1Ki", Decimal(1024)),
        ("1Gi", Decimal(2**30)),
        ("1Ti", Decimal(2**40)),
        ("1Pi", Decimal(2**50)),
        ("1Ei", Decimal(2**60)),
        ("1.5Gi", Decimal(1610612736)),
        ("1E3", Decimal(1000)),
        ("1e-3", Decimal("0.001")),
        ("1e+3", Decimal(1000)),
        # Signs and the short number forms.
        ("-1.5", Decimal("-1.5")),
        ("+.5", Decimal("0.5")),
        ("5.", Decimal(5)),
        ("0", Decimal(0)),
    ],
)
def test_parses_the_documented_forms(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


def test_rounds_up_to_a_nano_unit_like_the_api() -> None:
    assert parse_quantity("0.1n") == Decimal("1e-9")
    assert parse_quantity("1e-20") == Decimal("1e-9")
    assert parse_quantity("-0.1n") == Decimal("-1e-9")
    assert parse_quantity("1.0000000001") == Decimal("1.000000001")


def test_caps_binary_values_at_int64() -> None:
    assert parse_quantity("9000000Ei") == Decimal(2**63 - 1)


def test_numbers_are_accepted() -> None:
    assert parse_quantity(2) == 2
    assert parse_quantity(0.25) == Decimal("0.25")
    assert parse_quantity(Decimal("1.5")) == Decimal("1.5")


@pytest.mark.parametrize(
    "text",
    ["", ".", "abc", "1e", "1Mb", " 1", "1 ", "1e1.5", "--1", "1.2.3", "Mi", "1mi", "1e2000"],
)
def test_refuses_what_the_api_refuses(text: str) -> None:
    with pytest.raises(QuantityError) as info:
        parse_quantity(text, field="app.resources.requests.cpu")
    assert info.value.field == "app.resources.requests.cpu"
    assert repr(text) in str(info.value)
    assert isinstance(info.value, KubernetesSpecError)


def test_refuses_booleans_and_non_finite_numbers() -> None:
    with pytest.raises(QuantityError):
        parse_quantity(True)
    with pytest.raises(QuantityError):
        parse_quantity(float("nan"))


@pytest.mark.parametrize(
    ("cores", "text"),
    [
        (Decimal("0.25"), "250m"),
        (Decimal(2), "2"),
        (Decimal("1.5"), "1500m"),
        (Decimal("0.1"), "100m"),
        (Decimal("0.0001"), "1m"),  # rounded up to the finest CPU precision
        (Decimal("0.2501"), "251m"),
        (Decimal(3000), "3k"),
        (Decimal(0), "0"),
        (Decimal("-0.5"), "-500m"),
    ],
)
def test_format_cpu(cores: Decimal, text: str) -> None:
    assert format_cpu(cores) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (134217728, "128Mi"),
        (128974848, "123Mi"),
        (1610612736, "1536Mi"),
        (2**30, "1Gi"),
        (1024, "1Ki"),
        (1536, "1536"),
        (1000, "1k"),  # below 1024: the decimal form, as the API does
        (129000000, "129000000"),
        (Decimal("0.5"), "500m"),
        (0, "0"),
        (-(2**20), "-1Mi"),
        (2**70, "1024Ei"),
    ],
)
def test_format_memory(amount: int | Decimal, text: str) -> None:
    assert format_memory(amount) == text


def test_format_decimal_uses_the_exponent_form_beyond_exa() -> None:
    assert format_decimal(Decimal("1e21")) == "1e21"
    assert format_decimal(12000) == "12k"
    assert format_decimal(Decimal("1e-9")) == "1n"
    assert format_decimal(Decimal("0.0000015")) == "1500n"


@given(st.integers(min_value=-(2**62), max_value=2**62))
def test_memory_round_trip(n: int) -> None:
    assert parse_quantity(format_memory(n)) == n


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_cpu_round_trip_in_millicores(milli: int) -> None:
    cores = Decimal(milli) / 1000
    assert parse_quantity(format_cpu(cores)) == cores


@given(
    st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, places=9)
)
def test_decimal_round_trip_at_nano_precision(value: Decimal) -> None:
    assert parse_quantity(format_decimal(value)) == value


@given(
    st.integers(min_value=0, max_value=2**40), st.sampled_from(["Ki", "Mi", "Gi", "k", "M", "m"])
)
def test_canonical_text_parses_to_the_same_value(n: int, suffix: str) -> None:
    value = parse_quantity(f"{n}{suffix}")
    assert parse_quantity(format_decimal(value)) == value
    if value == value.to_integral_value():
        assert parse_quantity(format_memory(value)) == value
