"""package.json and package-lock.json readers, on fixtures following npm's documented formats."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tuskops.errors import ManifestError
from tuskops.packages import manifests
from tuskops.packages.ecosystems.npm_files import (
    classify_spec,
    read_package_json,
    read_package_lock,
    write_package_lock,
)
from tuskops.packages.manifests import Dependency, LockedPackage, Lockfile, Manifest

PACKAGE_JSON: dict[str, Any] = {
    "name": "@acme/web",
    "version": "2.4.0",
    "private": True,
    "packageManager": "npm@10.2.4",
    "engines": {"node": ">=18.17.0", "npm": ">=9"},
    "workspaces": ["packages/*"],
    "dependencies": {
        "express": "^4.18.2",
        "lodash": "4.17.21",
        "react": "latest",
        "left-pad": "",
        "my-lodash": "npm:lodash@^4.17.0",
        "cli": "git+ssh://git@github.com:npm/cli.git#v1.0.27",
        "mocha-fork": "mochajs/mocha#4727d357ea",
        "hosted": "github:acme/hosted#semver:^2.0",
        "tarball": "https://example.com/pkgs/tarball-1.0.0.tgz",
        "local-lib": "file:../local-lib",
        "vendored": "file:vendor/vendored-1.0.0.tgz",
        "sibling": "../sibling",
        "shared": "workspace:*",
        "fsevents": "^2.3.2",
    },
    "devDependencies": {"typescript": "~5.3.0", "jest": ">=29.0.0 <30"},
    "optionalDependencies": {"fsevents": "^2.3.3"},
    "peerDependencies": {"react-dom": "^18.0.0", "@types/react": "*"},
    "peerDependenciesMeta": {"@types/react": {"optional": True}},
    "bundleDependencies": ["lodash"],
    "overrides": {"foo": "1.0.0", "bar": {"baz": "1.0.0"}, "express": {".": "4.18.2"}},
}


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2) + "\n")
    return path


def deps_by(manifest: Manifest) -> dict[tuple[str, str], Dependency]:
    return {(d.name, d.kind): d for d in manifest.dependencies}


# --- package.json -----------------------------------------------------------------------------


def test_package_json_name_version_and_extra(tmp_path: Path) -> None:
    m = read_package_json(write(tmp_path, "package.json", PACKAGE_JSON))
    assert m.ecosystem == "npm"
    assert m.path == str(tmp_path / "package.json")
    assert (m.name, m.version) == ("@acme/web", "2.4.0")
    assert m.extra["packageManager"] == "npm@10.2.4"
    assert m.extra["engines"] == {"node": ">=18.17.0", "npm": ">=9"}
    assert m.extra["workspaces"] == ["packages/*"]
    assert m.extra["overrides"]["bar"] == {"baz": "1.0.0"}
    assert m.extra["bundleDependencies"] == ["lodash"]
    assert m.extra["private"] is True


def test_package_json_kinds(tmp_path: Path) -> None:
    deps = deps_by(read_package_json(write(tmp_path, "package.json", PACKAGE_JSON)))
    assert deps["express", "normal"].constraint == "^4.18.2"
    assert deps["express", "normal"].source is None
    assert deps["typescript", "dev"].constraint == "~5.3.0"
    assert deps["jest", "dev"].kind == "dev"
    peer = deps["react-dom", "peer"]
    assert not peer.optional
    assert deps["@types/react", "peer"].optional
    # optionalDependencies override the same name in dependencies (npm docs)
    assert ("fsevents", "normal") not in deps
    fsevents = deps["fsevents", "optional"]
    assert fsevents.optional
    assert fsevents.constraint == "^2.3.3"


def test_package_json_spec_types(tmp_path: Path) -> None:
    deps = deps_by(read_package_json(write(tmp_path, "package.json", PACKAGE_JSON)))
    types = {name: d.extra["spec_type"] for (name, _), d in deps.items()}
    assert types["express"] == "range"
    assert types["lodash"] == "range"
    assert types["left-pad"] == "range"
    assert types["react"] == "tag"
    assert types["my-lodash"] == "alias"
    assert types["cli"] == "git"
    assert types["mocha-fork"] == "git"
    assert types["hosted"] == "git"
    assert types["tarball"] == "url"
    assert types["local-lib"] == "directory"
    assert types["vendored"] == "file"
    assert types["sibling"] == "directory"
    assert types["shared"] == "workspace"


def test_package_json_alias_and_sources(tmp_path: Path) -> None:
    deps = deps_by(read_package_json(write(tmp_path, "package.json", PACKAGE_JSON)))
    alias = deps["my-lodash", "normal"]
    assert alias.constraint == "npm:lodash@^4.17.0"
    assert alias.source == "npm:lodash"
    assert alias.extra["alias_of"] == "lodash"
    assert alias.extra["alias_spec"] == "^4.17.0"
    assert deps["cli", "normal"].source == "git+ssh://git@github.com:npm/cli.git#v1.0.27"
    assert deps["local-lib", "normal"].source == "file:../local-lib"
    assert deps["tarball", "normal"].source == "https://example.com/pkgs/tarball-1.0.0.tgz"
    assert deps["react", "normal"].source is None


def test_package_json_bundled(tmp_path: Path) -> None:
    deps = deps_by(read_package_json(write(tmp_path, "package.json", PACKAGE_JSON)))
    assert deps["lodash", "normal"].extra["bundled"] is True
    assert "bundled" not in deps["express", "normal"].extra


def test_package_json_bundle_all(tmp_path: Path) -> None:
    data = {"name": "x", "dependencies": {"a": "1"}, "bundledDependencies": True}
    m = read_package_json(write(tmp_path, "package.json", data))
    assert m.extra["bundleDependencies"] is True
    assert m.dependencies[0].extra["bundled"] is True


def test_package_json_scoped_alias(tmp_path: Path) -> None:
    data = {"dependencies": {"b": "npm:@scope/pkg@~1.2", "c": "npm:plain"}}
    deps = deps_by(read_package_json(write(tmp_path, "package.json", data)))
    assert deps["b", "normal"].extra["alias_of"] == "@scope/pkg"
    assert deps["b", "normal"].extra["alias_spec"] == "~1.2"
    assert deps["c", "normal"].extra["alias_of"] == "plain"


def test_package_json_minimal(tmp_path: Path) -> None:
    m = read_package_json(write(tmp_path, "package.json", {}))
    assert (m.name, m.version, m.dependencies, dict(m.extra)) == (None, None, (), {})


def test_package_json_yarn_workspaces_object(tmp_path: Path) -> None:
    data = {"workspaces": {"packages": ["apps/*", "libs/*"], "nohoist": ["**/rn"]}}
    m = read_package_json(write(tmp_path, "package.json", data))
    assert m.extra["workspaces"] == ["apps/*", "libs/*"]


def test_package_json_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "package.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"name": "bom"}).encode())
    assert read_package_json(path).name == "bom"


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("^1.2.3", "range"),
        ("1.2.x || >=2.0.0 <2.1.0", "range"),
        ("*", "range"),
        ("next", "tag"),
        ("beta-2", "tag"),
        ("npm:foo@1", "alias"),
        ("git://github.com/user/project.git#commit-ish", "git"),
        ("git+https://isaacs@github.com/npm/cli.git", "git"),
        ("gitlab:user/repo", "git"),
        ("bitbucket:user/repo", "git"),
        ("expressjs/express", "git"),
        ("http://example.com/x.tgz", "url"),
        ("file:x.tar.gz", "file"),
        ("~/projects/x", "directory"),
        ("/abs/path", "directory"),
        ("workspace:^", "workspace"),
        ("foo:bar", "invalid"),
        ("not a range!", "invalid"),
    ],
)
def test_classify_spec(spec: str, kind: str) -> None:
    assert classify_spec(spec) == kind


# --- package.json errors ----------------------------------------------------------------------


def test_package_json_malformed_json(tmp_path: Path) -> None:
    path = write(tmp_path, "package.json", '{\n  "name": "x",\n  "version": 1.0.0\n}\n')
    with pytest.raises(ManifestError) as info:
        read_package_json(path)
    assert info.value.location == "3:17"
    assert "invalid JSON" in info.value.message
    assert str(info.value).startswith(f"{path}:3:17: error: invalid JSON")


def test_package_json_trailing_comma(tmp_path: Path) -> None:
    path = write(tmp_path, "package.json", '{\n  "dependencies": {\n    "a": "1",\n  }\n}')
    with pytest.raises(ManifestError) as info:
        read_package_json(path)
    assert info.value.location == "4:3"


def test_package_json_top_level_array(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="top level must be a JSON object, not an array"):
        read_package_json(write(tmp_path, "package.json", "[]"))


def test_package_json_dependencies_not_object(tmp_path: Path) -> None:
    path = write(tmp_path, "package.json", {"dependencies": ["express"]})
    with pytest.raises(ManifestError) as info:
        read_package_json(path)
    assert info.value.location == "dependencies"
    assert info.value.message == "must be an object, not an array"
    assert str(info.value).endswith("(at dependencies)")


def test_package_json_spec_not_string(tmp_path: Path) -> None:
    path = write(tmp_path, "package.json", {"devDependencies": {"jest": 29}})
    with pytest.raises(ManifestError) as info:
        read_package_json(path)
    assert info.value.location == "devDependencies.jest"
    assert info.value.message == "must be a string, not a number"


def test_package_json_name_not_string(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as info:
        read_package_json(write(tmp_path, "package.json", {"name": 3}))
    assert info.value.location == "name"


def test_package_json_bad_range(tmp_path: Path) -> None:
    path = write(tmp_path, "package.json", {"dependencies": {"express": ">=>4"}})
    with pytest.raises(ManifestError) as info:
        read_package_json(path)
    assert info.value.location == "dependencies.express"
    assert info.value.message.startswith("invalid version range or tag '>=>4'")


def test_package_json_bad_alias_range(tmp_path: Path) -> None:
    path = write(tmp_path, "package.json", {"dependencies": {"x": "npm:lodash@^1.2.3.4"}})
    with pytest.raises(ManifestError) as info:
        read_package_json(path)
    assert info.value.location == "dependencies.x"


def test_package_json_unknown_protocol(tmp_path: Path) -> None:
    path = write(tmp_path, "package.json", {"dependencies": {"x": "svn:repo/x"}})
    with pytest.raises(ManifestError) as info:
        read_package_json(path)
    assert info.value.location == "dependencies.x"
    assert "unsupported URL type 'svn:'" in info.value.message


def test_package_json_dotted_name_is_bracketed(tmp_path: Path) -> None:
    path = write(tmp_path, "package.json", {"dependencies": {"socket.io": False}})
    with pytest.raises(ManifestError) as info:
        read_package_json(path)
    assert info.value.location == 'dependencies["socket.io"]'


def test_package_json_peer_meta_wrong_type(tmp_path: Path) -> None:
    data = {"peerDependencies": {"a": "1"}, "peerDependenciesMeta": {"a": {"optional": "yes"}}}
    with pytest.raises(ManifestError) as info:
        read_package_json(write(tmp_path, "package.json", data))
    assert info.value.location == "peerDependenciesMeta.a.optional"
    assert info.value.message == "must be a boolean, not a string"


def test_package_json_bundle_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as info:
        read_package_json(write(tmp_path, "package.json", {"bundleDependencies": [1]}))
    assert info.value.location == "bundleDependencies[0]"


def test_package_json_workspaces_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as info:
        read_package_json(write(tmp_path, "package.json", {"workspaces": "packages/*"}))
    assert info.value.location == "workspaces"


def test_package_json_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "package.json"
    path.write_bytes(b'{"name": "\xff"}')
    with pytest.raises(ManifestError, match="not UTF-8"):
        read_package_json(path)


# --- package-lock.json ------------------------------------------------------------------------

LOCK_V3: dict[str, Any] = {
    "name": "@acme/web",
    "version": "2.4.0",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {
        "": {
            "name": "@acme/web",
            "version": "2.4.0",
            "workspaces": ["packages/*"],
            "dependencies": {"express": "^4.18.2", "my-lodash": "npm:lodash@^4.17.0"},
            "devDependencies": {"typescript": "~5.3.0"},
            "optionalDependencies": {"fsevents": "^2.3.3"},
        },
        "node_modules/express": {
            "version": "4.18.2",
            "resolved": "https://registry.npmjs.org/express/-/express-4.18.2.tgz",
            "integrity": (
                "sha512-5/PsL6iGPdfQ/lKM1UuielYgv3BUoJfz1aUwU9vH"
                "Z+J7gyvwdQXFEBIEIaxeGf0GIcreATNyBExtalisDbuMqQ=="
            ),
            "license": "MIT",
            "dependencies": {"debug": "2.6.9", "accepts": "~1.3.8"},
            "engines": {"node": ">= 0.10.0"},
        },
        "node_modules/express/node_modules/debug": {
            "version": "2.6.9",
            "resolved": "https://registry.npmjs.org/debug/-/debug-2.6.9.tgz",
            "integrity": (
                "sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJ"
                "TUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA=="
            ),
            "dependencies": {"ms": "2.0.0"},
        },
        "node_modules/debug": {
            "version": "4.3.4",
            "resolved": "https://registry.npmjs.org/debug/-/debug-4.3.4.tgz",
            "integrity": (
                "sha512-PRWFHuSU3eDtQJPvnNY7Jcket1j0t5OuOsFzPPzs"
                "ekD52Zl8qUfFIPEiswXqIvHWGVHOgX+7G/vCNNhehwxfkQ=="
            ),
            "dev": True,
            "peerDependenciesMeta": {"supports-color": {"optional": True}},
        },
        "node_modules/my-lodash": {
            "name": "lodash",
            "version": "4.17.21",
            "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz",
            "integrity": (
                "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVj"
                "cXPs17LhbZVGedAJv8XZ1tvj5FvSg== sha1-4j8/nE+Pvd6HJSnBBxhXoXGa4ic="
            ),
        },
        "node_modules/fsevents": {
            "version": "2.3.3",
            "resolved": "https://registry.npmjs.org/fsevents/-/fsevents-2.3.3.tgz",
            "integrity": (
                "sha512-5xoDfX+fL7faATnagmWPpbFtwh/R77WmMMqqHGS6"
                "5C3vvB0YHrgF+B1YmZ3441tMj5n63k0212XNoJwzlhffQw=="
            ),
            "hasInstallScript": True,
            "optional": True,
            "os": ["darwin"],
            "engines": {"node": "^8.16.0 || ^10.6.0 || >=11.0.0"},
        },
        "node_modules/typescript": {
            "version": "5.3.3",
            "resolved": "https://registry.npmjs.org/typescript/-/typescript-5.3.3.tgz",
            "integrity": (
                "sha512-pXWcraxM0uxAS+tN0AG/BF2TyqmHO014Z070UsJ+"
                "pFvYuRSq8KH8DmWpnbXe0pEPDHXZV3FcAbJkijJ5oNEnWw=="
            ),
            "devOptional": True,
            "bin": {"tsc": "bin/tsc", "tsserver": "bin/tsserver"},
        },
        "node_modules/react": {
            "version": "18.2.0",
            "resolved": "https://registry.npmjs.org/react/-/react-18.2.0.tgz",
            "integrity": (
                "sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNl"
                "n0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ=="
            ),
            "peer": True,
            "dependencies": {"loose-envify": "^1.1.0"},
            "optionalDependencies": {"fsevents": "^2"},
        },
        "node_modules/cli": {
            "version": "1.0.27",
            "resolved": "git+ssh://git@github.com/npm/cli.git#2b7d8e5d2c1f5b7e1d5b2c1b6f0e5d9c8a7b6c5d",
        },
        "node_modules/shared": {"resolved": "packages/shared", "link": True},
        "packages/shared": {
            "name": "@acme/shared",
            "version": "0.1.0",
            "license": "UNLICENSED",
            "devDependencies": {"vitest": "^1.0.0"},
        },
    },
}


def locked_by_path(lock: Lockfile) -> dict[str, LockedPackage]:
    return {p.extra["path"]: p for p in lock.packages}


def test_lock_v3_overview(tmp_path: Path) -> None:
    lock = read_package_lock(write(tmp_path, "package-lock.json", LOCK_V3))
    assert lock.ecosystem == "npm"
    assert lock.format == "package-lock.json v3"
    assert len(lock.packages) == 10
    assert lock.extra["name"] == "@acme/web"
    assert lock.extra["version"] == "2.4.0"
    assert lock.extra["lockfileVersion"] == 3
    assert lock.extra["requires"] is True
    assert lock.extra["root"]["devDependencies"] == {"typescript": "~5.3.0"}


def test_lock_registry_package(tmp_path: Path) -> None:
    pkgs = locked_by_path(read_package_lock(write(tmp_path, "package-lock.json", LOCK_V3)))
    express = pkgs["node_modules/express"]
    assert (express.name, express.version) == ("express", "4.18.2")
    assert express.source == "https://registry.npmjs.org/express/-/express-4.18.2.tgz"
    assert express.hashes == (LOCK_V3["packages"]["node_modules/express"]["integrity"],)
    assert express.dependencies == ("debug 2.6.9", "accepts ~1.3.8")
    assert not express.dev
    assert not express.optional
    assert express.extra["license"] == "MIT"
    assert express.extra["engines"] == {"node": ">= 0.10.0"}


def test_lock_nested_copies_keep_path(tmp_path: Path) -> None:
    lock = read_package_lock(write(tmp_path, "package-lock.json", LOCK_V3))
    debugs = [p for p in lock.packages if p.name == "debug"]
    assert {(p.version, p.extra["path"]) for p in debugs} == {
        ("2.6.9", "node_modules/express/node_modules/debug"),
        ("4.3.4", "node_modules/debug"),
    }


def test_lock_flags(tmp_path: Path) -> None:
    pkgs = locked_by_path(read_package_lock(write(tmp_path, "package-lock.json", LOCK_V3)))
    assert pkgs["node_modules/debug"].dev
    fsevents = pkgs["node_modules/fsevents"]
    assert fsevents.optional
    assert not fsevents.dev
    assert fsevents.extra["os"] == ["darwin"]
    assert fsevents.extra["hasInstallScript"] is True
    ts = pkgs["node_modules/typescript"]
    assert ts.extra["devOptional"] is True
    assert not ts.dev
    assert not ts.optional
    assert pkgs["node_modules/react"].extra["peer"] is True


def test_lock_optional_dependencies_listed(tmp_path: Path) -> None:
    pkgs = locked_by_path(read_package_lock(write(tmp_path, "package-lock.json", LOCK_V3)))
    react = pkgs["node_modules/react"]
    assert react.dependencies == ("loose-envify ^1.1.0", "fsevents ^2")
    assert react.extra["optionalDependencies"] == ["fsevents"]


def test_lock_alias_and_multiple_hashes(tmp_path: Path) -> None:
    pkgs = locked_by_path(read_package_lock(write(tmp_path, "package-lock.json", LOCK_V3)))
    alias = pkgs["node_modules/my-lodash"]
    assert alias.name == "lodash"
    assert alias.extra["installed_as"] == "my-lodash"
    assert len(alias.hashes) == 2
    assert alias.hashes[1].startswith("sha1-")


def test_lock_git_link_and_workspace(tmp_path: Path) -> None:
    pkgs = locked_by_path(read_package_lock(write(tmp_path, "package-lock.json", LOCK_V3)))
    assert pkgs["node_modules/cli"].source.startswith("git+ssh://")  # type: ignore[union-attr]
    link = pkgs["node_modules/shared"]
    assert (link.name, link.version, link.source) == ("shared", "", "packages/shared")
    assert link.extra["link"] is True
    folder = pkgs["packages/shared"]
    assert (folder.name, folder.version) == ("@acme/shared", "0.1.0")
    assert folder.extra["local"] is True
    assert folder.extra["devDependencies"] == {"vitest": "^1.0.0"}
    assert folder.hashes == ()
    assert folder.source is None


def test_lock_scoped_name_from_path(tmp_path: Path) -> None:
    data = {
        "lockfileVersion": 3,
        "packages": {
            "node_modules/@babel/core/node_modules/@babel/code-frame": {"version": "7.0.0"},
        },
    }
    (pkg,) = read_package_lock(write(tmp_path, "package-lock.json", data)).packages
    assert pkg.name == "@babel/code-frame"
    assert pkg.extra["path"] == "node_modules/@babel/core/node_modules/@babel/code-frame"


def test_lock_v2_reads_packages_and_ignores_legacy_dependencies(tmp_path: Path) -> None:
    data = {
        "name": "app",
        "version": "1.0.0",
        "lockfileVersion": 2,
        "requires": True,
        "packages": {
            "": {"name": "app", "version": "1.0.0", "dependencies": {"ms": "^2.1.3"}},
            "node_modules/ms": {
                "version": "2.1.3",
                "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
                "integrity": (
                    "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXv"
                    "cLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA=="
                ),
            },
        },
        "dependencies": {
            "ms": {
                "version": "2.1.3",
                "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
                "integrity": (
                    "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXv"
                    "cLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA=="
                ),
            }
        },
    }
    lock = read_package_lock(write(tmp_path, "package-lock.json", data))
    assert lock.format == "package-lock.json v2"
    assert [(p.name, p.version) for p in lock.packages] == [("ms", "2.1.3")]


# --- package-lock.json errors -----------------------------------------------------------------


def test_lock_v1_rejected(tmp_path: Path) -> None:
    data = {
        "name": "app",
        "version": "1.0.0",
        "lockfileVersion": 1,
        "requires": True,
        "dependencies": {"ms": {"version": "2.1.3"}},
    }
    with pytest.raises(ManifestError) as info:
        read_package_lock(write(tmp_path, "package-lock.json", data))
    assert info.value.location == "lockfileVersion"
    assert "lockfileVersion 1" in info.value.message
    assert "not supported" in info.value.message


def test_lock_unknown_version(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="lockfileVersion 4 is not supported") as info:
        read_package_lock(write(tmp_path, "package-lock.json", {"lockfileVersion": 4}))
    assert info.value.location == "lockfileVersion"


def test_lock_version_missing_or_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="missing lockfileVersion"):
        read_package_lock(write(tmp_path, "package-lock.json", {"packages": {}}))
    with pytest.raises(ManifestError, match="must be an integer, not a string") as info:
        read_package_lock(write(tmp_path, "package-lock.json", {"lockfileVersion": "3"}))
    assert info.value.location == "lockfileVersion"


def test_lock_missing_packages(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as info:
        read_package_lock(write(tmp_path, "package-lock.json", {"lockfileVersion": 3}))
    assert info.value.location == "packages"


def test_lock_packages_not_object(tmp_path: Path) -> None:
    data = {"lockfileVersion": 3, "packages": []}
    with pytest.raises(ManifestError, match="must be an object, not an array") as info:
        read_package_lock(write(tmp_path, "package-lock.json", data))
    assert info.value.location == "packages"


def test_lock_entry_wrong_types(tmp_path: Path) -> None:
    data = {"lockfileVersion": 3, "packages": {"node_modules/a": "1.0.0"}}
    with pytest.raises(ManifestError) as info:
        read_package_lock(write(tmp_path, "package-lock.json", data))
    assert info.value.location == "packages.node_modules/a"
    data = {"lockfileVersion": 3, "packages": {"node_modules/a": {"version": 1}}}
    with pytest.raises(ManifestError, match="must be a string, not a number") as info:
        read_package_lock(write(tmp_path, "package-lock.json", data))
    assert info.value.location == "packages.node_modules/a.version"
    data = {"lockfileVersion": 3, "packages": {"node_modules/a.b": {"dev": "true"}}}
    with pytest.raises(ManifestError) as info:
        read_package_lock(write(tmp_path, "package-lock.json", data))
    assert info.value.location == 'packages["node_modules/a.b"].dev'
    data = {"lockfileVersion": 3, "packages": {"node_modules/a": {"dependencies": {"b": 2}}}}
    with pytest.raises(ManifestError) as info:
        read_package_lock(write(tmp_path, "package-lock.json", data))
    assert info.value.location == "packages.node_modules/a.dependencies.b"


def test_lock_malformed_json(tmp_path: Path) -> None:
    path = write(tmp_path, "package-lock.json", '{\n  "lockfileVersion": 3,\n  "packages": {\n')
    with pytest.raises(ManifestError) as info:
        read_package_lock(path)
    assert info.value.location == "4:1"
    assert info.value.file == str(path)


# --- dispatch ---------------------------------------------------------------------------------


def test_read_dispatches_package_json(tmp_path: Path) -> None:
    result = manifests.read(write(tmp_path, "package.json", PACKAGE_JSON))
    assert isinstance(result, Manifest)
    assert result.name == "@acme/web"
    assert result.to_json()["type"] == "manifest"


def test_read_dispatches_package_lock(tmp_path: Path) -> None:
    result = manifests.read(write(tmp_path, "package-lock.json", LOCK_V3))
    assert isinstance(result, Lockfile)
    assert result.format == "package-lock.json v3"
    json.dumps(result.to_json())


# --- writing package-lock.json ----------------------------------------------------------------

# Written by npm 11.19 (`npm install --package-lock-only`): registry packages, a scoped one, an
# npm: alias, a nested copy, a dev package with a bin, an optional one with os and engines.
REGISTRY_LOCK = """\
{
  "name": "@acme/web",
  "version": "0.3.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "@acme/web",
      "version": "0.3.0",
      "dependencies": {
        "@types/node": "22.10.2",
        "debug": "2.6.9",
        "inflight": "1.0.6",
        "ms": "^2.1.3",
        "my-lodash": "npm:lodash@4.17.21"
      },
      "devDependencies": {
        "semver": "^7.6.0"
      },
      "optionalDependencies": {
        "fsevents": "2.3.3"
      }
    },
    "node_modules/@types/node": {
      "version": "22.10.2",
      "resolved": "https://registry.npmjs.org/@types/node/-/node-22.10.2.tgz",
      "integrity": "sha512-Xxr6BBRCAOQixvonOye19wnzyDiUtTeqldOOmj3CkeblonbccA12PFwlufvRdrpjXxqnmUaeiU5EOA+7s5diUQ==",
      "license": "MIT",
      "dependencies": {
        "undici-types": "~6.20.0"
      }
    },
    "node_modules/debug": {
      "version": "2.6.9",
      "resolved": "https://registry.npmjs.org/debug/-/debug-2.6.9.tgz",
      "integrity": "sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==",
      "license": "MIT",
      "dependencies": {
        "ms": "2.0.0"
      }
    },
    "node_modules/debug/node_modules/ms": {
      "version": "2.0.0",
      "resolved": "https://registry.npmjs.org/ms/-/ms-2.0.0.tgz",
      "integrity": "sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A==",
      "license": "MIT"
    },
    "node_modules/fsevents": {
      "version": "2.3.3",
      "resolved": "https://registry.npmjs.org/fsevents/-/fsevents-2.3.3.tgz",
      "integrity": "sha512-5xoDfX+fL7faATnagmWPpbFtwh/R77WmMMqqHGS65C3vvB0YHrgF+B1YmZ3441tMj5n63k0212XNoJwzlhffQw==",
      "license": "MIT",
      "optional": true,
      "os": [
        "darwin"
      ],
      "engines": {
        "node": "^8.16.0 || ^10.6.0 || >=11.0.0"
      }
    },
    "node_modules/inflight": {
      "version": "1.0.6",
      "resolved": "https://registry.npmjs.org/inflight/-/inflight-1.0.6.tgz",
      "integrity": "sha512-k92I/b08q4wvFscXCLvqfsHCrjrF7yiXsQuIVvVE7N82W3+aqpzuUdBbfhWcy/FZR3/4IgflMgKLOsvPDrGCJA==",
      "license": "ISC",
      "dependencies": {
        "once": "^1.3.0",
        "wrappy": "1"
      }
    },
    "node_modules/ms": {
      "version": "2.1.3",
      "resolved": "https://registry.npmjs.org/ms/-/ms-2.1.3.tgz",
      "integrity": "sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==",
      "license": "MIT"
    },
    "node_modules/my-lodash": {
      "name": "lodash",
      "version": "4.17.21",
      "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz",
      "integrity": "sha512-v2kDEe57lecTulaDIuNTPy3Ry4gLGJ6Z1O3vE1krgXZNrsQ+LFTGHVxVjcXPs17LhbZVGedAJv8XZ1tvj5FvSg==",
      "license": "MIT"
    },
    "node_modules/once": {
      "version": "1.4.0",
      "resolved": "https://registry.npmjs.org/once/-/once-1.4.0.tgz",
      "integrity": "sha512-lNaJgI+2Q5URQBkccEKHTQOPaXdUxnZZElQTZY0MFUAuaEqe1E+Nyvgdz/aIyNi6Z9MzO5dv1H8n58/GELp3+w==",
      "license": "ISC",
      "dependencies": {
        "wrappy": "1"
      }
    },
    "node_modules/semver": {
      "version": "7.8.6",
      "resolved": "https://registry.npmjs.org/semver/-/semver-7.8.6.tgz",
      "integrity": "sha512-9lpSSU4Mly3mrtruwLs1eLK6+gzbzqeBFwRNjIjE+9LuDpWdYctrQlQ3ej1Ilgi7gknpsTRnPoLP8DpCHqHIJw==",
      "dev": true,
      "license": "ISC",
      "bin": {
        "semver": "bin/semver.js"
      },
      "engines": {
        "node": ">=10"
      }
    },
    "node_modules/undici-types": {
      "version": "6.20.0",
      "resolved": "https://registry.npmjs.org/undici-types/-/undici-types-6.20.0.tgz",
      "integrity": "sha512-Ny6QZ2Nju20vw1SRHe3d9jVu6gJ+4e3+MMpqu7pqE5HT6WsTSlce++GQmK5UXS8mzV8DSYHrQH+Xrf2jVcuKNg==",
      "license": "MIT"
    },
    "node_modules/wrappy": {
      "version": "1.0.2",
      "resolved": "https://registry.npmjs.org/wrappy/-/wrappy-1.0.2.tgz",
      "integrity": "sha512-l4Sp/DRseor9wL6EvV2+TuQn63dMkPjZ/sp9XkghTEbV9KlPS1xUsZ3u7/IQO4wxtcFB4bgpQPRcR3QCvezPcQ==",
      "license": "ISC"
    }
  }
}
"""  # noqa: E501

# Written by npm 11.19 for a project of file: dependencies with license, engines, funding, os,
# cpu, bin, peer and optional peer dependencies, an install script, and a registry package
# written without "resolved" (this machine sets omit-lockfile-registry-resolved).
FILE_LOCK = """\
{
  "name": "demo-app",
  "version": "1.2.3",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "demo-app",
      "version": "1.2.3",
      "license": "MIT",
      "dependencies": {
        "a": "file:libs/a",
        "is-number": "^7.0.0"
      },
      "devDependencies": {
        "tool": "file:libs/tool"
      },
      "engines": {
        "node": ">=18"
      },
      "optionalDependencies": {
        "c": "file:libs/c"
      },
      "peerDependencies": {
        "b": "*"
      }
    },
    "libs/a": {
      "version": "1.0.0",
      "license": "ISC",
      "dependencies": {
        "b": "file:../b"
      },
      "engines": {
        "node": ">=16"
      },
      "funding": {
        "type": "github",
        "url": "https://github.com/sponsors/x"
      },
      "peerDependencies": {
        "c": "*"
      },
      "peerDependenciesMeta": {
        "c": {
          "optional": true
        }
      }
    },
    "libs/a/node_modules/b": {
      "resolved": "libs/b",
      "link": true
    },
    "libs/b": {
      "version": "2.0.0",
      "cpu": [
        "x64",
        "arm64"
      ],
      "license": "MIT",
      "os": [
        "linux",
        "darwin"
      ]
    },
    "libs/c": {
      "version": "0.1.0",
      "optional": true
    },
    "libs/tool": {
      "version": "3.0.0",
      "dev": true,
      "hasInstallScript": true,
      "license": "Apache-2.0",
      "bin": {
        "tool": "bin/tool.js"
      }
    },
    "node_modules/a": {
      "resolved": "libs/a",
      "link": true
    },
    "node_modules/b": {
      "version": "2.0.1",
      "integrity": "sha512-JBWAj6f91ocNLbdg1jCGrxHXSWbQDsxgqVmKeO0TellEcq9LCvJ97iWG6p3otCt/v08/hHrWwAB9vNYS9y70IQ==",
      "peer": true,
      "engines": {
        "node": ">= 0.8.0"
      }
    },
    "node_modules/c": {
      "resolved": "libs/c",
      "link": true
    },
    "node_modules/is-number": {
      "version": "7.0.0",
      "integrity": "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==",
      "license": "MIT",
      "engines": {
        "node": ">=0.12.0"
      }
    },
    "node_modules/tool": {
      "resolved": "libs/tool",
      "link": true
    }
  }
}
"""  # noqa: E501


@pytest.mark.parametrize("text", [REGISTRY_LOCK, FILE_LOCK])
def test_write_package_lock_round_trips_byte_for_byte(tmp_path: Path, text: str) -> None:
    lock = read_package_lock(write(tmp_path, "package-lock.json", text))
    assert write_package_lock(lock) == text
    assert manifests.render(lock, "package-lock.json") == text


def test_reader_keeps_what_the_writer_needs(tmp_path: Path) -> None:
    lock = read_package_lock(write(tmp_path, "package-lock.json", FILE_LOCK))
    by_path = {p.extra["path"]: p for p in lock.packages}
    a = by_path["libs/a"]
    assert a.extra["funding"] == {"type": "github", "url": "https://github.com/sponsors/x"}
    assert a.extra["engines"] == {"node": ">=16"}
    assert a.extra["license"] == "ISC"
    assert by_path["libs/b"].extra["cpu"] == ["x64", "arm64"]
    assert by_path["libs/tool"].extra["bin"] == {"tool": "bin/tool.js"}
    assert lock.extra["root"]["optionalDependencies"] == {"c": "file:libs/c"}
    assert lock.extra["root"]["peerDependencies"] == {"b": "*"}


def test_write_package_lock_orders_keys_as_npm() -> None:
    """npm's order: scalars and arrays before objects; name, version, resolved, integrity first;
    the rest by localeCompare("en"), which puts "_" and "-" before letters and "a" before "B"."""
    lock = Lockfile(
        "npm",
        "package-lock.json",
        "package-lock.json v3",
        (
            LockedPackage(
                "x",
                "1.0.0",
                "https://registry.npmjs.org/x/-/x-1.0.0.tgz",
                ("sha512-AAAA",),
                ("B 1", "a 1", "a-b 1", "a_b 1", "@s/z 1", "a0 1"),
                dev=True,
                extra={"license": "MIT", "engines": {"node": ">=18"}, "os": ["linux"]},
            ),
        ),
        {"name": "root", "version": "1.0.0", "root": {"name": "root", "version": "1.0.0"}},
    )
    data = json.loads(write_package_lock(lock))
    assert list(data) == ["name", "version", "lockfileVersion", "requires", "packages"]
    entry = data["packages"]["node_modules/x"]
    assert list(entry) == [
        "version",
        "resolved",
        "integrity",
        "dev",
        "license",
        "os",
        "dependencies",
        "engines",
    ]
    assert list(entry["dependencies"]) == ["@s/z", "a", "a_b", "a-b", "a0", "B"]


def test_write_package_lock_from_a_resolver_model() -> None:
    """Without the reader's bookkeeping: paths default to node_modules/<name>, an alias gets its
    name written, optional dependencies go to their own map."""
    lock = Lockfile(
        "npm",
        "package-lock.json",
        "package-lock.json v3",
        (
            LockedPackage(
                "lodash",
                "4.17.21",
                "https://registry.npmjs.org/lodash/-/lodash-4.17.21.tgz",
                extra={"installed_as": "my-lodash"},
            ),
            LockedPackage(
                "chokidar",
                "3.6.0",
                dependencies=("fsevents ~2.3.2", "glob-parent ~5.1.2"),
                extra={"optionalDependencies": ["fsevents"]},
            ),
        ),
    )
    data = json.loads(write_package_lock(lock))
    assert data["packages"]["node_modules/my-lodash"]["name"] == "lodash"
    chokidar = data["packages"]["node_modules/chokidar"]
    assert chokidar["dependencies"] == {"glob-parent": "~5.1.2"}
    assert chokidar["optionalDependencies"] == {"fsevents": "~2.3.2"}
    assert "name" not in chokidar


def test_a_name_in_dependencies_and_optional_dependencies_keeps_both(tmp_path: Path) -> None:
    data: dict[str, Any] = {
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "node_modules/a": {
                "version": "1.0.0",
                "dependencies": {"b": "^1"},
                "optionalDependencies": {"b": "^1.2"},
            }
        },
    }
    lock = read_package_lock(write(tmp_path, "package-lock.json", data))
    written = json.loads(write_package_lock(lock))
    assert written["packages"]["node_modules/a"] == data["packages"]["node_modules/a"]


@pytest.mark.parametrize(
    ("package", "message"),
    [
        (LockedPackage("a", "1.0.0", dependencies=("b",)), "has no spec"),
        (LockedPackage("a", "1.0.0", extra={"link": True}), "has no target"),
        (
            LockedPackage("a", "1.0.0", extra={"optionalDependencies": ["c"]}),
            "optional dependency 'c' has no spec",
        ),
        (LockedPackage("", "1.0.0"), "a package has no name"),
    ],
)
def test_write_package_lock_refuses_what_npm_could_not_read(
    package: LockedPackage, message: str
) -> None:
    lock = Lockfile("npm", "package-lock.json", "package-lock.json v3", (package,))
    with pytest.raises(ManifestError, match=message):
        write_package_lock(lock)


def test_two_packages_at_one_path_are_refused() -> None:
    twice = (LockedPackage("a", "1.0.0"), LockedPackage("a", "2.0.0"))
    with pytest.raises(ManifestError, match="two packages are installed at 'node_modules/a'"):
        write_package_lock(Lockfile("npm", "package-lock.json", "package-lock.json v3", twice))


def test_collation_matches_node(tmp_path: Path) -> None:
    """The key order is checked against node's own localeCompare where node is installed."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    keys = [
        "a",
        "B",
        "b",
        "A",
        "_x",
        "-x",
        "x-y",
        "x_y",
        "x/y",
        "@s/a",
        "a1",
        "a10",
        "a2",
        "~",
        "$",
    ]
    script = (
        "const keys = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(keys.sort((a, b) => a.localeCompare(b, 'en'))))"
    )
    result = subprocess.run(
        [node, "-e", script, json.dumps(keys)], capture_output=True, text=True, check=True
    )
    expected = json.loads(result.stdout)
    lock = Lockfile(
        "npm",
        "package-lock.json",
        "package-lock.json v3",
        (LockedPackage("x", "1.0.0", dependencies=tuple(f"{k} 1" for k in keys)),),
    )
    written = json.loads(write_package_lock(lock))
    assert list(written["packages"]["node_modules/x"]["dependencies"]) == expected


# --- npm itself accepts what is written (no network: file: dependencies only) ------------------

NPM = shutil.which("npm")
needs_npm = pytest.mark.skipif(NPM is None, reason="npm is not installed")

# Written by npm 11.19 for the project _npm_project builds.
FILE_ONLY_LOCK = """\
{
  "name": "demo-app",
  "version": "1.2.3",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "demo-app",
      "version": "1.2.3",
      "license": "MIT",
      "dependencies": {
        "a": "file:libs/a"
      },
      "devDependencies": {
        "tool": "file:libs/tool"
      },
      "engines": {
        "node": ">=18"
      },
      "optionalDependencies": {
        "c": "file:libs/c"
      }
    },
    "libs/a": {
      "version": "1.0.0",
      "license": "ISC",
      "dependencies": {
        "b": "file:../b"
      },
      "engines": {
        "node": ">=16"
      },
      "funding": {
        "type": "github",
        "url": "https://github.com/sponsors/x"
      }
    },
    "libs/b": {
      "version": "2.0.0",
      "cpu": [
        "x64",
        "arm64"
      ],
      "license": "MIT",
      "os": [
        "linux",
        "darwin"
      ]
    },
    "libs/c": {
      "version": "0.1.0",
      "optional": true
    },
    "libs/tool": {
      "version": "3.0.0",
      "dev": true,
      "hasInstallScript": true,
      "license": "Apache-2.0",
      "bin": {
        "tool": "bin/tool.js"
      }
    },
    "node_modules/a": {
      "resolved": "libs/a",
      "link": true
    },
    "node_modules/b": {
      "resolved": "libs/b",
      "link": true
    },
    "node_modules/c": {
      "resolved": "libs/c",
      "link": true
    },
    "node_modules/tool": {
      "resolved": "libs/tool",
      "link": true
    }
  }
}
"""


def _npm_project(root: Path) -> None:
    def package(folder: str, data: dict[str, Any]) -> None:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "package.json").write_text(json.dumps(data, indent=2) + "\n")

    package(
        ".",
        {
            "name": "demo-app",
            "version": "1.2.3",
            "license": "MIT",
            "engines": {"node": ">=18"},
            "dependencies": {"a": "file:libs/a"},
            "devDependencies": {"tool": "file:libs/tool"},
            "optionalDependencies": {"c": "file:libs/c"},
        },
    )
    package(
        "libs/a",
        {
            "name": "a",
            "version": "1.0.0",
            "license": "ISC",
            "engines": {"node": ">=16"},
            "dependencies": {"b": "file:../b"},
            "funding": {"type": "github", "url": "https://github.com/sponsors/x"},
        },
    )
    package(
        "libs/b",
        {
            "name": "b",
            "version": "2.0.0",
            "license": "MIT",
            "os": ["linux", "darwin"],
            "cpu": ["x64", "arm64"],
        },
    )
    package("libs/c", {"name": "c", "version": "0.1.0"})
    package(
        "libs/tool",
        {
            "name": "tool",
            "version": "3.0.0",
            "bin": {"tool": "bin/tool.js"},
            "license": "Apache-2.0",
            "scripts": {"install": "true"},
        },
    )
    (root / "libs/tool/bin").mkdir()
    (root / "libs/tool/bin/tool.js").write_text("#!/usr/bin/env node\n")


def _file_only_model(path: Path) -> Lockfile:
    """The lock as a resolver would build it, without the reader's bookkeeping but the root."""
    link = {"link": True}
    return Lockfile(
        "npm",
        str(path),
        "package-lock.json v3",
        (
            LockedPackage("tool", "", "libs/tool", extra={**link, "path": "node_modules/tool"}),
            LockedPackage("a", "", "libs/a", extra={**link, "path": "node_modules/a"}),
            LockedPackage("b", "", "libs/b", extra={**link, "path": "node_modules/b"}),
            LockedPackage("c", "", "libs/c", extra={**link, "path": "node_modules/c"}),
            LockedPackage(
                "a",
                "1.0.0",
                dependencies=("b file:../b",),
                extra={
                    "path": "libs/a",
                    "license": "ISC",
                    "engines": {"node": ">=16"},
                    "funding": {"type": "github", "url": "https://github.com/sponsors/x"},
                },
            ),
            LockedPackage(
                "b",
                "2.0.0",
                extra={
                    "path": "libs/b",
                    "license": "MIT",
                    "os": ["linux", "darwin"],
                    "cpu": ["x64", "arm64"],
                },
            ),
            LockedPackage("c", "0.1.0", optional=True, extra={"path": "libs/c"}),
            LockedPackage(
                "tool",
                "3.0.0",
                dev=True,
                extra={
                    "path": "libs/tool",
                    "hasInstallScript": True,
                    "license": "Apache-2.0",
                    "bin": {"tool": "bin/tool.js"},
                },
            ),
        ),
        {
            "name": "demo-app",
            "version": "1.2.3",
            "root": {
                "name": "demo-app",
                "version": "1.2.3",
                "license": "MIT",
                "engines": {"node": ">=18"},
                "dependencies": {"a": "file:libs/a"},
                "devDependencies": {"tool": "file:libs/tool"},
                "optionalDependencies": {"c": "file:libs/c"},
            },
        },
    )


def _npm(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert NPM is not None
    env = {**os.environ, "npm_config_cache": str(root / ".npm-cache"), "npm_config_audit": "false"}
    env["npm_config_fund"] = "false"
    return subprocess.run(
        [NPM, *args, "--offline"], cwd=root, capture_output=True, text=True, env=env, timeout=120
    )


@needs_npm
def test_npm_accepts_a_written_lock(tmp_path: Path) -> None:
    _npm_project(tmp_path)
    lock_path = tmp_path / "package-lock.json"
    manifests.write(_file_only_model(lock_path), lock_path)
    assert lock_path.read_text() == FILE_ONLY_LOCK
    # npm ci refuses a lock out of step with package.json.
    ci = _npm(tmp_path, "ci", "--dry-run")
    assert ci.returncode == 0, ci.stderr
    listed = _npm(tmp_path, "ls", "--all", "--package-lock-only", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["dependencies"]["a"]["dependencies"]["b"]["version"] == "2.0.0"
    # npm rewrites the lock when it disagrees with anything in it: it must leave it alone.
    install = _npm(tmp_path, "install", "--package-lock-only")
    assert install.returncode == 0, install.stderr
    assert lock_path.read_text() == FILE_ONLY_LOCK


@needs_npm
def test_npm_ci_notices_a_package_missing_from_the_written_lock(tmp_path: Path) -> None:
    """The check above has teeth: drop one entry and npm ci refuses the lock."""
    _npm_project(tmp_path)
    lock_path = tmp_path / "package-lock.json"
    model = _file_only_model(lock_path)
    kept = tuple(p for p in model.packages if p.extra.get("path") != "node_modules/c")
    manifests.write(
        Lockfile(model.ecosystem, model.path, model.format, kept, model.extra), lock_path
    )
    ci = _npm(tmp_path, "ci", "--dry-run")
    assert ci.returncode != 0
    assert "Missing: c@0.1.0 from lock file" in ci.stderr
