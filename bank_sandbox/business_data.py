"""Bank-neutral data of the business-API banks: valid-looking Russian requisites, a pool of
counterparties, and a deterministic generator of statement operations.

Nothing here speaks HTTP or a bank's spelling; `tbank_business` and `tochka` format
these records their own way.

* **Requisites** are valid by the usual checks: account control keys (the BIC-based
  weights 7-1-3), INN check digits, so an ERP that validates them accepts the data.
* **Generated operations** are *computed from their index*, never stored: operation
  ``i`` of an account is a pure function of (account, seed, i), at a time strictly
  increasing with ``i`` over the configured period.  An account can therefore hold
  100 000 operations at no storage cost, any page is computed in time proportional to
  its size, and the same seed always gives the same statement.
* **Added operations** (admin API, executed payment drafts) are stored records of the
  same shape, merged with the generated ones by ``(timestamp, id)``.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import NamedTuple
from collections.abc import Iterator

US = 1_000_000  # microseconds per second
MSK = timezone(timedelta(hours=3), "MSK")
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# --------------------------------------------------------------------------- requisites

_KEY_WEIGHTS = (7, 1, 3) * 8


def control_key(bic: str, account: str) -> int:
    """Control digit (9th digit) of a settlement ``account`` held at the bank ``bic``
    (weights 7,1,3 over the BIC's last 3 digits + the account with its key zeroed)."""
    digits = bic[-3:] + account[:8] + "0" + account[9:]
    total = sum((int(d) * w) % 10 for d, w in zip(digits, _KEY_WEIGHTS))
    return (total % 10) * 3 % 10


def account_number(balance: str, currency: str, branch: str, serial: int, bic: str) -> str:
    """A 20-digit account (``balance`` 5 digits, ``currency`` 3, key, ``branch`` 4,
    ``serial`` 7) with its control key computed for ``bic``."""
    raw = f"{balance}{currency}0{branch}{serial:07d}"
    assert len(raw) == 20, raw
    return raw[:8] + str(control_key(bic, raw)) + raw[9:]


def account_is_valid(bic: str, account: str) -> bool:
    return len(account) == 20 and account.isdigit() and int(account[8]) == control_key(bic, account)


def inn10(base: int) -> str:
    """A valid 10-digit (legal entity) INN from a 9-digit ``base``."""
    digits = f"{base % 10**9:09d}"
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    check = sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10
    return digits + str(check)


def inn12(base: int) -> str:
    """A valid 12-digit (person / sole trader) INN from a 10-digit ``base``."""
    digits = [int(d) for d in f"{base % 10**10:010d}"]
    w1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    digits.append(sum(d * w for d, w in zip(digits, w1)) % 11 % 10)
    w2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    digits.append(sum(d * w for d, w in zip(digits, w2)) % 11 % 10)
    return "".join(map(str, digits))


@dataclass(frozen=True)
class Bank:
    bic: str
    name: str
    corr_account: str


BANKS = {
    "sber": Bank("044525225", "ПАО Сбербанк", "30101810400000000225"),
    "vtb": Bank("044525187", "Банк ВТБ (ПАО)", "30101810700000000187"),
    "alfa": Bank("044525593", "АО «Альфа-Банк»", "30101810200000000593"),
    "tbank": Bank("044525974", "АО «ТБанк»", "30101810145250000974"),
    "tochka": Bank("044525104", "ООО «Банк Точка»", "30101810745374525104"),
    "raif": Bank("044525700", "АО «Райффайзенбанк»", "30101810200000000700"),
}

#: Our company in every business bank of the sandbox.
COMPANY = {
    "name": "ООО «Демо Торг»",
    "inn": inn10(770_955_001),
    "kpp": "770901001",
    "ogrn": "1237700000015",
}

_COUNTERPARTY_NAMES = [
    ("ООО «Ромашка»", "sber"),
    ("ООО «Вектор»", "vtb"),
    ("АО «Северсталь-Трейд»", "alfa"),
    ("ООО «Лето»", "tbank"),
    ("ООО «Альфа Логистик»", "sber"),
    ("ИП Иванов Иван Иванович", "tbank"),
    ("ООО «Кофейня на Садовой»", "tochka"),
    ("ООО «Техносервис»", "raif"),
    ("АО «Медиагруппа Восток»", "vtb"),
    ("ООО «Строймаркет»", "sber"),
    ("ИП Петрова Анна Сергеевна", "tochka"),
    ("ООО «Зелёный сад»", "alfa"),
    ("ООО «Бюро переводов „Слово“»", "sber"),
    ("ООО «Арендатор-Центр»", "vtb"),
    ("ООО «Типография №1»", "raif"),
    ("ООО «Облачные решения»", "tbank"),
    ("ООО «Курьер Экспресс»", "sber"),
    ("АО «Энергосбыт Плюс»", "vtb"),
    ("ООО «Канцтовары оптом»", "alfa"),
    ("ООО «Кейтеринг & Ко»", "tochka"),
]


def _counterparties() -> list[dict]:
    pool = []
    for index, (name, bank_key) in enumerate(_COUNTERPARTY_NAMES):
        bank = BANKS[bank_key]
        person = name.startswith("ИП ")
        pool.append(
            {
                "name": name,
                "inn": inn12(5_012_340_000 + index * 7919) if person else inn10(770_100_000 + index * 1013),
                "kpp": "" if person else f"77{(index % 50) + 1:02d}01001",
                "account": account_number(
                    "40802" if person else "40702", "810", f"{3800 + index:04d}", 1_000 + index * 37, bank.bic
                ),
                "bic": bank.bic,
                "bank_name": bank.name,
                "corr_account": bank.corr_account,
            }
        )
    return pool


COUNTERPARTIES = _counterparties()

#: The tax office and the bank itself, for tax payments and fees.
TAX_OFFICE = {
    "name": "Казначейство России (ФНС России)",
    "inn": "7727406020",
    "kpp": "770801001",
    "account": "03100643000000018500",
    "bic": "024501901",
    "bank_name": "ОКЦ № 1 ГУ Банка России по ЦФО",
    "corr_account": "40102810445370000059",
}

#: Exchange rates for ``rubleAmount`` / ``amountNat`` of foreign-currency lines
#: (kopecks per unit of currency).
RUB_RATES = {"RUB": 100, "USD": 9_245, "EUR": 10_010, "CNY": 1_270}


def money_text(minor: int) -> str:
    """Minor units → ``"1234.50"`` (a JSON number with exactly two decimals)."""
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{sign}{minor // 100}.{minor % 100:02d}"


def ruble_minor(minor: int, currency: str) -> int:
    """Amount in kopecks of ``minor`` units of ``currency`` at the sandbox's rate."""
    rate = RUB_RATES.get(currency, 100)
    return (minor * rate + 50) // 100


def ts_to_datetime(ts_us: int) -> datetime:
    return EPOCH + timedelta(microseconds=ts_us)


def datetime_to_ts(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds


def iso_utc(ts_us: int) -> str:
    """``2026-01-31T09:15:00Z`` (fraction only when there is one)."""
    text = ts_to_datetime(ts_us).isoformat(timespec="microseconds" if ts_us % US else "seconds")
    return text.replace("+00:00", "Z")


def msk_date(ts_us: int) -> str:
    return (ts_to_datetime(ts_us) + timedelta(hours=3)).date().isoformat()


# ---------------------------------------------------------------------------- operations


class Operation(NamedTuple):
    """One statement line, bank-neutral. ``amount`` is positive minor units of the
    account's currency; ``credit`` says the direction."""

    id: str
    ts: int  # µs since the epoch, UTC
    credit: bool
    amount: int
    confirmed: bool
    purpose: str
    document_number: str
    category: str
    counterparty: dict  # name, inn, kpp, account, bic, bank_name, corr_account
    type_code: str = "Платежное поручение"

    @property
    def signed(self) -> int:
        return self.amount if self.credit else -self.amount

    def key(self) -> tuple:
        return (self.ts, self.id)


_SHOPS = ("ООО «Лента»", "Яндекс.Такси", "OZON", "АЗС Лукойл", "Кафе «Пушкин»", "ВкусВилл")
_MONTHS = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)
_DAY_TEXT: dict[int, str] = {}


def _day_text(epoch_day: int) -> str:
    text = _DAY_TEXT.get(epoch_day)
    if text is None:
        text = _DAY_TEXT[epoch_day] = (EPOCH + timedelta(days=epoch_day)).strftime("%d.%m.%Y")
    return text


def _contract(n: int) -> str:
    return f"{(n >> 100) % 900 + 100}/{2020 + (n >> 110) % 6}"


def _month(ts: int) -> str:
    return _MONTHS[((ts // 86_400 + 351) // 30) % 12]


# Russia's standard VAT rate: 22 % since 1 January 2026 (Federal Law 425-FZ), 20 % before.
VAT_RATES_SINCE = ((20_454, 22), (0, 20))  # (first epoch day, percent), latest first


def vat_rate(epoch_day: int) -> int:
    """The standard VAT rate (percent) of an invoice dated ``epoch_day``."""
    return next(rate for first_day, rate in VAT_RATES_SINCE if epoch_day >= first_day)


def _invoice(n, ts, amount, doc, goods=""):
    day = ts // 86_400 - 1 - (n >> 70) % 20
    rate = vat_rate(day)
    # the VAT inside a price that includes it, rounded half up to the kopeck
    vat = (2 * amount * rate + 100 + rate) // (2 * (100 + rate))
    return (
        f"Оплата по счету № {(n >> 80) % 90_000 + 100} от {_day_text(day)}"
        f"{goods}. Сумма {money_text(amount)} руб., в т.ч. НДС {rate}% {money_text(vat)} руб."
    )


# category, weight, min and max amount in major units, purpose(n, ts, amount, doc)
_CREDITS = [
    ("incomeCustomer", 70, 1_500, 480_000, _invoice),
    (
        "incomeContract",
        25,
        10_000,
        900_000,
        lambda n, ts, amount, doc: f"Оплата по договору № {_contract(n)} за услуги. НДС не облагается",
    ),
    (
        "refund",
        5,
        200,
        25_000,
        lambda n, ts, amount, doc: f"Возврат излишне перечисленных денежных средств по п/п № {doc}",
    ),
]
_DEBITS = [
    ("contragentPayment", 45, 3_000, 350_000, lambda n, ts, amount, doc: _invoice(n, ts, amount, doc, " за товары")),
    (
        "rent",
        8,
        60_000,
        180_000,
        lambda n, ts, amount, doc: f"Арендная плата за {_month(ts)} по договору № {_contract(n)}. НДС не облагается",
    ),
    (
        "salary",
        12,
        20_000,
        150_000,
        lambda n, ts, amount, doc: f"Перечисление заработной платы за {_month(ts)}. НДФЛ удержан",
    ),
    ("tax", 8, 5_000, 120_000, lambda n, ts, amount, doc: "Единый налоговый платеж"),
    (
        "fee",
        20,
        99,
        2_500,
        lambda n, ts, amount, doc: f"Комиссия за ведение счета и проведение платежей за {_month(ts)}",
    ),
    (
        "cardOperation",
        7,
        150,
        15_000,
        lambda n, ts, amount, doc: f"Оплата по карте *{(n >> 30) % 9000 + 1000} в {_SHOPS[(n >> 115) % len(_SHOPS)]}",
    ),
]


def _weighted(table):
    flat = []
    for row in table:
        flat.extend([row] * row[1])
    return tuple(flat)


_CREDIT_DRAW = _weighted(_CREDITS)
_DEBIT_DRAW = _weighted(_DEBITS)
_FEE_PARTY_CACHE: dict = {}


def _bank_as_party(bank: Bank) -> dict:
    party = _FEE_PARTY_CACHE.get(bank.bic)
    if party is None:
        party = _FEE_PARTY_CACHE[bank.bic] = {
            "name": bank.name,
            "inn": "",
            "kpp": "",
            "account": "70601810000000000000",
            "bic": bank.bic,
            "bank_name": bank.name,
            "corr_account": bank.corr_account,
        }
    return party


@dataclass(frozen=True)
class GeneratorSpec:
    """``count`` operations spread evenly over ``[start, end)`` (whole seconds, UTC).
    The ``seed`` (with the account number) makes every field reproducible."""

    count: int
    seed: int
    start_s: int
    end_s: int
    unconfirmed_days: int = 2  # holds (Authorization/Pending) only this close to the end

    def __post_init__(self):
        if self.count < 0:
            raise ValueError("count must be >= 0")
        if self.end_s - self.start_s < max(self.count, 1):
            raise ValueError("the period must have at least one second per operation")

    @classmethod
    def from_dict(cls, data: dict) -> GeneratorSpec:
        return cls(
            int(data["count"]),
            int(data["seed"]),
            int(data["start_s"]),
            int(data["end_s"]),
            int(data.get("unconfirmed_days", 2)),
        )

    def to_dict(self) -> dict:
        return {
            "count": self.count,
            "seed": self.seed,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "unconfirmed_days": self.unconfirmed_days,
        }


class Generator:
    """The generated operations of one account (see the module docstring)."""

    def __init__(self, account: str, spec: GeneratorSpec, own_bank: Bank, currency: str = "RUB"):
        self.account = account
        # Foreign-currency accounts move smaller sums: the tables are in rubles.
        self._divisor = max(1, RUB_RATES.get(currency, 100) // 100)
        self.spec = spec
        self.own_bank = own_bank
        self.span = spec.end_s - spec.start_s
        self._key = hashlib.blake2b(f"{spec.seed}:{account}".encode(), digest_size=32).digest()
        self._hold_from = spec.end_s - spec.unconfirmed_days * 86_400
        self._own_bank_party = _bank_as_party(own_bank)
        self._prefix: tuple[list[int], list[int]] | None = None  # see _prefixes
        self._lock = threading.Lock()

    # -- position <-> time ------------------------------------------------------------------
    def ts_s(self, index: int) -> int:
        return self.spec.start_s + index * self.span // self.spec.count

    def index_at(self, ts_us: int) -> int:
        """First index whose time is >= ``ts_us`` (``count`` if none)."""
        count = self.spec.count
        if count == 0:
            return 0
        seconds = -(-ts_us // US)  # ceil: whole seconds
        delta = seconds - self.spec.start_s
        if delta <= 0:
            return 0
        index = -(-delta * count // self.span)
        return min(max(index, 0), count)

    # -- fields ---------------------------------------------------------------------------------
    def _digest(self, index: int) -> bytes:
        return hashlib.blake2b(index.to_bytes(8, "little"), digest_size=16, key=self._key).digest()

    def _draw(self, index: int):
        digest = self._digest(index)
        n = int.from_bytes(digest, "little")
        credit = n % 1000 < 450
        row = (_CREDIT_DRAW if credit else _DEBIT_DRAW)[(n >> 10) % 100]
        low, high = row[2], row[3]
        major = (low + (n >> 20) % (high - low + 1)) // self._divisor or 1
        amount = major * 100 + ((n >> 40) % 100 if major < 100_000 else 0)
        ts = self.ts_s(index)
        confirmed = ts < self._hold_from or (n >> 60) % 10 >= 3
        return digest, n, credit, row, amount, ts, confirmed

    def confirmed_amounts(self, index: int) -> tuple[int, int]:
        """(credit, debit) of operation ``index`` if confirmed, else (0, 0)."""
        _, _, credit, _, amount, _, confirmed = self._draw(index)
        if not confirmed:
            return 0, 0
        return (amount, 0) if credit else (0, amount)

    def operation(self, index: int) -> Operation:
        digest, n, credit, row, amount, ts, confirmed = self._draw(index)
        hexa = digest.hex()
        op_id = f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}"
        category = row[0]
        doc = str((n >> 50) % 9_999 + 1)
        if category == "tax":
            party = TAX_OFFICE
        elif category == "fee" or category == "cardOperation":
            party = self._own_bank_party
        else:
            party = COUNTERPARTIES[(n >> 90) % len(COUNTERPARTIES)]
        type_code = "Банковский ордер" if party is self._own_bank_party else "Платежное поручение"
        return Operation(
            op_id, ts * US, credit, amount, confirmed, row[4](n, ts, amount, doc), doc, category, party, type_code
        )

    # -- sums -------------------------------------------------------------------------------------
    def _prefixes(self) -> tuple[list[int], list[int]]:
        """Cumulative confirmed credits and debits: ``credits[i]`` = sum over indexes < i.
        Built once per generator, in one pass (well under a second per 100 000)."""
        with self._lock:
            if self._prefix is None:
                credits, debits = [0], [0]
                c = d = 0
                for index in range(self.spec.count):
                    credit, debit = self.confirmed_amounts(index)
                    c += credit
                    d += debit
                    credits.append(c)
                    debits.append(d)
                self._prefix = (credits, debits)
            return self._prefix

    def confirmed_sum(self, start_us: int | None, end_us: int | None) -> tuple[int, int]:
        """(credits, debits) of confirmed operations in ``[start, end)``, positive."""
        lo = 0 if start_us is None else self.index_at(start_us)
        hi = self.spec.count if end_us is None else self.index_at(end_us)
        if hi <= lo:
            return 0, 0
        credits, debits = self._prefixes()
        return credits[hi] - credits[lo], debits[hi] - debits[lo]

    def holds(self, until_us: int | None = None) -> int:
        """Unconfirmed debits (money held) before ``until_us``, positive minor units."""
        total = 0
        for index in range(self.index_at(self._hold_from * US), self.spec.count):
            op = self.operation(index)
            if until_us is not None and op.ts >= until_us:
                break
            if not op.confirmed and not op.credit:
                total += op.amount
        return total


# ------------------------------------------------------------------------- merged feed


def night_in_moscow(ts_us: int) -> bool:
    """Whether an operation made at ``ts_us`` falls between 22:00 and 03:00 Moscow time
    (UTC+3), the hours in which T-Bank may re-identify operations (docs/banks.md §6.9)."""
    hour = (ts_us // US + 3 * 3600) // 3600 % 24
    return hour >= 22 or hour < 3


class Reidentifier:
    """The new ids the bank gave an account's operations: each ``POST
    /_admin/business/reidentify`` adds a window ``{start_us, end_us, night_only, salt}``;
    an operation inside it (and made at night when ``night_only``) gets an id derived from
    its previous one and the salt, so ids change again at every call and stay stable
    between calls (and across restarts: nothing is stored per operation)."""

    def __init__(self, windows: list[dict]):
        self.windows = [
            (int(w["start_us"]), int(w["end_us"]), bool(w.get("night_only", True)), str(w["salt"])) for w in windows
        ]

    def __bool__(self) -> bool:
        return bool(self.windows)

    def __call__(self, op: Operation) -> Operation:
        op_id = op.id
        for start_us, end_us, night_only, salt in self.windows:
            if start_us <= op.ts < end_us and (not night_only or night_in_moscow(op.ts)):
                op_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"reidentified:{salt}:{op_id}"))
        return op if op_id == op.id else op._replace(id=op_id)


class AccountFeed:
    """Generated + added operations of one account, in ``(ts, id)`` order, under the ids
    the bank gives them now (``rename``: re-identified operations)."""

    def __init__(self, generator: Generator | None, added: list[Operation], rename: Reidentifier | None = None):
        self.generator = generator
        self.rename = rename or None
        if self.rename:
            added = [self.rename(op) for op in added]
        self.added = sorted(added, key=Operation.key)
        self._keys = [op.key() for op in self.added]

    def iter(self, start_us: int, end_us: int, after: tuple | None = None) -> Iterator[Operation]:
        """Operations with ``start <= ts < end`` and key > ``after``, in order."""
        gen = self.generator
        if after is not None:
            first_added = bisect.bisect_right(self._keys, (after[0], after[1]))
        else:
            first_added = bisect.bisect_left(self._keys, (start_us, ""))
        added = self.added
        a = first_added
        while a < len(added) and added[a].ts < start_us:
            a += 1
        if gen is not None and gen.spec.count:
            index = gen.index_at(start_us)
            if after is not None:
                index = max(index, gen.index_at(after[0]))
            count = gen.spec.count
            rename = self.rename
            while index < count:
                op = gen.operation(index)
                if rename:
                    op = rename(op)
                if after is not None and op.key() <= after:
                    index += 1
                    continue
                if op.ts >= end_us:
                    break
                while a < len(added) and added[a].key() < op.key():
                    if added[a].ts < end_us:
                        yield added[a]
                    a += 1
                yield op
                index += 1
        while a < len(added) and added[a].ts < end_us:
            yield added[a]
            a += 1

    def confirmed_totals(self, start_us: int | None, end_us: int | None) -> tuple[int, int]:
        """(credits, debits) of confirmed operations in ``[start, end)``."""
        credit = debit = 0
        if self.generator is not None and self.generator.spec.count:
            credit, debit = self.generator.confirmed_sum(start_us, end_us)
        for op in self.added:
            if (
                not op.confirmed
                or (start_us is not None and op.ts < start_us)
                or (end_us is not None and op.ts >= end_us)
            ):
                continue
            if op.credit:
                credit += op.amount
            else:
                debit += op.amount
        return credit, debit

    def net_before(self, ts_us: int | None) -> int:
        """Net confirmed amount before ``ts_us`` (or of everything)."""
        credit, debit = self.confirmed_totals(None, ts_us)
        return credit - debit

    def holds(self, until_us: int | None = None) -> int:
        """Unconfirmed debits (money held), positive minor units."""
        total = 0
        gen = self.generator
        if gen is not None and gen.spec.count:
            total = gen.holds(until_us)
        for op in self.added:
            if not op.confirmed and not op.credit and (until_us is None or op.ts < until_us):
                total += op.amount
        return total


def operation_to_record(op: Operation, account: str) -> dict:
    """An added operation as a JSON-ready record (stored in a collection)."""
    return {
        "account": account,
        "id": op.id,
        "ts": op.ts,
        "credit": op.credit,
        "amount": op.amount,
        "confirmed": op.confirmed,
        "purpose": op.purpose,
        "document_number": op.document_number,
        "category": op.category,
        "counterparty": dict(op.counterparty),
        "type_code": op.type_code,
    }


def record_to_operation(record: dict) -> Operation:
    return Operation(
        record["id"],
        int(record["ts"]),
        bool(record["credit"]),
        int(record["amount"]),
        bool(record["confirmed"]),
        record.get("purpose") or "",
        record.get("document_number") or "",
        record.get("category") or "",
        record.get("counterparty") or {},
        record.get("type_code") or "Платежное поручение",
    )


def json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False)
