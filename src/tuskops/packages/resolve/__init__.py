"""Dependency resolution: a pure algorithm core fed by per-ecosystem providers.

``base.py`` is the contract: a :class:`~.base.Provider` answers "which versions of X are
allowed here, best first" and "what does X@v depend on", synchronously and without the
resolver knowing about registries (resolvelib's split). ``pubgrub.py`` is the conflict-driven
solver for one-version-per-package ecosystems (PyPI, RubyGems, Composer; Cargo per semver
range), with explanations that end at the user's requirements. Maven's nearest-wins mediation
and NuGet's lowest-applicable rules are not searches: they have modules of their own.
"""
