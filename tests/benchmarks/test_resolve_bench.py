"""The resolution benchmark script, run in a tiny offline mode: a local PEP 691 index and a
local npm registry, the script's input sets replaced by small ones. No timing checks: what is
checked is that every tool ran, resolved the same versions, and the report has its parts."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _support.bench import load_benchmark
from _support.pypi_graph import Graph, Rel
from _support.pypi_lock_index import serve_lock_graph
from _support.registry import LocalRegistry

bench = load_benchmark("resolve")

GRAPH: Graph = {
    "app": {"1.0": Rel(["lib>=1.0,<2", "helper-tool"])},
    "lib": {"1.0": Rel(["base"]), "1.5": Rel(["base>=1"]), "2.0": Rel()},
    "helper-tool": {"0.9": Rel(["base"])},
    "base": {"1.0": Rel(), "1.2": Rel()},
}

NPM_GRAPH: dict[str, dict[str, dict[str, str]]] = {
    "web": {"1.0.0": {"util": "^1.0.0"}},
    "util": {"1.0.0": {}, "1.1.0": {}, "2.0.0": {}},
}


def _tarball(name: str, version: str) -> bytes:
    body = json.dumps({"name": name, "version": version}).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("package/package.json")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    return gzip.compress(buf.getvalue(), mtime=0)


@pytest.fixture
def indexes() -> Iterator[tuple[str, str]]:
    pypi = serve_lock_graph(GRAPH)
    npm = LocalRegistry()
    for name, versions in NPM_GRAPH.items():
        listed: dict[str, Any] = {}
        for version, deps in versions.items():
            data = _tarball(name, version)
            npm.add(f"/t/{name}-{version}.tgz", data, "application/octet-stream")
            digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
            listed[version] = {
                "name": name,
                "version": version,
                "dependencies": deps,
                "dist": {
                    "tarball": f"{npm.base}/t/{name}-{version}.tgz",
                    "integrity": f"sha512-{digest}",
                },
            }
        latest = sorted(versions)[-1]
        doc = {"name": name, "dist-tags": {"latest": latest}, "versions": listed}
        npm.add(f"/npm/{name}", doc, "application/vnd.npm.install-v1+json")
    try:
        yield f"{pypi.base}/simple/", f"{npm.base}/npm/"
    finally:
        for registry in (pypi, npm):
            registry.httpd.shutdown()
            registry.httpd.server_close()


@pytest.fixture
def tiny_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "PYPI_SETS", {"tiny": ["app"]})
    monkeypatch.setattr(bench, "NPM_SETS", {"tiny-npm": {"web": "^1.0.0", "util": "^1.0.0"}})


def test_sets_are_well_formed() -> None:
    assert len(bench.PYPI_SETS) >= 5
    assert len(bench.NPM_SETS) >= 3
    for requirements in bench.PYPI_SETS.values():
        assert requirements
        assert not any("torch" in r for r in requirements)


def test_every_tool_runs_cold_and_warm_and_agrees(
    indexes: tuple[str, str],
    tiny_sets: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tools = ["tuskops", "pip"]
    if bench._uv() is not None:
        tools.append("uv")
    if shutil.which("npm") is not None:
        tools.append("npm")
    pypi, npm = indexes
    argv = ["--pypi-index", pypi, "--npm-registry", npm, "--json"]
    argv += ["--tools", ",".join(tools), "--work-dir", str(tmp_path / "work")]
    assert bench.main(argv) == 0, capsys.readouterr().out
    report = json.loads(capsys.readouterr().out)
    runs = {(r["ecosystem"], r["tool"], r["run"]): r for r in report["runs"]}
    expected = {
        (eco, tool, run)
        for eco, eco_tools in bench.TOOLS.items()
        for tool in eco_tools
        if tool in tools
        for run in ("cold", "warm")
    }
    assert set(runs) == expected
    for run in runs.values():
        assert run["ok"] is True, run["error"]
    pins = {"app": "1.0", "lib": "1.5", "helper-tool": "0.9", "base": "1.2"}
    for tool in ("tuskops", "pip", "uv"):
        for run in ("cold", "warm"):
            if ("pypi", tool, run) in runs:
                assert runs["pypi", tool, run]["resolved"] == pins
    npm_pins = {"node_modules/web": "1.0.0", "node_modules/util": "1.1.0"}
    assert runs["npm", "tuskops", "cold"]["resolved"] == npm_pins
    if "npm" in tools:
        assert runs["npm", "npm", "cold"]["resolved"] == npm_pins
    assert all(
        diff == {} for by_tool in report["differences"].values() for diff in by_tool.values()
    )
    targets = {t["target"] for t in report["targets"]}
    assert "PyPI cold: tuskops/pip < 1" in targets
    assert report["ok"] is True


def test_text_output_and_a_failing_tool(
    indexes: tuple[str, str],
    tiny_sets: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pypi, _ = indexes
    monkeypatch.setattr(bench, "PYPI_SETS", {"tiny": ["app"], "broken": ["nosuchpackage"]})
    argv = ["--ecosystem", "pypi", "--tools", "tuskops", "--pypi-index", pypi]
    assert bench.main([*argv, "--work-dir", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["ecosystem", "input", "tool", "run", "seconds", "packages"]
    assert lines[2].split()[:4] == ["pypi", "tiny", "tuskops", "cold"]
    assert lines[2].split()[-1] == "4"
    assert "FAILED" in out
    assert "pypi/broken tuskops cold:" in out
    # Totals only count inputs every tool resolved: here just "tiny".
    assert "total pypi/tuskops: cold" in out
