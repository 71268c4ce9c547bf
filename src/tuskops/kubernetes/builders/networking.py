"""The app's Service (v1) and Ingress (networking.k8s.io/v1).

* Service (https://kubernetes.io/docs/concepts/services-networking/service/): one port per
  declared port, ``targetPort`` by the container port's *name*, so the container's number can
  change without touching the Service. Type ``None`` in the spec means a headless Service
  (``type: ClusterIP``, ``clusterIP: None``:
  https://kubernetes.io/docs/concepts/services-networking/service/#headless-services).
* Ingress (https://kubernetes.io/docs/concepts/services-networking/ingress/): one rule for the
  host and path, the backend Service port by name, TLS for the host from the named Secret
  (which cert-manager or the user provides; tuskops does not create it).

Deviation: the spec's ingress ``port`` may be a number; it is resolved to the name of the port
whose Service port (or container port) it is, and refused when none matches, rather than
passed through to fail at the controller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuskops.errors import KubernetesSpecError
from tuskops.kubernetes.builders.common import metadata, selector_labels
from tuskops.kubernetes.spec import AppSpec

__all__ = ["ingress", "service"]


def service(
    spec: AppSpec, *, name: str | None = None, extra_selector: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """The app's Service, or None when it declares no ports.

    ``name`` and ``extra_selector`` build a Service for one track (blue-green, canary) of the
    app: ``extra_selector`` is added to the app's selector labels (e.g.
    ``{"tuskops.dev/track": "green"}``).
    """
    if not spec.ports:
        return None
    body: dict[str, Any] = {}
    if spec.service.type == "None":
        body["type"] = "ClusterIP"
        body["clusterIP"] = "None"
    else:
        body["type"] = spec.service.type
    body["selector"] = {**selector_labels(spec), **(extra_selector or {})}
    body["ports"] = [
        {
            "name": p.name,
            "port": p.service_port or p.port,
            "targetPort": p.name,
            "protocol": p.protocol,
        }
        for p in spec.ports
    ]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(spec, name, annotations=spec.service.annotations),
        "spec": body,
    }


def ingress(spec: AppSpec) -> dict[str, Any] | None:
    """The app's Ingress, or None without ``spec.ingress``."""
    ing = spec.ingress
    if ing is None:
        return None
    if not spec.ports:
        raise KubernetesSpecError("app.ingress", "an ingress needs the app to declare a port")
    port_name = _backend_port(spec, ing.port)
    body: dict[str, Any] = {}
    if ing.class_name is not None:
        body["ingressClassName"] = ing.class_name
    if ing.tls_secret is not None:
        body["tls"] = [{"hosts": [ing.host], "secretName": ing.tls_secret}]
    backend = {"service": {"name": spec.name, "port": {"name": port_name}}}
    body["rules"] = [
        {
            "host": ing.host,
            "http": {"paths": [{"path": ing.path, "pathType": ing.path_type, "backend": backend}]},
        }
    ]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(spec, annotations=ing.annotations),
        "spec": body,
    }


def _backend_port(spec: AppSpec, port: str | int | None) -> str:
    if port is None:
        return spec.ports[0].name
    if isinstance(port, str):
        if any(p.name == port for p in spec.ports):
            return port
        raise KubernetesSpecError("app.ingress.port", f"no port named {port!r}")
    if isinstance(port, int) and not isinstance(port, bool):
        for p in spec.ports:
            if port in (p.service_port or p.port, p.port):
                return p.name
        raise KubernetesSpecError("app.ingress.port", f"the app declares no port {port}")
    raise KubernetesSpecError("app.ingress.port", "expected a port name or number")
