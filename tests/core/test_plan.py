"""make_plan: checks, ordering, rendering and redaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuskops.core.apply import apply_plan
from tuskops.core.plan import dependency_order, make_plan, render_plan
from tuskops.core.resource import ORDER_NAMESPACE, ORDER_WORKLOAD, Resource, Sensitive
from tuskops.core.targets import DirectoryTarget
from tuskops.errors import PlanError


def res(name: str, *, deps: tuple[str, ...] = (), order: int = 70, body: object = None) -> Resource:
    return Resource(
        "render",
        "file",
        name,
        body if body is not None else {"name": name},
        depends_on=tuple(f"render/file/{d}" for d in deps),
        order=order,
    )


def ids(names: list[str]) -> list[str]:
    return [f"render/file/{n}" for n in names]


def test_independent_resources_go_by_order_then_id() -> None:
    resources = [
        res("b"),
        res("a"),
        res("ns", order=ORDER_NAMESPACE),
        res("w", order=ORDER_WORKLOAD),
    ]
    assert dependency_order(resources) == ids(["ns", "w", "a", "b"])


def test_dependencies_come_first_even_against_order() -> None:
    # "db" would sort first by order, but it depends on "z".
    resources = [res("db", deps=("z",), order=0), res("z"), res("a")]
    assert dependency_order(resources) == ids(["a", "z", "db"])


def test_low_order_resource_that_becomes_ready_late_goes_before_higher_order_ones() -> None:
    resources = [res("late", deps=("first",), order=0), res("first", order=0), res("x", order=50)]
    assert dependency_order(resources) == ids(["first", "late", "x"])


def test_cycle_is_named(tmp_path: Path) -> None:
    resources = [res("a", deps=("b",)), res("b", deps=("c",)), res("c", deps=("a",)), res("d")]
    with pytest.raises(PlanError, match="dependency cycle: ") as info:
        make_plan(resources, DirectoryTarget(tmp_path))
    cycle = str(info.value).removeprefix("dependency cycle: ").split(" -> ")
    assert cycle[0] == cycle[-1]
    assert set(cycle) == set(ids(["a", "b", "c"]))


def test_unknown_dependency(tmp_path: Path) -> None:
    with pytest.raises(
        PlanError, match=r"render/file/a depends on 'render/file/nope', which is not"
    ):
        make_plan([res("a", deps=("nope",))], DirectoryTarget(tmp_path))


def test_duplicate_ids_name_both(tmp_path: Path) -> None:
    first = Resource("render", "file", "a", {}, labels={"source": "app.tsk:3"})
    second = Resource("render", "file", "a", {}, labels={"source": "app.tsk:9"})
    with pytest.raises(
        PlanError, match=r"render/file/a is declared twice: .*app\.tsk:3 .*app\.tsk:9"
    ):
        make_plan([first, second], DirectoryTarget(tmp_path))


def test_plan_actions_summary_and_render(tmp_path: Path) -> None:
    target = DirectoryTarget(tmp_path)
    apply_plan(make_plan([res("keep"), res("change"), res("gone")], target), target)
    plan = make_plan(
        [res("keep"), res("change", body={"name": "changed"}), res("new")],
        DirectoryTarget(tmp_path),
    )
    assert [(c.action, c.resource_id) for c in plan.changes] == [
        ("update", "render/file/change"),
        ("no-op", "render/file/keep"),
        ("create", "render/file/new"),
        ("delete", "render/file/gone"),
    ]
    assert plan.summary() == {"create": 1, "update": 1, "delete": 1, "no-op": 1}
    assert plan.has_changes
    text = str(render_plan(plan))
    assert "+ create render/file/new  (render/file-new.yaml)" in text
    assert "~ update render/file/change" in text
    assert '    - name: "change"\n    + name: "changed"\n' in text
    assert "- delete render/file/gone" in text
    assert "render/file/keep" not in text  # unchanged resources are hidden by default
    assert "render/file/keep" in str(render_plan(plan, show_unchanged=True))
    assert text.rstrip().endswith("Plan: 1 to create, 1 to update, 1 to delete.")


def test_deletes_come_last_dependents_first(tmp_path: Path) -> None:
    target = DirectoryTarget(tmp_path)
    old = [res("base"), res("mid", deps=("base",)), res("top", deps=("mid",)), res("stay")]
    apply_plan(make_plan(old, target), target)
    plan = make_plan([res("stay"), res("new")], DirectoryTarget(tmp_path))
    assert [(c.action, c.resource_id) for c in plan.changes] == [
        ("create", "render/file/new"),
        ("no-op", "render/file/stay"),
        ("delete", "render/file/top"),
        ("delete", "render/file/mid"),
        ("delete", "render/file/base"),
    ]


def test_secrets_never_appear_in_text_or_json(tmp_path: Path) -> None:
    def config(password: str, token: str, note: str) -> list[Resource]:
        return [
            Resource(
                "render",
                "file",
                "db",
                {
                    "user": "app",
                    "password": Sensitive(password),
                    "opts": {"t": token},
                    "note": note,
                },
                secret_paths=(("opts",),),
            ),
            Resource("render", "env", "db", {"DB_PASSWORD": password, "HOST": "h"}, format="env"),
        ]

    create = make_plan(config("hunter2", "tok-1", "n1"), DirectoryTarget(tmp_path))
    for shown in (str(render_plan(create)), json.dumps(create.to_json())):
        assert "hunter2" not in shown
        assert "tok-1" not in shown
        assert "(sensitive value)" in shown
    target = DirectoryTarget(tmp_path)
    apply_plan(create, target)
    assert "hunter2" in (tmp_path / "render/file-db.yaml").read_text()  # written as is

    update = make_plan(config("hunter3", "tok-2", "n1"), DirectoryTarget(tmp_path))
    text, data = str(render_plan(update)), json.dumps(update.to_json())
    for secret in ("hunter2", "hunter3", "tok-1", "tok-2"):
        assert secret not in text
        assert secret not in data
    # ...but the reviewer still sees that they changed, and where.
    assert "~ password: (sensitive value) changed" in text
    assert "~ opts.t: (sensitive value) changed" in text
    assert "~ DB_PASSWORD: (sensitive value) changed" in text
    changed = {
        (r["id"], c["path"]): c["sensitive"]
        for r in update.to_json()["resources"]
        for c in r["changes"]
    }
    assert changed == {
        ("render/file/db", "password"): True,
        ("render/file/db", "opts.t"): True,
        ("render/env/db", "DB_PASSWORD"): True,
    }


def test_secret_in_a_hand_broken_file_is_not_shown(tmp_path: Path) -> None:
    resource = Resource("render", "file", "db", {"password": Sensitive("hunter2")})
    target = DirectoryTarget(tmp_path)
    apply_plan(make_plan([resource], target), target)
    (tmp_path / "render/file-db.yaml").write_text("password: hunter2\n  broken: [\n")
    plan = make_plan([resource], DirectoryTarget(tmp_path))
    assert plan.changes[0].action == "update"
    assert "hunter2" not in str(render_plan(plan))
    assert "hunter2" not in json.dumps(plan.to_json())


def test_multiline_text_changes_render_as_a_line_diff(tmp_path: Path) -> None:
    def page(text: str) -> Resource:
        return Resource("render", "file", "p", text, path="p.txt", format="text")

    target = DirectoryTarget(tmp_path)
    apply_plan(make_plan([page("one\ntwo\nthree\n")], target), target)
    text = str(render_plan(make_plan([page("one\n2\nthree\n")], DirectoryTarget(tmp_path))))
    assert "~ (content):" in text
    assert "-two" in text
    assert "+2" in text


def test_no_changes_message(tmp_path: Path) -> None:
    plan = make_plan([], DirectoryTarget(tmp_path))
    assert not plan.has_changes
    assert str(render_plan(plan)).startswith("No changes.")
    assert plan.to_json()["resources"] == []
