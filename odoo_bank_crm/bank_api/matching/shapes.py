"""The plain data the matcher takes (incoming lines, open invoices, known partners) and
gives (candidates, allocations, one result per line). Amounts are `Decimal`, floats are
refused. See the package docstring for what the matcher does with them."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal


def _check_decimal(owner, name, value):
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{owner}.{name} must be a finite Decimal, got {type(value).__name__} {value!r}")


@dataclass(frozen=True, slots=True)
class IncomingLine:
    """One incoming bank statement line (money received), as the matcher needs it.

    :ivar id: the caller's id of the line (statement line id, bank operation id...).
    :ivar amount: positive `Decimal` in ``currency``. Lines with ``amount <= 0`` are
        answered ``kind="unknown"``.
    :ivar purpose: payment purpose (назначение платежа), untouched.
    :ivar payer_inn: payer's INN as the bank gave it; ``None``/``""``/``"0"`` when absent.
    :ivar payer_account: payer's account number, when the bank gave it.
    :ivar date: business day of the line (informational).
    """

    id: object
    amount: Decimal
    currency: str
    purpose: str = ""
    payer_inn: str | None = None
    payer_account: str | None = None
    payer_name: str | None = None
    date: dt.date | None = None

    def __post_init__(self):
        _check_decimal("IncomingLine", "amount", self.amount)

    @classmethod
    def from_operation(cls, operation) -> "IncomingLine":
        """Build from a `statement.BankOperation` (counterparty = the payer)."""
        return cls(
            id=operation.bank_operation_id,
            amount=operation.amount,
            currency=operation.currency,
            purpose=operation.purpose or "",
            payer_inn=operation.counterparty_inn,
            payer_account=operation.counterparty_account,
            payer_name=operation.counterparty_name,
            date=operation.date,
        )


@dataclass(frozen=True, slots=True)
class OpenInvoice:
    """One open customer invoice (``out_invoice`` with an amount still due).

    :ivar number: the invoice's name as printed (``"INV/2026/00012"``).
    :ivar amount_residual: amount still due, in ``currency``.
    :ivar partner_id: the customer (pass the commercial partner: the one with the INN).
    :ivar partner_inn: the customer's INN, if known.
    :ivar partner_accounts: the customer's bank account numbers, if known.
    :ivar lead_id: the deal the invoice belongs to, if any (passed through).
    :ivar invoice_date: used to check "от <date>" in purposes and to give a year to
        invoice numbers that have none (``"12"``).
    """

    id: object
    number: str
    amount_residual: Decimal
    amount_total: Decimal
    currency: str
    partner_id: object
    partner_inn: str | None = None
    partner_accounts: frozenset = frozenset()
    due_date: dt.date | None = None
    lead_id: object = None
    invoice_date: dt.date | None = None

    def __post_init__(self):
        _check_decimal("OpenInvoice", "amount_residual", self.amount_residual)
        _check_decimal("OpenInvoice", "amount_total", self.amount_total)


@dataclass(frozen=True, slots=True)
class PartnerRef:
    """A known partner, to recognise payers by INN and account even without an invoice
    (and to know the accounts of an invoice's customer)."""

    partner_id: object
    inn: str | None = None
    accounts: frozenset = frozenset()


@dataclass(frozen=True, slots=True)
class Allocation:
    """Part of a line applied to one invoice."""

    invoice_id: object
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way to reconcile a line: one invoice, or several (multi-invoice payment).

    :ivar invoice_id: the invoice, or ``None`` for a multi-invoice candidate.
    :ivar score: 0..100, see the package docstring.
    :ivar reasons: reason codes (keys of `REASONS`), strongest first.
    :ivar amount_to_apply: part of the line to apply; for a multi-invoice candidate, the
        total over `allocations`.
    :ivar allocations: every (invoice, amount) to reconcile: always use this to reconcile.
    :ivar partial: the invoice stays partly due after this payment.
    """

    invoice_id: object
    score: int
    reasons: tuple
    amount_to_apply: Decimal
    allocations: tuple = ()
    partial: bool = False

    @property
    def invoice_ids(self) -> tuple:
        return tuple(a.invoice_id for a in self.allocations)

    @property
    def is_multi(self) -> bool:
        return len(self.allocations) > 1


@dataclass(frozen=True, slots=True)
class MatchResult:
    """What the matcher says about one line.

    :ivar kind: ``"invoice"`` (candidates found), ``"payout"`` (acquiring proceeds: book
        against the acquiring clearing account, ``fee`` as an expense), ``"unknown"``.
    :ivar candidates: best first (at most ``Matcher.max_candidates``).
    :ivar auto: reconcile ``candidates[0]`` (all its ``allocations``) without asking; for
        a payout: book it without asking (the payer's INN is a known acquirer's and the
        purpose says acquiring).
    :ivar partner_id: the partner the line belongs to: the invoice's customer when
        ``auto``; otherwise the payer recognised by INN/account (``None`` when unknown:
        the Odoo side may offer to create the partner from ``payer_inn``/``payer_name``).
    :ivar fee: acquiring fee stated in a payout's purpose, else ``None``.
    :ivar acquirer: name of the `PayoutRule` that recognised a payout, if any.
    """

    line_id: object
    kind: str
    candidates: tuple = ()
    auto: bool = False
    partner_id: object = None
    fee: Decimal | None = None
    acquirer: str | None = None

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None
