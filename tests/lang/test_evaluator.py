"""Evaluation semantics, through ``tuskops.loads`` (text in, data out)."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest

import tuskops
from tuskops.core.operator import CallContext, Operator, action
from tuskops.core.registry import Registry
from tuskops.core.resource import Resource, Sensitive
from tuskops.errors import EvaluationError
from tuskops.lang.builtins import builtin_operators
from tuskops.lang.document import Document

NOW = datetime(2024, 3, 5, 14, 7, 9, tzinfo=timezone(timedelta(hours=1)))


def load(text: str, **kwargs: Any) -> Document:
    kwargs.setdefault("env", {})
    kwargs.setdefault("now", NOW)
    return tuskops.loads(textwrap.dedent(text), **kwargs)


def ev(text: str, **kwargs: Any) -> dict[str, Any]:
    return load(text, **kwargs).to_plain(redact=False)


def warning_messages(doc: Document) -> list[str]:
    return [w.message for w in doc.warnings]


# --- the spec's example -----------------------------------------------------------------------

SPEC_EXAMPLE = """\
$env: @env("APP_ENV", "dev")
[app]
name: "shop"
replicas: $env == "prod" ? 3 : 1
web {
    image: "ghcr.io/acme/shop:${app.version}"
    ports: [8080, 8443]
}
version = "1.4.2"
[app.limits]
memory = "512Mi"   # trailing comment
"""


def test_spec_example_exactly() -> None:
    doc = tuskops.loads(SPEC_EXAMPLE, env={})
    assert doc.to_json(indent=None) == (
        '{"app": {"name": "shop", "replicas": 1, "web": {"image": '
        '"ghcr.io/acme/shop:1.4.2", "ports": [8080, 8443]}, "version": "1.4.2", "limits": '
        '{"memory": "512Mi"}}}'
    )
    assert doc.warnings == []


def test_spec_example_in_prod() -> None:
    doc = tuskops.loads(SPEC_EXAMPLE, env={"APP_ENV": "prod"})
    assert doc["app"]["replicas"] == 3


# --- document structure -----------------------------------------------------------------------


def test_assignment_forms_and_empty_value() -> None:
    assert ev(
        """
        a: 1
        b = "two";
        c:
        d = true
        """
    ) == {"a": 1, "b": "two", "c": None, "d": True}


def test_dotted_keys_set_nested_paths() -> None:
    assert ev(
        """
        a.b.c: 1
        a.b.d: 2
        a.e: 3
        """
    ) == {"a": {"b": {"c": 1, "d": 2}, "e": 3}}


def test_sections_go_from_the_root_and_reopen() -> None:
    assert ev(
        """
        top: 0
        [db]
        host: "h"
        [db.pool]
        size: 5
        [cache]
        ttl: 60
        [db]
        port: 5432
        """
    ) == {"top": 0, "db": {"host": "h", "pool": {"size": 5}, "port": 5432}, "cache": {"ttl": 60}}


def test_blocks_both_styles_nest() -> None:
    assert ev(
        """
        server {
            host: "0.0.0.0"
            tls >
                enabled: true
                inner {
                    deep: 1
                }
            <
        }
        """
    ) == {"server": {"host": "0.0.0.0", "tls": {"enabled": True, "inner": {"deep": 1}}}}


def test_block_inside_section_and_dotted_block() -> None:
    assert ev(
        """
        [app]
        a.b {
            c: 1
        }
        """
    ) == {"app": {"a": {"b": {"c": 1}}}}


def test_reopened_block_merges() -> None:
    assert ev(
        """
        a { x: 1 }
        a { y: 2 }
        """
    ) == {"a": {"x": 1, "y": 2}}


def test_object_and_array_literals_span_lines() -> None:
    assert ev(
        """
        obj: {
            a: 1,
            b: [1, 2,
                3],
            c: { d: "e" },
        }
        arr: [
            {name: "x"},
            {name: "y"}
        ]
        empty_obj: {}
        empty_arr: []
        """
    ) == {
        "obj": {"a": 1, "b": [1, 2, 3], "c": {"d": "e"}},
        "arr": [{"name": "x"}, {"name": "y"}],
        "empty_obj": {},
        "empty_arr": [],
    }


def test_whole_file_object_style() -> None:
    assert ev(
        """
        {
            "name": "shop",
            "ports": [80, 443],
            nested: { a: true }
        }
        """
    ) == {"name": "shop", "ports": [80, 443], "nested": {"a": True}}


def test_quoted_keys() -> None:
    assert ev("\"my key\": 1\n'other.key': 2\n") == {"my key": 1, "other.key": 2}


def test_duplicate_key_later_wins_with_a_warning() -> None:
    doc = load(
        """
        a: 1
        b: 2
        a: 3
        """
    )
    assert doc.data == {"a": 3, "b": 2}
    assert list(doc.data) == ["a", "b"]  # the key keeps its first position
    assert warning_messages(doc) == ["duplicate key 'a': the later value wins"]
    assert (doc.warnings[0].span.line, doc.warnings[0].span.col) == (4, 1)  # type: ignore[union-attr]


def test_duplicate_nested_key_and_scalar_replaced_by_object() -> None:
    doc = load(
        """
        [s]
        k: 1
        k: $x
        $x: 2
        v: 1
        v.sub: 2
        """
    )
    assert doc.data == {"s": {"k": 2, "v": {"sub": 2}}}
    assert warning_messages(doc) == [
        "duplicate key 's.k': the later value wins",
        "'s.v' is replaced by an object: the later definition wins",
    ]


def test_output_is_insertion_ordered() -> None:
    data = ev("z: 1\na: 2\nm { y: 1\nb: 2 }\n")
    assert list(data) == ["z", "a", "m"]
    assert list(data["m"]) == ["y", "b"]


# --- values -----------------------------------------------------------------------------------


def test_scalars() -> None:
    assert ev(
        """
        i: 42
        n: -7
        f: 3.14
        e: 1.5e-3
        h: 0xFF
        o: 0o755
        b: 0b1010
        u: 1_000
        t: TRUE
        fa: False
        nu: NULL
        y: yes
        off: off
        """
    ) == {
        "i": 42,
        "n": -7,
        "f": 3.14,
        "e": 0.0015,
        "h": 255,
        "o": 493,
        "b": 10,
        "u": 1000,
        "t": True,
        "fa": False,
        "nu": None,
        "y": "yes",
        "off": "off",
    }


def test_strings_and_escapes() -> None:
    data = ev(
        """
        a: "tab\\there \\"q\\" \\u00e9"
        b: 'raw \\n ${x}'
        c: "$5 and awk '{print $3}'"
        d: "# not a comment // nor this"
        """
    )
    assert data == {
        "a": 'tab\there "q" é',
        "b": "raw \\n ${x}",
        "c": "$5 and awk '{print $3}'",
        "d": "# not a comment // nor this",
    }


def test_bare_text_and_bare_words() -> None:
    doc = load(
        """
        path: ./data/app.db
        host: 0.0.0.0
        url: http://x:8080/a
        level: info and more
        mode: debug
        """
    )
    assert doc.data == {
        "path": "./data/app.db",
        "host": "0.0.0.0",
        "url": "http://x:8080/a",
        "level": "info and more",
        "mode": "debug",
    }
    assert doc.warnings == []


def test_range_values() -> None:
    data = ev('ports: 8000-9000\nsame: 5-5\ntext: "8000-9000"\n')
    assert data == {
        "ports": {"min": 8000, "max": 9000, "type": "range"},
        "same": {"min": 5, "max": 5, "type": "range"},
        "text": "8000-9000",
    }


def test_multiline_strings() -> None:
    data = ev(
        '''
        a: """
            line one
              indented ${1 + 1}
            """
        b: \'\'\'
            raw ${x}
            \'\'\'
        '''
    )
    assert data == {"a": "line one\n  indented 2", "b": "raw ${x}"}


# --- globals and references -------------------------------------------------------------------


def test_globals_are_not_output_and_forward_references_work() -> None:
    assert ev(
        """
        a: $name
        b: "${name}-${port}"
        $name: "shop"
        $port: 8080
        """
    ) == {"a": "shop", "b": "shop-8080"}


def test_global_paths() -> None:
    assert ev(
        """
        $db: { host: "h", ports: [5432, 5433] }
        host: $db.host
        second: $db.ports.1
        text: "${db.host}:${db.ports}"
        """
    ) == {"host": "h", "second": 5433, "text": "h:[5432,5433]"}


def test_global_shadows_key() -> None:
    assert ev("x: 1\n$x: 2\ny: $x\n") == {"x": 1, "y": 2}


def test_globals_see_keys_and_keys_see_globals_inside_sections() -> None:
    assert ev(
        """
        [app]
        name: "shop"
        $full: "${name}-${other.suffix}"
        [other]
        suffix: "x"
        label: $full
        """
    ) == {"app": {"name": "shop"}, "other": {"suffix": "x", "label": "shop-x"}}


def test_references_resolve_from_current_block_outward() -> None:
    assert ev(
        """
        name: "root"
        port: 1
        app {
            name: "app"
            web {
                a: $name
                b: $port
                c: $app.name
                d: "${web.e}"
                e: 5
            }
        }
        """
    ) == {
        "name": "root",
        "port": 1,
        "app": {"name": "app", "web": {"a": "app", "b": 1, "c": "app", "d": "5", "e": 5}},
    }


def test_reference_falls_back_outward_when_nearer_path_lacks_the_key() -> None:
    assert ev(
        """
        cfg { host: "outer" }
        inner {
            cfg { port: 1 }
            h: $cfg.host
            p: $cfg.port
        }
        """
    ) == {"cfg": {"host": "outer"}, "inner": {"cfg": {"port": 1}, "h": "outer", "p": 1}}


def test_forward_key_references_and_chains() -> None:
    assert ev(
        """
        a: $b + 1
        b: $c * 2
        c: 10
        """
    ) == {"a": 21, "b": 20, "c": 10}


def test_reference_to_a_block_copies_it() -> None:
    data = ev(
        """
        base { image: "x", env { A: 1 } }
        copy: $base
        env_a: $base.env.A
        """
    )
    assert data["copy"] == {"image": "x", "env": {"A": 1}}
    assert data["env_a"] == 1


def test_reference_into_arrays_and_object_literals() -> None:
    assert (
        ev(
            """
        ports: [80, 443]
        first: $ports.0
        obj: { inner: { v: 7 } }
        v: $obj.inner.v
        """
        )["v"]
        == 7
    )


def test_bare_word_reference_warns() -> None:
    doc = load(
        """
        mode: "debug"
        level: mode
        app {
            log: mode
            other: unknown
            later: defined_later
            defined_later: 1
        }
        """
    )
    assert doc.data == {
        "mode": "debug",
        "level": "debug",
        "app": {"log": "debug", "other": "unknown", "later": "defined_later", "defined_later": 1},
    }
    assert warning_messages(doc) == [
        "bare word 'mode' resolved as a reference to key 'mode'",
        "bare word 'mode' resolved as a reference to key 'mode'",
    ]
    assert (doc.warnings[0].span.line, doc.warnings[0].span.col) == (3, 8)  # type: ignore[union-attr]


def test_bare_word_in_array_only_refers_to_earlier_keys() -> None:
    doc = load(
        """
        a: 1
        list: [a, b, "c"]
        b: 2
        """
    )
    assert doc.data["list"] == [1, "b", "c"]
    assert len(doc.warnings) == 1


# --- expressions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("7 / 2", 3.5),
        ("6 / 3", 2),
        ("7 % 3", 1),
        ("-7 % 3", -1),
        ("7.5 % 2", 1.5),
        ("2.5 * 2", 5.0),
        ("-(2 + 3)", -5),
        ("1 + 2 == 3", True),
        ("1 == 1.0", True),
        ("1 == true", False),
        ('"1" == 1', False),
        ("null == null", True),
        ("null != false", True),
        ("[1, 2] == [1, 2]", True),
        ("{a: 1} == {a: 1}", True),
        ("3 < 4", True),
        ("4 <= 4", True),
        ('"a" < "b"', True),
        ('"b" >= "c"', False),
        ("true && false || true", True),
        ("!true", False),
        ("!(1 > 2)", True),
        ("false && $undefined_is_not_evaluated", False),
        ("true || $undefined_is_not_evaluated", True),
        ('1 > 2 ? "a" : 2 > 1 ? "b" : "c"', "b"),
        ('"n=" + 1', "n=1"),
        ('1 + "x"', "1x"),
        ('"" + true + false + null', "truefalsenull"),
        ('"f" + 2.5', "f2.5"),
        ('"a" + [1, "b"]', 'a[1,"b"]'),
    ],
)
def test_expressions(expr: str, expected: Any) -> None:
    value = ev(f"v: {expr}\n")["v"]
    assert value == expected
    assert type(value) is type(expected)


def test_interpolation_holds_any_expression() -> None:
    assert ev(
        """
        $env: "prod"
        level: "${env == 'prod' ? 'info' : 'debug'}"
        sum: "${1 + 2}/${true}/${null}/${2.0}"
        """
    ) == {"level": "info", "sum": "3/true/null/2.0"}


# --- operator calls ---------------------------------------------------------------------------


class Recorder(Operator):
    """Test operator with two actions and a default."""

    name = "rec"
    aliases = ("r",)
    calls: ClassVar[list[CallContext]] = []

    @action(default=True)
    def echo(self, ctx: CallContext, *values: Any) -> Any:
        """Returns its arguments."""
        Recorder.calls.append(ctx)
        return list(values)

    @action
    def kind(self, ctx: CallContext) -> str:
        """A property."""
        Recorder.calls.append(ctx)
        return "recorded"

    @action
    def res(self, ctx: CallContext, name: str) -> Resource:
        """A resource."""
        Recorder.calls.append(ctx)
        ctx.warn(f"made {name}")
        return Resource(operator="rec", kind="thing", name=name, body={"name": name})


class NoDefault(Operator):
    """Only named actions."""

    name = "nodef"

    @action
    def one(self, ctx: CallContext, value: int) -> int:
        """One."""
        return value


@pytest.fixture
def registry() -> Registry:
    Recorder.calls.clear()
    return Registry([*builtin_operators(), Recorder(), NoDefault()])


def test_call_forms(registry: Registry) -> None:
    data = ev(
        """
        a: @rec(1, 2)
        b: @rec.echo(1, 2)
        c: @rec("echo", 1, 2)
        d: @rec.kind
        e: @rec("kind")
        f: @r.kind()
        g: @nodef("one", 5)
        h: @nodef.one(6)
        nested: @rec(@rec(1), { k: @rec.kind })
        """,
        registry=registry,
    )
    assert data == {
        "a": [1, 2],
        "b": [1, 2],
        "c": [1, 2],
        "d": "recorded",
        "e": "recorded",
        "f": "recorded",
        "g": 5,
        "h": 6,
        "nested": [[1], {"k": "recorded"}],
    }


def test_call_context(registry: Registry, tmp_path: Path) -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    doc = load(
        """
        a: @rec.kind
        b: @rec.kind
        """,
        registry=registry,
        env={"X": "1"},
        now=now,
        base_dir=tmp_path,
        offline=True,
    )
    assert doc.data == {"a": "recorded", "b": "recorded"}
    first, second = Recorder.calls
    assert first.base_dir == tmp_path
    assert first.file is None
    assert first.offline is True
    assert dict(first.env) == {"X": "1"}
    assert first.now == now == second.now
    assert first.cache is second.cache
    assert first.loader is not None


def test_statement_calls_run_in_order_and_keep_resources(registry: Registry) -> None:
    doc = load(
        """
        @rec.res("first")
        x: 1
        @rec.res("second")
        """,
        registry=registry,
    )
    assert doc.data == {"x": 1}
    assert [r.name for r in doc.statement_resources] == ["first", "second"]
    assert [r.name for r in doc.resources] == ["first", "second"]
    assert warning_messages(doc) == ["made first", "made second"]
    assert doc.warnings[0].span is not None
    assert (doc.warnings[0].span.line, doc.warnings[0].span.col) == (2, 1)


def test_resources_under_keys(registry: Registry) -> None:
    doc = load('thing: @rec.res("a")\n', registry=registry)
    assert isinstance(doc["thing"], Resource)
    assert doc.to_plain()["thing"]["name"] == "a"


def test_env_operator() -> None:
    data = ev(
        """
        home: @env("HOME")
        missing: @env("NOPE")
        port: @env("PORT", 8080)
        debug: @env("DEBUG", false)
        default_used: @env("NOPE", 3)
        """,
        env={"HOME": "/home/me", "PORT": "9090", "DEBUG": "yes"},
    )
    assert data == {
        "home": "/home/me",
        "missing": None,
        "port": 9090,
        "debug": True,
        "default_used": 3,
    }


def test_date_file_json_yaml_if_cache(tmp_path: Path) -> None:
    (tmp_path / "motd.txt").write_text("hi", encoding="utf-8")
    (tmp_path / "a.json").write_text('{"k": [1]}', encoding="utf-8")
    (tmp_path / "a.yaml").write_text("k: v\n", encoding="utf-8")
    data = ev(
        """
        today: @date("Y-m-d")
        stamp: @date()
        bare: @date
        motd: @file("motd.txt")
        json: @json("a.json")
        yaml: @yaml("a.yaml")
        pick: @if(1 > 2, "a", "b")
        cached: @cache("5m", 42)
        """,
        base_dir=tmp_path,
    )
    assert data == {
        "today": "2024-03-05",
        "stamp": "2024-03-05 14:07:09",
        "bare": "2024-03-05 14:07:09",
        "motd": "hi",
        "json": {"k": [1]},
        "yaml": {"k": "v"},
        "pick": "b",
        "cached": 42,
    }


def test_secret_is_sensitive_and_redacted() -> None:
    doc = load(
        """
        password: @secret(@env("PW"))
        url: "postgres://u:${password}@h/db"
        plain: "x"
        """,
        env={"PW": "hunter2"},
    )
    assert isinstance(doc["password"], Sensitive)
    assert isinstance(doc["url"], Sensitive)
    assert doc.to_plain() == {"password": "(sensitive)", "url": "(sensitive)", "plain": "x"}
    assert doc.to_plain(redact=False)["url"] == "postgres://u:hunter2@h/db"


# --- directives -------------------------------------------------------------------------------


IF_TEXT = """
$env: @env("APP_ENV", "dev")
#!if $env == "prod"
replicas: 3
#!elif @env("APP_ENV") == "staging"
replicas: 2
#!else
replicas: 1
#!endif
after: true
"""


@pytest.mark.parametrize(("app_env", "replicas"), [("prod", 3), ("staging", 2), ("dev", 1)])
def test_if_directive_branches(app_env: str, replicas: int) -> None:
    assert ev(IF_TEXT, env={"APP_ENV": app_env}) == {"replicas": replicas, "after": True}


def test_if_directive_without_else_and_inside_block() -> None:
    assert ev(
        """
        app {
        #!if false
            hidden: $undefined
        #!endif
            shown: 1
        }
        """
    ) == {"app": {"shown": 1}}


def test_other_directives_are_metadata() -> None:
    doc = load(
        """
        #!target dir ./deploy
        a: 1
        #!owner platform-team
        """,
        name="app.tsk",
    )
    assert doc.data == {"a": 1}
    assert [(d.name, d.args, d.file, d.line) for d in doc.directives] == [
        ("target", "dir ./deploy", "app.tsk", 2),
        ("owner", "platform-team", "app.tsk", 4),
    ]


def test_shebang_is_ignored() -> None:
    assert tuskops.loads("#!/usr/bin/env tuskops\na: 1\n", env={}).data == {"a": 1}


def test_long_reference_chain() -> None:
    lines = [f"k{i}: $k{i + 1}" for i in range(3000)]
    lines.append("k3000: 1")
    assert ev("\n".join(lines) + "\n")["k0"] == 1


# --- a value's reference to its own key ----------------------------------------------------------


def test_a_reference_to_its_own_key_means_the_enclosing_one() -> None:
    doc = tuskops.loads(
        '[database]\nhost: "db"\n'
        "[render]\n"
        'conf: { database: "postgres://${database.host}", host: $database.host }\n'
    )
    assert doc["render"]["conf"] == {"database": "postgres://db", "host": "db"}


def test_a_value_that_only_refers_to_itself_is_an_error() -> None:
    with pytest.raises(EvaluationError) as info:
        tuskops.loads('name: "x-${name}"\n')
    [diag] = info.value.diagnostics
    assert diag.message == (
        "'name' refers to the key being defined, and no enclosing block has a key 'name'"
    )
    assert diag.span is not None
    assert (diag.span.line, diag.span.col) == (1, 12)


def test_cycles_through_other_keys_are_still_cycles() -> None:
    with pytest.raises(EvaluationError, match="reference cycle: a -> b -> a"):
        tuskops.loads("a: $b\nb: $a\n")
