"""The Kubernetes apply benchmark's generator and argument handling (no cluster needed).

The benchmark is a script, not a package, so it is loaded from its path.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from _support.bench import load_benchmark
from tuskops.lang.api import load

bench = load_benchmark("k8s_apply")


def test_generates_the_count_asked_for_in_the_namespace() -> None:
    manifests = bench.generate(500, "bench-ns")
    assert len(manifests) == 500
    assert bench.counts(manifests) == {"Deployment": 50, "Service": 50, "ConfigMap": 400}
    assert {m["metadata"]["namespace"] for m in manifests} == {"bench-ns"}
    ids = {(m["kind"], m["metadata"]["name"]) for m in manifests}
    assert len(ids) == 500


def test_generation_is_deterministic_and_namespaced() -> None:
    assert bench.generate(40, "a") == bench.generate(40, "a")
    other = bench.generate(40, "b")
    assert [m["metadata"]["name"] for m in other] == [
        m["metadata"]["name"] for m in bench.generate(40, "a")
    ]


@pytest.mark.parametrize(("count", "share"), [(1, 0.2), (3, 1.0), (7, 0.0), (10, 0.5)])
def test_odd_counts_and_shares(count: int, share: float) -> None:
    manifests = bench.generate(count, "ns", deployment_share=share)
    found = bench.counts(manifests)
    assert len(manifests) == count
    assert found.get("Deployment", 0) == found.get("Service", 0)


def test_bad_generator_arguments() -> None:
    with pytest.raises(ValueError, match="negative"):
        bench.generate(-1, "ns")
    with pytest.raises(ValueError, match="between"):
        bench.generate(10, "ns", deployment_share=1.5)


def test_pods_can_never_start() -> None:
    for m in bench.generate(20, "ns", deployment_share=1.0):
        if m["kind"] == "Deployment":
            pod = m["spec"]["template"]["spec"]
            assert pod["schedulerName"] == bench.NO_SCHEDULER
            assert all(c["image"].startswith("registry.invalid/") for c in pod["containers"])


def test_yaml_and_tsk_give_tuskops_the_same_objects(tmp_path: Path) -> None:
    manifests = bench.generate(30, "bench-ns", deployment_share=0.4)
    (tmp_path / "manifests.yaml").write_text(bench.to_yaml(manifests))
    assert list(yaml.safe_load_all((tmp_path / "manifests.yaml").read_text())) == manifests
    tsk = tmp_path / "bench.tsk"
    tsk.write_text(bench.tsk_text("manifests.yaml", "bench-ns"))
    doc = load(tsk, offline=True)
    assert not [d for d in doc.warnings if "error" in str(d).lower()]
    bodies = sorted((r.kind, r.name, r.namespace) for r in doc.resources)
    assert bodies == sorted(
        (m["kind"], m["metadata"]["name"], m["metadata"]["namespace"]) for m in manifests
    )


def test_defaults_and_validation_of_arguments() -> None:
    args = bench.parse_args([])
    assert (args.count, args.deployment_share, args.keep, args.json) == (500, 0.2, False, False)
    assert bench.parse_args(["--count", "10", "--json", "--keep"]).count == 10
    for bad in (["--count", "0"], ["--deployment-share", "2"], ["--count", "x"]):
        with pytest.raises(SystemExit) as exc:
            bench.parse_args(bad)
        assert exc.value.code == 2


def test_without_a_cluster_it_exits_2_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main([], env={"PATH": str(tmp_path)}) == bench.EXIT_CANNOT_RUN
    assert "TUSKOPS_TEST_KUBECONFIG is not set" in capsys.readouterr().err
    env = {"PATH": str(tmp_path), bench.ENV_KUBECONFIG: str(tmp_path / "missing")}
    assert bench.main([], env=env) == bench.EXIT_CANNOT_RUN
    assert "is not a file" in capsys.readouterr().err


def test_without_kubectl_it_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    env = {"PATH": str(tmp_path / "empty"), bench.ENV_KUBECONFIG: str(kubeconfig)}
    assert bench.main([], env=env) == bench.EXIT_CANNOT_RUN
    assert "kubectl not found" in capsys.readouterr().err
    missing = ["--kubectl", str(tmp_path / "no-kubectl")]
    assert bench.main(missing, env=env) == bench.EXIT_CANNOT_RUN


def test_report_has_four_times_and_two_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    timings = [
        bench.Timing("tuskops", "cold", 4.0, True),
        bench.Timing("kubectl", "cold", 6.0, True),
        bench.Timing("tuskops", "unchanged", 2.0, True),
        bench.Timing("kubectl", "unchanged", 1.0, True),
    ]
    args = argparse.Namespace(count=4)
    report = bench.build_report(timings, args, "ctx", True, bench.generate(4, "ns"))
    assert report["ratios_kubectl_over_tuskops"] == {"cold": 1.5, "unchanged": 0.5}
    bench.print_report(report, False)
    out = capsys.readouterr().out
    assert out.count(" s") >= 4
    assert "1.50x" in out
    assert "0.50x" in out
    assert bench.ratio(1.0, 0.0) is None
