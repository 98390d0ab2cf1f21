"""How Russian documents write amounts: pure functions, testable without Odoo.

Used by the «Счёт на оплату» and the «Акт сверки» (docs/russian-documents.md).
"""

from decimal import ROUND_HALF_UP, Decimal

from num2words import num2words

ROUBLE_FORMS = ("рубль", "рубля", "рублей")
KOPECK_FORMS = ("копейка", "копейки", "копеек")
_KOPECK = Decimal('0.01')


def russian_plural(number, forms):
    """The form of a Russian noun agreeing with `number`, from (one, few, many):
    1 рубль, 2 рубля, 5 рублей, 11 рублей, 21 рубль, 112 рублей."""
    number = abs(int(number))
    if number % 10 == 1 and number % 100 != 11:
        return forms[0]
    if 2 <= number % 10 <= 4 and not 12 <= number % 100 <= 14:
        return forms[1]
    return forms[2]


def exact_kopecks(amount):
    """An exact amount (Decimal, int or str) as integer kopecks, rounded half up.

    :raise TypeError: for a float, which cannot be exact
    """
    if isinstance(amount, float):
        raise TypeError("An exact amount (Decimal, int or str) is needed, not a float.")
    return int(Decimal(amount).quantize(_KOPECK, rounding=ROUND_HALF_UP) * 100)


def rouble_amount_in_words(amount):
    """An amount of roubles as a Russian invoice writes it out: the roubles in words, the
    kopecks in two digits, each noun agreeing with its number
    ("Двадцать один рубль 21 копейка", "Ноль рублей 01 копейка").

    :param amount: Decimal, int or str, rounded half up to the kopeck
    :raise TypeError: for a float
    :raise ValueError: for a negative amount
    """
    kopecks_total = exact_kopecks(amount)
    if kopecks_total < 0:
        raise ValueError("An amount in words cannot be negative.")
    roubles, kopecks = divmod(kopecks_total, 100)
    # рубль is masculine, num2words' gender; it agrees the thousands itself (одна тысяча, две тысячи)
    words = num2words(roubles, lang='ru')
    text = f"{words} {russian_plural(roubles, ROUBLE_FORMS)} {kopecks:02d} {russian_plural(kopecks, KOPECK_FORMS)}"
    return text[:1].upper() + text[1:]


def format_rouble_amount(amount):
    """An exact amount as Russian documents print it: a no-break space between thousands,
    a comma before the two decimals ("1 000 000,00"), a minus sign kept."""
    kopecks_total = exact_kopecks(amount)
    sign = '-' if kopecks_total < 0 else ''
    roubles, kopecks = divmod(abs(kopecks_total), 100)
    return f"{sign}{roubles:,d}".replace(',', '\N{NO-BREAK SPACE}') + f",{kopecks:02d}"


def format_percent(rate):
    """A tax rate as a document prints it: 22 → "22%", 22.5 → "22,5%"."""
    text = f"{Decimal(str(rate)).normalize():f}".replace('.', ',')
    return f"{text}%"
