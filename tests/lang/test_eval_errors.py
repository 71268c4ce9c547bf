"""Evaluation errors: message text, position, hints, and that every error is reported."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import tuskops
from tuskops.errors import EvaluationError, TuskError
from tuskops.lang.source import Diagnostic


def diagnostics(text: str, **kwargs: Any) -> list[Diagnostic]:
    kwargs.setdefault("env", {})
    with pytest.raises(EvaluationError) as err:
        tuskops.loads(textwrap.dedent(text).lstrip("\n"), name="t.tsk", **kwargs)
    return err.value.diagnostics


def errors(text: str, **kwargs: Any) -> list[tuple[str, int, int]]:
    """(message, line, col) of each error."""
    out = []
    for d in diagnostics(text, **kwargs):
        assert d.span is not None
        out.append((d.message, d.span.line, d.span.col))
    return out


def only_error(text: str, **kwargs: Any) -> Diagnostic:
    found = diagnostics(text, **kwargs)
    assert len(found) == 1, [d.message for d in found]
    return found[0]


# --- names and references ---------------------------------------------------------------------


def test_undefined_name() -> None:
    assert errors("a: 1\nb: $nope\n") == [("undefined name '$nope'", 2, 4)]


def test_undefined_name_suggests_a_close_one() -> None:
    d = only_error("$version: 1\nb: $verison\n")
    assert d.hint == "did you mean $version?"


def test_undefined_in_interpolation() -> None:
    assert errors('a: "x ${missing.key} y"\n') == [("undefined name 'missing'", 1, 9)]


def test_undefined_path_names_the_missing_key() -> None:
    assert errors("a { b: 1 }\nc: $a.x\nd: $a.b.c\n") == [
        ("'a' has no key 'x'", 2, 4),
        ("'a.b' is an integer, it has no key 'c'", 3, 4),
    ]


def test_undefined_path_in_global() -> None:
    assert errors("$g: [1]\nc: $g.5\n") == [
        ("'$g' is an array of 1 items: '5' is not an index of it", 2, 4)
    ]


def test_cycle_names_its_members_with_notes() -> None:
    d = only_error(
        """
        a: $b
        b: $c + 1
        c: "${a}"
        """
    )
    assert d.message == "reference cycle: a -> b -> c -> a"
    assert d.span is not None
    assert (d.span.line, d.span.col) == (1, 1)
    assert [(note, span.line) for note, span in d.notes] == [
        ("'a' is defined here", 1),
        ("'b' is defined here", 2),
        ("'c' is defined here", 3),
    ]
    rendered = d.render()
    assert "t.tsk:1:1: error: reference cycle: a -> b -> c -> a" in rendered
    assert "t.tsk:3:1: note: 'c' is defined here" in rendered


def test_self_reference_and_global_cycle() -> None:
    assert [m for m, _, _ in errors("a: $a\n")] == [
        "'$a' refers to the key being defined, and no enclosing block has a key 'a'"
    ]
    assert [m for m, _, _ in errors("$x: $y\n$y: $x\nk: $x\n")] == [
        "reference cycle: $x -> $y -> $x"
    ]


def test_cycle_through_nested_keys() -> None:
    messages = [m for m, _, _ in errors("app { a: $app.b\nb: $app.a }\n")]
    assert messages == ["reference cycle: app.a -> app.b -> app.a"]


# --- types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "message", "col"),
    [
        ('"a" * 2', "cannot apply '*' to string and integer", 8),
        ("[1] - 1", "cannot apply '-' to array and integer", 8),
        ("true + 1", "cannot apply '+' to boolean and integer", 9),
        ('1 < "a"', "cannot apply '<' to integer and string", 6),
        ("null >= 1", "cannot apply '>=' to null and integer", 9),
        ("1 / 0", "division by zero", 6),
        ("1 % 0", "modulo by zero", 6),
        ("1 && true", "cannot apply '&&' to integer: its operands must be booleans", 6),
        ('false || "x"', "cannot apply '||' to string: its operands must be booleans", 10),
        ("!1", "cannot apply '!' to integer", 4),
        ('-"a"', "cannot apply '-' to string", 4),
        ('"yes" ? 1 : 2', "the condition of '?:' must be a boolean, got string", 4),
    ],
)
def test_type_errors_with_position(expr: str, message: str, col: int) -> None:
    assert errors(f"v: {expr}\n") == [(message, 1, col)]


def test_type_error_hint() -> None:
    d = only_error('v: "a" * 2\n')
    assert d.hint == "'*' needs numbers"
    assert d.render().splitlines()[1:3] == ['    v: "a" * 2', "           ^"]


# --- operators --------------------------------------------------------------------------------


def test_unknown_operator_lists_known_ones() -> None:
    d = only_error("a: @nope(1)\n")
    assert d.message == "unknown operator '@nope'"
    assert d.span is not None
    assert (d.span.line, d.span.col) == (1, 4)
    assert d.hint is not None
    assert "known operators:" in d.hint
    for name in ("@env", "@date", "@file", "@json", "@yaml", "@if", "@cache", "@peanut"):
        assert name in d.hint


def test_unknown_operator_suggests_close_name() -> None:
    d = only_error('a: @evn("X")\n')
    assert d.hint is not None
    assert d.hint.startswith("did you mean @env?")


def test_unknown_action_lists_actions() -> None:
    d = only_error("d: @date.now()\n")
    assert d.message == "@date has no action 'now'"
    assert d.hint == "its actions are: format"
    assert d.span is not None
    assert (d.span.line, d.span.col) == (1, 4)


def test_argument_errors_carry_usage() -> None:
    d = only_error("a: @env()\nb: 1\n")
    assert d.message == "@env.get is missing the argument 'name'"
    assert d.hint is not None
    assert d.hint.startswith("usage: @env.get(name: string")


def test_env_conversion_failure() -> None:
    d = only_error('port: @env("PORT", 8080)\n', env={"PORT": "eighty"})
    assert d.message == (
        "environment variable PORT='eighty' is not a valid integer "
        "(the default 8080 makes @env expect one)"
    )
    assert d.span is not None
    assert (d.span.line, d.span.col) == (1, 7)


def test_platform_operator_not_implemented() -> None:
    d = only_error('a: @istio("gateway", { name: "x" })\n')
    assert d.message == "@istio.gateway is not implemented yet in this version of tuskops"
    d = only_error('a: @multicloud.function({ name: "x" })\n')
    assert d.message == "@multicloud.function is not implemented yet in this version of tuskops"


def test_wasm_spec_errors_name_the_field() -> None:
    d = only_error("a: @wasm.build({})\n")
    assert d.message == "build: `source` (a path) is required"


def test_kubernetes_spec_errors_name_the_field() -> None:
    d = only_error('a: @kubernetes("deployment", { name: "x" })\n')
    assert d.message == "app.image: required"


def test_file_errors_name_the_path(tmp_path: Path) -> None:
    d = only_error('a: @file("nope.txt")\n', base_dir=tmp_path)
    assert d.message == "file 'nope.txt' not found"
    assert d.hint is not None
    assert str(tmp_path / "nope.txt") in d.hint


def test_cross_file_set_is_refused() -> None:
    d = only_error('a: @config.tsk.set("k", 1)\n')
    assert d.message == "@config.tsk.set is refused: evaluation never changes files"
    assert d.hint is not None
    assert "writes happen only through apply" in d.hint


def test_if_directive_condition_must_be_boolean() -> None:
    assert errors('#!if "prod"\na: 1\n#!endif\n') == [
        ("#!if condition must be a boolean, got string", 1, 6)
    ]


def test_if_directive_sees_only_what_is_defined_above() -> None:
    d = only_error("#!if $later\na: 1\n#!endif\n$later: true\n")
    assert d.message == "undefined name '$later'"
    assert d.hint == "#!if conditions see the globals and keys defined above them"


# --- reporting --------------------------------------------------------------------------------


def test_every_error_is_reported_in_source_order_without_cascades() -> None:
    found = errors(
        """
        a: $undefined
        b: $a + 1
        c: "x" * 2
        d: @nope()
        e: @date.now()
        f: 1
        g: "${b}"
        """
    )
    assert found == [
        ("undefined name '$undefined'", 1, 4),
        ("cannot apply '*' to string and integer", 3, 8),
        ("unknown operator '@nope'", 4, 4),
        ("@date has no action 'now'", 5, 4),
    ]


def test_errors_in_unused_globals_are_reported() -> None:
    assert errors('$unused: "a" - 1\nk: 1\n') == [("cannot apply '-' to string and integer", 1, 14)]


def test_errors_in_replaced_values_are_not_reported() -> None:
    doc = tuskops.loads("a: $undefined\na: 1\n", env={})
    assert doc.data == {"a": 1}


def test_evaluation_error_is_a_tusk_error_with_exit_code_2() -> None:
    with pytest.raises(TuskError) as err:
        tuskops.loads("a: $b\n", env={})
    assert err.value.exit_code == 2
    assert "error: undefined name '$b'" in str(err.value)
