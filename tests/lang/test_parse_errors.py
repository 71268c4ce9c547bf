"""Syntax errors: the message a user reads, where it points, and that every error is reported."""

from __future__ import annotations

import pytest

from tuskops.errors import TuskSyntaxError
from tuskops.lang.api import parse


def errors(text: str) -> list[tuple[int, int, str]]:
    """(line, col, message) of every error, in file order."""
    with pytest.raises(TuskSyntaxError) as caught:
        parse(text, name="app.tsk")
    out = []
    for diagnostic in caught.value.diagnostics:
        assert diagnostic.span is not None
        out.append((diagnostic.span.line, diagnostic.span.col, diagnostic.message))
    return out


def rendered(text: str) -> str:
    with pytest.raises(TuskSyntaxError) as caught:
        parse(text, name="app.tsk")
    return str(caught.value)


def test_unterminated_string_points_at_the_opening_quote() -> None:
    assert rendered('a: 1\nname: "shop\nb: 2\n') == (
        "app.tsk:2:7: error: unterminated string\n"
        '    name: "shop\n'
        "          ^\n"
        "  hint: strings cannot span lines; use \"\"\"...\"\"\" or '''...''' for several lines"
    )


def test_unterminated_triple_quoted_string() -> None:
    assert errors('a: """\ntext\n') == [(1, 4, "unterminated string")]


def test_apostrophe_in_unquoted_text_is_one_error() -> None:
    assert errors("note: don't\n") == [(1, 10, "unterminated string")]


def test_block_never_closed_points_at_its_opener() -> None:
    assert rendered("server {\n    port: 80\n") == (
        "app.tsk:1:8: error: block 'server' is never closed\n"
        "    server {\n"
        "           ^\n"
        "  hint: add '}' to close it"
    )


def test_stray_closer() -> None:
    assert errors("a: 1\n}\n") == [
        (2, 1, "unexpected '}': there is no open block or object to close")
    ]


def test_closer_of_the_wrong_kind_reports_both_sides() -> None:
    assert errors("a >\n  x: 1\n}\n") == [
        (1, 3, "block 'a' is never closed"),
        (3, 1, "unexpected '}': there is no open block or object to close"),
    ]


def test_inner_block_left_open_inside_an_outer_one() -> None:
    assert errors("outer {\n  inner >\n    x: 1\n}\ny: 2\n") == [
        (2, 9, "block 'inner' is never closed")
    ]


@pytest.mark.parametrize(
    ("text", "col", "opener"),
    [("p: [1, 2\nq: 3\n", 4, "["), ("p: @f(1,\nq: 3\n", 6, "("), ("p: (1 + 2\nq: 3\n", 4, "(")],
)
def test_missing_closer_points_at_the_opener(text: str, col: int, opener: str) -> None:
    assert errors(text) == [(1, col, f"'{opener}' is never closed")]


def test_object_never_closed() -> None:
    assert errors("o: {\n  a: 1\n") == [(1, 4, "'{' is never closed")]


def test_bad_escape_points_at_the_backslash() -> None:
    assert rendered('a: "x\\qy"\n') == (
        "app.tsk:1:6: error: bad escape '\\q' in string\n"
        '    a: "x\\qy"\n'
        "         ^~\n"
        '  hint: valid escapes are \\n \\t \\r \\" \\\\ \\uXXXX;'
        " write literal text in '...' quotes"
    )


def test_bad_unicode_escape() -> None:
    assert errors('a: "\\u12g4"\n') == [(1, 5, "bad escape '\\u': expected four hex digits")]


def test_call_without_at_suggests_the_operator_form() -> None:
    assert rendered('a: env("HOME")\n') == (
        "app.tsk:1:4: error: 'env(...)' is not a call: operator calls start with '@'\n"
        '    a: env("HOME")\n'
        "       ^~~\n"
        "  hint: did you mean @env(...)?"
    )


def test_call_without_at_as_a_statement() -> None:
    assert errors('validate("x")\n') == [
        (1, 1, "'validate(...)' is not a call: operator calls start with '@'")
    ]


def test_yaml_style_nesting_suggests_a_block() -> None:
    assert rendered("database:\n    host: x\n    port: 5432\n") == (
        "app.tsk:1:1: error: 'database' has no value, but the lines below it are indented further\n"
        "    database:\n"
        "    ^~~~~~~~\n"
        "  hint: indentation does not nest keys; write a block: database { ... }"
    )


@pytest.mark.parametrize(("text", "low", "high"), [("9000-8000", 9000, 8000), ("2024-01", 2024, 1)])
def test_range_with_min_above_max(text: str, low: int, high: int) -> None:
    assert errors(f"ports: {text}\n") == [(1, 8, f"bad range {text}: {low} is greater than {high}")]


def test_unterminated_if_points_at_the_opener() -> None:
    assert rendered('a: 1\n#!if $env == "prod"\nb: 2\n') == (
        "app.tsk:2:1: error: unterminated '#!if'\n"
        '    #!if $env == "prod"\n'
        "    ^~~~\n"
        "  hint: add '#!endif' to close it"
    )


def test_stray_else_and_endif() -> None:
    assert errors("#!else\na: 1\n#!endif\n") == [
        (1, 1, "'#!else' without a matching '#!if'"),
        (3, 1, "'#!endif' without a matching '#!if'"),
    ]


def test_if_without_condition() -> None:
    assert errors("#!if\na: 1\n#!endif\n") == [(1, 1, "'#!if' needs a condition")]


def test_value_with_quote_that_is_not_an_expression() -> None:
    assert errors('a: "x" y\n') == [(1, 8, "unexpected 'y' after the value")]


def test_bad_text_in_brackets_points_at_the_token() -> None:
    assert errors('a: [1, "x" 3]\n') == [(1, 12, "unexpected number 3 after the value")]


def test_missing_colon() -> None:
    assert errors("name shop\n") == [(1, 6, "expected ':' or '=' after 'name', found 'shop'")]


def test_trailing_comma_outside_braces() -> None:
    assert errors("a: 1,\n") == [(1, 5, "unexpected ',' after the value")]


def test_section_header_inside_a_block() -> None:
    assert errors("a {\n  x: 1\n[s]\ny: 2\n") == [(1, 3, "block 'a' is never closed")]


def test_interpolation_errors_point_inside_the_string() -> None:
    assert errors('a: "x ${a +} y"\nb: "${}"\n') == [
        (1, 12, "expected a value, found the end of '${...}'"),
        (2, 5, "empty '${}' in string"),
    ]


def test_dollar_brace_outside_a_string() -> None:
    assert errors("a: ${x}\n") == [(1, 4, "expected a value, found '$'")]


def test_every_error_in_a_file_is_reported() -> None:
    text = (
        'a: "unterminated\n'
        "b: foo(1)\n"
        "c: 5-1\n"
        "ok: 1\n"
        "d: [1, 2\n"
        "e:\n"
        "    nested: 1\n"
        'f: "\\q"\n'
        "}\n"
        "#!if true\n"
    )
    assert errors(text) == [
        (1, 4, "unterminated string"),
        (2, 4, "'foo(...)' is not a call: operator calls start with '@'"),
        (3, 4, "bad range 5-1: 5 is greater than 1"),
        (5, 4, "'[' is never closed"),
        (6, 1, "'e' has no value, but the lines below it are indented further"),
        (8, 5, "bad escape '\\q' in string"),
        (9, 1, "unexpected '}': there is no open block or object to close"),
        (10, 1, "unterminated '#!if'"),
    ]


def test_errors_do_not_swallow_following_lines() -> None:
    # After each bad line, the next line is still parsed: its error shows up too.
    assert [line for line, _, _ in errors("a: (\nb: )\nc: [\n")] == [1, 2, 3]
