"""PEP 503/691 Simple API parsing, from the PEPs' documented examples."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tuskops.errors import VersionSyntaxError
from tuskops.packages.protocols import pypi_simple as ps

# PEP 691 "Project Detail" example, with PEP 700 and PEP 714 fields added.
PEP691_EXAMPLE: dict[str, Any] = {
    "meta": {"api-version": "1.1"},
    "name": "holygrail",
    "files": [
        {
            "filename": "holygrail-1.0.tar.gz",
            "url": "https://example.com/files/holygrail-1.0.tar.gz",
            "hashes": {"sha256": "...", "blake2b": "..."},
            "requires-python": ">=3.7",
            "yanked": "Had a vulnerability",
            "size": 1234,
            "upload-time": "2022-06-01T12:00:00.000000Z",
        },
        {
            "filename": "holygrail-1.0-py3-none-any.whl",
            "url": "https://example.com/files/holygrail-1.0-py3-none-any.whl",
            "hashes": {"sha256": "...", "blake2b": "..."},
            "requires-python": ">=3.7",
            "dist-info-metadata": True,
            "size": 999,
            "upload-time": "2022-06-01T11:00:00Z",
        },
    ],
    "versions": ["1.0", "2.0"],
}

JSON_URL = "https://pypi.org/simple/holygrail/"


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def test_project_url_normalises_the_name() -> None:
    assert ps.project_url("Foo.Bar_baz") == "https://pypi.org/simple/foo-bar-baz/"
    assert ps.project_url("x", "https://idx.test/simple") == "https://idx.test/simple/x/"


def test_project_url_rejects_invalid_names() -> None:
    with pytest.raises(VersionSyntaxError):
        ps.project_url("not a name!")


def test_request_prefers_json_then_html() -> None:
    req = ps.project_request("holygrail")
    assert req.url == JSON_URL
    accept = req.headers["Accept"]
    assert accept.startswith("application/vnd.pypi.simple.v1+json,")
    assert "application/vnd.pypi.simple.v1+html;q=0.2" in accept
    assert "text/html;q=0.01" in accept


def test_pep691_example() -> None:
    info = ps.parse_project_page(_json(PEP691_EXAMPLE), JSON_URL, ps.JSON_CONTENT_TYPE)
    assert info.ecosystem == "pypi"
    assert info.name == "holygrail"
    assert info.versions() == ["1.0", "2.0"]
    assert info.extra["versions"] == ["1.0", "2.0"]
    assert info.extra["api_version"] == "1.1"
    r1 = info.release("1.0")
    assert r1 is not None
    sdist, wheel = r1.artifacts
    assert sdist.yanked == "Had a vulnerability"
    assert sdist.requires_python == ">=3.7"
    assert sdist.size == 1234
    assert sdist.metadata_url is None
    assert sdist.hashes == {"sha256": "...", "blake2b": "..."}
    assert wheel.yanked is None
    assert wheel.metadata_url == "https://example.com/files/holygrail-1.0-py3-none-any.whl.metadata"
    assert wheel.metadata_hashes == {}
    assert r1.yanked is None  # only one of two files is yanked
    assert r1.published == "2022-06-01T11:00:00Z"
    assert r1.dependencies is None
    r2 = info.release("2.0")
    assert r2 is not None
    assert r2.artifacts == ()
    assert "unparsed_files" not in info.extra


def test_core_metadata_wins_over_legacy_key_and_relative_urls_resolve() -> None:
    data = {
        "meta": {"api-version": "1.0"},
        "name": "pkg",
        "files": [
            {
                "filename": "pkg-2.0.zip",
                "url": "../../files/pkg-2.0.zip",
                "hashes": {},
                "core-metadata": {"sha256": "abc"},
                "dist-info-metadata": {"sha256": "old"},
                "yanked": True,
            },
            {
                "filename": "pkg-2.0.win32.exe",
                "url": "/files/pkg-2.0.win32.exe",
                "hashes": {"md5": "x"},
            },
        ],
    }
    info = ps.parse_project_json(_json(data), "https://idx.test/simple/pkg/")
    (release,) = info.releases
    (art,) = release.artifacts
    assert art.url == "https://idx.test/files/pkg-2.0.zip"
    assert art.metadata_url == "https://idx.test/files/pkg-2.0.zip.metadata"
    assert art.metadata_hashes == {"sha256": "abc"}
    assert art.yanked == ""
    assert release.yanked == ""  # every file yanked
    (unparsed,) = info.extra["unparsed_files"]
    assert unparsed.url == "https://idx.test/files/pkg-2.0.win32.exe"
    assert "versions" not in info.extra
    assert info.to_json()["extra"]["unparsed_files"][0]["filename"] == "pkg-2.0.win32.exe"


def test_versions_are_grouped_by_normalised_filename_version() -> None:
    files = [
        {"filename": n, "url": n, "hashes": {}}
        for n in (
            "Foo_Bar-1.0.0-cp311-cp311-manylinux_2_17_x86_64.whl",
            "foo_bar-1.0.0.tar.gz",
            "foo_bar-1.0rc1-1-py3-none-any.whl",
            "foo_bar-1.0rc1.tar.gz",
            "foo_bar-latest.tar.gz",
            "foo_bar-1.0.tar.bz2",
        )
    ]
    data = {"meta": {"api-version": "1.0"}, "name": "foo-bar", "files": files}
    info = ps.parse_project_json(_json(data), "https://x.test/simple/foo-bar/")
    assert info.versions() == ["1.0.0", "1.0rc1"]
    assert [len(r.artifacts) for r in info.releases] == [2, 2]
    assert [a.filename for a in info.extra["unparsed_files"]] == [
        "foo_bar-latest.tar.gz",
        "foo_bar-1.0.tar.bz2",
    ]


def test_pep700_versions_keep_their_spelling() -> None:
    data = {
        "meta": {"api-version": "1.1"},
        "name": "p",
        "files": [{"filename": "p-1.0.0-py3-none-any.whl", "url": "u", "hashes": {}}],
        "versions": ["1.0.0", "1.0.1"],
    }
    info = ps.parse_project_json(_json(data), "https://x.test/simple/p/")
    assert info.versions() == ["1.0.0", "1.0.1"]
    assert len(info.releases[0].artifacts) == 1


# PEP 503 project page, with PEP 592/658/714 attributes.
PEP503_HTML = b"""<!DOCTYPE html>
<html>
  <head>
    <meta name="pypi:repository-version" content="1.0">
    <title>Links for holygrail</title>
  </head>
  <body>
    <h1>Links for holygrail</h1>
    <a href="/files/holygrail-1.0.tar.gz#sha256=deadbeef"
       data-requires-python="&gt;=3.7"
       data-yanked="Had a vulnerability">holygrail-1.0.tar.gz</a><br/>
    <a href="../../files/holygrail-1.0-py3-none-any.whl#sha256=cafe"
       data-dist-info-metadata="sha256=f00d" data-core-metadata="sha256=beef"
       >holygrail-1.0-py3-none-any.whl</a><br/>
    <a href="https://cdn.test/holygrail-1.1.tar.gz" data-yanked>holygrail-1.1.tar.gz</a>
    <a href="holygrail-1.2-py3-none-any.whl" data-dist-info-metadata="true"
       data-gpg-sig="false">holygrail-1.2-py3-none-any.whl</a>
  </body>
</html>
"""
HTML_URL = "https://pypi.org/simple/holygrail/"


def test_pep503_html() -> None:
    info = ps.parse_project_page(PEP503_HTML, HTML_URL, "text/html; charset=utf-8")
    assert info.name == "holygrail"
    assert info.versions() == ["1.0", "1.1", "1.2"]
    r10 = info.release("1.0")
    assert r10 is not None
    sdist, wheel = r10.artifacts
    assert sdist.url == "https://pypi.org/files/holygrail-1.0.tar.gz"
    assert sdist.hashes == {"sha256": "deadbeef"}
    assert sdist.requires_python == ">=3.7"
    assert sdist.yanked == "Had a vulnerability"
    assert sdist.size is None
    assert wheel.url == "https://pypi.org/files/holygrail-1.0-py3-none-any.whl"
    assert wheel.metadata_url == "https://pypi.org/files/holygrail-1.0-py3-none-any.whl.metadata"
    assert wheel.metadata_hashes == {"sha256": "beef"}
    assert wheel.yanked is None
    r11 = info.release("1.1")
    assert r11 is not None
    assert r11.yanked == ""
    assert r11.artifacts[0].yanked == ""
    r12 = info.release("1.2")
    assert r12 is not None
    (w12,) = r12.artifacts
    assert w12.url == "https://pypi.org/simple/holygrail/holygrail-1.2-py3-none-any.whl"
    assert w12.metadata_hashes == {}
    assert w12.metadata_url is not None
    assert w12.extra == {"gpg_sig": False}


def test_html_base_href_and_sniffing() -> None:
    body = (
        b'<html><head><base href="https://mirror.test/f/"></head>'
        b'<body><a href="x-1.0.zip">x-1.0.zip</a></body></html>'
    )
    info = ps.parse_project_page(body, "https://idx.test/simple/x/")
    assert info.releases[0].artifacts[0].url == "https://mirror.test/f/x-1.0.zip"
    sniffed = ps.parse_project_page(_json(PEP691_EXAMPLE), JSON_URL)
    assert sniffed.name == "holygrail"


def test_html_empty_page_is_a_project_without_files() -> None:
    info = ps.parse_project_html(b"<html><body></body></html>", HTML_URL)
    assert info.name == "holygrail"
    assert info.releases == ()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'<a href="/f/x-1.0.zip#sha256">x-1.0.zip</a>', "a[0].href"),
        (b"<a>x-1.0.zip</a>", "a[0].href"),
        (b'<meta name="pypi:repository-version" content="2.0">', "pypi:repository-version"),
        (b'<a href="/f/x-1.0.zip" data-core-metadata="nohash">x</a>', "data-core-metadata"),
    ],
)
def test_malformed_html(body: bytes, field: str) -> None:
    with pytest.raises(ps.SimpleApiError) as info:
        ps.parse_project_html(body, HTML_URL)
    assert field in str(info.value)
    assert HTML_URL in str(info.value)


def _with(path: list[Any], value: Any) -> bytes:
    data = json.loads(json.dumps(PEP691_EXAMPLE))
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return _json(data)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", None),
        (b"[]", "$"),
        (_with(["meta"], KeyError), "meta"),
        (_with(["meta", "api-version"], "2.0"), "meta.api-version"),
        (_with(["meta", "api-version"], 1), "meta.api-version"),
        (_with(["name"], KeyError), "name"),
        (_with(["files"], {}), "files"),
        (_with(["files", 0], "x"), "files[0]"),
        (_with(["files", 0, "filename"], KeyError), "files[0].filename"),
        (_with(["files", 1, "url"], 3), "files[1].url"),
        (_with(["files", 1, "hashes"], KeyError), "files[1].hashes"),
        (_with(["files", 1, "hashes"], {"sha256": 1}), "files[1].hashes.sha256"),
        (_with(["files", 0, "yanked"], 1), "files[0].yanked"),
        (_with(["files", 0, "requires-python"], 3), "files[0].requires-python"),
        (_with(["files", 1, "dist-info-metadata"], "yes"), "files[1].dist-info-metadata"),
        (_with(["files", 0, "size"], "big"), "files[0].size"),
        (_with(["files", 0, "upload-time"], 0), "files[0].upload-time"),
        (_with(["versions"], [1]), "versions"),
    ],
)
def test_malformed_json_names_the_field(body: bytes, field: str | None) -> None:
    with pytest.raises(ps.SimpleApiError) as info:
        ps.parse_project_json(body, JSON_URL)
    assert str(info.value).startswith(JSON_URL)
    if field is not None:
        assert f"(at {field})" in str(info.value)


def test_unexpected_content_type() -> None:
    with pytest.raises(ps.SimpleApiError, match="Content-Type"):
        ps.parse_project_page(b"{}", JSON_URL, "application/octet-stream")


CORE_METADATA = b"""\
Metadata-Version: 2.1
Name: holygrail
Version: 1.0
Summary: Example
License: MIT
Requires-Python: >=3.7
Requires-Dist: requests[security,socks] (>=2.8.1,<3) ; python_version < "3.12"
Requires-Dist: attrs>=19
Requires-Dist: pytest ; extra == "test"
Provides-Extra: test

Long description.
"""


def test_parse_core_metadata() -> None:
    meta = ps.parse_core_metadata(CORE_METADATA)
    assert meta.requires_python == ">=3.7"
    assert meta.license == "MIT"
    requests, attrs, pytest_dep = meta.dependencies
    assert requests.name == "requests"
    assert requests.extras == ("security", "socks")
    assert requests.markers == 'python_version < "3.12"'
    assert set(requests.constraint.split(",")) == {">=2.8.1", "<3"}
    assert not requests.optional
    assert attrs.constraint == ">=19"
    assert attrs.markers is None
    assert pytest_dep.optional
    assert pytest_dep.markers == 'extra == "test"'


def test_core_metadata_license_expression_and_empty() -> None:
    meta = ps.parse_core_metadata(
        b"Metadata-Version: 2.4\nName: x\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\n"
    )
    assert meta == ps.CoreMetadata((), None, "MIT OR Apache-2.0")


def test_malformed_core_metadata_names_the_field() -> None:
    with pytest.raises(ps.CoreMetadataError) as info:
        ps.parse_core_metadata(
            b"Metadata-Version: 2.1\nName: x\nVersion: 1\nRequires-Dist: a b c\n"
        )
    assert info.value.field == "requires-dist"
    assert "requires-dist" in str(info.value)


# --- the fast paths give the same answers as the reference functions ---------------------------

_BASES = ("https://pypi.org/simple/pkg/", "http://idx.test/a/b/simple/pkg/", "file:///srv/pkg/")
_HREFS = (
    "https://files.example/packages/ab/cd/pkg-1.0-py3-none-any.whl#sha256=00ff",
    "https://files.example/packages/pkg-1.0.tar.gz",
    "http://files.example/pkg-1.0.tar.gz",
    "https://files.example/a/../pkg-1.0.tar.gz",
    "https://files.example/a/./pkg-1.0.tar.gz",
    "https://files.example/pkg-1.0.tar.gz#",
    "https://files.example/pkg-1.0.tar.gz?",
    "https://files.example/pkg-1.0.tar.gz?x=1#sha256=00",
    "https://files.example/pkg;v=1.0.tar.gz",
    "https://files.example/pkg-1.0.tar.gz;",
    "https://[::1]/pkg-1.0.tar.gz",
    "https:///pkg-1.0.tar.gz",
    "https://",
    "https:pkg-1.0.tar.gz",
    "HTTPS://files.example/pkg-1.0.tar.gz",
    "https://files.example/pk\tg-1.0.tar.gz",
    "https://files.example/pkg 1.0.tar.gz",
    "https://user:pw@files.example:8443/pkg-1.0.tar.gz",
    "https://files.example",
    "https://files.example/ünï/pkg-1.0.tar.gz",
    "../../files/pkg-1.0.tar.gz",
    "/files/pkg-1.0.tar.gz",
    "pkg-1.0.tar.gz#md5=00",
    "//cdn.example/pkg-1.0.tar.gz",
    "ftp://files.example/pkg-1.0.tar.gz",
)


@pytest.mark.parametrize("base", _BASES)
@pytest.mark.parametrize("href", _HREFS)
def test_join_is_urljoin(base: str, href: str) -> None:
    from urllib.parse import urljoin

    assert ps._join(base, href) == urljoin(base, href)


_FILENAMES = (
    "foo-1.0-py3-none-any.whl",
    "Foo_Bar-1.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "foo-1.0-1-py3-none-any.whl",
    "foo-1.0-1x-py3-none-any.whl",
    "foo-1.0-x1-py3-none-any.whl",
    "foo-1.0.post1-py2.py3-none-any.whl",
    "foo-01.00rc1-py3-none-any.whl",
    "foo-latest-py3-none-any.whl",
    "foo-1.0-py3-none.whl",
    "foo-1.0-py3-none-any-x-y.whl",
    "foo__bar-1.0-py3-none-any.whl",
    "foo.bar-1.0-py3-none-any.whl",
    "fo o-1.0-py3-none-any.whl",
    "-1.0-py3-none-any.whl",
    "foo-1.0-3py-none-any.whl",
    "foo-1.0--none-any.whl",
    "foo-1.0-py3..py2-none-any.whl",
    "foo-1.0-py3-none-.whl",
    "foo-1.0-py3-none-any.WHL",
    "foo-1.0.tar.gz",
    "foo-bar-1.0.zip",
    "foo-.tar.gz",
    "-1.0.tar.gz",
    "foo.tar.gz",
    "foo-1.0.tar.bz2",
    "foo-1.0.win32.exe",
    "",
)


@pytest.mark.parametrize("filename", _FILENAMES)
def test_filename_version_agrees_with_packaging(filename: str) -> None:
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import InvalidVersion

    expected = None
    try:
        if filename.endswith(".whl"):
            expected = parse_wheel_filename(filename)[1]
        elif filename.endswith((".tar.gz", ".zip")):
            expected = parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        expected = None
    for _ in range(2):  # memoised the second time
        assert ps.filename_version(filename) == expected


_ENTRY: dict[str, Any] = {
    "filename": "foo-1.0-py3-none-any.whl",
    "url": "https://files.example/foo-1.0-py3-none-any.whl",
    "hashes": {"sha256": "00ff"},
    "requires-python": ">=3.8",
    "size": 10,
    "upload-time": "2024-01-01T00:00:00Z",
    "core-metadata": {"sha256": "11ee"},
    "yanked": False,
}


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"url": "../../files/foo-1.0-py3-none-any.whl"},
        {"url": "https://files.example/foo-1.0-py3-none-any.whl#sha256=00ff"},
        {"yanked": True},
        {"yanked": "broken"},
        {"yanked": 1},
        {"core-metadata": True},
        {"core-metadata": False},
        {"core-metadata": {}},
        {"core-metadata": {"sha256": 1}},
        {"core-metadata": None, "dist-info-metadata": {"sha256": "22"}},
        {"dist-info-metadata": True},
        {"hashes": {}},
        {"hashes": {"sha256": None}},
        {"hashes": []},
        {"hashes": None},
        {"requires-python": None},
        {"requires-python": 3},
        {"size": None},
        {"size": True},
        {"size": -1},
        {"size": 1.5},
        {"upload-time": None},
        {"upload-time": 5},
        {"gpg-sig": True},
        {"gpg-sig": "yes"},
        {"filename": ""},
        {"filename": None},
        {"url": ""},
        {"url": 7},
    ],
)
def test_fast_file_entry_is_the_checked_one(change: dict[str, Any]) -> None:
    entry = {**_ENTRY, **change}
    entry = {k: v for k, v in entry.items() if v is not None or k == "core-metadata"}
    url = "https://pypi.org/simple/foo/"
    try:
        expected = ps._file_from_json(url, dict(entry), "files[0]")
    except ps.SimpleApiError:
        assert ps._file_fast(url, dict(entry)) is None
        return
    fast = ps._file_fast(url, dict(entry))
    assert fast is None or fast == expected
    if change in ({}, {"yanked": True}, {"core-metadata": True}, {"hashes": {}}):
        assert fast is not None  # the usual shapes take the fast path


def test_wrong_entries_still_name_the_field() -> None:
    data = {
        "meta": {"api-version": "1.0"},
        "name": "foo",
        "files": [_ENTRY, {**_ENTRY, "size": -1}],
    }
    with pytest.raises(ps.SimpleApiError) as info:
        ps.parse_project_json(_json(data), "https://pypi.org/simple/foo/")
    assert "files[1].size" in str(info.value)
