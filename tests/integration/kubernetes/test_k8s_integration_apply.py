"""Against a real cluster: apply, a no-op re-apply, pruning, and the plan's diff.

``tuskops plan|apply FILE --target k8s:CONTEXT --kubeconfig FILE`` in-process; objects are read
back with the test's own client. How pods get their status without nodes: ``k8s_harness.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import Result
from k8s_harness import (
    PARENT_NAMESPACE,
    TEST_MANAGER,
    Cluster,
    Workspace,
    app_file,
    owners,
    rollout_state,
)

from tuskops.kubernetes.applyset import ID_LABEL, PART_OF_LABEL, applyset_id

pytestmark = pytest.mark.kubernetes

Run = Callable[..., Result]


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result


def test_apply_creates_the_objects_and_a_reapply_changes_nothing(
    tuskops: Run, target: list[str], cluster: Cluster, namespace: Workspace
) -> None:
    ns = namespace.name
    tsk = app_file(namespace, "app", config={"GREETING": "hello"})
    _ok(tuskops("apply", tsk, *target, "--yes"))

    deployment = cluster.must_get("apps/v1", "Deployment", "web", ns)
    service = cluster.must_get("v1", "Service", "web", ns)
    config = cluster.must_get("v1", "ConfigMap", "web-config", ns)
    assert config["data"] == {"GREETING": "hello"}
    # Server-side apply by the field manager "tuskops", and every object in the ApplySet.
    parent_name = namespace.parent_name(tsk)
    set_id = applyset_id(parent_name, PARENT_NAMESPACE, "Secret")
    for obj in (deployment, service, config):
        assert owners(obj).get("tuskops") == "Apply", obj["metadata"].get("managedFields")
        assert obj["metadata"]["labels"][PART_OF_LABEL] == set_id
    parent = cluster.must_get("v1", "Secret", parent_name, PARENT_NAMESPACE)
    assert parent["metadata"]["labels"][ID_LABEL] == set_id
    # apply waited for the rollout: it is complete the moment apply returns.
    assert rollout_state(cluster, ns, "web").state == "complete"

    before = {
        "service": service["metadata"]["resourceVersion"],
        "config": config["metadata"]["resourceVersion"],
        "generation": deployment["metadata"]["generation"],
    }
    plan = _ok(tuskops("plan", tsk, *target, "--detailed-exitcode", "--output", "json"))
    assert json.loads(plan.stdout)["has_changes"] is False
    _ok(tuskops("apply", tsk, *target, "--yes"))
    after = {
        "service": cluster.must_get("v1", "Service", "web", ns)["metadata"]["resourceVersion"],
        "config": cluster.must_get("v1", "ConfigMap", "web-config", ns)["metadata"][
            "resourceVersion"
        ],
        "generation": cluster.must_get("apps/v1", "Deployment", "web", ns)["metadata"][
            "generation"
        ],
    }
    assert after == before


def test_plan_shows_the_field_diff_and_changes_nothing(
    tuskops: Run, target: list[str], cluster: Cluster, namespace: Workspace
) -> None:
    ns = namespace.name
    tsk = app_file(namespace, "app", config={"GREETING": "hello"})
    _ok(tuskops("apply", tsk, *target, "--yes"))
    live_before = cluster.must_get("v1", "ConfigMap", "web-config", ns)

    app_file(namespace, "app", config={"GREETING": "bonjour"}, replicas=2)
    result = tuskops("plan", tsk, *target, "--detailed-exitcode", "--output", "json")
    assert result.exit_code == 3, result.stderr
    plan = json.loads(result.stdout)
    by_id = {r["id"]: r for r in plan["resources"]}
    config_change = by_id[f"kubernetes/ConfigMap/{ns}/web-config"]
    assert config_change["action"] == "update"
    assert any(
        c["path_parts"] == ["data", "GREETING"] and c["old"] == "hello" and c["new"] == "bonjour"
        for c in config_change["changes"]
    ), config_change
    deployment_change = by_id[f"kubernetes/Deployment/{ns}/web"]
    assert deployment_change["action"] == "update"
    assert any(
        c["path_parts"] == ["spec", "replicas"] and c["new"] == 2
        for c in deployment_change["changes"]
    ), deployment_change
    # The service did not change.
    assert by_id[f"kubernetes/Service/{ns}/web"]["action"] == "no-op"

    text = tuskops("plan", tsk, *target)
    _ok(text)
    assert "GREETING" in text.stdout
    assert "replicas" in text.stdout
    # Planning changed nothing.
    live_after = cluster.must_get("v1", "ConfigMap", "web-config", ns)
    assert live_after["metadata"]["resourceVersion"] == live_before["metadata"]["resourceVersion"]
    assert live_after["data"] == {"GREETING": "hello"}


def test_objects_that_left_the_file_are_pruned_and_nothing_else(
    tuskops: Run, target: list[str], cluster: Cluster, namespace: Workspace
) -> None:
    ns = namespace.name
    worker = f"""
worker_spec {{
    name: "worker"
    namespace: "{ns}"
    image: "registry.invalid/tuskops-it/worker:1"
    config: {{ QUEUE: "jobs" }}
}}

worker: @kubernetes.config($worker_spec)
"""
    tsk = app_file(namespace, "app", extra_apps=worker)
    # Something in the same namespace that tuskops did not make: never pruned.
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "not-tuskops", "namespace": ns},
            "data": {"owner": TEST_MANAGER},
        }
    )
    _ok(tuskops("apply", tsk, *target, "--yes"))
    assert cluster.get("v1", "ConfigMap", "worker-config", ns) is not None

    app_file(namespace, "app")  # the worker left the file
    plan = tuskops("plan", tsk, *target, "--output", "json")
    _ok(plan)
    actions = {r["id"]: r["action"] for r in json.loads(plan.stdout)["resources"]}
    assert actions[f"kubernetes/ConfigMap/{ns}/worker-config"] == "delete"
    assert f"kubernetes/ConfigMap/{ns}/not-tuskops" not in actions

    _ok(tuskops("apply", tsk, *target, "--yes"))
    cluster.wait_for(
        "the pruned ConfigMap to be gone",
        lambda: cluster.get("v1", "ConfigMap", "worker-config", ns) is None,
    )
    assert cluster.get("v1", "ConfigMap", "not-tuskops", ns) is not None
    assert cluster.get("apps/v1", "Deployment", "web", ns) is not None
    # And the next plan has nothing left to do.
    again = tuskops("plan", tsk, *target, "--detailed-exitcode")
    assert again.exit_code == 0, again.stdout + again.stderr
