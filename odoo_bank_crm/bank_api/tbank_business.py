"""T-Bank business Open API ("T-API", docs/banks.md §2): accounts and balances, the
cursor-paged statement, outgoing payment drafts.

- Base URL ``https://business.tbank.ru/openapi/api``; ``Authorization: Bearer <token>``
  (the bank's sandbox takes ``TBankSandboxToken``); every request carries a fresh
  ``X-Request-Id`` (uuid) that is logged, for the bank's support (§2).
- Amounts are rubles (or the account's currency) with decimals, here always `Decimal`
  (§6.1); dates go out as ISO 8601 UTC (§2.2).
- Errors (§2: 400, 401, 403, 422, 429, 500), body ``{errorId, errorMessage, errorCode,
  errorDetails}``: 401/403 → `BankAuthError` (token revoked, expired or without the
  scope), 429 → `BankRateLimited`, 5xx/timeouts → `BankUnavailable`, other 4xx with the
  bank's error body → `BankRejected`, anything unreadable → `BankProtocolError`. The
  bank's ``errorId`` and our ``X-Request-Id`` ride on the error as ``error_id`` and
  ``request_id``.

Field names of ``/v1/statement`` follow §2.2b (an independent SDK's model, not checked
against the live page); the payment-draft body follows §2.2b too, while the official page
(§2.4) shows flat ``recipientName``/``inn``/``kpp`` fields: `TBankPaymentDraftRequest` is
the one place to change should the live API disagree.
"""

import datetime as dt
import hmac
import logging
import re
import uuid
from decimal import Decimal
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from collections.abc import Iterable, Iterator, Sequence

import pydantic
import requests
from pydantic import (
    AliasChoices,
    BeforeValidator,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)
from typing_extensions import TypedDict

from .errors import BankProtocolError, BankRejected
from .statement import BANK_TZ, BankAccountInfo, BankOperation, money_places, normalize_currency
from .webhooks import MAX_EVENT_OPERATIONS, WebhookForged, WebhookUnexpected
from .wire import (
    BANK_ANSWER,
    BankErrorBody,
    BankModel,
    BusinessApiClient,
    CurrencyCode,
    OptionalText,
    RawKeepingModel,
    TextId,
    day_start,
    decimal_to_json_number,
    describe_validation_error,
    to_exact_rubles,
    to_text_id,
    to_utc_iso,
)

__all__ = [
    "TBANK_EVENT_TYPE",
    "TBankEventOperation",
    "check_tbank_secret",
    "parse_tbank_event",
    "tbank_event_operations",
    "TBankBusinessClient",
    "TBankAccount",
    "TBankAccountBalance",
    "TBankParty",
    "TBankOperation",
    "TBankStatementBalances",
    "TBankStatementPage",
    "TBankPaymentRecipient",
    "TBankPaymentDraftRequest",
    "TBankPaymentDraft",
    "TBankPaymentStatus",
    "to_account_info",
    "to_operation",
    "to_operations",
    "PRODUCTION_URL",
    "SANDBOX_TOKEN",
    "DEFAULT_PAGE_SIZE",
    "OPERATION_STATUSES",
    "PAYMENT_DRAFT_STATUSES",
]

_logger = logging.getLogger(__name__)

# docs/banks.md §2: base URL, sandbox token.
PRODUCTION_URL = "https://business.tbank.ru/openapi/api"
SANDBOX_TOKEN = "TBankSandboxToken"
DEFAULT_TIMEOUT = (5, 60)  # (connect, read) seconds; statement pages can be large
DEFAULT_PAGE_SIZE = 1000

ACCOUNTS_PATH = "/v4/bank-accounts"  # §2.1 (v3/v2 shapes accepted, §2.2b)
STATEMENT_PATH = "/v1/statement"  # §2.2, §2.2b
PAYMENT_CREATE_PATH = "/v1/payment/create"  # §2.4
PAYMENT_STATUS_PATH = "/v1/payment/status"  # "Получить список статусов платежных документов"
WEBHOOK_PATH = "/v1/webhook"  # §2.5 add-webhook

#: ``operationStatus`` filter values (§2.2b). Only ``Transaction`` lines are confirmed
#: and may go to accounting (§2.2, §6.9).
OPERATION_STATUSES = ("Transaction", "Authorization", "All")
CONFIRMED_STATUS = "Transaction"
#: Payment draft statuses (§2.2b): a draft waits for signature in the bank's UI.
PAYMENT_DRAFT_STATUSES = ("IN_PROGRESS", "EXECUTED", "FAILED")
#: At most this many ids per status request (official page of /v1/payment/status).
PAYMENT_STATUS_BATCH = 100

_ACCOUNT_NUMBER = re.compile(r"\d{20}")
_BIC = re.compile(r"\d{9}")
_INN = re.compile(r"\d{10}|\d{12}|0")
_KPP = re.compile(r"\d{9}|0")
_DOCUMENT_NUMBER = re.compile(r"\d{1,6}")


def _to_transit_account(value):
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        number = value.get("accountNumber")
        return str(number) if number else None
    raise ValueError("transitAccount must be an object or text")


# --------------------------------------------------------------------------- accounts


class TBankAccountBalance(BankModel):
    """``balance`` of an account (§2.1), in the account's currency: ``otb`` the current
    (booked) balance, ``authorized`` held by unconfirmed operations, then payments and
    requisitions waiting to be executed."""

    otb: Decimal | None = None
    authorized: Decimal | None = None
    pending_payments: Decimal | None = Field(None, alias="pendingPayments")
    pending_requisitions: Decimal | None = Field(None, alias="pendingRequisitions")


class TBankAccount(RawKeepingModel):
    """One company account from ``GET /v4/bank-accounts`` (§2.1; v2/v3 shapes accepted,
    §2.2b). ``currency`` is normalised to the alphabetic code (``"643"`` → ``"RUB"``)."""

    account_number: str = Field(alias="accountNumber", pattern=r"^\d{20,22}$")
    name: OptionalText = None
    currency: CurrencyCode = "RUB"
    bank_bik: OptionalText = Field(None, alias="bankBik")
    account_type: OptionalText = Field(None, alias="accountType")
    balance: TBankAccountBalance | None = None
    activation_date: OptionalText = Field(None, alias="activationDate")
    transit_account: Annotated[str | None, BeforeValidator(_to_transit_account)] = Field(None, alias="transitAccount")


# -------------------------------------------------------------------------- statement


class TBankParty(TypedDict, total=False):
    """``payer`` / ``receiver`` / ``counterParty`` of an operation (§2.2b), as a plain
    dict with snake_case keys (``bank_name`` for ``bankName``, ``bic_ru`` for
    ``bicRu``); unknown keys are kept. A dict, not a model: a statement can hold
    100 000 operations with two or three parties each, and a model instance per party
    would triple the parsing time."""

    __pydantic_config__ = ConfigDict(extra="allow", coerce_numbers_to_str=True)

    account: str | None
    inn: str | None
    kpp: str | None
    name: str | None
    bank_name: Annotated[str | None, Field(alias="bankName")]
    bic_ru: Annotated[str | None, Field(alias="bicRu")]
    corr_account: Annotated[str | None, Field(alias="corrAccount")]


class TBankOperation(RawKeepingModel):
    """One operation of ``GET /v1/statement`` (§2.2, §2.2b).

    ``operation_status`` is ``Authorization`` (unconfirmed: a hold, not for accounting)
    or ``Transaction`` (confirmed). Amounts are `Decimal`; the direction is
    ``type_of_operation`` (``Credit`` in, ``Debit`` out). ``account_amount`` is in the
    account's currency, ``ruble_amount`` in rubles, ``operation_amount`` in the
    operation's own currency. ``operation_date`` is aware (UTC when the bank omits the
    offset, §2.2). Only core-validated field types here: this model is parsed 100 000
    times for a big statement.
    """

    model_config = ConfigDict(populate_by_name=True, extra="allow", coerce_numbers_to_str=True)

    operation_id: str = Field(alias="operationId", min_length=1)
    operation_date: dt.datetime = Field(alias="operationDate")
    operation_status: str = Field(CONFIRMED_STATUS, alias="operationStatus")
    type_of_operation: Literal["Credit", "Debit"] = Field(alias="typeOfOperation")
    category: str | None = None
    operation_amount: Decimal | None = Field(None, alias="operationAmount")
    account_amount: Decimal | None = Field(None, alias="accountAmount")
    ruble_amount: Decimal | None = Field(None, alias="rubleAmount")
    pay_purpose: str | None = Field(None, alias="payPurpose")
    payer: TBankParty | None = None
    receiver: TBankParty | None = None
    counter_party: TBankParty | None = Field(None, alias="counterParty")
    # ``documentNumber`` is the spelling of the oper-feed-operation webhook (the statement's
    # operation, docs/bank-webhooks.md): either gives the fallback key's document number.
    doc_number: str | None = Field(
        None,
        validation_alias=AliasChoices("docNumber", "documentNumber", "doc_number"),
        serialization_alias="docNumber",
    )

    @model_validator(mode="after")
    def _checks(self):
        if self.account_amount is None and self.ruble_amount is None:
            raise ValueError("operation has neither accountAmount nor rubleAmount")
        if self.operation_date.tzinfo is None:  # §2.2: date-times are UTC
            self.operation_date = self.operation_date.replace(tzinfo=dt.timezone.utc)
        return self

    @property
    def confirmed(self) -> bool:
        return self.operation_status == CONFIRMED_STATUS

    @property
    def counterparty(self) -> TBankParty:
        """The other side: ``counterParty`` if given, else the payer of an incoming
        operation or the receiver of an outgoing one (empty dict if none)."""
        if self.counter_party is not None:
            return self.counter_party
        party = self.payer if self.type_of_operation == "Credit" else self.receiver
        return party if party is not None else {}


class TBankStatementBalances(BankModel):
    """``balances`` of the first statement page (``withBalances=true``, §2.2)."""

    balance_begin: Decimal | None = Field(None, alias="balanceBegin")
    balance_end: Decimal | None = Field(None, alias="balanceEnd")
    credit: Decimal | None = None
    debit: Decimal | None = None


class TBankStatementPage(BankModel):
    """One page of ``GET /v1/statement``: its ``operations``, the period's ``balances``
    (first page only) and ``next_cursor`` (None on the last page). Persist
    ``next_cursor`` after processing a page to resume there after a crash."""

    operations: list[TBankOperation] = Field(default_factory=list)
    balances: TBankStatementBalances | None = None
    next_cursor: OptionalText = Field(None, alias="nextCursor")

    @field_validator("operations", mode="before")
    @classmethod
    def _none_is_empty(cls, value):
        return [] if value is None else value


# --------------------------------------------------------------------- payment drafts


def _check(pattern, value, what):
    if value is not None and not pattern.fullmatch(value):
        raise ValueError(f"{what} has a wrong format")
    return value


class TBankPaymentRecipient(BankModel):
    """``to`` of a payment draft (§2.2b)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=512)
    inn: str
    kpp: str = "0"
    account_number: str = Field(alias="accountNumber")
    bik: str
    bank_name: str | None = Field(None, alias="bankName")
    corr_account_number: str | None = Field(None, alias="corrAccountNumber")

    @model_validator(mode="after")
    def _formats(self):
        _check(_INN, self.inn, "recipient INN (10 or 12 digits, or 0)")
        _check(_KPP, self.kpp, "recipient KPP (9 digits or 0)")
        _check(_ACCOUNT_NUMBER, self.account_number, "recipient account (20 digits)")
        _check(_BIC, self.bik, "recipient BIC (9 digits)")
        _check(_ACCOUNT_NUMBER, self.corr_account_number, "correspondent account (20 digits)")
        return self


class _FromAccount(BankModel):
    model_config = ConfigDict(extra="forbid")

    account_number: str = Field(alias="accountNumber", pattern=r"^\d{20}$")


class TBankPaymentDraftRequest(BankModel):
    """Body of ``POST /v1/payment/create`` (§2.4, shape of §2.2b). ``id`` is the
    idempotency key: the same key twice gives the same draft. ``amount`` in rubles,
    positive, at most 2 decimals."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=64)
    from_account: _FromAccount = Field(alias="from")
    to: TBankPaymentRecipient
    purpose: str = Field(min_length=1, max_length=210)
    amount: Decimal = Field(gt=0)
    document_number: str | None = Field(None, alias="documentNumber")
    execution_order: int | None = Field(None, alias="executionOrder", ge=1, le=5)
    due_date: dt.date | None = Field(None, alias="dueDate")

    @field_validator("amount", mode="before")
    @classmethod
    def _exact_rubles(cls, value):
        return to_exact_rubles(value)

    @field_validator("document_number")
    @classmethod
    def _document_number(cls, value):
        return _check(_DOCUMENT_NUMBER, value, "documentNumber (1-6 digits)")

    @field_serializer("amount")
    def _amount_as_number(self, value):
        return decimal_to_json_number(value)

    def to_payload(self) -> dict:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class TBankPaymentDraft(BankModel):
    """Answer of ``POST /v1/payment/create``: the draft's ``document_id`` (use it for
    `TBankBusinessClient.get_payment_status`) and, when the bank says, its ``status``.
    ``idempotency_key`` is the ``id`` the draft was created with."""

    document_id: TextId = Field(alias="documentId")
    status: OptionalText = None
    idempotency_key: OptionalText = Field(None, alias="id")


class TBankPaymentStatus(BankModel):
    """Status of one payment draft (``IN_PROGRESS``: waiting for signature or being
    executed, ``EXECUTED``, ``FAILED``; §2.2b)."""

    document_id: TextId = Field(alias="documentId")
    status: str
    error_message: OptionalText = Field(None, alias="errorMessage")

    @property
    def is_final(self) -> bool:
        return self.status in ("EXECUTED", "FAILED")


# ---------------------------------------------------------------------------- mappers


def to_account_info(account: TBankAccount) -> BankAccountInfo:
    """`TBankAccount` → bank-neutral `BankAccountInfo` (balance = ``otb``)."""
    balance = account.balance.otb if account.balance is not None else None
    return BankAccountInfo(
        bank_account_id=account.account_number,
        account_number=account.account_number,
        currency=account.currency,
        bic=account.bank_bik,
        name=account.name,
        balance=money_places(balance),
        account_type=account.account_type,
        raw=account.raw,
    )


def to_operation(operation: TBankOperation, currency: str = "RUB", account_number: str | None = None) -> BankOperation:
    """`TBankOperation` → bank-neutral `BankOperation`.

    :param currency: the account's currency: ``account_amount`` is in it. When the
        bank gave only ``ruble_amount`` the line is only valid for a ruble account.
    :param account_number: our account, copied onto the line.
    :raises BankProtocolError: a foreign-currency account line without ``accountAmount``.
    """
    return _to_operation(operation, normalize_currency(currency), account_number)


def _to_operation(operation, currency, account_number):
    amount = operation.account_amount
    if amount is None:
        if currency != "RUB":
            raise BankProtocolError(
                f"T-Bank operation {operation.operation_id} has no accountAmount for a {currency} account"
            )
        amount = operation.ruble_amount
    amount = money_places(-abs(amount) if operation.type_of_operation == "Debit" else abs(amount))
    party = operation.counterparty
    get = party.get
    timestamp = operation.operation_date
    return BankOperation(
        operation.operation_id,
        timestamp.astimezone(BANK_TZ).date(),
        amount,
        currency,
        operation.operation_status == CONFIRMED_STATUS,
        operation.pay_purpose or "",
        get("name") or None,
        get("inn") or None,
        get("kpp") or None,
        get("account") or None,
        get("bic_ru") or None,
        get("bank_name") or None,
        operation.doc_number or None,
        timestamp,
        account_number,
        operation.raw,
    )


def to_operations(
    operations: TBankStatementPage | Iterable[TBankOperation],
    currency: str = "RUB",
    account_number: str | None = None,
) -> list[BankOperation]:
    """A statement page (or its operations) → list of `BankOperation`, in order."""
    if isinstance(operations, TBankStatementPage):
        operations = operations.operations
    currency = normalize_currency(currency)
    return [_to_operation(op, currency, account_number) for op in operations]


# ----------------------------------------------------------------------------- client


def _period_start(value) -> str:
    if isinstance(value, dt.datetime):
        return to_utc_iso(value)
    if isinstance(value, dt.date):
        return to_utc_iso(day_start(value))
    raise TypeError(f"a date or an aware datetime is required, got {type(value).__name__}")


def _period_end(value) -> str:
    # A date is the whole (Moscow) day, inclusive: the bank's ``to`` is exclusive, so send
    # the next day's midnight.
    if isinstance(value, dt.datetime):
        return to_utc_iso(value)
    if isinstance(value, dt.date):
        return to_utc_iso(day_start(value + dt.timedelta(days=1)))
    raise TypeError(f"a date or an aware datetime is required, got {type(value).__name__}")


def _account_number(value) -> str:
    if not isinstance(value, str) or not _ACCOUNT_NUMBER.fullmatch(value):
        raise ValueError("accountNumber must be 20 digits")
    return value


class TBankBusinessClient(BusinessApiClient):
    """Client of the T-Bank business Open API (docs/banks.md §2).

    :param token: the API token issued in T-Business (``SANDBOX_TOKEN`` for the bank's
        sandbox); sent as ``Authorization: Bearer``, never logged or shown.
    :param base_url: ``PRODUCTION_URL`` or the bank sandbox (``<sandbox>/openapi/api``).
    :param timeout: ``requests`` timeout, ``(connect, read)`` seconds.
    :param session: a ``requests.Session`` to reuse (connection pooling, test doubles).

    Every request carries a fresh ``X-Request-Id``, logged and kept on errors as
    ``request_id``. Every method raises a subclass of `bank_api.errors.BankError` on
    failure; the HTTP plumbing is `BusinessApiClient`'s.
    """

    bank_label = "T-Bank business"
    _no_token_message = "T-Bank business API needs a token"
    _request_id_header = "X-Request-Id"
    _error_id_label = "errorId"
    _token_lacks = "the scope"

    def __init__(
        self,
        token: str,
        base_url: str = PRODUCTION_URL,
        timeout: float | tuple = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
    ):
        super().__init__(token, base_url, timeout, session)

    # ------------------------------------------------------------------- accounts

    def list_accounts(self) -> list[TBankAccount]:
        """The company's accounts with balances (§2.1 ``GET /v4/bank-accounts``)."""
        data = self._request("GET", ACCOUNTS_PATH)
        if isinstance(data, dict):  # tolerate an envelope around the list
            data = next((v for v in data.values() if isinstance(v, list)), None)
        if not isinstance(data, list):
            raise self._protocol_error("GET", ACCOUNTS_PATH, "accounts answer is not a list")
        return self._parse(list[TBankAccount], data, "GET", ACCOUNTS_PATH)

    # ------------------------------------------------------------------ statement

    def get_statement_page(
        self,
        account_number: str,
        date_from: dt.date | dt.datetime,
        date_to: dt.date | dt.datetime | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        operation_status: str | None = CONFIRMED_STATUS,
        with_balances: bool | None = None,
        categories: Sequence[str] | None = None,
    ) -> TBankStatementPage:
        """One page of ``GET /v1/statement`` (§2.2, §2.2b).

        :param date_from: start of the period, inclusive: a `date` is that Moscow day's
            midnight, an aware `datetime` is sent as is (UTC). Data exists since June 2023.
        :param date_to: end, exclusive for a datetime; a `date` includes that whole day.
            None: up to now.
        :param limit: page size.
        :param cursor: ``next_cursor`` of the previous page (same other parameters).
        :param operation_status: ``"Transaction"`` (confirmed only, the default),
            ``"Authorization"``, ``"All"``, or None to let the bank decide.
        :param with_balances: ask for the period's balances; by default only for a first
            page (the bank ignores it when ``cursor`` is set).
        :param categories: only these operation categories (≤ 50).
        """
        params: dict[str, Any] = {
            "accountNumber": _account_number(account_number),
            "from": _period_start(date_from),
        }
        if date_to is not None:
            params["to"] = _period_end(date_to)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
            raise ValueError(f"limit must be a positive int, got {limit!r}")
        params["limit"] = limit
        if operation_status is not None:
            if operation_status not in OPERATION_STATUSES:
                raise ValueError(f"operation_status must be one of {OPERATION_STATUSES}")
            params["operationStatus"] = operation_status
        if categories:
            categories = list(categories)
            if len(categories) > 50:
                raise ValueError("at most 50 categories")
            params["categories"] = categories
        if cursor:
            params["cursor"] = cursor
        if with_balances is None:
            with_balances = not cursor
        if with_balances and not cursor:
            params["withBalances"] = "true"
        data = self._request("GET", STATEMENT_PATH, params=params)
        if not isinstance(data, dict):
            raise self._protocol_error("GET", STATEMENT_PATH, "statement answer is not an object")
        return self._parse(TBankStatementPage, data, "GET", STATEMENT_PATH)

    def iter_statement(
        self,
        account_number: str,
        date_from: dt.date | dt.datetime,
        date_to: dt.date | dt.datetime | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        operation_status: str | None = CONFIRMED_STATUS,
        categories: Sequence[str] | None = None,
    ) -> Iterator[TBankStatementPage]:
        """Every page of the statement, following ``nextCursor`` (§2.2).

        The first page carries ``balances`` (``withBalances=true``); pass a saved
        ``cursor`` (with the same other arguments) to resume after the page it came
        from. Persist each page's ``next_cursor`` once the page is processed. Errors are
        raised while iterating, at the page that failed.
        """
        seen = set()
        while True:
            page = self.get_statement_page(
                account_number,
                date_from,
                date_to,
                limit=page_size,
                cursor=cursor,
                operation_status=operation_status,
                categories=categories,
            )
            yield page
            if not page.next_cursor:
                return
            if page.next_cursor in seen or page.next_cursor == cursor:
                raise self._protocol_error("GET", STATEMENT_PATH, "the bank returned a cursor it returned before")
            seen.add(page.next_cursor)
            cursor = page.next_cursor

    # ------------------------------------------------------------- payment drafts

    def create_payment_draft(
        self,
        *,
        from_account: str,
        recipient_name: str,
        recipient_inn: str,
        recipient_account: str,
        recipient_bik: str,
        amount: Decimal | int | str,
        purpose: str,
        recipient_kpp: str = "0",
        recipient_bank_name: str | None = None,
        recipient_corr_account: str | None = None,
        document_number: str | None = None,
        due_date: dt.date | None = None,
        execution_order: int | None = 5,
        idempotency_key: str | None = None,
    ) -> TBankPaymentDraft:
        """Create a payment order draft that a signer approves in T-Business
        (§2.4 ``POST /v1/payment/create``; residents only, 10 RPS).

        :param amount: rubles (`Decimal`, int or decimal text; never float), > 0, at most
            2 decimals.
        :param recipient_inn: 10 or 12 digits, ``"0"`` for a person without INN.
        :param recipient_kpp: 9 digits, ``"0"`` if none.
        :param document_number: our number of the order, 1-6 digits.
        :param idempotency_key: the draft's ``id``; pass a key stored with the payment
            (e.g. a uuid kept on the Odoo record) so a retry after `BankUnavailable`
            cannot create a second draft. Generated (uuid4) when omitted.
        :raises ValueError: bad arguments, before anything is sent.
        """
        key = idempotency_key or str(uuid.uuid4())
        try:
            request = TBankPaymentDraftRequest(
                id=key,
                from_account={"accountNumber": from_account},
                to=TBankPaymentRecipient(
                    name=recipient_name,
                    inn=recipient_inn,
                    kpp=recipient_kpp,
                    account_number=recipient_account,
                    bik=recipient_bik,
                    bank_name=recipient_bank_name,
                    corr_account_number=recipient_corr_account,
                ),
                purpose=purpose,
                amount=amount,
                document_number=document_number,
                execution_order=execution_order,
                due_date=due_date,
            )
        except pydantic.ValidationError as exc:
            raise ValueError(f"payment draft: {describe_validation_error(exc)}") from None
        data = self._request("POST", PAYMENT_CREATE_PATH, body=request.to_payload())
        if not isinstance(data, dict):
            raise self._protocol_error("POST", PAYMENT_CREATE_PATH, "answer is not an object")
        draft = self._parse(TBankPaymentDraft, data, "POST", PAYMENT_CREATE_PATH)
        if draft.idempotency_key is None:
            draft = draft.model_copy(update={"idempotency_key": key})
        return draft

    def get_payment_statuses(self, document_ids: Sequence[str]) -> list[TBankPaymentStatus]:
        """Statuses of payment drafts (``POST /v1/payment/status``, ≤ 100 ids, 1 RPS)."""
        ids = [to_text_id(document_id) for document_id in document_ids]
        if not 1 <= len(ids) <= PAYMENT_STATUS_BATCH:
            raise ValueError(f"between 1 and {PAYMENT_STATUS_BATCH} document ids")
        data = self._request("POST", PAYMENT_STATUS_PATH, body={"documentIds": ids})
        if isinstance(data, dict):  # {"documents": [...]} or similar envelope
            data = next((v for v in data.values() if isinstance(v, list)), None)
        if not isinstance(data, list):
            raise self._protocol_error("POST", PAYMENT_STATUS_PATH, "answer has no list")
        return self._parse(list[TBankPaymentStatus], data, "POST", PAYMENT_STATUS_PATH)

    def get_payment_status(self, document_id: str) -> TBankPaymentStatus:
        """Status of one payment draft (see `get_payment_statuses`).

        :raises BankRejected: the bank's answer does not mention ``document_id``.
        """
        document_id = to_text_id(document_id)
        for status in self.get_payment_statuses([document_id]):
            if status.document_id == document_id:
                return status
        error = BankRejected(
            f"{self.bank_label} POST {PAYMENT_STATUS_PATH}: the bank does not know document {document_id}"
        )
        _logger.warning("%s [BankRejected]", error)
        raise error

    # ------------------------------------------------------------------- webhooks

    def add_webhook(self, url: str, secret: str, email: str, event_type: str = "oper-feed-operation") -> None:
        """Subscribe ``url`` to ``event_type`` (§2.5 ``POST /v1/webhook?eventType=…``): the
        bank calls it with ``Authorization: Bearer <secret>``; ``email`` is where the bank
        writes about failing deliveries. 10 RPS.

        :raises ValueError: a URL over 2048 characters, a secret over 256, no e-mail.
        """
        if not url or len(url) > 2048:
            raise ValueError("the webhook URL must have 1-2048 characters")
        if not secret or len(secret) > 256:
            raise ValueError("the webhook secret must have 1-256 characters")
        if not email or "@" not in email:
            raise ValueError("an e-mail address is required to subscribe to T-Bank webhooks")
        body = {"url": url, "email": email, "authType": "Bearer", "authSecret": secret, "hasSignature": False}
        self._request("POST", WEBHOOK_PATH, params={"eventType": event_type}, body=body)

    # ------------------------------------------------------------------- plumbing

    def _error_body(self, body: dict) -> BankErrorBody:
        """T-Bank's ``{errorId, errorCode, errorMessage, errorDetails}`` (§2)."""
        return BankErrorBody(
            code=body.get("errorCode"),
            message=body.get("errorMessage"),
            details=body.get("errorDetails"),
            error_id=body.get("errorId"),
        )


# ----------------------------------------------------------------------------- webhooks
# docs/banks.md §2.5, docs/bank-webhooks.md: the bank calls our URL with the ``authSecret``
# we chose when subscribing, as ``Authorization: Bearer <secret>`` (or ``Basic <secret>``).
# The body of ``oper-feed-operation`` is the operation of the statement method, one flat
# object per event; the receivers published for it (docs/bank-webhooks.md, "The
# oper-feed-operation body") see ``accountNumber`` at the top, ``documentNumber``, amounts
# as strings, and the dates ``authorizationDate`` / ``trxnPostDate`` / ``chargeDate`` /
# ``drawDate`` / ``docDate`` without ``operationDate``. `_as_statement_operation` maps
# that onto the statement's spelling (§2.2b, `TBankOperation`); the statement's own
# object is read as is, bare, wrapped (``{"data"|"operation"|"payload": {...}}``) or in a
# list (``{"operations": [...]}``). The account is ``accountNumber`` when given, else our
# side of the operation (the receiver of a ``Credit``, the payer of a ``Debit``). The
# event's ``operationId`` may differ from the statement's: the fallback key (day, amount,
# counterparty, document number) then finds the line.

#: The statement webhook's event type (docs/banks.md §2.5).
TBANK_EVENT_TYPE = "oper-feed-operation"
_WRAPPERS = ("data", "operation", "payload", "Data")


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
        return to_operation(self.operation, currency, self.account_number)


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
