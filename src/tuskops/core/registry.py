"""The operator registry: built-ins, the platform operators, and plugins.

Plugins register through the entry-point group ``tuskops.operators``; each entry point names an
:class:`~tuskops.core.operator.Operator` subclass. A plugin that fails to load is reported, not
silently skipped.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points

from tuskops.core.operator import Operator
from tuskops.errors import OperatorError, UnknownActionError, UnknownOperatorError

ENTRY_POINT_GROUP = "tuskops.operators"


@dataclass(frozen=True)
class Resolved:
    """A call name resolved against the registry."""

    operator: Operator
    #: The action named in the call (``@op.act``), or None when the call did not name one.
    action: str | None


class Registry:
    """Operators by name and alias."""

    def __init__(self, operators: Iterable[Operator] = ()) -> None:
        self._by_name: dict[str, Operator] = {}
        self._aliases: dict[str, str] = {}
        #: Plugins that failed to load: (entry point, error message).
        self.load_errors: list[tuple[str, str]] = []
        for op in operators:
            self.register(op)

    def register(self, op: Operator, *, replace: bool = False) -> None:
        names = (op.name, *op.aliases)
        for name in names:
            if not replace and (name in self._by_name or name in self._aliases):
                raise OperatorError(f"operator name '@{name}' is already registered")
        self._by_name[op.name] = op
        for alias in op.aliases:
            self._aliases[alias] = op.name

    def get(self, name: str) -> Operator:
        canonical = self._aliases.get(name, name)
        try:
            return self._by_name[canonical]
        except KeyError:
            raise UnknownOperatorError(
                f"unknown operator '@{name}'", hint=self._suggest(name)
            ) from None

    def __contains__(self, name: str) -> bool:
        return name in self._by_name or name in self._aliases

    def __iter__(self) -> Iterator[Operator]:
        return iter(sorted(self._by_name.values(), key=lambda op: op.name))

    def names(self) -> list[str]:
        return sorted([*self._by_name, *self._aliases])

    def resolve(self, parts: tuple[str, ...], has_parens: bool = True) -> Resolved:
        """Resolve ``@a.b.c`` to an operator and an optional action.

        The longest dotted prefix that names an operator wins (``@aws.lambda.deploy``: operator
        ``aws.lambda`` if registered, else ``aws``); at most one part may follow it: the action.
        """
        for cut in range(len(parts), 0, -1):
            name = ".".join(parts[:cut])
            if name in self:
                op = self.get(name)
                rest = parts[cut:]
                if not rest:
                    return Resolved(op, None)
                if len(rest) == 1:
                    if not op.accepts_action(rest[0]):
                        op.get_action(rest[0])  # raises UnknownActionError listing the actions
                    return Resolved(op, rest[0])
                raise UnknownActionError(
                    f"@{op.name} has no action '{'.'.join(rest)}'",
                    hint=f"its actions are: {', '.join(sorted(op.actions)) or '(none)'}",
                )
        raise UnknownOperatorError(
            f"unknown operator '@{'.'.join(parts)}'", hint=self._suggest(parts[0])
        )

    def _suggest(self, name: str) -> str:
        close = difflib.get_close_matches(name, self.names(), n=1)
        known = ", ".join(f"@{n}" for n in sorted(self._by_name))
        prefix = f"did you mean @{close[0]}? " if close else ""
        return f"{prefix}known operators: {known}"

    def load_plugins(self) -> None:
        """Register every operator advertised in the ``tuskops.operators`` entry-point group."""
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                cls = ep.load()
                op = cls() if isinstance(cls, type) else cls
                if not isinstance(op, Operator):
                    raise TypeError(f"{ep.value} is not a tuskops Operator")
                op_type = type(op)
                if op_type.origin == "builtin":
                    op_type.origin = ep.dist.name if ep.dist else ep.value
                self.register(op)
            except Exception as exc:  # a broken plugin must not break every config
                self.load_errors.append((f"{ep.name} = {ep.value}", f"{type(exc).__name__}: {exc}"))


_default: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry: built-ins, platform operators and installed plugins."""
    global _default
    if _default is None:
        from tuskops.core.platform import platform_operators
        from tuskops.core.render_operator import RenderOperator
        from tuskops.lang.builtins import builtin_operators

        registry = Registry([*builtin_operators(), RenderOperator(), *platform_operators()])
        registry.load_plugins()
        _default = registry
    return _default
