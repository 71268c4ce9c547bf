"""npm's registries and credentials, read from ``.npmrc`` files and ``npm_config_*`` variables.

Follows npm's documentation (https://docs.npmjs.com/cli/configuring-npm/npmrc and
https://docs.npmjs.com/cli/using-npm/config) and the auth lookup of npm-registry-fetch:

* Files, lowest precedence first: the global ``npmrc`` (``npm_config_globalconfig``, else
  ``{npm_config_prefix}/etc/npmrc``; when neither variable is set the global file is skipped
  rather than guessing where node is installed), the user ``~/.npmrc``
  (``npm_config_userconfig``), and the project ``.npmrc`` in npm's *localPrefix*: the nearest
  directory, walking up from ``project_dir``, that contains ``package.json`` or
  ``node_modules`` (else ``project_dir``). A project file that is the user file is read once.
  ``npm_config_*`` environment variables override every file: names are matched
  case-insensitively, the rest is lower-cased and every ``_`` but a leading one becomes ``-``,
  and empty values are ignored, as npm does.
* The ini dialect of npm's ``ini`` package: ``key=value`` (the key is everything up to the first
  ``=``), ``;``/``#`` comment lines and unescaped inline comments in unquoted values, ``"..."``
  (JSON) and ``'...'`` quoting, ``key[]=v`` arrays, a bare ``key`` meaning ``true``.
  ``${VAR}`` in keys and values is replaced from the environment; ``${VAR?}`` becomes empty
  when unset; ``\\${VAR}`` stays literal.
* ``registry`` is the default registry (https://registry.npmjs.org/ otherwise);
  ``@scope:registry`` routes that scope's packages to its own registry.
* Credentials are "nerf-darted": ``//host[:port]/path/:_authToken`` (bearer), ``:_auth``
  (base64 ``user:pass``), ``:username`` + ``:_password`` (the password base64-encoded in the
  file). For one prefix npm prefers ``_authToken``, then ``_auth``, then username/password; a
  request uses the credential whose prefix is the longest one its URL falls under, so tarball
  URLs below a registry's path get the registry's credential, and the ``//`` prefix matches http
  and https alike.

Deviations, said plainly:

* An unset ``${VAR}`` is an error (``Failed to replace env in config``) as in npm 6; npm 7+ keep
  the literal text, which would only send ``${VAR}`` as a token and fail later, less clearly.
* Unscoped ``_authToken``/``_auth``/``username``/``_password`` are refused by npm 9+ ("must be
  scoped to a registry"); here they are reported as warnings and not used.
* ``cafile`` is honoured (``extra["ca_file"]``: the CAs trusted instead of the default ones);
  client certificates (``certfile``/``keyfile``/``cert``/``key``), an inline ``ca``,
  ``strict-ssl=false`` and proxies are not applied; each configured one gives a warning.
* ``always-auth`` needs no handling: a credential is always sent to URLs under its prefix. The
  prefixes it was set for are listed in ``extra["always_auth"]``.
* ``[section]`` headers make npm nest the keys below them, where npm never looks; they are
  skipped with a warning.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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

ECOSYSTEM = "npm"

#: npm's env-replace pattern: an odd number of backslashes before ``${`` escapes it.
_ENV_EXPR = re.compile(r"(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}")
_SECTION = re.compile(r"^\[([^\]]*)\]\s*$")
_AUTH_SUFFIXES = ("_authToken", "_auth", "username", "_password", "always-auth")
_CERT_SUFFIXES = ("certfile", "keyfile")
_UNSCOPED_AUTH = ("_authToken", "_auth", "username", "_password")
#: Settings that change how requests are made, which this client does not apply.
_UNSUPPORTED = {
    "certfile": "client certificates are not supported",
    "keyfile": "client certificates are not supported",
    "cert": "client certificates are not supported",
    "key": "client certificates are not supported",
    "ca": "custom certificate authorities are not applied",
    "proxy": "proxies are not applied",
    "https-proxy": "proxies are not applied",
}


@dataclass(frozen=True)
class _Value:
    value: Any  # str, bool or list[str | bool]
    source: str  # "file:line" or "env VAR"


def _unsafe(text: str) -> str:
    """The ``ini`` package's ``unsafe``: unquote, or drop an inline comment and unescape."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        inner = text[1:-1] if text[0] == "'" else text
        try:
            parsed = json.loads(inner)
        except ValueError:
            return inner
        return parsed if isinstance(parsed, str) else inner
    out: list[str] = []
    escaped = False
    for c in text:
        if escaped:
            out.append(c if c in "\\;#" else "\\" + c)
            escaped = False
        elif c in ";#":
            break
        elif c == "\\":
            escaped = True
        else:
            out.append(c)
    if escaped:
        out.append("\\")
    return "".join(out).strip()


def _env_replace(text: str, env: Mapping[str, str], where: str) -> str:
    def repl(match: re.Match[str]) -> str:
        esc, name, optional = match.group(1), match.group(2), match.group(3)
        if len(esc) % 2:
            return match.group(0)[(len(esc) + 1) // 2 :]
        if name in env:
            value = env[name]
        elif optional:
            value = ""
        else:
            raise SettingsError(where, f"Failed to replace env in config: ${{{name}}}")
        return esc[len(esc) // 2 :] + value

    return _ENV_EXPR.sub(repl, text)


def _parse_value(raw: str | None, env: Mapping[str, str], where: str) -> str | bool:
    if raw is None:
        return True
    value = _unsafe(raw)
    if value in ("true", "false"):
        return value == "true"
    return _env_replace(value, env, where)


def _read_npmrc(
    path: Path, env: Mapping[str, str], into: dict[str, _Value], warnings: list[str]
) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(str(path), f"cannot read file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SettingsError(str(path), f"not UTF-8 text: {exc.reason}") from None
    section: str | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        where = f"{path}:{lineno}"
        if not line.strip() or line.lstrip()[:1] in (";", "#"):
            continue
        header = _SECTION.match(line)
        if header is not None:
            section = header.group(1)
            warnings.append(
                f"{where}: section [{section}] is ignored: npm never reads keys inside a section"
            )
            continue
        if section is not None:
            continue
        raw_key, sep, raw_value = line.partition("=")
        key = _env_replace(_unsafe(raw_key), env, where)
        is_array = len(key) > 2 and key.endswith("[]")
        if is_array:
            key = key[:-2]
        if not key or key == "__proto__":
            continue
        value = _parse_value(raw_value if sep else None, env, where)
        if is_array:
            previous = into.get(key)
            items = list(previous.value) if previous and isinstance(previous.value, list) else []
            into[key] = _Value([*items, value], where)
        else:
            into[key] = _Value(value, where)


def _env_key(name: str) -> str:
    rest = name[len("npm_config_") :]
    return (rest[:1] + rest[1:].replace("_", "-")).lower()


def _env_get(env: Mapping[str, str], key: str) -> str | None:
    """An ``npm_config_<key>`` variable, matched case-insensitively, ignored when empty."""
    for name, value in env.items():
        if name.lower().startswith("npm_config_") and _env_key(name) == key and value:
            return value
    return None


def _local_prefix(project_dir: Path) -> Path:
    start = project_dir.resolve()
    for directory in (start, *start.parents):
        if (directory / "package.json").is_file() or (directory / "node_modules").is_dir():
            return directory
    return start


def _registry_url(value: _Value, key: str) -> str:
    if not isinstance(value.value, str) or not value.value.strip():
        raise SettingsError(value.source, f"{key} must be a URL")
    url = value.value.strip()
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
        raise SettingsError(value.source, f"{key} must be an http(s) URL")
    return url if url.endswith("/") else url + "/"


def _config_files(project_dir: Path, env: Mapping[str, str], home: Path) -> list[Path]:
    files: list[Path] = []
    globalconfig = _env_get(env, "globalconfig")
    prefix = _env_get(env, "prefix")
    if globalconfig is not None:
        files.append(Path(globalconfig).expanduser())
    elif prefix is not None:
        files.append(Path(prefix) / "etc" / "npmrc")
    userconfig = _env_get(env, "userconfig")
    user = Path(userconfig) if userconfig is not None else home / ".npmrc"
    if userconfig is not None and userconfig.startswith("~"):
        user = home / userconfig[1:].lstrip("/\\")
    files.append(user)
    project = _local_prefix(project_dir) / ".npmrc"
    # npm skips the project file when it is the user file (a project in the home directory).
    if not (project.is_file() and user.is_file() and project.resolve() == user.resolve()):
        files.append(project)
    return [f for f in files if f.is_file()]


def _secret_text(value: _Value, what: str) -> str:
    if not isinstance(value.value, str):
        raise SettingsError(value.source, f"{what} must be a string")
    return value.value


def _credentials(
    config: Mapping[str, _Value], warnings: list[str], extra: dict[str, Any]
) -> list[Credential]:
    by_prefix: dict[str, dict[str, _Value]] = {}
    for key, value in config.items():
        if not key.startswith("//"):
            continue
        nerf, sep, suffix = key.rpartition(":")
        if not sep or not nerf:
            continue
        if suffix in _CERT_SUFFIXES:
            warnings.append(
                f"{value.source}: {key} is ignored: client certificates are not supported"
            )
            continue
        if suffix in _AUTH_SUFFIXES:
            by_prefix.setdefault(normalize_prefix(nerf), {})[suffix] = value
    credentials: list[Credential] = []
    always: list[str] = []
    for prefix, fields in by_prefix.items():
        if "always-auth" in fields and fields["always-auth"].value is True:
            always.append(prefix)
        if "_authToken" in fields:
            token = fields["_authToken"]
            credentials.append(
                Credential(
                    prefix, "bearer", Secret(_secret_text(token, "_authToken")), source=token.source
                )
            )
        elif "_auth" in fields:
            auth = fields["_auth"]
            credentials.append(
                Credential(
                    prefix, "basic-encoded", Secret(_secret_text(auth, "_auth")), source=auth.source
                )
            )
        elif "username" in fields and "_password" in fields:
            user, password = fields["username"], fields["_password"]
            try:
                decoded = base64.b64decode(_secret_text(password, "_password"), validate=True)
                plain = decoded.decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise SettingsError(
                    password.source, "_password must be base64-encoded (npm stores it that way)"
                ) from None
            credentials.append(
                Credential(
                    prefix,
                    "basic",
                    Secret(plain),
                    username=_secret_text(user, "username"),
                    source=password.source,
                )
            )
        elif "username" in fields or "_password" in fields:
            have, missing = (
                ("username", "_password") if "username" in fields else ("_password", "username")
            )
            warnings.append(
                f"{fields[have].source}: {prefix}:{have} is ignored: "
                f"{prefix}:{missing} is not configured"
            )
    if always:
        extra["always_auth"] = always
    return credentials


def load(*, project_dir: Path, env: Mapping[str, str], home: Path) -> RegistrySettings:
    """npm's effective registry settings for ``project_dir``; see the module docstring."""
    warnings: list[str] = []
    config: dict[str, _Value] = {}
    files = _config_files(project_dir, env, home)
    for path in files:
        _read_npmrc(path, env, config, warnings)
    for name, raw in env.items():
        if not name.lower().startswith("npm_config_") or raw == "":
            continue
        where = f"env {name}"
        parsed: str | bool = raw if raw not in ("true", "false") else raw == "true"
        if isinstance(parsed, str):
            parsed = _env_replace(parsed, env, where)
        config[_env_replace(_env_key(name), env, where)] = _Value(parsed, where)

    for key, value in config.items():
        if key in _UNSCOPED_AUTH:
            warnings.append(
                f"{value.source}: {key} is ignored: it must be scoped to a registry "
                f"(//host/path/:{key}), as npm 9 and later require"
            )
        elif key in _UNSUPPORTED:
            warnings.append(f"{value.source}: {key} is ignored: {_UNSUPPORTED[key]}")
        elif key == "strict-ssl" and value.value is False:
            warnings.append(
                f"{value.source}: strict-ssl=false is ignored: certificates are always verified"
            )

    extra: dict[str, Any] = {}
    cafile = config.get("cafile")
    if cafile is not None and isinstance(cafile.value, str) and cafile.value:
        # Replaces the default certificate authorities, as npm's cafile does.
        extra["ca_file"] = str((project_dir / cafile.value).resolve())
    credentials = _credentials(config, warnings, extra)

    def registry(name: str, key: str, value: _Value) -> Registry:
        url, user, password = split_userinfo(_registry_url(value, key))
        if user is not None or password is not None:
            credentials.append(
                Credential(
                    normalize_prefix(url), "basic", password, username=user, source=value.source
                )
            )
        return Registry(name=name, url=url, source=value.source)

    if "registry" in config:
        default = registry("default", "registry", config["registry"])
    else:
        default = Registry(name="default", url=DEFAULT_REGISTRIES[ECOSYSTEM], source="default")
    routes: dict[str, Registry] = {}
    for key, value in config.items():
        scope, sep, rest = key.partition(":")
        if sep and rest == "registry" and scope.startswith("@") and len(scope) > 1:
            routes[scope.lower()] = registry(scope.lower(), key, value)

    return RegistrySettings(
        ecosystem=ECOSYSTEM,
        registries=(default,),
        credentials=tuple(credentials),
        routes=routes,
        lookup="first",
        files=tuple(str(f) for f in files),
        warnings=tuple(warnings),
        extra=extra,
    )
