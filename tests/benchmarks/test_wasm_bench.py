"""benchmarks/wasm_vs_native.py on tiny inputs: it builds, runs both sides and compares."""

from __future__ import annotations

import json
import shutil

import pytest

from _support.bench import load_benchmark
from tuskops.wasm.toolchain import MissingToolchain, find_c


def test_quick_run_agrees_on_every_checksum(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        find_c()
    except MissingToolchain as exc:
        pytest.skip(str(exc))
    for tool in ("gcc", "wasm-opt"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    bench = load_benchmark("wasm_vs_native")
    code = bench.main(["--quick", "--no-rust", "--json", "--kernel", "fib", "--kernel", "nbody"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(r["kernel"], r["language"]) for r in data["rows"]] == [("fib", "c"), ("nbody", "c")]
    for row in data["rows"]:
        assert row["agree"]
        assert row["checksum_native"] == row["checksum_wasm"]
        assert row["native_seconds"] > 0
        assert row["wasm_seconds"] > 0
        assert [name for name, _ in row["build_steps"]] == ["compile", "strip", "wasm-opt -O3"]
    assert data["runtime"]["bytes"] > 0


def test_the_text_report_states_whether_the_claims_hold() -> None:
    bench = load_benchmark("wasm_vs_native")
    row = bench.Row("fib", "c", 30, 1, 1, 0.1, 0.2, 0.01, 0.001, 100, [("compile", 200)])
    text = bench.report([row], ("/lib/libwasmtime.so", 30_000_000))
    assert "2.00x = 50% of native speed (claim: 90%; does not hold here)" in text
    assert "30.0 MB (claim: under 2 MB; does not hold for this runtime)" in text
    assert "c fib: compile 200" in text
