from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from tuskops.packages.ecosystems.rubygems_settings import key_for, load
from tuskops.packages.settings import Registry, RegistrySettings, SettingsError

SECRET = "s00pers3krit-Token-42"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    return path


def _load(project: Path, home: Path, env: dict[str, str] | None = None) -> RegistrySettings:
    return load(project_dir=project, env=env or {}, home=home)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _write(path: Path, text: str, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mode is not None:
        path.chmod(mode)
    return path


def test_key_for_follows_bundler() -> None:
    assert key_for("gems.my-company.example") == "BUNDLE_GEMS__MY___COMPANY__EXAMPLE"
    assert (
        key_for("https://gems.example.com/private") == "BUNDLE_HTTPS://GEMS__EXAMPLE__COM/PRIVATE/"
    )
    assert key_for("mirror.https://rubygems.org") == "BUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/"


def test_default_is_rubygems_org(project: Path, home: Path) -> None:
    s = _load(project, home)
    assert [(r.url, r.source) for r in s.registries] == [("https://rubygems.org/", "default")]
    assert s.lookup == "first"
    assert s.credentials == ()


def test_gemfile_sources_last_global_first_and_blocks_routed(project: Path, home: Path) -> None:
    gemfile = _write(
        project / "Gemfile",
        'source "https://rubygems.org"\n'
        'source "https://gems.mirror.example/"\n'
        "\n"
        'source "https://gems.private.example" do\n'
        '  gem "secret_sauce"\n'
        "end\n"
        'gem "rails", "~> 7.0"\n'
        'gem "pinned", source: "https://rubygems.org"\n',
    )
    s = _load(project, home)
    assert [r.url for r in s.registries] == [
        "https://gems.mirror.example/",
        "https://rubygems.org/",
    ]
    assert s.registries[0].source == f"{gemfile}:2"
    assert s.files == (str(gemfile),)
    assert s.extra["gem_sources"] == {
        "secret_sauce": "https://gems.private.example/",
        "pinned": "https://rubygems.org/",
    }
    (block,) = s.extra["block_registries"]
    assert isinstance(block, Registry)
    assert (block.url, block.source) == ("https://gems.private.example/", f"{gemfile}:4")


def test_gemfile_found_from_subdirectory_and_gems_rb(project: Path, home: Path) -> None:
    _write(project / "gems.rb", 'source "https://g.example"\n')
    sub = project / "app" / "models"
    sub.mkdir(parents=True)
    assert _load(sub, home).default.url == "https://g.example/"


def test_gemrc_sources_without_gemfile(project: Path, home: Path) -> None:
    _write(home / ".gemrc", "---\n:sources:\n- https://a.example/\n- https://b.example\n")
    s = _load(project, home)
    assert [r.url for r in s.registries] == ["https://a.example/", "https://b.example/"]
    assert s.registries[1].source == f"{home / '.gemrc'}:4"


def test_bundler_host_credentials_and_precedence(project: Path, home: Path) -> None:
    _write(project / "Gemfile", 'source "https://gems.my-co.example/private"\n')
    glob = _write(
        home / ".bundle" / "config", f'---\nBUNDLE_GEMS__MY___CO__EXAMPLE: "g:{SECRET}"\n'
    )
    s = _load(project, home)
    url = "https://gems.my-co.example/private/info/rack"
    assert s.auth_headers(url) == {"Authorization": _basic("g", SECRET)}
    assert s.credentials[0].source == f"{glob}:2"
    # the host key covers other paths and http on that host
    assert s.auth_headers("http://gems.my-co.example/gems/x.gem") == {
        "Authorization": _basic("g", SECRET)
    }
    env = {"BUNDLE_GEMS__MY___CO__EXAMPLE": "e:pw"}
    s = _load(project, home, env)
    assert s.auth_headers(url) == {"Authorization": _basic("e", "pw")}
    assert s.credentials[0].source == "env BUNDLE_GEMS__MY___CO__EXAMPLE"
    # local app config beats the environment (Bundler::Settings#[])
    _write(project / ".bundle" / "config", "BUNDLE_GEMS__MY___CO__EXAMPLE: l:pw\n")
    assert _load(project, home, env).auth_headers(url) == {"Authorization": _basic("l", "pw")}
    assert _load(project, home, {**env, "BUNDLE_IGNORE_CONFIG": "1"}).auth_headers(url) == {
        "Authorization": _basic("e", "pw")
    }


def test_full_url_key_and_token_only_form(project: Path, home: Path, tmp_path: Path) -> None:
    _write(
        project / "Gemfile",
        'source "https://pkgs.example/team-a"\nsource "https://pkgs.example/team-b"\n',
    )
    appcfg = tmp_path / "appcfg"
    _write(
        appcfg / "config",
        f'"BUNDLE_HTTPS://PKGS__EXAMPLE/TEAM___A/": "{SECRET}"\nBUNDLE_PKGS__EXAMPLE: "host:pw"\n',
    )
    s = _load(project, home, {"BUNDLE_APP_CONFIG": str(appcfg)})
    assert s.auth_headers("https://pkgs.example/team-a/versions") == {
        "Authorization": _basic(SECRET, "")
    }
    assert s.auth_headers("https://pkgs.example/team-b/versions") == {
        "Authorization": _basic("host", "pw")
    }
    shown = json.dumps(s.to_json()) + repr(s)
    assert SECRET not in shown


def test_source_user_info_wins_over_config(project: Path, home: Path) -> None:
    _write(project / "Gemfile", f'source "https://u:{SECRET}@gems.example"\n')
    _write(home / ".bundle" / "config", "BUNDLE_GEMS__EXAMPLE: other:pw\n")
    s = _load(project, home)
    assert s.default.url == "https://gems.example/"
    assert s.auth_headers("https://gems.example/info/x") == {"Authorization": _basic("u", SECRET)}
    assert SECRET not in json.dumps(s.to_json())


def test_mirror(project: Path, home: Path) -> None:
    _write(project / "Gemfile", 'source "https://rubygems.org"\n')
    _write(
        home / ".bundle" / "config",
        '"BUNDLE_MIRROR__HTTPS://RUBYGEMS__ORG/": "https://mirror.example/gems"\n'
        "BUNDLE_MIRROR__EXAMPLE: m:pw\n",
    )
    s = _load(project, home)
    assert (s.default.url, s.default.mirror_of) == (
        "https://mirror.example/gems/",
        "https://rubygems.org/",
    )
    assert s.auth_headers("https://mirror.example/gems/info/rack") == {
        "Authorization": _basic("m", "pw")
    }


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_gem_credentials(project: Path, home: Path) -> None:
    creds = _write(
        home / ".gem" / "credentials",
        f"---\n:rubygems_api_key: {SECRET}\nhttps://push.example: key2\n:work: key3\n",
        0o600,
    )
    s = _load(project, home)
    assert s.auth_headers("https://rubygems.org/api/v1/gems") == {"Authorization": SECRET}
    assert s.auth_headers("https://push.example/api/v1/gems") == {"Authorization": "key2"}
    assert s.auth_headers("https://push.example/other") is None
    # API keys are for the web API only: never sent with index reads or gem downloads.
    assert s.auth_headers("https://rubygems.org/info/rails") is None
    assert s.auth_headers("https://rubygems.org/gems/rails-7.1.0.gem") is None
    assert s.extra["named_api_keys"] == ["work"]
    assert s.credentials[0].source == f"{creds}:2"
    assert SECRET not in json.dumps(s.to_json()) + repr(s)


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_gem_credentials_readable_by_others_are_refused(project: Path, home: Path) -> None:
    _write(home / ".gem" / "credentials", f":rubygems_api_key: {SECRET}\n", 0o644)
    s = _load(project, home)
    assert s.credentials == ()
    assert "0644" in s.warnings[0]
    assert "0600" in s.warnings[0]
    assert SECRET not in s.warnings[0]


@pytest.mark.skipif(os.name != "posix", reason="file modes")
def test_bundler_credential_wins_over_gem_api_key(project: Path, home: Path) -> None:
    _write(project / "Gemfile", 'source "https://rubygems.org"\n')
    _write(home / ".gem" / "credentials", ":rubygems_api_key: apikey\n", 0o600)
    _write(home / ".bundle" / "config", "BUNDLE_RUBYGEMS__ORG: u:p\n")
    assert _load(project, home).auth_headers("https://rubygems.org/info/rack") == {
        "Authorization": _basic("u", "p")
    }


def test_malformed_yaml_has_line_and_column(project: Path, home: Path) -> None:
    cfg = _write(home / ".bundle" / "config", f"BUNDLE_X: a\n  BUNDLE_Y: [{SECRET}\n")
    with pytest.raises(SettingsError) as err:
        _load(project, home)
    assert err.value.location.startswith(f"{cfg}:2:")
    assert SECRET not in str(err.value)


def test_malformed_gemfile_is_a_settings_error(project: Path, home: Path) -> None:
    gemfile = _write(project / "Gemfile", 'source "https://r.example"\nif ENV["X"]\nend\n')
    with pytest.raises(SettingsError) as err:
        _load(project, home)
    assert err.value.location.startswith(f"{gemfile}:2")


def test_gemfile_without_global_source_warns(project: Path, home: Path) -> None:
    _write(project / "Gemfile", 'source "https://p.example" do\n  gem "x"\nend\n')
    s = _load(project, home)
    assert s.default.url == "https://rubygems.org/"
    assert "declares no global source" in s.warnings[0]
