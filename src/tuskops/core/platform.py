"""The twelve platform operators: the package operators (``tuskops.packages.operators``) and
placeholders for the ones still to come.

Each name is reserved in the registry from the start, so a config that uses one gets a clear
"not implemented yet" error naming the operator and the action, never made-up data. As each
operator is built, its entry here is replaced by the real class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from tuskops.core.operator import Action, CallContext, Operator
from tuskops.errors import NotImplementedOperatorError


class PlannedOperator(Operator):
    """An operator whose implementation has not been built yet: every call is an error."""

    origin: ClassVar[str] = "platform"
    #: The actions it will offer, shown by ``tuskops operators``.
    planned: ClassVar[tuple[str, ...]] = ()
    summary_text: ClassVar[str] = ""

    @property
    def doc(self) -> str:
        return f"{self.summary_text}\n\nNot implemented yet in this version of tuskops."

    @property
    def actions(self) -> Mapping[str, Action]:
        return {}

    @property
    def default_action(self) -> str | None:
        return None

    def accepts_action(self, name: str) -> bool:
        # Any action resolves, so the error comes from the call: "not implemented yet".
        return True

    def get_action(self, name: str) -> Action:
        raise self._not_implemented(name)

    def invoke(self, action_name: str, args: list[Any], ctx: CallContext) -> Any:
        raise self._not_implemented(action_name)

    def _not_implemented(self, action: str | None) -> NotImplementedOperatorError:
        what = f"@{self.name}.{action}" if action else f"@{self.name}"
        return NotImplementedOperatorError(
            f"{what} is not implemented yet in this version of tuskops",
            hint=f"planned actions of @{self.name}: {', '.join(self.planned)}",
        )


def _planned(
    name: str, summary: str, planned: tuple[str, ...], aliases: tuple[str, ...] = ()
) -> type:
    return type(
        f"Planned_{name}",
        (PlannedOperator,),
        {"name": name, "aliases": aliases, "summary_text": summary, "planned": planned},
    )


_PLATFORM = [
    _planned(
        "istio",
        "Istio gateways, routing, canary and A/B traffic, mTLS, authorization, resilience.",
        ("gateway", "route", "canary", "mtls", "authorization", "circuit_breaker"),
    ),
    _planned(
        "multicloud",
        "One function spec deployed to AWS Lambda, Azure Functions and Google Cloud Functions.",
        ("function", "traffic", "failover", "cost"),
    ),
]


def platform_operators() -> list[Operator]:
    from tuskops.kubernetes.operator import KubernetesOperator
    from tuskops.packages.operators import package_operators
    from tuskops.wasm.operator import WasmOperator

    return [
        KubernetesOperator(),
        WasmOperator(),
        *(cls() for cls in _PLATFORM),
        *package_operators(),
    ]
