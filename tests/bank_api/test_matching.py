"""bank_api.matching: incoming transfers → open invoices, acquiring payouts (docs/architecture.md flow 2,
docs/banks.md §1.9, §2.5, §6.10). Plain data, no Odoo.

The last tests generate 10,000 open invoices and 10,000 incoming lines with known truth
(look-alike numbers, other years, partial payments, payouts, noise) and check that no
automatic match is wrong."""

import datetime as dt
import random
import time
from decimal import Decimal as D

import pytest

from bank_api.matching import (
    DEFAULT_THRESHOLD,
    REASONS,
    IncomingLine,
    Matcher,
    OpenInvoice,
    PartnerRef,
    extract_fee,
    find_invoice_references,
    find_payout,
    invoice_number_keys,
    is_acquiring_payout,
    normalize_text,
    parse_invoice_number,
)
from bank_api.statement import BankOperation

TBANK_INN = "7710140679"
ROMASHKA_INN = "7701234568"
VECTOR_INN = "7702345671"
ROMASHKA_ACCOUNT = "40702810900000012345"


# ---------------------------------------------------------------------------------------
# Text and numbers
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Оплата по счету № 12", "oплata пo cчety № 12"),
        ("№INV/2026/00012", "№ inv/2026/00012"),
        ("ІNV / 2026 / 00012", "inv/2026/00012"),  # Cyrillic І
        ("СЧ-12", "cч-12"),
        ("CЧ-12", "cч-12"),  # Latin C
        ("счёт\u00a0№12от01.02.2026", "cчet № 12 ot 01.02.2026"),
        ("INV \u2013 2026 \u2014 00012", "inv-2026-00012"),
        ("No.12 N 13 Nº14 #15", "№ 12 № 13 № 14 № 15"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_text(text, expected):
    assert normalize_text(text) == expected


def test_invoice_number_keys_and_parse():
    assert invoice_number_keys("INV/2026/00012") == {"inv/2026/12", "inv202600012", "2026/12", "12"}
    # the same number typed with Cyrillic look-alikes has the same keys
    assert invoice_number_keys("ІNV/2026/00012") == invoice_number_keys("INV/2026/00012")
    monthly = parse_invoice_number("INV/2026/02/0012")
    assert (monthly.prefix, monthly.period, monthly.seq, monthly.year) == ("inv", (2026, 2), 12, 2026)
    plain = parse_invoice_number("000123")
    assert (plain.prefix, plain.period, plain.seq, plain.year) == ("", (), 123, None)
    assert parse_invoice_number("INV202600012").full_key == "inv/2026/12"
    assert parse_invoice_number("без номера") is None
    assert invoice_number_keys("") == frozenset()


def _refs(purpose, **kwargs):
    return [(r.strength, r.prefix, r.period, r.seq, r.year) for r in find_invoice_references(purpose, **kwargs)]


STRONG_12 = [("strong", "inv", (2026,), 12, 2026)]


@pytest.mark.parametrize(
    "purpose",
    [
        "Оплата по счету INV/2026/00012",
        "Оплата по счёту №INV/2026/00012 от 01.02.2026",
        "Оплата по сч. № INV-2026-00012 за услуги",
        "Оплата по счету INV / 2026 / 00012. НДС не облагается",
        "Оплата по счету INV202600012",
        "Оплата по счету ІNV/2026/00012",  # Cyrillic І
        "Оплата по счету INV-2026-12",
        "Payment for invoice INV/2026/00012",
        "inv/2026/00012",
    ],
)
def test_full_number_is_strong(purpose):
    assert _refs(purpose) == STRONG_12


@pytest.mark.parametrize(
    "purpose, year",
    [
        ("Оплата по счету № 12 от 01.02.2026", 2026),
        ("Оплата по счёту №12 от 01.02.26", 2026),
        ("Оплата по счету№12от01.02.2026", 2026),
        ("Оплата по счету на оплату № 12 от 1 февраля 2026 г.", 2026),
        ("Оплата по счету 12 от 28.12.2025г.", 2025),
        ("Оплата сч.12", None),
        ("Оплата по СЧ-12", None),
        ("Оплата по сч-12", None),
        ("Оплата по счету N 12", None),
        ("Оплата счета 12. НДС не облагается", None),
        ("Invoice 12", None),
        ("Оплата по счету № 12/2026", 2026),
        ("Оплата 2026/00012", 2026),
    ],
)
def test_sequence_number_is_medium(purpose, year):
    [ref] = find_invoice_references(purpose)
    assert (ref.strength, ref.seq, ref.year) == ("medium", 12, year)


def test_list_of_numbers_share_the_date():
    refs = find_invoice_references("Оплата по счетам №12, №13 и 14 от 01.02.2026")
    assert [(r.seq, r.date) for r in refs] == [(n, dt.date(2026, 2, 1)) for n in (12, 13, 14)]


@pytest.mark.parametrize(
    "purpose",
    [
        "Оплата по договору № 412/2023 за услуги. НДС не облагается",
        "Возврат излишне перечисленных денежных средств по п/п № 512",
        "Оплата по счету-фактуре № 77 от 01.02.2026",
        "Оплата по ТОРГ-12 № 45",
        "Оплата по заказу № 12",
        "Оплата по счету от 01.02.2026 на сумму 1 500,00 руб.",
        "Оплата по счету 1500 руб",
        "Оплата по счету 1500,00",
        "Оплата за 2026/12",  # a month, not a number
        "Арендная плата за 12 месяцев",
        "Оплата по счету 40702810900000012345",  # an account, not an invoice
        "Пополнение по лицевому счету № 123",
        "Возврат займа № 7",
        "Перечисление по заявлению № 12",
    ],
)
def test_not_references(purpose):
    assert find_invoice_references(purpose) == []


def test_number_equal_to_the_amount_is_not_a_reference_unless_after_the_sign():
    assert find_invoice_references("Оплата по счету 1500", amount=D("1500.00")) == []
    assert [r.seq for r in find_invoice_references("Оплата по счету № 1500", amount=D("1500.00"))] == [1500]


def test_known_prefixes_make_strong_and_unknown_stay_medium():
    assert _refs("Оплата по счетуINV/2026/00012", prefixes=["INV"]) == STRONG_12
    assert _refs("Оплата по счету ИНВ/2026/00012") == [("medium", "", (2026,), 12, 2026)]
    assert _refs("Оплата ABC/2026/00012", prefixes=["INV"]) == [("medium", "", (2026,), 12, 2026)]
    assert _refs("Оплата по PO/2026/00012", prefixes=["INV"]) == []  # the customer's purchase order


# ---------------------------------------------------------------------------------------
# The matcher on small worlds
# ---------------------------------------------------------------------------------------


def inv(
    id,
    number,
    residual,
    partner_id=1,
    *,
    total=None,
    inn=ROMASHKA_INN,
    accounts=(),
    date=None,
    currency="RUB",
    lead_id=None,
):
    year = parse_invoice_number(number).year or 2026
    return OpenInvoice(
        id,
        number,
        D(residual),
        D(total or residual),
        currency,
        partner_id,
        inn,
        frozenset(accounts),
        None,
        lead_id,
        date or dt.date(year, 2, 1),
    )


def line(purpose, amount, *, inn=None, account=None, name=None, id="L1", currency="RUB"):
    return IncomingLine(id, D(amount), currency, purpose, inn, account, name, dt.date(2026, 3, 2))


def one(matcher, incoming):
    [result] = matcher.match([incoming])
    return result


WORLD = [
    inv(1, "INV/2026/00012", "15000.00", date=dt.date(2026, 2, 1), lead_id=501),
    inv(2, "INV/2025/00012", "8000.00", date=dt.date(2025, 3, 4)),
    inv(3, "INV/2026/00120", "15000.00", partner_id=2, inn=VECTOR_INN),
    inv(4, "INV/2026/00112", "15000.00", partner_id=2, inn=VECTOR_INN),
    inv(5, "INV/2026/00013", "5000.00", date=dt.date(2026, 2, 1)),
]


@pytest.mark.parametrize(
    "purpose",
    [
        "Оплата по счету INV/2026/00012",
        "Оплата по счёту №INV/2026/00012 от 01.02.2026. В т.ч. НДС 20% 2 500,00 руб.",
        "Оплата по сч. № INV-2026-00012 за услуги",
        "Оплата по счету INV202600012",
        "Оплата по счету ІNV/2026/00012",
        "Оплата по счету № 12 от 01.02.2026",
        "Оплата по счёту №12 от 01.02.26",
        "Оплата по счету№12от01.02.2026",
        "Оплата по счету на оплату № 12 от 1 февраля 2026 г.",
    ],
)
def test_real_writing_is_matched_automatically(purpose):
    result = one(Matcher(WORLD), line(purpose, "15000.00"))
    assert result.kind == "invoice" and result.auto
    best = result.best
    assert (best.invoice_id, best.amount_to_apply, best.partial) == (1, D("15000.00"), False)
    assert best.score >= DEFAULT_THRESHOLD
    assert result.partner_id == 1
    assert set(best.reasons) <= set(REASONS)


def test_number_12_never_matches_00120_or_00112():
    # INV/2026/00012 is not open; 00120 and 00112 are, with the amount paid
    world = [w for w in WORLD if w.id != 1]
    result = one(Matcher(world), line("Оплата по счету № 12 от 01.02.2026", "15000.00"))
    assert not result.auto
    for candidate in result.candidates:
        assert candidate.invoice_id in (3, 4)
        assert not {"number", "number_year", "number_only"} & set(candidate.reasons)
        assert candidate.score <= 30


def test_full_number_of_another_year_does_not_match():
    world = [inv(2, "INV/2025/00012", "15000.00"), inv(9, "INV/2026/00099", "1.00")]
    result = one(Matcher(world), line("Оплата по счету INV/2026/00012", "15000.00", inn=ROMASHKA_INN))
    assert not result.auto
    assert "other_invoice_named" in result.best.reasons
    assert "number" not in result.best.reasons


def test_year_from_the_date_disambiguates():
    world = [
        inv(1, "INV/2026/00012", "15000.00", date=dt.date(2026, 2, 1)),
        inv(2, "INV/2025/00012", "15000.00", date=dt.date(2025, 3, 4)),
    ]
    matcher = Matcher(world)
    # same customer, same amount, year not said: two equally good candidates
    undecided = one(matcher, line("Оплата по счету № 12", "15000.00", inn=ROMASHKA_INN))
    assert not undecided.auto
    assert {c.invoice_id for c in undecided.candidates} == {1, 2}
    assert undecided.candidates[0].score == undecided.candidates[1].score
    for purpose, expected in [
        ("Оплата по счету № 12 от 01.02.2026", 1),
        ("Оплата по счету № 12 от 04.03.2025", 2),
        ("Оплата по счету № 12/2025", 2),
        ("Оплата по счету INV/2025/00012", 2),
    ]:
        result = one(matcher, line(purpose, "15000.00", inn=ROMASHKA_INN))
        assert result.auto and result.best.invoice_id == expected, purpose


def test_the_same_invoice_named_twice_is_one_invoice():
    result = one(Matcher(WORLD), line("Оплата по счету № 12 от 01.02.2026 (INV/2026/00012)", "15000.00"))
    assert result.auto and result.best.invoice_id == 1
    assert "several_invoices_named" not in result.best.reasons


def test_number_alone_with_unknown_payer_is_a_proposal():
    result = one(Matcher(WORLD), line("Оплата по счету № 13", "5000.00"))
    assert not result.auto
    assert result.best.invoice_id == 5
    assert result.best.reasons == ("number_only", "amount_exact")
    assert result.partner_id is None


def test_number_and_inn():
    result = one(Matcher(WORLD), line("Оплата по счету № 13", "5000.00", inn=ROMASHKA_INN))
    assert result.auto and result.best.invoice_id == 5
    assert "payer_inn" in result.best.reasons


def test_numbers_that_are_amounts_or_dates():
    world = [
        inv(1, "INV/2026/01500", "900.00"),
        inv(2, "INV/2026/00001", "900.00", partner_id=2),
        inv(3, "INV/2026/00002", "1500.00", partner_id=3),
    ]
    result = one(Matcher(world), line("Оплата по счету 1500", "1500.00"))
    assert not result.auto and result.best.invoice_id == 3
    assert "number_only" not in result.best.reasons
    result = one(Matcher(world), line("Оплата по счету от 01.02.2026 на сумму 1 500,00 руб.", "1500.00"))
    assert not result.auto
    assert [c.invoice_id for c in result.candidates] == [3]


def test_partial_payment_with_full_number_and_inn_is_automatic_and_leaves_the_rest():
    matcher = Matcher(WORLD)
    first = line("Частичная оплата по счету INV/2026/00012", "6000.00", inn=ROMASHKA_INN, id="a")
    rest = line("Доплата по счету INV/2026/00012", "9000.00", inn=ROMASHKA_INN, id="b")
    again = line("Оплата по счету INV/2026/00012", "9000.00", inn=ROMASHKA_INN, id="c")
    r1, r2, r3 = matcher.match([first, rest, again])
    assert r1.auto and r1.best.partial and r1.best.amount_to_apply == D("6000.00")
    assert "partial" in r1.best.reasons
    assert r2.auto and not r2.best.partial and r2.best.amount_to_apply == D("9000.00")
    assert "amount_exact" in r2.best.reasons
    # the invoice is paid now: a third payment is not matched to it automatically
    assert not r3.auto
    assert all(c.invoice_id != 1 for c in r3.candidates)
    # each call starts from the amounts due as given
    assert matcher.match([rest])[0].best.partial


@pytest.mark.parametrize(
    "purpose, inn",
    [
        ("Частичная оплата по счету № 12 от 01.02.2026", ROMASHKA_INN),  # no full number
        ("Частичная оплата по счету INV/2026/00012", None),  # no payer confirmation
    ],
)
def test_partial_payment_otherwise_is_a_proposal(purpose, inn):
    result = one(Matcher(WORLD), line(purpose, "6000.00", inn=inn))
    assert not result.auto
    assert result.best.invoice_id == 1 and result.best.partial
    assert result.best.amount_to_apply == D("6000.00")


def test_overpayment_is_never_automatic():
    result = one(Matcher(WORLD), line("Оплата по счету INV/2026/00012", "16000.00", inn=ROMASHKA_INN))
    assert not result.auto
    assert result.best.invoice_id == 1 and "overpaid" in result.best.reasons
    assert result.best.amount_to_apply == D("15000.00")


@pytest.mark.parametrize(
    "purpose",
    [
        "Оплата по счетам № 12, № 13 от 01.02.2026",
        "Оплата по счетам INV/2026/00012 и INV/2026/00013",
        "Оплата сч 12, 13",
    ],
)
def test_several_invoices_in_one_purpose(purpose):
    result = one(Matcher(WORLD), line(purpose, "20000.00", inn=ROMASHKA_INN))
    assert result.auto
    best = result.best
    assert best.is_multi and best.invoice_id is None
    assert {(a.invoice_id, a.amount) for a in best.allocations} == {(1, D("15000.00")), (5, D("5000.00"))}
    assert best.amount_to_apply == D("20000.00")
    assert best.reasons[0] == "several_invoices"


def test_several_invoices_not_adding_up_is_not_automatic():
    result = one(Matcher(WORLD), line("Оплата по счетам № 12, № 13 от 01.02.2026", "19000.00", inn=ROMASHKA_INN))
    assert not result.auto
    assert not any(c.is_multi for c in result.candidates)


@pytest.mark.parametrize(
    "inn, account, reason",
    [
        (ROMASHKA_INN, None, "payer_inn"),
        (None, ROMASHKA_ACCOUNT, "payer_account"),
    ],
)
def test_inn_or_account_and_exact_amount_is_a_strong_proposal(inn, account, reason):
    matcher = Matcher(WORLD, [PartnerRef(1, ROMASHKA_INN, frozenset({ROMASHKA_ACCOUNT}))])
    result = one(matcher, line("Оплата за поставку оборудования", "5000.00", inn=inn, account=account))
    assert not result.auto
    assert result.best.invoice_id == 5
    assert result.best.score == 80
    assert {reason, "amount_exact", "unique_amount_for_payer"} <= set(result.best.reasons)
    assert result.partner_id == 1
    # a company that trusts this can lower the threshold
    lowered = Matcher(WORLD, [PartnerRef(1, ROMASHKA_INN, frozenset({ROMASHKA_ACCOUNT}))], threshold=80)
    assert one(lowered, line("Оплата за поставку", "5000.00", inn=inn, account=account)).auto


def test_two_open_invoices_same_customer_same_amount_are_not_guessed():
    world = [inv(1, "INV/2026/00012", "5000.00"), inv(2, "INV/2026/00013", "5000.00")]
    result = one(Matcher(world), line("Оплата по договору поставки", "5000.00", inn=ROMASHKA_INN))
    assert not result.auto
    assert {c.invoice_id for c in result.candidates} == {1, 2}
    assert result.candidates[0].score == result.candidates[1].score
    assert "unique_amount_for_payer" not in result.best.reasons


def test_amount_alone_is_never_automatic():
    world = [inv(1, "INV/2026/00012", "4321.09")]
    result = one(Matcher(world, threshold=1, margin=0), line("Перевод", "4321.09"))
    assert not result.auto
    assert result.best.invoice_id == 1 and result.best.score <= 30
    assert result.best.reasons == ("amount_only", "unique_amount")


def test_named_invoice_paid_by_someone_else_is_a_proposal():
    result = one(Matcher(WORLD), line("Оплата по счету INV/2026/00012", "15000.00", inn=VECTOR_INN))
    assert not result.auto
    assert result.best.invoice_id == 1 and "payer_inn_differs" in result.best.reasons
    assert result.partner_id == 2  # the payer is known as a partner


def test_other_currency_is_not_automatic():
    result = one(Matcher(WORLD), line("Payment for invoice INV/2026/00012", "15000.00", currency="USD"))
    assert not result.auto and "currency_differs" in result.best.reasons


def test_unknown_payer_and_outgoing_lines():
    matcher = Matcher(WORLD, [PartnerRef(7, "500100732259")])
    unknown = one(matcher, line("Пополнение счета", "777.77", inn="7712345675", name="ООО «Новый»"))
    assert (unknown.kind, unknown.candidates, unknown.partner_id, unknown.auto) == ("unknown", (), None, False)
    known = one(matcher, line("Пополнение счета", "777.77", inn="500100732259"))
    assert (known.kind, known.partner_id) == ("unknown", 7)
    outgoing = one(matcher, line("Оплата по счету INV/2026/00012", "-15000.00"))
    assert (outgoing.kind, outgoing.auto) == ("unknown", False)


def test_plain_numbers_use_the_invoice_date_for_the_year():
    world = [inv(1, "12", "100.00", date=dt.date(2026, 2, 1)), inv(2, "12", "100.00", date=dt.date(2025, 2, 1))]
    result = one(Matcher(world), line("Оплата по счету № 12 от 01.02.2026", "100.00"))
    assert result.auto and result.best.invoice_id == 1


def test_refuses_floats_and_duplicate_ids():
    with pytest.raises(TypeError):
        IncomingLine("x", 1.5, "RUB")
    with pytest.raises(TypeError):
        OpenInvoice(1, "INV/2026/00001", 10.0, D("10"), "RUB", 1)
    with pytest.raises(ValueError):
        Matcher([WORLD[0], WORLD[0]])


def test_from_operation():
    operation = BankOperation(
        "op-1",
        dt.date(2026, 3, 2),
        D("15000.00"),
        "RUB",
        True,
        purpose="Оплата по счету INV/2026/00012",
        counterparty_inn=ROMASHKA_INN,
        counterparty_account=ROMASHKA_ACCOUNT,
        counterparty_name="ООО «Ромашка»",
    )
    incoming = IncomingLine.from_operation(operation)
    assert (incoming.id, incoming.amount, incoming.payer_inn) == ("op-1", D("15000.00"), ROMASHKA_INN)
    assert one(Matcher(WORLD), incoming).auto


# ---------------------------------------------------------------------------------------
# Acquiring payouts
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "purpose, fee",
    [
        (
            "Перечисление средств по операциям эквайринга за 01.03.2026. Комиссия 123,45 руб. НДС не облагается",
            D("123.45"),
        ),
        ("Возмещение по операциям с картами за 01.03.2026, за вычетом комиссии 2,2% 1 234,56 руб", D("1234.56")),
        ("Возмещение по операциям СБП по реестру за 01.03.2026. Комиссия банка: 1 234.50", D("1234.50")),
        ("Возмещение по операциям эквайринга. Комиссия 12-50", D("12.50")),
        ("Перечисление средств по операциям эквайринга. Мерчант № 1234567. Без НДС", None),
    ],
)
def test_tbank_payout_with_and_without_fee(purpose, fee):
    incoming = line(purpose, "98765.43", inn=TBANK_INN, name="АО «ТБанк»")
    assert is_acquiring_payout(incoming)
    result = one(Matcher(WORLD), incoming)
    assert (result.kind, result.candidates, result.fee, result.acquirer, result.auto) == (
        "payout",
        (),
        fee,
        "T-Bank",
        True,
    )


def test_payout_recognised_by_name_or_purpose_only():
    # by the name only: recognised, but a person confirms
    by_name = find_payout(line("Возмещение по реестру за 01.03.2026", "100.00", name="ПАО Сбербанк"))
    assert (by_name.acquirer, by_name.by_payer) == ("Sber", False)
    assert not one(Matcher(WORLD), line("Возмещение по реестру", "100.00", name="ПАО Сбербанк")).auto
    by_purpose = one(
        Matcher(WORLD),
        line("Расчеты по операциям эквайринга за 01.03.2026", "100.00", inn="7712345675", name="ООО НКО «Платежи»"),
    )
    assert (by_purpose.kind, by_purpose.auto, by_purpose.acquirer) == ("payout", False, None)


def test_never_matched_to_an_invoice_even_with_the_amount():
    result = one(Matcher(WORLD), line("Перечисление средств по операциям эквайринга", "15000.00", inn=TBANK_INN))
    assert result.kind == "payout" and result.candidates == ()


@pytest.mark.parametrize(
    "purpose",
    [
        "Оплата по счету INV/2026/00012",  # the bank as a customer
        "Возврат комиссии за обслуживание счета 150,00 руб",
        "Выплата процентов на остаток по счету",
    ],
)
def test_bank_payer_without_acquiring_purpose_is_not_a_payout(purpose):
    assert not is_acquiring_payout(line(purpose, "15000.00", inn=TBANK_INN, name="АО «ТБанк»"))


@pytest.mark.parametrize(
    "purpose, name",
    [
        ("Страховое возмещение по договору № 77 по операциям с картами", "АО «Тинькофф Страхование»"),
        ("Возмещение расходов по договору № 5", "ООО «Точка роста»"),
        ("Возмещение по реестру", "ООО «КредитБанк-Сервис»"),
    ],
)
def test_look_alike_payers_are_not_acquirers(purpose, name):
    assert not is_acquiring_payout(line(purpose, "15000.00", inn="7712345675", name=name))


@pytest.mark.parametrize(
    "purpose, fee",
    [
        ("комиссия 123,45 руб", D("123.45")),
        ("Комиссия банка: 1 234.50", D("1234.50")),
        ("Комиссия за 01.03.2026 составила 99.90", D("99.90")),
        ("Вознаграждение банка 10 000,00 руб.", D("10000.00")),
        ("Комиссия 0.00", D("0.00")),
        ("Комиссия 2% от оборота", None),
        ("Комиссия по договору № 123", None),
        ("Перечисление средств", None),
    ],
)
def test_extract_fee(purpose, fee):
    assert extract_fee(purpose) == fee


# ---------------------------------------------------------------------------------------
# A generated month: 10,000 open invoices, 10,000 incoming lines, known truth
# ---------------------------------------------------------------------------------------


def _inn(rng):
    digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(8)]
    check = sum(c * d for c, d in zip((2, 4, 10, 3, 5, 9, 4, 6, 8), digits)) % 11 % 10
    return "".join(map(str, digits + [check]))


def _money(rng, low, high):
    return D(rng.randint(low * 100, high * 100)).scaleb(-2)


def _ru(amount):
    whole, cents = f"{amount:.2f}".split(".")
    return f"{int(whole):,}".replace(",", " ") + "," + cents


GENITIVE_MONTHS = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)


class World:
    """Deterministic partners, invoices and incoming lines with the truth for each line:
    ``("invoice", {(invoice_id, amount), ...})``, ``("payout", fee)`` or ``None`` (nothing
    may be matched automatically)."""

    JOURNALS = (("INV", 5600), ("SRV", 600))
    YEARS = (2025, 2026)

    def __init__(self, seed=20260302, n_lines=10_000):
        rng = self.rng = random.Random(seed)
        used_inns = {TBANK_INN}
        self.partners = []
        for pid in range(1, 2501):
            inn = _inn(rng)
            while inn in used_inns:
                inn = _inn(rng)
            used_inns.add(inn)
            accounts = [f"40702810{rng.randrange(10**12):012d}" for _ in range(rng.choice((1, 1, 2)))]
            self.partners.append(
                {
                    "id": pid,
                    "inn": inn,
                    "accounts": accounts,
                    "name": f"ООО «Клиент {pid}»",
                    "inn_on_file": rng.random() < 0.85,
                    "accounts_on_file": rng.random() < 0.6,
                }
            )
        # the bank itself is also a customer of ours
        self.partners[0].update(inn=TBANK_INN, name="АО «ТБанк»", inn_on_file=True)
        self.noise_inns = []
        while len(self.noise_inns) < 400:
            inn = _inn(rng)
            if inn not in used_inns:
                used_inns.add(inn)
                self.noise_inns.append(inn)

        rows, invoice_id = [], 0
        for year in self.YEARS:
            for prefix, count in self.JOURNALS:
                for seq in range(1, count + 1):
                    invoice_id += 1
                    total = _money(rng, 1_000, 480_000)
                    residual = total
                    if rng.random() < 0.1:
                        residual = total - _money(rng, 1, int(total) - 1)
                    rows.append(
                        {
                            "id": invoice_id,
                            "number": f"{prefix}/{year}/{seq:05d}",
                            "prefix": prefix,
                            "year": year,
                            "seq": seq,
                            "total": total,
                            "residual": residual,
                            "partner": rng.choice(self.partners),
                            "date": dt.date(year, 1, 1) + dt.timedelta(days=seq * 360 // count),
                        }
                    )
        closed_ids = set(rng.sample([r["id"] for r in rows], len(rows) - 10_000))
        self.closed = [r for r in rows if r["id"] in closed_ids]
        self.open = {r["id"]: r for r in rows if r["id"] not in closed_ids}
        self.by_number = {r["number"]: r for r in rows}
        # look-alikes with the same amount: same sequence other year, 00012/00120/00112
        for row in rng.sample(sorted(self.open.values(), key=lambda r: r["id"]), 600):
            for other in self._lookalikes(row):
                if other["id"] in self.open and rng.random() < 0.5:
                    other["total"] = other["residual"] = row["residual"]
                    if rng.random() < 0.5:
                        other["partner"] = row["partner"]
        self.invoices = [
            OpenInvoice(
                r["id"],
                r["number"],
                r["residual"],
                r["total"],
                "RUB",
                r["partner"]["id"],
                r["partner"]["inn"] if r["partner"]["inn_on_file"] else None,
                frozenset(r["partner"]["accounts"]) if r["partner"]["accounts_on_file"] else frozenset(),
                r["date"] + dt.timedelta(days=10),
                100_000 + r["id"],
                r["date"],
            )
            for r in self.open.values()
        ]
        self.partner_refs = [
            PartnerRef(
                p["id"],
                p["inn"] if p["inn_on_file"] else None,
                frozenset(p["accounts"]) if p["accounts_on_file"] else frozenset(),
            )
            for p in self.partners
        ]
        self.all_residuals = {r["residual"] for r in self.open.values()}
        self.open_ids = sorted(self.open)
        self.by_partner = {}
        for invoice_id in self.open_ids:
            self.by_partner.setdefault(self.open[invoice_id]["partner"]["id"], []).append(invoice_id)
        self.remaining = {i: r["residual"] for i, r in self.open.items()}
        self.pool = sorted(self.open)
        rng.shuffle(self.pool)
        self.untaken = set(self.pool)
        self.lines, self.truth, self.category, self.clean = [], [], [], []
        self._followups = []
        self._paid_in_full = []
        self._generate(n_lines)

    # -- helpers -----------------------------------------------------------------------------

    def _lookalikes(self, row):
        other_year = 2025 if row["year"] == 2026 else 2026
        names = [
            f"{row['prefix']}/{other_year}/{row['seq']:05d}",
            f"{row['prefix']}/{row['year']}/{row['seq'] * 10:05d}",
            f"{row['prefix']}/{row['year']}/{100 + row['seq']:05d}",
            f"{'SRV' if row['prefix'] == 'INV' else 'INV'}/{row['year']}/{row['seq']:05d}",
        ]
        return [self.by_number[n] for n in names if n in self.by_number]

    def _take(self, condition=lambda row: True):
        skipped, row = [], None
        while self.pool and len(skipped) < 50:
            invoice_id = self.pool.pop()
            if condition(self.open[invoice_id]):
                row = self.open[invoice_id]
                self.untaken.discard(invoice_id)
                break
            skipped.append(invoice_id)
        self.pool[:0] = skipped
        return row

    def _payer(self, row, *, inn=True, account=True):
        partner = row["partner"]
        return {
            "inn": partner["inn"] if inn else None,
            "account": self.rng.choice(partner["accounts"]) if account else None,
            "name": partner["name"],
        }

    def _noise_payer(self):
        return {
            "inn": self.rng.choice(self.noise_inns),
            "account": f"40802810{self.rng.randrange(10**12):012d}",
            "name": "ИП Иванов Иван Иванович",
        }

    def _emit(self, category, purpose, amount, payer, truth, clean=False):
        self.lines.append(
            IncomingLine(
                f"L{len(self.lines) + 1}",
                amount,
                "RUB",
                purpose,
                payer["inn"],
                payer["account"],
                payer["name"],
                dt.date(2026, 3, 2),
            )
        )
        self.truth.append(truth)
        self.category.append(category)
        self.clean.append(clean)

    def _date_text(self, date):
        rng = self.rng
        style = rng.randrange(4)
        if style == 0:
            return f"{date:%d.%m.%Y}"
        if style == 1:
            return f"{date:%d.%m.%y}"
        if style == 2:
            return f"{date:%d.%m.%Y}г."
        return f"{date.day} {GENITIVE_MONTHS[date.month - 1]} {date.year} г."

    def _full_number(self, row):
        number = row["number"]
        style = self.rng.randrange(6)
        if style == 1:
            return number.replace("/", "-")
        if style == 2:
            return number.replace("/", "")
        if style == 3:
            return number.replace("I", "\u0406").replace("S", "\u0405")  # Cyrillic І, Ѕ
        if style == 4:
            return number.replace("/", " / ")
        if style == 5:
            return f"{row['prefix']}-{row['year']}-{row['seq']}"
        return number

    def _vat(self, amount):
        return f"В т.ч. НДС 20% - {_ru((amount * 20 / 120).quantize(D('0.01')))} руб."

    # -- line kinds --------------------------------------------------------------------------

    def _strong_exact(self):
        row = self._take()
        amount = self.remaining[row["id"]]
        number = self._full_number(row)
        purpose = self.rng.choice(
            [
                f"Оплата по счету {number}",
                f"Оплата по счёту №{number} от {row['date']:%d.%m.%Y}. {self._vat(amount)}",
                f"Оплата по сч. № {number} за услуги. НДС не облагается",
                f"Payment for invoice {number}",
                f"Оплата по счету на оплату №{number}",
            ]
        )
        self._emit(
            "strong_exact",
            purpose,
            amount,
            self._payer(row, inn=self.rng.random() < 0.9),
            ("invoice", {(row["id"], amount)}),
            clean=True,
        )
        self._paid_in_full.append((row, purpose, amount))

    def _medium_dated_exact(self):
        row = self._take()
        amount = self.remaining[row["id"]]
        seq, date = row["seq"], self._date_text(row["date"])
        purpose = self.rng.choice(
            [
                f"Оплата по счету № {seq} от {date}. {self._vat(amount)}",
                f"Оплата по счёту №{seq} от {date}",
                f"Оплата сч.{seq} от {date}",
                f"Оплата по счету на оплату № {seq} от {date} за товар",
                f"Оплата по счету№{seq}от{row['date']:%d.%m.%Y}",
                f"Оплата по СЧ-{seq} от {date}",
            ]
        )
        payer = self._noise_payer() if self.rng.random() < 0.3 else self._payer(row)
        if payer["inn"] in self.noise_inns and row["partner"]["inn_on_file"]:
            payer = self._payer(row)  # a stranger's INN against a known customer: see "third party"
        self._emit("medium_dated_exact", purpose, amount, payer, ("invoice", {(row["id"], amount)}), clean=True)

    def _medium_payer_exact(self):
        row = self._take(lambda r: r["partner"]["inn_on_file"] or r["partner"]["accounts_on_file"])
        if row is None:
            return
        amount = self.remaining[row["id"]]
        purpose = self.rng.choice(
            [
                f"Оплата по счету № {row['seq']}",
                f"Оплата по счету {row['seq']}. НДС не облагается",
                f"Оплата счета {row['seq']}",
                f"Оплата по сч {row['seq']} за товар",
            ]
        )
        self._emit(
            "medium_payer_exact", purpose, amount, self._payer(row), ("invoice", {(row["id"], amount)}), clean=True
        )

    def _medium_plain(self):
        row = self._take(lambda r: not r["partner"]["inn_on_file"] and not r["partner"]["accounts_on_file"])
        if row is None:
            return
        amount = self.remaining[row["id"]]
        self._emit(
            "medium_plain",
            f"Оплата по счету № {row['seq']}",
            amount,
            self._payer(row),
            ("invoice", {(row["id"], amount)}),
        )

    def _partial_strong(self):
        row = self._take(lambda r: r["partner"]["inn_on_file"] and r["residual"] >= 100)
        if row is None:
            return
        residual = self.remaining[row["id"]]
        part = (residual * D(self.rng.randint(20, 80)) / 100).quantize(D("0.01"))
        self._emit(
            "partial_strong",
            f"Частичная оплата по счету {row['number']}",
            part,
            self._payer(row),
            ("invoice", {(row["id"], part)}),
            clean=True,
        )
        self.remaining[row["id"]] = residual - part
        if self.rng.random() < 0.6:
            self._followups.append(row)

    def _followup(self, row):
        rest = self.remaining[row["id"]]
        self._emit(
            "partial_rest",
            f"Доплата по счету {row['number']}",
            rest,
            self._payer(row),
            ("invoice", {(row["id"], rest)}),
            clean=True,
        )
        self.remaining[row["id"]] = D(0)

    def _partial_medium(self):
        row = self._take(lambda r: r["residual"] >= 100)
        residual = self.remaining[row["id"]]
        part = (residual * D(self.rng.randint(20, 80)) / 100).quantize(D("0.01"))
        self._emit(
            "partial_medium",
            f"Частичная оплата по счету № {row['seq']} от {row['date']:%d.%m.%Y}",
            part,
            self._payer(row),
            ("invoice", {(row["id"], part)}),
        )

    def _overpayment(self):
        row = self._take()
        amount = self.remaining[row["id"]] + _money(self.rng, 1, 5_000)
        self._emit("overpayment", f"Оплата по счету {row['number']}", amount, self._payer(row), None)

    def _multi(self):
        first = self._take(lambda r: r["partner"]["inn_on_file"])
        if first is None:
            return
        others = [i for i in self.by_partner[first["partner"]["id"]] if i in self.untaken and i != first["id"]]
        if not others:
            self.pool.insert(0, first["id"])
            self.untaken.add(first["id"])
            return
        second = self.open[others[0]]
        self.pool.remove(second["id"])
        self.untaken.discard(second["id"])
        pair = sorted([first, second], key=lambda r: r["id"])
        amount = sum(self.remaining[r["id"]] for r in pair)
        if self.rng.random() < 0.5:
            numbers = " и ".join(r["number"] for r in pair)
            purpose = f"Оплата по счетам {numbers}"
        else:
            purpose = (
                f"Оплата по счетам № {pair[0]['seq']} от {pair[0]['date']:%d.%m.%Y}, "
                f"№ {pair[1]['seq']} от {pair[1]['date']:%d.%m.%Y}"
            )
        self._emit(
            "multi",
            purpose,
            amount,
            self._payer(pair[0]),
            ("invoice", {(r["id"], self.remaining[r["id"]]) for r in pair}),
            clean=True,
        )

    def _payer_only(self):
        by_account = self.rng.random() < 0.3
        if by_account:
            row = self._take(lambda r: r["partner"]["accounts_on_file"])
        else:
            row = self._take(lambda r: r["partner"]["inn_on_file"])
        if row is None:
            return
        amount = self.remaining[row["id"]]
        purpose = self.rng.choice(
            [
                "Оплата по договору № 45/2025 за услуги. НДС не облагается",
                "Оплата за поставленный товар",
                "Предоплата за оборудование",
                "Оплата по акту № 17 от 28.02.2026",
            ]
        )
        self._emit(
            "account_only" if by_account else "inn_only",
            purpose,
            amount,
            self._payer(row, inn=not by_account),
            ("invoice", {(row["id"], amount)}),
        )

    def _payout(self):
        rng = self.rng
        fee = _money(rng, 10, 30_000) if rng.random() < 0.7 else None
        day = dt.date(2026, 3, 1) - dt.timedelta(days=rng.randrange(30))
        amount = _money(rng, 5_000, 2_000_000)
        kind = rng.randrange(4)
        if kind == 0:
            payer = {"inn": TBANK_INN, "account": "30232810000000000001", "name": "АО «ТБанк»"}
            purpose = f"Перечисление средств по операциям эквайринга за {day:%d.%m.%Y}. " + (
                f"Комиссия {_ru(fee)} руб. НДС не облагается" if fee is not None else "Без НДС"
            )
        elif kind == 1:
            payer = {"inn": TBANK_INN, "account": None, "name": "АО «ТБанк»"}
            purpose = f"Возмещение по операциям с картами за {day:%d.%m.%Y}" + (
                f", за вычетом комиссии {fee} руб." if fee is not None else ""
            )
        elif kind == 2:
            payer = {"inn": "7707083893", "account": None, "name": "ПАО СБЕРБАНК"}
            purpose = f"Возмещение по операциям СБП по реестру за {day:%d.%m.%Y}." + (
                f" Комиссия банка: {fee:,.2f}".replace(",", " ") if fee is not None else ""
            )
        else:
            payer = {"inn": "7728168971", "account": None, "name": "АО «АЛЬФА-БАНК»"}
            purpose = f"Зачисление средств по операциям эквайринга. Мерчант № {rng.randrange(10**7)}" + (
                f". Комиссия {str(fee).replace('.', '-')}" if fee is not None else ""
            )
        self._emit("payout", purpose, amount, payer, ("payout", fee), clean=True)

    def _noise(self):
        rng = self.rng
        amount = _money(rng, 100, 300_000)
        while amount in self.all_residuals:
            amount += D("0.01")
        purpose = rng.choice(
            [
                "Возврат излишне перечисленных денежных средств по п/п № {n}",
                "Оплата по договору № {n}/2023 за услуги. НДС не облагается",
                "Перевод собственных средств",
                "Возврат займа по договору № {n}",
                "Оплата по счету № {big} от 01.02.2026",
                "Оплата по счету № {n} от 01.02.2024",
                "Оплата по счету-фактуре № {n} от 15.02.2026",
                "Пополнение счета",
            ]
        ).format(n=rng.randint(1, 6000), big=rng.randint(7000, 99999))
        payer = self._noise_payer() if rng.random() < 0.7 else self._payer(self.open[rng.choice(self.open_ids)])
        self._emit("noise", purpose, amount, payer, None)

    def _noise_with_an_open_amount(self):
        """A stranger pays exactly some open invoice's amount, saying nothing useful."""
        target = self.open[self.rng.choice(self.open_ids)]
        self._emit("noise_amount", "Оплата за услуги", target["residual"], self._noise_payer(), None)

    def _adversarial(self):
        rng = self.rng
        kind = rng.randrange(4)
        if kind == 0:
            # the number of a CLOSED invoice, the amount of an open look-alike
            closed = rng.choice(self.closed)
            looks = [r for r in self._lookalikes(closed) if r["id"] in self.open]
            if not looks:
                return
            target = looks[0]
            purpose = rng.choice(
                [
                    f"Оплата по счету {closed['number']}",
                    f"Оплата по счету № {closed['seq']} от {closed['date']:%d.%m.%Y}",
                ]
            )
            payer = self._payer(closed) if rng.random() < 0.5 else self._noise_payer()
            self._emit("closed_number", purpose, target["residual"], payer, None)
        elif kind == 1 and self._paid_in_full:
            # paid twice: the invoice was settled by an earlier line of this batch
            row, purpose, amount = self._paid_in_full.pop(rng.randrange(len(self._paid_in_full)))
            self._emit("paid_twice", purpose, amount, self._payer(row), None)
        elif kind == 2:
            # a third party pays a known customer's invoice: right invoice, but not automatic
            row = self._take(lambda r: r["partner"]["inn_on_file"])
            if row is None:
                return
            amount = self.remaining[row["id"]]
            other = rng.choice([p for p in self.partners[1:50] if p["inn_on_file"] and p is not row["partner"]])
            payer = {"inn": other["inn"], "account": None, "name": other["name"]}
            self._emit(
                "third_party",
                f"Оплата по счету {row['number']} за {row['partner']['name']}",
                amount,
                payer,
                ("invoice", {(row["id"], amount)}),
            )
        else:
            # "№ seq" with the year of a closed invoice, while the other year's one is open
            closed = rng.choice(self.closed)
            other = self.by_number.get(
                f"{closed['prefix']}/{2025 if closed['year'] == 2026 else 2026}/{closed['seq']:05d}"
            )
            if other is None or other["id"] not in self.open:
                return
            self._emit(
                "closed_year",
                f"Оплата по счету № {closed['seq']} от {closed['date']:%d.%m.%Y}",
                other["residual"],
                self._payer(other),
                None,
            )

    def _generate(self, n_lines):
        kinds = [
            (self._strong_exact, 20),
            (self._medium_dated_exact, 19),
            (self._medium_payer_exact, 12),
            (self._medium_plain, 4),
            (self._partial_strong, 5),
            (self._partial_medium, 3),
            (self._overpayment, 2),
            (self._multi, 4),
            (self._payer_only, 9),
            (self._payout, 5),
            (self._noise, 8),
            (self._noise_with_an_open_amount, 2),
            (self._adversarial, 7),
        ]
        draw = [kind for kind, weight in kinds for _ in range(weight)]
        while len(self.lines) < n_lines and len(self.pool) > 50:
            if self._followups and self.rng.random() < 0.05:
                self._followup(self._followups.pop(0))
            else:
                self.rng.choice(draw)()


@pytest.fixture(scope="module")
def world():
    started, started_cpu = time.perf_counter(), time.process_time()
    built = World()
    built.seconds, built.cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    return built


def _allocations(result):
    return {(a.invoice_id, a.amount) for a in result.best.allocations}


def test_generated_set_has_no_wrong_automatic_match(world):
    assert len(world.lines) == 10_000 and len(world.invoices) == 10_000
    started, started_cpu = time.perf_counter(), time.process_time()
    matcher = Matcher(world.invoices, world.partner_refs)
    indexed, indexed_cpu = time.perf_counter(), time.process_time()
    results = matcher.match(world.lines)
    done, done_cpu = time.perf_counter(), time.process_time()
    print(
        f"\ngenerating the data {world.seconds:.2f} s (CPU {world.cpu_seconds:.2f} s); "
        f"indexing 10,000 invoices {indexed - started:.2f} s (CPU {indexed_cpu - started_cpu:.2f} s); "
        f"matching 10,000 lines {done - indexed:.2f} s (CPU {done_cpu - indexed_cpu:.2f} s)"
    )
    # the figures are printed; speed is measured by bench/matching.py, not asserted here

    wrong, stats = [], {}
    for incoming, truth, category, result in zip(world.lines, world.truth, world.category, results):
        seen = stats.setdefault(category, [0, 0])
        seen[0] += 1
        seen[1] += result.auto
        if truth is not None and truth[0] == "payout":
            if result.kind != "payout" or result.fee != truth[1]:
                wrong.append((category, incoming, result))
            continue
        if result.kind == "payout" or result.auto and (truth is None or _allocations(result) != truth[1]):
            wrong.append((category, incoming, result))
    for category, (count, auto) in sorted(stats.items()):
        print(f"  {category:20} {count:5} lines, {auto:5} automatic")
    assert not wrong, "\n".join(f"{c}: {l.purpose!r} {l.amount} → {r.best}" for c, l, r in wrong[:10])

    clean = [r for r, is_clean in zip(results, world.clean) if is_clean]
    rate = sum(r.auto for r in clean) / len(clean)
    print(f"  automatic on clean lines: {rate:.1%} of {len(clean)}")
    assert rate >= 0.95
    for category in (
        "noise",
        "noise_amount",
        "closed_number",
        "closed_year",
        "paid_twice",
        "overpayment",
        "medium_plain",
        "inn_only",
        "account_only",
        "partial_medium",
    ):
        assert stats[category][1] == 0, category
    # proposals wait in the queue with the right invoice first
    for category in ("inn_only", "account_only", "medium_plain", "third_party"):
        rows = [(r, t) for r, t, c in zip(results, world.truth, world.category) if c == category]
        right = sum(bool(r.candidates) and _allocations(r) == t[1] for r, t in rows)
        assert right / len(rows) >= 0.9, category


def test_matching_does_not_depend_on_the_order_invoices_come_in(world):
    sample = world.lines[:1000]
    forward = Matcher(world.invoices, world.partner_refs).match(sample)
    backward = Matcher(world.invoices[::-1], world.partner_refs[::-1]).match(sample)
    assert forward == backward


# ---------------------------------------------------------------------------------------
# Issue #16 §4: the numbers as real 1C files carry them
# ---------------------------------------------------------------------------------------

WORLD_2025 = [
    inv(1, "INV/2025/00123", "1500.00", date=dt.date(2025, 2, 1)),
    inv(2, "INV/2024/00123", "1500.00", date=dt.date(2024, 2, 1)),
    inv(3, "INV/2025/00124", "1500.00", date=dt.date(2025, 2, 1)),
]


@pytest.mark.parametrize(
    "purpose",
    [
        "Оплата по счету №INV/2025/00123 за товары",
        "Оплата по счету №INV/25/00123 за товары",
        "Оплата по счету INV/25/00123",
        "Оплата по сч. №INV-25-00123",
        "Оплата по счету№INV/25/00123от01.02.2025",
    ],
)
def test_number_without_space_or_with_abbreviated_year_is_matched(purpose):
    result = one(Matcher(WORLD_2025), line(purpose, "1500.00"))
    assert result.kind == "invoice" and result.auto
    assert result.best.invoice_id == 1


def test_abbreviated_year_is_read_only_after_a_known_prefix():
    (ref,) = find_invoice_references("Оплата №INV/25/00123", prefixes={"INV"})
    assert (ref.prefix, ref.period, ref.seq, ref.year, ref.strength) == ("inv", (2025,), 123, 2025, "strong")
    # "ТТН/25/00123"-like codes of an unknown prefix are not read as a year
    assert not [r for r in find_invoice_references("Оплата по ABC/25/00123", prefixes={"INV"}) if r.year]
    assert not [r for r in find_invoice_references("Оплата по INV/25/00123") if r.year]


def test_invoice_named_only_in_the_1c_purpose_continuation_is_matched():
    """A 1C document whose НазначениеПлатежа holds the first words and НазначениеПлатежа1
    the invoice: the purpose read from the file names it, and the line is matched."""
    from bank_api import onec

    text = "\r\n".join(
        [
            "1CClientBankExchange",
            "ВерсияФормата=1.03",
            "Кодировка=Windows",
            "РасчСчет=40702810000000074935",
            "СекцияДокумент=Платежное поручение",
            "Номер=7",
            "Сумма=1500.00",
            "ПлательщикИНН=" + ROMASHKA_INN,
            "ПолучательСчет=40702810000000074935",
            "ДатаПоступило=03.02.2025",
            "НазначениеПлатежа=Оплата по счету",
            "НазначениеПлатежа1=№INV/25/00123 от 01.02.2025",
            "КонецДокумента",
            "КонецФайла",
        ]
    )
    (document,) = onec.parse(text.encode("cp1251")).documents
    assert document.purpose == "Оплата по счету №INV/25/00123 от 01.02.2025"
    result = one(Matcher(WORLD_2025), line(document.purpose, str(document.amount)))
    assert result.auto and result.best.invoice_id == 1
    # what was read before (the main key alone) named no invoice
    assert not one(Matcher(WORLD_2025), line("Оплата по счету", "1500.00")).auto
