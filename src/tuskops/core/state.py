"""The state store: an embedded SQLite history of applies.

One row per ``apply`` (also failed ones): when, by whom, from which file (and its sha256), to which
target, the outcome and the per-resource outcomes as redacted JSON. The schema version is kept in
``PRAGMA user_version`` and upgraded by the ordered :data:`MIGRATIONS` on open; a database from a
newer tuskops is refused rather than guessed at. WAL mode lets ``tuskops history`` read while an
apply writes. Every ``sqlite3``/``OSError`` failure becomes :class:`~tuskops.errors.StateError`
naming the database file.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tuskops.core.apply import ApplyResult
from tuskops.errors import StateError

#: Environment variable overriding where the state database lives.
STATE_ENV = "TUSKOPS_STATE"

OUTCOMES = ("applied", "no-op", "failed", "partial")

#: Schema migrations; migration ``n`` (1-based) upgrades user_version n-1 to n.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE applies (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at     TEXT NOT NULL,
        finished_at    TEXT NOT NULL,
        user           TEXT NOT NULL,
        host           TEXT NOT NULL,
        file           TEXT,
        file_sha256    TEXT,
        target         TEXT NOT NULL,
        outcome        TEXT NOT NULL
                       CHECK (outcome IN ('applied', 'no-op', 'failed', 'partial')),
        error          TEXT,
        resources_json TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX applies_started_at ON applies (started_at);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def default_state_path(config_file: Path) -> Path:
    """``$TUSKOPS_STATE`` if set, else ``<directory of config_file>/.tuskops/state.db``."""
    override = os.environ.get(STATE_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(config_file).absolute().parent / ".tuskops" / "state.db"


def current_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no passwd entry (containers) and no USER/LOGNAME
        return "unknown"


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ApplyRecord:
    """One recorded apply."""

    id: int
    started_at: datetime
    finished_at: datetime
    user: str
    host: str
    file: str | None
    file_sha256: str | None
    target: str
    outcome: str
    error: str | None
    resources: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "user": self.user,
            "host": self.host,
            "file": self.file,
            "file_sha256": self.file_sha256,
            "target": self.target,
            "outcome": self.outcome,
            "error": self.error,
            "resources": self.resources,
        }


class StateStore:
    """The apply history in one SQLite file. Opens a short connection per call."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=10.0)) as conn:
                conn.row_factory = sqlite3.Row
                if not self._ready:
                    self._migrate(conn)
                    self._ready = True
                with conn:  # one transaction: commit on success, roll back on error
                    yield conn
        except sqlite3.Error as exc:
            raise StateError(f"state database {self.path}: {exc}") from exc
        except OSError as exc:
            raise StateError(f"state database {self.path}: {exc.strerror or exc}") from exc

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StateError(
                f"state database {self.path} has schema version {version}; this tuskops "
                f"knows up to {SCHEMA_VERSION}: upgrade tuskops"
            )
        conn.execute("PRAGMA journal_mode=WAL")
        for number in range(version + 1, SCHEMA_VERSION + 1):
            # executescript commits first; keep script and version bump together.
            conn.executescript(
                f"BEGIN;\n{MIGRATIONS[number - 1]}\nPRAGMA user_version = {number};\nCOMMIT;"
            )

    @property
    def schema_version(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    def record_apply(
        self,
        *,
        started_at: datetime,
        finished_at: datetime,
        target: str,
        outcome: str,
        resources: list[dict[str, Any]],
        file: Path | str | None = None,
        file_sha256: str | None = None,
        error: str | None = None,
        user: str | None = None,
        host: str | None = None,
    ) -> int:
        """Store one apply and return its id. ``resources`` must already be redacted
        (``ApplyResult.to_json()["resources"]`` is)."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, got {outcome!r}")
        with self._connect() as conn:
            cursor = conn.execute(
                """
                INSERT INTO applies (started_at, finished_at, user, host, file, file_sha256,
                                     target, outcome, error, resources_json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                (
                    started_at.isoformat(),
                    finished_at.isoformat(),
                    user if user is not None else current_user(),
                    host if host is not None else socket.gethostname(),
                    str(file) if file is not None else None,
                    file_sha256,
                    target,
                    outcome,
                    error,
                    json.dumps(resources, ensure_ascii=False),
                ),
            )
            row_id = cursor.lastrowid
        if row_id is None:  # pragma: no cover - sqlite always sets it for an INSERT
            raise StateError(f"state database {self.path}: no id for the new apply")
        return row_id

    def record_result(
        self,
        result: ApplyResult,
        *,
        started_at: datetime,
        finished_at: datetime | None = None,
        file: Path | str | None = None,
        file_sha256: str | None = None,
    ) -> int:
        """Store an :class:`ApplyResult` (also the one carried by an ``ApplyError``)."""
        return self.record_apply(
            started_at=started_at,
            finished_at=finished_at if finished_at is not None else now_utc(),
            target=result.target,
            outcome=result.outcome,
            error=result.error,
            resources=result.to_json()["resources"],
            file=file,
            file_sha256=file_sha256,
        )

    def history(self, limit: int = 20) -> list[ApplyRecord]:
        """The latest ``limit`` applies, newest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT * FROM applies ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [self._record(row) for row in rows]

    def get(self, apply_id: int) -> ApplyRecord | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM applies WHERE id = ?", (apply_id,)).fetchone()
        return self._record(row) if row is not None else None

    def _record(self, row: sqlite3.Row) -> ApplyRecord:
        try:
            resources = json.loads(row["resources_json"])
            return ApplyRecord(
                id=int(row["id"]),
                started_at=datetime.fromisoformat(row["started_at"]),
                finished_at=datetime.fromisoformat(row["finished_at"]),
                user=row["user"],
                host=row["host"],
                file=row["file"],
                file_sha256=row["file_sha256"],
                target=row["target"],
                outcome=row["outcome"],
                error=row["error"],
                resources=resources,
            )
        except (ValueError, TypeError) as exc:
            raise StateError(
                f"state database {self.path}: apply {row['id']} is damaged: {exc}"
            ) from exc
