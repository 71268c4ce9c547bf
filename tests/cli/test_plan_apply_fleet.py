"""One file, two clusters: resources with a context go to that context's cluster, each part
with its own ApplySet, planned, applied and pruned as one (two in-process API emulators)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import Result

from _support.kube import EmulatedCluster, EmulatorThread, KubeEmulator
from tuskops.core.resource import Resource

Run = Callable[..., Result]

FILE = """\
#!target kubernetes namespace=default
home: @kubernetes.manifest("home.yaml")
{eu}
"""
EU = 'eu: @kubernetes.manifest("eu.yaml", "default", "1.33", "eu")'
CONFIG_MAP = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{where: {where}}}\n"
)


@pytest.fixture
def second() -> Iterator[tuple[KubeEmulator, str]]:
    runner = EmulatorThread()
    emulator = runner.start()
    yield emulator, runner.url
    runner.stop()


@pytest.fixture
def kubeconfig(
    kube_emulator: EmulatedCluster, second: tuple[KubeEmulator, str], tmp_path: Path
) -> Path:
    """Contexts ``home`` (current) and ``eu``, each its own emulator."""
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "home",
        "clusters": [
            {"name": "home", "cluster": {"server": kube_emulator.url}},
            {"name": "eu", "cluster": {"server": second[1]}},
        ],
        "users": [{"name": "u", "user": {}}],
        "contexts": [
            {"name": "home", "context": {"cluster": "home", "user": "u", "namespace": "default"}},
            {"name": "eu", "context": {"cluster": "eu", "user": "u", "namespace": "default"}},
        ],
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return path


def write(tmp_path: Path, *, with_eu: bool) -> Path:
    (tmp_path / "home.yaml").write_text(CONFIG_MAP.format(name="home-config", where="home"))
    (tmp_path / "eu.yaml").write_text(CONFIG_MAP.format(name="eu-config", where="eu"))
    path = tmp_path / "app.tsk"
    path.write_text(FILE.format(eu=EU if with_eu else ""))
    return path


def test_scoped_resources_have_their_context_in_the_id() -> None:
    assert Resource("kubernetes", "ConfigMap", "c", {}, namespace="d", scope="eu").id == (
        "kubernetes/ConfigMap/@eu/d/c"
    )


def test_one_file_applies_to_two_clusters_and_prunes_there(
    run: Run,
    kube_emulator: EmulatedCluster,
    second: tuple[KubeEmulator, str],
    kubeconfig: Path,
    tmp_path: Path,
) -> None:
    eu = second[0]
    config = write(tmp_path, with_eu=True)
    args = ["--kubeconfig", str(kubeconfig)]
    planned = run("plan", config, *args)
    assert planned.exit_code == 0, planned.stderr
    assert "+ create kubernetes/ConfigMap/default/home-config" in planned.stdout
    assert "+ create kubernetes/ConfigMap/@eu/default/eu-config" in planned.stdout

    applied = run("apply", config, *args, "--yes")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert kube_emulator.emulator.find("ConfigMap", "home-config", "default") is not None
    assert kube_emulator.emulator.find("ConfigMap", "eu-config", "default") is None
    assert eu.find("ConfigMap", "eu-config", "default") is not None
    assert eu.find("Secret", "tuskops-app-eu", "default") is not None  # its own ApplySet

    assert run("plan", config, *args, "--detailed-exitcode").exit_code == 0

    # The eu part leaves the file; `contexts=eu` keeps that cluster visited, so it is pruned.
    write(tmp_path, with_eu=False)
    config.write_text(
        config.read_text().replace("namespace=default", "namespace=default contexts=eu")
    )
    pruned = run("apply", config, *args, "--yes")
    assert pruned.exit_code == 0, pruned.stdout + pruned.stderr
    assert "- kubernetes/ConfigMap/@eu/default/eu-config: deleted" in pruned.stdout
    assert eu.find("ConfigMap", "eu-config", "default") is None
    assert kube_emulator.emulator.find("ConfigMap", "home-config", "default") is not None
