"""``@packages`` and the per-ecosystem operators ``@npm @pip @cargo @maven @nuget @gem @composer``.

Registry lookups as values in a config::

    express: @npm.latest("express")                  # "5.1.0"
    django_versions: @pip.versions("django")         # ["1.0.1", ..., "5.2"]
    slf4j: @packages.info("maven", "org.slf4j:slf4j-api")
    pinned: @cargo.info("serde", "1.0.200").dependencies

Lookups only read (evaluation changes nothing outside the process; the HTTP cache is a cache):
they go through :class:`tuskops.packages.api.PackageLookup`, with the project's registry
settings read from the ``.tsk`` file's directory, and are remembered for the rest of the
evaluation. ``tuskops eval --offline`` answers from the cache or fails at the call.

``resolve`` resolves requirements as the ecosystem's own tool would and returns the pinned set,
without writing anything::

    deps: @packages.resolve({ecosystem: "pypi", requirements: ["django>=4.2"], python: "3.11"})
    web: @npm.resolve({express: "^4"})
    api: @packages.resolve({project: "services/api"})     # its manifest, as `pkg lock` would

The actions that come with later work (``lock``, ``audit``, ``sbom``) answer "not implemented
yet", never made-up data.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tuskops.core.operator import Action, CallContext, Operator, action
from tuskops.errors import NotImplementedOperatorError, OfflineError, OperatorError, PackageError

if TYPE_CHECKING:
    from tuskops.packages.api import PackageDetails, VersionList

#: Actions reserved for later work on the package layer.
PLANNED_ACTIONS = ("lock", "audit", "sbom")

#: The keys ``resolve`` reads from its spec.
_RESOLVE_KEYS = frozenset(
    {"ecosystem", "requirements", "dev", "project", "python", "pre", "framework", "source"}
)


def _lookup_versions(ctx: CallContext, ecosystem: str, name: str) -> VersionList:
    key = ("packages.versions", ecosystem, name, ctx.base_dir)
    if key not in ctx.cache:
        ctx.cache[key] = _run(ctx, lambda lookup: lookup.versions(ecosystem, name))
    result: VersionList = ctx.cache[key]
    return result


def _lookup_info(
    ctx: CallContext, ecosystem: str, name: str, version: str | None
) -> PackageDetails:
    key = ("packages.info", ecosystem, name, version, ctx.base_dir)
    if key not in ctx.cache:
        ctx.cache[key] = _run(ctx, lambda lookup: lookup.info(ecosystem, name, version))
    result: PackageDetails = ctx.cache[key]
    return result


def _run(ctx: CallContext, ask: Any) -> Any:
    from tuskops.packages import api
    from tuskops.packages.http import OfflineCacheMiss, run

    async def go() -> Any:
        home = ctx.env.get("HOME")
        async with api.PackageLookup(
            project_dir=ctx.base_dir,
            offline=ctx.offline,
            env=ctx.env,
            home=Path(home) if home else None,
        ) as lookup:
            return await ask(lookup)

    try:
        return run(go())
    except OfflineCacheMiss as exc:
        raise OfflineError(
            f"offline, and the cache has no answer for {exc.url}",
            hint="evaluate once without --offline to fill the cache",
        ) from None
    except PackageError as exc:
        raise OperatorError(str(exc)) from None


def _resolve(ctx: CallContext, spec: Mapping[str, Any], ecosystem: str | None) -> dict[str, Any]:
    unknown = sorted(set(spec) - _RESOLVE_KEYS)
    if unknown:
        raise OperatorError(
            f"resolve: unknown key {unknown[0]!r}",
            hint=f"known keys: {', '.join(sorted(_RESOLVE_KEYS))}",
        )
    if ecosystem is None and spec.get("ecosystem") is not None:
        ecosystem = _check_ecosystem(str(spec["ecosystem"]))
    if ("project" in spec) == ("requirements" in spec):
        raise OperatorError("resolve: give either `requirements` or `project`")
    key = ("packages.resolve", ecosystem, repr(sorted(spec.items())), ctx.base_dir)
    if key not in ctx.cache:
        ctx.cache[key] = _resolve_now(ctx, spec, ecosystem)
    result: dict[str, Any] = ctx.cache[key]
    return result


def _resolve_now(
    ctx: CallContext, spec: Mapping[str, Any], ecosystem: str | None
) -> dict[str, Any]:
    from tuskops.packages import api
    from tuskops.packages.http import OfflineCacheMiss
    from tuskops.packages.inline_project import write_inline_project
    from tuskops.packages.locking import LockRequest, lock
    from tuskops.packages.resolve.pubgrub import ResolutionImpossible

    home = ctx.env.get("HOME")
    pre = spec.get("pre")
    with tempfile.TemporaryDirectory(prefix="tuskops-resolve-") as scratch:
        if "project" in spec:
            project = (ctx.base_dir / str(spec["project"])).resolve()
            output = None  # the project's own lockfile, if any, supplies preferred versions
        else:
            if ecosystem is None:
                raise OperatorError(
                    "resolve: say which `ecosystem` the requirements are for",
                    hint="npm, pypi, cargo, maven, nuget, rubygems or composer",
                )
            project = Path(scratch) / "project"
            project.mkdir()
            write_inline_project(
                ecosystem,
                project,
                spec["requirements"],
                dev=spec.get("dev"),
                framework=spec.get("framework"),
                source=spec.get("source"),
            )
            output = Path(scratch) / "lock"  # nothing there: no preferences
        lookup = api.PackageLookup(
            project_dir=ctx.base_dir,
            offline=ctx.offline,
            env=ctx.env,
            home=Path(home) if home else None,
        )
        request = LockRequest(
            lookup=lookup,
            output=output,
            python_version=str(spec["python"]) if spec.get("python") else None,
            allow_prereleases=None if pre is None else bool(pre),
        )
        try:
            lockfile = lock(project, request, ecosystem=ecosystem)
        except ResolutionImpossible as exc:
            raise OperatorError(f"resolve: no set of versions works.\n{exc.explanation}") from None
        except OfflineCacheMiss as exc:
            raise OfflineError(
                f"offline, and the cache has no answer for {exc.url}",
                hint="evaluate once without --offline to fill the cache",
            ) from None
        except PackageError as exc:
            raise OperatorError(f"resolve: {exc}") from None
    packages = [
        {
            "name": p.name,
            "version": p.version,
            "dependencies": list(p.dependencies),
            **({"path": p.extra["path"]} if "path" in p.extra else {}),
        }
        for p in lockfile.packages
    ]
    versions: dict[str, str] = {}
    for p in lockfile.packages:
        versions.setdefault(p.name, p.version)
    return {
        "ecosystem": lockfile.ecosystem,
        "format": lockfile.format,
        "versions": versions,
        "packages": packages,
    }


def _resolve_spec(requirements_or_spec: Any) -> Mapping[str, Any]:
    """A per-ecosystem call may pass the requirements themselves (one as a string)."""
    if isinstance(requirements_or_spec, str):
        return {"requirements": [requirements_or_spec]}
    if isinstance(requirements_or_spec, Mapping) and (
        "requirements" in requirements_or_spec or "project" in requirements_or_spec
    ):
        return requirements_or_spec
    return {"requirements": requirements_or_spec}


def _check_ecosystem(ecosystem: str) -> str:
    from tuskops.packages.api import canonical_ecosystem

    try:
        return canonical_ecosystem(ecosystem)
    except PackageError as exc:
        raise OperatorError(str(exc)) from None


class _WithPlannedActions(Operator):
    """Answers the reserved actions with "not implemented yet"."""

    origin: ClassVar[str] = "platform"

    def accepts_action(self, name: str) -> bool:
        return name in self.actions or name in PLANNED_ACTIONS

    def get_action(self, name: str) -> Action:
        if name in PLANNED_ACTIONS and name not in self.actions:
            raise NotImplementedOperatorError(
                f"@{self.name}.{name} is not implemented yet in this version of tuskops",
                hint=f"available now: {', '.join(sorted(self.actions))}",
            )
        return super().get_action(name)


class PackagesOperator(_WithPlannedActions):
    """Registry lookups in any of seven ecosystems: versions, latest, info.

    The first argument names the ecosystem: npm, pypi (pip), cargo (crates), maven, nuget,
    rubygems (gem) or composer (packagist). Maven names are "groupId:artifactId".
    """

    name = "packages"

    @action
    def versions(self, ctx: CallContext, ecosystem: str, name: str) -> list[str]:
        """Every version of `name`, oldest first in the ecosystem's order, yanked ones left out."""
        return _lookup_versions(ctx, _check_ecosystem(ecosystem), name).names()

    @action
    def latest(self, ctx: CallContext, ecosystem: str, name: str) -> str | None:
        """The newest stable, unyanked version (npm: the `latest` dist-tag); null if none."""
        return _lookup_versions(ctx, _check_ecosystem(ecosystem), name).latest

    @action
    def info(
        self, ctx: CallContext, ecosystem: str, name: str, version: str | None = None
    ) -> dict[str, Any]:
        """One version (default: latest stable): dependencies, license, files and hashes,
        yanked/deprecated. `dependencies` is null when the registry does not list them."""
        return _lookup_info(ctx, _check_ecosystem(ecosystem), name, version).to_json()

    @action
    def resolve(self, ctx: CallContext, spec: dict[str, Any]) -> dict[str, Any]:
        """Resolve requirements by the ecosystem's rules; nothing is written. Spec:
        `ecosystem` and `requirements` (a list or a name->constraint map; `dev` too), or
        `project` (a directory or manifest, relative to this file); `python`, `pre`,
        `framework` (NuGet), `source` (Gemfile). Returns `versions` (name -> version),
        `packages` (name, version, dependencies; npm: path) and the lockfile `format`."""
        if not isinstance(spec, Mapping):
            raise OperatorError(
                "resolve: expects an object, e.g. {ecosystem: ..., requirements: [...]}"
            )
        return _resolve(ctx, spec, None)


class _EcosystemOperator(_WithPlannedActions):
    ecosystem: ClassVar[str]

    @action
    def versions(self, ctx: CallContext, name: str) -> list[str]:
        """Every version of `name`, oldest first in the ecosystem's order, yanked ones left out."""
        return _lookup_versions(ctx, self.ecosystem, name).names()

    @action
    def latest(self, ctx: CallContext, name: str) -> str | None:
        """The newest stable, unyanked version (npm: the `latest` dist-tag); null if none."""
        return _lookup_versions(ctx, self.ecosystem, name).latest

    @action
    def info(self, ctx: CallContext, name: str, version: str | None = None) -> dict[str, Any]:
        """One version (default: latest stable): dependencies, license, files and hashes,
        yanked/deprecated. `dependencies` is null when the registry does not list them."""
        return _lookup_info(ctx, self.ecosystem, name, version).to_json()

    @action
    def resolve(self, ctx: CallContext, requirements: Any) -> dict[str, Any]:
        """Resolve requirements (a list, a name->constraint map, or a spec as for
        @packages.resolve) by this ecosystem's rules; nothing is written."""
        return _resolve(ctx, _resolve_spec(requirements), self.ecosystem)


def _ecosystem_operator(name: str, ecosystem: str, label: str, aliases: tuple[str, ...]) -> type:
    doc = (
        f"{label} registry lookups (versions, latest, info) and resolution (resolve); "
        f'the same as @packages with "{ecosystem}".'
    )
    return type(
        f"{name.capitalize()}Operator",
        (_EcosystemOperator,),
        {"name": name, "ecosystem": ecosystem, "aliases": aliases, "__doc__": doc},
    )


ECOSYSTEM_OPERATORS: list[type] = [
    _ecosystem_operator("npm", "npm", "npm", ()),
    _ecosystem_operator("pip", "pypi", "PyPI", ("pypi",)),
    _ecosystem_operator("cargo", "cargo", "crates.io", ("crates",)),
    _ecosystem_operator("maven", "maven", "Maven", ()),
    _ecosystem_operator("nuget", "nuget", "NuGet", ()),
    _ecosystem_operator("gem", "rubygems", "RubyGems", ("rubygems",)),
    _ecosystem_operator("composer", "composer", "Composer/Packagist", ("packagist",)),
]


def package_operators() -> list[Operator]:
    return [PackagesOperator(), *(cls() for cls in ECOSYSTEM_OPERATORS)]
