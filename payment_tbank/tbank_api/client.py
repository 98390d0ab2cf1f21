"""HTTP client of the T-Bank Internet Acquiring API v2 (docs/banks.md §1)."""

import json
import logging
import time
from datetime import datetime
from decimal import Decimal
from typing import Any

import pydantic
import requests

from .errors import (
    BankAuthError,
    BankProtocolError,
    BankRateLimited,
    BankUnavailable,
)
from .transport import describe_validation_error, retry_after_seconds, scrub_secrets, send
from .const import DEFAULT_ERROR_CLASS, DEFAULT_TIMEOUT, ERROR_CODE_CLASSES, PRODUCTION_URL
from .schemas import (
    CancelResponse,
    ConfirmResponse,
    GetQrResponse,
    GetStateResponse,
    InitRequest,
    InitResponse,
    Receipt,
    check_receipt_total,
)
from .signing import compute_token

__all__ = ["TBankAcquiringClient"]

_logger = logging.getLogger(__name__)

# Fields worth naming in a log line: they identify the operation and are not secret.
_LOGGED_IDS = ("OrderId", "PaymentId")


class TBankAcquiringClient:
    """Client of T-Bank Internet Acquiring API v2 (docs/banks.md §1).

    :param terminal_key: ``TerminalKey`` of the terminal (§1.2).
    :param password: the terminal's password; used only to sign (§1.6), never sent,
        logged or shown.
    :param base_url: ``PRODUCTION_URL`` (also for DEMO terminals) or ``TEST_URL`` (§1.1),
        or the bank sandbox.
    :param timeout: ``requests`` timeout, ``(connect, read)`` seconds.
    :param session: a ``requests.Session`` to reuse (connection pooling, test doubles).

    Every method raises a subclass of `bank_api.errors.BankError` on failure and returns
    a parsed response model on success (``Success: true``).
    """

    def __init__(
        self,
        terminal_key: str,
        password: str,
        base_url: str = PRODUCTION_URL,
        timeout: float | tuple = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ):
        if not terminal_key or not password:
            raise ValueError("T-Bank acquiring needs a TerminalKey and a password")
        self.terminal_key = terminal_key
        self._password = password
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = session or requests.Session()

    def __repr__(self):
        return f"{type(self).__name__}(terminal_key={self.terminal_key!r}, base_url={self.base_url!r})"

    # ------------------------------------------------------------------ operations

    def init(
        self,
        amount: int,
        order_id: str,
        description: str | None = None,
        pay_type: str | None = None,
        notification_url: str | None = None,
        success_url: str | None = None,
        fail_url: str | None = None,
        redirect_due_date: datetime | None = None,
        data: dict[str, Any] | None = None,
        receipt: Receipt | None = None,
        language: str | None = None,
        customer_key: str | None = None,
    ) -> InitResponse:
        """Create a payment and get its ``PaymentURL`` (docs/banks.md §1.3 Init).

        :param amount: int kopecks; must equal ``receipt``'s items total if a receipt is given.
        :param order_id: the merchant's order id (≤36 chars, unique per operation, §6.6).
            Reuse it when retrying after `BankUnavailable`, so the bank can refuse a duplicate.
        :param pay_type: ``"O"`` one-stage, ``"T"`` two-stage; terminal default if None.
        :param redirect_due_date: timezone-aware ``datetime``: link/QR lifetime (1 min-90 days).
        :param data: ``DATA`` key/value pairs (not signed: nested object).
        :param receipt: `Receipt` (not signed: nested object).
        :raises ValueError: bad arguments (naive datetime, receipt total ≠ amount...),
            before anything is sent.
        """
        request = InitRequest(
            amount=amount,
            order_id=order_id,
            description=description,
            pay_type=pay_type,
            notification_url=notification_url,
            success_url=success_url,
            fail_url=fail_url,
            redirect_due_date=redirect_due_date,
            data=data,
            receipt=receipt,
            language=language,
            customer_key=customer_key,
        )
        return self._call("Init", request.to_payload(), InitResponse)

    def get_state(self, payment_id: str | int) -> GetStateResponse:
        """Current status of one payment (docs/banks.md §1.4 GetState)."""
        payload = {"PaymentId": self._payment_id(payment_id)}
        return self._call("GetState", payload, GetStateResponse)

    def confirm(
        self,
        payment_id: str | int,
        amount: int | None = None,
        receipt: Receipt | None = None,
    ) -> ConfirmResponse:
        """Capture a two-stage (``AUTHORIZED``) payment, fully or for ``amount`` kopecks
        (docs/banks.md §1.4 Confirm; within 7 days of authorisation). A receipt given here
        replaces the one sent in Init; its total must equal ``amount`` when both are given."""
        payload = self._amount_and_receipt(payment_id, amount, receipt)
        return self._call("Confirm", payload, ConfirmResponse)

    def cancel(
        self,
        payment_id: str | int,
        amount: int | None = None,
        receipt: Receipt | None = None,
    ) -> CancelResponse:
        """Void (NEW/AUTHORIZED) or refund (CONFIRMED) a payment, fully or partially for
        ``amount`` kopecks (docs/banks.md §1.4 Cancel). ``receipt`` is the refund receipt;
        its total must equal ``amount`` when both are given."""
        payload = self._amount_and_receipt(payment_id, amount, receipt)
        return self._call("Cancel", payload, CancelResponse)

    def get_qr(self, payment_id: str | int, data_type: str = "PAYLOAD") -> GetQrResponse:
        """SBP QR of a payment created by Init (docs/banks.md §1.4 GetQr, §5):
        ``data_type="PAYLOAD"`` gives the ``https://qr.nspk.ru/...`` link, ``"IMAGE"`` an SVG."""
        if data_type not in ("PAYLOAD", "IMAGE"):
            raise ValueError(f"DataType must be PAYLOAD or IMAGE, got {data_type!r}")
        payload = {"PaymentId": self._payment_id(payment_id), "DataType": data_type}
        return self._call("GetQr", payload, GetQrResponse)

    # --------------------------------------------------------------------- plumbing

    @staticmethod
    def _payment_id(payment_id):
        if isinstance(payment_id, bool) or not isinstance(payment_id, (int, str)) or not payment_id:
            raise ValueError(f"PaymentId must be a number or text, got {payment_id!r}")
        return str(payment_id)

    def _amount_and_receipt(self, payment_id, amount, receipt):
        payload = {"PaymentId": self._payment_id(payment_id)}
        if amount is not None:
            if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
                raise ValueError(f"Amount must be a positive int of kopecks, got {amount!r}")
            payload["Amount"] = amount
        if receipt is not None:
            receipt = Receipt.model_validate(receipt)
            check_receipt_total(receipt, amount)
            payload["Receipt"] = receipt.to_payload()
        return payload

    @staticmethod
    def _ids(payload):
        found = [f"{key}={payload[key]!r}" for key in _LOGGED_IDS if payload.get(key) is not None]
        return " ".join(found) or "no id"

    def _call(self, method, payload, response_model):
        data = self._request(method, payload)
        try:
            return response_model.model_validate(data)
        except pydantic.ValidationError as exc:
            message = f"T-Bank {method}: unexpected answer ({describe_validation_error(exc)})"
            _logger.warning("%s [BankProtocolError; %s]", message, self._ids(payload))
            raise BankProtocolError(message) from None

    def _request(self, method: str, payload: dict) -> dict:
        """The one place that talks HTTP to the bank (docs/banks.md §1.1, §1.6, §1.8).

        Adds ``TerminalKey`` and ``Token`` to ``payload``, POSTs it as JSON to
        ``<base_url>/<method>`` with the client's timeout and returns the decoded answer
        if it says ``Success: true``. Everything else becomes a typed `BankError`:
        HTTP 401/403 → `BankAuthError`; 429 → `BankRateLimited`; 5xx, timeouts and
        connection errors → `BankUnavailable`; a body that is not a JSON object →
        `BankProtocolError`; ``Success: false`` → the class `ERROR_CODE_CLASSES` gives for
        its ``ErrorCode`` (`BankRejected` by default). Logs method, ids and outcome,
        never the password, the token or the bodies.
        """
        body = {key: value for key, value in payload.items() if value is not None}
        body["TerminalKey"] = self.terminal_key
        token = compute_token(body, self._password)
        body["Token"] = token
        url = f"{self.base_url}/{method}"
        ids = self._ids(body)
        started = time.monotonic()

        def fail(error_class, message, **kwargs):
            error = error_class(f"T-Bank {method}: {message}", **kwargs)
            _logger.warning(
                "%s [%s; %s; %.0f ms]",
                error,
                type(error).__name__,
                ids,
                (time.monotonic() - started) * 1000,
            )
            return error

        response = send(lambda: self.session.post(url, json=body, timeout=self.timeout), fail)

        status = response.status_code
        if status == 429:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            wait = f", retry after {retry_after} s" if retry_after is not None else ""
            raise fail(BankRateLimited, f"too many requests (HTTP 429{wait})", retry_after=retry_after)
        if status in (401, 403):
            raise fail(
                BankAuthError,
                f"access denied (HTTP {status}): check TerminalKey and password",
                http_status=status,
            )
        if status >= 500:
            raise fail(BankUnavailable, f"bank error (HTTP {status})", http_status=status)

        try:
            data = json.loads(response.content.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, ValueError):
            data = None
        if not isinstance(data, dict):
            raise fail(
                BankProtocolError,
                f"answer is not a JSON object (HTTP {status})",
                http_status=status,
            )

        success = data.get("Success")
        if isinstance(success, str) and success.lower() in ("true", "false"):
            success = success.lower() == "true"
        if status >= 400 and data.get("ErrorCode") in (None, "", "0", 0):
            raise fail(BankProtocolError, f"unexpected HTTP {status}", http_status=status)
        if success is True and status < 400:
            _logger.info(
                "T-Bank %s: Success [%s; %.0f ms]%s",
                method,
                ids,
                (time.monotonic() - started) * 1000,
                "".join(f" {key}={data[key]}" for key in ("PaymentId", "Status") if key in data),
            )
            return data
        if success not in (True, False) and status < 400:
            raise fail(BankProtocolError, "answer has no Success flag", http_status=status)

        code = data.get("ErrorCode")
        code = None if code is None or isinstance(code, bool) else str(code)
        error_class = ERROR_CODE_CLASSES.get(code, DEFAULT_ERROR_CLASS)
        bank_message = scrub_secrets(data.get("Message"), self._password, token) or "refused"
        details = scrub_secrets(data.get("Details"), self._password, token) or None
        text = f"{bank_message} (ErrorCode {code})" if code else bank_message
        if details and details != bank_message:
            text = f"{text}: {details}"
        raise fail(error_class, text, code=code, details=details, http_status=status)
