"""Public entry points of the TuskLang reader."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from tuskops.core.registry import Registry
from tuskops.errors import LangError, TuskSyntaxError
from tuskops.lang import ast
from tuskops.lang.document import Document
from tuskops.lang.source import Diagnostic, Source


def parse(
    text: str, name: str = "<string>", path: Path | None = None, *, constant_runs: bool = True
) -> ast.Module:
    """Parse text to a syntax tree. Raises TuskSyntaxError listing every syntax error.

    Consecutive ``key: constant`` lines become one :class:`~tuskops.lang.ast.ConstantRun`;
    with ``constant_runs=False`` every line is its own :class:`~tuskops.lang.ast.Assign`.
    """
    from tuskops.lang.parser import parse_source

    return parse_source(Source(text, name=name, path=path), constant_runs=constant_runs)


def parse_file(path: str | os.PathLike[str]) -> ast.Module:
    p = Path(path)
    return parse_source_file(p)


def parse_source_file(p: Path) -> ast.Module:
    from tuskops.lang.parser import parse_source

    try:
        source = Source.from_path(p)
    except OSError as exc:
        raise TuskSyntaxError(
            [Diagnostic(f"cannot read {p}: {exc.strerror or exc}", None)]
        ) from exc
    except UnicodeDecodeError as exc:
        raise TuskSyntaxError([Diagnostic(f"{p} is not UTF-8 text: {exc.reason}", None)]) from exc
    return parse_source(source)


def load(
    path: str | os.PathLike[str],
    *,
    offline: bool = False,
    env: Mapping[str, str] | None = None,
    registry: Registry | None = None,
    now: datetime | None = None,
) -> Document:
    """Parse and evaluate a ``.tsk`` file. Raises a LangError subclass listing every error."""
    from tuskops.lang.evaluator import evaluate_file

    return evaluate_file(Path(path), offline=offline, env=env, registry=registry, now=now)


def loads(
    text: str,
    *,
    name: str = "<string>",
    base_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
    env: Mapping[str, str] | None = None,
    registry: Registry | None = None,
    now: datetime | None = None,
) -> Document:
    """Parse and evaluate TuskLang text. Relative paths resolve against ``base_dir`` (default:
    the current directory)."""
    from tuskops.lang.evaluator import evaluate_source

    return evaluate_source(
        Source(text, name=name),
        base_dir=Path(base_dir) if base_dir is not None else Path.cwd(),
        offline=offline,
        env=env,
        registry=registry,
        now=now,
    )


__all__ = ["LangError", "load", "loads", "parse", "parse_file"]
