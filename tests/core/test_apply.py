"""apply_plan: order, progress, and exact reporting when a change fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuskops.core.apply import ApplyResult, apply_plan
from tuskops.core.plan import ResourceChange, make_plan
from tuskops.core.resource import Resource
from tuskops.core.targets import DirectoryTarget
from tuskops.errors import ApplyError


def text_file(name: str, content: str = "x\n") -> Resource:
    return Resource("render", "file", name, content, path=f"{name}.txt", format="text")


def test_applies_in_plan_order_and_reports_progress(tmp_path: Path) -> None:
    resources = [text_file("b"), text_file("a", "a\n"), text_file("c")]
    target = DirectoryTarget(tmp_path)
    plan = make_plan(resources, target)
    events: list[tuple[str, str]] = []

    def progress(change: ResourceChange, status: str) -> None:
        events.append((change.resource_id, status))

    result = apply_plan(plan, target, on_progress=progress)
    assert result.outcome == "applied"
    assert [o.change.resource_id for o in result.applied] == [
        "render/file/a",
        "render/file/b",
        "render/file/c",
    ]
    assert events[:2] == [("render/file/a", "applying"), ("render/file/a", "applied")]
    assert len(events) == 6
    assert (tmp_path / "a.txt").read_text() == "a\n"
    assert "Apply complete! Resources: 3 created, 0 updated, 0 deleted." in result.render()


def test_failure_mid_apply_reports_exactly_what_happened(tmp_path: Path) -> None:
    resources = [text_file("a"), text_file("b"), text_file("c"), text_file("d")]
    target = DirectoryTarget(tmp_path)
    plan = make_plan(resources, target)
    # Something appears in the way after planning: b's path is now a directory.
    (tmp_path / "b.txt").mkdir()
    (tmp_path / "b.txt" / "keep").write_text("not ours\n")

    with pytest.raises(ApplyError) as info:
        apply_plan(plan, target)
    result = info.value.result
    assert isinstance(result, ApplyResult)
    assert result.outcome == "partial"
    assert [o.change.resource_id for o in result.applied] == ["render/file/a"]
    assert result.failed is not None
    assert result.failed.change.resource_id == "render/file/b"
    assert "b.txt" in (result.failed.error or "")
    assert [o.change.resource_id for o in result.not_attempted] == [
        "render/file/c",
        "render/file/d",
    ]

    # The message and the JSON carry the same breakdown.
    message = str(info.value)
    assert message.startswith("apply failed: render/file/b: b.txt is a directory")
    assert "Applied:\n  + create render/file/a" in message
    assert "Not attempted:\n    create render/file/c\n    create render/file/d" in message
    data = json.loads(json.dumps(result.to_json()))
    assert [(r["id"], r["status"]) for r in data["resources"]] == [
        ("render/file/a", "applied"),
        ("render/file/b", "failed"),
        ("render/file/c", "not-attempted"),
        ("render/file/d", "not-attempted"),
    ]

    # Nothing half-written, what was applied is owned, and what was in the way is untouched.
    assert not [p for p in tmp_path.rglob("*") if "tuskops-tmp" in p.name]
    assert not (tmp_path / "c.txt").exists()
    assert (tmp_path / "b.txt" / "keep").read_text() == "not ours\n"
    index = json.loads((tmp_path / ".tuskops/managed.json").read_text())
    assert list(index["resources"]) == ["render/file/a"]


def test_failure_on_the_first_change_is_failed_not_partial(tmp_path: Path) -> None:
    target = DirectoryTarget(tmp_path)
    plan = make_plan([text_file("a"), text_file("b")], target)
    (tmp_path / "a.txt").mkdir()
    with pytest.raises(ApplyError) as info:
        apply_plan(plan, target)
    result = info.value.result
    assert isinstance(result, ApplyResult)
    assert result.outcome == "failed"
    assert result.applied == []
    assert "Apply failed: nothing was changed." in result.render()
    assert not (tmp_path / ".tuskops").exists()


def test_after_a_partial_apply_the_next_plan_finishes_the_job(tmp_path: Path) -> None:
    resources = [text_file("a"), text_file("b")]
    target = DirectoryTarget(tmp_path)
    plan = make_plan(resources, target)
    (tmp_path / "b.txt").mkdir()
    with pytest.raises(ApplyError):
        apply_plan(plan, target)
    (tmp_path / "b.txt").rmdir()
    replan = make_plan(resources, DirectoryTarget(tmp_path))
    assert [(c.action, c.resource_id) for c in replan.changes] == [
        ("no-op", "render/file/a"),
        ("create", "render/file/b"),
    ]


def test_no_op_plan_touches_nothing_and_says_so(tmp_path: Path) -> None:
    target = DirectoryTarget(tmp_path)
    result = apply_plan(make_plan([], target), target)
    assert result.outcome == "no-op"
    assert result.to_json() == {
        "target": f"directory {tmp_path}",
        "outcome": "no-op",
        "error": None,
        "resources": [],
    }
    assert list(tmp_path.iterdir()) == []


def test_result_json_lists_changed_paths_without_values(tmp_path: Path) -> None:
    secret = Resource("render", "file", "s", {"token": "abc123", "n": 1})
    target = DirectoryTarget(tmp_path)
    result = apply_plan(make_plan([secret], target), target)
    data = result.to_json()
    assert data["resources"][0]["fields"] == [
        {"path": "token", "kind": "add"},
        {"path": "n", "kind": "add"},
    ]
    assert "abc123" not in json.dumps(data)
