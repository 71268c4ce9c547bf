"""The built-in operators every build has.

``@env @date @file @json @yaml @if @cache @secret @peanut``. None of them changes anything
outside the process: they read the environment snapshot, the evaluation's clock, and files.
Errors are :class:`~tuskops.errors.OperatorError` subclasses with a hint; the evaluator adds the
call's position.

Each operator has one action, which is also its default, so ``@env("HOME")`` and
``@env.get("HOME")`` are the same call.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml

from tuskops.core.operator import CallContext, Operator, action, value_type_name
from tuskops.core.resource import Sensitive
from tuskops.errors import OperatorArgumentError, OperatorError
from tuskops.lang import peanut
from tuskops.lang.dates import DEFAULT_FORMAT, format_date
from tuskops.lang.document import MISSING, lookup_path


class _NoDefault:
    """Marks an optional argument that was not given (``None`` is a real value: ``null``)."""

    _instance: _NoDefault | None = None

    def __new__(cls) -> _NoDefault:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(none)"


NO_DEFAULT: Any = _NoDefault()

_F = TypeVar("_F", bound=Callable[..., Any])


def _default_action(func: _F) -> _F:
    """``@action(default=True)`` with its type kept (``action`` itself returns Any)."""
    marked: _F = action(func, default=True)
    return marked


class FileReadError(OperatorError):
    """A file named in an argument could not be read or decoded."""


class EnvConversionError(OperatorError):
    """An environment variable does not convert to its default's type."""


class PeanutKeyError(OperatorError):
    """``@peanut.get`` of a key that no ``peanu.tsk`` defines, without a default."""


# --- @env -------------------------------------------------------------------------------------

_TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
_FALSE_WORDS = frozenset({"false", "0", "no", "off"})


def _convert_env(name: str, raw: str, default: Any) -> Any:
    """``raw`` converted to the type of ``default`` (bool, int, float, list, dict, string)."""
    expected = value_type_name(default)
    text = raw.strip()
    try:
        if isinstance(default, bool):
            word = text.lower()
            if word in _TRUE_WORDS:
                return True
            if word in _FALSE_WORDS:
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            # int(text, 0) also takes 0x/0o/0b prefixes, but rejects "08", so decimals go first.
            return int(text) if text.lstrip("+-").isdigit() else int(text, 0)
        if isinstance(default, float):
            number = float(text)
            if not math.isfinite(number):
                raise ValueError(raw)
            return number
        if isinstance(default, list | dict):
            parsed = json.loads(text)
            if not isinstance(parsed, type(default)):
                raise ValueError(raw)
            return parsed
    except ValueError:
        hints = {
            "boolean": "use true/false, 1/0, yes/no or on/off",
            "array": 'use a JSON array, e.g. ["a", "b"]',
            "object": 'use a JSON object, e.g. {"a": 1}',
        }
        raise EnvConversionError(
            f"environment variable {name}={raw!r} is not a valid {expected} "
            f"(the default {json.dumps(default)} makes @env expect one)",
            hint=hints.get(
                expected,
                f"set {name} to {'an' if expected[0] in 'aeiou' else 'a'} "
                f"{expected}, or change the default",
            ),
        ) from None
    return raw  # a string or null default: the text as is


class EnvOperator(Operator):
    """Environment variables (from the evaluation's environment snapshot)."""

    name = "env"

    @_default_action
    def get(self, ctx: CallContext, name: str, default: Any = NO_DEFAULT) -> Any:
        """The variable `name`; null when unset and no default is given.

        With a default, an unset variable gives the default, and a set one is converted to the
        default's type: integer, number, boolean (true/false, 1/0, yes/no, on/off), or JSON for
        an array or object. A value that does not convert is an error.
        """
        raw = ctx.env.get(name)
        if raw is None:
            return None if default is NO_DEFAULT else default
        if default is NO_DEFAULT or default is None or isinstance(default, str):
            return raw
        return _convert_env(name, raw, default)


# --- @date ------------------------------------------------------------------------------------


class DateOperator(Operator):
    """The evaluation's current time, formatted (one instant for the whole evaluation)."""

    name = "date"

    @_default_action
    def format(self, ctx: CallContext, format: str = DEFAULT_FORMAT) -> str:
        """The time of this evaluation as text.

        PHP `date()` letters (`Y-m-d H:i:s`, `D, d M Y`, `c`, `U`, ...; `\\` makes the next
        character literal), or a C `strftime` format when it contains `%` (`%Y-%m-%d`).
        """
        try:
            return format_date(format, ctx.now)
        except ValueError as exc:
            raise OperatorArgumentError(f"invalid date format {format!r}: {exc}") from None


# --- files ------------------------------------------------------------------------------------


def _resolve(ctx: CallContext, path: str) -> Path:
    if not path:
        raise OperatorArgumentError("the file path is empty")
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else ctx.base_dir / candidate


#: Larger files are refused: evaluation reads them whole, and a config that names a huge file
#: is almost certainly a mistake.
MAX_READ_BYTES = 64 * 1024 * 1024


def _read_text(ctx: CallContext, path: str) -> tuple[Path, str]:
    resolved = _resolve(ctx, path)
    try:
        # Only regular files: a device or a FIFO (/dev/zero, /dev/stdin) would never end or
        # would block the evaluation.
        info = resolved.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(info.st_mode):
            raise FileReadError(f"'{path}' is not a regular file", hint=f"at {resolved}")
        if info.st_size > MAX_READ_BYTES:
            raise FileReadError(
                f"file '{path}' is too large to read ({info.st_size} bytes; the limit is "
                f"{MAX_READ_BYTES})",
                hint=f"at {resolved}",
            )
        return resolved, resolved.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileReadError(
            f"file '{path}' not found", hint=f"looked for {resolved} (relative to {ctx.base_dir})"
        ) from None
    except IsADirectoryError:
        raise FileReadError(f"'{path}' is a directory, not a file", hint=f"at {resolved}") from None
    except OSError as exc:
        raise FileReadError(
            f"cannot read file '{path}': {exc.strerror or exc}", hint=f"at {resolved}"
        ) from None
    except UnicodeDecodeError as exc:
        raise FileReadError(
            f"file '{path}' is not UTF-8 text: {exc.reason}", hint=f"at {resolved}"
        ) from None


def _plain(value: Any) -> Any:
    """YAML data made JSON-compatible: dates become ISO text, keys become strings."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, _dt.date | _dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


class FileOperator(Operator):
    """Text files, read relative to the file holding the call."""

    name = "file"

    @_default_action
    def read(self, ctx: CallContext, path: str) -> str:
        """The content of the UTF-8 text file `path` (relative to the calling file)."""
        return _read_text(ctx, path)[1]


class JsonOperator(Operator):
    """JSON files, read relative to the file holding the call."""

    name = "json"

    @_default_action
    def read(self, ctx: CallContext, path: str) -> Any:
        """The parsed content of the JSON file `path` (relative to the calling file)."""
        _, text = _read_text(ctx, path)
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise FileReadError(
                f"file '{path}' is not valid JSON: {exc.msg} at line {exc.lineno} "
                f"column {exc.colno}"
            ) from None


class YamlOperator(Operator):
    """YAML files (safe loading), read relative to the file holding the call."""

    name = "yaml"

    @_default_action
    def read(self, ctx: CallContext, path: str) -> Any:
        """The parsed content of the YAML file `path` (first document; dates become text)."""
        _, text = _read_text(ctx, path)
        try:
            return _plain(yaml.safe_load(text))
        except yaml.YAMLError as exc:
            where = ""
            mark = getattr(exc, "problem_mark", None)
            if mark is not None:
                where = f" at line {mark.line + 1} column {mark.column + 1}"
            problem = getattr(exc, "problem", None) or str(exc)
            raise FileReadError(f"file '{path}' is not valid YAML: {problem}{where}") from None


# --- values -----------------------------------------------------------------------------------


class IfOperator(Operator):
    """A conditional value, as a call (the expression `cond ? a : b` does the same)."""

    name = "if"

    @_default_action
    def choose(self, ctx: CallContext, cond: bool, then: Any, otherwise: Any = None) -> Any:
        """`then` when `cond` is true, else `otherwise` (null when not given).

        `cond` must be a boolean. Both values are evaluated before the call.
        """
        return then if cond else otherwise


_TTL = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?")
_TTL_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_ttl(ttl: str | int | float) -> float:
    """Seconds in a TTL: a number of seconds, or text like ``500ms``, ``30s``, ``5m``, ``1h``."""
    if isinstance(ttl, int | float):
        if ttl < 0 or not math.isfinite(ttl):
            raise OperatorArgumentError(f"@cache: ttl must not be negative, got {ttl}")
        return float(ttl)
    match = _TTL.fullmatch(ttl.strip())
    if match is None:
        raise OperatorArgumentError(
            f"@cache: invalid ttl {ttl!r}",
            hint='use seconds (300) or a number with a unit: "500ms", "30s", "5m", "1h", "1d"',
        )
    return float(match.group(1)) * _TTL_SECONDS[match.group(2)]


class CacheOperator(Operator):
    """Caching hint for a value; evaluation is pure, so the value is returned as is."""

    name = "cache"

    @_default_action
    def keep(self, ctx: CallContext, ttl: str | int | float, value: Any) -> Any:
        """`value`, unchanged. `ttl` is checked ("5m", "1h", "30s", or seconds).

        Every lookup is already cached for the whole evaluation, so nothing else happens.
        """
        parse_ttl(ttl)
        return value


class SecretOperator(Operator):
    """Marks a value as secret: used as is, shown redacted in plans and `eval` output."""

    name = "secret"

    @_default_action
    def mark(self, ctx: CallContext, value: str) -> Sensitive:
        """`value` as a sensitive string."""
        return Sensitive(value)


class PeanutOperator(Operator):
    """Project defaults from the `peanu.tsk` cascade (never merged into output implicitly)."""

    name = "peanut"

    @_default_action
    def get(self, ctx: CallContext, path: str, default: Any = NO_DEFAULT) -> Any:
        """The value at the dotted `path` in the merged `peanu.tsk` files.

        Searched from the calling file's directory upward, then `~/.config/tusklang/`,
        `/etc/tusklang/` and `$TUSKLANG_CONFIG`; nearer files override farther ones. A missing
        key without a default is an error.
        """
        merged = self._merged(ctx)
        value = lookup_path(merged, path)
        if value is not MISSING:
            return value
        if default is not NO_DEFAULT:
            return default
        files = peanut.peanut_files(ctx.base_dir, ctx.env)
        raise PeanutKeyError(
            f"no peanu.tsk defines '{path}'",
            hint=(
                f"searched: {', '.join(str(f) for f in files)}"
                if files
                else f"no {peanut.PEANUT_FILE} found from {ctx.base_dir} upward, in "
                "~/.config/tusklang/, /etc/tusklang/ or $TUSKLANG_CONFIG"
            )
            + '; or pass a default: @peanut.get("path", default)',
        )

    def _merged(self, ctx: CallContext) -> dict[str, Any]:
        key = ("peanut", str(ctx.base_dir.resolve()))
        cached = ctx.cache.get(key)
        if cached is not None:
            assert isinstance(cached, dict)
            return cached
        loader = ctx.loader
        if loader is None:
            raise OperatorError("@peanut.get cannot read files in this context")
        files = peanut.peanut_files(ctx.base_dir, ctx.env)
        merged = peanut.load_cascade(files, loader.load_file)
        ctx.cache[key] = merged
        return merged


def builtin_operators() -> list[Operator]:
    """One instance of every built-in operator."""
    return [
        EnvOperator(),
        DateOperator(),
        FileOperator(),
        JsonOperator(),
        YamlOperator(),
        IfOperator(),
        CacheOperator(),
        SecretOperator(),
        PeanutOperator(),
    ]
