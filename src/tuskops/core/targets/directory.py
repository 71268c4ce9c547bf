"""A directory of files, laid out the way a GitOps user commits them.

Each resource is one file: ``resource.path`` if set, else
``<operator>/<namespace>/<kind>-<name>.<ext>`` (namespace only when set, kind lower-cased, the
extension from the format). Files are written atomically (temporary file in the same directory,
fsync, ``os.replace``), so a reader never sees half a file.

Ownership lives in ``<root>/.tuskops/managed.json`` (id -> relative path, sha256, format, order,
dependencies), also written atomically. Only files listed there are ever updated or deleted; a
file tuskops did not write is never touched. The one exception is adoption: a file that already
holds exactly the bytes tuskops would write (e.g. after a crash between writing a file and the
index) is taken over without being rewritten.

Artifacts (``format = "artifact"``, see :mod:`tuskops.core.artifacts`) are files a builder
produces at apply time, such as a compiled WebAssembly module. Their recipe is kept in the
index; plans compare recipes (and notice a file edited since), and only apply builds. An
artifact is never adopted: its bytes are not known before it is built.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tuskops.core.artifacts import ARTIFACT_FORMAT, build_artifact, check_recipe
from tuskops.core.render import EXTENSIONS, BodyParseError, parse_body, render_body
from tuskops.core.resource import ORDER_DEFAULT, Resource
from tuskops.core.targets.base import Observed, Target
from tuskops.errors import PlanError, TargetError

#: Directory under the root holding tuskops' own files; resources may not be written there.
META_DIR = ".tuskops"
INDEX_NAME = "managed.json"
INDEX_VERSION = 1
_TEMP_SUFFIX = ".tuskops-tmp"


@dataclass(frozen=True)
class ManagedFile:
    """One entry of the ownership index."""

    path: str
    sha256: str
    format: str
    order: int = ORDER_DEFAULT
    depends_on: tuple[str, ...] = ()
    #: An artifact's recipe (the body it was built from); None for rendered files.
    recipe: Any = None

    def to_json(self) -> dict[str, Any]:
        data = {
            "path": self.path,
            "sha256": self.sha256,
            "format": self.format,
            "order": self.order,
            "depends_on": list(self.depends_on),
        }
        if self.recipe is not None:
            data["recipe"] = self.recipe
        return data

    @classmethod
    def from_json(cls, data: Any) -> ManagedFile:
        return cls(
            path=str(data["path"]),
            sha256=str(data["sha256"]),
            format=str(data["format"]),
            order=int(data.get("order", ORDER_DEFAULT)),
            depends_on=tuple(str(d) for d in data.get("depends_on", ())),
            recipe=data.get("recipe"),
        )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _plain_json(body: Any) -> Any:
    """``body`` as it reads back from the JSON index (tuples become lists, and so on)."""
    return json.loads(json.dumps(body))


class DirectoryTarget(Target):
    """Applies resources as files under ``root``."""

    name = "directory"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._index: dict[str, ManagedFile] | None = None
        self._index_dirty = False

    def describe(self) -> str:
        return f"directory {self.root}"

    @property
    def index_path(self) -> Path:
        return self.root / META_DIR / INDEX_NAME

    # --- layout -------------------------------------------------------------------------------

    def relative_path(self, resource: Resource) -> PurePosixPath:
        """Where ``resource`` goes, relative to the root. Raises TargetError if unsafe."""
        if resource.path is not None:
            raw = resource.path
        else:
            ext = EXTENSIONS.get(resource.format, resource.format)
            parts = [resource.operator]
            if resource.namespace:
                parts.append(resource.namespace)
            parts.append(f"{resource.kind.lower()}-{resource.name}.{ext}")
            raw = "/".join(parts)
        return self._safe_relative(raw, resource.id)

    def _safe_relative(self, raw: str, resource_id: str) -> PurePosixPath:
        pure = PurePosixPath(raw)
        if not raw.strip() or pure.is_absolute() or raw.startswith("~") or "\\" in raw:
            raise TargetError(
                f"{resource_id}: path {raw!r} must be relative to the target directory"
            )
        parts = [part for part in pure.parts if part not in ("", ".")]
        if ".." in parts:
            raise TargetError(f"{resource_id}: path {raw!r} escapes the target directory")
        if not parts:
            raise TargetError(f"{resource_id}: path {raw!r} names the target directory itself")
        if parts[0] == META_DIR:
            raise TargetError(f"{resource_id}: path {raw!r} is inside tuskops' own {META_DIR}/")
        relative = PurePosixPath(*parts)
        # A symlinked directory inside the root may still point outside it.
        resolved_root = self.root.resolve()
        resolved = (self.root / relative).resolve()
        if not resolved.is_relative_to(resolved_root):
            raise TargetError(
                f"{resource_id}: path {raw!r} leads outside the target directory "
                f"(through a symbolic link, to {resolved})"
            )
        return relative

    def location_of(self, resource: Resource) -> str | None:
        return str(self.relative_path(resource))

    # --- planning -----------------------------------------------------------------------------

    def validate(self, resources: Sequence[Resource]) -> None:
        problems: list[str] = []
        seen: dict[PurePosixPath, str] = {}
        index = self._load_index()
        for resource in resources:
            try:
                relative = self.relative_path(resource)
                if resource.format == ARTIFACT_FORMAT:
                    check_recipe(resource)
                else:
                    render_body(resource.body, resource.format)
            except TargetError as exc:
                message = str(exc)
                problems.append(
                    message if message.startswith(resource.id) else f"{resource.id}: {message}"
                )
                continue
            if relative in seen:
                problems.append(
                    f"{resource.id} and {seen[relative]} are both written to {relative}"
                )
                continue
            seen[relative] = resource.id
            problems.extend(self._conflicts(resource, relative, index))
        for path, owner in seen.items():
            for parent in path.parents:
                if parent in seen:
                    problems.append(
                        f"{owner} is written to {path}, below {seen[parent]}'s file {parent}"
                    )
        if problems:
            raise PlanError("cannot plan for " + self.describe() + ":\n  " + "\n  ".join(problems))

    def _conflicts(
        self, resource: Resource, relative: PurePosixPath, index: dict[str, ManagedFile]
    ) -> list[str]:
        """Things in the way of writing ``resource`` that tuskops does not own."""
        absolute = self.root / relative
        owners = {entry.path: resource_id for resource_id, entry in index.items()}
        owner = owners.get(str(relative))
        if owner == resource.id:
            return []
        if owner is not None:
            return [
                f"{resource.id}: {relative} is managed by tuskops for {owner}; "
                f"remove or move {owner} in a separate apply first"
            ]
        if absolute.is_dir():
            return [f"{resource.id}: {relative} is a directory"]
        for parent in relative.parents:
            if (self.root / parent).is_file():
                whose = (
                    f"managed for {owners[str(parent)]}" if str(parent) in owners else "not managed"
                )
                return [f"{resource.id}: {parent} is a file ({whose}), not a directory"]
        if absolute.exists() and not self._holds_exactly(absolute, resource):
            return [
                f"{resource.id}: {relative} exists and was not written by tuskops; "
                "move or delete it (tuskops never overwrites files it does not manage)"
            ]
        return []

    def expected_body(self, resource: Resource) -> Any:
        if resource.format == ARTIFACT_FORMAT:
            return _plain_json(resource.body)
        return parse_body(render_body(resource.body, resource.format), resource.format)

    def read(self, resources: Sequence[Resource]) -> dict[str, Observed | None]:
        index = self._load_index()
        observed: dict[str, Observed | None] = {}
        for resource in resources:
            relative = self.relative_path(resource)
            entry = index.get(resource.id)
            if entry is None:
                observed[resource.id] = self._adoptable(resource, relative)
                continue
            current = self._read_entry(resource.id, entry)
            if current is None:
                observed[resource.id] = None  # deleted by hand: plan a create
                continue
            data, body, notes = current
            if resource.format == ARTIFACT_FORMAT:
                same = entry.recipe == _plain_json(resource.body) and _sha256(data) == entry.sha256
            else:
                same = data == render_body(resource.body, resource.format).encode()
            moved = entry.path != str(relative)
            if moved:
                notes = (*notes, f"moves from {entry.path}")
            observed[resource.id] = Observed(
                body=body,
                in_sync=not moved and same,
                location=str(relative),
                notes=notes,
                order=entry.order,
                depends_on=entry.depends_on,
            )
        return observed

    def _adoptable(self, resource: Resource, relative: PurePosixPath) -> Observed | None:
        absolute = self.root / relative
        if not self._holds_exactly(absolute, resource):
            return None
        return Observed(
            body=self.expected_body(resource),
            in_sync=False,  # still needs recording in the index
            location=str(relative),
            notes=("already present with identical content; apply takes ownership",),
        )

    def _holds_exactly(self, absolute: Path, resource: Resource) -> bool:
        if resource.format == ARTIFACT_FORMAT:
            return False  # its bytes are only known once built
        try:
            return (
                absolute.is_file()
                and absolute.read_bytes() == render_body(resource.body, resource.format).encode()
            )
        except OSError:
            return False

    def _read_entry(
        self, resource_id: str, entry: ManagedFile
    ) -> tuple[bytes, Any, tuple[str, ...]] | None:
        """(bytes, parsed body, notes) of a managed file, or None if it is gone."""
        absolute = self.root / entry.path
        try:
            data = absolute.read_bytes()
        except FileNotFoundError:
            return None
        except IsADirectoryError as exc:
            raise TargetError(f"{resource_id}: {entry.path} is now a directory") from exc
        except OSError as exc:
            raise TargetError(f"{resource_id}: cannot read {absolute}: {exc.strerror}") from exc
        notes: list[str] = []
        if _sha256(data) != entry.sha256:
            notes.append("edited outside tuskops since the last apply")
        if entry.format == ARTIFACT_FORMAT:
            return data, entry.recipe, tuple(notes)
        text = data.decode("utf-8", errors="replace")
        try:
            body: Any = parse_body(text, entry.format)
        except BodyParseError as exc:
            body = text  # shown as a whole-file change
            notes.append(f"current file is {exc}; shown as a whole-file change")
        return data, body, tuple(notes)

    def managed_ids(self) -> set[str]:
        return set(self._load_index())

    def read_managed(self, ids: Iterable[str]) -> dict[str, Observed | None]:
        index = self._load_index()
        observed: dict[str, Observed | None] = {}
        for resource_id in ids:
            entry = index.get(resource_id)
            if entry is None:
                observed[resource_id] = None
                continue
            current = self._read_entry(resource_id, entry)
            if current is None:
                body: Any = None
                notes: tuple[str, ...] = ("already deleted by hand; apply forgets it",)
            else:
                _, body, notes = current
            observed[resource_id] = Observed(
                body=body,
                in_sync=False,
                location=entry.path,
                notes=notes,
                order=entry.order,
                depends_on=entry.depends_on,
            )
        return observed

    # --- changes ------------------------------------------------------------------------------

    def create(self, resource: Resource) -> None:
        self._put(resource)

    def update(self, resource: Resource) -> None:
        self._put(resource)

    def _put(self, resource: Resource) -> None:
        index = self._load_index()
        relative = self.relative_path(resource)
        absolute = self.root / relative
        previous = index.get(resource.id)
        owned = previous is not None and previous.path == str(relative)
        if not owned and absolute.exists() and not self._holds_exactly(absolute, resource):
            # Checked at plan time too; the directory may have changed since.
            what = "a directory" if absolute.is_dir() else "a file not written by tuskops"
            raise TargetError(f"{resource.id}: {relative} is {what}; not touching it")
        if resource.format == ARTIFACT_FORMAT:
            data = build_artifact(resource)
        else:
            data = render_body(resource.body, resource.format).encode()
        if not self._holds_exactly(absolute, resource):
            self._write_atomic(absolute, data, resource.id)
        if previous is not None and previous.path != str(relative):
            self._remove_file(previous.path, resource.id)
        index[resource.id] = ManagedFile(
            path=str(relative),
            sha256=_sha256(data),
            format=resource.format,
            order=resource.order,
            depends_on=tuple(resource.depends_on),
            recipe=_plain_json(resource.body) if resource.format == ARTIFACT_FORMAT else None,
        )
        self._index_dirty = True

    def delete(self, resource_id: str) -> None:
        index = self._load_index()
        entry = index.get(resource_id)
        if entry is None:
            raise TargetError(f"{resource_id} is not managed by tuskops in {self.describe()}")
        self._remove_file(entry.path, resource_id)
        del index[resource_id]
        self._index_dirty = True

    def finish(self) -> None:
        if not self._index_dirty or self._index is None:
            return
        document = {
            "version": INDEX_VERSION,
            "resources": {
                resource_id: entry.to_json() for resource_id, entry in sorted(self._index.items())
            },
        }
        data = (json.dumps(document, indent=2) + "\n").encode()
        try:
            unchanged = self.index_path.read_bytes() == data
        except OSError:
            unchanged = False
        if not unchanged:
            self._write_atomic(self.index_path, data, "ownership index")
        self._index_dirty = False

    # --- file system --------------------------------------------------------------------------

    def _load_index(self) -> dict[str, ManagedFile]:
        if self._index is not None:
            return self._index
        try:
            text = self.index_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._index = {}
            return self._index
        except OSError as exc:
            raise TargetError(f"cannot read {self.index_path}: {exc.strerror}") from exc
        # Guessing at a damaged index would risk deleting files tuskops does not own: stop.
        damaged = f"{self.index_path} is damaged; restore it from version control"
        try:
            document = json.loads(text)
            version = document.get("version")
            entries = document["resources"].items()
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TargetError(f"{damaged} ({exc})") from exc
        if version != INDEX_VERSION:
            raise TargetError(
                f"{self.index_path} has version {version!r}; this tuskops reads version "
                f"{INDEX_VERSION}"
            )
        index: dict[str, ManagedFile] = {}
        for resource_id, entry in entries:
            try:
                managed = ManagedFile.from_json(entry)
                # A hand-edited index must not make tuskops write or delete outside the root.
                safe = str(self._safe_relative(managed.path, str(resource_id)))
            except (ValueError, KeyError, TypeError, AttributeError, TargetError) as exc:
                raise TargetError(f"{damaged} ({exc})") from exc
            if safe != managed.path:
                raise TargetError(f"{damaged} ({resource_id}: path {managed.path!r} is not normal)")
            index[str(resource_id)] = managed
        self._index = index
        return self._index

    def _write_atomic(self, absolute: Path, data: bytes, what: str) -> None:
        directory = absolute.parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TargetError(
                f"{what}: cannot create directory {directory}: {exc.strerror}"
            ) from exc
        temp = directory / f".{absolute.name}.{secrets.token_hex(4)}{_TEMP_SUFFIX}"
        try:
            # O_EXCL with mode 0o666: the umask applies, as for any file the user creates.
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                with contextlib.suppress(OSError):
                    os.chmod(fd, absolute.stat().st_mode & 0o7777)  # keep an existing mode
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, absolute)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise TargetError(f"{what}: cannot write {absolute}: {exc.strerror}") from exc
        _fsync_directory(directory)

    def _remove_file(self, relative: str, what: str) -> None:
        absolute = self.root / relative
        try:
            absolute.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise TargetError(f"{what}: cannot delete {absolute}: {exc.strerror}") from exc
        _fsync_directory(absolute.parent)
        # Git does not keep empty directories: leave none behind, but never remove the root.
        parent = absolute.parent
        root = self.root
        while parent != root and parent.is_relative_to(root):
            try:
                parent.rmdir()
            except OSError:  # not empty (or not ours to remove): stop climbing
                break
            parent = parent.parent


def _fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in ``directory`` durable (best effort: not all systems allow it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
