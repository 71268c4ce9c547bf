"""``tuskops pkg``: packages of seven ecosystems."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape
from rich.table import Table

from tuskops.cli.output import OUTPUT_CHOICE, handles_errors, print_json, stdout
from tuskops.packages import api
from tuskops.packages.http import run
from tuskops.packages.manifests import read
from tuskops.packages.settings import RegistrySettings

F = TypeVar("F", bound=Callable[..., Any])

ECOSYSTEMS_HELP = (
    "npm, pypi (pip), cargo (crates), maven, nuget, rubygems (gem), composer (packagist)"
)


@click.group("pkg", short_help="Packages: versions, metadata, manifests and lockfiles.")
def pkg_group() -> None:
    """Packages of npm, PyPI, Cargo, Maven, NuGet, RubyGems and Composer.

    Registries and credentials come from each ecosystem's usual files (.npmrc, pip.conf,
    .netrc, ~/.cargo/config.toml, ~/.m2/settings.xml, NuGet.config, Bundler's config,
    Composer's auth.json); `tuskops pkg config ECO` shows what was found. Answers are cached
    (see `--offline`).

    \b
    Examples:
      tuskops pkg versions npm express
      tuskops pkg info pypi django@4.2
      tuskops pkg info maven org.slf4j:slf4j-api --output json
      tuskops pkg parse package-lock.json
    """


def _lookup_options(func: F) -> F:
    options = [
        click.option(
            "--offline",
            is_flag=True,
            help="Answer from the cache only; fail clearly when something is not cached.",
        ),
        click.option(
            "--registry",
            metavar="URL",
            help="Ask this registry instead of the configured ones.",
        ),
        click.option(
            "--project",
            "project_dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Read settings as from this directory (default: the current one).",
        ),
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False, path_type=Path),
            envvar="TUSKOPS_CACHE_DIR",
            help="HTTP cache directory [env TUSKOPS_CACHE_DIR; default ~/.cache/tuskops].",
        ),
        click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _lookup(
    offline: bool, registry: str | None, project_dir: Path | None, cache_dir: Path | None
) -> api.PackageLookup:
    return api.PackageLookup(
        project_dir=project_dir,
        offline=offline,
        registry=registry,
        cache_dir=(cache_dir / "http") if cache_dir is not None else None,
    )


def _flags(entry: api.VersionEntry, latest: str | None) -> str:
    marks = []
    if entry.version == latest:
        marks.append("[green]latest[/]")
    if entry.prerelease:
        marks.append("pre-release")
    if entry.yanked is not None:
        marks.append("[red]yanked[/]" + (f": {escape(entry.yanked)}" if entry.yanked else ""))
    if entry.deprecated:
        marks.append("[yellow]deprecated[/]: " + escape(entry.deprecated))
    if not entry.valid:
        marks.append("[dim]not a valid version[/]")
    return ", ".join(marks)


@pkg_group.command("versions", short_help="List every version of a package.")
@click.argument("ecosystem", metavar="ECO")
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=1), help="Only the newest N versions.")
@click.option("--stable", is_flag=True, help="Leave out pre-releases and yanked versions.")
@_lookup_options
@handles_errors
def versions_command(
    ecosystem: str,
    name: str,
    limit: int | None,
    stable: bool,
    offline: bool,
    registry: str | None,
    project_dir: Path | None,
    cache_dir: Path | None,
    output: str,
) -> None:
    """List every version of NAME in ECO, oldest first, as the ecosystem orders them.

    ECO is one of: npm, pypi (pip), cargo (crates), maven, nuget, rubygems (gem),
    composer (packagist). Maven names are groupId:artifactId. Yanked, deprecated and
    pre-release versions are marked; "latest" is the newest stable, unyanked version (npm:
    the `latest` dist-tag).

    \b
    Examples:
      tuskops pkg versions npm express --limit 5
      tuskops pkg versions pip django --stable
      tuskops pkg versions maven org.slf4j:slf4j-api --output json
      tuskops pkg versions npm @types/node --offline
    """

    async def go() -> api.VersionList:
        async with _lookup(offline, registry, project_dir, cache_dir) as lookup:
            return await lookup.versions(ecosystem, name)

    listing = run(go())
    entries = [
        e
        for e in listing.versions
        if not stable or (e.valid and not e.prerelease and e.yanked is None)
    ]
    if limit is not None:
        entries = entries[-limit:]
    if output == "json":
        data = listing.to_json()
        data["versions"] = [e.__dict__ for e in entries]
        print_json(data)
        return
    console = stdout()
    table = Table(box=None, pad_edge=False, show_header=False)
    table.add_column("version")
    table.add_column("published", style="dim")
    table.add_column("notes")
    for entry in entries:
        table.add_row(
            escape(entry.version), (entry.published or "")[:10], _flags(entry, listing.latest)
        )
    console.print(table)
    shown = (
        f"{len(entries)} of {len(listing.versions)}"
        if len(entries) != len(listing.versions)
        else str(len(entries))
    )
    sources = ", ".join(r.split()[1] for r in listing.registries)
    console.print(
        f"[bold]{escape(listing.name)}[/]: {shown} versions, latest "
        f"{escape(listing.latest or 'unknown')} (from {escape(sources)})"
    )


@pkg_group.command("info", short_help="Show one version: dependencies, license, files, hashes.")
@click.argument("ecosystem", metavar="ECO")
@click.argument("spec", metavar="NAME[@VERSION]")
@_lookup_options
@handles_errors
def info_command(
    ecosystem: str,
    spec: str,
    offline: bool,
    registry: str | None,
    project_dir: Path | None,
    cache_dir: Path | None,
    output: str,
) -> None:
    """Show one version of a package: dependencies, license, files with hashes, and whether
    it is yanked or deprecated. Without @VERSION, the latest stable version.

    Dependencies a registry does not list for a version are shown as unknown, never as none.

    \b
    Examples:
      tuskops pkg info pypi django@4.2
      tuskops pkg info npm @types/node
      tuskops pkg info maven org.slf4j:slf4j-api@2.0.9 --output json
    """
    name, version = api.split_spec(spec)

    async def go() -> api.PackageDetails:
        async with _lookup(offline, registry, project_dir, cache_dir) as lookup:
            return await lookup.info(ecosystem, name, version)

    details = run(go())
    if output == "json":
        print_json(details.to_json())
        return
    _print_details(details)


#: Which digest to show when a file has several: the strongest.
_HASH_PREFERENCE = ("sha512", "sha384", "sha256", "sha1", "md5")


def _print_details(d: api.PackageDetails) -> None:
    console = stdout()
    title = f"[bold]{escape(d.name)}[/] {escape(d.version)}"
    if d.version == d.latest:
        title += " [green](latest)[/]"
    console.print(f"{title}  [dim]{api.LABELS[d.ecosystem]}, {escape(d.registry)}[/]")
    rows: list[tuple[str, str]] = [
        ("license", escape(d.license) if d.license else "[dim]unknown[/]"),
        ("published", escape(d.published or "unknown")),
    ]
    if d.yanked is not None:
        rows.append(("yanked", "[red]yes[/]" + (f": {escape(d.yanked)}" if d.yanked else "")))
    if d.deprecated:
        rows.append(("deprecated", "[yellow]" + escape(d.deprecated) + "[/]"))
    if d.latest and d.latest != d.version:
        rows.append(("latest", escape(d.latest)))
    requires_python = d.extra.get("requires_python")
    if requires_python:
        rows.append(("requires-python", escape(str(requires_python))))
    for key, value in rows:
        console.print(f"{key + ':':<17}{value}")
    source = d.extra.get("metadata_source")
    if source:
        unverified = d.extra.get("metadata_verified") is False
        note = " [yellow](not hash-verified: read by range requests)[/]" if unverified else ""
        rows_source = f"{'metadata:':<17}{escape(str(source))}{note}"
        console.print(rows_source)
    if d.dependencies is None:
        console.print("dependencies:    [dim]unknown (the registry does not list them)[/]")
    else:
        console.print(f"dependencies ({len(d.dependencies)}):")
        for dep in d.dependencies:
            text = f"  {escape(dep.name)} {escape(dep.constraint)}".rstrip()
            notes = [dep.kind] if dep.kind != "normal" else []
            if dep.optional:
                notes.append("optional")
            if dep.markers:
                notes.append(escape(dep.markers))
            if dep.extras:
                notes.append("extras: " + escape(",".join(dep.extras)))
            console.print(text + (f"  [dim]{'; '.join(notes)}[/]" if notes else ""))
    if d.artifacts:
        console.print(f"files ({len(d.artifacts)}):")
        for art in d.artifacts:
            name = art.filename or art.url.rsplit("/", 1)[-1]
            digest = next(
                ((alg, art.hashes[alg]) for alg in _HASH_PREFERENCE if alg in art.hashes),
                next(iter(sorted(art.hashes.items())), None),
            )
            hashed = f"{digest[0]}:{digest[1]}" if digest else "[yellow]no hash[/]"
            size = f"  {art.size:,} B" if art.size is not None else ""
            console.print(f"  {escape(name)}  [dim]{escape(hashed)}{size}[/]")


@pkg_group.command("config", short_help="Show the registries and credentials an ecosystem uses.")
@click.argument("ecosystem", metavar="ECO")
@click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Read settings as from this directory (default: the current one).",
)
@click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True)
@handles_errors
def config_command(ecosystem: str, project_dir: Path | None, output: str) -> None:
    """Show where ECO's packages come from: registries in lookup order, scoped routes,
    credentials (never their values) and the files they were read from, as the native tool
    would read them from the project directory.

    \b
    Examples:
      tuskops pkg config npm
      tuskops pkg config pip --output json
    """
    settings = api.PackageLookup(project_dir=project_dir).settings(ecosystem)
    if output == "json":
        print_json(settings.to_json())
        return
    _print_settings(settings)


def _print_settings(s: RegistrySettings) -> None:
    console = stdout()
    how = "the first that has a package answers" if s.lookup == "first" else "all are merged"
    console.print(f"[bold]{api.LABELS[s.ecosystem]}[/] registries ({how}):")
    for reg in s.registries:
        mirror = f" (mirror of {escape(reg.mirror_of)})" if reg.mirror_of else ""
        console.print(
            f"  {escape(reg.name)}  {escape(reg.url)}{mirror}  [dim]{escape(reg.source)}[/]"
        )
    if s.routes:
        console.print("routes:")
        for scope, reg in s.routes.items():
            console.print(f"  {escape(scope)} -> {escape(reg.url)}  [dim]{escape(reg.source)}[/]")
    console.print("credentials:" if s.credentials else "credentials: none")
    for cred in s.credentials:
        who = f" as {escape(cred.username)}" if cred.username else ""
        console.print(f"  {escape(cred.prefix)}  {cred.kind}{who}  [dim]{escape(cred.source)}[/]")
    if s.files:
        console.print("files read: " + ", ".join(escape(f) for f in s.files))
    for warning in s.warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")


@pkg_group.command("parse", short_help="Read a manifest or lockfile into normalised JSON.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@handles_errors
def parse_command(file: Path) -> None:
    """Read FILE (any supported manifest or lockfile) and print it as normalised JSON.

    The ecosystem is recognised from the file name: package.json, package-lock.json,
    requirements*.txt, pyproject.toml, uv.lock, pylock.toml, Cargo.toml, Cargo.lock, *.csproj,
    packages.lock.json, pom.xml, Gemfile, Gemfile.lock, composer.json, composer.lock.
    Constraints stay in the ecosystem's own syntax. A malformed file is an error naming the
    file and the line:col or the field (exit 2).
    """
    print_json(read(file).to_json())


@pkg_group.command("download", short_help="Fetch a release's file, verified against its checksum.")
@click.argument("ecosystem", metavar="ECO")
@click.argument("spec", metavar="NAME[@VERSION]")
@click.option(
    "--dest",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory to write the file into.",
)
@click.option("--file", "filename", metavar="FILENAME", help="Which file of the release.")
@click.option(
    "--allow-unverified",
    is_flag=True,
    help="Fetch even when the registry gives no checksum for the file (said plainly).",
)
@_lookup_options
@handles_errors
def download_command(
    ecosystem: str,
    spec: str,
    dest: Path,
    filename: str | None,
    allow_unverified: bool,
    offline: bool,
    registry: str | None,
    project_dir: Path | None,
    cache_dir: Path | None,
    output: str,
) -> None:
    """Fetch one file of a release (default: the latest stable version's main file: the npm
    tarball, the .crate, the .gem, the .nupkg, the jar, a pure-Python wheel or else the
    sdist), check it against the registry's checksum, and write it into --dest atomically.

    A file whose checksum does not match is an error and is not written. A registry that gives
    no checksum (e.g. Packagist dists of GitHub zipballs) is refused unless
    --allow-unverified.

    \b
    Examples:
      tuskops pkg download npm left-pad@1.3.0
      tuskops pkg download pip requests@2.31.0 --dest wheels/
      tuskops pkg download pypi django@4.2 --file Django-4.2.tar.gz
    """
    name, version = api.split_spec(spec)

    async def go() -> api.Downloaded:
        async with _lookup(offline, registry, project_dir, cache_dir) as lookup:
            return await lookup.download(
                ecosystem,
                name,
                version,
                dest=dest,
                filename=filename,
                allow_unverified=allow_unverified,
            )

    done = run(go())
    if output == "json":
        print_json(done.to_json())
        return
    how = (
        f"verified ({', '.join(done.verified)})"
        if done.verified
        else "[yellow]NOT verified: the registry gives no checksum[/]"
    )
    stdout().print(f"{escape(done.path)}  {done.size:,} bytes, {how}")


def _register() -> None:
    from tuskops.cli.pkg_lock_cmd import lock_command, tree_command, why_command

    for command in (lock_command, tree_command, why_command):
        pkg_group.add_command(command)


_register()
