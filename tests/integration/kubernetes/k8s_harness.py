"""The real-cluster suite's harness: a client, the stand-ins that make it independent of nodes.

Every test here is marked ``kubernetes`` and is skipped unless ``TUSKOPS_TEST_KUBECONFIG``
names a kubeconfig (tests/conftest.py; also under ``CI=true``, since no cluster can run on
these machines). ``TUSKOPS_TEST_CONTEXT`` picks a context (default: the file's current one).
Each test gets its own namespace ``tuskops-it-<random>``, deleted in a finalizer together with
the ApplySet parent Secrets the test's files made in ``default``.

The approach: no kubelet, no scheduler, deterministic pod status
-------------------------------------------------------------------

The suite must pass on a cluster that has nodes and on one that has none (an API server only,
like envtest), and a test must never depend on an image being pulled or a container starting.
So:

1. **No pod is ever scheduled.** Every Deployment ``tuskops apply`` makes here sets
   ``spec.template.spec.schedulerName`` to :data:`NO_SCHEDULER` (a manifest merged over the
   app's, :func:`app_file`), a scheduler that does not exist: the default scheduler ignores such
   pods, so they are never bound to a node, so no kubelet ever runs them or writes their
   status. ``tuskops k8s release`` builds its Deployments from the app spec alone (the merged
   manifests are not part of a spec), so the blue-green test asks for resources no node has
   (:data:`UNSCHEDULABLE_REQUESTS`): the scheduler keeps those pods Pending (it only adds a
   ``PodScheduled: False`` condition) and, again, no kubelet touches them. Images are under
   ``registry.invalid`` (RFC 2606: never resolves), so even a misconfigured cluster could not
   run them. The simulator writes the status of every pod of the test's namespace that is not
   bound to a node, and never of a bound one.
2. **The tests are the kubelet.** :class:`Simulator` runs in the background for each test and
   writes every pod's status through the ``pods/status`` subresource (``patch_status``, field
   manager ``tuskops-integration-kubelet``), decided by the image's tag: a tag containing
   ``crashloop`` gives a container waiting in ``CrashLoopBackOff`` (restarted 4 times, not
   Ready); anything else gives a Running, Ready pod. This is all a rollout watcher reads.
3. **Controllers: the cluster's, or stand-ins.** With a controller manager (any real cluster)
   the Deployment controller makes the ReplicaSets, the ReplicaSet controller makes the pods and
   both compute status from the pods' Ready conditions, exactly as in production; the tests
   only play the kubelet. Without one (envtest, the emulator) nothing would ever create a pod,
   so the simulator also plays those two controllers, simplified: one ReplicaSet per distinct
   pod template (named ``<deployment>-<hash>``, revision annotation bumped when an old template
   comes back, as the real controller does), pods named ``<replicaset>-<i>``, old ReplicaSets
   scaled to zero only once the new one is fully available (maxUnavailable 0), and the
   ``observedGeneration``/replica counts/``Progressing``/``Available`` conditions the real
   controller writes. Which case applies is probed once per session (a throw-away Deployment
   either gets a ``status.observedGeneration`` within :data:`PROBE_SECONDS` or not), or set with
   ``TUSKOPS_TEST_CONTROLLERS=yes|no``.

Alternatives considered and rejected: setting the *Deployment's* status directly (a running
Deployment controller overwrites it at its next sync, so the test would race it); paused
Deployments (the controller still rewrites their status, and a paused Deployment cannot be
rolled back, which the suite tests); creating pods by hand on a cluster with controllers (the
ReplicaSet controller adopts or deletes them).

Assumptions that remain:

* Nothing but the scheduler (its ``PodScheduled`` condition) writes the status of an unbound
  pod (true of upstream Kubernetes: the kubelet of the pod's node writes the rest).
* No admission webhook, policy, LimitRange or ResourceQuota rejects ``schedulerName``,
  ``registry.invalid`` images, pods without resource requests or the unsatisfiable requests
  of the blue-green test; a cluster that does fails those tests at apply or release, with the
  server's message.
* The test's credentials may create and delete namespaces, write ``pods/status``, and create
  ``selfsubjectaccessreviews`` and ``subjectaccessreviews`` (``test_own_credentials_may_...``
  in the RBAC tests says exactly which permission is missing).
* Without a namespace controller (envtest), a deleted namespace stays ``Terminating`` forever;
  the finalizer therefore deletes the objects in it first (in no-controller mode), so what
  remains is an empty namespace object.
* With a controller manager, a rollout's progress depends on its resync: waits are bounded
  (:data:`WAIT_SECONDS`) and a wait that runs out fails with what was last seen. No test asserts
  on how long anything took.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tuskops.errors import ClusterError

T = TypeVar("T")

ENV_KUBECONFIG = "TUSKOPS_TEST_KUBECONFIG"
ENV_CONTEXT = "TUSKOPS_TEST_CONTEXT"
ENV_CONTROLLERS = "TUSKOPS_TEST_CONTROLLERS"

#: A scheduler no cluster runs: pods that name it are never bound to a node.
NO_SCHEDULER = "tuskops-integration-no-scheduler"
#: App-spec keys that no node can satisfy: a scheduler keeps such pods Pending forever. (A
#: cluster autoscaler finds no node group that fits either, so it adds none.)
UNSCHEDULABLE_REQUESTS = '    resources: { requests: { cpu: "4000", memory: "64Ti" } }\n'
#: Images that can never be pulled (RFC 2606 reserves ``.invalid``).
IMAGE_GOOD = "registry.invalid/tuskops-it/web:1"
IMAGE_GOOD_2 = "registry.invalid/tuskops-it/web:2"
IMAGE_CRASHLOOP = "registry.invalid/tuskops-it/web:crashloop"
#: Field managers of the test's own writes (never "tuskops", so they cannot be mistaken for it).
TEST_MANAGER = "tuskops-integration-test"
KUBELET_MANAGER = "tuskops-integration-kubelet"
CONTROLLER_MANAGER = "tuskops-integration-controllers"
#: The label on every namespace this suite makes, so leftovers can be found by hand.
NAMESPACE_LABEL = "tuskops.dev/integration-test"
#: Namespace of the ApplySet parent Secrets ("tuskops-<file stem>").
PARENT_NAMESPACE = "default"
PROBE_SECONDS = 20.0
WAIT_SECONDS = 120.0
SIMULATOR_INTERVAL = 0.25
POD_TEMPLATE_HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"


# --- a client on its own event loop -------------------------------------------------------------


class Cluster:
    """A :class:`~tuskops.kubernetes.cluster.KubeClient` on an event loop in a background
    thread, with blocking wrappers for the tests; the simulators run on the same loop while a
    test runs the CLI in the main thread."""

    def __init__(self, kubeconfig: Path, context: str | None) -> None:
        from tuskops.kubernetes.kubeconfig import load_cluster

        self.kubeconfig = kubeconfig
        self.config = load_cluster(context, kubeconfig=kubeconfig)
        self.context = self.config.context
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="tuskops-it-cluster", daemon=True
        )
        self._thread.start()
        self.client: Any = self.run(self._open())

    async def _open(self) -> Any:
        from tuskops.kubernetes.cluster import KubeClient

        return KubeClient(self.config)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = WAIT_SECONDS) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.run(self.client.aclose(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    # -- blocking wrappers --

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.run(
            self.client.get(api_version, kind, name, namespace)
        )
        return result

    def must_get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any]:
        obj = self.get(api_version, kind, name, namespace)
        assert obj is not None, f"{kind} {namespace}/{name} does not exist"
        return obj

    def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.run(
            self.client.list(api_version, kind, namespace, label_selector)
        )
        return result

    def apply(self, obj: Mapping[str, Any], *, field_manager: str = TEST_MANAGER) -> dict[str, Any]:
        result: dict[str, Any] = self.run(
            self.client.apply(obj, field_manager=field_manager, force=True)
        )
        return result

    def delete(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.run(
            self.client.delete(api_version, kind, name, namespace, propagation="Background")
        )
        return result

    def create(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create ``body`` (create-only kinds such as access reviews, which server-side apply
        cannot make). ``path`` is kept for the callers' messages; the client finds it."""
        doc = self.run(self.client.create(body))
        assert isinstance(doc, dict), f"POST {path} answered {doc!r}"
        return doc

    def wait_for(
        self,
        what: str,
        check: Callable[[], T | None],
        timeout: float = WAIT_SECONDS,
        interval: float = 0.5,
    ) -> T:
        """Poll ``check`` until it returns something other than None/False; fail with ``what``
        and the last value otherwise."""
        deadline = time.monotonic() + timeout
        last: T | None = None
        while True:
            last = check()
            if last is not None and last is not False:
                return last
            if time.monotonic() >= deadline:
                pytest.fail(f"gave up waiting for {what} after {timeout:.0f}s (last: {last!r})")
            time.sleep(interval)


# --- pod status, as a kubelet would write it ----------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _containers(pod: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((pod.get("spec") or {}).get("containers") or [])


def wants_crashloop(pod: Mapping[str, Any]) -> bool:
    return any("crashloop" in str(c.get("image", "")).rpartition(":")[2] for c in _containers(pod))


def pod_status(pod: Mapping[str, Any], now: str) -> dict[str, Any]:
    """The status a kubelet would report: Running and Ready, or crash-looping (by image)."""
    crash = wants_crashloop(pod)
    ready = "False" if crash else "True"
    statuses = []
    for c in _containers(pod):
        entry: dict[str, Any] = {
            "name": c.get("name"),
            "image": c.get("image"),
            "imageID": "",
            "ready": not crash,
            "started": not crash,
        }
        if crash:
            entry["restartCount"] = 4
            entry["state"] = {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": "back-off 1m20s restarting failed container",
                }
            }
            entry["lastState"] = {
                "terminated": {
                    "exitCode": 1,
                    "reason": "Error",
                    "startedAt": now,
                    "finishedAt": now,
                }
            }
        else:
            entry["restartCount"] = 0
            entry["state"] = {"running": {"startedAt": now}}
        statuses.append(entry)
    reason = {"reason": "ContainersNotReady"} if crash else {}
    return {
        "phase": "Running",
        "startTime": now,
        "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "Ready", "status": ready, "lastTransitionTime": now, **reason},
            {"type": "ContainersReady", "status": ready, "lastTransitionTime": now, **reason},
        ],
        "containerStatuses": statuses,
    }


def _status_matches(pod: Mapping[str, Any]) -> bool:
    """Whether the live status already says what :func:`pod_status` would."""
    status = pod.get("status") or {}
    ready = {c.get("type"): c.get("status") for c in status.get("conditions") or []}.get("Ready")
    want = "False" if wants_crashloop(pod) else "True"
    images = sorted(str(c.get("image")) for c in status.get("containerStatuses") or [])
    return ready == want and images == sorted(str(c.get("image")) for c in _containers(pod))


def pod_ready(pod: Mapping[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


# --- stand-in controllers (only when the cluster has none) --------------------------------------


def _owned_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    uid = (owner.get("metadata") or {}).get("uid")
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(ref.get("uid") == uid and ref.get("controller") for ref in refs)


def _owner_ref(owner: Mapping[str, Any]) -> dict[str, Any]:
    meta = owner.get("metadata") or {}
    return {
        "apiVersion": owner.get("apiVersion"),
        "kind": owner.get("kind"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def template_without_hash(template: Any) -> dict[str, Any]:
    out = json.loads(json.dumps(template or {}))
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(POD_TEMPLATE_HASH, None)
    return dict(out)


def template_hash(template: Any) -> str:
    text = json.dumps(template_without_hash(template), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _revision(rs: Mapping[str, Any]) -> int:
    value = ((rs.get("metadata") or {}).get("annotations") or {}).get(REVISION)
    return int(value) if isinstance(value, str) and value.isdigit() else 0


def _replicas(obj: Mapping[str, Any]) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return value if isinstance(value, int) else 1


# --- the simulator ------------------------------------------------------------------------------


@dataclass
class Simulator:
    """The kubelet (always) and the Deployment and ReplicaSet controllers (when the cluster
    has none) for one namespace, as a task on the :class:`Cluster`'s loop."""

    cluster: Cluster
    namespace: str
    controllers: bool
    errors: list[str] = field(default_factory=list)
    rounds: int = 0
    _task: concurrent.futures.Future[None] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self._task = asyncio.run_coroutine_threadsafe(self._loop(), self.cluster.loop)

    def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                self._task.result(30)
            except concurrent.futures.TimeoutError:
                self._task.cancel()
                self.errors.append("the simulator did not stop within 30s")

    async def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                await self.round()
                failures = 0
            except ClusterError as err:
                # A 409 (a controller wrote first) or a transient error: try again next round,
                # but remember it, and give up on a persistent failure.
                failures += 1
                if failures >= 20:
                    self.errors.append(f"simulator stopped after 20 failed rounds: {err}")
                    return
            except Exception as err:  # reported by the fixture at teardown
                self.errors.append(f"simulator crashed: {type(err).__name__}: {err}")
                return
            self.rounds += 1
            await asyncio.sleep(SIMULATOR_INTERVAL)

    async def round(self) -> None:
        kube = self.cluster.client
        if not self.controllers:
            await self._controllers()
        now = _now()
        for pod in await kube.list("v1", "Pod", self.namespace):
            meta = pod.get("metadata") or {}
            if meta.get("deletionTimestamp") or (pod.get("spec") or {}).get("nodeName"):
                continue  # a scheduled pod is its kubelet's, never ours
            if not _status_matches(pod):
                await kube.patch_status(
                    "v1", "Pod", meta["name"], self.namespace, pod_status(pod, now),
                    field_manager=KUBELET_MANAGER,
                )  # fmt: skip

    async def _controllers(self) -> None:
        kube = self.cluster.client
        ns = self.namespace
        deployments = await kube.list("apps/v1", "Deployment", ns)
        replica_sets = await kube.list("apps/v1", "ReplicaSet", ns)
        pods = await kube.list("v1", "Pod", ns)
        for deployment in deployments:
            await self._deployment(deployment, replica_sets, pods)

    async def _deployment(
        self,
        deployment: Mapping[str, Any],
        all_replica_sets: Sequence[Mapping[str, Any]],
        all_pods: Sequence[Mapping[str, Any]],
    ) -> None:
        kube = self.cluster.client
        ns = self.namespace
        meta = deployment.get("metadata") or {}
        spec = deployment.get("spec") or {}
        template = spec.get("template") or {}
        want = template_without_hash(template)
        desired = _replicas(deployment)
        owned = [rs for rs in all_replica_sets if _owned_by(rs, deployment)]
        top = max((_revision(rs) for rs in owned), default=0)
        new = next(
            (rs for rs in owned if template_without_hash((rs.get("spec") or {}).get("template"))
             == want), None,
        )  # fmt: skip
        new_revision = _revision(new) if new is not None else 0
        if new is None or new_revision < top:
            new_revision = top + 1
        digest = template_hash(template)
        new_name = new["metadata"]["name"] if new is not None else f"{meta['name']}-{digest}"
        # Pods of the new ReplicaSet, and whether it is fully available.
        new_pods = [p for p in all_pods if new is not None and _owned_by(p, new)]
        new_ready = sum(1 for p in new_pods if pod_ready(p))
        new_done = new is not None and len(new_pods) == desired and new_ready == desired
        wanted: dict[str, int] = {new_name: desired}
        for rs in owned:
            name = rs["metadata"]["name"]
            if name != new_name:
                wanted[name] = 0 if new_done else _replicas(rs)
        # The new ReplicaSet (created, or its revision bumped), then every one's size.
        labels = {**((template.get("metadata") or {}).get("labels") or {})}
        labels[POD_TEMPLATE_HASH] = (
            ((new or {}).get("metadata") or {}).get("labels", {}).get(POD_TEMPLATE_HASH, digest)
        )
        rs_template = json.loads(json.dumps(template))
        rs_template.setdefault("metadata", {})["labels"] = labels
        selector = {"matchLabels": {**((spec.get("selector") or {}).get("matchLabels") or {}),
                                    POD_TEMPLATE_HASH: labels[POD_TEMPLATE_HASH]}}  # fmt: skip
        existing: list[tuple[str, Mapping[str, Any] | None]] = [
            (rs["metadata"]["name"], rs) for rs in owned
        ]
        if new is None:
            existing.append((new_name, None))
        for name, old in existing:
            manifest: dict[str, Any] = {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "ownerReferences": [_owner_ref(deployment)],
                },
                "spec": {"replicas": wanted[name]},
            }
            if name == new_name or old is None:
                manifest["metadata"]["labels"] = labels
                manifest["metadata"]["annotations"] = {REVISION: str(new_revision)}
                manifest["spec"].update(selector=selector, template=rs_template)
            else:
                manifest["metadata"]["labels"] = (old.get("metadata") or {}).get("labels") or {}
                manifest["metadata"]["annotations"] = {REVISION: str(_revision(old))}
                manifest["spec"].update(
                    selector=(old.get("spec") or {}).get("selector"),
                    template=(old.get("spec") or {}).get("template"),
                )
            live = await kube.apply(manifest, field_manager=CONTROLLER_MANAGER, force=True)
            await self._replica_set(live, all_pods)
        # The Deployment's status, from its ReplicaSets' pods.
        pods = await kube.list("v1", "Pod", ns)
        replica_sets = [
            rs for rs in await kube.list("apps/v1", "ReplicaSet", ns) if _owned_by(rs, deployment)
        ]
        mine = [p for p in pods if any(_owned_by(p, rs) for rs in replica_sets)]
        current = next((rs for rs in replica_sets if rs["metadata"]["name"] == new_name), None)
        updated = [p for p in mine if current is not None and _owned_by(p, current)]
        ready = sum(1 for p in mine if pod_ready(p))
        updated_ready = sum(1 for p in updated if pod_ready(p))
        complete = len(updated) == desired and updated_ready == desired and len(mine) == desired
        now = _now()
        status = {
            "observedGeneration": meta.get("generation"),
            "replicas": len(mine),
            "updatedReplicas": len(updated),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": max(0, len(mine) - ready),
            "conditions": [
                {
                    "type": "Available",
                    "status": "True" if ready >= desired else "False",
                    "reason": "MinimumReplicasAvailable"
                    if ready >= desired
                    else "MinimumReplicasUnavailable",
                    "lastUpdateTime": now,
                    "lastTransitionTime": now,
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
                    "message": f'ReplicaSet "{new_name}" '
                    + ("has successfully progressed." if complete else "is progressing."),
                    "lastUpdateTime": now,
                    "lastTransitionTime": now,
                },
            ],
        }
        if _status_differs(deployment.get("status") or {}, status):
            await kube.patch_status(
                "apps/v1", "Deployment", meta["name"], ns, status, field_manager=CONTROLLER_MANAGER
            )

    async def _replica_set(
        self, rs: Mapping[str, Any], all_pods: Sequence[Mapping[str, Any]]
    ) -> None:
        kube = self.cluster.client
        ns = self.namespace
        name = rs["metadata"]["name"]
        want = _replicas(rs)
        template = (rs.get("spec") or {}).get("template") or {}
        pods = {p["metadata"]["name"]: p for p in all_pods if _owned_by(p, rs)}
        for i in range(want):
            pod_name = f"{name}-{i}"
            if pod_name not in pods:
                pod = {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": pod_name,
                        "namespace": ns,
                        "labels": (template.get("metadata") or {}).get("labels") or {},
                        "annotations": (template.get("metadata") or {}).get("annotations") or {},
                        "ownerReferences": [_owner_ref(rs)],
                    },
                    "spec": template.get("spec") or {},
                }
                pods[pod_name] = await kube.apply(pod, field_manager=CONTROLLER_MANAGER, force=True)
        for pod_name in sorted(pods):
            index = pod_name.rpartition("-")[2]
            if not index.isdigit() or int(index) >= want:
                await kube.delete("v1", "Pod", pod_name, ns, propagation="Background")
                del pods[pod_name]
        ready = sum(1 for p in pods.values() if pod_ready(p))
        status = {
            "observedGeneration": rs["metadata"].get("generation"),
            "replicas": len(pods),
            "fullyLabeledReplicas": len(pods),
            "readyReplicas": ready,
            "availableReplicas": ready,
        }
        if _status_differs(rs.get("status") or {}, status):
            await kube.patch_status(
                "apps/v1", "ReplicaSet", name, ns, status, field_manager=CONTROLLER_MANAGER
            )


def _status_differs(live: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    """Whether writing ``want`` would change anything but the conditions' times."""

    def strip(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                k: strip(v)
                for k, v in value.items()
                if k not in ("lastUpdateTime", "lastTransitionTime")
            }
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    for key, value in want.items():
        if strip(live.get(key)) != strip(value) and not (value == 0 and key not in live):
            return True
    return False


# --- namespaces and files ---------------------------------------------------------------------


def new_namespace(cluster: Cluster, purpose: str) -> str:
    name = f"tuskops-it-{purpose}-{secrets.token_hex(4)}"
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": {NAMESPACE_LABEL: "true"}},
        }
    )
    return name


#: Kinds the tests create, in the order they are deleted when no controllers clean up
#: (pods first: nothing may name a deleted owner).
_CLEANUP_KINDS = (
    ("v1", "Pod"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "Deployment"),
    ("batch/v1", "Job"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("v1", "ServiceAccount"),
)


def delete_namespace(cluster: Cluster, name: str, *, controllers: bool) -> list[str]:
    """Delete a test namespace; the problems met (reported, never hidden)."""
    problems: list[str] = []
    if not controllers:  # no garbage collector, no namespace controller: empty it first
        for api_version, kind in _CLEANUP_KINDS:
            try:
                for obj in cluster.list(api_version, kind, name):
                    cluster.delete(api_version, kind, obj["metadata"]["name"], name)
            except ClusterError as err:
                if err.status != 404 and getattr(err, "reason", None) != "UnknownKind":
                    problems.append(f"deleting {kind}s in {name}: {err}")
    try:
        cluster.delete("v1", "Namespace", name)
    except ClusterError as err:
        problems.append(f"deleting namespace {name}: {err}")
    return problems


@dataclass
class Workspace:
    """One test's namespace, its simulator, and the .tsk files it wrote."""

    name: str
    cluster: Cluster
    simulator: Simulator
    directory: Path
    stems: list[str] = field(default_factory=list)

    def write_tsk(self, label: str, text: str) -> Path:
        """Write ``<namespace>-<label>.tsk``: the stem carries the namespace, so the ApplySet
        parent ``tuskops-<stem>`` (in ``default``) is this test's alone."""
        stem = f"{self.name}-{label}"
        path = self.directory / f"{stem}.tsk"
        path.write_text(text)
        if stem not in self.stems:
            self.stems.append(stem)
        return path

    def write(self, relative: str, text: str) -> Path:
        path = self.directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def parent_name(self, tsk: Path) -> str:
        return f"tuskops-{tsk.stem}"


def app_file(
    ns: Workspace,
    label: str,
    *,
    name: str = "web",
    image: str = IMAGE_GOOD,
    replicas: int = 1,
    config: Mapping[str, str] | None = None,
    extra_keys: str = "",
    extra_apps: str = "",
) -> Path:
    """A .tsk file with one ``@kubernetes.app`` (Deployment, Service, optionally a ConfigMap)
    in the test's namespace, its pods bound for :data:`NO_SCHEDULER`."""
    overlay = ns.write(
        f"k8s/{name}-unscheduled.yaml",
        f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: {ns.name}
spec:
  template:
    spec:
      schedulerName: {NO_SCHEDULER}
""",
    )
    config_line = ""
    if config:
        pairs = ", ".join(f"{k}: {json.dumps(v)}" for k, v in config.items())
        config_line = f"    config: {{ {pairs} }}\n"
    text = f"""\
{name}_spec {{
    name: "{name}"
    namespace: "{ns.name}"
    image: "{image}"
    replicas: {replicas}
    port: 8080
{config_line}{extra_keys}}}

{name}: @kubernetes.app(${name}_spec, ["{overlay.relative_to(ns.directory)}"])
{extra_apps}"""
    return ns.write_tsk(label, text)


def owners(obj: Mapping[str, Any]) -> dict[str, str]:
    """Field manager -> operation, from ``metadata.managedFields``."""
    return {
        str(entry.get("manager")): str(entry.get("operation"))
        for entry in (obj.get("metadata") or {}).get("managedFields") or []
        if not entry.get("subresource")
    }


def rollout_state(cluster: Cluster, namespace: str, name: str) -> Any:
    """The :func:`~tuskops.kubernetes.rollout.rollout_status` of a Deployment, from the
    objects as they are now."""
    from tuskops.kubernetes.rollout import rollout_status

    deployment = cluster.must_get("apps/v1", "Deployment", name, namespace)
    replica_sets = cluster.list("apps/v1", "ReplicaSet", namespace)
    pods = cluster.list("v1", "Pod", namespace)
    return rollout_status(deployment, replica_sets, pods)


def probe_controllers(cluster: Cluster) -> bool:
    """Whether a controller manager runs: ``TUSKOPS_TEST_CONTROLLERS=yes|no``, else probed with
    a throw-away Deployment of zero replicas (does it get a ``status.observedGeneration``
    within :data:`PROBE_SECONDS`?)."""
    setting = os.environ.get(ENV_CONTROLLERS, "").strip().lower()
    if setting in ("yes", "no"):
        return setting == "yes"
    if setting:
        raise pytest.UsageError(f"{ENV_CONTROLLERS} must be 'yes' or 'no', not {setting!r}")
    ns = new_namespace(cluster, "probe")
    try:
        cluster.apply(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "probe", "namespace": ns},
                "spec": {
                    "replicas": 0,
                    "selector": {"matchLabels": {"app": "probe"}},
                    "template": {
                        "metadata": {"labels": {"app": "probe"}},
                        "spec": {
                            "schedulerName": NO_SCHEDULER,
                            "containers": [{"name": "probe", "image": IMAGE_GOOD}],
                        },
                    },
                },
            }
        )
        deadline = time.monotonic() + PROBE_SECONDS
        while time.monotonic() < deadline:
            live = cluster.must_get("apps/v1", "Deployment", "probe", ns)
            if (live.get("status") or {}).get("observedGeneration"):
                return True
            time.sleep(0.5)
        return False
    finally:
        delete_namespace(cluster, ns, controllers=False)
