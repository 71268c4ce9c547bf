"""``tuskops k8s health | top | recommend | cost | nodes``: what runs, what it uses, what it costs.

* ``health`` reports every unhealthy pod with its cause (last state, exit code, reason, recent
  Warning events; :mod:`tuskops.kubernetes.health`) and exits 1 when it finds any, like a
  check. ``--watch`` is the opt-in loop (:mod:`tuskops.kubernetes.watchdog`) that restarts
  workloads stuck in ``CrashLoopBackOff`` as ``kubectl rollout restart`` does, at most
  ``--max-restarts`` times within ``--window``, with exponential backoff, logging every decision.
* ``top pods`` / ``top nodes`` read ``metrics.k8s.io`` like ``kubectl top``; when the metrics
  API is not served or not available the command says why and exits 1 (no empty table).
* ``recommend`` collects pod metrics for a while and recommends requests and limits per
  workload container (VPA-style percentiles, :func:`tuskops.kubernetes.metrics.recommend`).
  metrics-server keeps no history, so a short collection is low-confidence and too few samples
  give ``unknown``.
* ``cost`` prices the requests of Deployments, StatefulSets and standalone ReplicaSets per month
  at the prices given (no default prices: tuskops does not know what a cluster costs).
* ``nodes`` sizes a node pool of one shape by bin-packing the workloads' pod requests
  (:mod:`tuskops.kubernetes.binpack`), DaemonSets counted on every node.

These commands are exported for ``tuskops k8s`` to register; each takes the shared cluster
options and ``-o json``. Durations are Go-style (``30s``, ``5m``, ``1h30m``), as kubectl's.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from tuskops.cli.k8s_cmd import ClusterOptions, Duration, cluster_options, open_cluster
from tuskops.cli.output import OUTPUT_CHOICE, handles_errors, print_json, stderr, stdout
from tuskops.errors import ClusterError
from tuskops.kubernetes.health import PodProblem

__all__ = [
    "cost_command",
    "health_command",
    "nodes_command",
    "recommend_command",
    "top_command",
]

#: The clock and sleep of the watch loop (tests replace them).
CLOCK: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731
SLEEP: Callable[[float], Awaitable[None]] = asyncio.sleep


class Amount(click.ParamType[Decimal, Any]):
    """A non-negative decimal number (prices, quantities' plain numbers)."""

    name = "number"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            self.fail(f"{value!r} is not a number", param, ctx)
        if not amount.is_finite() or amount < 0:
            self.fail(f"{value!r} must be a number >= 0", param, ctx)
        return amount


CENT = Decimal("0.01")
DURATION = Duration()  # positive: intervals and windows
AMOUNT = Amount()


def _all_namespaces(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "-A", "--all-namespaces", is_flag=True, help="Every namespace (overrides -n)."
    )(func)


def _output(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True)(
        func
    )


def _namespace(kube: Any, all_namespaces: bool) -> str | None:
    return None if all_namespaces else str(kube.namespace)


def _where(namespace: str | None) -> str:
    return "any namespace" if namespace is None else f"namespace {namespace}"


def _millicores(cores: Decimal | None) -> str:
    return "?" if cores is None else f"{math.ceil(cores * 1000)}m"


def _mebibytes(amount: Decimal | None) -> str:
    return "?" if amount is None else f"{math.ceil(amount / 2**20)}Mi"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _money(value: Decimal | None) -> str:
    # Rounded half up, as prices are (Decimal's default would print 16.425 as 16.42).
    return "unknown" if value is None else str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _num(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


async def _list_optional(
    kube: Any, api_version: str, kind: str, namespace: str | None, notes: list[str]
) -> list[dict[str, Any]]:
    """A list of a kind the cluster may not serve (then a note, not an error)."""
    try:
        items: list[dict[str, Any]] = await kube.list(api_version, kind, namespace)
    except ClusterError as err:
        if err.reason != "UnknownKind":
            raise
        notes.append(f"{kind} ({api_version}) is not served by this cluster: none counted")
        return []
    return items


def _controlled(obj: Mapping[str, Any]) -> bool:
    owners = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(isinstance(o, Mapping) and o.get("controller") is True for o in owners)


async def _workloads(kube: Any, namespace: str | None, notes: list[str]) -> list[dict[str, Any]]:
    """Deployments, StatefulSets and the ReplicaSets no controller owns."""
    found = await _list_optional(kube, "apps/v1", "Deployment", namespace, notes)
    found += await _list_optional(kube, "apps/v1", "StatefulSet", namespace, notes)
    replica_sets = await _list_optional(kube, "apps/v1", "ReplicaSet", namespace, notes)
    return found + [rs for rs in replica_sets if not _controlled(rs)]


# --- health -------------------------------------------------------------------------------------


def problem_json(p: PodProblem) -> dict[str, Any]:
    """A :class:`PodProblem` as JSON-ready data."""
    return {
        "namespace": p.namespace,
        "pod": p.name,
        "workload": p.workload,
        "phase": p.phase,
        "ready": p.ready,
        "reason": p.reason,
        "cause": p.cause,
        "container": p.container,
        "node": p.node,
        "restarts": p.restart_count,
        "containers": [
            {
                "name": c.name,
                "init": c.init,
                "ready": c.ready,
                "state": c.state,
                "restarts": c.restart_count,
                "waiting": c.waiting_reason,
                "last_exit_code": c.last_terminated.exit_code if c.last_terminated else None,
                "last_reason": c.last_terminated.reason if c.last_terminated else None,
            }
            for c in p.containers
        ],
        "events": [
            {
                "reason": e.reason,
                "message": e.message,
                "count": e.count,
                "last_seen": e.last_seen.isoformat() if e.last_seen else None,
                "container": e.container,
            }
            for e in p.events
        ],
    }


def _print_problems(problems: Sequence[PodProblem], namespace: str | None, events: int) -> None:
    out = stdout()
    if not problems:
        out.print(f"all pods healthy in {_where(namespace)}")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("namespace", "pod", "workload", "reason", "restarts", "cause"):
        table.add_column(column)
    for p in problems:
        table.add_row(escape(p.namespace), escape(p.name), escape(p.workload or "-"),
                      escape(p.reason), str(p.restart_count), escape(p.cause))  # fmt: skip
    out.print(table)
    for p in problems:
        if not p.events:
            continue
        out.print(f"\nevents of {escape(p.namespace)}/{escape(p.name)} (newest first):")
        for e in p.events[:events]:
            seen = e.last_seen.isoformat() if e.last_seen else "?"
            times = f" (x{e.count})" if e.count > 1 else ""
            out.print(f"  {seen} {escape(e.reason)}{times}: {escape(e.message)}")
    count = len(problems)
    out.print(f"\n{count} unhealthy pod{'s' if count != 1 else ''} in {_where(namespace)}")


async def _check_health(
    cluster: ClusterOptions, all_namespaces: bool, grace: timedelta
) -> tuple[str | None, list[PodProblem]]:
    from tuskops.kubernetes.health import unhealthy_pods

    async with open_cluster(cluster) as kube:
        namespace = _namespace(kube, all_namespaces)
        pods = await kube.list("v1", "Pod", namespace)
        events = await kube.list("v1", "Event", namespace)
    return namespace, unhealthy_pods(pods, events, now=CLOCK(), grace=grace)


async def _watch(
    cluster: ClusterOptions,
    all_namespaces: bool,
    policy: Any,
    interval: timedelta,
    rounds: int | None,
    grace: timedelta,
    log: Callable[[str], None],
) -> None:
    from tuskops.kubernetes.watchdog import auto_restart

    async with open_cluster(cluster) as kube:
        namespace = _namespace(kube, all_namespaces)
        log(
            f"watching {_where(namespace)} every {interval.total_seconds():g}s; restarting "
            f"CrashLoopBackOff workloads at most {policy.max_restarts} times per "
            f"{policy.window.total_seconds():g}s"
        )
        await auto_restart(
            kube, namespace=namespace, policy=policy, interval=interval.total_seconds(),
            iterations=rounds, now=CLOCK, sleep=SLEEP, log=log, grace=grace,
        )  # fmt: skip


@click.command("health", short_help="Unhealthy pods and why; --watch restarts crash loops.")
@cluster_options
@_all_namespaces
@click.option(
    "--grace", type=DURATION, default="5m", show_default=True,
    help="How long a pod may be Pending or not Ready, and how recent a restart counts.",
)  # fmt: skip
@click.option("--events", "max_events", type=int, default=5, show_default=True,
              help="Warning events shown per pod.")  # fmt: skip
@click.option("--watch", is_flag=True, help="Keep watching and restart crash-looping workloads.")
@click.option("--max-restarts", type=click.IntRange(min=0), default=3, show_default=True)
@click.option("--window", type=DURATION, default="1h", show_default=True,
              help="--max-restarts counts restarts within this window.")  # fmt: skip
@click.option("--backoff", type=DURATION, default="1m", show_default=True,
              help="Wait after the first restart; doubles after each one.")  # fmt: skip
@click.option("--max-backoff", type=DURATION, default="30m", show_default=True)
@click.option("--interval", type=DURATION, default="30s", show_default=True,
              help="Time between watch rounds.")  # fmt: skip
@click.option("--rounds", type=click.IntRange(min=1), default=None,
              help="Stop after this many rounds (default: run until interrupted).")  # fmt: skip
@_output
@handles_errors
def health_command(
    cluster: ClusterOptions,
    all_namespaces: bool,
    grace: timedelta,
    max_events: int,
    watch: bool,
    max_restarts: int,
    window: timedelta,
    backoff: timedelta,
    max_backoff: timedelta,
    interval: timedelta,
    rounds: int | None,
    output: str,
) -> None:
    """Report unhealthy pods with the cause: last state, exit code, reason, recent events.

    Exits 1 when a pod is unhealthy, 0 when all are healthy. With --watch, runs a loop that
    restarts Deployments, StatefulSets and DaemonSets stuck in CrashLoopBackOff (as kubectl
    rollout restart does; paused Deployments are skipped), with backoff, giving up after
    --max-restarts within --window, and logs every decision.

    \b
    Examples:
      tuskops k8s health -n shop
      tuskops k8s health -A -o json
      tuskops k8s health -n shop --watch --max-restarts 3 --interval 30s
    """
    if watch:
        from tuskops.kubernetes.health import AutoRestartPolicy

        policy = AutoRestartPolicy(
            max_restarts=max_restarts, window=window, backoff_base=backoff,
            backoff_max=max(max_backoff, backoff),
        )  # fmt: skip
        if output == "json":

            def log(line: str) -> None:
                print_json({"log": line})
        else:

            def log(line: str) -> None:
                click.echo(line)

        try:
            asyncio.run(_watch(cluster, all_namespaces, policy, interval, rounds, grace, log))
        except KeyboardInterrupt:
            click.echo("stopped", err=True)
        return
    namespace, problems = asyncio.run(_check_health(cluster, all_namespaces, grace))
    if output == "json":
        print_json({"namespace": namespace, "healthy": not problems,
                    "problems": [problem_json(p) for p in problems]})  # fmt: skip
    else:
        _print_problems(problems, namespace, max_events)
    if problems:
        raise SystemExit(1)


# --- top ----------------------------------------------------------------------------------------


@click.group("top", short_help="CPU and memory use of pods or nodes (metrics.k8s.io).")
def top_command() -> None:
    """Current CPU and memory use from the metrics API (metrics-server), like kubectl top.

    When the metrics API is not served or not available, says why and exits 1.
    """


SORT_CHOICE = click.Choice(["cpu", "memory", "name"])


async def _top_pods(
    cluster: ClusterOptions, all_namespaces: bool, containers: bool, sort_by: Any
) -> tuple[str | None, list[Any]]:
    from tuskops.kubernetes.metrics import top_pods
    from tuskops.kubernetes.observe import pod_usage

    async with open_cluster(cluster) as kube:
        namespace = _namespace(kube, all_namespaces)
        usage = await pod_usage(kube, namespace)
        pods = await kube.list("v1", "Pod", namespace)
    return namespace, top_pods(usage, pods, containers=containers, sort_by=sort_by)


@top_command.command("pods", short_help="Pod (or container) usage.")
@cluster_options
@_all_namespaces
@click.option("--containers", is_flag=True, help="One row per container.")
@click.option("--sort-by", type=SORT_CHOICE, default="cpu", show_default=True)
@_output
@handles_errors
def top_pods_command(
    cluster: ClusterOptions, all_namespaces: bool, containers: bool, sort_by: str, output: str
) -> None:
    """CPU (millicores) and memory (working set) per pod, and their share of requests and
    limits."""
    namespace, rows = asyncio.run(_top_pods(cluster, all_namespaces, containers, sort_by))
    if output == "json":
        print_json([
            {"namespace": r.namespace, "pod": r.pod, "container": r.container,
             "cpu": str(r.cpu), "memory": str(r.memory),
             "cpu_request": _num(r.cpu_request), "cpu_limit": _num(r.cpu_limit),
             "memory_request": _num(r.memory_request), "memory_limit": _num(r.memory_limit),
             "problems": list(r.problems)}
            for r in rows
        ])  # fmt: skip
        return
    if not rows:
        stderr().print(
            f"no pod metrics in {_where(namespace)} (metrics-server reports a pod about a "
            "minute after it starts)"
        )
        return
    table = Table(box=None, pad_edge=False)
    columns = ["namespace", "pod", *(["container"] if containers else []),
               "cpu", "cpu/req", "cpu/lim", "memory", "mem/req", "mem/lim"]  # fmt: skip
    for column in columns:
        table.add_column(column)
    for r in rows:
        cells = [escape(r.namespace), escape(r.pod), *([escape(r.container or "")]
                 if containers else []), _millicores(r.cpu), _pct(r.cpu_of_request),
                 _pct(r.cpu_of_limit), _mebibytes(r.memory), _pct(r.memory_of_request),
                 _pct(r.memory_of_limit)]  # fmt: skip
        table.add_row(*cells)
    stdout().print(table)


async def _top_nodes(cluster: ClusterOptions, sort_by: Any) -> list[Any]:
    from tuskops.kubernetes.metrics import top_nodes
    from tuskops.kubernetes.observe import node_usage

    async with open_cluster(cluster) as kube:
        usage = await node_usage(kube)
        nodes = await kube.list("v1", "Node")
    return top_nodes(usage, nodes, sort_by=sort_by)


@top_command.command("nodes", short_help="Node usage.")
@cluster_options
@click.option("--sort-by", type=SORT_CHOICE, default="cpu", show_default=True)
@_output
@handles_errors
def top_nodes_command(cluster: ClusterOptions, sort_by: str, output: str) -> None:
    """CPU and memory use per node, and their share of the node's allocatable resources."""
    rows = asyncio.run(_top_nodes(cluster, sort_by))
    if output == "json":
        print_json([
            {"node": r.node, "cpu": _num(r.cpu), "memory": _num(r.memory),
             "cpu_allocatable": _num(r.cpu_allocatable),
             "memory_allocatable": _num(r.memory_allocatable), "problems": list(r.problems)}
            for r in rows
        ])  # fmt: skip
        return
    table = Table(box=None, pad_edge=False)
    for column in ("node", "cpu", "cpu%", "memory", "memory%", "note"):
        table.add_column(column)
    for r in rows:
        table.add_row(escape(r.node), _millicores(r.cpu), _pct(r.cpu_percent),
                      _mebibytes(r.memory), _pct(r.memory_percent),
                      escape("; ".join(r.problems)))  # fmt: skip
    stdout().print(table)


# --- recommend ----------------------------------------------------------------------------------


async def _recommend(
    cluster: ClusterOptions, all_namespaces: bool, rounds: int, interval: timedelta,
    options: dict[str, Any],
) -> tuple[str | None, int, dict[tuple[str, str, str, str], Any]]:  # fmt: skip
    from tuskops.kubernetes.metrics import recommend_workloads
    from tuskops.kubernetes.observe import collect_samples

    def progress(done: int, total: int) -> None:
        if total > 1:
            click.echo(f"collected {done} of {total} rounds", err=True)

    async with open_cluster(cluster) as kube:
        namespace = _namespace(kube, all_namespaces)
        samples = await collect_samples(
            kube, namespace, rounds=rounds, interval=interval.total_seconds(), sleep=SLEEP,
            progress=progress,
        )  # fmt: skip
        pods = await kube.list("v1", "Pod", namespace)
    return namespace, len(samples), recommend_workloads(samples, pods, **options)


@click.command("recommend", short_help="Requests and limits from observed usage.")
@cluster_options
@_all_namespaces
@click.option("--rounds", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many times to read the metrics.")  # fmt: skip
@click.option("--interval", type=DURATION, default="30s", show_default=True,
              help="Time between reads (metrics-server refreshes about every 15-60s).")  # fmt: skip
@click.option("--min-samples", type=click.IntRange(min=1), default=10, show_default=True,
              help="Fewer samples than this per container: unknown.")  # fmt: skip
@click.option("--cpu-percentile", type=float, default=0.9, show_default=True)
@click.option("--memory-percentile", type=float, default=0.9, show_default=True)
@click.option("--margin", type=float, default=0.15, show_default=True,
              help="Safety margin added to the percentiles.")  # fmt: skip
@_output
@handles_errors
def recommend_command(
    cluster: ClusterOptions,
    all_namespaces: bool,
    rounds: int,
    interval: timedelta,
    min_samples: int,
    cpu_percentile: float,
    memory_percentile: float,
    margin: float,
    output: str,
) -> None:
    """Recommend requests and limits per workload container from usage (VPA-style).

    metrics-server keeps no history: this command reads the metrics --rounds times, and the
    recommendation is only as good as that window. A few minutes give low confidence (shown);
    fewer than --min-samples samples give "unknown". Collect for longer, or run the VPA
    recommender, for sizing that covers daily peaks.
    """
    options = {"min_samples": min_samples, "cpu_percentile": cpu_percentile,
               "memory_percentile": memory_percentile, "margin": margin}  # fmt: skip
    namespace, count, recs = asyncio.run(
        _recommend(cluster, all_namespaces, rounds, interval, options)
    )
    if output == "json":
        print_json([
            {"namespace": ns, "kind": kind, "workload": name, "container": container,
             "status": r.status, "reason": r.reason, "samples": r.samples,
             "confidence": r.confidence, "requests": r.requests(), "limits": r.limits()}
            for (ns, kind, name, container), r in recs.items()
        ])  # fmt: skip
        return
    if not recs:
        stderr().print(f"no pod metrics in {_where(namespace)}: nothing to recommend")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("namespace", "workload", "container", "cpu req", "cpu lim", "mem req",
                   "mem lim", "samples", "confidence", "note"):  # fmt: skip
        table.add_column(column)
    for (ns, kind, name, container), r in recs.items():
        req, lim = r.requests(), r.limits()
        table.add_row(escape(ns), escape(f"{kind}/{name}"), escape(container),
                      req.get("cpu", "-" if r.status == "ok" else "unknown"),
                      lim.get("cpu", "-" if r.status == "ok" else "unknown"),
                      req.get("memory", "unknown"), lim.get("memory", "unknown"),
                      str(r.samples), f"{r.confidence:.3f}", escape(r.reason))  # fmt: skip
    stdout().print(table)
    stdout().print(
        f"\n{count} samples from {rounds} read(s). metrics-server keeps no history, so these "
        "recommendations cover only this collection (low confidence below 1.0); an empty "
        "cpu limit is deliberate (no CPU limit avoids throttling)."
    )


# --- cost ---------------------------------------------------------------------------------------


async def _cost(
    cluster: ClusterOptions, all_namespaces: bool, prices: Any
) -> tuple[str | None, Any, list[str]]:
    from tuskops.kubernetes.cost import monthly_costs

    notes: list[str] = []
    async with open_cluster(cluster) as kube:
        namespace = _namespace(kube, all_namespaces)
        workloads = await _workloads(kube, namespace, notes)
    return namespace, monthly_costs(workloads, prices), notes


@click.command("cost", short_help="Monthly cost per workload and namespace from requests.")
@cluster_options
@_all_namespaces
@click.option("--cpu-price", type=AMOUNT, required=True, help="Price of one core-hour.")
@click.option("--memory-price", type=AMOUNT, required=True, help="Price of one GiB-hour.")
@click.option("--hours", type=AMOUNT, default="730", show_default=True,
              help="Hours in a month.")  # fmt: skip
@_output
@handles_errors
def cost_command(
    cluster: ClusterOptions,
    all_namespaces: bool,
    cpu_price: Decimal,
    memory_price: Decimal,
    hours: Decimal,
    output: str,
) -> None:
    """Estimate the monthly cost of Deployments, StatefulSets and standalone ReplicaSets from
    their resource requests: replicas x requests x hours x price.

    Prices are required (tuskops does not know what your cluster costs). A workload without
    requests has an unknown cost and is listed apart; totals then say they are incomplete.

    \b
    Example:
      tuskops k8s cost -A --cpu-price 0.031 --memory-price 0.004
    """
    from tuskops.kubernetes.cost import Prices

    prices = Prices(cpu_price, memory_price, hours)
    namespace, report, notes = asyncio.run(_cost(cluster, all_namespaces, prices))
    notes += list(report.notes)
    if output == "json":
        print_json({
            "namespace": namespace,
            "workloads": [
                {"namespace": r.namespace, "kind": r.kind, "name": r.name,
                 "replicas": r.replicas, "cpu_per_pod": _num(r.cpu_per_pod),
                 "memory_per_pod": _num(r.memory_per_pod), "cpu_cost": _num(r.cpu_cost),
                 "memory_cost": _num(r.memory_cost), "cost": _num(r.cost),
                 "problems": list(r.problems)}
                for r in report.rows
            ],
            "namespaces": [
                {"namespace": n.namespace, "cost": str(n.cost), "workloads": n.workloads,
                 "unknown": list(n.unknown)}
                for n in report.namespaces
            ],
            "total": str(report.total), "complete": report.complete, "notes": notes,
        })  # fmt: skip
        return
    out = stdout()
    if not report.rows:
        out.print(f"no workloads in {_where(namespace)}")
        for note in notes:
            out.print(f"note: {escape(note)}")
        return
    table = Table(box=None, pad_edge=False)
    for column in ("namespace", "workload", "replicas", "cpu/pod", "mem/pod", "cpu", "memory",
                   "monthly"):  # fmt: skip
        table.add_column(column)
    for r in report.rows:
        table.add_row(escape(r.namespace), escape(f"{r.kind}/{r.name}"), str(r.replicas),
                      _millicores(r.cpu_per_pod), _mebibytes(r.memory_per_pod),
                      _money(r.cpu_cost), _money(r.memory_cost), _money(r.cost))  # fmt: skip
    out.print(table)
    out.print("")
    per_ns = Table(box=None, pad_edge=False)
    for column in ("namespace", "workloads", "monthly", "unknown"):
        per_ns.add_column(column)
    for n in report.namespaces:
        per_ns.add_row(escape(n.namespace), str(n.workloads),
                       _money(n.cost) + ("" if n.complete else " (at least)"),
                       escape(", ".join(n.unknown)))  # fmt: skip
    out.print(per_ns)
    total = _money(report.total) + ("" if report.complete else " (at least: some unknown)")
    out.print(f"\ntotal per month: {total}")
    for note in notes:
        out.print(f"note: {escape(note)}")


# --- nodes --------------------------------------------------------------------------------------


def _daemon_pods(daemonsets: Sequence[Mapping[str, Any]], notes: list[str]) -> list[Any]:
    from tuskops.kubernetes.binpack import PodRequest
    from tuskops.kubernetes.cost import pod_requests

    pods = []
    for ds in daemonsets:
        meta = ds.get("metadata") or {}
        ident = f"DaemonSet/{meta.get('namespace', 'default')}/{meta.get('name', '?')}"
        template = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
        req = pod_requests(template, f"{ident}: spec.template.spec")
        if req.missing:
            notes.append(f"{ident}: {'; '.join(req.missing)} (counted as 0)")
        pods.append(PodRequest(ident, req.scheduled_cpu, req.scheduled_memory))
    return pods


async def _nodes(
    cluster: ClusterOptions, all_namespaces: bool, daemonsets: bool
) -> tuple[str | None, list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    notes: list[str] = []
    async with open_cluster(cluster) as kube:
        namespace = _namespace(kube, all_namespaces)
        workloads = await _workloads(kube, namespace, notes)
        # A DaemonSet's pod runs on every node, whatever namespace the workloads are in.
        found = (await _list_optional(kube, "apps/v1", "DaemonSet", None, notes)
                 if daemonsets else [])  # fmt: skip
    return namespace, workloads, found, notes


@click.command("nodes", short_help="Node-pool size for the workloads' pod requests.")
@cluster_options
@_all_namespaces
@click.option("--node-cpu", required=True, help="Cores per node (a quantity: 4, 3500m).")
@click.option("--node-memory", required=True, help="Memory per node (a quantity: 16Gi).")
@click.option("--max-pods", type=click.IntRange(min=1), default=110, show_default=True)
@click.option("--reserved-cpu", default="0", show_default=True,
              help="kube-reserved + system-reserved CPU.")  # fmt: skip
@click.option("--reserved-memory", default="0", show_default=True,
              help="kube-reserved + system-reserved memory.")  # fmt: skip
@click.option("--eviction-memory", default="100Mi", show_default=True,
              help="The kubelet's hard eviction threshold (memory.available).")  # fmt: skip
@click.option("--headroom", type=click.FloatRange(0, 1, max_open=True), default=0.0,
              show_default=True, help="CPU and memory fraction kept free per node.")  # fmt: skip
@click.option("--shape", "shape_name", default="node", show_default=True,
              help="A name for the node shape, for the report.")  # fmt: skip
@click.option("--daemonsets/--no-daemonsets", default=True, show_default=True,
              help="Count every DaemonSet's pod on every node.")  # fmt: skip
@_output
@handles_errors
def nodes_command(
    cluster: ClusterOptions,
    all_namespaces: bool,
    node_cpu: str,
    node_memory: str,
    max_pods: int,
    reserved_cpu: str,
    reserved_memory: str,
    eviction_memory: str,
    headroom: float,
    shape_name: str,
    daemonsets: bool,
    output: str,
) -> None:
    """Recommend a node-pool size: bin-pack the pod requests of the workloads (replicas x
    effective requests) onto nodes of one shape, first-fit decreasing.

    Exits 1 when a pod fits on no node of the shape. Affinity, spread constraints and taints
    are not modelled: a real scheduler may need more nodes.

    \b
    Example:
      tuskops k8s nodes -A --node-cpu 4 --node-memory 16Gi --reserved-cpu 100m --headroom 0.1
    """
    from tuskops.kubernetes.binpack import NodeShape, pack, pods_from_workloads

    shape = NodeShape.of(shape_name, node_cpu, node_memory, max_pods=max_pods,
                         reserved_cpu=reserved_cpu, reserved_memory=reserved_memory,
                         eviction_memory=eviction_memory)  # fmt: skip
    namespace, workloads, found_ds, notes = asyncio.run(_nodes(cluster, all_namespaces, daemonsets))
    pods, problems = pods_from_workloads(workloads)
    ds_pods = _daemon_pods(found_ds, notes)
    plan = pack(pods, shape, headroom=headroom, daemonsets=ds_pods)
    notes = [*problems, *notes, *plan.notes]
    if output == "json":
        print_json({
            "namespace": namespace, "shape": shape.name, "nodes": plan.nodes,
            "lower_bound": plan.lower_bound, "pods": len(pods),
            "daemonsets": [p.name for p in ds_pods],
            "utilisation": dict(plan.utilisation),
            "assignments": [list(a) for a in plan.assignments],
            "errors": list(plan.errors), "notes": notes,
        })  # fmt: skip
    else:
        out = stdout()
        out.print(
            f"{len(pods)} pod{'s' if len(pods) != 1 else ''} from {len(workloads)} workload(s) "
            f"in {_where(namespace)} need {plan.nodes} {escape(shape.name)} node"
            f"{'s' if plan.nodes != 1 else ''} (no packing needs fewer than {plan.lower_bound})"
        )
        out.print(
            f"per node: {_millicores(shape.allocatable_cpu)} cpu, "
            f"{_mebibytes(shape.allocatable_memory)} memory allocatable, {shape.max_pods} pods; "
            f"headroom {headroom:.0%}; {len(ds_pods)} DaemonSet pod(s) on each"
        )
        if plan.nodes:
            u = plan.utilisation
            out.print(
                f"requested: cpu {u['cpu']:.0%}, memory {u['memory']:.0%}, "
                f"pods {u['pods']:.0%} of the pool"
            )
        for error in plan.errors:
            out.print(f"error: {escape(error)}")
        for note in notes:
            out.print(f"note: {escape(note)}")
    if not plan.ok:
        raise SystemExit(1)
