"""Differential tests: Composer 2.5 and tuskops resolve the same composer.json against the same
local Composer v2 repository (tests/_support/composer_registry.py), and must write the same
composer.lock, byte for byte; where Composer finds no solution, tuskops must not either.

Composer runs as ``composer update --no-install --no-interaction`` with packagist.org off,
``secure-http: false``, COMPOSER_HOME and COMPOSER_CACHE_DIR in the test's directory, and
``config.platform.php`` set so that the PHP version of this machine does not matter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from _support.composer_registry import ComposerRegistry, composer_json
from tuskops.packages.api import PackageLookup
from tuskops.packages.ecosystems.composer_files import write_composer_lock
from tuskops.packages.lock_composer import lock_composer
from tuskops.packages.locking import LockRequest
from tuskops.packages.resolve.pubgrub import ResolutionImpossible

COMPOSER = shutil.which("composer")


@dataclass(frozen=True)
class Case:
    graph: Mapping[str, Mapping[str, Mapping[str, Any]]]
    require: Mapping[str, str]
    require_dev: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict)
    platform: Mapping[str, str] | None = None
    #: None: both must succeed with the same lock; else a word Composer's error contains.
    fails: str | None = None


CASES: dict[str, Case] = {
    # ^, ~, wildcards, ||, ranges and != across a transitive graph.
    "ranges": Case(
        graph={
            "acme/a": {
                "1.1.0": {"require": {"acme/c": "~2.1"}},
                "1.2.0": {"require": {"acme/c": "~2.1", "acme/d": "1.0.* || ^3.0"}},
                "1.3.5": {"require": {"acme/c": "~2.1.0", "acme/d": "1.0.* || ^3.0"}},
                "2.0.0": {},
            },
            "acme/b": {"2.0.0": {}, "2.1.0": {}, "2.1.9": {}, "2.2.0": {}, "3.0.0": {}},
            "acme/c": {"2.0.5": {}, "2.1.0": {}, "2.1.3": {}, "2.2.0": {}},
            "acme/d": {"1.0.0": {}, "1.0.7": {}, "1.1.0": {}, "2.0.0": {}, "3.4.0": {}},
            "acme/e": {"0.9.0": {}, "1.0.0": {}, "1.5.0": {}, "2.0.0": {}},
        },
        require={
            "acme/a": "^1.2",
            "acme/b": "~2.1,!=2.1.9",
            "acme/e": ">=1.0 <2.0 || 0.9.*",
            "php": ">=7.4",
        },
    ),
    # The newest a needs a b the project excludes: an older a is chosen.
    "backtracking": Case(
        graph={
            "acme/a": {
                "1.0.0": {"require": {"acme/b": "^1.0"}},
                "2.0.0": {"require": {"acme/b": "^2.0"}},
            },
            "acme/b": {"1.0.0": {}, "1.4.0": {}, "2.0.0": {}},
            "acme/c": {"1.0.0": {"require": {"acme/b": "<2.0"}}},
        },
        require={"acme/a": "*", "acme/c": "^1.0"},
    ),
    # No solution: two requirements on b that do not overlap.
    "conflict": Case(
        graph={
            "acme/a": {"1.0.0": {"require": {"acme/b": "^1.0"}}},
            "acme/c": {"1.0.0": {"require": {"acme/b": "^2.0"}}},
            "acme/b": {"1.0.0": {}, "2.0.0": {}},
        },
        require={"acme/a": "^1.0", "acme/c": "^1.0"},
        fails="acme/b",
    ),
    # minimum-stability beta admits betas and RCs but not alphas; prefer-stable is off.
    "prereleases": Case(
        graph={
            "acme/a": {
                "1.0.0": {},
                "1.1.0-beta1": {"require": {"acme/b": "^1.0@alpha"}},
                "1.1.0-alpha3": {},
            },
            "acme/b": {"1.0.0-alpha1": {}, "1.0.0-beta2": {}, "1.0.0-RC1": {}},
            "acme/c": {"2.0.0": {}, "2.1.0-alpha1": {}},
        },
        require={"acme/a": "^1.0", "acme/c": "^2.0"},
        fields={"minimum-stability": "beta"},
    ),
    # prefer-stable: the stable 1.0.0 wins over a newer RC.
    "prefer-stable": Case(
        graph={
            "acme/a": {"1.0.0": {}, "1.1.0-RC1": {}},
            "acme/b": {"2.0.0-beta1": {}, "2.0.0-beta2": {}},
        },
        require={"acme/a": "^1.0", "acme/b": "^2.0"},
        fields={"minimum-stability": "beta", "prefer-stable": True},
    ),
    # Stability flags: @dev and an explicit RC in the root constraint loosen one package each.
    "stability-flags": Case(
        graph={
            "acme/a": {"1.0.0": {}, "1.1.0-alpha1": {}},
            "acme/b": {"0.9.0": {}, "1.0.0-RC1": {}, "1.0.0-beta1": {}},
            "acme/c": {"1.0.0": {}, "1.1.0-beta1": {}},
            "acme/d": {"1.0.0": {}, "dev-main": {}},
        },
        require={"acme/a": "^1.0@alpha", "acme/b": "1.0.0-RC1", "acme/c": "^1.0"},
        require_dev={"acme/d": "dev-main"},
    ),
    # require-dev: packages only dev needs go to packages-dev; a shared one stays in packages.
    "require-dev": Case(
        graph={
            "acme/app-lib": {"1.0.0": {"require": {"acme/shared": "^1.0"}}},
            "acme/tester": {"3.0.0": {"require": {"acme/shared": "^1.1", "acme/mock": "*"}}},
            "acme/shared": {"1.0.0": {}, "1.1.0": {}, "1.2.0": {}},
            "acme/mock": {"0.1.0": {}, "0.2.0": {}},
        },
        require={"acme/app-lib": "^1.0"},
        require_dev={"acme/tester": "^3.0", "php": ">=8.0"},
    ),
    # The platform: the newest a needs PHP 8.1, config.platform says 7.4.
    "platform": Case(
        graph={
            "acme/a": {
                "1.0.0": {"require": {"php": ">=7.2"}},
                "2.0.0": {"require": {"php": ">=8.1", "composer-plugin-api": "^2.0"}},
            },
        },
        require={"acme/a": "*"},
        platform={"php": "7.4.33"},
    ),
    # A missing extension cannot be installed at all.
    "missing-extension": Case(
        graph={"acme/a": {"1.0.0": {"require": {"ext-tuskops-missing": "*"}}}},
        require={"acme/a": "^1.0"},
        fails="ext-tuskops-missing",
    ),
    # Dev branches with minimum-stability dev: numbered versions still sort above branches.
    "branches": Case(
        graph={
            "acme/a": {"1.0.0": {}, "1.1.0-beta1": {}, "dev-main": {}},
            "acme/b": {"dev-main": {}, "dev-feature": {}},
        },
        require={"acme/a": "*", "acme/b": "dev-feature"},
        fields={"minimum-stability": "dev"},
    ),
    # Two packages whose newest versions exclude each other: which one gives way.
    "choice-order": Case(
        graph={
            "acme/a": {"1.0.0": {}, "2.0.0": {"require": {"acme/b": "^1.0"}}},
            "acme/b": {"1.0.0": {}, "2.0.0": {"require": {"acme/a": "^1.0"}}},
            "acme/z": {"1.0.0": {"require": {"acme/b": "*"}}},
        },
        require={"acme/z": "*", "acme/a": "*"},
    ),
    # Branch aliases: ^1.3@dev is met by dev-main aliased as 1.3.x-dev; a default branch is
    # aliased as 9999999-dev; the lock records the branches.
    "branch-alias": Case(
        graph={
            "acme/a": {
                "1.2.0": {},
                "dev-main": {"extra": {"branch-alias": {"dev-main": "1.3.x-dev"}}},
                "dev-old": {"extra": {"branch-alias": {"dev-main": "9.0.x-dev"}}},
            },
            "acme/b": {"1.0.0": {}, "dev-trunk": {"default-branch": True}},
            "acme/c": {"1.0.0": {"require": {"acme/a": "^1.3@dev"}}},
        },
        require={"acme/c": "^1.0", "acme/a": "^1.0@dev", "acme/b": ">=2.0@dev"},
    ),
    # Package metadata as Packagist serves it: every field the lock carries.
    "lock-fields": Case(
        graph={
            "acme/full": {
                "1.0.0": {
                    "require": {"acme/Dep": "^1.0", "php": ">=7.0"},
                    "require-dev": {"phpunit/phpunit": "^9"},
                    "suggest": {"ext-intl": "for locales", "acme/dep": "self.version"},
                    "replace": {"acme/old": "self.version"},
                    "conflict": {"acme/bad": "<1.0"},
                    "bin": ["/bin/tool"],
                    "keywords": ["zeta", "alpha"],
                    "homepage": "https://example.test/",
                    "authors": [{"name": "A. Person"}],
                    "autoload": {"psr-4": {"Acme\\Full\\": "src/"}},
                    "extra": {"branch-alias": {"dev-main": "1.0-dev"}},
                    "support": {"issues": "https://example.test/issues"},
                    "source": {
                        "type": "git",
                        "url": "https://example.test/full.git",
                        "reference": "abc",
                    },
                    "abandoned": "acme/new",
                    "type": "Library",
                    "license": "MIT",
                    "time": "2023-05-06 07:08:09",
                }
            },
            "acme/dep": {"1.0.0": {}},
        },
        require={"acme/full": "^1.0"},
    ),
}


def _run_composer(project: Path, home: Path) -> subprocess.CompletedProcess[str]:
    assert COMPOSER is not None
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.upper().startswith("COMPOSER") and key not in ("http_proxy", "https_proxy")
    }
    env.update(
        COMPOSER_HOME=str(home / "composer-home"),
        COMPOSER_CACHE_DIR=str(home / "composer-cache"),
        COMPOSER_NO_INTERACTION="1",
        COMPOSER_DISABLE_XDEBUG_WARN="1",
    )
    return subprocess.run(
        [COMPOSER, "update", "--no-install", "--no-interaction", "--no-plugins", "--no-scripts"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def tmp_home(package_env: Path) -> Path:
    return package_env


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> Generator[tuple[str, Case, ComposerRegistry]]:
    name: str = request.param
    registry = ComposerRegistry(CASES[name].graph)
    yield name, CASES[name], registry
    registry.close()


def test_same_lock_as_composer(
    case: tuple[str, Case, ComposerRegistry], tmp_path: Path, tmp_home: Path
) -> None:
    if COMPOSER is None:
        pytest.skip("composer is not installed (the differential tests compare with it)")
    name, spec, registry = case
    document = composer_json(
        registry,
        spec.require,
        require_dev=spec.require_dev,
        platform=spec.platform,
        **spec.fields,
    )
    theirs_dir, ours_dir = tmp_path / "composer", tmp_path / "tuskops"
    for directory in (theirs_dir, ours_dir):
        directory.mkdir()
        (directory / "composer.json").write_text(json.dumps(document, indent=4))
    result = _run_composer(theirs_dir, tmp_path)

    lookup = PackageLookup(project_dir=ours_dir, cache_dir=tmp_path / "tuskops-cache")
    request = LockRequest(lookup=lookup)
    if spec.fails is not None:
        assert result.returncode != 0, f"{name}: Composer found a solution:\n{result.stderr}"
        assert spec.fails in result.stdout + result.stderr
        with pytest.raises(ResolutionImpossible) as failure:
            lock_composer(ours_dir, request)
        assert spec.fails in failure.value.explanation
        return
    assert result.returncode == 0, f"{name}: composer failed:\n{result.stdout}{result.stderr}"
    theirs = (theirs_dir / "composer.lock").read_text()
    ours = write_composer_lock(lock_composer(ours_dir, request))
    assert ours == theirs


@dataclass(frozen=True)
class Difference:
    """A measured difference (docs/resolution.md, Composer): what each tool locks, as
    ``{name: version}`` of ``packages``, or None where it finds no solution."""

    graph: Mapping[str, Mapping[str, Mapping[str, Any]]]
    require: Mapping[str, str]
    composer: Mapping[str, str] | None
    tuskops: Mapping[str, str] | None


DIFFERENCES: dict[str, Difference] = {
    # Which package gives way: Composer decides root requirements in composer.json order (p1
    # keeps its newest), PubGrub the package with the fewest candidates, ties to the one
    # derived first (here p2).
    "decision-order": Difference(
        graph={
            "acme/p1": {"1.1.0": {}, "2.0.0": {"require": {"acme/p2": "<2.0"}}},
            "acme/p2": {"1.0.0": {}, "1.1.0": {"require": {"acme/p1": "<2.0"}}},
        },
        require={"acme/p1": "*", "acme/p2": "*"},
        composer={"acme/p1": "2.0.0", "acme/p2": "1.0.0"},
        tuskops={"acme/p1": "1.1.0", "acme/p2": "1.1.0"},
    ),
    # A dependency's replace: Composer lets acme/a stand in for acme/c.
    "dependency-replace": Difference(
        graph={
            "acme/a": {"1.0.0": {"replace": {"acme/c": "self.version"}}},
            "acme/c": {"1.0.0": {}},
        },
        require={"acme/a": "^1.0", "acme/c": "^1.0"},
        composer={"acme/a": "1.0.0"},
        tuskops={"acme/a": "1.0.0", "acme/c": "1.0.0"},
    ),
    # A dependency's conflict: Composer keeps acme/b below 1.1.
    "dependency-conflict": Difference(
        graph={
            "acme/a": {"1.0.0": {"conflict": {"acme/b": ">=1.1"}}},
            "acme/b": {"1.0.0": {}, "1.1.0": {}},
        },
        require={"acme/a": "^1.0", "acme/b": "^1.0"},
        composer={"acme/a": "1.0.0", "acme/b": "1.0.0"},
        tuskops={"acme/a": "1.0.0", "acme/b": "1.1.0"},
    ),
    # A dependency's provide: Composer finds the virtual package among loaded packages.
    "dependency-provide": Difference(
        graph={
            "acme/impl": {"1.0.0": {"provide": {"acme/api-implementation": "1.0"}}},
            "acme/user": {
                "1.0.0": {"require": {"acme/api-implementation": "^1.0", "acme/impl": "*"}}
            },
        },
        require={"acme/user": "*"},
        composer={"acme/impl": "1.0.0", "acme/user": "1.0.0"},
        tuskops=None,
    ),
}


@pytest.mark.parametrize("name", sorted(DIFFERENCES))
def test_known_difference(name: str, tmp_path: Path, tmp_home: Path) -> None:
    if COMPOSER is None:
        pytest.skip("composer is not installed (the differential tests compare with it)")
    spec = DIFFERENCES[name]
    registry = ComposerRegistry(spec.graph)
    try:
        document = composer_json(registry, spec.require)
        theirs_dir, ours_dir = tmp_path / "composer", tmp_path / "tuskops"
        for directory in (theirs_dir, ours_dir):
            directory.mkdir()
            (directory / "composer.json").write_text(json.dumps(document, indent=4))
        result = _run_composer(theirs_dir, tmp_path)
        theirs: dict[str, str] | None = None
        if result.returncode == 0:
            lock = json.loads((theirs_dir / "composer.lock").read_text())
            theirs = {p["name"]: p["version"] for p in lock["packages"]}
        lookup = PackageLookup(project_dir=ours_dir, cache_dir=tmp_path / "tuskops-cache")
        ours: dict[str, str] | None
        try:
            lockfile = lock_composer(ours_dir, LockRequest(lookup=lookup))
            ours = {p.name: p.version for p in lockfile.packages if not p.dev}
        except ResolutionImpossible:
            ours = None
    finally:
        registry.close()
    assert theirs == spec.composer, result.stdout + result.stderr
    assert ours == spec.tuskops
    assert theirs != ours
