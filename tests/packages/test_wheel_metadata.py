"""Reading a wheel's METADATA with range requests, against a local server that honours Range
(or, in one test, ignores it like a server without range support)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
import re
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tuskops.errors import PackageError
from tuskops.packages.http import ChecksumMismatch, RegistryClient
from tuskops.packages.registry import Artifact
from tuskops.packages.wheel_metadata import TAIL_BYTES, WheelMetadata, read_metadata

METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: idna>=2\n"


def make_wheel(padding_files: int = 0) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        # Incompressible, so the wheel is larger than the first read.
        zf.writestr("demo/blob.bin", random.Random(0).randbytes(200_000))
        for i in range(padding_files):
            zf.writestr(f"demo/data/file_with_a_rather_long_name_{i:05d}.txt", b"")
        zf.writestr("demo-1.0.dist-info/METADATA", METADATA)
        zf.writestr("demo-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n")
        zf.writestr("demo-1.0.dist-info/RECORD", b"")
    return buf.getvalue()


class Server:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.honour_range = True
        self.ranges: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = server.files.get(self.path)
                wanted = self.headers.get("Range")
                server.ranges.append(wanted)
                if body is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                match = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted or "")
                if not server.honour_range or match is None:
                    self._send(200, body, {})
                    return
                first, last = match.groups()
                if first == "":
                    start, end = max(0, len(body) - int(last)), len(body) - 1
                else:
                    start = int(first)
                    end = min(int(last), len(body) - 1) if last else len(body) - 1
                part = body[start : end + 1]
                self._send(206, part, {"Content-Range": f"bytes {start}-{end}/{len(body)}"})

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def artifact(server: Server, body: bytes, sha256: str | None = None) -> Artifact:
    server.files["/demo-1.0-py3-none-any.whl"] = body
    digest = sha256 or hashlib.sha256(body).hexdigest()
    return Artifact(url=f"{server.base}/demo-1.0-py3-none-any.whl", hashes={"sha256": digest})


def read(tmp_path: Path, art: Artifact) -> tuple[WheelMetadata, int]:
    async def go() -> tuple[WheelMetadata, int]:
        async with RegistryClient(cache_dir=tmp_path / "cache") as client:
            result = await read_metadata(client, art)
            return result, client.stats.requests

    return asyncio.run(go())


def test_metadata_by_range_requests(server: Server, tmp_path: Path) -> None:
    body = make_wheel()
    assert len(body) > TAIL_BYTES  # the wheel is not fetched whole
    result, requests = read(tmp_path, artifact(server, body))
    assert result.content == METADATA
    assert (result.how, result.verified) == ("range requests", False)
    assert requests == len(server.ranges) <= 3
    assert all(r is not None for r in server.ranges)


def test_central_directory_larger_than_the_first_read(server: Server, tmp_path: Path) -> None:
    body = make_wheel(padding_files=2_000)  # a central directory of ~200 KB
    result, requests = read(tmp_path, artifact(server, body))
    assert result.content == METADATA
    assert requests > 2


def test_remembered_by_hash_so_a_warm_cache_makes_no_request(
    server: Server, tmp_path: Path
) -> None:
    art = artifact(server, make_wheel())
    read(tmp_path, art)
    server.ranges.clear()
    result, requests = read(tmp_path, art)
    assert (result.content, result.how, requests) == (METADATA, "cache", 0)
    assert server.ranges == []


def test_server_without_range_support_gives_the_whole_verified_file(
    server: Server, tmp_path: Path
) -> None:
    server.honour_range = False
    result, _ = read(tmp_path, artifact(server, make_wheel()))
    assert (result.content, result.how, result.verified) == (METADATA, "whole file", True)


def test_whole_file_with_the_wrong_hash_is_refused(server: Server, tmp_path: Path) -> None:
    server.honour_range = False
    with pytest.raises(ChecksumMismatch):
        read(tmp_path, artifact(server, make_wheel(), sha256="0" * 64))


def test_not_a_wheel(server: Server, tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="not a readable wheel"):
        read(tmp_path, artifact(server, b"\0" * 100_000))
