"""Entry point of the ``tuskops`` command.

Command groups are imported on first use (click's "lazy loading" pattern): `tuskops pkg lock`
does not import the Kubernetes or WebAssembly stacks. `tuskops --help` imports them all to
list each with its short help.
"""

from __future__ import annotations

import gc
import importlib
from typing import Any

import click

from tuskops import __version__

EPILOG = """\b
Exit codes:
  0  success
  1  an operation failed (e.g. apply stopped part-way)
  2  bad input: syntax or evaluation errors in the .tsk file, bad options
  3  `plan --detailed-exitcode`: the plan has changes; `wasm build`: a
     compiler or tool is missing (the message names the package)
  `wasm run` passes the module's exit status through; see docs/wasm.md

\b
Examples:
  tuskops eval app.tsk                 evaluate and print JSON
  tuskops plan app.tsk                 show what apply would change
  tuskops apply app.tsk --yes          apply without asking
  tuskops operators kubernetes         what @kubernetes offers
  tuskops pkg lock                     lock this project's dependencies
  tuskops wasm build kernel.c          compile C to WebAssembly
"""

#: Command name -> ``"module:attribute"`` of the click command.
LAZY_COMMANDS: dict[str, str] = {
    "eval": "tuskops.cli.eval_cmd:eval_command",
    "plan": "tuskops.cli.plan_cmd:plan_command",
    "apply": "tuskops.cli.plan_cmd:apply_command",
    "history": "tuskops.cli.plan_cmd:history_command",
    "operators": "tuskops.cli.operators_cmd:operators_command",
    "pkg": "tuskops.cli.pkg_cmd:pkg_group",
    "k8s": "tuskops.cli.k8s_cmd:k8s_group",
    "wasm": "tuskops.cli.wasm_cmd:wasm_group",
}


class LazyGroup(click.Group):
    """A group whose subcommands (``lazy``: name -> ``"module:attribute"``) are imported when
    first looked up; commands added with :meth:`add_command` work as in any group."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = self.lazy.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - a wrong table entry
            raise TypeError(f"{target} is not a click command")
        self.commands[cmd_name] = command
        return command


@click.group(
    cls=LazyGroup,
    lazy=LAZY_COMMANDS,
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


def main() -> None:
    # One command per process: collect reference cycles less often than the default (every
    # 700 allocations), which made parsing large registry listings (tens of thousands of file
    # entries per PyPI project page) spend a fifth of its time in the collector.
    gc.set_threshold(50_000, 20, 20)
    cli(prog_name="tuskops")


if __name__ == "__main__":
    main()
