"""What the acquiring client shares with the business-API clients of odoo_bank_crm's
`bank_api/wire.py`: the ``Retry-After`` header, pydantic error texts without values,
secrets scrubbed from texts, lenient identifiers, the base model, one HTTP call with its
network failures typed. payment_tbank installs without odoo_bank_crm, so it carries its own."""

import datetime as dt
import email.utils

import requests
from pydantic import BaseModel, ConfigDict

from .errors import BankUnavailable

__all__ = ["BankModel", "describe_validation_error", "retry_after_seconds", "scrub_secrets", "send", "to_text_id"]


def retry_after_seconds(header: str | None) -> int | None:
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


def scrub_secrets(text, *secrets) -> str | None:
    """``text`` as text with every secret replaced by ``***``: the banks' texts end up in
    messages and logs, and must never carry a token or a password along. A secret shorter
    than 6 characters is not searched for (blanking it would mangle the text and point at
    the secret); None stays None."""
    if text is None:
        return None
    text = str(text)
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "***")
    return text


def to_text_id(value) -> str:
    """An identifier the bank may send as a number or as text, as stripped text."""
    if isinstance(value, bool):
        raise ValueError("an identifier cannot be a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError("expected an identifier (number or text)")


class BankModel(BaseModel):
    """Bank data: unknown fields are kept (``model_extra``), never dropped."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")


def send(request, fail):
    """The answer of ``request()`` (one call of ``requests``); a network failure
    (timeout, no connection, any other ``requests`` error) is raised as the
    `BankUnavailable` that ``fail(error_class, message)`` builds and logs."""
    try:
        return request()
    except requests.Timeout as exc:
        raise fail(BankUnavailable, f"no answer in time ({type(exc).__name__})") from None
    except requests.ConnectionError as exc:
        raise fail(BankUnavailable, f"cannot connect ({type(exc).__name__})") from None
    except requests.RequestException as exc:
        raise fail(BankUnavailable, f"request failed ({type(exc).__name__})") from None
