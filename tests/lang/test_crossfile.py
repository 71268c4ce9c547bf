"""Reading other files: #!include, @stem.tsk.get, @peanut.get."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

import tuskops
from tuskops.errors import EvaluationError
from tuskops.lang import peanut
from tuskops.lang.document import Document


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def load(path: Path, **kwargs: Any) -> Document:
    kwargs.setdefault("env", {})
    return tuskops.load(path, **kwargs)


def load_errors(path: Path, **kwargs: Any) -> list[tuple[str, str, int, int]]:
    kwargs.setdefault("env", {})
    with pytest.raises(EvaluationError) as err:
        tuskops.load(path, **kwargs)
    out = []
    for d in err.value.diagnostics:
        assert d.span is not None, d.message
        out.append((Path(d.span.source.name).name, d.message, d.span.line, d.span.col))
    return out


@pytest.fixture(autouse=True)
def isolated_peanut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(peanut, "SYSTEM_DIR", tmp_path / "no-etc")


# --- #!include --------------------------------------------------------------------------------


def test_include_merges_at_that_point(tmp_path: Path) -> None:
    write(
        tmp_path / "parts" / "db.tsk",
        """
        host: "db"
        port: $port
        $shared: "from-include"
        [extra]
        x: 1
        """,
    )
    main = write(
        tmp_path / "main.tsk",
        """
        first: 1
        $port: 5432
        db {
        #!include "parts/db.tsk"
        }
        uses: $shared
        last: 2
        """,
    )
    assert load(main).data == {
        "first": 1,
        "db": {"host": "db", "port": 5432},
        "extra": {"x": 1},
        "uses": "from-include",
        "last": 2,
    }


def test_include_paths_are_relative_to_the_including_file(tmp_path: Path) -> None:
    write(tmp_path / "a" / "b" / "leaf.tsk", "leaf: true\n")
    write(tmp_path / "a" / "mid.tsk", '#!include "b/leaf.tsk"\nmid: true\n')
    main = write(tmp_path / "main.tsk", '#!include "a/mid.tsk"\n')
    assert load(main).data == {"leaf": True, "mid": True}


def test_calls_in_included_files_resolve_paths_from_that_file(tmp_path: Path) -> None:
    write(tmp_path / "sub" / "note.txt", "sub note")
    write(tmp_path / "sub" / "inc.tsk", 'note: @file("note.txt")\n')
    main = write(tmp_path / "main.tsk", '#!include "sub/inc.tsk"\n')
    assert load(main).data == {"note": "sub note"}


def test_missing_include_is_an_error_at_the_directive(tmp_path: Path) -> None:
    main = write(tmp_path / "main.tsk", 'a: 1\n#!include "nope.tsk"\nb: $undefined\n')
    assert load_errors(main) == [
        ("main.tsk", "included file 'nope.tsk' not found", 2, 1),
        ("main.tsk", "undefined name '$undefined'", 3, 4),
    ]


def test_include_cycle_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "b.tsk", '#!include "main.tsk"\nb: 1\n')
    main = write(tmp_path / "main.tsk", '#!include "b.tsk"\na: 1\n')
    assert load_errors(main) == [
        ("b.tsk", "include cycle: main.tsk -> b.tsk -> main.tsk", 1, 1),
    ]


def test_same_file_included_twice_is_not_a_cycle(tmp_path: Path) -> None:
    write(tmp_path / "common.tsk", "c: 1\n")
    main = write(
        tmp_path / "main.tsk", 'x {\n#!include "common.tsk"\n}\ny {\n#!include "common.tsk"\n}\n'
    )
    assert load(main).data == {"x": {"c": 1}, "y": {"c": 1}}


def test_errors_in_included_files_point_into_them(tmp_path: Path) -> None:
    write(tmp_path / "inc.tsk", "ok: 1\nbad: 1 + true\n")
    main = write(tmp_path / "main.tsk", '#!include "inc.tsk"\n')
    assert load_errors(main) == [("inc.tsk", "cannot apply '+' to integer and boolean", 2, 8)]


def test_include_inside_if(tmp_path: Path) -> None:
    write(tmp_path / "prod.tsk", "replicas: 3\n")
    main = write(
        tmp_path / "main.tsk",
        '#!if @env("APP_ENV") == "prod"\n#!include "prod.tsk"\n#!else\nreplicas: 1\n#!endif\n',
    )
    assert load(main).data == {"replicas": 1}
    assert load(main, env={"APP_ENV": "prod"}).data == {"replicas": 3}


# --- @stem.tsk.get ----------------------------------------------------------------------------


def test_cross_file_get(tmp_path: Path) -> None:
    write(
        tmp_path / "database.tsk",
        """
        $base: "db"
        host: "${base}.internal"
        pool { size: 5 }
        """,
    )
    main = write(
        tmp_path / "main.tsk",
        """
        host: @database.tsk.get("host")
        size: @database.tsk.get("pool.size")
        fallback: @database.tsk.get("pool.missing", 10)
        null_default: @database.tsk.get("nope", null)
        """,
    )
    assert load(main).data == {
        "host": "db.internal",
        "size": 5,
        "fallback": 10,
        "null_default": None,
    }


def test_cross_file_search_order(tmp_path: Path) -> None:
    app = tmp_path / "project" / "app"
    write(tmp_path / "project" / "config" / "shared.tsk", 'from: "../config"\n')
    write(tmp_path / "project" / "up.tsk", 'from: ".."\n')
    write(app / "config" / "local.tsk", 'from: "config/"\n')
    write(app / "here.tsk", 'from: "."\n')
    write(app / "config" / "here.tsk", 'from: "config/ (shadowed)"\n')
    main = write(
        app / "main.tsk",
        """
        here: @here.tsk.get("from")
        local: @local.tsk.get("from")
        up: @up.tsk.get("from")
        shared: @shared.tsk.get("from")
        """,
    )
    assert load(main).data == {
        "here": ".",
        "local": "config/",
        "up": "..",
        "shared": "../config",
    }


def test_dotted_stem(tmp_path: Path) -> None:
    write(tmp_path / "config" / "database.tsk", 'where: "config/database.tsk"\n')
    main = write(tmp_path / "main.tsk", 'a: @config.database.tsk.get("where")\n')
    assert load(main).data == {"a": "config/database.tsk"}
    write(tmp_path / "config.database.tsk", 'where: "config.database.tsk"\n')
    assert load(main).data == {"a": "config.database.tsk"}


def test_cross_file_missing_file(tmp_path: Path) -> None:
    main = write(tmp_path / "main.tsk", 'a: @nowhere.tsk.get("k")\n')
    ((name, message, line, col),) = load_errors(main)
    assert (name, message, line, col) == (
        "main.tsk",
        "@nowhere.tsk.get: file 'nowhere.tsk' not found",
        1,
        4,
    )


def test_cross_file_missing_key(tmp_path: Path) -> None:
    write(tmp_path / "other.tsk", "a { b: 1 }\n")
    main = write(tmp_path / "main.tsk", 'x: 1\nv: @other.tsk.get("a.c")\n')
    assert load_errors(main) == [
        (
            "main.tsk",
            "@other.tsk.get: 'a.c' is not defined in other.tsk ('a' has no key 'c')",
            2,
            4,
        )
    ]


def test_cross_file_cycle(tmp_path: Path) -> None:
    write(tmp_path / "b.tsk", 'y: @main.tsk.get("x")\n')
    main = write(tmp_path / "main.tsk", 'x: 1\nz: @b.tsk.get("y")\n')
    found = load_errors(main)
    assert ("b.tsk", "cross-file cycle: main.tsk -> b.tsk -> main.tsk", 1, 4) in found
    assert found[-1] == ("main.tsk", "@b.tsk.get: b.tsk has errors", 2, 4)


def test_cross_file_errors_are_reported_once(tmp_path: Path) -> None:
    write(tmp_path / "bad.tsk", "a: $nope\nb: 2\n")
    main = write(tmp_path / "main.tsk", 'x: @bad.tsk.get("a")\ny: @bad.tsk.get("b")\n')
    assert load_errors(main) == [
        ("bad.tsk", "undefined name '$nope'", 1, 4),
        ("main.tsk", "@bad.tsk.get: bad.tsk has errors", 1, 4),
        ("main.tsk", "@bad.tsk.get: bad.tsk has errors", 2, 4),
    ]


def test_cross_file_does_not_share_globals(tmp_path: Path) -> None:
    write(tmp_path / "other.tsk", "v: $g\n")
    main = write(tmp_path / "main.tsk", '$g: 1\nx: @other.tsk.get("v")\n')
    found = load_errors(main)
    assert ("other.tsk", "undefined name '$g'", 1, 4) in found


def test_cross_file_is_evaluated_once(tmp_path: Path) -> None:
    write(tmp_path / "other.tsk", 'a: 1\nb: 2\nwhen: @date("u")\n')
    main = write(
        tmp_path / "main.tsk",
        'a: @other.tsk.get("a")\nb: @other.tsk.get("b")\nw1: @other.tsk.get("when")\n'
        'w2: @other.tsk.get("when")\n',
    )
    data = load(main).data
    assert data["w1"] == data["w2"]
    assert (data["a"], data["b"]) == (1, 2)


def test_cross_file_warnings_are_kept(tmp_path: Path) -> None:
    write(tmp_path / "other.tsk", "a: 1\na: 2\n")
    main = write(tmp_path / "main.tsk", 'v: @other.tsk.get("a")\n')
    doc = load(main)
    assert doc.data == {"v": 2}
    assert [w.message for w in doc.warnings] == ["duplicate key 'a': the later value wins"]


# --- @peanut.get ------------------------------------------------------------------------------


def test_peanut_cascade_from_files(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write(home / ".config" / "tusklang" / "peanu.tsk", 'db { host: "home", user: "me" }\n')
    project = tmp_path / "project"
    write(project / "peanu.tsk", 'db { host: "project" }\n$p: 1\nversion: $p + 1\n')
    main = write(
        project / "svc" / "main.tsk",
        """
        host: @peanut.get("db.host")
        user: @peanut.get("db.user")
        version: @peanut.get("version")
        missing: @peanut.get("nope", "default")
        """,
    )
    doc = load(main, env={"HOME": str(home)})
    assert doc.data == {"host": "project", "user": "me", "version": 2, "missing": "default"}


def test_peanut_is_never_merged_implicitly(tmp_path: Path) -> None:
    write(tmp_path / "peanu.tsk", "secret_default: 1\n")
    main = write(tmp_path / "main.tsk", "a: 1\n")
    assert load(main).data == {"a": 1}


def test_peanut_missing_key_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "peanu.tsk", "a: 1\n")
    main = write(tmp_path / "main.tsk", 'x: @peanut.get("b")\n')
    ((name, message, line, col),) = load_errors(main)
    assert (name, message, line, col) == ("main.tsk", "no peanu.tsk defines 'b'", 1, 4)


def test_peanut_with_errors_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "peanu.tsk", "a: 1 + true\n")
    main = write(tmp_path / "main.tsk", 'x: @peanut.get("a")\n')
    found = load_errors(main)
    assert found == [
        ("peanu.tsk", "cannot apply '+' to integer and boolean", 1, 6),
        ("main.tsk", "@peanut.get: peanu.tsk has errors", 1, 4),
    ]
