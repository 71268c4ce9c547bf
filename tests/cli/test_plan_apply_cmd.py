"""tuskops plan / apply / history against a directory target."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tuskops.core.resource import Resource
from tuskops.core.targets import DirectoryTarget

#: The `run` fixture (tests/cli/conftest.py): invoke the CLI in-process.
Run = Callable[..., Result]

CONFIG = """\
#!target dir ./deploy
[app]
name: "shop"
replicas: @env("REPLICAS", 1)
files {
    config: @render.json("config/app.json", { name: $app.name, replicas: $app.replicas })
    env: @render.env("app.env", { PASSWORD: @secret("hunter2"), MODE: "dev" })
}
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "app.tsk"
    path.write_text(CONFIG)
    return path


def test_plan_shows_creates_and_changes_nothing(run: Run, config: Path) -> None:
    result = run("plan", config)
    assert result.exit_code == 0, result.stderr
    assert "+ create render/file/config/app.json" in result.stdout
    assert "Plan: 2 to create, 0 to update, 0 to delete." in result.stdout
    assert "hunter2" not in result.stdout
    assert not (config.parent / "deploy").exists()


def test_plan_json_and_detailed_exit_code(run: Run, config: Path) -> None:
    result = run("plan", config, "--output", "json", "--detailed-exitcode")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["summary"]["create"] == 2
    assert "hunter2" not in result.stdout


def test_apply_writes_records_and_is_idempotent(run: Run, config: Path) -> None:
    first = run("apply", config, "--yes")
    assert first.exit_code == 0, first.stderr
    written = json.loads((config.parent / "deploy/config/app.json").read_text())
    assert written == {"name": "shop", "replicas": 1}
    assert "PASSWORD=hunter2" in (config.parent / "deploy/app.env").read_text()

    mtime = (config.parent / "deploy/config/app.json").stat().st_mtime_ns
    second = run("apply", config, "--yes")
    assert "Nothing to do" in second.stdout
    assert (config.parent / "deploy/config/app.json").stat().st_mtime_ns == mtime
    assert run("plan", config, "--detailed-exitcode").exit_code == 0

    history = json.loads(run("history", config, "--output", "json").stdout)
    assert [h["outcome"] for h in history] == ["no-op", "applied"]
    assert history[1]["file_sha256"]
    assert history[1]["user"]
    assert "hunter2" not in json.dumps(history)


def test_update_and_delete_after_the_config_changes(run: Run, config: Path) -> None:
    run("apply", config, "--yes")
    config_line = next(line for line in CONFIG.splitlines(True) if "config/app.json" in line)
    config.write_text(CONFIG.replace('MODE: "dev"', 'MODE: "prod"').replace(config_line, ""))
    plan = run("plan", config).stdout
    assert "~ update render/file/app.env" in plan
    assert '+ MODE: "prod"' in plan
    assert "- delete render/file/config/app.json" in plan
    assert run("apply", config, "--yes").exit_code == 0
    assert not (config.parent / "deploy/config/app.json").exists()


def test_apply_without_yes_refuses_when_not_interactive(run: Run, config: Path) -> None:
    result = run("apply", config)
    assert result.exit_code == 2
    assert "pass --yes" in result.stderr
    assert not (config.parent / "deploy").exists()


def test_target_option_overrides_the_directive(run: Run, config: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere"
    assert run("apply", config, "--yes", "--target", f"dir:{out}").exit_code == 0
    assert (out / "config/app.json").is_file()
    assert not (config.parent / "deploy").exists()


def test_collisions_are_caught_by_the_plan(run: Run, config: Path) -> None:
    (config.parent / "deploy/app.env").mkdir(parents=True)
    result = run("plan", config)
    assert result.exit_code == 1
    assert "render/file/app.env: app.env is a directory" in result.stderr


def test_failed_apply_reports_what_was_and_was_not_changed(
    run: Run, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.write_text(CONFIG + 'extra: @render.text("z.txt", "last")\n')
    real_create = DirectoryTarget.create

    def create(self: DirectoryTarget, resource: Resource) -> None:
        if resource.name == "config/app.json":
            raise OSError(28, "No space left on device")
        real_create(self, resource)

    monkeypatch.setattr(DirectoryTarget, "create", create)
    result = run("apply", config, "--yes")
    assert result.exit_code == 1
    err = result.stderr
    assert "Applied:\n  + create render/file/app.env" in err
    assert "Failed:\n  ! create render/file/config/app.json" in err
    assert "No space left on device" in err
    assert "Not attempted:\n    create render/file/z.txt" in err
    assert (config.parent / "deploy/app.env").is_file()
    assert not (config.parent / "deploy/z.txt").exists()
    [record] = json.loads(run("history", config, "--output", "json").stdout)
    assert record["outcome"] == "partial"
    # The next plan picks up exactly where it stopped.
    monkeypatch.setattr(DirectoryTarget, "create", real_create)
    assert "Plan: 2 to create, 0 to update, 0 to delete." in run("plan", config).stdout


def test_state_option(run: Run, config: Path, tmp_path: Path) -> None:
    state = tmp_path / "state" / "s.db"
    run("apply", config, "--yes", "--state", state)
    assert state.is_file()
    assert (
        json.loads(run("history", "--state", state, "--output", "json").stdout)[0]["outcome"]
        == "applied"
    )


def test_console_script_runs(config: Path) -> None:
    exe = Path(sys.executable).parent / "tuskops"
    done = subprocess.run([exe, "plan", config], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "Plan: 2 to create" in done.stdout
