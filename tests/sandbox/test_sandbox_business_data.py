"""bank_sandbox.business_data: valid requisites, the index-computed operation generator,
and the merge of generated and added operations (no HTTP)."""

import random
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from bank_sandbox.business_data import (
    BANKS,
    COMPANY,
    COUNTERPARTIES,
    US,
    AccountFeed,
    Generator,
    GeneratorSpec,
    Operation,
    account_is_valid,
    account_number,
    control_key,
    inn10,
    inn12,
    iso_utc,
    money_text,
    msk_date,
    record_to_operation,
    operation_to_record,
    ruble_minor,
    vat_rate,
)

DAY = 86_400
END = 1_767_225_600  # 2026-01-01T00:00:00Z
TBANK = BANKS["tbank"]
ACCOUNT = account_number("40702", "810", "1000", 1, TBANK.bic)


def generator(count=1000, seed=1, days=30, currency="RUB", account=ACCOUNT):
    return Generator(account, GeneratorSpec(count, seed, END - days * DAY, END), TBANK, currency)


def test_control_keys_match_real_correspondent_accounts():
    # Correspondent accounts use "0" + BIC digits 5-6 instead of the last three digits.
    for bank in BANKS.values():
        assert control_key("0" + bank.bic[4:6], bank.corr_account) == int(bank.corr_account[8])


def test_generated_requisites_are_valid():
    assert account_is_valid(TBANK.bic, ACCOUNT)
    wrong_key = ACCOUNT[:8] + str((int(ACCOUNT[8]) + 1) % 10) + ACCOUNT[9:]
    assert not account_is_valid(TBANK.bic, wrong_key)
    for party in COUNTERPARTIES:
        assert account_is_valid(party["bic"], party["account"]), party
        assert len(party["inn"]) in (10, 12) and party["inn"].isdigit()
    stdnum_inn = pytest.importorskip("stdnum.ru.inn")
    assert stdnum_inn.is_valid(COMPANY["inn"])
    assert all(stdnum_inn.is_valid(p["inn"]) for p in COUNTERPARTIES)
    assert stdnum_inn.is_valid(inn10(123456789)) and stdnum_inn.is_valid(inn12(1234567890))


def test_generator_is_deterministic_and_seeded():
    first, again, other = generator(), generator(), generator(seed=2)
    assert [first.operation(i) for i in range(50)] == [again.operation(i) for i in range(50)]
    assert first.operation(0).id != other.operation(0).id
    assert (
        first.operation(0).id != generator(account=account_number("40702", "810", "1000", 2, TBANK.bic)).operation(0).id
    )


def test_generator_times_increase_and_stay_in_the_period():
    gen = generator(count=5000, days=10)
    times = [gen.operation(i).ts for i in range(5000)]
    assert times == sorted(set(times))
    assert times[0] == (END - 10 * DAY) * US and times[-1] < END * US
    assert len({gen.operation(i).id for i in range(5000)}) == 5000


def test_index_at_finds_the_first_operation_at_or_after_a_time():
    gen = generator(count=777, days=3)
    rng = random.Random(5)
    for _ in range(3000):
        moment = rng.randint((END - 4 * DAY) * US, (END + DAY) * US)
        index = gen.index_at(moment)
        assert index == 777 or gen.ts_s(index) * US >= moment
        assert index == 0 or gen.ts_s(index - 1) * US < moment


def test_holds_only_near_the_end():
    gen = generator(count=3000, days=30)
    unconfirmed = [gen.operation(i) for i in range(3000) if not gen.operation(i).confirmed]
    assert unconfirmed and all(op.ts >= (END - 2 * DAY) * US for op in unconfirmed)


def test_prefix_sums_agree_with_the_operations():
    gen = generator(count=2000)
    ops = [gen.operation(i) for i in range(2000)]
    lo, hi = ops[300].ts, ops[1700].ts
    credit = sum(op.amount for op in ops[300:1700] if op.confirmed and op.credit)
    debit = sum(op.amount for op in ops[300:1700] if op.confirmed and not op.credit)
    assert gen.confirmed_sum(lo, hi) == (credit, debit)
    assert gen.confirmed_sum(None, None) == (
        sum(o.amount for o in ops if o.confirmed and o.credit),
        sum(o.amount for o in ops if o.confirmed and not o.credit),
    )
    assert gen.holds() == sum(o.amount for o in ops if not o.confirmed and not o.credit)


def test_foreign_currency_amounts_are_smaller():
    rub, usd = generator(seed=3), generator(seed=3, currency="USD")
    assert sum(usd.operation(i).amount for i in range(200)) * 50 < sum(rub.operation(i).amount for i in range(200))
    assert ruble_minor(100, "USD") == 9245 and ruble_minor(100, "RUB") == 100


def added(op_id, ts_s, amount=100, credit=True, confirmed=True):
    return Operation(op_id, ts_s * US, credit, amount, confirmed, "added", "", "incomeCustomer", {})


def test_feed_merges_added_operations_in_order_and_pages_by_key():
    gen = generator(count=100, days=1)
    middle = gen.ts_s(50)
    extras = [
        added("zz-same-second", middle),
        added("aa-same-second", middle),
        added("late", END + 10),
        added("early", END - 2 * DAY),
    ]
    feed = AccountFeed(gen, extras)
    everything = list(feed.iter(0, (END + DAY) * US))
    assert len(everything) == 104
    assert [op.key() for op in everything] == sorted(op.key() for op in everything)
    # paging by key: resume after any operation gives exactly the rest
    for cut in (0, 1, 49, 50, 51, 52, 99, 103):
        after = everything[cut].key()
        assert list(feed.iter(0, (END + DAY) * US, after)) == everything[cut + 1 :]
    window = list(feed.iter(middle * US, END * US))
    assert window[0].ts == middle * US and all(op.ts < END * US for op in window)


def test_feed_totals_include_added_operations():
    gen = generator(count=100, days=1)
    feed = AccountFeed(
        gen,
        [
            added("in", END - 100, 1000),
            added("out", END - 50, 300, credit=False),
            added("hold", END - 10, 7, credit=False, confirmed=False),
        ],
    )
    base_credit, base_debit = gen.confirmed_sum(None, None)
    assert feed.confirmed_totals(None, None) == (base_credit + 1000, base_debit + 300)
    assert feed.net_before(None) == base_credit + 1000 - base_debit - 300
    assert feed.holds() == gen.holds() + 7
    assert AccountFeed(None, []).confirmed_totals(None, None) == (0, 0)


def test_records_round_trip():
    op = Operation(
        "id",
        1_700_000_000_123_456,
        False,
        12345,
        True,
        "Назначение",
        "7",
        "fee",
        {"name": "Банк", "inn": ""},
        "Банковский ордер",
    )
    assert record_to_operation(operation_to_record(op, ACCOUNT)) == op


def test_spec_validation():
    with pytest.raises(ValueError):
        GeneratorSpec(10, 1, END, END + 5)  # fewer seconds than operations
    with pytest.raises(ValueError):
        GeneratorSpec(-1, 1, END, END + 5)
    assert GeneratorSpec.from_dict(GeneratorSpec(3, 1, END, END + 9).to_dict()) == GeneratorSpec(3, 1, END, END + 9)


def test_formatting_helpers():
    assert money_text(123456) == "1234.56" and money_text(5) == "0.05" and money_text(-100) == "-1.00"
    assert iso_utc(END * US) == "2026-01-01T00:00:00Z" and iso_utc(END * US + 5) == "2026-01-01T00:00:00.000005Z"
    assert msk_date(END * US - 3 * 3600 * US) == "2026-01-01"  # 21:00 UTC is midnight in Moscow


def test_invoice_purposes_state_the_vat_rate_of_their_date():
    # 22 % since 1 January 2026 (Federal Law 425-FZ), 20 % for invoices dated before.
    new_year = 20_454  # epoch day of 2026-01-01
    assert (vat_rate(new_year - 1), vat_rate(new_year), vat_rate(new_year + 400)) == (20, 22, 22)
    spec = GeneratorSpec(400, 7, (new_year - 60) * DAY, (new_year + 60) * DAY)
    feed = Generator(ACCOUNT, spec, TBANK)
    purposes = [feed.operation(i).purpose for i in range(400)]
    purposes = [p for p in purposes if "в т.ч. НДС" in p]
    assert any("НДС 22%" in p for p in purposes) and any("НДС 20%" in p for p in purposes)
    assert not any("НДС 18%" in p for p in purposes)
    for purpose in purposes:  # the VAT inside the sum, to the kopeck (half up)
        total, rate, vat = re.search(r"Сумма (\d+\.\d\d) руб\., в т\.ч\. НДС (\d+)% (\d+\.\d\d)", purpose).groups()
        expected = (Decimal(total) * int(rate) / (100 + int(rate))).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert Decimal(vat) == expected, purpose
