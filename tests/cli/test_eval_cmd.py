"""tuskops eval."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml
from click.testing import Result

#: The `run` fixture (tests/cli/conftest.py): invoke the CLI in-process.
Run = Callable[..., Result]

SOURCE = """\
#!target dir ./out
$tier: "gold"
[app]
name: "shop"
replicas: 1 + 2
token: @secret("s3cr3t")
web {
    image: "ghcr.io/acme/${app.name}:1.0"
}
"""


def write(tmp_path: Path, text: str = SOURCE, name: str = "app.tsk") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_json_is_the_default(run: Run, tmp_path: Path) -> None:
    result = run("eval", write(tmp_path))
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "app": {
            "name": "shop",
            "replicas": 3,
            "token": "(sensitive)",
            "web": {"image": "ghcr.io/acme/shop:1.0"},
        }
    }


def test_secrets_only_on_request(run: Run, tmp_path: Path) -> None:
    result = run("eval", write(tmp_path), "--show-secrets")
    assert json.loads(result.stdout)["app"]["token"] == "s3cr3t"


def test_yaml_and_flat_formats(run: Run, tmp_path: Path) -> None:
    path = write(tmp_path)
    assert yaml.safe_load(run("eval", path, "--format", "yaml").stdout)["app"]["replicas"] == 3
    flat = run("eval", path, "--format", "flat").stdout.splitlines()
    assert 'app.web.image = "ghcr.io/acme/shop:1.0"' in flat
    assert "app.replicas = 3" in flat


def test_directives_are_listed(run: Run, tmp_path: Path) -> None:
    result = run("eval", write(tmp_path), "--directives")
    [directive] = json.loads(result.stdout)
    assert (directive["name"], directive["args"], directive["line"]) == ("target", "dir ./out", 1)


def test_errors_are_located_and_exit_2(run: Run, tmp_path: Path) -> None:
    path = write(tmp_path, 'a: "unterminated\nb: 1 +\n')
    result = run("eval", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{path}:1:4: error:" in result.stderr
    assert "^" in result.stderr


def test_type_error_is_reported_at_the_operator(run: Run, tmp_path: Path) -> None:
    path = write(tmp_path, 'a: "x" * 2\n')
    result = run("eval", path)
    assert result.exit_code == 2
    assert f"{path}:1:8: error:" in result.stderr


def test_standard_input(run: Run) -> None:
    result = run("eval", "-", input='a: 1 + 2\nb: "x${a}"\n')
    assert json.loads(result.stdout) == {"a": 3, "b": "x3"}
    bad = run("eval", "-", input="a: (1\n")
    assert bad.exit_code == 2
    assert bad.stderr.startswith("<stdin>:1:4: error:")


def test_missing_file(run: Run, tmp_path: Path) -> None:
    result = run("eval", tmp_path / "nope.tsk")
    assert result.exit_code == 2
    assert "nope.tsk" in result.stderr


def test_not_implemented_operator_is_an_error_not_data(run: Run, tmp_path: Path) -> None:
    path = write(tmp_path, 'web: @istio.gateway({ host: "x" })\n')
    result = run("eval", path)
    assert result.exit_code == 2
    assert "@istio.gateway is not implemented yet" in result.stderr
