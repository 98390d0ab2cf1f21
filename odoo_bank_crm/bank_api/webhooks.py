"""The business banks' account webhooks (docs/bank-webhooks.md): T-Bank's
``oper-feed-operation`` and Tochka's ``incomingPayment`` / ``incomingSbpPayment`` /
``acquiringInternetPayment``.

Everything here is pure: it turns a verified body into the same `BankOperation` the
statement sync produces (so the line an event books is the one the sync finds later),
checks T-Bank's shared secret in constant time, and verifies Tochka's RS256 JWTs with
PyJWT against the bank's published keys (JWKS), cached.

- T-Bank (docs/banks.md §2.5): the bank calls our URL with the ``authSecret`` we chose
  when subscribing, as ``Authorization: Bearer <secret>`` (or ``Basic <secret>``). The body
  of ``oper-feed-operation`` is the operation of the statement method ("по методу Получить
  выписку по счету"), one flat object per event; the receivers published for it
  (docs/bank-webhooks.md, "The oper-feed-operation body") see ``accountNumber`` at the top,
  ``documentNumber``, amounts as strings, and the dates ``authorizationDate`` /
  ``trxnPostDate`` / ``chargeDate`` / ``drawDate`` / ``docDate`` without ``operationDate``.
  `_as_statement_operation` maps that onto the statement's spelling (§2.2b,
  `TBankOperation`); the statement's own object is read as is, bare, wrapped
  (``{"data"|"operation"|"payload": {...}}``) or in a list (``{"operations": [...]}``).
  The account is ``accountNumber`` when given, else our side of the operation (the
  receiver of a ``Credit``, the payer of a ``Debit``). The event's ``operationId`` may
  differ from the statement's: the fallback key (day, amount, counterparty, document
  number) then finds the line.
- Tochka (docs/banks.md §3): the body is a JWT (``text/plain``) signed RS256 with the
  bank's key, published as a JWK. Only successful operations are sent. ``incomingPayment``
  carries the payment's ``paymentId``, ``date``, ``documentNumber``, payer and recipient:
  it maps to a booked `BankOperation` keyed like the statement's line (``transactionId``,
  else ``paymentId``; the fallback key of §6.9 covers a statement whose ``transactionId``
  differs). ``incomingSbpPayment`` and ``acquiringInternetPayment`` carry neither our
  account nor the statement's id: they are recognised (`TochkaNotice`) and the account's
  statement is pulled at once instead (the sync books the exact line).
"""

from __future__ import annotations

import datetime as dt
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import jwt
import pydantic
import requests
from jwt.algorithms import RSAAlgorithm

from .statement import BANK_TZ, BankOperation, money_places, normalize_currency
from .tbank_business import TBankOperation, to_operation as tbank_to_operation
from .wire import BANK_ANSWER, describe_validation_error

__all__ = [
    "WebhookForged",
    "WebhookUnexpected",
    "WebhookKeysUnavailable",
    "TBankEventOperation",
    "TochkaNotice",
    "TochkaEvent",
    "JwksCache",
    "TBANK_EVENT_TYPE",
    "TOCHKA_EVENT_TYPES",
    "TOCHKA_JWKS_URL",
    "JWT_ALGORITHMS",
    "check_tbank_secret",
    "parse_tbank_event",
    "tbank_event_operations",
    "verify_tochka_jwt",
    "parse_tochka_event",
]

#: The statement webhook's event type (docs/banks.md §2.5).
TBANK_EVENT_TYPE = "oper-feed-operation"
#: Tochka's webhook types we subscribe to (docs/banks.md §3).
TOCHKA_EVENT_TYPES = ("incomingPayment", "incomingSbpPayment", "acquiringInternetPayment")
#: Tochka's published public key (docs/banks.md §3).
TOCHKA_JWKS_URL = "https://enter.tochka.com/doc/openapi/static/keys/public"
#: The only algorithm a Tochka webhook may be signed with: never taken from the token.
JWT_ALGORITHMS = ["RS256"]
#: Largest body accepted for either bank (an operation is a few kilobytes).
MAX_EVENT_OPERATIONS = 100

_WRAPPERS = ("data", "operation", "payload", "Data")


class WebhookForged(Exception):
    """The request is not from the bank: wrong secret, bad or expired signature, unknown
    key, wrong algorithm. The receiver answers 4xx and books nothing. The message names
    the reason only, never a secret."""


class WebhookKeysUnavailable(Exception):
    """The bank's public keys could not be fetched (and none are cached): the receiver
    answers 503 so that the bank sends the notification again."""


class WebhookUnexpected(ValueError):
    """A genuine (verified) notification the code cannot book: unknown shape or type.
    Stored and flagged for a person, never a 5xx."""


# ------------------------------------------------------------------------------ T-Bank


def check_tbank_secret(authorization: str | None, secret: str | None) -> None:
    """Check the ``Authorization`` header T-Bank sends with every webhook against the
    secret we gave it when subscribing (``Bearer <secret>`` or ``Basic <secret>``),
    in constant time.

    :raises WebhookForged: no secret configured, no header, another scheme, or a mismatch.
    """
    if not secret:
        raise WebhookForged("no webhook secret is set for this connection")
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    if scheme.lower() not in ("bearer", "basic") or not credentials:
        raise WebhookForged("missing or malformed Authorization header")
    if not hmac.compare_digest(credentials.strip().encode("utf-8"), secret.encode("utf-8")):
        raise WebhookForged("the webhook secret does not match")


@dataclass(frozen=True)
class TBankEventOperation:
    """One operation of an ``oper-feed-operation`` event and the account it is on."""

    account_number: str | None
    operation: TBankOperation

    def to_operation(self, currency: str = "RUB") -> BankOperation:
        """The `BankOperation` the statement sync builds for the same operation."""
        return tbank_to_operation(self.operation, currency, self.account_number)


#: Dates of the observed ``oper-feed-operation`` body, in the order one stands for the
#: statement's ``operationDate`` (when the operation happened, then when it was posted).
_TBANK_EVENT_DATES = ("authorizationDate", "trxnPostDate", "chargeDate", "drawDate", "docDate")
#: Statuses the statement knows (§2.2); another ``status`` value is not taken for one.
_TBANK_STATUSES = ("Transaction", "Authorization")


def _tbank_instant(value: str) -> str:
    """A date of the event as the statement's ``operationDate``: a date alone is the
    Moscow day (its midnight in Moscow), a date-time is kept (UTC when without offset,
    as the statement's, §2.2)."""
    text = value.strip()
    if len(text) == 10:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return text  # left for the model to refuse with its own message
        return dt.datetime.combine(day, dt.time(), BANK_TZ).isoformat()
    return text


def _as_statement_operation(item: dict) -> dict:
    """The observed ``oper-feed-operation`` object in the statement's spelling:
    ``operationDate`` from the event's dates, ``docNumber`` from ``documentNumber``,
    ``operationStatus`` from ``status`` (or ``Authorization`` for a card hold: an
    authorisation date and no posting date), the parties' ``bankBic``/``bic`` as
    ``bicRu``. Keys the statement's object already has win; the rest is kept as is."""
    operation = dict(item)
    if not operation.get("operationDate"):
        date = next((operation[name] for name in _TBANK_EVENT_DATES if isinstance(operation.get(name), str)), None)
        if date:
            operation["operationDate"] = _tbank_instant(date)
    if not operation.get("docNumber") and operation.get("documentNumber"):
        operation["docNumber"] = operation["documentNumber"]
    if not operation.get("operationStatus"):
        if operation.get("status") in _TBANK_STATUSES:
            operation["operationStatus"] = operation["status"]
        elif operation.get("authorizationDate") and not operation.get("trxnPostDate"):
            operation["operationStatus"] = "Authorization"
    for name in ("payer", "receiver", "counterParty"):
        party = operation.get(name)
        if isinstance(party, dict) and not party.get("bicRu") and (party.get("bankBic") or party.get("bic")):
            operation[name] = dict(party, bicRu=party.get("bankBic") or party.get("bic"))
    return operation


def _tbank_items(payload: Any) -> tuple[list, str | None]:
    account = None
    for _depth in range(3):
        if isinstance(payload, dict):
            account = payload.get("accountNumber") or account
            if isinstance(payload.get("operations"), list):
                return payload["operations"], account
            if "operationId" in payload:
                return [payload], account
            inner = next((payload[key] for key in _WRAPPERS if isinstance(payload.get(key), (dict, list))), None)
            if inner is None:
                break
            payload = inner
        elif isinstance(payload, list):
            return payload, account
    raise WebhookUnexpected("no operation in the notification (expected an object with operationId)")


def _own_account(operation: TBankOperation) -> str | None:
    party = operation.receiver if operation.type_of_operation == "Credit" else operation.payer
    return (party or {}).get("account") or None


def parse_tbank_event(payload: Any) -> list[TBankEventOperation]:
    """The operations of a verified ``oper-feed-operation`` body (already JSON-decoded).

    :raises WebhookUnexpected: not the shape of an operation, or too many of them.
    """
    items, account = _tbank_items(payload)
    if not items or len(items) > MAX_EVENT_OPERATIONS:
        raise WebhookUnexpected(f"between 1 and {MAX_EVENT_OPERATIONS} operations expected, got {len(items)}")
    result = []
    for item in items:
        if not isinstance(item, dict):
            raise WebhookUnexpected("an operation must be an object")
        try:
            operation = TBankOperation.model_validate(_as_statement_operation(item), context=BANK_ANSWER)
        except pydantic.ValidationError as error:
            raise WebhookUnexpected(f"operation: {describe_validation_error(error)}") from None
        number = item.get("accountNumber") or account or _own_account(operation)
        result.append(TBankEventOperation(str(number) if number else None, operation))
    return result


def tbank_event_operations(payload: Any, currency: str = "RUB") -> list[tuple[str | None, BankOperation]]:
    """(account number, `BankOperation`) of each operation of the event; the amount is
    taken as in the account's ``currency`` like the sync's mapper does."""
    return [(item.account_number, item.to_operation(currency)) for item in parse_tbank_event(payload)]


# ------------------------------------------------------------------------------ Tochka


class JwksCache:
    """The bank's public keys by ``kid``, fetched from a JWKS URL and kept for ``ttl``
    seconds. An unknown ``kid`` refetches at most once per ``min_refetch`` seconds (a key
    rotation is picked up at once; a flood of forged kids costs one request a minute).
    The document may be a JWKS (``{"keys": [...]}``) or a single JWK, as Tochka publishes.

    :param fetch: ``url -> JSON object``; defaults to a ``requests`` GET.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl: float = 3600.0,
        min_refetch: float = 60.0,
        timeout: float = 10.0,
        fetch: Callable[[str], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.url = url
        self.ttl, self.min_refetch, self.timeout = ttl, min_refetch, timeout
        self._fetch = fetch or self._http_get
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str | None, Any] = {}
        self._fetched_at: float | None = None

    def _http_get(self, url: str) -> Any:
        response = requests.get(url, timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def _load(self) -> None:
        document = self._fetch(self.url)
        jwks = document.get("keys") if isinstance(document, dict) and "keys" in document else [document]
        keys = {}
        for jwk in jwks if isinstance(jwks, list) else []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
                continue
            try:
                keys[jwk.get("kid")] = RSAAlgorithm.from_jwk(jwk)
            except (jwt.InvalidKeyError, ValueError, TypeError, KeyError):
                continue
        self._keys, self._fetched_at = keys, self._clock()

    def key(self, kid: str | None):
        """The public key for ``kid`` (a token without ``kid`` takes the only key).

        :raises WebhookForged: no such key, even after a refetch.
        """
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at > self.ttl
            if stale or (kid not in self._keys and now - self._fetched_at > self.min_refetch):
                try:
                    self._load()
                except (requests.RequestException, ValueError) as error:
                    if not self._keys:
                        raise WebhookKeysUnavailable(
                            f"the bank's public keys could not be read: {type(error).__name__}"
                        ) from None
            if kid in self._keys:
                return self._keys[kid]
            if kid is None and len(self._keys) == 1:
                return next(iter(self._keys.values()))
        raise WebhookForged("the token's key id is not one of the bank's keys")


def verify_tochka_jwt(token: str | bytes, keys: JwksCache, *, leeway: float = 30) -> dict:
    """Verify a Tochka webhook body and return its claims: RS256 only (``none`` and HS256
    are refused whatever the header says), the key chosen by the header's ``kid`` from
    the bank's JWKS, ``exp``/``nbf``/``iat`` checked where present.

    :raises WebhookForged: anything but a valid token signed by one of the bank's keys.
    """
    if isinstance(token, bytes):
        token = token.decode("ascii", errors="replace")
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise WebhookForged("the body is not a JWT") from None
    if header.get("alg") not in JWT_ALGORITHMS:
        raise WebhookForged(f"algorithm {str(header.get('alg'))[:20]!r} refused: RS256 only")
    kid = header.get("kid")
    key = keys.key(kid if isinstance(kid, str) else None)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=JWT_ALGORITHMS,
            options={"require": [], "verify_aud": False},
            leeway=leeway,
        )
    except jwt.ExpiredSignatureError:
        raise WebhookForged("the token has expired") from None
    except jwt.PyJWTError as error:
        raise WebhookForged(f"invalid token: {type(error).__name__}") from None
    if not isinstance(claims, dict):
        raise WebhookForged("the token's payload is not an object")
    return claims


@dataclass(frozen=True)
class TochkaNotice:
    """A Tochka notification that carries no account line of its own (SBP and
    acquiring payments): what it says, for the record; the statement books the line."""

    webhook_type: str
    operation_id: str
    amount: Decimal | None
    customer_code: str | None
    purpose: str = ""


@dataclass(frozen=True)
class TochkaEvent:
    """A parsed Tochka notification: the account line (``incomingPayment``) or a notice."""

    webhook_type: str
    customer_code: str | None
    account_number: str | None = None
    operation: BankOperation | None = None
    notice: TochkaNotice | None = None
    dedupe_id: str = ""
    raw: dict = field(default_factory=dict, compare=False, repr=False)


def _text(value) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def _amount(value, what) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise WebhookUnexpected(f"{what} is not an amount") from None
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:
        raise WebhookUnexpected(f"{what} must be a positive amount with at most 2 decimals")
    return money_places(amount)


def _day(value, what) -> dt.date:
    text = _text(value)
    if text is None:
        raise WebhookUnexpected(f"{what} is missing")
    try:
        if len(text) > 10:
            instant = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return instant.astimezone(BANK_TZ).date() if instant.tzinfo else instant.date()
        return dt.date.fromisoformat(text)
    except ValueError:
        raise WebhookUnexpected(f"{what} is not a date") from None


def _incoming_payment(claims: dict) -> TochkaEvent:
    payer, recipient = claims.get("SidePayer"), claims.get("SideRecipient")
    if not isinstance(payer, dict) or not isinstance(recipient, dict):
        raise WebhookUnexpected("incomingPayment without SidePayer and SideRecipient")
    payment_id = _text(claims.get("transactionId")) or _text(claims.get("paymentId"))
    if not payment_id:
        raise WebhookUnexpected("incomingPayment without paymentId")
    amount = _amount(recipient.get("amount") or payer.get("amount"), "amount")
    try:
        currency = normalize_currency(recipient.get("currency") or payer.get("currency") or "RUB")
    except ValueError:
        raise WebhookUnexpected("currency is not a currency code") from None
    account = _text(recipient.get("account"))
    operation = BankOperation(
        bank_operation_id=payment_id,
        date=_day(claims.get("date"), "date"),
        amount=amount,
        currency=currency,
        confirmed=True,  # only successful operations are sent (docs/banks.md §3)
        purpose=_text(claims.get("purpose")) or "",
        counterparty_name=_text(payer.get("name")),
        counterparty_inn=_text(payer.get("inn")),
        counterparty_kpp=_text(payer.get("kpp")),
        counterparty_account=_text(payer.get("account")),
        counterparty_bic=_text(payer.get("bankCode")),
        counterparty_bank_name=_text(payer.get("bankName")),
        document_number=_text(claims.get("documentNumber")),
        account_number=account,
        raw=claims,
    )
    return TochkaEvent(
        "incomingPayment",
        _text(claims.get("customerCode")),
        account_number=account,
        operation=operation,
        dedupe_id=payment_id,
        raw=claims,
    )


def parse_tochka_event(claims: dict) -> TochkaEvent:
    """A verified Tochka notification's claims → `TochkaEvent`.

    :raises WebhookUnexpected: another ``webhookType`` or a shape the code cannot read.
    """
    kind = claims.get("webhookType")
    if kind == "incomingPayment":
        return _incoming_payment(claims)
    if kind in ("incomingSbpPayment", "acquiringInternetPayment"):
        operation_id = _text(claims.get("operationId")) or _text(claims.get("refTransactionId"))
        if not operation_id:
            raise WebhookUnexpected(f"{kind} without operationId")
        amount = claims.get("amount")
        notice = TochkaNotice(
            kind,
            operation_id,
            _amount(amount, "amount") if amount is not None else None,
            _text(claims.get("customerCode")),
            _text(claims.get("purpose")) or "",
        )
        status = _text(claims.get("status")) or ""
        return TochkaEvent(kind, notice.customer_code, notice=notice, dedupe_id=f"{operation_id}:{status}", raw=claims)
    raise WebhookUnexpected(f"webhook type {str(kind)[:40]!r} is not handled")
