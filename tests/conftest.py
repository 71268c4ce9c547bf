"""Suite-wide rules.

Under ``CI=true`` a test that skips is a failure: a missing tool must be installed by
``.ci/run``, not silently passed over. The one exception is the real-cluster Kubernetes suite
(marker ``kubernetes``), which skips unless ``TUSKOPS_TEST_KUBECONFIG`` points to a cluster,
because no machine here can run one.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not (IN_CI and report.skipped) or item.get_closest_marker("kubernetes") is not None:
        return
    if hasattr(report, "wasxfail"):  # an expected failure is not a missing tool
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"skipped under CI=true, which must not happen: {reason}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("TUSKOPS_TEST_KUBECONFIG"):
        return
    no_cluster = pytest.mark.skip(reason="needs a real cluster: set TUSKOPS_TEST_KUBECONFIG")
    for item in items:
        if item.get_closest_marker("kubernetes") is not None:
            item.add_marker(no_cluster)


@pytest.fixture
def local_registry() -> Generator[Any, None, None]:
    """npm and two PyPI indexes in their real formats (tests/_support/registry.py)."""
    # Imported here: the suite-rule tests copy this file into scratch runs without _support.
    from _support.registry import LocalRegistry, populate

    registry = LocalRegistry()
    populate(registry)
    yield registry
    registry.httpd.shutdown()
    registry.httpd.server_close()


#: Environment variables through which package managers' settings could leak into a test.
_PACKAGE_ENV_PREFIXES = ("PIP_", "NPM_CONFIG_", "CARGO_", "BUNDLE_", "COMPOSER", "NUGET_", "GEM")
_PACKAGE_ENV_NAMES = ("NETRC", "MAVEN_HOME", "M2_HOME", "MAVEN_ARGS", "VIRTUAL_ENV", "GEMRC")


@pytest.fixture
def package_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Isolate registry settings and the HTTP cache from the machine: a fresh HOME, no
    package-manager variables, no pip configuration files. Returns the new HOME."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        upper = name.upper()
        if upper.startswith(_PACKAGE_ENV_PREFIXES) or upper in _PACKAGE_ENV_NAMES:
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(home / "xdg"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("TUSKOPS_CACHE_DIR", str(home / "tuskops-cache"))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    return home


@pytest.fixture
def registry_project(
    local_registry: Any, package_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A project whose .npmrc and pip.conf (through PIP_CONFIG_FILE) point at the local
    registry, the npm token coming from the environment as ``${NPM_TOKEN}``."""
    from _support.registry import REGISTRY_TOKEN

    host = local_registry.base.removeprefix("http://")
    project = tmp_path / "project"
    project.mkdir()
    (project / "package.json").write_text("{}\n")
    (project / ".npmrc").write_text(
        f"registry={local_registry.base}/npm/\n"
        f"@acme:registry={local_registry.base}/private/npm/\n"
        f"//{host}/private/npm/:_authToken=${{NPM_TOKEN}}\n"
    )
    monkeypatch.setenv("NPM_TOKEN", REGISTRY_TOKEN)
    pip_conf = project / "pip.conf"
    pip_conf.write_text(
        f"[global]\nindex-url = {local_registry.base}/a/\n"
        f"extra-index-url = {local_registry.base}/b/\n"
    )
    monkeypatch.setenv("PIP_CONFIG_FILE", str(pip_conf))
    return project


@pytest.fixture
def kube_emulator(tmp_path: Path) -> Generator[Any, None, None]:
    """An in-process Kubernetes API *emulator* (kmock plus tests/_support/kube.py; not a
    cluster) on a local port, with a kubeconfig whose context is ``emulator``.

    Fails the test at teardown if a request hit something the emulator does not emulate.
    Tests that need a real cluster are marked ``kubernetes`` and use TUSKOPS_TEST_KUBECONFIG.
    """
    # Imported here: the suite-rule tests copy this file into scratch runs without _support.
    from _support.kube import EmulatedCluster, EmulatorThread, write_kubeconfig

    runner = EmulatorThread()
    emulator = runner.start()
    try:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", runner.url)
        yield EmulatedCluster(emulator=emulator, url=runner.url, kubeconfig=kubeconfig)
    finally:
        runner.stop()
    assert not emulator.unsupported, (
        f"requests the emulator does not emulate: {emulator.unsupported}"
    )
