"""One module per ecosystem; each defines ``SCHEME``, a :class:`~.base.VersionScheme`.

Modules are imported on first use, so a command about npm never pays for Maven.
"""

from __future__ import annotations

import importlib
from typing import Any

from tuskops.errors import PackageError

#: Ecosystem name -> module. Aliases (the operator names) map to the same module.
MODULES = {
    "npm": "tuskops.packages.ecosystems.npm",
    "pypi": "tuskops.packages.ecosystems.pypi",
    "cargo": "tuskops.packages.ecosystems.cargo",
    "maven": "tuskops.packages.ecosystems.maven",
    "nuget": "tuskops.packages.ecosystems.nuget",
    "rubygems": "tuskops.packages.ecosystems.rubygems",
    "composer": "tuskops.packages.ecosystems.composer",
}
ALIASES = {
    "pip": "pypi",
    "python": "pypi",
    "crates": "cargo",
    "gem": "rubygems",
    "packagist": "composer",
}


def scheme(name: str) -> Any:
    """The VersionScheme of ecosystem ``name`` (or an alias such as "pip" or "gem")."""
    canonical = ALIASES.get(name.lower(), name.lower())
    module = MODULES.get(canonical)
    if module is None:
        known = ", ".join(sorted(MODULES))
        raise PackageError(f"unknown ecosystem '{name}' (known: {known})")
    return importlib.import_module(module).SCHEME
