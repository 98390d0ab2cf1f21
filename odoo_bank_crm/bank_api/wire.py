"""The wire shared by the business-API clients: JSON with exact decimals both ways, the
``Retry-After`` header, date-time formatting, pydantic error texts without values, the
pydantic building blocks (base models, lenient id/text/currency types) the clients'
models share, and `BusinessApiClient`, the HTTP plumbing every client inherits.

Shared by every business bank's client module; what differs between the banks (error body,
answer envelope, request-id header, wording) is a small override or class attribute of
each client, and every bank spelling stays in each client's models.
"""

import datetime as dt
import email.utils
import json
import logging
import time
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal, NamedTuple

import pydantic
import requests
from pydantic import BaseModel, BeforeValidator, ConfigDict, model_validator

from .errors import (
    BankAuthError,
    BankProtocolError,
    BankRateLimited,
    BankRejected,
    BankUnavailable,
)
from .money import kopecks_to_rubles, rubles_to_kopecks
from .statement import BANK_TZ, normalize_currency

__all__ = [
    "dumps_json",
    "loads_json",
    "decimal_to_json_number",
    "retry_after_seconds",
    "describe_validation_error",
    "scrub_secrets",
    "to_utc_iso",
    "day_start",
    "BankModel",
    "RawKeepingModel",
    "TextId",
    "OptionalText",
    "CurrencyCode",
    "CreditDebit",
    "to_text_id",
    "to_exact_rubles",
    "cached_adapter",
    "parse_bank_answer",
    "BANK_ANSWER",
    "BankErrorBody",
    "BusinessApiClient",
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
    return json.dumps(body, ensure_ascii=False, default=_default, separators=(",", ":")).encode("utf-8")


def loads_json(content: bytes) -> Any:
    """Decode a JSON answer with every non-integer number as `Decimal` (never float).

    :raises ValueError: not UTF-8 or not JSON.
    """
    return json.loads(content.decode("utf-8-sig"), parse_float=Decimal)


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


def to_exact_rubles(value) -> Decimal:
    """An amount of rubles for a payment (validator of the clients' request models): a
    `Decimal`, an int or decimal text, never a float, in whole kopecks.

    :raises ValueError: a float or another type, not a finite number, or a
        fraction of a kopeck.
    """
    if isinstance(value, (float, bool)):
        raise ValueError("amount must be a Decimal, an int or decimal text, never a float")
    if not isinstance(value, (Decimal, int, str)):
        raise ValueError("amount must be a Decimal, an int or decimal text")
    return kopecks_to_rubles(rubles_to_kopecks(value))  # refuses fractions of a kopeck


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
OptionalText = Annotated[str | None, BeforeValidator(_to_optional_text)]
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


# ------------------------------------------------------------------ client plumbing


class BankErrorBody(NamedTuple):
    """What a bank's error answer says, as a client's
    `BusinessApiClient._error_body` reads it: as sent, for `BusinessApiClient._request`
    normalises the code and the id and scrubs the token from the texts."""

    code: Any = None
    message: Any = None
    details: Any = None
    error_id: Any = None


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


class BusinessApiClient:
    """The plumbing the business-API clients (`TBankBusinessClient`, `TochkaClient`)
    share: the token, base URL, timeout and session; `_request`, the one place that
    talks HTTP to the bank; `_parse` of answers into models; protocol errors; the token
    scrubbed from every text of the bank.

    A client names its bank (`bank_label`), reads its bank's error answers
    (`_error_body`) and, if its answers come in an envelope, unwraps them (`_answer`);
    the other differences are the class attributes below. Log lines go to the logger
    of the client's own module.

    :param token: the bank's API token; sent as ``Authorization: Bearer``, never logged
        or shown.
    :param base_url: the API's root (trailing slashes are dropped).
    :param timeout: ``requests`` timeout, ``(connect, read)`` seconds.
    :param session: a ``requests.Session`` to reuse (connection pooling, test doubles).
    :raises ValueError: no token.

    Every method raises a subclass of `bank_api.errors.BankError` on failure.
    """

    #: The bank's name, at the head of every error message and log line.
    bank_label = "Bank"
    #: The `ValueError` text for a missing token.
    _no_token_message = "the bank's API needs a token"
    #: Header that carries a fresh uuid on every request, logged and put on errors as
    #: ``request_id`` (for the bank's support); None: the bank takes none.
    _request_id_header: str | None = None
    #: How log lines name the bank's id of an error.
    _error_id_label = "error id"
    #: What a token refused with HTTP 401/403 may lack, in the bank's own terms.
    _token_lacks = "the permission"
    #: HTTP statuses below 500 that also mean "the bank is unavailable, retry later".
    _unavailable_statuses: frozenset = frozenset()

    _logger = logging.getLogger(__name__)

    def __init_subclass__(cls, **kwargs):
        result = super().__init_subclass__(**kwargs)
        cls._logger = logging.getLogger(cls.__module__)
        return result

    def __init__(
        self,
        token: str,
        base_url: str,
        timeout: float | tuple,
        session: requests.Session | None = None,
    ):
        if not token or not isinstance(token, str):
            raise ValueError(self._no_token_message)
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def __repr__(self):
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    # ------------------------------------------------------------ bank differences

    def _error_body(self, body: dict) -> BankErrorBody:
        """The code, message, details and id of the bank's error answer ``body`` (``{}``
        when the answer is not a JSON object)."""
        raise NotImplementedError

    def _answer(self, payload: Any) -> Any:
        """What `_request` returns of a successful answer's decoded JSON ``payload``:
        here the payload itself, which must be JSON.

        :raises ValueError: the answer is not what the bank sends (the text becomes a
            `BankProtocolError`).
        """
        if payload is None:
            raise ValueError("answer is not JSON")
        return payload

    # ---------------------------------------------------------------- shared part

    def _protocol_error(self, method, path, message):
        error = BankProtocolError(f"{self.bank_label} {method} {path}: {message}")
        self._logger.warning("%s [BankProtocolError]", error)
        return error

    def _parse(self, model, data, method, path):
        try:
            return parse_bank_answer(model, data)
        except pydantic.ValidationError as exc:
            raise self._protocol_error(method, path, f"unexpected answer ({describe_validation_error(exc)})") from None

    def _scrub(self, text):
        """The bank's texts end up in messages and logs: never let the token ride along."""
        return scrub_secrets(text, self._token)

    def _request(self, method: str, path: str, *, params=None, body=None) -> Any:
        """The one place that talks HTTP to the bank.

        Sends ``method`` to ``<base_url><path>`` with the Bearer token (and a fresh
        `_request_id_header` when the bank takes one), query ``params`` and a JSON
        ``body`` (decimals exact), and returns `_answer` of the decoded JSON answer
        (numbers with decimals as `Decimal`). HTTP 401/403 → `BankAuthError`; 429 →
        `BankRateLimited` (``retry_after`` from ``Retry-After``); 5xx, the
        `_unavailable_statuses`, timeouts, connection errors → `BankUnavailable`; other
        4xx with the bank's error code or message (`_error_body`) → `BankRejected`,
        without → `BankProtocolError`; an answer `_answer` refuses →
        `BankProtocolError`. The bank's code, details and id (``error_id``) ride on the
        error, its texts scrubbed of the token. Logs the method, path, request id,
        status and time; never the token or the bodies.
        """
        url = f"{self.base_url}{path}"
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        request_id = None
        if self._request_id_header:
            request_id = str(uuid.uuid4())
            headers[self._request_id_header] = request_id
        data = None
        if body is not None:
            data = dumps_json(body)
            headers["Content-Type"] = "application/json; charset=utf-8"
        label = f"{self.bank_label} {method} {path}"
        started = time.monotonic()

        def log_tags(*tags, error_id=None):
            tags = list(tags)
            if request_id is not None:
                tags.append(f"{self._request_id_header} {request_id}")
            if error_id:
                tags.append(f"{self._error_id_label} {error_id}")
            tags.append(f"{(time.monotonic() - started) * 1000:.0f} ms")
            return "; ".join(tags)

        def fail(error_class, message, error_id=None, **kwargs):
            error = error_class(f"{label}: {message}", **kwargs)
            error.error_id = error_id
            if request_id is not None:
                error.request_id = request_id
            self._logger.warning("%s [%s]", error, log_tags(type(error).__name__, error_id=error_id))
            return error

        response = send(
            lambda: self.session.request(method, url, params=params, data=data, headers=headers, timeout=self.timeout),
            fail,
        )

        status = response.status_code
        try:
            payload = loads_json(response.content)
        except (UnicodeDecodeError, ValueError):
            payload = None

        if status >= 400:
            said = self._error_body(payload if isinstance(payload, dict) else {})
            code = said.code
            code = None if code in (None, "") or isinstance(code, bool) else str(code)
            bank_message = self._scrub(said.message)
            details = self._scrub(said.details)
            error_id = str(said.error_id) if said.error_id not in (None, "") else None

            def bank_text(default):
                text = bank_message or default
                if code:
                    text = f"{text} ({code})"
                if details and details != bank_message:
                    text = f"{text}: {details}"
                return text

            if status == 429:
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
                wait = f", retry after {retry_after} s" if retry_after is not None else ""
                raise fail(
                    BankRateLimited,
                    bank_text(f"too many requests (HTTP 429{wait})"),
                    error_id=error_id,
                    code=code,
                    retry_after=retry_after,
                )
            if status in (401, 403):
                raise fail(
                    BankAuthError,
                    bank_text(
                        f"access denied (HTTP {status}): the token is wrong, revoked, "
                        f"expired or lacks {self._token_lacks}"
                    ),
                    error_id=error_id,
                    code=code,
                    details=details,
                    http_status=status,
                )
            if status >= 500 or status in self._unavailable_statuses:
                raise fail(
                    BankUnavailable,
                    bank_text(f"bank error (HTTP {status})"),
                    error_id=error_id,
                    code=code,
                    http_status=status,
                )
            if code or bank_message:
                raise fail(
                    BankRejected,
                    bank_text("refused"),
                    error_id=error_id,
                    code=code,
                    details=details,
                    http_status=status,
                )
            raise fail(BankProtocolError, f"unexpected HTTP {status}", http_status=status)

        try:
            answer = self._answer(payload)
        except ValueError as exc:
            raise fail(BankProtocolError, f"{exc} (HTTP {status})", http_status=status) from None
        self._logger.info("%s: HTTP %s [%s]", label, status, log_tags())
        return answer
