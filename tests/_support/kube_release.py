"""The emulator, plus what releases need: Jobs and the Deployment ``scale`` subresource.

:class:`ReleaseEmulator` extends tests/_support/kube.py's emulator (nothing there changes):

* ``batch/v1`` Jobs are served (storage, SSA, status subresource) like every other kind;
* ``GET`` and merge-``PATCH`` of ``deployments/<name>/scale`` (the ``autoscaling/v1`` Scale
  object: ``spec.replicas``, ``status.replicas``, ``status.selector``). A patch changes the
  Deployment's ``spec.replicas`` only and is recorded as an ``Update`` of its field manager
  with ``subresource: scale``, as the API server records it.

There are still no controllers: :class:`Controllers` plays them between polls, on the
emulator's store (as the controllers would write status): it marks Deployments rolled out and
finishes verification Jobs as a test says.
"""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs

from _support.kube import (
    EmulatedCluster,
    EmulatorThread,
    Failure,
    KubeEmulator,
    Res,
    write_kubeconfig,
)

JOBS = Res("batch/v1", "jobs", "Job", True, True)


@attrs.define(kw_only=True)
class ReleaseEmulator(KubeEmulator):
    """:class:`KubeEmulator` with Jobs and ``deployments/scale`` (see the module)."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.register(JOBS)

    def _serve(
        self,
        request: aiohttp.web.BaseRequest,
        body: bytes,
        res: Res,
        namespace: str | None,
        name: str | None,
        sub: str | None,
    ) -> tuple[int, dict[str, Any]]:
        if sub != "scale" or res.plural != "deployments" or name is None:
            return super()._serve(request, body, res, namespace, name, sub)
        dry_run = request.query.get("dryRun") == "All"
        if request.method == "GET":
            return 200, self._scale(self._get(res, namespace, name))
        ctype = request.headers.get("Content-Type", "").split(";")[0].strip()
        if request.method == "PATCH" and ctype == "application/merge-patch+json":
            replicas = (self._json(body).get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise Failure(422, "Invalid", f"Scale.spec.replicas: invalid value {replicas!r}")
            patch = json.dumps({"spec": {"replicas": replicas}}).encode()
            saved = self._merge_patch(res, namespace, name, "scale", patch, request.query, dry_run)
            return 200, self._scale(saved)
        raise self._unsupported(request, f"{request.method} {ctype} on deployments/scale")

    @staticmethod
    def _scale(deployment: dict[str, Any]) -> dict[str, Any]:
        meta = deployment["metadata"]
        match = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        return {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {
                k: meta[k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if k in meta
            },
            "spec": {"replicas": (deployment.get("spec") or {}).get("replicas", 1)},
            "status": {
                "replicas": (deployment.get("status") or {}).get("replicas", 0),
                "selector": ",".join(f"{k}={v}" for k, v in sorted(match.items())),
            },
        }


class ReleaseEmulatorThread(EmulatorThread):
    async def _start(self) -> None:
        from kmock import Server

        self.emulator = ReleaseEmulator()
        await self.emulator.__aenter__()
        self._server = Server(self.emulator)
        await self._server.__aenter__()


@contextmanager
def release_cluster(tmp_path: Path) -> Iterator[EmulatedCluster]:
    """A running :class:`ReleaseEmulator` and its kubeconfig; fails if a request hit
    something not emulated."""
    runner = ReleaseEmulatorThread()
    emulator = runner.start()
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", runner.url)
        yield EmulatedCluster(emulator=emulator, url=runner.url, kubeconfig=kubeconfig)
    finally:
        runner.stop()
    assert not emulator.unsupported, f"requests not emulated: {emulator.unsupported}"


# --- playing the controllers --------------------------------------------------------------------


def rolled_out_status(deployment: dict[str, Any]) -> dict[str, Any]:
    """The status the Deployment controller reports once every replica is available."""
    replicas = (deployment.get("spec") or {}).get("replicas", 1)
    return {
        "observedGeneration": deployment["metadata"].get("generation", 1),
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
        ],
    }


def job_status(succeeded: bool, reason: str = "", message: str = "") -> dict[str, Any]:
    """A finished Job's status: ``Complete``, or ``Failed`` with ``reason``/``message``."""
    if succeeded:
        return {
            "succeeded": 1,
            "conditions": [{"type": "Complete", "status": "True"}],
        }
    return {
        "failed": 1,
        "conditions": [{"type": "Failed", "status": "True", "reason": reason, "message": message}],
    }


@dataclass
class Controllers:
    """Plays the Deployment and Job controllers on the emulator's store, at every :meth:`sleep`.

    Deployments whose name is in ``stuck`` are left progressing; the others are marked rolled
    out at their current replicas. Unfinished Jobs finish with ``job_result`` (None: they keep
    running). ``now`` is a fake clock (timezone-aware) that :meth:`sleep` advances; it is not
    used by :meth:`play`, so CLI tests can call that from a patched sleep on the real clock.
    """

    emulator: KubeEmulator
    namespace: str
    now: datetime.datetime = field(
        default_factory=lambda: datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
    )
    job_result: dict[str, Any] | None = field(default_factory=lambda: job_status(True))
    stuck: set[str] = field(default_factory=set)
    slept: list[float] = field(default_factory=list)

    def clock(self) -> datetime.datetime:
        return self.now

    def play(self) -> None:
        emulator = self.emulator
        with emulator._mutex:
            for (api_version, plural, ns, name), obj in emulator.store.items():
                if ns != self.namespace:
                    continue
                status: dict[str, Any] | None = None
                if (api_version, plural) == ("apps/v1", "deployments") and name not in self.stuck:
                    status = rolled_out_status(obj)
                elif (api_version, plural) == ("batch/v1", "jobs") and not obj.get("status"):
                    status = copy.deepcopy(self.job_result)
                if status is not None and obj.get("status") != status:
                    obj["status"] = status
                    obj["metadata"]["resourceVersion"] = str(next(emulator._rv))

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now = self.now + datetime.timedelta(seconds=seconds)
        self.play()
