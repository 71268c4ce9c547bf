"""The built-in operators, called directly (no parser involved)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import tuskops
from tuskops.core.operator import CallContext
from tuskops.core.resource import Sensitive
from tuskops.errors import EvaluationError, OperatorArgumentError, OperatorError
from tuskops.lang import peanut
from tuskops.lang.builtins import (
    EnvConversionError,
    FileReadError,
    PeanutKeyError,
    builtin_operators,
    parse_ttl,
)
from tuskops.lang.dates import format_date, format_php_date
from tuskops.lang.document import MISSING, lookup_path

NOW = datetime(2024, 3, 5, 14, 7, 9, 123456, tzinfo=timezone(timedelta(hours=2), "CEST"))
OPS = {op.name: op for op in builtin_operators()}


class FakeLoader:
    """Evaluates nothing: returns canned data per file."""

    def __init__(self, data: dict[Path, dict[str, Any]]) -> None:
        self.data = {p.resolve(): d for p, d in data.items()}
        self.loaded: list[Path] = []

    def load_file(self, path: Path) -> dict[str, Any]:
        self.loaded.append(path)
        return self.data[path.resolve()]


def ctx(tmp_path: Path | None = None, **kwargs: Any) -> CallContext:
    base = tmp_path if tmp_path is not None else Path("/nonexistent-base")
    return CallContext(file=None, base_dir=base, now=NOW, **kwargs)


def call(op: str, *args: Any, context: CallContext | None = None, action: str | None = None) -> Any:
    operator = OPS[op]
    name = action or operator.default_action
    assert name is not None
    return operator.invoke(name, list(args), context or ctx())


# --- every action is documented ---------------------------------------------------------------


def test_every_builtin_has_a_default_action_with_a_docstring() -> None:
    assert set(OPS) == {"env", "date", "file", "json", "yaml", "if", "cache", "secret", "peanut"}
    for op in OPS.values():
        assert op.default_action is not None, op.name
        assert op.doc, op.name
        for act in op.actions.values():
            assert act.doc.strip(), f"@{op.name}.{act.name} has no docstring"


# --- @env -------------------------------------------------------------------------------------


def test_env_unset_without_default_is_null() -> None:
    assert call("env", "NOPE", context=ctx(env={})) is None


def test_env_unset_with_default_gives_default() -> None:
    assert call("env", "NOPE", 8080, context=ctx(env={})) == 8080


def test_env_set_without_default_is_text() -> None:
    assert call("env", "PORT", context=ctx(env={"PORT": "80"})) == "80"


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [
        ("42", 1, 42),
        (" 7 ", 1, 7),
        ("0x1F", 1, 31),
        ("1_000", 1, 1000),
        ("2.5", 1.0, 2.5),
        ("3", 1.0, 3.0),
        ("yes", False, True),
        ("OFF", True, False),
        ("1", False, True),
        ("0", True, False),
        ('["a", "b"]', [], ["a", "b"]),
        ('{"a": 1}', {}, {"a": 1}),
        ("text", "default", "text"),
        ("anything", None, "anything"),
    ],
)
def test_env_converts_to_the_default_type(raw: str, default: Any, expected: Any) -> None:
    value = call("env", "X", default, context=ctx(env={"X": raw}))
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("raw", "default", "kind"),
    [
        ("abc", 1, "integer"),
        ("1.5", 1, "integer"),
        ("abc", 1.0, "number"),
        ("nan", 1.0, "number"),
        ("maybe", True, "boolean"),
        ("{", [], "array"),
        ('{"a": 1}', [], "array"),
        ("[1]", {}, "object"),
    ],
)
def test_env_conversion_failure_is_an_error(raw: str, default: Any, kind: str) -> None:
    with pytest.raises(EnvConversionError) as err:
        call("env", "X", default, context=ctx(env={"X": raw}))
    assert f"X={raw!r} is not a valid {kind}" in err.value.message
    assert err.value.hint


def test_env_name_must_be_a_string() -> None:
    with pytest.raises(OperatorArgumentError, match="argument 'name' must be string"):
        call("env", 3)


# --- @date ------------------------------------------------------------------------------------


def test_date_default_format() -> None:
    assert call("date") == "2024-03-05 14:07:09"


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("Y-m-d", "2024-03-05"),
        ("D, d M Y", "Tue, 05 Mar 2024"),
        ("l jS F y", "Tuesday 5th March 24"),
        ("N w z t L", "2 2 64 31 1"),
        ("g:i A / h a / G", "2:07 PM / 02 pm / 14"),
        ("u v", "123456 123"),
        ("O P p T Z", "+0200 +02:00 +02:00 CEST 7200"),
        ("c", "2024-03-05T14:07:09+02:00"),
        ("r", "Tue, 05 Mar 2024 14:07:09 +0200"),
        ("U", "1709640429"),
        ("W o", "10 2024"),
        ("e", "CEST"),
        (r"\Y\e\a\r: Y", "Year: 2024"),
        ("H\\", "14\\"),
        ("%Y/%m/%d %H:%M", "2024/03/05 14:07"),
    ],
)
def test_date_formats(fmt: str, expected: str) -> None:
    assert call("date", fmt) == expected


def test_php_date_ordinal_suffixes() -> None:
    days = {1: "st", 2: "nd", 3: "rd", 4: "th", 11: "th", 12: "th", 13: "th", 21: "st", 23: "rd"}
    for day, suffix in days.items():
        assert format_php_date("S", NOW.replace(day=day)) == suffix


def test_php_date_midnight_and_utc() -> None:
    midnight = datetime(2024, 1, 1, 0, 0, tzinfo=UTC)
    assert format_php_date("g A h", midnight) == "12 AM 12"
    assert format_php_date("p", midnight) == "Z"
    assert format_date("%H", midnight) == "00"


def test_date_uses_the_one_evaluation_instant() -> None:
    context = ctx()
    assert call("date", "s u", context=context) == call("date", "s u", context=context)


def test_date_now_is_not_an_action() -> None:
    assert "now" not in OPS["date"].actions


# --- files ------------------------------------------------------------------------------------


def test_file_reads_text_relative_to_base_dir(tmp_path: Path) -> None:
    (tmp_path / "motd.txt").write_text("hello\n", encoding="utf-8")
    assert call("file", "motd.txt", context=ctx(tmp_path)) == "hello\n"


def test_file_missing_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileReadError) as err:
        call("file", "nope.txt", context=ctx(tmp_path))
    assert err.value.message == "file 'nope.txt' not found"
    assert str(tmp_path / "nope.txt") in (err.value.hint or "")


def test_file_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileReadError, match="is a directory"):
        call("file", ".", context=ctx(tmp_path))


def test_file_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FileReadError, match="not UTF-8"):
        call("file", "bin", context=ctx(tmp_path))


def test_json_reads_a_file(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"a": [1, 2.5, null, true]}', encoding="utf-8")
    assert call("json", "a.json", context=ctx(tmp_path)) == {"a": [1, 2.5, None, True]}


def test_json_invalid_reports_position(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"a": }', encoding="utf-8")
    with pytest.raises(FileReadError, match=r"'bad.json' is not valid JSON: .* line 1 column 7"):
        call("json", "bad.json", context=ctx(tmp_path))


def test_yaml_reads_a_file_and_makes_it_plain(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("a: 1\nwhen: 2024-01-02\n3: x\nl: [x, y]\n", encoding="utf-8")
    assert call("yaml", "a.yaml", context=ctx(tmp_path)) == {
        "a": 1,
        "when": "2024-01-02",
        "3": "x",
        "l": ["x", "y"],
    }


def test_yaml_is_safe_and_reports_errors(tmp_path: Path) -> None:
    (tmp_path / "evil.yaml").write_text("!!python/object/apply:os.system ['true']\n")
    with pytest.raises(FileReadError, match="not valid YAML"):
        call("yaml", "evil.yaml", context=ctx(tmp_path))
    (tmp_path / "bad.yaml").write_text("a: [1,\n", encoding="utf-8")
    with pytest.raises(FileReadError, match=r"not valid YAML: .* at line \d+ column \d+"):
        call("yaml", "bad.yaml", context=ctx(tmp_path))


# --- @if, @cache, @secret ---------------------------------------------------------------------


def test_if_chooses() -> None:
    assert call("if", True, "a", "b") == "a"
    assert call("if", False, "a", "b") == "b"
    assert call("if", False, "a") is None


def test_if_needs_a_boolean() -> None:
    with pytest.raises(OperatorArgumentError, match="argument 'cond' must be boolean, got string"):
        call("if", "yes", 1, 2)


@pytest.mark.parametrize(
    ("ttl", "seconds"),
    [(300, 300.0), (1.5, 1.5), ("30s", 30.0), ("5m", 300.0), ("1h", 3600.0), ("500ms", 0.5)],
)
def test_cache_ttls(ttl: Any, seconds: float) -> None:
    assert parse_ttl(ttl) == seconds
    assert call("cache", ttl, {"v": 1}) == {"v": 1}


@pytest.mark.parametrize("ttl", ["soon", "5 minutes", "-1", "", "1y"])
def test_cache_rejects_bad_ttl(ttl: str) -> None:
    with pytest.raises(OperatorArgumentError, match="invalid ttl"):
        call("cache", ttl, 1)


def test_cache_rejects_negative_seconds() -> None:
    with pytest.raises(OperatorArgumentError, match="must not be negative"):
        call("cache", -5, 1)


def test_secret_returns_sensitive() -> None:
    value = call("secret", "hunter2")
    assert isinstance(value, Sensitive)
    assert value == "hunter2"
    assert "hunter2" not in repr(value)


# --- @peanut ----------------------------------------------------------------------------------


@pytest.fixture
def no_system_peanut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    system = tmp_path / "etc-tusklang"
    monkeypatch.setattr(peanut, "SYSTEM_DIR", system)
    return system


def test_peanut_files_order_and_precedence(tmp_path: Path, no_system_peanut: Path) -> None:
    project = tmp_path / "proj"
    sub = project / "services" / "web"
    sub.mkdir(parents=True)
    home = tmp_path / "home"
    (home / ".config" / "tusklang").mkdir(parents=True)
    no_system_peanut.mkdir()
    configured = tmp_path / "custom.tsk"
    for path in (
        sub / "peanu.tsk",
        project / "peanu.tsk",
        home / ".config" / "tusklang" / "peanu.tsk",
        no_system_peanut / "peanu.tsk",
        configured,
    ):
        path.write_text("", encoding="utf-8")
    env = {"HOME": str(home), "TUSKLANG_CONFIG": str(configured)}
    found = peanut.peanut_files(sub, env)
    assert found == [
        (sub / "peanu.tsk").resolve(),
        (project / "peanu.tsk").resolve(),
        (home / ".config" / "tusklang" / "peanu.tsk").resolve(),
        (no_system_peanut / "peanu.tsk").resolve(),
        configured.resolve(),
    ]

    data: dict[Path, dict[str, Any]] = {
        found[0]: {"db": {"host": "near"}},
        found[1]: {"db": {"host": "project", "port": 5432}, "app": {"name": "shop"}},
        found[2]: {"app": {"name": "home", "tier": "gold"}},
        found[3]: {"system": True},
        found[4]: {"system": False, "custom": 1},
    }
    loader = FakeLoader(data)
    context = ctx(sub, env=env, loader=loader)
    assert call("peanut", "db.host", context=context) == "near"
    assert call("peanut", "db.port", context=context) == 5432
    assert call("peanut", "app.name", context=context) == "shop"
    assert call("peanut", "app.tier", context=context) == "gold"
    assert call("peanut", "system", context=context) is True
    assert call("peanut", "custom", context=context) == 1
    # The merged cascade is cached for the evaluation: each file is evaluated once.
    assert len(loader.loaded) == 5


def test_peanut_tusklang_config_may_be_a_directory(tmp_path: Path, no_system_peanut: Path) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "peanu.tsk").write_text("", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    found = peanut.peanut_files(work, {"TUSKLANG_CONFIG": str(conf)})
    assert found == [(conf / "peanu.tsk").resolve()]


def test_peanut_missing_key(tmp_path: Path, no_system_peanut: Path) -> None:
    context = ctx(tmp_path, env={}, loader=FakeLoader({}))
    assert call("peanut", "a.b", "fallback", context=context) == "fallback"
    assert call("peanut", "a.b", None, context=context) is None
    with pytest.raises(PeanutKeyError) as err:
        call("peanut", "a.b", context=context)
    assert err.value.message == "no peanu.tsk defines 'a.b'"


def test_peanut_without_loader_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OperatorError, match="cannot read files"):
        call("peanut", "a", context=ctx(tmp_path))


def test_deep_merge_and_lookup() -> None:
    merged = peanut.deep_merge({"a": {"b": 1, "c": [1]}, "x": 1}, {"a": {"b": 2}, "x": {"y": 1}})
    assert merged == {"a": {"b": 2, "c": [1]}, "x": {"y": 1}}
    assert lookup_path(merged, "a.c.0") == 1
    assert lookup_path(merged, "a.c.1") is MISSING
    assert lookup_path(merged, "a.b.c") is MISSING


# --- files that are not regular files -------------------------------------------------------------


@pytest.mark.parametrize("make", ["fifo", "device"])
def test_file_refuses_devices_and_fifos(tmp_path: Path, make: str) -> None:
    """A FIFO would block the evaluation and /dev/zero would never end."""
    if make == "fifo":
        os.mkfifo(tmp_path / "pipe")
        target = "pipe"
    else:
        target = "/dev/zero"
    with pytest.raises(EvaluationError) as info:
        tuskops.loads(f'a: @file("{target}")\n', base_dir=tmp_path)
    assert info.value.diagnostics[0].message == f"'{target}' is not a regular file"


def test_file_refuses_huge_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tuskops.lang.builtins.MAX_READ_BYTES", 10)
    (tmp_path / "big.txt").write_text("x" * 11)
    with pytest.raises(EvaluationError, match="too large to read"):
        tuskops.loads('a: @file("big.txt")\n', base_dir=tmp_path)
