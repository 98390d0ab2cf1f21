"""Invoice numbers: taking an invoice's own number apart, and finding the invoice numbers
a payment purpose names (``INV/2026/00012``, ``счет № 12 от 01.02.2026``), never a
contract, payment order, date or amount. See the package docstring."""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from .text import _compile, normalize_text


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
