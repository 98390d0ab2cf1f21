"""T-Bank Internet Acquiring API v2 (``POST /v2/<Method>``) with its hosted payment page.

Follows the project notes docs/banks.md §1 (methods, statuses, token, notifications, test
cards) and §5 (SBP QR payloads).  Every API answer is HTTP 200 JSON with ``Success``,
``ErrorCode`` ("0" on success), ``Message`` and ``Details`` on errors, like the bank.
"""

from __future__ import annotations

import binascii
import copy
import hashlib
import re
import urllib.parse
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from . import pages
from .http_util import BodyError, Request, Response
from .registry import BankModule, register_bank
from .tokens import check_token, make_token

NAME = "tbank_acquiring"
PAYMENTS = "tbank_acquiring_payments"  # collection name (file tbank_acquiring_payments.jsonl)

# -- test cards (docs/banks.md §1.1) ------------------------------------------------------------
SUCCESS_CARDS = {"2200770239097761", "2201382000000013", "2201382000000039"}
CHALLENGE_CARD = "2201382000000047"
ACS_PASSWORD = "1qwezxc"
DECLINES = {
    "2201382000000021": ("REJECTED", "1005", "Операция отклонена банком-эмитентом / Payment declined by the issuer"),
    "2201382000000831": ("REJECTED", "1051", "Недостаточно средств на карте / Insufficient funds"),
    "2201382000000005": ("AUTH_FAIL", "101", "Не пройдена идентификация 3DS / 3-D Secure authentication failed"),
}
UNKNOWN_CARD = (
    "REJECTED",
    "1014",
    "Неверные реквизиты карты: это не тестовая карта / Invalid card: not a sandbox test card",
)
ACS_FAIL = ("AUTH_FAIL", "101", "Неверный пароль 3-D Secure / Wrong 3-D Secure password")
DEFAULT_SUCCESS_CARD = "2200770239097761"
DEFAULT_SBP_PHONE = "+79161234542"

# -- statuses ------------------------------------------------------------------------------------
PAYABLE = {"NEW", "FORM_SHOWED"}
EXPIRABLE = {"NEW", "FORM_SHOWED", "3DS_CHECKING"}
PAID = {"AUTHORIZED", "CONFIRMED"}
NOTIFY_STATUSES = {
    "AUTHORIZED",
    "CONFIRMED",
    "PARTIAL_REVERSED",
    "REVERSED",
    "CANCELED",
    "PARTIAL_REFUNDED",
    "REFUNDED",
    "REJECTED",
    "DEADLINE_EXPIRED",
}
UNSUCCESSFUL = {"REJECTED", "AUTH_FAIL", "DEADLINE_EXPIRED"}

FIRST_PAYMENT_ID = 7000000001
SBP_BANK_ID = "100000000004"  # T-Bank's SBP member id
TAXATIONS = {"osn", "usn_income", "usn_income_outcome", "esn", "patent", "envd"}
# Receipt item Tax codes (docs/banks.md §1.3): vat22/vat122 (22 % and 22/122) since 1 January
# 2026, the legacy vat20/vat120 still accepted for shipments made before.
TAXES = {
    "none",
    "vat0",
    "vat5",
    "vat7",
    "vat10",
    "vat20",
    "vat22",
    "vat105",
    "vat107",
    "vat110",
    "vat120",
    "vat122",
}
PAYMENT_METHODS = {
    "full_prepayment",
    "prepayment",
    "advance",
    "full_payment",
    "partial_payment",
    "credit",
    "credit_payment",
}
DEFAULT_LINK_LIFETIME = timedelta(hours=24)
MIN_LINK_LIFETIME = timedelta(minutes=1)
MAX_LINK_LIFETIME = timedelta(days=90)

MSG_TOKEN = "Неверный токен. Проверьте пару TerminalKey/SecretKey."
MSG_PARAMS = "Неверные параметры."


class ApiError(Exception):
    def __init__(self, code: str, message: str, details: str = "", http_status: int = 200):
        super().__init__(message)
        self.code, self.message, self.details, self.http_status = code, message, details, http_status


# -- small helpers ---------------------------------------------------------------------------------
def missing(name: str) -> ApiError:
    return ApiError(
        "2",
        f"Не передан обязательный параметр {name} / Missing required parameter {name}",
        f"Поле {name} обязательно / Field {name} is required.",
    )


def invalid(name: str, why: str) -> ApiError:
    return ApiError("1", f"{MSG_PARAMS} Поле {name} / Invalid field {name}", f"{name}: {why}")


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def mask_pan(pan: str) -> str:
    return pan[:6] + "*" * max(len(pan) - 10, 0) + pan[-4:]


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "") or DEFAULT_SBP_PHONE[1:]
    if len(digits) == 10:
        digits = "7" + digits
    if len(digits) == 11 and digits[0] == "8":
        digits = "7" + digits[1:]
    if len(digits) != 11:
        digits = DEFAULT_SBP_PHONE[1:]
    return f"+{digits[0]} ({digits[1:4]}) ***-**-{digits[-2:]}"


def card_id_for(pan: str) -> int:
    return 100000000 + int(hashlib.sha256(pan.encode()).hexdigest()[:8], 16) % 900000000


def normalise_exp(text: str | None) -> str:
    digits = re.sub(r"\D", "", text or "")
    if len(digits) == 4:
        return digits
    if len(digits) == 6:  # MM/YYYY
        return digits[:2] + digits[4:]
    return "1230"


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def sbp_payload(qrc_id: str, amount: int) -> str:
    head = f"https://qr.nspk.ru/{qrc_id}?type=02&bank={SBP_BANK_ID}&sum={int(amount)}&cur=RUB"
    crc = binascii.crc_hqx(head.encode("ascii"), 0xFFFF)
    return f"{head}&crc={crc:04X}"


def qr_svg(text: str) -> str | None:
    """SVG of a QR code, or None when the optional ``qrcode`` package is missing."""
    try:
        import qrcode
        import qrcode.image.svg
    except ImportError:
        return None
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage)
    data = image.to_string()
    return data.decode("utf-8") if isinstance(data, bytes) else str(data)


def with_query(url: str, params: dict, payment: dict) -> str:
    """Substitute ``${Name}`` placeholders and append the bank's query parameters."""

    def sub(match):
        value = params.get(match.group(1), payment.get(match.group(1), ""))
        return urllib.parse.quote(str(value), safe="")

    url = re.sub(r"\$\{(\w+)\}", sub, url)
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    present = {k for k, _ in query}
    query += [(k, str(v)) for k, v in params.items() if k not in present]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


@register_bank
class TBankAcquiring(BankModule):
    name = NAME
    title = "T-Bank Internet Acquiring API v2"

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self.public_url = sandbox.public_url
        self._seed_terminals(replace=False)
        self.methods = {
            "Init": self.m_init,
            "GetState": self.m_get_state,
            "Confirm": self.m_confirm,
            "Cancel": self.m_cancel,
            "CheckOrder": self.m_check_order,
            "GetQr": self.m_get_qr,
            "SbpPayTest": self.m_sbp_pay_test,
        }

    # -- state ------------------------------------------------------------------------------------
    def state_defaults(self) -> dict:
        return {"terminals": {}}

    def _bank(self, data: dict) -> dict:
        return data["banks"].setdefault(NAME, self.state_defaults())

    def _payments(self) -> dict:
        """All payments by str(PaymentId), a journaled collection (caller holds the lock)."""
        return self.store.collection(PAYMENTS)

    def _touch(self, payment: dict) -> None:
        self.store.touch(PAYMENTS, str(payment["PaymentId"]))

    def _seed_terminals(self, replace: bool) -> None:
        config = self.options.get("terminals") or {}
        with self.store.change() as data:
            bank = self._bank(data)
            if replace:
                bank["terminals"] = {}
            for key, entry in config.items():
                bank["terminals"][key] = dict(entry)

    def on_reset(self) -> None:
        self._seed_terminals(replace=True)

    def admin_state(self) -> dict:
        with self.store.read() as data:
            bank = self._bank(data)
            return {
                "payments": copy.deepcopy(self._payments()),
                "terminals": [
                    {"TerminalKey": k, **{n: v for n, v in t.items() if n != "password"}}
                    for k, t in bank["terminals"].items()
                ],
            }

    # -- routes ---------------------------------------------------------------------------------------
    def register(self, router) -> None:
        router.add("POST", "/v2/{method}", self.api, kind="api", owner=NAME)
        router.add_fallback("/v2/", self.api_fallback, kind="api", owner=NAME)
        router.add("GET", "/pay/{payment_id}", self.page_get, owner=NAME)
        router.add("POST", "/pay/{payment_id}", self.page_post, owner=NAME)
        router.add("GET", "/pay/{payment_id}/acs", self.acs_get, owner=NAME)
        router.add("POST", "/pay/{payment_id}/acs", self.acs_post, owner=NAME)
        router.add("POST", "/_admin/pay", self.admin_pay, kind="admin", owner=NAME)
        router.add("GET", "/_admin/terminals", self.admin_terminals_get, kind="admin", owner=NAME)
        router.add("POST", "/_admin/terminals", self.admin_terminals_post, kind="admin", owner=NAME)

    # -- API plumbing ------------------------------------------------------------------------------------
    @staticmethod
    def _error(exc: ApiError, body: dict | None = None) -> Response:
        answer = {"Success": False, "ErrorCode": exc.code, "Message": exc.message, "Details": exc.details}
        if body and isinstance(body.get("TerminalKey"), str):
            answer = {"TerminalKey": body["TerminalKey"], **answer}
        return Response.json(answer, exc.http_status)

    def internal_error(self, request: Request) -> Response:
        return self._error(
            ApiError(
                "9999", "Внутренняя ошибка системы / Internal error", "Unexpected error in the sandbox; see its log."
            )
        )

    def api_fallback(self, request: Request) -> Response:
        allowed = request.params.get("allowed")
        if allowed:
            return self._error(
                ApiError(
                    "405",
                    "Метод HTTP не поддерживается / HTTP method not allowed",
                    f"{request.method} {request.path}: use POST with a JSON body",
                    405,
                )
            )
        return self._error(
            ApiError("404", "Метод не найден / Unknown method", f"{request.path} is not a method of this API", 404)
        )

    def api(self, request: Request) -> Response:
        method = request.params["method"]
        handler = self.methods.get(method)
        if handler is None:
            return self._error(
                ApiError(
                    "404", f"Метод не найден / Unknown method {method}", f"Supported: {', '.join(self.methods)}", 404
                )
            )
        try:
            body = request.json_object()
        except BodyError as exc:
            return self._error(
                ApiError("1", "Неверный формат запроса / Malformed request body", f"Expected a JSON object: {exc}")
            )
        try:
            terminal_key, terminal = self._authenticate(body)
            result = handler(body, terminal_key, terminal)
        except ApiError as exc:
            return self._error(exc, body)
        return Response.json({"Success": True, "ErrorCode": "0", **result})

    def _authenticate(self, body: dict) -> tuple[str, dict]:
        key = body.get("TerminalKey")
        if key is None or key == "":
            raise missing("TerminalKey")
        if not isinstance(key, str):
            raise invalid("TerminalKey", "must be a string")
        with self.store.read() as data:
            terminal = copy.deepcopy(self._bank(data)["terminals"].get(key))
        if terminal is None:
            raise ApiError(
                "205",
                "Терминал не найден / Terminal not found",
                f"TerminalKey {key!r} is not configured in the sandbox.",
            )
        if not isinstance(body.get("Token"), str) or not body.get("Token"):
            raise ApiError("204", MSG_TOKEN, "Token is missing.")
        if not check_token(body, terminal.get("password", "")):
            raise ApiError("204", MSG_TOKEN, "Token does not match the request and terminal password.")
        return key, terminal

    # -- validation helpers --------------------------------------------------------------------------------
    @staticmethod
    def _opt_str(body: dict, name: str, max_len: int, choices=None, allow_int: bool = False) -> str | None:
        value = body.get(name)
        if value is None or value == "":
            return None
        if allow_int and is_int(value):
            value = str(value)
        if not isinstance(value, str):
            raise invalid(name, "must be a string")
        if len(value) > max_len:
            raise invalid(name, f"must be at most {max_len} characters")
        if choices and value not in choices:
            raise invalid(name, f"must be one of {', '.join(sorted(choices))}")
        return value

    def _req_str(self, body: dict, name: str, max_len: int, allow_int: bool = False) -> str:
        value = self._opt_str(body, name, max_len, allow_int=allow_int)
        if value is None:
            raise missing(name)
        return value

    @staticmethod
    def _amount(body: dict, name: str = "Amount", required: bool = True) -> int | None:
        value = body.get(name)
        if value is None or value == "":
            if required:
                raise missing(name)
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not is_int(value) or value <= 0 or value > 9_999_999_999:
            raise invalid(name, "must be a positive integer number of kopecks (at most 10 digits)")
        return value

    @staticmethod
    def _url(body: dict, name: str) -> str | None:
        value = TBankAcquiring._opt_str(body, name, 250)
        if value is not None and not re.match(r"^https?://", value, re.I):
            raise invalid(name, "must be an http(s) URL")
        return value

    @staticmethod
    def _bool(body: dict, name: str) -> bool:
        value = body.get(name)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise invalid(name, "must be a boolean")

    @staticmethod
    def _check_data(value: Any) -> dict | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise invalid("DATA", "must be an object")
        if len(value) > 20:
            raise ApiError("207", "Превышен размер DATA / DATA has too many parameters", "At most 20 key:value pairs.")
        for key, item in value.items():
            if len(key) > 20:
                raise ApiError(
                    "208", "Слишком длинный ключ DATA / DATA key too long", f"Key {key!r} is longer than 20 characters."
                )
            if isinstance(item, (dict, list)) or len(str(item)) > 100:
                raise ApiError(
                    "207",
                    "Превышен размер значения DATA / DATA value too large",
                    f"Value of {key!r} must be a scalar of at most 100 characters.",
                )
        return value

    @staticmethod
    def _check_receipt(value: Any, amount: int) -> dict | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise invalid("Receipt", "must be an object")
        items = value.get("Items")
        if not isinstance(items, list) or not items:
            raise ApiError("309", "Чек пустой / Receipt is empty", "Receipt.Items must be a non-empty array.")
        if len(items) > 100:
            raise invalid("Receipt.Items", "at most 100 items")
        if value.get("Taxation") not in TAXATIONS:
            raise invalid("Receipt.Taxation", f"must be one of {', '.join(sorted(TAXATIONS))}")
        if not (value.get("Email") or value.get("Phone")):
            raise invalid("Receipt.Email", "Receipt needs Email or Phone")
        total = 0
        for index, item in enumerate(items):
            where = f"Receipt.Items[{index}]"
            if not isinstance(item, dict):
                raise invalid(where, "must be an object")
            for field in ("Name", "Price", "Quantity", "Amount", "Tax"):
                if item.get(field) in (None, ""):
                    raise missing(f"{where}.{field}")
            if not is_int(item["Amount"]) or item["Amount"] < 0:
                raise invalid(f"{where}.Amount", "must be a non-negative integer (kopecks)")
            if not is_int(item["Price"]) or item["Price"] < 0:
                raise invalid(f"{where}.Price", "must be a non-negative integer (kopecks)")
            if item["Tax"] not in TAXES:
                raise invalid(f"{where}.Tax", f"must be one of {', '.join(sorted(TAXES))}")
            if item.get("PaymentMethod") is not None and item["PaymentMethod"] not in PAYMENT_METHODS:
                raise invalid(f"{where}.PaymentMethod", f"must be one of {', '.join(sorted(PAYMENT_METHODS))}")
            total += item["Amount"]
        if total != amount:
            raise ApiError(
                "308",
                "Сумма позиций чека не равна сумме платежа / Receipt items do not add up to the amount",
                f"Sum of Receipt.Items[].Amount = {total}, payment amount = {amount}.",
            )
        return value

    def _parse_due(self, body: dict) -> tuple[str, float]:
        now = self.clock.now()
        raw = body.get("RedirectDueDate")
        if raw is None or raw == "":
            due = now + DEFAULT_LINK_LIFETIME.total_seconds()
            return iso(due), due
        if not isinstance(raw, str):
            raise ApiError(
                "12",
                "Неверный параметр RedirectDueDate / Invalid RedirectDueDate",
                "Expected a string like 2016-08-31T12:28:00+03:00",
            )
        try:
            moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise ApiError(
                "12",
                "Неверный параметр RedirectDueDate / Invalid RedirectDueDate",
                f"{raw!r}: expected YYYY-MM-DDTHH:MM:SS+HH:MM (with a UTC offset)",
            )
        due = moment.timestamp()
        if not (MIN_LINK_LIFETIME.total_seconds() - 5 <= due - now <= MAX_LINK_LIFETIME.total_seconds()):
            raise ApiError(
                "3017",
                "RedirectDueDate вне допустимого диапазона / RedirectDueDate out of range",
                "RedirectDueDate must be between 1 minute and 90 days from now.",
            )
        return raw, due

    @staticmethod
    def _payment_id(body: dict) -> int:
        raw = body.get("PaymentId")
        if raw is None or raw == "":
            raise ApiError(
                "201",
                "Поле PaymentId не должно быть пустым / PaymentId is required",
                "Missing required parameter PaymentId.",
            )
        if is_int(raw) and raw > 0:
            return raw
        if isinstance(raw, str) and raw.isdigit() and len(raw) <= 20:
            return int(raw)
        raise invalid("PaymentId", "must be a number or a string of digits")

    def _payment(self, data: dict, terminal_key: str, payment_id: int) -> dict:
        payment = self._payments().get(str(payment_id))
        if payment is None or payment["TerminalKey"] != terminal_key:
            raise ApiError(
                "255",
                "Платёж не найден / Payment not found",
                f"PaymentId {payment_id} does not exist for this terminal.",
            )
        return payment

    # -- status changes and notifications -----------------------------------------------------------------------------
    def _set_status(
        self, data: dict, payment: dict, status: str, *, error_code: str = "0", message: str = "", notify: bool = True
    ) -> None:
        now = self.clock.now()
        self._touch(payment)
        payment["Status"] = status
        payment["ErrorCode"] = error_code
        payment["Message"] = message
        payment["updated"] = iso(now)
        payment["history"].append({"Status": status, "time": iso(now)})
        if notify and status in NOTIFY_STATUSES:
            self._notify(data, payment)

    def _notify(self, data: dict, payment: dict) -> None:
        terminal = self._bank(data)["terminals"].get(payment["TerminalKey"], {})
        status = payment["Status"]
        payload: dict[str, Any] = {
            "TerminalKey": payment["TerminalKey"],
            "OrderId": payment["OrderId"],
            "Success": status not in UNSUCCESSFUL,
            "Status": status,
            "PaymentId": payment["PaymentId"],
            "ErrorCode": payment.get("ErrorCode") or "0",
            "Amount": payment["Amount"],
        }
        if payment.get("CardId") is not None:
            payload["CardId"] = payment["CardId"]
        if payment.get("Pan"):
            payload["Pan"] = payment["Pan"]
        if payment.get("ExpDate"):
            payload["ExpDate"] = payment["ExpDate"]
        if payment.get("RebillId") is not None:
            payload["RebillId"] = payment["RebillId"]
        payload["Token"] = make_token(payload, terminal.get("password", ""))
        url = payment.get("NotificationURL") or terminal.get("notification_url")
        self.notifier.enqueue(
            data,
            bank=NAME,
            key=f"{NAME}:{payment['PaymentId']}",
            url=url,
            payload=payload,
            meta={"PaymentId": payment["PaymentId"], "OrderId": payment["OrderId"], "Status": status},
            expect="OK",
        )

    def _expire_if_due(self, data: dict, payment: dict) -> bool:
        """Move an unpaid payment past its RedirectDueDate to DEADLINE_EXPIRED. True if expired now."""
        if payment["Status"] in EXPIRABLE and self.clock.now() > payment["due_ts"]:
            payment.pop("_pending_card", None)
            self._set_status(
                data,
                payment,
                "DEADLINE_EXPIRED",
                error_code="0",
                message="Срок действия ссылки истёк / Payment link expired",
            )
            return True
        return False

    def on_tick(self) -> None:
        now = self.clock.now()
        with self.store.read() as data:
            due = [pid for pid, p in self._payments().items() if p["Status"] in EXPIRABLE and now > p["due_ts"]]
        if due:
            with self.store.change() as data:
                for pid in due:
                    payment = self._payments().get(pid)
                    if payment:
                        self._expire_if_due(data, payment)

    # -- payment outcomes (shared by the HTML page, SbpPayTest and /_admin/pay) ---------------------------------------------
    def _card_success(self, data: dict, payment: dict, masked: str, card_id: int, exp: str) -> None:
        payment.update(method="card", Pan=masked, CardId=card_id, ExpDate=exp)
        payment.pop("_pending_card", None)
        payment["RRN"] = str(100000000000 + payment["PaymentId"] % 900000000000)
        if payment.get("Recurrent") == "Y" and payment.get("RebillId") is None:
            payment["RebillId"] = self.store.next_id("tbank_rebill", 1700000000001)
        self._set_status(data, payment, "AUTHORIZED")
        if payment.get("PayType", "O") == "O":
            self._set_status(data, payment, "CONFIRMED")

    def _card_fail(
        self,
        data: dict,
        payment: dict,
        outcome: tuple,
        masked: str | None = None,
        card_id: int | None = None,
        exp: str | None = None,
    ) -> None:
        status, code, message = outcome
        payment.update(method="card")
        if masked:
            payment.update(Pan=masked, CardId=card_id, ExpDate=exp)
        payment.pop("_pending_card", None)
        self._set_status(data, payment, status, error_code=code, message=message)

    def _sbp_success(self, data: dict, payment: dict, phone: str | None) -> None:
        payment.update(method="sbp", Pan=mask_phone(phone or DEFAULT_SBP_PHONE))
        payment.setdefault("qrc_id", None)
        if not payment.get("qrc_id"):
            payment["qrc_id"] = self._qrc_id(payment["PaymentId"])
        payment["RRN"] = str(100000000000 + payment["PaymentId"] % 900000000000)
        self._set_status(data, payment, "CONFIRMED")

    def pay(
        self,
        payment_id: int,
        *,
        method: str = "card",
        card: str | None = None,
        exp: str | None = None,
        phone: str | None = None,
        acs_password: str | None = None,
        auto_acs: bool = False,
    ) -> dict:
        """Pay a payment as a customer would. Returns {"outcome": ..., "payment": snapshot}.

        outcome: paid | failed | challenge | expired | not_payable | not_found.  With the
        challenge card, ``acs_password`` (or ``auto_acs`` = the right password) answers the
        ACS step at once; otherwise the payment waits in 3DS_CHECKING.
        """
        with self.store.change() as data:
            payment = self._payments().get(str(payment_id))
            if payment is None:
                return {"outcome": "not_found", "payment": None}
            if self._expire_if_due(data, payment) or payment["Status"] == "DEADLINE_EXPIRED":
                return {"outcome": "expired", "payment": copy.deepcopy(payment)}
            if payment["Status"] not in PAYABLE:
                return {"outcome": "not_payable", "payment": copy.deepcopy(payment)}
            if method == "sbp":
                self._sbp_success(data, payment, phone)
                return {"outcome": "paid", "payment": copy.deepcopy(payment)}
            pan = re.sub(r"[\s-]", "", card or "")
            looks_like_card = bool(re.fullmatch(r"\d{12,19}", pan))
            masked, card_id, exp = mask_pan(pan), card_id_for(pan), normalise_exp(exp)
            if pan in SUCCESS_CARDS:
                self._card_success(data, payment, masked, card_id, exp)
                return {"outcome": "paid", "payment": copy.deepcopy(payment)}
            if pan == CHALLENGE_CARD:
                payment["_pending_card"] = {"Pan": masked, "CardId": card_id, "ExpDate": exp}
                self._set_status(data, payment, "3DS_CHECKING")
                if acs_password is None and not auto_acs:
                    return {"outcome": "challenge", "payment": copy.deepcopy(payment)}
                return self.acs(payment_id, ACS_PASSWORD if acs_password is None else str(acs_password))
            outcome = DECLINES.get(pan, UNKNOWN_CARD)
            if looks_like_card:
                self._card_fail(data, payment, outcome, masked, card_id, exp)
            else:
                self._card_fail(data, payment, outcome)
            return {"outcome": "failed", "payment": copy.deepcopy(payment)}

    def acs(self, payment_id: int, password: str) -> dict:
        with self.store.change() as data:
            payment = self._payments().get(str(payment_id))
            if payment is None:
                return {"outcome": "not_found", "payment": None}
            if self._expire_if_due(data, payment):
                return {"outcome": "expired", "payment": copy.deepcopy(payment)}
            if payment["Status"] != "3DS_CHECKING":
                return {"outcome": "not_payable", "payment": copy.deepcopy(payment)}
            card = payment.get("_pending_card") or {}
            if password == ACS_PASSWORD:
                self._card_success(data, payment, card.get("Pan"), card.get("CardId"), card.get("ExpDate"))
                return {"outcome": "paid", "payment": copy.deepcopy(payment)}
            self._card_fail(data, payment, ACS_FAIL, card.get("Pan"), card.get("CardId"), card.get("ExpDate"))
            return {"outcome": "failed", "payment": copy.deepcopy(payment)}

    def redirect_url(self, payment: dict) -> str | None:
        success = payment["Status"] in PAID
        with self.store.read() as data:
            terminal = self._bank(data)["terminals"].get(payment["TerminalKey"], {})
        base = (
            (payment.get("SuccessURL") or terminal.get("success_url"))
            if success
            else (payment.get("FailURL") or terminal.get("fail_url"))
        )
        if not base:
            return None
        params = {
            "Success": "true" if success else "false",
            "ErrorCode": payment.get("ErrorCode") or "0",
            "Message": payment.get("Message") or ("None" if success else ""),
            "PaymentId": str(payment["PaymentId"]),
            "OrderId": payment["OrderId"],
            "Amount": str(payment["Amount"]),
        }
        return with_query(base, params, payment)

    # -- API methods ------------------------------------------------------------------------------------------------------------
    def m_init(self, body: dict, terminal_key: str, terminal: dict) -> dict:
        amount = self._amount(body, "Amount")
        order_id = self._req_str(body, "OrderId", 36, allow_int=True)
        record = {
            "Description": self._opt_str(body, "Description", 140),
            "CustomerKey": self._opt_str(body, "CustomerKey", 36, allow_int=True),
            "Recurrent": self._opt_str(body, "Recurrent", 1, choices={"Y"}),
            "PayType": self._opt_str(body, "PayType", 1, choices={"O", "T"}) or terminal.get("pay_type", "O"),
            "Language": self._opt_str(body, "Language", 2, choices={"ru", "en"}) or "ru",
            "NotificationURL": self._url(body, "NotificationURL"),
            "SuccessURL": self._url(body, "SuccessURL"),
            "FailURL": self._url(body, "FailURL"),
            "DATA": self._check_data(body.get("DATA")),
            "Receipt": self._check_receipt(body.get("Receipt"), amount),
        }
        if record["Recurrent"] == "Y" and not record["CustomerKey"]:
            raise missing("CustomerKey")
        due_text, due_ts = self._parse_due(body)
        now = self.clock.now()
        with self.store.change():
            payments = self._payments()
            for other in payments.values():
                if other["TerminalKey"] == terminal_key and other["OrderId"] == order_id and other["Status"] in PAID:
                    raise ApiError(
                        "20",
                        "Повторный идентификатор заказа / Duplicate OrderId",
                        f"Order {order_id!r} already has a paid payment ({other['PaymentId']}).",
                    )
            payment_id = self.store.next_id("tbank_payment", FIRST_PAYMENT_ID)
            payment = {
                "PaymentId": payment_id,
                "TerminalKey": terminal_key,
                "OrderId": order_id,
                "Amount": amount,
                "InitAmount": amount,
                "Status": "NEW",
                **record,
                "RedirectDueDate": due_text,
                "due_ts": due_ts,
                "ErrorCode": "0",
                "Message": "",
                "CardId": None,
                "Pan": None,
                "ExpDate": None,
                "RebillId": None,
                "RRN": None,
                "method": None,
                "qrc_id": None,
                "reversed_amount": 0,
                "refunded_amount": 0,
                "operations": [],
                "external_requests": {},
                "created": iso(now),
                "updated": iso(now),
                "history": [{"Status": "NEW", "time": iso(now)}],
            }
            payments[str(payment_id)] = payment
            self._touch(payment)
        return {
            "TerminalKey": terminal_key,
            "Amount": amount,
            "OrderId": order_id,
            "Status": "NEW",
            "PaymentId": str(payment_id),
            "PaymentURL": f"{self.public_url}/pay/{payment_id}",
        }

    @staticmethod
    def _params(payment: dict) -> list:
        params = [
            {"Key": "Route", "Value": "ACQ"},
            {"Key": "Source", "Value": "sbp" if payment.get("method") == "sbp" else "cards"},
        ]
        if payment.get("CardId") is not None:
            params.append({"Key": "CardId", "Value": str(payment["CardId"])})
        return params

    def m_get_state(self, body: dict, terminal_key: str, terminal: dict) -> dict:
        payment_id = self._payment_id(body)
        with self.store.change() as data:
            payment = self._payment(data, terminal_key, payment_id)
            self._expire_if_due(data, payment)
            return {
                "TerminalKey": terminal_key,
                "Amount": payment["Amount"],
                "OrderId": payment["OrderId"],
                "Status": payment["Status"],
                "PaymentId": str(payment_id),
                "Params": self._params(payment),
            }

    def m_confirm(self, body: dict, terminal_key: str, terminal: dict) -> dict:
        payment_id = self._payment_id(body)
        requested = self._amount(body, "Amount", required=False)
        with self.store.change() as data:
            payment = self._payment(data, terminal_key, payment_id)
            if payment["Status"] not in ("AUTHORIZED", "PARTIAL_REVERSED"):
                raise ApiError(
                    "4",
                    "Изменение статуса платежа невозможно / Payment status cannot be changed",
                    f"Confirm needs status AUTHORIZED, payment is {payment['Status']}.",
                )
            held = payment["Amount"] - payment["reversed_amount"]
            amount = held if requested is None else requested
            if amount > held:
                raise invalid("Amount", f"exceeds the authorised amount ({held})")
            self._check_receipt(body.get("Receipt"), amount)
            payment["Amount"] = amount
            payment["reversed_amount"] = 0
            payment["operations"].append({"type": "confirm", "amount": amount, "time": iso(self.clock.now())})
            self._set_status(data, payment, "CONFIRMED")
            return {
                "TerminalKey": terminal_key,
                "OrderId": payment["OrderId"],
                "Status": "CONFIRMED",
                "PaymentId": str(payment_id),
                "Params": self._params(payment),
            }

    def m_cancel(self, body: dict, terminal_key: str, terminal: dict) -> dict:
        payment_id = self._payment_id(body)
        requested = self._amount(body, "Amount", required=False)
        external = self._opt_str(body, "ExternalRequestId", 256, allow_int=True)
        with self.store.change() as data:
            payment = self._payment(data, terminal_key, payment_id)
            if external and external in payment["external_requests"]:
                return copy.deepcopy(payment["external_requests"][external])
            status = payment["Status"]
            if status in EXPIRABLE:
                if self._expire_if_due(data, payment):
                    raise ApiError(
                        "4",
                        "Изменение статуса платежа невозможно / Payment status cannot be changed",
                        "The payment link has expired (DEADLINE_EXPIRED).",
                    )
                before, after, new_status, amount = payment["Amount"], 0, "CANCELED", payment["Amount"]
                payment.pop("_pending_card", None)
            elif status in ("AUTHORIZED", "PARTIAL_REVERSED", "CONFIRMED", "PARTIAL_REFUNDED"):
                reversing = status in ("AUTHORIZED", "PARTIAL_REVERSED")
                done_key = "reversed_amount" if reversing else "refunded_amount"
                before = payment["Amount"] - payment[done_key]
                amount = before if requested is None else requested
                if amount > before:
                    raise invalid("Amount", f"exceeds the amount available for cancellation ({before})")
                self._check_receipt(body.get("Receipt"), amount)
                after = before - amount
                payment[done_key] += amount
                if reversing:
                    new_status = "REVERSED" if after == 0 else "PARTIAL_REVERSED"
                else:
                    new_status = "REFUNDED" if after == 0 else "PARTIAL_REFUNDED"
            else:
                raise ApiError(
                    "4",
                    "Изменение статуса платежа невозможно / Payment status cannot be changed",
                    f"Cancel is not possible for a payment in status {status}.",
                )
            payment["operations"].append(
                {"type": "cancel", "amount": amount, "status": new_status, "time": iso(self.clock.now())}
            )
            self._set_status(data, payment, new_status)
            answer = {
                "TerminalKey": terminal_key,
                "OrderId": payment["OrderId"],
                "Success": True,
                "ErrorCode": "0",
                "Status": new_status,
                "OriginalAmount": before,
                "NewAmount": after,
                "PaymentId": payment_id,
            }
            if external:
                answer["ExternalRequestId"] = external
                payment["external_requests"][external] = answer
            return copy.deepcopy(answer)

    def m_check_order(self, body: dict, terminal_key: str, terminal: dict) -> dict:
        order_id = self._req_str(body, "OrderId", 36, allow_int=True)
        with self.store.change() as data:
            found = [
                p for p in self._payments().values() if p["TerminalKey"] == terminal_key and p["OrderId"] == order_id
            ]
            if not found:
                raise ApiError(
                    "255",
                    "Заказ не найден / Order not found",
                    f"No payments with OrderId {order_id!r} for this terminal.",
                )
            for payment in found:
                self._expire_if_due(data, payment)
            payments = []
            for p in sorted(found, key=lambda p: p["PaymentId"]):
                entry = {
                    "PaymentId": str(p["PaymentId"]),
                    "Amount": p["Amount"],
                    "Status": p["Status"],
                    "RRN": p.get("RRN") or "",
                    "Success": True,
                    "ErrorCode": p.get("ErrorCode") or "0",
                    "Message": p.get("Message") or "",
                }
                if p.get("method") == "sbp":
                    entry["SbpPaymentId"] = p.get("qrc_id")
                payments.append(entry)
        return {"TerminalKey": terminal_key, "OrderId": order_id, "Payments": payments}

    @staticmethod
    def _qrc_id(payment_id: int) -> str:
        tail = hashlib.sha256(f"sbp-{payment_id}".encode()).hexdigest().upper()
        return ("AD" + f"{payment_id:012d}"[-12:] + tail)[:32]

    def m_get_qr(self, body: dict, terminal_key: str, terminal: dict) -> dict:
        payment_id = self._payment_id(body)
        data_type = self._opt_str(body, "DataType", 10, choices={"PAYLOAD", "IMAGE"}) or "PAYLOAD"
        bank_id = self._opt_str(body, "BankId", 12, allow_int=True)
        with self.store.change() as data:
            payment = self._payment(data, terminal_key, payment_id)
            if self._expire_if_due(data, payment) or payment["Status"] not in PAYABLE:
                raise ApiError(
                    "4",
                    "Изменение статуса платежа невозможно / Payment cannot be paid by SBP",
                    f"GetQr needs status NEW or FORM_SHOWED, payment is {payment['Status']}.",
                )
            if payment["Amount"] < 1000:
                raise ApiError(
                    "3016",
                    "Невозможно сформировать QR / Cannot create the QR code",
                    "SBP amount must be at least 10 RUB (1000 kopecks).",
                )
            if not payment.get("qrc_id"):
                payment["qrc_id"] = self._qrc_id(payment_id)
                self._touch(payment)
            payload = sbp_payload(payment["qrc_id"], payment["Amount"])
            order_id = payment["OrderId"]
        if bank_id:
            payload = f"bank{bank_id}://" + payload.split("://", 1)[1]
        if data_type == "IMAGE":
            svg = qr_svg(payload)
            if svg is None:
                raise ApiError(
                    "3",
                    "Невозможно сформировать изображение QR / Cannot render the QR image",
                    "The sandbox needs the optional 'qrcode' Python package for DataType=IMAGE.",
                )
            payload = svg
        return {
            "TerminalKey": terminal_key,
            "OrderId": order_id,
            "Data": payload,
            "PaymentId": payment_id,
            "RequestKey": str(uuid.uuid4()),
        }

    def m_sbp_pay_test(self, body: dict, terminal_key: str, terminal: dict) -> dict:
        payment_id = self._payment_id(body)
        expired = self._bool(body, "IsDeadlineExpired")
        rejected = self._bool(body, "IsRejected")
        with self.store.change() as data:
            payment = self._payment(data, terminal_key, payment_id)
            if self._expire_if_due(data, payment) or payment["Status"] not in PAYABLE:
                raise ApiError(
                    "4",
                    "Изменение статуса платежа невозможно / Payment status cannot be changed",
                    f"SbpPayTest needs status NEW or FORM_SHOWED, payment is {payment['Status']}.",
                )
            if not payment.get("qrc_id"):
                raise ApiError("4", "QR не сформирован / No SBP QR for this payment", "Call GetQr first.")
            payment["method"] = "sbp"
            if expired:
                self._set_status(data, payment, "DEADLINE_EXPIRED", message="Срок действия QR истёк / QR code expired")
            elif rejected:
                self._set_status(
                    data,
                    payment,
                    "REJECTED",
                    error_code="99",
                    message="Платёж отклонён банком плательщика / Rejected by the payer's bank",
                )
            else:
                self._sbp_success(data, payment, body.get("Phone") if isinstance(body.get("Phone"), str) else None)
        return {"TerminalKey": terminal_key, "PaymentId": str(payment_id)}

    # -- hosted payment page --------------------------------------------------------------------------------------------
    @staticmethod
    def _page_id(request: Request) -> int | None:
        raw = request.params.get("payment_id", "")
        return int(raw) if raw.isdigit() and len(raw) <= 20 else None

    def _snapshot(self, payment_id: int) -> dict | None:
        with self.store.read():
            payment = self._payments().get(str(payment_id))
            return copy.deepcopy(payment) if payment else None

    def _finish_page(self, result: dict, request: Request) -> Response:
        outcome, payment = result["outcome"], result["payment"]
        if outcome == "not_found":
            return Response.html(pages.not_found_page(request.params.get("payment_id", "")), 404)
        if outcome == "challenge":
            return Response.redirect(f"/pay/{payment['PaymentId']}/acs")
        if outcome in ("paid", "failed"):
            url = self.redirect_url(payment)
            if url:
                return Response.redirect(url)
        return Response.html(pages.result_page(payment))

    def page_get(self, request: Request) -> Response:
        payment_id = self._page_id(request)
        payment = self._snapshot(payment_id) if payment_id else None
        if payment is None:
            return Response.html(pages.not_found_page(request.params.get("payment_id", "")), 404)
        if payment["Status"] in EXPIRABLE:
            with self.store.change() as data:
                live = self._payments()[str(payment_id)]
                if not self._expire_if_due(data, live) and live["Status"] == "NEW":
                    self._set_status(data, live, "FORM_SHOWED")
                payment = copy.deepcopy(live)
        if payment["Status"] == "FORM_SHOWED":
            return Response.html(pages.payment_form(payment))
        if payment["Status"] == "3DS_CHECKING":
            return Response.redirect(f"/pay/{payment_id}/acs")
        return Response.html(pages.result_page(payment))

    def page_post(self, request: Request) -> Response:
        payment_id = self._page_id(request)
        payment = self._snapshot(payment_id) if payment_id else None
        if payment is None:
            return Response.html(pages.not_found_page(request.params.get("payment_id", "")), 404)
        form = request.form()
        action = form.get("action", "card")
        if action == "sbp":
            return self._finish_page(self.pay(payment_id, method="sbp", phone=form.get("phone")), request)
        card = re.sub(r"[\s-]", "", form.get("card_number") or form.get("card") or "")
        if payment["Status"] in PAYABLE and not re.fullmatch(r"\d{12,19}", card):
            with self.store.change() as data:  # the customer did see the form
                live = self._payments()[str(payment_id)]
                if not self._expire_if_due(data, live):
                    if live["Status"] == "NEW":
                        self._set_status(data, live, "FORM_SHOWED")
                    return Response.html(
                        pages.payment_form(
                            copy.deepcopy(live),
                            "Введите номер карты (12–19 цифр) / Enter a card number (12–19 digits)",
                            {"card_number": form.get("card_number", ""), "exp_date": form.get("exp_date", "")},
                        ),
                        200,
                    )
        return self._finish_page(self.pay(payment_id, card=card, exp=form.get("exp_date")), request)

    def acs_get(self, request: Request) -> Response:
        payment_id = self._page_id(request)
        payment = self._snapshot(payment_id) if payment_id else None
        if payment is None:
            return Response.html(pages.not_found_page(request.params.get("payment_id", "")), 404)
        if payment["Status"] != "3DS_CHECKING":
            return Response.redirect(f"/pay/{payment_id}")
        return Response.html(pages.acs_page(payment))

    def acs_post(self, request: Request) -> Response:
        payment_id = self._page_id(request)
        if payment_id is None:
            return Response.html(pages.not_found_page(request.params.get("payment_id", "")), 404)
        return self._finish_page(self.acs(payment_id, request.form().get("password", "")), request)

    # -- admin -------------------------------------------------------------------------------------------------------
    def admin_pay(self, request: Request) -> Response:
        try:
            body = request.json_object()
        except BodyError as exc:
            return Response.json({"error": f"body must be a JSON object: {exc}"}, 400)
        raw = body.get("PaymentId")
        if not (is_int(raw) or (isinstance(raw, str) and raw.isdigit())):
            return Response.json({"error": "PaymentId (number or digit string) is required"}, 400)
        method = str(body.get("method") or ("sbp" if body.get("sbp") else "card")).lower()
        if method not in ("card", "sbp"):
            return Response.json({"error": "method must be 'card' or 'sbp'"}, 400)
        result = self.pay(
            int(raw),
            method=method,
            card=str(body.get("card") or DEFAULT_SUCCESS_CARD),
            exp=body.get("exp"),
            phone=body.get("phone"),
            acs_password=body.get("acs_password"),
            auto_acs=True,
        )
        payment = result["payment"]
        if result["outcome"] == "not_found":
            return Response.json({"error": f"payment {raw} not found"}, 404)
        answer = {
            "outcome": result["outcome"],
            "Success": payment["Status"] in PAID,
            "PaymentId": payment["PaymentId"],
            "OrderId": payment["OrderId"],
            "Status": payment["Status"],
            "ErrorCode": payment.get("ErrorCode") or "0",
            "Message": payment.get("Message") or "",
            "Amount": payment["Amount"],
            "Pan": payment.get("Pan"),
            "RedirectURL": self.redirect_url(payment) if result["outcome"] in ("paid", "failed") else None,
        }
        return Response.json(answer, 409 if result["outcome"] == "not_payable" else 200)

    def admin_terminals_get(self, request: Request) -> Response:
        return Response.json({"terminals": self.admin_state()["terminals"]})

    def admin_terminals_post(self, request: Request) -> Response:
        try:
            body = request.json_object()
        except BodyError as exc:
            return Response.json({"error": f"body must be a JSON object: {exc}"}, 400)
        key = body.get("TerminalKey")
        if not isinstance(key, str) or not key or len(key) > 20:
            return Response.json({"error": "TerminalKey (string, at most 20 characters) is required"}, 400)
        fields = {
            "Password": "password",
            "NotificationURL": "notification_url",
            "SuccessURL": "success_url",
            "FailURL": "fail_url",
            "PayType": "pay_type",
        }
        with self.store.change() as data:
            terminals = self._bank(data)["terminals"]
            if key not in terminals and not isinstance(body.get("Password"), str):
                return Response.json({"error": "Password is required for a new terminal"}, 400)
            entry = terminals.setdefault(key, {})
            for field, attr in fields.items():
                if field in body:
                    if body[field] in (None, ""):
                        entry.pop(attr, None)
                    else:
                        entry[attr] = str(body[field])
        return self.admin_terminals_get(request)
