"""Raw manifests: reading YAML files of Kubernetes objects and merging them over built ones.

:func:`load_manifests` reads a file as ``kubectl apply -f`` does: several documents separated
by ``---`` (empty ones skipped), and a ``kind: List`` expanded into its ``items``. Errors name
``file:line:col`` (from PyYAML's marks) for YAML problems and ``file:line:col`` of the
document plus its index (``document 2``, counted from 1 in file order, empty documents
included) for an object lacking ``apiVersion``, ``kind`` or ``metadata.name``.

Two deliberate choices follow kubectl (whose YAML goes through ``sigs.k8s.io/yaml``) rather
than PyYAML's defaults: an unquoted date such as ``2024-05-01`` stays a string (PyYAML would
make a ``datetime.date``, which is not JSON), and a key repeated in one mapping is an error
(PyYAML keeps the last silently).

:func:`merge_manifests` lays raw manifests over generated ones. Objects are identified by
:func:`object_key`: ``(API group, kind, namespace, name)`` -- the group, not the version,
because ``apps/v1`` and ``apps/v1beta2`` name the same stored object. A raw manifest whose
key matches a generated one is merged over it with JSON merge patch semantics (RFC 7386,
https://www.rfc-editor.org/rfc/rfc7386): maps merge recursively, any other value (lists
included) replaces, and ``null`` deletes the key. Other raw manifests are appended.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from tuskops.errors import KubernetesSpecError

__all__ = [
    "CLUSTER_SCOPED",
    "api_group",
    "is_cluster_scoped",
    "json_merge_patch",
    "load_manifests",
    "merge_manifests",
    "object_key",
]

#: Built-in kinds that are not namespaced, by (API group, kind). From ``kubectl api-resources
#: --namespaced=false`` against Kubernetes 1.33, plus the newer alpha kinds; the tests check
#: it covers every ``GlobalResource`` in lightkube-models (1.37). A custom resource's scope is
#: known only from its CustomResourceDefinition: :func:`merge_manifests` reads the CRDs it is
#: given, and takes other unknown kinds as namespaced (most custom resources are).
CLUSTER_SCOPED: frozenset[tuple[str, str]] = frozenset(
    {
        ("", "ComponentStatus"),
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("authentication.k8s.io", "SelfSubjectReview"),
        ("authentication.k8s.io", "TokenReview"),
        ("authorization.k8s.io", "SelfSubjectAccessReview"),
        ("authorization.k8s.io", "SelfSubjectRulesReview"),
        ("authorization.k8s.io", "SubjectAccessReview"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("certificates.k8s.io", "ClusterTrustBundle"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("internal.apiserver.k8s.io", "StorageVersion"),
        ("networking.k8s.io", "IPAddress"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "ServiceCIDR"),
        ("node.k8s.io", "RuntimeClass"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("resource.k8s.io", "DeviceClass"),
        ("resource.k8s.io", "DeviceTaintRule"),
        ("resource.k8s.io", "ResourcePoolStatusRequest"),
        ("resource.k8s.io", "ResourceSlice"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("storage.k8s.io", "VolumeAttributesClass"),
        ("storagemigration.k8s.io", "StorageVersionMigration"),
    }
)


# --- reading ------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader without timestamps (kept as strings) and refusing duplicate keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<": keys it brings in may be overridden
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Sequence | Mapping) and not isinstance(key, str):
                continue  # left to PyYAML, which refuses unhashable keys with a mark
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# Copied per class (PyYAML's add_implicit_resolver does the same), so SafeLoader is untouched.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _mark(file: str, mark: yaml.Mark | None) -> str:
    return f"{file}:{mark.line + 1}:{mark.column + 1}" if mark is not None else file


def _check_object(obj: object, where: str, what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise KubernetesSpecError(where, f"{what}: expected a map (an object), got {_kind(obj)}")
    missing = [key for key in ("apiVersion", "kind") if not _nonempty(obj.get(key))]
    meta = obj.get("metadata")
    if not (isinstance(meta, dict) and _nonempty(meta.get("name"))):
        missing.append("metadata.name")
    if missing:
        raise KubernetesSpecError(where, f"{what}: missing {', '.join(missing)}")
    return obj


def _nonempty(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


def load_manifests(path: str | Path) -> list[dict[str, Any]]:
    """Read every object in a YAML file, in order; ``kind: List`` documents are expanded."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KubernetesSpecError(file, f"cannot read manifest file: {exc}") from exc
    loader = _Loader(text)
    out: list[dict[str, Any]] = []
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            index += 1
            if node is None:
                continue
            data = loader.construct_document(node)
            if data is None:
                continue  # an empty document (or a lone comment), as kubectl skips
            where = _mark(file, node.start_mark)
            if isinstance(data, dict) and data.get("kind") == "List" and "items" in data:
                out.extend(_list_items(data, node, file, index))  # a List has no name
            else:
                out.append(_check_object(data, where, f"document {index}"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context
        raise KubernetesSpecError(_mark(file, mark), message or "invalid YAML") from exc
    except yaml.YAMLError as exc:
        raise KubernetesSpecError(file, f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
    return out


def _list_items(
    obj: dict[str, Any], node: yaml.Node, file: str, index: int
) -> list[dict[str, Any]]:
    items = obj["items"]
    if not isinstance(items, list):
        where = _mark(file, node.start_mark)
        raise KubernetesSpecError(where, f"document {index}: items: expected a list")
    item_nodes = _child(node, "items")
    result = []
    for i, item in enumerate(items):
        item_node = item_nodes.value[i] if isinstance(item_nodes, yaml.SequenceNode) else node
        where = _mark(file, item_node.start_mark)
        result.append(_check_object(item, where, f"document {index}, items[{i}]"))
    return result


def _child(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                child: yaml.Node = value_node
                return child
    return None


# --- identity and merging -----------------------------------------------------------------------


def api_group(api_version: str) -> str:
    """``apps/v1`` -> ``apps``; the core group (``v1``) is ``""``."""
    return api_version.rpartition("/")[0]


def is_cluster_scoped(manifest: Mapping[str, Any], extra: Iterable[tuple[str, str]] = ()) -> bool:
    """Whether the manifest's kind is cluster-scoped: :data:`CLUSTER_SCOPED` plus ``extra``
    ``(group, kind)`` pairs (custom resources whose CRD says ``scope: Cluster``)."""
    key = (api_group(str(manifest.get("apiVersion", ""))), str(manifest.get("kind", "")))
    return key in CLUSTER_SCOPED or key in set(extra)


def object_key(
    manifest: Mapping[str, Any], *, cluster_scoped: Iterable[tuple[str, str]] = ()
) -> tuple[str, str, str, str]:
    """``(API group, kind, namespace, name)``; the namespace is ``""`` for cluster-scoped kinds
    (the API server ignores one given for them) and as written otherwise."""
    meta = manifest.get("metadata") or {}
    namespace = "" if is_cluster_scoped(manifest, cluster_scoped) else meta.get("namespace") or ""
    return (
        api_group(str(manifest.get("apiVersion", ""))),
        str(manifest.get("kind", "")),
        str(namespace),
        str(meta.get("name", "")),
    )


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 MergePatch: a new value, ``target`` and ``patch`` left unchanged."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result: dict[str, Any] = (
        {k: copy.deepcopy(v) for k, v in target.items()} if isinstance(target, Mapping) else {}
    )
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


def _crd_scopes(manifests: Iterable[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """(group, kind) of the custom resources that CRDs among ``manifests`` make cluster-scoped."""
    found: set[tuple[str, str]] = set()
    for m in manifests:
        if m.get("kind") != "CustomResourceDefinition":
            continue
        spec = m.get("spec") or {}
        kind = (spec.get("names") or {}).get("kind")
        if spec.get("scope") == "Cluster" and spec.get("group") and kind:
            found.add((str(spec["group"]), str(kind)))
    return found


def _with_namespace(
    manifest: Mapping[str, Any], default_namespace: str, cluster: set[tuple[str, str]]
) -> dict[str, Any]:
    out = copy.deepcopy(dict(manifest))
    if not is_cluster_scoped(out, cluster):
        meta = out.setdefault("metadata", {})
        if not meta.get("namespace"):
            meta["namespace"] = default_namespace
    return out


def merge_manifests(
    generated: Sequence[Mapping[str, Any]],
    raw: Sequence[Mapping[str, Any]],
    *,
    default_namespace: str = "default",
) -> list[dict[str, Any]]:
    """Generated manifests with ``raw`` merged over them (RFC 7386), then the other raw ones.

    Namespaced objects without a namespace get ``default_namespace`` (as ``kubectl apply``
    gives them the context's). Order: the generated objects in their order (a merged one where
    it was), then the unmatched raw ones in theirs. Two raw manifests for the same object are
    an error, since which one should win is not knowable. Inputs are not modified.
    """
    cluster = _crd_scopes([*generated, *raw])
    out = [_with_namespace(m, default_namespace, cluster) for m in generated]
    position = {object_key(m, cluster_scoped=cluster): i for i, m in enumerate(out)}
    seen: set[tuple[str, str, str, str]] = set()
    for manifest in raw:
        item = _with_namespace(manifest, default_namespace, cluster)
        key = object_key(item, cluster_scoped=cluster)
        if key in seen:
            _group, kind, namespace, name = key
            label = "/".join(p for p in (kind, namespace, name) if p)
            raise KubernetesSpecError(label, "defined twice in the raw manifests")
        seen.add(key)
        if key in position:
            out[position[key]] = json_merge_patch(out[position[key]], item)
        else:
            out.append(item)
    return out
