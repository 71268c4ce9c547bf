"""A local package registry for the API, CLI and operator tests of tuskops.packages.

Real protocol formats (npm abbreviated packuments, PEP 691 JSON pages, a PEP 658 metadata
file, a wheel read by HTTP range requests), a token-protected path (``/private/``) and
``Cache-Control`` on every full response. The ``local_registry`` fixture (tests/conftest.py)
starts one per test.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REGISTRY_TOKEN = "s3cr3t-t0ken"
DEMO_METADATA = b"Metadata-Version: 2.1\nName: demo\nVersion: {v}\nLicense: MIT\n" + (
    b"Requires-Python: >=3.8\nRequires-Dist: idna>=2\n"
    b'Requires-Dist: colorama; sys_platform == "win32"\n'
)


class LocalRegistry:
    """Serves ``routes`` (path -> (content type, body)); ``/private/`` needs the token."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.log: list[tuple[str, dict[str, str]]] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                registry.log.append((self.path, headers))
                if self.path.startswith("/private/") and (
                    headers.get("authorization") != f"Bearer {REGISTRY_TOKEN}"
                ):
                    self._send(401, b"", "text/plain")
                    return
                route = registry.routes.get(self.path)
                if route is None:
                    self._send(404, b"not found", "text/plain")
                    return
                ctype, body = route
                wanted = headers.get("range", "")
                if wanted.startswith("bytes="):
                    first, _, last = wanted[6:].partition("-")
                    if first:
                        start, end = int(first), min(int(last or len(body) - 1), len(body) - 1)
                    else:
                        start, end = max(0, len(body) - int(last)), len(body) - 1
                    extra = {"Content-Range": f"bytes {start}-{end}/{len(body)}"}
                    self._send(206, body[start : end + 1], ctype, extra)
                    return
                self._send(200, body, ctype, {"Cache-Control": "max-age=300"})

            def _send(
                self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def add(self, path: str, body: object, ctype: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.routes[path] = (ctype, data)

    def requests(self) -> int:
        return len(self.log)


def populate(r: LocalRegistry) -> None:
    b = r.base

    def sha256(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def packument(name: str, versions: dict[str, dict[str, object]], latest: str) -> object:
        return {
            "name": name,
            "dist-tags": {"latest": latest},
            "versions": {
                v: {"name": name, "version": v, "dist": {"tarball": f"{b}/t/{name}-{v}.tgz"}, **x}
                for v, x in versions.items()
            },
        }

    npm = "application/vnd.npm.install-v1+json"
    tarball = b"left-pad 1.0.0 tarball bytes"
    r.add("/t/left-pad-1.0.0.tgz", tarball, "application/octet-stream")
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    r.add(
        "/npm/left-pad",
        packument(
            "left-pad",
            {
                "1.0.0": {
                    "dependencies": {"wordwrap": "^1.0.0"},
                    "license": "MIT",
                    "dist": {"tarball": f"{b}/t/left-pad-1.0.0.tgz", "integrity": integrity},
                },
                "1.1.0": {"deprecated": "use String.prototype.padStart()"},
                "2.0.0-beta.1": {},
            },
            "1.1.0",
        ),
        npm,
    )
    r.add(
        "/private/npm/@acme%2fwidget",
        packument(
            "@acme/widget", {"0.1.0": {}, "0.2.0": {"dependencies": {"left-pad": "^1"}}}, "0.2.0"
        ),
        npm,
    )

    # Index A: demo 1.0.0 (PEP 658 metadata), 1.1.0 (yanked), 2.0.0b1 (pre-release).
    meta_100 = DEMO_METADATA.replace(b"{v}", b"1.0.0")
    r.add("/files/demo-1.0.0-py3-none-any.whl.metadata", meta_100, "application/octet-stream")

    def file(name: str, **extra: object) -> dict[str, object]:
        return {
            "filename": name,
            "url": f"{b}/files/{name}",
            "hashes": {"sha256": "c" * 64},
            **extra,
        }

    r.add(
        "/a/demo/",
        {
            "meta": {"api-version": "1.1"},
            "name": "demo",
            "files": [
                file(
                    "demo-1.0.0-py3-none-any.whl", **{"core-metadata": {"sha256": sha256(meta_100)}}
                ),
                file("demo-1.1.0-py3-none-any.whl", yanked="broken build"),
                file("demo-2.0.0b1-py3-none-any.whl"),
            ],
        },
        "application/vnd.pypi.simple.v1+json",
    )
    # Index B: demo 1.2.0, a wheel without a metadata file (read by range requests).
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("demo/__init__.py", b"")
        zf.writestr("demo-1.2.0.dist-info/METADATA", DEMO_METADATA.replace(b"{v}", b"1.2.0"))
    wheel = buf.getvalue()
    r.add("/files/demo-1.2.0-py3-none-any.whl", wheel, "application/octet-stream")
    page_b = {
        "meta": {"api-version": "1.1"},
        "name": "demo",
        "files": [
            {
                "filename": "demo-1.2.0-py3-none-any.whl",
                "url": f"{b}/files/demo-1.2.0-py3-none-any.whl",
                "hashes": {"sha256": sha256(wheel)},
            }
        ],
    }
    r.add("/b/demo/", page_b, "application/vnd.pypi.simple.v1+json")
