"""Composer v2 metadata: minified expansion, p2 documents, the root packages.json."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tuskops.packages.manifests import Dependency
from tuskops.packages.protocols.packagist_v2 import (
    PackagistError,
    combine,
    expand,
    is_available,
    metadata_request,
    metadata_url,
    p2_request,
    p2_url,
    package_info,
    parse_root,
    root_request,
    root_url,
)

REF1 = "f9eee5cec93dfb313a38b6b288741e84e53f02d5"
REF2 = "38914429aac460e8e4616c8cb486ecb40ec90bb1"
REF3 = "1817faadd1846cd08be9a49e905dc68823bc38c0"

# Shaped like the example of https://packagist.org/apidoc ("Using the Composer v2 metadata").
MINIFIED_DOC: dict[str, Any] = {
    "packages": {
        "monolog/monolog": [
            {
                "name": "monolog/monolog",
                "description": "Sends your logs to files, sockets, inboxes, databases and ...",
                "keywords": ["log", "logging", "psr-3"],
                "homepage": "https://github.com/Seldaek/monolog",
                "version": "2.1.1",
                "version_normalized": "2.1.1.0",
                "license": ["MIT"],
                "source": {
                    "type": "git",
                    "url": "https://github.com/Seldaek/monolog.git",
                    "reference": REF1,
                },
                "dist": {
                    "type": "zip",
                    "url": f"https://api.github.com/repos/Seldaek/monolog/zipball/{REF1}",
                    "reference": REF1,
                    "shasum": "",
                },
                "type": "library",
                "time": "2020-07-23T08:41:23+00:00",
                "require": {"php": ">=7.2", "psr/log": "^1.0.1"},
                "require-dev": {"phpunit/phpunit": "^8.5"},
                "provide": {"psr/log-implementation": "1.0.0"},
            },
            {
                "version": "2.1.0",
                "version_normalized": "2.1.0.0",
                "source": {
                    "type": "git",
                    "url": "https://github.com/Seldaek/monolog.git",
                    "reference": REF2,
                },
                "dist": {
                    "type": "zip",
                    "url": f"https://api.github.com/repos/Seldaek/monolog/zipball/{REF2}",
                    "reference": REF2,
                    "shasum": "0123456789abcdef0123456789abcdef01234567",
                },
                "time": "2020-05-22T08:12:19+00:00",
                "require-dev": "__unset",
            },
            {
                "version": "1.25.5",
                "version_normalized": "1.25.5.0",
                "license": ["MIT", "Apache-2.0"],
                "time": "2020-07-23T08:35:51+00:00",
                "require": {"php": ">=5.3.0", "psr/log": "~1.0"},
                "provide": "__unset",
                "abandoned": "monolog/monolog2",
            },
        ]
    },
    "minified": "composer/2.0",
}

DEV_DOC: dict[str, Any] = {
    "packages": {
        "monolog/monolog": [
            {
                "name": "monolog/monolog",
                "version": "dev-main",
                "version_normalized": "dev-main",
                "source": {
                    "type": "git",
                    "url": "https://github.com/Seldaek/monolog.git",
                    "reference": REF3,
                },
                "dist": None,
                "require": [],
                "abandoned": True,
            }
        ]
    },
    "minified": "composer/2.0",
}


def body(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def test_urls() -> None:
    assert p2_url("monolog/monolog") == "https://repo.packagist.org/p2/monolog/monolog.json"
    assert p2_url("Monolog/Monolog", dev=True) == (
        "https://repo.packagist.org/p2/monolog/monolog~dev.json"
    )
    assert p2_url("a/b", repository="https://repo.example/composer/") == (
        "https://repo.example/composer/p2/a/b.json"
    )
    assert root_url() == "https://repo.packagist.org/packages.json"
    with pytest.raises(PackagistError, match="not a Composer package name"):
        p2_url("monolog")
    assert p2_request("a/b", dev=True).url == "https://repo.packagist.org/p2/a/b~dev.json"
    assert p2_request("a/b").headers == {}
    assert root_request("https://repo.example").url == "https://repo.example/packages.json"


def test_expand_inherits_and_unsets() -> None:
    versions = expand(MINIFIED_DOC["packages"]["monolog/monolog"])
    assert [v["version"] for v in versions] == ["2.1.1", "2.1.0", "1.25.5"]
    assert versions[1]["name"] == "monolog/monolog"
    assert versions[1]["require"] == {"php": ">=7.2", "psr/log": "^1.0.1"}
    assert "require-dev" not in versions[1]
    assert "require-dev" not in versions[2]
    assert "provide" not in versions[2]
    assert versions[2]["source"]["reference"] == REF2
    assert versions[2]["abandoned"] == "monolog/monolog2"
    # keys keep their first position, as PHP arrays do
    assert list(versions[1])[:5] == list(versions[0])[:5]


def test_expand_edge_cases() -> None:
    assert expand([]) == []
    # PHP's `!$expandedVersion`: an empty expansion takes the next entry whole
    assert expand([{}, {"a": 1}, {"b": 2}]) == [{}, {"a": 1}, {"a": 1, "b": 2}]
    assert expand([{"a": 1}, {"a": "__unset"}, {"b": 2}]) == [{"a": 1}, {}, {"b": 2}]
    # null sets null; only the exact string "__unset" removes; nested values are replaced
    assert expand([{"a": {"x": 1}}, {"a": None}]) == [{"a": {"x": 1}}, {"a": None}]
    assert expand([{"a": {"x": 1}}, {"a": {"y": 2}}])[1] == {"a": {"y": 2}}
    entries = [{"a": 1}, {"b": 2}]
    expand(entries)
    assert entries == [{"a": 1}, {"b": 2}]


def test_package_info_from_minified() -> None:
    pkg = package_info("monolog/monolog", body(MINIFIED_DOC))
    assert pkg.ecosystem == "composer"
    assert pkg.name == "monolog/monolog"
    assert pkg.versions() == ["2.1.1", "2.1.0", "1.25.5"]
    assert pkg.extra == {"minified": "composer/2.0"}

    latest = pkg.releases[0]
    assert latest.dependencies == (
        Dependency(name="php", constraint=">=7.2"),
        Dependency(name="psr/log", constraint="^1.0.1"),
        Dependency(name="phpunit/phpunit", constraint="^8.5", kind="dev"),
    )
    (dist,) = latest.artifacts
    assert dist.url.endswith(f"/zipball/{REF1}")
    assert dist.hashes == {}  # empty shasum: no hash
    assert dist.extra == {"type": "zip", "reference": REF1}
    assert latest.license == "MIT"
    assert latest.published == "2020-07-23T08:41:23+00:00"
    assert latest.deprecated is None
    assert latest.yanked is None
    assert latest.extra["version_normalized"] == "2.1.1.0"
    assert latest.extra["source"]["reference"] == REF1
    assert latest.extra["type"] == "library"
    assert latest.extra["license"] == ["MIT"]
    assert latest.extra["provide"] == {"psr/log-implementation": "1.0.0"}

    r210 = pkg.release("2.1.0")
    assert r210 is not None
    assert [d.kind for d in r210.dependencies or ()] == ["normal", "normal"]
    assert r210.artifacts[0].hashes == {"sha1": "0123456789abcdef0123456789abcdef01234567"}

    old = pkg.release("1.25.5")
    assert old is not None
    assert old.license == "MIT OR Apache-2.0"
    assert old.deprecated == "monolog/monolog2"
    assert "provide" not in old.extra
    assert old.artifacts[0].extra["reference"] == REF2


def test_not_minified_is_read_as_is() -> None:
    doc = {"packages": {"a/b": [{"version": "1.0.0"}, {"version": "0.9.0"}]}}
    pkg = package_info("a/b", body(doc), "https://repo.example/p2/a/b.json")
    assert pkg.versions() == ["1.0.0", "0.9.0"]
    assert pkg.releases[1].dependencies == ()
    assert pkg.releases[1].artifacts == ()
    assert pkg.releases[1].license is None
    assert pkg.extra == {}


def test_empty_list_is_no_releases() -> None:
    pkg = package_info("a/b", b'{"packages": {"a/b": []}, "minified": "composer/2.0"}')
    assert pkg.releases == ()


def test_dev_file_and_combine() -> None:
    dev = package_info("monolog/monolog", body(DEV_DOC))
    (branch,) = dev.releases
    assert branch.version == "dev-main"
    assert branch.deprecated == ""
    assert branch.dependencies == ()
    assert branch.artifacts == ()
    both = combine(package_info("monolog/monolog", body(MINIFIED_DOC)), dev)
    assert both.versions() == ["2.1.1", "2.1.0", "1.25.5", "dev-main"]
    with pytest.raises(PackagistError, match="cannot combine"):
        combine(package_info("a/b", b'{"packages": {"a/b": []}}'), dev)


def test_security_advisories_ignored() -> None:
    doc = dict(MINIFIED_DOC, **{"security-advisories": [{"advisoryId": "PKSA-x"}]})
    assert package_info("monolog/monolog", body(doc)).versions() == ["2.1.1", "2.1.0", "1.25.5"]


def _doc(*entries: Any, minified: bool = True) -> bytes:
    doc: dict[str, Any] = {"packages": {"a/b": list(entries)}}
    if minified:
        doc["minified"] = "composer/2.0"
    return body(doc)


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        (b"{not json", "not JSON", None),
        (b"\xff", "not UTF-8", None),
        (b"[1]", "expected an object, got an array", "$"),
        (b"{}", "expected an object, got null", "packages"),
        (b'{"packages": {"c/d": []}}', "no entry for a/b", "packages.a/b"),
        (b'{"packages": {"a/b": {}}}', "expected an array", "packages.a/b"),
        (b'{"packages": {"a/b": []}, "minified": "composer/3.0"}', "unknown minif", "minified"),
        (_doc(1), "expected an object, got a number", "packages.a/b[0]"),
        (_doc({"version": "1.0"}, "x"), "got a string", "packages.a/b[1]"),
        (_doc({"name": "a/b"}), "expected a string, got null", "packages.a/b[0].version"),
        (
            _doc({"version": "1.0"}, {"version": "0.9", "require": {"php": 7}}),
            "expected a string, got a number",
            "packages.a/b[1].require.php",
        ),
        (
            _doc({"version": "1.0", "require-dev": "x"}),
            "expected an object",
            "packages.a/b[0].require-dev",
        ),
        (_doc({"version": "1.0", "dist": {"type": "zip"}}), "got null", "packages.a/b[0].dist.url"),
        (
            _doc({"version": "1.0", "dist": {"url": "u", "shasum": 1}}),
            "expected a string",
            "packages.a/b[0].dist.shasum",
        ),
        (_doc({"version": "1.0", "license": 3}), "expected an array", "packages.a/b[0].license"),
        (
            _doc({"version": "1.0", "abandoned": 1}),
            "boolean or a package name",
            "packages.a/b[0].abandoned",
        ),
        (_doc({"version": "1.0", "time": 5}), "expected a string", "packages.a/b[0].time"),
    ],
)
def test_malformed_metadata(data: bytes, message: str, field: str | None) -> None:
    url = "https://repo.packagist.org/p2/a/b.json"
    with pytest.raises(PackagistError, match=message) as info:
        package_info("a/b", data, url)
    assert info.value.field == field
    assert str(info.value).startswith(f"{url}: error: ")
    if field:
        assert str(info.value).endswith(f"(at {field})")


# The root packages.json of repo.packagist.org (abridged), and of a private repository.
PACKAGIST_ROOT = b"""{
    "packages": [],
    "notify-batch": "https://packagist.org/downloads/",
    "providers-url": "/p/%package%$%hash%.json",
    "metadata-url": "/p2/%package%.json",
    "search": "https://packagist.org/search.json?q=%query%&type=%type%",
    "providers-api": "https://packagist.org/providers/%package%.json"
}"""

PRIVATE_ROOT = b"""{
    "packages": [],
    "metadata-url": "https://cdn.example/meta/%package%.json",
    "available-packages": ["Acme/Tools", "acme/http"],
    "available-package-patterns": ["acme-plugins/*", "other/a.b*"]
}"""


def test_root_metadata_url() -> None:
    root = parse_root(PACKAGIST_ROOT)
    assert root.metadata_url == "/p2/%package%.json"
    assert root.extra["notify-batch"] == "https://packagist.org/downloads/"
    assert "metadata-url" not in root.extra
    assert metadata_url(root, "monolog/monolog") == (
        "https://repo.packagist.org/p2/monolog/monolog.json"
    )
    assert metadata_url(root, "monolog/monolog", dev=True) == (
        "https://repo.packagist.org/p2/monolog/monolog~dev.json"
    )
    assert is_available(root, "monolog/monolog") is None
    assert metadata_request(root, "a/b").url == "https://repo.packagist.org/p2/a/b.json"
    # a leading "/" is resolved against the repository's origin, as Composer does
    sub = parse_root(PACKAGIST_ROOT, repository="https://repo.example/composer")
    assert metadata_url(sub, "a/b") == "https://repo.example/p2/a/b.json"


def test_root_available_packages() -> None:
    root = parse_root(PRIVATE_ROOT, repository="https://repo.example")
    assert metadata_url(root, "acme/http") == "https://cdn.example/meta/acme/http.json"
    assert root.available_packages == frozenset({"acme/tools", "acme/http"})
    assert is_available(root, "acme/tools") is True
    assert is_available(root, "acme-plugins/anything") is True
    assert is_available(root, "Other/A.Bc") is True
    assert is_available(root, "other/axbc") is False  # "." is literal
    assert is_available(root, "acme/missing") is False


def test_root_composer1_only() -> None:
    root = parse_root(b'{"packages": [], "providers-url": "/p/%package%$%hash%.json"}')
    assert root.metadata_url is None
    with pytest.raises(PackagistError, match="Composer 1 only") as info:
        metadata_url(root, "a/b")
    assert info.value.field == "metadata-url"


@pytest.mark.parametrize(
    ("data", "message", "field"),
    [
        (b'{"metadata-url": 1}', "expected a string", "metadata-url"),
        (b'{"metadata-url": "/p2/x.json"}', "no %package%", "metadata-url"),
        (b'{"available-packages": "a/b"}', "expected an array", "available-packages"),
        (
            b'{"available-package-patterns": [1]}',
            "expected a string",
            "available-package-patterns[0]",
        ),
        (b"[]", "expected an object", "$"),
    ],
)
def test_malformed_root(data: bytes, message: str, field: str) -> None:
    with pytest.raises(PackagistError, match=message) as info:
        parse_root(data)
    assert info.value.field == field
    assert info.value.url == "https://repo.packagist.org/packages.json"
