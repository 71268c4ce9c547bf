"""``tuskops pkg``: packages of seven ecosystems."""

from __future__ import annotations

from pathlib import Path

import click

from tuskops.cli.output import handles_errors, print_json
from tuskops.packages.manifests import read


@click.group("pkg", short_help="Packages: manifests, lockfiles and versions of seven ecosystems.")
def pkg_group() -> None:
    """Packages of npm, PyPI, Cargo, Maven, NuGet, RubyGems and Composer.

    \b
    Examples:
      tuskops pkg parse package-lock.json
      tuskops pkg parse pom.xml | jq '.dependencies[].name'
    """


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
