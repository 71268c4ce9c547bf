"""pip.conf, PIP_* variables and .netrc -> RegistrySettings, as pip would see them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tuskops.packages.ecosystems.pypi_settings import load
from tuskops.packages.settings import RegistrySettings, SettingsError

SECRET = "s3cr3t-pa55"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Stands for ``/``: global files go under ``root/etc``."""
    (tmp_path / "root").mkdir()
    return tmp_path / "root"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(
    tmp_path: Path, root: Path, home: Path, env: dict[str, str] | None = None
) -> RegistrySettings:
    return load(project_dir=tmp_path, env=env or {}, home=home, system_root=root)


def urls(settings: RegistrySettings) -> list[str]:
    return [r.url for r in settings.registries]


def test_nothing_configured_is_pypi(tmp_path: Path, root: Path, home: Path) -> None:
    settings = run(tmp_path, root, home)
    assert urls(settings) == ["https://pypi.org/simple/"]
    assert settings.default.source == "default"
    assert settings.lookup == "union"
    assert settings.files == ()
    assert settings.credentials == ()


def test_files_in_pip_order_later_wins(tmp_path: Path, root: Path, home: Path) -> None:
    xdg = write(root / "etc/xdg/pip/pip.conf", "[global]\nindex-url = https://xdg/simple\n")
    etc = write(root / "etc/pip.conf", "[global]\nindex-url = https://etc/simple\n")
    legacy = write(home / ".pip/pip.conf", "[global]\nindex-url = https://legacy/simple\n")
    user = write(home / ".config/pip/pip.conf", "[global]\n\nindex-url = https://user/simple\n")
    settings = run(tmp_path, root, home)
    assert settings.files == tuple(str(p) for p in (xdg, etc, legacy, user))
    assert urls(settings) == ["https://user/simple/"]
    assert settings.default.source == f"{user}:3"

    venv = tmp_path / "venv"
    site = write(venv / "pip.conf", "[global]\nindex-url = https://site/simple\n")
    settings = run(tmp_path, root, home, {"VIRTUAL_ENV": str(venv)})
    assert settings.files[-1] == str(site)
    assert urls(settings) == ["https://site/simple/"]


def test_xdg_variables_move_the_files(tmp_path: Path, root: Path, home: Path) -> None:
    a = write(tmp_path / "a/pip/pip.conf", "[global]\nindex-url = https://a/\n")
    b = write(tmp_path / "b/pip/pip.conf", "[global]\nindex-url = https://b/\n")
    write(root / "etc/xdg/pip/pip.conf", "[global]\nindex-url = https://ignored/\n")
    conf = write(tmp_path / "cfg/pip/pip.conf", "[global]\nextra-index-url = https://c/\n")
    env = {
        "XDG_CONFIG_DIRS": f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}",
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
    }
    settings = run(tmp_path, root, home, env)
    assert settings.files == (str(a), str(b), str(conf))
    assert urls(settings) == ["https://b/", "https://c/"]


def test_install_section_beats_global_even_from_a_lower_file(
    tmp_path: Path, root: Path, home: Path
) -> None:
    write(root / "etc/pip.conf", "[install]\nindex-url = https://install-etc/\n")
    write(home / ".config/pip/pip.conf", "[global]\nindex-url = https://global-user/\n")
    assert urls(run(tmp_path, root, home)) == ["https://install-etc/"]


def test_other_command_sections_are_ignored(tmp_path: Path, root: Path, home: Path) -> None:
    write(home / ".config/pip/pip.conf", "[download]\nindex-url = https://dl/\n")
    assert urls(run(tmp_path, root, home)) == ["https://pypi.org/simple/"]


def test_env_overrides_files(tmp_path: Path, root: Path, home: Path) -> None:
    write(home / ".config/pip/pip.conf", "[install]\nindex-url = https://file/\n")
    env = {"PIP_INDEX_URL": "https://env/simple", "PIP_EXTRA_INDEX_URL": "https://x/ https://y/"}
    settings = run(tmp_path, root, home, env)
    assert urls(settings) == ["https://env/simple/", "https://x/", "https://y/"]
    assert [r.source for r in settings.registries] == [
        "env PIP_INDEX_URL",
        "env PIP_EXTRA_INDEX_URL",
        "env PIP_EXTRA_INDEX_URL",
    ]
    # An empty variable is ignored, as pip does.
    assert urls(run(tmp_path, root, home, {"PIP_INDEX_URL": ""})) == ["https://file/"]


def test_pip_config_file_is_last_and_hides_user_files(
    tmp_path: Path, root: Path, home: Path
) -> None:
    write(root / "etc/pip.conf", "[global]\nextra-index-url = https://etc/\n")
    write(home / ".config/pip/pip.conf", "[global]\nindex-url = https://user/\n")
    own = write(tmp_path / "own.conf", "[global]\nfind-links = /wheels\n")
    settings = run(tmp_path, root, home, {"PIP_CONFIG_FILE": "own.conf"})
    assert settings.files == (str(root / "etc/pip.conf"), str(own))
    assert urls(settings) == ["https://pypi.org/simple/", "https://etc/"]
    # A PIP_CONFIG_FILE that does not exist leaves the user files in place.
    settings = run(tmp_path, root, home, {"PIP_CONFIG_FILE": "missing.conf"})
    assert urls(settings) == ["https://user/", "https://etc/"]


def test_pip_config_file_devnull_disables_every_file(
    tmp_path: Path, root: Path, home: Path
) -> None:
    write(root / "etc/pip.conf", "[global]\nindex-url = https://etc/\n")
    write(home / ".config/pip/pip.conf", "[global]\nindex-url = https://user/\n")
    settings = run(tmp_path, root, home, {"PIP_CONFIG_FILE": os.devnull})
    assert settings.files == ()
    assert urls(settings) == ["https://pypi.org/simple/"]
    # Variables still apply.
    env = {"PIP_CONFIG_FILE": os.devnull, "PIP_INDEX_URL": "https://env/"}
    assert urls(run(tmp_path, root, home, env)) == ["https://env/"]


def test_extra_index_urls_span_lines(tmp_path: Path, root: Path, home: Path) -> None:
    conf = write(
        home / ".config/pip/pip.conf",
        "[global]\n"
        "index_url = https://main/simple/\n"
        "extra-index-url =\n"
        "    https://one/simple\n"
        "    https://two/simple/\n"
        "    https://main/simple\n"
        "    file:///srv/wheels\n",
    )
    settings = run(tmp_path, root, home)
    assert urls(settings) == [
        "https://main/simple/",
        "https://one/simple/",
        "https://two/simple/",
        "file:///srv/wheels",
    ]
    assert [r.name for r in settings.registries] == ["index-url"] + ["extra-index-url"] * 3
    assert settings.registries[1].source == f"{conf}:3"


def test_no_index(tmp_path: Path, root: Path, home: Path) -> None:
    write(home / ".config/pip/pip.conf", "[global]\nno-index = yes\nextra-index-url = https://x/\n")
    settings = run(tmp_path, root, home)
    assert settings.registries == ()
    assert any("no-index" in w and "no find-links" in w for w in settings.warnings)

    settings = run(tmp_path, root, home, {"PIP_FIND_LINKS": "https://links/ /wheels"})
    assert settings.registries == ()
    assert settings.extra["find_links"] == ["https://links/", "/wheels"]
    assert any("find-links" in w and "not queried" in w for w in settings.warnings)

    assert urls(run(tmp_path, root, home, {"PIP_NO_INDEX": "off"})) == [
        "https://pypi.org/simple/",
        "https://x/",
    ]
    with pytest.raises(SettingsError) as err:
        run(tmp_path, root, home, {"PIP_NO_INDEX": "maybe"})
    assert err.value.location == "env PIP_NO_INDEX"


def test_extras_and_keyring_warning(tmp_path: Path, root: Path, home: Path) -> None:
    write(
        home / ".config/pip/pip.conf",
        "[global]\ntrusted-host = a.example\n  b.example:8080\ncert = /ca.pem\n"
        "client-cert = /me.pem\nkeyring-provider = subprocess\n",
    )
    settings = run(tmp_path, root, home)
    assert settings.extra["trusted_hosts"] == ["a.example", "b.example:8080"]
    assert settings.extra["cert"] == "/ca.pem"
    assert settings.extra["client_cert"] == "/me.pem"
    assert any("keyring" in w for w in settings.warnings)
    disabled = run(tmp_path, root, home, {"PIP_KEYRING_PROVIDER": "disabled"})
    assert not any("keyring" in w for w in disabled.warnings)


def test_insecure_http_index_is_dropped_unless_trusted(
    tmp_path: Path, root: Path, home: Path
) -> None:
    env = {"PIP_EXTRA_INDEX_URL": "http://plain.example/simple http://localhost:8080/simple"}
    settings = run(tmp_path, root, home, env)
    assert urls(settings) == ["https://pypi.org/simple/", "http://localhost:8080/simple/"]
    assert any("http://plain.example/simple/" in w for w in settings.warnings)
    trusted = run(tmp_path, root, home, {**env, "PIP_TRUSTED_HOST": "plain.example"})
    assert "http://plain.example/simple/" in urls(trusted)


def test_url_credentials_become_credentials(tmp_path: Path, root: Path, home: Path) -> None:
    env = {
        "PIP_INDEX_URL": f"https://me%40corp:{SECRET}%21@pkgs.example/pypi/simple",
        "PIP_EXTRA_INDEX_URL": "https://__token__@other.example/simple/",
    }
    settings = run(tmp_path, root, home, env)
    assert urls(settings) == ["https://pkgs.example/pypi/simple/", "https://other.example/simple/"]
    cred = settings.credential_for("https://pkgs.example/pypi/simple/requests/")
    assert cred is not None
    assert cred.username == "me@corp"
    assert cred.secret is not None
    assert cred.secret.reveal() == SECRET + "!"
    assert cred.prefix == "https://pkgs.example/pypi/simple/"
    # Like pip, the index's credentials also cover files elsewhere on the same host...
    files = settings.credential_for("https://pkgs.example/pypi/files/requests-2.0.whl")
    assert files is not None
    assert files.secret == cred.secret
    # ...over the index's scheme only, and never to another host.
    assert settings.auth_headers("http://pkgs.example/pypi/files/requests-2.0.whl") is None
    assert settings.auth_headers("https://files.pythonhosted.org/x.whl") is None
    # A user name alone is sent with an empty password.
    token = settings.auth_headers("https://other.example/simple/x/")
    assert token == {"Authorization": "Basic X190b2tlbl9fOg=="}
    dumped = json.dumps(settings.to_json())
    assert SECRET not in dumped
    assert SECRET not in repr(settings)


def test_netrc_credentials_match_by_host(tmp_path: Path, root: Path, home: Path) -> None:
    rc = write(
        home / ".netrc",
        f"machine pkgs.example login alice password {SECRET}\n"
        "machine acct.example account bob password other\n"
        "default login anyone password everywhere\n",
    )
    env = {"PIP_EXTRA_INDEX_URL": f"https://carol:{SECRET}x@pkgs.example/private/simple"}
    settings = run(tmp_path, root, home, env)
    assert str(rc) in settings.files
    netrc_cred = settings.credential_for("https://pkgs.example/other/path")
    url_cred = settings.credential_for("https://pkgs.example/private/simple/x/")
    assert url_cred is not None
    assert url_cred.username == "carol"
    # The index's host-wide credential comes before .netrc, as in pip.
    assert netrc_cred is not None
    assert netrc_cred.username == "carol"
    acct = settings.credential_for("http://acct.example/simple/")
    assert acct is not None
    assert acct.username == "bob"
    assert settings.credential_for("https://pypi.org/simple/") is None
    assert any("'default'" in w for w in settings.warnings)
    assert "everywhere" not in json.dumps(settings.to_json())

    only_netrc = run(tmp_path, root, home)
    cred = only_netrc.credential_for("https://pkgs.example/anything")
    assert cred is not None
    assert cred.username == "alice"
    assert cred.secret is not None
    assert cred.secret.reveal() == SECRET


def test_username_without_password_takes_netrc(tmp_path: Path, root: Path, home: Path) -> None:
    write(home / "_netrc", f"machine pkgs.example login alice password {SECRET}\n")
    env = {"PIP_INDEX_URL": "https://bob@pkgs.example/simple/"}
    cred = run(tmp_path, root, home, env).credential_for("https://pkgs.example/simple/x/")
    assert cred is not None
    assert cred.username == "alice"


def test_netrc_variable(tmp_path: Path, root: Path, home: Path) -> None:
    write(home / ".netrc", "machine home.example login a password b\n")
    rc = write(tmp_path / "rc", "machine env.example login c password d\n")
    settings = run(tmp_path, root, home, {"NETRC": str(rc)})
    assert settings.credential_for("https://env.example/") is not None
    assert settings.credential_for("https://home.example/") is None


def test_malformed_config_has_file_and_line(tmp_path: Path, root: Path, home: Path) -> None:
    conf = write(
        home / ".config/pip/pip.conf",
        f"[global]\nindex-url = https://a/\nstray words {SECRET}\n",
    )
    with pytest.raises(SettingsError) as err:
        run(tmp_path, root, home)
    assert err.value.location == f"{conf}:3"
    assert SECRET not in str(err.value)

    write(conf, f"index-url = https://u:{SECRET}@b/\n")
    with pytest.raises(SettingsError) as err:
        run(tmp_path, root, home)
    assert err.value.location == f"{conf}:1"
    assert SECRET not in str(err.value)

    write(conf, "[global]\nindex-url = https://a/\nindex-url = https://b/\n")
    with pytest.raises(SettingsError) as err:
        run(tmp_path, root, home)
    assert err.value.location == f"{conf}:3"
    assert "index-url" in err.value.detail


def test_malformed_netrc_has_file_and_line(tmp_path: Path, root: Path, home: Path) -> None:
    rc = write(home / ".netrc", f"machine a.example login x password y\nbogus {SECRET}\n")
    with pytest.raises(SettingsError) as err:
        run(tmp_path, root, home)
    assert err.value.location == f"{rc}:2"
    assert SECRET not in str(err.value)
