"""The request value every protocol module builds: what the HTTP layer sends (a GET)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    """An HTTP GET to send: the URL and the headers (Accept and the like)."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
