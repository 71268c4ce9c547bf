"""NuGet's package sources and credentials, read from the ``NuGet.Config`` hierarchy.

Follows "Common NuGet configurations"
(https://learn.microsoft.com/nuget/consume-packages/configuring-nuget-behavior) and the
"nuget.config reference" (https://learn.microsoft.com/nuget/reference/nuget-config-file):

* Files, lowest precedence first: the computer-wide ``*.config`` files of
  ``$NUGET_COMMON_APPLICATION_DATA/NuGet/Config`` (else ``/etc/opt/NuGet/Config``; the
  ``machine_dir`` argument replaces it), the additional user configs ``~/.nuget/config/*.config``,
  the user ``~/.nuget/NuGet/NuGet.Config`` (the .NET CLI's location on Linux), then one file per
  directory from the file system root down to ``project_dir``: the first of ``nuget.config``,
  ``NuGet.config``, ``NuGet.Config`` present there. Closer files win.
* Sections merge item by item, keys compared case-insensitively: a closer file's item replaces
  the value of a farther one in place, new keys are appended, and ``<clear />`` discards what
  farther files (and earlier lines of the same section) put in that section.
* When the user config does not exist, the .NET CLI creates it with ``nuget.org``
  (https://api.nuget.org/v3/index.json); that implicit source is assumed, at the user level, so
  a solution file's ``<clear />`` still removes it.
* ``<packageSources><add key value protocolVersion allowInsecureConnections/>``; sources listed
  in ``<disabledPackageSources>`` with ``value="true"`` are not listed (their keys are in
  ``extra["disabled"]``). ``<packageSourceMapping>`` is kept in ``extra["packageSourceMapping"]``
  (source key -> patterns) for the resolver.
* ``<packageSourceCredentials>``: one element per source, named by the source key encoded with
  ``XmlConvert.EncodeName`` (``_x0020_`` for a space), holding ``Username``,
  ``ClearTextPassword`` and ``ValidAuthenticationTypes``.
* ``%VAR%`` in values is replaced from the environment; an undefined name stays as written
  (.NET's ``Environment.ExpandEnvironmentVariables``), without a warning since ``%`` is also
  URL escaping.
* ``lookup`` is ``"union"``: NuGet asks every enabled source.

Credentials and their scope: NuGet sends a source's credentials with every request made for
that source, and a v3 service index points at resources (registration, flat container) that may
live on other paths of the same host. So a credential is scoped to ``//host/`` of its source
(http and https). When sources on one host carry different credentials, each is scoped to its
own service index directory instead and a warning says that resources outside it get none; a
source without credentials on a host where another has some is sent that other's credentials.

Deviations, said plainly (each gives a warning):

* ``Password`` (encrypted with Windows DPAPI) is not decrypted: no credential.
* NuGet v2 feeds (``protocolVersion="2"``, or a URL not ending in ``index.json`` without
  ``protocolVersion="3"``) and local folder feeds are not supported and not listed.
* A plain-http source is listed even without ``allowInsecureConnections="true"``, which NuGet
  6.12+ refuses (NU1302).
* ``ValidAuthenticationTypes`` without ``basic`` gives no credential (only basic is sent).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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
from tuskops.packages.xmldoc import Element
from tuskops.packages.xmldoc import parse as parse_xml

__all__ = ["CONFIG_NAMES", "decode_name", "expand", "load"]

#: Names NuGet looks for in each directory, in its order (Linux file names are case-sensitive).
CONFIG_NAMES = ("nuget.config", "NuGet.config", "NuGet.Config")
DEFAULT_KEY = "nuget.org"
MACHINE_DIR = Path("/etc/opt/NuGet/Config")

_ENCODED = re.compile(r"_x([0-9A-Fa-f]{8}|[0-9A-Fa-f]{4})_")


def decode_name(name: str) -> str:
    """Undo ``XmlConvert.EncodeName``: ``Contoso_x0020_Feed`` -> ``Contoso Feed``."""
    return _ENCODED.sub(lambda m: chr(int(m.group(1), 16)), name)


def expand(value: str, env: Mapping[str, str]) -> str:
    """``%NAME%`` -> ``env[NAME]``; an undefined name keeps its text and its closing ``%`` may
    open the next reference, as .NET's ``ExpandEnvironmentVariables`` does."""
    out: list[str] = []
    i = 0
    while i < len(value):
        start = value.find("%", i)
        end = value.find("%", start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            out.append(value[i:])
            break
        name = value[start + 1 : end]
        if name and name in env:
            out.append(value[i:start] + env[name])
            i = end + 1
        else:
            out.append(value[i:end])
            i = end
    return "".join(out)


@dataclass
class _Item:
    """One entry of a section: its key, attributes/children and where it was written."""

    key: str
    source: str
    attrs: dict[str, str] = field(default_factory=dict)
    node: Element | None = None


class _Section:
    """Items merged across files, keys compared case-insensitively."""

    def __init__(self) -> None:
        self.items: dict[str, _Item] = {}

    def clear(self) -> None:
        self.items.clear()

    def put(self, item: _Item) -> None:
        # A dict keeps a replaced key where it stood: a closer file's value takes a farther
        # one's place, as NuGet's merge does.
        self.items[item.key.lower()] = item


SECTIONS = (
    "packageSources",
    "disabledPackageSources",
    "packageSourceCredentials",
    "packageSourceMapping",
)


def _read(path: Path, sections: dict[str, _Section]) -> None:
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SettingsError(file, f"cannot read: {exc.strerror or exc}") from None

    def fail(message: str, where: str) -> SettingsError:
        return SettingsError(f"{file}:{where}", message)

    root = parse_xml(data, fail)
    if root.tag != "configuration":
        raise SettingsError(
            f"{file}:{root.where}", f"root element is <{root.tag}>, not <configuration>"
        )
    for name in SECTIONS:
        for node in root.all(name):
            section = sections[name]
            for entry in node.children:
                where = f"{file}:{entry.line}"
                if entry.tag == "clear":
                    section.clear()
                elif name == "packageSourceCredentials":
                    section.put(_Item(decode_name(entry.tag), where, node=entry))
                elif entry.tag == ("packageSource" if name == "packageSourceMapping" else "add"):
                    section.put(_Item(_key(entry, file), where, dict(entry.attrs), entry))


def _key(entry: Element, file: str) -> str:
    key = entry.attrs.get("key")
    if not key:
        raise SettingsError(f"{file}:{entry.where}", f"<{entry.tag}> has no key attribute")
    return key


def _files(
    project_dir: Path, home: Path, machine_dir: Path, ceiling: Path | None
) -> tuple[list[Path], Path]:
    found: list[Path] = []
    if machine_dir.is_dir():
        found += sorted(p for p in machine_dir.iterdir() if p.suffix.lower() == ".config")
    extra_user = home / ".nuget" / "config"
    if extra_user.is_dir():
        found += sorted(p for p in extra_user.iterdir() if p.suffix.lower() == ".config")
    user = home / ".nuget" / "NuGet" / "NuGet.Config"
    if user.is_file():
        found.append(user)
    solution: list[Path] = []
    directory = project_dir.resolve()
    stop = ceiling.resolve() if ceiling is not None else None
    while True:
        hit = next((directory / n for n in CONFIG_NAMES if (directory / n).is_file()), None)
        if hit is not None:
            solution.append(hit)
        if directory == stop or directory.parent == directory:
            break
        directory = directory.parent
    seen: set[Path] = set()
    ordered: list[Path] = []
    for path in [*found, *reversed(solution)]:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            ordered.append(path)
    return ordered, user


def _children(node: Element | None) -> dict[str, tuple[str, Element]]:
    """``<add key value/>`` children of a credentials element, by lower-cased key."""
    out: dict[str, tuple[str, Element]] = {}
    for child in node.all("add") if node is not None else ():
        key = child.attrs.get("key")
        if key:
            out[key.lower()] = (child.attrs.get("value", ""), child)
    return out


def _host_key(url: str) -> str:
    return "//" + normalize_prefix(url).split("//", 1)[1].split("/", 1)[0] + "/"


def _index_dir(url: str) -> str:
    prefix = normalize_prefix(url)
    path_prefix = "//" + prefix.split("//", 1)[1]
    # The service index is a document; its directory is the feed's own path.
    if not urlsplit(url).path.endswith("/"):
        path_prefix = path_prefix.rstrip("/").rsplit("/", 1)[0] + "/"
    return path_prefix


def load(
    *,
    project_dir: Path,
    env: Mapping[str, str],
    home: Path,
    machine_dir: Path | None = None,
    ceiling: Path | None = None,
) -> RegistrySettings:
    """NuGet's effective package sources and credentials for ``project_dir``.

    ``machine_dir`` replaces the computer-wide config folder; ``ceiling`` stops the walk up from
    ``project_dir`` (tests use both so the machine's own files are never read).
    """
    if machine_dir is None:
        common = env.get("NUGET_COMMON_APPLICATION_DATA")
        machine_dir = Path(common) / "NuGet" / "Config" if common else MACHINE_DIR
    paths, user = _files(project_dir, home, machine_dir, ceiling)
    sections = {name: _Section() for name in SECTIONS}
    files: list[str] = []
    warnings: list[str] = []
    user_read = False
    for path in paths:
        if path == user:
            user_read = True
        elif not user_read and _is_solution_level(path, home, machine_dir):
            # The .NET CLI would have created the user config with nuget.org by now.
            _implicit_user(sections)
            user_read = True
        _read(path, sections)
        files.append(str(path))
    if not user_read:
        _implicit_user(sections)
        # Nothing closer can come after: the implicit file is the last one.

    disabled = {
        item.key.lower()
        for item in sections["disabledPackageSources"].items.values()
        if expand(item.attrs.get("value", ""), env).strip().lower() == "true"
    }
    registries: list[Registry] = []
    user_info: dict[str, tuple[str | None, Secret | None, str]] = {}
    for item in sections["packageSources"].items.values():
        if item.key.lower() in disabled:
            continue
        url, user_name, password = split_userinfo(expand(item.attrs.get("value", ""), env).strip())
        version = item.attrs.get("protocolVersion", "").strip()
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            warnings.append(
                f"{item.source}: source '{item.key}' is a local folder feed ({url}); "
                "local feeds are not supported"
            )
            continue
        is_v3 = version == "3" or (
            version != "2" and urlsplit(url).path.lower().endswith("index.json")
        )
        if not is_v3:
            warnings.append(
                f"{item.source}: source '{item.key}' ({url}): NuGet v2 feeds are not supported"
            )
            continue
        insecure = item.attrs.get("allowInsecureConnections", "").strip().lower() == "true"
        if scheme == "http" and not insecure:
            warnings.append(
                f"{item.source}: source '{item.key}' uses plain http; NuGet 6.12+ refuses it "
                'unless allowInsecureConnections="true" (NU1302)'
            )
        extra: dict[str, Any] = {}
        if version:
            extra["protocolVersion"] = version
        if insecure:
            extra["allowInsecureConnections"] = True
        registries.append(Registry(item.key, url, item.source, extra=extra))
        if user_name is not None or password is not None:
            user_info[item.key.lower()] = (user_name, password, item.source)

    found: list[tuple[Registry, str | None, Secret | None, str]] = []
    by_key = {r.name.lower(): r for r in registries}
    for item in sections["packageSourceCredentials"].items.values():
        registry = by_key.get(item.key.lower())
        if registry is None:
            continue  # credentials for a source that is not used
        values = _children(item.node)
        user_name = expand(values["username"][0], env) if "username" in values else None
        types = values.get("validauthenticationtypes")
        if types is not None and "basic" not in [
            t.strip().lower() for t in expand(types[0], env).split(",")
        ]:
            warnings.append(
                f"{item.source}: source '{registry.name}': ValidAuthenticationTypes does not "
                "include basic; only basic authentication is supported, no credential sent"
            )
            continue
        if "cleartextpassword" in values:
            secret = Secret(expand(values["cleartextpassword"][0], env))
            if "password" in values:
                warnings.append(
                    f"{item.source}: source '{registry.name}': both Password and "
                    "ClearTextPassword are set; using ClearTextPassword"
                )
        elif "password" in values:
            warnings.append(
                f"{item.source}: source '{registry.name}': Password is encrypted (Windows "
                "DPAPI); not decrypted; use ClearTextPassword"
            )
            continue
        else:
            secret = None
        if user_name is None and secret is None:
            continue
        found.append((registry, user_name, secret, item.source))
    for key, (user_name, password, source) in user_info.items():
        if not any(r.name.lower() == key for r, *_ in found):
            found.append((by_key[key], user_name, password, source))

    credentials = _scope(found, warnings)

    mapping: dict[str, list[str]] = {}
    for item in sections["packageSourceMapping"].items.values():
        node = item.node
        patterns = [
            p.attrs["pattern"]
            for p in (node.all("package") if node is not None else ())
            if p.attrs.get("pattern")
        ]
        mapping[item.key] = patterns
    settings_extra: dict[str, Any] = {}
    if disabled:
        settings_extra["disabled"] = sorted(
            item.key
            for item in sections["disabledPackageSources"].items.values()
            if item.key.lower() in disabled
        )
    if mapping:
        settings_extra["packageSourceMapping"] = mapping
    if not registries:
        warnings.append("no enabled NuGet v3 package source is configured")
    return RegistrySettings(
        ecosystem="nuget",
        registries=tuple(registries),
        credentials=credentials,
        lookup="union",
        files=tuple(files),
        warnings=tuple(warnings),
        extra=settings_extra,
    )


def _is_solution_level(path: Path, home: Path, machine_dir: Path) -> bool:
    return path.parent != machine_dir and path.parent != home / ".nuget" / "config"


def _implicit_user(sections: dict[str, _Section]) -> None:
    sections["packageSources"].put(
        _Item(
            DEFAULT_KEY,
            "default",
            {"key": DEFAULT_KEY, "value": DEFAULT_REGISTRIES["nuget"], "protocolVersion": "3"},
        )
    )


def _scope(
    found: list[tuple[Registry, str | None, Secret | None, str]], warnings: list[str]
) -> tuple[Credential, ...]:
    by_host: dict[str, list[tuple[Registry, str | None, Secret | None, str]]] = {}
    for entry in found:
        by_host.setdefault(_host_key(entry[0].url), []).append(entry)
    out: list[Credential] = []
    for host, entries in by_host.items():
        distinct = {(user, secret) for _, user, secret, _ in entries}
        if len(distinct) == 1:
            registry, user, secret, source = entries[0]
            out.append(Credential(host, "basic", secret, user, source=source))
            continue
        names = ", ".join(f"'{r.name}'" for r, *_ in entries)
        warnings.append(
            f"sources {names} on {host} have different credentials: each is sent only under "
            "its service index path; resources elsewhere on that host get none"
        )
        for registry, user, secret, source in entries:
            out.append(Credential(_index_dir(registry.url), "basic", secret, user, source=source))
    return tuple(out)
