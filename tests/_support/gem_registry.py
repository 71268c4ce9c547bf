"""A local RubyGems compact index (https://guides.rubygems.org/rubygems-org-compact-index-api/)
built from a small dict graph, for the RubyGems resolver, locking and Bundler differential tests.

It serves what Bundler 2.3 asks a compact-index source for: ``/versions``, ``/info/NAME`` and
``/names``, each with the strong ``ETag`` Bundler checks after every download (the quoted hex
MD5 of the whole file: Bundler's ``CompactIndexClient::Updater`` compares it with the MD5 of
what it wrote and retries, then fails, on a mismatch), ``Range: bytes=N-`` answered with
``206`` and ``Content-Range`` (Bundler's incremental update of a cached copy), and
``If-None-Match`` answered with ``304``. The ``/versions`` line of each gem carries the MD5 of
its ``/info`` file, as the spec requires; a yanked version is listed, then yanked by a later
``-VERSION`` line (with the info file's new MD5), and is absent from ``/info`` as on
rubygems.org. Every other path is a ``404``; every request is logged with its headers so that
tests can check what a client asked for.

Graph: ``{"rack": {"2.2.8": {"deps": {"base64": ">= 0.1"}, "ruby": ">= 2.4"}, ...}}``. A
version key may carry a platform (``"1.0-java"``); ``deps`` maps a gem to its requirement
(several parts comma-separated, ``">= 1, < 3"``); ``ruby`` and ``rubygems`` are the required
Ruby / RubyGems versions; ``yanked: True`` yanks the version.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Graph = Mapping[str, Mapping[str, Mapping[str, Any]]]

CREATED_AT = "2024-05-01T12:00:00Z"


def gem_checksum(name: str, version: str) -> str:
    """The sha256 the info file gives for ``name-version.gem`` (of stand-in bytes)."""
    return hashlib.sha256(f"{name}-{version}.gem".encode()).hexdigest()


def _requirement(text: str) -> str:
    """Compact-index form of a requirement: parts joined by ``&``."""
    parts = [p.strip() for p in text.split(",") if p.strip()] or [">= 0"]
    return "&".join(parts)


def info_file(name: str, versions: Mapping[str, Mapping[str, Any]]) -> bytes:
    """``/info/NAME`` for the non-yanked versions, in the order given."""
    lines = ["---"]
    for version, spec in versions.items():
        if spec.get("yanked"):
            continue
        deps = ",".join(
            f"{dep}:{_requirement(req)}" for dep, req in sorted(dict(spec.get("deps", {})).items())
        )
        fields = [f"checksum:{gem_checksum(name, version)}"]
        if spec.get("ruby"):
            fields.append(f"ruby:{_requirement(str(spec['ruby']))}")
        if spec.get("rubygems"):
            fields.append(f"rubygems:{_requirement(str(spec['rubygems']))}")
        lines.append(f"{version} {deps}|{','.join(fields)}")
    return ("\n".join(lines) + "\n").encode()


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def versions_file(graph: Graph) -> bytes:
    """``/versions``: one line per gem listing every version ever pushed (with the MD5 of the
    info file as it was then), then, for gems with yanked versions, a later line yanking them
    with the MD5 of the current info file."""
    lines = [f"created_at: {CREATED_AT}", "---"]
    yank_lines = []
    for name, versions in graph.items():
        pushed = {
            v: {k: x for k, x in spec.items() if k != "yanked"} for v, spec in versions.items()
        }
        lines.append(f"{name} {','.join(versions)} {_md5(info_file(name, pushed))}")
        yanked = [v for v, spec in versions.items() if spec.get("yanked")]
        if yanked:
            current = _md5(info_file(name, versions))
            yank_lines.append(f"{name} {','.join('-' + v for v in yanked)} {current}")
    return ("\n".join(lines + yank_lines) + "\n").encode()


def names_file(graph: Graph) -> bytes:
    return ("\n".join(["---", *sorted(graph)]) + "\n").encode()


class GemRegistry:
    """A running compact index for ``graph`` at :attr:`base`; :meth:`close` stops it."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.files: dict[str, bytes] = {
            "/versions": versions_file(graph),
            "/names": names_file(graph),
        }
        for name, versions in graph.items():
            self.files[f"/info/{name}"] = info_file(name, versions)
        self.log: list[tuple[str, dict[str, str]]] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_HEAD(self) -> None:
                self._answer(head=True)

            def do_GET(self) -> None:
                self._answer(head=False)

            def _answer(self, *, head: bool) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                path = self.path.split("?", 1)[0]
                registry.log.append((path, headers))
                body = registry.files.get(path)
                if body is None:
                    self._send(404, b"not found\n", head=head)
                    return
                etag = f'"{_md5(body)}"'
                if etag in [t.strip() for t in headers.get("if-none-match", "").split(",")]:
                    self._send(304, b"", {"ETag": etag}, head=True)
                    return
                wanted = headers.get("range", "")
                if wanted.startswith("bytes=") and wanted[6:].endswith("-"):
                    start = int(wanted[6:-1])
                    if start >= len(body):
                        extra = {"Content-Range": f"bytes */{len(body)}"}
                        self._send(416, b"", extra, head=head)
                        return
                    extra = {
                        "ETag": etag,
                        "Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}",
                    }
                    self._send(206, body[start:], extra, head=head)
                    return
                self._send(200, body, {"ETag": etag, "Accept-Ranges": "bytes"}, head=head)

            def _send(
                self,
                status: int,
                body: bytes,
                extra: dict[str, str] | None = None,
                *,
                head: bool,
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def source(self) -> str:
        """The source URL as Bundler writes it in ``remote:`` (with a trailing slash)."""
        return self.base + "/"

    def paths(self) -> list[str]:
        """The paths asked for, in order."""
        return [path for path, _ in self.log]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(10)

    def __enter__(self) -> GemRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
