"""Golden tests for examples/: each example's evaluated output, and the quickstart's plan.

Regenerate after an intended change with ``TUSKOPS_UPDATE_GOLDEN=1 sh scripts/test.sh
tests/examples`` and review the diff.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

import tuskops
from tuskops.core.plan import make_plan, render_plan
from tuskops.core.targets import DirectoryTarget

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("TUSKOPS_UPDATE_GOLDEN") == "1"

#: The environment every example is evaluated in, so the goldens do not depend on the machine.
ENV = {"HOME": "/home/demo"}
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

#: Entry points: every .tsk under examples/ except files meant to be included or read by others.
ENTRY_POINTS = sorted(
    p
    for p in EXAMPLES.rglob("*.tsk")
    if p.name != "peanu.tsk" and not p.name.startswith("_") and "deploy" not in p.parts
)


def _check(golden: Path, actual: str) -> None:
    if UPDATE or not golden.exists():
        if not UPDATE and os.environ.get("CI") == "true":
            pytest.fail(f"golden file {golden} is missing")
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual)
    assert actual == golden.read_text()


@pytest.mark.parametrize("example", ENTRY_POINTS, ids=lambda p: str(p.relative_to(EXAMPLES)))
@pytest.mark.parametrize("app_env", ["dev", "prod"])
def test_example_output(example: Path, app_env: str) -> None:
    doc = tuskops.load(example, env={**ENV, "APP_ENV": app_env}, now=NOW, offline=True)
    actual = json.dumps(doc.to_plain(), indent=2, ensure_ascii=False) + "\n"
    rel = example.relative_to(EXAMPLES).with_suffix("")
    _check(GOLDEN / f"{rel}.{app_env}.json", actual)


def test_quickstart_plan(tmp_path: Path) -> None:
    doc = tuskops.load(EXAMPLES / "quickstart.tsk", env=ENV, now=NOW, offline=True)
    plan = make_plan(doc.resources, DirectoryTarget(tmp_path / "deploy"))
    text = str(render_plan(plan)).replace(str(tmp_path), "<tmp>")
    _check(GOLDEN / "quickstart.plan.txt", text + "\n")


def test_there_are_examples() -> None:
    assert (EXAMPLES / "quickstart.tsk") in ENTRY_POINTS
