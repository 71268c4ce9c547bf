"""ApplySet metadata: which cluster objects tuskops owns, so it can prune what it no longer wants.

tuskops follows the ApplySet specification of KEP-3659 ("ApplySet: kubectl apply --prune
redesign and graduation strategy", https://github.com/kubernetes/enhancements/tree/master/keps/
sig-cli/3659-kubectl-apply-prune) as kubectl implements it (``kubectl apply --applyset``,
``k8s.io/kubectl/pkg/cmd/apply/applyset.go``), so ``kubectl`` and other compliant tools can see
and respect a tuskops ApplySet:

* a *parent* object (here a Secret or ConfigMap, in a namespace the caller chooses) carries the
  label ``applyset.kubernetes.io/id``, whose value is
  ``"applyset-" + base64url_unpadded(sha256("<name>.<namespace>.<kind>.<group>")) + "-v1"``
  (the KEP: "the base64 encoding of the hash of the GKNN of the parent object ... using the URL
  safe encoding of RFC4648"; kubectl uses ``base64.RawURLEncoding``, i.e. without ``=``
  padding, and the ``applyset-%s-v1`` wrapper so the value starts and ends alphanumerically).
  For the core group (Secret, ConfigMap) ``<group>`` is empty, so the hashed text ends in a dot.
* the parent's annotations: ``applyset.kubernetes.io/tooling`` (``tuskops/v<version>``),
  ``applyset.kubernetes.io/contains-group-kinds`` (sorted, comma-separated ``Kind.group``,
  ``Kind`` alone for the core group) and ``applyset.kubernetes.io/additional-namespaces``
  (sorted, comma-separated namespaces of members other than the parent's own).
* every member carries the label ``applyset.kubernetes.io/part-of: <id>``; that label, not the
  parent's hint annotations, is the source of truth for membership.

Deviations and choices, all on the side of touching less:

* The KEP's text still spells the prefix ``applyset.k8s.io``; the implemented, documented keys
  (kubectl, "Well-Known Labels, Annotations and Taints") are ``applyset.kubernetes.io``.
* The KEP's hint example lists resources (``deployments.apps``); kubectl writes group-kinds
  (``Deployment.apps``), and so does tuskops.
* Like kubectl, both hint annotations are always written, empty when there is nothing to list.
* :func:`prune_candidates` only ever returns objects whose ``part-of`` label equals this
  set's id, refuses (raises) on members that carry owner references (the KEP calls that an
  ownership conflict), and when a desired object has no namespace it protects every live
  object of the same group, kind and name, whatever its namespace.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tuskops import __version__
from tuskops.errors import KubernetesError, KubernetesSpecError

ID_LABEL = "applyset.kubernetes.io/id"
PART_OF_LABEL = "applyset.kubernetes.io/part-of"
TOOLING_ANNOTATION = "applyset.kubernetes.io/tooling"
GROUP_KINDS_ANNOTATION = "applyset.kubernetes.io/contains-group-kinds"
ADDITIONAL_NAMESPACES_ANNOTATION = "applyset.kubernetes.io/additional-namespaces"

TOOL_NAME = "tuskops"
TOOLING = f"{TOOL_NAME}/v{__version__}"

#: Parent kinds tuskops creates (both in the core group). The KEP also allows custom resources
#: whose CRD is labelled as a parent type; tuskops does not need them.
PARENT_KINDS = ("Secret", "ConfigMap")


def api_group(api_version: str) -> str:
    """The API group of an ``apiVersion``: ``apps/v1`` -> ``apps``, ``v1`` -> ``""``."""
    group, sep, _version = api_version.rpartition("/")
    return group if sep else ""


def object_identity(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """``(group, kind, namespace, name)`` of a manifest; namespace ``""`` when absent."""
    meta = obj.get("metadata") or {}
    return (
        api_group(str(obj.get("apiVersion", ""))),
        str(obj.get("kind", "")),
        str(meta.get("namespace") or ""),
        str(meta.get("name") or ""),
    )


def group_kind(obj: Mapping[str, Any]) -> str:
    """``Kind.group`` as in the ``contains-group-kinds`` annotation (``Kind`` for core)."""
    group, kind, _ns, _name = object_identity(obj)
    return f"{kind}.{group}" if group else kind


def applyset_id(name: str, namespace: str, kind: str, group: str = "") -> str:
    """The ``applyset.kubernetes.io/id`` of the parent ``group/kind`` ``namespace/name``."""
    digest = hashlib.sha256(f"{name}.{namespace}.{kind}.{group}".encode()).digest()
    encoded = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    return f"applyset-{encoded}-v1"


@dataclass(frozen=True)
class ApplySet:
    """One ApplySet: its parent object's name, namespace and kind (Secret or ConfigMap).

    A conventional parent name is ``tuskops-applyset-<name>``; the namespace is the caller's
    choice (usually the app's namespace).
    """

    name: str
    namespace: str
    kind: str = "Secret"
    tooling: str = TOOLING

    def __post_init__(self) -> None:
        if self.kind not in PARENT_KINDS:
            raise KubernetesSpecError(
                "applyset.kind", f"must be one of {', '.join(PARENT_KINDS)}, not {self.kind!r}"
            )
        if not self.name:
            raise KubernetesSpecError("applyset.name", "must not be empty")
        if not self.namespace:
            raise KubernetesSpecError("applyset.namespace", "must not be empty")

    @property
    def id(self) -> str:
        """The value of the parent's ``id`` label and every member's ``part-of`` label."""
        return applyset_id(self.name, self.namespace, self.kind, "")


def _split_list(value: str | None) -> set[str]:
    return {item.strip() for item in (value or "").split(",") if item.strip()}


def parent_object(
    applyset: ApplySet,
    members: Iterable[Mapping[str, Any]],
    *,
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The parent Secret or ConfigMap for ``applyset`` listing ``members``' group-kinds and
    namespaces.

    With ``previous`` (the live parent), its listed group-kinds and namespaces are kept too:
    that is the superset to write *before* pruning, so an interrupted run still finds the old
    members next time; after pruning, write the parent again without ``previous``.
    """
    group_kinds = {group_kind(m) for m in members}
    namespaces = {object_identity(m)[2] for m in members}
    if previous is not None:
        annotations = (previous.get("metadata") or {}).get("annotations") or {}
        group_kinds |= _split_list(annotations.get(GROUP_KINDS_ANNOTATION))
        namespaces |= _split_list(annotations.get(ADDITIONAL_NAMESPACES_ANNOTATION))
    namespaces.discard("")
    namespaces.discard(applyset.namespace)
    return {
        "apiVersion": "v1",
        "kind": applyset.kind,
        "metadata": {
            "name": applyset.name,
            "namespace": applyset.namespace,
            "labels": {ID_LABEL: applyset.id},
            "annotations": {
                TOOLING_ANNOTATION: applyset.tooling,
                GROUP_KINDS_ANNOTATION: ",".join(sorted(group_kinds)),
                ADDITIONAL_NAMESPACES_ANNOTATION: ",".join(sorted(namespaces)),
            },
        },
    }


def check_parent(live_parent: Mapping[str, Any], applyset: ApplySet) -> None:
    """Refuse to use a live parent whose id label is wrong or that another tool manages.

    The KEP: tooling "MUST return an error if the applyset ID does not match the GKNN of the
    parent", and "should refuse to mutate ApplySets belonging to other tools".
    """
    where = f"{applyset.kind}/{applyset.namespace}/{applyset.name}"
    meta = live_parent.get("metadata") or {}
    actual_id = (meta.get("labels") or {}).get(ID_LABEL)
    if actual_id != applyset.id:
        raise KubernetesError(
            f"{where}: label {ID_LABEL} is {actual_id!r}, expected {applyset.id!r};"
            " it is not the parent of this ApplySet"
        )
    tooling = str((meta.get("annotations") or {}).get(TOOLING_ANNOTATION, ""))
    if tooling.partition("/")[0] != TOOL_NAME:
        raise KubernetesError(
            f"{where}: the ApplySet is managed by {tooling or 'an unnamed tool'!r},"
            f" not {TOOL_NAME}; refusing to change it"
        )


def parent_scope(live_parent: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """``(group_kinds, namespaces)`` to list members in: the parent's hint annotations, and
    its own namespace first followed by its additional namespaces."""
    meta = live_parent.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    group_kinds = sorted(_split_list(annotations.get(GROUP_KINDS_ANNOTATION)))
    own = str(meta.get("namespace") or "")
    extra = sorted(_split_list(annotations.get(ADDITIONAL_NAMESPACES_ANNOTATION)) - {own})
    return group_kinds, ([own] if own else []) + extra


def label_members(objs: Iterable[Mapping[str, Any]], applyset: ApplySet) -> list[dict[str, Any]]:
    """Deep copies of ``objs`` carrying ``applyset.kubernetes.io/part-of: <id>``.

    An object that already carries a different ``part-of`` value is an error (the KEP: such a
    manifest "SHOULD" be treated as invalid); the same value is accepted.
    """
    labelled: list[dict[str, Any]] = []
    for obj in objs:
        copied: dict[str, Any] = copy.deepcopy(dict(obj))
        meta = copied.setdefault("metadata", {})
        labels = meta.get("labels") or {}
        existing = labels.get(PART_OF_LABEL)
        if existing is not None and existing != applyset.id:
            _group, kind, ns, name = object_identity(copied)
            where = "/".join(p for p in (kind, ns, name) if p)
            raise KubernetesSpecError(
                f"{where}: metadata.labels",
                f"already has {PART_OF_LABEL}={existing!r}; an object can belong to only one"
                " ApplySet",
            )
        meta["labels"] = {**labels, PART_OF_LABEL: applyset.id}
        labelled.append(copied)
    return labelled


def prune_candidates(
    live_members: Iterable[Mapping[str, Any]],
    desired: Iterable[Mapping[str, Any]],
    *,
    applyset: ApplySet,
) -> list[dict[str, Any]]:
    """Live objects of ``applyset`` that ``desired`` no longer contains, in input order.

    Identity is ``(group, kind, namespace, name)``; the version is not part of it, so moving a
    kind to a new ``apiVersion`` does not prune it. Anything not labelled
    ``part-of=<this id>`` is never returned, whatever the caller passed in. A candidate with
    ``metadata.ownerReferences`` raises :class:`KubernetesError` (an ownership conflict per
    the KEP): deleting it is not for tuskops to decide.
    """
    wanted: set[tuple[str, str, str, str]] = set()
    wanted_any_namespace: set[tuple[str, str, str]] = set()
    for obj in desired:
        group, kind, ns, name = object_identity(obj)
        wanted.add((group, kind, ns, name))
        if not ns:
            wanted_any_namespace.add((group, kind, name))
    candidates: list[dict[str, Any]] = []
    for live in live_members:
        meta = live.get("metadata") or {}
        if (meta.get("labels") or {}).get(PART_OF_LABEL) != applyset.id:
            continue
        group, kind, ns, name = object_identity(live)
        if (group, kind, ns, name) in wanted or (group, kind, name) in wanted_any_namespace:
            continue
        if meta.get("ownerReferences"):
            where = "/".join(p for p in (kind, ns, name) if p)
            raise KubernetesError(
                f"{where} is labelled as a member of ApplySet {applyset.id} but has owner"
                " references; not pruning it (remove the label or the owner reference)"
            )
        candidates.append(dict(live))
    return candidates
