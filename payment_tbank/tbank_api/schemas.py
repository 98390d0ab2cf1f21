"""Request and response bodies of the T-Bank Internet Acquiring API v2 as pydantic models.

Field aliases carry the bank's spelling (``TerminalKey``, ``PaymentId``); Python sees
snake_case (``terminal_key``, ``payment_id``); both are accepted on input
(``populate_by_name``). Amounts are ``int`` kopecks (docs/banks.md §6.1); a float with a
fractional part is refused, never rounded. Identifiers the bank sends sometimes as a
number and sometimes as a string (``PaymentId``, §6.4) are always exposed as ``str``.
"""

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from annotated_types import Ge
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

from .transport import BankModel, to_text_id
from .const import RECEIPT_PAYMENT_METHODS, RECEIPT_TAXES

__all__ = [
    "Kopecks",
    "BankId",
    "ReceiptItem",
    "Receipt",
    "InitRequest",
    "InitResponse",
    "GetStateResponse",
    "ConfirmResponse",
    "CancelResponse",
    "GetQrResponse",
    "check_receipt_total",
]

_INTEGER_TEXT = re.compile(r"-?\d+")


def _whole_number(value):
    """An integral ``float`` or finite ``Decimal`` as the ``int`` it is; any other value
    as it is."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return value


def _to_kopecks(value):
    if isinstance(value, bool):
        raise ValueError("an amount in kopecks must be an integer, not a boolean")
    value = _whole_number(value)
    if isinstance(value, int):
        return value
    if isinstance(value, (float, Decimal)):
        raise ValueError(f"an amount in kopecks must be a whole number, got {value}")
    if isinstance(value, str) and _INTEGER_TEXT.fullmatch(value.strip()):
        return int(value.strip())
    raise ValueError(f"an amount in kopecks must be an integer, got {type(value).__name__}")


def _to_bank_id(value):
    """`wire.to_text_id`, a number the bank sends as ``13660.0`` included."""
    return to_text_id(_whole_number(value))


def _to_code(value):
    if isinstance(value, bool):
        raise ValueError("an error code cannot be a boolean")
    if isinstance(value, (int, str)):
        return str(value)
    raise ValueError(f"expected an error code, got {type(value).__name__}")


#: Integer amount in kopecks (≥ 0); integral floats/Decimals/digit strings accepted.
Kopecks = Annotated[int, BeforeValidator(_to_kopecks), Ge(0)]
#: Bank identifier (PaymentId, CardId, RebillId...): number or string in, ``str`` out.
BankId = Annotated[str, BeforeValidator(_to_bank_id)]
ErrorCode = Annotated[str, BeforeValidator(_to_code)]


class _BankModel(BankModel):
    """`wire.BankModel` (unknown fields kept) that goes out in the bank's spelling."""

    def to_payload(self):
        """The body in the bank's spelling, JSON-ready, without unset (None) fields."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


# --------------------------------------------------------------------------- receipts


class ReceiptItem(_BankModel):
    """A fiscal receipt line, docs/banks.md §1.3 (``Items_FFD_105``). ``price`` and
    ``amount`` in kopecks; ``amount`` is the line total (Price × Quantity). Extra fields
    (``Ean13``, FFD 1.2 ``MeasurementUnit``...) pass through as given."""

    name: str = Field(alias="Name", min_length=1)
    price: Kopecks = Field(alias="Price")
    quantity: Decimal = Field(alias="Quantity", gt=0)
    amount: Kopecks = Field(alias="Amount")
    tax: str = Field(alias="Tax")  # one of const.RECEIPT_TAXES: vat22, vat122, vat10, ..., none
    payment_method: str | None = Field(None, alias="PaymentMethod")  # const.RECEIPT_PAYMENT_METHODS
    payment_object: str | None = Field(None, alias="PaymentObject")

    @field_validator("tax")
    @classmethod
    def _known_tax(cls, value):
        # The bank refuses a code it does not know; say so before sending.
        if value not in RECEIPT_TAXES:
            raise ValueError(f"Tax must be one of {', '.join(sorted(RECEIPT_TAXES))}, got {value!r}")
        return value

    @field_validator("payment_method")
    @classmethod
    def _known_payment_method(cls, value):
        if value is not None and value not in RECEIPT_PAYMENT_METHODS:
            raise ValueError(
                f"PaymentMethod must be one of {', '.join(sorted(RECEIPT_PAYMENT_METHODS))}, got {value!r}"
            )
        return value

    @field_serializer("quantity")
    def _quantity_as_number(self, quantity):
        # The bank wants a JSON number. An integral quantity is an int; a fractional one
        # (1.5 kg) becomes the float whose shortest text is exactly the same decimal.
        if quantity == quantity.to_integral_value():
            return int(quantity)
        as_float = float(quantity)
        if Decimal(repr(as_float)) != quantity:
            raise ValueError(f"quantity {quantity} cannot be sent exactly")
        return as_float


class Receipt(_BankModel):
    """Fiscal receipt (FFD 1.05 / 1.2), docs/banks.md §1.3. Sent in Init or Confirm
    (income) or Cancel (refund). Never part of the Token (nested object, §1.6).

    The sum of ``items[].amount`` must equal the operation's amount (else the bank answers
    ErrorCode 308); the client checks that before sending (`check_receipt_total`)."""

    items: list[ReceiptItem] = Field(alias="Items", min_length=1, max_length=100)
    taxation: str = Field(alias="Taxation")  # osn, usn_income, usn_income_outcome, esn, patent
    email: str | None = Field(None, alias="Email")
    phone: str | None = Field(None, alias="Phone")
    ffd_version: str | None = Field(None, alias="FfdVersion")  # "1.2" for FFD 1.2

    @model_validator(mode="after")
    def _needs_a_contact(self):
        if not (self.email or self.phone):
            raise ValueError("a receipt needs the customer's Email or Phone")
        return self

    @property
    def total(self):
        """Σ items[].amount, in kopecks."""
        return sum(item.amount for item in self.items)


def check_receipt_total(receipt: "Receipt | None", amount: "int | None") -> None:
    """Raise ``ValueError`` unless the receipt's lines add up to ``amount`` kopecks
    (the local twin of T-Bank ErrorCode 308, docs/banks.md §1.3/§1.8)."""
    if receipt is not None and amount is not None and receipt.total != amount:
        raise ValueError(
            f"receipt items add up to {receipt.total} kopecks but the amount is {amount} "
            f"kopecks (the bank would refuse with ErrorCode 308)"
        )


# --------------------------------------------------------------------------- requests


class InitRequest(_BankModel):
    """Init body without ``TerminalKey``/``Token`` (the client adds them), docs/banks.md
    §1.3. ``redirect_due_date`` must carry a UTC offset; it is sent as
    ``YYYY-MM-DDTHH:MM:SS+03:00`` keeping that offset."""

    model_config = ConfigDict(extra="forbid")

    amount: Kopecks = Field(alias="Amount", gt=0)
    order_id: str = Field(alias="OrderId", min_length=1, max_length=36)
    description: str | None = Field(None, alias="Description", max_length=140)
    pay_type: Literal["O", "T"] | None = Field(None, alias="PayType")
    notification_url: str | None = Field(None, alias="NotificationURL")
    success_url: str | None = Field(None, alias="SuccessURL")
    fail_url: str | None = Field(None, alias="FailURL")
    redirect_due_date: datetime | None = Field(None, alias="RedirectDueDate")
    data: dict[str, Any] | None = Field(None, alias="DATA")
    receipt: Receipt | None = Field(None, alias="Receipt")
    language: str | None = Field(None, alias="Language")
    customer_key: str | None = Field(None, alias="CustomerKey", max_length=36)

    @field_validator("redirect_due_date")
    @classmethod
    def _aware(cls, value):
        if value is not None and value.utcoffset() is None:
            raise ValueError("RedirectDueDate needs a timezone (e.g. +03:00), got a naive datetime")
        return value

    @field_serializer("redirect_due_date")
    def _format_due_date(self, value):
        return None if value is None else value.isoformat(timespec="seconds")

    @model_validator(mode="after")
    def _receipt_matches_amount(self):
        check_receipt_total(self.receipt, self.amount)
        return self


# --------------------------------------------------------------------------- responses


class _Response(_BankModel):
    """Fields common to every answer (docs/banks.md §1.3-§1.4)."""

    success: bool = Field(alias="Success")
    error_code: ErrorCode = Field("0", alias="ErrorCode")
    terminal_key: str | None = Field(None, alias="TerminalKey")
    message: str | None = Field(None, alias="Message")
    details: str | None = Field(None, alias="Details")


class InitResponse(_Response):
    """Init answer, docs/banks.md §1.3: ``payment_id`` (str) and ``payment_url``."""

    payment_id: BankId = Field(alias="PaymentId")
    status: str = Field(alias="Status")
    amount: Kopecks | None = Field(None, alias="Amount")
    order_id: str | None = Field(None, alias="OrderId")
    payment_url: str | None = Field(None, alias="PaymentURL")


class GetStateResponse(_Response):
    """GetState answer, docs/banks.md §1.4."""

    payment_id: BankId = Field(alias="PaymentId")
    status: str = Field(alias="Status")
    amount: Kopecks | None = Field(None, alias="Amount")
    order_id: str | None = Field(None, alias="OrderId")
    params: list[dict[str, Any]] | None = Field(None, alias="Params")


class ConfirmResponse(_Response):
    """Confirm answer (two-stage capture), docs/banks.md §1.4."""

    payment_id: BankId = Field(alias="PaymentId")
    status: str = Field(alias="Status")
    order_id: str | None = Field(None, alias="OrderId")
    params: list[dict[str, Any]] | None = Field(None, alias="Params")


class CancelResponse(_Response):
    """Cancel answer (void or refund, full or partial), docs/banks.md §1.4: amounts before
    and after the operation, in kopecks."""

    payment_id: BankId = Field(alias="PaymentId")
    status: str = Field(alias="Status")
    order_id: str | None = Field(None, alias="OrderId")
    original_amount: Kopecks | None = Field(None, alias="OriginalAmount")
    new_amount: Kopecks | None = Field(None, alias="NewAmount")
    external_request_id: str | None = Field(None, alias="ExternalRequestId")


class GetQrResponse(_Response):
    """GetQr answer (SBP), docs/banks.md §1.4/§5: ``data`` is the ``https://qr.nspk.ru/...``
    link (DataType PAYLOAD) or an SVG image (IMAGE)."""

    data: str = Field(alias="Data")
    payment_id: BankId | None = Field(None, alias="PaymentId")
    order_id: str | None = Field(None, alias="OrderId")
    request_key: str | None = Field(None, alias="RequestKey")
