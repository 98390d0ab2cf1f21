"""Exact money conversions between major units (rubles, as `Decimal`) and integer minor
units (kopecks).

docs/banks.md §6 fact 1: T-Bank acquiring counts in kopecks (integers) while the business
APIs (T-API statements and invoices, Tochka links) count in rubles with decimals.
`kopecks_to_rubles` / `rubles_to_kopecks` are the one place that conversion happens.

Nothing here goes through `float`: floats are refused outright, and amounts with more
decimal places than the currency has are refused rather than rounded.
"""

from decimal import Decimal, InvalidOperation

__all__ = ["to_minor_units", "from_minor_units", "rubles_to_kopecks", "kopecks_to_rubles"]

RUB_EXPONENT = 2


def _check_exponent(exponent):
    if isinstance(exponent, bool) or not isinstance(exponent, int) or exponent < 0:
        raise ValueError(f"currency exponent must be a non-negative integer, got {exponent!r}")


def to_minor_units(amount: Decimal | str | int, exponent: int = 2) -> int:
    """Convert an amount in major units to an integer count of minor units, exactly.

    ``to_minor_units(Decimal("3.12")) == 312``; ``to_minor_units("10") == 1000``;
    ``to_minor_units(5) == 500``.

    :param amount: ``Decimal``, ``int`` or a decimal string such as ``"1234.50"``.
    :param exponent: decimal places of the currency (2 for RUB, 0 for JPY, 3 for BHD).
    :raises TypeError: for ``float`` (inexact by nature), ``bool`` or other types.
    :raises ValueError: for text that is not a number, NaN/infinity, or an amount with
        more precision than the currency allows (``"1.005"`` rubles).
    """
    _check_exponent(exponent)
    if isinstance(amount, (bool, float)):
        raise TypeError(f"refusing {type(amount).__name__} amount {amount!r}: pass a Decimal, int or str")
    if isinstance(amount, int):
        return amount * 10**exponent
    if isinstance(amount, str):
        text = amount.strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not a decimal amount: {text!r}") from None
    if not isinstance(amount, Decimal):
        raise TypeError(f"unsupported amount type {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError(f"amount must be a finite number, got {amount}")
    # Work on the digits directly: exact whatever the decimal context precision.
    sign, digits, exp = amount.as_tuple()
    coefficient = int("".join(map(str, digits)) or "0")
    shift = exp + exponent
    if shift >= 0:
        units = coefficient * 10**shift
    else:
        units, remainder = divmod(coefficient, 10**-shift)
        if remainder:
            raise ValueError(f"amount {amount} has more than {exponent} decimal places for this currency")
    return -units if sign else units


def from_minor_units(units: int, exponent: int = 2) -> Decimal:
    """Convert an integer count of minor units to a `Decimal` in major units, exactly,
    keeping the currency's decimal places: ``from_minor_units(312) == Decimal("3.12")``,
    ``from_minor_units(100)`` is ``Decimal("1.00")``.

    :raises TypeError: if ``units`` is not an ``int`` (floats and bools refused).
    """
    _check_exponent(exponent)
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(f"minor units must be an int, got {type(units).__name__} {units!r}")
    digits = tuple(int(d) for d in str(abs(units)))
    return Decimal((1 if units < 0 else 0, digits, -exponent))


def rubles_to_kopecks(rubles: Decimal | str | int) -> int:
    """Rubles (``Decimal``/``int``/``str``) → kopecks (``int``), exactly; refuses floats and
    fractions of a kopeck. The one business→acquiring unit conversion (docs/banks.md §6.1)."""
    return to_minor_units(rubles, RUB_EXPONENT)


def kopecks_to_rubles(kopecks: int) -> Decimal:
    """Kopecks (``int``) → rubles (``Decimal`` with two places), exactly. The one
    acquiring→business unit conversion (docs/banks.md §6.1)."""
    return from_minor_units(kopecks, RUB_EXPONENT)
