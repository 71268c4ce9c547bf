"""tuskops plan / apply against a Kubernetes cluster target (the in-process API emulator)."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from _support.kube import EmulatedCluster
from _support.kube_rollout import RolloutController
from tuskops.cli import plan_cmd
from tuskops.cli.plan_cmd import parse_kubernetes_target
from tuskops.errors import ConfigurationError
from tuskops.kubernetes.applyset import PART_OF_LABEL, ApplySet
from tuskops.kubernetes.cluster import KubeClient
from tuskops.kubernetes.kubeconfig import load_cluster

#: The `run` fixture (tests/cli/conftest.py): invoke the CLI in-process.
Run = Callable[..., Result]

SECRET = "s3cr3t-password-value"

MANIFESTS = f"""\
apiVersion: v1
kind: Namespace
metadata: {{name: shop}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: web-config}}
data: {{MODE: prod}}
---
apiVersion: v1
kind: Secret
metadata: {{name: web-secrets}}
type: Opaque
data: {{TOKEN: {base64.b64encode(SECRET.encode()).decode()}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: REPLICAS
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: "web:1"}}]
"""


def write_config(tmp_path: Path, *, replicas: int = 2, directive: str = "") -> Path:
    (tmp_path / "k8s.yaml").write_text(MANIFESTS.replace("REPLICAS", str(replicas)))
    config = tmp_path / "shop.tsk"
    config.write_text(f'{directive}objects: @kubernetes.manifest("k8s.yaml", "shop")\n')
    return config


def k8s_args(cluster: EmulatedCluster) -> list[str | Path]:
    return ["--target", "k8s:emulator", "--kubeconfig", cluster.kubeconfig]


def test_plan_apply_plan_against_the_cluster(
    run: Run, kube_emulator: EmulatedCluster, tmp_path: Path
) -> None:
    config = write_config(tmp_path)
    args = k8s_args(kube_emulator)

    planned = run("plan", config, *args, "--detailed-exitcode")
    assert planned.exit_code == 3, planned.stderr
    assert "+ create kubernetes/Deployment/shop/web" in planned.stdout
    assert "Plan: 4 to create, 0 to update, 0 to delete." in planned.stdout
    assert SECRET not in planned.stdout
    assert base64.b64encode(SECRET.encode()).decode() not in planned.stdout
    assert kube_emulator.emulator.find("Namespace", "shop") is None

    applied = run("apply", config, *args, "--yes")
    assert applied.exit_code == 0, applied.stderr
    assert "Apply complete! Resources: 4 created, 0 updated, 0 deleted." in applied.stdout
    deployment = kube_emulator.emulator.find("Deployment", "web", "shop")
    assert deployment is not None
    assert PART_OF_LABEL in deployment["metadata"]["labels"]
    parent = kube_emulator.emulator.find("Secret", "tuskops-shop", "default")
    assert parent is not None

    again = run("plan", config, *args, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout
    assert "Nothing to do" in run("apply", config, *args, "--yes").stdout

    write_config(tmp_path, replicas=4)
    changed = run("plan", config, *args, "--detailed-exitcode")
    assert changed.exit_code == 3
    assert "~ update kubernetes/Deployment/shop/web" in changed.stdout
    assert "+ spec.replicas: 4" in changed.stdout


def test_the_target_directive_names_context_namespace_and_applyset(
    run: Run, kube_emulator: EmulatedCluster, tmp_path: Path
) -> None:
    directive = "#!target kubernetes context=emulator namespace=shop applyset=shop-set\n"
    config = write_config(tmp_path, directive=directive)
    kubeconfig: list[str | Path] = ["--kubeconfig", kube_emulator.kubeconfig]

    applied = run("apply", config, *kubeconfig, "--yes")

    assert applied.exit_code == 0, applied.stderr
    parent = kube_emulator.emulator.find("Secret", "shop-set", "shop")
    assert parent is not None
    config_map = kube_emulator.emulator.find("ConfigMap", "web-config", "shop")
    assert config_map is not None
    expected = ApplySet(name="shop-set", namespace="shop").id
    assert config_map["metadata"]["labels"][PART_OF_LABEL] == expected
    # --target k8s:CONTEXT keeps the directive's namespace and applyset: nothing to do.
    again = run("plan", config, *k8s_args(kube_emulator), "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr


def test_apply_stops_before_any_change_on_a_conflict_unless_forced(
    run: Run, kube_emulator: EmulatedCluster, tmp_path: Path
) -> None:
    config = write_config(tmp_path)
    args = k8s_args(kube_emulator)
    assert run("apply", config, *args, "--yes").exit_code == 0
    scale: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": 7},
    }

    async def kubectl_scales() -> None:
        cluster = load_cluster("emulator", kube_emulator.kubeconfig)
        async with KubeClient(cluster) as kube:
            await kube.apply(scale, field_manager="kubectl", force=True)

    asyncio.run(kubectl_scales())
    write_config(tmp_path, replicas=3)  # a change elsewhere must not be applied either

    refused = run("apply", config, *args, "--yes")

    assert refused.exit_code == 1
    assert "CONFLICT" in refused.stdout
    assert "nothing was changed" in refused.stderr
    assert '"kubectl"' in refused.stderr
    assert "--force-conflicts" in refused.stderr
    deployment = kube_emulator.emulator.find("Deployment", "web", "shop")
    assert deployment is not None
    assert deployment["spec"]["replicas"] == 7

    forced = run("apply", config, *args, "--yes", "--force-conflicts")
    assert forced.exit_code == 0, forced.stderr
    deployment = kube_emulator.emulator.find("Deployment", "web", "shop")
    assert deployment is not None
    assert deployment["spec"]["replicas"] == 3
    assert run("plan", config, *args, "--detailed-exitcode").exit_code == 0


def test_a_file_removed_from_the_config_is_pruned(
    run: Run, kube_emulator: EmulatedCluster, tmp_path: Path
) -> None:
    config = write_config(tmp_path)
    args = k8s_args(kube_emulator)
    assert run("apply", config, *args, "--yes").exit_code == 0
    kept = MANIFESTS.split("---\n")
    (tmp_path / "k8s.yaml").write_text("---\n".join(kept[:1] + kept[2:]).replace("REPLICAS", "2"))

    planned = run("plan", config, *args)
    assert "- delete kubernetes/ConfigMap/shop/web-config" in planned.stdout
    assert run("apply", config, *args, "--yes").exit_code == 0
    assert kube_emulator.emulator.find("ConfigMap", "web-config", "shop") is None


def test_cluster_options_need_a_cluster_target(run: Run, tmp_path: Path) -> None:
    config = tmp_path / "app.tsk"
    config.write_text('x: @render.json("a.json", { a: 1 })\n')
    result = run("plan", config, "--kubeconfig", tmp_path / "kubeconfig")
    assert result.exit_code == 2
    assert "--kubeconfig applies only to a Kubernetes target" in result.stderr
    result = run("apply", config, "--yes", "--force-conflicts")
    assert result.exit_code == 2


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("k8s", {}),
        ("kubernetes", {}),
        ("k8s:prod", {"context": "prod"}),
        ("kubernetes:prod namespace=shop", {"context": "prod", "namespace": "shop"}),
        (
            "kubernetes context=a namespace=b applyset=c",
            {"context": "a", "namespace": "b", "applyset": "c"},
        ),
        ("dir ./deploy", None),
        ("dir:k8s", None),
        ("./k8s", None),
    ],
)
def test_parse_kubernetes_target(spec: str, expected: dict[str, str] | None) -> None:
    assert parse_kubernetes_target(spec) == expected


@pytest.mark.parametrize(
    "spec", ["k8s:", "k8s zone=eu", "k8s context=", "k8s:a context=b", "kubernetes stray"]
)
def test_parse_kubernetes_target_refuses_malformed_specs(spec: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_kubernetes_target(spec)


# --- after apply: rollouts waited for, failed ones rolled back ----------------------------------


@pytest.fixture(autouse=True)
def controllers(
    kube_emulator: EmulatedCluster, monkeypatch: pytest.MonkeyPatch
) -> RolloutController:
    """The emulator runs no controllers: while apply waits for rollouts, each poll's sleep plays
    the Deployment controller and kubelet once (tests/_support/kube_rollout.py). Images whose
    tag is ``crash`` crash-loop."""
    sim = RolloutController(
        kube_emulator.emulator, lambda image: "crash" if image.endswith(":crash") else "ready"
    )

    async def sleep(seconds: float) -> None:
        with kube_emulator.emulator._mutex:
            keys = [k for k in kube_emulator.emulator.store if k[:2] == ("apps/v1", "deployments")]
        for _, _, namespace, name in keys:
            if (namespace, name) not in sim.tracked:
                sim.track(namespace, name)
        sim.step()

    monkeypatch.setattr(plan_cmd, "_rollout_sleep", sleep)
    return sim


APP = """\
web: @kubernetes.app({{ name: "web", namespace: "shop", image: "ghcr.io/acme/web:{tag}",
                       replicas: 2, port: 8080, namespace_policy: {{ default_deny: false }} }})
"""


def test_apply_waits_for_the_rollout(
    run: Run, kube_emulator: EmulatedCluster, tmp_path: Path
) -> None:
    config = tmp_path / "app.tsk"
    config.write_text(APP.format(tag="1.0"))
    args = ["--target", "k8s:emulator", "--kubeconfig", str(kube_emulator.kubeconfig), "--yes"]
    applied = run("apply", config, *args)
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "shop/web" in applied.stdout
    deployment = kube_emulator.emulator.find("Deployment", "web", "shop")
    assert deployment is not None
    assert deployment["status"]["availableReplicas"] == 2


def test_a_failed_rollout_is_rolled_back_and_apply_fails(
    run: Run, kube_emulator: EmulatedCluster, tmp_path: Path
) -> None:
    config = tmp_path / "app.tsk"
    args = ["--target", "k8s:emulator", "--kubeconfig", str(kube_emulator.kubeconfig), "--yes"]
    config.write_text(APP.format(tag="1.0"))
    assert run("apply", config, *args).exit_code == 0
    config.write_text(APP.format(tag="crash"))
    failed = run("apply", config, *args)
    assert failed.exit_code == 1
    assert "CrashLoopBackOff" in failed.stdout
    assert "rolled back from revision 2 to 1" in failed.stdout
    deployment = kube_emulator.emulator.find("Deployment", "web", "shop")
    assert deployment is not None
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "ghcr.io/acme/web:1.0"


def test_no_rollback_leaves_the_failed_rollout_and_fails(
    run: Run, kube_emulator: EmulatedCluster, tmp_path: Path
) -> None:
    config = tmp_path / "app.tsk"
    args = ["--target", "k8s:emulator", "--kubeconfig", str(kube_emulator.kubeconfig), "--yes"]
    config.write_text(APP.format(tag="1.0"))
    assert run("apply", config, *args).exit_code == 0
    config.write_text(APP.format(tag="crash"))
    failed = run("apply", config, *args, "--no-rollback")
    assert failed.exit_code == 1
    assert "failed" in failed.stdout
    deployment = kube_emulator.emulator.find("Deployment", "web", "shop")
    assert deployment is not None
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":crash")
