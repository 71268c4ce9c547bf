"""Constant runs: consecutive ``key: constant`` lines parsed as one node must mean exactly what
the same lines parsed one by one mean: same data (types included), same warnings, same errors
at the same positions."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tuskops
from tuskops.errors import EvaluationError, TuskSyntaxError
from tuskops.lang import ast, parser
from tuskops.lang.api import parse
from tuskops.lang.evaluator import evaluate_module
from tuskops.lang.parser import parse_source
from tuskops.lang.source import Diagnostic, Source

NOWHERE = Path("/nonexistent-tuskops")


def _where(d: Diagnostic) -> tuple[Any, ...]:
    place = (d.span.line, d.span.col, d.span.end - d.span.start) if d.span else None
    notes = tuple((note, span.line, span.col) for note, span in d.notes)
    return (d.severity.value, d.message, place, d.hint, notes)


def outcome(text: str, *, runs: bool) -> tuple[Any, ...]:
    """Everything reading ``text`` gives: the data as typed JSON and the warnings, or the
    errors."""
    try:
        module = parse_source(Source(text, name="t.tsk"), constant_runs=runs)
    except TuskSyntaxError as err:
        return ("syntax", [_where(d) for d in err.diagnostics])
    try:
        doc = evaluate_module(module, base_dir=NOWHERE, offline=True, env={})
    except EvaluationError as err:
        return ("evaluation", [_where(d) for d in err.diagnostics])
    # json.dumps keeps what matters: key order, 1 vs 1.0 vs true, -0.0.
    return ("ok", json.dumps(doc.to_plain()), [_where(w) for w in doc.warnings])


def runs_in(module_body: tuple[ast.Statement, ...]) -> list[ast.ConstantRun]:
    found: list[ast.ConstantRun] = []
    for statement in module_body:
        if isinstance(statement, ast.ConstantRun):
            found.append(statement)
        elif isinstance(statement, ast.Block | ast.Section):
            found.extend(runs_in(statement.body))
        elif isinstance(statement, ast.Assign) and isinstance(statement.value, ast.ObjectLit):
            found.extend(runs_in(statement.value.body))
        elif isinstance(statement, ast.IfDirective):
            for branch in statement.branches:
                found.extend(runs_in(branch.body))
    return found


def assert_same_both_ways(text: str) -> tuple[Any, ...]:
    with_runs = outcome(text, runs=True)
    assert with_runs == outcome(text, runs=False), text
    return with_runs


# --- the same meaning -------------------------------------------------------------------------

SAMPLES = {
    "scalars": """\
        title: "generated"
        n = 42
        neg: -7;
        zero: -0
        f: 3.25
        exp: 1.5e-3
        big: 1E5
        huge: 123456789012345678901234567890
        yes: true
        no = false
        nothing: null
        """,
    "strings": r"""
        plain: "a b c"
        escapes: "tab\there \"q\" back\\slash\nnew \r"
        unicode: "\u00e9\u20ac \uD83D\uDE00 lone \uD800 x"
        raw_tab: "a	b"
        dollar: "costs $5 and $ alone"
        brackets: "[1, 2] {x} a,b"
        flow_key_inside: "see {a: 1}"
        comma_key_inside: "x, y: z"
        empty: ""
        """,
    "not in runs, still the same": """\
        a: 1.4.2
        b: 0.0.0.0
        c: 1_000
        d: 0xFF
        e: 007
        f: TRUE
        g: Null
        h: 'single'
        i: word
        j: http://x:8080/a
        k: 2024-01-15
        l: 1 + 2
        m: "interpolated ${a}"
        n: "x" # a trailing comment
        true: 1
        Null: 2
        o: .5
        p: 1.
        q: - 5
        """,
    "ranges": """\
        ports: 8000-9000
        zero: 0-0
        spaced_range: 1-2  ;
        one: 5-5
        """,
    "flows": """\
        tags: []
        obj: {}
        weights: [19, 33, 27]
        mixed: ["papa", 1, 4.91, true, null, -2, 1e3]
        matrix: [[7, 1, 9], [8, 9, 7]]
        limits: {cpu: "1961m", memory = "1767Mi", burst: 3}
        endpoints: [{path: "/kilo", port: 8382}, {path: "/oscar", port: 7474}]
        deep: [[[1]], {a: [2]}, {b: {c: 3}}]
        spaced: [ 1 , 2 ]
        keyword_member: {true_ish: 1, nulls: [null]}
        """,
    "flows that are not runs": """\
        trailing: [1, 2,]
        trailing_obj: {a: 1,}
        deeper: [[[[1]]]]
        deeper_object: [{a: {b: [2]}}]
        key_in_array: [a: 1]
        words: [a, b]
        refs: [$g]
        single: ['x']
        keyword_key: {true: 1}
        $g: 1
        """,
    "comments and blank lines": """\
        # leading comment
        a: 1

        # between
        // also between
            b: 2
        #!meta data
        c: 3
        /* block */
        d: 4
        """,
    "semicolons and crlf": 'a: 1;\r\nb: "x" ; \r\n\r\n# c\r\nc: [1, 2]\r\nd: 4',
    "blocks and sections": """\
        top: 1
        [svc]
        name: "a"
        replicas: 3
        region: $region
        cpu: 1.5
        resources {
            path: "/a/b"
            headers: []
        }
        probe >
            interval: 5
            strict = true
        <
        inline { a: 1, b: 2 }
        opened { a: 1
            b: 2
        }
        $region: "eu"
        """,
    "directives": """\
        #!if true
        a: 1
        b: [2]
        #!else
        a: 3
        #!endif
        #!include-ish not a directive we know
        c: 4
        """,
    "object-style file": """\
        {
            name: "shop"
            port: 80
            tags: ["a", "b"]
            ports: 1-2
        }
        """,
    "unicode keys and text": """\
        é: 1
        ключ: "значение"
        名前: ["日本", "\\u00e9"]
        """,
    "object values": """\
        config: {
            a: 1
            b: [1, 2]
            c: {d: 2}
        }
        items: [{
            a: 1
            b: "x"
        }]
        """,
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_runs_mean_what_the_lines_mean(name: str) -> None:
    assert_same_both_ways(textwrap.dedent(SAMPLES[name]))


def test_the_samples_do_use_runs() -> None:
    text = textwrap.dedent(SAMPLES["flows"])
    runs = runs_in(parse(text).body)
    assert len(runs) == 1
    assert runs[0].keys[:3] == ("tags", "obj", "weights")
    assert len(runs_in(parse(textwrap.dedent(SAMPLES["blocks and sections"])).body)) >= 4


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb: 2\na: 3\n",  # a duplicate inside the run
        "a: {x: 1, x: 2}\nb: 1\n",  # a duplicate inside a one-line object
        "a: [{x: 1}, {x: 2, y: {x: 3}, x: 4}]\n",
        "a: {x: {y: 1}, x: 2}\n",
        'a: {x: "}", y: "{", x: 1}\n',
        "a: [{x: 1}, {x: 2}]\nb: {x: 1, y: {x: 2}}\nc: {x: {y: 1}, z: {y: 2}}\n",
        "a: 1\nports: 9-1\nb: 2\n",  # a bad range: a syntax error, reported as usual
        "a: 1\nx: {b: 1}\nx.c: 2\nx.b: 3\n",  # later statements merge into a run's object
        "a: 1\nb: 2\nc { a: 3 }\nc.a: 4\n",
        "x: 1\ns {\n  y: 2\n}\nx: 3\n",
        "r: 1-2\nr.min: 5\n",
        "a: [1], [2\nb: 3]\n",
        'a: "unterminated\nb: 1\n',
        'a: "bad \\q escape"\nb: 1\n',
    ],
)
def test_fallbacks_and_errors_are_the_same(text: str) -> None:
    assert_same_both_ways(text)


def test_a_bad_range_is_the_usual_syntax_error() -> None:
    kind, found = outcome("a: 1\nports: 9-1\nb: 2\n", runs=True)
    assert kind == "syntax"
    assert [(message, place[:2]) for _, message, place, *_ in found] == [
        ("bad range 9-1: 9 is greater than 1", (2, 8))
    ]


# --- positions --------------------------------------------------------------------------------


def test_a_duplicate_of_an_earlier_key_points_at_the_key_in_the_run() -> None:
    text = 'b: 0\nc {}\na: 1\n\n  # note\n  b: "x"\n'
    run = runs_in(parse(text).body)[-1]
    assert run.keys == ("a", "b")
    span = run.key_span("b")
    assert (span.line, span.col, span.text) == (6, 3, "b")
    kind, _, warnings = assert_same_both_ways(text)
    assert kind == "ok"
    assert [(message, place[:2]) for _, message, place, *_ in warnings] == [
        ("duplicate key 'b': the later value wins", (6, 3))
    ]


def test_key_span_of_the_first_key_and_of_a_key_after_an_opener_on_its_line() -> None:
    text = "x { first: 1\n    second: 2\n}\n"
    block = parse(text).body[0]
    assert isinstance(block, ast.Block)
    (run,) = block.body
    assert isinstance(run, ast.ConstantRun)
    assert [(s.line, s.col) for s in map(run.key_span, run.keys)] == [(1, 5), (2, 5)]
    with pytest.raises(ValueError, match="not a key"):
        run.key_span("third")


def test_assigns_are_the_nodes_of_the_lines_parsed_one_by_one() -> None:
    text = textwrap.dedent(SAMPLES["flows"]) + textwrap.dedent(SAMPLES["ranges"])
    (run,) = runs_in(parse(text).body)
    one_by_one = parse(text, constant_runs=False).body
    assert run.assigns() == one_by_one  # spans compare by offsets
    assert run.span.start == 0
    assert run.span.end == len(text.rstrip())


def test_the_run_span_ends_at_its_last_value() -> None:
    text = "a: 1\nb: [2] ;  \n\n# c\nc: $x\n"
    module = parse(text)
    run = module.body[0]
    assert isinstance(run, ast.ConstantRun)
    assert run.span.text == "a: 1\nb: [2]"


# --- evaluation ---------------------------------------------------------------------------------


def test_a_bare_word_after_a_run_refers_to_a_key_of_the_run() -> None:
    text = "a: 1\nc: 2\nb: a\nd: e\n"
    assert isinstance(parse(text).body[0], ast.ConstantRun)
    _, data, warnings = assert_same_both_ways(text)
    assert json.loads(data) == {"a": 1, "c": 2, "b": 1, "d": "e"}
    assert [message for _, message, *_ in warnings] == [
        "bare word 'a' resolved as a reference to key 'a'"
    ]


def test_evaluating_a_tree_twice_gives_independent_documents() -> None:
    module = parse("limits: {cpu: 1}\nlist: [[1], {a: 2}]\nlimits.memory: 2\n")
    first = evaluate_module(module, offline=True, env={})
    second = evaluate_module(module, offline=True, env={})
    assert (
        first.data
        == second.data
        == {
            "limits": {"cpu": 1, "memory": 2},
            "list": [[1], {"a": 2}],
        }
    )
    first.data["list"][0].append(99)
    first.data["limits"]["cpu"] = 5
    assert second.data["list"] == [[1], {"a": 2}]
    assert evaluate_module(module, offline=True, env={}).data["limits"] == {"cpu": 1, "memory": 2}


def test_a_file_included_twice_gets_fresh_values_each_time(tmp_path: Path) -> None:
    (tmp_path / "part.tsk").write_text("limits: {cpu: 1}\ntags: [1]\n", encoding="utf-8")
    main = tmp_path / "main.tsk"
    main.write_text(
        'a {\n#!include "part.tsk"\nlimits.memory: 2\n}\nb {\n#!include "part.tsk"\n}\n',
        encoding="utf-8",
    )
    doc = tuskops.load(main, offline=True, env={})
    assert doc.data == {
        "a": {"limits": {"cpu": 1, "memory": 2}, "tags": [1]},
        "b": {"limits": {"cpu": 1}, "tags": [1]},
    }
    assert doc.data["a"]["tags"] is not doc.data["b"]["tags"]


def test_a_run_inside_an_object_in_an_array_is_a_constant() -> None:
    text = "items: [{\n  a: 1\n  b: [2]\n}, {\n  a: 3\n}]\n"
    assert_same_both_ways(text)
    assert tuskops.loads(text, offline=True, env={}).data == {
        "items": [{"a": 1, "b": [2]}, {"a": 3}]
    }


def test_a_run_that_cannot_be_decoded_is_not_matched_again_line_by_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = parser._RUN
    calls = 0

    class Counting:
        @staticmethod
        def match(text: str, pos: int, endpos: int) -> Any:
            nonlocal calls
            calls += 1
            return real.match(text, pos, endpos)

    monkeypatch.setattr(parser, "_RUN", Counting)
    lines = "".join(f"k{i}: {i}\n" for i in range(2000)) + "k0: 0\n"  # a duplicate at the end
    module = parse(lines)
    assert calls <= 2
    assert all(isinstance(s, ast.Assign) for s in module.body)


# --- generated documents ------------------------------------------------------------------------

KEYS = ["a", "b", "c", "x-y", "true", "k_1"]
VALUES = [
    "1", "-7", "0", "-0", "2.5", "1e3", "-1.5E-2", "1.4.2", "007", "0xFF", "1_000", ".5",
    '"s"', '"a\\nb"', '"\\u00e9\\uD83D\\uDE00"', '"x, y: z"', '"{a: 1}"', '"$5"', '"${a}"',
    '"\\q"', "'sq'", "true", "FALSE", "null", "8000-9000", "9-1", "2024-01-15", "[]", "{}",
    "[1, 2]", "[1,]", '["s", [true, null], {a: 1}]', "{a: 1, b: [2, {c: 3}]}", "{a: 1, a: 2}",
    "[[[[1]]]]", "[a: 1]", "{true: 1}", "$g", "word", "a", "b.c", "1 + 2", "",
    "[{a: 1}, {a: 2}]", "{a: {a: 1}, b: 2}", "{a: {b: 1}, a: 2}", '{a: "}", b: "{", a: 1}',
    "[{a: [1, {b: 2}], b: 3}]",
]  # fmt: skip
TAILS = ["", ";", "  ", " # c", "\r", " ;"]
BETWEEN = ["", "", "", "\n", "# comment\n", "  // c\n", "\r\n", "#!meta x\n"]


@st.composite
def documents(draw: st.DrawFn) -> str:
    out = ["$g: 1\n"]
    depth = 0
    for _ in range(draw(st.integers(0, 14))):
        choice = draw(st.integers(0, 9))
        indent = "    " * depth
        if choice == 0 and depth == 0:
            out.append(f"[{draw(st.sampled_from(['s', 't']))}]\n")
        elif choice == 1 and depth < 2:
            out.append(f"{indent}{draw(st.sampled_from(KEYS))} {{\n")
            depth += 1
        elif choice == 2 and depth > 0:
            depth -= 1
            out.append("    " * depth + "}\n")
        else:
            key = draw(st.sampled_from(KEYS))
            operator = draw(st.sampled_from([": ", " = ", ":", " :  "]))
            value = draw(st.sampled_from(VALUES))
            tail = draw(st.sampled_from(TAILS))
            out.append(f"{indent}{key}{operator}{value}{tail}\n")
        out.append(draw(st.sampled_from(BETWEEN)))
    while depth > 0:
        depth -= 1
        out.append("    " * depth + "}\n")
    text = "".join(out)
    return text[:-1] if draw(st.booleans()) else text  # with or without a last line end


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_mean_the_same_with_and_without_runs(text: str) -> None:
    assert_same_both_ways(text)


flow_scalars = st.sampled_from(["1", '"s"', '"}"', '"{"', '"]"', "true", "null", "-2.5"])
flow_values = st.recursive(
    flow_scalars,
    lambda inner: (
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]")
        | st.lists(st.tuples(st.sampled_from(["a", "b"]), inner), max_size=3).map(
            lambda members: "{" + ", ".join(f"{k}: {v}" for k, v in members) + "}"
        )
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(flow_values, min_size=1, max_size=4))
def test_generated_one_line_objects_with_repeated_keys(values: list[str]) -> None:
    assert_same_both_ways("".join(f"k{i}: {value}\n" for i, value in enumerate(values)))


def test_parsing_leaves_the_garbage_collector_as_it_found_it() -> None:
    import gc

    assert gc.isenabled()
    parse("a: 1\nb: [1, {c: 2}]\n" * 100)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0  # frozen to skip a full collection, then unfrozen
    gc.disable()
    try:
        parse("a: 1\n")
        assert not gc.isenabled()
    finally:
        gc.enable()
