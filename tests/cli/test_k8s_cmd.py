"""tuskops k8s: the shared cluster options and the contexts command."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner, Result

from tuskops.cli.k8s_cmd import ClusterOptions, cluster_options

Run = Callable[..., Result]

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster: {server: "https://127.0.0.1:6443"}
- name: prod-cluster
  cluster: {server: "https://prod.example:6443"}
users:
- name: me
  user: {token: "abc"}
contexts:
- name: dev
  context: {cluster: dev-cluster, user: me, namespace: shop}
- name: prod
  context: {cluster: prod-cluster, user: me}
"""


def test_cluster_options_keep_the_commands_own_options() -> None:
    seen: dict[str, Any] = {}

    @click.command()
    @cluster_options
    @click.option("--limit", type=int, default=1)
    @click.argument("name")
    def cmd(cluster: ClusterOptions, limit: int, name: str) -> None:
        seen.update(cluster=cluster, limit=limit, name=name)

    result = CliRunner().invoke(cmd, ["web", "--limit", "3", "-n", "shop", "--context", "dev"])
    assert result.exit_code == 0, result.output
    assert seen == {"cluster": ClusterOptions("dev", None, "shop"), "limit": 3, "name": "web"}


def test_contexts(run: Run, tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(KUBECONFIG)
    result = run("k8s", "contexts", "--kubeconfig", config)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].split() == ["*", "dev", "dev-cluster", "me", "shop"]
    assert lines[2].split()[:3] == ["prod", "prod-cluster", "me"]
