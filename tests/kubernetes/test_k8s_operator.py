"""@kubernetes in .tsk files: app specs and manifests become validated resources."""

from __future__ import annotations

from pathlib import Path

import pytest

import tuskops
from tuskops.core.plan import make_plan
from tuskops.core.targets import DirectoryTarget
from tuskops.errors import LangError

APP = """
web: @kubernetes.app({
    name: "web"
    namespace: "shop"
    image: "ghcr.io/acme/web:1.4.2"
    replicas: 3
    port: 8080
    secrets: { DATABASE_URL: @secret("postgres://u:hunter2@db/shop") }
    probes: { readiness: "/ready" }
    resources: { requests: { cpu: "100m", memory: "128Mi" } }
    autoscaling: { min: 3, max: 10, cpu: 70 }
    ingress: { host: "web.example.com", tls: true }
    permissions: [{ resources: ["configmaps"], verbs: ["get"] }]
    namespace_policy: { quota: { pods: "20" } }
})
"""


def load(tmp_path: Path, text: str) -> tuskops.Document:
    path = tmp_path / "app.tsk"
    path.write_text(text)
    return tuskops.load(path)


def test_app_becomes_every_manifest_in_apply_order(tmp_path: Path) -> None:
    doc = load(tmp_path, APP)
    kinds = [r.kind for r in sorted(doc.resources, key=lambda r: r.order)]
    assert kinds[0] == "Namespace"
    assert set(kinds) >= {
        "Namespace", "ResourceQuota", "NetworkPolicy", "ServiceAccount", "Role", "RoleBinding",
        "Secret", "Service", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget",
        "Ingress",
    }  # fmt: skip
    assert kinds.index("Role") < kinds.index("RoleBinding") < kinds.index("Deployment")
    assert kinds.index("Deployment") < kinds.index("Ingress")
    deployment = next(r for r in doc.resources if r.kind == "Deployment")
    assert deployment.id == "kubernetes/Deployment/shop/web"
    assert deployment.path == "shop/deployment-web.yaml"
    assert "replicas" not in deployment.body["spec"]  # the HPA owns it


def test_secret_values_are_redacted_in_plans(tmp_path: Path) -> None:
    doc = load(tmp_path, APP)
    plan = make_plan(doc.resources, DirectoryTarget(tmp_path / "deploy"))
    from tuskops.core.plan import render_plan

    text = render_plan(plan)
    assert "hunter2" not in text
    assert "cG9zdGdyZXM6" not in text  # nor its base64


def test_raw_manifests_are_merged_and_validated(tmp_path: Path) -> None:
    (tmp_path / "patch.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
        "spec: {minReadySeconds: 15}\n---\n"
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: report, namespace: shop}\n"
        "spec:\n  schedule: '0 3 * * *'\n  jobTemplate:\n    spec:\n      template:\n"
        "        spec:\n          restartPolicy: Never\n"
        "          containers: [{name: report, image: 'report:1'}]\n"
    )
    doc = load(tmp_path, APP.replace("})\n", '}, ["patch.yaml"])\n'))
    by_kind = {r.kind: r for r in doc.resources}
    assert by_kind["Deployment"].body["spec"]["minReadySeconds"] == 15
    assert by_kind["CronJob"].namespace == "shop"


def test_spec_errors_name_the_field(tmp_path: Path) -> None:
    with pytest.raises(LangError) as info:
        load(tmp_path, 'web: @kubernetes.app({ name: "web", image: "x", replicaz: 2 })\n')
    assert "app.replicaz: unknown key (did you mean 'replicas'?)" in str(info.value)


def test_invalid_raw_manifest_names_resource_and_field(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n"
        "spec: {replicas: three, selector: {matchLabels: {a: b}},\n"
        "       template: {metadata: {labels: {a: b}},\n"
        "                  spec: {containers: [{name: a, image: b}]}}}\n"
    )
    with pytest.raises(LangError) as info:
        load(tmp_path, 'x: @k8s.manifest("bad.yaml")\n')
    assert "Deployment/default/api: spec.replicas" in str(info.value)


def test_custom_resources_are_kept_but_reported_unvalidated(tmp_path: Path) -> None:
    (tmp_path / "cr.yaml").write_text(
        "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\n"
        "metadata: {name: web, namespace: shop}\nspec: {endpoints: [{port: http}]}\n"
    )
    doc = load(tmp_path, 'x: @k8s.manifest("cr.yaml")\n')
    assert [r.kind for r in doc.resources] == ["ServiceMonitor"]
    assert any("not validated" in w.message for w in doc.warnings)


def test_single_kinds(tmp_path: Path) -> None:
    doc = load(
        tmp_path,
        'd: @kubernetes.deployment({ name: "api", image: "api:2", port: 80 })\n'
        's: @kubernetes.service({ name: "api", image: "api:2", port: 80 })\n',
    )
    assert sorted(r.kind for r in doc.resources) == ["Deployment", "Service"]
