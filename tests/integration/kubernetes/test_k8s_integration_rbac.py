"""Against a real cluster: RBAC, checked with access reviews (``authorization.k8s.io/v1``).

Two different questions, two different reviews:

* **May the test's own credentials do what ``tuskops apply`` needs?** A
  ``SelfSubjectAccessReview`` answers for *the caller*, whoever the kubeconfig authenticates
  as, and any user may create one. It is what ``kubectl auth can-i`` sends.
* **Does the app's ServiceAccount get exactly the permissions its spec asked for?** A
  SelfSubjectAccessReview cannot answer this: it would check the test's credentials, not the
  ServiceAccount's. A ``SubjectAccessReview`` names the subject (``user:
  system:serviceaccount:<ns>:<name>`` plus its groups ``system:serviceaccounts`` and
  ``system:serviceaccounts:<ns>``, as the API server authenticates a ServiceAccount token); it
  needs ``create`` on ``subjectaccessreviews`` (cluster admins have it). This is
  ``kubectl auth can-i --as=system:serviceaccount:<ns>:<name>``, without impersonation.

Reviews are create-only (``POST``); KubeClient has no create verb, so the harness posts them
through the client's request boundary (``Cluster.create``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from click.testing import Result
from k8s_harness import PARENT_NAMESPACE, Cluster, Workspace, app_file

pytestmark = pytest.mark.kubernetes

Run = Callable[..., Result]

REVIEWS = "/apis/authorization.k8s.io/v1"


def _attributes(
    verb: str, resource: str, namespace: str | None, group: str = "", subresource: str = ""
) -> dict[str, Any]:
    attrs: dict[str, Any] = {"verb": verb, "group": group, "resource": resource}
    if namespace:
        attrs["namespace"] = namespace
    if subresource:
        attrs["subresource"] = subresource
    return attrs


def can_i(cluster: Cluster, attrs: Mapping[str, Any]) -> bool:
    review = cluster.create(
        f"{REVIEWS}/selfsubjectaccessreviews",
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": dict(attrs)},
        },
    )
    return bool((review.get("status") or {}).get("allowed"))


def service_account_can(
    cluster: Cluster, namespace: str, account: str, attrs: Mapping[str, Any]
) -> bool:
    review = cluster.create(
        f"{REVIEWS}/subjectaccessreviews",
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": f"system:serviceaccount:{namespace}:{account}",
                "groups": [
                    "system:serviceaccounts",
                    f"system:serviceaccounts:{namespace}",
                    "system:authenticated",
                ],
                "resourceAttributes": dict(attrs),
            },
        },
    )
    return bool((review.get("status") or {}).get("allowed"))


def test_own_credentials_may_do_what_apply_and_these_tests_need(
    cluster: Cluster, namespace: Workspace
) -> None:
    ns = namespace.name
    needed: list[tuple[str, dict[str, Any]]] = []
    # tuskops apply: read, server-side apply (patch; create when absent), prune (list, delete).
    for group, resource in (
        ("", "configmaps"),
        ("", "secrets"),
        ("", "services"),
        ("", "serviceaccounts"),
        ("apps", "deployments"),
        ("apps", "replicasets"),  # rollout status and history
        ("", "pods"),  # rollout status reads the new ReplicaSet's pods
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "rolebindings"),
    ):
        for verb in ("get", "list", "create", "patch", "delete"):
            needed.append((f"{verb} {resource}", _attributes(verb, resource, ns, group)))
    needed.append(("list events", _attributes("list", "events", ns)))
    # The ApplySet parent Secret lives in "default".
    for verb in ("get", "create", "patch", "delete"):
        needed.append(
            (
                f"{verb} secrets in {PARENT_NAMESPACE}",
                _attributes(verb, "secrets", PARENT_NAMESPACE),
            )
        )
    # The harness: namespaces, and pod status (it plays the kubelet).
    needed.append(("create namespaces", _attributes("create", "namespaces", None)))
    needed.append(("delete namespaces", _attributes("delete", "namespaces", None)))
    needed.append(("patch pods/status", _attributes("patch", "pods", ns, subresource="status")))
    denied = [what for what, attrs in needed if not can_i(cluster, attrs)]
    assert not denied, f"the test credentials may not: {', '.join(denied)}"


def test_the_apps_service_account_gets_exactly_its_permissions(
    tuskops: Run, target: list[str], cluster: Cluster, namespace: Workspace
) -> None:
    ns = namespace.name
    # An authorizer that allows everything (AlwaysAllow) cannot show a denial: say so.
    nobody = service_account_can(
        cluster, ns, "tuskops-it-nobody", _attributes("delete", "namespaces", None)
    )
    if nobody:
        pytest.skip("the cluster's authorizer allows everything (AlwaysAllow?): no RBAC to test")
    tsk = app_file(
        namespace,
        "app",
        extra_keys='    permissions: [{ resources: ["configmaps"], verbs: ["get", "list"] }]\n',
    )
    result = tuskops("apply", tsk, *target, "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert cluster.get("v1", "ServiceAccount", "web", ns) is not None

    def sa(verb: str, resource: str, where: str | None = ns) -> bool:
        return service_account_can(cluster, ns, "web", _attributes(verb, resource, where))

    # RBAC takes effect when the authorizer's cache sees the Role and RoleBinding.
    cluster.wait_for("the app's Role to take effect", lambda: sa("get", "configmaps"))
    assert sa("list", "configmaps")
    assert not sa("watch", "configmaps")
    assert not sa("delete", "configmaps")
    assert not sa("patch", "configmaps")
    assert not sa("get", "secrets")
    assert not sa("get", "configmaps", PARENT_NAMESPACE)  # a Role, not a ClusterRole
    assert not sa("list", "configmaps", None)  # not cluster-wide
