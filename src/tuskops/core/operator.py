"""The operator protocol.

An operator is a named group of actions (``@kubernetes.deployment``, ``@env``). An action is a
method marked with :func:`action`; its parameters, their types and its docstring come from the
method's signature, so the registry, ``tuskops operators`` and the argument checks all read the
same declaration.

Actions return plain values (str, int, float, bool, None, list, dict) or desired-state
:class:`~tuskops.core.resource.Resource` objects for ``plan`` and ``apply``. They must not change
anything outside the process: evaluation is side-effect free. Read-only lookups go through
``ctx.cache`` and respect ``ctx.offline``.

Call forms, all equivalent for an operator ``op`` with action ``act``::

    @op.act(a, b)        @op("act", a, b)

With no action named, a call goes to the operator's ``default`` action (``@env("HOME")``).
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar, Union, overload

from tuskops.errors import OperatorArgumentError, UnknownActionError


class Loader(Protocol):
    """What an operator may ask of the evaluator: evaluate another ``.tsk`` file."""

    def load_file(self, path: Path) -> dict[str, Any]: ...


@dataclass
class CallContext:
    """Everything an action may know about the call it serves."""

    #: The file holding the call (None for ``loads()`` text).
    file: Path | None
    #: Directory that relative paths in arguments are resolved against.
    base_dir: Path
    #: No network lookups: an action that needs one raises OfflineError.
    offline: bool = False
    #: The environment as seen by this evaluation (a snapshot of os.environ by default).
    env: Mapping[str, str] = field(default_factory=dict)
    #: One instant per evaluation, so every @date in a file agrees.
    now: datetime = field(default_factory=lambda: datetime.now().astimezone())
    #: Evaluates other files (cross-file reads, peanu.tsk). None when not available.
    loader: Loader | None = None
    #: Per-evaluation cache for read-only lookups, shared by all calls.
    cache: dict[Any, Any] = field(default_factory=dict)
    #: Report a warning at the call's position.
    warn: Callable[[str], None] = lambda message: None


@dataclass(frozen=True)
class Param:
    """One parameter of an action."""

    name: str
    annotation: Any
    default: Any = inspect.Parameter.empty
    variadic: bool = False

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty and not self.variadic

    @property
    def type_name(self) -> str:
        return type_name(self.annotation)

    def describe(self) -> str:
        star = "*" if self.variadic else ""
        text = f"{star}{self.name}: {self.type_name}"
        if not self.required and not self.variadic:
            text += f" = {self.default!r}"
        return text


@dataclass(frozen=True)
class Action:
    """A callable action of an operator, with its declared parameters."""

    name: str
    doc: str
    params: tuple[Param, ...]
    func: Callable[..., Any]

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""

    def signature(self) -> str:
        return f"{self.name}({', '.join(p.describe() for p in self.params)})"

    def bind(self, args: list[Any], label: str) -> list[Any]:
        """Check ``args`` against the parameters; return them with defaults filled in."""
        fixed = [p for p in self.params if not p.variadic]
        variadic = next((p for p in self.params if p.variadic), None)
        if len(args) > len(fixed) and variadic is None:
            raise OperatorArgumentError(
                f"{label} takes at most {len(fixed)} argument{'s' if len(fixed) != 1 else ''}"
                f", got {len(args)}",
                hint=f"usage: {label.rsplit('.', 1)[0]}.{self.signature()}",
            )
        bound: list[Any] = []
        for i, param in enumerate(fixed):
            if i < len(args):
                _check_type(label, param, args[i])
                bound.append(args[i])
            elif param.required:
                raise OperatorArgumentError(
                    f"{label} is missing the argument '{param.name}'",
                    hint=f"usage: {label.rsplit('.', 1)[0]}.{self.signature()}",
                )
            else:
                bound.append(param.default)
        if variadic is not None:
            for value in args[len(fixed) :]:
                _check_type(label, variadic, value)
                bound.append(value)
        return bound


F = TypeVar("F", bound=Callable[..., Any])


@overload
def action(func: F, *, name: str | None = None, default: bool = False) -> F: ...


@overload
def action(
    func: None = None, *, name: str | None = None, default: bool = False
) -> Callable[[F], F]: ...


def action(
    func: F | None = None, *, name: str | None = None, default: bool = False
) -> F | Callable[[F], F]:
    """Mark an operator method as an action.

    ``name`` overrides the method name (for names that are Python keywords, like ``if``);
    ``default=True`` makes it the action a call without an action name goes to.
    """

    def mark(f: F) -> F:
        f.__tusk_action__ = (name or f.__name__.rstrip("_"), default)  # type: ignore[attr-defined]
        return f

    return mark(func) if func is not None else mark


class Operator:
    """Base class of operators. Subclasses set ``name`` and mark methods with :func:`action`.

    Action methods take ``(self, ctx: CallContext, *params)``.
    """

    name: ClassVar[str]
    aliases: ClassVar[tuple[str, ...]] = ()
    #: Where the operator comes from: "builtin", "platform" or a plugin's distribution name.
    origin: ClassVar[str] = "builtin"

    _actions: ClassVar[dict[str, Action]]
    _default: ClassVar[str | None]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        actions: dict[str, Action] = {}
        default: str | None = None
        for klass in reversed(cls.__mro__):
            for attr, member in vars(klass).items():
                mark = getattr(member, "__tusk_action__", None)
                if mark is None or attr.startswith("__"):
                    continue
                action_name, is_default = mark
                actions[action_name] = Action(
                    name=action_name,
                    doc=inspect.getdoc(member) or "",
                    params=_params_of(member),
                    func=member,
                )
                if is_default:
                    default = action_name
        cls._actions = actions
        cls._default = default

    @property
    def doc(self) -> str:
        return inspect.getdoc(type(self)) or ""

    @property
    def summary(self) -> str:
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""

    @property
    def actions(self) -> Mapping[str, Action]:
        return self._actions

    @property
    def default_action(self) -> str | None:
        return self._default

    def accepts_action(self, name: str) -> bool:
        """Whether a call may name ``name`` as its action (checked when a call is resolved)."""
        return name in self._actions

    def get_action(self, name: str) -> Action:
        try:
            return self._actions[name]
        except KeyError:
            known = ", ".join(sorted(self._actions)) or "(none)"
            raise UnknownActionError(
                f"@{self.name} has no action '{name}'", hint=f"its actions are: {known}"
            ) from None

    def invoke(self, action_name: str, args: list[Any], ctx: CallContext) -> Any:
        """Run ``action_name`` with ``args`` after checking them against its parameters."""
        act = self.get_action(action_name)
        bound = act.bind(args, f"@{self.name}.{act.name}")
        return act.func(self, ctx, *bound)


def _params_of(func: Callable[..., Any]) -> tuple[Param, ...]:
    hints = typing.get_type_hints(func)
    params = list(inspect.signature(func).parameters.values())[2:]  # skip self, ctx
    out = []
    for p in params:
        out.append(
            Param(
                name=p.name,
                annotation=hints.get(p.name, Any),
                default=p.default,
                variadic=p.kind is inspect.Parameter.VAR_POSITIONAL,
            )
        )
    return tuple(out)


# --- type checks on evaluated values ----------------------------------------------------------

_TYPE_NAMES = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    dict: "object",
    type(None): "null",
}


def type_name(hint: Any) -> str:
    """A TuskLang-flavoured name for a type hint (``str | None`` -> ``string or null``)."""
    if hint is Any:
        return "any"
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(h) for h in typing.get_args(hint))
    if origin is not None:
        hint = origin
    return _TYPE_NAMES.get(hint, getattr(hint, "__name__", str(hint)))


def value_type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    for py, name in _TYPE_NAMES.items():
        if isinstance(value, py):
            return name
    return type(value).__name__


def _matches(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_matches(value, h) for h in typing.get_args(hint))
    if origin is not None:
        hint = origin
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint in (list, tuple):
        return isinstance(value, list | tuple)
    if hint is dict or hint is Mapping:
        return isinstance(value, Mapping)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def _check_type(label: str, param: Param, value: Any) -> None:
    if not _matches(value, param.annotation):
        raise OperatorArgumentError(
            f"{label}: argument '{param.name}' must be {param.type_name}, "
            f"got {value_type_name(value)}"
        )


def iter_actions(op: Operator) -> Iterator[Action]:
    yield from (op.actions[name] for name in sorted(op.actions))
