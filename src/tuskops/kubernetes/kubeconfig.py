"""Where the cluster is: kubeconfig files (merged as kubectl merges them) and in-cluster config.

The result is a :class:`ClusterConfig`: the chosen context, the API server, the namespace to use
by default, and lightkube's ``SingleConfig``, from which lightkube builds the HTTP client (TLS,
client certificates, bearer tokens, exec credential plugins). Parsing the kubeconfig structures
and authenticating is lightkube's; this module adds what lightkube does not do:

* ``KUBECONFIG`` with several files (``os.pathsep``-separated) is merged as kubectl merges it:
  the first file to define a cluster, user or context name wins (values are never merged), the
  first file to set ``current-context`` wins, files that do not exist are skipped. lightkube
  reads only a single file.
* Relative file paths (``certificate-authority``, ``client-certificate``, ``client-key``,
  ``tokenFile``) are resolved against the file that defined them, as kubectl does, so merging
  files from different directories keeps them right.
* The order of sources is kubectl's: an explicit file, else ``KUBECONFIG``, else
  ``~/.kube/config``, and only when none of those exists the in-cluster service account.
  (lightkube's ``from_env`` tries in-cluster first.)

Every problem is a :class:`~tuskops.errors.KubernetesError` naming the file or context.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
import yaml
from lightkube.config.kubeconfig import KubeConfig, SingleConfig
from lightkube.config.models import Cluster, User
from lightkube.core.exceptions import ConfigError

from tuskops.errors import KubernetesError

#: Where a pod's service account credentials are mounted.
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DEFAULT_NAMESPACE = "default"
#: The context name reported for in-cluster configuration.
IN_CLUSTER_CONTEXT = "in-cluster"

_SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
#: Fields holding file paths, per section item, resolved against the defining file.
_PATH_FIELDS = {
    "cluster": ("certificate-authority",),
    "user": ("client-certificate", "client-key", "tokenFile"),
}


@dataclass(frozen=True)
class ClusterConfig:
    """One chosen cluster: context, API server, default namespace and how it was found."""

    context: str
    server: str
    namespace: str
    #: The kubeconfig file(s), or ``in-cluster service account <dir>``.
    source: str
    #: lightkube's view of the same, used to build the authenticated HTTP client.
    single: SingleConfig

    @property
    def host(self) -> str:
        """``host:port`` of the API server (names the server in errors and circuit breakers)."""
        parts = urlsplit(self.server)
        return parts.netloc or self.server


@dataclass(frozen=True)
class ContextInfo:
    """One kubeconfig context, as ``kubectl config get-contexts`` lists it."""

    name: str
    cluster: str
    user: str | None
    namespace: str
    current: bool


def kubeconfig_paths(
    kubeconfig: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
) -> list[Path]:
    """The kubeconfig files to read, in precedence order (not checked for existence)."""
    environ = os.environ if env is None else env
    if kubeconfig is not None:
        return [Path(kubeconfig).expanduser()]
    listed = environ.get("KUBECONFIG", "")
    if listed:
        paths: list[Path] = []
        for part in listed.split(os.pathsep):
            if part and Path(part).expanduser() not in paths:
                paths.append(Path(part).expanduser())
        return paths
    home = environ.get("HOME")
    base = Path(home) if home else Path.home()
    return [base / ".kube" / "config"]


def _absolutize(item: Mapping[str, Any], fields: Sequence[str], base: Path) -> dict[str, Any]:
    out = dict(item)
    for field in fields:
        value = out.get(field)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            out[field] = str(base / value)
        elif isinstance(value, str) and value:
            out[field] = str(Path(value).expanduser())
    return out


def merge_kubeconfigs(docs: Sequence[tuple[Path, Mapping[str, Any]]]) -> dict[str, Any]:
    """Merge parsed kubeconfig documents as kubectl does; pure.

    ``docs`` are ``(file, content)`` in precedence order. The first file to define a name in
    ``clusters``/``users``/``contexts`` wins, the first ``current-context`` wins, and relative
    paths are made absolute against the directory of the file they came from.
    """
    merged: dict[str, Any] = {"clusters": [], "users": [], "contexts": []}
    seen: dict[str, set[str]] = {section: set() for section, _ in _SECTIONS}
    for path, doc in docs:
        if not isinstance(doc, Mapping):
            raise KubernetesError(f"{path}: a kubeconfig must be a mapping")
        if not merged.get("current-context") and doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
        for section, key in _SECTIONS:
            entries = doc.get(section) or []
            if not isinstance(entries, list):
                raise KubernetesError(f"{path}: {section} must be a list")
            for index, entry in enumerate(entries):
                if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                    raise KubernetesError(f"{path}: {section}[{index}] needs a name")
                name = entry["name"]
                if name in seen[section]:
                    continue
                seen[section].add(name)
                body = entry.get(key) or {}
                if not isinstance(body, Mapping):
                    raise KubernetesError(f"{path}: {section}[{index}].{key} must be a mapping")
                body = _absolutize(body, _PATH_FIELDS.get(key, ()), path.parent)
                merged[section].append({"name": name, key: body})
    return merged


def read_kubeconfig(paths: Sequence[Path], *, explicit: bool = False) -> dict[str, Any]:
    """Read and merge the files; missing files are skipped unless ``explicit``."""
    docs: list[tuple[Path, Mapping[str, Any]]] = []
    for path in paths:
        if not path.is_file():
            if explicit:
                raise KubernetesError(f"kubeconfig {path} does not exist")
            continue
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as err:
            raise KubernetesError(f"kubeconfig {path} cannot be read: {err}") from err
        docs.append((path, doc or {}))
    return merge_kubeconfigs(docs)


def contexts_of(merged: Mapping[str, Any]) -> list[ContextInfo]:
    """The contexts of a merged kubeconfig, in file order; pure."""
    current = merged.get("current-context")
    return [
        ContextInfo(
            name=entry["name"],
            cluster=str(entry["context"].get("cluster", "")),
            user=entry["context"].get("user"),
            namespace=entry["context"].get("namespace") or DEFAULT_NAMESPACE,
            current=entry["name"] == current,
        )
        for entry in merged.get("contexts", [])
    ]


def list_contexts(
    kubeconfig: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
) -> list[ContextInfo]:
    """The contexts of the kubeconfig that :func:`load_cluster` would read."""
    paths = kubeconfig_paths(kubeconfig, env=env)
    return contexts_of(read_kubeconfig(paths, explicit=kubeconfig is not None))


def select_context(merged: Mapping[str, Any], context: str | None, source: str) -> ClusterConfig:
    """Pick a context of a merged kubeconfig and resolve its cluster and user; pure."""
    name = context or merged.get("current-context")
    if not name:
        names = ", ".join(c["name"] for c in merged.get("contexts", [])) or "none"
        raise KubernetesError(
            f"{source}: no context given and no current-context set (contexts: {names})"
        )
    contexts = {c["name"]: c["context"] for c in merged.get("contexts", [])}
    if name not in contexts:
        names = ", ".join(contexts) or "none"
        raise KubernetesError(f"{source}: context {name!r} not found (contexts: {names})")
    ctx = contexts[name]
    clusters = {c["name"]: c["cluster"] for c in merged.get("clusters", [])}
    users = {u["name"]: u["user"] for u in merged.get("users", [])}
    cluster_name = ctx.get("cluster")
    if cluster_name not in clusters:
        raise KubernetesError(
            f"{source}: context {name!r} names cluster {cluster_name!r}, not found"
        )
    user_name = ctx.get("user")
    if user_name and user_name not in users:
        raise KubernetesError(f"{source}: context {name!r} names user {user_name!r}, not found")
    try:
        conf = KubeConfig.from_dict(
            {
                "current-context": name,
                "clusters": [{"name": cluster_name, "cluster": clusters[cluster_name]}],
                "users": [{"name": user_name, "user": users[user_name]}] if user_name else [],
                "contexts": [{"name": name, "context": ctx}],
            }
        )
        single = conf.get(name)
    except (ConfigError, msgspec.ValidationError, KeyError, TypeError) as err:
        raise KubernetesError(f"{source}: context {name!r}: {err}") from err
    assert single is not None
    if single.user is None:  # lightkube's client needs a user, even an empty one
        single = single._replace(user=User())
    if not single.cluster.server:
        raise KubernetesError(f"{source}: cluster {cluster_name!r} has no server")
    return ClusterConfig(
        context=name,
        server=single.cluster.server,
        namespace=single.namespace,
        source=source,
        single=single,
    )


def in_cluster_config(
    service_account_dir: str | os.PathLike[str] = SERVICE_ACCOUNT_DIR,
    *,
    env: Mapping[str, str] | None = None,
) -> ClusterConfig:
    """The pod's own service account: token file (re-read when rotated), CA, namespace."""
    environ = os.environ if env is None else env
    account = Path(service_account_dir)
    host = environ.get("KUBERNETES_SERVICE_HOST")
    port = environ.get("KUBERNETES_SERVICE_PORT")
    if not host or not port:
        raise KubernetesError(
            "not running in a cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT not set"
        )
    token_file = account / "token"
    if not token_file.is_file():
        raise KubernetesError(f"in-cluster config: no service account token at {token_file}")
    ca_file = account / "ca.crt"
    if not ca_file.is_file():
        raise KubernetesError(f"in-cluster config: no cluster CA certificate at {ca_file}")
    ns_file = account / "namespace"
    namespace = DEFAULT_NAMESPACE
    if ns_file.is_file():
        namespace = ns_file.read_text(encoding="utf-8").strip() or DEFAULT_NAMESPACE
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    server = f"https://{host}:{port}"
    conf = KubeConfig.from_one(
        cluster=Cluster(server=server, certificate_auth=str(ca_file)),
        user=User(token_file=str(token_file)),
        context_name=IN_CLUSTER_CONTEXT,
        namespace=namespace,
    )
    single = conf.get()
    assert single is not None
    return ClusterConfig(
        context=IN_CLUSTER_CONTEXT,
        server=server,
        namespace=namespace,
        source=f"in-cluster service account {account}",
        single=single,
    )


def load_cluster(
    context: str | None = None,
    kubeconfig: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    service_account_dir: str | os.PathLike[str] = SERVICE_ACCOUNT_DIR,
) -> ClusterConfig:
    """Find the cluster as kubectl would.

    An explicit ``kubeconfig`` must exist. Otherwise ``KUBECONFIG`` (merged) or
    ``~/.kube/config`` is read; when none of those files exists and no ``context`` is asked
    for, the in-cluster service account is used.
    """
    paths = kubeconfig_paths(kubeconfig, env=env)
    existing = [p for p in paths if p.is_file()]
    if kubeconfig is None and not existing:
        if context is not None:
            raise KubernetesError(
                f"context {context!r} asked for, but no kubeconfig found "
                f"(looked at {os.pathsep.join(str(p) for p in paths)})"
            )
        environ = os.environ if env is None else env
        if environ.get("KUBERNETES_SERVICE_HOST"):
            return in_cluster_config(service_account_dir, env=env)
        raise KubernetesError(
            f"no kubeconfig found (looked at {os.pathsep.join(str(p) for p in paths)}) "
            "and not running in a cluster"
        )
    merged = read_kubeconfig(paths, explicit=kubeconfig is not None)
    source = os.pathsep.join(str(p) for p in existing) or str(paths[0])
    return select_context(merged, context, source)
