"""Field-level diff, apply_changes and redaction."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tuskops.core.diff import (
    REDACTED,
    FieldChange,
    apply_changes,
    diff_values,
    leaf_additions,
    redact_changes,
    secret_paths_in,
    values_equal,
)
from tuskops.core.resource import Resource, Sensitive


def test_equal_values_have_no_changes() -> None:
    value = {"a": [1, {"b": "c"}], "d": None}
    assert diff_values(value, json.loads(json.dumps(value))) == []


def test_nested_add_remove_change_in_document_order() -> None:
    old = {"spec": {"replicas": 2, "image": "api:1", "debug": True}}
    new = {"spec": {"replicas": 3, "image": "api:1", "port": 8080}}
    assert diff_values(old, new) == [
        FieldChange(("spec", "replicas"), "change", old=2, new=3),
        FieldChange(("spec", "debug"), "remove", old=True),
        FieldChange(("spec", "port"), "add", new=8080),
    ]


def test_lists_are_compared_by_position() -> None:
    assert diff_values({"p": [1, 2, 3]}, {"p": [1, 5]}) == [
        FieldChange(("p", 1), "change", old=2, new=5),
        FieldChange(("p", 2), "remove", old=3),
    ]
    assert diff_values([{"n": "a"}], [{"n": "b"}, {"n": "c"}]) == [
        FieldChange((0, "n"), "change", old="a", new="b"),
        FieldChange((1,), "add", new={"n": "c"}),
    ]


def test_type_changes_are_one_whole_value_change() -> None:
    assert diff_values({"a": {"x": 1}}, {"a": [1]}) == [
        FieldChange(("a",), "change", old={"x": 1}, new=[1])
    ]
    assert diff_values({"a": "1"}, {"a": 1}) == [FieldChange(("a",), "change", old="1", new=1)]
    # bool is an int in Python, not in JSON: 1 -> true is a change; so is 1 -> 1.0.
    assert diff_values({"a": 1}, {"a": True}) == [FieldChange(("a",), "change", old=1, new=True)]
    assert diff_values(1, 1.0) == [FieldChange((), "change", old=1, new=1.0)]


def test_sensitive_equals_plain_string_and_tuple_equals_list() -> None:
    assert values_equal(Sensitive("x"), "x")
    assert diff_values({"a": (1, 2)}, {"a": [1, 2]}) == []


def test_leaf_additions_list_every_leaf() -> None:
    changes = leaf_additions({"a": {"b": 1, "c": []}, "d": ["x"]})
    assert [(c.path, c.new) for c in changes] == [
        (("a", "b"), 1),
        (("a", "c"), []),
        (("d", 0), "x"),
    ]


json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=3), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values, json_values)
def test_applying_the_diff_to_old_gives_new(old: Any, new: Any) -> None:
    patched = apply_changes(old, diff_values(old, new))
    assert values_equal(patched, new)
    assert diff_values(patched, new) == []


@given(json_values)
def test_apply_changes_does_not_mutate_its_input(value: Any) -> None:
    before = json.dumps(value)
    apply_changes(value, diff_values(value, {"other": [value]}))
    assert json.dumps(value) == before


# --- redaction --------------------------------------------------------------------------------


def test_secret_change_is_reported_but_hidden() -> None:
    changes = diff_values(
        {"db": {"password": "old-pw", "host": "a"}}, {"db": {"password": "new-pw", "host": "a"}}
    )
    shown = redact_changes(changes, {("db", "password")})
    assert shown == [
        FieldChange(("db", "password"), "change", old=REDACTED, new=REDACTED, sensitive=True)
    ]
    assert "pw" not in repr(shown)


def test_secret_prefix_redacts_everything_below() -> None:
    changes = diff_values({"creds": {"a": "1"}}, {"creds": {"a": "2", "b": "3"}})
    shown = redact_changes(changes, {("creds",)})
    assert all(c.sensitive for c in shown)
    assert [c.kind for c in shown] == ["change", "add"]
    assert [c.new for c in shown] == [REDACTED, REDACTED]
    assert [c.old for c in shown] == [REDACTED, None]


def test_container_holding_a_secret_is_partly_redacted() -> None:
    changes = diff_values({}, {"db": {"host": "h", "token": "t0ps3cret"}})
    (shown,) = redact_changes(changes, {("db", "token")})
    assert shown.new == {"host": "h", "token": REDACTED}
    assert shown.sensitive


def test_scalar_with_a_secret_below_it_is_hidden_whole() -> None:
    # A managed file that no longer parses is compared as raw text: it may contain the secret.
    changes = diff_values("password: hunter2\n  bad: [", {"password": "hunter3"})
    (shown,) = redact_changes(changes, {("password",)})
    assert shown.old == REDACTED
    assert shown.new == {"password": REDACTED}


def test_sensitive_values_are_redacted_without_a_path() -> None:
    (shown,) = redact_changes([FieldChange(("x",), "add", new=Sensitive("s3"))], set())
    assert shown.new == REDACTED


def test_secret_paths_in_uses_key_names_and_declared_paths() -> None:
    body = {"api_key": "k", "plain": "p", "nested": {"x": 1}}
    assert secret_paths_in(body, [("nested", "x")]) == {("api_key",), ("nested", "x")}
    resource = Resource("render", "file", "f", body)
    assert secret_paths_in(body) == resource.secret_field_paths()
