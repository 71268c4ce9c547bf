"""The packed module in headless Chromium: a page served on 127.0.0.1 imports the package's
browser entry, which compiles the ``.wasm`` with ``instantiateStreaming`` (served as
``application/wasm``) or falls back to ``instantiate`` (served as ``application/octet-stream``);
the package's service worker caches the module and the page, so a reload after the server has
stopped still shows the result. The package is the tarball ``npm pack`` wrote, unpacked."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from _support.browser import (
    GREETER_SIGNATURES,
    GREETER_WAT,
    Chromium,
    Page,
    StaticServer,
    chromium_path,
    need,
    write_module,
)
from tuskops.wasm.pack import pack

INDEX_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>tuskops wasm pack</title></head>
<body><pre id="result"></pre><script type="module" src="/app.mjs"></script></body></html>
"""

#: The page's script: call the module, then (unless ?sw=0) register the service worker and
#: wait until it controls the page; the result goes into #result as JSON.
APP_MJS = """
const out = {};
try {
  const pkg = await import("/pkg/browser.mjs");
  out.greet = pkg.greet("chromium");
  out.add = pkg.add(2, 3);
  out.add64 = String(pkg.add64(1n, 2n));
  out.reverse = Array.from(pkg.reverse(new Uint8Array([1, 2, 3])));
  out.live = pkg.live();
  out.mode = pkg.compileMode;
  out.reason = pkg.fallbackReason;
  if (new URLSearchParams(location.search).get("sw") !== "0") {
    try {
      await pkg.registerServiceWorker({ scope: "/", cache: ["/index.html", "/app.mjs"] });
    } catch (err) {
      out.registerError = String(err);  // offline, the update check cannot fetch sw.js
    }
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) =>
        navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
    }
    out.controlled = Boolean(navigator.serviceWorker.controller);
  }
} catch (err) {
  out.error = String((err && err.stack) || err);
}
const pre = document.getElementById("result");
pre.textContent = JSON.stringify(out);
pre.dataset.done = "1";
"""

RESULT = (
    "(() => { const e = document.getElementById('result');"
    " return e && e.dataset.done === '1' ? e.textContent : null; })()"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """index.html and app.mjs at the root, the unpacked npm tarball under /pkg/."""
    chromium_path()
    need("npm")
    work = tmp_path_factory.mktemp("pack-browser")
    result = pack(
        write_module(GREETER_WAT, work / "greeter.wasm"),
        work / "npm",
        name="greeter",
        version="1.0.0",
        signatures=GREETER_SIGNATURES,
    )
    assert result.tarball is not None
    root = work / "site"
    root.mkdir()
    with tarfile.open(result.tarball) as tar:
        tar.extractall(root, filter="data")
    (root / "package").rename(root / "pkg")
    (root / "index.html").write_text(INDEX_HTML)
    (root / "app.mjs").write_text(APP_MJS)
    return root


def load(page: Page, url: str) -> dict[str, Any]:
    page.call("Page.enable")
    page.call("Page.navigate", url=url)
    result: dict[str, Any] = json.loads(page.wait_for(RESULT))
    assert "error" not in result, result["error"]
    return result


CALLED = {"greet": "Hello, chromium!", "add": 5, "add64": "3", "reverse": [3, 2, 1], "live": 0}


def test_streaming_compile_and_offline_reload(site: Path) -> None:
    headers = {"/pkg/sw.js": {"Service-Worker-Allowed": "/"}}
    with Chromium() as browser, StaticServer(site, headers=headers) as server:
        page = browser.page()
        first = load(page, server.url("/index.html"))
        assert {k: first[k] for k in CALLED} == CALLED
        assert first["mode"] == "streaming"
        assert first["reason"] == ""
        assert first["controlled"] is True
        assert "registerError" not in first
        assert "/pkg/greeter.wasm" in server.requests

        server.stop()
        page.evaluate("document.getElementById('result').dataset.done = ''")
        page.call("Page.reload")
        offline = _reloaded(page)
        assert {k: offline[k] for k in CALLED} == CALLED
        # The cached response keeps its Content-Type, so it still compiles by streaming.
        assert offline["mode"] == "streaming"
        assert offline["controlled"] is True
        page.close()


def _reloaded(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(page.wait_for(RESULT))
    assert "error" not in result, result["error"]
    return result


def test_wrong_mime_type_falls_back_to_instantiate(site: Path) -> None:
    with (
        Chromium() as browser,
        StaticServer(site, wasm_type="application/octet-stream") as server,
    ):
        page = browser.page()
        result = load(page, server.url("/index.html?sw=0"))
        assert {k: result[k] for k in CALLED} == CALLED
        assert result["mode"] == "instantiate"
        assert "MIME type" in result["reason"]
        page.close()
