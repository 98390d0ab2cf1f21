"""Tochka Bank API (``/uapi/...``, also under ``/sandbox/v2/...``): customers, accounts,
balances, asynchronous statements, payment orders for signing (project notes
docs/banks.md §3).

* ``Authorization: Bearer <JWT>``: ``sandbox.jwt.token`` and configured tokens; anything
  else (or a revoked token) → 401 ``{code, id, message, Errors: [{errorCode, message,
  url}]}``.  Every success is ``{"Data": {...}, "Links": {"self": ...}, "Meta":
  {"totalPages": 1}}``.
* ``accountId`` is ``<number>/<BIC>``; in paths it may come with its slash or as ``%2F``.
* Statements: ``POST /open-banking/v1.0/statements`` answers ``Created``; each ``GET
  .../accounts/{accountId}/statements/{statementId}`` counts as a poll: ``Processing``
  until the ``statement_ready_polls``-th poll (default 2), then ``Ready`` with the booked
  transactions of the period (Moscow days, both ends included), or ``Error`` when the
  ``statement_errors`` knob was set at init.  Statements expire after 24 h (→ 404).
* Payments: ``POST /payment/v1.0/for-sign`` → ``requestId`` + ``redirectURL`` (a sandbox
  page where the order can be signed); ``GET /payment/v1.0/status/{requestId}``: created
  as ``WaitingForCreate``, ``Created`` on polls, signed on the ``payment_sign_polls``-th
  poll (default 2; 0 = never): ``Paid`` and debited, or ``Rejected`` for lack of funds.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import urllib.parse
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from . import pages
from .business import DAY, AdminError, BusinessBank, parse_minor
from .business_data import (
    BANKS,
    COMPANY,
    MSK,
    US,
    GeneratorSpec,
    Operation,
    account_number,
    datetime_to_ts,
    inn12,
    iso_utc,
    money_text,
    msk_date,
    ruble_minor,
)
from .http_util import BodyError, Request, Response
from .registry import register_bank

NAME = "tochka"
PREFIXES = ("/uapi", "/sandbox/v2")
SANDBOX_TOKEN = "sandbox.jwt.token"
DOC_URL = "https://enter.tochka.com/doc/v2/redoc"
STATEMENT_LIFETIME_US = DAY * US
CUSTOMER_CODE = "300123456"
PERSON_CUSTOMER_CODE = "300123457"

_ACCOUNT = re.compile(r"\d{20}")
_BIC = re.compile(r"\d{9}")
_INN = re.compile(r"\d{10}|\d{12}|0")
_KPP = re.compile(r"\d{9}|0")


class ApiError(Exception):
    def __init__(self, status: int, error_code: str, message: str, details: str | None = None):
        super().__init__(message)
        self.status, self.error_code, self.message, self.details = status, error_code, message, details


def validation(field: str, why: str) -> ApiError:
    return ApiError(400, "Validation Error", "Ошибка валидации / Validation error", f"{field}: {why}")


def _number(minor: int):
    """Minor units → a JSON number with exactly those decimals (float repr is exact here)."""
    return minor // 100 if minor % 100 == 0 else minor / 100


def _day(value, field: str) -> date:
    if not isinstance(value, str) or len(value) < 10:
        raise validation(field, "expected a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise validation(field, "expected a date YYYY-MM-DD") from None


def _msk_midnight_us(day: date) -> int:
    return datetime_to_ts(datetime(day.year, day.month, day.day, tzinfo=MSK))


@register_bank
class Tochka(BusinessBank):
    name = NAME
    title = "Tochka Bank API"
    sandbox_token = SANDBOX_TOKEN
    token_env = "BANK_SANDBOX_TOCHKA_TOKENS"
    own_bank = BANKS["tochka"]
    branch = "0200"

    @property
    def statements_collection(self) -> str:
        return f"{self.name}_statements"

    # -- seeding ----------------------------------------------------------------------------------
    def seed_accounts(self, anchor_s: int, seed: int, volume: int) -> dict:
        bic = self.own_bank.bic

        def spec(count, days):
            return GeneratorSpec(count, seed + 7, anchor_s - days * DAY, anchor_s).to_dict()

        return {
            account_number("40702", "810", "0200", 11, bic): {
                "currency": "RUB",
                "name": "Расчетный счет",
                "type": "CurrentAccount",
                "opened": "2023-09-01",
                "opening_minor": 800_000_00,
                "generator": spec(200, 90),
            },
            account_number("40702", "810", "0200", 12, bic): {
                "currency": "RUB",
                "name": "Счет для расчетов с маркетплейсами",
                "type": "CurrentAccount",
                "opened": "2024-05-20",
                "opening_minor": 120_000_00,
                "generator": spec(25, 90),
            },
            account_number("40702", "840", "0200", 13, bic): {
                "currency": "USD",
                "name": "Валютный счет",
                "type": "CurrentAccount",
                "opened": "2024-06-03",
                "opening_minor": 10_000_00,
                "generator": spec(10, 90),
            },
        }

    def bank_account_id(self, number: str) -> str:
        return f"{number}/{self.own_bank.bic}"

    # -- routes ---------------------------------------------------------------------------------------
    def register(self, router) -> None:
        api = self._api
        for prefix in PREFIXES:
            ob = f"{prefix}/open-banking/v1.0"
            add = router.add
            add("GET", f"{ob}/customers", api(self.customers_api), kind="api", owner=NAME)
            add("GET", f"{ob}/customers/{{code}}", api(self.customer_api), kind="api", owner=NAME)
            add("GET", f"{ob}/accounts", api(self.accounts_api), kind="api", owner=NAME)
            add("GET", f"{ob}/balances", api(self.all_balances_api), kind="api", owner=NAME)
            # accountId with its slash (two segments) or encoded (%2F, one segment);
            # the literal routes go first so that "balances" is never read as a BIC.
            add("GET", f"{ob}/accounts/{{number}}/{{bic}}/balances", api(self.balances_api), kind="api", owner=NAME)
            add("GET", f"{ob}/accounts/{{account_id}}/balances", api(self.balances_api), kind="api", owner=NAME)
            add(
                "GET",
                f"{ob}/accounts/{{number}}/{{bic}}/statements/{{statement_id}}",
                api(self.statement_api),
                kind="api",
                owner=NAME,
            )
            add(
                "GET",
                f"{ob}/accounts/{{account_id}}/statements/{{statement_id}}",
                api(self.statement_api),
                kind="api",
                owner=NAME,
            )
            add("GET", f"{ob}/accounts/{{number}}/{{bic}}", api(self.account_api), kind="api", owner=NAME)
            add("GET", f"{ob}/accounts/{{account_id}}", api(self.account_api), kind="api", owner=NAME)
            add("POST", f"{ob}/statements", api(self.init_statement_api), kind="api", owner=NAME)
            add("GET", f"{ob}/statements", api(self.statements_api), kind="api", owner=NAME)
            add("POST", f"{prefix}/payment/v1.0/for-sign", api(self.payment_create_api), kind="api", owner=NAME)
            add(
                "GET",
                f"{prefix}/payment/v1.0/status/{{request_id}}",
                api(self.payment_status_api),
                kind="api",
                owner=NAME,
            )
            hook = f"{prefix}/webhook/v1.0/{{client_id}}"
            for method, handler in (
                ("PUT", self.webhook_put_api),
                ("POST", self.webhook_put_api),
                ("GET", self.webhook_get_api),
                ("DELETE", self.webhook_delete_api),
            ):
                add(method, hook, api(handler), kind="api", owner=NAME)
            add("POST", f"{hook}/test_send", api(self.webhook_test_send_api), kind="api", owner=NAME)
            router.add_fallback(f"{prefix}/", api(self.not_found_api), kind="api", owner=NAME)
        # the bank's public key for its webhooks' JWTs, as a JWKS (docs/banks.md §3)
        router.add("GET", "/tochka/webhook-keys", self.jwks_page, owner=NAME)
        router.add("GET", "/tochka/payments/{request_id}", self.sign_page, owner=NAME)
        router.add("POST", "/tochka/payments/{request_id}", self.sign_page_post, owner=NAME)
        self.register_admin(router)

    @staticmethod
    def error_response(exc: ApiError) -> Response:
        return Response.json(
            {
                "code": str(exc.status),
                "id": str(uuid.uuid4()),
                "message": exc.message,
                "Errors": [{"errorCode": exc.error_code, "message": exc.details or exc.message, "url": DOC_URL}],
            },
            exc.status,
        )

    def internal_error(self, request: Request) -> Response:
        return self.error_response(ApiError(500, "HTTPInternalError", "Что-то пошло не так / Something going wrong"))

    def _api(self, handler):
        def run(request: Request) -> Response:
            if handler != self.not_found_api:
                problem = self.token_problem(request)
                if problem is not None:
                    detail = {
                        "missing": "Authorization header with a Bearer token is required",
                        "revoked": "The token has been revoked",
                        "unknown": "The token is invalid",
                    }[problem]
                    return self.error_response(
                        ApiError(401, "Unauthorized", "Ошибка авторизации / Unauthorized", detail)
                    )
            try:
                return handler(request)
            except ApiError as exc:
                return self.error_response(exc)

        return run

    def not_found_api(self, request: Request) -> Response:
        if request.params.get("allowed"):
            raise ApiError(405, "HTTPMethodNotAllowed", "Метод не поддерживается / Method not allowed")
        raise ApiError(404, "HTTPNotFound", "Ресурс не найден / Not found", request.path)

    def _data(self, request: Request, data: dict, status: int = 200) -> Response:
        return Response.json(
            {
                "Data": data,
                "Links": {"self": self.options.get("public_url", "") + request.path},
                "Meta": {"totalPages": 1},
            },
            status,
        )

    def _json_body(self, request: Request) -> dict:
        try:
            body = json.loads(request.body.decode("utf-8-sig") or "null", parse_float=Decimal)
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "Validation Error", "Некорректный JSON / Malformed JSON body") from None
        if not isinstance(body, dict) or not isinstance(body.get("Data"), dict):
            raise validation("Data", "the body must be {\"Data\": {...}}")
        return body["Data"]

    def _account_from_path(self, request: Request) -> tuple[str, dict]:
        params = request.params
        if "account_id" in params:
            account_id = urllib.parse.unquote(params["account_id"])
        else:
            account_id = f"{params['number']}/{params['bic']}"
        return self._account_or_error(account_id)

    def _account_or_error(self, account_id) -> tuple[str, dict]:
        if not isinstance(account_id, str) or "/" not in account_id:
            raise validation("accountId", "expected <20-digit number>/<BIC>")
        number, _, bic = account_id.partition("/")
        config = self.account(number) if bic == self.own_bank.bic else None
        if config is None:
            raise ApiError(404, "HTTPNotFound", "Счет не найден / Account not found", account_id)
        return number, config

    # -- customers, accounts, balances ------------------------------------------------------------
    def _customers(self) -> list[dict]:
        return [
            {
                "customerCode": CUSTOMER_CODE,
                "customerType": "Business",
                "isResident": True,
                "taxCode": COMPANY["inn"],
                "fullName": "Общество с ограниченной ответственностью «Демо Торг»",
                "shortName": COMPANY["name"],
                "kpp": COMPANY["kpp"],
                "customerOgrn": COMPANY["ogrn"],
            },
            {
                "customerCode": PERSON_CUSTOMER_CODE,
                "customerType": "Personal",
                "isResident": True,
                "taxCode": inn12(7_712_345_678),
                "fullName": "Иванов Иван Иванович",
            },
        ]

    def customers_api(self, request: Request) -> Response:
        return self._data(request, {"Customer": self._customers()})

    def customer_api(self, request: Request) -> Response:
        found = [c for c in self._customers() if c["customerCode"] == request.params["code"]]
        if not found:
            raise ApiError(404, "HTTPNotFound", "Клиент не найден / Customer not found")
        return self._data(request, {"Customer": found})

    def _account_json(self, number: str, config: dict) -> dict:
        return {
            "customerCode": CUSTOMER_CODE,
            "accountId": self.bank_account_id(number),
            "status": "Enabled",
            "statusUpdateDateTime": f"{config.get('opened')}T00:00:00+03:00",
            "currency": config["currency"],
            "accountType": "Business",
            "accountSubType": config.get("type") or "CurrentAccount",
            "registrationDate": config.get("opened"),
            "accountDetails": [
                {
                    "schemeName": "RU.CBR.AccountNumber",
                    "identification": number,
                    "name": config.get("name") or COMPANY["name"],
                }
            ],
        }

    def accounts_api(self, request: Request) -> Response:
        return self._data(request, {"Account": [self._account_json(n, c) for n, c in self.accounts().items()]})

    def account_api(self, request: Request) -> Response:
        number, config = self._account_from_path(request)
        return self._data(request, {"Account": [self._account_json(number, config)]})

    def _balances(self, number: str, config: dict) -> list[dict]:
        now = self.now_us()
        today = datetime.fromtimestamp(now / US, MSK).date()
        opening = self.balance_minor(number, config, _msk_midnight_us(today))
        closing = self.balance_minor(number, config, now + 1)
        expected = closing - self.holds_minor(number, config)
        moment = iso_utc(now - now % US).replace("Z", "+00:00")
        result = []
        for kind, minor in (("OpeningAvailable", opening), ("ClosingAvailable", closing), ("Expected", expected)):
            result.append(
                {
                    "accountId": self.bank_account_id(number),
                    "creditDebitIndicator": "Credit" if minor >= 0 else "Debit",
                    "type": kind,
                    "dateTime": moment,
                    "Amount": {"amount": _number(abs(minor)), "currency": config["currency"]},
                }
            )
        return result

    def balances_api(self, request: Request) -> Response:
        number, config = self._account_from_path(request)
        return self._data(request, {"Balance": self._balances(number, config)})

    def all_balances_api(self, request: Request) -> Response:
        balances = []
        for number, config in self.accounts().items():
            balances.extend(self._balances(number, config))
        return self._data(request, {"Balance": balances})

    # -- statements ------------------------------------------------------------------------------------
    def init_statement_api(self, request: Request) -> Response:
        data = self._json_body(request)
        statement = data.get("Statement")
        if not isinstance(statement, dict):
            raise validation("Data.Statement", "object required")
        number, _config = self._account_or_error(statement.get("accountId"))
        start = _day(statement.get("startDateTime"), "startDateTime")
        end = _day(statement.get("endDateTime"), "endDateTime")
        if end < start:
            raise validation("endDateTime", "must not be before startDateTime")
        fail = self.take_statement_error()
        with self.store.change():
            statement_id = str(self.store.next_id("tochka_statement", start=100_000_001))
            record = {
                "statementId": statement_id,
                "accountId": self.bank_account_id(number),
                "start": start.isoformat(),
                "end": end.isoformat(),
                "created": self.now_us(),
                "polls": 0,
                "fail": fail,
            }
            self.store.collection(self.statements_collection)[statement_id] = record
            self.store.touch(self.statements_collection, statement_id)
        return self._data(request, {"Statement": self._statement_head(record, "Created")})

    @staticmethod
    def _statement_head(record: dict, status: str) -> dict:
        return {
            "accountId": record["accountId"],
            "statementId": record["statementId"],
            "status": status,
            "startDateTime": record["start"],
            "endDateTime": record["end"],
            "creationDateTime": iso_utc(record["created"] - record["created"] % US).replace("Z", "+00:00"),
        }

    def _status(self, record: dict) -> str:
        if record["polls"] < int(self.config().get("statement_ready_polls", 2)):
            return "Processing" if record["polls"] else "Created"
        return "Error" if record["fail"] else "Ready"

    def statements_api(self, request: Request) -> Response:
        now = self.now_us()
        with self.store.read():
            records = [
                dict(r)
                for r in self.store.collection(self.statements_collection).values()
                if r["created"] + STATEMENT_LIFETIME_US > now
            ]
        return self._data(request, {"Statement": [self._statement_head(r, self._status(r)) for r in records]})

    def statement_api(self, request: Request) -> Response:
        number, config = self._account_from_path(request)
        statement_id = request.params["statement_id"]
        with self.store.change():
            statements = self.store.collection(self.statements_collection)
            record = statements.get(statement_id)
            if record is not None and record["created"] + STATEMENT_LIFETIME_US <= self.now_us():
                del statements[statement_id]  # statements live 24 hours (§3)
                self.store.touch(self.statements_collection, statement_id)
                record = None
            if record is None or record["accountId"] != self.bank_account_id(number):
                raise ApiError(404, "HTTPNotFound", "Выписка не найдена / Statement not found", statement_id)
            record["polls"] += 1
            self.store.touch(self.statements_collection, statement_id)
            record = dict(record)
        status = self._status(record)
        head = self._statement_head(record, status)
        if status == "Ready":
            head.update(
                self._statement_body(
                    number, config, date.fromisoformat(record["start"]), date.fromisoformat(record["end"])
                )
            )
        return self._data(request, {"Statement": [head]})

    def _statement_body(self, number: str, config: dict, start: date, end: date) -> dict:
        start_us = _msk_midnight_us(start)
        end_us = _msk_midnight_us(end + timedelta(days=1))
        feed = self.feed(number, config)
        opening = int(config.get("opening_minor", 0)) + feed.net_before(start_us)
        credit, debit = feed.confirmed_totals(start_us, end_us)
        own = {
            "account": number,
            "inn": COMPANY["inn"],
            "kpp": COMPANY["kpp"],
            "name": COMPANY["name"],
            "bic": self.own_bank.bic,
            "bank_name": self.own_bank.name,
            "corr_account": self.own_bank.corr_account,
        }
        currency = config["currency"]
        transactions = [
            self._transaction_json(op, currency, own) for op in feed.iter(start_us, end_us) if op.confirmed
        ]  # only final (booked) operations, §3
        return {
            "startDateBalance": _number(opening),
            "endDateBalance": _number(opening + credit - debit),
            "Transaction": transactions,
        }

    @staticmethod
    def _transaction_json(op: Operation, currency: str, own: dict) -> dict:
        def party(p):
            result = {"inn": p.get("inn") or "", "name": p.get("name") or ""}
            if p.get("kpp"):
                result["kpp"] = p["kpp"]
            return result

        def account(p):
            return {"schemeName": "RU.CBR.BBAN", "identification": p.get("account") or ""}

        def agent(p):
            return {
                "schemeName": "RU.CBR.BIK",
                "identification": p.get("bic") or "",
                "accountIdentification": p.get("corr_account") or "",
                "name": p.get("bank_name") or "",
            }

        debtor, creditor = (op.counterparty, own) if op.credit else (own, op.counterparty)
        return {
            "transactionId": op.id,
            "paymentId": op.id,
            "creditDebitIndicator": "Credit" if op.credit else "Debit",
            "status": "Booked",
            "documentNumber": op.document_number,
            "transactionTypeCode": op.type_code,
            "documentProcessDate": msk_date(op.ts),
            "description": op.purpose,
            "Amount": {
                "amount": _number(op.amount),
                "amountNat": _number(ruble_minor(op.amount, currency)),
                "currency": currency,
            },
            "DebtorParty": party(debtor),
            "DebtorAccount": account(debtor),
            "DebtorAgent": agent(debtor),
            "CreditorParty": party(creditor),
            "CreditorAccount": account(creditor),
            "CreditorAgent": agent(creditor),
        }

    # -- webhooks (docs/banks.md §3): JWTs signed RS256 with the sandbox's own key pair ------------------
    webhook_retry = (30, 10.0)
    webhook_expect = "200"
    WEBHOOK_TYPES = ("incomingPayment", "outgoingPayment", "incomingSbpPayment", "acquiringInternetPayment")

    def _signing_key(self):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        with self.store.change() as data:
            section = self._section(data)
            pem = section.get("webhook_key_pem")
            if not pem:
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                pem = key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ).decode("ascii")
                section["webhook_key_pem"] = pem
        return serialization.load_pem_private_key(pem.encode("ascii"), password=None)

    @staticmethod
    def _b64(data: bytes) -> str:
        import base64

        return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")

    def _jwk(self) -> dict:
        numbers = self._signing_key().public_key().public_numbers()

        def encode(value: int) -> str:
            return self._b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))

        jwk = {"kty": "RSA", "alg": "RS256", "use": "sig", "n": encode(numbers.n), "e": encode(numbers.e)}
        jwk["kid"] = hashlib.sha256(jwk["n"].encode()).hexdigest()[:16]
        return jwk

    def sign_jwt(self, claims: dict) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        header = {"alg": "RS256", "typ": "JWT", "kid": self._jwk()["kid"]}
        signing_input = ".".join(
            self._b64(json.dumps(part, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
            for part in (header, claims)
        )
        signature = self._signing_key().sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{self._b64(signature)}"

    def jwks_page(self, request: Request) -> Response:
        return Response.json({"keys": [self._jwk()]})

    def _webhook_claims(self, number: str, op: Operation, config: dict) -> dict:
        currency = config.get("currency", "RUB")
        party = op.counterparty or {}
        side = {
            "bankCode": party.get("bic") or "",
            "bankName": party.get("bank_name") or "",
            "bankCorrespondentAccount": party.get("corr_account") or "",
            "account": party.get("account") or "",
            "name": party.get("name") or "",
            "amount": money_text(op.amount),
            "currency": currency,
            "inn": party.get("inn") or "",
            "kpp": party.get("kpp") or "",
        }
        own = dict(
            side,
            bankCode=self.own_bank.bic,
            bankName=self.own_bank.name,
            bankCorrespondentAccount=self.own_bank.corr_account,
            account=number,
            name=config.get("name") or "",
            inn="",
            kpp="",
        )
        payer, recipient = (side, own) if op.credit else (own, side)
        return {
            "SidePayer": payer,
            "SideRecipient": recipient,
            "purpose": op.purpose,
            "documentNumber": op.document_number,
            "paymentId": op.id,
            "date": msk_date(op.ts),
            "webhookType": "incomingPayment" if op.credit else "outgoingPayment",
            "customerCode": self._customers()[0]["customerCode"],
        }

    def operation_webhook(self, number: str, op: Operation, subscription: dict) -> dict | None:
        claims = self._webhook_claims(number, op, self.account(number) or {})
        if claims["webhookType"] not in subscription.get("types", ()):
            return None
        return {"raw": self.sign_jwt(claims)}

    def _test_claims(self, webhook_type: str) -> dict:
        number = next(iter(self.accounts()))
        sample = Operation("test-" + uuid.uuid4().hex, self.now_us(), True, 100, True, "Тестовый вебхук", "1", "", {})
        return dict(self._webhook_claims(number, sample, self.account(number) or {}), webhookType=webhook_type)

    @staticmethod
    def _flat_body(request: Request) -> dict:
        """The webhook API's bodies are flat objects, without the ``Data`` envelope."""
        try:
            body = request.json()
        except BodyError:
            raise validation("body", "a JSON object is required") from None
        if not isinstance(body, dict):
            raise validation("body", "a JSON object is required")
        return body

    def webhook_put_api(self, request: Request) -> Response:
        body = self._flat_body(request)
        url, types = body.get("url"), body.get("webhooksList")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise validation("url", "a URL is required")
        if not isinstance(types, list) or not types or any(t not in self.WEBHOOK_TYPES for t in types):
            raise validation("webhooksList", f"a list of {', '.join(self.WEBHOOK_TYPES)}")
        # the bank tests the URL with one webhook per type and refuses unless it answers 200 (§3)
        for webhook_type in types:
            status, _body, error = self.notifier._post(url, {}, raw=self.sign_jwt(self._test_claims(webhook_type)))
            if status != 200:
                raise ApiError(400, "WEBHOOK_TEST_FAILED", f"Test webhook to {url} answered {status or error}")
        subscription = {"url": url, "types": list(types), "client_id": request.params["client_id"]}
        self.set_webhook_subscription(request.params["client_id"], subscription)
        return self._data(request, {"webhooksList": list(types), "url": url})

    def webhook_get_api(self, request: Request) -> Response:
        subscription = self.webhook_subscriptions().get(request.params["client_id"]) or {}
        return self._data(request, {"webhooksList": subscription.get("types", []), "url": subscription.get("url")})

    def webhook_delete_api(self, request: Request) -> Response:
        self.set_webhook_subscription(request.params["client_id"], None)
        return self._data(request, {"result": True})

    def webhook_test_send_api(self, request: Request) -> Response:
        subscription = self.webhook_subscriptions().get(request.params["client_id"])
        webhook_type = self._flat_body(request).get("webhookType")
        if not subscription or webhook_type not in subscription.get("types", ()):
            raise validation("webhookType", "not subscribed")
        with self.store.change() as data:
            self.notifier.enqueue(
                data,
                bank=self.name,
                key=f"{self.name}:test",
                url=subscription["url"],
                payload={},
                raw=self.sign_jwt(self._test_claims(webhook_type)),
                expect=self.webhook_expect,
            )
        return self._data(request, {"result": True})

    # -- payments for sign -------------------------------------------------------------------------------
    def payment_create_api(self, request: Request) -> Response:
        data = self._json_body(request)
        required = (
            "accountCode",
            "bankCode",
            "counterpartyBankBic",
            "counterpartyAccountNumber",
            "counterpartyName",
            "paymentAmount",
            "paymentDate",
            "paymentPurpose",
        )
        for field in required:
            if data.get(field) in (None, ""):
                raise validation(field, "field required")
        for field, pattern in (
            ("accountCode", _ACCOUNT),
            ("counterpartyAccountNumber", _ACCOUNT),
            ("bankCode", _BIC),
            ("counterpartyBankBic", _BIC),
        ):
            if not isinstance(data[field], str) or not pattern.fullmatch(data[field]):
                raise validation(field, "wrong format")
        for field, pattern in (
            ("counterpartyINN", _INN),
            ("counterpartyKPP", _KPP),
            ("payerINN", _INN),
            ("payerKPP", _KPP),
            ("counterpartyBankCorrAccount", _ACCOUNT),
        ):
            value = data.get(field)
            if value is not None and (not isinstance(value, str) or not pattern.fullmatch(value)):
                raise validation(field, "wrong format")
        amount = data["paymentAmount"]
        if isinstance(amount, bool) or not isinstance(amount, (int, Decimal)):
            raise validation("paymentAmount", "a positive number of rubles")
        try:
            amount_minor = parse_minor(amount, "paymentAmount")
        except AdminError as exc:
            raise validation("paymentAmount", exc.message) from None
        _day(data["paymentDate"], "paymentDate")
        purpose = data["paymentPurpose"]
        if not isinstance(purpose, str) or len(purpose) > 210:
            raise validation("paymentPurpose", "text of at most 210 characters")
        number, config = self._account_or_error(f"{data['accountCode']}/{data['bankCode']}")
        if config["currency"] != "RUB":
            raise ApiError(
                400, "Validation Error", "Платежное поручение только с рублевого счета / Ruble accounts only"
            )
        request_id = f"openapi-{uuid.uuid4()}"
        with self.store.change():
            self.store.collection(self.payments_collection)[request_id] = {
                "requestId": request_id,
                "key": request_id,
                "from": number,
                "amount_minor": amount_minor,
                "amount": money_text(amount_minor),
                "purpose": purpose,
                "document_number": str(data.get("paymentNumber") or ""),
                "payment_date": data["paymentDate"],
                "counterparty": {
                    "name": data["counterpartyName"],
                    "inn": data.get("counterpartyINN") or "",
                    "kpp": data.get("counterpartyKPP") or "",
                    "account": data["counterpartyAccountNumber"],
                    "bic": data["counterpartyBankBic"],
                    "bank_name": "",
                    "corr_account": data.get("counterpartyBankCorrAccount") or "",
                },
                "status": "WaitingForCreate",
                "polls": 0,
                "created": iso_utc(self.now_us()),
            }
            self.store.touch(self.payments_collection, request_id)
        redirect = f"{self.sandbox.public_url}/tochka/payments/{request_id}"
        return self._data(request, {"requestId": request_id, "redirectURL": redirect})

    def payment_status_api(self, request: Request) -> Response:
        request_id = request.params["request_id"]
        answer = self._advance(request_id, int(self.config().get("payment_sign_polls", 2)))
        if answer is None:
            raise ApiError(404, "HTTPNotFound", "Платеж не найден / Payment not found", request_id)
        return self._data(request, answer)

    def _advance(self, request_id: str, sign_polls: int, force: str | None = None) -> dict | None:
        with self._lock, self.store.change():
            payments = self.store.collection(self.payments_collection)
            payment = payments.get(request_id)
            if payment is None:
                return None
            if not force:
                payment["polls"] += 1
            if payment["status"] in ("WaitingForCreate", "Created"):
                if force in ("Canceled", "Rejected"):
                    payment["status"] = force
                elif force == "Paid" or (not force and sign_polls and payment["polls"] >= sign_polls):
                    ok, detail = self.execute_payment(payment["from"], payment)
                    if ok:
                        payment["status"], payment["operation_id"] = "Paid", detail
                    else:
                        payment["status"], payment["error"] = "Rejected", detail
                else:
                    payment["status"] = "Created"
            self.store.touch(self.payments_collection, request_id)
            answer = {"requestId": request_id, "status": payment["status"]}
            if payment.get("error"):
                answer["errors"] = [{"errorCode": "Rejected", "message": payment["error"]}]
            return answer

    def admin_set_payment_status(self, payment_id: str, status: str) -> dict | None:
        with self.store.read():
            known = payment_id in self.store.collection(self.payments_collection)
        if not known:
            return None
        if status not in ("Paid", "Canceled", "Rejected"):
            raise AdminError("status must be Paid, Canceled or Rejected")
        return {"bank": self.name, **self._advance(payment_id, 0, force=status)}

    # -- signing page (redirectURL) ----------------------------------------------------------------------
    def _payment_snapshot(self, request_id: str) -> dict | None:
        with self.store.read():
            payment = self.store.collection(self.payments_collection).get(request_id)
            return dict(payment) if payment else None

    def sign_page(self, request: Request, note: str = "") -> Response:
        payment = self._payment_snapshot(request.params["request_id"])
        if payment is None:
            return Response.html(
                pages._layout(
                    "Платеж не найден", "<div class=card><h1>Платеж не найден / Payment not found</h1></div>"
                ),
                404,
            )
        party = payment["counterparty"]
        rows = "".join(
            f"<dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd>"
            for k, v in (
                ("Статус / Status", payment["status"]),
                ("Со счета / From", payment["from"]),
                ("Получатель / Payee", party.get("name")),
                ("ИНН / INN", party.get("inn")),
                ("Счет / Account", party.get("account")),
                ("БИК / BIC", party.get("bic")),
                ("Назначение / Purpose", payment["purpose"]),
            )
        )
        action = (
            "<form method=post><button class=pay name=action value=sign>Подписать / Sign</button>"
            "<button class=sbp name=action value=cancel>Отменить / Cancel</button></form>"
            if payment["status"] in ("WaitingForCreate", "Created")
            else ""
        )
        body = (
            f"<div class=card><div class=brand><span>Точка · песочница / sandbox</span><b>На подпись</b></div>"
            f"<h1>Платежное поручение / Payment order</h1><div class=amount>{html.escape(payment['amount'])} ₽"
            f"</div><dl>{rows}</dl>{f'<p class=ok>{html.escape(note)}</p>' if note else ''}{action}</div>"
        )
        return Response.html(pages._layout("Платеж на подпись", body))

    def sign_page_post(self, request: Request) -> Response:
        request_id = request.params["request_id"]
        if self._payment_snapshot(request_id) is None:
            return self.sign_page(request)
        action = request.form().get("action")
        answer = self._advance(request_id, 0, force="Paid" if action == "sign" else "Canceled")
        return self.sign_page(request, note=f"Статус / Status: {answer['status']}")
