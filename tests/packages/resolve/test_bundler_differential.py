"""Differential tests: the same Gemfile and compact index resolved by Bundler (``bundle lock``)
and by tuskops (:func:`lock_rubygems_project`), the ``Gemfile.lock`` texts compared.

Each case starts its own compact-index server (tests/_support/gem_registry.py). Bundler 2.3
asks it for ``/versions`` and then ``/info/NAME`` of each gem it needs (checked below), with a
fresh ``HOME`` and ``BUNDLE_USER_HOME`` so no cache or configuration of the machine is used;
nothing reaches the network. Where both fail, both must fail (the messages differ by design:
PubGrub's explanation against Molinillo's).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import pytest

from _support.gem_registry import GemRegistry, Graph
from tuskops.packages.api import PackageLookup
from tuskops.packages.ecosystems.rubygems_files import write_gemfile_lock
from tuskops.packages.lock_rubygems import lock_rubygems_project
from tuskops.packages.locking import LockRequest
from tuskops.packages.resolve.pubgrub import ResolutionImpossible

BUNDLE = shutil.which("bundle")


def _bundle_env(home: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "BUNDLE_USER_HOME": str(home / ".bundle"),
        "BUNDLE_USER_CONFIG": str(home / ".bundle" / "config"),
        "BUNDLE_USER_CACHE": str(home / ".bundle" / "cache"),
        "GEM_HOME": str(home / "gems"),
        "LANG": "C.UTF-8",
    }
    return env


def bundle_lock(
    registry: GemRegistry,
    gemfile: str,
    where: Path,
    *args: str,
    previous: str | None = None,
) -> tuple[int, str, str]:
    """``bundle lock ARGS`` in a fresh project (with ``previous`` as its Gemfile.lock):
    (exit code, Gemfile.lock text or "", output)."""
    if BUNDLE is None:
        pytest.skip("Bundler (`bundle`) is not installed")
    project = where / "bundler"
    project.mkdir()
    (project / "Gemfile").write_text(gemfile)
    if previous is not None:
        (project / "Gemfile.lock").write_text(previous)
    home = where / "bundler-home"
    home.mkdir()
    done = subprocess.run(
        [BUNDLE, "lock", *args],
        cwd=project,
        env=_bundle_env(home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lock = project / "Gemfile.lock"
    text = lock.read_text() if lock.is_file() else ""
    return done.returncode, text, done.stdout + done.stderr


def tuskops_lock(
    gemfile: str, where: Path, *, previous: str | None = None, upgrade: frozenset[str] = frozenset()
) -> tuple[str | None, str]:
    """tuskops's Gemfile.lock text (None when no set of versions works) and explanation."""
    project = where / "tuskops"
    project.mkdir()
    (project / "Gemfile").write_text(gemfile)
    if previous is not None:
        (project / "Gemfile.lock").write_text(previous)
    home = where / "tuskops-home"
    home.mkdir()
    lookup = PackageLookup(project_dir=project, env={}, home=home, cache_dir=home / "cache")
    try:
        lock = lock_rubygems_project(project, LockRequest(lookup=lookup, upgrade=upgrade))
    except ResolutionImpossible as exc:
        return None, exc.explanation
    return write_gemfile_lock(lock), ""


def gemfile(registry: GemRegistry, body: str) -> str:
    return f'source "{registry.base}"\n\n{body}'


def compare(graph: Graph, body: str, tmp_path: Path, second: Graph | None = None) -> None:
    """Lock with Bundler and tuskops; the same lockfile, or both fail. ``{second}`` in
    ``body`` is the URL of a second source serving ``second``."""
    with GemRegistry(graph) as registry, GemRegistry(second or {}) as other:
        text = gemfile(registry, body.replace("{second}", other.base))
        code, bundler_lock, output = bundle_lock(registry, text, tmp_path)
        asked = registry.paths() + other.paths()
        ours, explanation = tuskops_lock(text, tmp_path)
    assert "/versions" in asked, asked
    assert all(p == "/versions" or p.startswith("/info/") for p in asked), asked
    if code != 0:
        assert "could not find compatible versions" in output.lower(), output
        assert ours is None, f"Bundler failed ({output}) but tuskops locked:\n{ours}"
        assert explanation.rstrip().endswith("version solving failed."), explanation
        return
    assert ours is not None, f"tuskops failed where Bundler locked:\n{explanation}"
    assert ours == bundler_lock


#: name -> (graph, Gemfile body after the source line)
CASES: Mapping[str, tuple[Graph, str]] = {
    "pessimistic ranges and a shared dependency": (
        {
            "rails": {
                "6.1.0": {"deps": {"activesupport": "= 6.1.0", "rack": "~> 2.0"}},
                "7.0.0": {"deps": {"activesupport": "= 7.0.0", "rack": "~> 2.2"}},
                "7.0.4": {"deps": {"activesupport": "= 7.0.4", "rack": "~> 2.2, >= 2.2.4"}},
            },
            "activesupport": {
                "6.1.0": {"deps": {"concurrent-ruby": "~> 1.0, >= 1.0.2"}},
                "7.0.0": {"deps": {"concurrent-ruby": "~> 1.0, >= 1.0.2"}},
                "7.0.4": {"deps": {"concurrent-ruby": "~> 1.0, >= 1.0.2", "i18n": ">= 1.6, < 2"}},
            },
            "concurrent-ruby": {"1.0.0": {}, "1.1.10": {}, "1.2.0": {}, "2.0.0": {}},
            "i18n": {"1.5.0": {}, "1.12.0": {"deps": {"concurrent-ruby": "~> 1.0"}}, "2.0.0": {}},
            "rack": {"2.0.9": {}, "2.2.3": {}, "2.2.4": {}, "2.2.8": {}, "3.0.0": {}},
        },
        'gem "rails", "~> 7.0.0"\ngem "rack", "< 2.2.8"\n',
    ),
    "backtracking over a conflict": (
        {
            "a": {
                "1.0.0": {"deps": {"shared": "~> 1.0"}},
                "2.0.0": {"deps": {"shared": "~> 2.0"}},
            },
            "b": {
                "1.0.0": {"deps": {"shared": ">= 1.0"}},
                "2.0.0": {"deps": {"shared": "< 2"}},
            },
            "shared": {"1.0.0": {}, "1.5.0": {}, "2.0.0": {}, "2.1.0": {}},
        },
        'gem "a"\ngem "b", ">= 2"\n',
    ),
    "pre-releases: opted in by the Gemfile, otherwise tried last": (
        {
            "web": {"1.0.0": {}, "1.1.0.rc1": {}, "2.0.0.beta2": {"deps": {"util": ">= 0"}}},
            "util": {"0.9.0": {}, "1.0.0.pre": {}},
            "tool": {"3.0.0.alpha": {}, "2.5.0": {"deps": {"util": ">= 1.0.0.a"}}},
            "lonely": {"0.1.0.beta": {}, "0.2.0.rc1": {}},
        },
        'gem "web", ">= 1.1.0.rc1"\ngem "tool"\ngem "lonely"\n',
    ),
    "several requirements on one gem, and groups": (
        {
            "jsonkit": {"2.5.1": {}, "2.6.0": {}, "2.6.3": {}, "2.7.0": {}},
            "api": {"1.0.0": {"deps": {"jsonkit": "~> 2.6"}}},
            "rspec": {"3.12.0": {"deps": {"jsonkit": ">= 2.5, != 2.6.3"}}},
        },
        'gem "jsonkit", "> 2.5", "< 2.7"\ngem "api"\n\ngroup :test, :development do\n'
        '  gem "rspec"\nend\n',
    ),
    "platform variants": (
        {
            "native": {
                "1.0.0": {"deps": {"mini": ">= 1"}},
                "1.0.0-x86_64-linux": {"deps": {"mini": ">= 1"}},
                "1.0.0-java": {},
                "1.1.0-java": {},
            },
            "mini": {"1.0.0": {}, "1.1.0": {}},
        },
        'gem "native"\n',
    ),
    "two solutions: Gemfile order breaks the tie": (
        {
            "x": {"1.0": {}, "2.0": {"deps": {"z": "= 1.0"}}},
            "y": {"1.0": {}, "2.0": {"deps": {"z": "= 2.0"}}},
            "z": {"1.0": {}, "2.0": {}},
        },
        'gem "y"\ngem "x"\n',
    ),
    "two solutions: dependency order breaks the tie": (
        {
            "p": {"1.0": {"deps": {"x": ">= 0", "y": ">= 0"}}},
            "x": {"1.0": {}, "2.0": {"deps": {"z": "= 2.0"}}},
            "y": {"1.0": {}, "2.0": {"deps": {"z": "= 1.0"}}},
            "z": {"1.0": {}, "2.0": {}},
        },
        'gem "p"\n',
    ),
    "platform variants matched as Gem::Platform matches them": (
        {
            "gnu": {"1.0.0": {}, "1.0.0-x86_64-linux-gnu": {}},
            "musl": {"1.0.0": {}, "1.0.0-x86_64-linux-musl": {}},
            "wide": {"1.0.0": {"deps": {"gnu": ">= 0"}}, "1.0.0-universal-linux": {}},
            "native": {"2.0.0-x86_64-linux": {}, "2.0.0-java": {}, "2.1.0-java": {}},
        },
        'gem "gnu"\ngem "musl"\ngem "wide"\ngem "native"\n',
    ),
    "Gemfile platforms and the ruby directive": (
        {"a": {"1.0": {}}, "j": {"1.0": {}}, "m": {"1.0": {}}, "w": {"1.0": {}}},
        'ruby "~> 3.0"\n\ngem "a"\ngem "j", platforms: :jruby\n'
        'gem "m", platforms: [:mri, :mingw]\ngem "w", platforms: [:mingw, :x64_mingw]\n',
    ),
    "requirements written as Gem::Requirement writes them, and the bundler gem": (
        {
            "a": {"1.0": {}, "1.0.1": {}},
            "b": {"1.0": {"deps": {"a": "~>1.0, >=1.0.0"}}},
            "c": {"2.0": {}},
            "d": {"0.5": {}},
        },
        'gem "a", "~>1.0"\ngem "b", ">= 0.1", "< 2"\ngem "c", "2.0"\ngem "d", "!= 0.4"\n'
        'gem "bundler"\n\ngroup :test do\n  gem "a", "~>1.0"\nend\n',
    ),
    "no solution": (
        {
            "left": {"1.0.0": {"deps": {"core": "~> 1.0"}}},
            "right": {"1.0.0": {"deps": {"core": "~> 2.0"}}, "0.9.0": {"deps": {"core": "> 2"}}},
            "core": {"1.0.0": {}, "2.0.0": {}},
        },
        'gem "left"\ngem "right"\n',
    ),
    "required Ruby version and a yanked release": (
        {
            "modern": {
                "1.0.0": {"deps": {"dep": ">= 1"}},
                "2.0.0": {"ruby": ">= 3.9", "deps": {"dep": ">= 1"}},
                "1.5.0": {"ruby": ">= 2.7, < 4"},
            },
            "dep": {"1.0.0": {}, "1.1.0": {"yanked": True}, "1.2.0": {"rubygems": ">= 99"}},
        },
        'gem "modern"\ngem "dep"\n',
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bundler_and_tuskops_write_the_same_lockfile(case: str, tmp_path: Path) -> None:
    graph, body = CASES[case]
    compare(graph, body, tmp_path)


#: name -> (graph of the first source, of the second, Gemfile body)
TWO_SOURCES: Mapping[str, tuple[Graph, Graph, str]] = {
    "a source block pins its gems and what they need from it": (
        {"a": {"1.0": {"deps": {"b": ">= 0"}}}, "b": {"1.0": {}}},
        {"s": {"1.0": {"deps": {"b": ">= 0"}}}, "b": {"2.0": {}}},
        'gem "a"\n\nsource "{second}" do\n  gem "s"\nend\n',
    ),
    "a gem the Gemfile names is not pinned to a block's source": (
        {"a": {"1.0": {}}, "b": {"1.0": {}, "1.5": {}}},
        {"s": {"1.0": {"deps": {"b": ">= 0"}}}, "b": {"1.2": {}}},
        'gem "a"\ngem "b"\n\nsource "{second}" do\n  gem "s"\nend\n',
    ),
    "two global sources: versions merged, the first-declared copy wins": (
        {"a": {"1.0": {"deps": {"b": ">= 0"}}}, "b": {"3.0": {}}},
        {"s": {"1.0": {}}, "b": {"1.0": {}, "3.0": {"deps": {"s": ">= 0"}}}},
        'source "{second}"\n\ngem "a"\n',
    ),
}


@pytest.mark.parametrize("case", list(TWO_SOURCES))
def test_two_sources_lock_the_same(case: str, tmp_path: Path) -> None:
    graph, second, body = TWO_SOURCES[case]
    compare(graph, body, tmp_path, second)


def test_the_conflict_explanation_ends_at_the_gemfile(tmp_path: Path) -> None:
    graph, body = CASES["no solution"]
    with GemRegistry(graph) as registry:
        ours, explanation = tuskops_lock(gemfile(registry, body), tmp_path)
    assert ours is None
    last = explanation.strip().splitlines()[-1]
    assert "the Gemfile depends on" in last, last
    assert last.endswith("version solving failed."), last
    assert "core (~> 1.0)" in explanation
    assert "core (~> 2.0)" in explanation


RELOCK_GRAPH: Graph = {
    "rails": {
        "7.0.0": {"deps": {"rack": "~> 2.2", "tzinfo": ">= 2"}},
        "7.1.0": {"deps": {"rack": ">= 2.2.4", "tzinfo": ">= 2"}},
    },
    "rack": {"2.2.3": {}, "2.2.8": {}, "3.0.0": {}},
    "tzinfo": {"2.0.5": {}, "2.0.6": {}},
    "puma": {"5.0.0": {"deps": {"nio4r": "~> 2.0"}}, "6.0.0": {"deps": {"nio4r": "~> 2.0"}}},
    "nio4r": {"2.5.0": {}, "2.7.0": {}},
}


def _previous_lock(registry: GemRegistry) -> str:
    return (
        "GEM\n"
        f"  remote: {registry.source}\n"
        "  specs:\n"
        "    nio4r (2.5.0)\n"
        "    puma (5.0.0)\n"
        "      nio4r (~> 2.0)\n"
        "    rack (2.2.3)\n"
        "    rails (7.0.0)\n"
        "      rack (~> 2.2)\n"
        "      tzinfo (>= 2)\n"
        "    tzinfo (2.0.5)\n"
        "\n"
        "PLATFORMS\n"
        "  x86_64-linux\n"
        "\n"
        "DEPENDENCIES\n"
        "  puma\n"
        "  rails\n"
        "\n"
        "BUNDLED WITH\n"
        "   2.3.15\n"
    )


@pytest.mark.parametrize(
    ("update", "body"),
    [
        ((), 'gem "rails"\ngem "puma"\n'),
        (("rails",), 'gem "rails"\ngem "puma"\n'),
        (("puma",), 'gem "rails"\ngem "puma"\n'),
        # A changed requirement unlocks the gem and what it depends on.
        ((), 'gem "rails"\ngem "puma", ">= 6"\n'),
        # A new requirement that excludes a locked version.
        ((), 'gem "rails"\ngem "puma"\ngem "tzinfo", "> 2.0.5"\n'),
        # A gem no longer required is dropped.
        ((), 'gem "rails"\n'),
    ],
)
def test_relocking_keeps_and_updates_as_bundler_does(
    update: tuple[str, ...], body: str, tmp_path: Path
) -> None:
    with GemRegistry(RELOCK_GRAPH) as registry:
        text = gemfile(registry, body)
        previous = _previous_lock(registry)
        args = ("--update", *update) if update else ()
        code, bundler_lock, output = bundle_lock(registry, text, tmp_path, *args, previous=previous)
        ours, explanation = tuskops_lock(
            text, tmp_path, previous=previous, upgrade=frozenset(update)
        )
    assert code == 0, output
    assert ours is not None, explanation
    assert ours == bundler_lock
    if not update and body == 'gem "rails"\ngem "puma"\n':
        assert ours == previous


def test_relocking_moves_a_locked_gem_bundler_would_refuse_to(tmp_path: Path) -> None:
    """A measured difference: a new requirement (rack >= 3) excludes what the lock pins for
    another gem's dependency (rails 7.0.0 needs rack ~> 2.2). Bundler 2.3 keeps rails locked
    and fails, asking for `bundle update`; tuskops lets rails move (locked versions are
    preferences, as in uv and npm)."""
    with GemRegistry(RELOCK_GRAPH) as registry:
        text = gemfile(registry, 'gem "rails"\ngem "puma"\ngem "rack", ">= 3"\n')
        previous = _previous_lock(registry)
        code, _, output = bundle_lock(registry, text, tmp_path, previous=previous)
        ours, explanation = tuskops_lock(text, tmp_path, previous=previous)
    assert code != 0
    assert "could not find compatible versions" in output.lower()
    assert ours is not None, explanation
    assert "    rails (7.1.0)\n" in ours
    assert "    rack (3.0.0)\n" in ours
    assert "    puma (5.0.0)\n" in ours  # what need not move stays


def test_bundlers_cached_second_run_is_answered_not_modified(tmp_path: Path) -> None:
    """The test server speaks the compact index as Bundler expects: a second run with the
    cached copies sends If-None-Match (the MD5 ETag) and a Range for /versions, gets 304,
    and needs no /info file again, their MD5s in /versions being unchanged."""
    with GemRegistry({"a": {"1.0": {"deps": {"b": ">= 0"}}}, "b": {"1.0": {}}}) as registry:
        code, first, output = bundle_lock(registry, gemfile(registry, 'gem "a"\n'), tmp_path)
        assert code == 0, output
        before = len(registry.log)
        assert BUNDLE is not None
        again = subprocess.run(
            [BUNDLE, "lock", "--update"],
            cwd=tmp_path / "bundler",
            env=_bundle_env(tmp_path / "bundler-home"),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        log = registry.log[before:]
    assert again.returncode == 0, again.stdout + again.stderr
    assert [path for path, _ in log] == ["/versions"]
    headers = log[0][1]
    assert headers["if-none-match"].startswith('"')
    assert headers["range"].startswith("bytes=")
    assert (tmp_path / "bundler" / "Gemfile.lock").read_text() == first
