"""The parse benchmark's generator and comparison helpers (no timing assertions).

The benchmark is a script, not a package, so it is loaded from its path. The last tests need
the tuskops parser and evaluator: they check that tuskops reads the generated text as the data
the generator says it stands for.
"""

from __future__ import annotations

from typing import Any

import pytest

import tuskops
from _support.bench import load_benchmark

SMALL_MB = 0.05


bench = load_benchmark("parse")


@pytest.fixture(scope="module")
def small() -> tuple[str, dict[str, Any]]:
    text, expected = bench.generate_with_expected(SMALL_MB)
    return text, expected


def test_generator_is_deterministic() -> None:
    assert bench.generate(SMALL_MB) == bench.generate(SMALL_MB)
    assert bench.generate(SMALL_MB, seed=7) == bench.generate(SMALL_MB, seed=7)
    assert bench.generate(SMALL_MB, seed=7) != bench.generate(SMALL_MB, seed=8)


def test_generator_with_expected_gives_the_same_text(small: tuple[str, dict[str, Any]]) -> None:
    text, expected = small
    assert text == bench.generate(SMALL_MB)
    assert len(expected) > 100


@pytest.mark.parametrize("size_mb", [0.01, SMALL_MB, 0.2])
def test_generator_size_is_about_what_was_asked(size_mb: float) -> None:
    text = bench.generate(size_mb)
    target = size_mb * bench.MB
    size = len(text.encode("utf-8"))
    assert size == len(text)  # ASCII only: characters are bytes
    assert target <= size <= target + 3000  # overshoots by at most one service section


def test_generated_text_stays_in_the_common_subset(small: tuple[str, dict[str, Any]]) -> None:
    text, _ = small
    assert "@" not in text  # the official parser runs operators while parsing
    assert "\\" not in text
    assert "${" not in text
    assert " + " not in text
    assert "?" not in text  # the official parser reads `a ? b : c` even inside quotes
    for line in text.splitlines():
        stripped = line.strip()
        assert not stripped.startswith("#!")  # a directive to tuskops
        if stripped.startswith("#"):
            continue
        assert "#" not in stripped  # no trailing comments: the official parser keeps them
        assert "//" not in stripped.replace("https://", "")
        assert not stripped.endswith(":")  # the official parser drops `key:` lines


def test_generated_text_uses_every_construct(small: tuple[str, dict[str, Any]]) -> None:
    text, _ = small
    for needle in ("\n[svc_", ": [", ": {", "= ", " {\n", " >\n", "\n}\n", "\n<\n", "$region"):
        assert needle in text, needle
    assert any(line.startswith("$") for line in text.splitlines())


def test_expected_data_shape(small: tuple[str, dict[str, Any]]) -> None:
    _, expected = small
    assert expected["title"] == "generated benchmark config"
    assert expected["meta.seed"] == bench.DEFAULT_SEED
    assert expected["svc_000000.environment"] == "production"
    assert expected["svc_000000.ports.type"] == "range"
    assert isinstance(expected["svc_000000.ports.min"], int)
    assert isinstance(expected["svc_000000.tags"], list)
    assert isinstance(expected["svc_000000.limits.burst"], int)
    assert not any(key.startswith("$") for key in expected)  # globals are not output


def test_official_output_is_normalised_to_flat_keys() -> None:
    official = {
        "$region": "eu",
        "svc.$local": 1,
        "svc.ports": {"min": 1, "max": 2, "type": "range"},
        "svc.limits": {"cpu": "1m", "nested": {"a": True}},
        "svc.empty": {},
        "svc.list": [{"a": 1}],
    }
    assert bench.official_flat(official) == {
        "svc.ports.min": 1,
        "svc.ports.max": 2,
        "svc.ports.type": "range",
        "svc.limits.cpu": "1m",
        "svc.limits.nested.a": True,
        "svc.empty": {},
        "svc.list": [{"a": 1}],
    }


def test_comparison_is_strict_about_types() -> None:
    assert bench.same([1, {"a": 2.5}], [1, {"a": 2.5}])
    assert not bench.same(1, True)
    assert not bench.same(1, 1.0)
    assert not bench.same([1], [1, 2])
    diff = bench.compare({"a": 1, "b": 2, "c": 3}, {"a": 1, "b": "2", "d": 4})
    assert (diff.missing, diff.extra, diff.different, diff.count) == (["c"], ["d"], ["b"], 3)


# --- tuskops reads the generated text (needs tuskops.lang.parser and the evaluator) -----------


def test_tuskops_parses_generated_text(small: tuple[str, dict[str, Any]]) -> None:
    text, _ = small
    module = tuskops.lang.parse(text)
    assert len(module.body) > 10


def test_tuskops_evaluates_generated_text_to_the_expected_data(
    small: tuple[str, dict[str, Any]],
) -> None:
    text, expected = small
    doc = tuskops.loads(text, offline=True, env={})
    flat = doc.to_flat()
    diff = bench.compare(expected, flat)
    assert diff.count == 0, diff.examples(expected, flat)
    assert doc.data["svc_000000"]["ports"] == expected_range(expected, "svc_000000.ports")
    assert "region" not in doc.data  # the global is not output


def expected_range(expected: dict[str, Any], key: str) -> dict[str, Any]:
    return {part: expected[f"{key}.{part}"] for part in ("min", "max", "type")}
