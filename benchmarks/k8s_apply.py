"""Kubernetes apply benchmark: 500 resources with tuskops and with ``kubectl apply --server-side``.

Against the cluster in ``TUSKOPS_TEST_KUBECONFIG`` (context: ``--context``, else the file's
current one), the script generates ``--count`` resources (default 500: ConfigMaps, and small
Deployments each with a Service; ``--deployment-share`` of them Deployment+Service pairs), once
for tuskops and once for kubectl, in two fresh namespaces so neither run sees the other's
objects. It writes them:

* for tuskops, as ``manifests.yaml`` plus a ``.tsk`` file whose one key is
  ``@kubernetes.manifest("manifests.yaml", "<namespace>")``;
* for kubectl, as the same ``manifests.yaml`` in the other namespace.

Then it times, wall-clock, each as a **subprocess** (so both pay their start-up, as a user
does): ``tuskops apply FILE --target k8s:CONTEXT --kubeconfig FILE --yes --quiet`` and
``kubectl apply --server-side --field-manager=kubectl-bench -f manifests.yaml``, each cold (the
objects do not exist) and then re-applied unchanged, and prints the four times and the ratios
kubectl / tuskops (> 1: tuskops is faster). The Deployments' pods name a scheduler that does
not exist and an image under ``registry.invalid``, so no pod ever starts; tuskops' wait for the
rollouts (which would never finish) is turned off when its apply has such an option
(``--no-wait``), and the report says whether it was.

Exit status: 0 measured; 1 an apply failed (its output is printed); 2 cannot run here
(``TUSKOPS_TEST_KUBECONFIG`` unset, ``kubectl`` or ``tuskops`` missing, bad arguments). The
namespaces (and tuskops' ApplySet parent Secret in ``default``) are deleted at the end, also
after a failure, unless ``--keep``.

    .venv/bin/python benchmarks/k8s_apply.py
    .venv/bin/python benchmarks/k8s_apply.py --count 100 --json
    .venv/bin/python benchmarks/k8s_apply.py --kubectl /usr/local/bin/kubectl --keep
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

ENV_KUBECONFIG = "TUSKOPS_TEST_KUBECONFIG"
#: A scheduler that does not exist: the benchmark's pods are never bound to a node.
NO_SCHEDULER = "tuskops-bench-no-scheduler"
IMAGE = "registry.invalid/tuskops-bench/app:1"
EXIT_CANNOT_RUN = 2


# --- generating ---------------------------------------------------------------------------------


def generate(count: int, namespace: str, *, deployment_share: float = 0.2) -> list[dict[str, Any]]:
    """``count`` manifests in ``namespace``: Deployment+Service pairs (about
    ``deployment_share`` of the total, in pairs) and ConfigMaps for the rest. Deterministic."""
    if count < 0:
        raise ValueError("count must not be negative")
    if not 0 <= deployment_share <= 1:
        raise ValueError("deployment_share must be between 0 and 1")
    pairs = min(count // 2, int(count * deployment_share) // 2)
    out: list[dict[str, Any]] = []
    for i in range(pairs):
        name = f"app-{i:04d}"
        labels = {"app.kubernetes.io/name": name, "bench.tuskops.dev/set": "k8s-apply"}
        out.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "namespace": namespace, "labels": labels},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {
                            "schedulerName": NO_SCHEDULER,
                            "containers": [
                                {
                                    "name": "app",
                                    "image": IMAGE,
                                    "ports": [{"containerPort": 8080, "name": "http"}],
                                    "resources": {
                                        "requests": {"cpu": "10m", "memory": "16Mi"},
                                        "limits": {"memory": "32Mi"},
                                    },
                                }
                            ],
                        },
                    },
                },
            }
        )
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "namespace": namespace, "labels": labels},
                "spec": {
                    "selector": {"app.kubernetes.io/name": name},
                    "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
                },
            }
        )
    for i in range(count - 2 * pairs):
        out.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": f"config-{i:04d}",
                    "namespace": namespace,
                    "labels": {"bench.tuskops.dev/set": "k8s-apply"},
                },
                "data": {
                    "index": str(i),
                    "greeting": f"hello from config {i}",
                    "settings.json": json.dumps({"id": i, "enabled": i % 2 == 0}),
                },
            }
        )
    return out


def to_yaml(manifests: Sequence[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(manifests, sort_keys=True)


def tsk_text(manifest_file: str, namespace: str) -> str:
    """The .tsk file tuskops applies: one key holding every manifest of the YAML file."""
    return (
        "# Generated by benchmarks/k8s_apply.py\n"
        f'bench: @kubernetes.manifest("{manifest_file}", "{namespace}")\n'
    )


def counts(manifests: Sequence[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for m in manifests:
        out[m["kind"]] = out.get(m["kind"], 0) + 1
    return out


# --- running ------------------------------------------------------------------------------------


@dataclass
class Timing:
    tool: str
    run: str
    seconds: float
    ok: bool
    output: str = ""


def namespace_manifest(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"bench.tuskops.dev/set": "k8s-apply"}},
    }


def timed(tool: str, run: str, argv: Sequence[str], env: dict[str, str], cwd: Path) -> Timing:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    output = (proc.stdout + proc.stderr)[-4000:]
    return Timing(tool, run, seconds, proc.returncode == 0, "" if proc.returncode == 0 else output)


def tuskops_has_no_wait(tuskops: Sequence[str]) -> bool:
    """Whether ``tuskops apply`` has ``--no-wait`` (the rollout wait is newer than this
    script may be)."""
    proc = subprocess.run([*tuskops, "apply", "--help"], capture_output=True, text=True)
    return "--no-wait" in proc.stdout


def ratio(peer: float, ours: float) -> float | None:
    return round(peer / ours, 2) if ours > 0 else None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time tuskops apply against kubectl apply --server-side on a real cluster."
    )
    parser.add_argument("--count", type=int, default=500, help="resources per tool (500)")
    parser.add_argument(
        "--deployment-share",
        type=float,
        default=0.2,
        help="share of the resources that are Deployment+Service pairs (0.2)",
    )
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--kubectl", help="kubectl to run (default: the one on PATH)")
    parser.add_argument(
        "--tuskops",
        help="tuskops to run (default: the tuskops next to this Python, else on PATH)",
    )
    parser.add_argument("--keep", action="store_true", help="do not delete the namespaces")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    if not 0 <= args.deployment_share <= 1:
        parser.error("--deployment-share must be between 0 and 1")
    return args


def find_tools(args: argparse.Namespace, env: dict[str, str]) -> tuple[str | None, list[str]]:
    """``(kubectl, tuskops argv)``; kubectl None when it is missing."""
    kubectl = args.kubectl or shutil.which("kubectl", path=env.get("PATH"))
    if args.tuskops:
        return kubectl, [args.tuskops]
    beside = Path(sys.executable).with_name("tuskops")
    if beside.is_file():
        return kubectl, [str(beside)]
    on_path = shutil.which("tuskops", path=env.get("PATH"))
    return kubectl, [on_path] if on_path else [sys.executable, "-m", "tuskops.cli.main"]


def cannot_run(args: argparse.Namespace, env: dict[str, str]) -> str | None:
    """Why the benchmark cannot run here, or None."""
    kubeconfig = env.get(ENV_KUBECONFIG)
    if not kubeconfig:
        return f"{ENV_KUBECONFIG} is not set: this benchmark needs a real cluster"
    if not Path(kubeconfig).expanduser().is_file():
        return f"{ENV_KUBECONFIG}={kubeconfig} is not a file"
    kubectl, _ = find_tools(args, env)
    if kubectl is None or not Path(kubectl).exists():
        return "kubectl not found (put it on PATH or pass --kubectl)"
    return None


def run(args: argparse.Namespace, env: dict[str, str]) -> int:
    from tuskops.kubernetes.kubeconfig import load_cluster

    kubeconfig = str(Path(env[ENV_KUBECONFIG]).expanduser())
    context = args.context or load_cluster(kubeconfig=kubeconfig).context
    kubectl, tuskops = find_tools(args, env)
    assert kubectl is not None
    kube = [kubectl, "--kubeconfig", kubeconfig, "--context", context]
    child_env = {**env, "KUBECONFIG": kubeconfig}
    suffix = secrets.token_hex(4)
    ns = {"tuskops": f"bench-tuskops-{suffix}", "kubectl": f"bench-kubectl-{suffix}"}
    no_wait = tuskops_has_no_wait(tuskops)
    work = Path(tempfile.mkdtemp(prefix="tuskops-k8s-bench-"))
    stem = f"bench-{suffix}"
    timings: list[Timing] = []
    try:
        for name in ns.values():
            created = subprocess.run(
                [*kube, "apply", "--server-side", "-f", "-"],
                input=json.dumps(namespace_manifest(name)),
                capture_output=True,
                text=True,
                env=child_env,
            )
            if created.returncode != 0:
                print(f"cannot create namespace {name}: {created.stderr}", file=sys.stderr)
                return 1
        ours = generate(args.count, ns["tuskops"], deployment_share=args.deployment_share)
        theirs = generate(args.count, ns["kubectl"], deployment_share=args.deployment_share)
        (work / "manifests.yaml").write_text(to_yaml(ours))
        (work / f"{stem}.tsk").write_text(tsk_text("manifests.yaml", ns["tuskops"]))
        (work / "kubectl.yaml").write_text(to_yaml(theirs))
        apply_ours = [
            *tuskops, "apply", str(work / f"{stem}.tsk"), "--target", f"k8s:{context}",
            "--kubeconfig", kubeconfig, "--yes", "--quiet", *(["--no-wait"] if no_wait else []),
        ]  # fmt: skip
        apply_theirs = [
            *kube, "apply", "--server-side", "--field-manager=kubectl-bench",
            "-f", str(work / "kubectl.yaml"),
        ]  # fmt: skip
        for label in ("cold", "unchanged"):
            timings.append(timed("tuskops", label, apply_ours, child_env, work))
            timings.append(timed("kubectl", label, apply_theirs, child_env, work))
    finally:
        if not args.keep:
            for name in ns.values():
                subprocess.run(
                    [*kube, "delete", "namespace", name, "--wait=false", "--ignore-not-found"],
                    capture_output=True,
                    env=child_env,
                )
            subprocess.run(
                [*kube, "-n", "default", "delete", "secret", f"tuskops-{stem}",
                 "--ignore-not-found"],
                capture_output=True, env=child_env,
            )  # fmt: skip
        shutil.rmtree(work, ignore_errors=True)
    report = build_report(timings, args, context, no_wait, ours)
    print_report(report, args.json)
    failed = [t for t in timings if not t.ok]
    for t in failed:
        print(f"\n{t.tool} {t.run} apply FAILED:\n{t.output}", file=sys.stderr)
    return 1 if failed else 0


def build_report(
    timings: Sequence[Timing],
    args: argparse.Namespace,
    context: str,
    no_wait: bool,
    manifests: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    seconds = {(t.tool, t.run): t.seconds for t in timings}
    ratios = {
        run: ratio(seconds[("kubectl", run)], seconds[("tuskops", run)])
        for run in ("cold", "unchanged")
        if ("kubectl", run) in seconds and ("tuskops", run) in seconds
    }
    return {
        "context": context,
        "count": args.count,
        "kinds": counts(manifests),
        "tuskops_no_wait": no_wait,
        "timings": [asdict(t) | {"seconds": round(t.seconds, 3)} for t in timings],
        "ratios_kubectl_over_tuskops": ratios,
    }


def print_report(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(report, indent=2))
        return
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(report["kinds"].items()))
    print(f"context {report['context']}: {report['count']} resources per tool ({kinds})")
    if not report["tuskops_no_wait"]:
        print("note: tuskops apply has no --no-wait; its time includes any rollout wait")
    for t in report["timings"]:
        status = "" if t["ok"] else "  FAILED"
        print(f"  {t['tool']:<8} {t['run']:<10} {t['seconds']:8.2f} s{status}")
    for run, value in report["ratios_kubectl_over_tuskops"].items():
        shown = "n/a" if value is None else f"{value:.2f}x"
        print(f"  kubectl / tuskops, {run}: {shown} (> 1: tuskops is faster)")


def main(argv: Sequence[str] | None = None, env: dict[str, str] | None = None) -> int:
    args = parse_args(argv)
    environ = dict(os.environ if env is None else env)
    reason = cannot_run(args, environ)
    if reason is not None:
        print(f"k8s_apply benchmark skipped: {reason}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    return run(args, environ)


if __name__ == "__main__":
    sys.exit(main())
