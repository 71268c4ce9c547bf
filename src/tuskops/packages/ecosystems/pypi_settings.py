"""pip's indexes and credentials, read from ``pip.conf`` files, ``PIP_*`` variables and ``.netrc``.

Follows pip's "Configuration" documentation
(https://pip.pypa.io/en/stable/topics/configuration/) and, where it is silent, pip's own
``configuration.py``, ``cli/parser.py`` and ``network/auth.py``:

* Files, lowest precedence first: the global files (``pip/pip.conf`` under each directory of
  ``XDG_CONFIG_DIRS``, default ``/etc/xdg``, then ``/etc/pip.conf``), the user files (the legacy
  ``~/.pip/pip.conf``, then ``$XDG_CONFIG_HOME/pip/pip.conf``, default ``~/.config``), the site
  file ``$VIRTUAL_ENV/pip.conf``, then the file named by ``PIP_CONFIG_FILE`` (relative to
  ``project_dir``). As the docs say, when that file exists the user files are not read, and when
  ``PIP_CONFIG_FILE`` is ``os.devnull`` no file at all is read. ``system_root`` stands for ``/``
  so tests never read the machine's ``/etc``.
* Files are INI, parsed with :class:`configparser.RawConfigParser` as pip does. Values merge per
  ``section.key`` across files (a later file wins); then the sections apply in pip's order:
  ``[global]``, then the command's section, then ``PIP_*`` variables. The command section read
  here is ``[install]`` (what ``pip install`` uses; ``pip download`` reads ``[download]``, not
  modelled). So an ``[install]`` value in ``/etc/pip.conf`` beats a ``[global]`` one in the user
  file, exactly as in pip. Key names are lower-cased, ``_`` becomes ``-``, a leading ``--`` is
  dropped; ``PIP_INDEX_URL`` is ``index-url``. Empty values are ignored.
* ``index-url`` (default https://pypi.org/simple/) and ``extra-index-url`` (whitespace
  separated) are the registries, in that order, ``lookup="union"``: pip merges the candidates
  of every index. (uv instead stops at the first index that has the package by default.)
  ``no-index`` (a pip boolean: yes/no, true/false, on/off, 1/0) removes every index.
  Index URLs get a trailing slash, as pip's credential matching normalises them; ``file://``
  URLs are kept as given. ``http://`` indexes whose host is neither local nor a
  ``trusted-host`` are dropped with a warning: pip ignores such insecure origins.
* Credentials: user-info in an index URL (percent-decoded) becomes a basic credential for that
  index URL and is removed from it. pip also reuses an index's credentials for every URL on the
  same host (its ``_get_index_url`` falls back to any index on the request's netloc, which is how
  files outside the ``/simple/`` path get them), so a second, host-wide credential
  (``https://host/``) is added from the first index on that host. Then ``.netrc`` (``NETRC``,
  else ``~/.netrc``, else ``~/_netrc``, as requests looks it up): each ``machine`` gives a basic
  credential for ``//host/`` (login, else account, and password), used only where no index URL
  credential applies, as pip tries the URL's credentials before netrc. A URL that names a user
  but no password takes its credentials from ``.netrc`` when the host is there, as pip does.
* ``find-links``, ``trusted-host``, ``cert``, ``client-cert`` and ``keyring-provider`` are
  recorded in ``extra``.

Deviations, said plainly:

* ``find-links`` pages and directories are not queried; a warning says so.
* keyring is never consulted; a ``keyring-provider`` other than ``disabled`` gives a warning.
* The ``.netrc`` ``default`` entry is not used (warning): requests would send its password to
  every host, PyPI included.
* A malformed ``.netrc`` is an error here; requests silently ignores it.
* A ``.netrc`` machine matches its host on the default port only (credential prefixes carry the
  port); requests ignores the port.
* Identical index URLs are listed once.
* The host-wide index credential keeps the index's scheme (pip matches the netloc alone), so a
  password given for an https index is never sent over plain http.
* With two indexes on one host and different credentials, a URL under neither index's path gets
  the first index's credentials; pip picks the index whose path is most similar.
* ``VIRTUAL_ENV`` stands for pip's ``sys.prefix``; outside a virtual environment no site file is
  read.
"""

from __future__ import annotations

import configparser
import ipaddress
import netrc
import os
from collections.abc import Iterable, Mapping
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

ECOSYSTEM = "pypi"
COMMAND_SECTION = "install"
_ENV_SECTION = ":env:"
_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})
_FALSE = frozenset({"n", "no", "f", "false", "off", "0"})
#: pip's list-valued ("append") options: values are split on whitespace.
_LIST_OPTIONS = frozenset({"extra-index-url", "find-links", "trusted-host"})


@dataclass(frozen=True)
class _Value:
    value: str
    source: str  # "path:line" or "env PIP_X"


def _normalize_key(name: str) -> str:
    name = name.lower().replace("_", "-")
    return name[2:] if name.startswith("--") else name


def _config_files(
    env: Mapping[str, str], home: Path, project_dir: Path, system_root: Path
) -> list[Path]:
    """Candidate files in pip's order, lowest precedence first (existing or not)."""
    env_file = env.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    xdg_dirs = env.get("XDG_CONFIG_DIRS", "").strip()
    global_dirs = (
        [Path(d) for d in xdg_dirs.split(os.pathsep) if d]
        if xdg_dirs
        else [system_root / "etc" / "xdg"]
    )
    files = [d / "pip" / "pip.conf" for d in global_dirs]
    files.append(system_root / "etc" / "pip.conf")
    env_path = project_dir / env_file if env_file else None
    # pip skips the user files when PIP_CONFIG_FILE names an existing file.
    if env_path is None or not env_path.exists():
        xdg_home = env.get("XDG_CONFIG_HOME", "").strip()
        config_home = Path(xdg_home) if xdg_home else home / ".config"
        files += [home / ".pip" / "pip.conf", config_home / "pip" / "pip.conf"]
    if env.get("VIRTUAL_ENV"):
        files.append(Path(env["VIRTUAL_ENV"]) / "pip.conf")
    if env_path is not None:
        files.append(env_path)
    return files


def _key_lines(text: str) -> dict[tuple[str, str], int]:
    """Line numbers of ``(section, key)`` for sources; configparser does not keep them."""
    lines: dict[tuple[str, str], int] = {}
    section = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;" or raw[:1].isspace():
            continue  # blank, comment, or a continuation line
        if line.startswith("[") and "]" in line:
            section = line[1 : line.index("]")]
            continue
        cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
        if cut > 0:
            lines.setdefault((section, _normalize_key(line[:cut].strip())), number)
    return lines


def _parse_error(path: Path, exc: configparser.Error) -> SettingsError:
    # configparser's own messages quote the offending line, which may hold a password.
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return SettingsError(f"{path}:{exc.lineno}", "option outside any [section]")
    if isinstance(exc, configparser.ParsingError):
        line = exc.errors[0][0] if exc.errors else 0
        return SettingsError(f"{path}:{line}", "expected 'key = value' or a [section] header")
    if isinstance(exc, configparser.DuplicateOptionError):
        return SettingsError(
            f"{path}:{exc.lineno}", f"option '{exc.option}' repeated in section [{exc.section}]"
        )
    if isinstance(exc, configparser.DuplicateSectionError):
        return SettingsError(f"{path}:{exc.lineno}", f"section [{exc.section}] repeated")
    return SettingsError(str(path), "not a valid configuration file")


def _read_config(path: Path) -> dict[tuple[str, str], _Value]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SettingsError(str(path), "not valid UTF-8") from None
    except OSError as exc:
        raise SettingsError(str(path), f"cannot read: {exc.strerror}") from None
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise _parse_error(path, exc) from None
    lines = _key_lines(text)
    values: dict[tuple[str, str], _Value] = {}
    for section in parser.sections():
        for key, value in parser.items(section):
            norm = _normalize_key(key)
            line = lines.get((section, norm), 0)
            values[(section, norm)] = _Value(value, f"{path}:{line}" if line else str(path))
    return values


def _effective(merged: Mapping[tuple[str, str], _Value]) -> dict[str, _Value]:
    """Apply sections in pip's order: [global], the command's section, then PIP_* variables."""
    options: dict[str, _Value] = {}
    for section in ("global", COMMAND_SECTION, _ENV_SECTION):
        for (sec, key), value in merged.items():
            if sec == section and value.value:  # pip ignores empty values
                options[key] = value
    return options


def _boolean(value: _Value, key: str) -> bool:
    word = value.value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise SettingsError(value.source, f"'{key}' needs a boolean (yes/no, true/false, on/off, 1/0)")


def _index_url(url: str) -> str:
    if url.lower().startswith("file:"):
        return url
    return url.rstrip("/") + "/"


def _is_secure(url: str, trusted: Iterable[str]) -> bool:
    """pip's secure origins: https, file, ssh, loopback hosts and ``trusted-host`` entries."""
    parts = urlsplit(url)
    if parts.scheme in ("https", "file", "ssh"):
        return True
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return True
    try:
        if ipaddress.ip_address(host).is_loopback:
            return True
    except ValueError:
        pass
    for entry in trusted:
        try:
            t_parts = urlsplit(f"//{entry}")
            t_port = t_parts.port
        except ValueError:
            continue
        if (t_parts.hostname or "").lower() == host and t_port in (None, parts.port):
            return True
    return False


def _netrc_path(env: Mapping[str, str], home: Path) -> Path | None:
    if "NETRC" in env:
        path = Path(env["NETRC"]).expanduser()
        return path if path.exists() else None
    for name in (".netrc", "_netrc"):
        if (home / name).exists():
            return home / name
    return None


def _read_netrc(path: Path) -> netrc.netrc:
    try:
        return netrc.netrc(str(path))
    except netrc.NetrcParseError as exc:
        # exc.msg quotes the offending token, which may be a password.
        raise SettingsError(
            f"{path}:{exc.lineno}", "not a valid .netrc (the offending token is not shown)"
        ) from None
    except UnicodeDecodeError:
        raise SettingsError(str(path), "not valid UTF-8") from None
    except OSError as exc:
        raise SettingsError(str(path), f"cannot read: {exc.strerror}") from None


def load(
    *,
    project_dir: Path,
    env: Mapping[str, str],
    home: Path,
    system_root: Path = Path("/"),
) -> RegistrySettings:
    """The indexes and credentials ``pip install`` would use. ``system_root`` replaces ``/``."""
    files: list[str] = []
    merged: dict[tuple[str, str], _Value] = {}
    for path in _config_files(env, home, project_dir, system_root):
        if path.is_file():
            merged.update(_read_config(path))
            files.append(str(path))
    for name, value in env.items():
        if name.startswith("PIP_") and name not in ("PIP_VERSION", "PIP_HELP"):
            merged[(_ENV_SECTION, _normalize_key(name[4:]))] = _Value(value, f"env {name}")
    options = _effective(merged)

    warnings: list[str] = []
    extra: dict[str, Any] = {}
    lists = {key: options[key].value.split() for key in _LIST_OPTIONS if key in options}
    trusted = lists.get("trusted-host", [])
    if trusted:
        extra["trusted_hosts"] = trusted
    for key in ("cert", "client-cert", "keyring-provider"):
        if key in options:
            extra[key.replace("-", "_")] = options[key].value
    find_links = lists.get("find-links", [])
    if find_links:
        # A find-links URL may carry user-info too; keep only what is safe to show.
        extra["find_links"] = [split_userinfo(link)[0] for link in find_links]
        warnings.append(
            f"find-links ({options['find-links'].source}) is not queried: "
            "only the indexes are searched"
        )
    provider = options.get("keyring-provider")
    if provider is not None and provider.value.strip().lower() != "disabled":
        warnings.append(
            f"keyring-provider = {provider.value.strip()} ({provider.source}): "
            "keyring is not consulted for credentials"
        )

    no_index = "no-index" in options and _boolean(options["no-index"], "no-index")
    candidates: list[tuple[str, str, str]] = []  # (name, raw url, source)
    if no_index:
        if not find_links:
            warnings.append(
                f"no-index is set ({options['no-index'].source}) and there are no find-links: "
                "pip would find no packages"
            )
    else:
        if "index-url" in options:
            index = options["index-url"]
            candidates.append(("index-url", index.value.strip(), index.source))
        else:
            candidates.append(("index-url", DEFAULT_REGISTRIES[ECOSYSTEM], "default"))
        for url in lists.get("extra-index-url", []):
            candidates.append(("extra-index-url", url, options["extra-index-url"].source))

    netrc_file = _netrc_path(env, home)
    auth = _read_netrc(netrc_file) if netrc_file is not None else None
    netrc_hosts = {h.lower() for h in auth.hosts if h != "default"} if auth else set()

    registries: list[Registry] = []
    credentials: list[Credential] = []
    host_wide: set[str] = set()
    seen: set[str] = set()
    for name, raw, source in candidates:
        clean, user, password = split_userinfo(raw)
        url = _index_url(clean)
        if url in seen:
            continue
        seen.add(url)
        if not _is_secure(url, trusted):
            warnings.append(
                f"{name} {url} ({source}) is ignored: pip does not use http:// indexes "
                "unless their host is a trusted-host"
            )
            continue
        registries.append(Registry(name=name, url=url, source=source))
        host = (urlsplit(url).hostname or "").lower()
        if user is None and password is None:
            continue
        if password is None and host in netrc_hosts:
            continue  # pip asks .netrc for the password, and takes its login too
        prefixes = [normalize_prefix(url)]
        origin = prefixes[0].split("//", 1)[0] + "//" + prefixes[0].split("//", 1)[1].split("/")[0]
        if origin not in host_wide:
            host_wide.add(origin)
            prefixes.append(origin + "/")
        for prefix in prefixes:
            credentials.append(
                Credential(
                    prefix=prefix, kind="basic", secret=password, username=user, source=source
                )
            )

    if auth is not None and netrc_file is not None:
        files.append(str(netrc_file))
        for machine, (login, account, netrc_password) in auth.hosts.items():
            if machine == "default":
                warnings.append(
                    f"{netrc_file}: the 'default' entry is not used: it would send its "
                    "password to every host"
                )
                continue
            credentials.append(
                Credential(
                    prefix=normalize_prefix(f"//{machine}/"),
                    kind="basic",
                    secret=Secret(netrc_password or ""),
                    username=login or account or None,
                    source=f"{netrc_file} machine {machine}",
                )
            )

    return RegistrySettings(
        ecosystem=ECOSYSTEM,
        registries=tuple(registries),
        credentials=tuple(credentials),
        lookup="union",
        files=tuple(files),
        warnings=tuple(warnings),
        extra=extra,
    )
