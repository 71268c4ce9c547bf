"""Against a real cluster: apply waits for rollouts, and rolls a failed one back.

The pods never run: the harness's simulator writes their status (Ready, or waiting in
``CrashLoopBackOff`` for an image tagged ``crashloop``) through the status subresource, see
``k8s_harness.py``. ``tuskops k8s status|history`` read the result back.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from click.testing import Result
from k8s_harness import (
    IMAGE_CRASHLOOP,
    IMAGE_GOOD,
    IMAGE_GOOD_2,
    Cluster,
    Workspace,
    app_file,
    rollout_state,
)

pytestmark = pytest.mark.kubernetes

Run = Callable[..., Result]


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result


def _image(cluster: Cluster, namespace: str, name: str) -> str:
    deployment = cluster.must_get("apps/v1", "Deployment", name, namespace)
    return str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])


def test_apply_waits_for_each_rollout(
    tuskops: Run,
    target: list[str],
    cluster_args: list[str],
    cluster: Cluster,
    namespace: Workspace,
) -> None:
    ns = namespace.name
    tsk = app_file(namespace, "app", replicas=2)
    _ok(tuskops("apply", tsk, *target, "--yes"))
    first = rollout_state(cluster, ns, "web")
    assert (first.state, first.ready, first.updated) == ("complete", 2, 2), first

    app_file(namespace, "app", replicas=2, image=IMAGE_GOOD_2)
    _ok(tuskops("apply", tsk, *target, "--yes"))
    second = rollout_state(cluster, ns, "web")
    assert (second.state, second.ready, second.updated) == ("complete", 2, 2), second
    assert second.revision is None or second.revision >= 2

    status = _ok(tuskops("k8s", "status", "web", "-n", ns, *cluster_args, "--output", "json"))
    assert json.loads(status.stdout)["state"] == "complete"
    history = _ok(tuskops("k8s", "history", "web", "-n", ns, *cluster_args, "--output", "json"))
    images = [tuple(rev["images"]) for rev in json.loads(history.stdout)]
    assert images[-2:] == [(IMAGE_GOOD,), (IMAGE_GOOD_2,)], images


def test_a_failed_rollout_is_rolled_back_automatically(
    tuskops: Run,
    target: list[str],
    cluster_args: list[str],
    cluster: Cluster,
    namespace: Workspace,
) -> None:
    ns = namespace.name
    tsk = app_file(namespace, "app")
    _ok(tuskops("apply", tsk, *target, "--yes"))
    assert _image(cluster, ns, "web") == IMAGE_GOOD

    app_file(namespace, "app", image=IMAGE_CRASHLOOP)
    result = tuskops("apply", tsk, *target, "--yes")
    # Never "success": the new revision failed, even though the rollback worked.
    assert result.exit_code == 1, result.stdout + result.stderr
    said = result.stdout + result.stderr
    assert "CrashLoopBackOff" in said
    assert "roll" in said.lower()  # "rolled back" / "rollback", whatever the wording

    # The template is the good one again, and that rollout completes.
    assert _image(cluster, ns, "web") == IMAGE_GOOD
    cluster.wait_for(
        "the rollback's rollout to complete",
        lambda: rollout_state(cluster, ns, "web").state == "complete",
    )
    status = _ok(tuskops("k8s", "status", "web", "-n", ns, *cluster_args, "--output", "json"))
    assert json.loads(status.stdout)["state"] == "complete"
    # Three revisions: good (1), crashloop (2), good again (3, the old ReplicaSet renumbered).
    history = _ok(tuskops("k8s", "history", "web", "-n", ns, *cluster_args, "--output", "json"))
    revisions = json.loads(history.stdout)
    assert [tuple(rev["images"]) for rev in revisions] == [(IMAGE_CRASHLOOP,), (IMAGE_GOOD,)]
    assert revisions[-1]["current"] is True
