"""``tuskops k8s release`` and ``tuskops k8s switch-back``: blue-green and canary releases.

``release FILE KEY`` evaluates the ``.tsk`` file and reads the app spec map at the dotted
``KEY`` (the map one passes to ``@kubernetes.app``), then drives the release with
:func:`tuskops.kubernetes.release.run_bluegreen` or :func:`~tuskops.kubernetes.release.run_canary`,
printing a line per step. ``switch-back FILE KEY`` points a blue-green Service back at the
other colour (:func:`tuskops.kubernetes.release.switch_back`).

Exit status: 0 when the release (or switch back) went through, 1 when it was aborted, rolled
back or failed (the outcome says why), and the usual error codes for a bad spec or an
unreachable cluster. With ``-o json`` the outcome is printed as JSON on stdout and the progress
lines go to stderr.

``-n/--namespace`` fills in the spec's namespace when the map has none; a map that names a
different namespace is refused rather than silently overridden.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tuskops.cli.k8s_cmd import ClusterOptions, Duration, cluster_options, open_cluster
from tuskops.cli.output import OUTPUT_CHOICE, handles_errors, print_json
from tuskops.errors import KubernetesSpecError

__all__ = ["load_app_spec", "release_command", "switch_back_command"]

if TYPE_CHECKING:  # the Kubernetes stack is imported when a command runs, not at start-up
    from tuskops.kubernetes.release import ReleaseOutcome
    from tuskops.kubernetes.spec import AppSpec


async def _sleep(seconds: float) -> None:
    """The loops' sleep (a module attribute, so tests can play the controllers here)."""
    await asyncio.sleep(seconds)


class _Steps(click.ParamType[tuple[int, ...], Any]):
    name = "steps"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, ...]:
        if isinstance(value, tuple):
            return tuple(int(v) for v in value)
        parts = [p.strip().rstrip("%") for p in str(value).split(",") if p.strip()]
        if not parts or not all(p.isdigit() for p in parts):
            self.fail(f"{value!r}: give percentages such as 10,25,50,100", param, ctx)
        return tuple(int(p) for p in parts)


def load_app_spec(file: Path, key: str, namespace: str | None = None) -> AppSpec:
    """Evaluate ``file`` and read the app spec map at the dotted ``key``."""
    import tuskops
    from tuskops.core.resource import Resource
    from tuskops.kubernetes.spec import parse_app_spec

    doc = tuskops.load(file)
    missing = object()
    value = doc.lookup(key, missing)
    if value is missing:
        raise KubernetesSpecError(key, f"no such key in {file}")
    if isinstance(value, Resource) or (
        isinstance(value, list) and value and isinstance(value[0], Resource)
    ):
        raise KubernetesSpecError(
            key,
            "holds @kubernetes resources; give the key of the app spec map itself "
            "(the map passed to @kubernetes.app)",
        )
    if not isinstance(value, Mapping):
        raise KubernetesSpecError(key, f"expected an app spec map, got {type(value).__name__}")
    data = dict(value)
    if namespace:
        if data.get("namespace") not in (None, namespace):
            raise KubernetesSpecError(
                f"{key}.namespace",
                f"the spec says {data['namespace']!r} but -n says {namespace!r}",
            )
        data["namespace"] = namespace
    return parse_app_spec(data, where=key)


def _port(value: str | None) -> str | int | None:
    if value is None:
        return None
    return int(value) if value.isdigit() else value


def _finish(outcome: ReleaseOutcome, output: str) -> None:
    if output == "json":
        print_json(outcome.to_dict())
    else:
        for note in outcome.notes:
            click.echo(f"note: {note}")
        click.echo(f"{outcome.result}: {outcome.reason}")
    if not outcome.ok:
        sys.exit(1)


def _drive(
    cluster: ClusterOptions,
    output: str,
    body: Callable[[Any, Callable[[str], None]], Awaitable[ReleaseOutcome]],
) -> None:
    """Open the cluster, run ``body(kube, on_event)``, print the outcome, exit 1 if not ok."""
    to_stderr = output == "json"

    def on_event(line: str) -> None:
        click.echo(line, err=to_stderr)

    async def main() -> ReleaseOutcome:
        async with open_cluster(cluster) as kube:
            return await body(kube, on_event)

    _finish(asyncio.run(main()), output)


@click.command("release", short_help="Release an app blue-green or as a canary.")
@cluster_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("key")
@click.option(
    "--strategy",
    type=click.Choice(["blue-green", "canary"]),
    required=True,
    help="blue-green: two Deployments, a Service switched after verification; canary: a "
    "second Deployment grown step by step.",
)
@click.option(
    "--verify-path",
    help="Blue-green: the HTTP path the verification Job GETs (default: the readiness probe's).",
)
@click.option(
    "--verify-port", help="Blue-green: the port (name or number) to verify (default: the probe's)."
)
@click.option(
    "--scale-down-delay",
    type=Duration(allow_zero=True),
    default="5m",
    show_default=True,
    help="Blue-green: how long the old colour keeps its pods after the switch.",
)
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Blue-green: wait out --scale-down-delay, then scale the old colour down; "
    "--no-wait reports when it is due and leaves it running (the way back stays warm).",
)
@click.option(
    "--steps",
    type=_Steps(),
    default="10,25,50,100",
    show_default=True,
    help="Canary: the canary's share of the replicas at each step, in percent.",
)
@click.option(
    "--pause",
    type=Duration(allow_zero=True),
    default="60s",
    show_default=True,
    help="Canary: how long each step runs before it is analysed.",
)
@click.option(
    "--timeout",
    type=Duration(allow_zero=True),
    default="10m",
    show_default=True,
    help="How long a rollout, verification or analysis may take before the release stops.",
)
@click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True)
@handles_errors
def release_command(
    cluster: ClusterOptions,
    file: Path,
    key: str,
    strategy: str,
    verify_path: str | None,
    verify_port: str | None,
    scale_down_delay: timedelta,
    wait: bool,
    steps: tuple[int, ...],
    pause: timedelta,
    timeout: timedelta,
    output: str,
) -> None:
    """Release the app spec at KEY of FILE.

    \b
    blue-green: deploy the idle colour, wait until it is Available, verify it with a Job
    (an HTTP GET through a preview Service), switch the Service, and scale the old colour
    down after --scale-down-delay (with --wait; otherwise the time it is due is printed).
    A failed rollout or verification scales the idle colour to 0 and never switches.
    canary: grow a '<name>-canary' Deployment step by step (--steps), pausing and checking
    its rollout and pods at each step, then promote; a failed step rolls back.

    Exit status 1 when the release was aborted, rolled back or failed.

    \b
    Examples:
      tuskops k8s release app.tsk web --strategy blue-green --verify-path /healthz --wait
      tuskops k8s release app.tsk web --strategy canary --steps 20,50,100 --pause 2m
    """
    from tuskops.kubernetes.release import run_bluegreen, run_canary

    spec = load_app_spec(file, key, cluster.namespace)
    seconds = timeout.total_seconds()

    async def body(kube: Any, on_event: Callable[[str], None]) -> ReleaseOutcome:
        if strategy == "blue-green":
            return await run_bluegreen(
                kube,
                spec,
                verify_path=verify_path,
                verify_port=_port(verify_port),
                scale_down_delay=scale_down_delay,
                wait_for_scale_down=wait,
                timeout=seconds,
                on_event=on_event,
                sleep=_sleep,
            )
        return await run_canary(
            kube,
            spec,
            steps=steps,
            pause=pause.total_seconds(),
            timeout=seconds,
            on_event=on_event,
            sleep=_sleep,
        )

    _drive(cluster, output, body)


@click.command("switch-back", short_help="Point a blue-green Service back at the other colour.")
@cluster_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("key")
@click.option(
    "--timeout",
    type=Duration(allow_zero=True),
    default="10m",
    show_default=True,
    help="How long a scaled-down colour may take to roll out again.",
)
@click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True)
@handles_errors
def switch_back_command(
    cluster: ClusterOptions, file: Path, key: str, timeout: timedelta, output: str
) -> None:
    """Switch the Service of the app at KEY of FILE back to the other colour.

    Instant while the other colour still has its pods (within the scale-down delay); a colour
    already scaled to zero is scaled up and must roll out first. Exit status 1 when it did not.
    """
    from tuskops.kubernetes.release import switch_back

    spec = load_app_spec(file, key, cluster.namespace)

    async def body(kube: Any, on_event: Callable[[str], None]) -> ReleaseOutcome:
        return await switch_back(
            kube, spec, timeout=timeout.total_seconds(), on_event=on_event, sleep=_sleep
        )

    _drive(cluster, output, body)
