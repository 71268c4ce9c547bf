"""composer.json and composer.lock readers, on fixtures following Composer's documented layout."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tuskops.errors import ManifestError
from tuskops.packages import manifests
from tuskops.packages.ecosystems.composer_files import (
    PLUGIN_API_VERSION,
    content_hash,
    is_platform_package,
    read_composer_json,
    read_composer_lock,
    write_composer_lock,
)
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest

COMPOSER_JSON: dict[str, Any] = {
    "name": "acme/shop",
    "description": "The Acme shop",
    "type": "project",
    "version": "1.4.0",
    "license": "proprietary",
    "require": {
        "php": ">=8.1",
        "ext-json": "*",
        "ext-pdo_mysql": "*",
        "lib-icu": ">=60",
        "composer-runtime-api": "^2.2",
        "monolog/monolog": "^3.5",
        "symfony/console": "~6.4.0 || ^7.0",
        "acme/internal": "dev-main#4a3b2c1",
        "acme/legacy": "2.x-dev as 1.9.0",
        "doctrine/orm": "^3.0@beta",
    },
    "require-dev": {"phpunit/phpunit": "^10.5", "phpstan/phpstan": "1.10.*"},
    "conflict": {"symfony/symfony": "*"},
    "replace": {"acme/shop-core": "self.version"},
    "provide": {"psr/log-implementation": "3.0.0"},
    "suggest": {"ext-intl": "For localised prices"},
    "minimum-stability": "dev",
    "prefer-stable": True,
    "repositories": [
        {"type": "composer", "url": "https://repo.acme.example/"},
        {"type": "vcs", "url": "https://github.com/acme/legacy"},
        {"type": "path", "url": "../packages/*", "options": {"symlink": True}},
        {"packagist.org": False},
    ],
    "autoload": {"psr-4": {"Acme\\Shop\\": "src/"}},
    "config": {"sort-packages": True},
}


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=4) + "\n")
    return path


def deps_by(manifest: Manifest) -> dict[str, Dependency]:
    return {d.name: d for d in manifest.dependencies}


# --- composer.json ----------------------------------------------------------------------------


def test_composer_json_basics(tmp_path: Path) -> None:
    m = read_composer_json(write(tmp_path, "composer.json", COMPOSER_JSON))
    assert m.ecosystem == "composer"
    assert m.path == str(tmp_path / "composer.json")
    assert (m.name, m.version) == ("acme/shop", "1.4.0")
    assert len(m.dependencies) == 12
    assert "autoload" not in m.extra
    assert m.extra["type"] == "project"


def test_composer_json_require_and_dev(tmp_path: Path) -> None:
    deps = deps_by(read_composer_json(write(tmp_path, "composer.json", COMPOSER_JSON)))
    assert deps["monolog/monolog"].constraint == "^3.5"
    assert deps["monolog/monolog"].kind == "normal"
    assert deps["symfony/console"].constraint == "~6.4.0 || ^7.0"
    assert deps["acme/internal"].constraint == "dev-main#4a3b2c1"
    assert deps["acme/legacy"].constraint == "2.x-dev as 1.9.0"
    assert deps["doctrine/orm"].constraint == "^3.0@beta"
    assert deps["phpunit/phpunit"].kind == "dev"
    assert deps["phpstan/phpstan"].kind == "dev"
    assert deps["phpstan/phpstan"].constraint == "1.10.*"


def test_composer_json_platform_packages(tmp_path: Path) -> None:
    deps = deps_by(read_composer_json(write(tmp_path, "composer.json", COMPOSER_JSON)))
    for name in ("php", "ext-json", "ext-pdo_mysql", "lib-icu", "composer-runtime-api"):
        assert deps[name].extra == {"platform": True}, name
    assert deps["php"].constraint == ">=8.1"
    assert "platform" not in deps["monolog/monolog"].extra


@pytest.mark.parametrize(
    ("name", "platform"),
    [
        ("php", True),
        ("php-64bit", True),
        ("hhvm", True),
        ("ext-mbstring", True),
        ("ext-pdo_sqlite", True),
        ("lib-libxml", True),
        ("composer-plugin-api", True),
        ("composer", True),
        ("PHP", True),
        ("phpunit/phpunit", False),
        ("php-http/client", False),
        ("extension", False),
        ("ext-", False),
    ],
)
def test_is_platform_package(name: str, platform: bool) -> None:
    assert is_platform_package(name) is platform


def test_composer_json_links_and_stability(tmp_path: Path) -> None:
    m = read_composer_json(write(tmp_path, "composer.json", COMPOSER_JSON))
    assert m.extra["conflict"] == {"symfony/symfony": "*"}
    assert m.extra["replace"] == {"acme/shop-core": "self.version"}
    assert m.extra["provide"] == {"psr/log-implementation": "3.0.0"}
    assert m.extra["suggest"] == {"ext-intl": "For localised prices"}
    assert m.extra["minimum-stability"] == "dev"
    assert m.extra["prefer-stable"] is True


def test_composer_json_repositories(tmp_path: Path) -> None:
    m = read_composer_json(write(tmp_path, "composer.json", COMPOSER_JSON))
    assert m.extra["registries"] == ["https://repo.acme.example/"]
    assert m.extra["packagist"] is False
    repos = m.extra["repositories"]
    assert len(repos) == 4
    assert repos[1] == {"type": "vcs", "url": "https://github.com/acme/legacy"}
    assert repos[2]["options"] == {"symlink": True}


def test_composer_json_repositories_as_object(tmp_path: Path) -> None:
    data = {
        "repositories": {
            "private": {"type": "composer", "url": "https://packages.example.com"},
            "packagist.org": False,
        }
    }
    m = read_composer_json(write(tmp_path, "composer.json", data))
    assert m.extra["registries"] == ["https://packages.example.com"]
    assert m.extra["packagist"] is False
    assert m.extra["repositories"][0]["name"] == "private"


def test_composer_json_old_packagist_false(tmp_path: Path) -> None:
    data = {"repositories": [{"packagist": False}]}
    assert read_composer_json(write(tmp_path, "composer.json", data)).extra["packagist"] is False


def test_composer_json_minimal_and_php_empty_arrays(tmp_path: Path) -> None:
    m = read_composer_json(write(tmp_path, "composer.json", {"require": [], "require-dev": []}))
    assert (m.name, m.version, m.dependencies, dict(m.extra)) == (None, None, (), {})


def test_composer_json_stability_case_insensitive(tmp_path: Path) -> None:
    m = read_composer_json(write(tmp_path, "composer.json", {"minimum-stability": "rc"}))
    assert m.extra["minimum-stability"] == "RC"


# --- composer.json errors ---------------------------------------------------------------------


def test_composer_json_malformed(tmp_path: Path) -> None:
    path = write(tmp_path, "composer.json", '{\n    "require": {\n        "php": ">=8.1"\n    \n')
    with pytest.raises(ManifestError) as info:
        read_composer_json(path)
    assert info.value.location == "5:1"
    assert str(info.value).startswith(f"{path}:5:1: error: invalid JSON")


def test_composer_json_missing_comma(tmp_path: Path) -> None:
    path = write(tmp_path, "composer.json", '{\n  "name": "a/b"\n  "require": {}\n}')
    with pytest.raises(ManifestError) as info:
        read_composer_json(path)
    assert info.value.location == "3:3"
    assert "Expecting ',' delimiter" in info.value.message


def test_composer_json_require_not_object(tmp_path: Path) -> None:
    path = write(tmp_path, "composer.json", {"require": ["monolog/monolog"]})
    with pytest.raises(ManifestError) as info:
        read_composer_json(path)
    assert info.value.location == "require"
    assert info.value.message == "must be an object, not an array"
    assert str(info.value).endswith("(at require)")


def test_composer_json_constraint_not_string(tmp_path: Path) -> None:
    path = write(tmp_path, "composer.json", {"require-dev": {"phpunit/phpunit": 10}})
    with pytest.raises(ManifestError) as info:
        read_composer_json(path)
    assert info.value.location == "require-dev.phpunit/phpunit"
    assert info.value.message == "must be a string, not a number"


def test_composer_json_invalid_constraint(tmp_path: Path) -> None:
    path = write(tmp_path, "composer.json", {"require": {"monolog/monolog": ">=>3"}})
    with pytest.raises(ManifestError) as info:
        read_composer_json(path)
    assert info.value.location == "require.monolog/monolog"
    assert info.value.message.startswith("invalid version constraint: could not parse")


def test_composer_json_invalid_conflict_constraint(tmp_path: Path) -> None:
    path = write(tmp_path, "composer.json", {"conflict": {"a/b": "not-a-version"}})
    with pytest.raises(ManifestError) as info:
        read_composer_json(path)
    assert info.value.location == "conflict.a/b"


def test_composer_json_dotted_name_bracketed(tmp_path: Path) -> None:
    path = write(tmp_path, "composer.json", {"require": {"ext-zend.opcache": 1}})
    with pytest.raises(ManifestError) as info:
        read_composer_json(path)
    assert info.value.location == 'require["ext-zend.opcache"]'


def test_composer_json_bad_minimum_stability(tmp_path: Path) -> None:
    path = write(tmp_path, "composer.json", {"minimum-stability": "unstable"})
    with pytest.raises(ManifestError, match="invalid stability 'unstable'") as info:
        read_composer_json(path)
    assert info.value.location == "minimum-stability"


def test_composer_json_prefer_stable_not_bool(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="must be a boolean, not a string") as info:
        read_composer_json(write(tmp_path, "composer.json", {"prefer-stable": "yes"}))
    assert info.value.location == "prefer-stable"


def test_composer_json_repository_errors(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as info:
        read_composer_json(write(tmp_path, "composer.json", {"repositories": "x"}))
    assert info.value.location == "repositories"
    with pytest.raises(ManifestError, match="needs a 'type'") as info:
        read_composer_json(write(tmp_path, "composer.json", {"repositories": [{"url": "x"}]}))
    assert info.value.location == "repositories[0].type"
    data = {"repositories": [{"type": "vcs", "url": "u"}, {"type": "composer"}]}
    with pytest.raises(ManifestError, match="needs a 'url'") as info:
        read_composer_json(write(tmp_path, "composer.json", data))
    assert info.value.location == "repositories[1].url"
    with pytest.raises(ManifestError, match="must be an object") as info:
        read_composer_json(write(tmp_path, "composer.json", {"repositories": {"r": 3}}))
    assert info.value.location == "repositories.r"


# --- composer.lock ----------------------------------------------------------------------------

MONOLOG_REF = "c915e2634718dbc8a4a15c61b0e62e7a44e14448"
LEGACY_REF = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
COMPOSER_LOCK: dict[str, Any] = {
    "_readme": [
        "This file locks the dependencies of your project to a known state",
        "Read more about it at https://getcomposer.org/doc/01-basic-usage.md#installing-dependencies",
        "This file is @generated automatically",
    ],
    "content-hash": "3f82384263d983f40d3d8388d6c0a1c2",
    "packages": [
        {
            "name": "monolog/monolog",
            "version": "3.5.0",
            "source": {
                "type": "git",
                "url": "https://github.com/Seldaek/monolog.git",
                "reference": MONOLOG_REF,
            },
            "dist": {
                "type": "zip",
                "url": f"https://api.github.com/repos/Seldaek/monolog/zipball/{MONOLOG_REF}",
                "reference": MONOLOG_REF,
                "shasum": "",
            },
            "require": {"php": ">=8.1", "psr/log": "^2.0 || ^3.0"},
            "require-dev": {"phpunit/phpunit": "^10.1"},
            "provide": {"psr/log-implementation": "3.0.0"},
            "suggest": {"ext-mbstring": "Allow to work properly with unicode symbols"},
            "type": "library",
            "autoload": {"psr-4": {"Monolog\\": "src/Monolog"}},
            "notification-url": "https://packagist.org/downloads/",
            "license": ["MIT"],
            "time": "2023-10-27T15:32:31+00:00",
        },
        {
            "name": "psr/log",
            "version": "3.0.0",
            "dist": {
                "type": "zip",
                "url": "https://repo.acme.example/dists/psr/log/3.0.0/psr-log-3.0.0.zip",
                "reference": "fe5ea303b0887d5caefd3d431c3e61ad47037001",
                "shasum": "9b5b1e1b8c3a8d0d0d3c4ac5bb0c4fd8d28a4f1f",
            },
            "require": {"php": ">=8.0.0"},
            "type": "library",
        },
        {
            "name": "acme/legacy",
            "version": "dev-main",
            "source": {
                "type": "git",
                "url": "https://github.com/acme/legacy",
                "reference": LEGACY_REF,
            },
            "type": "library",
            "default-branch": True,
        },
        {"name": "acme/meta", "version": "1.0.0", "type": "metapackage"},
    ],
    "packages-dev": [
        {
            "name": "phpunit/phpunit",
            "version": "10.5.5",
            "version_normalized": "10.5.5.0",
            "source": {
                "type": "git",
                "url": "https://github.com/sebastianbergmann/phpunit.git",
                "reference": "ed21115d505b4b4f7dc7b5651464e19a2c7f7856",
            },
            "dist": {
                "type": "zip",
                "url": "https://api.github.com/repos/sebastianbergmann/phpunit/zipball/ed21115d",
                "reference": "ed21115d505b4b4f7dc7b5651464e19a2c7f7856",
                "shasum": "",
            },
            "require": {"ext-dom": "*", "php": ">=8.1"},
            "type": "library",
        }
    ],
    "aliases": [
        {
            "package": "acme/legacy",
            "version": "dev-main",
            "alias": "1.9.0",
            "alias_normalized": "1.9.0.0",
        }
    ],
    "minimum-stability": "dev",
    "stability-flags": {"acme/legacy": 20, "doctrine/orm": 10},
    "prefer-stable": True,
    "prefer-lowest": False,
    "platform": {"php": ">=8.1", "ext-json": "*"},
    "platform-dev": [],
    "platform-overrides": {"php": "8.1.27"},
    "plugin-api-version": "2.6.0",
}


def locked_by_name(lock: Lockfile) -> dict[str, LockedPackage]:
    return {p.name: p for p in lock.packages}


def test_lock_overview(tmp_path: Path) -> None:
    lock = read_composer_lock(write(tmp_path, "composer.lock", COMPOSER_LOCK))
    assert lock.ecosystem == "composer"
    assert lock.format == "composer.lock"
    assert [p.name for p in lock.packages] == [
        "monolog/monolog",
        "psr/log",
        "acme/legacy",
        "acme/meta",
        "phpunit/phpunit",
    ]
    assert [p.dev for p in lock.packages] == [False, False, False, False, True]


def test_lock_extra(tmp_path: Path) -> None:
    lock = read_composer_lock(write(tmp_path, "composer.lock", COMPOSER_LOCK))
    assert lock.extra["content-hash"] == "3f82384263d983f40d3d8388d6c0a1c2"
    assert lock.extra["plugin-api-version"] == "2.6.0"
    assert lock.extra["stability-flags"] == {"acme/legacy": 20, "doctrine/orm": 10}
    assert lock.extra["aliases"][0]["alias"] == "1.9.0"
    assert lock.extra["platform"] == {"php": ">=8.1", "ext-json": "*"}
    assert lock.extra["platform-dev"] == {}
    assert lock.extra["platform-overrides"] == {"php": "8.1.27"}
    assert lock.extra["minimum-stability"] == "dev"
    assert lock.extra["prefer-stable"] is True
    assert lock.extra["prefer-lowest"] is False


def test_lock_registry_package(tmp_path: Path) -> None:
    pkgs = locked_by_name(read_composer_lock(write(tmp_path, "composer.lock", COMPOSER_LOCK)))
    monolog = pkgs["monolog/monolog"]
    assert monolog.version == "3.5.0"
    assert monolog.source == f"https://api.github.com/repos/Seldaek/monolog/zipball/{MONOLOG_REF}"
    assert monolog.hashes == ()  # empty shasum, as GitHub zipballs have
    assert monolog.dependencies == ("php >=8.1", "psr/log ^2.0 || ^3.0")
    assert monolog.extra["source"]["reference"] == MONOLOG_REF
    assert monolog.extra["dist"]["type"] == "zip"
    assert monolog.extra["require-dev"] == {"phpunit/phpunit": "^10.1"}
    assert monolog.extra["provide"] == {"psr/log-implementation": "3.0.0"}
    assert monolog.extra["license"] == ["MIT"]
    assert monolog.extra["time"] == "2023-10-27T15:32:31+00:00"
    # Kept so that the lock can be written back.
    assert monolog.extra["autoload"] == {"psr-4": {"Monolog\\": "src/Monolog"}}


def test_lock_shasum_becomes_hash(tmp_path: Path) -> None:
    pkgs = locked_by_name(read_composer_lock(write(tmp_path, "composer.lock", COMPOSER_LOCK)))
    psr = pkgs["psr/log"]
    assert psr.hashes == ("sha1:9b5b1e1b8c3a8d0d0d3c4ac5bb0c4fd8d28a4f1f",)
    assert psr.source == "https://repo.acme.example/dists/psr/log/3.0.0/psr-log-3.0.0.zip"
    assert "source" not in psr.extra


def test_lock_source_only_and_metapackage(tmp_path: Path) -> None:
    pkgs = locked_by_name(read_composer_lock(write(tmp_path, "composer.lock", COMPOSER_LOCK)))
    legacy = pkgs["acme/legacy"]
    assert legacy.version == "dev-main"
    assert legacy.source == "https://github.com/acme/legacy"
    assert legacy.extra["source"]["reference"] == LEGACY_REF
    meta = pkgs["acme/meta"]
    assert meta.source is None
    assert meta.hashes == ()
    assert meta.extra["type"] == "metapackage"


def test_lock_dev_package(tmp_path: Path) -> None:
    pkgs = locked_by_name(read_composer_lock(write(tmp_path, "composer.lock", COMPOSER_LOCK)))
    phpunit = pkgs["phpunit/phpunit"]
    assert phpunit.dev
    assert phpunit.extra["version_normalized"] == "10.5.5.0"
    assert phpunit.dependencies == ("ext-dom *", "php >=8.1")


def test_lock_php_empty_arrays_and_null_dev(tmp_path: Path) -> None:
    data = {
        "content-hash": "d41d8cd98f00b204e9800998ecf8427e",
        "packages": [],
        "packages-dev": None,
        "aliases": [],
        "minimum-stability": "stable",
        "stability-flags": [],
        "prefer-stable": False,
        "prefer-lowest": False,
        "platform": [],
        "platform-dev": [],
        "plugin-api-version": "2.3.0",
    }
    lock = read_composer_lock(write(tmp_path, "composer.lock", data))
    assert lock.packages == ()
    assert lock.extra["stability-flags"] == {}
    assert lock.extra["platform"] == {}


# --- composer.lock errors ---------------------------------------------------------------------


def test_lock_missing_packages(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="missing the 'packages' list") as info:
        read_composer_lock(write(tmp_path, "composer.lock", {"content-hash": "x"}))
    assert info.value.location == "packages"


def test_lock_packages_not_array(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="must be an array, not an object") as info:
        read_composer_lock(write(tmp_path, "composer.lock", {"packages": {}}))
    assert info.value.location == "packages"


def test_lock_entry_errors(tmp_path: Path) -> None:
    cases: list[tuple[Any, str, str]] = [
        (["x"], "packages[0]", "must be an object, not a string"),
        ([{"version": "1.0.0"}], "packages[0].name", "a locked package needs a 'name'"),
        ([{"name": "a/b"}], "packages[0].version", "a locked package needs a 'version'"),
        (
            [{"name": "a/b", "version": "1.0.0"}, {"name": "c/d", "version": 2}],
            "packages[1].version",
            "must be a string, not a number",
        ),
        (
            [{"name": "a/b", "version": "1", "dist": "https://x"}],
            "packages[0].dist",
            "must be an object, not a string",
        ),
        (
            [{"name": "a/b", "version": "1", "source": {"url": 5}}],
            "packages[0].source.url",
            "must be a string, not a number",
        ),
        (
            [{"name": "a/b", "version": "1", "require": {"php": True}}],
            "packages[0].require.php",
            "must be a string, not a boolean",
        ),
    ]
    for packages, location, message in cases:
        path = write(tmp_path, "composer.lock", {"packages": packages})
        with pytest.raises(ManifestError) as info:
            read_composer_lock(path)
        assert (info.value.location, info.value.message) == (location, message)


def test_lock_dev_entry_error_names_packages_dev(tmp_path: Path) -> None:
    data = {"packages": [], "packages-dev": [{"name": "a/b", "version": None}]}
    with pytest.raises(ManifestError) as info:
        read_composer_lock(write(tmp_path, "composer.lock", data))
    assert info.value.location == "packages-dev[0].version"


def test_lock_stability_flags_and_aliases_errors(tmp_path: Path) -> None:
    data: dict[str, Any] = {"packages": [], "stability-flags": {"a/b": "dev"}}
    with pytest.raises(ManifestError, match="must be an integer") as info:
        read_composer_lock(write(tmp_path, "composer.lock", data))
    assert info.value.location == "stability-flags.a/b"
    data = {"packages": [], "aliases": {"a/b": "1.0"}}
    with pytest.raises(ManifestError) as info:
        read_composer_lock(write(tmp_path, "composer.lock", data))
    assert info.value.location == "aliases"
    data = {"packages": [], "aliases": [{"package": "a/b", "alias": 1}]}
    with pytest.raises(ManifestError) as info:
        read_composer_lock(write(tmp_path, "composer.lock", data))
    assert info.value.location == "aliases[0].alias"


def test_lock_malformed_json(tmp_path: Path) -> None:
    path = write(tmp_path, "composer.lock", '{\n    "packages": [\n        {"name": "a/b",}\n')
    with pytest.raises(ManifestError) as info:
        read_composer_lock(path)
    assert info.value.location == "3:24"
    assert info.value.file == str(path)


def test_lock_top_level_not_object(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="top level must be a JSON object, not an array"):
        read_composer_lock(write(tmp_path, "composer.lock", "[]"))


# --- dispatch ---------------------------------------------------------------------------------


def test_read_dispatches_composer_json(tmp_path: Path) -> None:
    result = manifests.read(write(tmp_path, "composer.json", COMPOSER_JSON))
    assert isinstance(result, Manifest)
    assert result.ecosystem == "composer"
    assert result.to_json()["type"] == "manifest"


def test_read_dispatches_composer_lock(tmp_path: Path) -> None:
    result = manifests.read(write(tmp_path, "composer.lock", COMPOSER_LOCK))
    assert isinstance(result, Lockfile)
    assert result.format == "composer.lock"
    json.dumps(result.to_json())


# --- writing composer.lock --------------------------------------------------------------------

#: As Composer 2.7+ writes it (JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES |
#: JSON_UNESCAPED_UNICODE, final newline): packages sorted by name, ArrayDumper's key order with
#: `time` last, a dev package, an alias of a branch, stability flags, `{}` for an empty object.
COMPOSER_WRITTEN = r"""{
    "_readme": [
        "This file locks the dependencies of your project to a known state",
        "Read more about it at https://getcomposer.org/doc/01-basic-usage.md#installing-dependencies",
        "This file is @generated automatically"
    ],
    "content-hash": "6a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d",
    "packages": [
        {
            "name": "acme/legacy",
            "version": "dev-main",
            "source": {
                "type": "git",
                "url": "https://github.com/acme/legacy.git",
                "reference": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
            },
            "dist": {
                "type": "zip",
                "url": "https://api.github.com/repos/acme/legacy/zipball/9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b",
                "reference": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b",
                "shasum": ""
            },
            "require": {
                "php": ">=8.1"
            },
            "default-branch": true,
            "type": "library",
            "autoload": {
                "psr-4": {
                    "Acme\\Legacy\\": "src/"
                }
            },
            "license": [
                "proprietary"
            ],
            "authors": [
                {
                    "name": "Jérôme Dupré",
                    "email": "jerome@acme.example"
                }
            ],
            "description": "Legacy helpers — kept for the old shop",
            "time": "2024-02-01T10:11:12+00:00"
        },
        {
            "name": "monolog/monolog",
            "version": "3.5.0",
            "source": {
                "type": "git",
                "url": "https://github.com/Seldaek/monolog.git",
                "reference": "c915e2634718dbc8a4a15c61b0e62e7a44e14448"
            },
            "dist": {
                "type": "zip",
                "url": "https://api.github.com/repos/Seldaek/monolog/zipball/c915e2634718dbc8a4a15c61b0e62e7a44e14448",
                "reference": "c915e2634718dbc8a4a15c61b0e62e7a44e14448",
                "shasum": ""
            },
            "require": {
                "php": ">=8.1",
                "psr/log": "^2.0 || ^3.0"
            },
            "provide": {
                "psr/log-implementation": "3.0.0"
            },
            "require-dev": {
                "phpunit/phpunit": "^10.1"
            },
            "suggest": {
                "ext-mbstring": "Allow to work properly with unicode symbols"
            },
            "type": "library",
            "extra": {
                "branch-alias": {
                    "dev-main": "3.x-dev"
                }
            },
            "autoload": {
                "psr-4": {
                    "Monolog\\": "src/Monolog"
                }
            },
            "notification-url": "https://packagist.org/downloads/",
            "license": [
                "MIT"
            ],
            "authors": [
                {
                    "name": "Jordi Boggiano",
                    "email": "j.boggiano@seld.be",
                    "homepage": "https://seld.be"
                }
            ],
            "description": "Sends your logs to files, sockets, inboxes, databases and web services",
            "homepage": "https://github.com/Seldaek/monolog",
            "keywords": [
                "log",
                "logging",
                "psr-3"
            ],
            "support": {
                "issues": "https://github.com/Seldaek/monolog/issues",
                "source": "https://github.com/Seldaek/monolog/tree/3.5.0"
            },
            "funding": [
                {
                    "url": "https://github.com/Seldaek",
                    "type": "github"
                },
                {
                    "url": "https://tidelift.com/funding/github/packagist/monolog/monolog",
                    "type": "tidelift"
                }
            ],
            "time": "2023-10-27T15:32:31+00:00"
        },
        {
            "name": "psr/log",
            "version": "3.0.0",
            "dist": {
                "type": "zip",
                "url": "https://repo.acme.example/dists/psr/log/3.0.0/psr-log-3.0.0.zip",
                "reference": "fe5ea303b0887d5caefd3d431c3e61ad47037001",
                "shasum": "9b5b1e1b8c3a8d0d0d3c4ac5bb0c4fd8d28a4f1f"
            },
            "require": {
                "php": ">=8.0.0"
            },
            "type": "library",
            "autoload": {
                "psr-4": {
                    "Psr\\Log\\": "src"
                }
            },
            "license": [
                "MIT"
            ],
            "description": "Common interface for logging libraries",
            "time": "2021-07-14T16:46:02+00:00"
        }
    ],
    "packages-dev": [
        {
            "name": "phpunit/phpunit",
            "version": "10.5.5",
            "source": {
                "type": "git",
                "url": "https://github.com/sebastianbergmann/phpunit.git",
                "reference": "ed21115d505b4b4f7dc7b5651464e19a2c7f7856"
            },
            "dist": {
                "type": "zip",
                "url": "https://api.github.com/repos/sebastianbergmann/phpunit/zipball/ed21115d505b4b4f7dc7b5651464e19a2c7f7856",
                "reference": "ed21115d505b4b4f7dc7b5651464e19a2c7f7856",
                "shasum": ""
            },
            "require": {
                "ext-dom": "*",
                "php": ">=8.1"
            },
            "suggest": {
                "ext-soap": "To be able to generate mocks based on WSDL files"
            },
            "bin": [
                "phpunit"
            ],
            "type": "library",
            "extra": {
                "branch-alias": {
                    "dev-main": "10.5-dev"
                }
            },
            "autoload": {
                "files": [
                    "src/Framework/Assert/Functions.php"
                ],
                "classmap": [
                    "src/"
                ]
            },
            "notification-url": "https://packagist.org/downloads/",
            "license": [
                "BSD-3-Clause"
            ],
            "description": "The PHP Unit Testing framework.",
            "time": "2023-12-27T15:13:52+00:00"
        }
    ],
    "aliases": [
        {
            "package": "acme/legacy",
            "version": "dev-main",
            "alias": "1.9.0",
            "alias_normalized": "1.9.0.0"
        }
    ],
    "minimum-stability": "dev",
    "stability-flags": {
        "acme/legacy": 20
    },
    "prefer-stable": true,
    "prefer-lowest": false,
    "platform": {
        "php": ">=8.1",
        "ext-json": "*"
    },
    "platform-dev": {},
    "platform-overrides": {
        "php": "8.1.27"
    },
    "plugin-api-version": "2.6.0"
}
"""

#: Composer before 2.7: empty objects as PHP's `[]`; `packages-dev` null after --no-dev.
OLD_COMPOSER_WRITTEN = """{
    "_readme": [
        "This file locks the dependencies of your project to a known state",
        "Read more about it at https://getcomposer.org/doc/01-basic-usage.md#installing-dependencies",
        "This file is @generated automatically"
    ],
    "content-hash": "d751713988987e9331980363e24189ce",
    "packages": [],
    "packages-dev": null,
    "aliases": [],
    "minimum-stability": "stable",
    "stability-flags": [],
    "prefer-stable": false,
    "prefer-lowest": false,
    "platform": [],
    "platform-dev": [],
    "plugin-api-version": "2.3.0"
}
"""


def write_text(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "composer.lock"
    path.write_bytes(text.encode())
    return path


@pytest.mark.parametrize(
    "text", [COMPOSER_WRITTEN, OLD_COMPOSER_WRITTEN], ids=["composer-2.7", "composer-2.3"]
)
def test_composer_lock_round_trip(tmp_path: Path, text: str) -> None:
    lock = read_composer_lock(write_text(tmp_path, text))
    assert write_composer_lock(lock) == text
    out = tmp_path / "out" / "composer.lock"
    out.parent.mkdir()
    manifests.write(lock, out)
    assert out.read_bytes() == text.encode()


def test_written_order_does_not_depend_on_the_model_order(tmp_path: Path) -> None:
    lock = read_composer_lock(write_text(tmp_path, COMPOSER_WRITTEN))
    shuffled = Lockfile(
        lock.ecosystem,
        lock.path,
        lock.format,
        tuple(reversed(lock.packages)),
        {**lock.extra, "aliases": [dict(reversed(list(a.items()))) for a in lock.extra["aliases"]]},
    )
    assert write_composer_lock(shuffled) == COMPOSER_WRITTEN


def test_writer_drops_what_the_locker_drops(tmp_path: Path) -> None:
    # COMPOSER_LOCK above has a version_normalized (as Composer 1 wrote); the Locker omits it.
    lock = read_composer_lock(write(tmp_path, "composer.lock", COMPOSER_LOCK))
    data = json.loads(write_composer_lock(lock))
    phpunit = data["packages-dev"][0]
    assert "version_normalized" not in phpunit
    monolog = next(p for p in data["packages"] if p["name"] == "monolog/monolog")
    assert list(monolog) == [  # ArrayDumper's order, time last
        "name",
        "version",
        "source",
        "dist",
        "require",
        "provide",
        "require-dev",
        "suggest",
        "type",
        "autoload",
        "notification-url",
        "license",
        "time",
    ]


BUILT_COMPOSER = Lockfile(
    ecosystem="composer",
    path="composer.lock",
    format="composer.lock",
    packages=(
        LockedPackage(
            "psr/log",
            "3.0.0",
            source="https://repo.acme.example/psr-log-3.0.0.zip",
            hashes=("sha1:9b5b1e1b8c3a8d0d0d3c4ac5bb0c4fd8d28a4f1f",),
            dependencies=("php >=8.0.0",),
            extra={
                "dist": {
                    "type": "zip",
                    "url": "https://repo.acme.example/psr-log-3.0.0.zip",
                    "shasum": "9b5b1e1b8c3a8d0d0d3c4ac5bb0c4fd8d28a4f1f",
                },
                "type": "library",
            },
        ),
        LockedPackage("phpstan/phpstan", "1.10.57", dev=True, extra={"type": "library"}),
    ),
    extra={
        "content-hash": "0123456789abcdef0123456789abcdef",
        "stability-flags": {},
        "aliases": [],
        "platform": {"php": "^8.1"},
        "platform-dev": {},
    },
)

BUILT_COMPOSER_TEXT = """{
    "_readme": [
        "This file locks the dependencies of your project to a known state",
        "Read more about it at https://getcomposer.org/doc/01-basic-usage.md#installing-dependencies",
        "This file is @generated automatically"
    ],
    "content-hash": "0123456789abcdef0123456789abcdef",
    "packages": [
        {
            "name": "psr/log",
            "version": "3.0.0",
            "dist": {
                "type": "zip",
                "url": "https://repo.acme.example/psr-log-3.0.0.zip",
                "shasum": "9b5b1e1b8c3a8d0d0d3c4ac5bb0c4fd8d28a4f1f"
            },
            "require": {
                "php": ">=8.0.0"
            },
            "type": "library"
        }
    ],
    "packages-dev": [
        {
            "name": "phpstan/phpstan",
            "version": "1.10.57",
            "type": "library"
        }
    ],
    "aliases": [],
    "minimum-stability": "stable",
    "stability-flags": {},
    "prefer-stable": false,
    "prefer-lowest": false,
    "platform": {
        "php": "^8.1"
    },
    "platform-dev": {},
    "plugin-api-version": "2.6.0"
}
"""


def test_write_built_model_and_read_it_back(tmp_path: Path) -> None:
    text = write_composer_lock(BUILT_COMPOSER)
    assert text == BUILT_COMPOSER_TEXT
    back = read_composer_lock(write_text(tmp_path, text))
    assert back.packages == BUILT_COMPOSER.packages
    assert {k: back.extra[k] for k in BUILT_COMPOSER.extra} == dict(BUILT_COMPOSER.extra)
    assert back.extra["plugin-api-version"] == PLUGIN_API_VERSION


def test_model_fields_win_and_a_bare_package_gets_a_dist() -> None:
    lock = Lockfile(
        "composer",
        "composer.lock",
        "composer.lock",
        (
            LockedPackage(
                "acme/tool",
                "2.0.0",
                source="https://repo.acme.example/tool-2.0.0.zip",
                hashes=("sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709",),
            ),
            LockedPackage(
                "acme/vcs",
                "dev-main",
                source="https://git.acme.example/vcs.git",
                extra={"source": {"type": "git", "url": "old", "reference": "abc"}},
            ),
        ),
        {"content-hash": "x"},
    )
    tool, vcs = json.loads(write_composer_lock(lock))["packages"]
    assert tool["dist"] == {
        "type": "zip",
        "url": "https://repo.acme.example/tool-2.0.0.zip",
        "shasum": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    }
    assert vcs["source"] == {
        "type": "git",
        "url": "https://git.acme.example/vcs.git",
        "reference": "abc",
    }


def test_writer_needs_the_content_hash() -> None:
    lock = Lockfile("composer", "composer.lock", "composer.lock", ())
    with pytest.raises(ValueError, match="content_hash"):
        write_composer_lock(lock)


def test_content_hash_as_composer_computes_it() -> None:
    # md5("[]"): the hash Composer writes for a composer.json with none of the relevant keys.
    assert content_hash({"description": "nothing relevant"}) == "d751713988987e9331980363e24189ce"
    composer_json = {
        "require": {"monolog/monolog": "^3.5"},
        "name": "acme/shop",
        "description": "ignored",
        "extra": {"author": "Jérôme", "empty": {}},
        "config": {"sort-packages": True, "platform": {"php": "8.1.27"}},
    }
    # Keys sorted, compact, slashes and non-ASCII escaped, {} decoded by PHP as [].
    encoded = (
        '{"config":{"platform":{"php":"8.1.27"}},'
        '"extra":{"author":"J\\u00e9r\\u00f4me","empty":[]},'
        '"name":"acme\\/shop","require":{"monolog\\/monolog":"^3.5"}}'
    )
    assert content_hash(composer_json) == hashlib.md5(encoded.encode()).hexdigest()


def test_line_separators_stay_escaped_as_php_writes_them() -> None:
    package = LockedPackage("acme/x", "1.0.0", extra={"description": "a\u2028b\u2029c é/"})
    text = write_composer_lock(
        Lockfile("composer", "c", "composer.lock", (package,), {"content-hash": "h"})
    )
    assert '"description": "a\\u2028b\\u2029c é/"' in text
