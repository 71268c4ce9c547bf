"""``tuskops k8s status | history | rollback | restart``: ``kubectl rollout`` for tuskops.

* ``status DEPLOYMENT`` — the rollout's state and, unlike kubectl, *why* it is failing or slow
  (CrashLoopBackOff, ImagePullBackOff, OOMKilled, failing probes...; see
  :mod:`tuskops.kubernetes.rollout`). One-shot by default; ``--watch`` waits like
  ``kubectl rollout status`` (without rolling back). Exits 1 when the rollout failed or the
  wait timed out — a check that could not finish is never a success.
* ``history DEPLOYMENT`` — ``kubectl rollout history``: revision, images, change-cause,
  created, and which is current.
* ``rollback DEPLOYMENT [--to-revision N]`` — ``kubectl rollout undo``, by server-side apply
  as ``tuskops`` (why: :mod:`tuskops.kubernetes.watch`), then waits for the rollout unless
  ``--no-wait``.
* ``restart DEPLOYMENT`` — ``kubectl rollout restart`` (a ``restartedAt`` merge patch), then
  waits unless ``--no-wait``.

Every command takes the shared cluster options and ``-o json``. These commands are exported
for :mod:`tuskops.cli.k8s_cmd` to register on the ``k8s`` group.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tuskops.cli.k8s_cmd import ClusterOptions, cluster_options, open_cluster
from tuskops.cli.output import OUTPUT_CHOICE, handles_errors, print_json, stderr, stdout
from tuskops.kubernetes.cluster import KubeClient
from tuskops.kubernetes.rollout import RolloutStatus, revisions
from tuskops.kubernetes.watch import (
    RolloutProgress,
    failure_reasons,
    fetch_rollout,
    restart,
    rollback,
    wait_for_rollout,
)

__all__ = ["history_command", "restart_command", "rollback_command", "status_command"]

T = TypeVar("T")

#: The waits' sleep; tests replace it to run a simulated controller between polls.
_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

_timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=600,
    show_default=True,
    help="Seconds to wait for the rollout before giving up (exit 1).",
)
_output_option = click.option(
    "-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True
)
_wait_option = click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait for the rollout to finish.",
)


def _run(cluster: ClusterOptions, body: Callable[[KubeClient, str], Awaitable[T]]) -> T:
    """Open the cluster, run ``body(kube, namespace)``, close."""

    async def go() -> T:
        async with open_cluster(cluster) as kube:
            return await body(kube, kube.namespace or "default")

    return asyncio.run(go())


def _status_json(status: RolloutStatus) -> dict[str, Any]:
    return {
        "namespace": status.namespace,
        "name": status.name,
        "state": status.state,
        "message": status.message,
        "revision": status.revision,
        "desired": status.desired,
        "updated": status.updated,
        "ready": status.ready,
        "available": status.available,
        "total": status.total,
        "new_replica_set": status.new_replica_set,
        "paused": status.paused,
        "failures": [
            {
                "reason": f.reason,
                "message": f.message,
                "pod": f.pod,
                "container": f.container,
                "fatal": f.fatal,
            }
            for f in status.failures
        ],
    }


def _print_reasons(console: Console, reasons: tuple[str, ...]) -> None:
    for reason in reasons:
        console.print(f"  - {escape(reason)}")


async def _wait(
    kube: KubeClient, namespace: str, name: str, timeout: float, output: str
) -> tuple[RolloutStatus, bool]:
    """Wait with a progress display (stdout for text, stderr under ``-o json``)."""
    console = stdout() if output == "text" else stderr()
    with RolloutProgress(console) as progress:
        return await wait_for_rollout(
            kube, namespace, name, timeout=timeout, on_progress=progress, sleep=_sleep
        )


def _finish_wait(
    status: RolloutStatus, timed_out: bool, timeout: float, output: str, extra: dict[str, Any]
) -> None:
    """Print the end of a wait; exit 1 unless the rollout completed."""
    reasons = failure_reasons(status)
    if timed_out:
        reasons = (f"timed out after {timeout:g}s: {status.message}", *reasons)
    if output == "json":
        print_json({**extra, **_status_json(status), "timed_out": timed_out})
    else:  # the result goes to stdout, complete or not, as for the one-shot status
        console = stdout()
        console.print(escape(status.message))
        _print_reasons(console, reasons)
    if status.state != "complete":
        sys.exit(1)


# --- status --------------------------------------------------------------------------------------


@click.command("status", short_help="Show (or wait for) a Deployment's rollout.")
@click.argument("deployment")
@click.option(
    "--watch/--no-watch",
    default=False,
    show_default=True,
    help="Wait until the rollout completes or fails, like kubectl rollout status.",
)
@_timeout_option
@_output_option
@cluster_options
@handles_errors
def status_command(
    cluster: ClusterOptions, deployment: str, watch: bool, timeout: float, output: str
) -> None:
    """Show the rollout of DEPLOYMENT, and why it is failing or slow.

    Exits 1 when the rollout failed (ProgressDeadlineExceeded, CrashLoopBackOff,
    ImagePullBackOff...) or, with --watch, did not finish within --timeout.

    \b
    Examples:
      tuskops k8s status web -n shop
      tuskops k8s status web --watch --timeout 300
    """

    async def body(kube: KubeClient, namespace: str) -> tuple[RolloutStatus, bool]:
        if watch:
            return await _wait(kube, namespace, deployment, timeout, output)
        return (await fetch_rollout(kube, namespace, deployment)).status(), False

    status, timed_out = _run(cluster, body)
    if watch:
        _finish_wait(status, timed_out, timeout, output, {})
        return
    if output == "json":
        print_json(_status_json(status))
    else:
        console = stdout()
        console.print(escape(status.message))
        _print_reasons(console, failure_reasons(status))
    if status.state == "failed":
        sys.exit(1)


# --- history -------------------------------------------------------------------------------------


@click.command("history", short_help="List a Deployment's revisions.")
@click.argument("deployment")
@_output_option
@cluster_options
@handles_errors
def history_command(cluster: ClusterOptions, deployment: str, output: str) -> None:
    """List the revisions of DEPLOYMENT, oldest first, as kubectl rollout history does.

    \b
    Example:
      tuskops k8s history web -n shop
    """

    async def body(kube: KubeClient, namespace: str) -> Any:
        snap = await fetch_rollout(kube, namespace, deployment, pods=False)
        return revisions(snap.replica_sets, snap.deployment)

    history = _run(cluster, body)
    if output == "json":
        print_json(
            [
                {
                    "revision": r.number,
                    "replica_set": r.replica_set,
                    "images": list(r.images),
                    "change_cause": r.change_cause,
                    "created": r.created.isoformat() if r.created else None,
                    "replicas": r.replicas,
                    "current": r.current,
                }
                for r in history
            ]
        )
        return
    if not history:
        stdout().print(f'deployment "{escape(deployment)}" has no revisions yet')
        return
    table = Table(box=None, pad_edge=False)
    for column in ("revision", "images", "change-cause", "created", "current"):
        table.add_column(column)
    for r in history:
        table.add_row(
            str(r.number),
            escape(", ".join(r.images)),
            escape(r.change_cause or "<none>"),
            r.created.strftime("%Y-%m-%d %H:%M:%S") if r.created else "",
            "*" if r.current else "",
        )
    stdout().print(table)


# --- rollback ------------------------------------------------------------------------------------


@click.command("rollback", short_help="Roll a Deployment back to an earlier revision.")
@click.argument("deployment")
@click.option(
    "--to-revision",
    type=click.IntRange(min=1),
    default=None,
    help="The revision to go back to (default: the previous one).",
)
@_wait_option
@_timeout_option
@_output_option
@cluster_options
@handles_errors
def rollback_command(
    cluster: ClusterOptions,
    deployment: str,
    to_revision: int | None,
    wait: bool,
    timeout: float,
    output: str,
) -> None:
    """Roll DEPLOYMENT back to the previous revision, or --to-revision N, then wait for it.

    The old pod template is server-side applied as tuskops (force), so it becomes tuskops'
    applied configuration; re-applying the .tsk rolls forward again.

    \b
    Examples:
      tuskops k8s rollback web -n shop
      tuskops k8s rollback web --to-revision 3 --no-wait
    """

    async def body(
        kube: KubeClient, namespace: str
    ) -> tuple[str, int | None, int, tuple[RolloutStatus, bool] | None]:
        from_revision, target = await rollback(kube, namespace, deployment, to_revision)
        if output == "text":
            stdout().print(
                f'deployment "{escape(deployment)}" rolled back from revision '
                f"{from_revision if from_revision is not None else '?'} to revision {target}"
            )
        if not wait:
            return namespace, from_revision, target, None
        waited = await _wait(kube, namespace, deployment, timeout, output)
        return namespace, from_revision, target, waited

    namespace, from_revision, target, waited = _run(cluster, body)
    extra = {"from_revision": from_revision, "to_revision": target}
    if waited is None:
        if output == "json":
            print_json({"namespace": namespace, "name": deployment, **extra})
        return
    _finish_wait(*waited, timeout, output, extra)


# --- restart -------------------------------------------------------------------------------------


@click.command("restart", short_help="Restart a Deployment's pods with a rollout.")
@click.argument("deployment")
@_wait_option
@_timeout_option
@_output_option
@cluster_options
@handles_errors
def restart_command(
    cluster: ClusterOptions, deployment: str, wait: bool, timeout: float, output: str
) -> None:
    """Replace every pod of DEPLOYMENT by a rollout, as kubectl rollout restart does.

    \b
    Examples:
      tuskops k8s restart web -n shop
    """

    async def body(
        kube: KubeClient, namespace: str
    ) -> tuple[str, tuple[RolloutStatus, bool] | None]:
        await restart(kube, namespace, deployment, datetime.now(UTC))
        if output == "text":
            stdout().print(f'deployment "{escape(deployment)}" restarted')
        if not wait:
            return namespace, None
        return namespace, await _wait(kube, namespace, deployment, timeout, output)

    namespace, waited = _run(cluster, body)
    if waited is None:
        if output == "json":
            print_json({"namespace": namespace, "name": deployment, "restarted": True})
        return
    _finish_wait(*waited, timeout, output, {"restarted": True})
