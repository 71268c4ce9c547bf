"""The Kubernetes cluster target: plan by server-side dry run, apply by server-side apply, prune
by ApplySet, against the in-process API emulator (tests/_support/kube.py; not a cluster)."""

from __future__ import annotations

import asyncio
import base64
import copy
from collections.abc import Generator
from typing import Any

import pytest

from _support.kube import EmulatedCluster
from tuskops.core.apply import apply_plan
from tuskops.core.plan import Plan, make_plan, render_plan
from tuskops.core.resource import Resource
from tuskops.errors import ApplyError, PlanError
from tuskops.kubernetes.applyset import (
    GROUP_KINDS_ANNOTATION,
    ID_LABEL,
    PART_OF_LABEL,
    ApplySet,
)
from tuskops.kubernetes.cluster import KubeClient
from tuskops.kubernetes.kubeconfig import load_cluster
from tuskops.kubernetes.resources import to_resources
from tuskops.kubernetes.target import KubernetesTarget, default_applyset_name, project

APPLYSET = ApplySet(name="tuskops-app", namespace="default")
SECRET_VALUE = "hunter2-very-secret"


def manifests(*, replicas: int = 2, secret: str = SECRET_VALUE) -> list[dict[str, Any]]:
    labels = {"app": "web"}
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {**labels, "tier": "fe"}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "web:1"}]},
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "web-config", "namespace": "shop"},
            "data": {"MODE": "prod"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "web-secrets", "namespace": "shop"},
            "type": "Opaque",
            "data": {"TOKEN": base64.b64encode(secret.encode()).decode()},
        },
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
    ]


def resources(objs: list[dict[str, Any]]) -> list[Resource]:
    return to_resources(objs)


@pytest.fixture
def cluster(kube_emulator: EmulatedCluster) -> EmulatedCluster:
    return kube_emulator


def make_target(cluster: EmulatedCluster, *, force: bool = False) -> KubernetesTarget:
    config = load_cluster("emulator", cluster.kubeconfig)
    return KubernetesTarget(config, APPLYSET, force_conflicts=force)


@pytest.fixture
def target(cluster: EmulatedCluster) -> Generator[KubernetesTarget, None, None]:
    with make_target(cluster) as made:
        yield made


def plan_and_apply(target: KubernetesTarget, objs: list[dict[str, Any]]) -> Plan:
    plan = make_plan(resources(objs), target)
    apply_plan(plan, target)
    return plan


def changes_sent(cluster: EmulatedCluster, since: int = 0) -> list[tuple[str, str]]:
    """Requests that change something: not GETs, not dry runs."""
    return [
        (method, path)
        for method, path in cluster.emulator.log[since:]
        if method != "GET" and "dryRun" not in path
    ]


def client_apply(cluster: EmulatedCluster, obj: dict[str, Any], manager: str) -> None:
    async def go() -> None:
        async with KubeClient(load_cluster("emulator", cluster.kubeconfig)) as kube:
            await kube.apply(obj, field_manager=manager, force=True)

    asyncio.run(go())


# --- pure -----------------------------------------------------------------------------------


def test_project_keeps_only_the_fields_the_manifest_sets() -> None:
    shape = {
        "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {}},
        "spec": {
            "containers": [{"name": "b", "image": "b:2"}, {"name": "a", "image": "a:1"}],
            "args": ["x"],
        },
    }
    live = {
        "metadata": {"name": "web", "uid": "1", "labels": {"app": "web", "other": "x"}},
        "spec": {
            "containers": [
                {"name": "a", "image": "a:1", "imagePullPolicy": "IfNotPresent"},
                {"name": "c", "image": "c:1"},
            ],
            "args": ["x", "y"],
            "dnsPolicy": "ClusterFirst",
        },
    }
    assert project(shape, live) == {
        "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {}},
        # list-map items by key, in the manifest's order; None where live has none
        "spec": {"containers": [None, {"name": "a", "image": "a:1"}], "args": ["x", "y"]},
    }


def test_default_applyset_name_is_a_valid_object_name() -> None:
    assert default_applyset_name("app") == "tuskops-app"
    assert default_applyset_name("My_Shop App") == "tuskops-my-shop-app"


# --- against the emulator -------------------------------------------------------------------


def test_first_apply_creates_everything_in_order_with_the_applyset(
    cluster: EmulatedCluster, target: KubernetesTarget
) -> None:
    plan = make_plan(resources(manifests()), target)
    assert [c.action for c in plan.changes] == ["create"] * 5
    assert not changes_sent(cluster), "planning must not change anything"

    apply_plan(plan, target)

    applied = [path for method, path in changes_sent(cluster) if method == "PATCH"]
    kinds = [path.split("?")[0].split("/")[-2] for path in applied]
    # the parent is widened first (after the namespace when it lives there), narrowed last
    assert kinds == [
        "secrets",  # ApplySet parent, widened
        "namespaces",
        "configmaps",
        "secrets",
        "services",
        "deployments",
        "secrets",  # ApplySet parent, narrowed
    ]
    assert all("fieldManager=tuskops" in path for path in applied)
    assert not any("force=true" in path for path in applied[1:-1])
    for kind, name, ns in [
        ("Namespace", "shop", None),
        ("ConfigMap", "web-config", "shop"),
        ("Secret", "web-secrets", "shop"),
        ("Service", "web", "shop"),
        ("Deployment", "web", "shop"),
    ]:
        obj = cluster.emulator.find(kind, name, ns)
        assert obj is not None, kind
        assert obj["metadata"]["labels"][PART_OF_LABEL] == APPLYSET.id
    parent = cluster.emulator.find("Secret", "tuskops-app", "default")
    assert parent is not None
    assert parent["metadata"]["labels"][ID_LABEL] == APPLYSET.id
    assert parent["metadata"]["annotations"][GROUP_KINDS_ANNOTATION] == (
        "ConfigMap,Deployment.apps,Namespace,Secret,Service"
    )


def test_reapplying_an_unchanged_config_changes_nothing(
    cluster: EmulatedCluster, target: KubernetesTarget
) -> None:
    plan_and_apply(target, manifests())
    before = cluster.emulator.find("Deployment", "web", "shop")
    mark = len(cluster.emulator.log)

    plan = make_plan(resources(manifests()), target)
    assert not plan.has_changes, render_plan(plan)
    assert str(render_plan(plan)).startswith("No changes.")
    result = apply_plan(plan, target)

    assert result.outcome == "no-op"
    assert changes_sent(cluster, mark) == []
    assert cluster.emulator.find("Deployment", "web", "shop") == before


def test_a_changed_field_is_shown_field_by_field(
    cluster: EmulatedCluster, target: KubernetesTarget
) -> None:
    plan_and_apply(target, manifests())

    plan = make_plan(resources(manifests(replicas=3)), target)

    updates = [c for c in plan.changes if c.action != "no-op"]
    assert [c.resource_id for c in updates] == ["kubernetes/Deployment/shop/web"]
    assert [(c.path, c.old, c.new) for c in updates[0].changes] == [(("spec", "replicas"), 2, 3)]
    text = str(render_plan(plan))
    assert "- spec.replicas: 2" in text
    assert "+ spec.replicas: 3" in text
    apply_plan(plan, target)
    deployment = cluster.emulator.find("Deployment", "web", "shop")
    assert deployment is not None
    assert deployment["spec"]["replicas"] == 3


def test_a_field_left_out_of_the_config_is_noted_as_removed(
    cluster: EmulatedCluster, target: KubernetesTarget
) -> None:
    plan_and_apply(target, manifests())
    objs = manifests()
    del objs[0]["metadata"]["labels"]["tier"]

    plan = make_plan(resources(objs), target)

    (change,) = [c for c in plan.changes if c.action != "no-op"]
    assert change.action == "update"
    assert any("removes metadata.labels.tier" in note for note in change.notes)
    apply_plan(plan, target)
    deployment = cluster.emulator.find("Deployment", "web", "shop")
    assert deployment is not None
    assert "tier" not in deployment["metadata"]["labels"]
    assert not make_plan(resources(objs), target).has_changes


def test_a_removed_resource_is_pruned_and_nothing_unlabelled_is_touched(
    cluster: EmulatedCluster, target: KubernetesTarget
) -> None:
    plan_and_apply(target, manifests())
    bystander = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "not-ours", "namespace": "shop", "labels": {"app": "web"}},
        "data": {"x": "1"},
    }
    client_apply(cluster, bystander, "kubectl")
    before = cluster.emulator.find("ConfigMap", "not-ours", "shop")
    objs = [m for m in manifests() if m["kind"] not in ("ConfigMap", "Service")]

    plan = make_plan(resources(objs), target)

    deletes = [c.resource_id for c in plan.changes if c.action == "delete"]
    # dependents first: the Service (routing) before the ConfigMap (configuration)
    assert deletes == ["kubernetes/Service/shop/web", "kubernetes/ConfigMap/shop/web-config"]
    mark = len(cluster.emulator.log)
    apply_plan(plan, target)
    deleted = [path for method, path in changes_sent(cluster, mark) if method == "DELETE"]
    assert len(deleted) == 2
    assert cluster.emulator.find("ConfigMap", "web-config", "shop") is None
    assert cluster.emulator.find("Service", "web", "shop") is None
    assert cluster.emulator.find("ConfigMap", "not-ours", "shop") == before
    parent = cluster.emulator.find("Secret", "tuskops-app", "default")
    assert parent is not None
    assert parent["metadata"]["annotations"][GROUP_KINDS_ANNOTATION] == (
        "Deployment.apps,Namespace,Secret"
    )
    assert not make_plan(resources(objs), target).has_changes


def test_a_conflict_is_reported_and_fails_the_apply_unless_forced(
    cluster: EmulatedCluster, target: KubernetesTarget
) -> None:
    plan_and_apply(target, manifests())
    scaled = copy.deepcopy(manifests()[0])
    scaled["spec"] = {"replicas": 5}
    scaled["metadata"] = {"name": "web", "namespace": "shop"}
    client_apply(cluster, scaled, "kubectl")

    plan = make_plan(resources(manifests()), target)

    (change,) = [c for c in plan.changes if c.action != "no-op"]
    assert change.resource_id == "kubernetes/Deployment/shop/web"
    assert [(c.path, c.old, c.new) for c in change.changes] == [(("spec", "replicas"), 5, 2)]
    notes = "\n".join(change.notes)
    assert "CONFLICT" in notes
    assert '"kubectl"' in notes
    assert ".spec.replicas" in notes
    assert "--force-conflicts" in notes
    assert set(target.conflicts) == {"kubernetes/Deployment/shop/web"}

    with pytest.raises(ApplyError) as failed:
        apply_plan(plan, target)
    message = str(failed.value)
    assert "kubectl" in message
    assert ".spec.replicas" in message
    assert "--force-conflicts" in message
    deployment = cluster.emulator.find("Deployment", "web", "shop")
    assert deployment is not None
    assert deployment["spec"]["replicas"] == 5

    with make_target(cluster, force=True) as forced:
        plan = make_plan(resources(manifests()), forced)
        assert forced.conflicts == {}
        notes = [note for change in plan.changes for note in change.notes]
        assert any("--force-conflicts takes fields over" in note for note in notes)
        apply_plan(plan, forced)
        deployment = cluster.emulator.find("Deployment", "web", "shop")
        assert deployment is not None
        assert deployment["spec"]["replicas"] == 2
        assert not make_plan(resources(manifests()), forced).has_changes


def test_secret_values_are_redacted_in_the_plan(
    cluster: EmulatedCluster, target: KubernetesTarget
) -> None:
    first = make_plan(resources(manifests()), target)
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    shown = str(render_plan(first)) + str(first.to_json())
    assert SECRET_VALUE not in shown
    assert encoded not in shown
    apply_plan(first, target)

    changed = make_plan(resources(manifests(secret="another-secret")), target)
    text = str(render_plan(changed))
    assert "data.TOKEN: (sensitive value) changed" in text
    for value in (SECRET_VALUE, encoded, base64.b64encode(b"another-secret").decode()):
        assert value not in text
        assert value not in str(changed.to_json())


def test_an_existing_unlabelled_object_is_adopted_with_a_note(
    cluster: EmulatedCluster, target: KubernetesTarget
) -> None:
    existing = manifests()[2]
    cluster.emulator.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    cluster.emulator.put(existing)

    plan = make_plan(resources(manifests()), target)

    by_id = {c.resource_id: c for c in plan.changes}
    adopted = by_id["kubernetes/ConfigMap/shop/web-config"]
    assert adopted.action == "update"
    assert any("not managed by tuskops" in note for note in adopted.notes)
    assert [c.path for c in adopted.changes] == [("metadata", "labels")]


def test_an_object_of_another_applyset_is_refused(
    cluster: EmulatedCluster, target: KubernetesTarget
) -> None:
    other = ApplySet(name="tuskops-other", namespace="default")
    theirs = copy.deepcopy(manifests()[2])
    theirs["metadata"]["labels"] = {PART_OF_LABEL: other.id}
    cluster.emulator.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    cluster.emulator.put(theirs)

    with pytest.raises(PlanError, match="member of another ApplySet"):
        make_plan(resources(manifests()), target)


def test_only_kubernetes_resources_are_accepted(target: KubernetesTarget) -> None:
    foreign = Resource(operator="render", kind="file", name="app.json", body={"a": 1})
    with pytest.raises(PlanError, match=r"render/file/app\.json"):
        make_plan([foreign, *resources(manifests())], target)
