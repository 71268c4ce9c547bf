"""``tuskops pkg lock | tree | why``: lock a project, and read the locked dependency graph.

The commands are exported, not registered: the ``pkg`` group adds them.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import click
from packaging.utils import canonicalize_name

from tuskops.cli.output import handles_errors, stderr
from tuskops.errors import ManifestError
from tuskops.packages import api
from tuskops.packages.lock_graph import lock_graph, render_tree, why_paths
from tuskops.packages.locking import LockRequest, detect_ecosystem, lock, lockfile_in
from tuskops.packages.manifests import LockedPackage, Lockfile, read, write
from tuskops.packages.resolve.pubgrub import ResolutionImpossible

__all__ = ["detect_ecosystem", "lock_command", "tree_command", "why_command"]


def _read_lock(path: Path) -> Lockfile:
    target = lockfile_in(path)
    lock = read(target)
    if not isinstance(lock, Lockfile):
        raise ManifestError(str(target), "a manifest, not a lockfile")
    return lock


def _package_line(ecosystem: str, package: LockedPackage) -> str:
    if ecosystem == "pypi":  # as pip freeze writes it
        return f"{package.name}=={package.version}"
    return f"{package.extra.get('path', package.name)} {package.version}"


@click.command("lock", short_help="Resolve a project's dependencies into a lockfile.")
@click.argument(
    "path", type=click.Path(exists=True, path_type=Path), default=Path("."), required=False
)
@click.option(
    "--python",
    "python_version",
    metavar="VERSION",
    help="PyPI: target Python version (checked against Requires-Python, used in markers) "
    "[default: this interpreter's].",
)
@click.option(
    "--output-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the lockfile [default: the ecosystem's lockfile next to the "
    "manifest: pylock.toml, package-lock.json, Cargo.lock, Gemfile.lock, composer.lock, "
    "packages.lock.json, dependency-tree.json].",
)
@click.option("--dry-run", is_flag=True, help="Resolve and show the result; write nothing.")
@click.option("--pre", is_flag=True, default=None, help="Allow pre-releases everywhere.")
@click.option(
    "--upgrade",
    "-P",
    "upgrade",
    metavar="NAME",
    multiple=True,
    help="Let NAME move to its newest allowed version; everything else keeps its locked "
    "version where the manifest still allows it. Repeatable.",
)
@click.option(
    "--upgrade-all", "-U", is_flag=True, help="Ignore the existing lockfile: newest everywhere."
)
@click.option(
    "--legacy-peer-deps", is_flag=True, help="npm: ignore peer dependencies, as npm's flag does."
)
@click.option(
    "--offline",
    is_flag=True,
    help="Answer from the cache only; fail clearly when something is not cached.",
)
@click.option("--registry", metavar="URL", help="Ask this index instead of the configured ones.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="TUSKOPS_CACHE_DIR",
    help="HTTP cache directory [env TUSKOPS_CACHE_DIR; default ~/.cache/tuskops].",
)
@handles_errors
def lock_command(
    path: Path,
    python_version: str | None,
    output_file: Path | None,
    dry_run: bool,
    pre: bool | None,
    upgrade: tuple[str, ...],
    upgrade_all: bool,
    legacy_peer_deps: bool,
    offline: bool,
    registry: str | None,
    cache_dir: Path | None,
) -> None:
    """Resolve the dependencies of the project at PATH (default: here) and pin them.

    The ecosystem comes from the files present (requirements.txt or pyproject.toml,
    package.json, Cargo.toml, pom.xml, *.csproj, Gemfile, composer.json) and the lockfile is
    the ecosystem's own, resolved by its rules. An existing lockfile's versions are kept
    where the manifest still allows them, unless --upgrade NAME or --upgrade-all. When no
    set of versions works, the explanation is printed and the exit code is 1.

    \b
    Examples:
      tuskops pkg lock
      tuskops pkg lock services/api --python 3.11 --dry-run
      tuskops pkg lock --upgrade requests
    """
    ecosystem = detect_ecosystem(path)
    project_dir = path if path.is_dir() else path.parent
    lookup = api.PackageLookup(
        project_dir=project_dir,
        offline=offline,
        registry=registry,
        cache_dir=(cache_dir / "http") if cache_dir is not None else None,
    )
    err = stderr()
    title = f"Resolving {path} ({ecosystem})"
    scope = ""
    if ecosystem == "pypi":
        # This interpreter's full version, as pip uses it (markers on python_full_version).
        python_version = python_version or platform.python_version()
        scope = f" for Python {python_version}"
        title += scope
    if not err.is_terminal:  # no spinner in a log: one plain line instead
        click.echo(f"{title}...", err=True)
    try:
        with err.status(f"{title}...") as status:
            request = LockRequest(
                lookup=lookup,
                output=output_file,
                python_version=python_version,
                allow_prereleases=pre,
                upgrade=frozenset(upgrade),
                upgrade_all=upgrade_all,
                progress=lambda message: status.update(f"{path}: {message}..."),
                options={"legacy_peer_deps": legacy_peer_deps},
            )
            lockfile = lock(path, request, ecosystem=ecosystem)
    except ResolutionImpossible as exc:
        click.echo(f"error: cannot lock {path}: no set of versions works.\n", err=True)
        click.echo(exc.explanation, err=True)
        sys.exit(1)
    for package in lockfile.packages:
        click.echo(_package_line(ecosystem, package))
    count = len(lockfile.packages)
    noun = "package" if count == 1 else "packages"
    if dry_run:
        click.echo(f"Resolved {count} {noun}{scope}; dry run, wrote nothing.")
        return
    write(lockfile, lockfile.path)
    click.echo(f"Locked {count} {noun}{scope} into {lockfile.path}.")


@click.command("tree", short_help="Show the locked dependency tree.")
@click.argument(
    "path", type=click.Path(exists=True, path_type=Path), default=Path("."), required=False
)
@handles_errors
def tree_command(path: Path) -> None:
    """Show the dependency tree of the lockfile at PATH (a lockfile, or a directory with
    one), from the project's requirements down; (*) marks a package shown above."""
    lock = _read_lock(path)
    if lock.ecosystem == "maven":  # as `mvn dependency:tree` prints it
        from tuskops.packages.ecosystems.maven_tree_files import render_tree as maven_tree

        click.echo(maven_tree(lock), nl=False)
        return
    click.echo(render_tree(lock_graph(lock)), nl=False)


@click.command("why", short_help="Show why a package is in the lockfile.")
@click.argument("name")
@click.argument(
    "path", type=click.Path(exists=True, path_type=Path), default=Path("."), required=False
)
@handles_errors
def why_command(name: str, path: Path) -> None:
    """Show every dependency path from the project's requirements to NAME in the lockfile at
    PATH (a lockfile, or a directory with one)."""
    lock = _read_lock(path)
    if lock.ecosystem == "maven":  # groupId:artifactId names, classifiers kept apart
        from tuskops.packages.ecosystems.maven_tree_files import why as maven_why

        packages = {canonicalize_name(p.name): p for p in reversed(lock.packages)}

        def label(key: str) -> str:
            package = packages.get(canonicalize_name(key))
            return f"{package.name} {package.version}" if package is not None else key

        paths = maven_why(lock, name)
    else:
        graph = lock_graph(lock)
        label = graph.label
        paths = why_paths(graph, name, lock.path or "the lockfile")
    if not paths:
        click.echo(f"nothing the project requires leads to {name}")
        return
    for chain in paths:
        click.echo(" -> ".join(label(n) for n in chain))
