from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tuskops.cli.main import cli

Run = Callable[..., Result]


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Run:
    """Invoke the CLI in-process; stdout and stderr kept apart."""
    monkeypatch.delenv("TUSKOPS_STATE", raising=False)
    monkeypatch.delenv("APP_ENV", raising=False)

    def invoke(*args: str | Path, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke
