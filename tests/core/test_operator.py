"""The operator protocol: declared actions, parameters, binding and type checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tuskops.core.operator import CallContext, Operator, action
from tuskops.errors import OperatorArgumentError, UnknownActionError


class Greeter(Operator):
    """Says hello."""

    name = "greet"
    aliases = ("hi",)

    @action(default=True)
    def hello(self, ctx: CallContext, who: str, times: int = 1) -> str:
        """Greet someone.

        More text."""
        return " ".join([f"hello {who}"] * times)

    @action(name="if")
    def if_(self, ctx: CallContext, cond: bool, *rest: Any) -> list[Any]:
        """A keyword-named action."""
        return [cond, *rest]

    @action
    def ratio(self, ctx: CallContext, value: float, label: str | None = None) -> float:
        """Floats accept integers."""
        return value


CTX = CallContext(file=None, base_dir=Path())


def test_actions_come_from_the_declaration() -> None:
    op = Greeter()
    assert sorted(op.actions) == ["hello", "if", "ratio"]
    assert op.default_action == "hello"
    hello = op.actions["hello"]
    assert hello.summary == "Greet someone."
    assert [p.name for p in hello.params] == ["who", "times"]
    assert hello.signature() == "hello(who: string, times: integer = 1)"
    assert op.summary == "Says hello."


def test_invoke_fills_defaults_and_checks_types() -> None:
    op = Greeter()
    assert op.invoke("hello", ["ann"], CTX) == "hello ann"
    assert op.invoke("hello", ["ann", 2], CTX) == "hello ann hello ann"
    assert op.invoke("ratio", [3], CTX) == 3
    assert op.invoke("if", [True, 1, 2, 3], CTX) == [True, 1, 2, 3]


@pytest.mark.parametrize(
    ("action_name", "args", "message"),
    [
        ("hello", [], "@greet.hello is missing the argument 'who'"),
        ("hello", ["a", 1, 2], "@greet.hello takes at most 2 arguments, got 3"),
        ("hello", [1], "@greet.hello: argument 'who' must be string, got integer"),
        ("hello", ["a", True], "@greet.hello: argument 'times' must be integer, got boolean"),
        ("ratio", [1.5, 3], "@greet.ratio: argument 'label' must be string or null, got integer"),
    ],
)
def test_bad_arguments_are_explained(action_name: str, args: list[Any], message: str) -> None:
    with pytest.raises(OperatorArgumentError) as info:
        Greeter().invoke(action_name, args, CTX)
    assert info.value.message == message


def test_missing_argument_hint_shows_usage() -> None:
    with pytest.raises(OperatorArgumentError) as info:
        Greeter().invoke("hello", [], CTX)
    assert info.value.hint == "usage: @greet.hello(who: string, times: integer = 1)"


def test_unknown_action_lists_the_known_ones() -> None:
    with pytest.raises(UnknownActionError) as info:
        Greeter().invoke("now", [], CTX)
    assert info.value.message == "@greet has no action 'now'"
    assert info.value.hint == "its actions are: hello, if, ratio"
