"""DirectoryTarget against a real directory: layout, ownership, drift, path safety, atomicity."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tuskops.core.apply import ApplyResult, apply_plan
from tuskops.core.plan import Plan, make_plan, render_plan
from tuskops.core.resource import Resource
from tuskops.core.targets import DirectoryTarget
from tuskops.errors import PlanError, TargetError


def deploy(root: Path, resources: list[Resource]) -> tuple[Plan, ApplyResult]:
    """A fresh target per run, as each CLI invocation has."""
    target = DirectoryTarget(root)
    plan = make_plan(resources, target)
    return plan, apply_plan(plan, target)


def plan_for(root: Path, resources: list[Resource]) -> Plan:
    return make_plan(resources, DirectoryTarget(root))


def actions(plan: Plan) -> dict[str, str]:
    return {change.resource_id: change.action for change in plan.changes}


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime_ns) of every file, tuskops' own included."""
    return {
        str(path.relative_to(root)): (path.stat().st_ino, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


APP = Resource("render", "ConfigMap", "app", {"data": {"mode": "prod"}}, namespace="web")
SITE = Resource("render", "file", "site", "<h1>hi</h1>\n", path="public/index.html", format="text")
ENV = Resource("render", "env", "api", {"PORT": 8080, "NAME": "api server"}, format="env")


def test_default_layout_and_explicit_paths(tmp_path: Path) -> None:
    deploy(tmp_path, [APP, SITE, ENV])
    assert (tmp_path / "render/web/configmap-app.yaml").read_text() == "data:\n  mode: prod\n"
    assert (tmp_path / "public/index.html").read_text() == "<h1>hi</h1>\n"
    assert (tmp_path / "render/env-api.env").read_text() == 'PORT=8080\nNAME="api server"\n'
    index = json.loads((tmp_path / ".tuskops/managed.json").read_text())
    assert index["resources"]["render/file/site"]["path"] == "public/index.html"
    assert set(index["resources"]) == {APP.id, SITE.id, ENV.id}


def test_reapplying_unchanged_config_writes_nothing(tmp_path: Path) -> None:
    deploy(tmp_path, [APP, SITE, ENV])
    before = snapshot(tmp_path)
    plan, result = deploy(tmp_path, [APP, SITE, ENV])
    assert not plan.has_changes
    assert set(actions(plan).values()) == {"no-op"}
    assert result.outcome == "no-op"
    assert snapshot(tmp_path) == before
    assert str(render_plan(plan)).startswith("No changes.")


def test_env_values_read_back_as_strings_do_not_show_as_drift(tmp_path: Path) -> None:
    deploy(tmp_path, [ENV])
    assert actions(plan_for(tmp_path, [ENV])) == {ENV.id: "no-op"}


def test_update_and_delete_only_what_changed(tmp_path: Path) -> None:
    deploy(tmp_path, [APP, SITE, ENV])
    changed = Resource("render", "ConfigMap", "app", {"data": {"mode": "dev"}}, namespace="web")
    plan, _ = deploy(tmp_path, [changed, ENV])
    assert actions(plan) == {APP.id: "update", ENV.id: "no-op", SITE.id: "delete"}
    (update,) = [c for c in plan.changes if c.action == "update"]
    assert [(c.path, c.old, c.new) for c in update.changes] == [(("data", "mode"), "prod", "dev")]
    assert (tmp_path / "render/web/configmap-app.yaml").read_text() == "data:\n  mode: dev\n"
    assert not (tmp_path / "public").exists()  # emptied directories are removed too
    assert SITE.id not in json.loads((tmp_path / ".tuskops/managed.json").read_text())["resources"]


def test_unowned_files_are_never_touched(tmp_path: Path) -> None:
    (tmp_path / "render").mkdir()
    mine = tmp_path / "render" / "README.md"
    mine.write_text("hand written\n")
    (tmp_path / "notes.txt").write_text("keep me\n")
    deploy(tmp_path, [APP, ENV])
    plan, _ = deploy(tmp_path, [])  # everything tuskops owns goes
    assert actions(plan) == {APP.id: "delete", ENV.id: "delete"}
    assert mine.read_text() == "hand written\n"
    assert (tmp_path / "notes.txt").read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "README.md",
        "managed.json",
        "notes.txt",
    ]


def test_existing_unowned_file_at_the_path_is_refused(tmp_path: Path) -> None:
    (tmp_path / "public").mkdir()
    (tmp_path / "public/index.html").write_text("someone else's\n")
    with pytest.raises(PlanError, match=r"render/file/site: public/index.html exists and was not"):
        plan_for(tmp_path, [SITE])
    assert (tmp_path / "public/index.html").read_text() == "someone else's\n"


def test_identical_unowned_file_is_adopted_without_rewriting(tmp_path: Path) -> None:
    (tmp_path / "public").mkdir()
    page = tmp_path / "public/index.html"
    page.write_text("<h1>hi</h1>\n")
    before = snapshot(tmp_path)
    plan, _ = deploy(tmp_path, [SITE])
    assert actions(plan) == {SITE.id: "update"}
    assert plan.changes[0].changes == ()
    assert snapshot(tmp_path)["public/index.html"] == before["public/index.html"]
    assert actions(plan_for(tmp_path, [SITE])) == {SITE.id: "no-op"}


def test_hand_edit_shows_as_drift_and_apply_restores(tmp_path: Path) -> None:
    deploy(tmp_path, [APP])
    path = tmp_path / "render/web/configmap-app.yaml"
    path.write_text("data:\n  mode: debug\n  extra: 1\n")
    plan = plan_for(tmp_path, [APP])
    (change,) = plan.changes
    assert change.action == "update"
    assert "edited outside tuskops since the last apply" in change.notes
    assert [(c.path, c.kind) for c in change.changes] == [
        (("data", "mode"), "change"),
        (("data", "extra"), "remove"),
    ]
    apply_plan(plan, DirectoryTarget(tmp_path))
    assert path.read_text() == "data:\n  mode: prod\n"


def test_reformatting_without_data_change_is_an_update_with_no_fields(tmp_path: Path) -> None:
    deploy(tmp_path, [APP])
    (tmp_path / "render/web/configmap-app.yaml").write_text("# comment\ndata: {mode: prod}\n")
    (change,) = plan_for(tmp_path, [APP]).changes
    assert change.action == "update"
    assert change.changes == ()


def test_unparseable_managed_file_is_a_whole_file_change(tmp_path: Path) -> None:
    deploy(tmp_path, [APP])
    (tmp_path / "render/web/configmap-app.yaml").write_text("data: [unclosed\n")
    plan = plan_for(tmp_path, [APP])
    (change,) = plan.changes
    assert change.action == "update"
    assert [(c.path, c.kind, c.old) for c in change.changes] == [
        ((), "change", "data: [unclosed\n")
    ]
    assert any("not valid yaml" in note for note in change.notes)
    assert "data: [unclosed" in str(render_plan(plan))


def test_managed_file_deleted_by_hand_is_recreated(tmp_path: Path) -> None:
    deploy(tmp_path, [APP])
    (tmp_path / "render/web/configmap-app.yaml").unlink()
    plan, _ = deploy(tmp_path, [APP])
    assert actions(plan) == {APP.id: "create"}
    assert (tmp_path / "render/web/configmap-app.yaml").exists()


def test_changing_the_path_moves_the_file(tmp_path: Path) -> None:
    deploy(tmp_path, [SITE])
    moved = Resource(
        "render", "file", "site", "<h1>hi</h1>\n", path="www/index.html", format="text"
    )
    plan, _ = deploy(tmp_path, [moved])
    (change,) = plan.changes
    assert change.action == "update"
    assert "moves from public/index.html" in change.notes
    assert (tmp_path / "www/index.html").exists()
    assert not (tmp_path / "public/index.html").exists()


@pytest.mark.parametrize(
    "bad_path",
    ["../outside.yaml", "a/../../outside.yaml", "/etc/passwd", ".tuskops/managed.json", ""],
)
def test_paths_outside_the_root_are_refused(tmp_path: Path, bad_path: str) -> None:
    evil = Resource("render", "file", "evil", "x", path=bad_path, format="text")
    with pytest.raises(PlanError, match=r"render/file/evil: path"):
        plan_for(tmp_path / "root", [evil])
    assert not (tmp_path / "outside.yaml").exists()


def test_symlink_escaping_the_root_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside)
    evil = Resource("render", "file", "evil", "x", path="link/f.txt", format="text")
    with pytest.raises(PlanError, match="symbolic link"):
        plan_for(root, [evil])


def test_default_layout_names_cannot_escape_either(tmp_path: Path) -> None:
    evil = Resource("render", "file", "x", "x", namespace="..", format="text")
    with pytest.raises(PlanError, match="escapes the target directory"):
        plan_for(tmp_path, [evil])


def test_two_resources_on_one_path_are_refused(tmp_path: Path) -> None:
    one = Resource("render", "file", "one", "1", path="same.txt", format="text")
    two = Resource("render", "file", "two", "2", path="same.txt", format="text")
    with pytest.raises(PlanError, match=r"render/file/two and render/file/one .* same\.txt"):
        plan_for(tmp_path, [one, two])


def test_unsupported_body_is_refused_at_plan_time(tmp_path: Path) -> None:
    bad = Resource("render", "file", "bad", {"not": "text"}, format="text")
    with pytest.raises(PlanError, match=r"render/file/bad: format 'text' needs a string body"):
        plan_for(tmp_path, [bad])
    assert list(tmp_path.iterdir()) == []


def test_damaged_index_stops_everything(tmp_path: Path) -> None:
    (tmp_path / ".tuskops").mkdir()
    (tmp_path / ".tuskops/managed.json").write_text("{not json")
    with pytest.raises(TargetError, match="damaged"):
        plan_for(tmp_path, [APP])


def test_new_files_follow_the_umask_and_updates_keep_the_mode(tmp_path: Path) -> None:
    deploy(tmp_path, [SITE])
    page = tmp_path / "public/index.html"
    assert page.stat().st_mode & 0o777 == 0o666 & ~_umask()
    page.chmod(0o640)
    deploy(
        tmp_path,
        [Resource("render", "file", "site", "new\n", path="public/index.html", format="text")],
    )
    assert page.stat().st_mode & 0o777 == 0o640


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_tampered_index_cannot_point_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (root / ".tuskops").mkdir(parents=True)
    entry = {"path": "../victim.txt", "sha256": "0" * 64, "format": "text"}
    (root / ".tuskops/managed.json").write_text(
        json.dumps({"version": 1, "resources": {"render/file/v": entry}})
    )
    with pytest.raises(TargetError, match=r"damaged.*escapes the target directory"):
        plan_for(root, [])  # would otherwise plan to delete it
    assert victim.read_text() == "precious\n"


def test_file_in_place_of_a_parent_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "public").write_text("a file, not a directory\n")
    with pytest.raises(PlanError, match=r"render/file/site: public is a file \(not managed\)"):
        plan_for(tmp_path, [SITE])
