"""Acquiring payouts (docs/banks.md §1.9, §2.5, §6 item 10): an acquirer pays the day's card
proceeds as ONE transfer. Such a line is recognised here (by the payer's INN or name and
the purpose), with the fee when the purpose states it, and is never matched to an invoice."""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from .shapes import IncomingLine
from .text import _clean_inn, _compile, normalize_text


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
