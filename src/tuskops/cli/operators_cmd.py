"""``tuskops operators``: what the registry offers."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from tuskops.cli.output import OUTPUT_CHOICE, handles_errors, print_json, stdout
from tuskops.core.operator import Operator, iter_actions
from tuskops.core.platform import PlannedOperator
from tuskops.core.registry import default_registry


def _status(op: Operator) -> str:
    return "not implemented yet" if isinstance(op, PlannedOperator) else "ready"


def _operator_json(op: Operator) -> dict[str, object]:
    return {
        "name": op.name,
        "aliases": list(op.aliases),
        "origin": op.origin,
        "status": _status(op),
        "doc": op.doc,
        "default_action": op.default_action,
        "actions": [
            {
                "name": act.name,
                "doc": act.doc,
                "params": [
                    {
                        "name": p.name,
                        "type": p.type_name,
                        "required": p.required,
                        "variadic": p.variadic,
                        **({} if p.required or p.variadic else {"default": p.default}),
                    }
                    for p in act.params
                ],
            }
            for act in iter_actions(op)
        ],
        **({"planned_actions": list(op.planned)} if isinstance(op, PlannedOperator) else {}),
    }


@click.command("operators", short_help="List operators, or show one's actions and parameters.")
@click.argument("name", required=False)
@click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True)
@handles_errors
def operators_command(name: str | None, output: str) -> None:
    """List operators, or show one operator's actions, parameters and docs.

    \b
    Examples:
      tuskops operators
      tuskops operators env
      tuskops operators render --output json
    """
    registry = default_registry()
    if name is not None:
        op = registry.get(name.lstrip("@"))
        if output == "json":
            print_json(_operator_json(op))
            return
        _print_operator(op)
        return
    ops = list(registry)
    if output == "json":
        print_json(
            {
                "operators": [_operator_json(op) for op in ops],
                "plugin_errors": [{"entry_point": e, "error": m} for e, m in registry.load_errors],
            }
        )
        return
    table = Table(box=None, pad_edge=False)
    table.add_column("operator")
    table.add_column("aliases")
    table.add_column("status")
    table.add_column("summary")
    for op in ops:
        table.add_row(f"@{op.name}", " ".join(f"@{a}" for a in op.aliases), _status(op), op.summary)
    console = stdout()
    console.print(table)
    for entry, message in registry.load_errors:
        click.echo(f"warning: plugin {entry} failed to load: {message}", err=True)


def _print_operator(op: Operator) -> None:
    console = stdout()
    aliases = f" (aliases: {', '.join('@' + a for a in op.aliases)})" if op.aliases else ""
    console.print(f"[bold]@{op.name}[/bold]{aliases}  [dim]{op.origin}, {_status(op)}[/dim]")
    console.print(op.doc, markup=False)
    if isinstance(op, PlannedOperator):
        console.print(f"\nPlanned actions: {', '.join(op.planned)}")
        return
    if op.default_action:
        console.print(f"\nDefault action: {op.default_action}  (`@{op.name}(...)` calls it)")
    for act in iter_actions(op):
        console.print(f"\n  [bold]@{escape(op.name)}.{escape(act.signature())}[/bold]")
        for line in act.doc.splitlines():
            console.print(f"      {line}", markup=False)
