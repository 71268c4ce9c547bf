"""PyPI manifests and lockfiles: requirements files, pyproject.toml, uv.lock, pylock.toml.

Requirements are parsed with :func:`~tuskops.packages.ecosystems.pypi.parse_requirement`
(``packaging``), TOML with the standard library's ``tomllib``. Constraints stay as written:
PEP 440 specifiers for PEP 508 requirements, Poetry's own syntax (``^1.2``, ``~1.2``) for
``[tool.poetry]`` entries, which are marked ``extra["syntax"] = "poetry"``.

Requirements files follow pip's "Requirements File Format": lines ending in ``\\`` are joined,
``#`` comments (at the start, or after whitespace) dropped, the first ``-`` token starts the
options. ``-r``/``--requirement`` files are read recursively relative to the including file
(a file included twice is read once; a cycle is an error, as in pip), ``-c``/``--constraint``
lines go to ``Manifest.extra["constraints"]``. ``${VAR}`` is kept as written. Every
dependency records ``extra["file"]`` and ``extra["line"]``.

``pylock.toml`` is also written (:func:`write_pylock`, with ``tomli_w`` as pip does): keys in
the order PEP 751 lists them, so a file pip wrote comes back byte for byte; a file with inline
tables (the PEP's example) comes back as the same data in tomli_w's layout. The model must carry
what the PEP requires (see :func:`read_pylock` for the ``extra`` keys); what is missing is a
ManifestError, never an invalid file.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from tuskops.errors import ManifestError, VersionSyntaxError
from tuskops.packages.ecosystems.pypi import ECOSYSTEM, parse_marker, parse_requirement
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest

__all__ = ["read_pylock", "read_pyproject", "read_requirements", "read_uv_lock", "write_pylock"]


# --- shared helpers ---------------------------------------------------------------------------


def _read_text(path: Path, where: str | None = None, location: str | None = None) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(where or str(path), f"no such file: {path}", location) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(where or str(path), f"cannot read {path}: {exc}", location) from None


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


def _load_toml(path: Path) -> dict[str, Any]:
    text = _read_text(path)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        if match is not None:
            location = f"{match.group(1)}:{match.group(2)}"
            raise ManifestError(str(path), message[: match.start()], location) from None
        match = _TOML_END.search(message)
        if match is not None:
            lines = text.split("\n")
            location = f"{len(lines)}:{len(lines[-1]) + 1}"
            raise ManifestError(str(path), message[: match.start()], location) from None
        raise ManifestError(str(path), message) from None


class _Fields:
    """Typed access to a TOML document, naming the field path in errors."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, where: str, message: str) -> ManifestError:
        return ManifestError(self.file, message, where)

    def table(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a table, got {_kind(value)}")
        return value

    def opt_table(self, parent: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
        value = parent.get(key)
        return {} if value is None else self.table(value, _join(where, key))

    def array(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, f"expected an array, got {_kind(value)}")
        return value

    def opt_array(self, parent: Mapping[str, Any], key: str, where: str) -> list[Any]:
        value = parent.get(key)
        return [] if value is None else self.array(value, _join(where, key))

    def string(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"expected a string, got {_kind(value)}")
        return value

    def opt_string(self, parent: Mapping[str, Any], key: str, where: str) -> str | None:
        value = parent.get(key)
        return None if value is None else self.string(value, _join(where, key))

    def req_string(self, parent: Mapping[str, Any], key: str, where: str) -> str:
        if key not in parent:
            raise self.fail(_join(where, key), f"missing required field {key!r}")
        return self.string(parent[key], _join(where, key))

    def opt_bool(self, parent: Mapping[str, Any], key: str, where: str) -> bool:
        value = parent.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(_join(where, key), f"expected a boolean, got {_kind(value)}")
        return value

    def strings(self, parent: Mapping[str, Any], key: str, where: str) -> list[str]:
        items = self.opt_array(parent, key, where)
        return [self.string(v, f"{_join(where, key)}[{i}]") for i, v in enumerate(items)]


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    names = {dict: "a table", list: "an array", str: "a string", bool: "a boolean"}
    names.update({int: "an integer", float: "a float"})
    return names.get(type(value), type(value).__name__)


_NAME_AND_EXTRAS = re.compile(r"\s*[A-Za-z0-9._-]+\s*(?:\[[^\]]*\])?\s*")


def _constraint_as_written(text: str, parsed: SpecifierSet) -> str:
    """The specifier part of a PEP 508 requirement as written (``packaging`` sorts it)."""
    head = text.split(";", 1)[0]
    match = _NAME_AND_EXTRAS.match(head)
    rest = head[match.end() :].strip() if match else ""
    if rest.startswith("(") and rest.endswith(")"):
        rest = rest[1:-1].strip()
    try:
        if SpecifierSet(rest) == parsed:
            return rest
    except InvalidSpecifier:
        pass
    return str(parsed)


def _pep508(text: str, file: str, location: str, kind: str, extra: Mapping[str, Any]) -> Dependency:
    """A Dependency from a PEP 508 string; a ManifestError at ``location`` if invalid."""
    try:
        req = parse_requirement(text)
    except VersionSyntaxError as exc:
        raise ManifestError(file, f"invalid requirement {text!r}: {exc.reason}", location) from None
    constraint = "" if req.url else _constraint_as_written(text, SpecifierSet(req.constraint.text))
    return Dependency(
        name=req.name,
        constraint=constraint,
        kind=kind,
        optional=kind == "optional",
        markers=str(req.marker) if req.marker is not None else None,
        extras=tuple(sorted(req.extras)),
        source=req.url,
        extra=dict(extra),
    )


def _error_offset(exc: VersionSyntaxError) -> int:
    """Where ``packaging`` puts its caret: the end of its error span (the start of the span
    is context, rendered as ``~``)."""
    cause: BaseException | None = exc
    while cause is not None:
        span = getattr(cause, "span", None)
        if isinstance(span, tuple) and len(span) == 2 and isinstance(span[1], int):
            return span[1]
        cause = cause.__cause__
    return exc.start


# --- requirements files -----------------------------------------------------------------------

_COMMENT = re.compile(r"(^|\s+)#.*$")
_SCHEMES = ("http://", "https://", "file:", "ftp://")
_VCS = ("git+", "hg+", "svn+", "bzr+")

#: Options that take a value, by every spelling pip accepts, to the name recorded.
_VALUE_OPTIONS = {
    "-r": "requirement",
    "--requirement": "requirement",
    "-c": "constraint",
    "--constraint": "constraint",
    "-e": "editable",
    "--editable": "editable",
    "-i": "index-url",
    "--index-url": "index-url",
    "--extra-index-url": "extra-index-url",
    "-f": "find-links",
    "--find-links": "find-links",
    "--trusted-host": "trusted-host",
    "--no-binary": "no-binary",
    "--only-binary": "only-binary",
    "--use-feature": "use-feature",
    # per-requirement options
    "--hash": "hash",
    "--config-settings": "config-settings",
    "--global-option": "global-option",
}
_FLAG_OPTIONS = {
    "--no-index": "no-index",
    "--pre": "pre",
    "--prefer-binary": "prefer-binary",
    "--require-hashes": "require-hashes",
}
_PER_REQUIREMENT = {"hash", "config-settings", "global-option"}


@dataclass
class _Logical:
    """One logical line: its text and, per physical piece, (offset, line number, column)."""

    text: str
    pieces: list[tuple[int, int, int]]

    def position(self, offset: int) -> str:
        line, col = self.pieces[0][1], 1
        for start, lineno, col0 in self.pieces:
            if offset >= start:
                line, col = lineno, col0 + offset - start
        return f"{line}:{col}"


def _logical_lines(text: str) -> list[_Logical]:
    """pip's ``join_lines`` + ``ignore_comments``, keeping where every character came from."""
    result: list[_Logical] = []
    buffer = ""
    pieces: list[tuple[int, int, int]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        is_comment = _COMMENT.match(line) is not None
        if not line.endswith("\\") or is_comment:
            piece, col0 = (" " + line, 0) if is_comment else (line, 1)
            pieces.append((len(buffer), lineno, col0))
            buffer += piece
            result.append(_Logical(buffer, pieces))
            buffer, pieces = "", []
        else:
            pieces.append((len(buffer), lineno, 1))
            buffer += line[:-1]
    if pieces:
        result.append(_Logical(buffer, pieces))
    for logical in result:
        stripped = _COMMENT.sub("", logical.text)
        lead = len(stripped) - len(stripped.lstrip())
        # keep offsets valid: blank out the leading whitespace instead of removing it
        logical.text = " " * lead + stripped.strip()
    return result


def _split_args_options(line: str) -> tuple[str, str, int]:
    """pip's ``break_args_options``: tokens up to the first ``-`` one are the requirement.
    Returns the requirement, the options, and the options' offset in ``line``."""
    tokens = line.split(" ")
    args: list[str] = []
    offset = 0
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(args), " ".join(tokens[i:]), offset
        args.append(token)
        offset += len(token) + 1
    return " ".join(args), "", len(line)


def _parse_options(text: str, fail: Any) -> list[tuple[str, str | None]]:
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise fail(f"cannot split options: {exc}") from None
    options: list[tuple[str, str | None]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        name, value = token, None
        if token.startswith("--") and "=" in token:
            name, value = token.split("=", 1)
        elif not token.startswith("--") and len(token) > 2 and token[:2] in _VALUE_OPTIONS:
            name, value = token[:2], token[2:]
        if name in _FLAG_OPTIONS:
            if value is not None:
                raise fail(f"option {name} takes no value")
            options.append((_FLAG_OPTIONS[name], None))
        elif name in _VALUE_OPTIONS:
            if value is None:
                if i >= len(tokens):
                    raise fail(f"option {name} requires a value")
                value = tokens[i]
                i += 1
            options.append((_VALUE_OPTIONS[name], value))
        else:
            raise fail(f"no such option: {name}")
    return options


def _is_url(text: str) -> bool:
    lower = text.lower()
    return lower.startswith(_SCHEMES) or lower.startswith(_VCS)


def _looks_like_path(text: str) -> bool:
    return (
        text.startswith((".", "/", "~"))
        or "/" in text
        or "\\" in text
        or text.endswith((".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2"))
    )


def _name_from_location(location: str) -> str | None:
    """The project name of a direct reference: ``#egg=``, or the wheel or sdist file name."""
    fragment = location.split("#", 1)[1] if "#" in location else ""
    for part in fragment.split("&"):
        if part.startswith("egg="):
            return part[4:].split("[", 1)[0] or None
    filename = location.split("#", 1)[0].split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[0])
        return str(parse_sdist_filename(filename)[0])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


@dataclass
class _RequirementsReader:
    root: Path
    dependencies: list[Dependency] = field(default_factory=list)
    constraints: list[Dependency] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    seen: set[tuple[Path, bool]] = field(default_factory=set)
    #: The files being read, outermost first: including one of them again is a cycle.
    stack: list[Path] = field(default_factory=list)

    def read(self, path: Path, constraint: bool, where: str | None, at: str | None) -> None:
        key = (path.resolve(), constraint)
        if key in self.seen:  # the same file included twice (not a cycle): read once
            return
        self.seen.add(key)
        text = _read_text(path, where, at)
        file = str(path)
        self.files.append(file)
        self.stack.append(key[0])
        try:
            for logical in _logical_lines(text):
                if logical.text.strip():
                    self.line(file, path, logical, constraint)
        finally:
            self.stack.pop()

    def line(self, file: str, path: Path, logical: _Logical, constraint: bool) -> None:
        line = logical.text
        lead = len(line) - len(line.lstrip())
        args, options_text, options_at = _split_args_options(line[lead:])
        args = args.rstrip()

        def fail(message: str, offset: int = lead + options_at) -> ManifestError:
            return ManifestError(file, message, logical.position(offset))

        options = _parse_options(options_text, fail)
        if args:
            wrong = [name for name, _ in options if name not in _PER_REQUIREMENT]
            if wrong:
                raise fail(f"option --{wrong[0]} cannot follow a requirement on the same line")
            self.requirement(file, path, logical, lead, args, options, constraint, False)
            return
        for name, value in options:
            text = value or ""
            if name in ("requirement", "constraint"):
                self.include(path, logical, lead, text, name == "constraint")
            elif name == "editable":
                self.requirement(file, path, logical, lead, text, [], constraint, True)
            elif name in _PER_REQUIREMENT:
                raise fail(f"option --{name} must follow a requirement")
            elif name == "index-url":
                self.settings["index-url"] = text
            elif value is None:
                self.settings[name] = True
            else:
                self.settings.setdefault(name, []).append(text)

    def include(self, path: Path, logical: _Logical, lead: int, target: str, cons: bool) -> None:
        at = logical.position(lead)
        if _is_url(target) or "${" in target:
            self.settings.setdefault("unresolved-includes", []).append(
                {"file": str(path), "line": logical.pieces[0][1], "target": target}
            )
            return
        included = path.parent / target
        if included.resolve() in self.stack:  # pip refuses cycles with this message
            message = f"{included} recursively references itself in {path}"
            raise ManifestError(str(path), message, at)
        self.read(included, cons, str(path), at)

    def requirement(
        self,
        file: str,
        path: Path,
        logical: _Logical,
        lead: int,
        text: str,
        options: list[tuple[str, str | None]],
        constraint: bool,
        editable: bool,
    ) -> None:
        line = logical.pieces[0][1]
        extra: dict[str, Any] = {"file": file, "line": line}
        hashes = [v for n, v in options if n == "hash" and v]
        if hashes:
            extra["hashes"] = tuple(hashes)
        others = {n: v for n, v in options if n != "hash"}
        if others:
            extra["options"] = others
        if editable:
            extra["editable"] = True
        offset = logical.text.find(text, lead) if text else lead
        dep = self.direct(file, logical, offset, text, extra, editable)
        if dep is None:
            try:
                req = parse_requirement(text)
            except VersionSyntaxError as exc:
                where = logical.position(offset + _error_offset(exc))
                raise ManifestError(
                    file, f"invalid requirement {text!r}: {exc.reason}", where
                ) from None
            dep = Dependency(
                name=req.name,
                constraint=""
                if req.url
                else _constraint_as_written(text, SpecifierSet(req.constraint.text)),
                markers=str(req.marker) if req.marker is not None else None,
                extras=tuple(sorted(req.extras)),
                source=req.url,
                extra=extra,
            )
        (self.constraints if constraint else self.dependencies).append(dep)

    def direct(
        self,
        file: str,
        logical: _Logical,
        offset: int,
        text: str,
        extra: dict[str, Any],
        editable: bool,
    ) -> Dependency | None:
        """An unnamed URL or path requirement (pip's ``parse_req_from_line``), else None."""
        is_url = _is_url(text)
        if not is_url and "@" in text:
            return None  # PEP 508 "name @ url"
        if not (is_url or editable or _looks_like_path(text)):
            return None
        location, markers = text, None
        separator = "; " if is_url else ";"
        if separator in text:
            location, marker_text = text.split(separator, 1)
            location, markers = location.strip(), marker_text.strip()
            try:
                markers = str(parse_marker(markers))
            except VersionSyntaxError as exc:
                start = offset + text.index(separator) + len(separator)
                start += len(marker_text) - len(marker_text.lstrip())
                raise ManifestError(
                    file,
                    f"invalid marker {markers!r}: {exc.reason}",
                    logical.position(start + _error_offset(exc)),
                ) from None
        extras: tuple[str, ...] = ()
        if not is_url and location.endswith("]") and "[" in location:
            location, _, bracket = location.partition("[")
            extras = tuple(sorted(e.strip() for e in bracket[:-1].split(",") if e.strip()))
        if "#egg=" in location or "&egg=" in location:
            egg = location.split("egg=", 1)[1].split("&", 1)[0]
            if "[" in egg and egg.endswith("]"):
                extras = tuple(sorted(e.strip() for e in egg[egg.index("[") + 1 : -1].split(",")))
        name = _name_from_location(location)
        if name is None:
            extra["unnamed"] = True
        return Dependency(
            name=name or location,
            constraint="",
            markers=markers,
            extras=extras,
            source=location,
            extra=extra,
        )


def read_requirements(path: Path) -> Manifest:
    """A pip requirements file (and the files it includes with ``-r`` and ``-c``)."""
    reader = _RequirementsReader(path)
    reader.read(path, False, None, None)
    extra: dict[str, Any] = {"files": tuple(reader.files)}
    if reader.constraints:
        extra["constraints"] = tuple(reader.constraints)
    for key, value in reader.settings.items():
        extra[key] = tuple(value) if isinstance(value, list) else value
    return Manifest(ECOSYSTEM, str(path), None, None, tuple(reader.dependencies), extra)


# --- pyproject.toml ---------------------------------------------------------------------------


def read_pyproject(path: Path) -> Manifest:
    """PEP 621 ``[project]``, PEP 735 ``[dependency-groups]``, PEP 518 ``[build-system]``
    and Poetry's ``[tool.poetry]``."""
    data = _load_toml(path)
    f = _Fields(str(path))
    deps: list[Dependency] = []
    extra: dict[str, Any] = {}
    project = f.opt_table(data, "project", "")
    name = f.opt_string(project, "name", "project")
    version = f.opt_string(project, "version", "project")
    for i, text in enumerate(f.strings(project, "dependencies", "project")):
        deps.append(_pep508(text, f.file, f"project.dependencies[{i}]", "normal", {}))
    optional = f.opt_table(project, "optional-dependencies", "project")
    for group, items in optional.items():
        where = f"project.optional-dependencies.{group}"
        for i, text in enumerate(f.array(items, where)):
            text = f.string(text, f"{where}[{i}]")
            deps.append(_pep508(text, f.file, f"{where}[{i}]", "optional", {"extra": group}))
    if optional:
        extra["extras"] = tuple(optional)
    requires_python = f.opt_string(project, "requires-python", "project")
    if requires_python is not None:
        extra["requires-python"] = requires_python
    dynamic = f.strings(project, "dynamic", "project")
    if dynamic:
        extra["dynamic"] = tuple(dynamic)

    groups = f.opt_table(data, "dependency-groups", "")
    if groups:
        extra["dependency-groups"] = tuple(groups)
        for group in groups:
            deps.extend(_group(f, groups, group, group, ()))

    build = f.opt_table(data, "build-system", "")
    for i, text in enumerate(f.strings(build, "requires", "build-system")):
        deps.append(_pep508(text, f.file, f"build-system.requires[{i}]", "build", {}))
    backend = f.opt_string(build, "build-backend", "build-system")
    if backend is not None:
        extra["build-backend"] = backend

    tool = f.opt_table(data, "tool", "")
    poetry = f.opt_table(tool, "poetry", "tool")
    if poetry:
        name = name or f.opt_string(poetry, "name", "tool.poetry")
        version = version or f.opt_string(poetry, "version", "tool.poetry")
        deps.extend(_poetry(f, poetry, extra))
    return Manifest(ECOSYSTEM, str(path), name, version, tuple(deps), extra)


def _group(
    f: _Fields, groups: Mapping[str, Any], group: str, kind: str, chain: tuple[str, ...]
) -> list[Dependency]:
    """The requirements of a PEP 735 group, ``include-group`` expanded (cycles are errors)."""
    where = f"dependency-groups.{group}"
    if group in chain:
        cycle = " -> ".join((*chain, group))
        raise f.fail(where, f"dependency group include cycle: {cycle}")
    if group not in groups:
        raise f.fail(f"dependency-groups.{chain[-1]}", f"included group {group!r} does not exist")
    result: list[Dependency] = []
    for i, item in enumerate(f.array(groups[group], where)):
        at = f"{where}[{i}]"
        if isinstance(item, str):
            extra = {"group": group} if group == kind else {"group": kind, "included-from": group}
            result.append(_pep508(item, f.file, at, kind, extra))
        elif isinstance(item, dict) and set(item) == {"include-group"}:
            included = f.string(item["include-group"], f"{at}.include-group")
            result.extend(_group(f, groups, included, kind, (*chain, group)))
        else:
            raise f.fail(at, "expected a requirement string or {include-group = ...}")
    return result


_POETRY_SOURCE_KEYS = ("git", "path", "url")


def _poetry(f: _Fields, poetry: Mapping[str, Any], extra: dict[str, Any]) -> list[Dependency]:
    deps: list[Dependency] = []
    main = f.opt_table(poetry, "dependencies", "tool.poetry")
    deps.extend(_poetry_table(f, main, "tool.poetry.dependencies", "normal", extra))
    legacy = f.opt_table(poetry, "dev-dependencies", "tool.poetry")
    deps.extend(_poetry_table(f, legacy, "tool.poetry.dev-dependencies", "dev", None))
    groups = f.opt_table(poetry, "group", "tool.poetry")
    for group, table in groups.items():
        where = f"tool.poetry.group.{group}"
        body = f.table(table, where)
        group_deps = f.opt_table(body, "dependencies", where)
        group_extra = {"group-optional": True} if f.opt_bool(body, "optional", where) else {}
        for dep in _poetry_table(f, group_deps, f"{where}.dependencies", group, None):
            deps.append(replace(dep, extra={**dep.extra, **group_extra}) if group_extra else dep)
    if groups:
        extra["poetry-groups"] = tuple(groups)
    poetry_extras = f.opt_table(poetry, "extras", "tool.poetry")
    if poetry_extras:
        extra["poetry-extras"] = {
            k: tuple(f.strings(poetry_extras, k, "tool.poetry.extras")) for k in poetry_extras
        }
    sources = f.opt_array(poetry, "source", "tool.poetry")
    if sources:
        extra["poetry-sources"] = tuple(
            f.table(s, f"tool.poetry.source[{i}]") for i, s in enumerate(sources)
        )
    return deps


def _poetry_table(
    f: _Fields, table: Mapping[str, Any], where: str, kind: str, extra: dict[str, Any] | None
) -> list[Dependency]:
    deps: list[Dependency] = []
    for name, spec in table.items():
        at = f"{where}.{name}"
        if name.lower() == "python" and extra is not None:
            extra["python"] = f.string(spec, at)
            continue
        if isinstance(spec, list):
            if not spec:
                raise f.fail(at, "expected a constraint, got an empty array")
            for i, item in enumerate(spec):
                dep = _poetry_dependency(f, name, item, f"{at}[{i}]", kind)
                deps.append(replace(dep, extra={**dep.extra, "multiple": i}))
        else:
            deps.append(_poetry_dependency(f, name, spec, at, kind))
    return deps


def _poetry_dependency(f: _Fields, name: str, spec: Any, at: str, kind: str) -> Dependency:
    extra: dict[str, Any] = {"syntax": "poetry"}
    if isinstance(spec, str):
        return Dependency(name, spec, kind=kind, extra=extra)
    body = f.table(spec, at)
    constraint = f.opt_string(body, "version", at) or ""
    source: str | None = None
    for key in _POETRY_SOURCE_KEYS:
        value = f.opt_string(body, key, at)
        if value is not None:
            source = f"git+{value}" if key == "git" and not value.startswith("git+") else value
            extra["source-type"] = key
    registry = f.opt_string(body, "source", at)
    if registry is not None:
        if source is None:
            source = registry
        extra["source-name"] = registry
    for key in ("branch", "tag", "rev", "subdirectory", "python", "platform"):
        value = f.opt_string(body, key, at)
        if value is not None:
            extra[key] = value
    for key in ("develop", "allow-prereleases"):
        if key in body:
            extra[key] = f.opt_bool(body, key, at)
    return Dependency(
        name=name,
        constraint=constraint,
        kind=kind,
        optional=f.opt_bool(body, "optional", at),
        markers=f.opt_string(body, "markers", at),
        extras=tuple(f.strings(body, "extras", at)),
        source=source,
        extra=extra,
    )


# --- uv.lock ----------------------------------------------------------------------------------


def _uv_source(f: _Fields, source: Mapping[str, Any], where: str) -> tuple[str | None, str]:
    for kind in ("registry", "git", "url", "path", "directory", "editable", "virtual"):
        if kind in source:
            value = f.string(source[kind], f"{where}.{kind}")
            return (f"git+{value}" if kind == "git" else value), kind
    return None, ""


def _uv_dep(f: _Fields, item: Any, where: str) -> tuple[str, dict[str, Any]]:
    body = f.table(item, where)
    name = f.req_string(body, "name", where)
    version = f.opt_string(body, "version", where)
    info: dict[str, Any] = {"name": name}
    if version is not None:
        info["version"] = version
    extras = f.strings(body, "extra", where)
    if extras:
        info["extras"] = tuple(extras)
    marker = f.opt_string(body, "marker", where)
    if marker is not None:
        info["marker"] = marker
    return (f"{name} {version}" if version else name), info


def read_uv_lock(path: Path) -> Lockfile:
    """uv's ``uv.lock``: every ``[[package]]`` with its source, hashes and dependencies."""
    data = _load_toml(path)
    f = _Fields(str(path))
    if "version" not in data:
        raise f.fail("version", "missing required field 'version'")
    version = data["version"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise f.fail("version", f"expected an integer, got {_kind(version)}")
    packages: list[LockedPackage] = []
    for i, item in enumerate(f.opt_array(data, "package", "")):
        where = f"package[{i}]"
        body = f.table(item, where)
        name = f.req_string(body, "name", where)
        pkg_version = f.opt_string(body, "version", where) or ""
        source, source_kind = _uv_source(f, f.opt_table(body, "source", where), f"{where}.source")
        extra: dict[str, Any] = {"source-type": source_kind} if source_kind else {}
        hashes: list[str] = []
        sdist = f.opt_table(body, "sdist", where)
        if sdist:
            digest = f.opt_string(sdist, "hash", f"{where}.sdist")
            if digest:
                hashes.append(digest)
            url = f.opt_string(sdist, "url", f"{where}.sdist") or f.opt_string(
                sdist, "path", f"{where}.sdist"
            )
            if url:
                extra["sdist"] = url
        wheels: list[str] = []
        for j, wheel in enumerate(f.opt_array(body, "wheels", where)):
            wheel_at = f"{where}.wheels[{j}]"
            wheel_body = f.table(wheel, wheel_at)
            digest = f.opt_string(wheel_body, "hash", wheel_at)
            if digest:
                hashes.append(digest)
            url = (
                f.opt_string(wheel_body, "url", wheel_at)
                or f.opt_string(wheel_body, "path", wheel_at)
                or f.opt_string(wheel_body, "filename", wheel_at)
            )
            if url:
                wheels.append(url)
        if wheels:
            extra["wheels"] = tuple(wheels)
        deps: list[str] = []
        details: list[dict[str, Any]] = []
        for j, dep in enumerate(f.opt_array(body, "dependencies", where)):
            text, info = _uv_dep(f, dep, f"{where}.dependencies[{j}]")
            deps.append(text)
            details.append(info)
        if details:
            extra["dependencies"] = tuple(details)
        for section in ("optional-dependencies", "dev-dependencies"):
            table = f.opt_table(body, section, where)
            if table:
                extra[section] = {
                    group: tuple(
                        _uv_dep(f, dep, f"{where}.{section}.{group}[{k}]")[1]
                        for k, dep in enumerate(f.array(items, f"{where}.{section}.{group}"))
                    )
                    for group, items in table.items()
                }
        markers = f.strings(body, "resolution-markers", where)
        if markers:
            extra["resolution-markers"] = tuple(markers)
        packages.append(
            LockedPackage(name, pkg_version, source, tuple(hashes), tuple(deps), extra=extra)
        )
    extra_lock: dict[str, Any] = {}
    revision = data.get("revision")
    if revision is not None:
        extra_lock["revision"] = revision
    requires_python = f.opt_string(data, "requires-python", "")
    if requires_python is not None:
        extra_lock["requires-python"] = requires_python
    markers = f.strings(data, "resolution-markers", "")
    if markers:
        extra_lock["resolution-markers"] = tuple(markers)
    members = f.strings(f.opt_table(data, "manifest", ""), "members", "manifest")
    if members:
        extra_lock["members"] = tuple(members)
    return Lockfile(ECOSYSTEM, str(path), f"uv.lock v{version}", tuple(packages), extra_lock)


# --- pylock.toml (PEP 751) --------------------------------------------------------------------

_PYLOCK_MAJOR = 1
#: File tables' keys in the order PEP 751 lists them (tools are to write them consistently).
_FILE_KEYS = ("name", "upload-time", "url", "path", "size", "hashes", "subdirectory")


def _pylock_hashes(f: _Fields, body: Mapping[str, Any], where: str) -> list[str]:
    table = f.opt_table(body, "hashes", where)
    return [f"{algo}:{f.string(v, f'{where}.hashes.{algo}')}" for algo, v in table.items()]


def _pylock_file(f: _Fields, body: Mapping[str, Any], where: str) -> dict[str, Any]:
    """A file table (archive, sdist, wheel) as kept in ``extra``: ``upload-time`` as ISO 8601
    text, so that the model stays JSON."""
    out: dict[str, Any] = {}
    for key in _FILE_KEYS:
        if key not in body:
            continue
        value = body[key]
        if key == "upload-time":
            if not isinstance(value, datetime):
                raise f.fail(f"{where}.{key}", f"expected a datetime, got {_kind(value)}")
            value = value.isoformat()
        elif key == "size":
            if not isinstance(value, int) or isinstance(value, bool):
                raise f.fail(f"{where}.{key}", f"expected an integer, got {_kind(value)}")
        elif key == "hashes":
            value = dict(f.table(value, f"{where}.{key}"))
        else:
            value = f.string(value, f"{where}.{key}")
        out[key] = value
    return out


def read_pylock(path: Path) -> Lockfile:
    """A PEP 751 ``pylock.toml``; an unknown major ``lock-version`` is refused.

    Besides the model's fields, a package keeps in ``extra`` what :func:`write_pylock` needs:
    ``index``, the ``dependencies`` tables, ``sdist-file``, ``wheel-files`` and
    ``archive-file`` (the file tables, ``upload-time`` as text), ``subdirectory``, ``editable``,
    ``attestation-identities`` and ``tool``; the lock keeps its ``tool`` table.
    """
    data = _load_toml(path)
    f = _Fields(str(path))
    lock_version = f.req_string(data, "lock-version", "")
    major = lock_version.split(".", 1)[0]
    if not major.isdigit():
        raise f.fail("lock-version", f"not a valid lock version: {lock_version!r}")
    if int(major) != _PYLOCK_MAJOR:
        raise f.fail(
            "lock-version",
            f"unsupported lock-version {lock_version!r} (this reader knows {_PYLOCK_MAJOR}.x)",
        )
    packages: list[LockedPackage] = []
    for i, item in enumerate(f.opt_array(data, "packages", "")):
        where = f"packages[{i}]"
        body = f.table(item, where)
        name = f.req_string(body, "name", where)
        version = f.opt_string(body, "version", where) or ""
        extra: dict[str, Any] = {}
        for key in ("marker", "requires-python"):
            value = f.opt_string(body, key, where)
            if value is not None:
                extra[key] = value
        index = f.opt_string(body, "index", where)
        if index is not None:
            extra["index"] = index
        source: str | None = index
        hashes: list[str] = []
        vcs = f.opt_table(body, "vcs", where)
        if vcs:
            at = f"{where}.vcs"
            vcs_type = f.req_string(vcs, "type", at)
            location = f.opt_string(vcs, "url", at) or f.opt_string(vcs, "path", at) or ""
            source = f"{vcs_type}+{location}"
            extra["source-type"] = "vcs"
            extra["commit-id"] = f.req_string(vcs, "commit-id", at)
            for key in ("requested-revision", "subdirectory"):
                value = f.opt_string(vcs, key, at)
                if value is not None:
                    extra[key] = value
        directory = f.opt_table(body, "directory", where)
        if directory:
            at = f"{where}.directory"
            source = f.req_string(directory, "path", at)
            extra["source-type"] = "directory"
            if f.opt_bool(directory, "editable", at):
                extra["editable"] = True
            subdirectory = f.opt_string(directory, "subdirectory", at)
            if subdirectory is not None:
                extra["subdirectory"] = subdirectory
        archive = f.opt_table(body, "archive", where)
        if archive:
            at = f"{where}.archive"
            source = f.opt_string(archive, "url", at) or f.opt_string(archive, "path", at)
            extra["source-type"] = "archive"
            hashes.extend(_pylock_hashes(f, archive, at))
            extra["archive-file"] = _pylock_file(f, archive, at)
            if "subdirectory" in extra["archive-file"]:
                extra["subdirectory"] = extra["archive-file"]["subdirectory"]
        sdist = f.opt_table(body, "sdist", where)
        if sdist:
            at = f"{where}.sdist"
            hashes.extend(_pylock_hashes(f, sdist, at))
            sdist_at = f.opt_string(sdist, "url", at) or f.opt_string(sdist, "path", at)
            if sdist_at:
                extra["sdist"] = sdist_at
            extra["sdist-file"] = _pylock_file(f, sdist, at)
        wheels: list[str] = []
        wheel_files: list[dict[str, Any]] = []
        for j, wheel in enumerate(f.opt_array(body, "wheels", where)):
            at = f"{where}.wheels[{j}]"
            wheel_body = f.table(wheel, at)
            hashes.extend(_pylock_hashes(f, wheel_body, at))
            wheel_at = (
                f.opt_string(wheel_body, "url", at)
                or f.opt_string(wheel_body, "path", at)
                or f.opt_string(wheel_body, "name", at)
            )
            if wheel_at:
                wheels.append(wheel_at)
            wheel_files.append(_pylock_file(f, wheel_body, at))
        if wheels:
            extra["wheels"] = tuple(wheels)
        if wheel_files:
            extra["wheel-files"] = tuple(wheel_files)
        deps: list[str] = []
        tables: list[dict[str, Any]] = []
        for j, dep in enumerate(f.opt_array(body, "dependencies", where)):
            at = f"{where}.dependencies[{j}]"
            dep_body = f.table(dep, at)
            dep_name = f.req_string(dep_body, "name", at)
            dep_version = f.opt_string(dep_body, "version", at)
            deps.append(f"{dep_name} {dep_version}" if dep_version else dep_name)
            tables.append(dict(dep_body))
        if tables:
            extra["dependencies"] = tuple(tables)
        for key in ("attestation-identities", "tool"):
            if key in body:
                extra[key] = body[key]
        packages.append(
            LockedPackage(name, version, source, tuple(hashes), tuple(deps), extra=extra)
        )
    extra_lock: dict[str, Any] = {"lock-version": lock_version}
    requires_python = f.opt_string(data, "requires-python", "")
    if requires_python is not None:
        extra_lock["requires-python"] = requires_python
    for key in ("environments", "extras", "dependency-groups", "default-groups"):
        values = f.strings(data, key, "")
        if values:
            extra_lock[key] = tuple(values)
    created_by = f.opt_string(data, "created-by", "")
    if created_by is not None:
        extra_lock["created-by"] = created_by
    tool = f.opt_table(data, "tool", "")
    if tool:
        extra_lock["tool"] = tool
    return Lockfile(
        ECOSYSTEM, str(path), f"pylock.toml {lock_version}", tuple(packages), extra_lock
    )


# --- writing pylock.toml ----------------------------------------------------------------------

_CREATED_BY = "tuskops"
_PYLOCK_FORMAT = re.compile(r"pylock\.toml (\S+)\Z")


class _PylockWriter:
    """Builds the document of one lock, naming the package and field in every error."""

    def __init__(self, lock: Lockfile) -> None:
        self.file = lock.path
        self.lock = lock

    def fail(self, where: str, message: str) -> ManifestError:
        return ManifestError(self.file, message, where)

    def hashes(self, hashes: Any, label: str, where: str) -> dict[str, str]:
        """``{"sha256": hex}`` from a table or from "algo:hex" texts; one at least (PEP 751
        requires hashes on archives, sdists and wheels)."""
        table: dict[str, str] = {}
        if isinstance(hashes, Mapping):
            items = list(hashes.items())
        else:
            items = []
            for text in hashes:
                algo, sep, digest = str(text).partition(":")
                if not sep:
                    raise self.fail(where, f"{label}: hash {text!r} is not 'algorithm:digest'")
                items.append((algo, digest))
        for algo, digest in items:
            if not algo or not isinstance(digest, str) or not re.fullmatch(r"[0-9a-fA-F]+", digest):
                raise self.fail(where, f"{label}: invalid {algo or 'unnamed'} hash {digest!r}")
            table[algo] = digest
        if not table:
            raise self.fail(where, f"{label} has no hashes (PEP 751 requires them)")
        return table

    def file_table(
        self, label: str, where: str, given: Mapping[str, Any], location: str | None, hashes: Any
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged = dict(given)
        if location is not None:
            merged.pop("url", None)
            merged.pop("path", None)
            merged["url" if "://" in location else "path"] = location
        if "url" not in merged and "path" not in merged:
            raise self.fail(where, f"{label} has neither a url nor a path")
        merged["hashes"] = self.hashes(
            hashes if hashes is not None else given.get("hashes", ()), label, f"{where}.hashes"
        )
        for key in _FILE_KEYS:
            if key not in merged or merged[key] is None:
                continue
            value = merged[key]
            if key == "upload-time":
                value = self.upload_time(value, label, f"{where}.upload-time")
            out[key] = value
        return out

    def upload_time(self, value: Any, label: str, where: str) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            raise self.fail(where, f"{label}: upload-time {value!r} is not a datetime") from None

    def dependencies(self, package: LockedPackage) -> list[dict[str, Any]]:
        tables = package.extra.get("dependencies")
        if tables:
            as_text = tuple(
                f"{t['name']} {t['version']}" if t.get("version") else t["name"] for t in tables
            )
            if as_text == package.dependencies:
                return [dict(t) for t in tables]
        out: list[dict[str, Any]] = []
        for text in package.dependencies:
            name, _, version = text.partition(" ")
            table: dict[str, Any] = {"name": canonicalize_name(name)}
            if version:
                table["version"] = version
            out.append(table)
        return out

    def package(self, i: int, package: LockedPackage) -> dict[str, Any]:
        where = f"packages[{i}]"
        if not package.name:
            raise self.fail(f"{where}.name", "a package has no name")
        label = f"package {package.name!r}"
        extra = package.extra
        body: dict[str, Any] = {"name": canonicalize_name(package.name)}
        if package.version:
            body["version"] = package.version
        for key in ("marker", "requires-python"):
            if extra.get(key):
                body[key] = extra[key]
        deps = self.dependencies(package)
        if deps:
            body["dependencies"] = deps
        kind = extra.get("source-type")
        index = extra.get("index")
        if index is None and kind is None and package.source and "://" in package.source:
            index = package.source  # the reader's (and a resolver's) source of an index package
        if index:
            body["index"] = index
        sdist_file = extra.get("sdist-file")
        wheel_files = extra.get("wheel-files")
        if kind in ("vcs", "directory", "archive") and (
            sdist_file or wheel_files or extra.get("sdist") or extra.get("wheels")
        ):
            raise self.fail(where, f"{label}: a {kind} source excludes sdist and wheels (PEP 751)")
        if kind == "vcs":
            body["vcs"] = self.vcs(package, label, f"{where}.vcs")
        elif kind == "directory":
            if not package.source:
                raise self.fail(f"{where}.directory.path", f"{label}: directory has no path")
            directory: dict[str, Any] = {"path": package.source}
            if extra.get("editable"):
                directory["editable"] = True
            if extra.get("subdirectory"):
                directory["subdirectory"] = extra["subdirectory"]
            body["directory"] = directory
        elif kind == "archive":
            given = dict(extra.get("archive-file") or {})
            if extra.get("subdirectory"):
                given["subdirectory"] = extra["subdirectory"]
            body["archive"] = self.file_table(
                f"{label} archive", f"{where}.archive", given, package.source, package.hashes
            )
        elif kind is not None:
            raise self.fail(where, f"{label}: unknown source-type {kind!r}")
        else:
            self.distributions(package, label, where, body)
        return body

    def vcs(self, package: LockedPackage, label: str, where: str) -> dict[str, Any]:
        vcs_type, sep, location = (package.source or "").partition("+")
        if not sep or not vcs_type or not location:
            raise self.fail(
                where,
                f"{label}: vcs source must be 'type+url' or 'type+path', not {package.source!r}",
            )
        commit = package.extra.get("commit-id")
        if not commit:
            raise self.fail(f"{where}.commit-id", f"{label}: vcs needs a commit-id (PEP 751)")
        table: dict[str, Any] = {"type": vcs_type}
        table["url" if "://" in location else "path"] = location
        if package.extra.get("requested-revision"):
            table["requested-revision"] = package.extra["requested-revision"]
        table["commit-id"] = commit
        if package.extra.get("subdirectory"):
            table["subdirectory"] = package.extra["subdirectory"]
        return table

    def distributions(
        self, package: LockedPackage, label: str, where: str, body: dict[str, Any]
    ) -> None:
        """``sdist`` and ``wheels`` from the file tables; from the bare locations in ``sdist``
        and ``wheels`` when there are none, the hashes then only when there is one file."""
        extra = package.extra
        sdist_file = extra.get("sdist-file")
        wheel_files = extra.get("wheel-files")
        if sdist_file is None and wheel_files is None:
            bare_wheels = tuple(extra.get("wheels", ()))
            sdist_at = extra.get("sdist")
            count = len(bare_wheels) + (1 if sdist_at else 0)
            if count == 0:
                raise self.fail(
                    where,
                    f"{label} has no vcs, directory, archive, sdist or wheels: PEP 751 needs "
                    "one of them",
                )
            hashes = package.hashes if count == 1 else None
            if sdist_at:
                body["sdist"] = self.file_table(
                    f"{label} sdist", f"{where}.sdist", {}, sdist_at, hashes or {}
                )
            if bare_wheels:
                body["wheels"] = [
                    self.file_table(
                        f"{label} wheel {w!r}", f"{where}.wheels[{j}]", {}, w, hashes or {}
                    )
                    for j, w in enumerate(bare_wheels)
                ]
            return
        if sdist_file is not None:
            table = self.file_table(f"{label} sdist", f"{where}.sdist", sdist_file, None, None)
            self.require_file_name(table, label, "sdist", f"{where}.sdist", ".tar.gz")
            body["sdist"] = table
        if wheel_files:
            tables = []
            for j, wheel in enumerate(wheel_files):
                at = f"{where}.wheels[{j}]"
                table = self.file_table(f"{label} wheel {j}", at, wheel, None, None)
                self.require_file_name(table, label, f"wheel {j}", at, ".whl")
                tables.append(table)
            body["wheels"] = tables
        if "sdist" not in body and "wheels" not in body:
            raise self.fail(
                where,
                f"{label} has no vcs, directory, archive, sdist or wheels: PEP 751 needs one",
            )

    def require_file_name(
        self, table: dict[str, Any], label: str, what: str, where: str, suffix: str
    ) -> None:
        """PEP 751: ``name`` is required unless the url or path ends in the file name."""
        if "name" in table:
            return
        location = str(table.get("url") or table.get("path") or "")
        base = location.rstrip("/").rsplit("/", 1)[-1]
        if not base.endswith((suffix, ".zip")) and not (suffix == ".tar.gz" and ".tar" in base):
            raise self.fail(
                f"{where}.name", f"{label} {what}: no name, and the location does not end in one"
            )

    def document(self) -> dict[str, Any]:
        extra = self.lock.extra
        version = extra.get("lock-version")
        if version is None:
            match = _PYLOCK_FORMAT.match(self.lock.format)
            version = match.group(1) if match else "1.0"
        if str(version).split(".", 1)[0] != str(_PYLOCK_MAJOR):
            raise self.fail("lock-version", f"cannot write lock-version {version!r} (only 1.x)")
        doc: dict[str, Any] = {"lock-version": str(version)}
        for key in (
            "environments",
            "requires-python",
            "extras",
            "dependency-groups",
            "default-groups",
        ):
            value = extra.get(key)
            if value:
                doc[key] = list(value) if isinstance(value, list | tuple) else value
        doc["created-by"] = extra.get("created-by") or _CREATED_BY
        doc["packages"] = [self.package(i, p) for i, p in enumerate(self.lock.packages)]
        if extra.get("tool"):
            doc["tool"] = extra["tool"]
        return doc


def write_pylock(lock: Lockfile) -> str:
    """``lock`` as a PEP 751 ``pylock.toml``, written with ``tomli_w`` in the key order the PEP
    lists; a file pip wrote (with ``tomli_w`` too) comes back byte for byte, other layouts
    (inline tables) come back as the same TOML data. ``created-by`` defaults to "tuskops".
    What PEP 751 requires and the model lacks (a source for a package, hashes on an archive,
    sdist or wheel, a vcs commit-id, a file name) is a ManifestError naming package and field.
    """
    return tomli_w.dumps(_PylockWriter(lock).document())
