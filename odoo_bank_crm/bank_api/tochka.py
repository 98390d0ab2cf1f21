"""Tochka Bank API (enter.tochka.com/uapi, docs/banks.md §3): customers, accounts,
balances, asynchronous statements, payment orders for signing.

- Base URL ``https://enter.tochka.com/uapi``; ``Authorization: Bearer <JWT>`` (the bank's
  sandbox, ``https://enter.tochka.com/sandbox/v2``, takes ``sandbox.jwt.token``).
- Answers are wrapped as ``{"Data": {...}, "Links": {...}, "Meta": {...}}``; `_request`
  returns ``Data``.
- Errors are ``{"code", "id", "message", "Errors": [{"errorCode", "message", "url"}]}``:
  401/403 → `BankAuthError`, 429 → `BankRateLimited`, 5xx/424/timeouts →
  `BankUnavailable`, other 4xx → `BankRejected` (``code`` = the first ``errorCode``,
  ``error_id`` = ``id``), unreadable answers → `BankProtocolError`.
- ``accountId`` is ``"<20-digit number>/<BIC>"`` (``40702810802000000004/044525104``) and
  goes into paths with its slash, as the bank's own examples write it.
- Statements are asynchronous (§3): `init_statement` → ``statementId``, then
  `get_statement` until ``status`` is ``Ready`` (`fetch_statement` does both). Amounts are
  `Decimal`: ``amount`` in the account's currency, ``amountNat`` in rubles.
"""

import datetime as dt
import hashlib
import logging
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from collections.abc import Callable, Iterable

import jwt
import pydantic
import requests
from pydantic import BeforeValidator, ConfigDict, Field, field_serializer, field_validator

from .errors import BankProtocolError, BankRejected, BankUnavailable
from .statement import BANK_TZ, BankAccountInfo, BankOperation, money_places, normalize_currency
from .webhooks import JwksCache, WebhookForged, WebhookUnexpected
from .wire import (
    BankErrorBody,
    BankModel,
    BusinessApiClient,
    CreditDebit,
    CurrencyCode,
    OptionalText,
    RawKeepingModel,
    TextId,
    decimal_to_json_number,
    describe_validation_error,
    to_exact_rubles,
)

__all__ = [
    "JWT_ALGORITHMS",
    "TOCHKA_EVENT_TYPES",
    "TOCHKA_JWKS_URL",
    "TochkaEvent",
    "TochkaNotice",
    "parse_tochka_event",
    "verify_tochka_jwt",
    "TochkaClient",
    "TochkaCustomer",
    "TochkaAccount",
    "TochkaAccountDetail",
    "TochkaAmount",
    "TochkaBalance",
    "TochkaParty",
    "TochkaCashAccount",
    "TochkaAgent",
    "TochkaTransaction",
    "TochkaStatement",
    "TochkaPaymentForSignRequest",
    "TochkaPaymentForSign",
    "TochkaPaymentStatus",
    "to_account_info",
    "to_operation",
    "to_operations",
    "PRODUCTION_URL",
    "SANDBOX_URL",
    "SANDBOX_TOKEN",
    "STATEMENT_STATUSES",
    "PAYMENT_STATUSES",
]

_logger = logging.getLogger(__name__)

# docs/banks.md §3: servers and the sandbox token.
PRODUCTION_URL = "https://enter.tochka.com/uapi"
SANDBOX_URL = "https://enter.tochka.com/sandbox/v2"
SANDBOX_TOKEN = "sandbox.jwt.token"
DEFAULT_TIMEOUT = (5, 60)  # (connect, read) seconds

CUSTOMERS_PATH = "/open-banking/v1.0/customers"
ACCOUNTS_PATH = "/open-banking/v1.0/accounts"
STATEMENTS_PATH = "/open-banking/v1.0/statements"
PAYMENT_FOR_SIGN_PATH = "/payment/v1.0/for-sign"
PAYMENT_STATUS_PATH = "/payment/v1.0/status/{request_id}"
WEBHOOK_PATH = "/webhook/v1.0/{client_id}"  # §3 webhooks

#: Statement life (§3): poll Get Statement until ``Ready``; ``Error`` is final.
STATEMENT_STATUSES = ("Created", "Processing", "Error", "Ready")
STATEMENT_READY = "Ready"
STATEMENT_FAILED = "Error"
#: Transaction statuses: only ``Booked`` lines are final (confirmed).
TRANSACTION_BOOKED = "Booked"
#: Payment-for-sign statuses (§3, ``PaymentForSignStatusEnum``).
PAYMENT_STATUSES = ("WaitingForCreate", "Created", "Paid", "Canceled", "Rejected")
#: Balance types in order of preference for "the current balance" (§3 Balances).
BALANCE_PREFERENCE = ("ClosingAvailable", "Expected", "OpeningAvailable")

_ACCOUNT_NUMBER = re.compile(r"\d{20}")
_BIC = re.compile(r"\d{9}")
_INN = re.compile(r"\d{10}|\d{12}|0")
_KPP = re.compile(r"\d{9}|0")


def _to_day(value):
    """A date the bank may write as ``2026-01-31`` or as a full date-time."""
    if value is None or isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        return value[:10]
    raise ValueError("expected a date")


Day = Annotated[dt.date | None, BeforeValidator(_to_day)]


# --------------------------------------------------------------------------- customers


class TochkaCustomer(RawKeepingModel):
    """A customer of the token (§3 ``GET /customers``): use the ``Business`` one's
    ``customer_code`` for invoices and payment links."""

    customer_code: TextId = Field(alias="customerCode")
    customer_type: OptionalText = Field(None, alias="customerType")  # Business | Personal
    is_resident: bool | None = Field(None, alias="isResident")
    tax_code: OptionalText = Field(None, alias="taxCode")  # INN
    full_name: OptionalText = Field(None, alias="fullName")
    short_name: OptionalText = Field(None, alias="shortName")
    kpp: OptionalText = None
    customer_ogrn: OptionalText = Field(None, alias="customerOgrn")


# ---------------------------------------------------------------------------- accounts


class TochkaAccountDetail(BankModel):
    scheme_name: OptionalText = Field(None, alias="schemeName")
    identification: OptionalText = None
    name: OptionalText = None


class TochkaAccount(RawKeepingModel):
    """One account (§3 ``GET /accounts``). ``account_id`` is ``"<number>/<BIC>"``."""

    customer_code: OptionalText = Field(None, alias="customerCode")
    account_id: str = Field(alias="accountId", min_length=1)
    transit_account: OptionalText = Field(None, alias="transitAccount")
    status: OptionalText = None  # Enabled | Disabled | Deleted | ProForma | Pending
    status_update_date_time: OptionalText = Field(None, alias="statusUpdateDateTime")
    currency: CurrencyCode = "RUB"
    account_type: OptionalText = Field(None, alias="accountType")  # Business | Personal
    account_sub_type: OptionalText = Field(None, alias="accountSubType")
    registration_date: Day = Field(None, alias="registrationDate")
    account_details: list[TochkaAccountDetail] = Field(default_factory=list, alias="accountDetails")

    @property
    def account_number(self) -> str:
        return self.account_id.split("/", 1)[0]

    @property
    def bic(self) -> str | None:
        _, _, bic = self.account_id.partition("/")
        return bic or None

    @property
    def name(self) -> str | None:
        return next((detail.name for detail in self.account_details if detail.name), None)


class TochkaAmount(BankModel):
    """``Amount``: ``amount`` in ``currency`` (the account's), ``amount_nat`` in rubles at
    the central bank's rate (§3)."""

    amount: Decimal
    amount_nat: Decimal | None = Field(None, alias="amountNat")
    currency: CurrencyCode = "RUB"


class TochkaBalance(BankModel):
    """One balance of an account (§3 Balances): ``type`` ``OpeningAvailable``,
    ``ClosingAvailable``, ``Expected`` or ``OverdraftAvailable``; the sign is
    ``credit_debit_indicator`` (`signed_amount` applies it)."""

    account_id: OptionalText = Field(None, alias="accountId")
    credit_debit_indicator: CreditDebit = Field("Credit", alias="creditDebitIndicator")
    type: str
    date_time: OptionalText = Field(None, alias="dateTime")
    amount: TochkaAmount = Field(alias="Amount")

    @property
    def signed_amount(self) -> Decimal:
        value = abs(self.amount.amount)
        return -value if self.credit_debit_indicator == "Debit" else value


# --------------------------------------------------------------------------- statement


class TochkaParty(BankModel):
    """``DebtorParty`` / ``CreditorParty``."""

    inn: OptionalText = None
    name: OptionalText = None
    kpp: OptionalText = None


class TochkaCashAccount(BankModel):
    """``DebtorAccount`` / ``CreditorAccount``: ``identification`` is the account number
    (scheme ``RU.CBR.BBAN``; card or phone for other schemes)."""

    scheme_name: OptionalText = Field(None, alias="schemeName")
    identification: OptionalText = None


class TochkaAgent(BankModel):
    """``DebtorAgent`` / ``CreditorAgent``: the bank; ``identification`` is its BIC,
    ``account_identification`` its correspondent account."""

    scheme_name: OptionalText = Field(None, alias="schemeName")
    identification: OptionalText = None
    account_identification: OptionalText = Field(None, alias="accountIdentification")
    name: OptionalText = None


class TochkaTransaction(RawKeepingModel):
    """One line of a statement (§3): ``credit_debit_indicator`` ``Credit`` (in) /
    ``Debit`` (out), ``status`` ``Booked`` / ``Pending``. ``transaction_type_code`` may
    say "Мемориальный ордер" and later "Платежное поручение" for the same payment."""

    transaction_id: OptionalText = Field(None, alias="transactionId")
    payment_id: OptionalText = Field(None, alias="paymentId")
    credit_debit_indicator: CreditDebit = Field(alias="creditDebitIndicator")
    status: str = TRANSACTION_BOOKED
    document_number: OptionalText = Field(None, alias="documentNumber")
    transaction_type_code: OptionalText = Field(None, alias="transactionTypeCode")
    document_process_date: Day = Field(None, alias="documentProcessDate")
    description: OptionalText = None
    amount: TochkaAmount = Field(alias="Amount")
    debtor_party: TochkaParty | None = Field(None, alias="DebtorParty")
    debtor_account: TochkaCashAccount | None = Field(None, alias="DebtorAccount")
    debtor_agent: TochkaAgent | None = Field(None, alias="DebtorAgent")
    creditor_party: TochkaParty | None = Field(None, alias="CreditorParty")
    creditor_account: TochkaCashAccount | None = Field(None, alias="CreditorAccount")
    creditor_agent: TochkaAgent | None = Field(None, alias="CreditorAgent")
    tax_fields: dict[str, Any] | None = Field(None, alias="TaxFields")

    @property
    def confirmed(self) -> bool:
        return self.status == TRANSACTION_BOOKED


class TochkaStatement(RawKeepingModel):
    """A statement (§3 Get Statement). Its ``transactions`` are there once ``status`` is
    ``Ready``; balances are in the account's currency."""

    account_id: OptionalText = Field(None, alias="accountId")
    statement_id: OptionalText = Field(None, alias="statementId")
    status: str
    start_date_time: Day = Field(None, alias="startDateTime")
    end_date_time: Day = Field(None, alias="endDateTime")
    creation_date_time: OptionalText = Field(None, alias="creationDateTime")
    start_date_balance: Decimal | None = Field(None, alias="startDateBalance")
    end_date_balance: Decimal | None = Field(None, alias="endDateBalance")
    transactions: list[TochkaTransaction] = Field(default_factory=list, alias="Transaction")

    @field_validator("transactions", mode="before")
    @classmethod
    def _none_is_empty(cls, value):
        return [] if value is None else value


# ---------------------------------------------------------------------------- payments


class TochkaPaymentForSignRequest(BankModel):
    """``Data`` of ``POST /payment/v1.0/for-sign`` (§3): a payment order put in the
    internet bank's "На подпись" list. ``payment_amount`` in rubles."""

    model_config = ConfigDict(extra="forbid")

    account_code: str = Field(alias="accountCode")
    bank_code: str = Field(alias="bankCode")
    counterparty_bank_bic: str = Field(alias="counterpartyBankBic")
    counterparty_account_number: str = Field(alias="counterpartyAccountNumber")
    counterparty_name: str = Field(alias="counterpartyName", min_length=1, max_length=160)
    payment_amount: Decimal = Field(alias="paymentAmount", gt=0)
    payment_date: dt.date = Field(alias="paymentDate")
    payment_purpose: str = Field(alias="paymentPurpose", min_length=1, max_length=210)
    counterparty_inn: str | None = Field(None, alias="counterpartyINN")
    counterparty_kpp: str | None = Field(None, alias="counterpartyKPP")
    counterparty_bank_corr_account: str | None = Field(None, alias="counterpartyBankCorrAccount")
    payment_number: int | None = Field(None, alias="paymentNumber", ge=1)
    payment_priority: str | None = Field(None, alias="paymentPriority", pattern=r"^[1-5]$")
    payer_inn: str | None = Field(None, alias="payerINN")
    payer_kpp: str | None = Field(None, alias="payerKPP")
    code_purpose: str | None = Field(None, alias="codePurpose")
    supplier_bill_id: str | None = Field(None, alias="supplierBillId")

    @field_validator("payment_amount", mode="before")
    @classmethod
    def _exact_rubles(cls, value):
        return to_exact_rubles(value)

    @field_validator("account_code", "counterparty_account_number", "counterparty_bank_corr_account")
    @classmethod
    def _account(cls, value):
        if value is not None and not _ACCOUNT_NUMBER.fullmatch(value):
            raise ValueError("an account number has 20 digits")
        return value

    @field_validator("bank_code", "counterparty_bank_bic")
    @classmethod
    def _bic(cls, value):
        if not _BIC.fullmatch(value):
            raise ValueError("a BIC has 9 digits")
        return value

    @field_validator("counterparty_inn", "payer_inn")
    @classmethod
    def _inn(cls, value):
        if value is not None and not _INN.fullmatch(value):
            raise ValueError("an INN has 10 or 12 digits (or is 0)")
        return value

    @field_validator("counterparty_kpp", "payer_kpp")
    @classmethod
    def _kpp(cls, value):
        if value is not None and not _KPP.fullmatch(value):
            raise ValueError("a KPP has 9 digits (or is 0)")
        return value

    @field_serializer("payment_amount")
    def _amount_as_number(self, value):
        return decimal_to_json_number(value)

    def to_payload(self) -> dict:
        return {"Data": self.model_dump(by_alias=True, exclude_none=True, mode="json")}


class TochkaPaymentForSign(BankModel):
    """Answer of Create Payment For Sign: ``request_id`` for `get_payment_status` and the
    ``redirect_url`` where a signer opens the order."""

    request_id: TextId = Field(alias="requestId")
    redirect_url: OptionalText = Field(None, alias="redirectURL")


class TochkaPaymentStatus(BankModel):
    """Status of a payment created for signing (§3): ``WaitingForCreate``, ``Created``,
    ``Paid``, ``Canceled``, ``Rejected``."""

    request_id: TextId = Field(alias="requestId")
    status: str
    errors: list[Any] | None = None

    @property
    def is_final(self) -> bool:
        return self.status in ("Paid", "Canceled", "Rejected")


# ----------------------------------------------------------------------------- mappers


def _preferred_balance(balances: Iterable[TochkaBalance]) -> TochkaBalance | None:
    by_type = {}
    for balance in balances:
        by_type.setdefault(balance.type, balance)
    return next((by_type[kind] for kind in BALANCE_PREFERENCE if kind in by_type), None)


def to_account_info(account: TochkaAccount, balances: Iterable[TochkaBalance] | None = None) -> BankAccountInfo:
    """`TochkaAccount` (+ its balances from `TochkaClient.get_balances`) → bank-neutral
    `BankAccountInfo`; the balance is ``ClosingAvailable`` (else ``Expected``, else
    ``OpeningAvailable``), signed, or None without balances."""
    balance = _preferred_balance(balances or ())
    return BankAccountInfo(
        bank_account_id=account.account_id,
        account_number=account.account_number,
        currency=account.currency,
        bic=account.bic,
        name=account.name,
        balance=money_places(balance.signed_amount) if balance is not None else None,
        account_type=account.account_sub_type or account.account_type,
        raw=account.raw,
    )


def _synthetic_id(transaction: TochkaTransaction) -> str:
    """Tochka's ``transactionId`` is optional in its spec: without it (and without a
    ``paymentId``) the line is identified by a digest of what describes it."""
    parts = (
        transaction.document_process_date,
        transaction.credit_debit_indicator,
        transaction.amount.amount,
        transaction.document_number,
        transaction.description,
        (transaction.debtor_account or TochkaCashAccount()).identification,
        (transaction.creditor_account or TochkaCashAccount()).identification,
    )
    digest = hashlib.sha1("|".join("" if p is None else str(p) for p in parts).encode("utf-8"))
    return "sha1:" + digest.hexdigest()


def to_operation(transaction: TochkaTransaction, account_id: str | None = None) -> BankOperation:
    """`TochkaTransaction` → bank-neutral `BankOperation` (amount in the account's
    currency, ``+`` for ``Credit``; the counterparty is the debtor of an incoming line
    and the creditor of an outgoing one)."""
    incoming = transaction.credit_debit_indicator == "Credit"
    amount = money_places(abs(transaction.amount.amount))
    if not incoming:
        amount = -amount
    if incoming:
        party, account, agent = (transaction.debtor_party, transaction.debtor_account, transaction.debtor_agent)
    else:
        party, account, agent = (transaction.creditor_party, transaction.creditor_account, transaction.creditor_agent)
    party = party or TochkaParty()
    account = account or TochkaCashAccount()
    agent = agent or TochkaAgent()
    day = transaction.document_process_date
    if day is None:
        raise BankProtocolError("Tochka transaction has no documentProcessDate")
    return BankOperation(
        bank_operation_id=transaction.transaction_id or transaction.payment_id or _synthetic_id(transaction),
        date=day,
        amount=amount,
        currency=transaction.amount.currency,
        confirmed=transaction.confirmed,
        purpose=transaction.description or "",
        counterparty_name=party.name,
        counterparty_inn=party.inn,
        counterparty_kpp=party.kpp,
        counterparty_account=account.identification,
        counterparty_bic=agent.identification,
        counterparty_bank_name=agent.name,
        document_number=transaction.document_number,
        timestamp=None,
        account_number=(account_id or "").split("/", 1)[0] or None,
        raw=transaction.raw,
    )


def to_operations(statement: TochkaStatement) -> list[BankOperation]:
    """Every transaction of a ``Ready`` statement → `BankOperation`, in order."""
    return [to_operation(t, statement.account_id) for t in statement.transactions]


# ------------------------------------------------------------------------------ client


def _as_day(value, what) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.utcoffset() is not None:
            value = value.astimezone(BANK_TZ)
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(f"{what} must be a date or datetime, got {type(value).__name__}")


def _account_path(account_id) -> str:
    if not isinstance(account_id, str) or not account_id.strip():
        raise ValueError("accountId is required (e.g. '40702810802000000004/044525104')")
    return urllib.parse.quote(account_id.strip(), safe="/")


class TochkaClient(BusinessApiClient):
    """Client of the Tochka Bank API (docs/banks.md §3).

    :param token: the JWT (``SANDBOX_TOKEN`` for the bank's sandbox); sent as
        ``Authorization: Bearer``, never logged or shown.
    :param base_url: ``PRODUCTION_URL``, ``SANDBOX_URL`` or the bank sandbox
        (``<sandbox>/uapi``).
    :param timeout: ``requests`` timeout, ``(connect, read)`` seconds.
    :param session: a ``requests.Session`` to reuse (connection pooling, test doubles).

    `_request` returns the answer's ``Data``; HTTP 424 counts as the bank being
    unavailable. Every method raises a subclass of `bank_api.errors.BankError` on
    failure; the HTTP plumbing is `BusinessApiClient`'s.
    """

    bank_label = "Tochka"
    _no_token_message = "Tochka API needs a token (JWT)"
    _error_id_label = "error id"
    _token_lacks = "the permission"
    _unavailable_statuses = frozenset({424})

    def __init__(
        self,
        token: str,
        base_url: str = PRODUCTION_URL,
        timeout: float | tuple = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ):
        super().__init__(token, base_url, timeout, session)

    # ------------------------------------------------------------ customers/accounts

    def list_customers(self) -> list[TochkaCustomer]:
        """Customers the token may act for (§3 Get Customers List)."""
        data = self._request("GET", CUSTOMERS_PATH)
        return self._parse(list[TochkaCustomer], data.get("Customer"), "GET", CUSTOMERS_PATH)

    def list_accounts(self) -> list[TochkaAccount]:
        """The customer's accounts (§3 Get Accounts List)."""
        data = self._request("GET", ACCOUNTS_PATH)
        return self._parse(list[TochkaAccount], data.get("Account"), "GET", ACCOUNTS_PATH)

    def get_balances(self, account_id: str) -> list[TochkaBalance]:
        """Balances of one account (§3 Get Balance Info), amounts as `Decimal`."""
        path = f"{ACCOUNTS_PATH}/{_account_path(account_id)}/balances"
        data = self._request("GET", path)
        return self._parse(list[TochkaBalance], data.get("Balance"), "GET", path)

    # -------------------------------------------------------------------- statements

    def init_statement(
        self,
        account_id: str,
        start: dt.date | dt.datetime,
        end: dt.date | dt.datetime,
    ) -> str:
        """Ask for a statement of ``account_id`` from ``start`` to ``end`` (days,
        inclusive; Moscow time) and return its ``statementId`` (§3 Init Statement). The
        statement is built asynchronously: poll `get_statement`; it lives 24 h."""
        start_day, end_day = _as_day(start, "start"), _as_day(end, "end")
        if end_day < start_day:
            raise ValueError("the statement's end is before its start")
        body = {
            "Data": {
                "Statement": {
                    "accountId": account_id,
                    "startDateTime": start_day.isoformat(),
                    "endDateTime": end_day.isoformat(),
                }
            }
        }
        data = self._request("POST", STATEMENTS_PATH, body=body)
        statement = self._parse(TochkaStatement, data.get("Statement"), "POST", STATEMENTS_PATH)
        if not statement.statement_id:
            raise self._protocol_error("POST", STATEMENTS_PATH, "no statementId in the answer")
        return statement.statement_id

    def get_statement(self, account_id: str, statement_id: str) -> TochkaStatement:
        """Current state of a statement (§3 Get Statement): ``status`` ``Created``,
        ``Processing``, ``Error`` or ``Ready`` (then with its transactions)."""
        path = (
            f"{ACCOUNTS_PATH}/{_account_path(account_id)}/statements/{urllib.parse.quote(str(statement_id), safe='')}"
        )
        data = self._request("GET", path)
        statements = data.get("Statement")
        if isinstance(statements, dict):
            statements = [statements]
        if not isinstance(statements, list) or not statements:
            raise self._protocol_error("GET", path, "no Statement in the answer")
        parsed = self._parse(list[TochkaStatement], statements, "GET", path)
        return next((s for s in parsed if s.statement_id == str(statement_id)), parsed[0])

    def fetch_statement(
        self,
        account_id: str,
        start: dt.date | dt.datetime,
        end: dt.date | dt.datetime,
        poll_interval: float = 1.0,
        timeout: float = 60,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> TochkaStatement:
        """Init a statement and poll it until ``Ready`` (§3).

        :param poll_interval: seconds between polls.
        :param timeout: give up after this many seconds (counted as the larger of the
            time slept and the time elapsed, so an injected ``sleep`` controls it).
        :param sleep: the sleeping function (tests pass a fake one).
        :raises BankRejected: the bank built the statement with ``status`` ``Error``.
        :raises BankUnavailable: not ``Ready`` within ``timeout`` (``statement_id`` is on
            the error, to poll it later).
        """
        statement_id = self.init_statement(account_id, start, end)
        started = time.monotonic()
        slept = 0.0
        polls = 0
        while True:
            statement = self.get_statement(account_id, statement_id)
            polls += 1
            if statement.status == STATEMENT_READY:
                _logger.info("Tochka statement %s ready after %d poll(s)", statement_id, polls)
                return statement
            if statement.status == STATEMENT_FAILED:
                error = BankRejected(
                    f"Tochka statement {statement_id}: the bank could not build it (status Error)",
                    code=STATEMENT_FAILED,
                )
                error.statement_id = statement_id
                _logger.warning("%s [BankRejected]", error)
                raise error
            if max(slept, time.monotonic() - started) + poll_interval > timeout:
                error = BankUnavailable(
                    f"Tochka statement {statement_id}: still {statement.status} after {polls} poll(s) in {timeout} s"
                )
                error.statement_id = statement_id
                _logger.warning("%s [BankUnavailable]", error)
                raise error
            sleep(poll_interval)
            slept += poll_interval

    # ---------------------------------------------------------------------- payments

    def create_payment_for_sign(
        self,
        *,
        account_code: str,
        bank_code: str,
        counterparty_name: str,
        counterparty_account_number: str,
        counterparty_bank_bic: str,
        amount: Decimal | int | str,
        purpose: str,
        payment_date: dt.date | None = None,
        counterparty_inn: str | None = None,
        counterparty_kpp: str | None = None,
        counterparty_bank_corr_account: str | None = None,
        payment_number: int | None = None,
        payment_priority: str | None = None,
        payer_inn: str | None = None,
        payer_kpp: str | None = None,
    ) -> TochkaPaymentForSign:
        """Create a payment order that a signer approves in the internet bank (§3 Create
        Payment For Sign).

        :param account_code: our 20-digit account; ``bank_code`` its BIC.
        :param amount: rubles (`Decimal`, int or decimal text; never float), > 0.
        :param payment_date: Moscow date of the payment; today (Moscow) by default.
        :raises ValueError: bad arguments, before anything is sent.
        """
        try:
            request = TochkaPaymentForSignRequest(
                account_code=account_code,
                bank_code=bank_code,
                counterparty_bank_bic=counterparty_bank_bic,
                counterparty_account_number=counterparty_account_number,
                counterparty_name=counterparty_name,
                payment_amount=amount,
                payment_date=payment_date or dt.datetime.now(BANK_TZ).date(),
                payment_purpose=purpose,
                counterparty_inn=counterparty_inn,
                counterparty_kpp=counterparty_kpp,
                counterparty_bank_corr_account=counterparty_bank_corr_account,
                payment_number=payment_number,
                payment_priority=payment_priority,
                payer_inn=payer_inn,
                payer_kpp=payer_kpp,
            )
        except pydantic.ValidationError as exc:
            raise ValueError(f"payment for sign: {describe_validation_error(exc)}") from None
        data = self._request("POST", PAYMENT_FOR_SIGN_PATH, body=request.to_payload())
        return self._parse(TochkaPaymentForSign, data, "POST", PAYMENT_FOR_SIGN_PATH)

    def get_payment_status(self, request_id: str) -> TochkaPaymentStatus:
        """Status of a payment created by `create_payment_for_sign` (§3 Get Payment
        Status)."""
        if not isinstance(request_id, str) or not request_id.strip():
            raise ValueError("requestId is required")
        path = PAYMENT_STATUS_PATH.format(request_id=urllib.parse.quote(request_id.strip(), safe=""))
        data = self._request("GET", path)
        return self._parse(TochkaPaymentStatus, data, "GET", path)

    # ---------------------------------------------------------------------- plumbing

    # ------------------------------------------------------------------ webhooks

    def _webhook_path(self, client_id: str, suffix: str = "") -> str:
        if not isinstance(client_id, str) or not client_id.strip():
            raise ValueError("the integration's client_id is required for Tochka webhooks")
        return WEBHOOK_PATH.format(client_id=urllib.parse.quote(client_id.strip(), safe="")) + suffix

    def put_webhook(self, client_id: str, url: str, webhook_types: Iterable[str]) -> dict:
        """Create or replace the integration's webhooks (§3 ``PUT /webhook/v1.0/{client_id}``):
        the bank sends a test webhook per type and refuses unless ``url`` answers 200."""
        body = {"webhooksList": list(webhook_types), "url": url}
        return self._request("PUT", self._webhook_path(client_id), body=body)

    def delete_webhook(self, client_id: str) -> None:
        """Remove the integration's webhooks (§3 ``DELETE /webhook/v1.0/{client_id}``)."""
        self._request("DELETE", self._webhook_path(client_id))

    def test_send_webhook(self, client_id: str, webhook_type: str) -> dict:
        """Ask the bank to send a test webhook of ``webhook_type`` (§3 ``…/test_send``)."""
        return self._request("POST", self._webhook_path(client_id, "/test_send"), body={"webhookType": webhook_type})

    def _error_body(self, body: dict) -> BankErrorBody:
        """Tochka's ``{code, id, message, Errors: [{errorCode, message, url}]}``: the code
        is the first ``errorCode`` (else ``code``), the message every distinct text."""
        errors = [e for e in body.get("Errors") or [] if isinstance(e, dict)]
        code = next((e.get("errorCode") for e in errors if e.get("errorCode")), None)
        texts = [self._scrub(body.get("message"))]  # as text, compared once scrubbed
        texts += [self._scrub(e.get("message")) for e in errors]
        texts = [t for i, t in enumerate(texts) if t and t not in texts[:i]]
        return BankErrorBody(code=code or body.get("code"), message="; ".join(texts) or None, error_id=body.get("id"))

    def _answer(self, payload: Any) -> dict:
        """The answer's ``Data`` object (§3)."""
        if not isinstance(payload, dict) or not isinstance(payload.get("Data"), dict):
            raise ValueError("answer has no Data object")
        return payload["Data"]


# ----------------------------------------------------------------------------- webhooks
# docs/banks.md §3: the body is a JWT (``text/plain``) signed RS256 with the bank's key,
# published as a JWK. Only successful operations are sent. ``incomingPayment`` carries the
# payment's ``paymentId``, ``date``, ``documentNumber``, payer and recipient: it maps to a
# booked `BankOperation` keyed like the statement's line (``transactionId``, else
# ``paymentId``; the fallback key covers a statement whose ``transactionId`` differs).
# ``incomingSbpPayment`` and ``acquiringInternetPayment`` carry neither our account nor
# the statement's id: they are recognised (`TochkaNotice`) and the account's statement is
# pulled at once instead (the sync books the exact line).

#: Tochka's webhook types we subscribe to (docs/banks.md §3).
TOCHKA_EVENT_TYPES = ("incomingPayment", "incomingSbpPayment", "acquiringInternetPayment")
#: Tochka's published public key (docs/banks.md §3).
TOCHKA_JWKS_URL = "https://enter.tochka.com/doc/openapi/static/keys/public"
#: The only algorithm a Tochka webhook may be signed with: never taken from the token.
JWT_ALGORITHMS = ["RS256"]


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
