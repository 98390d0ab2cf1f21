"""Bank-neutral shapes of accounts and statement lines, for the Odoo side's sync pipeline.

Every business-API client (one module per bank) parses its bank's answers
into its own pydantic models (bank spelling, bank quirks) and offers ``to_account_info``
/ ``to_operations`` mappers that produce the plain, frozen dataclasses below. The sync
pipeline only ever sees these: adding a bank adds a client module and its mappers, not
branches in the pipeline (docs/architecture.md "Layers").

Conventions:

- amounts are exact `Decimal` in the account's currency, **signed**: ``+`` money came in
  (credit), ``-`` money went out (debit);
- currencies are ISO 4217 alphabetic codes (``"RUB"``), whatever the bank sent
  (`normalize_currency` turns T-Bank's numeric ``"643"`` into ``"RUB"``);
- ``date`` is the operation's business day in Moscow time (`BANK_TZ`), the day a Russian
  bank statement shows; ``timestamp`` keeps the exact instant when the bank gives one;
- ``raw`` is the bank's JSON object as received (numbers as `Decimal`), kept for audit
  and for fields the common shape does not carry. It takes no part in equality.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "BANK_TZ",
    "BankOperation",
    "BankAccountInfo",
    "normalize_currency",
    "money_places",
    "ISO_NUMERIC_CURRENCIES",
]

#: Moscow time (UTC+3, no DST since 2014): the business day of Russian bank statements.
BANK_TZ = dt.timezone(dt.timedelta(hours=3), "MSK")

#: ISO 4217 numeric → alphabetic, for banks that send ``"643"`` (docs/banks.md §2.2b).
#: ``810`` is the pre-1998 ruble code still written inside Russian account numbers.
ISO_NUMERIC_CURRENCIES = {
    "643": "RUB",
    "810": "RUB",
    "840": "USD",
    "978": "EUR",
    "156": "CNY",
    "826": "GBP",
    "756": "CHF",
    "392": "JPY",
    "398": "KZT",
    "933": "BYN",
    "051": "AMD",
    "860": "UZS",
    "417": "KGS",
    "944": "AZN",
    "949": "TRY",
    "784": "AED",
    "344": "HKD",
    "356": "INR",
}


def normalize_currency(code: Any) -> str:
    """ISO 4217 alphabetic code for ``code``: ``"643"``/``643`` → ``"RUB"``, ``"rub"`` →
    ``"RUB"``. A numeric code missing from `ISO_NUMERIC_CURRENCIES` comes back as given
    (zero-padded to 3 digits) so the caller can still show it.

    :raises ValueError: for an empty value, a boolean, or text that is neither 3 letters
        nor up to 3 digits.
    """
    if isinstance(code, bool) or code is None:
        raise ValueError(f"not a currency code: {code!r}")
    text = str(code).strip()
    if text.isdigit() and len(text) <= 3:
        text = text.zfill(3)
        return ISO_NUMERIC_CURRENCIES.get(text, text)
    if len(text) == 3 and text.isascii() and text.isalpha():
        return text.upper()
    raise ValueError(f"not a currency code: {code!r}")


_CENTS = Decimal("0.01")


def money_places(amount: Decimal | None) -> Decimal | None:
    """``amount`` with at least two decimal places (``Decimal("15000")`` →
    ``Decimal("15000.00")``): banks send whole sums as JSON integers. Only zeros are
    added; an amount with more places is returned unchanged, never rounded."""
    if amount is None or amount.as_tuple().exponent <= -2 or not amount.is_finite():
        return amount
    return amount.quantize(_CENTS)


@dataclass(frozen=True, slots=True)
class BankOperation:
    """One line of a bank statement, whatever the bank.

    :ivar bank_operation_id: the bank's id of the operation (T-Bank ``operationId``,
        Tochka ``transactionId``); unique per account in the bank's eyes, but see
        `fallback_key` (T-Bank may change it for operations made 22:00-03:00, §2.2).
    :ivar date: business day (Moscow time) of the operation.
    :ivar amount: signed `Decimal` in ``currency``: ``+`` incoming, ``-`` outgoing.
    :ivar currency: ISO 4217 alphabetic code of the account's currency.
    :ivar confirmed: ``True`` once the bank has booked it (T-Bank ``Transaction``, Tochka
        ``Booked``); unconfirmed lines (holds) must not reach accounting (§2.2, §6.9).
    :ivar purpose: payment purpose (назначение платежа), untouched.
    :ivar counterparty_*: the other side: payer of an incoming line, recipient of an
        outgoing one. Any of them may be ``None`` (card operations, bank fees).
    :ivar document_number: number of the payment document, when the bank gives it.
    :ivar timestamp: exact aware instant of the operation, when the bank gives one.
    :ivar account_number: our 20-digit account the line belongs to, when known.
    :ivar raw: the bank's JSON object as received.
    """

    bank_operation_id: str
    date: dt.date
    amount: Decimal
    currency: str
    confirmed: bool
    purpose: str = ""
    counterparty_name: str | None = None
    counterparty_inn: str | None = None
    counterparty_kpp: str | None = None
    counterparty_account: str | None = None
    counterparty_bic: str | None = None
    counterparty_bank_name: str | None = None
    document_number: str | None = None
    timestamp: dt.datetime | None = None
    account_number: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    @property
    def is_incoming(self) -> bool:
        """True for money received (credit), False for money paid out (debit)."""
        return self.amount > 0

    @property
    def fallback_key(self) -> tuple:
        """What identifies the operation when its id cannot be trusted (docs/banks.md
        §6.9: T-Bank may re-issue ``operationId`` for night operations): business day,
        signed amount, counterparty (account, else INN) and document number."""
        return (
            self.date,
            self.amount,
            self.counterparty_account or self.counterparty_inn or "",
            self.document_number or "",
        )


@dataclass(frozen=True, slots=True)
class BankAccountInfo:
    """One of our accounts at a bank, whatever the bank.

    :ivar bank_account_id: the id the bank's API wants back for this account (T-Bank: the
        20-digit number; Tochka: ``"<number>/<BIC>"``).
    :ivar account_number: the 20-digit account number.
    :ivar bic: BIC (БИК) of the bank holding the account, when known.
    :ivar currency: ISO 4217 alphabetic code.
    :ivar name: the bank's name for the account, if any.
    :ivar balance: current balance in ``currency`` (booked, without holds), or ``None``
        if the bank did not say.
    :ivar account_type: the bank's account type/kind, as the bank spells it.
    :ivar raw: the bank's JSON object as received.
    """

    bank_account_id: str
    account_number: str
    currency: str
    bic: str | None = None
    name: str | None = None
    balance: Decimal | None = None
    account_type: str | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False, hash=False)
