"""Against a real cluster: a blue-green release switches the Service, and switch-back returns.

``tuskops k8s release FILE KEY --strategy blue-green`` then ``tuskops k8s switch-back FILE
KEY``, KEY naming the app spec map. The release builds its Deployments from the spec alone, so
the spec asks for resources no node has (``UNSCHEDULABLE_REQUESTS``): the pods stay unbound and
the harness writes their status (``k8s_harness.py``). The app has no HTTP readiness probe, so
there is no verification Job to run (a Job's pod would need a node); the release says the
check was skipped. Colours are read from the
Service's selector (``tuskops.dev/track``), never from the command's output.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result
from k8s_harness import (
    IMAGE_GOOD,
    IMAGE_GOOD_2,
    UNSCHEDULABLE_REQUESTS,
    Cluster,
    Workspace,
    app_file,
)

from tuskops.kubernetes.bluegreen import TRACK_LABEL

pytestmark = pytest.mark.kubernetes

Run = Callable[..., Result]


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, f"exit {result.exit_code}\n{result.stdout}\n{result.stderr}"
    return result


def _active(cluster: Cluster, namespace: str) -> str:
    service = cluster.must_get("v1", "Service", "web", namespace)
    return str(service["spec"]["selector"][TRACK_LABEL])


def _image(cluster: Cluster, namespace: str, name: str) -> str:
    deployment = cluster.must_get("apps/v1", "Deployment", name, namespace)
    return str(deployment["spec"]["template"]["spec"]["containers"][0]["image"])


def test_blue_green_release_switch_and_switch_back(
    tuskops: Run, cluster_args: list[str], cluster: Cluster, namespace: Workspace
) -> None:
    ns = namespace.name
    tsk = app_file(namespace, "app", replicas=2, extra_keys=UNSCHEDULABLE_REQUESTS)
    # --no-wait: the old colour stays up, so the switch back below is instant.
    release = (
        "k8s", "release", tsk, "web_spec", "--strategy", "blue-green", "--no-wait", *cluster_args
    )  # fmt: skip

    _ok(tuskops(*release))
    first = _active(cluster, ns)
    assert first in ("blue", "green")
    assert _image(cluster, ns, f"web-{first}") == IMAGE_GOOD

    app_file(namespace, "app", replicas=2, image=IMAGE_GOOD_2, extra_keys=UNSCHEDULABLE_REQUESTS)
    _ok(tuskops(*release))
    second = _active(cluster, ns)
    assert second != first
    assert _image(cluster, ns, f"web-{second}") == IMAGE_GOOD_2
    # The old colour keeps its template (and, until the scale-down delay, its pods).
    assert _image(cluster, ns, f"web-{first}") == IMAGE_GOOD

    _ok(tuskops("k8s", "switch-back", tsk, "web_spec", *cluster_args))
    assert _active(cluster, ns) == first
    assert _image(cluster, ns, f"web-{first}") == IMAGE_GOOD
    # Every pod the Service now selects runs the old image.
    service = cluster.must_get("v1", "Service", "web", ns)
    pods = cluster.list("v1", "Pod", ns, label_selector=service["spec"]["selector"])
    assert pods, "the Service selects no pod after switching back"
    assert {c["image"] for p in pods for c in p["spec"]["containers"]} == {IMAGE_GOOD}
