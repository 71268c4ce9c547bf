"""The registry: names, aliases, dotted resolution, platform placeholders and plugins."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tuskops.core.operator import CallContext, Operator, action
from tuskops.core.platform import platform_operators
from tuskops.core.registry import Registry, default_registry
from tuskops.errors import (
    NotImplementedOperatorError,
    OperatorError,
    UnknownActionError,
    UnknownOperatorError,
)

PLATFORM_NAMES = [
    "kubernetes", "istio", "wasm", "multicloud", "packages",
    "npm", "pip", "cargo", "maven", "nuget", "gem", "composer",
]  # fmt: skip


class Echo(Operator):
    """Echo."""

    name = "echo"

    @action(default=True)
    def say(self, ctx: CallContext, text: str) -> str:
        """Say it."""
        return text


class AwsLambda(Operator):
    """A dotted operator name."""

    name = "aws.lambda"

    @action
    def deploy(self, ctx: CallContext) -> str:
        """Deploy."""
        return "deployed"


def test_resolve_names_aliases_and_actions() -> None:
    registry = Registry([Echo(), AwsLambda(), *platform_operators()])
    assert registry.resolve(("echo",)).action is None
    assert registry.resolve(("echo", "say")).action == "say"
    resolved = registry.resolve(("aws", "lambda", "deploy"))
    assert (resolved.operator.name, resolved.action) == ("aws.lambda", "deploy")
    assert registry.resolve(("k8s", "deployment")).operator.name == "kubernetes"


def test_unknown_operator_lists_known_ones_and_suggests() -> None:
    registry = Registry([Echo()])
    with pytest.raises(UnknownOperatorError) as info:
        registry.resolve(("ecko",))
    assert info.value.message == "unknown operator '@ecko'"
    assert info.value.hint == "did you mean @echo? known operators: @echo"


def test_unknown_and_too_deep_actions() -> None:
    registry = Registry([Echo()])
    with pytest.raises(UnknownActionError, match="has no action 'shout'"):
        registry.resolve(("echo", "shout"))
    with pytest.raises(UnknownActionError, match=r"has no action 'say\.more'"):
        registry.resolve(("echo", "say", "more"))


def test_duplicate_names_are_refused() -> None:
    registry = Registry([Echo()])
    with pytest.raises(OperatorError, match="already registered"):
        registry.register(Echo())


PLANNED_NAMES = ["istio", "multicloud"]


@pytest.mark.parametrize("name", PLANNED_NAMES)
def test_platform_operators_say_not_implemented(name: str) -> None:
    registry = default_registry()
    op = registry.get(name)
    with pytest.raises(NotImplementedOperatorError) as info:
        op.invoke("anything", [], CallContext(file=None, base_dir=Path()))
    assert (
        info.value.message == f"@{name}.anything is not implemented yet in this version of tuskops"
    )


def test_default_registry_holds_builtins_and_platform_names() -> None:
    names = default_registry().names()
    for name in [*PLATFORM_NAMES, "k8s", "env", "date", "file", "json", "yaml", "if", "cache"]:
        assert name in names


@pytest.fixture
def plugin_on_path(tmp_path: Path) -> Iterator[Path]:
    """A real installed distribution (dist-info with entry_points.txt) on sys.path."""
    (tmp_path / "tusk_plugin_demo.py").write_text(
        textwrap.dedent(
            '''
            from tuskops.core.operator import CallContext, Operator, action

            class Weather(Operator):
                """Weather lookups."""
                name = "weather"

                @action(default=True)
                def today(self, ctx: CallContext, city: str) -> str:
                    """Today's weather."""
                    return f"sunny in {city}"
            '''
        )
    )
    dist = tmp_path / "tusk_plugin_demo-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tusk-plugin-demo\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[tuskops.operators]\n"
        "weather = tusk_plugin_demo:Weather\n"
        "broken = tusk_plugin_demo:Missing\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("tusk_plugin_demo", None)


def test_plugins_are_discovered_through_entry_points(plugin_on_path: Path) -> None:
    registry = Registry()
    registry.load_plugins()
    op = registry.get("weather")
    assert op.invoke("today", ["Oslo"], CallContext(file=None, base_dir=Path())) == "sunny in Oslo"
    assert op.origin == "tusk-plugin-demo"
    # A broken plugin is reported, not silently dropped.
    assert [entry for entry, _ in registry.load_errors] == ["broken = tusk_plugin_demo:Missing"]
