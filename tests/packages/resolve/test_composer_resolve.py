"""The Composer provider's rules with PubGrub, on in-memory repositories (no network)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

import pytest

from tuskops.errors import PackageError
from tuskops.packages.ecosystems.composer import SCHEME, ComposerVersion
from tuskops.packages.resolve.base import Requirement, Unavailable
from tuskops.packages.resolve.composer import (
    ComposerProvider,
    branch_alias,
    detect_platform,
    extract_stability_flags,
    platform_map,
)
from tuskops.packages.resolve.pubgrub import ResolutionImpossible, resolve

Graph = Mapping[str, Mapping[str, Mapping[str, Any]]]


def _listings(graph: Graph) -> dict[str, list[dict[str, Any]]]:
    return {
        name: [{"name": name, "version": v, **fields} for v, fields in versions.items()]
        for name, versions in graph.items()
    }


def _req(name: str, constraint: str) -> Requirement[ComposerVersion]:
    return Requirement(name, SCHEME.parse_constraint(constraint).ranges, f"{name} {constraint}")


def _solve(
    graph: Graph,
    require: Mapping[str, str],
    *,
    label: str = "acme/app (composer.json)",
    **options: Any,
) -> dict[str, str]:
    options.setdefault("platform", platform_map({"php": "8.1.0"}, {}))
    with ComposerProvider(None, listings=_listings(graph), **options) as provider:
        solution = resolve(provider, [_req(n, c) for n, c in require.items()], root_name=label)
        return {n: provider.release(n, v).pretty for n, v in solution.items()}


def test_newest_version_within_the_constraints() -> None:
    graph = {
        "acme/a": {"1.0.0": {}, "1.4.2": {}, "2.0.0": {}},
        "acme/b": {"v2.1": {}, "2.1.5": {}, "2.2.0": {}},
    }
    assert _solve(graph, {"acme/a": "^1.0", "acme/b": "~2.1.0"}) == {
        "acme/a": "1.4.2",
        "acme/b": "2.1.5",
    }


def test_minimum_stability_filters_every_package() -> None:
    graph = {
        "acme/a": {"1.0.0": {"require": {"acme/b": "^1.0"}}, "1.1.0-beta1": {}},
        "acme/b": {"1.0.0-alpha1": {}, "1.0.0-RC2": {}, "0.9.0": {}},
    }
    # Stable only: b has no stable 1.x, so a 1.0.0 cannot be installed.
    with pytest.raises(ResolutionImpossible):
        _solve(graph, {"acme/a": "^1.0"})
    assert _solve(graph, {"acme/a": "^1.0"}, minimum_stability="RC") == {
        "acme/a": "1.0.0",
        "acme/b": "1.0.0-RC2",
    }
    assert _solve(graph, {"acme/a": "^1.0"}, minimum_stability="beta")["acme/a"] == "1.1.0-beta1"


def test_prefer_stable_puts_stability_before_version() -> None:
    graph = {"acme/a": {"1.0.0": {}, "1.1.0-RC1": {}, "0.9.0": {}}}
    assert _solve(graph, {"acme/a": "*"}, minimum_stability="RC") == {"acme/a": "1.1.0-RC1"}
    assert _solve(graph, {"acme/a": "*"}, minimum_stability="RC", prefer_stable=True) == {
        "acme/a": "1.0.0"
    }


def test_branches_come_after_numbered_versions() -> None:
    graph = {"acme/a": {"dev-main": {}, "1.0.0": {}, "1.1.0-alpha1": {}}}
    assert _solve(graph, {"acme/a": "*"}, minimum_stability="dev") == {"acme/a": "1.1.0-alpha1"}
    assert _solve(graph, {"acme/a": "dev-main"}, stability_flags={"acme/a": 20}) == {
        "acme/a": "dev-main"
    }


def test_stability_flags_as_composer_extracts_them() -> None:
    flags = extract_stability_flags(
        [
            ("acme/a", "^1.0@dev"),
            ("acme/b", "1.0.0-beta2"),
            ("acme/c", "^1.0"),
            ("acme/d", ">=1.0@beta, <2.0@alpha"),
            ("acme/e", "1.0.0-RC1 || @stable"),
            ("acme/f", "dev-main as 1.0.0"),
            ("acme/g", "1.0.0-RC1"),
        ],
        "beta",
    )
    # g's RC is more stable than minimum-stability beta: no flag.
    assert flags == {"acme/a": 20, "acme/b": 10, "acme/d": 15, "acme/e": 0, "acme/f": 20}
    # require-dev adds to require's flags; a more stable flag does not lower one.
    assert extract_stability_flags([("acme/a", "^1.0@RC")], "stable", {"acme/a": 20}) == {
        "acme/a": 20
    }


def test_a_flag_loosens_only_its_package() -> None:
    graph = {
        "acme/a": {"1.0.0": {"require": {"acme/b": "^1.0"}}, "1.1.0-alpha1": {}},
        "acme/b": {"1.0.0": {}, "1.1.0-alpha1": {}},
    }
    flags = extract_stability_flags([("acme/a", "^1.0@alpha")])
    assert _solve(graph, {"acme/a": "^1.0@alpha"}, stability_flags=flags) == {
        "acme/a": "1.1.0-alpha1"
    }
    graph = {"acme/a": {"1.0.0": {"require": {"acme/b": "^1.1@alpha"}}}, "acme/b": graph["acme/b"]}
    # A dependency's @alpha does not loosen anything: only root flags count.
    with pytest.raises(ResolutionImpossible) as failure:
        _solve(graph, {"acme/a": "^1.0"})
    assert "acme/b ^1.1@alpha" in failure.value.explanation


def test_platform_packages_come_from_the_platform_map() -> None:
    graph = {
        "acme/a": {
            "1.0.0": {"require": {"php": ">=7.2", "ext-json": "*"}},
            "2.0.0": {"require": {"php": ">=8.2"}},
        }
    }
    platform = platform_map({"php": "8.1.3"}, {"php": "8.2.0", "php-64bit": "8.2.0"})
    assert platform.packages["php"] == "8.1.3"
    assert platform.packages["php-64bit"] == "8.1.3"  # the php override covers php-*
    with pytest.raises(ResolutionImpossible) as failure:
        _solve(graph, {"acme/a": "*"}, platform=platform)
    # 2.0.0 needs PHP 8.2, 1.0.0 an extension the platform does not have.
    assert "ext-json is unavailable: it is missing from the platform" in failure.value.explanation
    with_json = platform_map({"php": "8.1.3", "ext-json": "8.1.3"}, {})
    assert _solve(graph, {"acme/a": "*"}, platform=with_json) == {
        "acme/a": "1.0.0",
        "ext-json": "8.1.3",
        "php": "8.1.3",
    }
    removed = platform_map({"ext-json": False}, {"php": "8.2.0", "ext-json": "8.2.0"})
    assert "ext-json" not in removed.packages
    assert platform_map({}, {}).packages["composer-plugin-api"] == "2.3.0"
    with pytest.raises(PackageError, match="not a platform package"):
        platform_map({"acme/a": "1.0"}, {})


def test_root_replace_provide_and_conflict() -> None:
    graph = {
        "acme/a": {"1.0.0": {"require": {"acme/legacy": "^2.0", "acme/app": "*"}}},
        "acme/b": {"1.0.0": {}, "1.1.0": {}, "1.2.0": {}},
    }
    provides = {"acme/legacy": SCHEME.parse_constraint("2.5.0").ranges}
    conflicts = {"acme/b": SCHEME.parse_constraint(">=1.2").ranges}
    assert _solve(
        graph,
        {"acme/a": "^1.0", "acme/b": "^1.0"},
        root_name="acme/app",
        root_provides=provides,
        root_conflicts=conflicts,
    ) == {"acme/a": "1.0.0", "acme/b": "1.1.0"}


def test_self_version_and_preferred_versions() -> None:
    graph = {
        "acme/a": {"1.0.0": {"require": {"acme/b": "self.version"}}, "1.1.0": {}},
        "acme/b": {"1.0.0": {}, "1.1.0": {}},
    }
    assert _solve(graph, {"acme/a": "^1.0", "acme/b": "*"}) == {
        "acme/a": "1.1.0",
        "acme/b": "1.1.0",
    }
    preferred = {"acme/a": "1.0.0", "acme/b": "1.0.0"}
    assert _solve(graph, {"acme/a": "^1.0", "acme/b": "*"}, preferred=preferred) == {
        "acme/a": "1.0.0",
        "acme/b": "1.0.0",
    }


def test_conflict_explanation_ends_at_composer_json() -> None:
    graph = {
        "acme/a": {
            "1.0.0": {"require": {"acme/b": "^1.0"}},
            "1.1.0": {"require": {"acme/b": "^1.1"}},
        },
        "acme/c": {"2.0.0": {"require": {"acme/b": "^2.0"}}},
        "acme/b": {"1.0.0": {}, "1.1.0": {}, "2.0.0": {}},
    }
    with pytest.raises(ResolutionImpossible) as failure:
        _solve(graph, {"acme/a": "^1.0", "acme/c": "^2.0"})
    explanation = failure.value.explanation
    lines = explanation.strip().splitlines()
    assert lines[0].startswith("Because acme/a 1.1.0 depends on acme/b ^1.1")
    assert "acme/a ^1.0 requires acme/b ^1.0" in lines[0]
    assert "acme/c ^2.0 depends on acme/b ^2.0" in lines[1]
    # The last sentence ends at composer.json's own requirements.
    assert lines[-1] == (
        "So, because acme/app (composer.json) depends on both acme/a ^1.0 and acme/c ^2.0, "
        "version solving failed."
    )


def test_missing_package_and_bad_metadata_are_unavailable() -> None:
    graph = {
        "acme/a": {"1.0.0": {"require": {"acme/ghost": "^1.0"}}},
        "acme/x": {"1.0.0": {"require": {"acme/a": "not a constraint!"}}},
    }
    with pytest.raises(ResolutionImpossible) as failure:
        _solve(graph, {"acme/a": "^1.0"})
    assert "acme/ghost is unavailable: not found" in failure.value.explanation
    with ComposerProvider(None, listings=_listings(graph)) as provider:
        (version,) = provider.candidates("acme/x", SCHEME.parse_constraint("*").ranges)
        with pytest.raises(Unavailable, match=r"require\.acme/a"):
            provider.dependencies("acme/x", version)
    with pytest.raises(PackageError, match="needs a lookup"):
        ComposerProvider(None)


def test_detect_platform_matches_the_local_php() -> None:
    php = shutil.which("php")
    if php is None:
        pytest.skip("php is not installed (the platform is detected from it)")
    found = detect_platform()
    script = "echo json_encode([PHP_VERSION, phpversion('json')]);"
    version, json_version = json.loads(
        subprocess.run([php, "-r", script], capture_output=True, text=True, check=True).stdout
    )
    assert found["php"] == version.split("-")[0].split("+")[0].split("~")[0]
    if json_version:
        assert found["ext-json"] == json_version
    assert detect_platform("no-such-php-binary") == {}


def test_branch_aliases_as_composer_reads_them() -> None:
    def alias(version: str, **fields: Any) -> str | None:
        found = branch_alias({"version": version, **fields})
        return None if found is None else f"{found.normalized} {found.pretty}"

    aliased = {"extra": {"branch-alias": {"dev-main": "1.3.x-dev"}}}
    assert alias("dev-main", **aliased) == "1.3.9999999.9999999-dev 1.3.x-dev"
    assert alias("dev-other", **aliased) is None  # not this branch's alias
    assert alias("1.3.0", **aliased) is None  # only dev versions have aliases
    assert alias("dev-main", extra={"branch-alias": {"dev-main": "1.3.0"}}) is None
    assert alias("2.x-dev", extra={"branch-alias": {"2.x-dev": "3.0.x-dev"}}) is None
    assert alias("2.x-dev", extra={"branch-alias": {"2.x-dev": "2.1.x-dev"}}) is not None
    assert alias("dev-trunk", **{"default-branch": True}) == "9999999-dev 9999999-dev"
    assert alias("1.x-dev", **{"default-branch": True}) is None

    graph = {
        "acme/a": {"1.2.0": {}, "dev-main": aliased},
        "acme/b": {"1.0.0": {"require": {"acme/a": "^1.3"}}},
    }
    flags = {"acme/a": 20}
    with ComposerProvider(None, listings=_listings(graph), stability_flags=flags) as provider:
        solution = resolve(provider, [_req("acme/b", "*"), _req("acme/a", "^1.0@dev")])
        chosen = provider.release("acme/a", solution["acme/a"])
        assert (chosen.pretty, chosen.version.pretty) == ("dev-main", "1.3.x-dev")
        assert provider.describe("acme/a", chosen.version) == "acme/a 1.3.x-dev (alias of dev-main)"
