"""The bank-neutral shapes (`bank_api.statement`) and the JSON wire helpers
(`bank_api.wire`) the business-API clients share."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from bank_api import BANK_TZ, BankAccountInfo, BankOperation, money_places, normalize_currency
from bank_api.wire import (
    decimal_to_json_number,
    dumps_json,
    loads_json,
    retry_after_seconds,
    to_utc_iso,
)


@pytest.mark.parametrize(
    "code, expected",
    [
        ("643", "RUB"),
        (643, "RUB"),
        ("810", "RUB"),
        ("840", "USD"),
        ("978", "EUR"),
        ("156", "CNY"),
        ("51", "AMD"),
        ("rub", "RUB"),
        (" usd ", "USD"),
        ("999", "999"),
    ],
)
def test_normalize_currency(code, expected):
    assert normalize_currency(code) == expected


@pytest.mark.parametrize("code", [None, True, "", "RUBL", "12a", "1234", "Р", "руб"])
def test_normalize_currency_refuses(code):
    with pytest.raises(ValueError):
        normalize_currency(code)


def test_money_places_only_adds_zeros():
    assert str(money_places(Decimal("15000"))) == "15000.00"
    assert str(money_places(Decimal("-0.5"))) == "-0.50"
    assert str(money_places(Decimal("1.005"))) == "1.005"  # never rounded
    assert money_places(None) is None


def operation(**overrides):
    values = {
        "bank_operation_id": "op-1",
        "date": dt.date(2026, 1, 15),
        "amount": Decimal("15000.00"),
        "currency": "RUB",
        "confirmed": True,
        "purpose": "Оплата по счету № INV/2026/00012",
        "counterparty_inn": "7701000001",
        "document_number": "12",
        "raw": {"operationId": "op-1"},
    }
    values.update(overrides)
    return BankOperation(**values)


def test_bank_operation_is_frozen_and_raw_does_not_count():
    op = operation()
    with pytest.raises(dataclasses.FrozenInstanceError):
        op.amount = Decimal("1")
    assert op == operation(raw={"something": "else"}) and hash(op) == hash(operation(raw={}))
    assert "raw" not in repr(op)
    assert op.is_incoming and not operation(amount=Decimal("-1.00")).is_incoming
    assert op.fallback_key == (dt.date(2026, 1, 15), Decimal("15000.00"), "7701000001", "12")
    assert operation(counterparty_account="40702810938000001000").fallback_key[2] == "40702810938000001000"


def test_bank_account_info_defaults():
    info = BankAccountInfo(bank_account_id="a/b", account_number="a", currency="RUB")
    assert info.balance is None and info.bic is None and info.raw == {}


def test_bank_tz_is_moscow():
    assert BANK_TZ.utcoffset(None) == dt.timedelta(hours=3)


@pytest.mark.parametrize(
    "value, text",
    [
        (Decimal("1234.50"), "1234.5"),
        (Decimal("0.10"), "0.1"),
        (Decimal("100"), "100"),
        (Decimal("100.00"), "100"),
        (Decimal("9999999999999.99"), "9999999999999.99"),
        (Decimal("-0.01"), "-0.01"),
    ],
)
def test_decimals_go_out_as_exact_json_numbers(value, text):
    assert dumps_json({"a": value}) == f'{{"a":{text}}}'.encode()
    assert loads_json(dumps_json({"a": value}))["a"] == value


def test_decimals_that_cannot_be_sent_exactly_are_refused():
    with pytest.raises(ValueError):
        decimal_to_json_number(Decimal("12345678901234567.89"))
    with pytest.raises(ValueError):
        decimal_to_json_number(Decimal("NaN"))


def test_dumps_keeps_cyrillic_and_dates():
    body = dumps_json({"purpose": "Оплата «счёт»", "day": dt.date(2026, 1, 2)})
    assert body.decode("utf-8") == '{"purpose":"Оплата «счёт»","day":"2026-01-02"}'
    with pytest.raises(TypeError):
        dumps_json({"x": object()})


def test_loads_never_makes_floats():
    data = loads_json(b'{"a": 0.1, "b": [1.10, 2], "c": 1e2}')
    assert data == {"a": Decimal("0.1"), "b": [Decimal("1.10"), 2], "c": Decimal("1E+2")}
    assert loads_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}  # a BOM is tolerated


def test_to_utc_iso():
    moscow = dt.datetime(2026, 1, 1, 0, 0, tzinfo=BANK_TZ)
    assert to_utc_iso(moscow) == "2025-12-31T21:00:00Z"
    assert to_utc_iso(dt.datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=dt.timezone.utc)) == "2026-01-01T00:00:00.000005Z"
    with pytest.raises(ValueError):
        to_utc_iso(dt.datetime(2026, 1, 1))


def test_retry_after():
    assert retry_after_seconds("12") == 12
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
