"""npm's ``package.json`` and ``package-lock.json`` read into the normalised model.

``package.json`` (npm docs, "package.json"): ``dependencies``, ``devDependencies`` (kind
"dev"), ``optionalDependencies`` (kind "optional"; an entry there overrides the same name in
``dependencies``, as npm documents), ``peerDependencies`` (kind "peer", optional when
``peerDependenciesMeta.<name>.optional`` is true). Every dependency keeps its spec as written in
``constraint``; ``extra["spec_type"]`` says what kind of spec it is, as npm-package-arg
classifies it:

* ``range`` (``^1.2.0``, ``1.x``, ``""``): validated with :data:`npm.SCHEME`;
* ``tag`` (``latest``, ``next``): a text that is not a range but is a valid dist-tag;
* ``alias`` (``npm:pkg@^1``): ``source`` is ``npm:pkg``, ``extra["alias_of"]`` the target
  name, ``extra["alias_spec"]`` its range or tag (validated like any other);
* ``git`` (``git+ssh://...``, ``github:user/repo``, ``user/repo#ref``), ``url``
  (``https://.../x.tgz``), ``file`` / ``directory`` (``file:../x``, ``./x``, ``~/x``),
  ``workspace`` (``workspace:*``, pnpm and Yarn): ``source`` is the spec.

``bundleDependencies`` (or ``bundledDependencies``) marks dependencies ``extra["bundled"]``;
``overrides``, ``workspaces``, ``engines``, ``packageManager`` and the bundle list go into
the manifest's ``extra``.

``package-lock.json`` (npm docs, "package-lock.json"): lockfileVersion 2 and 3, read from
the ``packages`` map (version 1 has no such map: rejected). The root entry ``""`` is the project
itself and goes into ``extra["root"]``; every other entry is a :class:`LockedPackage` whose
``extra["path"]`` is its key (so nested copies ``node_modules/a/node_modules/b`` stay apart).
The name is the entry's ``name`` when npm records one (an ``npm:`` alias: the folder name is
then in ``extra["installed_as"]``), else the part after the last ``node_modules/``, else (a
workspace folder such as ``packages/a``) the folder's name (``@scope/a`` under a scope folder).
Besides the model's fields, an entry keeps in ``extra`` every other field npm writes (``link``,
``devOptional``, ``peer``, ``extraneous``, ``license``, ``engines``, ``os``, ``cpu``, ``libc``,
``funding``, ``bin``, ``deprecated``, ``inBundle``, ``hasInstallScript``, ``hasShrinkwrap``,
``bundleDependencies``, ``acceptDependencies``, ``workspaces``, the dependency maps), and
``extra["recorded_name"]`` when the entry names itself.

:func:`write_package_lock` writes lockfileVersion 3 as npm 7+ does (``@npmcli/arborist``'s
``Shrinkwrap``, stringified by ``json-stringify-nice``): 2-space indent, a final newline, and
in every object the scalar and array members before the object members, each group with
``name``, ``version``, ``lockfileVersion``, ``resolved``, ``integrity``, ``requires``,
``packages``, ``dependencies`` first in that order and the other keys after them in
``localeCompare(.., "en")`` order. That collation is reproduced exactly for ASCII (ICU's root
order: punctuation, then digits, then letters with lower case first); other characters sort
after ASCII by code point, an approximation. The root entry ``""`` is written from
``Lockfile.extra["root"]`` as kept by the reader (a resolver must provide it: its name, version
and dependency sections); a version 2 file is written back as version 3 (npm 7+ reads both; the
legacy ``dependencies`` tree of version 2 is not kept).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from tuskops.errors import ManifestError, VersionSyntaxError
from tuskops.packages.ecosystems._json_files import field_path as _field
from tuskops.packages.ecosystems._json_files import json_kind as _kind
from tuskops.packages.ecosystems._json_files import load_json_object as _load
from tuskops.packages.ecosystems.npm import SCHEME
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest

__all__ = ["classify_spec", "read_package_json", "read_package_lock", "write_package_lock"]

ECOSYSTEM = "npm"

_SECTIONS = (
    ("dependencies", "normal"),
    ("devDependencies", "dev"),
    ("optionalDependencies", "optional"),
    ("peerDependencies", "peer"),
)
#: Characters encodeURIComponent leaves alone: npm-package-arg's test for a valid dist-tag.
_TAG_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()]+\Z")
_PROTOCOL_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_HOSTED_PREFIXES = ("github:", "gitlab:", "bitbucket:", "gist:")
_GIT_PROTOCOLS = ("git:", "git+ssh:", "git+https:", "git+http:", "git+file:")
_URL_PROTOCOLS = ("http:", "https:")
#: npm-package-arg's isFilespec: ``.``, ``~/``, ``/``, ``\\``, or a drive letter.
_FILESPEC_RE = re.compile(r"(?:\.|~/|[/\\]|[a-zA-Z]:)")
#: ``user/repo`` or ``user/repo#ref``: GitHub shorthand.
_GITHUB_SHORTHAND_RE = re.compile(r"[^@%/\s.:][^/\s:]*/[^/\s:#]+(?:#.*)?\Z")
_TARBALL_RE = re.compile(r"\.(?:tgz|tar\.gz|tar)\Z", re.I)


# --- shared helpers ---------------------------------------------------------------------------


def _opt_str(file: str, data: Mapping[str, Any], key: str, *where: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ManifestError(file, f"must be a string, not {_kind(value)}", _field(*where, key))
    return value


def _opt_object(file: str, data: Mapping[str, Any], key: str, *where: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ManifestError(file, f"must be an object, not {_kind(value)}", _field(*where, key))
    return value


def _string_map(file: str, data: Mapping[str, Any], key: str, *where: str) -> dict[str, str]:
    value = _opt_object(file, data, key, *where)
    for name, item in value.items():
        if not isinstance(item, str):
            raise ManifestError(
                file, f"must be a string, not {_kind(item)}", _field(*where, key, name)
            )
    return value


def _opt_bool(file: str, data: Mapping[str, Any], key: str, *where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ManifestError(file, f"must be a boolean, not {_kind(value)}", _field(*where, key))
    return value


# --- dependency specs -------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def classify_spec(spec: str) -> str:
    """npm-package-arg's type of a dependency spec: "range", "tag", "alias", "git", "url",
    "file", "directory" or "workspace"; "invalid" for a text npm would reject (an unknown URL
    protocol, or neither a range nor a valid tag).

    Cached: a packument repeats the same few specs across hundreds of versions, and parsing
    each range was most of the time spent reading one."""
    text = spec.strip()
    lower = text.lower()
    if lower.startswith("npm:"):
        return "alias"
    if lower.startswith("workspace:"):
        return "workspace"
    if lower.startswith("file:"):
        return "file" if _TARBALL_RE.search(text) else "directory"
    if lower.startswith(_HOSTED_PREFIXES) or lower.startswith(_GIT_PROTOCOLS):
        return "git"
    if lower.startswith(_URL_PROTOCOLS):
        return "url"
    if _FILESPEC_RE.match(text):
        return "file" if _TARBALL_RE.search(text) else "directory"
    if _GITHUB_SHORTHAND_RE.match(text):
        return "git"
    if _PROTOCOL_RE.match(text):
        return "invalid"
    try:
        SCHEME.parse_constraint(text)
    except VersionSyntaxError:
        return "tag" if _TAG_RE.match(text) else "invalid"
    return "range"


def _range_or_tag(file: str, spec: str, where: str) -> str:
    """ "range" or "tag"; a ManifestError at ``where`` when it is neither."""
    try:
        SCHEME.parse_constraint(spec)
    except VersionSyntaxError as exc:
        if _TAG_RE.match(spec.strip()):
            return "tag"
        raise ManifestError(
            file, f"invalid version range or tag {spec!r}: {exc.reason}", where
        ) from None
    return "range"


def _dependency(
    file: str, name: str, spec: str, kind: str, where: str, *, optional: bool = False
) -> Dependency:
    spec_type = classify_spec(spec)
    extra: dict[str, Any] = {"spec_type": spec_type}
    source: str | None = None
    if spec_type == "alias":
        target = spec.strip()[4:]
        at = target.find("@", 1)
        alias_of, alias_spec = (target, "") if at < 0 else (target[:at], target[at + 1 :])
        if not alias_of or alias_of.startswith("npm:"):
            raise ManifestError(file, f"invalid npm: alias {spec!r}", where)
        _range_or_tag(file, alias_spec, where)
        extra["alias_of"] = alias_of
        extra["alias_spec"] = alias_spec
        source = f"npm:{alias_of}"
    elif spec_type in ("range", "tag", "invalid"):
        protocol = _PROTOCOL_RE.match(spec.strip())
        if spec_type == "invalid" and protocol:
            raise ManifestError(
                file, f"unsupported URL type {protocol.group(0)!r} in {spec!r}", where
            )
        _range_or_tag(file, spec, where)
    else:
        source = spec
    return Dependency(
        name=name,
        constraint=spec,
        kind=kind,
        optional=optional,
        source=source,
        extra=extra,
    )


# --- package.json -----------------------------------------------------------------------------


def _bundled(file: str, data: Mapping[str, Any]) -> list[str] | bool | None:
    for key in ("bundleDependencies", "bundledDependencies"):
        if key in data:
            value = data[key]
            if isinstance(value, bool):
                return value
            if not isinstance(value, list):
                raise ManifestError(
                    file, f"must be an array of names or a boolean, not {_kind(value)}", key
                )
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    raise ManifestError(file, f"must be a string, not {_kind(item)}", f"{key}[{i}]")
            return list(value)
    return None


def _workspaces(file: str, data: Mapping[str, Any]) -> list[str] | None:
    value = data.get("workspaces")
    if value is None:
        return None
    where = "workspaces"
    if isinstance(value, dict):  # Yarn's {"packages": [...], "nohoist": [...]}
        value = value.get("packages", [])
        where = "workspaces.packages"
    if not isinstance(value, list):
        raise ManifestError(file, f"must be an array of paths, not {_kind(value)}", where)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise ManifestError(file, f"must be a string, not {_kind(item)}", f"{where}[{i}]")
    return list(value)


def read_package_json(path: Path) -> Manifest:
    """Read a ``package.json``."""
    file = str(path)
    data = _load(path)
    name = _opt_str(file, data, "name")
    version = _opt_str(file, data, "version")

    sections = {key: _string_map(file, data, key) for key, _ in _SECTIONS}
    meta = _opt_object(file, data, "peerDependenciesMeta")
    optional_peers: set[str] = set()
    for peer, info in meta.items():
        if not isinstance(info, dict):
            raise ManifestError(
                file, f"must be an object, not {_kind(info)}", _field("peerDependenciesMeta", peer)
            )
        if _opt_bool(file, info, "optional", "peerDependenciesMeta", peer):
            optional_peers.add(peer)

    bundled = _bundled(file, data)
    if bundled is True:
        bundled_names = set(sections["dependencies"]) | set(sections["optionalDependencies"])
    elif isinstance(bundled, list):
        bundled_names = set(bundled)
    else:
        bundled_names = set()

    dependencies: list[Dependency] = []
    for key, kind in _SECTIONS:
        for dep_name, spec in sections[key].items():
            if key == "dependencies" and dep_name in sections["optionalDependencies"]:
                continue  # "Entries in optionalDependencies will override entries ... in
                # dependencies" (npm docs).
            dep = _dependency(
                file,
                dep_name,
                spec,
                kind,
                _field(key, dep_name),
                optional=kind == "optional" or (kind == "peer" and dep_name in optional_peers),
            )
            if kind in ("normal", "optional") and dep_name in bundled_names:
                dep = replace(dep, extra={**dep.extra, "bundled": True})
            dependencies.append(dep)

    extra: dict[str, Any] = {}
    if bundled is not None:
        extra["bundleDependencies"] = bundled
    overrides = _opt_object(file, data, "overrides")
    if overrides:
        extra["overrides"] = overrides
    workspaces = _workspaces(file, data)
    if workspaces is not None:
        extra["workspaces"] = workspaces
    engines = _string_map(file, data, "engines")
    if engines:
        extra["engines"] = engines
    package_manager = _opt_str(file, data, "packageManager")
    if package_manager is not None:
        extra["packageManager"] = package_manager
    if meta:
        extra["peerDependenciesMeta"] = meta
    if "private" in data:
        extra["private"] = _opt_bool(file, data, "private")
    return Manifest(
        ecosystem=ECOSYSTEM,
        path=file,
        name=name,
        version=version,
        dependencies=tuple(dependencies),
        extra=extra,
    )


# --- package-lock.json ------------------------------------------------------------------------

#: Entry fields kept in a locked package's ``extra`` when present.
_KEPT = (
    "inBundle",
    "hasInstallScript",
    "hasShrinkwrap",
    "license",
    "engines",
    "os",
    "cpu",
    "libc",
    "deprecated",
    "bin",
    "funding",
    "bundleDependencies",
    "acceptDependencies",
    "workspaces",
    "extraneous",
)


def _name_from_key(key: str) -> str:
    """The package name a folder implies (npm's ``nameFromFolder``): what follows the last
    ``node_modules/``, else the base name, with its ``@scope/`` parent when there is one."""
    marker = "node_modules/"
    at = key.rfind(marker)
    if at >= 0:
        return key[at + len(marker) :]
    parts = key.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2].startswith("@"):
        return f"{parts[-2]}/{parts[-1]}"
    return parts[-1]


def _locked(file: str, key: str, entry: Mapping[str, Any]) -> LockedPackage:
    where = ("packages", key)
    installed_as = _name_from_key(key)
    recorded = _opt_str(file, entry, "name", *where)
    name = recorded or installed_as
    version = _opt_str(file, entry, "version", *where) or ""
    resolved = _opt_str(file, entry, "resolved", *where)
    integrity = _opt_str(file, entry, "integrity", *where)
    link = _opt_bool(file, entry, "link", *where)
    dev = _opt_bool(file, entry, "dev", *where)
    optional = _opt_bool(file, entry, "optional", *where)
    dev_optional = _opt_bool(file, entry, "devOptional", *where)
    peer = _opt_bool(file, entry, "peer", *where)

    deps = _string_map(file, entry, "dependencies", *where)
    optional_deps = _string_map(file, entry, "optionalDependencies", *where)
    peer_deps = _string_map(file, entry, "peerDependencies", *where)
    dev_deps = _string_map(file, entry, "devDependencies", *where)
    listed = [f"{n} {s}" for n, s in deps.items()]
    listed += [f"{n} {s}" for n, s in optional_deps.items() if n not in deps]

    extra: dict[str, Any] = {"path": key}
    if recorded and recorded != installed_as and "node_modules/" in key:
        extra["installed_as"] = installed_as
    if recorded:
        extra["recorded_name"] = True
    if link:
        extra["link"] = True
    if dev_optional:
        extra["devOptional"] = True
    if peer:
        extra["peer"] = True
    if "node_modules/" not in key:
        extra["local"] = True  # a workspace or linked folder, not an install location
    if optional_deps:
        extra["optionalDependencies"] = sorted(optional_deps)
        if any(n in deps for n in optional_deps):
            # ``dependencies`` above keeps one spec per name: keep these apart to write both.
            extra["optionalDependencySpecs"] = optional_deps
    if peer_deps:
        extra["peerDependencies"] = peer_deps
    if dev_deps:
        extra["devDependencies"] = dev_deps
    peer_meta = _opt_object(file, entry, "peerDependenciesMeta", *where)
    if peer_meta:
        extra["peerDependenciesMeta"] = peer_meta
    for kept in _KEPT:
        if kept in entry:
            extra[kept] = entry[kept]
    return LockedPackage(
        name=name,
        version=version,
        source=resolved,
        hashes=tuple(integrity.split()) if integrity else (),
        dependencies=tuple(listed),
        dev=dev,
        optional=optional,
        extra=extra,
    )


def read_package_lock(path: Path) -> Lockfile:
    """Read a ``package-lock.json`` (lockfileVersion 2 or 3)."""
    file = str(path)
    data = _load(path)
    if "lockfileVersion" not in data:
        raise ManifestError(file, "missing lockfileVersion", "lockfileVersion")
    lock_version = data["lockfileVersion"]
    if isinstance(lock_version, bool) or not isinstance(lock_version, int):
        raise ManifestError(
            file, f"must be an integer, not {_kind(lock_version)}", "lockfileVersion"
        )
    if lock_version == 1:
        raise ManifestError(
            file,
            "lockfileVersion 1 (npm 5 and 6) is not supported: it has no 'packages' map; "
            "run npm 7 or later (npm install --lockfile-version 3) to upgrade the lockfile",
            "lockfileVersion",
        )
    if lock_version not in (2, 3):
        raise ManifestError(
            file,
            f"lockfileVersion {lock_version} is not supported (only 2 and 3)",
            "lockfileVersion",
        )
    if "packages" not in data:
        raise ManifestError(file, "missing the 'packages' map", "packages")
    entries = _opt_object(file, data, "packages")

    packages: list[LockedPackage] = []
    root: dict[str, Any] | None = None
    for key, entry in entries.items():
        if not isinstance(entry, dict):
            raise ManifestError(
                file, f"must be an object, not {_kind(entry)}", _field("packages", key)
            )
        if key == "":
            root = entry
            continue
        packages.append(_locked(file, key, entry))

    extra: dict[str, Any] = {"lockfileVersion": lock_version}
    for key in ("name", "version"):
        value = _opt_str(file, data, key)
        if value is not None:
            extra[key] = value
    if "requires" in data:
        extra["requires"] = _opt_bool(file, data, "requires")
    if root is not None:
        extra["root"] = root
    return Lockfile(
        ecosystem=ECOSYSTEM,
        path=file,
        format=f"package-lock.json v{lock_version}",
        packages=tuple(packages),
        extra=extra,
    )


# --- writing package-lock.json ----------------------------------------------------------------

#: Keys json-stringify-nice puts first, in this order (arborist's ``swKeyOrder``).
_KEY_ORDER = (
    "name",
    "version",
    "lockfileVersion",
    "resolved",
    "integrity",
    "requires",
    "packages",
    "dependencies",
)
#: ICU's root collation order of printable ASCII (what ``localeCompare(.., "en")`` gives),
#: letters by their lower-case form; the case difference only counts when all else is equal.
_COLLATION = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"
_PRIMARY = {c: i for i, c in enumerate(_COLLATION)}
#: Flags npm writes on an entry besides ``dev`` and ``optional`` (the model's own fields).
_FLAGS = ("devOptional", "peer", "extraneous", "inBundle", "hasInstallScript", "hasShrinkwrap")
_PASSED_ON = (
    "peerDependencies",
    "peerDependenciesMeta",
    "devDependencies",
    *(k for k in _KEPT if k not in _FLAGS),
)


def _collation_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Sort key of ``localeCompare(.., "en")``: primary (base letters), secondary (accents),
    tertiary (lower case before upper)."""
    primary: list[int] = []
    secondary: list[int] = []
    tertiary: list[int] = []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char):
            secondary.append(ord(char))
            continue
        lower = char.lower()
        primary.append(_PRIMARY.get(lower, len(_COLLATION) + ord(lower)))
        secondary.append(0)
        tertiary.append(1 if char != lower else 0)
    return tuple(primary), tuple(secondary), tuple(tertiary)


def _compare_keys(a: tuple[str, Any], b: tuple[str, Any]) -> int:
    """json-stringify-nice's order of two members: scalars and arrays before objects, then the
    preferred keys in their order, then the rest by locale."""
    a_obj, b_obj = isinstance(a[1], dict), isinstance(b[1], dict)
    if a_obj != b_obj:
        return 1 if a_obj else -1
    a_pref, b_pref = a[0] in _KEY_ORDER, b[0] in _KEY_ORDER
    if a_pref and b_pref:
        return _KEY_ORDER.index(a[0]) - _KEY_ORDER.index(b[0])
    if a_pref != b_pref:
        return -1 if a_pref else 1
    ka, kb = _collation_key(a[0]), _collation_key(b[0])
    return (ka > kb) - (ka < kb)


def _nice(value: Any) -> Any:
    """``value`` with every object's members in json-stringify-nice's order."""
    if isinstance(value, Mapping):
        members = sorted(
            ((k, _nice(v)) for k, v in value.items()), key=functools.cmp_to_key(_compare_keys)
        )
        return dict(members)
    if isinstance(value, list | tuple):
        return [_nice(v) for v in value]
    return value


def _split_dependency(file: str, text: str, where: str) -> tuple[str, str]:
    name, sep, spec = text.partition(" ")
    if not sep or not name:
        raise ManifestError(
            file, f"dependency {text!r} has no spec: package-lock.json needs 'name spec'", where
        )
    return name, spec


def _lock_entry(file: str, package: LockedPackage, key: str) -> dict[str, Any]:
    where = _field("packages", key)
    extra = package.extra
    if extra.get("link"):
        # npm writes a link as where it points and nothing else; the target has its own entry.
        if not package.source:
            raise ManifestError(file, f"link {key!r} has no target (source)", where)
        return {"resolved": package.source, "link": True}
    entry: dict[str, Any] = {}
    if extra.get("recorded_name") or package.name != _name_from_key(key):
        entry["name"] = package.name
    if package.version:
        entry["version"] = package.version
    if package.source:
        entry["resolved"] = package.source
    if package.hashes:
        entry["integrity"] = " ".join(package.hashes)
    if package.dev:
        entry["dev"] = True
    if package.optional:
        entry["optional"] = True
    for flag in _FLAGS:
        if extra.get(flag):
            entry[flag] = extra[flag]

    optional_names = set(extra.get("optionalDependencies", ()))
    both: Mapping[str, str] = extra.get("optionalDependencySpecs", {})
    dependencies: dict[str, str] = {}
    optional: dict[str, str] = dict(both)
    for i, text in enumerate(package.dependencies):
        name, spec = _split_dependency(file, text, f"{where}.dependencies[{i}]")
        if name in optional_names and name not in both:
            optional[name] = spec
        else:
            dependencies[name] = spec
    missing = sorted(optional_names - set(optional))
    if missing:
        raise ManifestError(
            file, f"optional dependency {missing[0]!r} has no spec", f"{where}.optionalDependencies"
        )
    if dependencies:
        entry["dependencies"] = dependencies
    if optional:
        entry["optionalDependencies"] = optional
    for name in _PASSED_ON:
        if name in extra:
            entry[name] = extra[name]
    return entry


def write_package_lock(lock: Lockfile) -> str:
    """``lock`` as the text of a lockfileVersion 3 ``package-lock.json``, as npm writes it."""
    file = lock.path
    packages: dict[str, Any] = {}
    root = lock.extra.get("root")
    if root is not None:
        if not isinstance(root, Mapping):
            raise ManifestError(file, "the root entry must be an object", _field("packages", ""))
        packages[""] = root
    for package in lock.packages:
        if not package.name:
            raise ManifestError(file, "a package has no name", "packages")
        key = package.extra.get("path") or (
            f"node_modules/{package.extra.get('installed_as', package.name)}"
        )
        if key in packages:
            raise ManifestError(file, f"two packages are installed at {key!r}", "packages")
        packages[key] = _lock_entry(file, package, key)
    data: dict[str, Any] = {}
    for name in ("name", "version"):
        if name in lock.extra:
            data[name] = lock.extra[name]
    data["lockfileVersion"] = 3
    data["requires"] = lock.extra.get("requires", True)
    data["packages"] = packages
    return json.dumps(_nice(data), indent=2, ensure_ascii=False) + "\n"
