"""A toy Deployment controller and kubelet for rollout tests against the emulator.

The emulator (``kube.py``) runs no controllers, so a test that watches a rollout plays them:
:meth:`RolloutController.step` does one round of what the Deployment controller, the
ReplicaSet controller and the kubelet would do, writing straight into the emulator's store
(under its lock), so it can be called from a fake ``sleep`` in any thread or event loop.

What one step does, per tracked Deployment (a simplification of
https://kubernetes.io/docs/concepts/workloads/controllers/deployment/):

1. find the ReplicaSet whose template equals the Deployment's (ignoring
   ``pod-template-hash``), or create it (``<name>-<hash>``, owned by the Deployment); give it
   the next revision when it is not the newest (a rollback re-numbers the old ReplicaSet, as
   the controller does), copy the Deployment's annotations to it and the revision to the
   Deployment; ``observedGeneration`` is then current;
2. pods created last step start: by their image, ``behaviour`` makes them ready, crash-loop
   (``CrashLoopBackOff`` after exit code 1) or run but fail their readiness probe forever (an
   ``Unhealthy`` Warning event);
3. the new ReplicaSet grows by one pod per step until it has ``spec.replicas``; once all its
   pods are ready the old ReplicaSets are scaled to 0 and their pods deleted;
4. the Deployment's status (replicas, updated, ready, available, ``Progressing``) is
   recomputed; after :attr:`RolloutController.deadline_steps` steps without completing,
   ``Progressing`` becomes ``ProgressDeadlineExceeded``.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any, Literal

from _support.kube import KubeEmulator

Behaviour = Literal["ready", "crash", "unready"]
HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _without_hash(template: Mapping[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(dict(template))
    labels = dict(result.get("metadata", {}).get("labels") or {})
    labels.pop(HASH, None)
    result.setdefault("metadata", {})["labels"] = labels
    return result


def _image(template: Mapping[str, Any]) -> str:
    return str(template["spec"]["containers"][0]["image"])


class RolloutController:
    """Plays the controllers for the Deployments given to :meth:`track`."""

    def __init__(
        self, emulator: KubeEmulator, behaviour: Callable[[str], Behaviour] | None = None
    ) -> None:
        self.emulator = emulator
        #: image -> how its pods behave (default: ready).
        self.behaviour = behaviour or (lambda image: "ready")
        self.tracked: list[tuple[str, str]] = []
        self.steps = 0
        #: Steps a rollout may go without completing before ``Progressing`` turns False with
        #: ``ProgressDeadlineExceeded`` (the controller's ``progressDeadlineSeconds``); None: never.
        self.deadline_steps: int | None = None
        self._stalled: dict[tuple[str, str], tuple[str, int]] = {}

    def track(self, namespace: str, name: str) -> None:
        self.tracked.append((namespace, name))

    # -- store access (under the emulator's lock) --

    def _items(self, api_version: str, plural: str, namespace: str) -> list[dict[str, Any]]:
        return [
            obj
            for (av, pl, ns, _), obj in self.emulator.store.items()
            if (av, pl, ns) == (api_version, plural, namespace)
        ]

    def _put(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.emulator.put(obj)
        meta = obj["metadata"]
        plural = {"ReplicaSet": "replicasets", "Pod": "pods", "Event": "events"}[obj["kind"]]
        return self.emulator.store[(obj["apiVersion"], plural, meta["namespace"], meta["name"])]

    def _delete_pod(self, pod: Mapping[str, Any]) -> None:
        meta = pod["metadata"]
        self.emulator.store.pop(("v1", "pods", meta["namespace"], meta["name"]), None)

    # -- one round --

    def step(self) -> None:
        self.steps += 1
        with self.emulator._mutex:
            for namespace, name in self.tracked:
                deployment = self.emulator.store.get(("apps/v1", "deployments", namespace, name))
                if deployment is not None:
                    self._reconcile(deployment)

    def settle(self, steps: int = 20) -> None:
        """Step until every tracked rollout is complete (or ``steps`` run out)."""
        for _ in range(steps):
            self.step()

    def _owned(self, deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
        uid = deployment["metadata"]["uid"]
        return [
            rs
            for rs in self._items("apps/v1", "replicasets", deployment["metadata"]["namespace"])
            if any(r.get("uid") == uid for r in rs["metadata"].get("ownerReferences") or ())
        ]

    def _pods(self, rs: Mapping[str, Any]) -> list[dict[str, Any]]:
        uid = rs["metadata"]["uid"]
        return [
            pod
            for pod in self._items("v1", "pods", rs["metadata"]["namespace"])
            if any(r.get("uid") == uid for r in pod["metadata"].get("ownerReferences") or ())
        ]

    def _reconcile(self, deployment: dict[str, Any]) -> None:
        meta, spec = deployment["metadata"], deployment["spec"]
        namespace, name = meta["namespace"], meta["name"]
        desired = int(spec.get("replicas", 1))
        template = _without_hash(spec["template"])
        owned = self._owned(deployment)
        revisions = [int(rs["metadata"]["annotations"][REVISION]) for rs in owned]
        newest = max(revisions, default=0)
        new_rs = next(
            (rs for rs in owned if _without_hash(rs["spec"]["template"]) == template), None
        )
        if new_rs is None:
            digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()
            pod_hash = digest[:10]
            rs_template = copy.deepcopy(template)
            rs_template["metadata"]["labels"][HASH] = pod_hash
            new_rs = self._put(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": f"{name}-{pod_hash}",
                        "namespace": namespace,
                        "labels": dict(rs_template["metadata"]["labels"]),
                        "annotations": {REVISION: str(newest + 1)},
                        "ownerReferences": [
                            {
                                "apiVersion": "apps/v1",
                                "kind": "Deployment",
                                "name": name,
                                "uid": meta["uid"],
                                "controller": True,
                            }
                        ],
                    },
                    "spec": {
                        "replicas": 0,
                        "selector": {"matchLabels": dict(rs_template["metadata"]["labels"])},
                        "template": rs_template,
                    },
                    "status": {"replicas": 0},
                }
            )
            owned.append(new_rs)
        elif int(new_rs["metadata"]["annotations"][REVISION]) != newest:
            new_rs["metadata"]["annotations"][REVISION] = str(newest + 1)
        # The new ReplicaSet carries the Deployment's annotations (change-cause...).
        new_rs["metadata"]["annotations"].update(
            (k, v) for k, v in (meta.get("annotations") or {}).items() if k != REVISION
        )
        revision = new_rs["metadata"]["annotations"][REVISION]
        meta.setdefault("annotations", {})[REVISION] = revision
        status = deployment.setdefault("status", {})
        status["observedGeneration"] = meta.get("generation", 1)

        # The kubelet: pods created earlier start.
        for rs in owned:
            for pod in self._pods(rs):
                self._start(pod)

        # The ReplicaSet controllers: grow the new one, then retire the old ones.
        new_pods = self._pods(new_rs)
        if len(new_pods) < desired:
            self._create_pod(new_rs)
        elif len(new_pods) > desired:
            self._delete_pod(new_pods[-1])
        elif all(_ready(p) for p in new_pods):
            for rs in owned:
                if rs is not new_rs:
                    for pod in self._pods(rs):
                        self._delete_pod(pod)
        for rs in owned:
            pods = self._pods(rs)
            rs["spec"]["replicas"] = desired if rs is new_rs else len(pods)
            rs["status"] = {
                "replicas": len(pods),
                "readyReplicas": sum(1 for p in pods if _ready(p)),
                "availableReplicas": sum(1 for p in pods if _ready(p)),
                "observedGeneration": 1,
            }

        # The Deployment controller's status.
        all_pods = [p for rs in owned for p in self._pods(rs)]
        new_pods = self._pods(new_rs)
        ready = sum(1 for p in all_pods if _ready(p))
        status.update(
            {
                "replicas": len(all_pods),
                "updatedReplicas": len(new_pods),
                "readyReplicas": ready,
                "availableReplicas": ready,
            }
        )
        done = len(new_pods) == desired == len(all_pods) and all(_ready(p) for p in new_pods)
        # The deadline counts from when the new ReplicaSet became the new one (a rollback too).
        rs_name = new_rs["metadata"]["name"]
        last_rs, stalled = self._stalled.get((namespace, name), (rs_name, 0))
        stalled = 0 if done or last_rs != rs_name else stalled + 1
        self._stalled[(namespace, name)] = (rs_name, stalled)
        if self.deadline_steps is not None and stalled > self.deadline_steps:
            progressing = {
                "type": "Progressing",
                "status": "False",
                "reason": "ProgressDeadlineExceeded",
                "message": f'ReplicaSet "{rs_name}" has timed out progressing.',
            }
        else:
            progressing = {
                "type": "Progressing",
                "status": "True",
                "reason": "NewReplicaSetAvailable" if done else "ReplicaSetUpdated",
                "message": f'ReplicaSet "{rs_name}" '
                + ("has successfully progressed." if done else "is progressing."),
            }
        status["conditions"] = [progressing]

    def _create_pod(self, rs: Mapping[str, Any]) -> None:
        template = rs["spec"]["template"]
        index = len(self._pods(rs))
        self._put(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"{rs['metadata']['name']}-p{index}",
                    "namespace": rs["metadata"]["namespace"],
                    "labels": dict(template["metadata"]["labels"]),
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "ReplicaSet",
                            "name": rs["metadata"]["name"],
                            "uid": rs["metadata"]["uid"],
                            "controller": True,
                        }
                    ],
                },
                "spec": copy.deepcopy(template["spec"]),
                "status": {
                    "phase": "Pending",
                    "conditions": [{"type": "Ready", "status": "False"}],
                },
            }
        )

    def _start(self, pod: dict[str, Any]) -> None:
        if pod["status"].get("containerStatuses"):
            return
        container = pod["spec"]["containers"][0]
        image, cname = container["image"], container["name"]
        behaviour = self.behaviour(image)
        base = {"name": cname, "image": image}
        if behaviour == "ready":
            pod["status"] = {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [
                    {**base, "ready": True, "restartCount": 0, "state": {"running": {}}}
                ],
            }
        elif behaviour == "crash":
            pod["status"] = {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [
                    {
                        **base,
                        "ready": False,
                        "restartCount": 4,
                        "state": {
                            "waiting": {
                                "reason": "CrashLoopBackOff",
                                "message": "back-off 1m20s restarting failed container",
                            }
                        },
                        "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
                    }
                ],
            }
        else:  # unready: running, readiness probe failing
            pod["status"] = {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [
                    {**base, "ready": False, "restartCount": 0, "state": {"running": {}}}
                ],
            }
            meta = pod["metadata"]
            self._put(
                {
                    "apiVersion": "v1",
                    "kind": "Event",
                    "metadata": {"name": f"{meta['name']}.probe", "namespace": meta["namespace"]},
                    "involvedObject": {
                        "kind": "Pod",
                        "name": meta["name"],
                        "namespace": meta["namespace"],
                        "uid": meta["uid"],
                        "fieldPath": f"spec.containers{{{cname}}}",
                    },
                    "type": "Warning",
                    "reason": "Unhealthy",
                    "message": "Readiness probe failed: HTTP probe failed with statuscode: 503",
                    "count": 5,
                    "lastTimestamp": _now(),
                }
            )


def _ready(pod: Mapping[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in pod.get("status", {}).get("conditions") or ()
    )


def deployment_manifest(
    image: str, *, name: str = "web", namespace: str = "default", replicas: int = 2
) -> dict[str, Any]:
    """The Deployment tuskops would apply."""
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": dict(labels)},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }
