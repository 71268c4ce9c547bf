"""Fixtures of the Kubernetes tests: ``kube_emulator``, an in-process API *emulator*.

It is not a cluster (see tests/_support/kube.py for exactly what is emulated). Tests that need a
real cluster are marked ``kubernetes`` and use ``TUSKOPS_TEST_KUBECONFIG``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from _support.kube import EmulatedCluster, EmulatorThread, write_kubeconfig


@pytest.fixture
def kube_emulator(tmp_path: Path) -> Iterator[EmulatedCluster]:
    """kmock's Kubernetes emulator on a local port, with a kubeconfig (context ``emulator``).

    Fails the test at teardown if a request hit something the emulator does not emulate.
    """
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
