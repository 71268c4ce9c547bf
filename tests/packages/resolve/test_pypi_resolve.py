"""The PyPI provider and resolve_pypi against a local PEP 691 index (tests/_support/pypi_graph)."""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.version import Version

from _support.pypi_graph import Graph, Rel, requested, serve_graph
from _support.registry import LocalRegistry
from tuskops.packages.api import PackageLookup
from tuskops.packages.ecosystems.pypi import SCHEME
from tuskops.packages.resolve.base import Unavailable
from tuskops.packages.resolve.pubgrub import ResolutionImpossible
from tuskops.packages.resolve.pypi import PypiProvider, resolve_pypi
from tuskops.packages.settings import Registry, RegistrySettings
from tuskops.packages.versions import Ranges

GRAPH: Graph = {
    "app": {"1.0": Rel(["lib>=1.0,<2", "Helper_Tool"])},
    "lib": {"1.0": Rel(), "1.5": Rel(), "2.0": Rel()},
    "helper-tool": {"0.9": Rel()},
    "web": {"1.0": Rel(["lib>=1", 'fast>=1; extra == "speed"'])},
    "fast": {"1.0": Rel(), "2.0": Rel()},
    "tool": {"1.0": Rel(['winlib; sys_platform == "win32"', 'posixlib; sys_platform != "win32"'])},
    "winlib": {"1.0": Rel()},
    "posixlib": {"1.0": Rel()},
    "modern": {"1.0": Rel(requires_python=">=3.8"), "2.0": Rel(requires_python=">=3.12")},
    "sneaky": {
        "1.0": Rel(requires_python=">=3.8"),
        "2.0": Rel(requires_python=">=3.12", file_requires_python=False),
    },
    "pkg": {"1.0": Rel(), "1.1": Rel(yanked="broken build")},
    "beta": {"1.0": Rel(), "2.0b1": Rel()},
    "onlypre": {"1.0a1": Rel()},
    "wantsbeta": {"1.0": Rel(["beta>=2.0b1"])},
    "left": {"1.0": Rel(["shared<2"])},
    "right": {"1.0": Rel(["shared>=2"])},
    "shared": {"1.0": Rel(), "2.0": Rel()},
}

LINUX = {k: str(v) for k, v in default_environment().items()} | {
    "sys_platform": "linux",
    "python_version": "3.10",
}


@pytest.fixture
def index() -> Generator[LocalRegistry, None, None]:
    registry = serve_graph(GRAPH)
    yield registry
    registry.httpd.shutdown()
    registry.httpd.server_close()


def make_lookup(index: LocalRegistry, tmp_path: Path) -> PackageLookup:
    settings = RegistrySettings("pypi", (Registry("index", f"{index.base}/simple/"),))
    return PackageLookup(
        settings={"pypi": settings}, cache_dir=tmp_path / "cache", project_dir=tmp_path
    )


def solve(index: LocalRegistry, tmp_path: Path, *reqs: str, **options: object) -> dict[str, str]:
    return resolve_pypi(
        reqs,
        lookup=make_lookup(index, tmp_path),
        python_version=str(options.pop("python_version", "3.10")),
        environment=LINUX,
        **options,  # type: ignore[arg-type]
    )


def test_a_simple_graph_takes_the_newest_versions_allowed(
    index: LocalRegistry, tmp_path: Path
) -> None:
    assert solve(index, tmp_path, "App") == {"app": "1.0", "lib": "1.5", "helper-tool": "0.9"}


def test_an_extra_adds_its_dependencies_and_pins_the_base(
    index: LocalRegistry, tmp_path: Path
) -> None:
    assert solve(index, tmp_path, "web") == {"web": "1.0", "lib": "2.0"}
    assert solve(index, tmp_path, "web[Speed]") == {"web": "1.0", "lib": "2.0", "fast": "2.0"}


def test_markers_are_evaluated_for_the_environment(index: LocalRegistry, tmp_path: Path) -> None:
    assert solve(index, tmp_path, "tool") == {"tool": "1.0", "posixlib": "1.0"}
    skipped = 'winlib; sys_platform == "win32"'
    assert solve(index, tmp_path, "tool", skipped) == {"tool": "1.0", "posixlib": "1.0"}


def test_requires_python_excludes_the_newest_version(index: LocalRegistry, tmp_path: Path) -> None:
    assert solve(index, tmp_path, "modern") == {"modern": "1.0"}
    assert solve(index, tmp_path, "modern", python_version="3.12") == {"modern": "2.0"}
    # Declared only in the metadata file: found when its dependencies are read.
    assert solve(index, tmp_path, "sneaky") == {"sneaky": "1.0"}


def test_a_yanked_version_is_skipped_unless_pinned(index: LocalRegistry, tmp_path: Path) -> None:
    assert solve(index, tmp_path, "pkg") == {"pkg": "1.0"}
    assert solve(index, tmp_path, "pkg==1.1") == {"pkg": "1.1"}


def test_yanked_and_unpinned_is_impossible(index: LocalRegistry, tmp_path: Path) -> None:
    with pytest.raises(ResolutionImpossible):
        solve(index, tmp_path, "pkg>=1.1")


def test_prereleases_only_when_needed_or_named(index: LocalRegistry, tmp_path: Path) -> None:
    assert solve(index, tmp_path, "beta") == {"beta": "1.0"}
    assert solve(index, tmp_path, "beta>=2.0b1") == {"beta": "2.0b1"}
    assert solve(index, tmp_path, "beta>1.0") == {"beta": "2.0b1"}  # nothing else matches
    assert solve(index, tmp_path, "onlypre") == {"onlypre": "1.0a1"}
    assert solve(index, tmp_path, "wantsbeta") == {"wantsbeta": "1.0", "beta": "2.0b1"}
    assert solve(index, tmp_path, "beta", allow_prereleases=True) == {"beta": "2.0b1"}


def test_a_conflict_is_explained_from_the_root_requirements(
    index: LocalRegistry, tmp_path: Path
) -> None:
    with pytest.raises(ResolutionImpossible) as caught:
        solve(index, tmp_path, "left>=1", "right")
    text = caught.value.explanation
    for name in ("left>=1", "right", "shared"):
        assert name in text
    assert "the project" in text


def test_an_unknown_package_is_unavailable(index: LocalRegistry, tmp_path: Path) -> None:
    with pytest.raises(ResolutionImpossible) as caught:
        solve(index, tmp_path, "nosuchthing")
    assert "nosuchthing" in caught.value.explanation
    lookup = make_lookup(index, tmp_path)
    with PypiProvider(lookup, python_version="3.10") as provider, pytest.raises(Unavailable):
        provider.candidates("nosuchthing", Ranges.full())


def test_candidates_prefetch_metadata(index: LocalRegistry, tmp_path: Path) -> None:
    with PypiProvider(
        make_lookup(index, tmp_path),
        python_version="3.10",
        environment=LINUX,
        prefetch=2,
        first_prefetch=2,
    ) as provider:
        assert provider.candidates("lib", Ranges.full()) == [
            Version("2.0"),
            Version("1.5"),
            Version("1.0"),
        ]
        deadline = time.monotonic() + 10
        while len(requested(index, ".metadata")) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        # The two best candidates' metadata arrived before anyone asked for dependencies.
        assert sorted(requested(index, ".metadata")) == [
            "/files/lib-1.5-py3-none-any.whl.metadata",
            "/files/lib-2.0-py3-none-any.whl.metadata",
        ]
        assert provider.dependencies("lib", Version("2.0")) == []
        assert provider.dependencies("lib", Version("1.5")) == []
        assert len(requested(index, ".metadata")) == 2  # answered from the prefetch
        assert len(requested(index, "/simple/lib/")) == 1


def test_a_preferred_version_comes_first_when_allowed(index: LocalRegistry, tmp_path: Path) -> None:
    preferences = {"Lib": "1.0", "beta": "2.0b1", "pkg": "1.1", "fast": "not a version"}
    with PypiProvider(
        make_lookup(index, tmp_path),
        python_version="3.10",
        environment=LINUX,
        preferences=preferences,
    ) as provider:
        assert provider.candidates("lib", Ranges.full()) == [
            Version("1.0"),
            Version("2.0"),
            Version("1.5"),
        ]
        assert provider.candidates("lib[x]", Ranges.full())[0] == Version("1.0")
        # Outside the range, a pre-release nobody asked for, a yanked version: no preference.
        lib = SCHEME.parse_constraint(">=1.5").ranges
        assert provider.candidates("lib", lib) == [Version("2.0"), Version("1.5")]
        assert provider.candidates("beta", Ranges.full()) == [Version("1.0")]
        assert provider.candidates("pkg", Ranges.full()) == [Version("1.0")]
        assert provider.candidates("fast", Ranges.full()) == [Version("2.0"), Version("1.0")]


def test_resolve_keeps_preferences_and_reports_progress(
    index: LocalRegistry, tmp_path: Path
) -> None:
    messages: list[str] = []
    assert solve(index, tmp_path, "app", preferences={"lib": "1.0"}, progress=messages.append) == {
        "app": "1.0",
        "lib": "1.0",
        "helper-tool": "0.9",
    }
    assert messages
    assert all(m.startswith("fetched ") and "packages' metadata" in m for m in messages)
    assert len(set(messages)) == len(messages)  # only changes are reported


def test_dependencies_of_prefetched_metadata_are_fetched_ahead(
    index: LocalRegistry, tmp_path: Path
) -> None:
    with PypiProvider(
        make_lookup(index, tmp_path), python_version="3.10", environment=LINUX, prefetch=1
    ) as provider:
        assert provider.candidates("app", Ranges.full()) == [Version("1.0")]
        wanted = {
            "/files/lib-1.5-py3-none-any.whl.metadata",  # newest within lib>=1.0,<2
            "/files/helper_tool-0.9-py3-none-any.whl.metadata",
        }
        deadline = time.monotonic() + 10
        while not wanted <= set(requested(index, ".metadata")) and time.monotonic() < deadline:
            time.sleep(0.01)
        # The solver has not asked for app's dependencies, yet they are on their way.
        assert wanted <= set(requested(index, ".metadata"))
        assert "/files/lib-2.0-py3-none-any.whl.metadata" not in requested(index, ".metadata")
        assert provider.dependencies("helper-tool", Version("0.9")) == []


def test_a_requirement_starts_its_best_versions_metadata(
    index: LocalRegistry, tmp_path: Path
) -> None:
    with PypiProvider(
        make_lookup(index, tmp_path), python_version="3.10", environment=LINUX
    ) as provider:
        constraint = SCHEME.parse_constraint(">=1.0,<2")
        provider.requirements_for("lib", [], constraint, "lib>=1.0,<2")
        provider.requirements_for("app", [], SCHEME.parse_constraint(""), "app")
        wanted = {
            "/files/lib-1.5-py3-none-any.whl.metadata",  # newest within the range
            "/files/app-1.0-py3-none-any.whl.metadata",
            "/files/helper_tool-0.9-py3-none-any.whl.metadata",  # app's dependency, in turn
        }
        deadline = time.monotonic() + 10
        while not wanted <= set(requested(index, ".metadata")) and time.monotonic() < deadline:
            time.sleep(0.01)
        # Nobody asked for candidates or dependencies yet.
        assert wanted <= set(requested(index, ".metadata"))
        assert "/files/lib-2.0-py3-none-any.whl.metadata" not in requested(index, ".metadata")
        assert provider.candidates("lib", constraint) == [Version("1.5"), Version("1.0")]


def test_the_first_ask_prefetches_the_best_candidate_the_next_more(
    index: LocalRegistry, tmp_path: Path
) -> None:
    with PypiProvider(
        make_lookup(index, tmp_path), python_version="3.10", environment=LINUX, prefetch=3
    ) as provider:
        assert provider.candidates("lib", Ranges.full())[0] == Version("2.0")
        deadline = time.monotonic() + 10
        while not requested(index, ".metadata") and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        assert requested(index, ".metadata") == ["/files/lib-2.0-py3-none-any.whl.metadata"]
        # Asked again (the range narrowed, as after a conflict): the next ones too.
        below = SCHEME.parse_constraint("<2").ranges
        assert provider.candidates("lib", below) == [Version("1.5"), Version("1.0")]
        wanted = {
            "/files/lib-1.5-py3-none-any.whl.metadata",
            "/files/lib-1.0-py3-none-any.whl.metadata",
        }
        while not wanted <= set(requested(index, ".metadata")) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert wanted <= set(requested(index, ".metadata"))
