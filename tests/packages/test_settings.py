"""The settings model: secrets stay hidden, credentials match by URL prefix, loaders dispatch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuskops.errors import PackageError
from tuskops.packages import settings
from tuskops.packages.settings import (
    Credential,
    Registry,
    RegistrySettings,
    Secret,
    normalize_prefix,
    split_userinfo,
)

TOKEN = "tok-123"


def test_secret_never_shows_its_value() -> None:
    secret = Secret(TOKEN)
    assert TOKEN not in repr(secret) + str(secret) + f"{secret}"
    assert secret.reveal() == TOKEN
    assert secret == Secret(TOKEN)
    assert not Secret("")


@pytest.mark.parametrize(
    ("url", "prefix"),
    [
        ("https://Registry.Example.com/npm", "https://registry.example.com/npm/"),
        ("https://registry.example.com:443/", "https://registry.example.com/"),
        ("http://host:8080/a/", "http://host:8080/a/"),
        ("//host/path/", "//host/path/"),
        ("host/path", "//host/path/"),
        ("https://user:pw@host/x/", "https://host/x/"),
    ],
)
def test_normalize_prefix(url: str, prefix: str) -> None:
    assert normalize_prefix(url) == prefix


def test_split_userinfo() -> None:
    url, user, secret = split_userinfo("https://me:p%40ss@host/simple/")
    assert (url, user) == ("https://host/simple/", "me")
    assert secret is not None
    assert secret.reveal() == "p@ss"
    assert split_userinfo("https://host/") == ("https://host/", None, None)


def cred(prefix: str, value: str, kind: str = "bearer", header: str | None = None) -> Credential:
    return Credential(prefix, kind, Secret(value), header=header)  # type: ignore[arg-type]


def test_longest_prefix_wins_and_schemeless_prefixes_match_both_schemes() -> None:
    s = RegistrySettings(
        "npm",
        (Registry("default", "https://r.example/"),),
        (cred("//r.example/", "host"), cred("//r.example/team-a/", "team")),
    )
    assert s.auth_headers("https://r.example/left-pad") == {"Authorization": "Bearer host"}
    assert s.auth_headers("http://r.example/team-a/x/-/x-1.tgz") == {"Authorization": "Bearer team"}
    assert s.auth_headers("https://other.example/") is None
    # A prefix with a scheme does not match the other scheme.
    https_only = RegistrySettings("pypi", (), (cred("https://r.example/", "x"),))
    assert https_only.auth_headers("http://r.example/simple/") is None


def test_every_header_at_the_longest_prefix_is_sent() -> None:
    s = RegistrySettings(
        "maven",
        (),
        (
            Credential("https://m.example/repo/", "basic", Secret("pw"), username="me"),
            cred("https://m.example/repo/", "h", kind="header", header="X-Token"),
            cred("https://m.example/", "shorter", kind="header", header="X-Other"),
        ),
    )
    headers = s.auth_headers("https://m.example/repo/a.pom")
    assert headers is not None
    assert set(headers) == {"Authorization", "X-Token"}
    assert headers["Authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    ("credential", "expected"),
    [
        (Credential("//h/", "bearer", Secret("t")), {"Authorization": "Bearer t"}),
        (Credential("//h/", "basic", Secret("p"), username="u"), {"Authorization": "Basic dTpw"}),
        (Credential("//h/", "basic-encoded", Secret("dTpw")), {"Authorization": "Basic dTpw"}),
        (Credential("//h/", "token", Secret("raw")), {"Authorization": "raw"}),
        (Credential("//h/", "header", Secret("k"), header="X-Key"), {"X-Key": "k"}),
    ],
)
def test_credential_kinds(credential: Credential, expected: dict[str, str]) -> None:
    assert credential.headers() == expected


def test_to_json_redacts_secrets_everywhere() -> None:
    s = RegistrySettings(
        "composer",
        (Registry("r", "https://r.example/"),),
        (Credential("//r.example/", "bearer", Secret(TOKEN), source="auth.json:3"),),
        extra={"nested": {"secret": Secret(TOKEN), "path": Path("/x")}},
    )
    text = json.dumps(s.to_json())
    assert TOKEN not in text
    assert "auth.json:3" in text
    assert s.to_json()["extra"] == {"nested": {"secret": "<redacted>", "path": "/x"}}


def test_no_registries_is_a_clear_error() -> None:
    s = RegistrySettings("pypi", (), warnings=("no-index is set",))
    with pytest.raises(PackageError, match="no pypi registry is left to ask: no-index is set"):
        _ = s.default


def test_routes_by_npm_scope() -> None:
    private = Registry("@acme", "https://npm.acme.example/")
    s = RegistrySettings(
        "npm", (Registry("default", "https://r.example/"),), routes={"@acme": private}
    )
    assert s.registries_for("@acme/widget") == (private,)
    assert s.registries_for("@ACME/widget") == (private,)
    assert s.registries_for("left-pad") == s.registries


@pytest.mark.parametrize("ecosystem", ["npm", "pip", "cargo", "maven", "nuget", "gem", "composer"])
def test_every_ecosystem_loads_its_defaults_from_an_empty_home(
    ecosystem: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    project = tmp_path / "project"
    home.mkdir()
    project.mkdir()
    env = {"PIP_CONFIG_FILE": "/dev/null"}
    loaded = settings.load(ecosystem, project_dir=project, env=env, home=home)
    assert loaded.registries, loaded.warnings
    assert loaded.credentials == ()
    eco = {"pip": "pypi", "gem": "rubygems"}.get(ecosystem, ecosystem)
    assert loaded.default.url.rstrip("/") == settings.DEFAULT_REGISTRIES[eco].rstrip("/")


def test_unknown_ecosystem() -> None:
    with pytest.raises(PackageError, match="unknown ecosystem 'conda'"):
        settings.load("conda")
