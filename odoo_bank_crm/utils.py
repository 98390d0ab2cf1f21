"""Small pure helpers shared by models and controllers."""

from decimal import Decimal

from odoo.tools import float_repr

from .bank_api.money import from_minor_units, to_minor_units


def to_decimal(amount, currency):
    """Odoo amount (float) → exact Decimal, after the currency's rounding."""
    return Decimal(float_repr(currency.round(amount), currency.decimal_places))


def to_minor(amount, currency):
    """Odoo amount (float) → exact integer minor units (kopecks), after the currency's rounding."""
    return to_minor_units(to_decimal(amount, currency), currency.decimal_places)


def from_minor(units, currency):
    """Integer minor units → float amount for Odoo fields, exact to the currency's precision."""
    return float(from_minor_units(int(units), currency.decimal_places))
