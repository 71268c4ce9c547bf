"""The SQLite state store."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tuskops.core.apply import ApplyResult, apply_plan
from tuskops.core.plan import make_plan
from tuskops.core.resource import Resource
from tuskops.core.state import SCHEMA_VERSION, StateStore, default_state_path
from tuskops.core.targets import DirectoryTarget
from tuskops.errors import ApplyError, StateError

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def record(store: StateStore, outcome: str, minutes: int = 0, **extra: object) -> int:
    return store.record_apply(
        started_at=T0 + timedelta(minutes=minutes),
        finished_at=T0 + timedelta(minutes=minutes, seconds=3),
        target="directory /srv",
        outcome=outcome,
        resources=[{"id": "render/file/a", "status": "applied"}],
        user="ana",
        host="box",
        **extra,  # type: ignore[arg-type]
    )


def test_round_trip(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "deep" / "dir" / "state.db")
    apply_id = record(store, "applied", file="app.tsk", file_sha256="ab" * 32)
    entry = store.get(apply_id)
    assert entry is not None
    assert entry.started_at == T0
    assert entry.finished_at == T0 + timedelta(seconds=3)
    assert (entry.user, entry.host, entry.file, entry.target) == (
        "ana",
        "box",
        "app.tsk",
        "directory /srv",
    )
    assert entry.file_sha256 == "ab" * 32
    assert entry.outcome == "applied"
    assert entry.error is None
    assert entry.resources == [{"id": "render/file/a", "status": "applied"}]
    assert entry.to_json()["started_at"] == "2025-01-02T03:04:05+00:00"
    assert store.get(apply_id + 100) is None


def test_history_is_newest_first_and_limited(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    first = record(store, "applied", 0)
    second = record(store, "no-op", 1)
    third = record(store, "failed", 2, error="boom")
    assert [e.id for e in store.history()] == [third, second, first]
    assert [e.outcome for e in store.history(limit=2)] == ["failed", "no-op"]
    # A new StateStore on the same file sees the same history.
    assert [e.id for e in StateStore(tmp_path / "state.db").history()] == [third, second, first]


def test_schema_version_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = StateStore(path)
    assert store.schema_version == SCHEMA_VERSION
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StateError, match="upgrade tuskops"):
        StateStore(path).history()


def test_unknown_outcome_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outcome"):
        record(StateStore(tmp_path / "s.db"), "maybe")


def test_unusable_path_is_a_state_error_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StateError, match=re.escape(str(blocker / "state.db"))):
        StateStore(blocker / "state.db").history()
    (tmp_path / "garbage.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match=r"garbage\.db"):
        StateStore(tmp_path / "garbage.db").history()


def test_records_an_apply_result_including_failures(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state.db")
    out = tmp_path / "out"
    ok = Resource("render", "file", "a-ok", {"password": "pw-123"})
    blocked = Resource("render", "file", "b-blocked", "x", path="b.txt", format="text")
    target = DirectoryTarget(out)
    plan = make_plan([ok, blocked], target)
    (out / "b.txt").mkdir(parents=True)
    with pytest.raises(ApplyError) as info:
        apply_plan(plan, target)
    result = info.value.result
    assert isinstance(result, ApplyResult)
    apply_id = store.record_result(result, started_at=T0, file="app.tsk")
    entry = store.get(apply_id)
    assert entry is not None
    assert entry.outcome == "partial"
    assert entry.error is not None
    assert entry.error.startswith("render/file/b-blocked:")
    assert [(r["id"], r["status"]) for r in entry.resources] == [
        ("render/file/a-ok", "applied"),
        ("render/file/b-blocked", "failed"),
    ]
    with sqlite3.connect(tmp_path / "state.db") as conn:
        stored = conn.execute("SELECT resources_json FROM applies").fetchone()[0]
    assert "pw-123" not in stored


def test_default_state_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUSKOPS_STATE", raising=False)
    assert default_state_path(tmp_path / "conf" / "app.tsk") == tmp_path / "conf/.tuskops/state.db"
    monkeypatch.setenv("TUSKOPS_STATE", str(tmp_path / "elsewhere.db"))
    assert default_state_path(tmp_path / "conf" / "app.tsk") == tmp_path / "elsewhere.db"
