"""Entry point of the ``tuskops`` command."""

from __future__ import annotations

import click

from tuskops import __version__
from tuskops.cli.eval_cmd import eval_command
from tuskops.cli.k8s_cmd import k8s_group
from tuskops.cli.operators_cmd import operators_command
from tuskops.cli.pkg_cmd import pkg_group
from tuskops.cli.plan_cmd import apply_command, history_command, plan_command
from tuskops.cli.wasm_cmd import wasm_group

EPILOG = """\b
Exit codes:
  0  success
  1  an operation failed (e.g. apply stopped part-way)
  2  bad input: syntax or evaluation errors in the .tsk file, bad options
  3  `plan --detailed-exitcode` only: the plan has changes

\b
Examples:
  tuskops eval app.tsk                 evaluate and print JSON
  tuskops plan app.tsk                 show what apply would change
  tuskops apply app.tsk --yes          apply without asking
  tuskops operators kubernetes         what @kubernetes offers
"""


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EPILOG,
)
@click.version_option(__version__, "-V", "--version", prog_name="tuskops")
def cli() -> None:
    """Platform operations in TuskLang configuration files.

    A .tsk file describes an application and its platform. `tuskops eval` shows what it means,
    `tuskops plan` shows what would change, and `tuskops apply` changes it, after a diff.
    Evaluating a file never changes anything outside tuskops.
    """


cli.add_command(eval_command)
cli.add_command(plan_command)
cli.add_command(apply_command)
cli.add_command(history_command)
cli.add_command(operators_command)
cli.add_command(pkg_group)
cli.add_command(k8s_group)
cli.add_command(wasm_group)


def main() -> None:
    cli(prog_name="tuskops")


if __name__ == "__main__":
    main()
