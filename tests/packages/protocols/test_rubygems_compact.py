"""RubyGems compact index: /names, /versions (with appended tails), /info/NAME."""

from __future__ import annotations

import hashlib

import pytest

from tuskops.packages.manifests import Dependency
from tuskops.packages.protocols.rubygems_compact import (
    CompactIndexError,
    append_range,
    gem_url,
    info_checksum_matches,
    info_request,
    info_url,
    names_url,
    package_info,
    parse_info,
    parse_names,
    parse_versions,
    range_start,
    split_platform,
    versions_request,
    versions_url,
)

# Shaped like the guide's examples (https://guides.rubygems.org/rubygems-org-compact-index-api/).
VERSIONS = b"""created_at: 2024-04-01T00:00:05Z
---
- 1 05d0116933ba44b0b5d0ee19bfd35ccc
.cat 0.0.1 631fd60a806eaf5026c86fff3155c289
nokogiri 1.16.0,1.16.0-java,1.16.0-x86_64-linux,1.16.1 0123456789abcdef0123456789abcdef
rack 3.0.0,3.0.1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
"""

TAIL = b"""rack 3.0.2 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
rack -3.0.1 cccccccccccccccccccccccccccccccc
"""

SHA = "a" * 64
SHA2 = "b" * 64
INFO = f"""---
3.0.0 |checksum:{SHA},ruby:>= 2.4.0
3.0.1 webrick:>= 1.8&< 2,base64:>= 0|checksum:{SHA2},ruby:>= 2.4.0&< 4,rubygems:>= 3.0
3.0.2 |checksum:{SHA}
""".encode()

NOKOGIRI_INFO = f"""---
1.16.0 mini_portile2:~> 2.8.2,racc:~> 1.4|checksum:{SHA},ruby:>= 3.0.0
1.16.0-java racc:~> 1.4|checksum:{SHA2},ruby:>= 3.0.0
""".encode()


def test_urls() -> None:
    assert names_url() == "https://rubygems.org/names"
    assert versions_url("https://gems.example/") == "https://gems.example/versions"
    assert info_url("rack") == "https://rubygems.org/info/rack"
    assert gem_url("rack", "3.0.1") == "https://rubygems.org/gems/rack-3.0.1.gem"
    assert gem_url("nokogiri", "1.16.0", "java") == (
        "https://rubygems.org/gems/nokogiri-1.16.0-java.gem"
    )
    assert gem_url("rack", "3.0.1", "ruby").endswith("/rack-3.0.1.gem")


def test_names() -> None:
    assert parse_names(b"---\n-\n.cat\nrack\n") == ("-", ".cat", "rack")


def test_split_platform() -> None:
    assert split_platform("1.16.0-x86_64-linux") == ("1.16.0", "x86_64-linux")
    assert split_platform("1.0") == ("1.0", None)


def test_versions() -> None:
    index = parse_versions(VERSIONS)
    assert index.created_at == "2024-04-01T00:00:05Z"
    assert list(index.gems) == ["-", ".cat", "nokogiri", "rack"]
    nokogiri = index.gems["nokogiri"]
    assert nokogiri.versions == ("1.16.0", "1.16.0-java", "1.16.0-x86_64-linux", "1.16.1")
    assert nokogiri.yanked == frozenset()
    assert nokogiri.info_md5 == "0123456789abcdef0123456789abcdef"


def test_versions_later_lines_append_and_yank() -> None:
    index = parse_versions(VERSIONS + TAIL)
    rack = index.gems["rack"]
    assert rack.versions == ("3.0.0", "3.0.1", "3.0.2")
    assert rack.yanked == frozenset({"3.0.1"})
    assert rack.info_md5 == "c" * 32


def test_versions_tail_on_previous_index_equals_whole_parse() -> None:
    previous = parse_versions(VERSIONS)
    assert parse_versions(TAIL, previous=previous) == parse_versions(VERSIONS + TAIL)
    # the previous index is not changed
    assert previous.gems["rack"].versions == ("3.0.0", "3.0.1")


def test_unyank_restores() -> None:
    index = parse_versions(b"---\nx -1.0 " + b"a" * 32 + b"\nx 1.0 " + b"b" * 32 + b"\n")
    assert index.gems["x"].yanked == frozenset()


def test_range_bookkeeping() -> None:
    assert range_start(b"") is None
    assert range_start(VERSIONS) == len(VERSIONS) - 1
    partial = (VERSIONS + TAIL)[range_start(VERSIONS) :]
    whole = append_range(VERSIONS, partial)
    assert whole == VERSIONS + TAIL
    assert parse_versions(whole[len(VERSIONS) :], previous=parse_versions(VERSIONS)) == (
        parse_versions(whole)
    )


def test_requests() -> None:
    whole = versions_request()
    assert (whole.url, dict(whole.headers)) == ("https://rubygems.org/versions", {})
    tail = versions_request(VERSIONS)
    assert tail.headers == {"Range": f"bytes={len(VERSIONS) - 1}-"}
    info = info_request("rack", INFO, "https://gems.example")
    assert info.url == "https://gems.example/info/rack"
    assert info.headers == {"Range": f"bytes={len(INFO) - 1}-"}


def test_range_that_does_not_continue_the_copy() -> None:
    with pytest.raises(CompactIndexError, match="does not continue"):
        append_range(VERSIONS, b"xrack 3.0.2 " + b"b" * 32 + b"\n")
    with pytest.raises(CompactIndexError, match="no cached copy"):
        append_range(b"", b"\n")


def test_info_checksum() -> None:
    md5 = hashlib.md5(INFO, usedforsecurity=False).hexdigest()
    assert info_checksum_matches(INFO, md5)
    assert info_checksum_matches(INFO, md5.upper() + "\n")
    assert not info_checksum_matches(INFO + b"\n", md5)


def test_info_lines() -> None:
    entries = parse_info(INFO)
    assert [e.version for e in entries] == ["3.0.0", "3.0.1", "3.0.2"]
    first, second, third = entries
    assert first.dependencies == ()
    assert first.checksum == SHA
    assert first.required_ruby_version == ">= 2.4.0"
    assert first.required_rubygems_version is None
    assert second.dependencies == (
        Dependency(name="webrick", constraint=">= 1.8, < 2"),
        Dependency(name="base64", constraint=">= 0"),
    )
    assert second.required_ruby_version == ">= 2.4.0, < 4"
    assert second.required_rubygems_version == ">= 3.0"
    assert third.required_ruby_version is None


def test_package_info_with_versions_entry() -> None:
    index = parse_versions(VERSIONS + TAIL + b"rack -3.0.0 " + b"d" * 32 + b"\n")
    # the regenerated info file no longer lists yanked 3.0.0
    info = INFO.replace(f"3.0.0 |checksum:{SHA},ruby:>= 2.4.0\n".encode(), b"")
    pkg = package_info("rack", info, versions=index.gems["rack"])
    assert pkg.ecosystem == "rubygems"
    assert pkg.versions() == ["3.0.1", "3.0.2", "3.0.0"]
    r301 = pkg.release("3.0.1")
    assert r301 is not None
    assert r301.yanked == ""
    assert r301.extra == {
        "platform": "ruby",
        "required_ruby_version": ">= 2.4.0, < 4",
        "required_rubygems_version": ">= 3.0",
    }
    (artifact,) = r301.artifacts
    assert artifact.url == "https://rubygems.org/gems/rack-3.0.1.gem"
    assert artifact.filename == "rack-3.0.1.gem"
    assert artifact.hashes == {"sha256": SHA2}
    assert artifact.yanked == ""
    r302 = pkg.release("3.0.2")
    assert r302 is not None
    assert r302.yanked is None
    assert r302.dependencies == ()
    r300 = pkg.release("3.0.0")
    assert r300 is not None
    assert r300.yanked == ""
    assert r300.dependencies is None
    assert pkg.extra == {"info_md5": "d" * 32}


def test_package_info_platforms() -> None:
    pkg = package_info("nokogiri", NOKOGIRI_INFO, base_url="https://gems.example")
    assert [(r.version, r.extra["platform"]) for r in pkg.releases] == [
        ("1.16.0", "ruby"),
        ("1.16.0", "java"),
    ]
    java = pkg.releases[1]
    assert java.artifacts[0].url == "https://gems.example/gems/nokogiri-1.16.0-java.gem"
    assert java.dependencies == (Dependency(name="racc", constraint="~> 1.4"),)
    assert pkg.extra == {}
    assert pkg.to_json()["releases"][0]["dependencies"][0]["name"] == "mini_portile2"


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        (b"created_at: x\nrack 1.0 " + b"a" * 32 + b"\n", "no '---' line", None),
        (b"created_at x\n---\n", "not 'key: value'", 1),
        (b"---\nrack 1.0\n", "three fields", 2),
        (b"---\nrack 1.0 nothex\n", "not an MD5", 2),
        (b"---\nrack 1.0,, " + b"a" * 32 + b"\n", "empty version", 2),
        (b"---\nok 1 " + b"a" * 32 + b"\n\xff\n", "not UTF-8", 3),
    ],
)
def test_malformed_versions(body: bytes, message: str, line: int | None) -> None:
    with pytest.raises(CompactIndexError, match=message) as info:
        parse_versions(body, "https://rubygems.org/versions")
    assert info.value.line == line
    assert str(info.value).startswith("https://rubygems.org/versions")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"---\n1.0\n", "expected 'VERSION DEPS|REQS'"),
        (b"---\n1.0 rack:>= 1\n", "no '|'"),
        (b"---\n1.0 rack|checksum:" + b"a" * 64 + b"\n", "not 'NAME:REQUIREMENT'"),
        (b"---\n1.0 |checksum\n", "not 'KEY:VALUE'"),
        (b"---\n1.0 |checksum:abc\n", "not a SHA-256"),
    ],
)
def test_malformed_info(body: bytes, message: str) -> None:
    with pytest.raises(CompactIndexError, match=message) as info:
        parse_info(body, "https://rubygems.org/info/rack")
    assert info.value.line == 2
    assert str(info.value).startswith("https://rubygems.org/info/rack:2: error:")


def test_malformed_names() -> None:
    with pytest.raises(CompactIndexError, match="space") as info:
        parse_names(b"---\nrack\nno pe\n")
    assert info.value.line == 3
