"""The lookup API against the local registry (tests/conftest.py): settings decide where to
look and with which credentials; several registries combine as each tool combines them."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from _support.registry import REGISTRY_TOKEN, LocalRegistry
from tuskops.errors import PackageError
from tuskops.packages import api
from tuskops.packages.clients import PackageNotFound, VersionNotFound
from tuskops.packages.http import OfflineCacheMiss, RegistryAuthError, RegistryUnreachable
from tuskops.packages.settings import (
    Credential,
    Registry,
    RegistrySettings,
    Secret,
    normalize_prefix,
)


def npm_settings(r: LocalRegistry, *, token: str | None = REGISTRY_TOKEN) -> RegistrySettings:
    private = Registry("@acme", f"{r.base}/private/npm/")
    creds = (
        (Credential("//" + r.base.split("//")[1] + "/private/npm/", "bearer", Secret(token)),)
        if token
        else ()
    )
    return RegistrySettings(
        "npm", (Registry("default", f"{r.base}/npm/"),), creds, routes={"@acme": private}
    )


def pypi_settings(r: LocalRegistry) -> RegistrySettings:
    return RegistrySettings(
        "pypi",
        (Registry("index-url", f"{r.base}/a/"), Registry("extra-index-url", f"{r.base}/b/")),
        lookup="union",
    )


def lookup(tmp_path: Path, **settings: RegistrySettings) -> dict[str, Any]:
    return {"settings": settings, "cache_dir": tmp_path / "cache", "project_dir": tmp_path}


def test_npm_versions_in_semver_order_with_marks(
    local_registry: LocalRegistry, tmp_path: Path
) -> None:
    listing = api.versions("npm", "left-pad", **lookup(tmp_path, npm=npm_settings(local_registry)))
    assert [v.version for v in listing.versions] == ["1.0.0", "1.1.0", "2.0.0-beta.1"]
    assert listing.latest == "1.1.0"  # the dist-tag
    marks = {v.version: (v.prerelease, v.deprecated) for v in listing.versions}
    assert marks["2.0.0-beta.1"] == (True, None)
    assert marks["1.1.0"] == (False, "use String.prototype.padStart()")
    assert listing.registries == (f"default {local_registry.base}/npm/",)


def test_scoped_package_goes_to_its_registry_with_its_token(
    local_registry: LocalRegistry, tmp_path: Path
) -> None:
    listing = api.versions(
        "npm", "@acme/widget", **lookup(tmp_path, npm=npm_settings(local_registry))
    )
    assert listing.names() == ["0.1.0", "0.2.0"]
    path, headers = local_registry.log[-1]
    assert path == "/private/npm/@acme%2fwidget"
    assert headers["authorization"] == f"Bearer {REGISTRY_TOKEN}"
    # The public registry never sees the token.
    api.versions("npm", "left-pad", **lookup(tmp_path, npm=npm_settings(local_registry)))
    assert "authorization" not in local_registry.log[-1][1]


def test_scoped_package_without_a_token(local_registry: LocalRegistry, tmp_path: Path) -> None:
    with pytest.raises(RegistryAuthError) as info:
        api.versions(
            "npm", "@acme/widget", **lookup(tmp_path, npm=npm_settings(local_registry, token=None))
        )
    assert info.value.status == 401


def test_pip_merges_every_index(local_registry: LocalRegistry, tmp_path: Path) -> None:
    listing = api.versions("pip", "demo", **lookup(tmp_path, pypi=pypi_settings(local_registry)))
    assert [v.version for v in listing.versions] == ["1.0.0", "1.1.0", "1.2.0", "2.0.0b1"]
    by_version = {v.version: v for v in listing.versions}
    assert by_version["1.2.0"].registry == "extra-index-url"
    assert by_version["1.1.0"].yanked == "broken build"
    assert listing.latest == "1.2.0"  # not the pre-release, not the yanked one
    assert listing.names(include_prereleases=False) == ["1.0.0", "1.2.0"]
    assert len(listing.registries) == 2


def test_info_from_a_pep658_metadata_file(local_registry: LocalRegistry, tmp_path: Path) -> None:
    details = api.info(
        "pypi", "demo", "1.0.0", **lookup(tmp_path, pypi=pypi_settings(local_registry))
    )
    assert details.license == "MIT"
    assert details.dependencies is not None
    assert [(d.name, d.constraint, d.markers) for d in details.dependencies] == [
        ("idna", ">=2", None),
        ("colorama", "", 'sys_platform == "win32"'),
    ]
    assert details.extra["requires_python"] == ">=3.8"
    assert details.extra["metadata_source"] == "PEP 658 metadata file (hash verified)"


def test_info_reads_the_wheel_when_there_is_no_metadata_file(
    local_registry: LocalRegistry, tmp_path: Path
) -> None:
    details = api.info("pypi", "demo", **lookup(tmp_path, pypi=pypi_settings(local_registry)))
    assert details.version == details.latest == "1.2.0"
    assert details.registry == f"{local_registry.base}/b/"
    assert details.dependencies is not None
    assert [d.name for d in details.dependencies] == ["idna", "colorama"]
    assert details.extra["metadata_verified"] is False
    assert "range requests" in details.extra["metadata_source"]
    assert any(h.get("range") for _, h in local_registry.log)


def test_equal_versions_are_found(local_registry: LocalRegistry, tmp_path: Path) -> None:
    details = api.info(
        "pypi", "demo", "1.0", **lookup(tmp_path, pypi=pypi_settings(local_registry))
    )
    assert details.version == "1.0.0"


def test_missing_version_and_package(local_registry: LocalRegistry, tmp_path: Path) -> None:
    opts = lookup(tmp_path, pypi=pypi_settings(local_registry))
    with pytest.raises(VersionNotFound, match=r"no version 9\.9 of demo"):
        api.info("pypi", "demo", "9.9", **opts)
    with pytest.raises(PackageNotFound) as info:
        api.versions("pypi", "nothing-here", **opts)
    assert f"{local_registry.base}/a/" in str(info.value)
    assert f"{local_registry.base}/b/" in str(info.value)


def test_first_lookup_falls_through_to_the_next_registry(
    local_registry: LocalRegistry, tmp_path: Path
) -> None:
    settings = RegistrySettings(
        "npm",
        (
            Registry("empty", f"{local_registry.base}/nothing/"),
            Registry("real", f"{local_registry.base}/npm/"),
        ),
    )
    listing = api.versions("npm", "left-pad", **lookup(tmp_path, npm=settings))
    assert listing.registries == (f"real {local_registry.base}/npm/",)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_index_is_an_error_not_a_shorter_list(
    local_registry: LocalRegistry, tmp_path: Path
) -> None:
    settings = RegistrySettings(
        "pypi",
        (
            Registry("index-url", f"{local_registry.base}/a/"),
            Registry("down", f"http://127.0.0.1:{closed_port()}/simple/"),
        ),
        lookup="union",
    )
    opts = lookup(tmp_path, pypi=settings)
    opts["client_options"] = {"max_attempts": 1}
    with pytest.raises(RegistryUnreachable):
        api.versions("pypi", "demo", **opts)


def test_offline_answers_from_the_cache_or_fails(
    local_registry: LocalRegistry, tmp_path: Path
) -> None:
    opts = lookup(tmp_path, npm=npm_settings(local_registry))
    with pytest.raises(OfflineCacheMiss):
        api.versions("npm", "left-pad", offline=True, **opts)
    api.versions("npm", "left-pad", **opts)
    before = local_registry.requests()
    listing = api.versions("npm", "left-pad", offline=True, **opts)
    assert listing.latest == "1.1.0"
    assert local_registry.requests() == before


def test_a_warm_cache_makes_no_requests(local_registry: LocalRegistry, tmp_path: Path) -> None:
    opts = lookup(tmp_path, pypi=pypi_settings(local_registry))
    api.info("pypi", "demo", "1.2.0", **opts)
    before = local_registry.requests()

    async def again() -> int:
        async with api.PackageLookup(**opts) as lookup_:
            await lookup_.info("pypi", "demo", "1.2.0")
            return lookup_.client("pypi").stats.requests

    assert asyncio.run(again()) == 0
    assert local_registry.requests() == before


def test_registry_override_keeps_credentials_out_of_the_url(
    local_registry: LocalRegistry, tmp_path: Path
) -> None:
    base = local_registry.base.replace("http://", f"http://me:{REGISTRY_TOKEN}@")
    lookup_ = api.PackageLookup(
        registry=f"{base}/npm/", settings={}, env={}, home=tmp_path, project_dir=tmp_path
    )
    settings = lookup_.settings("npm")
    assert settings.registries == (
        Registry("--registry", f"{local_registry.base}/npm/", "command line"),
    )
    headers: Mapping[str, str] | None = settings.auth_headers(f"{local_registry.base}/npm/x")
    assert headers is not None
    assert headers["Authorization"].startswith("Basic ")
    assert REGISTRY_TOKEN not in str(settings.to_json())


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("express", ("express", None)),
        ("express@4.18.2", ("express", "4.18.2")),
        ("@types/node", ("@types/node", None)),
        ("@types/node@20.1.0", ("@types/node", "20.1.0")),
        ("org.slf4j:slf4j-api@2.0.9", ("org.slf4j:slf4j-api", "2.0.9")),
    ],
)
def test_split_spec(spec: str, expected: tuple[str, str | None]) -> None:
    assert api.split_spec(spec) == expected


def test_bad_spec_and_unknown_ecosystem() -> None:
    with pytest.raises(PackageError):
        api.split_spec("express@")
    with pytest.raises(PackageError, match="unknown ecosystem 'conda'"):
        api.canonical_ecosystem("conda")


def test_cargo_auth_required_registry_gets_its_token_on_downloads(tmp_path: Path) -> None:
    # A registry whose config.json says auth-required and whose downloads live elsewhere.
    import hashlib
    import json

    from _support.registry import LocalRegistry

    r = LocalRegistry()
    try:
        crate = b"crate bytes"
        r.add("/private/index/config.json", {"dl": f"{r.base}/private/dl", "auth-required": True})
        line = {"name": "demo", "vers": "1.0.0", "deps": [], "features": {},
                "cksum": hashlib.sha256(crate).hexdigest(), "yanked": False}  # fmt: skip
        r.add("/private/index/de/mo/demo", json.dumps(line).encode() + b"\n", "text/plain")
        r.add("/private/dl/demo/1.0.0/download", crate, "application/octet-stream")
        index = f"{r.base}/private/index/"
        token = Credential(
            normalize_prefix(index), "bearer", Secret(REGISTRY_TOKEN), source="credentials.toml"
        )
        settings = RegistrySettings("cargo", (Registry("private", index),), (token,))
        done = api.PackageLookup(**lookup(tmp_path, cargo=settings))

        async def go() -> Any:
            async with done:
                return await done.download("cargo", "demo", "1.0.0", dest=tmp_path / "out")

        result = asyncio.run(go())
        assert result.verified == ("sha256",)
        assert (tmp_path / "out" / "demo-1.0.0.crate").read_bytes() == crate
        assert r.log[-1][0] == "/private/dl/demo/1.0.0/download"
        assert r.log[-1][1]["authorization"] == f"Bearer {REGISTRY_TOKEN}"
    finally:
        r.httpd.shutdown()
        r.httpd.server_close()


def test_the_settings_certificate_authority_reaches_the_client(tmp_path: Path) -> None:
    npm = RegistrySettings(
        "npm", (Registry("default", "https://npm.internal/"),), extra={"ca_file": "/etc/ca.pem"}
    )
    pip = RegistrySettings(
        "pypi", (Registry("index-url", "https://pypi.internal/simple/"),), extra={"cert": "/c.pem"}
    )
    lookup_ = api.PackageLookup(**lookup(tmp_path, npm=npm, pypi=pip))
    assert lookup_.client("npm").ca_file == "/etc/ca.pem"
    assert lookup_.client("pip").ca_file == "/c.pem"
