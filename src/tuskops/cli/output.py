"""Shared output helpers: consoles, JSON, diagnostics, and the error boundary."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

import click
from rich.console import Console

from tuskops.errors import LangError, OperatorError, TuskError
from tuskops.lang.source import Diagnostic

F = TypeVar("F", bound=Callable[..., Any])

#: ``--output`` choices shared by every command that prints a result.
OUTPUT_CHOICE = click.Choice(["text", "json"])


def _console(*, err: bool) -> Console:
    stream = sys.stderr if err else sys.stdout
    # Rich assumes 80 columns when output is not a terminal; tables piped to a file or a CI log
    # read better unwrapped.
    width = None if stream.isatty() else 200
    return Console(file=stream, width=width, highlight=False, soft_wrap=True)


def stdout() -> Console:
    return _console(err=False)


def stderr() -> Console:
    return _console(err=True)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    """Compiler-style diagnostics on stderr (plain text, so they stay greppable)."""
    for diag in diagnostics:
        click.echo(diag.render(), err=True)


def handles_errors(func: F) -> F:
    """The CLI's one error boundary: a TuskError becomes a message and its exit code.

    Language errors print every diagnostic; anything else prints ``error: message``. An
    unexpected exception is a bug and keeps its traceback.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LangError as err:
            print_diagnostics(err.diagnostics)
            count = len(err.diagnostics)
            click.echo(f"{count} error{'s' if count != 1 else ''}", err=True)
            sys.exit(err.exit_code)
        except OperatorError as err:
            click.echo(f"error: {err.message}", err=True)
            if err.hint:
                click.echo(f"  hint: {err.hint}", err=True)
            sys.exit(err.exit_code)
        except TuskError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(err.exit_code)

    return wrapper  # type: ignore[return-value]
