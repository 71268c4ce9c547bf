"""The metadata benchmark script, run against a local registry (no network, no timing checks).

The benchmark is a script, not a package, so it is loaded from its path. The local server
answers any name: a PEP 691 JSON project page whose wheel offers a PEP 658 metadata file, and
an abbreviated npm packument, all with ``Cache-Control: max-age``, so the warm run must send
no request at all.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from _support.bench import load_benchmark

bench = load_benchmark("metadata")


def _metadata(name: str, version: str) -> bytes:
    return (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        "Requires-Dist: dep-one>=1.0\nRequires-Dist: dep-two; extra == 'x'\n"
    ).encode()


def _wheel(name: str, version: str) -> str:
    return f"{name.replace('-', '_')}-{version}-py3-none-any.whl"


class _Registry(BaseHTTPRequestHandler):
    """``/simple/NAME/``, ``/files/WHEEL[.metadata]`` and ``/npm/NAME``."""

    requests: list[str]  # set on the subclass per server
    max_age = 600

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 200:
            self.send_header("Cache-Control", f"max-age={self.max_age}, public")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.requests.append(self.path)
        parts = self.path.strip("/").split("/")
        if len(parts) == 2 and parts[1].startswith("missing"):
            self._send(404, b"not found", "text/plain")
        elif parts[0] == "simple" and len(parts) == 2:
            self._send(200, self._project_page(parts[1]), "application/vnd.pypi.simple.v1+json")
        elif parts[0] == "files" and len(parts) == 2 and parts[1].endswith(".metadata"):
            name, version = parts[1].split("-")[:2]
            self._send(200, _metadata(name, version), "application/octet-stream")
        elif parts[0] == "npm" and len(parts) == 2:
            self._send(200, self._packument(parts[1]), "application/vnd.npm.install-v1+json")
        else:
            self._send(404, b"not found", "text/plain")

    @staticmethod
    def _project_page(name: str) -> bytes:
        files = []
        for version in ("1.0", "1.1", "2.0rc1"):
            wheel = _wheel(name, version)
            meta = _metadata(name.replace("-", "_"), version)
            files.append(
                {
                    "filename": wheel,
                    "url": f"/files/{wheel}",
                    "hashes": {"sha256": "0" * 64},
                    "core-metadata": {"sha256": hashlib.sha256(meta).hexdigest()},
                    "yanked": version == "1.1",
                }
            )
        page = {"meta": {"api-version": "1.1"}, "name": name, "files": files}
        return json.dumps(page).encode()

    @staticmethod
    def _packument(escaped: str) -> bytes:
        name = escaped.replace("%2f", "/").replace("%2F", "/").replace("%40", "@")
        versions = {
            v: {
                "name": name,
                "version": v,
                "dependencies": {"dep-one": "^1.0.0", "dep-two": "~2.1.0"} if v == "1.0.0" else {},
                "dist": {"tarball": f"http://example.invalid/{v}.tgz", "shasum": "0" * 40},
            }
            for v in ("0.9.0", "1.0.0", "2.0.0-beta.1")
        }
        doc = {
            "name": name,
            "modified": "2024-01-01T00:00:00.000Z",
            "dist-tags": {"latest": "1.0.0", "next": "2.0.0-beta.1"},
            "versions": versions,
        }
        return json.dumps(doc).encode()


@pytest.fixture
def registry() -> Iterator[tuple[str, list[str]]]:
    requests: list[str] = []
    handler = type("Handler", (_Registry,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_lists_have_100_unique_names() -> None:
    for names in (bench.PYPI_PACKAGES, bench.NPM_PACKAGES):
        assert len(names) == 100
        assert len(set(names)) == 100
        assert all(n == n.strip() and n for n in names)
    assert set(bench.PACKAGES) == {"pypi", "npm"}


def test_pypi_names_are_normalized() -> None:
    import re

    for name in bench.PYPI_PACKAGES:
        assert name == re.sub(r"[-_.]+", "-", name).lower()


def test_warm_run_sends_no_request(
    registry: tuple[str, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, requests = registry
    argv = [
        "--count",
        "3",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--pypi-index",
        f"{base}/simple/",
        "--npm-registry",
        f"{base}/npm/",
        "--json",
    ]
    assert bench.main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    runs = {(r["ecosystem"], r["run"]): r for r in report["runs"]}
    assert set(runs) == {(e, r) for e in ("pypi", "npm") for r in ("cold", "warm", "offline")}
    # Cold: a project page and a metadata file per PyPI package, a packument per npm package;
    # fetch_metadata reuses the listing it is given.
    assert runs["pypi", "cold"]["requests"] == 6
    assert runs["npm", "cold"]["requests"] == 3
    assert runs["pypi", "cold"]["cache_hits"] == 0
    assert runs["npm", "cold"]["cache_hits"] == 0
    assert len(requests) == 9  # the server saw exactly what the client counted
    for eco in ("pypi", "npm"):
        offline = runs[eco, "offline"]
        assert (offline["requests"], offline["failed"]) == (0, 0)
        warm = runs[eco, "warm"]
        assert warm["requests"] == 0
        assert warm["bytes"] == 0
        assert warm["failed"] == 0
        assert warm["cache_hits"] == runs[eco, "cold"]["requests"] + runs[eco, "cold"]["cache_hits"]
        assert report["warm_checks"][eco]["ok"] is True
        assert report["warm_checks"][eco]["stale_entries"] == 0
    assert runs["pypi", "cold"]["bytes"] > 0
    # Newest stable: 1.0 (1.1 is yanked, 2.0rc1 a pre-release), and npm's latest tag, 1.0.0:
    # both list two dependencies.
    assert runs["pypi", "cold"]["dependencies"] == 6
    assert runs["npm", "cold"]["dependencies"] == 6
    assert runs["pypi", "cold"]["versions"] == 9
    assert report["ok"] is True


def test_stale_entries_are_revalidated_but_not_a_failure(
    registry: tuple[str, list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, _ = registry
    monkeypatch.setattr(_Registry, "max_age", 0)
    argv = ["--ecosystem", "npm", "--count", "2", "--npm-registry", f"{base}/npm/"]
    assert bench.main([*argv, "--cache-dir", str(tmp_path / "a")]) == 0
    out = capsys.readouterr().out
    assert "npm warm: OK" in out
    assert "without a freshness lifetime" in out
    assert bench.main([*argv, "--cache-dir", str(tmp_path / "b"), "--strict"]) == 1
    assert "npm warm: FAILED" in capsys.readouterr().out


def test_text_output_has_the_table(
    registry: tuple[str, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, _ = registry
    argv = ["--ecosystem", "pypi", "--count", "1", "--pypi-index", f"{base}/simple/"]
    assert bench.main([*argv, "--cache-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "ecosystem",
        "run",
        "packages",
        "requests",
        "cache",
        "hits",
        "bytes",
        "seconds",
    ]
    assert lines[2].split()[:4] == ["pypi", "cold", "1", "2"]
    assert lines[3].split()[:4] == ["pypi", "warm", "1", "0"]


def test_a_missing_package_is_reported(
    registry: tuple[str, list[str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, _ = registry
    monkeypatch.setitem(bench.PACKAGES, "npm", ("left-pad", "missing-package"))
    argv = ["--ecosystem", "npm", "--npm-registry", f"{base}/npm/", "--cache-dir", str(tmp_path)]
    assert bench.main(argv) == 2
    assert "missing-package: PackageNotFound" in capsys.readouterr().out


def test_newest_stable_version() -> None:
    from tuskops.packages.registry import PackageInfo, Release

    pypi = PackageInfo(
        "pypi",
        "p",
        (
            *(Release(v) for v in ("1.0", "1.10", "1.9", "2.0b1", "not a version")),
            Release("1.11", yanked=""),
        ),
    )
    assert bench.newest_stable("pypi", pypi) == "1.10"
    npm = PackageInfo("npm", "n", (Release("1.0.0"), Release("3.0.0")), {"latest": "1.0.0"})
    assert bench.newest_stable("npm", npm) == "1.0.0"
    untagged = PackageInfo("npm", "n", (Release("1.2.0"), Release("1.10.0"), Release("2.0.0-rc")))
    assert bench.newest_stable("npm", untagged) == "1.10.0"
    only_pre = PackageInfo("pypi", "p", (Release("1.0a1"), Release("1.0a2")))
    assert bench.newest_stable("pypi", only_pre) == "1.0a2"
    assert bench.newest_stable("pypi", PackageInfo("pypi", "p", ())) is None
