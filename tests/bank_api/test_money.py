"""bank_api.money: exact conversions, refusals (docs/banks.md §6.1)."""

from decimal import Decimal

import pytest

from bank_api.money import from_minor_units, kopecks_to_rubles, rubles_to_kopecks, to_minor_units


@pytest.mark.parametrize(
    "amount, expected",
    [
        (Decimal("3.12"), 312),
        ("3.12", 312),
        (" 1234.50 ", 123450),
        ("10", 1000),
        (5, 500),
        (0, 0),
        (Decimal("0.01"), 1),
        (Decimal("-7.10"), -710),
        (Decimal("1E+3"), 100000),
        (Decimal("12.3000"), 1230),  # trailing zeros are not extra precision
        # beyond the default 28-digit decimal context: still exact
        (Decimal("123456789012345678901234567890.12"), 12345678901234567890123456789012),
    ],
)
def test_to_minor_units_is_exact(amount, expected):
    assert to_minor_units(amount) == expected
    assert type(to_minor_units(amount)) is int


def test_to_minor_units_other_exponents():
    assert to_minor_units(Decimal("5"), exponent=0) == 5
    assert to_minor_units("1.234", exponent=3) == 1234
    with pytest.raises(ValueError):
        to_minor_units("1.5", exponent=0)


@pytest.mark.parametrize("amount", [Decimal("1.005"), "0.001", "10.999"])
def test_to_minor_units_refuses_extra_precision(amount):
    with pytest.raises(ValueError, match="decimal places"):
        to_minor_units(amount)


@pytest.mark.parametrize("amount", [1.5, 0.1, 3.0, True])
def test_to_minor_units_refuses_floats_and_bools(amount):
    with pytest.raises(TypeError):
        to_minor_units(amount)


@pytest.mark.parametrize("amount", ["", "abc", "1,50", "NaN", "Infinity", Decimal("NaN")])
def test_to_minor_units_refuses_non_numbers(amount):
    with pytest.raises(ValueError):
        to_minor_units(amount)


def test_to_minor_units_refuses_bad_exponent():
    with pytest.raises(ValueError):
        to_minor_units(1, exponent=-1)


def test_from_minor_units_keeps_currency_places():
    assert from_minor_units(312) == Decimal("3.12")
    assert str(from_minor_units(100)) == "1.00"
    assert str(from_minor_units(5)) == "0.05"
    assert str(from_minor_units(0)) == "0.00"
    assert str(from_minor_units(-710)) == "-7.10"
    assert str(from_minor_units(1234, exponent=3)) == "1.234"
    assert str(from_minor_units(7, exponent=0)) == "7"
    huge = 12345678901234567890123456789012
    assert to_minor_units(from_minor_units(huge)) == huge


@pytest.mark.parametrize("units", [1.0, Decimal("1"), "100", True])
def test_from_minor_units_refuses_non_int(units):
    with pytest.raises(TypeError):
        from_minor_units(units)


def test_rubles_kopecks_round_trip():
    assert rubles_to_kopecks(Decimal("1000.00")) == 100000
    assert rubles_to_kopecks("0.10") == 10
    assert kopecks_to_rubles(19200) == Decimal("192.00")
    for kopecks in (0, 1, 99, 100, 19200, 123456789):
        assert rubles_to_kopecks(kopecks_to_rubles(kopecks)) == kopecks
    with pytest.raises(ValueError):
        rubles_to_kopecks("0.005")
    with pytest.raises(TypeError):
        rubles_to_kopecks(0.1)
