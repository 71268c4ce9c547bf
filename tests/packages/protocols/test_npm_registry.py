"""npm packuments, from the registry docs' examples (docs/responses/package-metadata.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tuskops.packages.protocols import npm_registry as nr

# package-metadata.md, "Abbreviated version object" example (tiny-tarball).
ABBREVIATED: dict[str, Any] = {
    "dist-tags": {"latest": "1.0.0"},
    "modified": "2015-05-16T22:27:54.741Z",
    "name": "tiny-tarball",
    "versions": {
        "1.0.0": {
            "_hasShrinkwrap": False,
            "name": "tiny-tarball",
            "version": "1.0.0",
            "dist": {
                "shasum": "bbf102d5ae73afe2c553295e0fb02230216f65b1",
                "tarball": "https://registry.npmjs.org/tiny-tarball/-/tiny-tarball-1.0.0.tgz",
            },
        }
    },
}

# package-metadata.md, full document example (tiny-tarball), with a second version added to
# cover the dependency kinds, SRI integrity and the legacy license forms.
FULL: dict[str, Any] = {
    "_id": "tiny-tarball",
    "_rev": "1-8e4a2b4f0e2a2a4f5e1f1d2d7e6b8a70",
    "name": "tiny-tarball",
    "description": "tiny tarball used for health checks",
    "dist-tags": {"latest": "1.0.0", "next": "2.0.0-beta.1"},
    "versions": {
        "1.0.0": {
            "name": "tiny-tarball",
            "version": "1.0.0",
            "description": "tiny tarball used for health checks",
            "main": "index.js",
            "scripts": {"test": 'echo "Error: no test specified" && exit 1'},
            "author": {"name": "Ben Coe", "email": "ben@npmjs.com"},
            "license": "ISC",
            "_id": "tiny-tarball@1.0.0",
            "_shasum": "bbf102d5ae73afe2c553295e0fb02230216f65b1",
            "_from": ".",
            "_npmVersion": "2.7.0",
            "_nodeVersion": "1.5.0",
            "_npmUser": {"name": "bcoe", "email": "bencoe@gmail.com"},
            "maintainers": [{"name": "bcoe", "email": "bencoe@gmail.com"}],
            "dist": {
                "shasum": "bbf102d5ae73afe2c553295e0fb02230216f65b1",
                "tarball": "https://registry.npmjs.org/tiny-tarball/-/tiny-tarball-1.0.0.tgz",
            },
            "directories": {},
        },
        "2.0.0-beta.1": {
            "name": "tiny-tarball",
            "version": "2.0.0-beta.1",
            "license": {"type": "MIT", "url": "https://opensource.org/licenses/MIT"},
            "deprecated": "use 1.0.0",
            "engines": {"node": ">=18"},
            "dependencies": {"a": "^1.0.0", "opt": "~2.1", "al": "npm:real@^3"},
            "devDependencies": {"mocha": "*"},
            "optionalDependencies": {"opt": "~2.1"},
            "peerDependencies": {"react": ">=17", "vue": "3.x"},
            "peerDependenciesMeta": {"vue": {"optional": True}},
            "dist": {
                "integrity": "sha512-AAAA+/== sha1-BBBB",
                "shasum": "0123456789abcdef0123456789abcdef01234567",
                "tarball": "https://registry.npmjs.org/tiny-tarball/-/tiny-tarball-2.0.0-beta.1.tgz",
                "fileCount": 3,
                "unpackedSize": 1024,
            },
        },
    },
    "readme": "# TinyTarball\n\ntiny-tarball used for health checks\n",
    "maintainers": [{"name": "bcoe", "email": "bencoe@gmail.com"}],
    "time": {
        "modified": "2015-05-16T22:27:54.741Z",
        "created": "2015-03-24T00:12:24.039Z",
        "1.0.0": "2015-03-24T00:12:24.039Z",
        "2.0.0-beta.1": "2024-01-01T00:00:00.000Z",
    },
    "author": {"name": "Ben Coe", "email": "ben@npmjs.com"},
    "license": "ISC",
    "readmeFilename": "README.md",
}

URL = "https://registry.npmjs.org/tiny-tarball"


def _body(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def test_urls_escape_scoped_names() -> None:
    assert nr.packument_url("tiny-tarball") == URL
    assert nr.packument_url("@npmcli/arborist") == "https://registry.npmjs.org/@npmcli%2farborist"
    assert nr.packument_url("@a/b", "https://npm.test/reg/") == "https://npm.test/reg/@a%2fb"


@pytest.mark.parametrize("name", ["", "@scope", "@/x", "@a/b/c", "a/b", " x"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(nr.PackumentError, match="name"):
        nr.packument_url(name)


def test_requests_accept_headers() -> None:
    short = nr.packument_request("@a/b")
    assert short.url.endswith("/@a%2fb")
    assert short.headers["Accept"].startswith("application/vnd.npm.install-v1+json")
    assert "application/json; q=0.8" in short.headers["Accept"]
    full = nr.packument_request("x", abbreviated=False)
    assert full.headers == {"Accept": "application/json"}


def test_abbreviated_example() -> None:
    info = nr.parse_packument(_body(ABBREVIATED), URL, "application/vnd.npm.install-v1+json")
    assert info.ecosystem == "npm"
    assert info.name == "tiny-tarball"
    assert info.tags == {"latest": "1.0.0"}
    assert info.extra["modified"] == "2015-05-16T22:27:54.741Z"
    assert info.extra["abbreviated"] is True
    (release,) = info.releases
    assert release.version == "1.0.0"
    assert release.dependencies == ()
    assert release.published is None
    assert release.license is None
    assert release.deprecated is None
    assert release.extra == {"hasShrinkwrap": False}
    (tgz,) = release.artifacts
    assert tgz.url == "https://registry.npmjs.org/tiny-tarball/-/tiny-tarball-1.0.0.tgz"
    assert tgz.filename == "tiny-tarball-1.0.0.tgz"
    assert tgz.hashes == {"sha1": "bbf102d5ae73afe2c553295e0fb02230216f65b1"}


def test_full_example() -> None:
    info = nr.parse_packument(_body(FULL), URL)
    assert info.extra["abbreviated"] is False
    assert info.extra["modified"] == "2015-05-16T22:27:54.741Z"
    assert info.extra["created"] == "2015-03-24T00:12:24.039Z"
    assert info.extra["license"] == "ISC"
    assert info.tags == {"latest": "1.0.0", "next": "2.0.0-beta.1"}
    assert info.versions() == ["1.0.0", "2.0.0-beta.1"]
    r1 = info.release("1.0.0")
    assert r1 is not None
    assert r1.license == "ISC"
    assert r1.published == "2015-03-24T00:12:24.039Z"
    r2 = info.release("2.0.0-beta.1")
    assert r2 is not None
    assert r2.license == "MIT"
    assert r2.deprecated == "use 1.0.0"
    assert r2.extra["engines"] == {"node": ">=18"}
    assert r2.published == "2024-01-01T00:00:00.000Z"
    deps = {(d.name, d.kind): d for d in r2.dependencies or ()}
    assert set(deps) == {
        ("a", "normal"),
        ("al", "normal"),
        ("mocha", "dev"),
        ("opt", "optional"),
        ("react", "peer"),
        ("vue", "peer"),
    }
    assert deps["a", "normal"].constraint == "^1.0.0"
    assert deps["a", "normal"].extra == {"spec_type": "range"}
    assert deps["opt", "optional"].optional
    assert not deps["react", "peer"].optional
    assert deps["vue", "peer"].optional
    assert deps["al", "normal"].source == "npm:real"
    assert deps["al", "normal"].extra["alias_spec"] == "^3"
    (tgz,) = r2.artifacts
    assert tgz.hashes == {"sha512": "AAAA+/==", "sha1": "0123456789abcdef0123456789abcdef01234567"}
    assert tgz.extra["integrity"] == "sha512-AAAA+/== sha1-BBBB"
    assert tgz.extra["fileCount"] == 3
    assert tgz.extra["unpackedSize"] == 1024
    assert info.to_json()["releases"][1]["artifacts"][0]["filename"] == (
        "tiny-tarball-2.0.0-beta.1.tgz"
    )


def test_legacy_licenses_list_and_engines_array() -> None:
    data = {
        "name": "old",
        "versions": {
            "0.1.0": {
                "version": "0.1.0",
                "licenses": [{"type": "MIT"}, {"type": "GPL-2.0"}],
                "engines": ["node >= 0.4"],
                "deprecated": "",
            }
        },
    }
    (release,) = nr.parse_packument(_body(data), "u").releases
    assert release.license == "MIT OR GPL-2.0"
    assert release.extra["engines"] == ["node >= 0.4"]
    assert release.deprecated is None
    assert release.artifacts == ()


def test_unpublished_package() -> None:
    data = {
        "_id": "gone",
        "name": "gone",
        "time": {
            "created": "2020-01-01T00:00:00.000Z",
            "modified": "2021-01-01T00:00:00.000Z",
            "unpublished": {"time": "2021-01-01T00:00:00.000Z", "versions": ["1.0.0"]},
        },
    }
    info = nr.parse_packument(_body(data), "u", "application/json")
    assert info.releases == ()
    assert info.extra["unpublished"]["versions"] == ["1.0.0"]


def _with(path: list[str], value: Any) -> bytes:
    data = json.loads(json.dumps(FULL))
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return _body(data)


V2 = ["versions", "2.0.0-beta.1"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{", None),
        (b"[1]", "$"),
        (_with(["name"], KeyError), "name"),
        (_with(["versions"], KeyError), "versions"),
        (_with(["versions"], []), "versions"),
        (_with(["dist-tags"], {"latest": 1}), "dist-tags.latest"),
        (_with(["time"], []), "time"),
        (_with(["time", "1.0.0"], 5), "time.1.0.0"),
        (_with(["modified"], 5), "modified"),
        (_with([*V2], "x"), "versions.2.0.0-beta.1"),
        (_with([*V2, "version"], "9.9.9"), "versions.2.0.0-beta.1.version"),
        (_with([*V2, "dependencies"], {"a": 1}), "versions.2.0.0-beta.1.dependencies.a"),
        (_with([*V2, "devDependencies"], "x"), "versions.2.0.0-beta.1.devDependencies"),
        (
            _with([*V2, "peerDependenciesMeta"], {"vue": {"optional": "yes"}}),
            "versions.2.0.0-beta.1.peerDependenciesMeta.vue.optional",
        ),
        (_with([*V2, "deprecated"], 3), "versions.2.0.0-beta.1.deprecated"),
        (_with([*V2, "engines"], 18), "versions.2.0.0-beta.1.engines"),
        (_with([*V2, "dist"], "x"), "versions.2.0.0-beta.1.dist"),
        (_with([*V2, "dist", "tarball"], KeyError), "versions.2.0.0-beta.1.dist.tarball"),
        (_with([*V2, "dist", "integrity"], "sha512"), "versions.2.0.0-beta.1.dist.integrity"),
        (_with([*V2, "dist", "shasum"], 1), "versions.2.0.0-beta.1.dist.shasum"),
        (_with([*V2, "dist", "fileCount"], "3"), "versions.2.0.0-beta.1.dist.fileCount"),
    ],
)
def test_malformed_packuments_name_the_field(body: bytes, field: str | None) -> None:
    with pytest.raises(nr.PackumentError) as info:
        nr.parse_packument(body, URL)
    assert str(info.value).startswith(URL)
    if field is not None:
        assert info.value.field == field
        assert f"(at {field})" in str(info.value)


def test_very_old_manifest_forms_are_read_as_npm_reads_them() -> None:
    # underscore 1.0.3 ("dependencies": []), qs 5.1.0 (engines as a string), arrays of names.
    body = json.dumps(
        {
            "name": "old",
            "versions": {
                "1.0.3": {"name": "old", "version": "1.0.3", "dependencies": [],
                          "engines": ">=0.10.40", "dist": {"tarball": "https://r/old-1.0.3.tgz"}},
                "1.0.4": {"name": "old", "version": "1.0.4",
                          "dependencies": ["a", "b@1.x", "@s/c@^2"],
                          "dist": {"tarball": "https://r/old-1.0.4.tgz"}},
            },
        }
    ).encode()  # fmt: skip
    info = nr.parse_packument(body, "https://r/old")
    first, second = info.releases
    assert first.dependencies == ()
    assert first.extra["engines"] == ">=0.10.40"
    assert second.dependencies is not None
    assert [(d.name, d.constraint) for d in second.dependencies] == [
        ("a", "*"),
        ("b", "1.x"),
        ("@s/c", "^2"),
    ]


@pytest.mark.parametrize(
    ("fields", "license"),
    [
        ({"licenses": {"type": "MIT", "url": "u"}}, "MIT"),  # word-wrap@0.2.0's single object
        ({"licenses": "MIT"}, None),
        ({"licenses": [{"url": "u"}]}, None),
        ({"license": {"url": "x"}}, None),
        ({"license": ["MIT"]}, None),
    ],
)
def test_license_shapes_npm_does_not_read_are_unknown_not_errors(
    fields: dict[str, object], license: str | None
) -> None:
    info = nr.parse_packument(_body({"name": "x", "versions": {"1.0.0": fields}}), URL)
    assert info.releases[0].license == license


def test_packument_reads_versions_on_demand() -> None:
    """Only the versions asked for are read: a broken one elsewhere fails only when read."""
    doc = json.loads(json.dumps(FULL))
    doc["versions"]["0.1.0"] = {"version": "0.1.0", "dependencies": {"x": 1}}
    packument = nr.Packument(_body(doc), URL)
    assert packument.name == "tiny-tarball"
    assert packument.versions == ("1.0.0", "2.0.0-beta.1", "0.1.0")
    assert packument.tags == {"latest": "1.0.0", "next": "2.0.0-beta.1"}
    assert packument.release("1.0.0") is packument.release("1.0.0")
    assert packument.release("1.0.0") == nr.parse_packument(_body(FULL), URL).releases[0]
    with pytest.raises(nr.PackumentError, match=r"versions\.0\.1\.0\.dependencies\.x"):
        packument.release("0.1.0")
    with pytest.raises(nr.PackumentError):
        nr.parse_packument(_body(doc), URL)  # the eager parser reads (and checks) them all
    with pytest.raises(KeyError):
        packument.release("9.9.9")


def test_lock_metadata_is_kept() -> None:
    """What npm copies into lock entries: bin, funding, the whole peerDependenciesMeta, the
    published license (not the legacy licenses), hasInstallScript from install scripts."""
    doc = json.loads(json.dumps(ABBREVIATED))
    version = doc["versions"]["1.0.0"]
    version["bin"] = {"tiny": "./cli.js"}
    version["funding"] = "https://example.org/fund"
    version["peerDependenciesMeta"] = {"not-a-peer": {"optional": True}}
    version["scripts"] = {"postinstall": "node setup.js"}
    version["licenses"] = [{"type": "MIT"}]
    (release,) = nr.parse_packument(_body(doc), URL).releases
    assert release.extra["bin"] == {"tiny": "./cli.js"}
    assert release.extra["funding"] == "https://example.org/fund"
    assert release.extra["peerDependenciesMeta"] == {"not-a-peer": {"optional": True}}
    assert release.extra["hasInstallScript"] is True
    assert "license" not in release.extra
    assert release.license == "MIT"  # the registry model still reads the legacy field
    version["scripts"] = {"test": "x", "install": ""}
    version["license"] = {"type": "ISC"}
    (release,) = nr.parse_packument(_body(doc), URL).releases
    assert "hasInstallScript" not in release.extra
    assert release.extra["license"] == {"type": "ISC"}
