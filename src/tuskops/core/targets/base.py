"""The target protocol: where desired state is realised.

A target reads what it holds now and changes it one resource at a time; everything else (diffing,
ordering, redaction, reporting) is pure computation in :mod:`tuskops.core.plan` and
:mod:`tuskops.core.apply`. Like Kubernetes ApplySet pruning, a target remembers which resources
tuskops applied to it (:meth:`Target.managed_ids`), and only those are ever deleted: something in
the target that tuskops did not put there is never touched.

Lifecycle of an apply::

    target.create(...) / update(...) / delete(...)   # in plan order
    target.finish()                                   # always, also after a failure

``finish`` persists the ownership record atomically, so it must run even when a change failed:
the changes that did succeed are then owned, and a later plan can update or delete them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tuskops.core.resource import ORDER_DEFAULT, Resource


@dataclass(frozen=True)
class Observed:
    """What a target holds now for one resource."""

    #: The current state in the same shape as a desired body (parsed from a file, read from an
    #: API). If it cannot be parsed, the raw text: a plan then shows a whole-value change.
    body: Any
    #: True when applying the desired resource would change nothing at all. A target can know
    #: more than the body shows (a reformatted file, a moved path): False with an equal body
    #: still plans an update.
    in_sync: bool = True
    #: Where it lives, for humans ("web/deployment-api.yaml").
    location: str | None = None
    #: Remarks for the plan ("edited by hand since the last apply", "moves from a.yaml").
    notes: tuple[str, ...] = ()
    #: As recorded at the last apply; used to order deletes (dependents first).
    order: int = ORDER_DEFAULT
    depends_on: tuple[str, ...] = ()


class Target(ABC):
    """Somewhere resources are applied: a directory, a cluster, a cloud account."""

    #: Short kind of target ("directory", "kubernetes").
    name: str

    @abstractmethod
    def describe(self) -> str:
        """One line for plans and the state store: ``directory /srv/gitops``."""

    def validate(self, resources: Sequence[Resource]) -> None:
        """Refuse, before anything is changed, resources this target cannot hold.

        Raises :class:`~tuskops.errors.PlanError` naming the resource. The default accepts all.
        """
        del resources

    def location_of(self, resource: Resource) -> str | None:
        """Where ``resource`` will live in this target, for humans. None if meaningless."""
        del resource
        return None

    @abstractmethod
    def expected_body(self, resource: Resource) -> Any:
        """The body as :meth:`read` will return it once ``resource`` is applied.

        Plans diff :attr:`Observed.body` against this, so a target that stores values
        differently (env files keep only strings) does not show an endless diff.
        """

    @abstractmethod
    def read(self, resources: Sequence[Resource]) -> dict[str, Observed | None]:
        """Current state of each desired resource, by id; None where the target has none."""

    @abstractmethod
    def managed_ids(self) -> set[str]:
        """Ids of everything tuskops applied here and has not deleted."""

    @abstractmethod
    def read_managed(self, ids: Iterable[str]) -> dict[str, Observed | None]:
        """Current state of managed resources that are no longer desired (to show deletes)."""

    @abstractmethod
    def create(self, resource: Resource) -> None:
        """Create ``resource``. Raises :class:`~tuskops.errors.TargetError`."""

    @abstractmethod
    def update(self, resource: Resource) -> None:
        """Make the target hold ``resource``. Raises :class:`~tuskops.errors.TargetError`."""

    @abstractmethod
    def delete(self, resource_id: str) -> None:
        """Delete a managed resource. Raises :class:`~tuskops.errors.TargetError`."""

    @abstractmethod
    def finish(self) -> None:
        """Persist the ownership record atomically. Idempotent; a no-op when nothing changed."""

    def close(self) -> None:  # noqa: B027  (a hook: most targets hold nothing open)
        """Release what the target holds open (a cluster client, an event loop). The default
        holds nothing."""
