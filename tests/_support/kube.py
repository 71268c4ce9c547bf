"""A Kubernetes API *emulator* for tests: kmock's KubernetesEmulator plus what tuskops needs.

This is an emulator, not a cluster: no controllers, no scheduler, no admission, no validation
against OpenAPI schemas. It runs in-process, in a background thread with its own event loop,
on a real local port, so lightkube connects over HTTP as it does to a real API server.

What kmock gives: the HTTP server on a port, API discovery (``/api``, ``/apis``,
``/api/v1``, ``/apis/<group>/<version>``) from the resources registered below, and Kubernetes
``Status`` error bodies.

What this harness adds, because kmock 0.8's object handling does not match the API server
(it merges dicts blindly, knows no scope, cannot parse ``/api/v1/namespaces[/<name>]``, and has
no server-side apply, dry-run, field managers, label selectors or status subresource): every
request under a registered resource is served here instead, emulating per the Kubernetes docs:

* **get / list** — list pagination (``limit``/``continue``), all-namespaces lists, list items
  without ``apiVersion``/``kind`` (as the real server sends them), ``labelSelector`` with
  ``=``, ``==``, ``!=``, ``in``, ``notin``, ``key`` and ``!key``.
* **server-side apply** (``PATCH`` ``application/apply-patch+yaml``): creates the object when
  absent; ``fieldManager`` is required; fields are tracked per manager in
  ``metadata.managedFields`` (``FieldsV1``, operation ``Apply``); changing a field owned by
  another manager to a different value is a ``409 Conflict`` shaped as apimachinery's
  (``Apply failed with 1 conflict: conflict with "<manager>": .spec.replicas``; causes of
  ``reason: FieldManagerConflict`` with the manager printed as ``printManager`` does — plus
  ``with subresource "<s>"`` and, for ``Update`` entries, ``using <apiVersion> at <time>`` —
  and the field path) unless ``force=true``, which takes ownership; setting the same value shares
  ownership; fields the manager applied before and no longer applies are removed unless another
  manager owns them; ``status`` is ignored for kinds with a status subresource; a no-op apply
  does not change ``resourceVersion``.
  **Simplification:** every list is atomic (owned and replaced whole). The real server merges
  associative lists (``containers`` by ``name``, ``ports`` by ``containerPort``...) item by item.
* **merge patch** (``application/merge-patch+json``, RFC 7386) of an object or of its
  ``status`` subresource, recorded as an ``Update`` entry of its field manager.
* **create** (``POST``), **delete** (with ``DeleteOptions``): objects with finalizers get a
  ``deletionTimestamp`` and stay; deleting a namespace deletes its objects at once; Foreground,
  Background and Orphan end in the same state, since there is no garbage collector — deleting an
  object that others name in ``ownerReferences`` is refused as not emulated.
* **dryRun=All** on apply, patch, create and delete: the answer is computed, nothing is stored.
* Namespaced objects can be created only in an existing namespace (``default`` and
  ``kube-system`` exist). ``uid``, ``creationTimestamp``, ``resourceVersion`` (one counter) and
  ``generation`` (bumped when anything outside ``metadata``/``status`` changes) are set.
* :meth:`KubeEmulator.fail_next` injects answers (``503``, ``429`` with ``Retry-After``...)
  before the next requests.

Not emulated, answered ``501 NotEmulated`` *and* recorded in :attr:`KubeEmulator.unsupported`
(the fixture fails the test at teardown if anything is there): watch, ``fieldSelector``,
``PUT``, strategic-merge and JSON patches, unregistered subresources, cascading deletion of
dependents, and resources that are not registered.
"""

from __future__ import annotations

import asyncio
import copy
import datetime
import itertools
import json
import re
import threading
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp.web
import attrs
import yaml
from kmock import KubernetesEmulator, ResourceInfo, Server

# (apiVersion, plural, kind, namespaced, has a status subresource)
RESOURCES: tuple[tuple[str, str, str, bool, bool], ...] = (
    ("v1", "namespaces", "Namespace", False, True),
    ("v1", "configmaps", "ConfigMap", True, False),
    ("v1", "secrets", "Secret", True, False),
    ("v1", "services", "Service", True, True),
    ("v1", "serviceaccounts", "ServiceAccount", True, False),
    ("v1", "pods", "Pod", True, True),
    ("v1", "events", "Event", True, False),
    ("v1", "resourcequotas", "ResourceQuota", True, True),
    ("v1", "limitranges", "LimitRange", True, False),
    ("apps/v1", "deployments", "Deployment", True, True),
    ("apps/v1", "replicasets", "ReplicaSet", True, True),
    ("networking.k8s.io/v1", "ingresses", "Ingress", True, True),
    ("networking.k8s.io/v1", "networkpolicies", "NetworkPolicy", True, False),
    ("autoscaling/v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, True),
    ("policy/v1", "poddisruptionbudgets", "PodDisruptionBudget", True, True),
    ("rbac.authorization.k8s.io/v1", "roles", "Role", True, False),
    ("rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding", True, False),
    ("rbac.authorization.k8s.io/v1", "clusterroles", "ClusterRole", False, False),
    ("rbac.authorization.k8s.io/v1", "clusterrolebindings", "ClusterRoleBinding", False, False),
)

VERBS = {"create", "delete", "get", "list", "patch", "update", "watch"}
#: Metadata the server owns; never part of a manager's field set.
SERVER_METADATA = {
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
}

Path_ = tuple[str, ...]


@dataclass(frozen=True)
class Res:
    api_version: str
    plural: str
    kind: str
    namespaced: bool
    status: bool


class Failure(Exception):
    """An API error answered as a ``Status``."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details or {}

    def status(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Status",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            doc["details"] = self.details
        return doc


def _now() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- field sets (FieldsV1) ------------------------------------------------------------------------


def leaf_paths(obj: Any, prefix: Path_ = ()) -> set[Path_]:
    """The fields an applied configuration sets: leaves of maps; lists are atomic leaves."""
    if isinstance(obj, dict) and (obj or not prefix):
        out: set[Path_] = set()
        for key, value in obj.items():
            out |= leaf_paths(value, (*prefix, key))
        return out
    return {prefix}


def managed_paths(obj: Mapping[str, Any]) -> set[Path_]:
    """Fields of an object a manager can own (identity and server metadata excluded)."""
    paths = {p for p in leaf_paths(dict(obj)) if p and p[0] not in ("apiVersion", "kind")}
    return {p for p in paths if not (p[0] == "metadata" and len(p) > 1 and p[1] in SERVER_METADATA)}


def to_fields_v1(paths: set[Path_]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for key in path:
            node = node.setdefault(f"f:{key}", {})
    return root


def from_fields_v1(doc: Mapping[str, Any], prefix: Path_ = ()) -> set[Path_]:
    out: set[Path_] = set()
    for key, value in doc.items():
        if not key.startswith("f:"):
            continue  # ".": {} and k:/v: keys do not occur, as lists are atomic here
        path = (*prefix, key[2:])
        out |= from_fields_v1(value, path) if value else {path}
    return out


_MISSING = object()


def get_path(obj: Any, path: Path_) -> Any:
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return _MISSING
        obj = obj[key]
    return obj


def remove_path(obj: dict[str, Any], path: Path_) -> None:
    parents: list[tuple[dict[str, Any], str]] = []
    node: Any = obj
    for key in path[:-1]:
        if not isinstance(node, dict) or key not in node:
            return
        parents.append((node, key))
        node = node[key]
    if isinstance(node, dict):
        node.pop(path[-1], None)
    for parent, key in reversed(parents):  # prune maps left empty
        if parent[key] == {}:
            del parent[key]
        else:
            break


def deep_merge(base: dict[str, Any], patch: Mapping[str, Any]) -> None:
    """Apply-style merge: maps merge, everything else (lists included) replaces."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and value:
            deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def merge_patch(base: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def dotted(path: Path_) -> str:
    return "." + ".".join(path)


def print_manager(entry: Mapping[str, Any]) -> str:
    """How the API server names a managedFields entry in conflicts (apimachinery's
    ``printManager``): Go-quoted name, ``with subresource "<s>"``, and for ``Update`` entries
    ``using <apiVersion> at <time>``."""
    text = json.dumps(entry["manager"])
    if entry.get("subresource"):
        text += f" with subresource {json.dumps(entry['subresource'])}"
    if entry.get("operation") == "Update":
        text += f" using {entry.get('apiVersion')}"
        if entry.get("time"):
            text += f" at {entry['time']}"
    return text


def conflict_failure(
    api_version: str, conflicts: list[tuple[int, Path_]], entries: list[dict[str, Any]]
) -> Failure:
    """The 409 ``Status`` of an apply conflict, shaped as the API server's."""
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {print_manager(entries[i])}",
            "field": dotted(p),
        }
        for i, p in conflicts
    ]
    if len(causes) == 1:
        message = f"Apply failed with 1 conflict: {causes[0]['message']}: {causes[0]['field']}"
    else:
        groups: dict[str, list[str]] = {}
        for i, p in conflicts:
            groups.setdefault(print_manager(entries[i]), []).append(dotted(p))
        message = f"Apply failed with {len(causes)} conflicts: " + "\n".join(
            f"conflicts with {who}:\n" + "\n".join(f"- {f}" for f in fields)
            for who, fields in groups.items()
        )
    return Failure(409, "Conflict", message, {"causes": causes})


# --- label selectors ------------------------------------------------------------------------------

_SET_RE = re.compile(r"^\s*([^\s!=,()]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ_RE = re.compile(r"^\s*([^\s!=,()]+)\s*(==|=|!=)\s*([^\s,()]*)\s*$")
_EXISTS_RE = re.compile(r"^\s*(!?)\s*([^\s!=,()]+)\s*$")


def parse_selector(text: str) -> list[tuple[str, str, set[str]]]:
    """``app=web,tier in (a,b),!canary`` → requirements ``(key, op, values)``."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    out: list[tuple[str, str, set[str]]] = []
    for part in parts:
        if not part.strip():
            continue
        if match := _SET_RE.match(part):
            values = {v.strip() for v in match.group(3).split(",") if v.strip()}
            out.append((match.group(1), match.group(2), values))
        elif match := _EQ_RE.match(part):
            op = "!=" if match.group(2) == "!=" else "="
            out.append((match.group(1), op, {match.group(3)}))
        elif match := _EXISTS_RE.match(part):
            out.append((match.group(2), "!exists" if match.group(1) else "exists", set()))
        else:
            raise Failure(400, "BadRequest", f"unable to parse requirement: {part!r}")
    return out


def selector_matches(
    requirements: list[tuple[str, str, set[str]]], labels: Mapping[str, str]
) -> bool:
    for key, op, values in requirements:
        present = key in labels
        value = labels.get(key)
        ok = {
            "=": present and value in values,
            "!=": not present or value not in values,
            "in": present and value in values,
            "notin": not present or value not in values,
            "exists": present,
            "!exists": not present,
        }[op]
        if not ok:
            return False
    return True


# --- the emulator ---------------------------------------------------------------------------------


@attrs.define(kw_only=True)
class KubeEmulator(KubernetesEmulator):
    """kmock's emulator with tuskops' resources and faithful object handling (see module)."""

    store: dict[tuple[str, str, str | None, str], dict[str, Any]] = attrs.field(
        factory=dict, init=False
    )
    #: Requests the emulator does not emulate: ``"METHOD path: why"``.
    unsupported: list[str] = attrs.field(factory=list, init=False)
    #: Every request served: ``(method, path?query)``.
    log: list[tuple[str, str]] = attrs.field(factory=list, init=False)
    faults: list[tuple[int, dict[str, str], dict[str, Any] | None]] = attrs.field(
        factory=list, init=False
    )
    _table: dict[tuple[str, str], Res] = attrs.field(factory=dict, init=False)
    _rv: Iterator[int] = attrs.field(factory=lambda: itertools.count(1000), init=False)
    _mutex: threading.RLock = attrs.field(factory=threading.RLock, init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        for api_version, plural, kind, namespaced, status in RESOURCES:
            self.register(Res(api_version, plural, kind, namespaced, status))
        for name in ("default", "kube-system"):
            self.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def register(self, res: Res) -> None:
        """Serve one more resource (a CRD's, say) with discovery and storage."""
        self._table[(res.api_version, res.plural)] = res
        group, _, version = res.api_version.rpartition("/")
        self.resources[f"{group}/{version}/{res.plural}"] = ResourceInfo(
            kind=res.kind,
            namespaced=res.namespaced,
            verbs=VERBS,
            subresources={"status"} if res.status else set(),
        )

    # -- test-facing helpers --

    def fail_next(
        self,
        code: int,
        times: int = 1,
        *,
        headers: Mapping[str, str] | None = None,
        status: dict[str, Any] | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``code`` (and a Status body)."""
        with self._mutex:
            self.faults.extend([(code, dict(headers or {}), status)] * times)

    def find(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The stored object (a copy) of a kind by name, or None."""
        with self._mutex:
            for (api_version, plural, ns, n), obj in self.store.items():
                res = self._table[(api_version, plural)]
                if res.kind == kind and n == name and ns == (namespace if res.namespaced else None):
                    return copy.deepcopy(obj)
        return None

    def put(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Store an object as is (plus server metadata), bypassing field management."""
        res = self._kind(str(obj["apiVersion"]), str(obj["kind"]))
        body = copy.deepcopy(dict(obj))
        meta = body.setdefault("metadata", {})
        ns = (meta.get("namespace") or "default") if res.namespaced else None
        if ns:
            meta["namespace"] = ns
        with self._mutex:
            self._stamp_new(body, res)
            self.store[(res.api_version, res.plural, ns, meta["name"])] = body
        return copy.deepcopy(body)

    def _kind(self, api_version: str, kind: str) -> Res:
        for res in self._table.values():
            if res.api_version == api_version and res.kind == kind:
                return res
        raise KeyError(f"{api_version} {kind} is not registered in the emulator")

    # -- routing --

    def _route(self, path: str) -> tuple[Res, str | None, str | None, str | None] | None:
        """``(resource, namespace, name, subresource)`` of a path under a registered resource."""
        parts = path.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "api":
            api_version, rest = parts[1], parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            api_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            return None
        if not rest:
            return None
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3 and (api_version, rest[2]) in self._table:
            namespace, rest = rest[1], rest[2:]
        res = self._table.get((api_version, rest[0]))
        if res is None:
            if rest[0] == "namespaces" and len(rest) >= 3:  # namespaced, unregistered plural
                raise Failure(404, "NotFound", f"the server could not find the resource {path}")
            return None
        if namespace is not None and not res.namespaced:
            raise Failure(404, "NotFound", f"{res.plural} is not namespaced: {path}")
        name = rest[1] if len(rest) > 1 else None
        sub = "/".join(rest[2:]) or None
        return res, namespace, name, sub

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        body = await raw_request.read()
        self.log.append((raw_request.method, raw_request.path_qs))
        with self._mutex:
            fault = self.faults.pop(0) if self.faults else None
        if fault is not None:
            code, headers, status = fault
            doc = status or Failure(code, "InjectedFault", f"injected {code}").status()
            return aiohttp.web.json_response(doc, status=code, headers=headers)
        try:
            route = self._route(raw_request.path)
            if route is None:
                if raw_request.method == "GET" and not raw_request.query.get("watch"):
                    return await super().__call__(raw_request)  # discovery and the like
                raise self._unsupported(raw_request, "no emulated resource at this path")
            with self._mutex:
                code, doc = self._serve(raw_request, body, *route)
            return aiohttp.web.json_response(doc, status=code)
        except Failure as failure:
            return aiohttp.web.json_response(failure.status(), status=failure.code)

    def _unsupported(self, request: aiohttp.web.BaseRequest, why: str) -> Failure:
        entry = f"{request.method} {request.path_qs}: {why}"
        self.unsupported.append(entry)
        return Failure(501, "NotEmulated", f"the test emulator does not emulate this: {entry}")

    def _serve(
        self,
        request: aiohttp.web.BaseRequest,
        body: bytes,
        res: Res,
        namespace: str | None,
        name: str | None,
        sub: str | None,
    ) -> tuple[int, dict[str, Any]]:
        query = request.query
        if query.get("watch") in ("true", "1"):
            raise self._unsupported(request, "watch")
        if "fieldSelector" in query:
            raise self._unsupported(request, "fieldSelector")
        if sub is not None and not (sub == "status" and res.status):
            raise self._unsupported(request, f"subresource {sub!r} of {res.plural}")
        if res.namespaced and name is not None and namespace is None:
            raise Failure(404, "NotFound", f"{res.plural} are namespaced: no namespace in the path")
        dry_run = query.get("dryRun") == "All"
        method = request.method
        if method == "GET" and name is None:
            return 200, self._list(res, namespace, query)
        if method == "GET":
            return 200, self._get(res, namespace, name or "")
        if method == "POST" and name is None:
            return 201, self._create(res, namespace, self._json(body), query, dry_run)
        if method == "PATCH" and name is not None:
            ctype = request.headers.get("Content-Type", "").split(";")[0].strip()
            if ctype == "application/apply-patch+yaml" and sub is None:
                return self._apply(res, namespace, name, body, query, dry_run)
            if ctype == "application/merge-patch+json":
                return 200, self._merge_patch(res, namespace, name, sub, body, query, dry_run)
            raise self._unsupported(request, f"PATCH with {ctype or 'no content type'}")
        if method == "DELETE" and name is not None:
            options = self._json(body) if body else {}
            dry_run = dry_run or options.get("dryRun") == ["All"]
            return 200, self._delete(request, res, namespace, name, dry_run)
        raise self._unsupported(request, f"{method} on this path")

    # -- storage helpers --

    @staticmethod
    def _json(body: bytes) -> dict[str, Any]:
        try:
            doc = json.loads(body)
        except ValueError as err:
            raise Failure(400, "BadRequest", f"invalid JSON body: {err}") from err
        if not isinstance(doc, dict):
            raise Failure(400, "BadRequest", "the body must be an object")
        return doc

    def _not_found(self, res: Res, name: str) -> Failure:
        group = res.api_version.rpartition("/")[0]
        what = f"{res.plural}.{group}" if group else res.plural
        return Failure(
            404,
            "NotFound",
            f'{what} "{name}" not found',
            {"name": name, "group": group, "kind": res.plural},
        )

    def _stamp_new(self, obj: dict[str, Any], res: Res) -> None:
        meta = obj.setdefault("metadata", {})
        meta["uid"] = meta.get("uid") or str(uuid.uuid4())
        meta["creationTimestamp"] = meta.get("creationTimestamp") or _now()
        meta["resourceVersion"] = str(next(self._rv))
        meta["generation"] = 1
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind

    def _key(self, res: Res, namespace: str | None, name: str) -> tuple[str, str, str | None, str]:
        return (res.api_version, res.plural, namespace if res.namespaced else None, name)

    def _check_namespace(self, res: Res, namespace: str | None) -> None:
        if res.namespaced and ("v1", "namespaces", None, namespace or "") not in self.store:
            raise Failure(
                404,
                "NotFound",
                f'namespaces "{namespace}" not found',
                {"name": namespace, "kind": "namespaces"},
            )

    def _save(
        self, res: Res, old: dict[str, Any] | None, new: dict[str, Any], dry_run: bool
    ) -> dict[str, Any]:
        """Bump versions if ``new`` differs from ``old``; store unless dry-run."""
        meta = new["metadata"]

        def body(o: Mapping[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in o.items() if k not in ("metadata", "status")}

        if old is None:
            if not dry_run:
                self._stamp_new(new, res)
            else:
                meta["uid"] = str(uuid.uuid4())
                meta["creationTimestamp"] = _now()
                meta["generation"] = 1
        else:
            strip = [{**o["metadata"], "managedFields": None} for o in (old, new)]
            changed = body(old) != body(new) or strip[0] != strip[1]
            changed = changed or old.get("status") != new.get("status")
            changed = changed or self._fields_of(old) != self._fields_of(new)
            if not changed:
                return copy.deepcopy(old)
            if body(old) != body(new):
                meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
            if not dry_run:
                meta["resourceVersion"] = str(next(self._rv))
        if not dry_run:
            self.store[self._key(res, meta.get("namespace"), meta["name"])] = new
        return copy.deepcopy(new)

    @staticmethod
    def _fields_of(obj: Mapping[str, Any]) -> list[tuple[str, str, str, Any]]:
        return sorted(
            (e["manager"], e["operation"], e.get("subresource", ""), json.dumps(e["fieldsV1"]))
            for e in obj["metadata"].get("managedFields") or []
        )

    # -- operations --

    def _get(self, res: Res, namespace: str | None, name: str) -> dict[str, Any]:
        obj = self.store.get(self._key(res, namespace, name))
        if obj is None:
            raise self._not_found(res, name)
        return copy.deepcopy(obj)

    def _list(self, res: Res, namespace: str | None, query: Mapping[str, str]) -> dict[str, Any]:
        requirements = parse_selector(query.get("labelSelector", ""))
        items = [
            {k: v for k, v in copy.deepcopy(obj).items() if k not in ("apiVersion", "kind")}
            for (api_version, plural, ns, _), obj in sorted(self.store.items(), key=str)
            if (api_version, plural) == (res.api_version, res.plural)
            if namespace is None or ns == namespace
            if selector_matches(requirements, obj["metadata"].get("labels") or {})
        ]
        start = int(query.get("continue") or 0)
        limit = int(query.get("limit") or 0) or len(items) or 1
        page = items[start : start + limit]
        meta: dict[str, Any] = {"resourceVersion": str(next(self._rv))}
        if start + limit < len(items):
            meta["continue"] = str(start + limit)
        return {
            "apiVersion": res.api_version,
            "kind": f"{res.kind}List",
            "metadata": meta,
            "items": page,
        }

    def _create(
        self,
        res: Res,
        namespace: str | None,
        obj: dict[str, Any],
        query: Mapping[str, str],
        dry_run: bool,
    ) -> dict[str, Any]:
        meta = obj.setdefault("metadata", {})
        name = meta.get("name")
        if not name:
            raise Failure(422, "Invalid", f"{res.kind}: metadata.name: Required value")
        if res.namespaced:
            namespace = namespace or meta.get("namespace")
            meta["namespace"] = namespace
        self._check_namespace(res, namespace)
        if self._key(res, namespace, name) in self.store:
            group = res.api_version.rpartition("/")[0]
            raise Failure(
                409,
                "AlreadyExists",
                f'{res.plural} "{name}" already exists',
                {"name": name, "group": group, "kind": res.plural},
            )
        manager = query.get("fieldManager") or "unknown"
        meta["managedFields"] = self._entries(
            [], manager, "Update", res.api_version, managed_paths(obj), None
        )
        return self._save(res, None, obj, dry_run)

    @staticmethod
    def _entries(
        entries: list[dict[str, Any]],
        manager: str,
        operation: str,
        api_version: str,
        paths: set[Path_],
        subresource: str | None,
    ) -> list[dict[str, Any]]:
        """``entries`` with the (manager, operation, subresource) entry set to ``paths``."""
        out = [
            e
            for e in entries
            if (e["manager"], e["operation"], e.get("subresource"))
            != (manager, operation, subresource)
        ]
        if paths:
            entry: dict[str, Any] = {
                "manager": manager,
                "operation": operation,
                "apiVersion": api_version,
                "time": _now(),
                "fieldsType": "FieldsV1",
                "fieldsV1": to_fields_v1(paths),
            }
            if subresource:
                entry["subresource"] = subresource
            out.append(entry)
        return out

    def _apply(
        self,
        res: Res,
        namespace: str | None,
        name: str,
        body: bytes,
        query: Mapping[str, str],
        dry_run: bool,
    ) -> tuple[int, dict[str, Any]]:
        manager = query.get("fieldManager")
        if not manager:
            raise Failure(
                400,
                "BadRequest",
                "PATCH, application/apply-patch+yaml: fieldManager is required",
            )
        force = query.get("force") == "true"
        try:
            applied = yaml.safe_load(body)
        except yaml.YAMLError as err:
            raise Failure(400, "BadRequest", f"error decoding YAML: {err}") from err
        if not isinstance(applied, dict):
            raise Failure(400, "BadRequest", "the applied configuration must be an object")
        if applied.get("apiVersion") != res.api_version or applied.get("kind") != res.kind:
            raise Failure(
                400,
                "BadRequest",
                f"apiVersion/kind {applied.get('apiVersion')}/{applied.get('kind')} do not match "
                f"the URL's {res.api_version}/{res.kind}",
            )
        meta = applied.get("metadata") or {}
        if meta.get("name") != name:
            raise Failure(400, "BadRequest", "metadata.name does not match the URL")
        if res.namespaced and meta.get("namespace") not in (None, namespace):
            raise Failure(400, "BadRequest", "metadata.namespace does not match the URL")
        if res.status:
            applied.pop("status", None)
        self._check_namespace(res, namespace)
        old = self.store.get(self._key(res, namespace, name))
        if old is None:
            current: dict[str, Any] = {"metadata": {"name": name}}
            if res.namespaced:
                current["metadata"]["namespace"] = namespace
        else:
            current = copy.deepcopy(old)
        entries: list[dict[str, Any]] = list(current["metadata"].get("managedFields") or [])
        fields = managed_paths(applied)
        mine = next(
            (e for e in entries if (e["manager"], e["operation"]) == (manager, "Apply")), None
        )
        previous = from_fields_v1(mine["fieldsV1"]) if mine else set()

        # Conflicts: another manager owns a field (or one below it) the apply changes.
        conflicts: list[tuple[int, Path_]] = []
        taken: dict[int, set[Path_]] = {}
        for index, entry in enumerate(entries):
            if entry is mine:
                continue
            owned = from_fields_v1(entry["fieldsV1"])
            for path in sorted(fields):
                hits = {o for o in owned if o[: len(path)] == path}
                if hits and get_path(current, path) != get_path(applied, path):
                    conflicts.append((index, path))
                    taken.setdefault(index, set()).update(hits)
        if conflicts and not force:
            raise conflict_failure(res.api_version, conflicts, entries)
        for index, paths in taken.items():  # force: ownership moves to this manager
            owned = from_fields_v1(entries[index]["fieldsV1"]) - paths
            entries[index] = {**entries[index], "fieldsV1": to_fields_v1(owned)}
        entries = [e for e in entries if e["fieldsV1"]]

        others: set[Path_] = set()
        for entry in entries:
            if entry is not mine:
                others |= from_fields_v1(entry["fieldsV1"])
        for path in sorted(previous - fields, key=len, reverse=True):
            if not any(o[: len(path)] == path or path[: len(o)] == o for o in others):
                remove_path(current, path)
        deep_merge(current, applied)
        current["metadata"]["managedFields"] = self._entries(
            entries, manager, "Apply", res.api_version, fields, None
        )
        if res.namespaced:
            current["metadata"]["namespace"] = namespace
        current["apiVersion"], current["kind"] = res.api_version, res.kind
        saved = self._save(res, old, current, dry_run)
        return (201 if old is None else 200), saved

    def _merge_patch(
        self,
        res: Res,
        namespace: str | None,
        name: str,
        sub: str | None,
        body: bytes,
        query: Mapping[str, str],
        dry_run: bool,
    ) -> dict[str, Any]:
        old = self.store.get(self._key(res, namespace, name))
        if old is None:
            raise self._not_found(res, name)
        patch = self._json(body)
        if sub == "status":
            patch = {"status": patch["status"]} if "status" in patch else {}
        elif res.status:
            patch.pop("status", None)
        for key in ("apiVersion", "kind"):
            patch.pop(key, None)
        patched = merge_patch(old, patch)
        patched["metadata"] = {
            **patched.get("metadata", {}),
            **{k: old["metadata"][k] for k in SERVER_METADATA if k in old["metadata"]},
        }
        manager = query.get("fieldManager") or "unknown"
        entries = list(old["metadata"].get("managedFields") or [])
        mine = next(
            (
                e
                for e in entries
                if (e["manager"], e["operation"], e.get("subresource")) == (manager, "Update", sub)
            ),
            None,
        )
        owned = from_fields_v1(mine["fieldsV1"]) if mine else set()
        changed = {p for p in managed_paths(patched) if get_path(old, p) != get_path(patched, p)}
        patched["metadata"]["managedFields"] = self._entries(
            entries, manager, "Update", res.api_version, owned | changed, sub
        )
        return self._save(res, old, patched, dry_run)

    def _delete(
        self,
        request: aiohttp.web.BaseRequest,
        res: Res,
        namespace: str | None,
        name: str,
        dry_run: bool,
    ) -> dict[str, Any]:
        key = self._key(res, namespace, name)
        obj = self.store.get(key)
        if obj is None:
            raise self._not_found(res, name)
        uid = obj["metadata"].get("uid")
        dependents = [
            k
            for k, other in self.store.items()
            if any(ref.get("uid") == uid for ref in other["metadata"].get("ownerReferences") or [])
        ]
        if dependents:
            raise self._unsupported(request, f"garbage collection of dependents {dependents}")
        answer = copy.deepcopy(obj)
        answer["metadata"].setdefault("deletionTimestamp", _now())
        if dry_run:
            return answer
        if obj["metadata"].get("finalizers"):
            obj["metadata"].setdefault("deletionTimestamp", answer["metadata"]["deletionTimestamp"])
            obj["metadata"]["resourceVersion"] = str(next(self._rv))
            return copy.deepcopy(obj)
        del self.store[key]
        if res.plural == "namespaces" and res.api_version == "v1":
            for other in [k for k in self.store if k[2] == name]:
                del self.store[other]
        return answer


# --- running it -----------------------------------------------------------------------------------


class EmulatorThread:
    """Runs a :class:`KubeEmulator` on ``127.0.0.1:<free port>`` in a background event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.emulator: KubeEmulator | None = None
        self._server: Server | None = None

    def start(self) -> KubeEmulator:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=30)
        assert self.emulator is not None
        return self.emulator

    async def _start(self) -> None:
        self.emulator = KubeEmulator()
        await self.emulator.__aenter__()
        self._server = Server(self.emulator)
        await self._server.__aenter__()

    async def _stop(self) -> None:
        if self._server is not None:
            await self._server.__aexit__(None, None, None)
        if self.emulator is not None:
            await self.emulator.__aexit__(None, None, None)

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)
        self.loop.close()


def write_kubeconfig(path: Path, server: str, *, namespace: str = "default") -> Path:
    """A kubeconfig with one context, ``emulator``, pointing at ``server`` without credentials."""
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "emulator",
        "clusters": [{"name": "emulator", "cluster": {"server": server}}],
        "users": [{"name": "emulator", "user": {}}],
        "contexts": [
            {
                "name": "emulator",
                "context": {"cluster": "emulator", "user": "emulator", "namespace": namespace},
            }
        ],
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


@dataclass
class EmulatedCluster:
    """What the ``kube_emulator`` fixture yields."""

    emulator: KubeEmulator
    url: str
    kubeconfig: Path
