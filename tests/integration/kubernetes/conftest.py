"""Fixtures of the real-cluster suite (the approach is described in ``k8s_harness.py``).

Every test here must be marked ``kubernetes``: tests/conftest.py skips those unless
``TUSKOPS_TEST_KUBECONFIG`` names a kubeconfig, also under ``CI=true`` (no cluster can run on
these machines). ``TUSKOPS_TEST_CONTEXT`` picks a context (default: the file's current one);
``TUSKOPS_TEST_CONTROLLERS=yes|no`` says whether a controller manager runs (default: probed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from k8s_harness import (
    ENV_CONTEXT,
    ENV_KUBECONFIG,
    PARENT_NAMESPACE,
    Cluster,
    Simulator,
    Workspace,
    delete_namespace,
    new_namespace,
    probe_controllers,
)

from tuskops.errors import ClusterError

Run = Callable[..., Result]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test of this directory must carry the ``kubernetes`` marker (the skip hangs on
    it); an unmarked one would run, and fail, on every machine without a cluster."""
    here = Path(__file__).parent
    unmarked = [
        item.nodeid
        for item in items
        if here in Path(str(item.path)).parents and item.get_closest_marker("kubernetes") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            f"tests in {here} must be marked @pytest.mark.kubernetes: {', '.join(unmarked)}"
        )


@pytest.fixture(scope="session")
def cluster() -> Generator[Cluster, None, None]:
    """The cluster in TUSKOPS_TEST_KUBECONFIG (the ``kubernetes`` marker skips without it)."""
    path = Path(os.environ[ENV_KUBECONFIG]).expanduser()
    harness = Cluster(path, os.environ.get(ENV_CONTEXT) or None)
    yield harness
    harness.close()


@pytest.fixture(scope="session")
def controllers_present(cluster: Cluster) -> bool:
    """Whether a controller manager runs (see :func:`k8s_harness.probe_controllers`)."""
    return probe_controllers(cluster)


@pytest.fixture
def namespace(
    cluster: Cluster, controllers_present: bool, tmp_path: Path
) -> Generator[Workspace, None, None]:
    """A fresh namespace with a running :class:`Simulator`. Afterwards the namespace and the
    ApplySet parents of the test's files are deleted, and the test fails if the simulator or
    the cleanup did."""
    name = new_namespace(cluster, "t")
    simulator = Simulator(cluster, name, controllers=controllers_present)
    simulator.start()
    ns = Workspace(name, cluster, simulator, tmp_path)
    try:
        yield ns
    finally:
        simulator.stop()
        problems = delete_namespace(cluster, name, controllers=controllers_present)
        for stem in ns.stems:
            try:
                cluster.delete("v1", "Secret", f"tuskops-{stem}", PARENT_NAMESPACE)
            except ClusterError as err:
                problems.append(f"deleting the ApplySet parent tuskops-{stem}: {err}")
        problems.extend(simulator.errors)
        if problems:
            pytest.fail("cleanup or simulator problems: " + "; ".join(problems))


@pytest.fixture
def tuskops(monkeypatch: pytest.MonkeyPatch, cluster: Cluster) -> Run:
    """Invoke the CLI in-process (click's CliRunner), stdout and stderr apart."""
    from tuskops.cli.main import cli

    for name in ("TUSKOPS_STATE", "KUBECONFIG", "APP_ENV"):
        monkeypatch.delenv(name, raising=False)

    def invoke(*args: str | Path, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def target(cluster: Cluster) -> list[str]:
    """The options that point ``plan``/``apply`` at the test cluster."""
    return ["--target", f"k8s:{cluster.context}", "--kubeconfig", str(cluster.kubeconfig)]


@pytest.fixture
def cluster_args(cluster: Cluster) -> list[str]:
    """The options that point ``tuskops k8s ...`` at the test cluster."""
    return ["--context", cluster.context, "--kubeconfig", str(cluster.kubeconfig)]
