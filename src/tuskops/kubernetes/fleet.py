"""One file, several clusters: a target that routes each resource to its kubeconfig context.

``@kubernetes.app({... context: "eu"})`` (or ``@kubernetes.manifest(path, context="eu")``)
gives a resource the scope ``eu``; resources without one go to the target's own context. A
:class:`FleetTarget` holds one :class:`~tuskops.kubernetes.target.KubernetesTarget` per
context, each with the file's ApplySet in that cluster, and hands every call to the right one,
so planning, server-side apply, pruning and rollouts work per cluster exactly as for one.

Each context's part has an ApplySet of its own (``<name>-<context>``), so two parts that land
in one cluster (a scope naming the target's own context) never prune each other's objects.

Pruning needs to know which clusters to look in: the contexts the file names now, plus those
listed in the target's ``contexts=`` option (``#!target kubernetes contexts=eu,us``). A context
dropped from both is not visited, so its objects are not pruned: keep it in ``contexts=``
until its objects are gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tuskops.core.resource import Resource
from tuskops.core.targets.base import Observed, Target
from tuskops.errors import PlanError, TargetError
from tuskops.kubernetes.target import KubernetesTarget

#: Makes the target of one context (None: the default context).
TargetFactory = Callable[[str | None], KubernetesTarget]


class FleetTarget(Target):
    """Several Kubernetes targets behind one, chosen by each resource's scope."""

    name = "kubernetes"

    def __init__(self, factory: TargetFactory, *, contexts: Iterable[str] = ()) -> None:
        self._factory = factory
        self._children: dict[str | None, KubernetesTarget] = {}
        self._known: list[str | None] = [None, *dict.fromkeys(contexts)]
        #: Resource id -> the scope that holds it (desired and managed ones).
        self._scope_of: dict[str, str | None] = {}

    # --- children -----------------------------------------------------------------------------

    def child(self, scope: str | None) -> KubernetesTarget:
        if scope not in self._children:
            self._children[scope] = self._factory(scope)
            if scope not in self._known:
                self._known.append(scope)
        return self._children[scope]

    def _by_scope(self, resources: Sequence[Resource]) -> dict[str | None, list[Resource]]:
        groups: dict[str | None, list[Resource]] = {}
        for resource in resources:
            groups.setdefault(resource.scope, []).append(resource)
            self._scope_of[resource.id] = resource.scope
        return groups

    def _owner(self, resource_id: str) -> KubernetesTarget:
        if resource_id not in self._scope_of:
            raise TargetError(f"{resource_id}: not a resource of this target")
        return self.child(self._scope_of[resource_id])

    @property
    def conflicts(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for child in self._children.values():
            out.update(child.conflicts)
        return out

    # --- Target -------------------------------------------------------------------------------

    def describe(self) -> str:
        scopes = sorted(str(s) for s in self._known if s is not None)
        base = self.child(None).describe()
        return base + (f", and contexts {', '.join(scopes)}" if scopes else "")

    def validate(self, resources: Sequence[Resource]) -> None:
        problems: list[str] = []
        for scope, group in self._by_scope(resources).items():
            try:
                self.child(scope).validate(group)
            except PlanError as exc:
                problems.append(str(exc))
        if problems:
            raise PlanError("\n".join(problems))

    def location_of(self, resource: Resource) -> str | None:
        return self.child(resource.scope).location_of(resource)

    def expected_body(self, resource: Resource) -> Any:
        return self._owner(resource.id).expected_body(resource)

    def read(self, resources: Sequence[Resource]) -> dict[str, Observed | None]:
        out: dict[str, Observed | None] = {}
        for scope, group in self._by_scope(resources).items():
            out.update(self.child(scope).read(group))
        return out

    def managed_ids(self) -> set[str]:
        ids: set[str] = set()
        for scope in list(self._known):
            for resource_id in self.child(scope).managed_ids():
                self._scope_of.setdefault(resource_id, scope)
                ids.add(resource_id)
        return ids

    def read_managed(self, ids: Iterable[str]) -> dict[str, Observed | None]:
        groups: dict[str | None, list[str]] = {}
        for resource_id in ids:
            groups.setdefault(self._scope_of.get(resource_id), []).append(resource_id)
        out: dict[str, Observed | None] = {}
        for scope, group in groups.items():
            out.update(self.child(scope).read_managed(group))
        return out

    def create(self, resource: Resource) -> None:
        self._owner(resource.id).create(resource)

    def update(self, resource: Resource) -> None:
        self._owner(resource.id).update(resource)

    def delete(self, resource_id: str) -> None:
        self._owner(resource_id).delete(resource_id)

    def finish(self) -> None:
        errors: list[str] = []
        for child in self._children.values():
            try:
                child.finish()
            except TargetError as exc:
                errors.append(str(exc))
        if errors:
            raise TargetError("\n".join(errors))

    # --- beyond Target ------------------------------------------------------------------------

    def wait_for_rollouts(
        self, deployments: Sequence[tuple[str | None, str, str]], **options: Any
    ) -> list[Any]:
        """``(scope, namespace, name)`` per Deployment; each context's child waits for its own."""
        outcomes: list[Any] = []
        groups: dict[str | None, list[tuple[str, str]]] = {}
        for scope, namespace, name in deployments:
            groups.setdefault(scope, []).append((namespace, name))
        for scope, group in groups.items():
            outcomes.extend(self.child(scope).wait_for_rollouts(group, **options))
        return outcomes

    def close(self) -> None:
        for child in self._children.values():
            child.close()
