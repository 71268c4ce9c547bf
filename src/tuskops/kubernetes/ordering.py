"""The order to apply (and prune) Kubernetes objects in, so each finds what it depends on.

Kinds are ranked in this order; objects of equal rank keep their input order:

1. Namespaces, then CustomResourceDefinitions (everything namespaced or custom needs them);
2. ServiceAccounts and cluster RBAC (ClusterRole, ClusterRoleBinding), then Roles and
   RoleBindings (pods start with their service account's permissions in place);
3. configuration: ConfigMaps, Secrets, and storage (StorageClass, PersistentVolume,
   PersistentVolumeClaim), which pods mount;
4. quota, limits and policies (ResourceQuota, LimitRange, NetworkPolicy, PriorityClass), which
   admission applies to pods created after them;
5. Services (before workloads, so pods get the service environment variables and DNS exists);
6. workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod);
7. HorizontalPodAutoscalers and PodDisruptionBudgets, which refer to workloads;
8. IngressClasses, Ingresses, APIServices and admission webhook configurations (they route to
   Services that should exist and be served first);
9. anything else, typically custom resources, last: their CRDs and controllers come first.

Prior art: Helm's ``InstallOrder`` (``helm.sh/helm/v3/pkg/releaseutil/kind_sorter.go``), which
this resembles, including "unknown kinds last" and stable sorting within a kind. Deviations:
Helm puts quota/limits/policies and PDBs before ServiceAccounts and CRDs after configuration;
here CRDs come right after Namespaces and policies after configuration, as tuskops specifies.
Kinds are matched by API group *and* kind, so a custom resource called ``Service`` in another
group is not mistaken for a core Service. Pruning uses the exact reverse (Helm keeps a
separate ``UninstallOrder``; the reverse is simpler and deletes dependents first).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from tuskops.kubernetes.applyset import object_identity

T = TypeVar("T", bound=Mapping[str, Any])

_RANKED: tuple[tuple[tuple[str, str], ...], ...] = (
    (("", "Namespace"),),
    (("apiextensions.k8s.io", "CustomResourceDefinition"),),
    (
        ("", "ServiceAccount"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ),
    (
        ("rbac.authorization.k8s.io", "Role"),
        ("rbac.authorization.k8s.io", "RoleBinding"),
    ),
    (
        ("", "ConfigMap"),
        ("", "Secret"),
        ("storage.k8s.io", "StorageClass"),
        ("", "PersistentVolume"),
        ("", "PersistentVolumeClaim"),
    ),
    (
        ("", "ResourceQuota"),
        ("", "LimitRange"),
        ("networking.k8s.io", "NetworkPolicy"),
        ("scheduling.k8s.io", "PriorityClass"),
    ),
    (("", "Service"),),
    (
        ("apps", "Deployment"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("apps", "ReplicaSet"),
        ("", "ReplicationController"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("", "Pod"),
    ),
    (
        ("autoscaling", "HorizontalPodAutoscaler"),
        ("policy", "PodDisruptionBudget"),
    ),
    (
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "Ingress"),
        ("apiregistration.k8s.io", "APIService"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ),
)

_RANK: dict[tuple[str, str], int] = {
    group_kind: rank for rank, kinds in enumerate(_RANKED) for group_kind in kinds
}

#: The rank of kinds not in the table (custom resources): after every known kind.
UNKNOWN_RANK = len(_RANKED)


def kind_rank(obj: Mapping[str, Any]) -> int:
    """The apply rank of ``obj``'s group and kind; lower goes first."""
    group, kind, _ns, _name = object_identity(obj)
    return _RANK.get((group, kind), UNKNOWN_RANK)


def apply_order(objs: Iterable[T]) -> list[T]:
    """``objs`` in dependency order for applying (a new list; the objects are not copied)."""
    return sorted(objs, key=kind_rank)


def prune_order(objs: Iterable[T]) -> list[T]:
    """``objs`` in the order to delete them: the exact reverse of :func:`apply_order`."""
    return list(reversed(apply_order(objs)))
