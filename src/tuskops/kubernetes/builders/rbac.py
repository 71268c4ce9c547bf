"""RBAC for an app: its ServiceAccount and exactly the permissions its spec asks for.

Follows https://kubernetes.io/docs/reference/access-authn-authz/rbac/ and the "good practices"
page (https://kubernetes.io/docs/concepts/security/rbac-good-practices/): least privilege,
namespaced Roles unless cluster-wide access is asked for, no wildcards (the spec parser
already refuses ``*``).

- With ``permissions``: a ServiceAccount ``<name>`` (its token mounted, since the app calls the
  API), and a Role + RoleBinding ``<name>`` in the app's namespace -- or, only with
  ``cluster_permissions``, a ClusterRole + ClusterRoleBinding instead. Cluster-scoped names
  are ``<namespace>-<name>``, because two apps called ``web`` in different namespaces would
  otherwise fight over one ClusterRole.
- Without ``permissions``: nothing. The Deployment builder then leaves the pod on the
  namespace's ``default`` ServiceAccount and should set ``automountServiceAccountToken:
  false`` on the pod; an extra, unused ServiceAccount would add an object without adding
  isolation.

Rules are normalised so that the output is deterministic and grants exactly the union of
what was asked, no more: every rule is split into single (group, resource, name, verb)
grants, grants on one resource name that a whole-resource grant already covers are dropped,
and the rest are regrouped one dimension at a time (verbs, then names, then resources, then
groups), which never widens a grant because each step only joins rules that agree on every
other dimension. Everything is sorted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from tuskops.kubernetes.builders.common import metadata
from tuskops.kubernetes.spec import AppSpec, PermissionRule

__all__ = ["normalise_rules", "rbac"]

RBAC_API = "rbac.authorization.k8s.io/v1"

#: One grant: (API group, resource, resource name or "" for all, verb).
_Grant = tuple[str, str, str, str]


def _grants(rules: Iterable[PermissionRule]) -> set[_Grant]:
    out: set[_Grant] = set()
    for rule in rules:
        names = rule.resource_names or ("",)
        for group in rule.api_groups:
            for resource in rule.resources:
                for name in names:
                    out.update((group, resource, name, verb) for verb in rule.verbs)
    # A named grant is redundant beside the same verb on every object of that resource.
    return {g for g in out if not g[2] or (g[0], g[1], "", g[3]) not in out}


def normalise_rules(rules: Iterable[PermissionRule]) -> list[dict[str, Any]]:
    """PolicyRules granting exactly the union of ``rules``, merged and sorted."""
    grants = _grants(rules)
    # 1. verbs per (group, resource, name)
    verbs: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for group, resource, name, verb in grants:
        verbs[(group, resource, name)].add(verb)
    # 2. names per (group, resource, verbs, all-names?): "all" never joins specific names
    names: dict[tuple[str, str, tuple[str, ...], bool], set[str]] = defaultdict(set)
    for (group, resource, name), verb_set in verbs.items():
        names[(group, resource, tuple(sorted(verb_set)), not name)].add(name)
    # 3. resources per (group, verbs, names)
    resources: dict[tuple[str, tuple[str, ...], tuple[str, ...]], set[str]] = defaultdict(set)
    for (group, resource, vs, _all), name_set in names.items():
        resources[(group, vs, tuple(sorted(n for n in name_set if n)))].add(resource)
    # 4. groups per (verbs, names, resources)
    groups: dict[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], set[str]]
    groups = defaultdict(set)
    for (group, vs, ns), resource_set in resources.items():
        groups[(vs, ns, tuple(sorted(resource_set)))].add(group)
    out: list[dict[str, Any]] = []
    for (vs, ns, rs), gs in groups.items():
        rule: dict[str, Any] = {"apiGroups": sorted(gs), "resources": list(rs)}
        if ns:
            rule["resourceNames"] = list(ns)
        rule["verbs"] = list(vs)
        out.append(rule)
    out.sort(key=lambda r: (r["apiGroups"], r["resources"], r.get("resourceNames", []), r["verbs"]))
    return out


def rbac(spec: AppSpec) -> list[dict[str, Any]]:
    """ServiceAccount, Role(Binding) or ClusterRole(Binding) for ``spec``; ``[]`` without
    permissions."""
    if not spec.permissions:
        return []
    account: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(spec),
        "automountServiceAccountToken": True,
    }
    rules = normalise_rules(spec.permissions)
    subject = {"kind": "ServiceAccount", "name": spec.name, "namespace": spec.namespace}
    if spec.cluster_permissions:
        name = f"{spec.namespace}-{spec.name}"
        role_kind, binding_kind = "ClusterRole", "ClusterRoleBinding"
        role_meta = metadata(spec, name, namespaced=False)
        binding_meta = metadata(spec, name, namespaced=False)
    else:
        name = spec.name
        role_kind, binding_kind = "Role", "RoleBinding"
        role_meta = metadata(spec)
        binding_meta = metadata(spec)
    role = {"apiVersion": RBAC_API, "kind": role_kind, "metadata": role_meta, "rules": rules}
    binding = {
        "apiVersion": RBAC_API,
        "kind": binding_kind,
        "metadata": binding_meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
        "subjects": [subject],
    }
    return [account, role, binding]
