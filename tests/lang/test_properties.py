"""Property-based tests: no input makes the reader fail with anything but a TuskError, and
documents written in TuskLang read back as the data they were written from."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tuskops
from tuskops.errors import TuskError

# Fragments of TuskLang, so that random sequences reach deep into the parser and evaluator
# instead of failing on the first character. File-reading operators are left out: their
# arguments would be random paths on this machine.
FRAGMENTS = [
    "a", "b", "key", "app.name", "$g", "$g.x", "[s]", "[s.t]", "{", "}", "[", "]", "(", ")",
    ">", "<", ":", "=", ",", ";", "\n", "\n    ", " ", "\t", "\r\n", '"', "'", '"""', "'''",
    '"x"', "'y'", '"${a}"', '"${', "${", "\\", "\\n", "\\u00e9", "\\q", "#", "# c\n", "//", "/*",
    "*/", "#!if true\n", "#!elif false\n", "#!else\n", "#!endif\n", "#!include \"x.tsk\"\n",
    "#!meta data\n", "1", "-7", "3.14", "1.5e-3", "0xFF", "0o755", "0b1010", "1_000", "8000-9000",
    "9-1", "true", "FALSE", "null", "yes", "+", "-", "*", "/", "%", "==", "!=", "<=", ">=", "&&",
    "||", "!", "?", "@env(\"X\")", "@env(\"X\", 1)", "@date(\"Y\")", "@if(", "@cache(\"1m\", ",
    "@nope(", "@date.now()", "@k8s.app({})", "@x.tsk.get(\"a\")", "@peanut.get(\"a\")", "name(",
    "./p/q", "0.0.0.0", "http://h:1/a", "é", "\x00", "\ufeff",
]  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
def test_token_soup_raises_only_tusk_errors(text: str) -> None:
    _load_or_tusk_error(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_tusk_errors(text: str) -> None:
    _load_or_tusk_error(text)


def _load_or_tusk_error(text: str) -> None:
    try:
        doc = tuskops.loads(text, offline=True, env={}, base_dir=Path("/nonexistent-tuskops"))
    except TuskError as err:
        rendered = str(err)
    else:
        json.dumps(doc.to_plain())  # every success is plain data
        return
    assert rendered  # and every error renders


# --- round trip -------------------------------------------------------------------------------

identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda k: k not in {"true", "false", "null"}
)
scalars = st.one_of(
    st.text(max_size=20),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda f: not f.is_integer()),
    st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(identifiers, children, max_size=4)
    ),
    max_leaves=12,
)
documents = st.dictionaries(identifiers, values, max_size=6)


def _quote(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF:
            out.append(f"\\u{ord(ch):04x}")
        elif ch == "$":
            out.append("$")  # `$` followed by `{` would interpolate: break the pair
        else:
            out.append(ch)
    return '"' + "".join(out).replace("${", "$\\u007b") + '"'


def _value(value: Any, indent: str) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v, indent) for v in value) + "]"
    inner = indent + "    "
    body = "".join(f"{inner}{k}: {_value(v, inner)}\n" for k, v in value.items())
    return "{\n" + body + indent + "}"


def _write(doc: dict[str, Any], style: str) -> str:
    lines = []
    for key, value in doc.items():
        if style == "blocks" and isinstance(value, dict):
            inner = "".join(f"    {k}: {_value(v, '    ')}\n" for k, v in value.items())
            lines.append(f"{key} {{\n{inner}}}")
        else:
            sep = " = " if style == "equals" else ": "
            lines.append(f"{key}{sep}{_value(value, '')}")
    return "\n".join(lines) + "\n"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


@settings(max_examples=200, deadline=None)
@given(documents, st.sampled_from(["colons", "equals", "blocks"]))
def test_written_documents_read_back(doc: dict[str, Any], style: str) -> None:
    text = _write(doc, style)
    assert _same(tuskops.loads(text, offline=True, env={}).to_plain(), doc), text
