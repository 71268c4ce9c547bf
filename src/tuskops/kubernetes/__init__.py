"""Kubernetes: app specs to manifests, cluster access, plan and apply, rollouts."""
