"""Exact conversions between Odoo amounts and T-Bank's kopecks (docs/banks.md §6 fact 1)."""

from decimal import Decimal

from odoo.tools import float_repr


def to_minor(amount, currency):
    """Odoo amount (float) → exact integer minor units (kopecks), after the currency's rounding."""
    exact = Decimal(float_repr(currency.round(amount), currency.decimal_places))
    return int(exact.scaleb(currency.decimal_places))


def from_minor(units, currency):
    """Integer minor units → float amount for Odoo fields, exact to the currency's precision."""
    return float(Decimal(int(units)).scaleb(-currency.decimal_places))
