"""Cargo's registries and tokens, read from ``.cargo/config.toml``, ``credentials.toml`` and
``CARGO_*`` variables.

Follows the Cargo Book: "Configuration" (https://doc.rust-lang.org/cargo/reference/config.html),
"Registries" (.../registries.html), "Registry Authentication" (.../registry-authentication.html)
and "Source Replacement" (.../source-replacement.html):

* Files: ``.cargo/config.toml`` in ``project_dir`` (Cargo's current directory) and in each of
  its ancestors (up to ``search_stop``, default the root), then ``$CARGO_HOME/config.toml``
  (``CARGO_HOME`` relative to ``project_dir``, else ``~/.cargo``), read once even when it is
  also an ancestor's. A deeper directory wins;
  tables merge key by key and arrays are joined, higher precedence last. The legacy name without
  extension (``.cargo/config``) is read too and, as the Book says, wins when both exist (with a
  warning, as Cargo prints). ``$CARGO_HOME/credentials.toml`` (or legacy ``credentials``, also
  preferred when both exist; a top-level ``token`` there is the old spelling of
  ``registry.token``) overrides the config files, and ``CARGO_*`` variables override everything
  (``registries.my-reg.index`` is ``CARGO_REGISTRIES_MY_REG_INDEX``: upper-case, ``-`` and
  ``.`` become ``_``). ``[source]`` tables cannot be set from the environment, as in Cargo.
* Registries: ``crates-io`` (https://index.crates.io/) and every ``[registries.<name>]`` with an
  ``index``; a registry known only from ``CARGO_REGISTRIES_<NAME>_INDEX`` is named
  ``<name>`` lower-cased (the variable cannot say whether ``_`` was ``-``). Sparse indexes
  (``sparse+https://...``) are listed with the ``sparse+`` dropped and a trailing slash, the form
  :mod:`tuskops.packages.protocols.crates_index` requests files under; the configured value is
  kept in ``extra["index"]``. ``[registry] default`` (``CARGO_REGISTRY_DEFAULT``) puts that
  registry first. ``lookup="first"``.
* Source replacement: ``[source.crates-io] replace-with`` is followed through ``[source.<name>]``
  tables (each ``replace-with`` again, or ``registry = "<index>"``), and may end at a
  ``[registries]`` name, as the Book allows; the end of the chain takes crates.io's place with
  ``mirror_of="crates-io"``. A cycle or a name defined nowhere is an error, as in Cargo.
* Tokens: ``[registry] token`` (``CARGO_REGISTRY_TOKEN``) is crates.io's, sent by Cargo only to
  the web API, so its prefix is ``https://crates.io/api/``: never index.crates.io or
  static.crates.io. ``[registries.<name>] token`` (``CARGO_REGISTRIES_<NAME>_TOKEN``) is scoped to
  that registry's index URL. Cargo sends tokens raw (``Authorization: <token>``): kind
  ``"token"``. User-info in an index URL becomes a basic credential for that index.

Deviations, said plainly:

* Git indexes (an ``index``/``registry`` without ``sparse+``, or ``protocol = "git"`` for
  crates.io), ``local-registry``, ``directory`` and ``git`` sources are not read; each gives a
  warning. A crates-io replacement that ends at one of them leaves crates.io listed.
* ``replace-with`` is applied to crates-io only; on other sources it gives a warning.
* Cargo sends a registry's token to its index, downloads and API only when the index's
  ``config.json`` says ``auth-required``, and the download and API URLs come from that file.
  Here the token is scoped to the index URL (whatever ``auth-required`` says, since the file is
  not read here); when a lookup reads an ``auth-required`` ``config.json``,
  :class:`tuskops.packages.api.PackageLookup` extends it to that package's download URLs.
* ``[registry] default`` only chooses the registry of ``cargo publish`` and similar commands;
  Cargo resolves a dependency without ``registry =`` from crates.io. It is put first here so
  lookups ask it first.
* Credential providers are not run: a ``credential-provider`` or
  ``global-credential-providers`` other than ``cargo:token`` gives a warning, and tokens are
  still read from the files and variables.
* tomllib keeps no positions: a source names the first line that assigns the key (and holds
  the value, for strings), which can be an earlier, identical assignment in another table.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

ECOSYSTEM = "cargo"
CRATES_IO = "crates-io"
#: Where Cargo sends the crates.io token: the web API (publish, yank, owner), nothing else.
CRATES_IO_API = "https://crates.io/api/"
_BUILTIN_PROVIDER = "cargo:token"
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


@dataclass(frozen=True)
class _Leaf:
    value: Any
    source: str


_Tree = dict[str, Any]  # nested tables whose leaves are _Leaf


def _env_name(*path: str) -> str:
    return "CARGO_" + "_".join(p.upper().replace("-", "_").replace(".", "_") for p in path)


def _pick(directory: Path, stem: str, warnings: list[str]) -> Path | None:
    """Cargo's choice between ``stem`` and ``stem.toml``: the legacy name wins when both exist."""
    legacy, modern = directory / stem, directory / f"{stem}.toml"
    if legacy.is_file():
        if modern.is_file() and legacy.resolve() != modern.resolve():
            warnings.append(f"both {legacy} and {modern} exist: using {legacy}, as Cargo does")
        return legacy
    return modern if modern.is_file() else None


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SettingsError(str(path), "not valid UTF-8") from None
    except OSError as exc:
        raise SettingsError(str(path), f"cannot read: {exc.strerror}") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        # tomllib's messages name the problem and position, never the file's content.
        message = str(exc)
        at = _TOML_AT.search(message)
        if at is None:
            raise SettingsError(str(path), message) from None
        location = f"{path}:{at.group(1)}:{at.group(2)}"
        raise SettingsError(location, message[: at.start()]) from None


def _line_of(text: str, key: str, value: Any) -> int:
    """The first line assigning ``key`` (and holding ``value``, when a string); else 0."""
    assigns = re.compile(rf"""(?:^|[\s.{{"']){re.escape(key)}["']?\s*=""")
    needle = value if isinstance(value, str) and value else None
    fallback = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if assigns.search(line) and (needle is None or needle in line):
            return number
        if not fallback and needle is not None and needle in line:
            fallback = number
    return fallback


def _to_tree(data: Mapping[str, Any], path: Path, text: str) -> _Tree:
    tree: _Tree = {}
    for key, value in data.items():
        if isinstance(value, dict):
            tree[key] = _to_tree(value, path, text)
        else:
            line = _line_of(text, key, value)
            tree[key] = _Leaf(value, f"{path}:{line}" if line else str(path))
    return tree


def _merge(low: _Tree, high: _Tree) -> _Tree:
    """``high`` over ``low`` key by key; arrays are joined, higher precedence last."""
    out = dict(low)
    for key, value in high.items():
        old = out.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            out[key] = _merge(old, value)
        elif (
            isinstance(old, _Leaf)
            and isinstance(value, _Leaf)
            and isinstance(old.value, list)
            and isinstance(value.value, list)
        ):
            out[key] = _Leaf(old.value + value.value, value.source)
        else:
            out[key] = value
    return out


def _ancestors(start: Path, stop: Path | None) -> Iterator[Path]:
    for directory in (start, *start.parents):
        yield directory
        if stop is not None and directory == stop:
            return


class _Config:
    """The merged files plus the environment, looked up the way Cargo's ``get`` does."""

    def __init__(self, tree: _Tree, env: Mapping[str, str]) -> None:
        self.tree = tree
        self.env = env

    def table(self, *path: str) -> _Tree:
        node: Any = self.tree
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else {}

    def get(self, *path: str) -> _Leaf | None:
        name = _env_name(*path)
        if name in self.env:
            return _Leaf(self.env[name], f"env {name}")
        leaf = self.table(*path[:-1]).get(path[-1])
        return leaf if isinstance(leaf, _Leaf) else None

    def string(self, *path: str) -> _Leaf | None:
        leaf = self.get(*path)
        if leaf is not None and not isinstance(leaf.value, str):
            raise SettingsError(leaf.source, f"'{'.'.join(path)}' must be a string")
        return leaf


def _load_tree(
    project_dir: Path,
    env: Mapping[str, str],
    home: Path,
    search_stop: Path | None,
    warnings: list[str],
) -> tuple[_Tree, list[str]]:
    cargo_home = project_dir / env["CARGO_HOME"] if env.get("CARGO_HOME") else home / ".cargo"
    found: list[Path] = []
    stop = search_stop.absolute() if search_stop is not None else None
    for directory in _ancestors(project_dir.absolute(), stop):
        path = _pick(directory / ".cargo", "config", warnings)
        if path is not None:
            found.append(path)
    home_config = _pick(cargo_home, "config", warnings)
    if home_config is not None and all(home_config.resolve() != p.resolve() for p in found):
        found.append(home_config)
    tree: _Tree = {}
    files: list[str] = []
    for path in reversed(found):  # lowest precedence ($CARGO_HOME) first
        data, text = _read_toml(path)
        tree = _merge(tree, _to_tree(data, path, text))
        files.append(str(path))
    cred_path = _pick(cargo_home, "credentials", warnings)
    if cred_path is not None:
        data, text = _read_toml(cred_path)
        if "token" in data and "registry" not in data:
            data = {**data, "registry": {"token": data["token"]}}  # the old layout
        data.pop("token", None)
        tree = _merge(tree, _to_tree(data, cred_path, text))
        files.append(str(cred_path))
    return tree, files


def _provider_warnings(config: _Config, names: list[str], warnings: list[str]) -> None:
    checks: list[tuple[str, ...]] = [
        ("registry", "credential-provider"),
        ("registry", "global-credential-providers"),
    ]
    checks += [("registries", name, "credential-provider") for name in names]
    for path in checks:
        leaf = config.get(*path)
        if leaf is None:
            continue
        value = leaf.value
        if isinstance(value, str):
            providers = value.split() if path[-1] == "global-credential-providers" else [value]
        else:
            providers = [" ".join(v) if isinstance(v, list) else str(v) for v in value]
        if any(p.strip() != _BUILTIN_PROVIDER for p in providers):
            warnings.append(
                f"{'.'.join(path)} ({leaf.source}): credential providers are not run; "
                "only tokens from config, credentials.toml and CARGO_* variables are used"
            )


def _registry_names(config: _Config, env: Mapping[str, str]) -> list[str]:
    names = [n for n in config.table("registries") if n != CRATES_IO]
    known = {_env_name("registries", n, "index") for n in names}
    for var in env:
        if (
            var.startswith("CARGO_REGISTRIES_")
            and var.endswith("_INDEX")
            and var not in known
            and var != _env_name("registries", CRATES_IO, "index")
        ):
            names.append(var.removeprefix("CARGO_REGISTRIES_").removesuffix("_INDEX").lower())
    return names


def _sparse(
    name: str, leaf: _Leaf, warnings: list[str], credentials: list[Credential]
) -> Registry | None:
    """The Registry for a configured index, or None (with a warning) for a git index."""
    raw = str(leaf.value).strip()
    if not raw.startswith("sparse+"):
        warnings.append(
            f"registry '{name}' ({leaf.source}) has a git index, which is not supported "
            "(only sparse+ indexes are read); it is not listed"
        )
        return None
    clean, user, password = split_userinfo(raw.removeprefix("sparse+"))
    url = clean if clean.endswith("/") else clean + "/"
    if user is not None or password is not None:
        credentials.append(
            Credential(
                prefix=normalize_prefix(url),
                kind="basic",
                secret=password,
                username=user,
                source=leaf.source,
            )
        )
    return Registry(
        name=name,
        url=url,
        source=leaf.source,
        extra={"protocol": "sparse", "index": "sparse+" + url},
    )


def _crates_io(
    config: _Config,
    named: Mapping[str, Registry],
    index_leaves: Mapping[str, _Leaf],
    warnings: list[str],
    credentials: list[Credential],
) -> Registry:
    default = Registry(
        name=CRATES_IO,
        url=DEFAULT_REGISTRIES[ECOSYSTEM],
        extra={"protocol": "sparse", "index": "sparse+" + DEFAULT_REGISTRIES[ECOSYSTEM]},
    )
    protocol = config.string("registries", CRATES_IO, "protocol")
    if protocol is not None and protocol.value.strip() == "git":
        warnings.append(
            f"registries.crates-io.protocol = git ({protocol.source}): the git index is not "
            "supported; the sparse index is used"
        )
    sources = config.table("source")
    chain = [CRATES_IO]
    current = CRATES_IO
    while True:
        table = sources.get(current)
        step = table.get("replace-with") if isinstance(table, dict) else None
        if not isinstance(step, _Leaf):
            break
        target = str(step.value)
        if target in chain:
            raise SettingsError(step.source, f"replace-with cycle: {' -> '.join([*chain, target])}")
        if target not in sources and target not in named and target not in index_leaves:
            raise SettingsError(
                step.source,
                f"no source or registry named '{target}' (replace-with of '{current}')",
            )
        chain.append(target)
        current = target
    for name, table in sources.items():
        # Steps of crates-io's own chain are applied; a replace-with elsewhere is not.
        if name not in chain and isinstance(table, dict) and "replace-with" in table:
            warnings.append(
                f"source '{name}' ({table['replace-with'].source}): replace-with is only "
                "applied to crates-io"
            )
    if current == CRATES_IO:
        return default
    table = sources.get(current)
    if isinstance(table, dict) and "replace-with" not in table:
        if isinstance(table.get("registry"), _Leaf):
            replacement = _sparse(current, table["registry"], warnings, credentials)
        else:
            kinds = [k for k in ("local-registry", "directory", "git") if k in table] or ["?"]
            where = next((v.source for v in table.values() if isinstance(v, _Leaf)), "")
            warnings.append(
                f"crates-io is replaced by source '{current}' ({where}), a {kinds[0]} source, "
                "which is not supported; crates.io is listed instead"
            )
            return default
    else:
        replacement = named.get(current)
    if replacement is None:  # a git index: _sparse or the registries loop warned about it
        warnings.append(
            f"crates-io is replaced by '{current}', which is not a sparse index; "
            "crates.io is listed instead"
        )
        return default
    return Registry(
        name=replacement.name,
        url=replacement.url,
        source=replacement.source,
        mirror_of=CRATES_IO,
        extra=replacement.extra,
    )


def load(
    *,
    project_dir: Path,
    env: Mapping[str, str],
    home: Path,
    search_stop: Path | None = None,
) -> RegistrySettings:
    """The registries and tokens Cargo would use when run in ``project_dir``.

    ``search_stop`` is the last directory whose ``.cargo`` is read (default: the root), so tests
    never read a ``/.cargo/config.toml`` of the machine.
    """
    warnings: list[str] = []
    tree, files = _load_tree(project_dir, env, home, search_stop, warnings)
    config = _Config(tree, env)
    credentials: list[Credential] = []

    names = _registry_names(config, env)
    named: dict[str, Registry] = {}
    index_leaves: dict[str, _Leaf] = {}
    for name in names:
        leaf = config.string("registries", name, "index")
        if leaf is None:
            continue
        index_leaves[name] = leaf
        registry = _sparse(name, leaf, warnings, credentials)
        if registry is not None:
            named[name] = registry

    crates_io = _crates_io(config, named, index_leaves, warnings, credentials)
    registries = [crates_io, *(r for r in named.values() if r.name != crates_io.name)]
    default = config.string("registry", "default")
    if default is not None and default.value != CRATES_IO:
        chosen = next((r for r in registries if r.name == default.value), None)
        if chosen is None:
            warnings.append(
                f"registry.default = {default.value} ({default.source}) names no usable "
                "registry; crates-io stays the default"
            )
        else:
            registries.remove(chosen)
            registries.insert(0, chosen)

    token = config.string("registry", "token")
    if token is not None and token.value:
        credentials.append(
            Credential(
                prefix=CRATES_IO_API, kind="token", secret=Secret(token.value), source=token.source
            )
        )
    for name in names:
        leaf = config.string("registries", name, "token")
        if leaf is None or not leaf.value:
            continue
        registry = named.get(name)
        if registry is None:
            why = "has no usable index" if name in index_leaves else "has no index configured"
            warnings.append(f"the token for registry '{name}' ({leaf.source}) is not used: {why}")
            continue
        credentials.append(
            Credential(
                prefix=normalize_prefix(registry.url),
                kind="token",
                secret=Secret(leaf.value),
                source=leaf.source,
            )
        )
    _provider_warnings(config, names, warnings)

    return RegistrySettings(
        ecosystem=ECOSYSTEM,
        registries=tuple(registries),
        credentials=tuple(credentials),
        lookup="first",
        files=tuple(files),
        warnings=tuple(warnings),
    )
