"""JSON on the wire for the business-API clients: exact decimals both ways, the
``Retry-After`` header, date-time formatting, pydantic error texts without values, and
the pydantic building blocks (base models, lenient id/text/currency types) the clients'
models share.

Shared by `tbank_business` and `tochka`; the bank-specific part of every HTTP exchange
stays in each client's ``_request`` and every bank spelling in each client's models.
"""
import datetime as dt
import email.utils
import json
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from .statement import BANK_TZ, normalize_currency

__all__ = [
    "dumps_json",
    "loads_json",
    "decimal_to_json_number",
    "retry_after_seconds",
    "describe_validation_error",
    "to_utc_iso",
    "day_start",
    "BankModel",
    "RawKeepingModel",
    "TextId",
    "OptionalText",
    "CurrencyCode",
    "CreditDebit",
    "to_text_id",
    "cached_adapter",
    "parse_bank_answer",
    "BANK_ANSWER",
]


def decimal_to_json_number(value: Decimal):
    """A `Decimal` amount as a JSON number with exactly its digits.

    ``json`` cannot write a `Decimal`; an integral value becomes an ``int`` and a
    fractional one the ``float`` whose shortest text is the very same decimal (true for
    every amount with at most 15 significant digits), so ``Decimal("1234.50")`` goes out
    as ``1234.5``. Anything that would not survive exactly is refused.

    :raises ValueError: NaN/infinity, or more digits than a double carries exactly.
    """
    if not value.is_finite():
        raise ValueError(f"amount must be finite, got {value}")
    if value == value.to_integral_value():
        return int(value)
    as_float = float(value)
    if Decimal(repr(as_float)) != value:
        raise ValueError(f"amount {value} cannot be sent exactly as a JSON number")
    return as_float


def _default(value):
    if isinstance(value, Decimal):
        return decimal_to_json_number(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def dumps_json(body: Any) -> bytes:
    """UTF-8 JSON bytes of ``body``; `Decimal` as exact numbers, Cyrillic unescaped."""
    return json.dumps(body, ensure_ascii=False, default=_default, separators=(",", ":")).encode(
        "utf-8"
    )


def loads_json(content: bytes) -> Any:
    """Decode a JSON answer with every non-integer number as `Decimal` (never float).

    :raises ValueError: not UTF-8 or not JSON.
    """
    return json.loads(content.decode("utf-8-sig"), parse_float=Decimal)


def retry_after_seconds(header: Optional[str]) -> Optional[int]:
    """``Retry-After`` as seconds: either a number or an HTTP date; None if absent/odd."""
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return int(header)
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0, int((when - dt.datetime.now(dt.timezone.utc)).total_seconds()))


def describe_validation_error(exc) -> str:
    """Field names and reasons of a pydantic ``ValidationError``: never the input values
    (they may be personal data or secrets)."""
    parts = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ())) or "body"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return "; ".join(parts[:10]) + ("; ..." if len(parts) > 10 else "")


def day_start(day: dt.date) -> dt.datetime:
    """Midnight, Moscow time, that starts the business day ``day`` (aware)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=BANK_TZ)


def to_utc_iso(value: dt.datetime) -> str:
    """An aware datetime as ISO 8601 UTC with a ``Z`` (``2026-01-31T21:00:00Z``); whole
    seconds unless it carries microseconds.

    :raises ValueError: for a naive datetime (its meaning would be a guess).
    """
    if value.utcoffset() is None:
        raise ValueError("a timezone-aware datetime is required, got a naive one")
    value = value.astimezone(dt.timezone.utc)
    text = value.isoformat(timespec="microseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


# ------------------------------------------------------------------ pydantic blocks


def to_text_id(value) -> str:
    """An identifier the bank may send as a number or as text, as stripped text."""
    if isinstance(value, bool):
        raise ValueError("an identifier cannot be a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError("expected an identifier (number or text)")


def _to_optional_text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("expected text, got a boolean")
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    raise ValueError(f"expected text, got {type(value).__name__}")


def _to_credit_debit(value):
    if isinstance(value, str) and value.strip().lower() in ("credit", "debit"):
        return value.strip().capitalize()
    raise ValueError("must be Credit or Debit")


#: Identifier sent as a number or text → ``str``.
TextId = Annotated[str, BeforeValidator(to_text_id)]
#: Optional text; numbers become text, blank becomes None.
OptionalText = Annotated[Optional[str], BeforeValidator(_to_optional_text)]
#: ISO 4217 code, numeric or alphabetic in → alphabetic out (`normalize_currency`).
CurrencyCode = Annotated[str, BeforeValidator(normalize_currency)]
#: ``Credit`` (money in) or ``Debit`` (money out), any letter case in.
CreditDebit = Annotated[Literal["Credit", "Debit"], BeforeValidator(_to_credit_debit)]


class BankModel(BaseModel):
    """Bank data: unknown fields are kept (``model_extra``), never dropped."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")


_RAW_KEY = "__raw__"
#: Validation context under which `RawKeepingModel` keeps the object it parses; the
#: clients pass it when they parse a bank's answer (``model_validate(data,
#: context=BANK_ANSWER)``), so a model built in Python never mistakes its keyword
#: arguments for the bank's object.
BANK_ANSWER = {"bank_answer": True}


class RawKeepingModel(BankModel):
    """Remembers the JSON object it was parsed from (`raw`), for audit and for fields the
    model does not name, without dumping the model again.

    The object is kept in the instance ``__dict__`` under a key that is not a field:
    pydantic ignores it when dumping, comparing and printing. (A ``PrivateAttr`` would do
    the same at several times the cost per instance, which matters for statements of
    100 000 operations.)"""

    @model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, data, handler, info):
        model = handler(data)
        if isinstance(data, dict) and info.context and info.context.get("bank_answer"):
            model.__dict__[_RAW_KEY] = data
        return model

    @property
    def raw(self) -> dict:
        """The bank's object as received (numbers as `Decimal`); for a model built in
        Python rather than parsed, its dump in the bank's spelling."""
        raw = self.__dict__.get(_RAW_KEY)
        if raw is None:
            return self.model_dump(by_alias=True, exclude_none=True)
        return raw


_ADAPTERS: dict = {}


def cached_adapter(annotation) -> pydantic.TypeAdapter:
    """A ``TypeAdapter`` for ``annotation`` (e.g. ``list[Model]``), built once: building
    one compiles a validator, too slow to do per call."""
    adapter = _ADAPTERS.get(annotation)
    if adapter is None:
        adapter = _ADAPTERS[annotation] = pydantic.TypeAdapter(annotation)
    return adapter


def parse_bank_answer(annotation, data):
    """Validate a bank's decoded answer against a model or a type such as
    ``list[Model]``, keeping the raw objects (`BANK_ANSWER`).

    :raises pydantic.ValidationError: the answer does not fit.
    """
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.model_validate(data, context=BANK_ANSWER)
    return cached_adapter(annotation).validate_python(data, context=BANK_ANSWER)
