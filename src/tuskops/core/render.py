"""Serialise a resource body to text by its ``format``, and parse such text back.

Targets that write files (the directory target) use :func:`render_body`; they use
:func:`parse_body` to read a file back so a plan can show field-level drift. For every supported
format ``parse_body(render_body(body, f), f)`` is the body as the target will hold it (env turns
values into strings, tuples become lists), which is what a plan must compare against.

Formats: ``yaml`` (block style, keys in the order given, multi-line strings as ``|`` blocks),
``json`` (indent 2, trailing newline), ``text`` (the body is the file), ``env`` (``KEY=value``
lines, quoted where needed) and ``toml`` (only when the optional ``tomli_w`` writer is installed).
"""

from __future__ import annotations

import importlib
import json
import re
import tomllib
from typing import Any

import yaml

from tuskops.errors import TargetError

#: File extension of each format, for the default directory layout.
EXTENSIONS: dict[str, str] = {
    "yaml": "yaml",
    "json": "json",
    "text": "txt",
    "env": "env",
    "toml": "toml",
}

_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Values made only of these characters need no quotes in any dotenv dialect.
_ENV_BARE = re.compile(r"[A-Za-z0-9_./:@%+,=-]*")


class BodyParseError(ValueError):
    """Text that is not valid in the given format (a hand-edited file, typically)."""


def supported_formats() -> list[str]:
    """Formats :func:`render_body` can write in this installation."""
    return [f for f in EXTENSIONS if f != "toml" or _toml_writer() is not None]


def check_renderable(body: Any, fmt: str) -> None:
    """Raise :class:`TargetError` if ``body`` cannot be written as ``fmt`` (without writing)."""
    render_body(body, fmt)


def render_body(body: Any, fmt: str) -> str:
    """``body`` as the text of a file in format ``fmt``.

    Raises :class:`TargetError` for an unknown format or a body that does not fit it.
    """
    plain = _plain(body)
    if fmt == "yaml":
        return yaml.dump(
            plain,
            Dumper=_BlockDumper,
            sort_keys=False,
            default_flow_style=False,
            allow_unicode=True,
            width=4096,
        )
    if fmt == "json":
        return json.dumps(plain, indent=2, ensure_ascii=False) + "\n"
    if fmt == "text":
        if not isinstance(plain, str):
            raise TargetError(f"format 'text' needs a string body, got {_json_type(plain)}")
        return plain
    if fmt == "env":
        return _render_env(plain)
    if fmt == "toml":
        writer = _toml_writer()
        if writer is None:
            raise TargetError(
                "format 'toml' cannot be written: no TOML writer is installed "
                "(pip install tomli-w), or use format 'yaml' or 'json'"
            )
        if not isinstance(plain, dict):
            raise TargetError(f"format 'toml' needs an object body, got {_json_type(plain)}")
        text: str = writer.dumps(plain)
        return text
    raise TargetError(f"unknown format {fmt!r}: expected one of {', '.join(EXTENSIONS)}")


def parse_body(text: str, fmt: str) -> Any:
    """The body a file of format ``fmt`` holds. Raises :class:`BodyParseError`."""
    try:
        if fmt == "yaml":
            return yaml.safe_load(text)
        if fmt == "json":
            return json.loads(text)
        if fmt == "text":
            return text
        if fmt == "env":
            return _parse_env(text)
        if fmt == "toml":
            return tomllib.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BodyParseError(f"not valid {fmt}: {exc}") from exc
    raise BodyParseError(f"unknown format {fmt!r}")


# --- helpers ----------------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def _plain(value: Any) -> Any:
    """Plain JSON types: Sensitive -> str, tuple -> list; anything else is refused."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TargetError(f"object keys must be strings, got {key!r}")
            out[str(key)] = _plain(item)
        return out
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return str(value)  # drops the Sensitive subclass, which serialisers do not know
    if isinstance(value, int | float):
        return value
    raise TargetError(f"cannot serialise a {type(value).__name__} value")


class _BlockDumper(yaml.SafeDumper):
    """Safe dumper that writes multi-line strings as literal ``|`` blocks (ConfigMaps, scripts)."""


_YAML_UNICODE_BREAKS = ("\x85", "\u2028", "\u2029")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style: str | None = None
    if any(char in value for char in _YAML_UNICODE_BREAKS):
        style = '"'  # YAML reads these as line breaks unless escaped, which only "..." does
    elif "\n" in value:
        style = "|"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def _render_env(body: Any) -> str:
    if not isinstance(body, dict):
        raise TargetError(f"format 'env' needs an object body, got {_json_type(body)}")
    lines: list[str] = []
    for key, value in body.items():
        if not _ENV_KEY.fullmatch(key):
            raise TargetError(f"format 'env': {key!r} is not a valid variable name")
        if isinstance(value, dict | list):
            raise TargetError(f"format 'env': the value of {key} must be a scalar")
        text = _env_value(value)
        if not _ENV_BARE.fullmatch(text):
            # Double quotes with backslash escapes: read alike by docker compose, systemd and
            # python-dotenv; "$" and "`" are escaped so shells that source the file do not expand.
            escaped = (
                text.replace("\\", "\\\\")
                .replace('"', '\\"')
                .replace("$", "\\$")
                .replace("`", "\\`")
                .replace("\n", "\\n")
                .replace("\r", "\\r")
            )
            text = f'"{escaped}"'
        lines.append(f"{key}={text}")
    return "".join(line + "\n" for line in lines)


_ENV_ESCAPES = {"n": "\n", "r": "\r", "\\": "\\", '"': '"', "$": "$", "`": "`", "t": "\t"}


def _parse_env(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    # Split on newlines only: str.splitlines() also breaks at form feeds and other separators,
    # which may appear inside a quoted value.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _ENV_KEY.fullmatch(key):
            raise BodyParseError(f"not valid env: line {number} is not KEY=value")
        value = value.strip()
        if value.startswith('"'):
            out[key] = _unquote_double(value, number)
        elif value.startswith("'"):
            if len(value) < 2 or not value.endswith("'"):
                raise BodyParseError(f"not valid env: unterminated quote on line {number}")
            out[key] = value[1:-1]
        else:
            out[key] = value
    return out


def _unquote_double(value: str, number: int) -> str:
    chars: list[str] = []
    index = 1
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            nxt = value[index + 1]
            chars.append(_ENV_ESCAPES.get(nxt, "\\" + nxt))
            index += 2
            continue
        if char == '"':
            if value[index + 1 :].strip() and not value[index + 1 :].strip().startswith("#"):
                raise BodyParseError(
                    f"not valid env: text after the closing quote on line {number}"
                )
            return "".join(chars)
        chars.append(char)
        index += 1
    raise BodyParseError(f"not valid env: unterminated quote on line {number}")


def _toml_writer() -> Any:
    try:
        return importlib.import_module("tomli_w")
    except ImportError:
        return None
