"""Talking to a Kubernetes API server: get, list, server-side apply, delete, on plain dicts.

What and why:

* Objects are plain dicts (``apiVersion``/``kind``/``metadata``...), because the apply engine
  handles any kind, CRDs included, and compares manifests as data.
* In lightkube's style, every request is built by a pure function (:class:`ApiRequest`) and every
  response parsed by one; :class:`KubeClient` only sends. Kinds are resolved to their plural and
  scope by API discovery (``/api/v1``, ``/apis/<group>/<version>``), parsed by
  :func:`find_resource` and cached per client.
* Deviation from "use lightkube's AsyncClient": lightkube provides the configuration and the
  authenticated HTTP client (TLS, client certificates, tokens, exec plugins) that requests are
  sent through, but not its typed-resource client: that client needs a resource class per kind
  before the first call and sets dry-run per client, while tuskops needs per-call ``dryRun``,
  dicts of any kind, and its own retries. lightkube 1.0 uses the ``httpx2`` package (imported as
  ``httpx2``), so its transport errors are ``httpx2`` errors.
* Failures are retried with exponential backoff and jitter (429, honouring ``Retry-After``;
  5xx except 501; connection errors and timeouts), a bounded number of times. A
  :class:`CircuitBreaker` per API server counts consecutive server failures (5xx and
  unreachable; 429 and 4xx mean the server works) and, once open, fails every call fast until
  its cooldown has passed; then one trial call is let through (half-open).
* Errors are mapped at one boundary (:meth:`KubeClient._send`) to :class:`~tuskops.errors.
  ClusterError` with the HTTP status and the Kubernetes ``Status`` reason and message. An apply
  conflict is a :class:`ApplyConflictError` carrying ``(manager, field)`` pairs from
  ``Status.details.causes``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx2
from lightkube.config import client_adapter
from lightkube.core.exceptions import ConfigError

from tuskops.errors import ClusterError
from tuskops.kubernetes.kubeconfig import ClusterConfig, load_cluster

__all__ = [
    "ApiRequest",
    "ApiResponse",
    "ApplyConflictError",
    "CircuitBreaker",
    "KubeClient",
    "ResourceInfo",
    "RetryPolicy",
    "apply_request",
    "delete_request",
    "discovery_request",
    "error_from_response",
    "find_resource",
    "format_label_selector",
    "get_request",
    "list_request",
    "load_cluster",
    "parse_list",
    "status_patch_request",
]

JSON = "application/json"
APPLY_PATCH = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
Propagation = Literal["Foreground", "Background", "Orphan"]


# --- resources and discovery --------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceInfo:
    """What discovery says about a kind: its plural (for URLs) and whether it is namespaced."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def base(self) -> str:
        """``/api/v1`` for the core group, ``/apis/<group>/<version>`` otherwise."""
        return api_base(self.api_version)

    def path(
        self, namespace: str | None = None, name: str | None = None, subresource: str | None = None
    ) -> str:
        """The URL path of the collection, or of one object (and its subresource)."""
        parts = [self.base]
        if self.namespaced and namespace:
            parts += ["namespaces", namespace]
        parts.append(self.plural)
        if name is not None:
            parts.append(name)
            if subresource:
                parts.append(subresource)
        return "/".join(parts)


def api_base(api_version: str) -> str:
    """The discovery path of an ``apiVersion``: ``v1`` → ``/api/v1``, ``apps/v1`` →
    ``/apis/apps/v1``."""
    if not api_version or api_version.count("/") > 1:
        raise ClusterError(f"invalid apiVersion {api_version!r}")
    return f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"


def find_resource(discovery: Mapping[str, Any], api_version: str, kind: str) -> ResourceInfo | None:
    """The resource serving ``kind`` in an ``APIResourceList``; None if it has none. Pure."""
    for entry in discovery.get("resources") or []:
        name = entry.get("name", "")
        if entry.get("kind") == kind and name and "/" not in name:
            return ResourceInfo(api_version, kind, name, bool(entry.get("namespaced")))
    return None


# --- requests (pure) ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request to the API server, before it is sent."""

    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = (("Accept", JSON),)
    body: bytes | None = None
    #: What the request is about, for error messages (``Deployment shop/web``).
    what: str = ""


@dataclass(frozen=True)
class ApiResponse:
    """The status, headers and body of an answer."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def describe(kind: str, name: str | None, namespace: str | None) -> str:
    """``Kind namespace/name`` for messages."""
    if name is None:
        return f"{kind} list" + (f" in {namespace}" if namespace else "")
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def discovery_request(api_version: str) -> ApiRequest:
    return ApiRequest("GET", api_base(api_version), what=f"API discovery of {api_version}")


def get_request(info: ResourceInfo, name: str, namespace: str | None) -> ApiRequest:
    return ApiRequest("GET", info.path(namespace, name), what=describe(info.kind, name, namespace))


def format_label_selector(selector: str | Mapping[str, str] | None) -> str | None:
    """``{"app": "web", "tier": "api"}`` → ``app=web,tier=api``; strings pass through."""
    if selector is None or isinstance(selector, str):
        return selector or None
    return ",".join(f"{key}={value}" for key, value in sorted(selector.items())) or None


def list_request(
    info: ResourceInfo,
    namespace: str | None,
    label_selector: str | Mapping[str, str] | None = None,
    *,
    limit: int = 500,
    continue_token: str | None = None,
) -> ApiRequest:
    params: list[tuple[str, str]] = [("limit", str(limit))]
    selector = format_label_selector(label_selector)
    if selector:
        params.append(("labelSelector", selector))
    if continue_token:
        params.append(("continue", continue_token))
    return ApiRequest(
        "GET",
        info.path(namespace),
        tuple(params),
        what=describe(info.kind, None, namespace if info.namespaced else None),
    )


def apply_request(
    info: ResourceInfo,
    obj: Mapping[str, Any],
    namespace: str | None,
    *,
    field_manager: str,
    force: bool,
    dry_run: bool,
) -> ApiRequest:
    """Server-side apply: ``PATCH`` with ``application/apply-patch+yaml`` (JSON is YAML)."""
    name = (obj.get("metadata") or {}).get("name")
    if not isinstance(name, str) or not name:
        raise ClusterError(f"cannot apply a {info.kind} without metadata.name")
    params: list[tuple[str, str]] = [("fieldManager", field_manager)]
    if force:
        params.append(("force", "true"))
    if dry_run:
        params.append(("dryRun", "All"))
    return ApiRequest(
        "PATCH",
        info.path(namespace, name),
        tuple(params),
        (("Accept", JSON), ("Content-Type", APPLY_PATCH)),
        json.dumps(obj, sort_keys=True).encode(),
        what=describe(info.kind, name, namespace if info.namespaced else None),
    )


def delete_request(
    info: ResourceInfo,
    name: str,
    namespace: str | None,
    *,
    dry_run: bool,
    propagation: Propagation,
) -> ApiRequest:
    options: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "propagationPolicy": propagation,
    }
    params: tuple[tuple[str, str], ...] = ()
    if dry_run:
        options["dryRun"] = ["All"]
        params = (("dryRun", "All"),)
    return ApiRequest(
        "DELETE",
        info.path(namespace, name),
        params,
        (("Accept", JSON), ("Content-Type", JSON)),
        json.dumps(options).encode(),
        what=describe(info.kind, name, namespace if info.namespaced else None),
    )


def status_patch_request(
    info: ResourceInfo,
    name: str,
    namespace: str | None,
    status: Mapping[str, Any],
    *,
    field_manager: str,
) -> ApiRequest:
    """A JSON merge patch of the ``status`` subresource."""
    return ApiRequest(
        "PATCH",
        info.path(namespace, name, "status"),
        (("fieldManager", field_manager),),
        (("Accept", JSON), ("Content-Type", MERGE_PATCH)),
        json.dumps({"status": dict(status)}).encode(),
        what=describe(info.kind, name, namespace if info.namespaced else None) + " status",
    )


def merge_patch_request(
    info: ResourceInfo,
    name: str,
    namespace: str | None,
    patch: Mapping[str, Any],
    *,
    field_manager: str,
    subresource: str | None = None,
    dry_run: bool = False,
) -> ApiRequest:
    """A JSON merge patch (RFC 7386) of an object or one of its subresources (``scale``)."""
    params: tuple[tuple[str, str], ...] = (("fieldManager", field_manager),)
    if dry_run:
        params += (("dryRun", "All"),)
    what = describe(info.kind, name, namespace if info.namespaced else None)
    return ApiRequest(
        "PATCH",
        info.path(namespace, name, subresource) if subresource else info.path(namespace, name),
        params,
        (("Accept", JSON), ("Content-Type", MERGE_PATCH)),
        json.dumps(dict(patch)).encode(),
        what=what + (f" {subresource}" if subresource else ""),
    )


# --- responses (pure) ---------------------------------------------------------------------------


def parse_list(doc: Any, api_version: str, kind: str) -> tuple[list[dict[str, Any]], str | None]:
    """The items of a ``<Kind>List`` (with ``apiVersion``/``kind`` filled in, as the server
    omits them) and the ``continue`` token. Pure."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("items", []), list):
        raise ClusterError(f"the API server's {kind} list is not a list object")
    items = []
    for item in doc.get("items") or []:
        if not isinstance(item, Mapping):
            raise ClusterError(f"the API server's {kind} list holds a non-object item")
        items.append({"apiVersion": api_version, "kind": kind, **item})
    token = (doc.get("metadata") or {}).get("continue") or None
    return items, token


class ApplyConflictError(ClusterError):
    """Server-side apply refused: fields owned by other managers would change.

    ``conflicts`` are ``(manager, field)`` pairs, e.g. ``("kubectl-edit", ".spec.replicas")``;
    ``status_doc`` is the server's whole ``Status`` (for
    :func:`tuskops.kubernetes.conflicts.parse_conflict_status`, which also reads operation,
    subresource and time). Applying again with ``force=True`` takes the fields over.
    """

    def __init__(
        self,
        message: str,
        conflicts: Sequence[tuple[str, str]],
        *,
        status: int = 409,
        status_doc: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, status=status, reason="Conflict")
        self.conflicts: list[tuple[str, str]] = list(conflicts)
        self.status_doc: Mapping[str, Any] = status_doc or {}


# The manager is Go-%q-quoted: 'conflict with "kubectl-edit" using apps/v1 at <time>'.
_CONFLICT_MANAGER = re.compile(r'conflict with ("(?:[^"\\]|\\.)*")')


def _go_unquote(quoted: str) -> str:
    try:
        value = json.loads(quoted)
    except ValueError:
        return quoted[1:-1]
    return value if isinstance(value, str) else quoted[1:-1]


def conflict_causes(details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(manager, field)`` from ``Status.details.causes`` of type ``FieldManagerConflict``.

    A cause's type is serialized under the JSON key ``reason`` (Go ``StatusCause.Type``);
    ``type`` is accepted as well."""
    out: list[tuple[str, str]] = []
    for cause in details.get("causes") or []:
        if not isinstance(cause, Mapping):
            continue
        if "FieldManagerConflict" not in (cause.get("reason"), cause.get("type")):
            continue
        match = _CONFLICT_MANAGER.search(str(cause.get("message", "")))
        manager = _go_unquote(match.group(1)) if match else str(cause.get("message", ""))
        out.append((manager, str(cause.get("field", ""))))
    return out


def error_from_response(response: ApiResponse, what: str, host: str) -> ClusterError:
    """The :class:`ClusterError` for a failed answer, from its ``Status`` if it has one. Pure."""
    status_doc: Mapping[str, Any] = {}
    try:
        doc = response.json()
    except (ValueError, UnicodeDecodeError):
        doc = None
    if isinstance(doc, Mapping) and doc.get("kind") == "Status":
        status_doc = doc
    reason = status_doc.get("reason") or None
    message = status_doc.get("message") or response.body[:200].decode("utf-8", "replace").strip()
    text = f"{what}: API server {host} answered {response.status}"
    text += f" {reason}" if reason else ""
    text += f": {message}" if message else ""
    details = status_doc.get("details") or {}
    if response.status == 409 and reason == "Conflict" and isinstance(details, Mapping):
        conflicts = conflict_causes(details)
        if conflicts:
            return ApplyConflictError(
                text, conflicts, status=response.status, status_doc=status_doc
            )
    return ClusterError(text, status=response.status, reason=reason)


def retry_after_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None if absent or bad."""
    value = headers.get("retry-after") or headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


# --- retries and the circuit breaker ------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded.

    Attempt ``n`` (0-based) waits ``min(max_delay, base_delay * 2**n)`` scaled by a random
    factor in ``[0.5, 1.0)`` ("equal jitter"); a ``Retry-After`` is honoured as given, up to
    ``max_retry_after``.
    """

    attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    random: Callable[[], float] = field(default=random.random, compare=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        cap = min(self.max_delay, self.base_delay * float(2**attempt))
        return cap * (0.5 + 0.5 * self.random())


def is_retryable_status(status: int) -> bool:
    return status == 429 or (status >= 500 and status != 501)


class CircuitBreaker:
    """Fails calls to one API server fast after ``threshold`` consecutive failures.

    Closed: calls go through. Open (after ``threshold`` failures): every call fails at once,
    for ``cooldown`` seconds. Half-open (cooldown passed): one trial call goes through; its
    success closes the circuit, its failure opens it again for another cooldown.
    """

    def __init__(
        self,
        host: str,
        *,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.threshold = threshold
        self.cooldown = cooldown
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.last_error = ""
        self._trial_in_flight = False

    @property
    def state(self) -> Literal["closed", "open", "half-open"]:
        if self.opened_at is None:
            return "closed"
        if self.clock() - self.opened_at >= self.cooldown:
            return "half-open"
        return "open"

    def before_call(self) -> None:
        """Raise :class:`ClusterError` if the call must not go to the server now."""
        state = self.state
        if state == "closed":
            return
        if state == "half-open" and not self._trial_in_flight:
            self._trial_in_flight = True
            return
        assert self.opened_at is not None
        remaining = max(0.0, self.cooldown - (self.clock() - self.opened_at))
        if state == "half-open":
            detail = "a trial call is in flight"
        else:
            detail = f"circuit open for {remaining:.0f}s"
        raise ClusterError(
            f"API server {self.host} keeps failing: {detail}; last error: {self.last_error}",
            reason="CircuitOpen",
        )

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self._trial_in_flight = False

    def abandon_trial(self) -> None:
        """A call ended without an answer about the server (cancelled, credentials failed):
        a half-open trial may be made again."""
        self._trial_in_flight = False

    def record_failure(self, error: str) -> None:
        self.last_error = error
        self.failures += 1
        if self._trial_in_flight or self.failures >= self.threshold:
            self.opened_at = self.clock()
        self._trial_in_flight = False


_BREAKERS: dict[str, CircuitBreaker] = {}


def breaker_for(server: str) -> CircuitBreaker:
    """The process-wide breaker of an API server (shared by every client of that server)."""
    if server not in _BREAKERS:
        _BREAKERS[server] = CircuitBreaker(server)
    return _BREAKERS[server]


# --- the client ---------------------------------------------------------------------------------


class KubeClient:
    """An async client for one API server, on plain dict objects.

    Use as ``async with KubeClient(load_cluster()) as kube: ...``. ``sleep``, ``clock`` (via the
    breaker) and ``transport`` are injectable for tests.
    """

    def __init__(
        self,
        config: ClusterConfig,
        *,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
        transport: httpx2.AsyncBaseTransport | None = None,
        page_size: int = 500,
    ) -> None:
        self.config = config
        self.page_size = page_size
        self.namespace = config.namespace
        self.retry = retry or RetryPolicy()
        self.breaker = breaker or breaker_for(config.server)
        self._sleep = sleep
        self._wall_clock = wall_clock
        params = client_adapter.ConnectionParams(
            timeout=httpx2.Timeout(timeout),
            transport=transport,  # type: ignore[arg-type]  # lightkube types it as the sync base
        )
        try:
            self._http = client_adapter.AsyncClient(config.single, params)
        except (ConfigError, OSError, ValueError) as err:
            raise ClusterError(
                f"cannot connect to {config.host} (context {config.context}): {err}"
            ) from err
        self._resources: dict[tuple[str, str], ResourceInfo] = {}
        self._discovery: dict[str, Mapping[str, Any]] = {}

    async def __aenter__(self) -> KubeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the one boundary --

    async def _send(self, request: ApiRequest) -> ApiResponse:
        """Send with retries and the circuit breaker; map every failure to ClusterError.

        Returns any answer below 500 except 429 (the caller decides what a 404 means)."""
        host = self.config.host
        attempts = max(1, self.retry.attempts)
        last = ""
        for attempt in range(attempts):
            self.breaker.before_call()
            retry_after: float | None = None
            try:
                raw = await self._http.request(
                    request.method,
                    request.path,
                    params=list(request.params),
                    headers=dict(request.headers),
                    content=request.body,
                )
                body = await raw.aread()
            except httpx2.TransportError as err:
                last = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
                self.breaker.record_failure(last)
                failure: ClusterError = ClusterError(
                    f"{request.what}: API server {host} unreachable: {last}"
                )
            except (ConfigError, OSError) as err:  # exec credential plugin, token file...
                self.breaker.abandon_trial()
                raise ClusterError(f"{request.what}: cannot authenticate to {host}: {err}") from err
            except BaseException:  # cancelled: no verdict on the server
                self.breaker.abandon_trial()
                raise
            else:
                response = ApiResponse(raw.status_code, dict(raw.headers), body)
                if not is_retryable_status(response.status):
                    self.breaker.record_success()
                    return response
                failure = error_from_response(response, request.what, host)
                last = str(failure)
                if response.status == 429:
                    self.breaker.record_success()  # the server works; it asks us to wait
                    retry_after = retry_after_seconds(response.headers, self._wall_clock())
                else:
                    self.breaker.record_failure(last)
            if attempt + 1 >= attempts:
                if attempts > 1:
                    failure.args = (f"{failure} (gave up after {attempts} attempts)",)
                raise failure
            await self._sleep(self.retry.delay(attempt, retry_after))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call(self, request: ApiRequest, *, allow_404: bool = False) -> Any:
        response = await self._send(request)
        if response.status == 404 and allow_404:
            return None
        if response.status >= 400:
            raise error_from_response(response, request.what, self.config.host)
        try:
            return response.json()
        except (ValueError, UnicodeDecodeError) as err:
            raise ClusterError(
                f"{request.what}: API server {self.config.host} answered with invalid JSON",
                status=response.status,
            ) from err

    # -- discovery --

    async def resource(self, api_version: str, kind: str) -> ResourceInfo:
        """The plural and scope of a kind, by API discovery (cached)."""
        key = (api_version, kind)
        if key in self._resources:
            return self._resources[key]
        doc = self._discovery.get(api_version)
        if doc is None:
            request = discovery_request(api_version)
            found = await self._call(request, allow_404=True)
            if found is None:
                raise ClusterError(
                    f"the API server {self.config.host} does not serve {api_version} "
                    f"(is the CRD for {kind} installed?)",
                    status=404,
                    reason="UnknownKind",
                )
            if not isinstance(found, Mapping):
                raise ClusterError(f"API discovery of {api_version}: not an APIResourceList")
            doc = self._discovery[api_version] = found
        info = find_resource(doc, api_version, kind)
        if info is None:
            raise ClusterError(
                f"the API server {self.config.host} serves {api_version} but not kind {kind}",
                reason="UnknownKind",
            )
        self._resources[key] = info
        return info

    def _namespace(self, info: ResourceInfo, namespace: str | None) -> str | None:
        if not info.namespaced:
            return None
        return namespace or self.namespace

    # -- operations --

    async def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """The object, or None if it does not exist. ``namespace`` defaults to the context's."""
        info = await self.resource(api_version, kind)
        doc = await self._call(
            get_request(info, name, self._namespace(info, namespace)), allow_404=True
        )
        return dict(doc) if isinstance(doc, Mapping) else None

    async def list(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        label_selector: str | Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """Every object of a kind (all namespaces when ``namespace`` is None), page by page."""
        info = await self.resource(api_version, kind)
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            request = list_request(
                info, namespace, label_selector, limit=self.page_size, continue_token=token
            )
            page, token = parse_list(await self._call(request), api_version, kind)
            items.extend(page)
            if not token:
                return items

    async def apply(
        self,
        obj: Mapping[str, Any],
        *,
        field_manager: str = "tuskops",
        force: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Server-side apply ``obj``; the object as the server has (or, dry-run, would have) it.

        Raises :class:`ApplyConflictError` when other managers own fields that would change.
        """
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not isinstance(kind, str):
            raise ClusterError("cannot apply an object without apiVersion and kind")
        info = await self.resource(api_version, kind)
        namespace = self._namespace(info, (obj.get("metadata") or {}).get("namespace"))
        request = apply_request(
            info, obj, namespace, field_manager=field_manager, force=force, dry_run=dry_run
        )
        doc = await self._call(request)
        if not isinstance(doc, Mapping):
            raise ClusterError(f"{request.what}: apply answered with no object")
        return dict(doc)

    async def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        propagation: Propagation = "Foreground",
    ) -> dict[str, Any] | None:
        """Delete; the server's answer (the object, or a ``Status``), None if it was absent."""
        info = await self.resource(api_version, kind)
        request = delete_request(
            info,
            name,
            self._namespace(info, namespace),
            dry_run=dry_run,
            propagation=propagation,
        )
        doc = await self._call(request, allow_404=True)
        return dict(doc) if isinstance(doc, Mapping) else None

    async def patch(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None,
        patch: Mapping[str, Any],
        *,
        field_manager: str = "tuskops",
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """A JSON merge patch of the object (or ``subresource``, e.g. ``scale``): what
        ``kubectl rollout restart`` and ``kubectl scale`` send."""
        info = await self.resource(api_version, kind)
        request = merge_patch_request(
            info,
            name,
            self._namespace(info, namespace),
            patch,
            field_manager=field_manager,
            subresource=subresource,
            dry_run=dry_run,
        )
        doc = await self._call(request)
        if not isinstance(doc, Mapping):
            raise ClusterError(f"{request.what}: patch answered with no object")
        return dict(doc)

    async def create(self, obj: Mapping[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """``POST`` a new object: for create-only kinds (access reviews, TokenRequests) that
        server-side apply cannot make; a 409 if it exists."""
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        info = await self.resource(api_version, kind)
        meta = obj.get("metadata") or {}
        namespace = self._namespace(info, meta.get("namespace")) if info.namespaced else None
        request = ApiRequest(
            "POST",
            info.path(namespace),
            (("dryRun", "All"),) if dry_run else (),
            (("Accept", JSON), ("Content-Type", JSON)),
            json.dumps(dict(obj)).encode(),
            what=f"create {kind}",
        )
        doc = await self._call(request)
        if not isinstance(doc, Mapping):
            raise ClusterError(f"{request.what}: answered with no object")
        return dict(doc)

    async def get_path(self, path: str) -> Any:
        """GET a path that is not an object (``/apis`` discovery, ``/version``), through the
        same retries, breaker and error mapping. None for a 404."""
        return await self._call(ApiRequest("GET", path, what=path), allow_404=True)

    async def patch_status(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None,
        status: Mapping[str, Any],
        *,
        field_manager: str = "tuskops",
    ) -> dict[str, Any]:
        """Merge ``status`` into the object's status subresource (as a controller would)."""
        info = await self.resource(api_version, kind)
        request = status_patch_request(
            info, name, self._namespace(info, namespace), status, field_manager=field_manager
        )
        doc = await self._call(request)
        if not isinstance(doc, Mapping):
            raise ClusterError(f"{request.what}: status patch answered with no object")
        return dict(doc)
