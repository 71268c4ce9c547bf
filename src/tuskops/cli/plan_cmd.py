"""``tuskops plan``, ``tuskops apply`` and ``tuskops history``."""

from __future__ import annotations

import hashlib
import os
import shlex
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from tuskops.cli.output import (
    OUTPUT_CHOICE,
    handles_errors,
    print_diagnostics,
    print_json,
    stderr,
    stdout,
)
from tuskops.core.apply import ApplyResult, apply_plan
from tuskops.core.plan import Plan, ResourceChange, make_plan, render_plan
from tuskops.core.state import StateStore, default_state_path, now_utc
from tuskops.core.targets import DirectoryTarget, Target
from tuskops.errors import ApplyError, ConfigurationError
from tuskops.lang.api import load
from tuskops.lang.document import Document

#: Exit code of ``plan --detailed-exitcode`` when the plan has changes.
EXIT_CHANGES = 3

file_argument = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
target_option = click.option(
    "--target",
    "target_spec",
    metavar="DIR",
    help="Directory to write to (also 'dir:DIR'). Default: the file's '#!target dir PATH' "
    "line, else deploy/ next to the file.",
)
offline_option = click.option(
    "--offline", is_flag=True, help="No network lookups; calls that need one fail."
)
state_option = click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite state store. Default: $TUSKOPS_STATE, else .tuskops/state.db next to the file.",
)


@dataclass
class Planned:
    file: Path
    doc: Document
    target: Target
    plan: Plan


def resolve_target(file: Path, doc: Document, spec: str | None) -> Target:
    """The target named on the command line, else by ``#!target``, else ``deploy/``."""
    base = Path.cwd()
    if spec is None:
        directives = [d for d in doc.directives if d.name == "target"]
        if directives:
            spec = directives[-1].args
            base = Path(directives[-1].file).parent
        else:
            return DirectoryTarget(file.absolute().parent / "deploy")
    return DirectoryTarget(_directory_of(spec, base))


def _directory_of(spec: str, base: Path) -> Path:
    words = shlex.split(spec.replace("dir:", "dir ", 1) if spec.startswith("dir:") else spec)
    if len(words) == 2 and words[0] == "dir":
        words = words[1:]
    if len(words) != 1 or not words[0]:
        raise ConfigurationError(
            f"unsupported target {spec!r}: the only target kind so far is a directory "
            "('dir PATH', 'dir:PATH' or just PATH)"
        )
    path = Path(words[0]).expanduser()
    return path if path.is_absolute() else base / path


def _plan(file: Path, target_spec: str | None, offline: bool, quiet: bool) -> Planned:
    doc = load(file, offline=offline)
    if not quiet:
        print_diagnostics(doc.warnings)
    target = resolve_target(file, doc, target_spec)
    return Planned(file, doc, target, make_plan(doc.resources, target))


@click.command("plan", short_help="Show what apply would change, changing nothing.")
@file_argument
@target_option
@offline_option
@click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True)
@click.option("--show-unchanged", is_flag=True, help="Also list resources that do not change.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help=f"Exit {EXIT_CHANGES} when the plan has changes, 0 when it has none.",
)
@click.option("-q", "--quiet", is_flag=True, help="Do not print warnings.")
@handles_errors
def plan_command(
    file: Path,
    target_spec: str | None,
    offline: bool,
    output: str,
    show_unchanged: bool,
    detailed_exitcode: bool,
    quiet: bool,
) -> None:
    """Show what `tuskops apply FILE` would change, without changing anything.

    Each resource is listed as + create, ~ update (with the fields that change) or - delete;
    resources tuskops applied before and that left the file are deleted. Secret values are
    never shown, only whether they change.

    \b
    Examples:
      tuskops plan app.tsk
      tuskops plan app.tsk --target ../gitops/shop
      tuskops plan app.tsk --output json | jq '.summary'
    """
    planned = _plan(file, target_spec, offline, quiet)
    if output == "json":
        print_json(planned.plan.to_json())
    else:
        stdout().print(render_plan(planned.plan, show_unchanged=show_unchanged))
    if detailed_exitcode and planned.plan.has_changes:
        sys.exit(EXIT_CHANGES)


@click.command("apply", short_help="Show the plan, confirm, and apply it; record the outcome.")
@file_argument
@target_option
@offline_option
@state_option
@click.option("-y", "--yes", is_flag=True, help="Apply without asking for confirmation.")
@click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Do not print warnings.")
@handles_errors
def apply_command(
    file: Path,
    target_spec: str | None,
    offline: bool,
    state_path: Path | None,
    yes: bool,
    output: str,
    quiet: bool,
) -> None:
    """Apply FILE: show the plan, ask, then make the changes in dependency order.

    Every apply is recorded in the state store (time, user, file hash, resources, outcome);
    see `tuskops history`. If a change fails, apply stops there and reports exactly which
    changes were made, which failed and which were not attempted. Applying an unchanged file
    changes nothing.

    \b
    Examples:
      tuskops apply app.tsk
      tuskops apply app.tsk --yes --output json
    """
    started = now_utc()
    digest = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else None
    planned = _plan(file, target_spec, offline, quiet)
    plan = planned.plan
    json_out = output == "json"
    human = stderr() if json_out else stdout()
    human.print(render_plan(plan))
    store = StateStore(state_path or default_state_path(file))

    if plan.has_changes and not yes:
        _confirm(planned.target.describe())

    def progress(change: ResourceChange, status: str) -> None:
        if status != "applying":
            sign = {"create": "+", "update": "~", "delete": "-"}.get(change.action, " ")
            word = {"applied": f"{change.action}d", "failed": f"{change.action} FAILED"}[status]
            human.print(f"  {sign} {change.resource_id}: {word}", markup=False)

    try:
        result = apply_plan(plan, planned.target, on_progress=progress)
    except ApplyError as err:
        failed = err.result
        assert isinstance(failed, ApplyResult)
        record_id = store.record_result(
            failed, started_at=started, file=file.absolute(), file_sha256=digest
        )
        _report(failed, record_id, json_out, plan)
        sys.exit(err.exit_code)
    record_id = store.record_result(
        result, started_at=started, file=file.absolute(), file_sha256=digest
    )
    _report(result, record_id, json_out, plan)


def _confirm(where: str) -> None:
    if not sys.stdin.isatty():
        raise ConfigurationError(
            "apply needs confirmation, but standard input is not a terminal: pass --yes"
        )
    if not click.confirm(f"Apply these changes to {where}?", default=False, err=True):
        click.echo("Apply cancelled; nothing was changed.", err=True)
        sys.exit(1)


def _report(result: ApplyResult, record_id: int, json_out: bool, plan: Plan) -> None:
    if json_out:
        print_json({"apply_id": record_id, "plan": plan.to_json(), "result": result.to_json()})
        return
    if result.outcome in ("applied", "no-op"):
        # The progress lines already listed each change: end with the verdict alone.
        console = stdout()
        console.print(result.render().splitlines()[-1], markup=False)
    else:
        console = stderr()
        console.print(result.render(), markup=False)
    console.print(f"Recorded as apply #{record_id} (tuskops history).", style="dim")


@click.command("history", short_help="List recorded applies, newest first.")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@state_option
@click.option("-n", "--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True)
@handles_errors
def history_command(file: Path | None, state_path: Path | None, limit: int, output: str) -> None:
    """List recorded applies, newest first.

    The state store is the one FILE's applies went to (.tuskops/state.db next to it), or
    --state, or $TUSKOPS_STATE, or .tuskops/state.db in the current directory.

    \b
    Examples:
      tuskops history app.tsk
      tuskops history --state /var/lib/tuskops/state.db --output json
    """
    if state_path is None:
        state_path = default_state_path(file if file is not None else Path("_"))
    if not state_path.exists():
        if output == "json":
            print_json([])
        else:
            click.echo(f"No applies recorded yet ({state_path} does not exist).")
        return
    records = StateStore(state_path).history(limit)
    if output == "json":
        print_json([r.to_json() for r in records])
        return
    if not records:
        click.echo("No applies recorded yet.")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("id", "finished", "user", "outcome", "changes", "file", "sha256", "target"):
        table.add_column(column)
    for r in records:
        table.add_row(
            str(r.id),
            _local(r.finished_at),
            r.user,
            r.outcome,
            _changes(r.resources),
            _short_path(r.file),
            (r.file_sha256 or "")[:12],
            r.target,
        )
    stdout().print(table)


def _local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _changes(resources: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for entry in resources:
        if entry.get("status") in ("applied", "failed"):
            key = f"{entry.get('action')}{'!' if entry.get('status') == 'failed' else ''}"
            counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n} {k}" for k, n in counts.items()) or "-"


def _short_path(path: str | None) -> str:
    if not path:
        return "-"
    try:
        return os.path.relpath(path)
    except ValueError:
        return path
