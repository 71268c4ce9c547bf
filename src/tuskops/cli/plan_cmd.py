"""``tuskops plan``, ``tuskops apply`` and ``tuskops history``.

Targets are named by ``--target`` or, failing that, by the file's last ``#!target`` line:

* a directory: ``dir PATH``, ``dir:PATH`` or just ``PATH`` (default: ``deploy/`` next to the
  file);
* a Kubernetes cluster: ``k8s`` / ``kubernetes``, optionally ``:CONTEXT``, and
  ``context=NAME namespace=NS applyset=NAME`` words (``#!target kubernetes context=prod
  namespace=shop``). The cluster is found as kubectl finds it (``--kubeconfig``, else
  ``$KUBECONFIG``, else ``~/.kube/config``). When ``--target k8s:CONTEXT`` overrides a
  ``#!target kubernetes`` line, the line's other words still apply, so the ApplySet (and with
  it what is pruned) stays the same.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shlex
import sys
from collections.abc import Awaitable, Callable
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
from tuskops.errors import ApplyError, ConfigurationError, TargetError
from tuskops.lang.api import load
from tuskops.lang.document import Document

#: Exit code of ``plan --detailed-exitcode`` when the plan has changes.
EXIT_CHANGES = 3

file_argument = click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
target_option = click.option(
    "--target",
    "target_spec",
    metavar="TARGET",
    help="Where to apply: a directory (DIR or 'dir:DIR'), or a cluster ('k8s', 'k8s:CONTEXT', "
    "'kubernetes:CONTEXT'). Default: the file's '#!target' line, else deploy/ next to the file.",
)
kubeconfig_option = click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False, path_type=Path),
    help="kubeconfig for a Kubernetes target (default: $KUBECONFIG, then ~/.kube/config).",
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


#: The words a Kubernetes target takes (``context=prod``).
KUBERNETES_TARGET_KEYS = ("context", "namespace", "applyset", "contexts")
_KUBERNETES_KINDS = ("k8s", "kubernetes")


def parse_kubernetes_target(spec: str) -> dict[str, str] | None:
    """``{"context": ..., "namespace": ..., "applyset": ...}`` (only those given) of a
    Kubernetes target spec; None when ``spec`` names another kind of target."""
    try:
        words = shlex.split(spec)
    except ValueError as exc:
        raise ConfigurationError(f"target {spec!r}: {exc}") from exc
    if not words:
        return None
    kind, colon, context = words[0].partition(":")
    if kind not in _KUBERNETES_KINDS:
        return None
    options: dict[str, str] = {}
    if colon:
        if not context:
            raise ConfigurationError(f"target {spec!r}: '{kind}:' needs a context name")
        options["context"] = context
    for word in words[1:]:
        key, equals, value = word.partition("=")
        if not equals or key not in KUBERNETES_TARGET_KEYS or not value:
            raise ConfigurationError(
                f"target {spec!r}: unexpected {word!r}; a Kubernetes target takes "
                + ", ".join(f"{k}=NAME" for k in KUBERNETES_TARGET_KEYS)
            )
        if key in options:
            raise ConfigurationError(f"target {spec!r}: {key} is given twice")
        options[key] = value
    return options


def resolve_target(
    file: Path,
    doc: Document,
    spec: str | None,
    *,
    kubeconfig: Path | None = None,
    force_conflicts: bool = False,
) -> Target:
    """The target named on the command line, else by ``#!target``, else ``deploy/``."""
    base = Path.cwd()
    directives = [d for d in doc.directives if d.name == "target"]
    from_command_line = spec is not None
    if spec is None and directives:
        spec = directives[-1].args
        base = Path(directives[-1].file).parent
    kubernetes = parse_kubernetes_target(spec) if spec is not None else None
    if kubernetes is not None:
        if from_command_line and directives:
            # --target k8s:CONTEXT keeps the file's namespace and applyset: the same ApplySet.
            kubernetes = {**(parse_kubernetes_target(directives[-1].args) or {}), **kubernetes}
        return _kubernetes_target(file, kubernetes, kubeconfig, force_conflicts, doc)
    if kubeconfig is not None or force_conflicts:
        used = "--kubeconfig" if kubeconfig is not None else "--force-conflicts"
        raise ConfigurationError(f"{used} applies only to a Kubernetes target (--target k8s)")
    if spec is None:
        return DirectoryTarget(file.absolute().parent / "deploy")
    return DirectoryTarget(_directory_of(spec, base))


def _kubernetes_target(
    file: Path,
    options: dict[str, str],
    kubeconfig: Path | None,
    force_conflicts: bool,
    doc: Document | None = None,
) -> Target:
    # Imported here: the client stack is only needed for a cluster.
    from dataclasses import replace

    from tuskops.kubernetes.applyset import ApplySet
    from tuskops.kubernetes.kubeconfig import load_cluster
    from tuskops.kubernetes.target import (
        DEFAULT_PARENT_NAMESPACE,
        KubernetesTarget,
        default_applyset_name,
    )

    config = load_cluster(options.get("context"), kubeconfig)
    namespace = options.get("namespace")
    if namespace:
        config = replace(config, namespace=namespace)
    name = options.get("applyset") or default_applyset_name(file.stem)
    applyset = ApplySet(name=name, namespace=namespace or DEFAULT_PARENT_NAMESPACE)
    main = KubernetesTarget(config, applyset, force_conflicts=force_conflicts)
    scopes = {r.scope for r in (doc.resources if doc is not None else []) if r.scope}
    contexts = [c for c in options.get("contexts", "").split(",") if c]
    if not scopes and not contexts:
        return main

    from tuskops.kubernetes.fleet import FleetTarget

    def part(context: str | None) -> KubernetesTarget:
        if context is None:
            return main
        other = load_cluster(context, kubeconfig)
        if namespace:
            other = replace(other, namespace=namespace)
        own = ApplySet(name=f"{name}-{context}", namespace=applyset.namespace)
        return KubernetesTarget(other, own, force_conflicts=force_conflicts, scope=context)

    return FleetTarget(part, contexts=[*contexts, *sorted(scopes)])


def _directory_of(spec: str, base: Path) -> Path:
    words = shlex.split(spec.replace("dir:", "dir ", 1) if spec.startswith("dir:") else spec)
    if len(words) == 2 and words[0] == "dir":
        words = words[1:]
    if len(words) != 1 or not words[0]:
        raise ConfigurationError(
            f"unsupported target {spec!r}: a target is a directory ('dir PATH', 'dir:PATH' or "
            "just PATH) or a Kubernetes cluster ('k8s', 'k8s:CONTEXT', 'kubernetes "
            "context=NAME namespace=NS applyset=NAME')"
        )
    path = Path(words[0]).expanduser()
    return path if path.is_absolute() else base / path


def close_target(target: Target) -> None:
    """Release what a target holds open (a cluster target's client and event loop)."""
    target.close()


def _plan(
    file: Path,
    target_spec: str | None,
    offline: bool,
    quiet: bool,
    *,
    kubeconfig: Path | None = None,
    force_conflicts: bool = False,
) -> Planned:
    """Load and plan; the caller closes ``Planned.target`` (it is closed here on failure)."""
    doc = load(file, offline=offline)
    if not quiet:
        print_diagnostics(doc.warnings)
    target = resolve_target(
        file, doc, target_spec, kubeconfig=kubeconfig, force_conflicts=force_conflicts
    )
    try:
        return Planned(file, doc, target, make_plan(doc.resources, target))
    except BaseException:
        close_target(target)
        raise


def _refuse_conflicts(target: Target) -> None:
    """Stop before any change when the plan found field-manager conflicts (not forced)."""
    conflicts: dict[str, str] = getattr(target, "conflicts", None) or {}
    if conflicts:
        raise TargetError(
            "apply would conflict with other field managers; nothing was changed:\n"
            + "\n".join(conflicts.values())
        )


@click.command("plan", short_help="Show what apply would change, changing nothing.")
@file_argument
@target_option
@kubeconfig_option
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
    kubeconfig: Path | None,
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

    For a Kubernetes target the changes come from a server-side dry run of each object
    (nothing is changed), objects tuskops applied before are found by their ApplySet label,
    and fields owned by another field manager are reported as conflicts.

    \b
    Examples:
      tuskops plan app.tsk
      tuskops plan app.tsk --target ../gitops/shop
      tuskops plan app.tsk --target k8s:staging --kubeconfig ~/.kube/staging
      tuskops plan app.tsk --output json | jq '.summary'
    """
    planned = _plan(file, target_spec, offline, quiet, kubeconfig=kubeconfig)
    try:
        if output == "json":
            print_json(planned.plan.to_json())
        else:
            stdout().print(render_plan(planned.plan, show_unchanged=show_unchanged))
    finally:
        close_target(planned.target)
    if detailed_exitcode and planned.plan.has_changes:
        sys.exit(EXIT_CHANGES)


@click.command("apply", short_help="Show the plan, confirm, and apply it; record the outcome.")
@file_argument
@target_option
@kubeconfig_option
@offline_option
@state_option
@click.option("-y", "--yes", is_flag=True, help="Apply without asking for confirmation.")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Kubernetes: wait for the Deployments' rollouts after applying.",
)
@click.option(
    "--rollback/--no-rollback",
    default=True,
    show_default=True,
    help="Kubernetes: roll a failed rollout back to the previous revision.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=600,
    show_default=True,
    help="Kubernetes: seconds a rollout may take before it counts as failed.",
)
@click.option(
    "--force-conflicts",
    is_flag=True,
    help="Kubernetes: take over fields another field manager owns (server-side apply force).",
)
@click.option("-o", "--output", type=OUTPUT_CHOICE, default="text", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Do not print warnings.")
@handles_errors
def apply_command(
    file: Path,
    target_spec: str | None,
    kubeconfig: Path | None,
    offline: bool,
    state_path: Path | None,
    yes: bool,
    wait: bool,
    rollback: bool,
    timeout: float,
    force_conflicts: bool,
    output: str,
    quiet: bool,
) -> None:
    """Apply FILE: show the plan, ask, then make the changes in dependency order.

    Every apply is recorded in the state store (time, user, file hash, resources, outcome);
    see `tuskops history`. If a change fails, apply stops there and reports exactly which
    changes were made, which failed and which were not attempted. Applying an unchanged file
    changes nothing.

    A Kubernetes target is changed with server-side apply (field manager "tuskops"), and
    objects that left the file are pruned: only objects labelled as members of this file's
    ApplySet, never anything else. If another field manager owns a field the file sets, apply
    stops before changing anything, unless --force-conflicts. Then apply waits for every
    Deployment it changed to roll out, showing updated/ready/available replicas; a rollout that
    fails (progress deadline, CrashLoopBackOff, ImagePullBackOff, OOMKilled, failing probes, or
    --timeout) is rolled back to the previous revision, and apply exits 1 saying why.

    \b
    Examples:
      tuskops apply app.tsk
      tuskops apply app.tsk --yes --output json
      tuskops apply app.tsk --target k8s:prod --force-conflicts
    """
    started = now_utc()
    digest = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else None
    planned = _plan(
        file, target_spec, offline, quiet, kubeconfig=kubeconfig, force_conflicts=force_conflicts
    )
    try:
        _apply_planned(planned, file, state_path, yes, output, started, digest)
        if wait:
            _wait_for_rollouts(planned, output, timeout=timeout, rollback=rollback)
    finally:
        close_target(planned.target)


#: How rollout polling sleeps; tests replace it with a step of a simulated controller.
_rollout_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


def _wait_for_rollouts(planned: Planned, output: str, *, timeout: float, rollback: bool) -> None:
    """After a Kubernetes apply: wait for the changed Deployments, roll back failed ones."""
    from tuskops.kubernetes.fleet import FleetTarget
    from tuskops.kubernetes.target import KubernetesTarget
    from tuskops.kubernetes.watch import RolloutProgress

    if not isinstance(planned.target, KubernetesTarget | FleetTarget):
        return
    deployments = [
        (change.resource.scope, change.resource.namespace or "default", change.resource.name)
        for change in planned.plan.changes
        if change.action in ("create", "update")
        and change.resource is not None
        and change.resource.operator == "kubernetes"
        and change.resource.kind == "Deployment"
    ]
    if not deployments:
        return
    console = stderr() if output == "json" else stdout()
    with RolloutProgress(console) as progress:
        options: dict[str, Any] = {
            "timeout": timeout,
            "rollback": rollback,
            "on_progress": progress,
            "sleep": _rollout_sleep,
        }
        if isinstance(planned.target, FleetTarget):
            outcomes = planned.target.wait_for_rollouts(deployments, **options)
        else:
            pairs = [(namespace, name) for _, namespace, name in deployments]
            outcomes = planned.target.wait_for_rollouts(pairs, **options)
    failed = [o for o in outcomes if not o.ok]
    for outcome in outcomes:
        where = f"{outcome.namespace}/{outcome.name}"
        why = "; ".join(outcome.reasons)
        if outcome.state == "rolled_back":
            console.print(
                f"Rollout of Deployment {where} failed ({why}): rolled back from revision "
                f"{outcome.from_revision} to {outcome.to_revision}.",
                markup=False,
            )
        elif not outcome.ok:
            console.print(f"Rollout of Deployment {where} failed: {why}", markup=False)
    if output == "json":
        print_json({"rollouts": [o.to_json() for o in outcomes]})
    if failed:
        sys.exit(1)


def _apply_planned(
    planned: Planned,
    file: Path,
    state_path: Path | None,
    yes: bool,
    output: str,
    started: datetime,
    digest: str | None,
) -> None:
    plan = planned.plan
    json_out = output == "json"
    human = stderr() if json_out else stdout()
    human.print(render_plan(plan))
    _refuse_conflicts(planned.target)
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
