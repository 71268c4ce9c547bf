"""RubyGems/Bundler sources and credentials: the Gemfile, Bundler's config, ``~/.gem/*``.

Follows Bundler's documentation (https://bundler.io/man/bundle-config.1.html, its sections
"Credentials for gem sources" and "Mirrors of gem sources", and https://bundler.io/man/gemfile.5.html
"Source priority") and RubyGems' (https://guides.rubygems.org/command-reference/#gem-sources,
https://guides.rubygems.org/run-your-own-gem-server/, ``Gem::ConfigFile``):

* Registries: the Gemfile (``BUNDLE_GEMFILE``, else the nearest ``gems.rb`` or ``Gemfile``
  walking up from ``project_dir``, as Bundler finds it) is read statically with
  :func:`~tuskops.packages.ecosystems.rubygems_files.read_gemfile`. Its global ``source`` lines
  are the registries, the last declared first (gemfile(5): global sources are searched "from
  last added to first added"). Without a Gemfile, ``:sources:`` of the gemrc (``GEMRC``, else
  ``~/.gemrc``) in their order; else https://rubygems.org/. Source URLs get a trailing slash, as
  Bundler normalizes them. Lookup is ``"first"``.
* Sources of ``source "..." do ... end`` blocks (and a gem's ``source:`` option) serve only
  their gems, a routing by gem name the model has no field for: ``extra["gem_sources"]`` maps
  each such gem to its source URL and ``extra["block_registries"]`` holds those sources as
  :class:`Registry` objects (mirrors applied). They are not in ``registries``, so other gems are
  never looked up there, as in Bundler.
* Bundler settings are merged the way ``Bundler::Settings#[]`` reads them: the local app config
  (``<Gemfile dir>/.bundle/config``, or ``$BUNDLE_APP_CONFIG/config``) over ``BUNDLE_*``
  environment variables over the global config (``BUNDLE_USER_CONFIG``, else
  ``$BUNDLE_USER_HOME/config``, else ``~/.bundle/config``); ``BUNDLE_IGNORE_CONFIG`` skips the
  files. Keys are Bundler's ``key_for``: ``BUNDLE_`` + the name upper-cased with ``.`` as ``__``
  and ``-`` as ``___`` (a URL key is first normalized with a trailing slash).
* Credentials for a source are looked up as Bundler's ``credentials_for``: the key of the full
  source URL (scoped to that URL), else the key of its host (scoped to ``//host[:port]/``).
  ``user:password`` is basic auth; a value without ``:`` is a token sent as the user name with an
  empty password, which is what Bundler's ``uri.userinfo = value`` does (kind
  ``"basic-encoded"``, so the token is never shown as a user name). User-info in the source URL
  wins over the config, as Bundler applies config credentials only to URLs without it.
* Mirrors: ``mirror.<source URL>`` (or ``mirror.all``) replaces a source's URL; ``mirror_of``
  keeps the original, and credentials are looked up for the mirror, as Bundler does.
* ``~/.gem/credentials`` (YAML): ``:rubygems_api_key:`` is the key ``gem`` sends raw in
  ``Authorization`` to rubygems.org, ``"https://host": KEY`` the key for that host (kind
  ``"token"``, scoped to the web API, ``//host/api/``: gem sends them for push, yank and owner
  calls, never with index reads or downloads). They are listed after Bundler's credentials,
  which win for the same host. Other ``:name:`` entries are keys chosen with
  ``gem push --key``, tied to no host; their names are in ``extra["named_api_keys"]``. Like
  RubyGems, which refuses a credentials file that group or others can read ("0600 is
  required"), such a file is not used and a warning says so.

Deviations: the system-wide gemrc (``/etc/gemrc``) is not read; ``mirror.*.fallback_timeout``
is ignored; a source whose block declares no gem cannot be told from a global source by the
static reader and counts as global.
"""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from tuskops.errors import ManifestError
from tuskops.packages.ecosystems.rubygems_files import read_gemfile
from tuskops.packages.settings import (
    DEFAULT_REGISTRIES,
    Credential,
    Registry,
    RegistrySettings,
    Secret,
    SettingsError,
    normalize_prefix,
    split_userinfo,
)

__all__ = ["load"]

ECOSYSTEM = "rubygems"
RUBYGEMS_ORG = "https://rubygems.org/"


@dataclass(frozen=True)
class _Setting:
    value: Any
    source: str


def _read_yaml(path: Path) -> tuple[Any, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(str(path), f"cannot read file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(str(path), f"not UTF-8 text: {exc.reason}") from None
    try:
        return yaml.safe_load(text), text
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        # the problem text names the construct, never the value (values may be secrets)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SettingsError(where, f"invalid YAML: {problem}") from None


def _line_of(text: str, needle: str) -> int | None:
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def _normalize_source(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def key_for(name: str) -> str:
    """Bundler's ``Settings.key_for``: ``gems.example.com`` -> ``BUNDLE_GEMS__EXAMPLE__COM``."""
    if name.startswith(("http", "mirror.http")):
        name = _normalize_source(name)
    return "BUNDLE_" + name.replace(".", "__").replace("-", "___").upper()


def _bundle_config(path: Path, files: list[str]) -> dict[str, _Setting]:
    if not path.is_file():
        return {}
    data, text = _read_yaml(path)
    files.append(str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SettingsError(str(path), "a Bundler config file must be a YAML mapping")
    out: dict[str, _Setting] = {}
    for key, value in data.items():
        line = _line_of(text, str(key))
        source = f"{path}:{line}" if line is not None else str(path)
        out[str(key).upper()] = _Setting(value, source)
    return out


def _find_gemfile(project_dir: Path, env: Mapping[str, str]) -> Path | None:
    if env.get("BUNDLE_GEMFILE"):
        given = Path(env["BUNDLE_GEMFILE"])
        return given if given.is_absolute() else project_dir / given
    start = project_dir.resolve()
    for directory in (start, *start.parents):
        for name in ("gems.rb", "Gemfile"):
            if (directory / name).is_file():
                return directory / name
    return None


def _gem_credentials(
    home: Path, files: list[str], warnings: list[str], extra: dict[str, Any]
) -> list[Credential]:
    path = home / ".gem" / "credentials"
    if not path.is_file():
        return []
    mode = path.stat().st_mode
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.append(
            f"{path}: not used: its permissions are {stat.S_IMODE(mode):04o} but RubyGems "
            "requires 0600 for a credentials file (run: chmod 0600 on it)"
        )
        return []
    data, text = _read_yaml(path)
    files.append(str(path))
    if data is None:
        return []
    if not isinstance(data, dict):
        raise SettingsError(str(path), "the credentials file must be a YAML mapping")
    out: list[Credential] = []
    named: list[str] = []
    for raw_key, value in data.items():
        key = str(raw_key)
        line = _line_of(text, key)
        source = f"{path}:{line}" if line is not None else str(path)
        # API keys are for the web API (push, yank, owners), which gem sends them to; never
        # to the compact index or gem downloads, so they are scoped to /api/.
        if key in (":rubygems_api_key", "rubygems_api_key"):
            prefix = normalize_prefix("//rubygems.org/api/")
        elif key.startswith(("http://", "https://")):
            prefix = "//" + normalize_prefix(key).split("//", 1)[1] + "api/"
        else:
            named.append(key.lstrip(":"))
            continue
        if not isinstance(value, str) or not value:
            raise SettingsError(source, f"the API key for {key} must be a string")
        out.append(Credential(prefix, "token", Secret(value), source=source))
    if named:
        extra["named_api_keys"] = named
    return out


def _gemrc_sources(env: Mapping[str, str], home: Path, files: list[str]) -> list[_Setting]:
    paths = (
        [Path(p) for p in env["GEMRC"].split(os.pathsep) if p]
        if env.get("GEMRC")
        else [home / ".gemrc"]
    )
    sources: list[_Setting] = []
    for path in paths:
        if not path.is_file():
            continue
        data, text = _read_yaml(path)
        files.append(str(path))
        if not isinstance(data, dict):
            continue
        value = data.get(":sources", data.get("sources"))
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"{path} :sources", "must be a list of URLs")
        # a later file's :sources replaces an earlier one's, as RubyGems merges its config
        sources = [_Setting(url, f"{path}:{_line_of(text, url) or 1}") for url in value]
    return sources


def load(*, project_dir: Path, env: Mapping[str, str], home: Path) -> RegistrySettings:
    """RubyGems' effective sources and credentials; see the module docstring."""
    files: list[str] = []
    warnings: list[str] = []
    extra: dict[str, Any] = {}

    gemfile = _find_gemfile(project_dir, env)
    global_sources: list[_Setting] = []
    block_sources: list[_Setting] = []
    gem_sources: dict[str, str] = {}
    if gemfile is not None and gemfile.is_file():
        try:
            manifest = read_gemfile(gemfile)
        except ManifestError as exc:
            raise SettingsError(
                f"{exc.file}:{exc.location}" if exc.location else exc.file, exc.message
            ) from None
        files.append(str(gemfile))
        text = gemfile.read_text(encoding="utf-8")
        scoped: set[str] = set()
        for dep in manifest.dependencies:
            if dep.source is None or {"git", "path"} & set(dep.extra):
                continue
            if "source" not in dep.extra:
                scoped.add(dep.source)
            gem_sources[dep.name] = dep.source
        for url in manifest.extra.get("sources", []):
            line = _line_of(text, url)
            setting = _Setting(url, f"{gemfile}:{line}" if line is not None else str(gemfile))
            (block_sources if url in scoped else global_sources).append(setting)
        global_sources.reverse()
        if not global_sources:
            warnings.append(
                f"{gemfile}: declares no global source, so Bundler would not find gems declared "
                "outside source blocks; the gemrc's sources (or rubygems.org) are used for them"
            )

    app_root = gemfile.parent if gemfile is not None else project_dir
    ignore = bool(env.get("BUNDLE_IGNORE_CONFIG"))
    if env.get("BUNDLE_USER_CONFIG"):
        global_path = Path(env["BUNDLE_USER_CONFIG"])
    elif env.get("BUNDLE_USER_HOME"):
        global_path = Path(env["BUNDLE_USER_HOME"]) / "config"
    else:
        global_path = home / ".bundle" / "config"
    app_dir = Path(env["BUNDLE_APP_CONFIG"]) if env.get("BUNDLE_APP_CONFIG") else Path(".bundle")
    local_path = app_dir if app_dir.is_absolute() else app_root / app_dir
    local_path = local_path / "config"
    global_config = {} if ignore else _bundle_config(global_path, files)
    local_config = {} if ignore else _bundle_config(local_path, files)
    env_config = {
        k.upper(): _Setting(v, f"env {k}")
        for k, v in env.items()
        if k.upper().startswith("BUNDLE_")
    }

    def conf(name: str) -> _Setting | None:
        key = key_for(name)
        for layer in (local_config, env_config, global_config):
            if key in layer:
                return layer[key]
        return None

    url_credentials: list[Credential] = []
    bundler_credentials: list[Credential] = []

    def registry(configured: _Setting) -> Registry:
        if not isinstance(configured.value, str) or not configured.value:
            raise SettingsError(configured.source, "a gem source must be a URL")
        original = _normalize_source(configured.value)
        clean, user, password = split_userinfo(original)
        parts = urlsplit(clean)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingsError(configured.source, f"{clean} is not an http(s) URL")
        mirror = conf(f"mirror.{clean}") or conf("mirror.all")
        url, source, mirror_of = clean, configured.source, None
        if mirror is not None and isinstance(mirror.value, str) and mirror.value:
            url, user, password = split_userinfo(_normalize_source(mirror.value))
            source, mirror_of = mirror.source, clean
        if user is not None or password is not None:
            url_credentials.append(
                Credential(normalize_prefix(url), "basic", password, username=user, source=source)
            )
        else:
            _bundler_credential(url)
        return Registry(name=clean, url=url, source=source, mirror_of=mirror_of)

    def _bundler_credential(url: str) -> None:
        parts = urlsplit(url)
        found = conf(url)
        prefix = normalize_prefix(url)
        if found is None and parts.hostname:
            found = conf(parts.hostname)
            host = normalize_prefix(url).split("//", 1)[1].split("/", 1)[0]
            prefix = f"//{host}/"
        if found is None:
            return
        if not isinstance(found.value, str) or not found.value:
            raise SettingsError(found.source, "gem source credentials must be a string")
        if any(c.prefix == prefix for c in bundler_credentials):
            return
        user, sep, password = found.value.partition(":")
        if sep:
            bundler_credentials.append(
                Credential(
                    prefix, "basic", Secret(unquote(password)), unquote(user), source=found.source
                )
            )
        else:
            encoded = base64.b64encode(f"{unquote(user)}:".encode()).decode("ascii")
            bundler_credentials.append(
                Credential(prefix, "basic-encoded", Secret(encoded), source=found.source)
            )

    registries: list[Registry]
    if global_sources:
        registries = [registry(s) for s in global_sources]
    else:
        gemrc = _gemrc_sources(env, home, files)
        default = _Setting(DEFAULT_REGISTRIES[ECOSYSTEM], "default")
        registries = [registry(s) for s in gemrc or [default]]
    block = [registry(s) for s in block_sources]
    if gem_sources:
        # keyed by the clean, normalized URL as written; valued by the URL to ask (mirrored)
        by_url = {r.mirror_of or r.url: r.url for r in (*registries, *block)}
        extra["gem_sources"] = {
            gem: by_url.get(key, key)
            for gem, url in gem_sources.items()
            for key in [split_userinfo(_normalize_source(url))[0]]
        }
    if block:
        extra["block_registries"] = tuple(block)

    gem_keys = _gem_credentials(home, files, warnings, extra)
    return RegistrySettings(
        ecosystem=ECOSYSTEM,
        registries=tuple(registries),
        credentials=(*url_credentials, *bundler_credentials, *gem_keys),
        lookup="first",
        files=tuple(files),
        warnings=tuple(warnings),
        extra=extra,
    )
