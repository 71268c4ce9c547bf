"""What the ``tuskops wasm pack`` tests share: the modules they package, npm tools cached in
``~/.cache/tuskops-test``, a static HTTP server on 127.0.0.1, and headless Chromium driven over
the DevTools protocol.

The DevTools client speaks WebSocket (RFC 6455) itself, over a plain socket: the venv has no
declared WebSocket library, and a client needs only the handshake, masked text frames out and
unmasked frames in. Chromium is Debian's ``/usr/bin/chromium``, started with the flags of the
issue, ``--remote-debugging-port=0`` and a fresh ``--user-data-dir``; the port it picked is read
from ``DevToolsActivePort`` in that directory.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Mapping
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest

# --- the modules --------------------------------------------------------------------------------

#: Numbers, strings and bytes through the memory ABI. ``live()`` counts allocations not yet
#: freed, so a test can see that the loader frees what it allocates; ``alloc`` grows memory, so
#: large arguments detach old ``memory.buffer`` views.
GREETER_WAT = """
(module $greeter
  (memory (export "memory") 1)
  (global $top (mut i32) (i32.const 1024))
  (global $live (mut i32) (i32.const 0))
  (data (i32.const 16) "Hello, ")
  (func $alloc (export "alloc") (param $n i32) (result i32) (local $p i32) (local $need i32)
    global.get $top local.set $p
    global.get $top local.get $n i32.add global.set $top
    global.get $top memory.size i32.const 65536 i32.mul i32.sub local.set $need
    (if (i32.gt_s (local.get $need) (i32.const 0))
      (then (if (i32.eq (memory.grow
                          (i32.add (i32.div_u (local.get $need) (i32.const 65536)) (i32.const 1)))
                        (i32.const -1))
              (then unreachable))))
    global.get $live i32.const 1 i32.add global.set $live
    local.get $p)
  (func $dealloc (export "dealloc") (param i32 i32)
    global.get $live i32.const 1 i32.sub global.set $live)
  (func (export "live") (result i32) global.get $live)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "add64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.add)
  (func (export "half") (param f64) (result f64) local.get 0 f64.const 2 f64.div)
  (func $pack (param $p i32) (param $n i32) (result i64)
    local.get $p i64.extend_i32_u i64.const 32 i64.shl local.get $n i64.extend_i32_u i64.or)
  ;; greet(name) -> "Hello, " + name + "!"
  (func (export "greet") (param $p i32) (param $n i32) (result i64) (local $o i32)
    (local.set $o (call $alloc (i32.add (local.get $n) (i32.const 8))))
    (memory.copy (local.get $o) (i32.const 16) (i32.const 7))
    (memory.copy (i32.add (local.get $o) (i32.const 7)) (local.get $p) (local.get $n))
    (i32.store8 (i32.add (i32.add (local.get $o) (i32.const 7)) (local.get $n)) (i32.const 33))
    (call $pack (local.get $o) (i32.add (local.get $n) (i32.const 8))))
  ;; concat(a, b) -> a + b
  (func (export "concat") (param $a i32) (param $an i32) (param $b i32) (param $bn i32)
    (result i64) (local $o i32)
    (local.set $o (call $alloc (i32.add (local.get $an) (local.get $bn))))
    (memory.copy (local.get $o) (local.get $a) (local.get $an))
    (memory.copy (i32.add (local.get $o) (local.get $an)) (local.get $b) (local.get $bn))
    (call $pack (local.get $o) (i32.add (local.get $an) (local.get $bn))))
  ;; checksum(bytes) -> the sum of the bytes
  (func (export "checksum") (param $p i32) (param $n i32) (result i32) (local $i i32) (local $s i32)
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i32.add (local.get $s) (i32.load8_u (i32.add (local.get $p) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    local.get $s)
  ;; reverse(bytes) -> the bytes backwards
  (func (export "reverse") (param $p i32) (param $n i32) (result i64) (local $o i32) (local $i i32)
    (local.set $o (call $alloc (local.get $n)))
    (block (loop
      (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
      (i32.store8 (i32.add (local.get $o) (local.get $i))
        (i32.load8_u (i32.sub (i32.add (local.get $p) (local.get $n))
                              (i32.add (local.get $i) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br 0)))
    (call $pack (local.get $o) (local.get $n)))
  (func (export "not-an-identifier") (result i32) i32.const 7)
)
"""

#: The signatures the tests declare for GREETER_WAT.
GREETER_SIGNATURES = (
    "greet(name: str) -> str",
    "concat(a: str, b: str) -> str",
    "checksum(data: bytes) -> i32",
    "reverse(data: bytes) -> bytes",
)

#: A WASI reactor: ``shout(text)`` writes TEXT and a newline to stdout with ``fd_write``.
WASI_WAT = """
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $top (mut i32) (i32.const 1024))
  (global $inits (mut i32) (i32.const 0))
  (data (i32.const 8) "\\n")
  (func (export "_initialize") global.get $inits i32.const 1 i32.add global.set $inits)
  (func (export "inits") (result i32) global.get $inits)
  (func (export "alloc") (param $n i32) (result i32) (local $p i32)
    global.get $top local.set $p
    global.get $top local.get $n i32.add global.set $top
    local.get $p)
  (func (export "shout") (param $p i32) (param $n i32) (result i32)
    ;; iovecs at 64: (p, n), ("\\n", 1); bytes written at 96
    (i32.store (i32.const 64) (local.get $p))
    (i32.store (i32.const 68) (local.get $n))
    (i32.store (i32.const 72) (i32.const 8))
    (i32.store (i32.const 76) (i32.const 1))
    (call $fd_write (i32.const 1) (i32.const 64) (i32.const 2) (i32.const 96)))
  (func (export "quit") (param i32) local.get 0 call $exit)
)
"""

#: A module importing a host function the package cannot provide.
ENV_IMPORT_WAT = """(module (import "env" "now" (func (result f64))) (func (export "f")))"""


def write_module(wat: str, path: Path) -> Path:
    import wasmtime

    path.write_bytes(wasmtime.wat2wasm(wat))
    return path


# --- tools --------------------------------------------------------------------------------------


def need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.skip(f"needs {tool} on PATH")
    return found


def cached_npm_package(spec: str, key: str, tmp_root: Path) -> Path:
    """``npm install SPEC`` into ``~/.cache/tuskops-test/KEY`` once (or TUSKOPS_TEST_CACHE);
    returns that prefix, whose ``node_modules`` holds the package."""
    npm = need("npm")
    cache = Path(os.environ.get("TUSKOPS_TEST_CACHE", Path.home() / ".cache" / "tuskops-test"))
    target = cache / key
    name = spec.rpartition("@")[0] if spec.rfind("@") > 0 else spec
    if (target / "node_modules" / name / "package.json").exists():
        return target
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError:
        target = tmp_root / key
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(target), spec],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return target


# --- a static server ----------------------------------------------------------------------------


class StaticServer:
    """Serves ``root`` on 127.0.0.1 (a free port) in a thread. ``wasm_type`` is the
    Content-Type sent with ``.wasm`` files; ``headers`` maps a URL path to extra headers."""

    def __init__(
        self,
        root: Path,
        *,
        wasm_type: str = "application/wasm",
        headers: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        extra = dict(headers or {})
        self.requests: list[str] = []
        requests = self.requests

        class Handler(SimpleHTTPRequestHandler):
            extensions_map: ClassVar[dict[str, str]] = {
                **SimpleHTTPRequestHandler.extensions_map,
                ".wasm": wasm_type,
                ".mjs": "text/javascript",
                ".js": "text/javascript",
            }

            def end_headers(self) -> None:
                for name, value in extra.get(self.path.split("?")[0], {}).items():
                    self.send_header(name, value)
                self.send_header("Cache-Control", "no-store")
                super().end_headers()

            def do_GET(self) -> None:
                requests.append(self.path)
                super().do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join()
            self.running = False

    def __enter__(self) -> StaticServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- WebSocket and the DevTools protocol --------------------------------------------------------


class WebSocket:
    """A minimal RFC 6455 client: text frames, ping/pong, fragmented messages."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, url: str, timeout: float = 60) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("the DevTools endpoint closed during the handshake")
            head += chunk
        status, *lines = head.decode("latin-1").split("\r\n")
        if " 101 " not in status:
            raise ConnectionError(f"WebSocket handshake refused: {status}")
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        fields = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines if ln)}
        if fields.get("sec-websocket-accept") != accept:
            raise ConnectionError("WebSocket handshake: wrong Sec-WebSocket-Accept")

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the DevTools connection closed")
            data += chunk
        return data

    def _send(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, text: str) -> None:
        self._send(0x1, text.encode())

    def recv(self) -> str:
        message = b""
        while True:
            b0, b1 = self._exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._exact(8))[0]
            mask = self._exact(4) if b1 & 0x80 else b""
            payload = self._exact(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise ConnectionError("the DevTools connection was closed")
            if opcode == 0x9:
                self._send(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            message += payload
            if b0 & 0x80:
                return message.decode()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._send(0x8, b"")
        self.sock.close()


class CDPError(Exception):
    pass


class Page:
    """One page target, driven over its own DevTools WebSocket."""

    def __init__(self, ws_url: str) -> None:
        self.ws = WebSocket(ws_url)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise CDPError(f"{method}: {message['error'].get('message')}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` (awaited when a promise) in the page."""
        result = self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"in the page: {text}")
        return result["result"].get("value")

    def wait_for(self, expression: str, deadline_s: float = 60) -> Any:
        """Poll ``expression`` until it is neither null nor undefined (a navigation in flight
        makes evaluation fail; that is retried too)."""
        end = time.monotonic() + deadline_s
        last: Exception | None = None
        while time.monotonic() < end:
            try:
                value = self.evaluate(expression)
            except CDPError as err:
                last = err
                value = None
            if value is not None:
                return value
            time.sleep(0.1)
        raise TimeoutError(f"{expression} did not become available in {deadline_s}s ({last})")

    def close(self) -> None:
        self.ws.close()


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_path() -> str:
    for candidate in (
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.skip("needs Debian's chromium (apt-get install chromium)")


class Chromium:
    """Headless Chromium with a fresh profile; ``page()`` connects to its first tab."""

    def __init__(self, executable: str | None = None) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="tuskops-chromium-"))
        self.log = self.profile.parent / f"{self.profile.name}.log"
        argv = [
            executable or chromium_path(),
            *CHROMIUM_FLAGS,
            "--remote-debugging-port=0",
            "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={self.profile}",
            "about:blank",
        ]
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(argv, stdout=self._log_file, stderr=subprocess.STDOUT)
        self.port = self._devtools_port()

    def _devtools_port(self) -> int:
        marker = self.profile / "DevToolsActivePort"
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited ({self.process.returncode}): {self.output()}")
            if marker.is_file():
                lines = marker.read_text().split()
                if lines:
                    return int(lines[0])
            time.sleep(0.05)
        raise TimeoutError(f"chromium wrote no DevToolsActivePort: {self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def page(self) -> Page:
        end = time.monotonic() + 30
        while time.monotonic() < end:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list") as response:
                targets = json.loads(response.read())
            pages = [t for t in targets if t.get("type") == "page"]
            if pages:
                return Page(pages[0]["webSocketDebuggerUrl"])
            time.sleep(0.05)
        raise TimeoutError("chromium has no page target")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log_file.close()
        shutil.rmtree(self.profile, ignore_errors=True)
        self.log.unlink(missing_ok=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
