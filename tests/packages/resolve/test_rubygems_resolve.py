"""The RubyGems provider's rules (Bundler 2.3's) with PubGrub, on in-memory compact-index data.

The listings are real ``/info/NAME`` bodies built by tests/_support/gem_registry.py and parsed
by the compact-index protocol module, so the provider sees exactly what a server would give.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from _support.gem_registry import Graph, info_file, versions_file
from tuskops.packages.ecosystems.rubygems import SCHEME
from tuskops.packages.protocols.rubygems_compact import package_info, parse_versions
from tuskops.packages.registry import PackageInfo
from tuskops.packages.resolve.pubgrub import ResolutionImpossible, resolve
from tuskops.packages.resolve.rubygems import (
    RUBY,
    RUBYGEMS,
    GemPlatform,
    GemTarget,
    RubygemsProvider,
    best_variants,
    detect_target,
    requirement,
)

TARGET = GemTarget(ruby="3.1.2", rubygems="3.3.15", platforms=("x86_64-linux",))


def listings(graph: Graph) -> dict[str, PackageInfo]:
    index = parse_versions(versions_file(graph))
    return {
        name: package_info(name, info_file(name, versions), versions=index.gems[name])
        for name, versions in graph.items()
    }


def solve(
    graph: Graph,
    gemfile: dict[str, str],
    *,
    target: GemTarget = TARGET,
    allow_prereleases: bool | None = None,
    preferences: dict[str, str] | None = None,
) -> dict[str, str]:
    roots = [requirement(name, constraint) for name, constraint in gemfile.items()]
    opted = {r.name for r in roots if r.extra.get("prerelease")}
    with RubygemsProvider(
        None,
        info=listings(graph),
        target=target,
        allow_prereleases=allow_prereleases,
        prerelease_names=opted,
        preferences=preferences,
    ) as provider:
        found = resolve(provider, roots, root_name="the Gemfile")
        return {
            n: provider.describe(n, v).split(" ", 1)[1]
            for n, v in found.items()
            if n not in (RUBY, RUBYGEMS)
        }


def test_newest_release_that_fits_every_requirement() -> None:
    graph = {
        "app": {
            "1.0.0": {"deps": {"lib": "~> 1.2"}},
            "1.1.0": {"deps": {"lib": "~> 1.2, >= 1.2.5"}},
        },
        "lib": {"1.2.0": {}, "1.2.5": {}, "1.2.9": {}, "1.3.0": {}, "2.0.0": {}},
    }
    assert solve(graph, {"app": "", "lib": "< 1.3"}) == {"app": "1.1.0", "lib": "1.2.9"}


def test_pessimistic_operator_excludes_the_next_release_and_its_prereleases() -> None:
    graph = {"lib": {"2.9.0": {}, "3.0.0.beta": {}, "3.0.0": {}}}
    assert solve(graph, {"lib": "~> 2.1"})["lib"] == "2.9.0"


def test_prereleases_are_tried_after_every_release() -> None:
    graph = {
        "a": {"1.0.0": {}, "2.0.0.rc1": {}},
        "b": {"0.1.0.beta": {}},
        "c": {"1.0.0": {"deps": {"a": ">= 2.0.0.a"}}},
    }
    assert solve(graph, {"a": ""})["a"] == "1.0.0"
    # Nothing but pre-releases: Bundler still takes one rather than fail.
    assert solve(graph, {"b": ""})["b"] == "0.1.0.beta"
    # A gem's own requirement naming a pre-release does not opt in, yet only one matches.
    assert solve(graph, {"c": ""})["a"] == "2.0.0.rc1"


def test_a_gemfile_requirement_naming_a_prerelease_opts_that_gem_in() -> None:
    graph = {"a": {"1.0.0": {}, "1.1.0.rc1": {}}, "b": {"1.0.0": {}, "2.0.0.beta": {}}}
    found = solve(graph, {"a": ">= 1.0.0.a", "b": ""})
    assert found["a"] == "1.1.0.rc1"
    assert found["b"] == "1.0.0"


def test_allow_prereleases_switch() -> None:
    graph = {"a": {"1.0.0": {}, "1.1.0.rc1": {}}, "b": {"0.1.0.beta": {}}}
    assert solve(graph, {"a": ""}, allow_prereleases=True)["a"] == "1.1.0.rc1"
    with pytest.raises(ResolutionImpossible) as failure:
        solve(graph, {"b": ""}, allow_prereleases=False)
    assert "no versions of b match" in failure.value.explanation


def test_required_ruby_version_is_backtracked_over_and_explained() -> None:
    graph = {
        "web": {"1.0.0": {"ruby": ">= 2.7"}, "2.0.0": {"ruby": ">= 3.2"}},
        "new": {"1.0.0": {"ruby": ">= 3.3"}},
    }
    assert solve(graph, {"web": ""})["web"] == "1.0.0"
    with pytest.raises(ResolutionImpossible) as failure:
        solve(graph, {"new": ""})
    explanation = failure.value.explanation
    assert "depends on Ruby (>= 3.3)" in explanation
    assert "no versions of Ruby match" in explanation
    # No target Ruby known: not checked.
    assert solve(graph, {"new": ""}, target=GemTarget())["new"] == "1.0.0"


def test_required_rubygems_version_is_checked_too() -> None:
    graph = {"lib": {"1.0.0": {}, "1.1.0": {"rubygems": ">= 3.4"}}}
    assert solve(graph, {"lib": ""})["lib"] == "1.0.0"


def test_yanked_versions_are_not_candidates() -> None:
    graph = {"lib": {"1.0.0": {}, "1.1.0": {"yanked": True}}}
    assert solve(graph, {"lib": ""})["lib"] == "1.0.0"
    with pytest.raises(ResolutionImpossible):
        solve(graph, {"lib": "= 1.1.0"})


def test_platform_variant_of_the_lock_platform_else_ruby() -> None:
    graph = {
        "native": {
            "1.0.0": {"deps": {"pure": ">= 0"}},
            "1.0.0-x86_64-linux": {"deps": {"mini": ">= 1"}},
            "2.0.0-java": {},
        },
        "pure": {"1.0.0": {}},
        "mini": {"1.0.0": {}},
    }
    found = solve(graph, {"native": ""})
    # 2.0.0 has no variant for x86_64-linux (nor a ruby one): not a candidate.
    assert found["native"] == "1.0.0"
    assert "mini" in found
    assert "pure" not in found
    ruby_only = solve(graph, {"native": ""}, target=GemTarget(platforms=("ruby",)))
    assert "pure" in ruby_only
    assert "mini" not in ruby_only
    both = solve(graph, {"native": ""}, target=GemTarget(platforms=("ruby", "x86_64-linux")))
    assert {"pure", "mini"} <= set(both)


def test_preferred_versions_come_first_when_allowed() -> None:
    graph = {"lib": {"1.0.0": {}, "1.1.0": {}, "2.0.0": {}}}
    assert solve(graph, {"lib": ""}, preferences={"lib": "1.1.0"})["lib"] == "1.1.0"
    assert solve(graph, {"lib": "~> 2.0"}, preferences={"lib": "1.1.0"})["lib"] == "2.0.0"


def test_conflict_explanation_ends_at_the_gemfile_requirements() -> None:
    graph = {
        "rails": {"7.0.0": {"deps": {"rack": "~> 2.2"}}},
        "puma": {"6.0.0": {"deps": {"rack": ">= 3"}}, "5.0.0": {"deps": {"rack": ">= 3.1"}}},
        "rack": {"2.2.8": {}, "3.0.0": {}},
    }
    with pytest.raises(ResolutionImpossible) as failure:
        solve(graph, {"rails": "~> 7.0", "puma": ">= 5"})
    lines = failure.value.explanation.strip().splitlines()
    assert "rack (~> 2.2)" in failure.value.explanation
    assert "rack (>= 3)" in failure.value.explanation
    assert lines[-1].startswith("So, because the Gemfile depends on both")
    assert "rails (~> 7.0)" in lines[-1]
    assert "puma (>= 5)" in lines[-1]
    assert lines[-1].endswith("version solving failed.")


def test_an_unknown_gem_is_explained() -> None:
    with pytest.raises(ResolutionImpossible) as failure:
        solve({"app": {"1.0.0": {"deps": {"ghost": ">= 0"}}}}, {"app": ""})
    assert "ghost" in failure.value.explanation
    assert "not found" in failure.value.explanation


def test_requirement_text_is_bundlers() -> None:
    req = requirement("rack", "~> 2.2, >= 2.2.4")
    assert req.text == "rack (~> 2.2, >= 2.2.4)"
    inside = [
        v
        for v in ("2.2.3", "2.2.4", "2.9", "3.0.0.a", "3.0")
        if req.allowed.contains(SCHEME.parse_version(v))
    ]
    assert inside == ["2.2.4", "2.9"]
    assert requirement("rack", "").text == "rack (>= 0)"


def test_detect_target_asks_the_ruby_on_path() -> None:
    ruby = shutil.which("ruby")
    if ruby is None:
        pytest.skip("Ruby (`ruby`) is not installed")
    target = detect_target(ruby)
    version = subprocess.run(
        [ruby, "-e", "print RUBY_VERSION"], capture_output=True, text=True, check=True
    ).stdout
    platform = subprocess.run(
        [ruby, "-e", "print Gem::Platform.local"], capture_output=True, text=True, check=True
    ).stdout
    assert target.ruby == version
    assert target.platforms == (platform,)
    assert target.rubygems is not None


PLATFORMS = [
    "x86_64-linux-gnu",
    "x86_64-linux",
    "x86_64-linux-musl",
    "aarch64-linux",
    "arm64-darwin-22",
    "universal-darwin",
    "java",
    "jruby",
    "x64-mingw-ucrt",
    "x64-mingw32",
    "x86-mingw32",
    "universal-java-11",
    "arm-linux",
    "i686-linux",
    "x86-mswin32-60",
    "sparc-solaris2.8",
]


def test_gem_platform_parses_as_rubygems_does() -> None:
    assert GemPlatform.parse("x86_64-linux-gnu") == GemPlatform("x86_64", "linux", None)
    assert GemPlatform.parse("x86_64-linux-musl") == GemPlatform("x86_64", "linux", "musl")
    assert GemPlatform.parse("jruby") == GemPlatform(None, "java", None)
    assert GemPlatform.parse("i686-linux") == GemPlatform("x86", "linux", None)
    assert GemPlatform.parse("arm64-darwin-22") == GemPlatform("arm64", "darwin", "22")
    ruby = shutil.which("ruby")
    if ruby is None:
        pytest.skip("Ruby (`ruby`) is not installed to compare with Gem::Platform")
    script = (
        "ARGV.each { |s| puts Gem::Platform.new(s).to_a.map { |x| x.nil? ? '-' : x }.join(' ') }"
    )
    done = subprocess.run(
        [ruby, "-e", script, *PLATFORMS], capture_output=True, text=True, check=True
    )
    theirs = [
        tuple(None if x == "-" else x for x in line.split(" ")) for line in done.stdout.splitlines()
    ]
    ours = [(p.cpu, p.os, p.version) for p in map(GemPlatform.parse, PLATFORMS)]
    assert ours == theirs


def test_best_variants_follow_bundlers_platform_match() -> None:
    graph = {
        "n": {
            "1.0": {},
            "1.0-x86_64-linux-gnu": {},
            "1.0-universal-linux": {},
            "1.0-java": {},
            "1.0-arm-linux": {},
        }
    }
    info = listings(graph)["n"]
    variants = {str(r.extra["platform"]): r for r in info.releases}

    def best(target: str) -> list[str]:
        return [str(r.extra["platform"]) for r in best_variants(variants, target)]

    assert best("x86_64-linux") == ["x86_64-linux-gnu"]  # equal as Gem::Platform
    assert best("aarch64-linux") == ["universal-linux"]
    assert best("armv7-linux") == ["arm-linux"]
    assert best("universal-java-11") == ["java"]
    assert best("x64-mingw-ucrt") == ["ruby"]
    assert best("ruby") == ["ruby"]


def test_candidates_prefetch_the_dependencies_of_the_best_candidates() -> None:
    graph = {
        "app": {
            "1.0.0": {"deps": {"old": ">= 0"}},
            "2.0.0": {"deps": {"lib": ">= 0"}},
            "3.0.0": {"deps": {"util": ">= 0", "lib": ">= 0"}},
        },
        "lib": {"1.0.0": {}},
        "util": {"1.0.0": {}},
        "old": {"1.0.0": {}},
    }
    with RubygemsProvider(None, info=listings(graph), target=TARGET, prefetch=2) as provider:
        found = provider.candidates("app", SCHEME.parse_constraint(">= 0").ranges)
        assert [str(v) for v in found] == ["3.0.0", "2.0.0", "1.0.0"]
        # The two best candidates' dependencies are asked for before the solver needs them.
        assert provider.requested == {"app", "lib", "util"}
