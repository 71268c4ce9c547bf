""".cargo/config.toml, credentials.toml and CARGO_* variables -> RegistrySettings, as Cargo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuskops.packages.ecosystems.cargo_settings import load
from tuskops.packages.settings import RegistrySettings, SettingsError

TOKEN = "cio-t0ken-SECRET"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "ws/crate").mkdir(parents=True)
    return tmp_path / "ws/crate"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(project: Path, home: Path, env: dict[str, str] | None = None) -> RegistrySettings:
    # The walk up stops at pytest's base temp dir: the machine's /.cargo is never read.
    stop = next(p for p in project.parents if p.name.startswith("pytest-of-"))
    return load(project_dir=project, env=env or {}, home=home, search_stop=stop)


def names(settings: RegistrySettings) -> list[str]:
    return [r.name for r in settings.registries]


def test_nothing_configured_is_crates_io(project: Path, home: Path) -> None:
    settings = run(project, home)
    assert [(r.name, r.url, r.source) for r in settings.registries] == [
        ("crates-io", "https://index.crates.io/", "default")
    ]
    assert settings.lookup == "first"
    assert settings.credentials == ()
    assert settings.files == ()


def test_hierarchy_deeper_wins_and_tables_merge(project: Path, home: Path) -> None:
    top = write(
        project.parent / ".cargo/config.toml",
        '[registries.corp]\nindex = "sparse+https://top.example/index/"\n'
        '[registries.other]\nindex = "sparse+https://other.example/"\n',
    )
    deep = write(
        project / ".cargo/config.toml",
        '[registries.corp]\nindex = "sparse+https://deep.example/index"\n',
    )
    home_cfg = write(
        home / ".cargo/config.toml",
        '[registries.corp]\nindex = "sparse+https://home.example/"\n'
        '[registry]\ndefault = "other"\n',
    )
    settings = run(project, home)
    assert settings.files == (str(home_cfg), str(top), str(deep))
    by_name = {r.name: r for r in settings.registries}
    assert by_name["corp"].url == "https://deep.example/index/"
    assert by_name["corp"].source == f"{deep}:2"
    assert by_name["corp"].extra["index"] == "sparse+https://deep.example/index/"
    assert by_name["other"].url == "https://other.example/"
    # [registry] default from the home file still applies: tables merge key by key.
    assert names(settings) == ["other", "crates-io", "corp"]


def test_cargo_home_variable_and_no_double_read(tmp_path: Path, home: Path) -> None:
    cargo_home = tmp_path / "ch"
    cfg = write(cargo_home / "config.toml", '[registries.a]\nindex = "sparse+https://a/"\n')
    settings = run(tmp_path, home, {"CARGO_HOME": str(cargo_home)})
    assert settings.files == (str(cfg),)
    # CARGO_HOME = project/.cargo: the same file is an ancestor's config and is read once.
    proj_cfg = write(tmp_path / ".cargo/config.toml", "")
    settings = run(tmp_path, home, {"CARGO_HOME": ".cargo"})
    assert settings.files == (str(proj_cfg),)


def test_search_stop(project: Path, home: Path) -> None:
    above = write(project.parent / ".cargo/config.toml", "")
    write(project.parent.parent / ".cargo/config.toml", "")
    settings = load(project_dir=project, env={}, home=home, search_stop=project.parent)
    assert settings.files == (str(above),)


def test_legacy_file_name(project: Path, home: Path) -> None:
    legacy = write(project / ".cargo/config", '[registries.x]\nindex = "sparse+https://legacy/"\n')
    settings = run(project, home)
    assert settings.files == (str(legacy),)
    assert settings.registries[1].url == "https://legacy/"
    # With both present Cargo uses the file without extension, and warns.
    write(project / ".cargo/config.toml", '[registries.x]\nindex = "sparse+https://modern/"\n')
    settings = run(project, home)
    assert settings.files == (str(legacy),)
    assert settings.registries[1].url == "https://legacy/"
    assert any("both" in w for w in settings.warnings)


def test_replace_with_chain(project: Path, home: Path) -> None:
    cfg = write(
        project / ".cargo/config.toml",
        '[source.crates-io]\nreplace-with = "company"\n'
        '[source.company]\nreplace-with = "mirror"\n'
        '[source.mirror]\nregistry = "sparse+https://mirror.example/crates/"\n',
    )
    settings = run(project, home)
    default = settings.default
    assert (default.name, default.url, default.mirror_of) == (
        "mirror",
        "https://mirror.example/crates/",
        "crates-io",
    )
    assert default.source == f"{cfg}:6"
    assert names(settings) == ["mirror"]
    assert settings.warnings == ()

    # replace-with on another source is not applied, and says so.
    write(
        cfg,
        '[source.my-git]\ngit = "https://example.com/x.git"\nreplace-with = "vendored"\n'
        '[source.vendored]\ndirectory = "vendor"\n',
    )
    settings = run(project, home)
    assert names(settings) == ["crates-io"]
    assert any("'my-git'" in w and "only applied to crates-io" in w for w in settings.warnings)


def test_replace_with_a_named_registry(project: Path, home: Path) -> None:
    write(
        project / ".cargo/config.toml",
        '[source.crates-io]\nreplace-with = "art"\n'
        '[registries.art]\nindex = "sparse+https://art.example/api/cargo/r/index/"\n',
    )
    settings = run(project, home)
    assert names(settings) == ["art"]
    assert settings.default.mirror_of == "crates-io"


def test_replace_with_errors_and_unsupported_sources(project: Path, home: Path) -> None:
    cfg = write(
        project / ".cargo/config.toml",
        '[source.crates-io]\nreplace-with = "a"\n[source.a]\nreplace-with = "crates-io"\n',
    )
    with pytest.raises(SettingsError, match="cycle") as err:
        run(project, home)
    assert err.value.location == f"{cfg}:4"

    write(cfg, '[source.crates-io]\nreplace-with = "nowhere"\n')
    with pytest.raises(SettingsError, match="nowhere"):
        run(project, home)

    write(
        cfg,
        '[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "vendor"\n',
    )
    settings = run(project, home)
    assert names(settings) == ["crates-io"]
    assert settings.default.mirror_of is None
    assert any("vendored" in w and "directory" in w for w in settings.warnings)


def test_git_index_is_warned_and_not_listed(project: Path, home: Path) -> None:
    write(
        project / ".cargo/config.toml",
        '[registries.gitreg]\nindex = "https://github.com/corp/index"\n'
        '[registries.crates-io]\nprotocol = "git"\n',
    )
    settings = run(project, home)
    assert names(settings) == ["crates-io"]
    assert any("'gitreg'" in w and "git index" in w for w in settings.warnings)
    assert any("protocol = git" in w for w in settings.warnings)


def test_env_overrides_and_defines_registries(project: Path, home: Path) -> None:
    write(
        project / ".cargo/config.toml",
        '[registries.my-reg]\nindex = "sparse+https://file.example/"\n',
    )
    env = {
        "CARGO_REGISTRIES_MY_REG_INDEX": "sparse+https://env.example/",
        "CARGO_REGISTRIES_EXTRA_INDEX": "sparse+https://extra.example/",
        "CARGO_REGISTRY_DEFAULT": "my-reg",
    }
    settings = run(project, home, env)
    assert [(r.name, r.url, r.source) for r in settings.registries] == [
        ("my-reg", "https://env.example/", "env CARGO_REGISTRIES_MY_REG_INDEX"),
        ("crates-io", "https://index.crates.io/", "default"),
        ("extra", "https://extra.example/", "env CARGO_REGISTRIES_EXTRA_INDEX"),
    ]
    unknown = run(project, home, {"CARGO_REGISTRY_DEFAULT": "nope"})
    assert names(unknown)[0] == "crates-io"
    assert any("nope" in w for w in unknown.warnings)


def test_tokens_from_credentials_config_and_env(project: Path, home: Path) -> None:
    write(
        project / ".cargo/config.toml",
        '[registries.corp]\nindex = "sparse+https://corp.example/index/"\ntoken = "from-config"\n',
    )
    creds = write(
        home / ".cargo/credentials.toml",
        f'[registry]\ntoken = "{TOKEN}"\n[registries.corp]\ntoken = "from-credentials"\n',
    )
    settings = run(project, home)
    assert str(creds) == settings.files[-1]
    corp = settings.credential_for("https://corp.example/index/co/rp/corp")
    assert corp is not None
    assert corp.kind == "token"
    assert corp.secret is not None
    assert corp.secret.reveal() == "from-credentials"
    assert corp.source == f"{creds}:4"
    assert settings.auth_headers("https://corp.example/index/config.json") == {
        "Authorization": "from-credentials"
    }
    # crates.io's token goes to its web API only, never to the index or the download host.
    assert settings.auth_headers("https://crates.io/api/v1/crates/new") == {"Authorization": TOKEN}
    assert settings.auth_headers("https://index.crates.io/se/rd/serde") is None
    assert settings.auth_headers("https://static.crates.io/crates/serde/1.0.0/download") is None

    env = {"CARGO_REGISTRIES_CORP_TOKEN": "from-env", "CARGO_REGISTRY_TOKEN": "env-cio"}
    settings = run(project, home, env)
    assert settings.auth_headers("https://corp.example/index/x") == {"Authorization": "from-env"}
    assert settings.auth_headers("https://crates.io/api/v1/x") == {"Authorization": "env-cio"}

    dumped = json.dumps(settings.to_json()) + repr(settings)
    for secret in ("from-env", "env-cio", TOKEN, "from-credentials"):
        assert secret not in dumped


def test_legacy_credentials_layout(project: Path, home: Path) -> None:
    write(home / ".cargo/credentials", f'token = "{TOKEN}"\n')
    settings = run(project, home)
    assert settings.auth_headers("https://crates.io/api/v1/x") == {"Authorization": TOKEN}


def test_token_without_index_and_userinfo(project: Path, home: Path) -> None:
    write(home / ".cargo/credentials.toml", f'[registries.ghost]\ntoken = "{TOKEN}"\n')
    write(
        project / ".cargo/config.toml",
        f'[registries.basic]\nindex = "sparse+https://me:{TOKEN}@basic.example/idx/"\n',
    )
    settings = run(project, home)
    assert any("'ghost'" in w and "no index" in w for w in settings.warnings)
    basic = next(r for r in settings.registries if r.name == "basic")
    assert basic.url == "https://basic.example/idx/"
    cred = settings.credential_for("https://basic.example/idx/ba/si/basic")
    assert cred is not None
    assert (cred.kind, cred.username) == ("basic", "me")
    assert TOKEN not in json.dumps(settings.to_json())
    assert all(TOKEN not in w for w in settings.warnings)


def test_credential_providers_are_warned(project: Path, home: Path) -> None:
    write(
        project / ".cargo/config.toml",
        '[registry]\nglobal-credential-providers = ["cargo:token", "cargo:libsecret"]\n'
        '[registries.r]\nindex = "sparse+https://r/"\ncredential-provider = "cargo:token"\n',
    )
    settings = run(project, home)
    assert [w for w in settings.warnings if "credential providers" in w] == [
        w for w in settings.warnings if "global-credential-providers" in w
    ]
    assert len(settings.warnings) == 1
    env = {"CARGO_REGISTRIES_R_CREDENTIAL_PROVIDER": "my-provider --flag"}
    assert any("registries.r.credential-provider" in w for w in run(project, home, env).warnings)


def test_malformed_toml_location(project: Path, home: Path) -> None:
    cfg = write(project / ".cargo/config.toml", f'[registry]\ntoken = "{TOKEN}"\nindex = \n')
    with pytest.raises(SettingsError) as err:
        run(project, home)
    assert err.value.location == f"{cfg}:3:9"
    assert TOKEN not in str(err.value)

    write(cfg, "[registries.x]\nindex = 5\n")
    with pytest.raises(SettingsError, match="must be a string") as err:
        run(project, home)
    assert err.value.location == f"{cfg}:2"
