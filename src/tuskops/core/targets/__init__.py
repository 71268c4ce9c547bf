"""Targets: where ``tuskops apply`` realises desired state (see :mod:`.base`)."""

from tuskops.core.targets.base import Observed, Target
from tuskops.core.targets.directory import DirectoryTarget

__all__ = ["DirectoryTarget", "Observed", "Target"]
