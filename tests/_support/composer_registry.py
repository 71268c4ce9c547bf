"""A local Composer v2 repository for the Composer resolution and lock tests.

It serves what packagist.org serves, in the same wire format, so that both ``composer`` and
tuskops can resolve against it:

* ``/packages.json`` with ``metadata-url: /p2/%package%.json`` (Composer 2 only);
* ``/p2/vendor/name.json`` (tagged releases) and ``/p2/vendor/name~dev.json`` (``dev-``
  branches), minified as ``composer/2.0`` (``MetadataMinifier::minify``: the first entry whole,
  each later one only with the keys that changed, ``"__unset"`` for a key that went away),
  newest first as Packagist lists them; a package without branches has no ``~dev`` file (404);
* ``/dist/vendor/name/version.zip``: a real zip holding the release's ``composer.json``, its
  SHA-1 as ``dist.shasum``.

A graph is ``{name: {version: fields}}``; ``fields`` are composer.json fields of that release
(``require``, ``require-dev``, ``replace``, ``provide``, ``conflict``, ``type``, ...).
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import zipfile
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tuskops.packages.ecosystems.composer import SCHEME

Graph = Mapping[str, Mapping[str, Mapping[str, Any]]]

#: A fixed release time, so that lock files are the same on every run.
RELEASE_TIME = "2024-01-02T03:04:05+00:00"


def minify(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``MetadataMinifier::minify``."""
    out: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for entry in entries:
        if previous is None:
            out.append(dict(entry))
        else:
            changed = {k: v for k, v in entry.items() if previous.get(k) != v or k not in previous}
            changed.update({k: "__unset" for k in previous if k not in entry})
            out.append(changed)
        previous = entry
    return out


def _zip(name: str, version: str, fields: Mapping[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(f"{name.replace('/', '-')}/composer.json", (2024, 1, 2, 3, 4, 6))
        body = json.dumps({"name": name, "version": version, **fields}, indent=4)
        archive.writestr(info, body)
    return buffer.getvalue()


class ComposerRegistry:
    """Serves a :data:`Graph` as a Composer v2 repository on 127.0.0.1 (see the module doc)."""

    def __init__(self, graph: Graph) -> None:
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.log: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                registry.log.append(path)
                route = registry.routes.get(path)
                if route is None:
                    self._send(404, b'{"status":"error","message":"not found"}', "text/plain")
                    return
                self._send(200, route[1], route[0])

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        self.publish(graph)

    def publish(self, graph: Graph) -> None:
        """(Re)serve ``graph``."""
        self.routes.clear()
        root = {"packages": [], "metadata-url": "/p2/%package%.json"}
        self.routes["/packages.json"] = ("application/json", json.dumps(root).encode())
        for name, versions in graph.items():
            tagged: list[dict[str, Any]] = []
            branches: list[dict[str, Any]] = []
            for version, fields in versions.items():
                entry = self._entry(name, version, fields)
                (branches if version.startswith("dev-") else tagged).append(entry)
            for suffix, entries in (("", tagged), ("~dev", branches)):
                if suffix and not entries:
                    continue
                entries.sort(key=lambda e: SCHEME.parse_version(e["version"]), reverse=True)
                document = {"minified": "composer/2.0", "packages": {name: minify(entries)}}
                body = json.dumps(document, separators=(",", ":")).encode()
                self.routes[f"/p2/{name}{suffix}.json"] = ("application/json", body)

    def _entry(self, name: str, version: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        archive = _zip(name, version, fields)
        dist_path = f"/dist/{name}/{version}.zip"
        self.routes[dist_path] = ("application/zip", archive)
        reference = hashlib.sha1(f"{name}@{version}".encode(), usedforsecurity=False).hexdigest()
        entry: dict[str, Any] = {
            "name": name,
            "description": f"The {name} package",
            "version": version,
            "version_normalized": SCHEME.parse_version(version).normalized,
            "license": ["MIT"],
            "time": RELEASE_TIME,
            "dist": {
                "type": "zip",
                "url": self.base + dist_path,
                "reference": reference,
                "shasum": hashlib.sha1(archive, usedforsecurity=False).hexdigest(),
            },
            "type": "library",
        }
        entry.update(fields)
        return entry

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


def composer_json(
    registry: ComposerRegistry,
    require: Mapping[str, str],
    *,
    require_dev: Mapping[str, str] | None = None,
    platform: Mapping[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A root ``composer.json`` using only ``registry`` (packagist.org off, http allowed)."""
    data: dict[str, Any] = {"name": "acme/app", "require": dict(require)}
    if require_dev:
        data["require-dev"] = dict(require_dev)
    data.update(fields)
    data["repositories"] = [{"type": "composer", "url": registry.base}, {"packagist.org": False}]
    config: dict[str, Any] = {"secure-http": False}
    config["platform"] = dict(platform) if platform is not None else {"php": "8.1.0"}
    data["config"] = config
    return data
