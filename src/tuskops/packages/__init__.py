"""Packages: ecosystems (versions, manifests, registries), resolution, security, the mirror."""
