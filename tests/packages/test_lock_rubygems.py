"""lock_rubygems and ``tuskops pkg lock|tree|why`` for Bundler projects, against local compact
indexes (tests/_support/gem_registry.py)."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest
from click.testing import CliRunner

from _support.gem_registry import GemRegistry, Graph, gem_checksum
from tuskops.cli.pkg_lock_cmd import lock_command, tree_command, why_command
from tuskops.errors import ManifestError
from tuskops.packages.api import PackageLookup
from tuskops.packages.ecosystems.rubygems_files import read_gemfile_lock, write_gemfile_lock
from tuskops.packages.lock import why
from tuskops.packages.lock_rubygems import lock_rubygems_project
from tuskops.packages.locking import LockRequest, lock
from tuskops.packages.manifests import Lockfile

GRAPH: Graph = {
    "rails": {
        "7.0.0": {"deps": {"rack": "~> 2.2", "tzinfo": ">= 2"}},
        "7.1.0": {"deps": {"rack": ">= 2.2.4", "tzinfo": ">= 2"}},
    },
    "rack": {"2.2.3": {}, "2.2.8": {}, "3.0.0": {}},
    "tzinfo": {"2.0.5": {"deps": {"concurrent-ruby": "~> 1.0"}}, "2.0.6": {}},
    "concurrent-ruby": {"1.2.2": {}},
    "rspec": {"3.12.0": {"deps": {"rspec-core": "~> 3.12.0"}}},
    "rspec-core": {"3.12.0": {}, "3.12.2": {}},
    "jruby-only": {"1.0.0": {}},
    "fast": {"1.0.0": {}, "1.0.0-x86_64-linux": {}},
}

PRIVATE: Graph = {"secret-sauce": {"0.1.0": {"deps": {"rack": ">= 2"}}}}

#: The target, fixed so the lockfile does not depend on this machine's Ruby.
OPTIONS = {
    "ruby_version": "3.1.2",
    "rubygems_version": "3.3.15",
    "platforms": ["x86_64-linux"],
    "bundler_version": "2.3.15",
}


@pytest.fixture
def gems() -> Generator[GemRegistry, None, None]:
    with GemRegistry(GRAPH) as registry:
        yield registry


@pytest.fixture
def private() -> Generator[GemRegistry, None, None]:
    with GemRegistry(PRIVATE) as registry:
        yield registry


def project(tmp_path: Path, gems: GemRegistry, body: str) -> Path:
    root = tmp_path / "app"
    root.mkdir(exist_ok=True)
    (root / "Gemfile").write_text(f'source "{gems.base}"\n\n{body}')
    return root


def request(tmp_path: Path, root: Path, **kwargs: object) -> LockRequest:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    lookup = PackageLookup(project_dir=root, env={}, home=home, cache_dir=home / "cache")
    return LockRequest(lookup=lookup, options=OPTIONS, **kwargs)  # type: ignore[arg-type]


def locked(lock: Lockfile) -> dict[str, str]:
    return {p.name: p.version for p in lock.packages}


def test_lock_writes_gemfile_lock_as_bundler_does(
    tmp_path: Path, gems: GemRegistry, private: GemRegistry
) -> None:
    root = project(
        tmp_path,
        gems,
        'ruby "~> 3.1"\n\ngem "rails", "~> 7.0.0"\ngem "fast"\n'
        'gem "jruby-only", platforms: :jruby\n\n'
        'group :test, :development do\n  gem "rspec", "~> 3.12"\nend\n\n'
        f'source "{private.base}" do\n  gem "secret-sauce"\nend\n',
    )
    result = lock(root, request(tmp_path, root), ecosystem="rubygems")
    assert result.path == str(root / "Gemfile.lock")
    fast = gem_checksum("fast", "1.0.0-x86_64-linux")
    assert {p.name: p.hashes for p in result.packages}["fast"] == (f"sha256={fast}",)
    public_section = (
        "GEM\n"
        f"  remote: {gems.source}\n"
        "  specs:\n"
        "    fast (1.0.0-x86_64-linux)\n"
        "    rack (2.2.8)\n"
        "    rails (7.0.0)\n"
        "      rack (~> 2.2)\n"
        "      tzinfo (>= 2)\n"
        "    rspec (3.12.0)\n"
        "      rspec-core (~> 3.12.0)\n"
        "    rspec-core (3.12.2)\n"
        "    tzinfo (2.0.6)\n"
    )
    private_section = (
        f"GEM\n  remote: {private.source}\n  specs:\n    secret-sauce (0.1.0)\n      rack (>= 2)\n"
    )
    # Bundler orders GEM sections by "rubygems repository URL".
    sections = sorted([(gems.source, public_section), (private.source, private_section)])
    assert write_gemfile_lock(result) == (
        "\n".join(text for _, text in sections) + "\n"
        "PLATFORMS\n"
        "  x86_64-linux\n"
        "\n"
        "DEPENDENCIES\n"
        "  fast\n"
        "  jruby-only\n"
        "  rails (~> 7.0.0)\n"
        "  rspec (~> 3.12)\n"
        "  secret-sauce!\n"
        "\n"
        "RUBY VERSION\n"
        "   ruby 3.1.2\n"
        "\n"
        "BUNDLED WITH\n"
        "   2.3.15\n"
    )
    # Only the private source was asked for the gem of its block; it was asked for that
    # gem's dependencies too (Bundler pins those it has), and has no rack.
    assert sorted(set(private.paths())) == ["/info/rack", "/info/secret-sauce"]
    assert "/info/secret-sauce" not in gems.paths()


def test_relock_keeps_locked_versions_unless_upgraded(tmp_path: Path, gems: GemRegistry) -> None:
    root = project(tmp_path, gems, 'gem "rails"\n')
    (root / "Gemfile.lock").write_text(
        "GEM\n"
        f"  remote: {gems.source}\n"
        "  specs:\n"
        "    rack (2.2.3)\n"
        "    rails (7.0.0)\n"
        "      rack (~> 2.2)\n"
        "      tzinfo (>= 2)\n"
        "    tzinfo (2.0.5)\n"
        "      concurrent-ruby (~> 1.0)\n"
        "    concurrent-ruby (1.2.2)\n"
        "\n"
        "PLATFORMS\n"
        "  ruby\n"
        "\n"
        "DEPENDENCIES\n"
        "  rails\n"
        "\n"
        "BUNDLED WITH\n"
        "   2.2.0\n"
    )
    kept = lock_rubygems_project(root, request(tmp_path, root))
    assert locked(kept) == {
        "rails": "7.0.0",
        "rack": "2.2.3",
        "tzinfo": "2.0.5",
        "concurrent-ruby": "1.2.2",
    }
    assert kept.extra["bundled_with"] == "2.2.0"
    freed = lock_rubygems_project(root, request(tmp_path, root, upgrade=frozenset({"tzinfo"})))
    assert locked(freed) == {"rails": "7.0.0", "rack": "2.2.3", "tzinfo": "2.0.6"}
    # As `bundle lock --update rails`: rails and what it depends on move.
    upgraded = lock_rubygems_project(root, request(tmp_path, root, upgrade=frozenset({"rails"})))
    assert locked(upgraded) == {"rails": "7.1.0", "rack": "3.0.0", "tzinfo": "2.0.6"}
    everything = lock_rubygems_project(root, request(tmp_path, root, upgrade_all=True))
    assert locked(everything) == {"rails": "7.1.0", "rack": "3.0.0", "tzinfo": "2.0.6"}


def test_unsupported_sources_are_refused_by_name(tmp_path: Path, gems: GemRegistry) -> None:
    root = project(tmp_path, gems, 'gem "rack"\ngem "mine", path: "vendor/mine"\n')
    with pytest.raises(ManifestError, match="mine: gems from path sources"):
        lock_rubygems_project(root, request(tmp_path, root))
    (root / "Gemfile").write_text(f'source "{gems.base}"\ngemspec\n')
    with pytest.raises(ManifestError, match="gemspec"):
        lock_rubygems_project(root, request(tmp_path, root))


def test_pkg_lock_tree_and_why_on_a_gemfile(
    tmp_path: Path, gems: GemRegistry, package_env: Path
) -> None:
    root = project(tmp_path, gems, 'gem "rails", "~> 7.0.0"\ngem "rspec"\n')
    runner = CliRunner()
    result = runner.invoke(lock_command, [str(root)])
    assert result.exit_code == 0, result.output
    written = root / "Gemfile.lock"
    text = written.read_text()
    assert "    rails (7.0.0)\n      rack (~> 2.2)\n" in text
    assert "DEPENDENCIES\n  rails (~> 7.0.0)\n  rspec\n" in text
    # What was written reads back, and writes back the same.
    assert write_gemfile_lock(read_gemfile_lock(written)) == text

    tree = runner.invoke(tree_command, [str(root)])
    assert tree.exit_code == 0, tree.output
    assert tree.output.splitlines()[0] == "rails 7.0.0"
    assert "├── rack 2.2.8" in tree.output
    assert "rspec-core 3.12.2" in tree.output

    result = runner.invoke(why_command, ["concurrent-ruby", str(root)])
    assert result.exit_code == 1  # tzinfo 2.0.6 needs nothing: not locked
    assert "concurrent-ruby is not in" in result.output
    paths = why(read_gemfile_lock(written), "rack")
    assert paths == [["rails", "rack"]]
    rack = runner.invoke(why_command, ["rspec-core", str(root)])
    assert rack.output.strip() == "rspec 3.12.0 -> rspec-core 3.12.2"


def test_pkg_lock_conflict_prints_the_explanation(
    tmp_path: Path, gems: GemRegistry, package_env: Path
) -> None:
    root = project(tmp_path, gems, 'gem "rails", "~> 7.0.0"\ngem "rack", ">= 3"\n')
    result = CliRunner().invoke(lock_command, [str(root)])
    assert result.exit_code == 1
    assert "depends on rack (~> 2.2)" in result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("So, because the Gemfile depends on ")
    assert last.endswith(", version solving failed.")
    assert "rails (~> 7.0.0)" in result.output
    assert "rack (>= 3)" in result.output
    assert not (root / "Gemfile.lock").exists()
