"""What the business-API banks of the sandbox share: Bearer tokens (configured, added and
revoked at run time), our accounts with their generated and added operations, payment
drafts bookkeeping, and the admin API under ``/_admin/business/`` and ``/_admin/tokens``.

A business bank is a :class:`BusinessBank` subclass (``tbank_business``, ``tochka``)
that only adds its own routes and its own spelling.  The admin routes are registered once,
by whichever business bank registers first, and act on every business bank (or the one
named by ``"bank"`` in the body, or the one holding ``"account"``).

Tokens are kept as SHA-256 digests with a 4-character hint: ``state.json`` never holds a
usable token.  Configured tokens come from the bank's well-known sandbox token, the
environment (``BANK_SANDBOX_TBANK_BUSINESS_TOKENS``, ``BANK_SANDBOX_TOCHKA_TOKENS``:
comma-separated) and, if the server was given them, ``options["<bank>_tokens"]``.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import threading
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from .business_data import (
    MSK,
    US,
    AccountFeed,
    Bank,
    Generator,
    GeneratorSpec,
    Operation,
    Reidentifier,
    account_number,
    datetime_to_ts,
    money_text,
    operation_to_record,
    record_to_operation,
)
from .http_util import BodyError, Request, Response
from .registry import BankModule

DAY = 86_400
SEED_ENV = "BANK_SANDBOX_BUSINESS_SEED"
VOLUME_ENV = "BANK_SANDBOX_BUSINESS_VOLUME"
DEFAULT_VOLUME = 100_000

_DIGITS20 = re.compile(r"\d{20}")


class AdminError(Exception):
    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def token_hint(token: str) -> str:
    return (token[:4] + "…") if len(token) > 4 else "…"


def parse_minor(value: Any, what: str = "amount") -> int:
    """A positive amount with at most 2 decimals (number or text) → minor units."""
    if isinstance(value, bool) or value is None:
        raise AdminError(f"{what} is required (a positive number with at most 2 decimals)")
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
        exact = amount.is_finite() and amount > 0 and amount == amount.quantize(Decimal("0.01"))
    except InvalidOperation:  # not a number, or too many digits to quantize
        raise AdminError(f"{what}: not a usable amount: {value!r}") from None
    if not exact:
        raise AdminError(f"{what} must be positive with at most 2 decimals, got {value!r}")
    return int(amount * 100)


def parse_instant(value: Any, what: str, default_us: int | None = None) -> int:
    """ISO date-time (``Z``/offset; naive = UTC) or date (= noon Moscow time) → µs."""
    if value in (None, ""):
        if default_us is None:
            raise AdminError(f"{what} is required")
        return default_us
    text = str(value).strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime_to_ts(datetime(day.year, day.month, day.day, 12, tzinfo=MSK))
        return datetime_to_ts(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise AdminError(f"{what}: not an ISO date or date-time: {value!r}") from None


class BusinessBank(BankModule):
    """Base of a simulated business-API bank (accounts, statements, payment drafts)."""

    sandbox_token = ""  # the bank's well-known sandbox token
    token_env = ""  # environment variable with more tokens (comma-separated)
    own_bank: Bank  # requisites of the bank itself
    #: defaults of the run-time knobs (``/_admin/business/config``)
    default_config = {"statement_ready_polls": 2, "payment_sign_polls": 2, "statement_errors": 0}

    def __init__(self, sandbox):
        self._lock = threading.RLock()
        self._generators: dict[str, tuple[dict, Generator]] = {}
        self._added: dict[str, list[Operation]] | None = None
        super().__init__(sandbox)
        self._merge_configured_tokens()

    # -- names of this bank's collections ------------------------------------------------------
    @property
    def operations_collection(self) -> str:
        return f"{self.name}_operations"

    @property
    def payments_collection(self) -> str:
        return f"{self.name}_payments"

    # -- seeding ---------------------------------------------------------------------------------
    def seed_accounts(self, anchor_s: int, seed: int, volume: int) -> dict:
        """Initial accounts: ``{number: {currency, name, type, opened, opening_minor,
        generator: GeneratorSpec.to_dict() | None}}``."""
        raise NotImplementedError

    def configured_tokens(self) -> list[str]:
        tokens = [self.sandbox_token] if self.sandbox_token else []
        tokens += [t.strip() for t in os.environ.get(self.token_env, "").split(",") if t.strip()]
        tokens += [str(t) for t in (self.options.get(f"{self.name}_tokens") or []) if str(t).strip()]
        return tokens

    def state_defaults(self) -> dict:
        anchor_s = int(self.clock.now()) // DAY * DAY  # today 00:00 UTC: generated data ends there
        seed = int(os.environ.get(SEED_ENV) or 1)
        volume = int(os.environ.get(VOLUME_ENV) or DEFAULT_VOLUME)
        return {
            "anchor_s": anchor_s,
            "accounts": self.seed_accounts(anchor_s, seed, volume),
            "tokens": {"active": {token_digest(t): token_hint(t) for t in self.configured_tokens()}, "revoked": {}},
            "config": dict(self.default_config),
        }

    def _section(self, data: dict) -> dict:
        banks = data.setdefault("banks", {})
        section = banks.get(self.name)
        if section is None:  # only right after a wipe: seed it
            section = banks[self.name] = self.state_defaults()
        return section

    def _merge_configured_tokens(self) -> None:
        with self.store.change() as data:
            tokens = self._section(data)["tokens"]
            for token in self.configured_tokens():
                digest = token_digest(token)
                if digest not in tokens["revoked"]:
                    tokens["active"][digest] = token_hint(token)

    def on_reset(self) -> None:
        # Called with the store's lock held: no self._lock here (other threads take the two
        # in the opposite order); plain reassignments are atomic.
        self._generators = {}
        self._added = None

    # -- tokens --------------------------------------------------------------------------------------
    def token_problem(self, request: Request) -> str | None:
        """None if the request carries an active Bearer token, else why not
        (``"missing"``, ``"revoked"``, ``"unknown"``)."""
        header = (request.headers.get("Authorization") or "").strip()
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return "missing"
        digest = token_digest(token)
        with self.store.read() as data:
            tokens = self._section(data)["tokens"]
            if digest in tokens["active"]:
                return None
            return "revoked" if digest in tokens["revoked"] else "unknown"

    def set_token(self, token: str, active: bool) -> None:
        digest = token_digest(token)
        with self.store.change() as data:
            tokens = self._section(data)["tokens"]
            if active:
                tokens["revoked"].pop(digest, None)
                tokens["active"][digest] = token_hint(token)
            else:
                tokens["active"].pop(digest, None)
                tokens["revoked"][digest] = token_hint(token)

    def tokens_view(self) -> dict:
        with self.store.read() as data:
            tokens = self._section(data)["tokens"]
            return {"active": sorted(tokens["active"].values()), "revoked": sorted(tokens["revoked"].values())}

    # -- configuration -----------------------------------------------------------------------------------
    def config(self) -> dict:
        with self.store.read() as data:
            return {**self.default_config, **self._section(data).get("config", {})}

    def take_statement_error(self) -> bool:
        """Consume one unit of the ``statement_errors`` knob."""
        with self.store.change() as data:
            config = self._section(data).setdefault("config", dict(self.default_config))
            left = int(config.get("statement_errors", 0))
            if left <= 0:
                return False
            config["statement_errors"] = left - 1
            return True

    # -- accounts --------------------------------------------------------------------------------------------
    def accounts(self) -> dict:
        """A copy of the accounts' configuration, by account number."""
        with self.store.read() as data:
            return copy.deepcopy(self._section(data)["accounts"])

    def account(self, number: str) -> dict | None:
        with self.store.read() as data:
            found = self._section(data)["accounts"].get(number)
            return copy.deepcopy(found) if found is not None else None

    def new_account_number(self, currency_numeric: str) -> str:
        existing = self.accounts()
        serial = 500 + len(existing)
        while True:
            number = account_number("40702", currency_numeric, self.branch, serial, self.own_bank.bic)
            if number not in existing:
                return number
            serial += 1

    branch = "1000"  # 4-digit branch part of our account numbers (subclasses change it)

    def generator(self, number: str, config: dict) -> Generator | None:
        spec = config.get("generator")
        if not spec or not int(spec.get("count") or 0):
            return None
        with self._lock:
            cached = self._generators.get(number)
            if cached is None or cached[0] != spec:
                cached = (
                    dict(spec),
                    Generator(number, GeneratorSpec.from_dict(spec), self.own_bank, config.get("currency", "RUB")),
                )
                self._generators[number] = cached
            return cached[1]

    def _added_index(self) -> dict[str, list[Operation]]:
        with self._lock:
            if self._added is None:
                index: dict[str, list[Operation]] = {}
                with self.store.read():
                    records = list(self.store.collection(self.operations_collection).values())
                for record in records:
                    index.setdefault(record["account"], []).append(record_to_operation(record))
                self._added = index
            return self._added

    def feed(self, number: str, config: dict | None = None) -> AccountFeed:
        config = config if config is not None else (self.account(number) or {})
        with self._lock:
            added = list(self._added_index().get(number, ()))
        return AccountFeed(self.generator(number, config), added, Reidentifier(config.get("reidentified") or []))

    def add_operation(self, number: str, op: Operation) -> Operation:
        """Store an operation (admin API, executed payment) on account ``number``."""
        with self._lock, self.store.change():
            records = self.store.collection(self.operations_collection)
            if op.id in records:
                raise AdminError(f"operation {op.id} already exists", 409)
            records[op.id] = operation_to_record(op, number)
            self.store.touch(self.operations_collection, op.id)
            self._added_index().setdefault(number, []).append(op)
        if op.confirmed:
            self.send_operation_webhooks(number, op)
        return op

    # -- account webhooks (docs/bank-webhooks.md) -----------------------------------------------------------
    #: The bank's retry policy: (attempts, seconds apart); ``BANK_SANDBOX_WEBHOOK_RETRY_SECONDS`` shortens it.
    webhook_retry = (5, 30.0)
    webhook_expect = "2xx"

    def webhook_subscriptions(self) -> dict:
        with self.store.read() as data:
            return copy.deepcopy(self._section(data).get("webhooks") or {})

    def set_webhook_subscription(self, key: str, subscription: dict | None) -> None:
        with self.store.change() as data:
            hooks = self._section(data).setdefault("webhooks", {})
            if subscription is None:
                hooks.pop(key, None)
            else:
                hooks[key] = subscription

    def operation_webhook(self, number: str, op: Operation, subscription: dict) -> dict | None:
        """``{"payload"|"raw", "headers"}`` of the webhook telling ``subscription`` about ``op``."""
        return None

    def send_operation_webhooks(self, number: str, op: Operation) -> None:
        """Queue the account webhook of a new confirmed operation to every subscriber,
        with the bank's retry policy (and the notifier's faults: drop, duplicate, out of order)."""
        attempts, interval = self.webhook_retry
        interval = float(os.environ.get("BANK_SANDBOX_WEBHOOK_RETRY_SECONDS") or interval)
        for key, subscription in self.webhook_subscriptions().items():
            message = self.operation_webhook(number, op, subscription)
            if message is None:
                continue
            with self.store.change() as data:
                self.notifier.enqueue(
                    data,
                    bank=self.name,
                    key=f"{self.name}:{op.id}",
                    url=subscription.get("url"),
                    payload=message.get("payload") or {},
                    raw=message.get("raw"),
                    headers=message.get("headers"),
                    meta={"account": number, "operation": op.id, "subscription": key},
                    expect=self.webhook_expect,
                    max_attempts=attempts,
                    interval=interval,
                )

    def now_us(self) -> int:
        return int(self.clock.now() * US)

    def balance_minor(self, number: str, config: dict, at_us: int | None = None) -> int:
        """Booked balance (opening + confirmed operations up to ``at_us``, default now)."""
        at_us = self.now_us() + 1 if at_us is None else at_us
        return int(config.get("opening_minor", 0)) + self.feed(number, config).net_before(at_us)

    def holds_minor(self, number: str, config: dict) -> int:
        return self.feed(number, config).holds(self.now_us() + 1)

    def account_summary(self, number: str, config: dict, with_balance: bool = True) -> dict:
        spec = config.get("generator") or {}
        with self._lock:
            added = len(self._added_index().get(number, ()))
        summary = {
            "bank": self.name,
            "account": number,
            "bank_account_id": self.bank_account_id(number),
            "currency": config["currency"],
            "name": config.get("name"),
            "generated": int(spec.get("count") or 0),
            "added": added,
        }
        if spec.get("count"):
            summary["generated_period"] = {
                "start": datetime.fromtimestamp(spec["start_s"], timezone.utc).isoformat(),
                "end": datetime.fromtimestamp(spec["end_s"], timezone.utc).isoformat(),
                "seed": spec["seed"],
            }
        if with_balance:
            summary["balance"] = money_text(self.balance_minor(number, config))
            summary["held"] = money_text(self.holds_minor(number, config))
        return summary

    def bank_account_id(self, number: str) -> str:
        """The id of an account in this bank's API (T-Bank: the number)."""
        return number

    def find_account(self, text: str) -> str | None:
        """The account number for ``text`` (a number or this bank's account id)."""
        number = str(text or "").split("/", 1)[0].strip()
        return number if self.account(number) is not None else None

    def execute_payment(self, number: str, payment: dict) -> tuple[bool, str | None]:
        """Debit a signed payment order: (True, operation id) or (False, reason)."""
        config = self.account(number)
        if config is None:
            return False, "Счет списания не найден"
        amount = int(payment["amount_minor"])
        available = self.balance_minor(number, config) - self.holds_minor(number, config)
        if amount > available:
            return False, "Недостаточно средств на счете"
        op = Operation(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.name}:payment:{payment['key']}")),
            ts=self.now_us(),
            credit=False,
            amount=amount,
            confirmed=True,
            purpose=payment.get("purpose") or "",
            document_number=str(payment.get("document_number") or ""),
            category="contragentPayment",
            counterparty=dict(payment.get("counterparty") or {}),
        )
        self.add_operation(number, op)
        return True, op.id

    def admin_state(self) -> dict:
        with self.store.read() as data:
            section = self._section(data)
            accounts = {
                number: {
                    "currency": cfg["currency"],
                    "name": cfg.get("name"),
                    "generated": int((cfg.get("generator") or {}).get("count") or 0),
                }
                for number, cfg in section["accounts"].items()
            }
            payments = copy.deepcopy(self.store.collection(self.payments_collection))
            tokens = {"active": len(section["tokens"]["active"]), "revoked": len(section["tokens"]["revoked"])}
        return {self.name: {"accounts": accounts, "payments": payments, "tokens": tokens, "config": self.config()}}

    # -- shared admin API ---------------------------------------------------------------------------------
    ADMIN_ROUTES = (
        ("GET", "/_admin/business/accounts", "admin_accounts_get"),
        ("POST", "/_admin/business/accounts", "admin_accounts_post"),
        ("POST", "/_admin/business/operations", "admin_operations_post"),
        ("POST", "/_admin/business/payments", "admin_payments_post"),
        ("POST", "/_admin/business/reidentify", "admin_reidentify_post"),
        ("GET", "/_admin/business/config", "admin_config_get"),
        ("POST", "/_admin/business/config", "admin_config_post"),
        ("GET", "/_admin/business/webhooks", "admin_webhooks_get"),
        ("POST", "/_admin/business/webhooks/clear", "admin_webhooks_clear"),
        ("GET", "/_admin/tokens", "admin_tokens_get"),
        ("POST", "/_admin/tokens", "admin_tokens_post"),
        ("POST", "/_admin/tokens/revoke", "admin_tokens_revoke"),
    )

    def register_admin(self, router) -> None:
        """Add the shared admin routes unless another business bank already did."""
        taken = {(route.method, route.pattern.pattern) for route in router.routes}
        for method, path, handler in self.ADMIN_ROUTES:
            if (method, router.compile(path).pattern) not in taken:
                router.add(method, path, self._admin(getattr(self, handler)), kind="admin", owner=self.name)

    def _admin(self, handler):
        def run(request: Request) -> Response:
            try:
                body = request.json_object(default_empty=True) if request.method == "POST" else {}
                return handler(request, body)
            except BodyError as exc:
                return Response.json({"error": f"body must be a JSON object: {exc}"}, 400)
            except AdminError as exc:
                return Response.json({"error": exc.message}, exc.status)

        return run

    def business_banks(self) -> list[BusinessBank]:
        return [m for m in self.sandbox.modules if isinstance(m, BusinessBank)]

    def _pick_bank(self, body: dict, account: str | None = None) -> BusinessBank:
        banks = self.business_banks()
        name = body.get("bank")
        if name:
            for bank in banks:
                if bank.name == name:
                    return bank
            raise AdminError(f"unknown bank {name!r}; business banks: {', '.join(b.name for b in banks)}", 404)
        if account:
            for bank in banks:
                if bank.find_account(account):
                    return bank
            raise AdminError(f"account {account!r} not found in any business bank", 404)
        if len(banks) == 1:
            return banks[0]
        raise AdminError(f"say which bank: \"bank\": one of {', '.join(b.name for b in banks)}")

    def _selected(self, body: dict) -> list[BusinessBank]:
        return [self._pick_bank(body)] if body.get("bank") else self.business_banks()

    def admin_accounts_get(self, request: Request, body: dict) -> Response:
        wanted = request.arg("bank")
        result = {}
        for bank in self.business_banks():
            if wanted and bank.name != wanted:
                continue
            result[bank.name] = [bank.account_summary(n, c) for n, c in bank.accounts().items()]
        return Response.json({"accounts": result})

    def admin_accounts_post(self, request: Request, body: dict) -> Response:
        """Add or change an account: ``{bank, account?, currency, name, opening_balance,
        generated: {count, seed, start, end} | null}``."""
        bank = self._pick_bank(body, body.get("account"))
        return Response.json(bank.upsert_account(body))

    def upsert_account(self, body: dict) -> dict:
        currency = str(body.get("currency") or "RUB").upper()
        numeric = {"RUB": "810", "USD": "840", "EUR": "978", "CNY": "156"}.get(currency)
        if numeric is None:
            raise AdminError("currency must be RUB, USD, EUR or CNY")
        number = self.find_account(body.get("account") or "") if body.get("account") else None
        if body.get("account") and number is None:
            number = str(body["account"]).split("/", 1)[0]
            if not _DIGITS20.fullmatch(number):
                raise AdminError("account must be 20 digits")
        number = number or self.new_account_number(numeric)
        config = self.account(number) or {
            "currency": currency,
            "name": "Расчетный счет",
            "type": "Current",
            "opened": datetime.fromtimestamp(self.clock.now(), timezone.utc).date().isoformat(),
            "opening_minor": 0,
            "generator": None,
        }
        if "name" in body:
            config["name"] = str(body["name"])
        if "opening_balance" in body:
            config["opening_minor"] = (
                0 if not body["opening_balance"] else parse_minor(body["opening_balance"], "opening_balance")
            )
        if "generated" in body:
            spec = body["generated"]
            if not spec:
                config["generator"] = None
            else:
                if not isinstance(spec, dict):
                    raise AdminError("generated must be an object {count, seed, start, end}")
                now_s = int(self.clock.now())
                end_s = parse_instant(spec.get("end"), "generated.end", (now_s // DAY * DAY) * US) // US
                start_s = parse_instant(spec.get("start"), "generated.start", (end_s - 90 * DAY) * US) // US
                try:
                    generator = GeneratorSpec(
                        int(spec.get("count", 0)),
                        int(spec.get("seed", 1)),
                        start_s,
                        end_s,
                        int(spec.get("unconfirmed_days", 2)),
                    )
                except (TypeError, ValueError) as exc:
                    raise AdminError(f"generated: {exc}") from None
                config["generator"] = generator.to_dict()
        with self.store.change() as data:
            self._section(data)["accounts"][number] = config
        return self.account_summary(number, config)

    def admin_operations_post(self, request: Request, body: dict) -> Response:
        """Add operations: one object, or ``{"operations": [...]}`` (see the README)."""
        items = body.get("operations") if isinstance(body.get("operations"), list) else [body]
        created = []
        for item in items:
            if not isinstance(item, dict):
                raise AdminError("each operation must be an object")
            merged = {**{k: v for k, v in body.items() if k in ("bank",)}, **item}
            bank = self._pick_bank(merged, merged.get("account"))
            created.append(bank.admin_add_operation(merged))
        return Response.json({"operations": created} if "operations" in body else created[0], 201)

    def admin_add_operation(self, body: dict) -> dict:
        number = self.find_account(body.get("account") or "")
        if number is None:
            raise AdminError(f"account {body.get('account')!r} not found in {self.name}", 404)
        direction = str(body.get("direction") or "credit").lower()
        if direction not in ("credit", "debit", "in", "out", "incoming", "outgoing"):
            raise AdminError("direction must be credit (incoming) or debit (outgoing)")
        credit = direction in ("credit", "in", "incoming")
        status = body.get("status")
        confirmed = bool(body.get("confirmed", True))
        if status is not None:
            if status not in ("Transaction", "Authorization", "Booked", "Pending"):
                raise AdminError("status must be Transaction/Authorization (or Booked/Pending)")
            confirmed = status in ("Transaction", "Booked")
        party = body.get("counterparty") or {}
        if not isinstance(party, dict):
            raise AdminError("counterparty must be an object {name, inn, kpp, account, bic, bank_name}")
        party = {
            key: str(party.get(key) or "")
            for key in ("name", "inn", "kpp", "account", "bic", "bank_name", "corr_account")
        }
        op = Operation(
            id=str(body.get("id") or uuid.uuid4()),
            ts=parse_instant(body.get("date"), "date", self.now_us()),
            credit=credit,
            amount=parse_minor(body.get("amount")),
            confirmed=confirmed,
            purpose=str(body.get("purpose") or ""),
            document_number=str(body.get("document_number") or ""),
            category=str(body.get("category") or ("incomeCustomer" if credit else "contragentPayment")),
            counterparty=party,
            type_code=str(body.get("type_code") or "Платежное поручение"),
        )
        self.add_operation(number, op)
        record = operation_to_record(op, number)
        record["amount"] = money_text(op.amount)
        return {"bank": self.name, "bank_account_id": self.bank_account_id(number), **record}

    def admin_reidentify_post(self, request: Request, body: dict) -> Response:
        """Give operations of an account new ids, as T-Bank does for operations made
        between 22:00 and 03:00 (docs/banks.md §6.9): ``{account, from?, to?, night_only?}``
        (``from``/``to`` ISO, default the whole history; ``night_only`` default true)."""
        bank = self._pick_bank(body, body.get("account"))
        return Response.json(bank.reidentify(body))

    def reidentify(self, body: dict) -> dict:
        number = self.find_account(body.get("account") or "")
        if number is None:
            raise AdminError(f"account {body.get('account')!r} not found in {self.name}", 404)
        night_only = body.get("night_only", True)
        if not isinstance(night_only, bool):
            raise AdminError("night_only must be true or false")
        start_us = parse_instant(body.get("from"), "from", 0)
        end_us = parse_instant(body.get("to"), "to", 2**62)
        if end_us <= start_us:
            raise AdminError("to must be later than from")
        with self._lock, self.store.change() as data:
            config = self._section(data)["accounts"][number]
            windows = config.setdefault("reidentified", [])
            salt = str(len(windows) + 1)
            windows.append({"start_us": start_us, "end_us": end_us, "night_only": night_only, "salt": salt})
            snapshot = copy.deepcopy(config)
        window = Reidentifier([windows[-1]])
        # what the bank lists now, with the ids before this call: count those renamed
        before = AccountFeed(self.feed(number, snapshot).generator, [], None)
        previous = Reidentifier(snapshot["reidentified"][:-1])
        count = 0
        for op in before.iter(start_us, end_us):
            op = previous(op) if previous else op
            count += window(op) is not op
        with self._lock:
            added = list(self._added_index().get(number, ()))
        for op in added:
            op = previous(op) if previous else op
            count += window(op) is not op
        return {"bank": self.name, "account": number, "generation": int(salt), "reidentified": count}

    def admin_payments_post(self, request: Request, body: dict) -> Response:
        """Force a payment draft's status: ``{bank, id, status}``."""
        banks = self._selected(body)
        payment_id = str(body.get("id") or "")
        for bank in banks:
            answer = bank.admin_set_payment_status(payment_id, str(body.get("status") or ""))
            if answer is not None:
                return Response.json(answer)
        raise AdminError(f"payment {payment_id!r} not found", 404)

    def admin_set_payment_status(self, payment_id: str, status: str) -> dict | None:  # pragma: no cover
        return None

    def admin_config_get(self, request: Request, body: dict) -> Response:
        return Response.json({"config": {bank.name: bank.config() for bank in self.business_banks()}})

    def admin_config_post(self, request: Request, body: dict) -> Response:
        values = {}
        for key in self.default_config:
            if key in body:
                try:
                    values[key] = int(body[key])
                except (TypeError, ValueError):
                    raise AdminError(f"{key} must be a non-negative integer") from None
                if values[key] < 0:
                    raise AdminError(f"{key} must be a non-negative integer")
        for bank in self._selected(body):
            with bank.store.change() as data:
                bank._section(data).setdefault("config", dict(bank.default_config)).update(values)
        return self.admin_config_get(request, body)

    def admin_webhooks_get(self, request: Request, body: dict) -> Response:
        """The webhook subscriptions of each business bank (their URLs; the secrets left out)."""
        return Response.json(
            {
                "webhooks": {
                    bank.name: {key: sub.get("url") for key, sub in bank.webhook_subscriptions().items()}
                    for bank in self.business_banks()
                }
            }
        )

    def admin_webhooks_clear(self, request: Request, body: dict) -> Response:
        """Drop the webhook subscriptions (all banks', or ``{"bank": name}``'s): a test that
        subscribed an Odoo which is gone stops its operations' webhooks reaching the next."""
        for bank in self._selected(body):
            for key in bank.webhook_subscriptions():
                bank.set_webhook_subscription(key, None)
        return self.admin_webhooks_get(request, body)

    def admin_tokens_get(self, request: Request, body: dict) -> Response:
        return Response.json({"tokens": {bank.name: bank.tokens_view() for bank in self.business_banks()}})

    def _token_of(self, body: dict) -> str:
        token = body.get("token")
        if not isinstance(token, str) or not token.strip():
            raise AdminError("token (text) is required")
        return token.strip()

    def admin_tokens_post(self, request: Request, body: dict) -> Response:
        token = self._token_of(body)
        for bank in self._selected(body):
            bank.set_token(token, True)
        return self.admin_tokens_get(request, body)

    def admin_tokens_revoke(self, request: Request, body: dict) -> Response:
        token = self._token_of(body)
        for bank in self._selected(body):
            bank.set_token(token, False)
        return self.admin_tokens_get(request, body)
