"""Which registries to ask, and with which credentials, read from each ecosystem's usual files.

Every package manager keeps its registries and tokens in its own place: ``.npmrc``,
``pip.conf`` and ``.netrc``, ``~/.cargo/config.toml``, Maven's ``settings.xml``,
``NuGet.config``, ``~/.gem/credentials`` and Bundler's config, Composer's ``auth.json``.
One loader per ecosystem (``tuskops.packages.ecosystems.<eco>_settings``) reads them the way
the native tool does and fills one model, :class:`RegistrySettings`:

* ``registries``: where to look, in the tool's order, each with where it was configured;
* ``routes``: packages that go to a registry of their own (npm ``@scope:registry``);
* ``credentials``: secrets scoped to a URL prefix, turned into request headers only when a
  request's URL falls under that prefix (:meth:`RegistrySettings.auth_headers`);
* ``lookup``: how several registries combine: ``"first"`` (the first that has the package
  answers: npm, RubyGems, Composer, Cargo) or ``"union"`` (all are merged: pip, Maven, NuGet).

Secrets are held in :class:`Secret`, whose ``str``/``repr`` never show the value, and
:meth:`RegistrySettings.to_json` shows where a credential came from, never what it is.
Loaders take ``project_dir``, ``env`` and ``home`` explicitly, so tests never read the real
machine's configuration.
"""

from __future__ import annotations

import base64
import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from tuskops.errors import PackageError

__all__ = [
    "DEFAULT_REGISTRIES",
    "Credential",
    "Registry",
    "RegistrySettings",
    "Secret",
    "SettingsError",
    "SettingsLoader",
    "load",
    "normalize_prefix",
    "split_userinfo",
]

REDACTED = "<redacted>"

#: Each ecosystem's public registry, used when nothing is configured.
DEFAULT_REGISTRIES: dict[str, str] = {
    "pypi": "https://pypi.org/simple/",
    "npm": "https://registry.npmjs.org/",
    "cargo": "https://index.crates.io/",
    "maven": "https://repo.maven.apache.org/maven2/",
    "nuget": "https://api.nuget.org/v3/index.json",
    "rubygems": "https://rubygems.org/",
    "composer": "https://repo.packagist.org/",
}


class SettingsError(PackageError):
    """A configuration file could not be read. ``location`` is ``file:line:col`` or ``file``."""

    def __init__(self, location: str, message: str) -> None:
        self.location = location
        self.detail = message
        super().__init__(f"{location}: {message}")


class Secret:
    """A token or password. Never shown by ``str``, ``repr`` or ``to_json``; ``reveal()`` it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def normalize_prefix(url: str) -> str:
    """``scheme://host[:port]/path/`` in lower-case host, with a trailing slash, no user-info.

    npm writes credential keys without a scheme (``//host/path/``); those match both http and
    https, so the prefix keeps the ``//`` form. Default ports are dropped.
    """
    parts = urlsplit(url if "//" in url else f"//{url}")
    host = (parts.hostname or "").lower()
    port = parts.port
    if port is not None and not (
        (parts.scheme == "https" and port == 443) or (parts.scheme == "http" and port == 80)
    ):
        host = f"{host}:{port}"
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((parts.scheme.lower(), host, path, "", ""))


def _matches(prefix: str, url: str) -> bool:
    target = normalize_prefix(url)
    if prefix.startswith("//"):
        target = "//" + target.split("//", 1)[1]
    return target.startswith(prefix)


def split_userinfo(url: str) -> tuple[str, str | None, Secret | None]:
    """``https://user:pass@host/x`` -> (``https://host/x``, ``user``, ``Secret(pass)``).

    Registry URLs are kept without user-info, so a password can never reach a log line, an
    error or the HTTP cache; the user-info becomes a :class:`Credential` instead.
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, sep, password = userinfo.partition(":")
    clean = urlunsplit(parts._replace(netloc=host))
    return clean, unquote(user) or None, Secret(unquote(password)) if sep else None


@dataclass(frozen=True)
class Credential:
    """A secret for every request whose URL starts with ``prefix``.

    ``kind``: ``"bearer"`` (``Authorization: Bearer``), ``"basic"`` (``username`` and
    ``secret`` as password), ``"basic-encoded"`` (npm's ``_auth``: ``secret`` is already
    ``base64(user:pass)``), ``"token"`` (``Authorization: <secret>`` as is, Cargo's form) or
    ``"header"`` (``header: <secret>``).
    """

    prefix: str
    kind: Literal["bearer", "basic", "basic-encoded", "token", "header"]
    secret: Secret | None
    username: str | None = None
    header: str | None = None
    #: Where it was configured: ``"/home/me/.npmrc:3"`` or ``"env NPM_TOKEN"``. Never the value.
    source: str = ""

    def headers(self) -> dict[str, str]:
        value = self.secret.reveal() if self.secret is not None else ""
        if self.kind == "bearer":
            return {"Authorization": f"Bearer {value}"}
        if self.kind == "basic":
            raw = f"{self.username or ''}:{value}".encode()
            return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
        if self.kind == "basic-encoded":
            return {"Authorization": f"Basic {value}"}
        if self.kind == "token":
            return {"Authorization": value}
        return {self.header or "Authorization": value}

    def to_json(self) -> dict[str, Any]:
        return {
            "prefix": self.prefix,
            "kind": self.kind,
            "username": self.username,
            "secret": REDACTED if self.secret else None,
            "header": self.header,
            "source": self.source,
        }


@dataclass(frozen=True)
class Registry:
    """One registry (index, repository, source, feed) to ask."""

    #: The tool's own name for it: ``"default"``, ``"@myco"``, a Maven repository id, a NuGet
    #: source key, a Cargo registry name.
    name: str
    #: The URL the protocol module expects (no user-info, never a secret).
    url: str
    #: Where it was configured (``file:line``, ``env VAR``) or ``"default"``.
    source: str = "default"
    #: What it replaced, when a mirror or ``replace-with`` redirected it (for display).
    mirror_of: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "source": self.source,
            "mirror_of": self.mirror_of,
            **({"extra": dict(self.extra)} if self.extra else {}),
        }


@dataclass(frozen=True)
class RegistrySettings:
    """The effective registry configuration of one ecosystem for one project."""

    ecosystem: str
    #: In the tool's order; the first is the default registry.
    registries: tuple[Registry, ...]
    credentials: tuple[Credential, ...] = ()
    #: Package-name routing: npm scope (``"@myco"``) -> its registry.
    routes: Mapping[str, Registry] = field(default_factory=dict)
    lookup: Literal["first", "union"] = "first"
    #: The configuration files read, in precedence order (lowest first).
    files: tuple[str, ...] = ()
    #: Things the loader could not honour, said plainly (e.g. an encrypted Maven password).
    warnings: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def default(self) -> Registry:
        if not self.registries:
            raise PackageError(self.no_registries_message())
        return self.registries[0]

    def no_registries_message(self) -> str:
        why = "; ".join(self.warnings) if self.warnings else "nothing is configured"
        return f"no {self.ecosystem} registry is left to ask: {why}"

    def registries_for(self, package: str) -> tuple[Registry, ...]:
        """Where ``package`` is looked up: its route (npm scope) if any, else every registry."""
        if package.startswith("@") and "/" in package:
            route = self.routes.get(package.split("/", 1)[0].lower())
            if route is not None:
                return (route,)
        return self.registries

    def credentials_for(self, url: str) -> list[Credential]:
        """The credentials of the longest prefix that ``url`` falls under (several when one
        place configures several headers, e.g. a Maven server's password and httpHeaders)."""
        matching = [c for c in self.credentials if _matches(c.prefix, url)]
        if not matching:
            return []
        longest = max(len(c.prefix) for c in matching)
        return [c for c in matching if len(c.prefix) == longest]

    def credential_for(self, url: str) -> Credential | None:
        """The first credential of :meth:`credentials_for`."""
        found = self.credentials_for(url)
        return found[0] if found else None

    def auth_headers(self, url: str) -> Mapping[str, str] | None:
        """The :data:`~tuskops.packages.http.AuthHook` for :class:`RegistryClient`: the headers
        of every credential at the longest matching prefix (the first one wins a clash)."""
        found = self.credentials_for(url)
        if not found:
            return None
        headers: dict[str, str] = {}
        for cred in reversed(found):
            headers.update(cred.headers())
        return headers

    def to_json(self) -> dict[str, Any]:
        return {
            "ecosystem": self.ecosystem,
            "lookup": self.lookup,
            "registries": [r.to_json() for r in self.registries],
            "routes": {k: v.to_json() for k, v in self.routes.items()},
            "credentials": [c.to_json() for c in self.credentials],
            "files": list(self.files),
            "warnings": list(self.warnings),
            "extra": _plain(self.extra),
        }


def _plain(value: Any) -> Any:
    """``extra`` for JSON: registries as their JSON, secrets redacted, the rest as text."""
    if isinstance(value, Secret):
        return REDACTED
    if isinstance(value, Registry | Credential):
        return value.to_json()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class SettingsLoader(Protocol):
    """``load(project_dir, env, home)`` of each ``<eco>_settings`` module."""

    def __call__(
        self, *, project_dir: Path, env: Mapping[str, str], home: Path
    ) -> RegistrySettings: ...


_LOADERS = {
    "npm": "tuskops.packages.ecosystems.npm_settings",
    "pypi": "tuskops.packages.ecosystems.pypi_settings",
    "cargo": "tuskops.packages.ecosystems.cargo_settings",
    "maven": "tuskops.packages.ecosystems.maven_settings",
    "nuget": "tuskops.packages.ecosystems.nuget_settings",
    "rubygems": "tuskops.packages.ecosystems.rubygems_settings",
    "composer": "tuskops.packages.ecosystems.composer_settings",
}


def load(
    ecosystem: str,
    *,
    project_dir: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    home: str | os.PathLike[str] | None = None,
) -> RegistrySettings:
    """The settings of ``ecosystem`` (or an alias: pip, gem, crates, packagist) as its tool
    would see them from ``project_dir`` (default: the current directory)."""
    from tuskops.packages.ecosystems import ALIASES

    key = ALIASES.get(ecosystem.lower(), ecosystem.lower())
    module = _LOADERS.get(key)
    if module is None:
        raise PackageError(f"unknown ecosystem '{ecosystem}' (known: {', '.join(_LOADERS)})")
    loader: Callable[..., RegistrySettings] = importlib.import_module(module).load
    return loader(
        project_dir=Path(project_dir) if project_dir is not None else Path.cwd(),
        env=dict(os.environ) if env is None else env,
        home=Path(home) if home is not None else Path.home(),
    )
