"""Serialising bodies by format, and reading them back."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from tuskops.core.render import BodyParseError, parse_body, render_body, supported_formats
from tuskops.core.resource import Sensitive
from tuskops.errors import TargetError


def test_yaml_is_block_style_in_given_key_order() -> None:
    text = render_body({"zeta": 1, "alpha": {"list": [1, 2]}, "script": "a\nb\n"}, "yaml")
    assert text == "zeta: 1\nalpha:\n  list:\n  - 1\n  - 2\nscript: |\n  a\n  b\n"
    assert yaml.safe_load(text) == {"zeta": 1, "alpha": {"list": [1, 2]}, "script": "a\nb\n"}


def test_yaml_writes_sensitive_values_as_plain_strings() -> None:
    assert render_body({"password": Sensitive("pw")}, "yaml") == "password: pw\n"


def test_yaml_quotes_strings_that_would_read_as_other_types() -> None:
    body = {"a": "true", "b": "1.0", "c": "null", "d": "2024-01-01"}
    assert parse_body(render_body(body, "yaml"), "yaml") == body


def test_json_has_indent_and_trailing_newline() -> None:
    assert render_body({"a": [1], "b": "é"}, "json") == '{\n  "a": [\n    1\n  ],\n  "b": "é"\n}\n'


def test_text_needs_a_string() -> None:
    assert render_body("hello\n", "text") == "hello\n"
    with pytest.raises(TargetError, match="needs a string body"):
        render_body({"a": 1}, "text")


def test_env_quotes_only_where_needed() -> None:
    body = {"PORT": 8080, "DEBUG": True, "URL": "https://x.io/a?b=c", "MSG": 'say "hi" $HOME\nbye'}
    text = render_body(body, "env")
    assert text == (
        'PORT=8080\nDEBUG=true\nURL="https://x.io/a?b=c"\nMSG="say \\"hi\\" \\$HOME\\nbye"\n'
    )
    assert parse_body(text, "env") == {k: str(v).replace("True", "true") for k, v in body.items()}


def test_env_refuses_bad_names_and_nested_values() -> None:
    with pytest.raises(TargetError, match="not a valid variable name"):
        render_body({"MY-VAR": "x"}, "env")
    with pytest.raises(TargetError, match="must be a scalar"):
        render_body({"A": [1]}, "env")


def test_env_parser_accepts_comments_export_and_single_quotes() -> None:
    text = '# comment\nexport A=1\nB=\'x "y"\'\n\nC="q" # trailing\n'
    assert parse_body(text, "env") == {"A": "1", "B": 'x "y"', "C": "q"}


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("a: [", "yaml"),
        ("{", "json"),
        ("NOT A LINE\n", "env"),
        ('A="open\n', "env"),
        ("a = ", "toml"),
    ],
)
def test_unparseable_text_raises_body_parse_error(text: str, fmt: str) -> None:
    with pytest.raises(BodyParseError):
        parse_body(text, fmt)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(TargetError, match="unknown format 'xml'"):
        render_body({}, "xml")


def test_toml_without_writer_is_refused_clearly() -> None:
    if "toml" in supported_formats():  # pragma: no cover - tomli-w is optional
        assert parse_body(render_body({"a": 1}, "toml"), "toml") == {"a": 1}
    else:
        with pytest.raises(TargetError, match="no TOML writer"):
            render_body({"a": 1}, "toml")


def test_non_json_values_are_refused() -> None:
    with pytest.raises(TargetError, match="cannot serialise a set"):
        render_body({"a": {1}}, "json")


env_values = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)


@given(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,6}", fullmatch=True), env_values))
def test_env_round_trips_any_string(body: dict[str, str]) -> None:
    assert parse_body(render_body(body, "env"), "env") == body


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
    max_leaves=10,
)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@given(body=json_like)
def test_yaml_and_json_round_trip(fmt: str, body: Any) -> None:
    assert json.dumps(parse_body(render_body(body, fmt), fmt)) == json.dumps(body)
