"""``tuskops pkg lock | tree | why``: lock a project, and read the locked dependency graph.

The commands are exported, not registered: the ``pkg`` group adds them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tuskops.cli.output import handles_errors, stderr
from tuskops.errors import ManifestError, PackageError
from tuskops.packages import api
from tuskops.packages.lock import PYPI_MANIFESTS, lock_pypi, tree, why
from tuskops.packages.lock_npm import lock_npm
from tuskops.packages.manifests import Lockfile, read, write
from tuskops.packages.resolve.pubgrub import ResolutionImpossible

__all__ = ["detect_ecosystem", "lock_command", "tree_command", "why_command"]

#: File name (or ``*suffix``) -> the ecosystem whose project it marks, in detection order.
MARKERS: tuple[tuple[str, str], ...] = (
    *((name, "pypi") for name in PYPI_MANIFESTS),
    ("package.json", "npm"),
    ("Cargo.toml", "cargo"),
    ("pom.xml", "maven"),
    ("*.csproj", "nuget"),
    ("Gemfile", "rubygems"),
    ("gems.rb", "rubygems"),
    ("composer.json", "composer"),
)


class UnsupportedProject(PackageError):
    """A project tuskops cannot lock (yet): a usage problem, exit code 2."""

    exit_code = 2


def _matches(path: Path, marker: str) -> bool:
    if marker.startswith("*"):
        return path.name.endswith(marker[1:])
    return path.name == marker


def detect_ecosystem(project: Path) -> str:
    """The ecosystem of ``project`` (a directory, or one of its manifests) from its files."""
    if project.is_file():
        candidates = [project]
    elif project.is_dir():
        candidates = sorted(project.iterdir())
    else:
        raise UnsupportedProject(f"{project}: no such file or directory")
    for marker, ecosystem in MARKERS:
        if any(p.is_file() and _matches(p, marker) for p in candidates):
            return ecosystem
    known = ", ".join(m for m, _ in MARKERS)
    raise UnsupportedProject(f"{project}: no manifest to lock (looked for {known})")


def _default_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _lockfile_in(path: Path) -> Path:
    if path.is_dir():
        found = path / "pylock.toml"
        if not found.is_file():
            others = sorted(path.glob("pylock.*.toml"))
            if len(others) == 1:
                return others[0]
            raise ManifestError(str(path), "no pylock.toml here; run `tuskops pkg lock` first")
        return found
    return path


def _read_lock(path: Path) -> Lockfile:
    target = _lockfile_in(path)
    lock = read(target)
    if not isinstance(lock, Lockfile):
        raise ManifestError(str(target), "a manifest, not a lockfile")
    return lock


@click.command("lock", short_help="Resolve a project's dependencies into a lockfile.")
@click.argument(
    "path", type=click.Path(exists=True, path_type=Path), default=Path("."), required=False
)
@click.option(
    "--python",
    "python_version",
    metavar="VERSION",
    default=_default_python,
    show_default="this interpreter's",
    help="Target Python version (checked against Requires-Python, used in markers).",
)
@click.option(
    "--output-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the lockfile [default: PATH/pylock.toml, npm: PATH/package-lock.json].",
)
@click.option("--dry-run", is_flag=True, help="Resolve and show the result; write nothing.")
@click.option("--pre", is_flag=True, default=None, help="Allow pre-releases everywhere.")
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
    python_version: str,
    output_file: Path | None,
    dry_run: bool,
    pre: bool | None,
    offline: bool,
    registry: str | None,
    cache_dir: Path | None,
) -> None:
    """Resolve the dependencies of the project at PATH (default: here) and pin them.

    The ecosystem comes from the files present; PyPI projects (requirements.txt, else the
    [project] dependencies of pyproject.toml) are locked into a PEP 751 pylock.toml with every
    file's URL, size and hashes. When no set of versions works, the explanation is printed
    and the exit code is 1. npm projects (package.json) are locked into a lockfileVersion 3
    package-lock.json as npm would lay out node_modules (--python does not apply); npm's
    ERESOLVE / ETARGET errors exit with 1.

    \b
    Examples:
      tuskops pkg lock
      tuskops pkg lock services/api --python 3.11 --dry-run
    """
    ecosystem = detect_ecosystem(path)
    if ecosystem not in ("pypi", "npm"):
        raise UnsupportedProject(f"locking is not yet supported for {ecosystem} ({path})")
    project_dir = path if path.is_dir() else path.parent
    lookup = api.PackageLookup(
        project_dir=project_dir,
        offline=offline,
        registry=registry,
        cache_dir=(cache_dir / "http") if cache_dir is not None else None,
    )
    if ecosystem == "npm":
        _lock_npm_project(path, project_dir, lookup, output_file, dry_run)
        return
    target = output_file if output_file is not None else project_dir / "pylock.toml"
    err = stderr()
    if not err.is_terminal:  # no spinner in a log: one plain line instead
        click.echo(f"Resolving {path} for Python {python_version}...", err=True)
    try:
        with err.status(f"Resolving {path} for Python {python_version}...") as status:
            lock = lock_pypi(
                path,
                lookup=lookup,
                python_version=python_version,
                allow_prereleases=pre,
                output=target,
                progress=lambda message: status.update(f"{path}: {message}..."),
            )
    except ResolutionImpossible as exc:
        click.echo(f"error: cannot lock {path}: no set of versions works.\n", err=True)
        click.echo(exc.explanation, err=True)
        sys.exit(1)
    for package in lock.packages:
        click.echo(f"{package.name}=={package.version}")
    count = len(lock.packages)
    noun = "package" if count == 1 else "packages"
    if dry_run:
        click.echo(f"Resolved {count} {noun} for Python {python_version}; dry run, wrote nothing.")
        return
    write(lock, target)
    click.echo(f"Locked {count} {noun} for Python {python_version} into {target}.")


def _lock_npm_project(
    path: Path,
    project_dir: Path,
    lookup: api.PackageLookup,
    output_file: Path | None,
    dry_run: bool,
) -> None:
    target = output_file if output_file is not None else project_dir / "package-lock.json"
    err = stderr()
    if not err.is_terminal:
        click.echo(f"Resolving {path} (npm)...", err=True)
    with err.status(f"Resolving {path} (npm)..."):
        lock = lock_npm(path, lookup=lookup, output=target)
    for package in lock.packages:
        click.echo(f"{package.extra.get('path', package.name)} {package.version}")
    count = len(lock.packages)
    noun = "package" if count == 1 else "packages"
    if dry_run:
        click.echo(f"Resolved {count} {noun}; dry run, wrote nothing.")
        return
    write(lock, target)
    click.echo(f"Locked {count} {noun} into {target}.")


@click.command("tree", short_help="Show the locked dependency tree.")
@click.argument(
    "path", type=click.Path(exists=True, path_type=Path), default=Path("."), required=False
)
@handles_errors
def tree_command(path: Path) -> None:
    """Show the dependency tree of the lockfile at PATH (a pylock.toml, or a directory with
    one), from the project's requirements down; (*) marks a package shown above."""
    click.echo(tree(_read_lock(path)), nl=False)


@click.command("why", short_help="Show why a package is in the lockfile.")
@click.argument("name")
@click.argument(
    "path", type=click.Path(exists=True, path_type=Path), default=Path("."), required=False
)
@handles_errors
def why_command(name: str, path: Path) -> None:
    """Show every dependency path from the project's requirements to NAME in the lockfile at
    PATH (a pylock.toml, or a directory with one)."""
    lock = _read_lock(path)
    paths = why(lock, name)
    versions = {p.name: p.version for p in lock.packages}
    if not paths:
        click.echo(f"nothing the project requires leads to {name}")
        return
    for chain in paths:
        click.echo(" -> ".join(f"{n} {versions.get(n, '')}".rstrip() for n in chain))
