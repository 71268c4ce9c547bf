"""NuGet's files: SDK-style project files (``*.csproj``) into a :class:`Manifest`, and
``packages.lock.json`` into a :class:`Lockfile`.

Project files follow the NuGet docs ("PackageReference in project files", "Central Package
Management"); this is not an MSBuild evaluator. What is read:

* ``<PackageReference Include="X" Version="1.2.3" />``, with metadata as attributes or as child
  elements (``<Version>1.2.3</Version>``); ``Include="A;B"`` gives two references;
  ``Update="X"`` changes metadata of an earlier reference and ``Remove="X"`` drops it.
* ``PrivateAssets``, ``IncludeAssets``, ``ExcludeAssets`` (and ``GeneratePathProperty``,
  ``Aliases``, ``NoWarn``) go into the dependency's ``extra``; ``PrivateAssets="all"`` marks a
  development dependency (kind ``"build"``).
* ``Condition`` on the item and on its ``<ItemGroup>`` become ``markers`` (as written; both are
  joined as ``(group) and (item)``).
* Unconditional properties: ``PackageId`` (else ``AssemblyName``, else the file's stem) for the
  name; ``Version`` (else ``VersionPrefix`` and ``VersionSuffix``) for the version;
  ``TargetFramework``/``TargetFrameworks`` into ``extra["target_frameworks"]``. ``$(Name)``
  references to properties defined in the project or ``Directory.Packages.props`` are
  substituted in versions; an unresolvable one is kept as written and flagged
  ``extra["unresolved"]``.
* Central Package Management: when ``ManagePackageVersionsCentrally`` is true (in the project or
  in the nearest ``Directory.Packages.props`` in the project's folder or above, which is read),
  a reference without ``VersionOverride`` takes its version from a ``<PackageVersion>`` item;
  ``extra["version_from"]`` says where a version came from (``"PackageVersion"`` with
  ``extra["version_file"]``, or ``"VersionOverride"``). ``<GlobalPackageReference>`` items of
  the props file are dependencies of kind ``"build"`` with ``extra["global"] = True``.
  NuGet's restore errors NU1008 (a ``Version`` on a centrally managed reference), NU1010 (no
  ``PackageVersion`` for a reference) and NU1013 (``VersionOverride`` while
  ``CentralPackageVersionOverrideEnabled`` is false) are raised as :class:`ManifestError`.
* ``<ProjectReference Include>`` paths go into ``extra["project_references"]``.

XML is parsed by ``tuskops.packages.xmldoc``; a DOCTYPE or entity declaration is refused
(no entity expansion).
Errors in the XML, and problems with an element, are reported at ``line:col``.

``packages.lock.json`` versions 1 and 2: one :class:`LockedPackage` per package per target
(``"net8.0"``, ``".NETCoreApp,Version=v8.0"``, or RID-specific ``"net8.0/win-x64"``), with
``extra`` ``target_framework``, ``runtime`` (RID targets), ``type`` (``Direct``,
``Transitive``, ``Project``, ``CentralTransitive``) and ``requested``. ``contentHash`` (base64
SHA-512) becomes the hash ``"sha512-<base64>"``; dependencies are ``"name range"`` entries.
The lockfile's ``extra["targets"]`` lists the targets in file order (also empty ones); the
file's layout, when it differs from NuGet's, is noted so that writing it back gives the same
bytes: ``extra["newline"] = "\r\n"`` (written on Windows), ``extra["bom"] = True`` and
``extra["final_newline"] = True`` (NuGet writes neither; an editor may add them).

:func:`write_packages_lock` writes the file as ``PackagesLockFileFormat`` does: Newtonsoft's
indented JSON (2 spaces, ``"key": value``), UTF-8 without a BOM, no newline at the end;
``version``, then ``dependencies`` holding one object per target; each package has ``type``,
``requested``, ``resolved``, ``contentHash`` and ``dependencies`` (sorted ordinally by id), each
only when set. Packages are ordered by type (Direct, Transitive, Project, CentralTransitive)
as NuGet's lockfile builder orders them; within a type the model's order is kept (NuGet keeps
its resolver's order there), so a resolver should list packages by name. A package without
``extra["type"]`` is ``Project`` when its source is ``"project"``, ``Direct`` when it has
``extra["requested"]``, else ``Transitive``; one without ``target_framework`` goes to the
first target of ``extra["targets"]``. The version is taken from ``format`` (default 1; 2 when
a ``CentralTransitive`` package is present). Version 3 (targets at the root) is not written.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tuskops.errors import ManifestError, VersionSyntaxError
from tuskops.packages.ecosystems.nuget import SCHEME
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest
from tuskops.packages.xmldoc import Element
from tuskops.packages.xmldoc import parse as parse_xml

__all__ = ["read_csproj", "read_packages_lock", "write_packages_lock"]

ECOSYSTEM = "nuget"
PACKAGES_PROPS = "Directory.Packages.props"

# --- a small XML tree with positions ---------------------------------------------------------


def _parse_xml(path: Path) -> Element:
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(file, f"cannot read: {exc.strerror or exc}") from None

    def fail(message: str, where: str) -> ManifestError:
        return ManifestError(file, message, where)

    root = parse_xml(
        data,
        fail,
        doctype_message="DOCTYPE declarations are not allowed in project files "
        "(they can expand entities without bound)",
        malformed="invalid XML",
    )
    if root.tag != "Project":
        raise ManifestError(
            file, f"the root element must be <Project>, not <{root.tag}>", root.where
        )
    return root


# --- properties -------------------------------------------------------------------------------

_PROPERTY_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def _properties(root: Element) -> dict[str, str]:
    """Unconditional properties, last definition wins, names lower-cased."""
    props: dict[str, str] = {}
    for group in root.named("PropertyGroup"):
        if group.attr("Condition"):
            continue
        for prop in group.children:
            if prop.attr("Condition"):
                continue
            props[prop.tag.lower()] = _expand(prop.text.strip(), props)
    return props


def _expand(text: str, props: dict[str, str]) -> str:
    return _PROPERTY_REF.sub(lambda m: props.get(m.group(1).lower(), m.group(0)), text)


def _true(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"


# --- the project file ---------------------------------------------------------------------------

_METADATA = (
    "Version",
    "VersionOverride",
    "PrivateAssets",
    "IncludeAssets",
    "ExcludeAssets",
    "GeneratePathProperty",
    "Aliases",
    "NoWarn",
)


def _metadata(item: Element) -> dict[str, tuple[str, Element]]:
    """Metadata given as attributes or child elements (a child element wins)."""
    found: dict[str, tuple[str, Element]] = {}
    for name in _METADATA:
        value = item.attr(name)
        if value is not None:
            found[name] = (value.strip(), item)
        for child in item.named(name):
            found[name] = (child.text.strip(), child)
    return found


def _markers(group: Element, item: Element) -> str | None:
    conditions = [c.strip() for c in (group.attr("Condition"), item.attr("Condition")) if c]
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0]
    return " and ".join(f"({c})" for c in conditions)


def _split(items: str) -> list[str]:
    return [part.strip() for part in items.split(";") if part.strip()]


@dataclass
class _Reference:
    name: str
    element: Element
    markers: str | None
    metadata: dict[str, tuple[str, Element]]
    global_reference: bool = False
    origin: str | None = None


@dataclass
class _Central:
    """What a Directory.Packages.props contributes."""

    path: Path | None = None
    properties: dict[str, str] = field(default_factory=dict)
    versions: dict[str, tuple[str, Element, str]] = field(default_factory=dict)
    global_references: list[_Reference] = field(default_factory=list)


def _find_packages_props(project: Path) -> Path | None:
    for folder in [project.resolve().parent, *project.resolve().parent.parents]:
        candidate = folder / PACKAGES_PROPS
        if candidate.is_file():
            return candidate
    return None


def _package_versions(root: Element, file: str) -> dict[str, tuple[str, Element, str]]:
    versions: dict[str, tuple[str, Element, str]] = {}
    for group in root.named("ItemGroup"):
        for item in group.named("PackageVersion"):
            include = item.attr("Include")
            if not include:
                raise ManifestError(
                    file,
                    'The required attribute "Include" is empty or missing from the element '
                    "<PackageVersion>.",
                    item.where,
                )
            meta = _metadata(item)
            version = meta.get("Version", ("", item))[0]
            for name in _split(include):
                versions[name.lower()] = (version, meta.get("Version", ("", item))[1], file)
    return versions


def _read_central(project: Path) -> _Central:
    props_path = _find_packages_props(project)
    if props_path is None:
        return _Central()
    root = _parse_xml(props_path)
    central = _Central(props_path, _properties(root))
    central.versions = _package_versions(root, str(props_path))
    for group in root.named("ItemGroup"):
        for item in group.named("GlobalPackageReference"):
            include = item.attr("Include")
            if not include:
                raise ManifestError(
                    str(props_path),
                    'The required attribute "Include" is empty or missing from the element '
                    "<GlobalPackageReference>.",
                    item.where,
                )
            for name in _split(include):
                central.global_references.append(
                    _Reference(
                        name,
                        item,
                        _markers(group, item),
                        _metadata(item),
                        global_reference=True,
                        origin=str(props_path),
                    )
                )
    return central


def read_csproj(path: Path) -> Manifest:
    """Read an SDK-style MSBuild project file's package references."""
    file = str(path)
    root = _parse_xml(path)
    central = _read_central(path)
    props = {**central.properties, **_properties(root)}

    cpm = _true(props.get("managepackageversionscentrally"))
    overrides_enabled = props.get("centralpackageversionoverrideenabled", "true").lower() != "false"

    references: list[_Reference] = []
    project_references: list[str] = []
    for group in root.named("ItemGroup"):
        for item in group.children:
            tag = item.tag.lower()
            if tag == "projectreference" and item.attr("Include"):
                project_references += _split(item.attr("Include") or "")
            if tag != "packagereference":
                continue
            include, update, remove = item.attr("Include"), item.attr("Update"), item.attr("Remove")
            if include:
                for name in _split(include):
                    references.append(
                        _Reference(name, item, _markers(group, item), _metadata(item))
                    )
            elif update:
                names = {n.lower() for n in _split(update)}
                for ref in references:
                    if ref.name.lower() in names:
                        ref.metadata.update(_metadata(item))
            elif remove:
                names = {n.lower() for n in _split(remove)}
                references = [r for r in references if r.name.lower() not in names]
            else:
                raise ManifestError(
                    file,
                    'The required attribute "Include" is empty or missing from the element '
                    "<PackageReference>.",
                    item.where,
                )

    local_versions = _package_versions(root, file) if cpm else {}
    dependencies: list[Dependency] = []
    for ref in [*references, *(central.global_references if cpm else [])]:
        ref_file = ref.origin or file
        meta = ref.metadata
        extra: dict[str, Any] = {}
        constraint = ""
        version_element = ref.element
        if cpm:
            if "Version" in meta and not ref.global_reference:
                raise ManifestError(
                    file,
                    "NU1008: Projects that use central package version management should not "
                    "define the version on the PackageReference items but on the PackageVersion "
                    f"items: {ref.name}.",
                    meta["Version"][1].where,
                )
            if "VersionOverride" in meta:
                value, version_element = meta["VersionOverride"]
                if not overrides_enabled:
                    raise ManifestError(
                        file,
                        "NU1013: The following PackageReference items cannot specify a value "
                        f"for VersionOverride: {ref.name}. Projects using Central Package "
                        "Management are currently configured to disable this functionality.",
                        version_element.where,
                    )
                constraint = value
                extra["version_from"] = "VersionOverride"
            elif ref.global_reference:
                if "Version" in meta:
                    constraint, version_element = meta["Version"]
            else:
                central_version = local_versions.get(ref.name.lower()) or central.versions.get(
                    ref.name.lower()
                )
                if central_version is None:
                    raise ManifestError(
                        file,
                        f"NU1010: The PackageReference items {ref.name} do not have "
                        "corresponding PackageVersion.",
                        ref.element.where,
                    )
                constraint, version_element, ref_file = central_version
                extra["version_from"] = "PackageVersion"
                extra["version_file"] = ref_file
        elif "Version" in meta:
            constraint, version_element = meta["Version"]
        constraint = _expand(constraint, props)
        if _PROPERTY_REF.search(constraint):
            extra["unresolved"] = True
        elif constraint:
            try:
                SCHEME.parse_constraint(constraint)
            except VersionSyntaxError as exc:
                raise ManifestError(
                    ref_file,
                    f"invalid version range {constraint!r} for {ref.name}: {exc.reason}",
                    version_element.where,
                ) from None
        for name in ("PrivateAssets", "IncludeAssets", "ExcludeAssets"):
            if name in meta:
                extra[name[0].lower() + name[1:]] = meta[name][0]
        for name in ("GeneratePathProperty", "Aliases", "NoWarn"):
            if name in meta:
                extra[name[0].lower() + name[1:]] = meta[name][0]
        private = meta.get("PrivateAssets", ("", ref.element))[0]
        development = ref.global_reference or "all" in [a.lower() for a in _split(private)]
        if ref.global_reference:
            extra["global"] = True
            extra["defined_in"] = ref.origin
        dependencies.append(
            Dependency(
                ref.name,
                constraint,
                kind="build" if development else "normal",
                markers=ref.markers,
                extra=extra,
            )
        )

    manifest_extra: dict[str, Any] = {}
    frameworks = props.get("targetframeworks") or props.get("targetframework")
    if frameworks:
        manifest_extra["target_frameworks"] = tuple(_split(frameworks))
    if cpm:
        manifest_extra["central_package_management"] = True
        if central.path is not None:
            manifest_extra["packages_props"] = str(central.path)
        if _true(props.get("centralpackagetransitivepinningenabled")):
            manifest_extra["transitive_pinning"] = True
    if project_references:
        manifest_extra["project_references"] = tuple(project_references)
    for prop, key in (("restorepackageswithlockfile", "restore_with_lock_file"),):
        if prop in props:
            manifest_extra[key] = props[prop]

    name = props.get("packageid") or props.get("assemblyname") or path.stem
    version = props.get("version")
    if not version and props.get("versionprefix"):
        version = props["versionprefix"]
        if props.get("versionsuffix"):
            version += "-" + props["versionsuffix"]
    return Manifest(
        ecosystem=ECOSYSTEM,
        path=file,
        name=name,
        version=version or None,
        dependencies=tuple(dependencies),
        extra=manifest_extra,
    )


# --- packages.lock.json ---------------------------------------------------------------------------

_LOCK_TYPES = ("Direct", "Transitive", "Project", "CentralTransitive")


def read_packages_lock(path: Path) -> Lockfile:
    """Read a NuGet ``packages.lock.json`` (versions 1 and 2)."""
    file = str(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as exc:
        raise ManifestError(file, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ManifestError(file, "not valid UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(file, f"invalid JSON: {exc.msg}", f"{exc.lineno}:{exc.colno}") from None

    def fail(message: str, *where: str) -> ManifestError:
        return ManifestError(file, message, " > ".join(where))

    if not isinstance(data, dict):
        raise fail("expected a JSON object", "(root)")
    version = data.get("version")
    if isinstance(version, bool) or version not in (1, 2):
        raise fail(f"unsupported lock file version {version!r} (expected 1 or 2)", "version")
    targets = data.get("dependencies")
    if not isinstance(targets, dict):
        raise fail("expected an object of target frameworks", "dependencies")

    packages: list[LockedPackage] = []
    for target, entries in targets.items():
        if not isinstance(entries, dict):
            raise fail("expected an object of packages", "dependencies", target)
        framework, _, runtime = target.partition("/")
        for name, entry in entries.items():
            where = ("dependencies", target, name)
            if not isinstance(entry, dict):
                raise fail("expected an object", *where)
            kind = entry.get("type")
            if kind not in _LOCK_TYPES:
                raise fail(
                    f"unknown type {kind!r} (expected one of {', '.join(_LOCK_TYPES)})",
                    *where,
                    "type",
                )
            extra: dict[str, Any] = {"target_framework": framework, "type": kind}
            if runtime:
                extra["runtime"] = runtime
            requested = entry.get("requested")
            if requested is not None:
                if not isinstance(requested, str):
                    raise fail("expected a string", *where, "requested")
                try:
                    SCHEME.parse_constraint(requested)
                except VersionSyntaxError as exc:
                    raise fail(
                        f"invalid version range {requested!r}: {exc.reason}", *where, "requested"
                    ) from None
                extra["requested"] = requested
            resolved = entry.get("resolved")
            if resolved is None and kind != "Project":
                raise fail("missing field `resolved`", *where)
            if resolved is not None:
                if not isinstance(resolved, str):
                    raise fail("expected a string", *where, "resolved")
                try:
                    SCHEME.parse_version(resolved)
                except VersionSyntaxError as exc:
                    raise fail(
                        f"invalid version {resolved!r}: {exc.reason}", *where, "resolved"
                    ) from None
            hashes: tuple[str, ...] = ()
            content_hash = entry.get("contentHash")
            if content_hash is not None:
                if not isinstance(content_hash, str) or not _is_sha512_base64(content_hash):
                    raise fail("contentHash is not a base64 SHA-512 digest", *where, "contentHash")
                hashes = (f"sha512-{content_hash}",)
            deps = entry.get("dependencies", {})
            if not isinstance(deps, dict):
                raise fail("expected an object of name: version range", *where, "dependencies")
            entries_out = []
            for dep, dep_range in deps.items():
                if not isinstance(dep_range, str):
                    raise fail("expected a version range string", *where, "dependencies", dep)
                entries_out.append(f"{dep} {dep_range}")
            packages.append(
                LockedPackage(
                    name=name,
                    version=resolved or "",
                    source="project" if kind == "Project" else None,
                    hashes=hashes,
                    dependencies=tuple(entries_out),
                    extra=extra,
                )
            )
    lock_extra: dict[str, Any] = {"targets": tuple(targets)}
    # Layout details NuGet itself does not produce, kept so that the file writes back as is.
    if "\r\n" in text:
        lock_extra["newline"] = "\r\n"
    if raw.startswith(b"\xef\xbb\xbf"):
        lock_extra["bom"] = True
    if text.endswith("\n"):
        lock_extra["final_newline"] = True
    return Lockfile(
        ecosystem=ECOSYSTEM,
        path=file,
        format=f"packages.lock.json v{version}",
        packages=tuple(packages),
        extra=lock_extra,
    )


def _is_sha512_base64(text: str) -> bool:
    try:
        return len(base64.b64decode(text, validate=True)) == 64
    except (binascii.Error, ValueError):
        return False


def _lock_type(package: LockedPackage) -> str:
    kind = package.extra.get("type")
    if isinstance(kind, str):
        return kind
    if package.source == "project":
        return "Project"
    return "Direct" if package.extra.get("requested") else "Transitive"


def _lock_version(lock: Lockfile, types: set[str]) -> int:
    m = re.search(r"\bv(\d+)\Z", lock.format)
    version = int(m.group(1)) if m else 1
    if "CentralTransitive" in types:
        # Only version 2 knows CentralTransitive (NuGet writes 2 when central pinning is on).
        version = max(version, 2)
    if version not in (1, 2):
        raise ValueError(f"packages.lock.json version {version} is not written (only 1 and 2)")
    return version


def write_packages_lock(lock: Lockfile) -> str:
    """``lock`` as NuGet writes ``packages.lock.json``; see the module docstring."""
    declared = [str(t) for t in lock.extra.get("targets", ())]
    targets: dict[str, list[LockedPackage]] = {t: [] for t in declared}
    types: set[str] = set()
    for package in lock.packages:
        framework = package.extra.get("target_framework")
        if framework is None:
            if not declared:
                raise ValueError(
                    f"{package.name}: no extra['target_framework'] and no lock.extra['targets']"
                )
            target = declared[0]
        else:
            runtime = package.extra.get("runtime")
            target = f"{framework}/{runtime}" if runtime else str(framework)
        kind = _lock_type(package)
        if kind not in _LOCK_TYPES:
            raise ValueError(f"{package.name}: unknown lock type {kind!r}")
        types.add(kind)
        targets.setdefault(target, []).append(package)

    out: dict[str, Any] = {"version": _lock_version(lock, types)}
    dependencies: dict[str, Any] = {}
    for target, packages in targets.items():
        entries: dict[str, Any] = {}
        # NuGet orders a target's packages by type only (a stable sort).
        for package in sorted(packages, key=lambda p: _LOCK_TYPES.index(_lock_type(p))):
            entries[package.name] = _lock_entry(package)
        dependencies[target] = entries
    out["dependencies"] = dependencies

    text = json.dumps(out, indent=2, ensure_ascii=False)
    if lock.extra.get("final_newline"):
        text += "\n"
    newline = lock.extra.get("newline")
    if newline == "\r\n":
        text = text.replace("\n", "\r\n")
    if lock.extra.get("bom"):
        text = "\ufeff" + text
    return text


def _lock_entry(package: LockedPackage) -> dict[str, Any]:
    kind = _lock_type(package)
    entry: dict[str, Any] = {"type": kind}
    requested = package.extra.get("requested")
    if requested:
        entry["requested"] = requested
    if package.version:
        entry["resolved"] = package.version
    elif kind != "Project":
        raise ValueError(f"{package.name}: a {kind} package needs a resolved version")
    content_hash = next(
        (h.removeprefix("sha512-") for h in package.hashes if h.startswith("sha512-")), None
    )
    if content_hash is not None:
        entry["contentHash"] = content_hash
    deps: dict[str, str] = {}
    for item in package.dependencies:
        name, _, version_range = item.partition(" ")
        deps[name] = version_range
    if deps:
        # PackagesLockFileFormat sorts dependency ids with StringComparer.Ordinal (UTF-16
        # code units; the same as code points for the ASCII ids NuGet allows).
        entry["dependencies"] = dict(sorted(deps.items()))
    return entry
