"""``tuskops eval``: evaluate a file and print the result."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
import yaml

from tuskops.cli.output import handles_errors, print_diagnostics
from tuskops.lang.api import load, loads
from tuskops.lang.document import Document


@click.command("eval", short_help="Evaluate a file and print the result (JSON, YAML or flat).")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "yaml", "flat"]),
    default="json",
    show_default=True,
    help="json: nested objects; yaml: the same as YAML; flat: dotted keys, one per line "
    "(as the official TuskLang parser's output).",
)
@click.option("--offline", is_flag=True, help="No network lookups; calls that need one fail.")
@click.option("--directives", is_flag=True, help="Print the #! directives (metadata) instead.")
@click.option(
    "--show-secrets", is_flag=True, help="Print @secret(...) values instead of hiding them."
)
@click.option("-q", "--quiet", is_flag=True, help="Do not print warnings.")
@handles_errors
def eval_command(
    file: Path, fmt: str, offline: bool, directives: bool, show_secrets: bool, quiet: bool
) -> None:
    """Evaluate FILE (or - for standard input) and print the resulting document.

    Nothing outside tuskops changes: operators that describe desired state show it as data,
    to be acted on by `tuskops plan` and `tuskops apply`. Errors are printed as
    file:line:col with the source line and a caret, and the exit code is 2.

    \b
    Examples:
      tuskops eval app.tsk
      tuskops eval app.tsk --format yaml
      APP_ENV=prod tuskops eval app.tsk --format flat
      echo 'a: 1 + 2' | tuskops eval -
    """
    if str(file) == "-":
        doc = loads(sys.stdin.read(), name="<stdin>", offline=offline)
    else:
        doc = load(file, offline=offline)
    if not quiet:
        print_diagnostics(doc.warnings)
    if directives:
        click.echo(
            json.dumps(
                [
                    {"name": d.name, "args": d.args, "file": d.file, "line": d.line}
                    for d in doc.directives
                ],
                indent=2,
            )
        )
        return
    click.echo(render_document(doc, fmt, redact=not show_secrets), nl=False)


def render_document(doc: Document, fmt: str, *, redact: bool = True) -> str:
    if fmt == "json":
        return doc.to_json(redact=redact) + "\n"
    if fmt == "yaml":
        return str(
            yaml.safe_dump(
                doc.to_plain(redact=redact),
                sort_keys=False,
                allow_unicode=True,
                default_flow_style=False,
            )
        )
    lines = [f"{key} = {_flat_value(value)}" for key, value in doc.to_flat(redact=redact).items()]
    return "".join(line + "\n" for line in lines)


def _flat_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
