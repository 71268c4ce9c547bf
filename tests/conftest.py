"""Suite-wide rules.

Under ``CI=true`` a test that skips is a failure: a missing tool must be installed by
``.ci/run``, not silently passed over. The one exception is the real-cluster Kubernetes suite
(marker ``kubernetes``), which skips unless ``TUSKOPS_TEST_KUBECONFIG`` points to a cluster,
because no machine here can run one.
"""

from __future__ import annotations

import os
from collections.abc import Generator

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
