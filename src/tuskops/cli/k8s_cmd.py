"""``tuskops k8s``: the cluster side of ``@kubernetes``.

Each command group lives in its own module (``k8s_*_cmd.py``) and is registered here. They
share :func:`cluster_options` (``--context``, ``--kubeconfig``, ``-n/--namespace``) and
:func:`open_cluster`, so every command finds the cluster as kubectl would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.markup import escape
from rich.table import Table

from tuskops.cli.output import OUTPUT_CHOICE, handles_errors, print_json, stdout

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ClusterOptions:
    context: str | None
    kubeconfig: Path | None
    namespace: str | None


def cluster_options(func: F) -> F:
    """``--context``, ``--kubeconfig`` and ``-n/--namespace``, passed as ``cluster``."""
    options = [
        click.option("--context", help="kubeconfig context (default: the current one)."),
        click.option(
            "--kubeconfig",
            type=click.Path(dir_okay=False, path_type=Path),
            help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster).",
        ),
        click.option(
            "-n", "--namespace", help="Namespace (default: the context's, else 'default')."
        ),
    ]

    def wrap(context: str | None, kubeconfig: Path | None, namespace: str | None, **kw: Any) -> Any:
        return func(cluster=ClusterOptions(context, kubeconfig, namespace), **kw)

    wrap.__name__ = func.__name__
    wrap.__doc__ = func.__doc__
    # Keep the options decorated below this one (click collects them on the function).
    wrap.__click_params__ = list(getattr(func, "__click_params__", []))  # type: ignore[attr-defined]
    wrapped: Any = wrap
    for option in reversed(options):
        wrapped = option(wrapped)
    return wrapped  # type: ignore[no-any-return]


class Duration(click.ParamType[Any, Any]):
    """A duration option: plain seconds (``90``) or a Go duration (``30s``, ``5m``, ``1h30m``,
    ``250ms``), as kubectl's ``--timeout`` reads them. ``allow_zero``: ``0`` is accepted."""

    name = "duration"

    def __init__(self, *, allow_zero: bool = False) -> None:
        self.allow_zero = allow_zero

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from datetime import timedelta

        from tuskops.errors import KubernetesSpecError
        from tuskops.kubernetes.metrics import parse_go_duration

        if isinstance(value, timedelta):
            return value
        text = str(value).strip()
        try:
            parsed = timedelta(seconds=float(text)) if _is_number(text) else parse_go_duration(text)
        except (KubernetesSpecError, OverflowError):
            self.fail(f"{value!r} is not a duration such as 90, 30s, 5m or 1h30m", param, ctx)
        if parsed < timedelta(0) or (parsed == timedelta(0) and not self.allow_zero):
            self.fail(f"{value!r} must be longer than zero", param, ctx)
        return parsed


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def open_cluster(options: ClusterOptions) -> Any:
    """A :class:`~tuskops.kubernetes.cluster.KubeClient` for the chosen context (use it as
    ``async with``). The namespace option overrides the context's."""
    from dataclasses import replace

    from tuskops.kubernetes.cluster import KubeClient
    from tuskops.kubernetes.kubeconfig import load_cluster

    config = load_cluster(options.context, options.kubeconfig)
    if options.namespace:
        config = replace(config, namespace=options.namespace)
    return KubeClient(config)


@click.group("k8s", short_help="Kubernetes: contexts, rollouts, health, metrics.")
def k8s_group() -> None:
    """The cluster side of @kubernetes: rollouts and rollback, health, metrics and cost.

    The cluster is found as kubectl finds it: --kubeconfig, else $KUBECONFIG (several files
    merged), else ~/.kube/config, else the in-cluster service account; --context picks a
    context, -n a namespace.

    \b
    Examples:
      tuskops k8s contexts
      tuskops k8s status web -n shop
    """


@k8s_group.command("contexts", short_help="List kubeconfig contexts.")
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False, path_type=Path),
    help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).",
)
@click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True)
@handles_errors
def contexts_command(kubeconfig: Path | None, output: str) -> None:
    """List the contexts of the kubeconfig, the current one marked."""
    from tuskops.kubernetes.kubeconfig import list_contexts

    found = list_contexts(kubeconfig)
    if output == "json":
        print_json([c.__dict__ for c in found])
        return
    table = Table(box=None, pad_edge=False)
    for column in ("", "context", "cluster", "user", "namespace"):
        table.add_column(column)
    for c in found:
        table.add_row("*" if c.current else "", escape(c.name), escape(c.cluster or ""),
                      escape(c.user or ""), escape(c.namespace or ""))  # fmt: skip
    stdout().print(table)


def _register() -> None:
    from tuskops.cli.k8s_health_cmd import (
        cost_command,
        health_command,
        nodes_command,
        recommend_command,
        top_command,
    )
    from tuskops.cli.k8s_release_cmd import release_command, switch_back_command
    from tuskops.cli.k8s_rollout_cmd import (
        history_command,
        restart_command,
        rollback_command,
        status_command,
    )

    for command in (
        status_command, history_command, rollback_command, restart_command,
        health_command, top_command, recommend_command, cost_command, nodes_command,
        release_command, switch_back_command,
    ):  # fmt: skip
        k8s_group.add_command(command)


_register()
