"""A Kubernetes cluster as a target of ``tuskops plan`` / ``tuskops apply``.

What it does, in the engine's terms (:mod:`tuskops.core.targets.base`):

* **Plan** (:meth:`KubernetesTarget.read`): for every desired object, the live object (GET) and
  a server-side apply *dry run* (``dryRun=All``, field manager ``tuskops``), as ``kubectl diff``
  does. Both are *projected* onto the fields the manifest sets (:func:`project`): the live
  projection is :attr:`Observed.body`, the dry-run projection is :meth:`expected_body`, so the
  engine's generic diff shows exactly the values server-side apply would change, with the
  server's defaulting and normalisation on both sides (``1000m`` stays ``1`` on both) and
  nothing about fields the config does not set. Fields tuskops applied before and the config
  no longer sets are removed by SSA; those come from :func:`~tuskops.kubernetes.diff.field_diff`
  (``managedFields``) and are shown as notes. A resource is in sync when both projections are
  equal, nothing is removed, and the ApplySet parent already lists it.
* **Apply**: server-side apply with field manager ``tuskops`` (Kubernetes docs, "Server-Side
  Apply"), in the engine's order (namespaces, CRDs, RBAC, configuration, workloads, routing:
  :mod:`tuskops.kubernetes.resources`). Force is sent only when the target was built with
  ``force_conflicts=True`` (``--force-conflicts``, as ``kubectl apply --server-side
  --force-conflicts``). A conflict is a :class:`~tuskops.errors.TargetError` naming the fields,
  their managers, and both ways out (:func:`~tuskops.kubernetes.conflicts.conflict_message`).
* **Prune**, ApplySet-style (KEP-3659, :mod:`tuskops.kubernetes.applyset`): one set per (file,
  target), parent a Secret ``tuskops-<file stem>`` in ``default`` (or the configured
  namespace). Every applied object carries ``applyset.kubernetes.io/part-of``; the members are
  listed by that label in the group-kinds and namespaces the parent's annotations name, and
  only members are ever deleted (propagation ``Foreground``, as ``kubectl delete
  --cascade=foreground``), dependents first (the engine reverses the apply order for deletes).
  The parent is widened (old ∪ new group-kinds and namespaces) before the first change and
  narrowed after the last one (:meth:`finish`), as kubectl does, so an interrupted apply still
  finds everything next time.

Decisions and deviations:

* **Event loop.** The engine is synchronous, :class:`~tuskops.kubernetes.cluster.KubeClient`
  async. The target owns one private event loop and runs every call's work on it with
  ``run_until_complete`` in the caller's thread; the client (and its connection pool) is made
  inside that loop and only ever used there. :meth:`close` closes both (the CLI does; the
  target also works as a context manager). Calling it from a thread that already runs an event
  loop is refused with a clear error rather than nesting loops.
* **Conflicts at plan time** are notes, not errors: the plan shows, for that object, what
  ``--force-conflicts`` would change (a second, forced dry run) and the conflict message;
  :attr:`KubernetesTarget.conflicts` lists them so ``tuskops apply`` can refuse *before* making
  any change, instead of stopping part-way.
* **Adoption.** An existing object without the part-of label is taken over (shown as an update
  adding the label, with a note), as ``kubectl apply --applyset`` does. An object that belongs
  to *another* ApplySet is refused: moving it would take it from that set's pruning.
* **Not checked before its dependencies exist.** A new object in a namespace, or of a custom
  kind, that this same apply creates cannot be dry-run yet; it is planned as a create of the
  manifest as written, and the server checks it when it is applied.
* ``in_sync`` is decided from the server's dry run (projections equal) plus ``field_diff``'s
  removals, not from ``field_diff``'s comparison of values: the dry run is the server's own
  answer, the value comparison a model of it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import copy
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar

from tuskops.core.resource import ORDER_DEFAULT, Resource
from tuskops.core.targets.base import Observed, Target
from tuskops.errors import ClusterError, KubernetesError, PlanError, TargetError
from tuskops.kubernetes.applyset import (
    PART_OF_LABEL,
    ApplySet,
    check_parent,
    group_kind,
    label_members,
    object_identity,
    parent_object,
    parent_scope,
    prune_candidates,
)
from tuskops.kubernetes.cluster import ApplyConflictError, KubeClient
from tuskops.kubernetes.conflicts import (
    ApplyConflict,
    FieldConflict,
    conflict_message,
    parse_conflict_status,
)

# field_diff's list-map rules, so projections match list items exactly as the diff does.
from tuskops.kubernetes.diff import field_diff, item_key, list_keys_of
from tuskops.kubernetes.kubeconfig import ClusterConfig
from tuskops.kubernetes.manifests import is_cluster_scoped
from tuskops.kubernetes.resources import OPERATOR, to_resource

T = TypeVar("T")

FIELD_MANAGER = "tuskops"
DEFAULT_PARENT_NAMESPACE = "default"

#: Preferred versions of the built-in API groups, to list ApplySet members by group-kind (the
#: parent names group-kinds, not versions). Other groups are looked up by API discovery.
BUILTIN_VERSIONS: dict[str, str] = {
    "": "v1",
    "apps": "apps/v1",
    "batch": "batch/v1",
    "autoscaling": "autoscaling/v2",
    "policy": "policy/v1",
    "networking.k8s.io": "networking.k8s.io/v1",
    "rbac.authorization.k8s.io": "rbac.authorization.k8s.io/v1",
    "apiextensions.k8s.io": "apiextensions.k8s.io/v1",
    "storage.k8s.io": "storage.k8s.io/v1",
    "scheduling.k8s.io": "scheduling.k8s.io/v1",
    "coordination.k8s.io": "coordination.k8s.io/v1",
    "discovery.k8s.io": "discovery.k8s.io/v1",
    "admissionregistration.k8s.io": "admissionregistration.k8s.io/v1",
    "apiregistration.k8s.io": "apiregistration.k8s.io/v1",
}

#: How many objects are read (GET + dry run) at once while planning.
READ_CONCURRENCY = 8


def default_applyset_name(stem: str) -> str:
    """``tuskops-<stem>``, made a valid object name (lower case, ``[a-z0-9.-]``, 253 chars)."""
    cleaned = re.sub(r"[^a-z0-9.-]+", "-", stem.lower()).strip("-.") or "config"
    return f"tuskops-{cleaned}"[:253].rstrip("-.")


# --- projection (pure) --------------------------------------------------------------------------


def _is_empty(value: Any) -> bool:
    return isinstance(value, Mapping | list) and not value


def project(shape: Any, value: Any, field: str = "") -> Any:
    """``value`` restricted to the fields ``shape`` (a manifest) sets, in ``shape``'s layout.

    Maps keep ``shape``'s keys that ``value`` has (an empty map or list in ``shape`` is kept as
    is: the server omits empty values). Associative lists (``containers`` by ``name``...) are
    matched by their keys, in ``shape``'s order, ``None`` where ``value`` has no such item;
    other lists item by item when the lengths agree, else ``value``'s whole list (SSA replaces
    an atomic list). Scalars are ``value``'s.
    """
    if isinstance(shape, Mapping):
        if not isinstance(value, Mapping):
            return copy.deepcopy(value)
        out: dict[str, Any] = {}
        for key, sub in shape.items():
            if sub is None:
                continue
            item = value.get(key)
            if item is None:
                if _is_empty(sub):
                    out[str(key)] = copy.deepcopy(sub)
                continue
            out[str(key)] = project(sub, item, str(key))
        return out
    if isinstance(shape, list):
        if not isinstance(value, list):
            return copy.deepcopy(value)
        keys = list_keys_of(field, shape)
        if keys is not None and list_keys_of(field, value) is not None:
            by_key = {item_key(item, keys): item for item in value}
            return [
                project(item, by_key[key], "") if (key := item_key(item, keys)) in by_key else None
                for item in shape
            ]
        if len(shape) == len(value):
            return [project(s, v, "") for s, v in zip(shape, value, strict=True)]
        return copy.deepcopy(value)
    return copy.deepcopy(value)


def _secret_view(desired: Mapping[str, Any], obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """``obj`` with the ``stringData`` keys ``desired`` sets read back from ``data``.

    The API server folds ``stringData`` into base64 ``data`` and never returns it; reading it
    back keeps a Secret written with ``stringData`` in its own layout (and under its secret
    paths, so it stays redacted).
    """
    string_data = desired.get("stringData")
    if desired.get("kind") != "Secret" or not isinstance(string_data, Mapping):
        return obj
    view = dict(obj)
    shown = dict(view.get("stringData") or {})
    data = view.get("data") or {}
    for key in string_data:
        if key in shown or key not in data:
            continue
        try:
            shown[key] = base64.b64decode(str(data[key]), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            shown[key] = str(data[key])
    view["stringData"] = shown
    return view


def project_object(desired: Mapping[str, Any], obj: Mapping[str, Any]) -> Any:
    """A live or dry-run object restricted to what ``desired`` sets (see :func:`project`)."""
    return project(desired, _secret_view(desired, obj))


# --- the target ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Read:
    """What planning found for one desired object."""

    live: dict[str, Any] | None
    dry: dict[str, Any] | None
    conflict: str | None = None


class KubernetesTarget(Target):
    """Applies ``@kubernetes`` resources to a cluster with server-side apply and ApplySets."""

    name = "kubernetes"

    def __init__(
        self,
        config: ClusterConfig,
        applyset: ApplySet,
        *,
        force_conflicts: bool = False,
        field_manager: str = FIELD_MANAGER,
        client_factory: Callable[[ClusterConfig], KubeClient] = KubeClient,
        scope: str | None = None,
    ) -> None:
        self.config = config
        self.applyset = applyset
        #: The resource scope (kubeconfig context) this target serves inside a
        #: :class:`~tuskops.kubernetes.fleet.FleetTarget`; None on its own.
        self.scope = scope
        self.force_conflicts = force_conflicts
        self.field_manager = field_manager
        self._client_factory = client_factory
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: KubeClient | None = None
        #: Desired id -> manifest with the part-of label.
        self._desired: dict[str, dict[str, Any]] = {}
        self._reads: dict[str, _Read] = {}
        #: Resource id -> conflict message, for objects whose dry run conflicted.
        self.conflicts: dict[str, str] = {}
        self._parent: dict[str, Any] | None = None
        self._parent_loaded = False
        self._members: dict[str, dict[str, Any]] | None = None
        self._versions: dict[str, str] = dict(BUILTIN_VERSIONS)
        self._widened = False
        self._pruned: set[str] = set()

    # --- lifecycle ----------------------------------------------------------------------------

    def describe(self) -> str:
        ref = f"{self.applyset.kind}/{self.applyset.namespace}/{self.applyset.name}"
        return f"kubernetes context {self.config.context} ({self.config.host}), applyset {ref}"

    def close(self) -> None:
        """Close the client and the private event loop (a later call opens new ones)."""
        loop, client = self._loop, self._client
        self._loop, self._client = None, None
        if loop is None:
            return
        try:
            if client is not None and not loop.is_closed():
                loop.run_until_complete(client.aclose())
        finally:
            loop.close()

    def __enter__(self) -> KubernetesTarget:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, work: Callable[[KubeClient], Awaitable[T]]) -> T:
        """Run ``work(client)`` on the private loop, in this thread."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise TargetError(
                f"{self.describe()}: the target is synchronous; call it from a thread without a "
                "running event loop"
            )
        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
            self._client = None

        async def with_client() -> T:
            if self._client is None:
                # Made inside the loop, so its connection pool belongs to this loop only.
                self._client = self._client_factory(self.config)
            return await work(self._client)

        return self._loop.run_until_complete(with_client())

    # --- desired objects ----------------------------------------------------------------------

    def wait_for_rollouts(
        self,
        deployments: Sequence[tuple[str, str]],
        *,
        timeout: float,
        rollback: bool,
        on_progress: Callable[[str, Any], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> list[Any]:
        """Wait for the rollouts of ``(namespace, name)`` Deployments just applied, rolling a
        failed one back to its previous revision unless ``rollback`` is False; the
        :class:`~tuskops.kubernetes.watch.RolloutOutcome` of each."""
        from tuskops.kubernetes.watch import watch_rollouts

        async def wait(client: KubeClient) -> list[Any]:
            return await watch_rollouts(
                client,
                deployments,
                timeout=timeout,
                rollback=rollback,
                on_progress=on_progress,
                sleep=sleep or asyncio.sleep,
            )

        return self._run(wait)

    def validate(self, resources: Sequence[Resource]) -> None:
        problems: list[str] = []
        others = [r.id for r in resources if r.operator != OPERATOR]
        if others:
            problems.append(
                "only @kubernetes resources can be applied to a cluster; not: " + ", ".join(others)
            )
        elsewhere = [r.id for r in resources if r.operator == OPERATOR and r.scope != self.scope]
        if elsewhere:
            problems.append(
                f"these resources name another context than {self.config.context}: "
                + ", ".join(elsewhere)
            )
        for resource in resources:
            if resource.operator != OPERATOR:
                continue
            body = resource.body
            if not isinstance(body, Mapping) or not all(
                isinstance(body.get(k), str) for k in ("apiVersion", "kind")
            ):
                problems.append(f"{resource.id}: not a manifest (needs apiVersion and kind)")
                continue
            try:
                (labelled,) = label_members([body], self.applyset)
            except KubernetesError as exc:
                problems.append(f"{resource.id}: {exc}")
                continue
            if self._is_parent(labelled):
                problems.append(
                    f"{resource.id} is this target's ApplySet parent; choose another applyset name"
                )
        if problems:
            raise PlanError(f"cannot plan for {self.describe()}:\n  " + "\n  ".join(problems))

    def _is_parent(self, manifest: Mapping[str, Any]) -> bool:
        _group, kind, namespace, name = object_identity(manifest)
        return (
            str(manifest.get("apiVersion")) == "v1"
            and kind == self.applyset.kind
            and name == self.applyset.name
            and (namespace or self.config.namespace) == self.applyset.namespace
        )

    def _manifest(self, resource: Resource) -> dict[str, Any]:
        (labelled,) = label_members([resource.body], self.applyset)
        return labelled

    def _namespace_of(self, manifest: Mapping[str, Any]) -> str:
        """The namespace an object lands in ("" for cluster-scoped kinds)."""
        if is_cluster_scoped(manifest):
            return ""
        return object_identity(manifest)[2] or self.config.namespace

    # --- planning -----------------------------------------------------------------------------

    def expected_body(self, resource: Resource) -> Any:
        desired = self._desired.get(resource.id) or self._manifest(resource)
        found = self._reads.get(resource.id)
        if found is None or found.dry is None:
            return desired
        return project_object(desired, found.dry)

    def read(self, resources: Sequence[Resource]) -> dict[str, Observed | None]:
        # A new planning pass: forget what an earlier one (or an apply since) saw.
        self._desired = {r.id: self._manifest(r) for r in resources}
        self._reads = {}
        self.conflicts = {}
        self._parent_loaded = False
        self._members = None
        for manifest in self._desired.values():
            group = object_identity(manifest)[0]
            self._versions.setdefault(group, str(manifest["apiVersion"]))
        pending_namespaces = {
            object_identity(m)[3]
            for m in self._desired.values()
            if object_identity(m)[:2] == ("", "Namespace")
        }
        pending_kinds = {kind for m in self._desired.values() if (kind := _crd_kind(m))}

        async def read_all(client: KubeClient) -> list[_Read]:
            limit = asyncio.Semaphore(READ_CONCURRENCY)

            async def one(resource_id: str, manifest: dict[str, Any]) -> _Read:
                async with limit:
                    return await self._read_one(
                        client, resource_id, manifest, pending_namespaces, pending_kinds
                    )

            return await asyncio.gather(*(one(rid, m) for rid, m in self._desired.items()))

        reads = self._run(read_all)
        self._reads = dict(zip(self._desired, reads, strict=True))
        parent = self._load_parent()
        listed_kinds, listed_namespaces = parent_scope(parent) if parent else ([], [])
        observed: dict[str, Observed | None] = {}
        for resource in resources:
            found = self._reads[resource.id]
            if found.live is None:
                observed[resource.id] = None
                continue
            manifest = self._desired[resource.id]
            notes = self._notes(resource.id, manifest, found)
            namespace = self._namespace_of(manifest)
            recorded = group_kind(manifest) in listed_kinds and (
                not namespace or namespace in listed_namespaces
            )
            if not recorded:
                notes.append(
                    f"not yet recorded in the ApplySet parent {self.applyset.namespace}/"
                    f"{self.applyset.name}; apply records it"
                )
            live_view = project_object(manifest, found.live)
            in_sync = (
                recorded
                and found.conflict is None
                and not self._removals(manifest, found.live)
                and live_view == self.expected_body(resource)
            )
            observed[resource.id] = Observed(
                body=live_view,
                in_sync=in_sync,
                notes=tuple(notes),
                order=resource.order,
                depends_on=tuple(resource.depends_on),
            )
        return observed

    async def _read_one(
        self,
        client: KubeClient,
        resource_id: str,
        manifest: dict[str, Any],
        pending_namespaces: set[str],
        pending_kinds: set[tuple[str, str]],
    ) -> _Read:
        api_version, kind = str(manifest["apiVersion"]), str(manifest["kind"])
        group, _kind, namespace, name = object_identity(manifest)
        kind_pending = (group, kind) in pending_kinds
        try:
            live = await client.get(api_version, kind, name, namespace or None)
        except ClusterError as exc:
            if kind_pending and exc.reason == "UnknownKind":
                return _Read(live=None, dry=None)  # its CRD is created by this apply
            raise TargetError(f"{resource_id}: cannot read it from the cluster: {exc}") from exc
        if live is not None:
            other = ((live.get("metadata") or {}).get("labels") or {}).get(PART_OF_LABEL)
            if other is not None and other != self.applyset.id:
                raise PlanError(
                    f"{resource_id} exists in the cluster as a member of another ApplySet "
                    f"({PART_OF_LABEL}={other}); remove it from that configuration first"
                )
        conflict: str | None = None
        try:
            try:
                dry = await self._apply(client, manifest, force=False, dry_run=True)
            except ApplyConflictError as exc:
                conflict = describe_conflict(exc, resource_id, field_manager=self.field_manager)
                dry = await self._apply(client, manifest, force=True, dry_run=True)
        except ClusterError as exc:
            namespace_pending = namespace in pending_namespaces
            if live is None and exc.status == 404 and (namespace_pending or kind_pending):
                return _Read(live=None, dry=None)  # checked when its namespace exists
            raise TargetError(f"{resource_id}: server-side dry run failed: {exc}") from exc
        return _Read(live=live, dry=dry, conflict=conflict)

    async def _apply(
        self, client: KubeClient, manifest: Mapping[str, Any], *, force: bool, dry_run: bool
    ) -> dict[str, Any]:
        return await client.apply(
            manifest, field_manager=self.field_manager, force=force, dry_run=dry_run
        )

    def _removals(self, manifest: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
        """Paths tuskops applied before that the config no longer sets (SSA removes them)."""
        try:
            changes = field_diff(manifest, live, managed_by=self.field_manager)
        except KubernetesError as exc:
            raise TargetError(
                f"cannot read the managed fields of {manifest.get('kind')}: {exc}"
            ) from exc
        return [change.path for change in changes if change.op == "remove"]

    def _notes(self, resource_id: str, manifest: Mapping[str, Any], found: _Read) -> list[str]:
        assert found.live is not None
        notes: list[str] = []
        labels = (found.live.get("metadata") or {}).get("labels") or {}
        if labels.get(PART_OF_LABEL) != self.applyset.id:
            notes.append("exists but is not managed by tuskops; apply takes it over")
        notes.extend(
            f"removes {path} (tuskops set it before; the config no longer does)"
            for path in self._removals(manifest, found.live)
        )
        if found.conflict is not None:
            if self.force_conflicts:
                notes.append("--force-conflicts takes fields over from other managers:")
            else:
                self.conflicts[resource_id] = found.conflict
                notes.append("CONFLICT: apply fails without --force-conflicts:")
            notes.extend(found.conflict.splitlines())
        return notes

    # --- ApplySet membership ------------------------------------------------------------------

    def _load_parent(self) -> dict[str, Any] | None:
        if self._parent_loaded:
            return self._parent
        applyset = self.applyset

        async def get(client: KubeClient) -> dict[str, Any] | None:
            return await client.get("v1", applyset.kind, applyset.name, applyset.namespace)

        try:
            parent = self._run(get)
        except ClusterError as exc:
            raise TargetError(f"cannot read the ApplySet parent: {exc}") from exc
        if parent is not None:
            try:
                check_parent(parent, applyset)
            except KubernetesError as exc:
                raise TargetError(str(exc)) from exc
        self._parent, self._parent_loaded = parent, True
        return parent

    def _load_members(self) -> dict[str, dict[str, Any]]:
        """Live members by resource id: the part-of label, in the parent's group-kinds."""
        if self._members is not None:
            return self._members
        parent = self._load_parent()
        if parent is None:
            self._members = {}
            return self._members
        group_kinds, namespaces = parent_scope(parent)

        async def list_all(client: KubeClient) -> list[dict[str, Any]]:
            selector = {PART_OF_LABEL: self.applyset.id}
            found: list[dict[str, Any]] = []
            for listed in group_kinds:
                kind, _, group = listed.partition(".")
                api_version = await self._version_of(client, group)
                if api_version is None:
                    continue  # the group is not served: none of its objects can exist
                try:
                    info = await client.resource(api_version, kind)
                except ClusterError as exc:
                    if exc.reason == "UnknownKind":
                        continue  # likewise, e.g. its CRD was deleted
                    raise
                scopes: list[str | None] = list(namespaces) if info.namespaced else [None]
                for namespace in scopes:
                    found += await client.list(api_version, kind, namespace, selector)
            return found

        try:
            live = self._run(list_all)
        except ClusterError as exc:
            raise TargetError(f"cannot list the members of the ApplySet: {exc}") from exc
        members: dict[str, dict[str, Any]] = {}
        for obj in live:
            labels = (obj.get("metadata") or {}).get("labels") or {}
            if labels.get(PART_OF_LABEL) == self.applyset.id:  # as the selector asked
                members[self._member_id(obj)] = obj
        self._members = members
        return members

    async def _version_of(self, client: KubeClient, group: str) -> str | None:
        """The version to list a group's kinds in: known, or the group's preferred one."""
        if group in self._versions:
            return self._versions[group]
        doc = await client.get_path(f"/apis/{group}")
        preferred = (doc or {}).get("preferredVersion") if isinstance(doc, Mapping) else None
        version = preferred.get("groupVersion") if isinstance(preferred, Mapping) else None
        if not isinstance(version, str):
            return None
        self._versions[group] = version
        return version

    def _member_id(self, obj: Mapping[str, Any]) -> str:
        group, kind, namespace, name = object_identity(obj)
        for resource_id, manifest in self._desired.items():
            d_group, d_kind, _ns, d_name = object_identity(manifest)
            if (d_group, d_kind, d_name) == (group, kind, name) and (
                self._namespace_of(manifest) == namespace
            ):
                return resource_id
        return to_resource(obj, context=self.scope).id

    def managed_ids(self) -> set[str]:
        return set(self._load_members())

    def read_managed(self, ids: Iterable[str]) -> dict[str, Observed | None]:
        members = self._load_members()
        wanted = [members[rid] for rid in ids if rid in members]
        try:
            prunable = prune_candidates(wanted, self._desired.values(), applyset=self.applyset)
        except KubernetesError as exc:
            raise PlanError(str(exc)) from exc
        by_id = {self._member_id(obj): obj for obj in prunable}
        observed: dict[str, Observed | None] = {}
        for resource_id in ids:
            obj = by_id.get(resource_id)
            if obj is None:
                observed[resource_id] = None
                continue
            if object_identity(obj)[:2] == ("", "Namespace") and (
                object_identity(obj)[3] == self.applyset.namespace
            ):
                raise PlanError(
                    f"{resource_id} would be pruned, but it holds this target's ApplySet parent "
                    f"{self.applyset.name}; keep it in the config or choose another namespace"
                )
            try:
                order = to_resource(obj).order
            except KubernetesError:
                order = ORDER_DEFAULT
            observed[resource_id] = Observed(body=_strip(obj), in_sync=False, order=order)
        return observed

    # --- changes ------------------------------------------------------------------------------

    def create(self, resource: Resource) -> None:
        self._put(resource)

    def update(self, resource: Resource) -> None:
        self._put(resource)

    def _put(self, resource: Resource) -> None:
        manifest = self._desired.get(resource.id) or self._manifest(resource)
        # The parent's namespace may be one this apply creates: record the set right after it.
        creates_parent_namespace = object_identity(manifest) == (
            "",
            "Namespace",
            "",
            self.applyset.namespace,
        )
        if not creates_parent_namespace:
            self._widen()

        async def apply(client: KubeClient) -> dict[str, Any]:
            return await self._apply(client, manifest, force=self.force_conflicts, dry_run=False)

        try:
            self._run(apply)
        except ApplyConflictError as exc:
            raise TargetError(
                describe_conflict(exc, resource.id, field_manager=self.field_manager)
            ) from exc
        except ClusterError as exc:
            raise TargetError(f"{resource.id}: {exc}") from exc
        if creates_parent_namespace:
            self._widen()

    def delete(self, resource_id: str) -> None:
        self._widen()
        member = self._load_members().get(resource_id)
        if member is None:
            raise TargetError(f"{resource_id} is not a member of this target's ApplySet")
        api_version, kind = str(member["apiVersion"]), str(member["kind"])
        _group, _kind, namespace, name = object_identity(member)

        async def prune(client: KubeClient) -> None:
            # Checked again right before deleting: it must still be ours and unowned.
            live = await client.get(api_version, kind, name, namespace or None)
            if live is None:
                return
            prune_candidates([live], self._desired.values(), applyset=self.applyset)
            labels = (live.get("metadata") or {}).get("labels") or {}
            if labels.get(PART_OF_LABEL) != self.applyset.id:
                raise TargetError(
                    f"{resource_id} no longer carries {PART_OF_LABEL}={self.applyset.id}; "
                    "not deleting it"
                )
            await client.delete(
                api_version, kind, name, namespace or None, propagation="Foreground"
            )

        try:
            self._run(prune)
        except TargetError:
            raise
        except KubernetesError as exc:
            raise TargetError(f"{resource_id}: {exc}") from exc
        self._pruned.add(resource_id)

    def _widen(self) -> None:
        """Before the first change: the parent lists old and new group-kinds and namespaces."""
        if self._widened:
            return
        previous = self._load_parent()
        self._write_parent(parent_object(self.applyset, self._members_now(), previous=previous))
        self._widened = True

    def _members_now(self) -> list[dict[str, Any]]:
        """Desired objects and the members not pruned (yet): what the parent must cover."""
        members = self._members or {}
        kept = [obj for rid, obj in members.items() if rid not in self._pruned]
        return [*self._desired.values(), *kept]

    def _write_parent(self, parent: dict[str, Any]) -> None:
        async def apply(client: KubeClient) -> dict[str, Any]:
            # The parent is tuskops' own record (check_parent verified the tooling): forced.
            return await self._apply(client, parent, force=True, dry_run=False)

        try:
            self._parent = self._run(apply)
        except ClusterError as exc:
            raise TargetError(
                f"cannot write the ApplySet parent {self.applyset.kind}/"
                f"{self.applyset.namespace}/{self.applyset.name}: {exc}"
            ) from exc
        self._parent_loaded = True

    def finish(self) -> None:
        """After the changes (also after a failure): the parent lists exactly what remains."""
        if not self._widened:
            return
        self._write_parent(parent_object(self.applyset, self._members_now()))
        self._widened = False
        self._pruned = set()
        self._members = None


# --- helpers ------------------------------------------------------------------------------------


def _crd_kind(manifest: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(group, kind)`` a CustomResourceDefinition defines, or None."""
    if object_identity(manifest)[:2] != ("apiextensions.k8s.io", "CustomResourceDefinition"):
        return None
    spec = manifest.get("spec") or {}
    kind = (spec.get("names") or {}).get("kind") if isinstance(spec, Mapping) else None
    group = spec.get("group") if isinstance(spec, Mapping) else None
    if isinstance(group, str) and isinstance(kind, str):
        return group, kind
    return None


def _strip(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A live object without ``status`` and ``managedFields`` (for showing a delete)."""
    out = {k: copy.deepcopy(v) for k, v in obj.items() if k != "status"}
    meta = dict(out.get("metadata") or {})
    meta.pop("managedFields", None)
    out["metadata"] = meta
    return out


def describe_conflict(
    exc: ApplyConflictError, resource_id: str, *, field_manager: str = FIELD_MANAGER
) -> str:
    """The conflict as people read it: fields, their managers, and the two ways out."""
    parsed = parse_conflict_status(exc.status_doc) if exc.status_doc else None
    if parsed is None:
        parsed = ApplyConflict(
            conflicts=tuple(
                FieldConflict(manager=manager, field=path, operation="unknown")
                for manager, path in exc.conflicts
            ),
            message=str(exc),
        )
    return conflict_message(parsed, resource_id, field_manager=field_manager)
