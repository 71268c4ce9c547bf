"""The NuGet v3 server API, on fixtures written after the sample responses of Microsoft's
"NuGet Server API" docs (service index, package metadata, package content) and the ".nuspec
reference"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tuskops.errors import PackageError, VersionSyntaxError
from tuskops.packages.manifests import Dependency
from tuskops.packages.protocols import nuget_v3 as nv
from tuskops.packages.protocols._request import Request
from tuskops.packages.registry import Artifact

SERVICE_INDEX = {
    "version": "3.0.0",
    "resources": [
        {
            "@id": "https://api.nuget.org/v3-flatcontainer/",
            "@type": "PackageBaseAddress/3.0.0",
            "comment": "Base URL of where NuGet packages are stored, in the format "
            "https://api.nuget.org/v3-flatcontainer/{id-lower}/{version-lower}/"
            "{id-lower}.{version-lower}.nupkg",
        },
        {
            "@id": "https://azuresearch-usnc.nuget.org/query",
            "@type": "SearchQueryService",
            "comment": "Query endpoint of NuGet Search service (primary)",
        },
        {
            "@id": "https://azuresearch-usnc.nuget.org/query",
            "@type": "SearchQueryService/3.5.0",
            "comment": "Query endpoint of NuGet Search service (primary)",
        },
        {
            "@id": "https://api.nuget.org/v3/registration5-semver1/",
            "@type": "RegistrationsBaseUrl",
            "comment": "Base URL of Azure storage where NuGet package registration info is stored",
        },
        {
            "@id": "https://api.nuget.org/v3/registration5-gz-semver2/",
            "@type": "RegistrationsBaseUrl/3.6.0",
            "comment": "Base URL of Azure storage where NuGet package registration info is "
            "stored in GZIP format. This base URL includes SemVer 2.0.0 packages.",
        },
        {
            "@id": "https://api.nuget.org/v3/registration5-gz-semver1/",
            "@type": "RegistrationsBaseUrl/3.4.0",
        },
    ],
    "@context": {"@vocab": "http://schema.nuget.org/services#"},
}

REG = "https://api.nuget.org/v3/registration3/nuget.server.core/index.json"
CATALOG = (
    "https://api.nuget.org/v3/catalog0/data/2017.10.05.18.41.33/nuget.server.core.3.0.0-beta.json"
)
NUPKG = (
    "https://api.nuget.org/v3-flatcontainer/nuget.server.core/3.0.0-beta/"
    "nuget.server.core.3.0.0-beta.nupkg"
)

# The docs' "Registration index" sample (one page, leaves inlined).
INLINED_INDEX = {
    "@id": REG,
    "count": 1,
    "items": [
        {
            "@id": REG + "#page/3.0.0-beta/3.0.0-beta",
            "count": 1,
            "items": [
                {
                    "@id": "https://api.nuget.org/v3/registration3/nuget.server.core/3.0.0-beta.json",
                    "catalogEntry": {
                        "@id": CATALOG,
                        "authors": ".NET Foundation",
                        "dependencyGroups": [
                            {
                                "@id": CATALOG + "#dependencygroup",
                                "dependencies": [
                                    {
                                        "@id": CATALOG + "#dependencygroup/nuget.core",
                                        "id": "NuGet.Core",
                                        "range": "[2.14.0, )",
                                        "registration": "https://api.nuget.org/v3/registration3/"
                                        "nuget.core/index.json",
                                    }
                                ],
                            }
                        ],
                        "description": "Core library for creating a Web Application used to "
                        "host a simple NuGet feed",
                        "iconUrl": "",
                        "id": "NuGet.Server.Core",
                        "language": "en-US",
                        "licenseUrl": "https://raw.githubusercontent.com/NuGet/NuGet.Server/dev/"
                        "LICENSE.txt",
                        "listed": True,
                        "minClientVersion": "2.6",
                        "packageContent": NUPKG,
                        "projectUrl": "https://github.com/NuGet/NuGet.Server",
                        "published": "2017-10-05T18:40:32.43+00:00",
                        "requireLicenseAcceptance": False,
                        "summary": "",
                        "tags": [""],
                        "title": "NuGet.Server.Core",
                        "version": "3.0.0-beta",
                    },
                    "packageContent": NUPKG,
                    "registration": REG,
                }
            ],
            "parent": REG,
            "lower": "3.0.0-beta",
            "upper": "3.0.0-beta",
        }
    ],
}

JSON_REG = "https://api.nuget.org/v3/registration5-semver1/newtonsoft.json/"
PAGE_1 = JSON_REG + "page/3.5.8/8.0.3.json"


def _leaf(version: str, **entry: Any) -> dict[str, Any]:
    content = f"https://api.nuget.org/v3-flatcontainer/newtonsoft.json/{version}/newtonsoft.json.{version}.nupkg"
    return {
        "@id": f"{JSON_REG}{version}.json",
        "catalogEntry": {
            "@id": f"https://api.nuget.org/v3/catalog0/data/x/newtonsoft.json.{version}.json",
            "id": "Newtonsoft.Json",
            "version": version,
            **entry,
        },
        "packageContent": content,
        "registration": JSON_REG + "index.json",
    }


# A paged index (first page not inlined, second inlined), as for packages with many versions.
PAGED_INDEX = {
    "@id": JSON_REG + "index.json",
    "count": 2,
    "items": [
        {"@id": PAGE_1, "count": 2, "lower": "3.5.8", "upper": "8.0.3"},
        {
            "@id": JSON_REG + "index.json#page/9.0.1/13.0.3",
            "count": 2,
            "lower": "9.0.1",
            "upper": "13.0.3",
            "items": [
                _leaf(
                    "9.0.1",
                    listed=False,
                    published="1900-01-01T00:00:00+00:00",
                    deprecation={
                        "reasons": ["Legacy", "CriticalBugs"],
                        "message": "Use 13.0.3",
                        "alternatePackage": {"id": "Newtonsoft.Json", "range": "[13.0.3, )"},
                    },
                    vulnerabilities=[
                        {
                            "advisoryUrl": "https://github.com/advisories/GHSA-5crp-9r3c-p9vr",
                            "severity": "2",
                        }
                    ],
                ),
                _leaf(
                    "13.0.3",
                    licenseExpression="MIT",
                    published="2023-03-08T07:42:54.647+00:00",
                    dependencyGroups=[
                        {"targetFramework": ".NETFramework2.0"},
                        {
                            "targetFramework": ".NETStandard1.0",
                            "dependencies": [
                                {"id": "Microsoft.CSharp", "range": "[4.3.0, )"},
                                {"id": "NETStandard.Library", "range": "[1.6.1, )"},
                            ],
                        },
                        {"targetFramework": "net6.0", "dependencies": []},
                    ],
                ),
            ],
        },
    ],
}

PAGE_1_DOC = {
    "@id": PAGE_1,
    "count": 2,
    "items": [_leaf("3.5.8"), _leaf("8.0.3", deprecation={"reasons": ["Other"]})],
    "parent": JSON_REG + "index.json",
    "lower": "3.5.8",
    "upper": "8.0.3",
}


def _b(doc: Any) -> bytes:
    return json.dumps(doc).encode()


# --- service index ----------------------------------------------------------------------------


def test_service_index_and_resource_preference() -> None:
    index = nv.parse_service_index(_b(SERVICE_INDEX), nv.SERVICE_INDEX_URL)
    assert index.version == "3.0.0"
    assert len(index.resources) == 6
    first = index.resources[0]
    assert (first.id, first.type) == (
        "https://api.nuget.org/v3-flatcontainer/",
        "PackageBaseAddress/3.0.0",
    )
    assert first.comment is not None
    assert first.comment.startswith("Base URL of where NuGet packages are stored")
    assert index.resources[5].comment is None
    assert (
        nv.find_resource(index, nv.REGISTRATIONS)
        == "https://api.nuget.org/v3/registration5-gz-semver2/"
    )
    assert nv.find_resource(index, nv.SEARCH_QUERY) == "https://azuresearch-usnc.nuget.org/query"
    assert (
        nv.find_resource(index, nv.PACKAGE_BASE_ADDRESS)
        == "https://api.nuget.org/v3-flatcontainer/"
    )
    assert nv.find_resource(index, ("RegistrationsBaseUrl",)) == (
        "https://api.nuget.org/v3/registration5-semver1/"
    )
    assert nv.find_resource(index, ("Catalog/3.0.0",)) is None


@pytest.mark.parametrize(
    ("doc", "message", "location"),
    [
        (b'{\n  "version": "3.0.0",\n  oops}', "not JSON", "3:3"),
        (b"[]", "expected a JSON object", "$"),
        (b"\xff", "not UTF-8 JSON", None),
        ({"resources": []}, "missing", "version"),
        ({"version": "2.0.0", "resources": []}, "unsupported service index version", "version"),
        ({"version": "3.0.0"}, "missing", "resources"),
        ({"version": "3.0.0", "resources": {}}, "expected an array", "resources"),
        ({"version": "3.0.0", "resources": [{"@id": "u"}]}, "missing", "resources[0].@type"),
        (
            {"version": "3.0.0", "resources": [{"@id": "u", "@type": ["A", "B"]}]},
            "expected a non-empty string, got an array",
            "resources[0].@type",
        ),
        ({"version": "3.0.0", "resources": [3]}, "expected an object", "resources[0]"),
    ],
)
def test_malformed_service_index(doc: Any, message: str, location: str | None) -> None:
    data = doc if isinstance(doc, bytes) else _b(doc)
    with pytest.raises(nv.NugetApiError, match=message) as info:
        nv.parse_service_index(data, nv.SERVICE_INDEX_URL)
    assert info.value.url == nv.SERVICE_INDEX_URL
    assert isinstance(info.value, PackageError)
    if location is not None:
        assert info.value.location == location


# --- URLs -------------------------------------------------------------------------------------


def test_registration_and_flat_container_urls() -> None:
    base = "https://api.nuget.org/v3-flatcontainer/"
    assert (
        nv.registration_index_url(
            "https://api.nuget.org/v3/registration5-gz-semver2/", "Newtonsoft.Json"
        )
        == "https://api.nuget.org/v3/registration5-gz-semver2/newtonsoft.json/index.json"
    )
    assert nv.registration_leaf_url(
        "https://api.nuget.org/v3/registration5-semver1", "Newtonsoft.Json", "13.0.03"
    ) == (JSON_REG + "13.0.3.json")
    assert nv.flat_container_index_url(base, "Newtonsoft.Json") == (
        base + "newtonsoft.json/index.json"
    )
    assert nv.nupkg_url(base, "NuGet.Server.Core", "3.0.0-Beta") == NUPKG
    assert nv.nuspec_url(base, "NuGet.Server.Core", "3.0.0-Beta") == (
        base + "nuget.server.core/3.0.0-beta/nuget.server.core.nuspec"
    )
    # Normalised: leading zeros and a zero fourth part dropped, metadata removed.
    assert nv.lower_version("1.01.0.0-RC.1+sha.abc") == "1.1.0-rc.1"
    assert nv.nupkg_url(base, "A", "1.0.0.1") == base + "a/1.0.0.1/a.1.0.0.1.nupkg"


def test_requests() -> None:
    json_accept = {"Accept": "application/json"}
    assert nv.service_index_request() == Request(nv.SERVICE_INDEX_URL, json_accept)
    assert nv.registration_index_request(JSON_REG.removesuffix("newtonsoft.json/"), "X") == (
        Request("https://api.nuget.org/v3/registration5-semver1/x/index.json", json_accept)
    )
    assert nv.registration_page_request(PAGE_1) == Request(PAGE_1, json_accept)
    base = "https://api.nuget.org/v3-flatcontainer/"
    assert nv.flat_container_index_request(base, "A") == Request(base + "a/index.json", json_accept)
    assert nv.nuspec_request(base, "A", "1.0") == Request(base + "a/1.0.0/a.nuspec")


def test_bad_ids_and_versions_in_urls() -> None:
    with pytest.raises(nv.NugetApiError, match="invalid package id"):
        nv.nupkg_url("https://x/", "../evil", "1.0")
    with pytest.raises(VersionSyntaxError):
        nv.nupkg_url("https://x/", "A", "not a version")


def test_search_url() -> None:
    assert nv.search_url(
        "https://azuresearch-usnc.nuget.org/query", "json net", take=5, prerelease=True
    ) == (
        "https://azuresearch-usnc.nuget.org/query?q=json+net&skip=0&take=5&prerelease=true"
        "&semVerLevel=2.0.0"
    )


# --- flat container ---------------------------------------------------------------------------


def test_flat_container_index() -> None:
    data = _b({"versions": ["3.5.8", "13.0.1", "13.0.4-beta1"]})
    assert nv.parse_flat_container_index(data, "u") == ("3.5.8", "13.0.1", "13.0.4-beta1")
    assert nv.parse_flat_container_index(_b({"versions": []}), "u") == ()


@pytest.mark.parametrize(
    ("doc", "location"),
    [
        ({}, "versions"),
        ({"versions": "1.0"}, "versions"),
        ({"versions": ["1.0", 2]}, "versions[1]"),
    ],
)
def test_malformed_flat_container_index(doc: Any, location: str) -> None:
    with pytest.raises(nv.NugetApiError) as info:
        nv.parse_flat_container_index(_b(doc), "https://x/a/index.json")
    assert info.value.location == location


# --- registrations ----------------------------------------------------------------------------


def test_inlined_registration_index() -> None:
    index = nv.parse_registration_index(_b(INLINED_INDEX), REG)
    assert index.pending_pages == []
    assert index.package_id == "NuGet.Server.Core"
    (page,) = index.pages
    assert (page.lower, page.upper, page.count) == ("3.0.0-beta", "3.0.0-beta", 1)
    info = nv.package_info("nuget.server.core", index)
    assert info.ecosystem == "nuget"
    assert info.name == "NuGet.Server.Core"
    (release,) = info.releases
    assert release.version == "3.0.0-beta"
    assert release.yanked is None
    assert release.deprecated is None
    assert release.dependencies == (Dependency("NuGet.Core", "[2.14.0, )", markers=None),)
    assert release.artifacts == (
        Artifact(url=NUPKG, filename="nuget.server.core.3.0.0-beta.nupkg"),
    )
    assert release.license is None
    assert release.published == "2017-10-05T18:40:32.43+00:00"
    assert release.extra == {
        "id": "NuGet.Server.Core",
        "target_frameworks": [None],
        "catalog_url": CATALOG,
        "licenseUrl": "https://raw.githubusercontent.com/NuGet/NuGet.Server/dev/LICENSE.txt",
    }


def test_paged_registration_index() -> None:
    index = nv.parse_registration_index(_b(PAGED_INDEX), JSON_REG + "index.json")
    assert index.pending_pages == [PAGE_1]
    page_releases = nv.parse_registration_page(_b(PAGE_1_DOC), PAGE_1)
    assert [r.version for r in page_releases] == ["3.5.8", "8.0.3"]
    assert page_releases[1].deprecated == "Other"
    info = nv.package_info("newtonsoft.json", index, {PAGE_1: page_releases})
    assert info.name == "Newtonsoft.Json"
    assert info.versions() == ["3.5.8", "8.0.3", "9.0.1", "13.0.3"]

    old = info.release("9.0.1")
    assert old is not None
    assert old.yanked == "unlisted"
    assert old.deprecated == "Use 13.0.3"
    assert old.dependencies == ()
    assert old.extra["deprecation"] == {
        "reasons": ["Legacy", "CriticalBugs"],
        "message": "Use 13.0.3",
        "alternatePackage": {"id": "Newtonsoft.Json", "range": "[13.0.3, )"},
    }
    assert old.extra["vulnerabilities"] == [
        {"advisoryUrl": "https://github.com/advisories/GHSA-5crp-9r3c-p9vr", "severity": "2"}
    ]

    new = info.release("13.0.3")
    assert new is not None
    assert new.yanked is None
    assert new.license == "MIT"
    assert new.dependencies == (
        Dependency("Microsoft.CSharp", "[4.3.0, )", markers=".NETStandard1.0"),
        Dependency("NETStandard.Library", "[1.6.1, )", markers=".NETStandard1.0"),
    )
    assert new.extra["target_frameworks"] == [".NETFramework2.0", ".NETStandard1.0", "net6.0"]
    assert new.artifacts[0].filename == "newtonsoft.json.13.0.3.nupkg"


def test_unfetched_pages_are_an_error_not_fewer_releases() -> None:
    index = nv.parse_registration_index(_b(PAGED_INDEX), JSON_REG + "index.json")
    with pytest.raises(nv.NugetApiError, match="was not fetched") as info:
        nv.package_info("newtonsoft.json", index)
    assert info.value.location == "items[0]"


def test_empty_registration_index_uses_the_given_id() -> None:
    index = nv.parse_registration_index(_b({"count": 0, "items": []}), "u")
    assert index.package_id is None
    info = nv.package_info("Some.Package", index)
    assert (info.name, info.releases) == ("Some.Package", ())


def _with_entry(**changes: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(INLINED_INDEX))
    entry = doc["items"][0]["items"][0]["catalogEntry"]
    for key, value in changes.items():
        if value is None:
            del entry[key]
        else:
            entry[key] = value
    return doc


E = "items[0].items[0].catalogEntry"


@pytest.mark.parametrize(
    ("doc", "message", "location"),
    [
        ({"count": 0}, "missing", "items"),
        (
            {"items": [{"@id": "p", "lower": "1", "upper": "2"}]},
            "expected a count",
            "items[0].count",
        ),
        ({"items": [{"count": 1, "lower": "1", "upper": "2"}]}, "missing", "items[0].@id"),
        ({"items": [{"@id": "p", "count": 1, "upper": "2"}]}, "missing", "items[0].lower"),
        (
            {"items": [{"@id": "p", "count": 1, "lower": "1", "upper": "2", "items": {}}]},
            "expected an array",
            "items[0].items",
        ),
        (
            {"items": [{"@id": "p", "count": 1, "lower": "1", "upper": "2", "items": [{}]}]},
            "missing",
            "items[0].items[0].catalogEntry",
        ),
        (_with_entry(version=None), "missing", f"{E}.version"),
        (_with_entry(id=""), "expected a non-empty string", f"{E}.id"),
        (_with_entry(listed="false"), "expected true or false", f"{E}.listed"),
        (_with_entry(dependencyGroups={}), "expected an array", f"{E}.dependencyGroups"),
        (
            _with_entry(dependencyGroups=[{"dependencies": [{"range": "1.0"}]}]),
            "missing",
            f"{E}.dependencyGroups[0].dependencies[0].id",
        ),
        (
            _with_entry(dependencyGroups=[{"targetFramework": 8}]),
            "expected a string, got a number",
            f"{E}.dependencyGroups[0].targetFramework",
        ),
        (_with_entry(deprecation={"message": "x"}), "missing", f"{E}.deprecation.reasons"),
        (
            _with_entry(deprecation={"reasons": [""]}),
            "expected a reason string",
            f"{E}.deprecation.reasons[0]",
        ),
        (
            _with_entry(deprecation={"reasons": ["Legacy"], "alternatePackage": {"range": "*"}}),
            "missing",
            f"{E}.deprecation.alternatePackage.id",
        ),
        (
            _with_entry(vulnerabilities=[{"advisoryUrl": "https://a", "severity": "High"}]),
            "severity must be 0-3",
            f"{E}.vulnerabilities[0].severity",
        ),
        (
            _with_entry(vulnerabilities=[{"severity": "1"}]),
            "missing",
            f"{E}.vulnerabilities[0].advisoryUrl",
        ),
        (_with_entry(published=20170101), "expected a string", f"{E}.published"),
    ],
)
def test_malformed_registration_index(doc: Any, message: str, location: str) -> None:
    with pytest.raises(nv.NugetApiError, match=message) as info:
        nv.parse_registration_index(_b(doc), REG)
    assert info.value.location == location
    assert str(info.value).startswith(REG + ": error: ")


def test_registration_page_must_have_items() -> None:
    with pytest.raises(nv.NugetApiError, match="missing") as info:
        nv.parse_registration_page(
            _b({"@id": PAGE_1, "count": 2, "lower": "3.5.8", "upper": "8.0.3"}), PAGE_1
        )
    assert info.value.location == "items"


def test_numeric_severity_and_alternate_package_without_range() -> None:
    doc = _with_entry(
        vulnerabilities=[{"advisoryUrl": "https://a", "severity": 3}],
        deprecation={"reasons": ["Legacy"], "alternatePackage": {"id": "New.Pkg"}},
    )
    (release,) = nv.package_info("x", nv.parse_registration_index(_b(doc), REG)).releases
    assert release.extra["vulnerabilities"] == [{"advisoryUrl": "https://a", "severity": "3"}]
    assert release.extra["deprecation"]["alternatePackage"] == {"id": "New.Pkg", "range": "*"}
    assert release.deprecated == "Legacy"


# --- nuspec -----------------------------------------------------------------------------------

NUSPEC = b"""\
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata minClientVersion="2.12">
    <id>Newtonsoft.Json</id>
    <version>13.0.3</version>
    <title>Json.NET</title>
    <authors>James Newton-King</authors>
    <license type="expression">MIT</license>
    <licenseUrl>https://licenses.nuget.org/MIT</licenseUrl>
    <dependencies>
      <group targetFramework=".NETFramework2.0" />
      <group targetFramework=".NETStandard1.0">
        <dependency id="Microsoft.CSharp" version="4.3.0" exclude="Build,Analyzers" />
        <dependency id="NETStandard.Library" version="1.6.1" exclude="Build,Analyzers" />
      </group>
    </dependencies>
  </metadata>
</package>
"""


def test_nuspec() -> None:
    release = nv.parse_nuspec(NUSPEC, "u")
    assert release.version == "13.0.3"
    assert release.license == "MIT"
    assert release.dependencies == (
        Dependency(
            "Microsoft.CSharp",
            "4.3.0",
            markers=".NETStandard1.0",
            extra={"exclude": "Build,Analyzers"},
        ),
        Dependency(
            "NETStandard.Library",
            "1.6.1",
            markers=".NETStandard1.0",
            extra={"exclude": "Build,Analyzers"},
        ),
    )
    assert release.extra == {
        "id": "Newtonsoft.Json",
        "target_frameworks": [".NETFramework2.0", ".NETStandard1.0"],
        "licenseUrl": "https://licenses.nuget.org/MIT",
    }


def test_legacy_nuspec_with_flat_dependencies_and_license_file() -> None:
    data = b"""<package><metadata><id>Old</id><version>1.0</version>
      <license type="file">LICENSE.txt</license>
      <dependencies><dependency id="A" version="[1.0,2.0)"/><dependency id="B"/></dependencies>
    </metadata></package>"""
    release = nv.parse_nuspec(data, "u")
    assert release.license is None
    assert release.dependencies == (Dependency("A", "[1.0,2.0)"), Dependency("B", ""))
    assert release.extra == {
        "id": "Old",
        "target_frameworks": [None],
        "license_file": "LICENSE.txt",
    }


def test_nuspec_without_dependencies() -> None:
    release = nv.parse_nuspec(
        b"<package><metadata><id>A</id><version>1.0</version></metadata></package>", "u"
    )
    assert release.dependencies == ()
    assert release.extra == {"id": "A", "target_frameworks": []}


@pytest.mark.parametrize(
    ("data", "message", "location"),
    [
        (b"<package><metadata>", "not well-formed XML", "1:20"),
        (b'<!DOCTYPE package [<!ENTITY e "x">]><package/>', "DOCTYPE", None),
        (b"<project/>", "root element is <project>", "1:1"),
        (b"<package/>", "missing <metadata>", "package > metadata"),
        (
            b"<package><metadata><version>1</version></metadata></package>",
            "missing or empty <id>",
            "package > metadata > id",
        ),
        (
            b"<package><metadata><id>A</id><version> </version></metadata></package>",
            "missing or empty <version>",
            "package > metadata > version",
        ),
        (
            b"<package><metadata><id>A</id><version>1</version>\n<dependencies>"
            b"<group><dependency version='1'/></group></dependencies></metadata></package>",
            "<dependency> without an id",
            "2:22",
        ),
        (
            b"<package><metadata><id>A</id><version>1</version><dependencies>"
            b"<group/><dependency id='x'/></dependencies></metadata></package>",
            "mixes <group> and <dependency>",
            None,
        ),
        (
            b"<package><metadata><id>A</id><version>1</version>"
            b"<license type='url'>x</license></metadata></package>",
            "type 'url' is not",
            None,
        ),
    ],
)
def test_malformed_nuspec(data: bytes, message: str, location: str | None) -> None:
    with pytest.raises(nv.NugetApiError, match=message) as info:
        nv.parse_nuspec(data, "https://x/a.nuspec")
    assert info.value.url == "https://x/a.nuspec"
    if location is not None:
        assert info.value.location == location


HASH = "HrC5BXdl00IP9zeV+0Z848QWPAoCr9P3bDEZguI+gkLcBKAOxix/" + (
    "tLEAAHC+UvDNPv4a2d18lOReHMOagPa+zQ=="
)


def test_catalog_leaf_hash() -> None:
    leaf = json.dumps(
        {
            "@id": "https://api.nuget.org/v3/catalog0/data/x.json",
            "id": "Newtonsoft.Json",
            "version": "13.0.3",
            "packageHash": HASH,
            "packageHashAlgorithm": "SHA512",
        }
    ).encode()
    assert nv.parse_catalog_hash(leaf, "https://x/leaf.json") == {"sha512": HASH}
    with pytest.raises(nv.NugetApiError, match="packageHash"):
        nv.parse_catalog_hash(b'{"packageHashAlgorithm": "SHA512"}', "https://x/leaf.json")
