"""Composer's repositories and credentials: ``composer.json``, ``config.json``, ``auth.json``.

Follows getcomposer.org's documentation (https://getcomposer.org/doc/articles/
authentication-for-private-packages.md, https://getcomposer.org/doc/06-config.md,
https://getcomposer.org/doc/05-repositories.md and the ``COMPOSER_HOME``/``COMPOSER``/
``COMPOSER_AUTH`` entries of https://getcomposer.org/doc/03-cli.md#environment-variables):

* ``COMPOSER_HOME`` is the variable, else ``$XDG_CONFIG_HOME/composer`` (``~/.config/composer``)
  when that directory exists, else ``~/.composer``. Its ``config.json`` and ``auth.json`` are the
  global configuration. The project's file is ``composer.json`` in ``project_dir`` (or the file
  the ``COMPOSER`` variable names), with ``auth.json`` next to it.
* Precedence, lowest first, as Composer merges them: ``config.json`` (its ``config`` section),
  the global ``auth.json``, ``composer.json``'s ``config`` section, the project ``auth.json``,
  then ``COMPOSER_AUTH`` (a JSON document in ``auth.json`` format). Credentials merge per host.
* Repositories: the project's ``repositories`` (list or object form) come first, then the
  global ones, then Packagist (``https://repo.packagist.org/``) unless disabled with
  ``{"packagist.org": false}`` (or ``"packagist"``) or redefined: a ``composer`` repository on
  ``packagist.org`` replaces it, as in Composer. Only ``type: composer`` repositories are
  registries; their ``url`` is kept as written (the protocol module appends ``packages.json``),
  with ``http://`` added when no scheme is given, as Composer does. ``canonical``, ``only`` and
  ``exclude`` go to :attr:`Registry.extra`. Lookup is ``"first"``: a canonical repository that
  has a package hides it in the repositories after it.
* Credentials are matched by host, as Composer does, so each is scoped to ``//host/``:
  ``http-basic`` (basic), ``bearer`` (bearer), ``gitlab-token`` (a string is sent as
  ``PRIVATE-TOKEN``; ``{username, token}`` as basic), ``gitlab-oauth`` (bearer),
  ``github-oauth`` (``Authorization: token ...`` for the host, and for ``api.github.com`` when
  the host is ``github.com``: that is where Packagist's dist URLs point), ``custom-headers``
  (``"Name: value"`` strings, kind ``"header"``). User-info in a repository URL becomes a basic
  credential for its host and wins over the files, since Composer applies it last.

Deviations, said plainly (each gives a warning where it applies):

* ``bitbucket-oauth`` needs an OAuth consumer flow; it is not performed.
* ``gitlab-token``/``gitlab-oauth`` hosts are all treated as GitLab hosts (Composer checks
  ``gitlab-domains``, where they normally are).
* Non-Composer repositories (``vcs``, ``git``, ``path``, ``package``, ``artifact``, ...) are not
  queried, nor are a repository's ``options`` (stream context) applied.
* ``http://`` repositories get a warning while ``secure-http`` is on, since Composer refuses them.
* A registry's ``source`` is ``file:line`` of its URL when the URL is found in the file's text,
  else the file with the field (``composer.json repositories[0]``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

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

ECOSYSTEM = "composer"
PACKAGIST = "packagist.org"
_AUTH_KEYS = (
    "http-basic",
    "bearer",
    "gitlab-token",
    "gitlab-oauth",
    "github-oauth",
    "bitbucket-oauth",
    "custom-headers",
)
_PACKAGIST_URL = re.compile(r"^https?://(?:[a-z0-9.-]+\.)?packagist\.org(?:/|$)", re.IGNORECASE)
_SCHEME = re.compile(r"^[\w.]+\??://")
_HEADER = re.compile(r"^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*:\s*(.*)$")


@dataclass
class _Doc:
    """One JSON document read: its label for messages and its text for line lookups."""

    label: str
    text: str
    data: dict[str, Any]


@dataclass
class _AuthEntry:
    value: Any
    doc: _Doc
    field: str


@dataclass
class _State:
    #: Composer's ``repositories`` as a PHP array: string or int keys, insertion-ordered.
    repos: dict[str | int, Any] = field(default_factory=dict)
    origins: dict[str | int, tuple[_Doc, str]] = field(default_factory=dict)
    #: auth key -> host -> entry, merged per host.
    auth: dict[str, dict[str, _AuthEntry]] = field(default_factory=dict)
    secure_http: bool = True
    warnings: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _parse_json(label: str, text: str) -> _Doc:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # the message never quotes the document: COMPOSER_AUTH holds secrets
        if label.startswith("env "):
            raise SettingsError(
                label, f"invalid JSON at {exc.lineno}:{exc.colno}: {exc.msg}"
            ) from None
        raise SettingsError(
            f"{label}:{exc.lineno}:{exc.colno}", f"invalid JSON: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise SettingsError(label, "the top level must be a JSON object")
    return _Doc(label, text, data)


def _read_json(path: Path, state: _State) -> _Doc | None:
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise SettingsError(str(path), f"cannot read file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(str(path), f"not UTF-8 text: {exc.reason}") from None
    doc = _parse_json(str(path), text)
    state.files.append(str(path))
    return doc


def _composer_home(env: Mapping[str, str], home: Path) -> Path:
    if env.get("COMPOSER_HOME"):
        return Path(env["COMPOSER_HOME"])
    xdg = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    if (xdg / "composer").is_dir():
        return xdg / "composer"
    return home / ".composer"


def _merge_auth(state: _State, doc: _Doc, section: Mapping[str, Any], base: str) -> None:
    for key in _AUTH_KEYS:
        if key not in section:
            continue
        hosts = section[key]
        where = f"{base}{key}"
        if not isinstance(hosts, dict):
            raise SettingsError(f"{doc.label} {where}", "must be an object of host names")
        merged = state.auth.setdefault(key, {})
        for host, value in hosts.items():
            merged[str(host)] = _AuthEntry(value, doc, f"{where}.{host}")
    if "secure-http" in section:
        state.secure_http = bool(section["secure-http"])


def _merge_repositories(state: _State, doc: _Doc) -> None:
    """Composer's ``Config::merge`` for ``repositories``: new ones go before the old ones."""
    raw = doc.data.get("repositories")
    if raw is None:
        return
    if isinstance(raw, list):
        items: list[tuple[str | int, Any]] = list(enumerate(raw))
    elif isinstance(raw, dict):
        items = list(raw.items())
    else:
        raise SettingsError(f"{doc.label} repositories", "must be an array or an object")
    reversed_repos: dict[str | int, Any] = dict(reversed(list(state.repos.items())))
    for key, repo in reversed(items):
        where = f"repositories[{key}]" if isinstance(key, int) else f"repositories.{key}"
        if repo is False:
            _disable_in(reversed_repos, str(key))
            continue
        if isinstance(repo, dict) and len(repo) == 1 and next(iter(repo.values())) is False:
            _disable_in(reversed_repos, str(next(iter(repo))))
            continue
        if not isinstance(repo, dict):
            raise SettingsError(f"{doc.label} {where}", "must be an object (or false)")
        url = repo.get("url")
        if repo.get("type") == "composer" and isinstance(url, str) and _PACKAGIST_URL.match(url):
            _disable_in(reversed_repos, PACKAGIST)
        if isinstance(key, int):
            ints = [k for k in reversed_repos if isinstance(k, int)]
            new_key: str | int = max(ints) + 1 if ints else 0
        else:
            new_key = PACKAGIST if key == "packagist" else key
        reversed_repos[new_key] = repo
        state.origins[new_key] = (doc, where)
    state.repos = dict(reversed(list(reversed_repos.items())))


def _disable_in(repos: dict[str | int, Any], name: str) -> None:
    if name in repos:
        del repos[name]
    elif name == "packagist":
        repos.pop(PACKAGIST, None)


def _line_source(doc: _Doc, url: str, where: str) -> str:
    for needle in (json.dumps(url), json.dumps(url).replace("/", "\\/")):
        at = doc.text.find(needle)
        if at >= 0:
            return f"{doc.label}:{doc.text.count(chr(10), 0, at) + 1}"
    return f"{doc.label} {where}"


def _string(entry: _AuthEntry, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise SettingsError(
            f"{entry.doc.label} {entry.field}", f"{what} must be a non-empty string"
        )
    return value


def _credentials(state: _State) -> list[Credential]:
    """One list per host, in Composer's order of preference, flattened."""
    out: list[Credential] = []
    auth = state.auth
    for host, entry in auth.get("http-basic", {}).items():
        if not isinstance(entry.value, dict):
            raise SettingsError(
                f"{entry.doc.label} {entry.field}", "must be an object with username and password"
            )
        user = _string(entry, entry.value.get("username"), "username")
        password = _string(entry, entry.value.get("password"), "password")
        out.append(_cred(host, "basic", password, entry, username=user))
    for host, entry in auth.get("bearer", {}).items():
        out.append(_cred(host, "bearer", _string(entry, entry.value, "the token"), entry))
    for host, entry in auth.get("gitlab-oauth", {}).items():
        out.append(_cred(host, "bearer", _string(entry, entry.value, "the token"), entry))
    for host, entry in auth.get("gitlab-token", {}).items():
        if isinstance(entry.value, dict):
            user = _string(entry, entry.value.get("username"), "username")
            token = _string(entry, entry.value.get("token"), "token")
            out.append(_cred(host, "basic", token, entry, username=user))
        else:
            token = _string(entry, entry.value, "the token")
            out.append(_cred(host, "header", token, entry, header="PRIVATE-TOKEN"))
    for host, entry in auth.get("github-oauth", {}).items():
        token = "token " + _string(entry, entry.value, "the token")
        out.append(_cred(host, "token", token, entry))
        if host.lower() == "github.com":
            out.append(_cred("api.github.com", "token", token, entry))
    for entry in auth.get("bitbucket-oauth", {}).values():
        state.warnings.append(
            f"{entry.doc.label} {entry.field}: bitbucket-oauth is ignored: the OAuth consumer "
            "flow it needs is not supported; use http-basic with an app password instead"
        )
    for host, entry in auth.get("custom-headers", {}).items():
        if not isinstance(entry.value, list):
            raise SettingsError(
                f"{entry.doc.label} {entry.field}", 'must be an array of "Name: value" strings'
            )
        headers: list[tuple[str, str]] = []
        for i, line in enumerate(entry.value):
            match = _HEADER.match(line) if isinstance(line, str) else None
            if match is None:
                # the text may be a secret: name the field, never the value
                raise SettingsError(
                    f"{entry.doc.label} {entry.field}[{i}]", 'must be a "Name: value" string'
                )
            headers.append((match.group(1), match.group(2)))
        # Every header is sent, with the host's other credentials (RegistrySettings merges
        # the headers of all credentials at the longest matching prefix).
        for name, value in headers:
            out.append(_cred(host, "header", value, entry, header=name))
    return out


def _cred(
    host: str,
    kind: Literal["bearer", "basic", "token", "header"],
    secret: str,
    entry: _AuthEntry,
    *,
    username: str | None = None,
    header: str | None = None,
) -> Credential:
    return Credential(
        prefix=normalize_prefix(f"//{host}/"),
        kind=kind,
        secret=Secret(secret),
        username=username,
        header=header,
        source=f"{entry.doc.label} {entry.field}",
    )


def _config_section(doc: _Doc) -> Mapping[str, Any]:
    section = doc.data.get("config", {})
    if not isinstance(section, dict):
        raise SettingsError(f"{doc.label} config", "must be an object")
    return section


def load(*, project_dir: Path, env: Mapping[str, str], home: Path) -> RegistrySettings:
    """Composer's effective repositories and credentials; see the module docstring."""
    state = _State()
    state.repos[PACKAGIST] = {"type": "composer", "url": DEFAULT_REGISTRIES[ECOSYSTEM]}
    composer_home = _composer_home(env, home)

    global_config = _read_json(composer_home / "config.json", state)
    if global_config is not None:
        _merge_auth(state, global_config, _config_section(global_config), "config.")
        _merge_repositories(state, global_config)
    global_auth = _read_json(composer_home / "auth.json", state)
    if global_auth is not None:
        _merge_auth(state, global_auth, global_auth.data, "")

    composer_file = project_dir / env.get("COMPOSER", "composer.json")
    project = _read_json(composer_file, state)
    if project is not None:
        _merge_auth(state, project, _config_section(project), "config.")
        _merge_repositories(state, project)
    project_auth = _read_json(composer_file.parent / "auth.json", state)
    if project_auth is not None:
        _merge_auth(state, project_auth, project_auth.data, "")
    if env.get("COMPOSER_AUTH"):
        auth_env = _parse_json("env COMPOSER_AUTH", env["COMPOSER_AUTH"])
        _merge_auth(state, auth_env, auth_env.data, "")

    url_credentials: list[Credential] = []
    registries: list[Registry] = []
    for key, repo in state.repos.items():
        origin = state.origins.get(key)
        if origin is None:  # Packagist, the default
            registries.append(
                Registry(name=PACKAGIST, url=DEFAULT_REGISTRIES[ECOSYSTEM], source="default")
            )
            continue
        doc, where = origin
        kind = repo.get("type")
        if not isinstance(kind, str):
            raise SettingsError(f"{doc.label} {where}", "the repository has no type")
        url_value = repo.get("url")
        shown = url_value if isinstance(url_value, str) else ""
        if kind != "composer":
            clean_url = split_userinfo(shown)[0] if shown else ""
            label = f" ({clean_url})" if clean_url else ""
            state.warnings.append(
                f"{_line_source(doc, shown, where) if shown else f'{doc.label} {where}'}: "
                f"{kind} repository{label} is not a Composer repository; not queried"
            )
            continue
        if not isinstance(url_value, str) or not url_value:
            raise SettingsError(f"{doc.label} {where}", "a composer repository needs a url")
        source = _line_source(doc, url_value, where)
        url = url_value if _SCHEME.match(url_value) else "http://" + url_value
        url, user, password = split_userinfo(url)
        if user is not None or password is not None:
            url_credentials.append(
                Credential(
                    normalize_prefix("//" + url.split("//", 1)[1].split("/", 1)[0] + "/"),
                    "basic",
                    password,
                    username=user,
                    source=source,
                )
            )
        if url.lower().startswith("http://") and state.secure_http:
            state.warnings.append(
                f"{source}: {url} uses http://, which Composer refuses while secure-http is on"
            )
        if "options" in repo:
            state.warnings.append(f"{source}: the repository's options are not applied")
        extra = {k: repo[k] for k in ("canonical", "only", "exclude") if k in repo}
        name = key if isinstance(key, str) else str(repo.get("name", url))
        registries.append(Registry(name=name, url=url, source=source, extra=extra))

    if not registries:
        state.warnings.append("no Composer repository is configured (Packagist is disabled)")
    return RegistrySettings(
        ecosystem=ECOSYSTEM,
        registries=tuple(registries),
        credentials=(*url_credentials, *_credentials(state)),
        lookup="first",
        files=tuple(state.files),
        warnings=tuple(state.warnings),
    )
