"""The body of ``POST /bank_crm/api/v1/orders``: an online shop's order to invoice and
have paid by T-Bank acquiring.

Amounts and quantities are `Decimal` (the controller parses JSON numbers as `Decimal`,
so ``0.1`` stays exact). Unknown fields are refused, so a misspelt field is reported
rather than silently ignored. Our own checks raise `PydanticCustomError` with a type of
their own (``inn_invalid``, ``url_invalid``...), which the controller turns into a
message in the integration user's language.
"""

import re
from decimal import Decimal
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

try:  # python-stdnum ships with Odoo's requirements; a plain length check without it
    from stdnum.exceptions import ValidationError as StdnumValidationError
    from stdnum.ru import inn as stdnum_inn
except ImportError:  # pragma: no cover - depends on the environment
    stdnum_inn = None

__all__ = ["ShopCustomer", "ShopOrderItem", "ShopOrderRequest", "TAX_RATES", "ORDER_ID_MAX_LENGTH"]

ORDER_ID_MAX_LENGTH = 64
MAX_ITEMS = 500
URL_MAX_LENGTH = 2048

# The shop's VAT code of an item → the percent of the company's sale tax it means
# (None: no tax). The codes are T-Bank's receipt codes of the rates (docs/banks.md §1.3
# Receipt, docs/vat-and-receipts.md): vat22 is the standard rate since 1 January 2026,
# vat20 is kept for orders of goods shipped before 2026, vat5/vat7 are the simplified
# regime's. Whether the receipt shows the rate or its calculated twin (vat122...) is the
# payment's business, not the shop's.
TAX_RATES = {"none": None, "vat0": 0, "vat5": 5, "vat7": 7, "vat10": 10, "vat20": 20, "vat22": 22}

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[\d\s()\-]+")
_MIN_PHONE_DIGITS = 5


def _number_to_text(value):
    """Shops often number their orders: accept 123 as "123" (never a boolean or a float)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _blank_to_none(value):
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _optional_text(max_length, **constraints):
    """Text the shop may leave out, send as null or as blanks (all meaning "none")."""
    return Annotated[
        Annotated[str, Field(max_length=max_length, **constraints)] | None, BeforeValidator(_blank_to_none)
    ]


class _ShopModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class ShopCustomer(_ShopModel):
    """Who pays: found among the partners by INN, then email, then phone, or created."""

    name: Annotated[str, Field(min_length=1, max_length=256)]
    email: _optional_text(240) = None
    phone: _optional_text(64) = None
    inn: Annotated[str | None, BeforeValidator(_number_to_text)] = None

    @field_validator("email")
    @classmethod
    def _check_email(cls, value):
        if value is not None and not _EMAIL.fullmatch(value):
            raise PydanticCustomError("email_invalid", "Not an email address.")
        return value

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, value):
        if value is not None and not (_PHONE.fullmatch(value) and sum(c.isdigit() for c in value) >= _MIN_PHONE_DIGITS):
            raise PydanticCustomError("phone_invalid", "Not a phone number.")
        return value

    @field_validator("inn", mode="after")
    @classmethod
    def _check_inn(cls, value):
        """A Russian taxpayer number: 10 digits (organisation) or 12 (person), checksum
        included (python-stdnum's ``ru.inn``)."""
        if value is None:
            return None
        inn = re.sub(r"\s", "", value)
        if not inn:
            return None
        if not inn.isdigit() or len(inn) not in (10, 12):
            raise PydanticCustomError("inn_invalid", "An INN has 10 or 12 digits.")
        if stdnum_inn is not None:
            try:
                inn = stdnum_inn.validate(inn)
            except StdnumValidationError:
                raise PydanticCustomError("inn_checksum", "This INN's check digits are wrong.") from None
        return inn

    @property
    def is_company(self):
        """A 10-digit INN is an organisation's; 12 digits are a person's (or a sole trader's)."""
        return bool(self.inn) and len(self.inn) == 10


class ShopOrderItem(_ShopModel):
    """One line of the order, its price as the shop shows it (tax included)."""

    code: _optional_text(64) = None
    name: _optional_text(256) = None
    quantity: Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=3, allow_inf_nan=False)]
    unit_price: Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False)]
    tax: Literal[tuple(TAX_RATES)] = "none"

    @field_validator("quantity", "unit_price", mode="before")
    @classmethod
    def _no_boolean(cls, value):
        if isinstance(value, bool):
            raise PydanticCustomError(
                "decimal_type", "Decimal input should be an integer, float, string or Decimal object"
            )
        return value

    @model_validator(mode="after")
    def _code_or_name(self):
        if not (self.code or self.name):
            raise PydanticCustomError("item_unnamed", "Give the item's product code or its name.")
        return self

    @property
    def tax_rate(self):
        """The VAT percent of the item, or None without VAT."""
        return TAX_RATES[self.tax]


def _check_url(value):
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise PydanticCustomError("url_invalid", "Not an http(s) URL.")
    return value


class ShopOrderRequest(_ShopModel):
    """The whole order. ``order_id`` is the shop's own number of it: the same number sent
    again gets the first answer back, never a second deal."""

    order_id: Annotated[str, Field(min_length=1, max_length=ORDER_ID_MAX_LENGTH), BeforeValidator(_number_to_text)]
    customer: ShopCustomer
    items: Annotated[list[ShopOrderItem], Field(min_length=1, max_length=MAX_ITEMS)]
    currency: _optional_text(3, pattern=r"^[A-Za-z]{3}$") = None
    success_url: _optional_text(URL_MAX_LENGTH) = None
    fail_url: _optional_text(URL_MAX_LENGTH) = None
    comment: _optional_text(4000) = None

    @field_validator("success_url", "fail_url")
    @classmethod
    def _check_urls(cls, value):
        """Where T-Bank sends the customer back after paying (SuccessURL) or failing (FailURL)."""
        return _check_url(value)

    def total(self):
        """The order total as the shop counts it: each line rounded to kopecks, summed."""
        return sum(
            (
                (item.quantity * item.unit_price).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
                for item in self.items
            ),
            Decimal("0.00"),
        )
