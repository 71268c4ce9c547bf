"""The one place where the package layer touches the network.

Protocol modules build URLs and parse bytes; :class:`RegistryClient` sends the requests, caches
the answers on disk and retries what is worth retrying.

Caching (a private client cache in the sense of RFC 9111):

* Entries are keyed by method, URL and ``Accept``; other ``Vary`` headers are not considered.
  Only ``200`` responses are stored. Each entry is one file (a JSON metadata line, then the
  body) written to a temporary file in the same directory and renamed into place, so a reader
  never sees half an entry.
* Freshness comes from ``Cache-Control: max-age`` (``s-maxage`` is for shared caches and is
  ignored), else from ``Expires`` minus ``Date``, minus the ``Age`` the response already had.
  ``no-cache`` stores the entry but revalidates it on every use; ``no-store`` is never written
  (and removes an older entry); ``private`` is fine for a client cache.
* There is **no heuristic freshness**: a response without an explicit lifetime is stored but
  revalidated (``If-None-Match`` from ``ETag``, ``If-Modified-Since`` from ``Last-Modified``)
  before each use. A ``304`` refreshes the stored entry's headers and age.
* A fresh entry is served without any request (see :attr:`RegistryClient.stats`).
* Online, a stale entry is never served when revalidation fails: the error is raised.
  Offline mode (``offline=True``, the user's explicit choice) serves any stored entry, stale
  or ``must-revalidate`` alike, and raises :class:`OfflineCacheMiss` when there is none.

Retries: ``429`` (honouring ``Retry-After``, capped), ``500``/``502``/``503``/``504`` and
transport failures (refused or dropped connections, timeouts) are retried with exponential
backoff and jitter, up to ``max_attempts`` attempts. ``404``/``410`` raise
:class:`RegistryNotFound` at once, ``401``/``403`` raise :class:`RegistryAuthError` naming
the host.

``prefer_offline=True`` (npm's ``--prefer-offline``) serves any stored entry, stale or not,
and goes to the network only for what is not stored.

Local indexes: a ``file://`` URL is read from disk (a directory as its ``index.html``, as pip
reads a local PEP 503 index), never cached and available offline.

Secrets: request headers are never put in error messages or reprs; :func:`redact_headers`
and :func:`redact_url` exist for anyone who needs to show a request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import email.utils
import hashlib
import json
import os
import random
import re
import ssl
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit
from urllib.request import url2pathname

import httpx

from tuskops import __version__
from tuskops.errors import PackageError

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_CONCURRENCY",
    "ChecksumMismatch",
    "ClientStats",
    "OfflineCacheMiss",
    "RegistryAuthError",
    "RegistryClient",
    "RegistryError",
    "RegistryHTTPError",
    "RegistryNotFound",
    "RegistryServerError",
    "RegistryUnreachable",
    "Response",
    "default_cache_dir",
    "get_sync",
    "redact_headers",
    "redact_url",
    "run",
    "verify",
]

T = TypeVar("T")

DEFAULT_MAX_CONCURRENCY = 16
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_TIMEOUT = 30.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = f"tuskops/{__version__}"

#: Header names whose values are secrets (compared lower-case).
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "private-token",
        "x-jfrog-art-api",
        "x-nuget-apikey",
    }
)
REDACTED = "<redacted>"

AuthHook = Callable[[str], Mapping[str, str] | None]
"""Called with each request's URL; returns the headers to add (e.g. ``Authorization``).

The whole URL, not just the host: npm, Cargo and Composer scope credentials to a host *and
path* (``//npm.example.com/team-a/:_authToken``), so two registries on one host can hold
different tokens. See :meth:`tuskops.packages.settings.RegistrySettings.auth_headers`."""

SleepFn = Callable[[float], Awaitable[None]]


# --- errors -----------------------------------------------------------------------------------


class RegistryError(PackageError):
    """A registry could not answer a request."""


class RegistryUnreachable(RegistryError):
    """No usable answer after every attempt: ``cause`` is the last failure."""

    def __init__(self, url: str, cause: str, attempts: int) -> None:
        self.url = redact_url(url)
        self.cause = cause
        self.attempts = attempts
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        super().__init__(f"registry unreachable: GET {self.url} failed after {tries}: {cause}")


class RegistryHTTPError(RegistryError):
    """The registry answered with an error status."""

    def __init__(self, status: int, url: str, message: str | None = None) -> None:
        self.status = status
        self.url = redact_url(url)
        # Not super(): RegistryServerError puts RegistryUnreachable next in the MRO.
        RegistryError.__init__(
            self, message or f"GET {self.url}: HTTP {status} {_reason(status)}".rstrip()
        )


class RegistryNotFound(RegistryHTTPError):
    """``404``/``410``: registries use it for "no such package or version"."""

    def __init__(self, status: int, url: str) -> None:
        super().__init__(status, url, f"not found: GET {redact_url(url)}: HTTP {status}")


class RegistryAuthError(RegistryHTTPError):
    """``401``/``403``: credentials for ``host`` are missing, wrong or insufficient."""

    def __init__(self, status: int, url: str, host: str) -> None:
        self.host = host
        what = "authentication required" if status == 401 else "access denied"
        super().__init__(
            status,
            url,
            f"{what} by {host}: GET {redact_url(url)}: HTTP {status} "
            f"(check the credentials configured for {host})",
        )


class RegistryServerError(RegistryHTTPError, RegistryUnreachable):
    """A retryable status (``429``, ``5xx``) that persisted through every attempt."""

    def __init__(self, status: int, url: str, attempts: int) -> None:
        self.cause = f"HTTP {status} {_reason(status)}".rstrip()
        self.attempts = attempts
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        RegistryHTTPError.__init__(
            self,
            status,
            url,
            f"registry unreachable: GET {redact_url(url)} failed after {tries}: {self.cause}",
        )


class OfflineCacheMiss(RegistryError):
    """Offline mode, and the cache holds no answer for ``url``."""

    def __init__(self, url: str) -> None:
        self.url = redact_url(url)
        super().__init__(f"offline: no cached response for GET {self.url}")


class ChecksumMismatch(RegistryError):
    """Downloaded bytes do not have the digest the registry published."""

    def __init__(self, algorithm: str, expected: str, actual: str, url: str | None = None) -> None:
        self.algorithm = algorithm
        self.expected = expected
        self.actual = actual
        self.url = redact_url(url) if url else None
        where = f" for {self.url}" if self.url else ""
        super().__init__(f"{algorithm} checksum mismatch{where}: expected {expected}, got {actual}")


def _reason(status: int) -> str:
    try:
        return httpx.codes.get_reason_phrase(status)
    except Exception:  # pragma: no cover - httpx returns "" for unknown codes
        return ""


# --- redaction --------------------------------------------------------------------------------


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with secret values (``Authorization``, cookies, ...) replaced."""
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


def redact_url(url: str) -> str:
    """``url`` without a password in its user-info part."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{REDACTED}@{host}"))


# --- responses and stats ----------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """A registry's answer. ``headers`` keys are lower-case."""

    url: str
    status: int
    headers: Mapping[str, str] = field(repr=False)
    content: bytes = field(repr=False)
    from_cache: bool = False

    def text(self, encoding: str = "utf-8") -> str:
        return self.content.decode(encoding)

    def json(self) -> Any:
        return json.loads(self.content)

    def __repr__(self) -> str:
        return (
            f"Response(url={redact_url(self.url)!r}, status={self.status}, "
            f"bytes={len(self.content)}, from_cache={self.from_cache})"
        )


@dataclass
class ClientStats:
    """What a client did: ``requests`` counts every request sent (retries and revalidations
    included), ``bytes_received`` the response bodies' sizes."""

    requests: int = 0
    bytes_received: int = 0
    cache_hits: int = 0
    revalidated: int = 0
    #: ``file://`` URLs read from disk (local indexes; not requests, never cached).
    local_reads: int = 0
    retries: int = 0


# --- cache ------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """``$TUSKOPS_CACHE_DIR/http``, else ``$XDG_CACHE_HOME/tuskops/http``, else
    ``~/.cache/tuskops/http``."""
    root = os.environ.get("TUSKOPS_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "http"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "tuskops" / "http"


def _cache_control(headers: Mapping[str, str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for part in headers.get("cache-control", "").split(","):
        name, eq, value = part.strip().partition("=")
        if name:
            out[name.strip().lower()] = value.strip().strip('"') if eq else None
    return out


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.timestamp()


def _int(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


@dataclass
class CacheEntry:
    url: str
    status: int
    headers: dict[str, str]
    content: bytes
    stored_at: float

    def lifetime(self) -> float:
        """Freshness lifetime in seconds; 0 when the response gives none (no heuristics)."""
        cc = _cache_control(self.headers)
        if "no-cache" in cc:
            return 0.0
        if "max-age" in cc:
            return float(_int(cc["max-age"]) or 0)
        expires = _http_date(self.headers.get("expires"))
        if expires is None:
            return 0.0  # absent or invalid Expires: stale at once
        date = _http_date(self.headers.get("date"))
        return max(0.0, expires - (date if date is not None else self.stored_at))

    def age(self, now: float) -> float:
        initial = float(_int(self.headers.get("age")) or 0)
        return initial + max(0.0, now - self.stored_at)

    def is_fresh(self, now: float) -> bool:
        return self.lifetime() > self.age(now)

    def validators(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if "etag" in self.headers:
            out["If-None-Match"] = self.headers["etag"]
        if "last-modified" in self.headers:
            out["If-Modified-Since"] = self.headers["last-modified"]
        return out


class HTTPCache:
    """Entries on disk, one file each, written atomically."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @staticmethod
    def key(method: str, url: str, accept: str | None) -> str:
        return hashlib.sha256(f"{method.upper()}\n{url}\n{accept or ''}".encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / key

    def load(self, key: str) -> CacheEntry | None:
        path = self.path(key)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        meta_line, sep, body = raw.partition(b"\n")
        try:
            if not sep:
                raise ValueError("no metadata line")
            meta = json.loads(meta_line)
            return CacheEntry(
                url=str(meta["url"]),
                status=int(meta["status"]),
                headers={str(k): str(v) for k, v in dict(meta["headers"]).items()},
                content=body,
                stored_at=float(meta["stored_at"]),
            )
        except (ValueError, KeyError, TypeError):
            self.delete(key)  # a damaged entry is a miss
            return None

    def store(self, key: str, entry: CacheEntry) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {
            "url": entry.url,
            "status": entry.status,
            "headers": entry.headers,
            "stored_at": entry.stored_at,
        }
        data = json.dumps(meta, ensure_ascii=True).encode() + b"\n" + entry.content
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


# --- the client -------------------------------------------------------------------------------


def _retry_after(value: str | None, now: float) -> float | None:
    if value is None:
        return None
    seconds = _int(value)
    if seconds is not None:
        return float(seconds)
    when = _http_date(value)
    return None if when is None else max(0.0, when - now)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


class RegistryClient:
    """An async HTTP client for registries, with an on-disk cache and retries.

    Use as ``async with RegistryClient() as client: await client.get(url)``, or call
    :meth:`aclose` when done. One instance belongs to one event loop at a time.
    """

    def __init__(
        self,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        use_cache: bool = True,
        offline: bool = False,
        prefer_offline: bool = False,
        auth: AuthHook | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        timeout: float = DEFAULT_TIMEOUT,
        backoff_base: float = 0.5,
        backoff_max: float = 10.0,
        retry_after_max: float = 60.0,
        sleep: SleepFn | None = None,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = USER_AGENT,
        ca_file: str | os.PathLike[str] | None = None,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.cache: HTTPCache | None = (
            HTTPCache(Path(cache_dir) if cache_dir is not None else default_cache_dir())
            if use_cache
            else None
        )
        self.offline = offline
        self.prefer_offline = prefer_offline
        self.auth = auth
        self.max_concurrency = max_concurrency
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self._sleep: SleepFn = sleep if sleep is not None else asyncio.sleep
        self._clock = clock
        self._rng = rng
        self._transport = transport
        self.user_agent = user_agent
        #: Certificate authorities to trust instead of the default bundle (pip's ``cert``,
        #: npm's ``cafile``): an internal registry's CA.
        self.ca_file = ca_file
        self.stats = ClientStats()
        self._client: httpx.AsyncClient | None = None
        self._semaphore: asyncio.Semaphore | None = None

    def __repr__(self) -> str:
        where = self.cache.directory if self.cache else None
        return (
            f"RegistryClient(cache_dir={str(where)!r}, offline={self.offline}, "
            f"max_concurrency={self.max_concurrency}, max_attempts={self.max_attempts})"
        )

    async def __aenter__(self) -> RegistryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        client, self._client, self._semaphore = self._client, None, None
        if client is not None:
            await client.aclose()

    def _http(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        if self._client is None or self._semaphore is None:
            verify: ssl.SSLContext | bool = True
            if self.ca_file is not None:
                try:
                    verify = ssl.create_default_context(cafile=os.fspath(self.ca_file))
                except (OSError, ssl.SSLError) as exc:
                    raise RegistryError(
                        f"cannot load certificate authorities from {self.ca_file}: {exc}"
                    ) from None
            self._client = httpx.AsyncClient(
                verify=verify,
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=True,
                headers={"User-Agent": self.user_agent},
                transport=self._transport,
            )
            self._semaphore = asyncio.Semaphore(self.max_concurrency)
        return self._client, self._semaphore

    # -- public API --

    async def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, accept: str | None = None
    ) -> Response:
        """GET ``url`` through the cache. Raises a :class:`RegistryError` unless the answer
        is a ``200`` (fresh from the network, or from the cache)."""
        if url[:5].lower() == "file:":
            return self._read_local(url)
        key = HTTPCache.key("GET", url, accept)
        entry = self.cache.load(key) if self.cache else None
        if self.offline:
            if entry is None:
                raise OfflineCacheMiss(url)
            self.stats.cache_hits += 1
            return self._from_entry(entry)
        if entry is not None and (self.prefer_offline or entry.is_fresh(self._clock())):
            self.stats.cache_hits += 1
            return self._from_entry(entry)

        request_headers: dict[str, str] = {}
        if accept:
            request_headers["Accept"] = accept
        request_headers.update(headers or {})
        if entry is not None:
            request_headers.update(entry.validators())
        if self.auth is not None:
            request_headers.update(self.auth(url) or {})

        resp = await self._send(url, request_headers)
        now = self._clock()
        resp_headers = {k.lower(): v for k, v in resp.headers.items()}
        if resp.status_code == 304 and entry is not None:
            self.stats.revalidated += 1
            entry.headers.update(
                {k: v for k, v in resp_headers.items() if k not in _NOT_UPDATED_BY_304}
            )
            if "age" not in resp_headers:
                entry.headers.pop("age", None)  # the age restarts now
            entry.stored_at = now
            if self.cache is not None:
                if "no-store" in _cache_control(entry.headers):
                    self.cache.delete(key)
                else:
                    self.cache.store(key, entry)
            return self._from_entry(entry)
        self._raise_for_status(resp, url)
        if self.cache is not None and resp.status_code == 200:
            if "no-store" in _cache_control(resp_headers):
                self.cache.delete(key)
            else:
                stored = CacheEntry(str(resp.url), 200, resp_headers, resp.content, now)
                self.cache.store(key, stored)
        return Response(str(resp.url), resp.status_code, resp_headers, resp.content, False)

    async def gather(self, urls: Iterable[str], *, accept: str | None = None) -> list[Response]:
        """``get`` every URL concurrently (bounded by ``max_concurrency``); results in order.
        The first failure is raised after the other requests finish."""
        results = await asyncio.gather(
            *(self.get(u, accept=accept) for u in urls), return_exceptions=True
        )
        out: list[Response] = []
        for r in results:
            if isinstance(r, BaseException):
                raise r
            out.append(r)
        return out

    async def download(
        self, url: str, hashes: Mapping[str, str], *, accept: str | None = None
    ) -> Response:
        """GET ``url`` and :func:`verify` the body. A bad cached copy is dropped and fetched
        again once; a bad download is not kept in the cache."""
        resp = await self.get(url, accept=accept)
        try:
            verify(resp.content, hashes, url=url)
        except ChecksumMismatch:
            self.evict(url, accept=accept)
            if not resp.from_cache or self.offline:
                raise
            resp = await self.get(url, accept=accept)
            try:
                verify(resp.content, hashes, url=url)
            except ChecksumMismatch:
                self.evict(url, accept=accept)
                raise
        return resp

    async def get_range(self, url: str, start: int, end: int | None = None) -> Response:
        """GET bytes ``start..end`` (inclusive; ``start < 0`` means the last ``-start`` bytes)
        of ``url``, uncached. The answer is ``206`` with that part, or ``200`` with the whole
        file when the server ignores ``Range`` (callers must handle both)."""
        if self.offline:
            raise OfflineCacheMiss(url)
        spec = f"bytes={start}" if start < 0 else f"bytes={start}-{'' if end is None else end}"
        headers = {"Range": spec}
        if self.auth is not None:
            headers.update(self.auth(url) or {})
        resp = await self._send(url, headers)
        if resp.status_code == 416:
            message = f"GET {redact_url(url)}: range {spec} not satisfiable"
            raise RegistryHTTPError(416, url, message)
        self._raise_for_status(resp, url)
        resp_headers = {k.lower(): v for k, v in resp.headers.items()}
        return Response(str(resp.url), resp.status_code, resp_headers, resp.content, False)

    def recall(self, key: str) -> bytes | None:
        """Content stored by :meth:`remember` under ``key`` (offline too), or None."""
        if self.cache is None:
            return None
        entry = self.cache.load(HTTPCache.key("MEMO", key, None))
        if entry is None:
            return None
        self.stats.cache_hits += 1
        return entry.content

    def remember(self, key: str, content: bytes) -> None:
        """Keep ``content`` under a *content-addressed* ``key`` (e.g. a wheel's sha256 plus
        what was read from it): what such a key names never changes, so it needs no
        freshness and costs no request when recalled."""
        if self.cache is not None:
            entry = CacheEntry(key, 200, {}, content, self._clock())
            self.cache.store(HTTPCache.key("MEMO", key, None), entry)

    def evict(self, url: str, *, accept: str | None = None) -> None:
        """Remove the cached response for ``url`` (and ``accept``), if any."""
        if self.cache is not None:
            self.cache.delete(HTTPCache.key("GET", url, accept))

    # -- internals --

    def _read_local(self, url: str) -> Response:
        """A ``file://`` URL, as pip reads local indexes: a directory means its ``index.html``.

        Local files are read as they are now (no cache, works offline); a missing one is a
        404 like any registry's."""
        path = Path(url2pathname(urlsplit(url).path))
        if path.is_dir():
            path = path / "index.html"
        try:
            content = path.read_bytes()
        except FileNotFoundError:
            raise RegistryNotFound(404, url) from None
        except OSError as exc:
            raise RegistryError(f"cannot read {url}: {exc.strerror or exc}") from None
        self.stats.local_reads += 1
        suffix = path.suffix.lower()
        ctype = {".json": "application/json", ".xml": "application/xml"}.get(suffix, "text/html")
        return Response(url, 200, {"content-type": ctype}, content, False)

    @staticmethod
    def _from_entry(entry: CacheEntry) -> Response:
        return Response(entry.url, entry.status, dict(entry.headers), entry.content, True)

    def _backoff(self, attempt: int) -> float:
        delay = min(self.backoff_max, self.backoff_base * 2.0 ** (attempt - 1))
        return delay / 2 + self._rng() * delay / 2

    async def _send(self, url: str, headers: Mapping[str, str]) -> httpx.Response:
        client, semaphore = self._http()
        for attempt in range(1, self.max_attempts + 1):
            last = attempt == self.max_attempts
            try:
                async with semaphore:
                    self.stats.requests += 1
                    resp = await client.get(url, headers=headers)
            except httpx.TransportError as exc:
                if last:
                    raise RegistryUnreachable(url, _describe(exc), attempt) from None
                self.stats.retries += 1
                await self._sleep(self._backoff(attempt))
                continue
            except httpx.InvalidURL as exc:
                raise RegistryError(f"invalid URL {redact_url(url)!r}: {exc}") from None
            self.stats.bytes_received += len(resp.content)
            if resp.status_code not in RETRY_STATUSES:
                return resp
            if last:
                raise RegistryServerError(resp.status_code, url, attempt)
            self.stats.retries += 1
            delay = self._backoff(attempt)
            if resp.status_code in (429, 503):
                hinted = _retry_after(resp.headers.get("retry-after"), self._clock())
                if hinted is not None:
                    delay = min(hinted, self.retry_after_max)
            await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _raise_for_status(resp: httpx.Response, url: str) -> None:
        status = resp.status_code
        if 200 <= status < 300:
            return
        if status in (404, 410):
            raise RegistryNotFound(status, url)
        if status in (401, 403):
            raise RegistryAuthError(status, url, httpx.URL(url).host)
        raise RegistryHTTPError(status, url)


#: Headers a 304 must not overwrite in the stored entry (RFC 9111 §3.2).
_NOT_UPDATED_BY_304 = frozenset({"content-length", "content-encoding", "transfer-encoding"})


# --- checksums --------------------------------------------------------------------------------

_ALGORITHMS = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}
_SRI = re.compile(r"^(sha1|sha256|sha384|sha512)-([A-Za-z0-9+/=_-]+)(\?.*)?$", re.IGNORECASE)


def _decode_digest(algorithm: str, text: str) -> bytes | None:
    size = _ALGORITHMS[algorithm]
    if len(text) == 2 * size and re.fullmatch(r"[0-9a-fA-F]+", text):
        return bytes.fromhex(text)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            raw = decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            continue
        if len(raw) == size:
            return raw
    return None


def verify(content: bytes, hashes: Mapping[str, str], *, url: str | None = None) -> tuple[str, ...]:
    """Check ``content`` against every supported digest in ``hashes``; return the algorithms
    checked.

    Keys name the algorithm (``sha1``, ``sha256``, ``sha384``, ``sha512``; case and dashes
    ignored); values are hex or base64. A value may also be an SRI string such as npm's
    ``integrity`` (``sha512-<base64>``, several separated by spaces), whatever its key.
    Unsupported algorithms (``md5``, ``blake2b_256``, ...) are skipped, but at least one
    supported digest is required: nothing verified raises, it never passes silently.
    """
    checked: list[str] = []
    for key, value in hashes.items():
        for token in str(value).split():
            sri = _SRI.match(token)
            if sri:
                algorithm, text = sri.group(1).lower(), sri.group(2)
            else:
                algorithm, text = key.lower().replace("-", "").replace("_", ""), token
            if algorithm not in _ALGORITHMS:
                continue
            expected = _decode_digest(algorithm, text)
            if expected is None:
                raise RegistryError(f"unreadable {algorithm} digest {token!r} for {key!r}")
            actual = hashlib.new(algorithm, content).digest()
            if actual != expected:
                raise ChecksumMismatch(algorithm, token, _render_like(token, actual, sri), url)
            checked.append(algorithm)
    if not checked:
        names = ", ".join(sorted(hashes)) or "none given"
        where = f" for {redact_url(url)}" if url else ""
        raise RegistryError(f"no supported checksum to verify{where} ({names})")
    return tuple(checked)


def _render_like(expected: str, actual: bytes, sri: re.Match[str] | None) -> str:
    """The actual digest written the way the expected one was (hex, base64 or SRI)."""
    if sri:
        return f"{sri.group(1).lower()}-{base64.b64encode(actual).decode()}"
    if len(expected) == 2 * len(actual) and re.fullmatch(r"[0-9a-fA-F]+", expected):
        return actual.hex()
    return base64.b64encode(actual).decode()


# --- sync wrappers for CLI callers ------------------------------------------------------------


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code (the CLI)."""
    return asyncio.run(coro)


def get_sync(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    accept: str | None = None,
    **client_options: Any,
) -> Response:
    """One GET from synchronous code, with a client built from ``client_options``."""

    async def _get() -> Response:
        async with RegistryClient(**client_options) as client:
            return await client.get(url, headers=headers, accept=accept)

    return run(_get())
