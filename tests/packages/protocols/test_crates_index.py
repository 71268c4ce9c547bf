"""The Cargo registry index, from the Cargo book's "Registry Index" examples."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tuskops.packages.protocols import crates_index as ci

CKSUM = "d867001db0e2b6e0496f9fac96930e2d42233ecd3ca0413e0753d4c7695d289c"

# The Cargo book's index entry example (its comments and trailing commas removed).
BOOK_ENTRY: dict[str, Any] = {
    "name": "foo",
    "vers": "0.1.0",
    "deps": [
        {
            "name": "rand",
            "req": "^0.6",
            "features": ["i128_support"],
            "optional": False,
            "default_features": True,
            "target": None,
            "kind": "normal",
            "registry": None,
            "package": None,
        }
    ],
    "cksum": CKSUM,
    "features": {"extras": ["rand/simd_support"]},
    "yanked": False,
    "links": None,
    "v": 2,
    "features2": {"serde": ["dep:serde", "chrono?/serde"]},
    "rust_version": "1.60",
}

SECOND_ENTRY: dict[str, Any] = {
    "name": "foo",
    "vers": "0.2.0-alpha.1",
    "deps": [
        {
            "name": "my_rand",
            "req": ">=0.7, <0.9",
            "features": [],
            "optional": True,
            "default_features": False,
            "target": "cfg(unix)",
            "kind": "dev",
            "registry": "https://other.test/index",
            "package": "rand",
        },
        {"name": "cc", "req": "^1", "features": [], "optional": False, "kind": "build"},
        {"name": "libc", "req": "^0.2", "features": [], "optional": False, "kind": None},
    ],
    "cksum": "A" * 64,
    "features": {},
    "yanked": True,
    "links": "foo-sys",
}

URL = "https://index.crates.io/3/f/foo"


def _lines(*entries: dict[str, Any]) -> bytes:
    return "\n".join(json.dumps(e) for e in entries).encode() + b"\n"


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("a", "1/a"),
        ("ab", "2/ab"),
        ("abc", "3/a/abc"),
        ("cargo", "ca/rg/cargo"),
        ("Serde_JSON", "se/rd/serde_json"),
        ("FOO", "3/f/foo"),
    ],
)
def test_index_paths(name: str, path: str) -> None:
    assert ci.index_path(name) == path


def test_prefix_keeps_case() -> None:
    assert ci.prefix("Cargo") == "Ca/rg"
    assert ci.prefix("Abc") == "3/A"


@pytest.mark.parametrize("name", ["", "a/b", "foo bar", "..", "ünï"])
def test_invalid_crate_names(name: str) -> None:
    with pytest.raises(ci.CratesIndexError, match="name"):
        ci.index_path(name)


def test_urls_and_requests() -> None:
    assert ci.index_file_url("serde") == "https://index.crates.io/se/rd/serde"
    assert ci.index_file_url("x", "sparse+https://my.test/index") == "https://my.test/index/1/x"
    assert ci.index_file_request("foo").url == URL
    assert ci.config_url() == "https://index.crates.io/config.json"
    assert ci.config_request("sparse+https://my.test/i/").url == "https://my.test/i/config.json"


def test_config_json_book_example() -> None:
    body = b'{"dl": "https://crates.io/api/v1/crates", "api": "https://crates.io"}'
    config = ci.parse_config(body, "https://index.crates.io/config.json")
    assert config == ci.IndexConfig("https://crates.io/api/v1/crates", "https://crates.io", False)
    private = ci.parse_config(b'{"dl": "https://x.test/{crate}", "auth-required": true}', "u")
    assert private.auth_required
    assert private.api is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"nope", None),
        (b"[]", "$"),
        (b"{}", "dl"),
        (b'{"dl": 1}', "dl"),
        (b'{"dl": "x", "api": 1}', "api"),
        (b'{"dl": "x", "auth-required": "yes"}', "auth-required"),
    ],
)
def test_malformed_config(body: bytes, field: str | None) -> None:
    with pytest.raises(ci.CratesIndexError) as info:
        ci.parse_config(body, "https://i.test/config.json")
    assert str(info.value).startswith("https://i.test/config.json")
    assert info.value.field == field


def test_download_url_templates() -> None:
    assert (
        ci.download_url("https://crates.io/api/v1/crates", "Serde", "1.0.0", CKSUM)
        == "https://crates.io/api/v1/crates/Serde/1.0.0/download"
    )
    assert (
        ci.download_url("https://crates.io/api/v1/crates/", "a", "1.0.0", CKSUM)
        == "https://crates.io/api/v1/crates/a/1.0.0/download"
    )
    template = (
        "https://dl.test/{prefix}/{lowerprefix}/{crate}/{crate}-{version}.crate?h={sha256-checksum}"
    )
    assert (
        ci.download_url(ci.IndexConfig(template), "Cargo", "0.1.0", CKSUM)
        == f"https://dl.test/Ca/rg/ca/rg/Cargo/Cargo-0.1.0.crate?h={CKSUM}"
    )


def test_book_entry() -> None:
    config = ci.IndexConfig("https://crates.io/api/v1/crates")
    info = ci.parse_index_file(_lines(BOOK_ENTRY, SECOND_ENTRY), URL, "foo", config)
    assert info.ecosystem == "cargo"
    assert info.name == "foo"
    assert info.versions() == ["0.1.0", "0.2.0-alpha.1"]
    r1 = info.release("0.1.0")
    assert r1 is not None
    assert r1.yanked is None
    assert r1.license is None
    assert r1.extra == {
        "features": {
            "extras": ("rand/simd_support",),
            "serde": ("dep:serde", "chrono?/serde"),
        },
        "v": 2,
        "rust_version": "1.60",
    }
    (rand,) = r1.dependencies or ()
    assert rand.name == "rand"
    assert rand.constraint == "^0.6"
    assert rand.features == ("i128_support",)
    assert rand.kind == "normal"
    assert not rand.optional
    assert rand.markers is None
    assert rand.source is None
    assert rand.extra == {"default_features": True}
    (crate,) = r1.artifacts
    assert crate.url == "https://crates.io/api/v1/crates/foo/0.1.0/download"
    assert crate.filename == "foo-0.1.0.crate"
    assert crate.hashes == {"sha256": CKSUM}


def test_renames_kinds_targets_and_yanked() -> None:
    info = ci.parse_index_file(_lines(SECOND_ENTRY), URL, "foo")
    (release,) = info.releases
    assert release.yanked == ""
    assert release.extra["links"] == "foo-sys"
    assert release.extra["v"] == 1
    renamed, cc, libc = release.dependencies or ()
    assert renamed.name == "rand"
    assert renamed.extra == {"default_features": False, "rename": "my_rand"}
    assert renamed.kind == "dev"
    assert renamed.optional
    assert renamed.markers == "cfg(unix)"
    assert renamed.source == "https://other.test/index"
    assert cc.kind == "build"
    assert libc.kind == "normal"
    assert libc.extra == {"default_features": True}
    assert release.artifacts[0].url == (
        "https://static.crates.io/crates/foo/0.2.0-alpha.1/download"
    )


def test_newer_entry_versions_are_skipped_and_blank_lines_ignored() -> None:
    future = {**BOOK_ENTRY, "vers": "9.0.0", "v": 3}
    body = _lines(BOOK_ENTRY) + b"\n" + _lines(future)
    info = ci.parse_index_file(body, URL, "foo")
    assert info.versions() == ["0.1.0"]
    assert info.extra["skipped_versions"] == ("9.0.0",)


def test_empty_index_file() -> None:
    info = ci.parse_index_file(b"", URL, "Foo")
    assert info.name == "Foo"
    assert info.releases == ()


def _entry(**changes: Any) -> bytes:
    entry = json.loads(json.dumps(BOOK_ENTRY))
    for key, value in changes.items():
        if value is KeyError:
            del entry[key]
        else:
            entry[key] = value
    return _lines(BOOK_ENTRY, entry)


def _dep(**changes: Any) -> bytes:
    dep = {**BOOK_ENTRY["deps"][0]}
    for key, value in changes.items():
        if value is KeyError:
            del dep[key]
        else:
            dep[key] = value
    return _entry(deps=[dep])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"name": "foo"\n', "line 1"),
        (_lines(BOOK_ENTRY) + b"[1]\n", "line 2: $"),
        (_entry(name=KeyError), "line 2: name"),
        (_entry(name="bar"), "line 2: name"),
        (_entry(vers=1), "line 2: vers"),
        (_entry(v="2"), "line 2: v"),
        (_entry(deps=KeyError), "line 2: deps"),
        (_entry(cksum=KeyError), "line 2: cksum"),
        (_entry(cksum="abc"), "line 2: cksum"),
        (_entry(features=[]), "line 2: features"),
        (_entry(features2={"x": "y"}), "line 2: features2.x"),
        (_entry(yanked="no"), "line 2: yanked"),
        (_entry(links=5), "line 2: links"),
        (_entry(rust_version=1.6), "line 2: rust_version"),
        (_entry(deps=["rand"]), "line 2: deps[0]"),
        (_dep(name=KeyError), "line 2: deps[0].name"),
        (_dep(req=None), "line 2: deps[0].req"),
        (_dep(features="x"), "line 2: deps[0].features"),
        (_dep(optional=None), "line 2: deps[0].optional"),
        (_dep(default_features="yes"), "line 2: deps[0].default_features"),
        (_dep(target=1), "line 2: deps[0].target"),
        (_dep(kind="test"), "line 2: deps[0].kind"),
        (_dep(registry=[]), "line 2: deps[0].registry"),
        (_dep(package=1), "line 2: deps[0].package"),
    ],
)
def test_malformed_lines_name_line_and_field(body: bytes, field: str) -> None:
    with pytest.raises(ci.CratesIndexError) as info:
        ci.parse_index_file(body, URL, "foo")
    assert str(info.value).startswith(URL)
    assert info.value.field == field


def test_not_utf8() -> None:
    with pytest.raises(ci.CratesIndexError, match="UTF-8"):
        ci.parse_index_file(b"\xff\n", URL, "foo")
