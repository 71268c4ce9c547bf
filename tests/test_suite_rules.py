"""The suite's own rules (tests/conftest.py), checked in a scratch pytest run."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()
TESTS = """
import pytest

def test_missing_tool():
    pytest.skip("no foo tool")

@pytest.mark.kubernetes
def test_needs_cluster():
    pass
"""


@pytest.fixture
def scratch(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makeini("[pytest]\nmarkers =\n    kubernetes: real cluster\n")
    pytester.makepyfile(TESTS)
    return pytester


def test_skips_fail_under_ci_except_cluster_tests(
    scratch: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("TUSKOPS_TEST_KUBECONFIG", raising=False)
    result = scratch.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*skipped under CI=true, which must not happen*no foo tool*"])


def test_skips_are_allowed_outside_ci(
    scratch: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("TUSKOPS_TEST_KUBECONFIG", raising=False)
    scratch.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(skipped=2)


def test_cluster_tests_run_with_a_kubeconfig(
    scratch: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("TUSKOPS_TEST_KUBECONFIG", "/dev/null")
    scratch.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1, failed=1)
