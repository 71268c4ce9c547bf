"""``@kubernetes`` (``@k8s``): app specs and manifests as desired state.

::

    web: @kubernetes.app({ name: "web", image: "ghcr.io/acme/web:1.4.2", port: 8080,
                           replicas: 3, ingress: { host: "web.example.com", tls: true } })
    extra: @kubernetes.manifest("k8s/cronjob.yaml")
    only_the_deployment: @kubernetes.deployment({ name: "api", image: "api:2", port: 80 })

Every action returns :class:`~tuskops.core.resource.Resource` objects, one per manifest, each
validated offline against the schema of the spec's ``kubernetes_version`` (an error names the
resource and the field). Nothing touches a cluster during evaluation: ``tuskops plan`` and
``tuskops apply`` do, against a target (a directory of manifests for GitOps, or a cluster).
A manifest whose kind has no schema here (a custom resource) is kept and reported as not
validated, never as valid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from tuskops.core.operator import CallContext, Operator, action
from tuskops.core.resource import Resource
from tuskops.errors import KubernetesError, OperatorArgumentError, OperatorError
from tuskops.kubernetes.spec import DEFAULT_KUBERNETES_VERSION, AppSpec, parse_app_spec

Builder = Callable[[AppSpec], "dict[str, Any] | list[dict[str, Any]] | None"]


def _spec(value: Mapping[str, Any]) -> AppSpec:
    try:
        return parse_app_spec(value)
    except KubernetesError as exc:
        raise OperatorArgumentError(str(exc)) from None


def _checked(
    ctx: CallContext,
    manifests: Iterable[Mapping[str, Any]],
    version: str,
    context: str | None = None,
) -> list[Resource]:
    """Validate every manifest at ``version`` and make resources; unknown kinds are warned."""
    from tuskops.kubernetes.resources import to_resources
    from tuskops.kubernetes.validate import validate_all

    manifests = list(manifests)
    try:
        results = validate_all(manifests, version)
        for result in results:
            if result.unknown:
                ctx.warn(f"{result.object}: not validated: {result.message or result.status}")
            elif not result.valid:
                where = f"{result.object}: {result.field}" if result.field else result.object
                raise OperatorError(f"{where}: {result.message}")
        return to_resources(manifests, context=context)
    except KubernetesError as exc:
        raise OperatorError(str(exc)) from None


def _one(ctx: CallContext, spec_value: Mapping[str, Any], builder: Builder) -> list[Resource]:
    spec = _spec(spec_value)
    try:
        built = builder(spec)
    except KubernetesError as exc:
        raise OperatorArgumentError(str(exc)) from None
    manifests = built if isinstance(built, list) else [built] if built is not None else []
    return _checked(ctx, manifests, spec.kubernetes_version, spec.context)


class KubernetesOperator(Operator):
    """Kubernetes manifests from app specs and files, validated offline, applied by `tuskops
    apply` (to a directory for GitOps, or to a cluster with server-side apply)."""

    name = "kubernetes"
    aliases = ("k8s",)
    origin = "platform"

    @action
    def app(
        self, ctx: CallContext, spec: dict[str, Any], manifests: list[str] | None = None
    ) -> list[Resource]:
        """Every manifest an app needs (Deployment, Service, Ingress, HPA, PDB, RBAC,
        NetworkPolicy, Namespace with quota and limits, ConfigMap, Secret), from one spec.
        `manifests`: YAML files merged over the generated objects (JSON merge patch)."""
        from tuskops.kubernetes.builders.app import build_app
        from tuskops.kubernetes.manifests import load_manifests, merge_manifests

        parsed = _spec(spec)
        try:
            generated = build_app(parsed)
            raw = [m for path in manifests or [] for m in load_manifests(ctx.base_dir / path)]
            merged = merge_manifests(generated, raw, default_namespace=parsed.namespace)
        except KubernetesError as exc:
            raise OperatorError(str(exc)) from None
        return _checked(ctx, merged, parsed.kubernetes_version, parsed.context)

    @action
    def manifest(
        self,
        ctx: CallContext,
        path: str,
        namespace: str = "default",
        kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
        context: str | None = None,
    ) -> list[Resource]:
        """The objects of a YAML file (several documents, or a List), validated; namespaced
        objects without a namespace go to `namespace`; `context`: the kubeconfig context they
        go to when the file spans several clusters."""
        from tuskops.kubernetes.manifests import load_manifests, merge_manifests

        try:
            loaded = load_manifests(Path(ctx.base_dir) / path)
            placed = merge_manifests([], loaded, default_namespace=namespace)
        except KubernetesError as exc:
            raise OperatorError(str(exc)) from None
        return _checked(ctx, placed, kubernetes_version, context)

    @action
    def deployment(self, ctx: CallContext, spec: dict[str, Any]) -> list[Resource]:
        """The app's Deployment alone."""
        from tuskops.kubernetes.builders.workload import deployment

        return _one(ctx, spec, deployment)

    @action
    def service(self, ctx: CallContext, spec: dict[str, Any]) -> list[Resource]:
        """The app's Service (none without ports)."""
        from tuskops.kubernetes.builders.networking import service

        return _one(ctx, spec, service)

    @action
    def ingress(self, ctx: CallContext, spec: dict[str, Any]) -> list[Resource]:
        """The app's Ingress (networking.k8s.io/v1, with TLS when asked)."""
        from tuskops.kubernetes.builders.networking import ingress

        return _one(ctx, spec, ingress)

    @action
    def hpa(self, ctx: CallContext, spec: dict[str, Any]) -> list[Resource]:
        """The app's HorizontalPodAutoscaler (autoscaling/v2)."""
        from tuskops.kubernetes.builders.autoscaling import horizontal_pod_autoscaler

        return _one(ctx, spec, horizontal_pod_autoscaler)

    @action
    def pdb(self, ctx: CallContext, spec: dict[str, Any]) -> list[Resource]:
        """The app's PodDisruptionBudget."""
        from tuskops.kubernetes.builders.workload import pod_disruption_budget

        return _one(ctx, spec, pod_disruption_budget)

    @action
    def rbac(self, ctx: CallContext, spec: dict[str, Any]) -> list[Resource]:
        """ServiceAccount, Role and RoleBinding (ClusterRole only when asked) for the app's
        permissions, least privilege."""
        from tuskops.kubernetes.builders.rbac import rbac

        return _one(ctx, spec, rbac)

    @action
    def network_policies(self, ctx: CallContext, spec: dict[str, Any]) -> list[Resource]:
        """Default-deny plus the allows the spec implies (needs namespace_policy)."""
        from tuskops.kubernetes.builders.policy import network_policies

        return _one(ctx, spec, network_policies)

    @action
    def namespace(self, ctx: CallContext, spec: dict[str, Any]) -> list[Resource]:
        """Namespace with ResourceQuota and LimitRange (needs namespace_policy)."""
        from tuskops.kubernetes.builders.namespace import namespace_objects

        return _one(ctx, spec, namespace_objects)

    @action
    def config(self, ctx: CallContext, spec: dict[str, Any]) -> list[Resource]:
        """The app's ConfigMap and Secret (values of `secrets` redacted in plans)."""
        from tuskops.kubernetes.builders.config import config_map, secret

        def both(s: AppSpec) -> list[dict[str, Any]]:
            return [m for m in (config_map(s), secret(s)) if m is not None]

        return _one(ctx, spec, both)
