"""tuskops.packages.http against a scripted local HTTP server (no external network)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tuskops import __version__
from tuskops.errors import PackageError
from tuskops.packages.http import (
    ChecksumMismatch,
    OfflineCacheMiss,
    RegistryAuthError,
    RegistryClient,
    RegistryError,
    RegistryHTTPError,
    RegistryNotFound,
    RegistryServerError,
    RegistryUnreachable,
    Response,
    default_cache_dir,
    get_sync,
    redact_headers,
    redact_url,
    verify,
)

TOKEN = "s3cr3t-t0ken-value"


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False
    delay: float = 0.0


class Server:
    """Serves scripted replies per path; the last reply of a path repeats."""

    def __init__(self) -> None:
        self.script: dict[str, list[Reply]] = {}
        self.log: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server.lock:
                    server.log.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                    replies = server.script.get(self.path) or [Reply(404, body=b"no such path")]
                    reply = replies.pop(0) if len(replies) > 1 else replies[0]
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if reply.delay:
                        time.sleep(reply.delay)
                    if reply.drop:
                        self.close_connection = True
                        return
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def add(self, path: str, *replies: Reply) -> str:
        self.script[path] = list(replies)
        return self.base + path

    def requests(self, path: str) -> list[dict[str, str]]:
        return [h for p, h in self.log if p == path]


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def make(tmp_path: Path, sleeps: Sleeps | None = None, **kw: Any) -> RegistryClient:
    return RegistryClient(cache_dir=tmp_path / "cache", sleep=sleeps or Sleeps(), **kw)


def fetch(client: RegistryClient, *urls: str, accept: str | None = None) -> list[Response]:
    async def go() -> list[Response]:
        async with client:
            return [await client.get(u, accept=accept) for u in urls]

    return asyncio.run(go())


def cache_files(tmp_path: Path) -> list[Path]:
    return sorted(p for p in (tmp_path / "cache").rglob("*") if p.is_file())


# --- caching ----------------------------------------------------------------------------------


def test_fresh_max_age_hit_makes_zero_requests(server: Server, tmp_path: Path) -> None:
    url = server.add("/pkg", Reply(headers={"Cache-Control": "max-age=300"}, body=b"{}"))
    client = make(tmp_path)
    first, second = fetch(client, url, url)
    assert (first.status, first.content, first.from_cache) == (200, b"{}", False)
    assert (second.content, second.from_cache) == (b"{}", True)
    assert client.stats.requests == 1
    assert client.stats.cache_hits == 1
    assert client.stats.bytes_received == 2
    assert len(server.requests("/pkg")) == 1
    # A new client (a later process) is served from disk with zero requests too.
    warm = make(tmp_path)
    (again,) = fetch(warm, url)
    assert again.from_cache
    assert again.content == b"{}"
    assert warm.stats.requests == 0


def test_etag_revalidation_with_304(server: Server, tmp_path: Path) -> None:
    url = server.add(
        "/etag",
        Reply(headers={"ETag": '"v1"'}, body=b"body-v1"),
        Reply(304, headers={"ETag": '"v1"'}),
    )
    client = make(tmp_path)
    first, second = fetch(client, url, url)
    assert first.content == second.content == b"body-v1"
    assert second.from_cache
    assert second.status == 200
    headers = server.requests("/etag")
    assert "if-none-match" not in headers[0]
    assert headers[1]["if-none-match"] == '"v1"'
    assert client.stats.requests == 2
    assert client.stats.revalidated == 1


def test_last_modified_revalidation(server: Server, tmp_path: Path) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    url = server.add("/lm", Reply(headers={"Last-Modified": stamp}, body=b"old"), Reply(304))
    client = make(tmp_path)
    _, second = fetch(client, url, url)
    assert second.content == b"old"
    assert second.from_cache
    assert server.requests("/lm")[1]["if-modified-since"] == stamp


def test_304_refreshes_freshness(server: Server, tmp_path: Path) -> None:
    url = server.add(
        "/refresh",
        Reply(headers={"Cache-Control": "max-age=60", "ETag": '"a"'}, body=b"x"),
        Reply(304, headers={"Cache-Control": "max-age=60", "ETag": '"a"'}),
    )
    clock = Clock()
    client = make(tmp_path, clock=clock)

    async def go() -> None:
        async with client:
            await client.get(url)
            clock.now += 30
            await client.get(url)  # fresh
            assert client.stats.requests == 1
            clock.now += 60
            revalidated = await client.get(url)  # stale: revalidated, 304
            assert revalidated.from_cache
            assert revalidated.content == b"x"
            assert client.stats.requests == 2
            clock.now += 30
            await client.get(url)  # fresh again thanks to the 304
            assert client.stats.requests == 2

    asyncio.run(go())


def test_no_heuristic_freshness_revalidates(server: Server, tmp_path: Path) -> None:
    url = server.add("/plain", Reply(body=b"a"), Reply(body=b"b"))
    client = make(tmp_path)
    first, second = fetch(client, url, url)
    assert (first.content, second.content) == (b"a", b"b")
    assert client.stats.requests == 2
    assert len(cache_files(tmp_path)) == 1  # stored anyway, for offline use


def test_no_cache_is_stored_but_always_revalidated(server: Server, tmp_path: Path) -> None:
    url = server.add(
        "/nc",
        Reply(headers={"Cache-Control": "no-cache, max-age=600", "ETag": '"n"'}, body=b"n"),
        Reply(304),
    )
    client = make(tmp_path)
    _, second = fetch(client, url, url)
    assert second.from_cache
    assert client.stats.requests == 2


def test_no_store_is_never_written(server: Server, tmp_path: Path) -> None:
    url = server.add("/ns", Reply(headers={"Cache-Control": "no-store, max-age=600"}, body=b"s"))
    client = make(tmp_path)
    first, second = fetch(client, url, url)
    assert not first.from_cache
    assert not second.from_cache
    assert client.stats.requests == 2
    assert cache_files(tmp_path) == []


def test_expires_gives_freshness(server: Server, tmp_path: Path) -> None:
    now = time.time()
    url = server.add(
        "/exp",
        Reply(
            headers={
                "Date": formatdate(now, usegmt=True),
                "Expires": formatdate(now + 600, usegmt=True),
            },
            body=b"e",
        ),
    )
    client = make(tmp_path)
    fetch(client, url, url)
    assert client.stats.requests == 1


def test_invalid_expires_is_stale(server: Server, tmp_path: Path) -> None:
    url = server.add("/badexp", Reply(headers={"Expires": "0"}, body=b"e"))
    client = make(tmp_path)
    fetch(client, url, url)
    assert client.stats.requests == 2


def test_age_header_counts_against_max_age(server: Server, tmp_path: Path) -> None:
    url = server.add("/aged", Reply(headers={"Cache-Control": "max-age=60", "Age": "100"}))
    client = make(tmp_path)
    fetch(client, url, url)
    assert client.stats.requests == 2


def test_accept_is_part_of_the_cache_key(server: Server, tmp_path: Path) -> None:
    url = server.add("/acc", Reply(headers={"Cache-Control": "max-age=600"}, body=b"a"))
    client = make(tmp_path)

    async def go() -> None:
        async with client:
            await client.get(url, accept="application/json")
            await client.get(url, accept="application/vnd.pypi.simple.v1+json")
            await client.get(url, accept="application/json")

    asyncio.run(go())
    assert client.stats.requests == 2
    assert [h["accept"] for h in server.requests("/acc")] == [
        "application/json",
        "application/vnd.pypi.simple.v1+json",
    ]


def test_cache_writes_are_atomic_and_leave_no_temp_files(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = [
        server.add(f"/a{i}", Reply(headers={"Cache-Control": "max-age=60"}, body=b"z" * 1000))
        for i in range(5)
    ]
    fetch(make(tmp_path), *urls)
    files = cache_files(tmp_path)
    assert len(files) == 5
    assert not [f for f in files if f.name.startswith(".tmp-")]

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    url = server.add("/fail", Reply(headers={"Cache-Control": "max-age=60"}, body=b"f"))
    with pytest.raises(OSError, match="disk full"):
        fetch(make(tmp_path), url)
    assert not [f for f in cache_files(tmp_path) if f.name.startswith(".tmp-")]
    assert len(cache_files(tmp_path)) == 5


def test_damaged_cache_entry_is_a_miss(server: Server, tmp_path: Path) -> None:
    url = server.add("/dmg", Reply(headers={"Cache-Control": "max-age=60"}, body=b"ok"))
    fetch(make(tmp_path), url)
    (entry,) = cache_files(tmp_path)
    entry.write_bytes(b"not json")
    client = make(tmp_path)
    (resp,) = fetch(client, url)
    assert resp.content == b"ok"
    assert client.stats.requests == 1


# --- retries ----------------------------------------------------------------------------------


def test_503_then_200_is_retried(server: Server, tmp_path: Path, sleeps: Sleeps) -> None:
    url = server.add("/flaky", Reply(503), Reply(body=b"ok"))
    client = make(tmp_path, sleeps)
    (resp,) = fetch(client, url)
    assert resp.content == b"ok"
    assert client.stats.requests == 2
    assert client.stats.retries == 1
    assert len(sleeps.calls) == 1
    assert 0 < sleeps.calls[0] <= 0.5


def test_429_honours_retry_after_seconds(server: Server, tmp_path: Path, sleeps: Sleeps) -> None:
    url = server.add("/limited", Reply(429, headers={"Retry-After": "2"}), Reply(body=b"ok"))
    (resp,) = fetch(make(tmp_path, sleeps), url)
    assert resp.content == b"ok"
    assert sleeps.calls == [2.0]


def test_retry_after_http_date_is_capped(server: Server, tmp_path: Path, sleeps: Sleeps) -> None:
    later = formatdate(time.time() + 3600, usegmt=True)
    url = server.add("/limited2", Reply(429, headers={"Retry-After": later}), Reply(body=b"ok"))
    fetch(make(tmp_path, sleeps, retry_after_max=5.0), url)
    assert sleeps.calls == [5.0]


def test_backoff_grows_exponentially(server: Server, tmp_path: Path, sleeps: Sleeps) -> None:
    url = server.add("/down", Reply(502))
    client = make(tmp_path, sleeps, rng=lambda: 1.0, backoff_base=1.0)
    with pytest.raises(RegistryServerError) as info:
        fetch(client, url)
    assert sleeps.calls == [1.0, 2.0, 4.0]
    assert client.stats.requests == 4
    err = info.value
    assert isinstance(err, RegistryUnreachable)
    assert isinstance(err, RegistryHTTPError)
    assert err.status == 502
    assert err.attempts == 4
    assert url in str(err)
    assert "502" in str(err)
    assert "4 attempts" in str(err)


def test_dropped_connection_is_retried(server: Server, tmp_path: Path, sleeps: Sleeps) -> None:
    url = server.add("/drop1", Reply(drop=True), Reply(body=b"ok"))
    client = make(tmp_path, sleeps)
    (resp,) = fetch(client, url)
    assert resp.content == b"ok"
    assert client.stats.requests == 2


def test_dropped_connections_fail_with_a_clear_error(
    server: Server, tmp_path: Path, sleeps: Sleeps
) -> None:
    url = server.add("/drop", Reply(drop=True))
    client = make(tmp_path, sleeps, max_attempts=3)
    with pytest.raises(RegistryUnreachable) as info:
        fetch(client, url)
    err = info.value
    assert not isinstance(err, RegistryHTTPError)
    assert err.attempts == 3
    assert len(server.requests("/drop")) == 3
    assert len(sleeps.calls) == 2
    message = str(err)
    assert url in message
    assert "3 attempts" in message
    assert err.cause.startswith("RemoteProtocolError")
    assert err.cause in message


def test_timeout_is_retried_then_fails(server: Server, tmp_path: Path, sleeps: Sleeps) -> None:
    url = server.add("/slow", Reply(delay=1.0, body=b"late"))
    client = make(tmp_path, sleeps, timeout=0.1, max_attempts=2)
    with pytest.raises(RegistryUnreachable, match="Timeout") as info:
        fetch(client, url)
    assert info.value.attempts == 2


def test_404_is_not_retried(server: Server, tmp_path: Path, sleeps: Sleeps) -> None:
    url = server.add("/missing", Reply(404, body=b"Not Found"))
    client = make(tmp_path, sleeps)
    with pytest.raises(RegistryNotFound) as info:
        fetch(client, url)
    assert info.value.status == 404
    assert url in str(info.value)
    assert client.stats.requests == 1
    assert sleeps.calls == []
    assert isinstance(info.value, RegistryError)
    assert isinstance(info.value, PackageError)


def test_other_4xx_is_an_http_error(server: Server, tmp_path: Path, sleeps: Sleeps) -> None:
    url = server.add("/teapot", Reply(418))
    with pytest.raises(RegistryHTTPError) as info:
        fetch(make(tmp_path, sleeps), url)
    assert info.value.status == 418
    assert not isinstance(info.value, RegistryNotFound)
    assert sleeps.calls == []


# --- auth and secrets -------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_auth_error_names_host_never_token(server: Server, tmp_path: Path, status: int) -> None:
    url = server.add("/private", Reply(status))
    urls: list[str] = []

    def auth(url: str) -> dict[str, str]:
        urls.append(url)
        return {"Authorization": f"Bearer {TOKEN}"}

    client = make(tmp_path, auth=auth)
    with pytest.raises(RegistryAuthError) as info:
        fetch(client, url)
    assert urls == [url]
    assert server.requests("/private")[0]["authorization"] == f"Bearer {TOKEN}"
    err = info.value
    assert err.status == status
    assert err.host == "127.0.0.1"
    assert "127.0.0.1" in str(err)
    assert TOKEN not in str(err)
    assert TOKEN not in repr(err)
    assert TOKEN not in repr(client)


def test_token_absent_from_transport_errors(server: Server, tmp_path: Path, sleeps: Sleeps) -> None:
    url = server.add("/gone", Reply(drop=True))
    client = make(tmp_path, sleeps, auth=lambda url: {"Authorization": f"token {TOKEN}"})
    with pytest.raises(RegistryUnreachable) as info:
        fetch(client, url)
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value)


def test_password_in_url_is_redacted(server: Server, tmp_path: Path, sleeps: Sleeps) -> None:
    server.add("/nf", Reply(404))
    url = server.base.replace("http://", f"http://user:{TOKEN}@") + "/nf"
    with pytest.raises(RegistryNotFound) as info:
        fetch(make(tmp_path, sleeps), url)
    assert TOKEN not in str(info.value)
    assert "user:<redacted>@127.0.0.1" in str(info.value)


def test_redaction_helpers() -> None:
    headers = {"Authorization": "Bearer x", "Accept": "a", "Cookie": "c"}
    assert redact_headers(headers) == {
        "Authorization": "<redacted>",
        "Accept": "a",
        "Cookie": "<redacted>",
    }
    assert redact_url("https://u:p@h.example/x") == "https://u:<redacted>@h.example/x"
    assert redact_url("https://h.example/x") == "https://h.example/x"


def test_user_agent(server: Server, tmp_path: Path) -> None:
    url = server.add("/ua", Reply(body=b"."))
    fetch(make(tmp_path), url)
    assert server.requests("/ua")[0]["user-agent"] == f"tuskops/{__version__}"


def test_response_repr_hides_headers(server: Server, tmp_path: Path) -> None:
    url = server.add("/cookie", Reply(headers={"Set-Cookie": f"session={TOKEN}"}, body=b"."))
    (resp,) = fetch(make(tmp_path), url)
    assert TOKEN not in repr(resp)
    assert "status=200" in repr(resp)


# --- offline ----------------------------------------------------------------------------------


def test_offline_serves_stale_entries(server: Server, tmp_path: Path) -> None:
    url = server.add(
        "/off", Reply(headers={"Cache-Control": "max-age=0, must-revalidate"}, body=b"cached")
    )
    fetch(make(tmp_path), url)
    offline = make(tmp_path, offline=True)
    (resp,) = fetch(offline, url)
    assert resp.content == b"cached"
    assert resp.from_cache
    assert offline.stats.requests == 0
    assert len(server.requests("/off")) == 1


def test_offline_miss_raises_naming_the_url(server: Server, tmp_path: Path) -> None:
    url = server.add("/never", Reply(body=b"x"))
    offline = make(tmp_path, offline=True)
    with pytest.raises(OfflineCacheMiss, match="/never"):
        fetch(offline, url)
    assert server.log == []


# --- concurrency ------------------------------------------------------------------------------


def test_concurrency_is_bounded_and_gather_keeps_order(server: Server, tmp_path: Path) -> None:
    urls = [server.add(f"/c{i}", Reply(delay=0.1, body=str(i).encode())) for i in range(10)]
    client = make(tmp_path, max_concurrency=3)

    async def go() -> list[Response]:
        async with client:
            return await client.gather(urls)

    responses = asyncio.run(go())
    assert [r.content for r in responses] == [str(i).encode() for i in range(10)]
    assert server.max_in_flight == 3


def test_gather_raises_the_first_failure(server: Server, tmp_path: Path) -> None:
    ok = server.add("/ok", Reply(body=b"1"))
    missing = server.add("/nope", Reply(404))

    async def go() -> list[Response]:
        async with make(tmp_path) as client:
            return await client.gather([ok, missing])

    with pytest.raises(RegistryNotFound):
        asyncio.run(go())


# --- checksums --------------------------------------------------------------------------------

DATA = b"hello tuskops\n"
SHA1 = hashlib.sha1(DATA).hexdigest()
SHA256 = hashlib.sha256(DATA).hexdigest()
SHA512_B64 = base64.b64encode(hashlib.sha512(DATA).digest()).decode()
SHA256_B64 = base64.b64encode(hashlib.sha256(DATA).digest()).decode()


@pytest.mark.parametrize(
    ("hashes", "checked"),
    [
        ({"sha256": SHA256}, ("sha256",)),
        ({"sha1": SHA1}, ("sha1",)),
        ({"SHA-256": SHA256.upper()}, ("sha256",)),
        ({"sha256": SHA256_B64}, ("sha256",)),
        ({"sha256": SHA256_B64.rstrip("=")}, ("sha256",)),
        ({"integrity": f"sha512-{SHA512_B64}"}, ("sha512",)),
        ({"sha512": f"sha512-{SHA512_B64}"}, ("sha512",)),
        ({"md5": "abc", "sha1": SHA1, "sha256": SHA256}, ("sha1", "sha256")),
    ],
)
def test_verify_ok(hashes: dict[str, str], checked: tuple[str, ...]) -> None:
    assert verify(DATA, hashes) == checked


@pytest.mark.parametrize(
    ("hashes", "actual"),
    [
        ({"sha256": hashlib.sha256(b"other").hexdigest()}, SHA256),
        ({"sha1": hashlib.sha1(b"other").hexdigest()}, SHA1),
        (
            {"sha256": base64.b64encode(hashlib.sha256(b"other").digest()).decode()},
            SHA256_B64,
        ),
        (
            {"integrity": "sha512-" + base64.b64encode(hashlib.sha512(b"o").digest()).decode()},
            f"sha512-{SHA512_B64}",
        ),
    ],
)
def test_verify_mismatch_names_expected_and_actual(hashes: dict[str, str], actual: str) -> None:
    (expected,) = hashes.values()
    with pytest.raises(ChecksumMismatch) as info:
        verify(DATA, hashes, url="https://r.example/f.tgz")
    err = info.value
    assert (err.expected, err.actual) == (expected, actual)
    assert expected in str(err)
    assert actual in str(err)
    assert "https://r.example/f.tgz" in str(err)


def test_verify_refuses_to_verify_nothing() -> None:
    with pytest.raises(RegistryError, match="no supported checksum"):
        verify(DATA, {"md5": hashlib.md5(DATA).hexdigest()})
    with pytest.raises(RegistryError, match="no supported checksum"):
        verify(DATA, {})
    with pytest.raises(RegistryError, match="unreadable sha256"):
        verify(DATA, {"sha256": "not-a-digest"})


def test_download_verifies(server: Server, tmp_path: Path) -> None:
    url = server.add("/f.tgz", Reply(headers={"Cache-Control": "max-age=600"}, body=DATA))
    bad = server.add("/bad.tgz", Reply(headers={"Cache-Control": "max-age=600"}, body=b"evil"))

    async def go() -> None:
        async with make(tmp_path) as client:
            resp = await client.download(url, {"sha256": SHA256})
            assert resp.content == DATA
            with pytest.raises(ChecksumMismatch, match=r"bad\.tgz"):
                await client.download(bad, {"sha256": SHA256})

    asyncio.run(go())
    assert len(cache_files(tmp_path)) == 1  # the bad download is not kept


def test_download_refetches_a_corrupted_cache_entry(server: Server, tmp_path: Path) -> None:
    url = server.add("/g.tgz", Reply(headers={"Cache-Control": "max-age=600"}, body=DATA))
    fetch(make(tmp_path), url)
    (entry,) = cache_files(tmp_path)
    entry.write_bytes(entry.read_bytes().replace(DATA, b"rotten bits\n"))

    async def go() -> Response:
        async with make(tmp_path) as client:
            return await client.download(url, {"sha256": SHA256})

    assert asyncio.run(go()).content == DATA
    assert len(server.requests("/g.tgz")) == 2


# --- sync wrapper and configuration -----------------------------------------------------------


def test_get_sync(server: Server, tmp_path: Path) -> None:
    url = server.add("/sync", Reply(body=b'{"name": "sync"}'))
    resp = get_sync(url, cache_dir=tmp_path / "cache")
    assert resp.json() == {"name": "sync"}
    assert resp.text() == '{"name": "sync"}'


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TUSKOPS_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path / "http"
    monkeypatch.delenv("TUSKOPS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "tuskops" / "http"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "tuskops" / "http"


def test_use_cache_false_writes_nothing(server: Server, tmp_path: Path) -> None:
    url = server.add("/nocache", Reply(headers={"Cache-Control": "max-age=600"}, body=b"n"))
    client = make(tmp_path, use_cache=False)
    fetch(client, url, url)
    assert client.stats.requests == 2
    assert cache_files(tmp_path) == []


# --- file:// URLs (local indexes) ---------------------------------------------------------------


def test_file_url_reads_the_directory_index(tmp_path: Path) -> None:
    page = tmp_path / "simple" / "demo"
    page.mkdir(parents=True)
    (page / "index.html").write_bytes(b"<html>demo</html>")
    client = make(tmp_path)
    [resp] = fetch(client, (tmp_path / "simple" / "demo").as_uri() + "/")
    assert resp.content == b"<html>demo</html>"
    assert resp.headers["content-type"] == "text/html"
    assert client.stats.requests == 0
    assert client.stats.local_reads == 1


def test_file_url_works_offline_and_is_not_cached(tmp_path: Path) -> None:
    data = tmp_path / "data.json"
    data.write_bytes(b"{}")
    client = make(tmp_path, offline=True)
    [resp] = fetch(client, data.as_uri())
    assert resp.headers["content-type"] == "application/json"
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


def test_missing_file_url_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(RegistryNotFound):
        fetch(make(tmp_path), (tmp_path / "nope").as_uri())


def test_prefer_offline_serves_stale_entries_without_a_request(
    server: Server, tmp_path: Path
) -> None:
    url = server.add("/page", Reply(200, {}, b"v1"))  # no lifetime: stale at once
    fetch(make(tmp_path), url)
    client = make(tmp_path, prefer_offline=True)
    [resp] = fetch(client, url)
    assert (resp.content, resp.from_cache, client.stats.requests) == (b"v1", True, 0)
    # Not stored: the network is asked.
    other = server.add("/other", Reply(200, {}, b"o"))
    [resp] = fetch(client, other)
    assert (resp.content, client.stats.requests) == (b"o", 1)


def test_get_range_is_sent_uncached(server: Server, tmp_path: Path) -> None:
    url = server.add("/blob", Reply(206, {"Content-Range": "bytes 2-3/10"}, b"cd"))
    client = make(tmp_path)

    async def go() -> tuple[int, bytes]:
        async with client:
            resp = await client.get_range(url, 2, 3)
            return resp.status, resp.content

    assert asyncio.run(go()) == (206, b"cd")
    assert server.requests("/blob")[0]["range"] == "bytes=2-3"
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


def test_get_range_offline_is_a_cache_miss(tmp_path: Path) -> None:
    client = make(tmp_path, offline=True)
    with pytest.raises(OfflineCacheMiss):
        asyncio.run(client.get_range("https://example.invalid/x.whl", -100))


# --- a registry with its own certificate authority (pip's cert, npm's cafile) -------------------

OPENSSL = shutil.which("openssl")


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if OPENSSL is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}/x", cert
    httpd.shutdown()
    httpd.server_close()


def test_own_certificate_authority(tls_server: tuple[str, Path], tmp_path: Path) -> None:
    url, cert = tls_server
    with pytest.raises(RegistryUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
        fetch(make(tmp_path, max_attempts=1), url)
    [resp] = fetch(make(tmp_path, ca_file=cert), url)
    assert resp.content == b"ok"


def test_unreadable_certificate_authority(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot load certificate authorities"):
        fetch(make(tmp_path, ca_file=tmp_path / "missing.pem"), "https://127.0.0.1:9/x")
