"""The ``peanu.tsk`` cascade: project defaults read by ``@peanut.get``.

Files are searched from the calling file's directory upward to the filesystem root, then in
``~/.config/tusklang/``, ``/etc/tusklang/`` and ``$TUSKLANG_CONFIG`` (a file, or a directory
holding ``peanu.tsk``). The search order is the precedence order: a file found earlier (nearer)
overrides one found later (farther), key by key (objects merge deeply; anything else is
replaced). The cascade is only ever read through ``@peanut.get``; it is never merged into a
file's output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

PEANUT_FILE = "peanu.tsk"
#: The system-wide directory (a module attribute so tests can point it elsewhere).
SYSTEM_DIR = Path("/etc/tusklang")


def peanut_files(start_dir: Path, env: Mapping[str, str]) -> list[Path]:
    """The existing ``peanu.tsk`` files for ``start_dir``, nearest (highest precedence) first.

    ``HOME`` and ``TUSKLANG_CONFIG`` come from ``env`` (the evaluation's environment snapshot),
    never from the process directly, so callers control what is searched.
    """
    candidates: list[Path] = []
    start = start_dir.resolve()
    candidates.extend(directory / PEANUT_FILE for directory in (start, *start.parents))
    home = env.get("HOME")
    if home:
        candidates.append(Path(home) / ".config" / "tusklang" / PEANUT_FILE)
    candidates.append(SYSTEM_DIR / PEANUT_FILE)
    configured = env.get("TUSKLANG_CONFIG")
    if configured:
        path = Path(configured)
        candidates.append(path / PEANUT_FILE if path.is_dir() else path)

    found: list[Path] = []
    seen: set[Path] = set()
    for candidate in candidates:
        if not candidate.is_file():
            continue
        resolved = candidate.resolve()
        if resolved not in seen:
            seen.add(resolved)
            found.append(resolved)
    return found


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: ``base`` with ``override`` on top; nested objects are merged, not replaced."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def load_cascade(files: list[Path], load: Callable[[Path], Mapping[str, Any]]) -> dict[str, Any]:
    """Merge the evaluated ``files`` (nearest first) so that nearer files win."""
    merged: dict[str, Any] = {}
    for path in reversed(files):  # farthest first, so each nearer file lands on top
        merged = deep_merge(merged, load(path))
    return merged
