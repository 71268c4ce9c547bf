"""Maven POM files (``pom.xml``, ``*.pom``) read into the effective model, the way Maven builds it.

The steps follow Maven's model builder (POM reference, "Inheritance", "Dependency Management",
"Importing Dependencies", "Properties"):

1. Each POM is parsed (POM namespace or none; DOCTYPE and entity declarations are refused, as
   Maven refuses them) and its ``activeByDefault`` profiles are injected into it. Other profiles
   are listed in ``extra["inactive_profiles"]``: whether they activate depends on the build.
2. Inheritance: ``<parent>`` is looked up at ``relativePath`` (default ``../pom.xml``, a
   directory means its ``pom.xml``), and only used when its groupId, artifactId and version
   match; otherwise the ``resolve_pom`` callback is asked. A parent found nowhere is recorded in
   ``extra["unresolved_parents"]`` and the model is built from what is known (the registry
   layer fetches it later); nothing is guessed. The child inherits groupId, version,
   properties, dependencyManagement and dependencies (child wins, keyed by
   ``groupId:artifactId:type[:classifier]``).
3. Interpolation of the merged model with the *child's* values: ``${project.*}`` (and the
   legacy ``${pom.*}``), ``${project.parent.*}``, ``${basedir}``, user ``<properties>``,
   nested references. ``${env.X}`` and unknown names are left as written and listed in
   ``extra["unresolved_properties"]``. A cycle raises :class:`ManifestError` naming the
   property.
4. BOM imports (``<type>pom</type><scope>import</scope>`` in dependencyManagement) are read via
   ``resolve_pom(group, artifact, version)``; the BOM's own effective dependencyManagement is
   added after the local entries (local and earlier imports win). Unresolvable imports go to
   ``extra["unresolved_imports"]``.
5. dependencyManagement is applied to dependencies: a missing version or scope is taken from
   the managed entry and its exclusions are added (optional is not managed, as in Maven).

Licenses: ``<licenses><license>`` ``name`` and ``url`` of the nearest POM in the parent chain
that lists any (Maven inherits them only when the child lists none), in ``extra["licenses"]``.
Parent chains deeper than :data:`MAX_PARENT_DEPTH` and BOM imports nested deeper than
:data:`MAX_IMPORT_DEPTH` raise :class:`ManifestError`, like cycles.

:func:`read_pom` reads files; :func:`read_pom_bytes` builds the same model from content (a POM
downloaded from a repository: no ``relativePath``, no ``${basedir}``), with a resolver that
returns :class:`PomSource` content. Neither does network I/O: :func:`missing_poms` tells a
fetching caller which parents and BOMs to get before building.

Dependencies: ``name`` is ``groupId:artifactId``; ``constraint`` the version text (ranges as
written); ``kind`` the scope (``compile`` is ``"normal"``); type and classifier go to ``extra``
when not ``jar``/none. BOM imports appear with kind ``"import"``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tuskops.errors import ManifestError
from tuskops.packages.manifests import Dependency, Manifest
from tuskops.packages.xmldoc import Element
from tuskops.packages.xmldoc import parse as parse_xml

__all__ = [
    "Coordinates",
    "PomResolver",
    "PomSource",
    "PomSourceResolver",
    "missing_poms",
    "read_pom",
    "read_pom_bytes",
]

ECOSYSTEM = "maven"
POM_NAMESPACE = "http://maven.apache.org/POM/4.0.0"
#: Maven 4 writes model version 4.1.0 POMs in their own namespace; the elements read here agree.
POM_NAMESPACES = frozenset({"", POM_NAMESPACE, "http://maven.apache.org/POM/4.1.0"})

#: Parent chains and BOM imports deeper than this are refused: a broken repository must not
#: keep the builder busy (real chains are a handful deep).
MAX_PARENT_DEPTH = 64
MAX_IMPORT_DEPTH = 32

#: ``(groupId, artifactId, version)``.
Coordinates = tuple[str, str, str]


@dataclass(frozen=True)
class PomSource:
    """A POM's content and the name errors use for it (a path or URL).

    ``path`` is set for a POM on disk: only then is a ``<parent>``'s ``relativePath`` looked at
    and ``${basedir}`` known.
    """

    name: str
    data: bytes
    path: Path | None = None


#: ``(groupId, artifactId, version) -> path of that POM``, or ``None`` when not available.
PomResolver = Callable[[str, str, str], Path | None]
#: ``(groupId, artifactId, version) -> that POM's content``, or ``None`` when not available.
PomSourceResolver = Callable[[str, str, str], PomSource | None]

_EXPRESSION = re.compile(r"\$\{([^}]*)\}")
_SCOPES = frozenset({"compile", "test", "provided", "runtime", "system", "import"})
_PROJECT_FIELDS = (
    "groupId",
    "artifactId",
    "version",
    "packaging",
    "name",
    "description",
    "url",
)


# --- XML ---------------------------------------------------------------------------------------


def _file_source(path: Path) -> PomSource:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(str(path), f"cannot read: {exc.strerror or exc}") from None
    return PomSource(str(path), data, path)


def _source_key(source: PomSource) -> str:
    """Identity of a POM for cycle detection: its real path on disk, else its name."""
    return f"file:{source.path.resolve()}" if source.path is not None else f"name:{source.name}"


def _parse_xml(source: PomSource) -> Element:
    file, data = source.name, source.data

    def fail(message: str, where: str) -> ManifestError:
        return ManifestError(file, message, where)

    def check(namespace: str, tag: str, where: str) -> None:
        if namespace not in POM_NAMESPACES:
            raise ManifestError(
                file,
                f"element <{tag}> is in namespace {namespace!r}; a POM uses "
                f"{POM_NAMESPACE!r} or no namespace",
                where,
            )

    root = parse_xml(
        data,
        fail,
        doctype_message="DOCTYPE declarations are not allowed in a POM (Maven refuses them too)",
        entity_message="entity declarations are not allowed in a POM",
        check_element=check,
    )
    if root.tag != "project":
        raise ManifestError(file, f"the root element is <{root.tag}>, not <project>", root.where)
    return root


# --- the raw model of one POM -------------------------------------------------------------------


@dataclass
class _Dep:
    group: str | None
    artifact: str | None
    version: str | None
    type: str
    classifier: str | None
    scope: str | None
    optional: bool
    exclusions: list[str]
    system_path: str | None
    file: str
    where: str
    imported_from: str | None = None

    @property
    def key(self) -> str:
        key = f"{self.group}:{self.artifact}:{self.type}"
        return f"{key}:{self.classifier}" if self.classifier else key


@dataclass
class _Raw:
    source: PomSource
    root: Element
    group: str | None
    artifact: str | None
    version: str | None
    packaging: str | None
    parent: dict[str, str] | None
    parent_where: str
    properties: dict[str, tuple[str, str, str]]  # name -> (value, file, line:col)
    managed: list[_Dep]
    dependencies: list[_Dep]
    active_profiles: list[str]
    inactive_profiles: list[dict[str, Any]]
    #: None when the POM has no (or an empty) ``<licenses>``: then the parent's apply.
    licenses: list[dict[str, str]] | None


def _dep(node: Element, file: str) -> _Dep:
    exclusions: list[str] = []
    holder = node.child("exclusions")
    for ex in holder.all("exclusion") if holder is not None else ():
        g, a = ex.value("groupId"), ex.value("artifactId")
        if not g or not a:
            missing = "groupId" if not g else "artifactId"
            raise ManifestError(file, f"an exclusion needs a {missing}", ex.where)
        exclusions.append(f"{g}:{a}")
    optional = (node.value("optional") or "false").strip()
    return _Dep(
        group=node.value("groupId"),
        artifact=node.value("artifactId"),
        version=node.value("version") or None,
        type=node.value("type") or "jar",
        classifier=node.value("classifier") or None,
        scope=node.value("scope") or None,
        optional=optional == "true",
        exclusions=exclusions,
        system_path=node.value("systemPath"),
        file=file,
        where=node.where,
    )


def _deps(holder: Element | None, file: str) -> list[_Dep]:
    if holder is None:
        return []
    deps = holder.child("dependencies")
    return [_dep(d, file) for d in deps.all("dependency")] if deps is not None else []


def _merge_deps(dominant: list[_Dep], recessive: list[_Dep]) -> list[_Dep]:
    keys = {d.key for d in dominant}
    return [*dominant, *(d for d in recessive if d.key not in keys)]


def _read_raw(source: PomSource) -> _Raw:
    file = source.name
    root = _parse_xml(source)
    properties: dict[str, tuple[str, str, str]] = {}
    props = root.child("properties")
    for p in props.children if props is not None else ():
        properties[p.tag] = (p.text, file, p.where)
    managed = _deps(root.child("dependencyManagement"), file)
    dependencies = _deps(root, file)
    parent_node = root.child("parent")
    parent: dict[str, str] | None = None
    if parent_node is not None:
        parent = {}
        for tag in ("groupId", "artifactId", "version"):
            text = parent_node.value(tag)
            if not text:
                raise ManifestError(file, f"<parent> needs a <{tag}>", parent_node.where)
            parent[tag] = text
        rel = parent_node.child("relativePath")
        parent["relativePath"] = "../pom.xml" if rel is None else rel.text

    active: list[str] = []
    inactive: list[dict[str, Any]] = []
    profiles = root.child("profiles")
    for profile in profiles.all("profile") if profiles is not None else ():
        pid = profile.value("id") or "default"
        activation = profile.child("activation")
        if activation is not None and activation.value("activeByDefault") == "true":
            active.append(pid)
            sub = profile.child("properties")
            for p in sub.children if sub is not None else ():
                properties[p.tag] = (p.text, file, p.where)
            managed = _merge_deps(_deps(profile.child("dependencyManagement"), file), managed)
            dependencies = _merge_deps(_deps(profile, file), dependencies)
        else:
            conditions = {
                c.tag: (c.text if not c.children else {g.tag: g.text for g in c.children})
                for c in (activation.children if activation is not None else ())
            }
            inactive.append({"id": pid, "activation": conditions})
    licenses_node = root.child("licenses")
    licenses = [
        {tag: text for tag in ("name", "url") if (text := lic.value(tag))}
        for lic in (licenses_node.all("license") if licenses_node is not None else ())
    ]
    return _Raw(
        source=source,
        root=root,
        group=root.value("groupId"),
        artifact=root.value("artifactId"),
        version=root.value("version"),
        packaging=root.value("packaging"),
        parent=parent,
        parent_where=parent_node.where if parent_node is not None else "",
        properties=properties,
        managed=managed,
        dependencies=dependencies,
        active_profiles=active,
        inactive_profiles=inactive,
        licenses=licenses or None,
    )


# --- interpolation -------------------------------------------------------------------------------


class _Interpolator:
    def __init__(
        self, file: str, project: dict[str, str | None], properties: dict[str, tuple[str, str, str]]
    ) -> None:
        self.file = file
        self.project = project
        self.properties = properties
        self.unresolved: list[str] = []
        self._cache: dict[str, str | None] = {}

    def value(self, name: str, stack: tuple[str, ...]) -> str | None:
        if name in self._cache:
            return self._cache[name]
        if name in stack:
            cycle = " -> ".join((*stack[stack.index(name) :], name))
            origin = self.properties.get(name)
            raise ManifestError(
                origin[1] if origin else self.file,
                f"property ${{{name}}} refers to itself: {cycle}",
                origin[2] if origin else None,
            )
        key = "project." + name[4:] if name.startswith("pom.") else name
        raw: str | None
        if key.startswith("env."):
            raw = None
        elif key in self.project:
            raw = self.project[key]
        elif key in self.properties:
            raw = self.properties[key][0]
        else:
            raw = None
        result = None if raw is None else self.text(raw, (*stack, name))
        if result is None and name not in self.unresolved:
            self.unresolved.append(name)
        self._cache[name] = result
        return result

    def text(self, text: str, stack: tuple[str, ...] = ()) -> str:
        def sub(match: re.Match[str]) -> str:
            value = self.value(match.group(1), stack)
            return match.group(0) if value is None else value

        return _EXPRESSION.sub(sub, text)

    def opt(self, text: str | None) -> str | None:
        return None if text is None else self.text(text)


# --- the effective model -------------------------------------------------------------------------


@dataclass
class _Effective:
    group: str
    artifact: str
    version: str | None
    packaging: str
    parent: dict[str, str] | None
    properties: dict[str, str]
    managed: list[_Dep]
    dependencies: list[_Dep]
    unresolved_parents: list[dict[str, str]]
    unresolved_imports: list[dict[str, str]]
    unresolved_properties: list[str]
    active_profiles: list[str]
    inactive_profiles: list[dict[str, Any]]
    modules: list[str]
    repositories: list[dict[str, str]]
    licenses: list[dict[str, str]]


def _simple(text: str, properties: dict[str, tuple[str, str, str]]) -> str:
    """Parent coordinates may use CI-friendly properties (``${revision}``)."""

    def sub(match: re.Match[str]) -> str:
        found = properties.get(match.group(1))
        return found[0] if found else match.group(0)

    return _EXPRESSION.sub(sub, text)


def _find_parent(
    child: _Raw, resolve_pom: PomSourceResolver | None, seen: set[str]
) -> tuple[_Raw | None, str]:
    """The parent's raw model, or None and why it was not found."""
    assert child.parent is not None
    want = {
        k: _simple(child.parent[k], child.properties) for k in ("groupId", "artifactId", "version")
    }
    reasons: list[str] = []
    candidates: list[PomSource] = []
    # relativePath only means something for a POM on disk (a repository's POM has no siblings).
    rel = child.parent["relativePath"] if child.source.path is not None else ""
    if rel and child.source.path is not None:
        local = child.source.path.parent / rel
        if local.is_dir():
            local = local / "pom.xml"
        if local.is_file():
            candidates.append(_file_source(local))
        else:
            reasons.append(f"no POM at {rel}")
    if resolve_pom is not None:
        found = resolve_pom(want["groupId"], want["artifactId"], want["version"])
        if found is not None:
            candidates.append(found)
    for candidate in candidates:
        key = _source_key(candidate)
        if key in seen:
            raise ManifestError(
                child.source.name,
                f"parent cycle: {candidate.name} is already a parent",
                child.parent_where,
            )
        raw = _read_raw(candidate)
        group = raw.group or (raw.parent or {}).get("groupId")
        version = raw.version or (raw.parent or {}).get("version")
        props = {**raw.properties, **child.properties}
        got = {
            "groupId": _simple(group or "", props),
            "artifactId": raw.artifact or "",
            "version": _simple(version or "", props),
        }
        if got == want:
            seen.add(key)
            return raw, ""
        reasons.append(
            f"{candidate.name} is {got['groupId']}:{got['artifactId']}:{got['version']}, "
            f"not {want['groupId']}:{want['artifactId']}:{want['version']}"
        )
    if not rel and resolve_pom is None:
        on_disk = child.source.path is not None
        reasons.append("empty relativePath and no resolver" if on_disk else "no resolver")
    elif resolve_pom is not None and not candidates:
        reasons.append("not found by the resolver")
    return None, "; ".join(reasons) or "not found locally"


def _effective(
    source: PomSource, resolve_pom: PomSourceResolver | None, importing: tuple[str, ...] = ()
) -> _Effective:
    file = source.name
    path = source.path
    child = _read_raw(source)
    lineage = [child]
    unresolved_parents: list[dict[str, str]] = []
    seen = {_source_key(source)}
    current = child
    while current.parent is not None:
        if len(lineage) > MAX_PARENT_DEPTH:
            raise ManifestError(
                file, f"more than {MAX_PARENT_DEPTH} parent POMs", current.parent_where
            )
        parent, reason = _find_parent(current, resolve_pom, seen)
        if parent is None:
            entry = {k: current.parent[k] for k in ("groupId", "artifactId", "version")}
            unresolved_parents.append(
                {**entry, "relativePath": current.parent["relativePath"], "reason": reason}
            )
            break
        lineage.append(parent)
        current = parent

    # Inheritance: the child dominates each ancestor.
    properties: dict[str, tuple[str, str, str]] = {}
    managed: list[_Dep] = []
    dependencies: list[_Dep] = []
    for raw in reversed(lineage):
        properties = {**properties, **raw.properties}
        managed = _merge_deps(raw.managed, managed)
        dependencies = _merge_deps(raw.dependencies, dependencies)
    group = next((r.group for r in lineage if r.group), None) or (lineage[-1].parent or {}).get(
        "groupId"
    )
    version = next((r.version for r in lineage if r.version), None) or (
        lineage[-1].parent or {}
    ).get("version")
    if not child.artifact:
        raise ManifestError(file, "the project has no <artifactId>", child.root.where)
    if not group:
        raise ManifestError(file, "the project has no <groupId> and no parent", child.root.where)

    project: dict[str, str | None] = {f"project.{k}": child.root.value(k) for k in _PROJECT_FIELDS}
    project.update(
        {
            "project.groupId": group,
            "project.version": version,
            "project.packaging": child.packaging or "jar",
        }
    )
    if path is not None:  # a POM from a repository has no base directory
        project.update(
            {
                "project.basedir": str(path.parent),
                "project.baseUri": path.parent.resolve().as_uri(),
                "basedir": str(path.parent),
            }
        )
    if child.parent is not None:
        for k in ("groupId", "artifactId", "version"):
            project[f"project.parent.{k}"] = child.parent[k]
    interp = _Interpolator(file, project, properties)

    def resolve(dep: _Dep) -> _Dep:
        return replace(
            dep,
            group=interp.opt(dep.group),
            artifact=interp.opt(dep.artifact),
            version=interp.opt(dep.version),
            type=interp.text(dep.type),
            classifier=interp.opt(dep.classifier),
            scope=interp.opt(dep.scope),
            exclusions=[interp.text(e) for e in dep.exclusions],
            system_path=interp.opt(dep.system_path),
        )

    effective_group = interp.text(group)
    effective_version = interp.opt(version)
    managed = [resolve(d) for d in managed]
    dependencies = [resolve(d) for d in dependencies]
    effective_properties = {name: interp.text(value[0]) for name, value in properties.items()}
    parent_coords = None
    if child.parent is not None:
        parent_coords = {k: interp.text(v) for k, v in child.parent.items()}

    # BOM imports.
    unresolved_imports: list[dict[str, str]] = []
    own = [d for d in managed if not (d.scope == "import" and d.type == "pom")]
    imports = [d for d in managed if d.scope == "import" and d.type == "pom"]
    for bom in imports:
        coords = f"{bom.group}:{bom.artifact}:{bom.version}"
        if not bom.group or not bom.artifact or not bom.version:
            unresolved_imports.append(_coords(bom, "incomplete coordinates"))
            continue
        if coords in importing:
            raise ManifestError(
                bom.file, f"BOM import cycle: {' -> '.join((*importing, coords))}", bom.where
            )
        if len(importing) >= MAX_IMPORT_DEPTH:
            raise ManifestError(
                bom.file, f"BOM imports nested more than {MAX_IMPORT_DEPTH} deep", bom.where
            )
        found = resolve_pom(bom.group, bom.artifact, bom.version) if resolve_pom else None
        if found is None:
            reason = "no resolver" if resolve_pom is None else "not found by the resolver"
            unresolved_imports.append(_coords(bom, reason))
            continue
        imported = _effective(found, resolve_pom, (*importing, coords))
        unresolved_imports.extend(imported.unresolved_imports)
        # A BOM whose own parent is missing has an incomplete dependencyManagement: say so.
        unresolved_parents.extend({**p, "child": coords} for p in imported.unresolved_parents)
        own = _merge_deps(own, [replace(d, imported_from=coords) for d in imported.managed])

    # Management injection.
    by_key = {d.key: d for d in own}
    final: list[_Dep] = []
    for dep in dependencies:
        managed_dep = by_key.get(dep.key)
        if managed_dep is not None:
            dep = replace(
                dep,
                version=dep.version or managed_dep.version,
                scope=dep.scope or managed_dep.scope,
                system_path=dep.system_path or managed_dep.system_path,
                exclusions=[
                    *dep.exclusions,
                    *(e for e in managed_dep.exclusions if e not in dep.exclusions),
                ],
                imported_from=managed_dep.imported_from or ("dependencyManagement"),
            )
        final.append(dep)

    modules_node = child.root.child("modules")
    repos_node = child.root.child("repositories")
    return _Effective(
        group=effective_group,
        artifact=interp.text(child.artifact),
        version=effective_version,
        packaging=interp.text(child.packaging or "jar"),
        parent=parent_coords,
        properties=effective_properties,
        managed=[*own, *imports],
        dependencies=final,
        unresolved_parents=unresolved_parents,
        unresolved_imports=unresolved_imports,
        unresolved_properties=interp.unresolved,
        active_profiles=[p for raw in lineage for p in raw.active_profiles],
        inactive_profiles=child.inactive_profiles,
        modules=[m.text for m in modules_node.all("module")] if modules_node is not None else [],
        # Maven inherits the parent's licenses only when the child lists none.
        licenses=[
            {k: interp.text(v) for k, v in lic.items()}
            for lic in next((r.licenses for r in lineage if r.licenses), None) or []
        ],
        repositories=[
            {"id": r.value("id") or "", "url": interp.text(r.value("url") or "")}
            for r in (repos_node.all("repository") if repos_node is not None else ())
        ],
    )


def _coords(dep: _Dep, reason: str) -> dict[str, str]:
    return {
        "groupId": dep.group or "",
        "artifactId": dep.artifact or "",
        "version": dep.version or "",
        "reason": reason,
    }


def _dependency(dep: _Dep, *, bom: bool = False) -> Dependency:
    if not dep.group:
        raise ManifestError(dep.file, "a dependency needs a <groupId>", dep.where)
    if not dep.artifact:
        raise ManifestError(dep.file, "a dependency needs an <artifactId>", dep.where)
    scope = dep.scope or "compile"
    if scope not in _SCOPES:
        raise ManifestError(
            dep.file,
            f"unknown scope {scope!r} for {dep.group}:{dep.artifact} "
            f"(expected one of {', '.join(sorted(_SCOPES))})",
            dep.where,
        )
    extra: dict[str, Any] = {}
    if dep.type != "jar":
        extra["type"] = dep.type
    if dep.classifier:
        extra["classifier"] = dep.classifier
    if dep.system_path:
        extra["systemPath"] = dep.system_path
    if dep.imported_from and not bom:
        extra["managed_by"] = dep.imported_from
    if bom:
        extra["bom"] = True
    return Dependency(
        name=f"{dep.group}:{dep.artifact}",
        constraint=dep.version or "",
        kind="normal" if scope == "compile" else scope,
        optional=dep.optional,
        exclusions=tuple(dep.exclusions),
        extra=extra,
    )


def _managed_json(dep: _Dep) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": f"{dep.group}:{dep.artifact}",
        "version": dep.version or "",
        "type": dep.type,
    }
    if dep.classifier:
        out["classifier"] = dep.classifier
    if dep.scope:
        out["scope"] = dep.scope
    if dep.exclusions:
        out["exclusions"] = list(dep.exclusions)
    if dep.imported_from:
        out["imported_from"] = dep.imported_from
    return out


def read_pom(path: Path, resolve_pom: PomResolver | None = None) -> Manifest:
    """Read a POM into its effective model (see the module docstring)."""
    lookup: PomSourceResolver | None = None
    if resolve_pom is not None:
        resolve_path = resolve_pom

        def lookup(group: str, artifact: str, version: str) -> PomSource | None:
            found = resolve_path(group, artifact, version)
            return None if found is None else _file_source(Path(found))

    return _manifest(_effective(_file_source(Path(path)), lookup), str(path))


def read_pom_bytes(
    data: bytes, name: str, resolve_pom: PomSourceResolver | None = None
) -> Manifest:
    """Read a POM's content (e.g. downloaded from a repository) into its effective model.

    Like :func:`read_pom`, but nothing is read from disk: ``name`` (a URL, say) names the POM
    in errors and in ``Manifest.path``, ``relativePath`` is ignored (parents come from
    ``resolve_pom`` only) and ``${basedir}`` stays unresolved.
    """
    return _manifest(_effective(PomSource(name, data), resolve_pom), name)


def missing_poms(
    data: bytes, name: str, resolve_pom: PomSourceResolver | None = None
) -> tuple[Coordinates, ...]:
    """The parents and BOMs that building the model of ``data`` asked ``resolve_pom`` for and
    did not get, in the order asked, without duplicates.

    For a caller that fetches POMs: fetch these, then ask again until none is left (a parent
    names the next parent, and BOM versions often come from a parent's properties). Coordinates
    still holding a ``${...}`` are left out: they are not final until more is known, and if
    they never become final they stay in the model's ``unresolved_*`` lists.
    """
    asked: list[Coordinates] = []

    def recording(group: str, artifact: str, version: str) -> PomSource | None:
        found = resolve_pom(group, artifact, version) if resolve_pom is not None else None
        coords = (group, artifact, version)
        if found is None and "${" not in "".join(coords) and coords not in asked:
            asked.append(coords)
        return found

    _effective(PomSource(name, data), recording)
    return tuple(asked)


def _manifest(eff: _Effective, path: str) -> Manifest:
    boms = [d for d in eff.managed if d.scope == "import" and d.type == "pom"]
    dependencies = [_dependency(d) for d in eff.dependencies]
    dependencies += [_dependency(d, bom=True) for d in boms]
    extra: dict[str, Any] = {"packaging": eff.packaging, "properties": eff.properties}
    if eff.parent is not None:
        extra["parent"] = eff.parent
    extra["dependency_management"] = [
        _managed_json(d) for d in eff.managed if not (d.scope == "import" and d.type == "pom")
    ]
    if eff.modules:
        extra["modules"] = eff.modules
    if eff.repositories:
        extra["repositories"] = eff.repositories
    if eff.active_profiles:
        extra["active_profiles"] = eff.active_profiles
    if eff.inactive_profiles:
        extra["inactive_profiles"] = eff.inactive_profiles
    if eff.licenses:
        extra["licenses"] = eff.licenses
    if eff.unresolved_parents:
        extra["unresolved_parents"] = eff.unresolved_parents
    if eff.unresolved_imports:
        extra["unresolved_imports"] = eff.unresolved_imports
    if eff.unresolved_properties:
        extra["unresolved_properties"] = eff.unresolved_properties
    return Manifest(
        ecosystem=ECOSYSTEM,
        path=path,
        name=f"{eff.group}:{eff.artifact}",
        version=eff.version,
        dependencies=tuple(dependencies),
        extra=extra,
    )
