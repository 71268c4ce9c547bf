"""The parser turns each construct of the dialect into the syntax tree the evaluator expects."""

from __future__ import annotations

import pytest

from tuskops.lang import ast
from tuskops.lang.api import parse
from tuskops.lang.source import Span


def body(text: str) -> tuple[ast.Statement, ...]:
    # One Assign per line: these tests are about the tree of each construct. Constant runs
    # (several lines as one node) are tested in test_constant_runs.py.
    return parse(text, name="t.tsk", constant_runs=False).body


def only(text: str) -> ast.Statement:
    statements = body(text)
    assert len(statements) == 1, statements
    return statements[0]


def value_of(text: str) -> ast.Expr:
    """The value of the single assignment ``v: <text>``."""
    statement = only(f"v: {text}\n")
    assert isinstance(statement, ast.Assign), statement
    return statement.value


def literal(text: str) -> object:
    value = value_of(text)
    assert type(value) is ast.Literal, value
    return value.value


# --- assignments --------------------------------------------------------------------------------


def test_colon_and_equals_assign() -> None:
    first, second = body("name: 1\nother = 2\n")
    assert isinstance(first, ast.Assign)
    assert isinstance(second, ast.Assign)
    assert (first.key, literal("1")) == (("name",), 1)
    assert second.key == ("other",)


def test_spans_have_line_and_column() -> None:
    _, second = body("a: 1\n  port = 8080  # comment\n")
    assert isinstance(second, ast.Assign)
    assert (second.key_span.line, second.key_span.col) == (2, 3)
    assert (second.value.span.line, second.value.span.col) == (2, 10)
    assert second.span.text == "port = 8080"


def test_trailing_semicolon_and_semicolon_between_statements() -> None:
    first, second, third = body("a: 1;\nb: 2; c: 3\n")
    assert [s.key for s in (first, second, third) if isinstance(s, ast.Assign)] == [
        ("a",),
        ("b",),
        ("c",),
    ]


def test_empty_value_is_null_literal() -> None:
    statement = only("a:\n")
    assert isinstance(statement, ast.Assign)
    assert type(statement.value) is ast.Literal
    assert statement.value.value is None


def test_quoted_key_is_one_part_and_dotted_key_is_a_path() -> None:
    quoted, dotted = body('"my.key": 1\na.b.c: 2\n')
    assert isinstance(quoted, ast.Assign)
    assert isinstance(dotted, ast.Assign)
    assert quoted.key == ("my.key",)
    assert dotted.key == ("a", "b", "c")


def test_global_assignment() -> None:
    statement = only("$env: prod\n")
    assert type(statement) is ast.GlobalAssign
    assert statement.name == "env"
    assert type(statement.value) is ast.BareWord


# --- comments and directives --------------------------------------------------------------------


def test_comments_of_every_kind() -> None:
    text = (
        "#!/usr/bin/env tusk\n"
        "# hash comment\n"
        "// slash comment\n"
        "/* block\n   comment */\n"
        "a: 1 # trailing\n"
        "b: 2 // trailing\n"
        "c: 3 /* trailing */\n"
    )
    assert [s.key for s in body(text) if isinstance(s, ast.Assign)] == [("a",), ("b",), ("c",)]


def test_hash_and_slashes_without_space_before_are_text() -> None:
    assert value_of("http://x:8080/a#frag") == ast.BareText("http://x:8080/a#frag", _any())


def test_include_and_other_directives() -> None:
    include, directive = body('#!include "other.tsk"\n  #!target dir ./deploy  # note\n')
    assert type(include) is ast.Include
    assert include.path == "other.tsk"
    assert type(directive) is ast.Directive
    assert (directive.name, directive.args) == ("target", "dir ./deploy")


def test_if_elif_else_branches() -> None:
    statement = only(
        '#!if $env == "prod"\na: 1\n#!elif $env == "dev"\nb: 2\n#!else\nc: 3\n#!endif\n'
    )
    assert type(statement) is ast.IfDirective
    conds = [type(branch.cond) for branch in statement.branches]
    assert conds == [ast.Binary, ast.Binary, type(None)]
    keys = [[s.key for s in b.body if isinstance(s, ast.Assign)] for b in statement.branches]
    assert keys == [[("a",)], [("b",)], [("c",)]]


def test_section_inside_if_ends_with_the_branch() -> None:
    (app,) = body("[app]\nx: 1\n#!if true\n[db]\nhost: h\n#!endif\ny: 2\n")
    assert type(app) is ast.Section
    assert app.path == ("app",)
    x, directive, y = app.body
    assert isinstance(x, ast.Assign)
    assert isinstance(y, ast.Assign)
    assert y.key == ("y",)  # back in [app] after #!endif
    assert type(directive) is ast.IfDirective
    (db,) = directive.branches[0].body
    assert type(db) is ast.Section
    assert db.path == ("db",)


# --- structure ----------------------------------------------------------------------------------


def test_sections_hold_statements_up_to_the_next_header() -> None:
    top, app, limits = body("t: 0\n[app]\na: 1\nb: 2\n[app.limits]\nm: 3\n")
    assert type(top) is ast.Assign
    assert type(app) is ast.Section
    assert type(limits) is ast.Section
    assert app.path == ("app",)
    assert len(app.body) == 2
    assert limits.path == ("app", "limits")
    assert (app.header_span.line, app.header_span.col) == (2, 1)


def test_brace_and_angle_blocks_nest() -> None:
    statement = only("outer {\n  inner >\n    deep {\n      x: 1\n    }\n  <\n}\n")
    assert type(statement) is ast.Block
    assert (statement.key, statement.style) == (("outer",), "{")
    (inner,) = statement.body
    assert type(inner) is ast.Block
    assert (inner.key, inner.style) == (("inner",), ">")
    (deep,) = inner.body
    assert type(deep) is ast.Block
    assert deep.key == ("deep",)


def test_angle_block_closer_only_alone_on_its_line() -> None:
    statement = only("b >\n  x: a < c\n<\n")
    assert type(statement) is ast.Block
    (assign,) = statement.body
    assert isinstance(assign, ast.Assign)
    assert type(assign.value) is ast.Binary


def test_one_line_block_with_commas() -> None:
    statement = only("server { host: 0.0.0.0, port: 80, }\n")
    assert type(statement) is ast.Block
    host, port = statement.body
    assert isinstance(host, ast.Assign)
    assert isinstance(port, ast.Assign)
    assert host.value == ast.BareText("0.0.0.0", _any())


def test_multi_line_object_and_array_values() -> None:
    obj = value_of("{\n  a: 1,\n  b: [\n    2,\n    3,\n  ]\n  c: x\n}")
    assert type(obj) is ast.ObjectLit
    assert [s.key for s in obj.body if isinstance(s, ast.Assign)] == [("a",), ("b",), ("c",)]
    b = obj.body[1]
    assert isinstance(b, ast.Assign)
    assert type(b.value) is ast.ArrayLit
    assert len(b.value.items) == 2


def test_object_style_file() -> None:
    module = parse('{\n  "name": "shop",\n  "port": 80,\n  "tags": ["a", "b"],\n}\n')
    assert module.object_style
    assert [s.key for s in module.body if isinstance(s, ast.Assign)] == [
        ("name",),
        ("port",),
        ("tags",),
    ]


def test_call_statement() -> None:
    statement = only('@validate.required(["a", "b"])\n')
    assert type(statement) is ast.CallStatement
    assert statement.call.name == ("validate", "required")


# --- values -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("-7", -7),
        ("3.14", 3.14),
        ("1.5e-3", 1.5e-3),
        ("0xFF", 255),
        ("0o755", 0o755),
        ("0b1010", 10),
        ("1_000", 1000),
    ],
)
def test_numbers(text: str, expected: float) -> None:
    value = literal(text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("TRUE", True), ("False", False), ("null", None), ("Null", None)],
)
def test_booleans_and_null_in_any_case(text: str, expected: object) -> None:
    assert literal(text) is expected


@pytest.mark.parametrize("word", ["yes", "no", "on", "off", "info", "shop-api"])
def test_lone_identifier_is_a_bare_word(word: str) -> None:
    assert value_of(word) == ast.BareWord(word, _any())


def test_double_quoted_escapes() -> None:
    assert literal(r'"a\nb\tc\rd\"e\\f\u00e9"') == 'a\nb\tc\rd"e\\fé'


def test_single_quoted_is_literal() -> None:
    assert literal(r"'a\n${b}'") == "a\\n${b}"


def test_dollar_without_brace_is_text() -> None:
    assert literal("\"$5 and awk '{print $3}'\"") == "$5 and awk '{print $3}'"


def test_interpolation_parts() -> None:
    value = value_of('"ghcr.io/acme:${app.version}-${ n + 1 }"')
    assert type(value) is ast.Interpolated
    text, ref, dash, expr = value.parts
    assert (text, dash) == ("ghcr.io/acme:", "-")
    assert ref == ast.VarRef("app", ("version",), _any(), sigil=False)
    assert type(expr) is ast.Binary


def test_interpolation_with_nested_strings_and_braces() -> None:
    value = value_of("\"${env == 'prod' ? \"in}fo\" : 'debug'}\"")
    assert type(value) is ast.Interpolated
    (ternary,) = value.parts
    assert type(ternary) is ast.Ternary
    assert ternary.then == ast.Literal("in}fo", _any())


def test_triple_double_quoted_dedent() -> None:
    text = 'v: """\n    first\n      second ${x}\n    """\n'
    statement = only(text)
    assert isinstance(statement, ast.Assign)
    value = statement.value
    assert type(value) is ast.Interpolated
    assert value.parts[0] == "first\n  second "


def test_triple_single_quoted_is_literal_and_dedented() -> None:
    statement = only("v: '''\n  a \\n\n    b ${c}\n  '''\n")
    assert isinstance(statement, ast.Assign)
    assert statement.value == ast.Literal("a \\n\n  b ${c}", _any())


def test_triple_quoted_text_on_the_opening_line() -> None:
    assert literal('"""one\n   two\n     three"""') == "one\ntwo\n  three"


@pytest.mark.parametrize(
    ("text", "low", "high"), [("8000-9000", 8000, 9000), ("1-1", 1, 1), ("2023-2024", 2023, 2024)]
)
def test_ranges(text: str, low: int, high: int) -> None:
    value = value_of(text)
    assert type(value) is ast.RangeLit
    assert (value.min, value.max) == (low, high)


def test_spaced_minus_is_subtraction() -> None:
    value = value_of("9000 - 8000")
    assert type(value) is ast.Binary
    assert value.op == "-"


@pytest.mark.parametrize(
    "text",
    [
        "./data/app.db",
        "0.0.0.0",
        "http://x:8080/a",
        "info and more",
        "1.4.2",
        "10MB",
        "2024-01-15",
        "db.example.com",
        "*.txt",
    ],
)
def test_bare_text(text: str) -> None:
    assert value_of(text) == ast.BareText(text, _any())


def test_bare_text_stops_at_comment_and_semicolon() -> None:
    assert value_of("./a/b   # where") == ast.BareText("./a/b", _any())
    assert value_of("./a/b;") == ast.BareText("./a/b", _any())


def test_bare_text_in_flow_context_ends_at_comma() -> None:
    value = value_of("[./a, 0.0.0.0 , x y]")
    assert type(value) is ast.ArrayLit
    assert [type(item) for item in value.items] == [ast.BareText] * 3
    assert [item.text for item in value.items if isinstance(item, ast.BareText)] == [
        "./a",
        "0.0.0.0",
        "x y",
    ]


def test_bare_text_in_any_braces_ends_at_comma() -> None:
    obj = value_of("{\n  path: ./a/b, n: 1.2.3,\n  m: 1\n}")
    assert type(obj) is ast.ObjectLit
    assert [s.value for s in obj.body if isinstance(s, ast.Assign)] == [
        ast.BareText("./a/b", _any()),
        ast.BareText("1.2.3", _any()),
        ast.Literal(1, _any()),
    ]


def test_bare_text_outside_brackets_keeps_commas() -> None:
    assert value_of("a, b") == ast.BareText("a, b", _any())


# --- expressions --------------------------------------------------------------------------------


def test_precedence() -> None:
    value = value_of("a || b && c == 1 + 2 * -3")
    assert type(value) is ast.Binary
    assert value.op == "||"
    right = value.right
    assert type(right) is ast.Binary
    assert right.op == "&&"
    comparison = right.right
    assert type(comparison) is ast.Binary
    assert comparison.op == "=="
    total = comparison.right
    assert type(total) is ast.Binary
    assert total.op == "+"
    product = total.right
    assert type(product) is ast.Binary
    assert product.op == "*"
    assert product.right == ast.Literal(-3, _any())


def test_ternary_unary_parentheses_and_op_span() -> None:
    value = value_of('!(a < 2) ? "x" : $y.z')
    assert type(value) is ast.Ternary
    assert type(value.cond) is ast.Unary
    assert value.otherwise == ast.VarRef("y", ("z",), _any(), sigil=True)
    inner = value.cond.operand
    assert type(inner) is ast.Binary
    assert inner.op_span.text == "<"


def test_names_inside_expressions_are_references() -> None:
    value = value_of('env == "prod"')
    assert type(value) is ast.Binary
    assert value.left == ast.VarRef("env", (), _any(), sigil=False)
    dotted = value_of("app.replicas * 2")
    assert type(dotted) is ast.Binary
    assert dotted.left == ast.VarRef("app", ("replicas",), _any(), sigil=False)


def test_sigil_references() -> None:
    assert value_of("$env") == ast.VarRef("env", (), _any(), sigil=True)
    assert value_of("$app.db.host") == ast.VarRef("app", ("db", "host"), _any(), sigil=True)


# --- calls --------------------------------------------------------------------------------------


def test_call_forms() -> None:
    plain = value_of('@env("HOME", "/root")')
    assert type(plain) is ast.Call
    assert (plain.name, len(plain.args), plain.has_parens) == (("env",), 2, True)
    assert plain.name_span.text == "env"
    prop = value_of("@date.now")
    assert type(prop) is ast.Call
    assert (prop.name, prop.args, prop.has_parens) == (("date", "now"), (), False)
    cross = value_of('@stem.tsk.get("k")')
    assert type(cross) is ast.Call
    assert cross.name == ("stem", "tsk", "get")


def test_call_arguments_span_lines_and_nest() -> None:
    value = value_of('@k8s.deployment({\n  name: shop\n  replicas: @env("N", 1),\n}, [1,\n 2])')
    assert type(value) is ast.Call
    obj, array = value.args
    assert type(obj) is ast.ObjectLit
    assert type(array) is ast.ArrayLit
    replicas = obj.body[1]
    assert isinstance(replicas, ast.Assign)
    assert type(replicas.value) is ast.Call


def test_call_argument_lone_name_is_a_bare_word() -> None:
    value = value_of("@if(debug, 1, 2)")
    assert type(value) is ast.Call
    assert value.args[0] == ast.BareWord("debug", _any())


# --- helpers ------------------------------------------------------------------------------------


class _AnySpan:
    """Equal to any span: spans are compared where the test is about them."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


def _any() -> Span:
    return _AnySpan()  # type: ignore[return-value]


# --- the fast path ------------------------------------------------------------------------------

FAST_PATH_SAMPLE = """\
# simple lines take a regex fast path; it must build exactly what the tokenizer path builds
$region: "eu-west-1"
title: "generated"
n = 42
neg: -7;
f: 3.25   # comment
word: info
flag: TRUE
nothing: null
ref: $region.name
range: 8000-9000
bad_is_slow_path: 1.4.2
[svc]
tags: ["a", 'b', 1, -2, 3.5, x, $r, null, [], {}, [[1], {a: 1, b: [2]}],]
limits: {cpu: "1961m", memory: "1767Mi", burst: 3,}
mixed: [8000-9000, 1 + 2, "s" ]
resources {
    path: "/a/b"
    headers: []
}
probe >
    interval: 5
<
"""


def test_fast_path_builds_the_same_tree_as_the_tokenizer(monkeypatch: pytest.MonkeyPatch) -> None:
    from tuskops.lang import parser

    fast = parse(FAST_PATH_SAMPLE, constant_runs=False)
    monkeypatch.setattr(parser.Parser, "_simple_lines", lambda self, start, into: -1)
    slow = parse(FAST_PATH_SAMPLE, constant_runs=False)
    assert fast == slow  # spans compare by offsets
    assert [type(s) for s in fast.body][:3] == [ast.GlobalAssign, ast.Assign, ast.Assign]
