"""T-Bank business Open API ("T-API", ``/openapi/api/...``): accounts, the cursor-paged
statement, payment drafts (project notes docs/banks.md §2).

* ``Authorization: Bearer <token>``: ``TBankSandboxToken`` and configured tokens; anything
  else (or a revoked token) → 401 ``{errorId, errorMessage, errorCode}``.
* ``GET /openapi/api/v4/bank-accounts`` (also ``v3``): accounts with ``currency`` as the
  ISO numeric code (``"643"``) and ``balance{otb, authorized, pendingPayments,
  pendingRequisitions}`` in the account's currency.
* ``GET /openapi/api/v1/statement``: ``accountNumber``, ``from`` (required, ISO, UTC),
  ``to`` (exclusive, default now), ``limit`` (1..5000, default 1000), ``cursor``,
  ``withBalances``, ``operationStatus`` (``All``/``Authorization``/``Transaction``, default
  ``All``), ``categories``.  Operations oldest first; ``nextCursor`` is an opaque token
  bound to the query; ``balances`` only on the first page.
* ``POST /openapi/api/v1/payment/create`` (§2.2b body) and ``POST /openapi/api/v1/payment/
  status`` ``{documentIds}``: a draft is ``IN_PROGRESS`` and, on its
  ``payment_sign_polls``-th status query (default 2; 0 = never), is "signed": ``EXECUTED``
  (and debited: a new operation appears in the statement) or ``FAILED`` for lack of funds.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from json.encoder import encode_basestring
from datetime import date, datetime
from decimal import Decimal

from .business import DAY, AdminError, BusinessBank, parse_minor
from .business_data import (
    BANKS,
    COMPANY,
    GeneratorSpec,
    Operation,
    account_number,
    datetime_to_ts,
    iso_utc,
    money_text,
    ruble_minor,
)
from .http_util import Request, Response
from .registry import register_bank

NAME = "tbank_business"
PREFIX = "/openapi/api"
SANDBOX_TOKEN = "TBankSandboxToken"
MAX_LIMIT = 5000
DEFAULT_LIMIT = 1000
NUMERIC = {"RUB": "643", "USD": "840", "EUR": "978", "CNY": "156"}

_ACCOUNT = re.compile(r"\d{20}")
_INN = re.compile(r"\d{10}|\d{12}|0")
_KPP = re.compile(r"\d{9}|0")
_BIC = re.compile(r"\d{9}")
_DOC = re.compile(r"\d{1,6}")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def invalid(field: str, why: str) -> ApiError:
    return ApiError(400, "INVALID_DATA", f"Некорректные данные в поле {field} / Invalid {field}", why)


def _js(text) -> str:
    """A JSON string literal (the C encoder: escapes quotes, backslashes and control
    characters, keeps Cyrillic as is)."""
    return encode_basestring(text if isinstance(text, str) else str(text))


def _party_json(party: dict) -> str:
    return json.dumps(
        {
            "account": party.get("account") or "",
            "inn": party.get("inn") or "",
            "kpp": party.get("kpp") or "",
            "name": party.get("name") or "",
            "bankName": party.get("bank_name") or "",
            "bicRu": party.get("bic") or "",
        },
        ensure_ascii=False,
    )


def _instant(text: str, field: str) -> int:
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime_to_ts(datetime(day.year, day.month, day.day))  # midnight UTC
        return datetime_to_ts(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise invalid(field, "expected an ISO 8601 date-time such as 2026-01-31T21:00:00Z") from None


@register_bank
class TBankBusiness(BusinessBank):
    name = NAME
    title = "T-Bank business Open API (T-API)"
    sandbox_token = SANDBOX_TOKEN
    token_env = "BANK_SANDBOX_TBANK_BUSINESS_TOKENS"
    own_bank = BANKS["tbank"]
    branch = "1000"

    def __init__(self, sandbox):
        super().__init__(sandbox)
        self._party_cache: dict[int, tuple[dict, str]] = {}

    # -- seeding ----------------------------------------------------------------------------------
    def seed_accounts(self, anchor_s: int, seed: int, volume: int) -> dict:
        bic = self.own_bank.bic

        def spec(count, days):
            return GeneratorSpec(count, seed, anchor_s - days * DAY, anchor_s).to_dict()

        return {
            account_number("40702", "810", "1000", 1, bic): {
                "currency": "RUB",
                "name": "Основной расчетный счет",
                "type": "Current",
                "opened": "2023-06-01",
                "opening_minor": 1_250_000_00,
                "generator": spec(240, 90),
            },
            account_number("40702", "810", "1000", 2, bic): {
                "currency": "RUB",
                "name": "Расчетный счет для налогов",
                "type": "Current",
                "opened": "2024-02-15",
                "opening_minor": 300_000_00,
                "generator": spec(40, 90),
            },
            account_number("40702", "840", "1000", 3, bic): {
                "currency": "USD",
                "name": "Текущий валютный счет",
                "type": "Current",
                "opened": "2024-03-01",
                "opening_minor": 25_000_00,
                "generator": spec(12, 90),
                "transit": account_number("40702", "840", "1000", 4, bic),
            },
            account_number("40702", "810", "1000", 99, bic): {
                "currency": "RUB",
                "name": "Счет для нагрузочных тестов",
                "type": "Current",
                "opened": "2023-06-01",
                "opening_minor": 50_000_000_00,
                "generator": spec(volume, 365),
            },
        }

    # -- routes -------------------------------------------------------------------------------------
    def register(self, router) -> None:
        for version in ("v4", "v3"):
            router.add("GET", f"{PREFIX}/{version}/bank-accounts", self._api(self.accounts_api), kind="api", owner=NAME)
        router.add("GET", f"{PREFIX}/v1/statement", self._api(self.statement_api), kind="api", owner=NAME)
        router.add("POST", f"{PREFIX}/v1/payment/create", self._api(self.payment_create_api), kind="api", owner=NAME)
        router.add("POST", f"{PREFIX}/v1/payment/status", self._api(self.payment_status_api), kind="api", owner=NAME)
        router.add("POST", f"{PREFIX}/v1/webhook", self._api(self.webhook_add_api), kind="api", owner=NAME)
        router.add_fallback("/openapi/", self._api(self.not_found_api), kind="api", owner=NAME)
        self.register_admin(router)

    @staticmethod
    def error_response(exc: ApiError, request: Request | None = None) -> Response:
        body = {"errorId": str(uuid.uuid4()), "errorMessage": exc.message, "errorCode": exc.code}
        if exc.details:
            body["errorDetails"] = exc.details
        response = Response.json(body, exc.status)
        request_id = request.headers.get("X-Request-Id") if request is not None else None
        if request_id:
            response.headers.append(("X-Request-Id", request_id))
        return response

    def internal_error(self, request: Request) -> Response:
        return self.error_response(ApiError(500, "INTERNAL_ERROR", "Внутренняя ошибка / Internal error"), request)

    def _api(self, handler):
        def run(request: Request) -> Response:
            problem = self.token_problem(request)
            if problem is not None and handler != self.not_found_api:
                message = {
                    "missing": "Не передан токен / Bearer token is missing",
                    "revoked": "Токен отозван / The token has been revoked",
                    "unknown": "Неверный токен / Invalid token",
                }[problem]
                return self.error_response(ApiError(401, "UNAUTHORIZED", message), request)
            try:
                response = handler(request)
            except ApiError as exc:
                return self.error_response(exc, request)
            request_id = request.headers.get("X-Request-Id")
            if request_id:
                response.headers.append(("X-Request-Id", request_id))
            return response

        return run

    def not_found_api(self, request: Request) -> Response:
        if request.params.get("allowed"):
            raise ApiError(405, "METHOD_NOT_ALLOWED", f"Метод {request.method} не поддерживается / Method not allowed")
        raise ApiError(404, "NOT_FOUND", f"Метод не найден / Unknown method {request.path}")

    def _json_body(self, request: Request) -> dict:
        try:
            body = json.loads(request.body.decode("utf-8-sig") or "null", parse_float=Decimal)
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "INVALID_DATA", "Некорректный JSON / Malformed JSON body") from None
        if not isinstance(body, dict):
            raise ApiError(400, "INVALID_DATA", "Тело запроса должно быть объектом / Body must be a JSON object")
        return body

    def _account_or_error(self, number) -> dict:
        if not isinstance(number, str) or not _ACCOUNT.fullmatch(number):
            raise invalid("accountNumber", "must be 20 digits")
        config = self.account(number)
        if config is None:
            raise ApiError(
                422, "ACCOUNT_NOT_FOUND", "Счет не найден / Account not found", f"No account {number} for this token"
            )
        return config

    # -- accounts -----------------------------------------------------------------------------------
    def accounts_api(self, request: Request) -> Response:
        pending = {}
        with self.store.read():
            for payment in self.store.collection(self.payments_collection).values():
                if payment["status"] == "IN_PROGRESS":
                    pending[payment["from"]] = pending.get(payment["from"], 0) + payment["amount_minor"]
        result = []
        for number, config in self.accounts().items():
            entry = {
                "accountNumber": number,
                "name": config.get("name") or "",
                "currency": NUMERIC.get(config["currency"], config["currency"]),
                "bankBik": self.own_bank.bic,
                "accountType": config.get("type") or "Current",
                "activationDate": config.get("opened"),
                "balance": {
                    "otb": _number(self.balance_minor(number, config)),
                    "authorized": _number(self.holds_minor(number, config)),
                    "pendingPayments": _number(pending.get(number, 0)),
                    "pendingRequisitions": 0,
                },
            }
            if config.get("transit"):
                entry["transitAccount"] = {"accountNumber": config["transit"]}
            result.append(entry)
        return Response.json(result)

    # -- statement ------------------------------------------------------------------------------------
    def statement_api(self, request: Request) -> Response:
        number = request.arg("accountNumber")
        config = self._account_or_error(number)
        raw_from = request.arg("from")
        if not raw_from:
            raise invalid("from", "the start of the period is required")
        start_us = _instant(raw_from, "from")
        raw_to = request.arg("to")
        end_us = _instant(raw_to, "to") if raw_to else self.now_us() + 1
        if raw_to and end_us <= start_us:
            raise invalid("to", "must be later than from")
        try:
            limit = int(request.arg("limit") or DEFAULT_LIMIT)
        except ValueError:
            raise invalid("limit", "must be an integer") from None
        if not 1 <= limit <= MAX_LIMIT:
            raise invalid("limit", f"must be between 1 and {MAX_LIMIT}")
        status = request.arg("operationStatus") or "All"
        if status not in ("All", "Authorization", "Transaction"):
            raise invalid("operationStatus", "must be All, Authorization or Transaction")
        categories = sorted({c for value in request.query.get("categories", []) for c in value.split(",") if c})
        if len(categories) > 50:
            raise invalid("categories", "at most 50 items")
        fingerprint = hashlib.sha1(
            f"{number}|{start_us}|{raw_to and end_us}|{status}|{','.join(categories)}".encode()
        ).hexdigest()[:16]
        after = None
        cursor = request.arg("cursor")
        if cursor:
            after = _decode_cursor(cursor, fingerprint)
        wanted_confirmed = {"All": None, "Transaction": True, "Authorization": False}[status]
        wanted_categories = set(categories)

        page: list[Operation] = []
        more = False
        for op in self.feed(number, config).iter(start_us, end_us, after):
            if wanted_confirmed is not None and op.confirmed is not wanted_confirmed:
                continue
            if wanted_categories and op.category not in wanted_categories:
                continue
            if len(page) == limit:
                more = True
                break
            page.append(op)

        own = {
            "account": number,
            "inn": COMPANY["inn"],
            "kpp": COMPANY["kpp"],
            "name": COMPANY["name"],
            "bank_name": self.own_bank.name,
            "bic": self.own_bank.bic,
            "corr_account": self.own_bank.corr_account,
        }
        own_json = _party_json(own)
        currency = config["currency"]
        parts = ['{"operations":[', ",".join(self._operation_json(op, currency, own_json) for op in page), "]"]
        if not cursor and request.arg("withBalances") == "true":
            begin = int(config.get("opening_minor", 0)) + self.feed(number, config).net_before(start_us)
            credit, debit = self.feed(number, config).confirmed_totals(start_us, end_us)
            parts.append(
                ',"balances":'
                + json.dumps(
                    {
                        "balanceBegin": _number(begin),
                        "balanceEnd": _number(begin + credit - debit),
                        "credit": _number(credit),
                        "debit": _number(debit),
                    }
                )
            )
        if more:
            parts.append(',"nextCursor":' + _js(_encode_cursor(fingerprint, page[-1].key())))
        parts.append("}")
        return Response(200, "".join(parts).encode("utf-8"))

    def _operation_json(self, op: Operation, currency: str, own_json: str) -> str:
        """One operation in the bank's spelling, as JSON text (built by hand: this runs
        100 000 times for a big statement)."""
        party = op.counterparty
        cached = self._party_cache.get(id(party))
        if cached is not None and cached[0] is party:  # the cache holds the dict: ids stay unique
            party_json = cached[1]
        else:
            if len(self._party_cache) > 10_000:
                self._party_cache.clear()
            party_json = _party_json(party)
            self._party_cache[id(party)] = (party, party_json)
        amount = money_text(op.amount)
        rubles = amount if currency == "RUB" else money_text(ruble_minor(op.amount, currency))
        return (
            f'{{"operationId":{_js(op.id)},"operationDate":"{iso_utc(op.ts)}",'
            f'"operationStatus":"{"Transaction" if op.confirmed else "Authorization"}",'
            f'"typeOfOperation":"{"Credit" if op.credit else "Debit"}","category":{_js(op.category)},'
            f'"operationAmount":{amount},"accountAmount":{amount},"rubleAmount":{rubles},'
            f'"payPurpose":{_js(op.purpose)},"docNumber":{_js(op.document_number)},'
            f'"payer":{party_json if op.credit else own_json},"receiver":{own_json if op.credit else party_json}}}'
        )

    # -- webhooks (docs/banks.md §2.5) --------------------------------------------------------------------
    def webhook_add_api(self, request: Request) -> Response:
        event_type = (request.query.get("eventType") or [None])[0]
        if event_type != "oper-feed-operation":
            raise invalid("eventType", "only oper-feed-operation is sent by the sandbox")
        body = self._json_body(request)
        url, secret, email = body.get("url"), body.get("authSecret"), body.get("email")
        if not isinstance(url, str) or not 1 <= len(url) <= 2048:
            raise invalid("url", "required, at most 2048 characters")
        if not isinstance(email, str) or "@" not in email:
            raise invalid("email", "required")
        if body.get("authType") not in ("Basic", "Bearer") or not isinstance(secret, str) or len(secret) > 256:
            raise invalid("authType", "Basic or Bearer with an authSecret of at most 256 characters")
        self.set_webhook_subscription(event_type, {"url": url, "auth": f"{body['authType']} {secret}"})
        return Response.json({"eventType": event_type, "url": url})

    def operation_webhook(self, number: str, op: Operation, subscription: dict) -> dict | None:
        config = self.account(number) or {}
        own = _party_json({"account": number, "name": config.get("name") or "", "bic": self.own_bank.bic})
        statement = json.loads(self._operation_json(op, config.get("currency", "RUB"), own), parse_float=Decimal)
        return {"payload": _event_body(statement, number), "headers": {"Authorization": subscription["auth"]}}

    # -- payment drafts -----------------------------------------------------------------------------------
    def payment_create_api(self, request: Request) -> Response:
        body = self._json_body(request)
        key = body.get("id")
        if not isinstance(key, str) or not 1 <= len(key) <= 64:
            raise invalid("id", "idempotency key (text, 1-64 characters) is required")
        source = body.get("from")
        number = source.get("accountNumber") if isinstance(source, dict) else None
        config = self._account_or_error(number)
        if config["currency"] != "RUB":
            raise ApiError(
                422,
                "INVALID_ACCOUNT",
                "Черновик можно создать только по рублевому счету / Drafts are for ruble accounts only",
            )
        to = body.get("to")
        if not isinstance(to, dict):
            raise invalid("to", "recipient object is required")
        checks = (("name", None), ("inn", _INN), ("accountNumber", _ACCOUNT), ("bik", _BIC))
        for field, pattern in checks:
            value = to.get(field)
            if not isinstance(value, str) or not value.strip() or (pattern and not pattern.fullmatch(value)):
                raise invalid(f"to.{field}", "missing or wrong format")
        kpp = to.get("kpp") or "0"
        if not isinstance(kpp, str) or not _KPP.fullmatch(kpp):
            raise invalid("to.kpp", "9 digits or 0")
        corr = to.get("corrAccountNumber")
        if corr is not None and (not isinstance(corr, str) or not _ACCOUNT.fullmatch(corr)):
            raise invalid("to.corrAccountNumber", "20 digits")
        purpose = body.get("purpose")
        if not isinstance(purpose, str) or not 1 <= len(purpose) <= 210:
            raise invalid("purpose", "1-210 characters")
        amount = body.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, (int, Decimal)):
            raise invalid("amount", "a positive number of rubles")
        try:
            amount_minor = parse_minor(amount)
        except AdminError as exc:
            raise invalid("amount", exc.message) from None
        document_number = body.get("documentNumber")
        if document_number is not None and (
            not isinstance(document_number, str) or not _DOC.fullmatch(document_number)
        ):
            raise invalid("documentNumber", "1-6 digits")
        order = body.get("executionOrder")
        if order is not None and (isinstance(order, bool) or order not in (1, 2, 3, 4, 5)):
            raise invalid("executionOrder", "1..5")
        due = body.get("dueDate")
        if due is not None:
            try:
                date.fromisoformat(str(due))
            except ValueError:
                raise invalid("dueDate", "YYYY-MM-DD") from None

        with self.store.change():
            payments = self.store.collection(self.payments_collection)
            existing = next((p for p in payments.values() if p["key"] == key), None)
            if existing is None:
                document_id = str(uuid.uuid4())
                existing = payments[document_id] = {
                    "documentId": document_id,
                    "key": key,
                    "from": number,
                    "amount_minor": amount_minor,
                    "amount": money_text(amount_minor),
                    "purpose": purpose,
                    "document_number": document_number or "",
                    "execution_order": order,
                    "due_date": due,
                    "counterparty": {
                        "name": to["name"],
                        "inn": to["inn"],
                        "kpp": kpp,
                        "account": to["accountNumber"],
                        "bic": to["bik"],
                        "bank_name": to.get("bankName") or "",
                        "corr_account": corr or "",
                    },
                    "status": "IN_PROGRESS",
                    "polls": 0,
                    "created": iso_utc(self.now_us()),
                }
                self.store.touch(self.payments_collection, document_id)
        return Response.json({"documentId": existing["documentId"], "status": existing["status"]})

    def payment_status_api(self, request: Request) -> Response:
        body = self._json_body(request)
        ids = body.get("documentIds")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100 or not all(isinstance(i, str) for i in ids):
            raise invalid("documentIds", "1-100 document ids")
        sign_polls = int(self.config().get("payment_sign_polls", 2))
        answers = []
        for document_id in ids:
            answer = self._advance(document_id, sign_polls)
            if answer is not None:
                answers.append(answer)
        return Response.json({"documents": answers})

    def _advance(self, document_id: str, sign_polls: int, force: str | None = None) -> dict | None:
        with self._lock, self.store.change():
            payments = self.store.collection(self.payments_collection)
            payment = payments.get(document_id)
            if payment is None:
                return None
            payment["polls"] += 0 if force else 1
            if payment["status"] == "IN_PROGRESS":
                if force == "FAILED":
                    payment["status"], payment["error"] = "FAILED", "Отклонено банком / Rejected by the bank"
                elif force == "EXECUTED" or (not force and sign_polls and payment["polls"] >= sign_polls):
                    ok, detail = self.execute_payment(payment["from"], payment)
                    if ok:
                        payment["status"], payment["operation_id"] = "EXECUTED", detail
                    else:
                        payment["status"], payment["error"] = "FAILED", detail
            self.store.touch(self.payments_collection, document_id)
            answer = {"documentId": document_id, "status": payment["status"]}
            if payment.get("error"):
                answer["errorMessage"] = payment["error"]
            return answer

    def admin_set_payment_status(self, payment_id: str, status: str) -> dict | None:
        if status not in ("EXECUTED", "FAILED"):
            with self.store.read():
                known = payment_id in self.store.collection(self.payments_collection)
            if known:
                raise AdminError("status must be EXECUTED or FAILED")
            return None
        answer = self._advance(payment_id, 0, force=status)
        return None if answer is None else {"bank": self.name, **answer}


def _number(minor: int) -> float | int:
    """Minor units → a JSON number with the same decimals (float repr is exact here)."""
    return minor // 100 if minor % 100 == 0 else minor / 100


def _encode_cursor(fingerprint: str, key: tuple) -> str:
    raw = json.dumps({"q": fingerprint, "t": key[0], "i": key[1]}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> tuple:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = (int(data["t"]), str(data["i"]))
        same_query = data["q"] == fingerprint
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, "INVALID_CURSOR", "Некорректный курсор / Invalid cursor") from None
    if not same_query:
        raise ApiError(
            400,
            "INVALID_CURSOR",
            "Курсор от другого запроса / The cursor belongs to another query",
            "Repeat the request with the same accountNumber, from, to, operationStatus and categories",
        )
    return key


def _event_body(statement: dict, number: str) -> dict:
    """The statement's operation in the ``oper-feed-operation`` shape public receivers
    observe (docs/bank-webhooks.md, "The oper-feed-operation body"): flat, ``accountNumber``
    at the top, ``documentNumber``, amounts as strings, ``authorizationDate`` and
    ``trxnPostDate`` (a hold has no posting date) instead of ``operationDate``."""
    body = {"operationId": statement["operationId"], "accountNumber": number}
    for key, value in statement.items():
        if key in ("operationId", "operationDate", "docNumber"):
            continue
        body[key] = str(value) if key.endswith("Amount") else value
    body["documentNumber"] = statement.get("docNumber")
    body["authorizationDate"] = statement["operationDate"]
    if statement.get("operationStatus") == "Transaction":
        body["trxnPostDate"] = statement["operationDate"]
    body["counterParty"] = statement["payer"] if statement["typeOfOperation"] == "Credit" else statement["receiver"]
    return body
