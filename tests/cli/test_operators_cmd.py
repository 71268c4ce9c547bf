"""tuskops operators."""

from __future__ import annotations

import json
from collections.abc import Callable

from click.testing import Result

#: The `run` fixture (tests/cli/conftest.py): invoke the CLI in-process.
Run = Callable[..., Result]


def test_lists_builtins_and_platform_operators(run: Run) -> None:
    result = run("operators")
    assert result.exit_code == 0
    for name in ("@env", "@render", "@kubernetes", "@composer"):
        assert name in result.stdout
    assert "not implemented yet" in result.stdout


def test_shows_one_operator_with_parameters(run: Run) -> None:
    result = run("operators", "env")
    assert result.exit_code == 0
    assert "@env.get(name: string, default: any" in result.stdout


def test_json_output(run: Run) -> None:
    data = json.loads(run("operators", "render", "--output", "json").stdout)
    assert data["name"] == "render"
    json_action = next(a for a in data["actions"] if a["name"] == "json")
    assert [p["name"] for p in json_action["params"]] == ["path", "value"]


def test_aliases_resolve_and_unknown_names_fail(run: Run) -> None:
    assert json.loads(run("operators", "k8s", "-o", "json").stdout)["name"] == "kubernetes"
    result = run("operators", "kubernetis")
    assert result.exit_code == 1
    assert "did you mean @kubernetes" in result.stderr
