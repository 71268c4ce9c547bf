"""Cargo's files: ``Cargo.toml`` into a :class:`Manifest`, ``Cargo.lock`` into a :class:`Lockfile`.

``Cargo.toml`` follows the Cargo book ("The Manifest Format", "Specifying Dependencies",
"Workspaces", "Overriding Dependencies"):

* ``[package]`` ``name`` and ``version``; ``version = { workspace = true }`` inherits
  ``[workspace.package] version`` (filled in when this file declares it, recorded in
  ``extra["version_from_workspace"]`` either way).
* ``[dependencies]``, ``[dev-dependencies]`` (kind ``"dev"``), ``[build-dependencies]``
  (kind ``"build"``), and the same under ``[target.'cfg(..)'.*]`` or ``[target.<triple>.*]``
  (``markers`` is the cfg expression or triple as written). A dependency is a requirement
  string or a table with ``version``, ``features``, ``default-features``, ``optional``,
  ``package``, ``registry``, ``registry-index``, ``git`` + ``branch``/``tag``/``rev``, ``path``,
  or ``workspace = true``.
* A renamed dependency (``foo = { package = "bar" }``) is named by the real crate (``bar``);
  the key is kept in ``extra["rename"]``.
* ``source`` uses Cargo's source-id prefixes: ``git+URL``, ``path+PATH``, ``registry+NAME``
  (a named registry) or ``registry+URL`` (``registry-index``); ``None`` for crates.io.
  The raw keys (``git``, ``branch``, ``tag``, ``rev``, ``path``, ``registry``) are in ``extra``.
* ``workspace = true`` dependencies get their requirement from ``[workspace.dependencies]``
  when this file is the workspace root (``extra["from_workspace"] = True`` either way);
  features are added to the workspace's, as Cargo does.
* ``[features]``, ``[workspace]`` (members, exclude, default-members, resolver, package,
  dependencies), ``[patch.<source>]`` and ``[replace]`` go into ``Manifest.extra``.

Checks that Cargo itself makes and that would make it refuse the manifest raise
:class:`ManifestError` at the field path (version requirements are parsed with
:data:`tuskops.packages.ecosystems.cargo.SCHEME`). TOML syntax errors carry ``line:col``.

``Cargo.lock`` versions 1 to 4: ``version = 3``/``4``; without the key, version 2 (checksums
inline) or version 1 (checksums in ``[metadata]`` as ``"checksum NAME VERSION (SOURCE)"``
keys). Each ``[[package]]`` gives name, version, source, checksum (as ``sha256:HEX``) and
dependencies as written (``"name"``, ``"name version"`` or ``"name version (source)"``).

:func:`write_cargo_lock` writes a :class:`Lockfile` back as Cargo does (cargo's
``resolve_to_string``): the ``@generated`` header, ``version = N`` (3 or 4; none for 2), then
every ``[[package]]`` sorted by package id (name, version, source) with ``name``, ``version``,
``source``, ``checksum`` and ``dependencies`` one entry per line, each table followed by a blank
line except the last. The text is formatted by hand because that layout (one-space indented
arrays with a trailing comma, fixed key order, no blank line at the end) is Cargo's own, not what
a general TOML writer emits. Dependency entries are re-encoded as Cargo encodes them: ``name``
when one package has that name, ``name version`` when that is unique, else ``name version
(source)``; they are sorted like the packages. Version 1 files (checksums in ``[metadata]``) are
not written. ``[[patch.unused]]`` and ``[metadata]`` (rare in current lockfiles) are written back
from ``Lockfile.extra``; ``[metadata]`` in tomli_w's layout, which may differ from Cargo's.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

from tuskops.errors import ManifestError, VersionSyntaxError
from tuskops.packages.ecosystems.cargo import SCHEME
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest

__all__ = ["read_cargo_lock", "read_cargo_toml", "write_cargo_lock"]

ECOSYSTEM = "cargo"

_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)$")


def _load_toml(path: Path) -> dict[str, Any]:
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestError(file, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ManifestError(file, "not valid UTF-8", f"{line}:{column}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_AT.search(message)
        if match:
            location = f"{match.group(1)}:{match.group(2)}"
            message = message[: match.start()]
        else:
            end = _TOML_AT_END.search(message)
            lines = text.split("\n")
            location = f"{len(lines)}:{len(lines[-1]) + 1}"
            if end:
                message = message[: end.start()]
        raise ManifestError(file, f"invalid TOML: {message}", location) from None


class _Reader:
    """Shared state of one ``Cargo.toml`` read: the file name for errors."""

    def __init__(self, path: Path) -> None:
        self.file = str(path)

    def fail(self, message: str, location: str) -> ManifestError:
        return ManifestError(self.file, message, location)

    def table(self, value: Any, location: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"expected a table, found {_toml_type(value)}", location)
        return value

    def string(self, value: Any, location: str) -> str:
        if not isinstance(value, str):
            raise self.fail(f"expected a string, found {_toml_type(value)}", location)
        return value

    def boolean(self, value: Any, location: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(f"expected a boolean, found {_toml_type(value)}", location)
        return value

    def strings(self, value: Any, location: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(f"expected an array of strings, found {_toml_type(value)}", location)
        for i, item in enumerate(value):
            self.string(item, f"{location}[{i}]")
        return tuple(value)

    def requirement(self, text: str, location: str) -> str:
        try:
            SCHEME.parse_constraint(text)
        except VersionSyntaxError as exc:
            raise self.fail(
                f"invalid version requirement {text!r}: {exc.reason}", location
            ) from None
        return text

    # --- dependencies -------------------------------------------------------------------------

    def dependency(
        self,
        key: str,
        value: Any,
        location: str,
        *,
        kind: str = "normal",
        markers: str | None = None,
        workspace_deps: dict[str, Dependency] | None = None,
    ) -> Dependency:
        if isinstance(value, str):
            return Dependency(key, self.requirement(value, location), kind=kind, markers=markers)
        if not isinstance(value, dict):
            raise self.fail(
                f'invalid type: {_toml_type(value)}, expected a version string like "0.9.8" '
                'or a detailed dependency like { version = "0.9.8" }',
                location,
            )
        extra: dict[str, Any] = {}
        features = self.strings(value.get("features", []), f"{location}.features")
        optional = self.boolean(value.get("optional", False), f"{location}.optional")
        if optional and kind == "dev":
            raise self.fail(f"dev-dependencies are not allowed to be optional: `{key}`", location)
        for spelling in ("default-features", "default_features"):
            if spelling in value:
                extra["default_features"] = self.boolean(value[spelling], f"{location}.{spelling}")
        if "workspace" in value:
            return self._inherited(
                key, value, location, kind, markers, features, optional, extra, workspace_deps
            )
        constraint = ""
        if "version" in value:
            constraint = self.requirement(
                self.string(value["version"], f"{location}.version"), f"{location}.version"
            )
        name = key
        if "package" in value:
            name = self.string(value["package"], f"{location}.package")
            extra["rename"] = key
        source: str | None = None
        git = value.get("git")
        path = value.get("path")
        if git is not None:
            git = self.string(git, f"{location}.git")
            if path is not None:
                raise self.fail(
                    f"dependency ({key}) specification is ambiguous. "
                    "Only one of `git` or `path` is allowed.",
                    location,
                )
            if "registry" in value or "registry-index" in value:
                raise self.fail(
                    f"dependency ({key}) specification is ambiguous. "
                    "Only one of `git` or `registry` is allowed.",
                    location,
                )
            refs = [r for r in ("branch", "tag", "rev") if r in value]
            if len(refs) > 1:
                raise self.fail(
                    f"dependency ({key}) specification is ambiguous. Only one of `branch`, "
                    "`tag` or `rev` is allowed.",
                    location,
                )
            extra["git"] = git
            for ref in refs:
                extra[ref] = self.string(value[ref], f"{location}.{ref}")
            source = f"git+{git}"
        elif path is not None:
            extra["path"] = self.string(path, f"{location}.path")
            source = f"path+{path}"
        if "registry" in value and "registry-index" in value:
            raise self.fail(
                f"dependency ({key}) specification is ambiguous. "
                "Only one of `registry` or `registry-index` is allowed.",
                location,
            )
        if "registry" in value:
            extra["registry"] = self.string(value["registry"], f"{location}.registry")
            source = source or f"registry+{value['registry']}"
        if "registry-index" in value:
            index = self.string(value["registry-index"], f"{location}.registry-index")
            extra["registry_index"] = index
            source = source or f"registry+{index}"
        if not constraint and git is None and path is None:
            raise self.fail(
                f"dependency ({key}) specified without providing a local path, Git repository, "
                "version, or workspace dependency to use",
                location,
            )
        return Dependency(
            name,
            constraint,
            kind=kind,
            optional=optional,
            markers=markers,
            source=source,
            features=features,
            extra=extra,
        )

    def _inherited(
        self,
        key: str,
        value: dict[str, Any],
        location: str,
        kind: str,
        markers: str | None,
        features: tuple[str, ...],
        optional: bool,
        extra: dict[str, Any],
        workspace_deps: dict[str, Dependency] | None,
    ) -> Dependency:
        if not self.boolean(value["workspace"], f"{location}.workspace"):
            raise self.fail("`workspace` cannot be false", f"{location}.workspace")
        # Cargo only warns about other keys ("unused manifest key") and ignores them.
        ignored = [k for k in value if k not in _INHERITED_KEYS]
        if ignored:
            extra["ignored_keys"] = tuple(ignored)
        extra["from_workspace"] = True
        if workspace_deps is None:
            # Inherited from a workspace root elsewhere: the requirement is not known here.
            return Dependency(
                key,
                "",
                kind=kind,
                optional=optional,
                markers=markers,
                features=features,
                extra=extra,
            )
        base = workspace_deps.get(key)
        if base is None:
            raise self.fail(
                f"`dependency.{key}` was not found in `workspace.dependencies`", location
            )
        merged_features = base.features + tuple(f for f in features if f not in base.features)
        return Dependency(
            base.name,
            base.constraint,
            kind=kind,
            optional=optional,
            markers=markers,
            source=base.source,
            features=merged_features,
            extra={**base.extra, **extra},
        )

    def dependency_table(
        self,
        value: Any,
        location: str,
        *,
        kind: str = "normal",
        markers: str | None = None,
        workspace_deps: dict[str, Dependency] | None = None,
    ) -> list[Dependency]:
        table = self.table(value, location)
        return [
            self.dependency(
                key,
                spec,
                f"{location}.{_key(key)}",
                kind=kind,
                markers=markers,
                workspace_deps=workspace_deps,
            )
            for key, spec in table.items()
        ]


_INHERITED_KEYS = frozenset(
    {"workspace", "features", "optional", "default-features", "default_features", "public"}
)

_KINDS = (
    ("dependencies", "normal"),
    ("dev-dependencies", "dev"),
    ("dev_dependencies", "dev"),
    ("build-dependencies", "build"),
    ("build_dependencies", "build"),
)


def read_cargo_toml(path: Path) -> Manifest:
    """Read a ``Cargo.toml`` (a package, a workspace root, or both)."""
    data = _load_toml(path)
    r = _Reader(path)
    extra: dict[str, Any] = {}

    workspace_deps: dict[str, Dependency] | None = None
    workspace_package: dict[str, Any] = {}
    if "workspace" in data:
        workspace = r.table(data["workspace"], "workspace")
        info: dict[str, Any] = {}
        for field in ("members", "exclude", "default-members"):
            if field in workspace:
                info[field.replace("-", "_")] = r.strings(workspace[field], f"workspace.{field}")
        if "resolver" in workspace:
            info["resolver"] = r.string(workspace["resolver"], "workspace.resolver")
        if "package" in workspace:
            workspace_package = r.table(workspace["package"], "workspace.package")
            info["package"] = workspace_package
        workspace_deps = {}
        if "dependencies" in workspace:
            table = r.table(workspace["dependencies"], "workspace.dependencies")
            for key, spec in table.items():
                where = f"workspace.dependencies.{_key(key)}"
                if isinstance(spec, dict) and "workspace" in spec:
                    raise r.fail("a workspace dependency cannot inherit from the workspace", where)
                if isinstance(spec, dict) and "optional" in spec:
                    raise r.fail(
                        f"{key} is optional, but workspace dependencies cannot be optional", where
                    )
                workspace_deps[key] = r.dependency(key, spec, where)
        info["dependencies"] = tuple(workspace_deps.values())
        extra["workspace"] = info

    name: str | None = None
    version: str | None = None
    if "package" in data or "project" in data:
        section = "package" if "package" in data else "project"
        package = r.table(data[section], section)
        if "name" not in package:
            raise r.fail("missing field `name`", section)
        name = r.string(package["name"], f"{section}.name")
        if "version" in package:
            raw = package["version"]
            if isinstance(raw, dict):
                inherited = r.table(raw, f"{section}.version")
                if inherited.get("workspace") is not True:
                    raise r.fail(
                        "expected a version string or { workspace = true }", f"{section}.version"
                    )
                extra["version_from_workspace"] = True
                if "version" in workspace_package:
                    version = r.string(workspace_package["version"], "workspace.package.version")
            else:
                version = r.string(raw, f"{section}.version")
                try:
                    SCHEME.parse_version(version)
                except VersionSyntaxError as exc:
                    raise r.fail(
                        f"invalid version {version!r}: {exc.reason}", f"{section}.version"
                    ) from None
        for field in ("edition", "rust-version", "links", "publish"):
            if field in package:
                extra[field.replace("-", "_")] = package[field]

    dependencies: list[Dependency] = []
    for section, kind in _KINDS:
        if section in data:
            dependencies += r.dependency_table(
                data[section], section, kind=kind, workspace_deps=workspace_deps
            )
    if "target" in data:
        targets = r.table(data["target"], "target")
        for platform, body in targets.items():
            where = f"target.{_key(platform)}"
            body = r.table(body, where)
            for section, kind in _KINDS:
                if section in body:
                    dependencies += r.dependency_table(
                        body[section],
                        f"{where}.{section}",
                        kind=kind,
                        markers=platform,
                        workspace_deps=workspace_deps,
                    )

    if "features" in data:
        features = r.table(data["features"], "features")
        extra["features"] = {
            feature: r.strings(enables, f"features.{_key(feature)}")
            for feature, enables in features.items()
        }
    if "patch" in data:
        patches = r.table(data["patch"], "patch")
        extra["patch"] = {
            source: tuple(r.dependency_table(table, f"patch.{_key(source)}"))
            for source, table in patches.items()
        }
    if "replace" in data:
        replace = r.table(data["replace"], "replace")
        extra["replace"] = {
            spec: r.dependency(spec.split(":")[0], value, f"replace.{_key(spec)}")
            for spec, value in replace.items()
        }

    return Manifest(
        ecosystem=ECOSYSTEM,
        path=str(path),
        name=name,
        version=version,
        dependencies=tuple(dependencies),
        extra=extra,
    )


# --- Cargo.lock ---------------------------------------------------------------------------------

_SOURCE_KINDS = ("registry", "sparse", "git", "path", "directory", "local-registry")
_LOCK_DEPENDENCY = re.compile(r"^(\S+)(?: (\S+))?(?: \((\S+)\))?$")
_V1_CHECKSUM = re.compile(r"^checksum (\S+) (\S+) \((\S+)\)$")


def read_cargo_lock(path: Path) -> Lockfile:
    """Read a ``Cargo.lock`` of any format version (1 to 4)."""
    data = _load_toml(path)
    file = str(path)

    def fail(message: str, location: str) -> ManifestError:
        return ManifestError(file, message, location)

    metadata = data.get("metadata", {})
    if not isinstance(metadata, dict):
        raise fail("expected a table", "metadata")
    if "version" in data:
        lock_version = data["version"]
        if isinstance(lock_version, bool) or not isinstance(lock_version, int):
            raise fail(f"expected an integer, found {_toml_type(lock_version)}", "version")
        if lock_version not in (1, 2, 3, 4):
            raise fail(
                f"lock file version `{lock_version}` was found, but this version of Cargo does "
                "not understand this lock file, perhaps Cargo needs to be updated?",
                "version",
            )
    else:
        lock_version = 1 if any(str(k).startswith("checksum ") for k in metadata) else 2

    v1_checksums: dict[tuple[str, str, str], str] = {}
    for key, value in metadata.items():
        match = _V1_CHECKSUM.match(key)
        if match and isinstance(value, str) and value != "<none>":
            v1_checksums[(match.group(1), match.group(2), match.group(3))] = value

    raw_packages = data.get("package", [])
    if not isinstance(raw_packages, list):
        raise fail("expected an array of tables", "package")
    packages: list[LockedPackage] = []
    for i, raw in enumerate(raw_packages):
        where = f"package[{i}]"
        if not isinstance(raw, dict):
            raise fail("expected a table", where)
        for field in ("name", "version"):
            if field not in raw:
                raise fail(f"missing field `{field}`", where)
            if not isinstance(raw[field], str):
                raise fail(f"expected a string, found {_toml_type(raw[field])}", f"{where}.{field}")
        name, version = raw["name"], raw["version"]
        try:
            SCHEME.parse_version(version)
        except VersionSyntaxError as exc:
            raise fail(f"invalid version {version!r}: {exc.reason}", f"{where}.version") from None
        extra: dict[str, Any] = {}
        source = raw.get("source")
        if source is not None:
            if not isinstance(source, str):
                raise fail(f"expected a string, found {_toml_type(source)}", f"{where}.source")
            kind, plus, rest = source.partition("+")
            if not plus or kind not in _SOURCE_KINDS:
                raise fail(f"unsupported source protocol: {source}", f"{where}.source")
            extra["source_kind"] = kind
            if kind == "git":
                url, _, rev = rest.partition("#")
                _, _, query = url.partition("?")
                if rev:
                    extra["rev"] = rev
                for pair in filter(None, query.split("&")):
                    ref, _, ref_value = pair.partition("=")
                    extra[ref] = ref_value
        hashes: tuple[str, ...] = ()
        checksum = raw.get("checksum")
        if checksum is None and source is not None:
            checksum = v1_checksums.get((name, version, source))
        if checksum is not None:
            if not isinstance(checksum, str) or not re.fullmatch(r"[0-9a-f]{64}", checksum):
                raise fail("checksum is not a SHA-256 hex digest", f"{where}.checksum")
            hashes = (f"sha256:{checksum}",)
        deps = raw.get("dependencies", [])
        if not isinstance(deps, list):
            raise fail("expected an array of strings", f"{where}.dependencies")
        for j, dep in enumerate(deps):
            if not isinstance(dep, str) or not _LOCK_DEPENDENCY.match(dep):
                raise fail(
                    f'invalid dependency entry {dep!r}: expected "name", "name version" or '
                    '"name version (source)"',
                    f"{where}.dependencies[{j}]",
                )
        if "replace" in raw:
            extra["replace"] = raw["replace"]
        packages.append(
            LockedPackage(
                name=name,
                version=version,
                source=source,
                hashes=hashes,
                dependencies=tuple(deps),
                extra=extra,
            )
        )

    lock_extra: dict[str, Any] = {}
    if "root" in data:  # the format before 1.0 kept the root package apart
        lock_extra["root"] = data["root"]
    if "patch" in data:
        lock_extra["patch"] = data["patch"]
    other_metadata = {k: v for k, v in metadata.items() if not str(k).startswith("checksum ")}
    if other_metadata:
        lock_extra["metadata"] = other_metadata
    return Lockfile(
        ecosystem=ECOSYSTEM,
        path=file,
        format=f"Cargo.lock v{lock_version}",
        packages=tuple(packages),
        extra=lock_extra,
    )


# --- writing Cargo.lock -------------------------------------------------------------------------

_HEADER = (
    "# This file is automatically @generated by Cargo.\n# It is not intended for manual editing.\n"
)
_LOCK_FORMAT = re.compile(r"Cargo\.lock v(\d+)\Z")
#: Cargo's order of source kinds (``SourceKind``'s ``Ord``): path first, git last.
_SOURCE_ORDER = {"path": 0, "registry": 1, "sparse": 2, "local-registry": 3, "directory": 4}
#: Cargo's order of git references (``GitReference``): tag, branch, rev, default branch.
_GIT_REF_ORDER = {"tag": 0, "branch": 1, "rev": 2}


def _toml_string(text: str) -> str:
    """A TOML string as Cargo's ``toml`` crate prints it: a basic string, or a literal one
    when that avoids escapes."""
    needs_escape = any(c in text for c in '"\\') or any(ord(c) < 0x20 or c == "\x7f" for c in text)
    if needs_escape and "'" not in text and all(ord(c) >= 0x20 and c != "\x7f" for c in text):
        return f"'{text}'"
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 0x20 or c == "\x7f":
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _source_key(source: str | None) -> tuple[int, int, str, str]:
    """Sort key of a source id as Cargo orders them (``SourceKind``, then URL): path, registry,
    sparse, local registry, directory, git (by reference: tag, branch, rev, default branch)."""
    if source is None:
        return (0, 0, "", "")
    kind, _, rest = source.partition("+")
    if kind != "git":
        return (_SOURCE_ORDER.get(kind, 5), 0, "", rest)
    base, _, query = rest.partition("#")[0].partition("?")
    ref, _, value = query.partition("&")[0].partition("=")
    return (6, _GIT_REF_ORDER.get(ref, 3), value, base)


def _version_key(file: str, version: str, where: str) -> tuple[Any, str]:
    try:
        parsed = SCHEME.parse_version(version)
    except VersionSyntaxError as exc:
        raise ManifestError(file, f"invalid version {version!r}: {exc.reason}", where) from None
    return (parsed, version)  # the text breaks ties between builds (``1.0.0+a``, ``1.0.0+b``)


def _checksum(file: str, package: LockedPackage, where: str) -> str | None:
    sums = [h.removeprefix("sha256:") for h in package.hashes if h.startswith("sha256:")]
    others = [h for h in package.hashes if not h.startswith("sha256:")]
    if others:
        raise ManifestError(
            file,
            f"{package.name} {package.version}: Cargo.lock only records sha256 "
            f"checksums, not {others[0]!r}",
            f"{where}.checksum",
        )
    if len(set(sums)) > 1:
        raise ManifestError(
            file, f"{package.name} {package.version}: more than one checksum", f"{where}.checksum"
        )
    if sums and not re.fullmatch(r"[0-9a-f]{64}", sums[0]):
        raise ManifestError(
            file,
            f"{package.name} {package.version}: checksum is not a SHA-256 hex digest",
            f"{where}.checksum",
        )
    return sums[0] if sums else None


def write_cargo_lock(lock: Lockfile) -> str:
    """``lock`` as the text of a ``Cargo.lock`` (version 2, 3 or 4; 4 unless ``lock.format``
    says otherwise), byte for byte as Cargo writes it."""
    file = lock.path
    match = _LOCK_FORMAT.match(lock.format)
    version = int(match.group(1)) if match else 4
    if version not in (2, 3, 4):
        raise ManifestError(
            file, f"writing Cargo.lock version {version} is not supported (only 2 to 4)", "version"
        )

    keyed: list[tuple[tuple[Any, ...], int, LockedPackage]] = []
    for i, package in enumerate(lock.packages):
        where = f"package[{i}]"
        if not package.name:
            raise ManifestError(file, "a package has no name", f"{where}.name")
        if not package.version:
            raise ManifestError(file, f"{package.name} has no version", f"{where}.version")
        key = (
            package.name,
            _version_key(file, package.version, f"{where}.version"),
            _source_key(package.source),
        )
        keyed.append((key, i, package))
    keyed.sort(key=lambda item: item[:2])
    ordered = [package for _, _, package in keyed]

    # Cargo leaves out of a dependency entry what is not needed to tell packages apart, and
    # orders entries as its EncodablePackageId: name, version *text* (absent first), source.
    by_name: dict[str, list[LockedPackage]] = {}
    for package in ordered:
        by_name.setdefault(package.name, []).append(package)

    def encode(entry: str, where: str) -> tuple[tuple[Any, ...], str]:
        parsed = _LOCK_DEPENDENCY.match(entry)
        if parsed is None:
            raise ManifestError(
                file,
                f'invalid dependency entry {entry!r}: expected "name", "name version" or '
                '"name version (source)"',
                where,
            )
        name, want_version, want_source = parsed.groups()
        candidates = [
            p
            for p in by_name.get(name, [])
            if (want_version is None or p.version == want_version)
            and (want_source is None or _without_precise(p.source) == _without_precise(want_source))
        ]
        if not candidates:
            raise ManifestError(file, f"dependency {entry!r} is not a locked package", where)
        if len(candidates) > 1:
            raise ManifestError(
                file, f"dependency {entry!r} matches {len(candidates)} locked packages", where
            )
        target = candidates[0]
        same_name = by_name[name]
        same_version = [p for p in same_name if p.version == target.version]
        if len(same_version) > 1:
            source = _without_precise(target.source)
            if source is None:
                raise ManifestError(
                    file,
                    f"{name} {target.version} is locked from more than one source, but one "
                    "of them has none",
                    where,
                )
            text = f"{name} {target.version} ({source})"
            key = (name, True, target.version, _source_key(source))
        elif len(same_name) > 1:
            text = f"{name} {target.version}"
            key = (name, True, target.version, _source_key(None))
        else:
            text, key = name, (name, False, "", _source_key(None))
        return key, text

    out = [_HEADER]
    if version >= 3:
        out.append(f"version = {version}\n\n")
    for _, i, package in keyed:
        where = f"package[{i}]"
        out.append("[[package]]\n")
        deps = sorted(
            encode(entry, f"{where}.dependencies[{j}]")
            for j, entry in enumerate(package.dependencies)
        )
        out.append(_emit_package(file, package, [text for _, text in deps], where))
    patch = lock.extra.get("patch")
    if isinstance(patch, Mapping):
        for entry in patch.get("unused", ()):
            out.append("[[patch.unused]]\n")
            out.append(_emit_raw(entry))
            out.append("\n")
    metadata = lock.extra.get("metadata")
    if isinstance(metadata, Mapping) and metadata:
        out.append(tomli_w.dumps({"metadata": dict(metadata)}))
    text = "".join(out)
    while text.endswith("\n\n"):  # Cargo trims blank lines at the end (format 2 and later)
        text = text[:-1]
    return text


def _without_precise(source: str | None) -> str | None:
    """A source as a dependency entry names it: a git source without its ``#commit``."""
    if source is None or not source.startswith("git+"):
        return source
    return source.partition("#")[0]


def _emit_package(file: str, package: LockedPackage, deps: list[str], where: str) -> str:
    lines = [f"name = {_toml_string(package.name)}", f"version = {_toml_string(package.version)}"]
    if package.source is not None:
        lines.append(f"source = {_toml_string(package.source)}")
    checksum = _checksum(file, package, where)
    if checksum is not None:
        lines.append(f"checksum = {_toml_string(checksum)}")
    if deps:
        lines.append("dependencies = [")
        lines += [f" {_toml_string(dep)}," for dep in deps]
        lines.append("]")
    replace = package.extra.get("replace")
    if isinstance(replace, str) and not deps:
        lines.append(f"replace = {_toml_string(replace)}")
    return "\n".join(lines) + "\n\n"


def _emit_raw(entry: Mapping[str, Any]) -> str:
    """A ``[[patch.unused]]`` table, in the order Cargo writes a package's fields."""
    lines = []
    for key in ("name", "version", "source", "checksum"):
        if isinstance(entry.get(key), str):
            lines.append(f"{key} = {_toml_string(entry[key])}")
    return "\n".join(lines) + "\n"


# --- helpers ------------------------------------------------------------------------------------


def _key(key: str) -> str:
    """A TOML key as written in a dotted path: bare when it can be, else single-quoted."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else f"'{key}'"


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"float `{value}`"
    if isinstance(value, str):
        return f'string "{value}"'
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__
