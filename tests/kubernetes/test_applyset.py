"""ApplySet metadata (KEP-3659): the id formula, the parent, member labels and pruning."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from tuskops.errors import KubernetesError, KubernetesSpecError
from tuskops.kubernetes.applyset import (
    ADDITIONAL_NAMESPACES_ANNOTATION,
    GROUP_KINDS_ANNOTATION,
    ID_LABEL,
    PART_OF_LABEL,
    TOOLING_ANNOTATION,
    ApplySet,
    api_group,
    applyset_id,
    check_parent,
    group_kind,
    label_members,
    parent_object,
    parent_scope,
    prune_candidates,
)

SET = ApplySet("tuskops-applyset-shop", "shop")

# The KEP's formula, written out for the parent Secret shop/tuskops-applyset-shop (core group,
# so <group> is empty and the hashed text ends in a dot):
#   text = "<name>.<namespace>.<kind>.<group>" = "tuskops-applyset-shop.shop.Secret."
#   sha256(text) = 4059a0c164b3c2aeb77731a851d51a2fc15a662df0e815460b3dc75b4d72d0c8
#   base64url without padding (RFC 4648 section 5, 43 characters for 32 bytes)
#     = QFmgwWSzwq63dzGoUdUaL8FaZi3w6BVGCz3HW01y0Mg
#   id = "applyset-" + that + "-v1"
KNOWN_ID = "applyset-QFmgwWSzwq63dzGoUdUaL8FaZi3w6BVGCz3HW01y0Mg-v1"


def obj(api_version: str, kind: str, name: str, namespace: str | None = None, **labels: str) -> Any:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = {k.replace("_", "/"): v for k, v in labels.items()}
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def member(api_version: str, kind: str, name: str, namespace: str | None = None) -> Any:
    o = obj(api_version, kind, name, namespace)
    o["metadata"]["labels"] = {PART_OF_LABEL: SET.id}
    return o


def test_id_matches_the_hand_computed_value() -> None:
    assert SET.id == KNOWN_ID
    assert applyset_id("tuskops-applyset-shop", "shop", "Secret") == KNOWN_ID


def test_id_is_the_kep_formula_for_other_parents() -> None:
    digest = hashlib.sha256(b"p.ns.ConfigMap.").digest()
    expected = "applyset-" + base64.urlsafe_b64encode(digest).decode().rstrip("=") + "-v1"
    assert ApplySet("p", "ns", "ConfigMap").id == expected
    assert "=" not in expected
    # a different kind, namespace or group is a different set
    assert len({applyset_id("p", "ns", k) for k in ("Secret", "ConfigMap")}) == 2
    assert applyset_id("p", "ns", "Secret") != applyset_id("p", "other", "Secret")
    assert applyset_id("a", "", "ApplySet", "example.com") != applyset_id("a", "", "ApplySet")


def test_id_is_a_valid_label_value() -> None:
    assert len(SET.id) <= 63
    assert SET.id[0].isalnum()
    assert SET.id[-1].isalnum()


@pytest.mark.parametrize(
    ("kind", "name", "namespace"),
    [("Deployment", "p", "ns"), ("Secret", "", "ns"), ("Secret", "p", "")],
)
def test_applyset_rejects_unsupported_parents(kind: str, name: str, namespace: str) -> None:
    with pytest.raises(KubernetesSpecError):
        ApplySet(name, namespace, kind)


def test_group_helpers() -> None:
    assert api_group("apps/v1") == "apps"
    assert api_group("v1") == ""
    assert api_group("networking.k8s.io/v1") == "networking.k8s.io"
    assert group_kind(obj("apps/v1", "Deployment", "web", "shop")) == "Deployment.apps"
    assert group_kind(obj("v1", "Service", "web", "shop")) == "Service"


def test_parent_object_lists_sorted_group_kinds_and_other_namespaces() -> None:
    members = [
        obj("v1", "Service", "web", "shop"),
        obj("apps/v1", "Deployment", "web", "shop"),
        obj("networking.k8s.io/v1", "Ingress", "web", "edge"),
        obj("v1", "Namespace", "shop"),
        obj("apps/v1", "Deployment", "worker", "batch"),
    ]
    parent = parent_object(SET, members)
    assert parent["apiVersion"] == "v1"
    assert parent["kind"] == "Secret"
    assert parent["metadata"]["name"] == "tuskops-applyset-shop"
    assert parent["metadata"]["namespace"] == "shop"
    assert parent["metadata"]["labels"] == {ID_LABEL: KNOWN_ID}
    annotations = parent["metadata"]["annotations"]
    assert annotations[TOOLING_ANNOTATION].startswith("tuskops/v")
    assert (
        annotations[GROUP_KINDS_ANNOTATION]
        == "Deployment.apps,Ingress.networking.k8s.io,Namespace,Service"
    )
    assert annotations[ADDITIONAL_NAMESPACES_ANNOTATION] == "batch,edge"


def test_parent_object_with_no_members_writes_empty_hints() -> None:
    annotations = parent_object(ApplySet("p", "ns", "ConfigMap"), [])["metadata"]["annotations"]
    assert annotations[GROUP_KINDS_ANNOTATION] == ""
    assert annotations[ADDITIONAL_NAMESPACES_ANNOTATION] == ""


def test_parent_object_before_pruning_keeps_the_previous_hints() -> None:
    previous = parent_object(SET, [obj("batch/v1", "CronJob", "old", "jobs")])
    parent = parent_object(SET, [obj("v1", "Service", "web", "shop")], previous=previous)
    annotations = parent["metadata"]["annotations"]
    assert annotations[GROUP_KINDS_ANNOTATION] == "CronJob.batch,Service"
    assert annotations[ADDITIONAL_NAMESPACES_ANNOTATION] == "jobs"


def test_check_parent_accepts_our_own_parent() -> None:
    check_parent(parent_object(SET, []), SET)


def test_check_parent_refuses_a_wrong_id() -> None:
    parent = parent_object(SET, [])
    parent["metadata"]["labels"][ID_LABEL] = "applyset-forged-v1"
    with pytest.raises(KubernetesError, match="not the parent"):
        check_parent(parent, SET)


def test_check_parent_refuses_another_tools_set() -> None:
    parent = parent_object(SET, [])
    parent["metadata"]["annotations"][TOOLING_ANNOTATION] = "kubectl/v1.30.0"
    with pytest.raises(KubernetesError, match=r"kubectl/v1\.30\.0"):
        check_parent(parent, SET)
    del parent["metadata"]["annotations"][TOOLING_ANNOTATION]
    with pytest.raises(KubernetesError, match="unnamed tool"):
        check_parent(parent, SET)


def test_parent_scope() -> None:
    parent = parent_object(
        SET, [obj("apps/v1", "Deployment", "w", "batch"), obj("v1", "Service", "s", "shop")]
    )
    assert parent_scope(parent) == (["Deployment.apps", "Service"], ["shop", "batch"])


def test_label_members_adds_part_of_without_mutating_inputs() -> None:
    original = obj("apps/v1", "Deployment", "web", "shop", app="web")
    snapshot = {**original, "metadata": {**original["metadata"], "labels": {"app": "web"}}}
    labelled = label_members([original, obj("v1", "Namespace", "shop")], SET)
    assert labelled[0]["metadata"]["labels"] == {"app": "web", PART_OF_LABEL: KNOWN_ID}
    assert labelled[1]["metadata"]["labels"] == {PART_OF_LABEL: KNOWN_ID}
    assert original == snapshot
    assert labelled[0] is not original


def test_label_members_accepts_its_own_label_and_refuses_another_sets() -> None:
    mine = member("v1", "Service", "web", "shop")
    assert label_members([mine], SET)[0]["metadata"]["labels"][PART_OF_LABEL] == KNOWN_ID
    foreign = obj("v1", "Service", "web", "shop")
    foreign["metadata"]["labels"] = {PART_OF_LABEL: "applyset-other-v1"}
    with pytest.raises(KubernetesSpecError, match="only one"):
        label_members([foreign], SET)


def test_prune_candidates_are_labelled_members_not_desired() -> None:
    live = [
        member("apps/v1", "Deployment", "web", "shop"),
        member("apps/v1", "Deployment", "old", "shop"),
        member("v1", "ConfigMap", "web", "shop"),
        member("v1", "Service", "web", "other"),
    ]
    desired = [obj("apps/v1", "Deployment", "web", "shop"), obj("v1", "Service", "web", "shop")]
    pruned = prune_candidates(live, desired, applyset=SET)
    names = [(p["kind"], p["metadata"]["namespace"], p["metadata"]["name"]) for p in pruned]
    assert names == [
        ("Deployment", "shop", "old"),
        ("ConfigMap", "shop", "web"),
        ("Service", "other", "web"),
    ]


def test_prune_candidates_never_include_unlabelled_or_other_sets_objects() -> None:
    unlabelled = obj("apps/v1", "Deployment", "theirs", "shop")
    other_set = obj("apps/v1", "Deployment", "other", "shop")
    other_set["metadata"]["labels"] = {PART_OF_LABEL: "applyset-someone-else-v1"}
    assert prune_candidates([unlabelled, other_set], [], applyset=SET) == []


def test_prune_identity_ignores_version_but_not_group() -> None:
    live = [member("autoscaling/v2", "HorizontalPodAutoscaler", "web", "shop")]
    desired_same_group = [obj("autoscaling/v1", "HorizontalPodAutoscaler", "web", "shop")]
    assert prune_candidates(live, desired_same_group, applyset=SET) == []
    ingress = [member("extensions/v1beta1", "Ingress", "web", "shop")]
    desired_new_group = [obj("networking.k8s.io/v1", "Ingress", "web", "shop")]
    assert len(prune_candidates(ingress, desired_new_group, applyset=SET)) == 1


def test_desired_without_namespace_protects_all_namespaces() -> None:
    live = [member("apps/v1", "Deployment", "web", "default")]
    assert prune_candidates(live, [obj("apps/v1", "Deployment", "web")], applyset=SET) == []


def test_prune_refuses_members_with_owner_references() -> None:
    owned = member("v1", "ConfigMap", "generated", "shop")
    owned["metadata"]["ownerReferences"] = [{"kind": "Deployment", "name": "x", "uid": "1"}]
    with pytest.raises(KubernetesError, match="owner references"):
        prune_candidates([owned], [], applyset=SET)
