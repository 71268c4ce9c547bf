"""Kubernetes resource quantities, read and written the way the API server does.

A quantity is ``<signedNumber><suffix>`` (apimachinery ``resource.Quantity``; Kubernetes docs,
"Resource units" and the ``Quantity`` reference)::

    <signedNumber>    ::= [+-] ( <digits> | <digits>. | <digits>.<digits> | .<digits> )
    <suffix>          ::= <binarySI> | <decimalExponent> | <decimalSI>
    <binarySI>        ::= Ki | Mi | Gi | Ti | Pi | Ei                 (powers of 1024)
    <decimalSI>       ::= n | u | m | "" | k | M | G | T | P | E      (powers of 1000)
    <decimalExponent> ::= e <int> | E <int>                          ("1e3", "1E-2")

:func:`parse_quantity` returns the exact value as a :class:`~decimal.Decimal`: CPU in cores,
memory in bytes. Like ``ParseQuantity`` it rounds a non-zero value *up* (away from zero) to a
whole nano-unit, "if you want some resources, you should get some" (so ``0.1n`` is ``1n``),
and caps a binary-suffixed value at 2^63-1.

:func:`format_cpu` and :func:`format_memory` write a value in the canonical form the API's
``Quantity.String()`` uses, so what tuskops writes matches what ``kubectl get -o yaml`` shows:

* decimal (CPU): an integer mantissa and the largest exponent that is a multiple of 3 and keeps
  it an integer: ``0.25`` -> ``250m``, ``1.5`` -> ``1500m``, ``2`` -> ``2``, ``3000`` -> ``3k``;
  outside ``n``..``E`` the exponent form (``1e21``). ``format_cpu`` first rounds up to a
  whole millicore, the finest CPU precision Kubernetes accepts.
* binary (memory): an integer mantissa and the largest power of 1024 dividing it
  (``134217728`` -> ``128Mi``, ``1610612736`` -> ``1536Mi``); like the API, values between
  -1024 and 1024 and fractional values fall back to the decimal form (``1000`` -> ``1k``,
  ``0.5`` -> ``500m``).

Deviations: the API reads an exponent as a 64-bit integer and then truncates it to 32 bits;
here an exponent outside -1000..1000 is refused instead (no real resource amount needs one).
Numbers (``int``, ``float``, ``Decimal``) are accepted too, as a ``.tsk`` file may write
``cpu: 2``; a float goes through its shortest ``repr``.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_UP, Decimal, localcontext

from tuskops.errors import KubernetesSpecError

__all__ = [
    "QuantityError",
    "ceil_to",
    "format_cpu",
    "format_decimal",
    "format_memory",
    "parse_quantity",
]

_NUMBER = re.compile(r"^([+-]?)(\d+\.?\d*|\.\d+)(.*)$", re.DOTALL)
_DECIMAL_SUFFIXES: dict[str, int] = {
    "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}  # fmt: skip
_BINARY_SUFFIXES: dict[str, int] = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXPONENT = {v: k for k, v in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_POWER = {v // 10: k for k, v in _BINARY_SUFFIXES.items()}
_EXPONENT = re.compile(r"^[eE][+-]?\d+$")
_NANO = Decimal("1e-9")
_MILLI = Decimal("1e-3")
_MAX_BINARY = Decimal(2**63 - 1)
_MAX_EXPONENT = 1000
#: Enough digits for any accepted quantity rounded to nano-units.
_PRECISION = 2 * _MAX_EXPONENT + 64


class QuantityError(KubernetesSpecError):
    """Text that is not a Kubernetes quantity; ``text`` is the text, ``field`` where it was."""

    def __init__(self, field: str, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(field, f"{text!r} is not a quantity: {reason}")


def parse_quantity(value: str | int | float | Decimal, *, field: str = "quantity") -> Decimal:
    """The exact value of a quantity: ``"250m"`` -> ``0.25``, ``"1Ki"`` -> ``1024``.

    Raises :class:`QuantityError` naming ``field`` and the text.
    """
    if isinstance(value, bool):
        raise QuantityError(field, str(value), "expected a string or a number, got a boolean")
    if isinstance(value, Decimal | int | float):
        text = repr(value) if isinstance(value, float) else str(value)
        if isinstance(value, float | Decimal) and not Decimal(text).is_finite():
            raise QuantityError(field, text, "not a finite number")
    elif isinstance(value, str):
        text = value
    else:
        raise QuantityError(field, repr(value), f"expected a string, got {type(value).__name__}")
    match = _NUMBER.match(text)
    if not text:
        raise QuantityError(field, text, "empty")
    if match is None:
        raise QuantityError(field, text, "expected a number such as 250m, 0.5, 128Mi or 1e3")
    sign, number, suffix = match.groups()
    with localcontext(prec=_PRECISION) as ctx:
        ctx.Emax = 10 * _MAX_EXPONENT
        ctx.Emin = -10 * _MAX_EXPONENT
        amount = Decimal(number)
        binary = False
        if suffix in _DECIMAL_SUFFIXES:
            amount = amount.scaleb(_DECIMAL_SUFFIXES[suffix])
        elif suffix in _BINARY_SUFFIXES:
            amount = amount * (2 ** _BINARY_SUFFIXES[suffix])
            binary = True
        elif _EXPONENT.match(suffix):
            exponent = int(suffix[1:])
            if abs(exponent) > _MAX_EXPONENT:
                raise QuantityError(field, text, f"exponent beyond ±{_MAX_EXPONENT}")
            amount = amount.scaleb(exponent)
        else:
            raise QuantityError(
                field,
                text,
                f"unknown suffix {suffix!r} (use n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or e<int>)",
            )
        if amount != 0:
            amount = amount.quantize(_NANO, rounding=ROUND_UP)
        if binary and amount > _MAX_BINARY:
            amount = _MAX_BINARY
        if sign == "-":
            amount = -amount
        return _tidy(amount)


def _tidy(amount: Decimal) -> Decimal:
    """The same value without trailing zeros in its representation (``0.250`` -> ``0.25``)."""
    if amount == 0:
        return Decimal(0)
    with localcontext(prec=_PRECISION):
        normal = amount.normalize()
    # Keep integers as integers (Decimal("1E+3") prints oddly).
    if normal == normal.to_integral_value():
        return normal.quantize(Decimal(1))
    return normal


def format_decimal(value: Decimal | int) -> str:
    """The API's canonical decimal form: integer mantissa, exponent a multiple of 3.

    ``value`` is first rounded up (away from zero) to a whole nano-unit, as the API would.
    """
    with localcontext(prec=_PRECISION) as ctx:
        ctx.Emax = 10 * _MAX_EXPONENT
        ctx.Emin = -10 * _MAX_EXPONENT
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError(f"not a finite amount: {value}")
        if amount == 0:
            return "0"
        amount = amount.quantize(_NANO, rounding=ROUND_UP)
        sign = "-" if amount < 0 else ""
        mantissa = int(abs(amount).scaleb(9))  # exact: a whole number of nano-units
        exponent = -9
        while mantissa % 10 == 0:
            mantissa //= 10
            exponent += 1
        while exponent % 3 != 0:
            mantissa *= 10
            exponent -= 1
    suffix = _DECIMAL_BY_EXPONENT.get(exponent)
    if suffix is None:
        suffix = f"e{exponent}"
    return f"{sign}{mantissa}{suffix}"


def format_cpu(cores: Decimal | int) -> str:
    """CPU cores as the API writes them, rounded up to a whole millicore: ``0.25`` -> ``250m``."""
    with localcontext(prec=_PRECISION):
        amount = Decimal(cores)
        if amount.is_finite() and amount != 0:
            amount = amount.quantize(_MILLI, rounding=ROUND_UP)
    return format_decimal(amount)


def format_memory(amount: Decimal | int) -> str:
    """Bytes as the API writes a binary-suffixed quantity: ``134217728`` -> ``128Mi``.

    Whole numbers of bytes from 1024 on use the largest power of 1024 that divides them; other
    values fall back to the decimal form, as the API does (``1000`` -> ``1k``).
    """
    value = Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount}")
    if -1024 < value < 1024 or value != value.to_integral_value():
        return format_decimal(value)
    whole = int(value)
    sign = "-" if whole < 0 else ""
    mantissa = abs(whole)
    power = 0
    while power < 6 and mantissa % 1024 == 0:
        mantissa //= 1024
        power += 1
    return f"{sign}{mantissa}{_BINARY_BY_POWER.get(power, '')}"


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    """``value`` rounded up to a whole multiple of ``step`` (``step`` > 0)."""
    with localcontext(prec=_PRECISION):
        return (value / step).to_integral_value(rounding=ROUND_CEILING) * step
