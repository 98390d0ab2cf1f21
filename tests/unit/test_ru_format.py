"""`ru_format`: amounts in words and figures as Russian documents write them."""

from decimal import Decimal

import pytest

from ru_format import format_percent, format_rouble_amount, rouble_amount_in_words, russian_plural

# the classic traps: number and gender agreement of рубль (masculine) and копейка (feminine)
WORDS = [
    ("0.01", "Ноль рублей 01 копейка"),
    ("1000000.00", "Один миллион рублей 00 копеек"),
    ("21.21", "Двадцать один рубль 21 копейка"),
    ("12.12", "Двенадцать рублей 12 копеек"),
    ("1.01", "Один рубль 01 копейка"),
    ("2.02", "Два рубля 02 копейки"),
    ("5.05", "Пять рублей 05 копеек"),
    ("11.11", "Одиннадцать рублей 11 копеек"),
    ("22.22", "Двадцать два рубля 22 копейки"),
    ("1001.00", "Одна тысяча один рубль 00 копеек"),
    ("2000.50", "Две тысячи рублей 50 копеек"),
    ("114.14", "Сто четырнадцать рублей 14 копеек"),
    ("0.005", "Ноль рублей 01 копейка"),
]


@pytest.mark.parametrize(("amount", "words"), WORDS)
def test_amount_in_words(amount, words):
    assert rouble_amount_in_words(Decimal(amount)) == words


def test_amount_in_words_refuses_floats_and_negatives():
    with pytest.raises(TypeError):
        rouble_amount_in_words(21.21)
    with pytest.raises(ValueError, match="negative"):
        rouble_amount_in_words(Decimal("-1"))


@pytest.mark.parametrize(
    ("number", "form"),
    [
        (1, "рубль"),
        (2, "рубля"),
        (4, "рубля"),
        (5, "рублей"),
        (11, "рублей"),
        (12, "рублей"),
        (14, "рублей"),
        (21, "рубль"),
        (22, "рубля"),
        (111, "рублей"),
        (101, "рубль"),
        (0, "рублей"),
    ],
)
def test_plural(number, form):
    assert russian_plural(number, ("рубль", "рубля", "рублей")) == form


def test_figures():
    nbsp = "\N{NO-BREAK SPACE}"
    assert format_rouble_amount(Decimal("1000000")) == f"1{nbsp}000{nbsp}000,00"
    assert format_rouble_amount("0.01") == "0,01"
    assert format_rouble_amount(Decimal("-1234.5")) == f"-1{nbsp}234,50"
    assert format_percent(22.0) == "22%"
    assert format_percent(22.5) == "22,5%"
    assert format_percent(7) == "7%"
