"""Matching incoming bank transfers to open customer invoices, on plain data.

Flow 2 of docs/architecture.md ("Bank transfer (B2B)"): a statement line comes in, we look for the
open invoice it pays: the invoice number in the payment purpose, the amount, the payer's
INN and account. This module does that on plain dataclasses (no Odoo): the Odoo side feeds
it the open invoices and known partners once, then a batch of incoming lines, and acts on
the answers (reconcile automatically, or put proposals in the "To match" queue).

What it recognises
------------------
- Invoice numbers as people really write them: ``INV/2026/00012``, ``№INV/2026/00012``,
  ``INV-2026-12``, ``INV202600012``, Cyrillic look-alike letters (``ІNV``, ``СЧ``), no spaces
  (``счет№12от01.02.2026``), and the bare sequence number after "счет/счёт/сч./invoice/№"
  (``Оплата по счету № 12 от 01.02.2026``), whose year comes from the date written after it.
  A number after "договор", "п/п", "акт", "накладная", "заказ", "счет-фактура"... is not an
  invoice reference; nor is a date or an amount (``1 500,00``, ``1500 руб``).
- Acquiring payouts (docs/banks.md §1.9, §2.5, §6 item 10): the acquiring bank pays the day's
  card proceeds as ONE transfer; such a line is reported as ``kind="payout"`` with the fee
  when the purpose states it, and is never matched to an invoice.

Scoring (0..100; points add up, then caps and penalties apply)
--------------------------------------------------------------
==========================================================  ======
invoice number in the purpose, full (prefix + year + seq)     +60
sequence number with its year (written, or from "от <date>")  +50
sequence number alone (year not stated)                       +35
the date written after the number is the invoice date          +5
amount equals the amount due (residual)                       +35
amount below the amount due (partial payment)                  +5
amount above the amount due (overpayment)                      +0
payer INN, or payer account, known on the invoice's customer  +25
... both INN and account                                      +30
no number, but the payer's only open invoice with this amount +20
amount alone (no number, no payer): exact amount +20, and the
  only open invoice with this amount +10                     +20/+30
payer INN differs from the customer's (and account unknown)   -40
the purpose names another invoice, not this one               -25
the purpose names several invoices (single candidate)         -10
==========================================================  ======

Caps: without any invoice number at most 80 (so INN/account + exact amount, the
"medium-high" case, is a one-click proposal with the default threshold); amount alone at
most 30; overpayment at most 80; another currency at most 50.

Examples with the default threshold 85: full number + exact amount = 95 (auto); number
with its date + exact amount = 90 (auto); "№ 12" + payer INN + exact amount = 95 (auto);
"№ 12" + exact amount, payer unknown = 70 (proposal); INN + exact amount, only such invoice
= 80 (proposal); amount alone <= 30 (proposal, never auto).

A line is reconciled automatically (``auto``) only when ALL hold:

- the best candidate scores at least ``threshold`` (default 85);
- the runner-up scores at least ``margin`` (default 15) points less (points before the
  0..100 clamp): two equally good candidates (same customer, same amount, "№ 12" of two
  years) are never guessed between;
- same currency, not an overpayment, not the amount alone;
- a partial payment only with the full invoice number (prefix + year + sequence) written.

Which invoices a number names: a full number names that invoice only (``INV/2026/00012``
never names ``INV/2025/00012``); a bare "№ 12" names every open invoice with sequence 12
(never 120 or 112), narrowed to the year of the date written after it, and to the invoice
of exactly that date when one matches (two journals both have a "12" of that year).

Several invoices named in one purpose ("по счетам №12, №13") whose amounts due add up
exactly to the line make one multi-invoice candidate (``allocations`` has one entry per
invoice; ``invoice_id`` is ``None``), scored with the weakest of its numbers. When a number
names several open invoices, the sum settles it if exactly one choice adds up.

Within one `Matcher.match` call, automatic matches consume the invoices' amounts due in
line order: an invoice paid by an earlier line is no longer open for the next one (a
duplicate payment is not matched to it again), the second half of a split payment is an
exact match. Pass lines in statement order.

Everything is exact: amounts are `Decimal`, floats are refused.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from itertools import product
from collections.abc import Iterable

__all__ = [
    "IncomingLine",
    "OpenInvoice",
    "PartnerRef",
    "Allocation",
    "Candidate",
    "MatchResult",
    "InvoiceNumber",
    "InvoiceReference",
    "PayoutRule",
    "Payout",
    "Matcher",
    "normalize_text",
    "parse_invoice_number",
    "invoice_number_keys",
    "find_invoice_references",
    "find_payout",
    "is_acquiring_payout",
    "extract_fee",
    "DEFAULT_PAYOUT_RULES",
    "DEFAULT_THRESHOLD",
    "DEFAULT_MARGIN",
    "SCORES",
    "REASONS",
]

DEFAULT_THRESHOLD = 85
DEFAULT_MARGIN = 15

#: Points and caps of the scoring table in the module docstring.
SCORES = {
    "number": 60,
    "number_year": 50,
    "number_only": 35,
    "invoice_date": 5,
    "amount_exact": 35,
    "partial": 5,
    "overpaid": 0,
    "payer": 25,
    "payer_both": 30,
    "unique_amount_for_payer": 20,
    "unique_amount": 10,
    "amount_only": 20,
    "payer_inn_differs": -40,
    "other_invoice_named": -25,
    "several_invoices_named": -10,
    "cap_without_number": 80,
    "cap_amount_only": 30,
    "cap_overpaid": 80,
    "cap_currency": 50,
    "min_score": 10,
}

#: Reason codes found in `Candidate.reasons`, with what they mean. The Odoo side shows
#: them to users through its own (translated) labels, keyed by code.
REASONS = {
    "number": "the full invoice number (prefix, year, sequence) is in the purpose",
    "number_year": "the invoice's sequence number and year are in the purpose",
    "number_only": "the invoice's sequence number is in the purpose (year not stated)",
    "invoice_date": "the invoice date is written after the number",
    "several_invoices": "the purpose names several invoices whose amounts due add up to the amount",
    "amount_exact": "the amount equals the amount due",
    "partial": "the amount is less than the amount due (partial payment)",
    "overpaid": "the amount exceeds the amount due",
    "currency_differs": "the line and the invoice are in different currencies",
    "payer_inn": "the payer's INN is the customer's",
    "payer_account": "the payer's account is known on the customer",
    "unique_amount_for_payer": "the payer's only open invoice with this amount",
    "amount_only": "only the amount matches",
    "unique_amount": "the only open invoice with this amount",
    "payer_inn_differs": "the payer's INN is not the customer's",
    "other_invoice_named": "the purpose names another invoice",
    "several_invoices_named": "the purpose names several invoices",
}

_LEVEL_RANK = {"number": 3, "number_year": 2, "number_only": 1}
_MULTI_OPTIONS = 4  # open invoices one number may name, for a multi-invoice candidate
_MULTI_COMBINATIONS = 64


# ---------------------------------------------------------------------------------------
# Plain data in and out
# ---------------------------------------------------------------------------------------


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
    :ivar score: 0..100, see the module docstring.
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


# ---------------------------------------------------------------------------------------
# Text normalisation
# ---------------------------------------------------------------------------------------

# Cyrillic letters that look like Latin ones (applied after casefold, so upper case too).
_LOOKALIKES = {
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "і": "i",
    "ј": "j",
    "ѕ": "s",
    "һ": "h",
    "ԛ": "q",
    "ԝ": "w",
    "ӏ": "l",
}
_PUNCTUATION = {
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),
    **dict.fromkeys("\u2044\u2215\u29f8\\", "/"),
}
_TEXT_TABLE = str.maketrans({**_LOOKALIKES, **_PUNCTUATION})
_PATTERN_TABLE = str.maketrans(_LOOKALIKES)

_SIGN = "\x01"  # stands for "№" while NFKC (which spells it "No") runs
_NUMBER_SIGN_RE = re.compile(r"(?<![^\W_])(?:no|n°|n)\.?\s*(?=\d)|#\s*(?=\d)")
_DIGIT_LETTER_RE = re.compile(r"(?<=\d)(?=[^\W\d_])")
_OT_GLUED_RE = re.compile(r"(?<![^\W_])ot(?=\d)")  # "от01.02.2026" (о, т are look-alikes)
_SLASH_SPACES_RE = re.compile(r"\s*/\s*")
_DASH_DIGIT_RE = re.compile(r"(?<=[^\W_])\s*-\s*(?=\d)")
_SPACES_RE = re.compile(r"\s+")


def _compile(pattern: str, flags: int = 0) -> "re.Pattern":
    """Compile a lowercase pattern written in plain Russian against normalised text: its
    Cyrillic look-alike letters are mapped exactly as `normalize_text` maps the text."""
    return re.compile(pattern.translate(_PATTERN_TABLE), flags)


def normalize_text(text: str | None) -> str:
    """Canonical form of a purpose, name or invoice number, for matching only (never store
    it): NFKC, casefold, Cyrillic look-alike letters → Latin (``"СЧ"`` → ``"cч"``,
    ``"ІNV"`` → ``"inv"``), ``ё`` → ``е``, every dash → ``-``, every slash → ``/``,
    ``№``/``N``/``No.``/``Nº``/``#`` before a number → `` № ``, a digit glued to a
    following letter split off (``"12от"`` → ``"12 от"``), spaces around ``/`` and number
    dashes removed, whitespace collapsed.

    ``normalize_text("Оплата по счету №INV / 2026 / 00012")`` ==
    ``"oплata пo cчety № inv/2026/00012"``.
    """
    if not text:
        return ""
    s = unicodedata.normalize("NFKC", text.replace("№", _SIGN)).casefold().translate(_TEXT_TABLE)
    s = _NUMBER_SIGN_RE.sub(_SIGN, s)
    s = _DIGIT_LETTER_RE.sub(" ", s)
    s = _OT_GLUED_RE.sub("ot ", s)
    s = s.replace(_SIGN, " № ")
    s = _SLASH_SPACES_RE.sub("/", s)
    s = _DASH_DIGIT_RE.sub("-", s)
    return _SPACES_RE.sub(" ", s).strip()


_NOT_DIGITS_RE = re.compile(r"\D+")


def _clean_inn(inn) -> str | None:
    """Digits of a 10/12-digit INN, or ``None`` (absent, ``"0"``, malformed)."""
    if not inn:
        return None
    digits = _NOT_DIGITS_RE.sub("", str(inn))
    return digits if len(digits) in (10, 12) and digits.strip("0") else None


def _clean_account(account) -> str | None:
    """Account number without spaces, or ``None``."""
    if not account:
        return None
    text = "".join(str(account).split()).upper()
    return text if len(text) >= 5 and text.strip("0") else None


# ---------------------------------------------------------------------------------------
# Invoice numbers
# ---------------------------------------------------------------------------------------


def _is_year(digits: str) -> bool:
    return len(digits) == 4 and "2000" <= digits <= "2099"


@dataclass(frozen=True, slots=True)
class InvoiceNumber:
    """An invoice number taken apart: ``INV/2026/00012`` → prefix ``"inv"``, period
    ``(2026,)``, seq ``12``; ``INV/2026/02/0012`` → period ``(2026, 2)``; ``"12"`` → no
    prefix, no period. ``digits`` keeps the digits as written (``"202600012"``)."""

    prefix: str
    period: tuple
    seq: int
    digits: str

    @property
    def year(self) -> int | None:
        return self.period[0] if self.period and 2000 <= self.period[0] <= 2099 else None

    @property
    def full_key(self) -> str:
        return "/".join([self.prefix, *map(str, self.period), str(self.seq)]).lstrip("/")

    @property
    def period_key(self) -> str:
        return "/".join([*map(str, self.period), str(self.seq)])

    @property
    def compact_key(self) -> str:
        return self.prefix + self.digits


_NUMBER_PARTS_RE = re.compile(r"[^\W\d_]+|\d+")


def parse_invoice_number(number: str) -> InvoiceNumber | None:
    """Take an invoice number apart (see `InvoiceNumber`); ``None`` if it has no digits.
    Letters before the first digits are the prefix; the last digits are the sequence; a
    first group that is a year (2000-2099) starts the period."""
    norm = normalize_text(number).replace(" № ", " ")
    prefix_parts, groups = [], []
    for part in _NUMBER_PARTS_RE.findall(norm):
        if part.isdigit():
            groups.append(part)
        elif not groups:
            prefix_parts.append(part)
    if not groups:
        return None
    seq = int(groups[-1])
    period = tuple(int(g) for g in groups[:-1])
    if len(groups) == 1 and len(groups[0]) >= 7 and _is_year(groups[0][:4]) and prefix_parts:
        # "INV202600012": a compact number (year glued to the sequence)
        period, seq = (int(groups[0][:4]),), int(groups[0][4:])
    return InvoiceNumber("".join(prefix_parts), period, seq, "".join(groups))


def invoice_number_keys(number: str) -> frozenset:
    """The canonical forms under which an invoice number can be found in a purpose:
    ``"INV/2026/00012"`` → ``{"inv/2026/12", "inv202600012", "2026/12", "12"}`` (full
    number, compact as written, period + sequence, bare sequence: the last two need a
    year from context to single out one invoice)."""
    parsed = parse_invoice_number(number)
    if parsed is None:
        return frozenset()
    return frozenset({parsed.full_key, parsed.compact_key, parsed.period_key, str(parsed.seq)})


@dataclass(frozen=True, slots=True)
class InvoiceReference:
    """An invoice number found in a purpose.

    :ivar text: the reference as found, normalised (``"inv/2026/00012"``, ``"12"``).
    :ivar seq: the sequence number.
    :ivar prefix: normalised prefix written with it (``"inv"``), ``""`` if none.
    :ivar period: period written with it (``(2026,)``, ``(2026, 2)``), ``()`` if none.
    :ivar digits: its digits as written (``"202600012"``), for compact numbers.
    :ivar year: the year it belongs to: the written period's, else the year of the date
        written after it (``"№ 12 от 01.02.2026"``), else ``None`` (ambiguous across years).
    :ivar date: the date written after it (``"от 01.02.2026"``), if any.
    :ivar strength: ``"strong"`` (prefix + year + sequence) or ``"medium"``.
    :ivar marker: what made it a reference: ``"number"`` (its own shape), ``"sign"``
        (``№``), ``"keyword"`` (счет, сч., invoice...), ``"list"`` (``№12, 13``).
    """

    text: str
    seq: int
    prefix: str = ""
    period: tuple = ()
    digits: str = ""
    year: int | None = None
    date: dt.date | None = None
    strength: str = "medium"
    marker: str = ""

    @property
    def full_key(self) -> str:
        return "/".join([self.prefix, *map(str, self.period), str(self.seq)]).lstrip("/")

    @property
    def period_key(self) -> str:
        return "/".join([*map(str, self.period), str(self.seq)])

    @property
    def compact_key(self) -> str:
        return self.prefix + self.digits


# Words, matched whole against a normalised token. Written in plain Russian.
_INVOICE_WORD_RE = _compile(r"сч[её]т(?:а|у|ам|ов|е|ом|ах|ами)?|сч|invoices?|inv|bill|инвойс\w*")
_OTHER_DOC_RE = _compile(
    r"договор\w*|дог|контракт\w*|п/п|пп|платежн\w*|поручени\w*|акт(?:а|у|ом|ам|ов|е|ы)?"
    r"|накладн\w*|тн|ттн|торг|упд|заказ\w*|спецификаци\w*|заявк\w*|письм\w*|ордер\w*"
    r"|сч[её]т(?:а|у|е|ом)?-фактур\w*|сч/ф|с/ф|сф|счф|чек\w*|квитанци\w*|доверенност\w*"
    r"|заявлени\w*|распоряжени\w*|решени\w*|постановлени\w*|протокол\w*|соглашени\w*"
    r"|лист\w*|займ\w*|за[её]м|кредит\w*|л/с|р/с|к/с|contract|order|po"
)
# "лицевой/расчетный счет № ...": an account, not an invoice
_ACCOUNT_ADJECTIVE_RE = _compile(r"лицев\w*|расч[её]тн\w*|текущ\w*|банковск\w*|корреспондентск\w*|депозитн\w*")
_FILLERS = frozenset(
    normalize_text(w) for w in ("на", "оплату", "оплаты", "оплата", "no", "nr", "номер", "номеру", "ном")
)
_LIST_WORDS = frozenset(normalize_text(w) for w in ("и", "and"))
_OT = normalize_text("от")
_GAP_OK = " ,;:()«»\"'+&"

_MONTH_OF = {
    normalize_text(m): i
    for i, m in enumerate(("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"), 1)
}
_MONTH_OF[normalize_text("мая")] = 5

_EVENTS_RE = _compile(
    r"""
(?P<date>(?<![\w.,/-])
    (?:(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4}|\d{2})
      |(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})
      |(?P<td>\d{1,2})\s?(?P<tm>янв|фев|мар|апр|ма[йя]|июн|июл|авг|сен|окт|ноя|дек)[^\W\d_]*\.?\s?(?P<ty>\d{4}))
    (?![\w/]|[.,-]\d))
|(?P<amount>(?<![\w.,/-])
    (?:\d{1,3}(?:\s\d{3})+(?:[.,]\d{1,2})?
      |\d+[.,]\d{2}
      |\d+(?:-\d{2})?(?=\s?(?:руб|р\.|р\b|₽|rub|коп|%)))
    (?![\w/]|[.,]\d))
|(?P<sign>№)
|(?P<token>[^\W_]+(?:[./-][^\W_]+)*)
""",
    re.X,
)
_DIGIT_RE = re.compile(r"\d")
_CODE_RE = re.compile(r"([^\W\d_]*)[./-]?(\d+(?:[./-]\d+)*)")
_SEP_RE = re.compile(r"[./-]")


def _event_date(m) -> dt.date | None:
    try:
        if m.group("d"):
            year = int(m.group("y"))
            return dt.date(year + 2000 if year < 100 else year, int(m.group("m")), int(m.group("d")))
        if m.group("iy"):
            return dt.date(int(m.group("iy")), int(m.group("im")), int(m.group("id")))
        month = _MONTH_OF.get(m.group("tm"))
        return dt.date(int(m.group("ty")), month, int(m.group("td")))
    except (TypeError, ValueError):
        return None


def _accept_prefix(letters: str, prefixes) -> str:
    """The invoice prefix ``letters`` stands for, or ``""``. Without known prefixes any
    short Latin word is taken (but not "invoice"/"bill"); with them, a known one, also glued
    to the end of a word ("счетуINV/2026/..." → "inv")."""
    if prefixes is None:
        if (
            letters.isascii()
            and letters.isalpha()
            and len(letters) <= 10
            and (letters == "inv" or not _INVOICE_WORD_RE.fullmatch(letters))
        ):
            return letters
        return ""
    if letters in prefixes:
        return letters
    for prefix in prefixes:
        if len(prefix) >= 2 and letters.endswith(prefix):
            return prefix
    return ""


def _code_reference(token, letters, groups, marked, prefixes, marker):
    """Reference for a token with digits (``letters`` + digit ``groups``), or ``None``."""
    if any(len(g) > 10 for g in groups):  # accounts, INNs, phone numbers
        return None
    is_word = bool(letters) and _INVOICE_WORD_RE.fullmatch(letters) is not None
    prefix = _accept_prefix(letters, prefixes) if letters else ""
    period, seq_text = None, None
    if len(groups) == 1:
        if prefix and len(groups[0]) >= 7 and _is_year(groups[0][:4]):
            period, seq_text = (int(groups[0][:4]),), groups[0][4:]  # "INV202600012"
        else:
            period, seq_text = (), groups[0]
    elif _is_year(groups[0]) and len(groups) == 2:
        period, seq_text = (int(groups[0]),), groups[1]
    elif _is_year(groups[0]) and len(groups) == 3 and 1 <= int(groups[1]) <= 12:
        period, seq_text = (int(groups[0]), int(groups[1])), groups[2]
    elif len(groups) == 2 and _is_year(groups[1]) and (marked or is_word):
        period, seq_text = (int(groups[1]),), groups[0]  # "№ 12/2026"
    elif prefix and prefixes is not None and len(groups) == 2 and len(groups[0]) == 2 and len(groups[1]) >= 3:
        # "INV/25/00123": the year abbreviated after a known prefix (this century's years)
        period, seq_text = (2000 + int(groups[0]),), groups[1]
        groups = [str(period[0]), groups[1]]  # digits as the invoice's own "INV/2025/00123"
    if period is None or not int(seq_text):
        return None
    seq, digits = int(seq_text), "".join(groups)
    if period and prefix:
        return InvoiceReference(token, seq, prefix, period, digits, period[0], None, "strong", "number")
    if period:
        if letters and not is_word and not marked and len(seq_text) < 3:
            return None
        if not letters and not marked and len(seq_text) < 4:
            return None  # "2026/12" alone could be a month; "2026/00012" is a number
        return InvoiceReference(
            token,
            seq,
            "",
            period,
            digits,
            period[0],
            None,
            "medium",
            "keyword" if is_word else (marker if marked else "number"),
        )
    if is_word:  # "сч-12", "счет12", "inv12"
        return InvoiceReference(token, seq, prefix, (), digits, None, None, "medium", "keyword")
    if letters:
        if prefix and prefixes is not None:  # a known prefix without year: "INV-12"
            return InvoiceReference(token, seq, prefix, (), digits, None, None, "medium", "number")
        return None
    if marked:
        return InvoiceReference(token, seq, "", (), digits, None, None, "medium", marker)
    return None


@lru_cache(maxsize=4096)
def _word_kind(word: str) -> str | None:
    """What a word means for reading numbers after it (purposes repeat their words)."""
    if word in _LIST_WORDS:
        return "list"
    if word == _OT:
        return "ot"
    if _OTHER_DOC_RE.fullmatch(word):
        return "other"
    if _ACCOUNT_ADJECTIVE_RE.fullmatch(word):
        return "account"
    if _INVOICE_WORD_RE.fullmatch(word):
        return "invoice"
    if word in _FILLERS:
        return "filler"
    return None


def _scan_references(norm: str, prefixes=None, amount=None) -> list:
    """The references in a normalised purpose; see `find_invoice_references`.

    One pass over dates, amounts, "№" signs and tokens, remembering the last document word
    (invoice or other), whether the next bare number is announced (after "№" or an invoice
    word), whether we are in a list of numbers, and which numbers wait for "от <date>".
    """
    if _DIGIT_RE.search(norm) is None:
        return []
    refs = []  # mutable [reference, date] pairs until the end
    doc = None  # last document word: "invoice" | "other" | None
    pending = None  # "sign"/"keyword" when the next bare number is a reference
    in_list = False  # the previous event was a reference ("№12, 13", "12 и 13")
    group = []  # references waiting for their "от <date>"
    expect_date = False
    last_kind, last_end = None, 0
    for m in _EVENTS_RE.finditer(norm):
        gap = norm[last_end : m.start()]
        if gap.strip(_GAP_OK) and not (last_kind == "invoice_word" and gap.strip() == "."):
            pending, in_list, expect_date, group = None, False, False, []
        last_end = m.end()
        if m.start("sign") >= 0:
            pending, expect_date, last_kind = "sign", False, "sign"
            continue
        if m.start("date") >= 0:
            date = _event_date(m)
            if date and group and (expect_date or last_kind == "ref"):
                for item in group:
                    if item[1] is None:
                        item[1] = date
            pending, in_list, expect_date, group, last_kind = None, False, False, [], "date"
            continue
        if m.start("amount") >= 0:
            pending, in_list, expect_date, group, last_kind = None, False, False, [], "amount"
            continue
        token = m.group("token")
        if _DIGIT_RE.search(token) is None:  # a word
            kind = _word_kind(token)
            if kind == "list" and last_kind == "ref":
                last_kind = "connector"
            elif kind == "ot":
                expect_date, last_kind = bool(group), "ot"
            elif kind == "other" or (kind == "invoice" and last_kind == "account"):
                doc, pending, in_list, group, last_kind = "other", None, False, [], "other_word"
            elif kind == "account":
                pending, in_list, expect_date, group, last_kind = None, False, False, [], "account"
            elif kind == "invoice":
                doc, pending, in_list, group, last_kind = "invoice", "keyword", False, [], "invoice_word"
            elif kind != "filler":
                pending, in_list, expect_date, group, last_kind = None, False, False, [], "word"
            continue
        code = _CODE_RE.fullmatch(token)
        if code is None:
            pending, in_list, expect_date, group, last_kind = None, False, False, [], "code"
            continue
        letters, digits = code.groups()
        letters_kind = _word_kind(letters) if letters else None
        if letters_kind == "other":  # "дог-12", "ТН-5"
            doc, pending, in_list, group, last_kind = "other", None, False, [], "code"
            continue
        marked = bool(pending or in_list) and doc != "other"
        marker = pending or "list"
        ref = _code_reference(token, letters, _SEP_RE.split(digits), marked, prefixes, marker)
        if (
            ref is not None
            and amount is not None
            and ref.marker != "sign"
            and not ref.period
            and not ref.prefix
            and Decimal(ref.seq) == amount
        ):
            ref = None  # "счет 1500" on a 1 500,00 line: the amount, not a number
        if ref is None:
            pending, in_list, expect_date, group, last_kind = None, False, False, [], "code"
            continue
        if letters_kind == "invoice":
            doc = "invoice"
        item = [ref, None]
        refs.append(item)
        if not (last_kind in ("ref", "connector") or (last_kind == "sign" and in_list)):
            group = []  # a new list of references starts
        group.append(item)
        pending, in_list, expect_date, last_kind = None, True, False, "ref"
    result = []
    for ref, date in refs:
        if date is not None:
            year = ref.year if ref.period else date.year
            ref = InvoiceReference(
                ref.text, ref.seq, ref.prefix, ref.period, ref.digits, year, date, ref.strength, ref.marker
            )
        result.append(ref)
    return result


def find_invoice_references(
    purpose: str, *, amount: Decimal | None = None, prefixes: Iterable[str] | None = None
) -> list:
    """Invoice numbers written in a payment purpose, in order (`InvoiceReference`).

    - strong: prefix + year + sequence (``INV/2026/00012``, ``INV-2026-12``,
      ``INV202600012``, ``ІNV/2026/00012`` with a Cyrillic І, ``№INV/2026/00012`` with no
      space, ``INV/26/00012`` with the year abbreviated to two digits);
    - medium: the sequence number after "счет/счёт/сч./invoice/№", or a list of them
      ("по счетам №12, 13 и 14"), or year/sequence without prefix (``2026/00012``); its
      ``year`` comes from the date written after it ("№ 12 от 01.02.2026"), else ``None``.

    Not references: numbers after "договор", "п/п", "акт", "заказ", "счет-фактура"...;
    dates; amounts (``1 500,00``, ``1500 руб``, ``20%``); a bare number equal to
    ``amount`` unless written after "№".

    :param prefixes: invoice prefixes in use (``{"INV"}``); a prefix not among them is not
        taken as one (the reference stays medium). Default: any short Latin word.
    """
    known = None if prefixes is None else frozenset(normalize_text(p) for p in prefixes)
    return _scan_references(normalize_text(purpose), known, amount)


# ---------------------------------------------------------------------------------------
# Acquiring payouts
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PayoutRule:
    """How to recognise one acquirer's payouts: its INNs, and patterns of its name (plain
    lowercase regexes, matched on `normalize_text` of the payer's name)."""

    acquirer: str
    inns: frozenset = frozenset()
    payer_names: tuple = ()


@dataclass(frozen=True, slots=True)
class Payout:
    """A line recognised as acquiring proceeds.

    :ivar acquirer: `PayoutRule.acquirer` of the payer (by INN, else by name), or ``None``
        when only the purpose says acquiring.
    :ivar fee: the fee stated in the purpose, else ``None``.
    :ivar by_payer: the payer's INN is a known acquirer's and the purpose says acquiring:
        safe to book without asking. ``False`` when the acquirer is recognised by its name
        only, or not at all.
    """

    acquirer: str | None
    fee: Decimal | None
    by_payer: bool


#: Acquirers known by INN and name. T-Bank's INN is from the brief; the others are the
#: banks' published details (docs/banks.md does not list them; verify before relying on).
#: Name patterns name the bank itself, not its group ("Тинькофф Страхование", "Сбер Лизинг").
DEFAULT_PAYOUT_RULES = (
    PayoutRule(
        "T-Bank",
        frozenset({"7710140679"}),
        (r"(?<!\w)т-?банк", r"тинькофф банк", r"tinkoff bank", r"(?<!\w)t-?bank(?!\w)"),
    ),
    PayoutRule("Sber", frozenset({"7707083893"}), (r"(?<!\w)(?:пао )?сбербанк(?! \w*страх)",)),
    PayoutRule("Alfa-Bank", frozenset({"7728168971"}), (r"альфа-?банк",)),
    PayoutRule("VTB", frozenset({"7702070139"}), (r"банк втб", r"втб банк")),
    PayoutRule("Tochka", frozenset({"9721194461"}), (r"банк точка", r"точка банк")),
)

# Say "acquiring" on their own, whoever pays.
_ACQUIRING_EXPLICIT_RES = tuple(
    _compile(p)
    for p in (
        r"эква[йи]?ринг",
        r"операци\w* с (?:использованием )?(?:платежн\w* |банковск\w* )?карт",
    )
)
# Say it when the payer is a known acquirer.
_ACQUIRING_SUPPORT_RES = tuple(
    _compile(p)
    for p in (
        r"возмещени\w*(?: \S+){0,3}? по (?:операци|реестр|карт|сбп)",
        r"(?:перечислени|зачислени|расч[её]т)\w*(?: \S+){0,2}? по операци",
        r"за вычетом комисси",
        r"по реестр",
        r"(?<!\w)сбп(?!\w)",
        r"торгов\w* (?:точк|операци)",
    )
)
_NOT_A_PAYOUT_RE = _compile(r"страхов")  # "страховое возмещение": an insurer paying a claim
# One search that most purposes fail, before the patterns above.
_PAYOUT_HINT_RE = _compile(r"эква|карт|возмещ|операци|вычетом|реестр|сбп|торгов|комисси|вознагражд")
_REFUND_RE = _compile(r"возврат")
_FEE_WORD_RE = _compile(r"(?:комисси|вознагражд)[^\W\d_]*")
_FEE_NUMBER_RE = re.compile(
    r"(?P<date>(?<![\d.,])\d{1,2}[./]\d{1,2}[./]\d{2,4}(?!\d))"
    r"|(?P<num>(?<![\d.,])(?:\d{1,3}(?:\s\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2}|-\d{2}(?!\d))?)(?![\d]))"
    r"(?P<pct>\s?%)?"
)
_FEE_WINDOW = 60


def _parse_amount(text: str) -> Decimal | None:
    text = "".join(text.split())
    if re.fullmatch(r"\d+-\d{2}", text):  # "123-45": rubles-kopecks, payment-order style
        text = text.replace("-", ".")
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        return None


def _fee_in(norm: str) -> Decimal | None:
    for word in _FEE_WORD_RE.finditer(norm):
        window = norm[word.end() : word.end() + _FEE_WINDOW]
        for m in _FEE_NUMBER_RE.finditer(window):
            if m.group("num") and not m.group("pct") and not window[: m.start()].rstrip().endswith("№"):
                return _parse_amount(m.group("num"))
    return None


def extract_fee(purpose: str) -> Decimal | None:
    """The fee a payout's purpose states, as `Decimal`: ``"комиссия 123,45 руб"`` →
    ``123.45``, ``"Комиссия банка: 1 234.50"`` → ``1234.50``, ``"комиссия 12-50"`` →
    ``12.50``. Dates and rates (``2,2%``) after the word are skipped; ``None`` when no
    amount follows "комиссия"/"вознаграждение" closely."""
    return _fee_in(normalize_text(purpose))


@lru_cache(maxsize=256)
def _name_re(pattern: str):
    return _compile(pattern)


def _rule_by_name(payer_name, rules):
    payer_name = normalize_text(payer_name)
    if payer_name:
        for rule in rules:
            if any(_name_re(p).search(payer_name) for p in rule.payer_names):
                return rule
    return None


def _find_payout(purpose_norm, payer_inn, payer_name, rules) -> Payout | None:
    if _PAYOUT_HINT_RE.search(purpose_norm) is None:
        return None
    explicit = any(p.search(purpose_norm) for p in _ACQUIRING_EXPLICIT_RES)
    said = explicit or any(p.search(purpose_norm) for p in _ACQUIRING_SUPPORT_RES)
    fee_said = _FEE_WORD_RE.search(purpose_norm) is not None and not _REFUND_RE.search(purpose_norm)
    if not (said or fee_said) or _NOT_A_PAYOUT_RE.search(purpose_norm):
        return None
    rule = next((r for r in rules if payer_inn and payer_inn in r.inns), None)
    by_inn = rule is not None
    if rule is None:
        rule = _rule_by_name(payer_name, rules)
    fee = _fee_in(purpose_norm)
    if rule is not None and (said or fee is not None):
        return Payout(rule.acquirer, fee, by_inn)
    if explicit:
        return Payout(None, fee, False)
    return None


def find_payout(line: IncomingLine, rules=DEFAULT_PAYOUT_RULES) -> Payout | None:
    """`Payout` if ``line`` is an acquirer's lump transfer of card proceeds, else ``None``.

    Recognised when the purpose says "эквайринг" / "операции с картами" (whoever pays), or
    when the payer is a known acquirer (`PayoutRule`: INN, else name) and the purpose says
    "возмещение по операциям/реестру", "перечисление средств по операциям", "за вычетом
    комиссии", "по реестру", "СБП" or states a fee. Not a payout: the bank as a customer
    paying an invoice, a refund of a fee, interest, "страховое возмещение".
    """
    return _find_payout(normalize_text(line.purpose), _clean_inn(line.payer_inn), line.payer_name, tuple(rules))


def is_acquiring_payout(line: IncomingLine, rules=DEFAULT_PAYOUT_RULES) -> bool:
    """True if ``line`` is acquiring proceeds (see `find_payout`)."""
    return find_payout(line, rules) is not None


# ---------------------------------------------------------------------------------------
# The matcher
# ---------------------------------------------------------------------------------------


def _add(index, key, value):
    bucket = index.get(key)
    if bucket is None:
        index[key] = [value]
    else:
        bucket.append(value)


class _Batch:
    """Amounts due as consumed by automatic matches earlier in the same `Matcher.match`."""

    __slots__ = ("residual", "by_amount", "by_partner_amount")

    def __init__(self):
        self.residual = {}
        self.by_amount = {}
        self.by_partner_amount = {}


@dataclass(slots=True)
class _Context:
    line: IncomingLine
    payer_inn: str | None
    payer_account: str | None
    payer_partners: frozenset
    refs: list
    ref_hits: dict = field(default_factory=dict)  # invoice id -> (level, date matches)
    named: int = 0  # distinct sets of open invoices the references name


class Matcher:
    """Matches incoming lines to open invoices; build once per batch of open invoices.

    :param invoices: the open customer invoices (`OpenInvoice`).
    :param partners: known partners (`PartnerRef`): recognise payers by INN/account.
    :param threshold: minimum score for ``auto`` (default 85).
    :param margin: minimum lead of the best candidate over the runner-up for ``auto``.
    :param payout_rules: acquirers (`PayoutRule`), default `DEFAULT_PAYOUT_RULES`.
    :param max_candidates: candidates kept per line.

    Indexes are built once (by full number, compact number, period + sequence, sequence,
    amount, partner + amount, INN, account), so matching N lines costs O(N).
    """

    def __init__(
        self,
        invoices: Iterable[OpenInvoice],
        partners: Iterable[PartnerRef] = (),
        *,
        threshold: int = DEFAULT_THRESHOLD,
        margin: int = DEFAULT_MARGIN,
        payout_rules=DEFAULT_PAYOUT_RULES,
        max_candidates: int = 5,
    ):
        self.threshold = threshold
        self.margin = margin
        self.payout_rules = tuple(payout_rules)
        self.max_candidates = max_candidates
        self._invoices = {}
        self._year = {}
        self._number = {}
        self._by_full, self._by_compact, self._by_period, self._by_seq = {}, {}, {}, {}
        self._by_amount, self._by_partner_amount, self._by_partner = {}, {}, {}
        self._inn_partners, self._account_partners = {}, {}
        self._partner_inns, self._partner_accounts = {}, {}
        prefixes = set()
        for inv in invoices:
            if inv.id in self._invoices:
                raise ValueError(f"invoice id {inv.id!r} given twice")
            self._invoices[inv.id] = inv
            self._know_partner(inv.partner_id, inv.partner_inn, inv.partner_accounts)
            parsed = parse_invoice_number(inv.number)
            self._number[inv.id] = parsed
            year = parsed.year if parsed else None
            if year is None and inv.invoice_date is not None:
                year = inv.invoice_date.year
            self._year[inv.id] = year
            if parsed is not None:
                if parsed.prefix:
                    prefixes.add(parsed.prefix)
                    _add(self._by_full, parsed.full_key, inv.id)
                    _add(self._by_compact, parsed.compact_key, inv.id)
                if parsed.period:
                    _add(self._by_period, parsed.period_key, inv.id)
                _add(self._by_seq, parsed.seq, inv.id)
            if inv.amount_residual > 0:
                _add(self._by_amount, (inv.currency, inv.amount_residual), inv.id)
                _add(self._by_partner_amount, (inv.partner_id, inv.currency, inv.amount_residual), inv.id)
            _add(self._by_partner, inv.partner_id, inv.id)
        for partner in partners:
            self._know_partner(partner.partner_id, partner.inn, partner.accounts)
        self._prefixes = frozenset(prefixes)

    def _know_partner(self, partner_id, inn, accounts):
        inn = _clean_inn(inn)
        if inn:
            self._inn_partners.setdefault(inn, set()).add(partner_id)
            self._partner_inns.setdefault(partner_id, set()).add(inn)
        for account in accounts or ():
            account = _clean_account(account)
            if account:
                self._account_partners.setdefault(account, set()).add(partner_id)
                self._partner_accounts.setdefault(partner_id, set()).add(account)

    # -- public ---------------------------------------------------------------------------

    def match(self, lines: Iterable[IncomingLine]) -> list:
        """One `MatchResult` per line, in order. Automatic matches consume amounts due for
        the following lines of the same call (not across calls)."""
        batch = _Batch()
        return [self._match_line(line, batch) for line in lines]

    def partners_of_payer(self, payer_inn=None, payer_account=None) -> frozenset:
        """Known partners with this INN or account (several: same INN on branches)."""
        found = set(self._inn_partners.get(_clean_inn(payer_inn), ()))
        found.update(self._account_partners.get(_clean_account(payer_account), ()))
        return frozenset(found)

    # -- internals --------------------------------------------------------------------------

    def _residual(self, invoice_id, batch):
        amount = batch.residual.get(invoice_id)
        return self._invoices[invoice_id].amount_residual if amount is None else amount

    def _consume(self, allocations, batch):
        for allocation in allocations:
            inv = self._invoices[allocation.invoice_id]
            left = self._residual(inv.id, batch) - allocation.amount
            batch.residual[inv.id] = left
            if left > 0:
                _add(batch.by_amount, (inv.currency, left), inv.id)
                _add(batch.by_partner_amount, (inv.partner_id, inv.currency, left), inv.id)

    def _with_amount(self, base, extra, key, amount, batch):
        found = [i for i in base.get(key, ()) if self._residual(i, batch) == amount]
        found += [i for i in extra.get(key, ()) if self._residual(i, batch) == amount and i not in found]
        return found

    def _resolve(self, ref, batch):
        """(level, open invoice ids) for one reference; ids may be empty (not open)."""
        ids, level = None, None
        if ref.strength == "strong":
            ids = self._by_full.get(ref.full_key) or self._by_compact.get(ref.compact_key)
            if ids or ref.prefix in self._prefixes:
                level = "number"
            ids = ids or ()
        if level is None:
            if ref.period:
                ids = self._by_period.get(ref.period_key, ())
                level = "number_year"
            else:
                ids = self._by_seq.get(ref.seq, ())
                level = "number_only"
            if ref.prefix:
                ids = [i for i in ids if self._number[i].prefix == ref.prefix]
        ids = [i for i in ids if self._residual(i, batch) > 0]
        if level == "number_only" and ref.year is not None:
            ids = [i for i in ids if self._year[i] in (None, ref.year)]
            if any(self._year[i] == ref.year for i in ids):
                level, ids = "number_year", [i for i in ids if self._year[i] == ref.year]
        if ref.date is not None and len(ids) > 1:
            dated = [i for i in ids if self._invoices[i].invoice_date == ref.date]
            if dated:
                ids = dated  # "№ 12 от 01.02.2026": the document of that date, of the two journals
        if level == "number" and len(ids) > 1:
            level = "number_year"  # the written number does not single one out
        return level, ids

    def _match_line(self, line, batch) -> MatchResult:
        payer_inn = _clean_inn(line.payer_inn)
        payer_account = _clean_account(line.payer_account)
        payer_partners = frozenset(self._inn_partners.get(payer_inn, ())) | frozenset(
            self._account_partners.get(payer_account, ())
        )
        payer_partner = next(iter(payer_partners)) if len(payer_partners) == 1 else None
        if line.amount <= 0:
            return MatchResult(line.id, "unknown", partner_id=payer_partner)
        purpose = normalize_text(line.purpose)
        payout = _find_payout(purpose, payer_inn, line.payer_name, self.payout_rules)
        if payout is not None:
            return MatchResult(line.id, "payout", (), payout.by_payer, payer_partner, payout.fee, payout.acquirer)

        ctx = _Context(
            line, payer_inn, payer_account, payer_partners, _scan_references(purpose, self._prefixes, line.amount)
        )
        resolved = []
        for ref in ctx.refs:
            level, ids = self._resolve(ref, batch)
            resolved.append((level, ids))
            for invoice_id in ids:
                date_ok = ref.date is not None and ref.date == self._invoices[invoice_id].invoice_date
                old = ctx.ref_hits.get(invoice_id)
                new = (level, date_ok)
                if old is None or (_LEVEL_RANK[level], date_ok) > (_LEVEL_RANK[old[0]], old[1]):
                    ctx.ref_hits[invoice_id] = new
        ctx.named = len({frozenset(ids) for _, ids in resolved if ids})

        # Candidates: named invoices, the payer's invoices with this amount, any invoice
        # with this amount (if few); failing all, the payer's few open invoices (partial).
        ids = list(ctx.ref_hits)
        seen = set(ids)
        payer_exact = []
        for partner_id in payer_partners:
            key = (partner_id, line.currency, line.amount)
            payer_exact += self._with_amount(self._by_partner_amount, batch.by_partner_amount, key, line.amount, batch)
        ids += [i for i in payer_exact if i not in seen and not seen.add(i)]
        same_amount = self._with_amount(
            self._by_amount, batch.by_amount, (line.currency, line.amount), line.amount, batch
        )
        if len(same_amount) <= 3:
            ids += [i for i in same_amount if i not in seen and not seen.add(i)]
        if not ids:
            for partner_id in payer_partners:
                own = self._by_partner.get(partner_id, ())
                if len(own) <= 5:
                    ids += own

        scored = []  # (points before the 0..100 clamp, candidate): rank and margin use the points
        for invoice_id in ids:
            residual = self._residual(invoice_id, batch)
            if residual > 0:
                points, candidate = self._score(ctx, invoice_id, residual, len(payer_exact) == 1, len(same_amount) == 1)
                if candidate.score >= SCORES["min_score"]:
                    scored.append((points, candidate))
        multi = self._multi_candidate(ctx, resolved, batch)
        if multi is not None:
            scored.append(multi)
        scored.sort(key=lambda pc: (-pc[0], -len(pc[1].allocations), self._sort_key(pc[1])))
        scored = scored[: self.max_candidates]
        candidates = tuple(candidate for _, candidate in scored)

        auto = False
        partner_id = payer_partner
        if candidates:
            best = candidates[0]
            runner_up = scored[1][0] if len(scored) > 1 else 0
            auto = best.score >= self.threshold and scored[0][0] - runner_up >= self.margin and self._auto_allowed(best)
            if auto:
                self._consume(best.allocations, batch)
                partners = {self._invoices[a.invoice_id].partner_id for a in best.allocations}
                if len(partners) == 1:
                    partner_id = partners.pop()
        return MatchResult(line.id, "invoice" if candidates else "unknown", candidates, auto, partner_id)

    def _sort_key(self, candidate):
        inv = self._invoices[candidate.allocations[0].invoice_id]
        return (inv.due_date or dt.date.max, str(inv.number), str(inv.id))

    @staticmethod
    def _auto_allowed(candidate) -> bool:
        reasons = candidate.reasons
        if "overpaid" in reasons or "currency_differs" in reasons or "amount_only" in reasons:
            return False
        return not candidate.partial or "number" in reasons

    def _payer_points(self, ctx, partner_id):
        """(points, reasons) for who paid."""
        inn_ok = bool(ctx.payer_inn) and ctx.payer_inn in self._partner_inns.get(partner_id, ())
        account_ok = bool(ctx.payer_account) and ctx.payer_account in self._partner_accounts.get(partner_id, ())
        if inn_ok and account_ok:
            return SCORES["payer_both"], ["payer_inn", "payer_account"]
        if inn_ok or account_ok:
            return SCORES["payer"], ["payer_inn" if inn_ok else "payer_account"]
        if ctx.payer_inn and self._partner_inns.get(partner_id):
            return SCORES["payer_inn_differs"], ["payer_inn_differs"]
        return 0, []

    def _score(self, ctx, invoice_id, residual, payer_unique, amount_unique) -> tuple:
        """(points, `Candidate`) for one invoice; the candidate's score is the points clamped
        to 0..100."""
        inv = self._invoices[invoice_id]
        line = ctx.line
        points, reasons = 0, []
        hit = ctx.ref_hits.get(invoice_id)
        if hit is not None:
            points += SCORES[hit[0]]
            reasons.append(hit[0])
            if hit[1]:
                points += SCORES["invoice_date"]
                reasons.append("invoice_date")
        payer_points, payer_reasons = self._payer_points(ctx, inv.partner_id)
        partial = over = exact = False
        apply = line.amount
        if line.currency != inv.currency:
            reasons.append("currency_differs")
            apply = min(line.amount, residual)
        elif line.amount == residual:
            exact = True
        elif line.amount < residual:
            partial = True
        else:
            over = True
            apply = residual
        if hit is None and payer_points <= 0:
            # the amount alone: a hint for the queue, never enough to reconcile
            if exact:
                points += SCORES["amount_only"]
                reasons.append("amount_only")
                if amount_unique:
                    points += SCORES["unique_amount"]
                    reasons.append("unique_amount")
        else:
            if exact:
                points += SCORES["amount_exact"]
                reasons.append("amount_exact")
            elif partial:
                points += SCORES["partial"]
                reasons.append("partial")
            elif over:
                points += SCORES["overpaid"]
                reasons.append("overpaid")
            if hit is None and exact and payer_unique:
                points += SCORES["unique_amount_for_payer"]
                reasons.append("unique_amount_for_payer")
        points += payer_points
        reasons += payer_reasons
        if hit is None and ctx.refs:
            points += SCORES["other_invoice_named"]
            reasons.append("other_invoice_named")
        elif hit is not None and ctx.named > 1:
            points += SCORES["several_invoices_named"]
            reasons.append("several_invoices_named")
        if hit is None:
            points = min(points, SCORES["cap_without_number"] if payer_points > 0 else SCORES["cap_amount_only"])
        if over:
            points = min(points, SCORES["cap_overpaid"])
        if "currency_differs" in reasons:
            points = min(points, SCORES["cap_currency"])
        return points, Candidate(
            invoice_id, max(0, min(100, points)), tuple(reasons), apply, (Allocation(invoice_id, apply),), partial
        )

    def _multi_candidate(self, ctx, resolved, batch) -> tuple | None:
        """One candidate paying several named invoices whose amounts due add up exactly.
        A number naming several open invoices (``№ 12`` of two years) is settled by the sum
        when exactly one choice adds up."""
        if ctx.named < 2:
            return None
        options, unresolved = [], 0
        for _, ids in resolved:
            ids = [i for i in ids if self._invoices[i].currency == ctx.line.currency]
            if len(ids) > 1 and ctx.payer_partners:
                ids = [i for i in ids if self._invoices[i].partner_id in ctx.payer_partners] or ids
            if not ids:
                unresolved += 1
            elif len(ids) <= _MULTI_OPTIONS:
                options.append(ids)
            else:
                return None
        size = 1
        for ids in options:
            size *= len(ids)
        if size > _MULTI_COMBINATIONS:
            return None
        choices = set()
        for combination in product(*options):
            chosen = frozenset(combination)  # an invoice named twice counts once
            if len(chosen) > 1 and sum((self._residual(i, batch) for i in chosen), Decimal(0)) == ctx.line.amount:
                choices.add(chosen)
        if len(choices) != 1:
            return None  # nothing adds up, or several ways do: leave it to a person
        order = {}
        for ids in options:
            for i in ids:
                order.setdefault(i, len(order))
        chosen = sorted(choices.pop(), key=order.__getitem__)
        levels = [ctx.ref_hits[i][0] for i in chosen]
        allocations = tuple(Allocation(i, self._residual(i, batch)) for i in chosen)
        total = ctx.line.amount
        level = min(levels, key=_LEVEL_RANK.__getitem__)
        points = SCORES[level] + SCORES["amount_exact"]
        reasons = ["several_invoices", level, "amount_exact"]
        worst = min((self._payer_points(ctx, self._invoices[i].partner_id) for i in chosen), key=lambda p: p[0])
        points += worst[0]
        reasons += worst[1]
        if unresolved:
            points += SCORES["other_invoice_named"]
            reasons.append("other_invoice_named")
        return points, Candidate(None, max(0, min(100, points)), tuple(reasons), total, allocations, False)
