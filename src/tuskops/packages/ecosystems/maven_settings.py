"""Maven's repositories, mirrors and server credentials, read from ``settings.xml``.

Follows the Maven documentation: "Settings Reference"
(https://maven.apache.org/settings.html), "Guide to Mirror Settings"
(https://maven.apache.org/guides/mini/guide-mirror-settings.html), "Password Encryption"
(https://maven.apache.org/guides/mini/guide-encryption.html) and "Configuring Apache Maven"
(https://maven.apache.org/configure.html):

* Files: the global ``$MAVEN_HOME/conf/settings.xml`` (``MAVEN_HOME``, else ``M2_HOME``;
  skipped when neither is set) and the user ``~/.m2/settings.xml``. ``-s``/``--settings`` and
  ``-gs``/``--global-settings`` in the project's ``.mvn/maven.config`` (one argument per line
  since Maven 3.9, whitespace-separated before; both are read) or in ``MAVEN_ARGS`` replace those
  paths; relative paths are taken from the project directory. A file named that way must exist.
* User settings dominate global ones: mirrors, servers, proxies and profiles are merged by id,
  the user's entry replacing the global one whole; the global entries not overridden follow the
  user's, and ``activeProfiles`` are the union.
* ``${env.VAR}``, ``${user.home}``, ``${maven.home}``, ``${user.dir}`` and ``-Dname=value``
  properties of ``maven.config``/``MAVEN_ARGS`` are interpolated in every value, as Maven does
  with system and user properties. Anything else stays as written, with a warning.
* Repositories: those of settings profiles active through ``activeProfiles``, ``-P`` or their
  ``<activation>`` (``activeByDefault`` counts only when no other settings profile is active;
  ``<property>`` conditions are evaluated against ``-D`` properties and ``env.*``), then the
  project ``pom.xml``'s own ``<repositories>``, then ``central``
  (https://repo.maven.apache.org/maven2/) unless an earlier one already has that id. An earlier
  repository with an id wins over a later one with the same id.
* Mirrors (:func:`mirror_for`): a mirror whose ``mirrorOf`` is exactly the repository id wins;
  otherwise the first mirror, in merged order, whose pattern matches: ``*``, ``external:*``
  (not localhost/127.0.0.1, not ``file:``), ``external:http:*`` (plain http, dav, not local),
  comma lists and ``!id`` exclusions. A repository routed to a mirror becomes a registry named
  after the mirror, with the mirror's URL and ``mirror_of`` the repository id; repositories
  sharing a mirror collapse into one registry whose ``mirror_of`` lists their ids, comma-joined.
* Maven 3.8.1+ ships a blocked ``maven-default-http-blocker`` mirror (``external:http:*``) in
  its ``conf/settings.xml``. When no global settings file is read, that stock mirror is assumed.
  A repository routed to a blocked mirror is not listed: it gets a warning and an entry in
  ``extra["blocked"]``.
* Credentials: ``<server>`` whose id is the registry's name (the repository id, or the mirror id
  when mirrored), scoped to the registry's URL. ``username``/``password`` give basic auth,
  ``<configuration><httpHeaders><property>`` gives header credentials. User-info in a repository
  or mirror URL is moved into a basic credential.
* ``lookup`` is ``"union"``: Maven merges ``maven-metadata.xml`` across repositories.

Deviations, said plainly (each gives a warning when configured):

* Encrypted passwords (``{...}``, settings-security.xml) are not decrypted: no credential.
* ``privateKey``/``passphrase`` (SSH/SCP transports), proxies and ``offline`` are not applied.
* Profile activation by ``jdk``, ``os`` or ``file`` is not evaluated; such a profile counts as
  inactive unless listed in ``activeProfiles``/``-P``.
* POM profiles, parent POM repositories and ``pluginRepositories`` are not read; mirror
  ``mirrorOfLayouts`` is ignored (every repository is taken to use the default layout).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tuskops.errors import ManifestError
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
from tuskops.packages.xmldoc import Element
from tuskops.packages.xmldoc import parse as parse_xml

__all__ = ["HTTP_BLOCKER", "Mirror", "load", "mirror_for"]

CENTRAL_ID = "central"


@dataclass(frozen=True)
class Mirror:
    """A ``<mirror>``: serves every repository its ``mirror_of`` selector matches."""

    id: str
    url: str
    mirror_of: str
    blocked: bool = False
    source: str = ""


#: The mirror Maven 3.8.1+ ships in ``conf/settings.xml`` to refuse plain-http repositories.
HTTP_BLOCKER = Mirror(
    id="maven-default-http-blocker",
    url="http://0.0.0.0/",
    mirror_of="external:http:*",
    blocked=True,
    source="default (Maven 3.8.1+ conf/settings.xml)",
)


# --- mirror selection (Guide to Mirror Settings) ---------------------------------------------


def _host_and_scheme(url: str) -> tuple[str, str] | None:
    try:
        parts = urlsplit(url)
        return (parts.hostname or "").lower(), parts.scheme.lower()
    except ValueError:
        return None


def _is_local(host: str) -> bool:
    return host in ("localhost", "127.0.0.1")


def _is_external(url: str) -> bool:
    hs = _host_and_scheme(url)
    # An unparsable URL is not "external": Maven skips it here and fails later.
    return hs is not None and hs[1] not in ("", "file") and not _is_local(hs[0])


def _is_external_http(url: str) -> bool:
    hs = _host_and_scheme(url)
    return hs is not None and hs[1] in ("http", "dav", "dav+http") and not _is_local(hs[0])


def _matches_selector(repository_id: str, url: str, selector: str) -> bool:
    selector = selector.strip()
    if selector in ("*", repository_id):
        return True
    matched = False
    for raw in selector.split(","):
        item = raw.strip()
        if len(item) > 1 and item.startswith("!"):
            if item[1:] == repository_id:
                return False  # an exclusion ends the scan, wherever it stands
        elif item == repository_id:
            return True
        elif (
            item == "*"
            or (item == "external:*" and _is_external(url))
            or (item == "external:http:*" and _is_external_http(url))
        ):
            # Keep scanning: a later "!id" may still exclude this repository.
            matched = True
    return matched


def mirror_for(repository_id: str, url: str, mirrors: Sequence[Mirror]) -> Mirror | None:
    """The mirror Maven uses for repository ``repository_id`` at ``url``, or ``None``.

    An exact ``mirrorOf`` id match wins over every pattern; otherwise the first mirror whose
    selector matches, in ``mirrors`` order.
    """
    for mirror in mirrors:
        if mirror.mirror_of.strip() == repository_id:
            return mirror
    for mirror in mirrors:
        if _matches_selector(repository_id, url, mirror.mirror_of):
            return mirror
    return None


# --- reading settings.xml ----------------------------------------------------------------------


@dataclass
class _Server:
    id: str
    source: str
    username: str | None = None
    password: Secret | None = None
    encrypted: bool = False
    headers: list[tuple[str, Secret]] = field(default_factory=list)
    ssh: bool = False


@dataclass
class _Repo:
    id: str
    url: str
    source: str


@dataclass
class _Profile:
    id: str
    source: str
    by_default: bool = False
    #: ``(name, expected value or None)``; a leading ``!`` on the name negates.
    properties: list[tuple[str, str | None]] = field(default_factory=list)
    #: Conditions this loader cannot evaluate (jdk, os, file).
    unsupported: list[str] = field(default_factory=list)
    repositories: list[_Repo] = field(default_factory=list)


@dataclass
class _Settings:
    mirrors: list[Mirror] = field(default_factory=list)
    servers: list[_Server] = field(default_factory=list)
    profiles: list[_Profile] = field(default_factory=list)
    active_profiles: list[str] = field(default_factory=list)
    proxies: list[tuple[str, str]] = field(default_factory=list)
    offline: str | None = None


_EXPR = re.compile(r"\$\{([^}]+)\}")
# Maven's cipher: "{...}" anywhere in the value, braces not escaped with a backslash.
_ENCRYPTED = re.compile(r"(?<!\\)\{[^{}]*(?<!\\)\}")


class _Interpolator:
    def __init__(self, values: Mapping[str, str], env: Mapping[str, str]) -> None:
        self.values = values
        self.env = env
        self.warnings: list[str] = []

    def __call__(self, text: str, where: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            value = self.env.get(name[4:]) if name.startswith("env.") else self.values.get(name)
            if value is None:
                message = f"{where}: ${{{name}}} is not defined; kept as written"
                if message not in self.warnings:
                    self.warnings.append(message)
                return match.group(0)
            return value

        return _EXPR.sub(replace, text)


class _Reader:
    def __init__(self, path: Path, interp: _Interpolator) -> None:
        self.path = path
        self.file = str(path)
        self.interp = interp

    def at(self, node: Element) -> str:
        return f"{self.file}:{node.line}"

    def text(self, node: Element | None) -> str | None:
        if node is None:
            return None
        return self.interp(node.text, self.at(node))

    def value(self, node: Element, tag: str) -> str | None:
        return self.text(node.child(tag))

    def required(self, node: Element, tag: str, what: str) -> str:
        value = self.value(node, tag)
        if not value:
            raise SettingsError(f"{self.file}:{node.where}", f"{what}: <{tag}> is missing")
        return value

    def section(self, root: Element, outer: str, inner: str) -> Iterable[Element]:
        container = root.child(outer)
        return container.all(inner) if container is not None else ()

    def read(self) -> _Settings:
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise SettingsError(self.file, f"cannot read: {exc.strerror or exc}") from None

        def fail(message: str, where: str) -> SettingsError:
            return SettingsError(f"{self.file}:{where}", message)

        root = parse_xml(data, fail)
        if root.tag != "settings":
            raise SettingsError(
                f"{self.file}:{root.where}", f"root element is <{root.tag}>, not <settings>"
            )
        out = _Settings()
        for node in self.section(root, "mirrors", "mirror"):
            out.mirrors.append(self.mirror(node))
        for node in self.section(root, "servers", "server"):
            out.servers.append(self.server(node))
        for node in self.section(root, "profiles", "profile"):
            out.profiles.append(self.profile(node))
        for node in self.section(root, "activeProfiles", "activeProfile"):
            name = self.text(node)
            if name:
                out.active_profiles.append(name)
        for node in self.section(root, "proxies", "proxy"):
            if (self.value(node, "active") or "true").lower() != "false":
                out.proxies.append((self.value(node, "id") or "", self.at(node)))
        offline = root.child("offline")
        if offline is not None and (self.text(offline) or "").lower() == "true":
            out.offline = self.at(offline)
        return out

    def mirror(self, node: Element) -> Mirror:
        ident = self.required(node, "id", "mirror")
        return Mirror(
            id=ident,
            url=self.required(node, "url", f"mirror '{ident}'"),
            mirror_of=self.required(node, "mirrorOf", f"mirror '{ident}'"),
            blocked=(self.value(node, "blocked") or "").lower() == "true",
            source=self.at(node),
        )

    def server(self, node: Element) -> _Server:
        server = _Server(id=self.required(node, "id", "server"), source=self.at(node))
        server.username = self.value(node, "username")
        password = self.value(node, "password")
        if password is not None:
            if _ENCRYPTED.search(password):
                server.encrypted = True
            else:
                # Maven's escape for literal braces in a plain password.
                server.password = Secret(password.replace("\\{", "{").replace("\\}", "}"))
        server.ssh = node.child("privateKey") is not None or node.child("passphrase") is not None
        config = node.child("configuration")
        headers = config.child("httpHeaders") if config is not None else None
        for prop in headers.all("property") if headers is not None else ():
            name = self.value(prop, "name")
            if not name:
                raise SettingsError(
                    f"{self.file}:{prop.where}", f"server '{server.id}': header <name> is missing"
                )
            server.headers.append((name, Secret(self.value(prop, "value") or "")))
        return server

    def profile(self, node: Element) -> _Profile:
        profile = _Profile(id=self.required(node, "id", "profile"), source=self.at(node))
        activation = node.child("activation")
        if activation is not None:
            profile.by_default = (self.value(activation, "activeByDefault") or "") == "true"
            prop = activation.child("property")
            if prop is not None:
                profile.properties.append(
                    (
                        self.required(prop, "name", f"profile '{profile.id}'"),
                        self.value(prop, "value"),
                    )
                )
            profile.unsupported = [
                tag for tag in ("jdk", "os", "file") if activation.child(tag) is not None
            ]
        for repo in self.section(node, "repositories", "repository"):
            ident = self.required(repo, "id", f"profile '{profile.id}': repository")
            url = self.required(repo, "url", f"profile '{profile.id}': repository '{ident}'")
            profile.repositories.append(_Repo(ident, url, self.at(repo)))
        return profile


def _merge(user: _Settings, global_: _Settings) -> _Settings:
    """User dominates: its entries first, then global entries whose id the user lacks."""

    def by_id(dominant: list[Any], recessive: list[Any]) -> list[Any]:
        ids = {item.id for item in dominant}
        return [*dominant, *(item for item in recessive if item.id not in ids)]

    return _Settings(
        mirrors=by_id(user.mirrors, global_.mirrors),
        servers=by_id(user.servers, global_.servers),
        profiles=by_id(user.profiles, global_.profiles),
        active_profiles=[
            *user.active_profiles,
            *(p for p in global_.active_profiles if p not in user.active_profiles),
        ],
        proxies=[*user.proxies, *(p for p in global_.proxies if p[0] not in dict(user.proxies))],
        offline=user.offline or global_.offline,
    )


# --- command-line options from .mvn/maven.config and MAVEN_ARGS --------------------------------


@dataclass
class _Options:
    user_settings: str | None = None
    global_settings: str | None = None
    profiles: list[str] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)


def _arguments(text: str) -> list[str]:
    args: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            try:
                args.extend(shlex.split(stripped))
            except ValueError:
                args.extend(stripped.split())
    return args


def _parse_options(args: list[str], out: _Options) -> None:
    it = iter(args)
    for arg in it:
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in ("-s", "--settings", "-gs", "--global-settings", "-P", "--activate-profiles"):
            value = inline if eq else next(it, "")
            if name in ("-s", "--settings"):
                out.user_settings = value
            elif name in ("-gs", "--global-settings"):
                out.global_settings = value
            else:
                out.profiles.extend(p.strip() for p in value.split(",") if p.strip())
        elif name in ("-D", "--define"):
            key, _, val = (inline if eq else next(it, "")).partition("=")
            out.properties[key] = val or "true"
        elif arg.startswith("-D") and len(arg) > 2:
            key, _, val = arg[2:].partition("=")
            out.properties[key] = val or "true"
        elif arg.startswith("-P") and len(arg) > 2:
            out.profiles.extend(p.strip() for p in arg[2:].split(",") if p.strip())
        elif arg.startswith("-gs") and len(arg) > 3:
            out.global_settings = arg[3:]
        elif arg.startswith("-s") and len(arg) > 2:
            out.user_settings = arg[2:]


# --- profiles and repositories -----------------------------------------------------------------


def _property_active(
    name: str, expected: str | None, props: Mapping[str, str], env: Mapping[str, str]
) -> bool:
    negated = name.startswith("!")
    key = name[1:] if negated else name
    actual = env.get(key[4:]) if key.startswith("env.") else props.get(key)
    if expected is None:
        return (actual is None) if negated else (actual is not None)
    if expected.startswith("!"):
        return actual != expected[1:]
    return actual == expected


def _active_profiles(
    settings: _Settings,
    cli_profiles: list[str],
    props: Mapping[str, str],
    env: Mapping[str, str],
    warnings: list[str],
) -> list[_Profile]:
    wanted = {
        *settings.active_profiles,
        *(p.lstrip("+?") for p in cli_profiles if p[0] not in "!-"),
    }
    unwanted = {p[1:] for p in cli_profiles if p[0] in "!-"}
    active: list[_Profile] = []
    defaults: list[_Profile] = []
    for profile in settings.profiles:
        if profile.id in unwanted:
            continue
        if profile.id in wanted:
            active.append(profile)
        elif profile.unsupported:
            warnings.append(
                f"{profile.source}: profile '{profile.id}' is activated by "
                f"{'/'.join(profile.unsupported)}, which is not evaluated; treated as inactive"
            )
        elif profile.properties and all(
            _property_active(n, v, props, env) for n, v in profile.properties
        ):
            active.append(profile)
        elif profile.by_default:
            defaults.append(profile)
    return active or defaults


def _pom_repositories(project_dir: Path) -> tuple[list[_Repo], str | None]:
    pom = project_dir / "pom.xml"
    if not pom.is_file():
        return [], None
    from tuskops.packages.ecosystems.maven_files import read_pom

    try:
        manifest = read_pom(pom)
    except ManifestError as exc:
        raise SettingsError(
            f"{exc.file}:{exc.location}" if exc.location else exc.file, exc.message
        ) from None
    # Positions for the "file:line" sources: read_pom gives interpolated URLs but no lines.
    lines: dict[str, int] = {}
    try:
        root = parse_xml(pom.read_bytes(), lambda m, w: SettingsError(f"{pom}:{w}", m))
        repos = root.child("repositories")
        for node in repos.all("repository") if repos is not None else ():
            lines.setdefault(node.value("id") or "", node.line)
    except (OSError, SettingsError):
        pass
    found: list[_Repo] = []
    for entry in manifest.extra.get("repositories", []):
        ident, url = str(entry.get("id") or ""), str(entry.get("url") or "")
        if ident and url:
            line = lines.get(ident)
            found.append(_Repo(ident, url, f"{pom}:{line}" if line else str(pom)))
    return found, str(pom)


# --- load --------------------------------------------------------------------------------------


def _settings_path(value: str, project_dir: Path, home: Path) -> Path:
    # "~" is the shell's; expand it from ``home`` so tests never see the real home.
    path = home / value[2:] if value.startswith("~/") else Path(value)
    return path if path.is_absolute() else project_dir / path


def load(*, project_dir: Path, env: Mapping[str, str], home: Path) -> RegistrySettings:
    """Maven's effective repositories and credentials for ``project_dir``."""
    files: list[str] = []
    warnings: list[str] = []
    options = _Options()
    config = project_dir / ".mvn" / "maven.config"
    if config.is_file():
        try:
            _parse_options(_arguments(config.read_text(encoding="utf-8")), options)
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(str(config), f"cannot read: {exc}") from None
        files.append(str(config))
    if env.get("MAVEN_ARGS"):
        _parse_options(_arguments(env["MAVEN_ARGS"]), options)

    maven_home = env.get("MAVEN_HOME") or env.get("M2_HOME")
    values = {
        "user.home": str(home),
        "user.dir": str(project_dir),
        "maven.multiModuleProjectDirectory": str(project_dir),
        "session.rootDirectory": str(project_dir),
        **({"maven.home": maven_home} if maven_home else {}),
        **options.properties,
    }
    interp = _Interpolator(values, env)
    # maven.config may name files with ${...} expressions too.
    if options.user_settings is not None:
        options.user_settings = interp(options.user_settings, str(config))
    if options.global_settings is not None:
        options.global_settings = interp(options.global_settings, str(config))

    def chosen(value: str | None, default: Path | None, what: str) -> Path | None:
        if value is None:
            return default if default is not None and default.is_file() else None
        path = _settings_path(value, project_dir, home)
        if not path.is_file():
            raise SettingsError(
                str(path), f"the {what} settings file given by -s/-gs does not exist"
            )
        return path

    global_path = chosen(
        options.global_settings,
        Path(maven_home) / "conf" / "settings.xml" if maven_home else None,
        "global",
    )
    user_path = chosen(options.user_settings, home / ".m2" / "settings.xml", "user")

    global_settings = _Settings()
    if global_path is not None:
        global_settings = _Reader(global_path, interp).read()
        files.append(str(global_path))
    else:
        # What a stock Maven 3.8.1+ conf/settings.xml would contribute.
        global_settings.mirrors.append(HTTP_BLOCKER)
    user_settings = _Settings()
    if user_path is not None and user_path != global_path:
        user_settings = _Reader(user_path, interp).read()
        files.append(str(user_path))
    settings = _merge(user_settings, global_settings)

    repos: list[_Repo] = []
    for profile in _active_profiles(settings, options.profiles, values, env, warnings):
        repos.extend(profile.repositories)
    pom_repos, pom = _pom_repositories(project_dir)
    if pom is not None:
        files.append(pom)
    repos.extend(pom_repos)
    repos.append(_Repo(CENTRAL_ID, DEFAULT_REGISTRIES["maven"], "default"))

    credentials: list[Credential] = []
    registries: dict[str, Registry] = {}
    mirrored: dict[str, list[str]] = {}
    blocked: list[dict[str, str]] = []
    seen: set[str] = set()
    for repo in repos:
        if repo.id in seen:
            continue  # an earlier definition of the id wins (profiles, then the POM, then central)
        seen.add(repo.id)
        repo_url, user, password = split_userinfo(repo.url)
        mirror = mirror_for(repo.id, repo_url, settings.mirrors)
        if mirror is not None and mirror.blocked:
            blocked.append({"repository": repo.id, "url": repo_url, "mirror": mirror.id})
            why = (
                " (Maven 3.8.1+ blocks plain-http repositories)"
                if mirror.id == HTTP_BLOCKER.id
                else ""
            )
            warnings.append(
                f"{repo.source}: repository '{repo.id}' ({repo_url}) is blocked by mirror "
                f"'{mirror.id}'{why}; not used"
            )
            continue
        if mirror is not None:
            mirrored.setdefault(mirror.id, []).append(repo.id)
            if mirror.id in registries:
                continue
            url, user, password = split_userinfo(mirror.url)
            name, source = mirror.id, mirror.source
        else:
            url, name, source = repo_url, repo.id, repo.source
        registries[name] = Registry(name=name, url=url, source=source)
        if user is not None or password is not None:
            credentials.append(
                Credential(normalize_prefix(url), "basic", password, user, source=source)
            )

    final = tuple(
        Registry(r.name, r.url, r.source, mirror_of=",".join(mirrored[r.name]))
        if r.name in mirrored
        else r
        for r in registries.values()
    )

    servers: dict[str, _Server] = {}
    for candidate in settings.servers:
        servers.setdefault(candidate.id, candidate)
    for entry in servers.values():
        if entry.encrypted:
            warnings.append(
                f"{entry.source}: server '{entry.id}': password is encrypted "
                "(settings-security.xml); not decrypted"
            )
        if entry.ssh:
            warnings.append(
                f"{entry.source}: server '{entry.id}': privateKey/passphrase are for SSH "
                "transports and are not used for HTTP"
            )
    for registry in final:
        server = servers.get(registry.name)
        if server is None:
            continue
        prefix = normalize_prefix(registry.url)
        own: list[Credential] = []
        if not server.encrypted and (server.username or server.password):
            own.append(
                Credential(prefix, "basic", server.password, server.username, source=server.source)
            )
        for header, value in server.headers:
            own.append(Credential(prefix, "header", value, header=header, source=server.source))
        # Explicit server credentials take precedence over URL user-info for the same prefix.
        credentials = [c for c in credentials if not (own and c.prefix == prefix)]
        credentials.extend(own)

    for proxy_id, where in settings.proxies:
        warnings.append(f"{where}: proxy '{proxy_id}' is not applied by tuskops")
    extra: dict[str, Any] = {}
    if settings.offline:
        warnings.append(f"{settings.offline}: offline mode is not applied by tuskops")
        extra["offline"] = True
    if blocked:
        extra["blocked"] = blocked
    if not final:
        warnings.append("every repository is blocked by a mirror; nothing can be resolved")
    return RegistrySettings(
        ecosystem="maven",
        registries=final,
        credentials=tuple(credentials),
        lookup="union",
        files=tuple(files),
        warnings=(*interp.warnings, *warnings),
        extra=extra,
    )
