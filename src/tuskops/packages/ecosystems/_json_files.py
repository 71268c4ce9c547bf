"""Helpers shared by the readers of JSON manifests and lockfiles (npm, Composer)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tuskops.errors import ManifestError

_SIMPLE_KEY_RE = re.compile(r"[A-Za-z0-9_@/:+~-]+\Z")


def field_path(*parts: str | int) -> str:
    """A field path for messages: ``require.monolog/monolog``, ``packages[3].dist.url``; keys
    with dots or spaces in brackets (``dependencies["socket.io"]``)."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _SIMPLE_KEY_RE.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out


def load_json_object(path: Path) -> dict[str, Any]:
    """The file's top-level JSON object; ManifestError with line:col when it is not one."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ManifestError(file, f"cannot read file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ManifestError(file, f"not UTF-8 text: {exc.reason}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(file, f"invalid JSON: {exc.msg}", f"{exc.lineno}:{exc.colno}") from None
    if not isinstance(data, dict):
        raise ManifestError(file, f"the top level must be a JSON object, not {json_kind(data)}")
    return data


def json_kind(value: Any) -> str:
    """``a string``, ``an array``, ... for messages about wrong types."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
