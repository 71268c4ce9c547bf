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

The actions that come with later work (``resolve``, ``lock``, ``audit``, ``sbom``) answer "not
implemented yet", never made-up data.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from tuskops.core.operator import Action, CallContext, Operator, action
from tuskops.errors import NotImplementedOperatorError, OfflineError, OperatorError, PackageError

if TYPE_CHECKING:
    from tuskops.packages.api import PackageDetails, VersionList

#: Actions reserved for later work on the package layer.
PLANNED_ACTIONS = ("resolve", "lock", "audit", "sbom")


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


def _ecosystem_operator(name: str, ecosystem: str, label: str, aliases: tuple[str, ...]) -> type:
    doc = (
        f'{label} registry lookups: versions, latest, info (same as @packages with "{ecosystem}").'
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
