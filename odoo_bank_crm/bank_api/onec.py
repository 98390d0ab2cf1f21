"""Reader and writer of the 1C "ClientBankExchange" text format (1CClientBankExchange).

The format (standard "Формат обмена данными 1CClientBankExchange", v1.03; see
docs/banks.md §4) is how Russian banks and 1C exchange data:

* ``kl_to_1c.txt``: a bank statement the bank exports for 1C (header, one
  ``СекцияРасчСчет`` balance block per account, the documents of the period);
* ``1c_to_kl.txt``: payment orders 1C exports for the bank.

A file is plain ``Key=Value`` lines in cp1251 (``Кодировка=Windows``) or cp866
(``Кодировка=DOS``), CRLF line endings::

    1CClientBankExchange
    ВерсияФормата=1.03
    Кодировка=Windows
    ...header...
    СекцияРасчСчет
    ...balance of one account...
    КонецРасчСчет
    СекцияДокумент=Платежное поручение
    ...one document...
    КонецДокумента
    КонецФайла

Public API: :func:`parse`, :func:`write`, :func:`direction`, :func:`statement_file`,
:func:`payment_orders_file`, the dataclasses :class:`OneCFile`,
:class:`OneCAccountBalance`, :class:`OneCDocument`, :class:`OneCParty` and the
error :class:`OneCFormatError`.

Pure Python, standard library only: no ``odoo`` import, no import of the rest of
``bank_api`` (the module is self-contained on purpose). Money is always
:class:`~decimal.Decimal`.

Reading is lenient where real files are untidy and strict where data would be
wrong:

* the encoding is taken from ``Кодировка=``, but checked against the bytes: a file
  whose header lies (cp866 bytes under ``Кодировка=Windows``, UTF-8 with or
  without BOM) is read in the encoding its keys actually decode in, with a note in
  :attr:`OneCFile.warnings`; a single line written in another encoding (the
  1C sample ends with a UTF-8 ``КонецФайла``) is recognised the same way;
* CRLF, LF and blank lines are accepted; values are kept byte-for-byte (trailing
  spaces included), so bank texts survive a round trip untouched;
* totals of ``СекцияРасчСчет`` are NOT checked against the documents, nor the
  documents' accounts against the statement's account (real bank files differ);
* a missing final ``КонецФайла`` is tolerated when every section is closed (the
  data read is complete up to that point; a warning says so). A section that is
  still open at the end of the file is an error: that file was truncated;
* anything else that would put wrong data in the books raises
  :class:`OneCFormatError` with the line number and what was expected/found:
  undecodable bytes, a missing first line, an unclosed section (the error names the
  line where the section started), a bad amount or date, a line without ``=``.

Writing produces a standard file: CRLF, cp1251 or cp866, amounts ``1234.56``,
dates ``dd.mm.yyyy``. A document that came from :func:`parse` is written with its
original keys in their original order (unknown keys included), each known key
re-rendered from the dataclass attributes, so ``parse(write(parse(x)))`` equals
``parse(x)`` (and for a standard file such as the bank sample, ``write(parse(x))``
is byte-identical to ``x``). Amount and date keys are always written in the
standard form, so a file that used ``1234,5`` or ``1.1.2024`` is normalised.
A character the target encoding cannot hold raises :class:`OneCFormatError`
naming the document and the key, never a silent ``?``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "FIRST_LINE",
    "ENCODINGS",
    "MAX_FILE_BYTES",
    "OneCFormatError",
    "OneCParty",
    "OneCAccountBalance",
    "OneCDocument",
    "OneCFile",
    "parse",
    "write",
    "direction",
    "statement_file",
    "payment_orders_file",
]

FIRST_LINE = "1CClientBankExchange"
#: The largest file read: a year of a busy account's statement is a few MiB; a bigger
#: upload is refused before a byte of it is read.
MAX_FILE_BYTES = 20 * 1024 * 1024
#: ``Кодировка=`` values of the standard and the Python codec of each.
ENCODINGS = {"Windows": "cp1251", "DOS": "cp866"}

_PAYMENT_ORDER = "Платежное поручение"

# Section markers.
_SECTION_BALANCE = "СекцияРасчСчет"
_END_BALANCE = "КонецРасчСчет"
_SECTION_DOCUMENT = "СекцияДокумент"
_END_DOCUMENT = "КонецДокумента"
_END_FILE = "КонецФайла"
_MARKERS = frozenset({_SECTION_BALANCE, _END_BALANCE, _SECTION_DOCUMENT, _END_DOCUMENT, _END_FILE})

_HEADER_KEYS = (
    "ВерсияФормата",
    "Кодировка",
    "Отправитель",
    "Получатель",
    "ДатаСоздания",
    "ВремяСоздания",
    "ДатаНачала",
    "ДатаКонца",
    "РасчСчет",
    "Документ",
)
_HEADER_REPEATED = frozenset({"РасчСчет", "Документ"})

_BALANCE_KEYS = (
    "ДатаНачала",
    "ДатаКонца",
    "РасчСчет",
    "НачальныйОстаток",
    "ВсегоПоступило",
    "ВсегоСписано",
    "КонечныйОстаток",
)

_PAYER = "Плательщик"
_RECIPIENT = "Получатель"
_PURPOSE = "НазначениеПлатежа"
_PURPOSE_LINES = tuple(f"{_PURPOSE}{i}" for i in range(1, 7))


def _party_keys(prefix: str) -> tuple[str, ...]:
    return (
        f"{prefix}Счет",
        prefix,
        f"{prefix}ИНН",
        f"{prefix}1",
        f"{prefix}2",
        f"{prefix}3",
        f"{prefix}4",
        f"{prefix}РасчСчет",
        f"{prefix}Банк1",
        f"{prefix}Банк2",
        f"{prefix}БИК",
        f"{prefix}Корсчет",
        f"{prefix}КПП",
    )


# Canonical order of the document keys this module writes for a document built in
# code (it follows the order of the bank sample and of the 1C standard's table).
_DOCUMENT_LAYOUT = (
    "Номер",
    "Дата",
    "Сумма",
    "ПлательщикСчет",
    "ДатаСписано",
    "Плательщик",
    "ПлательщикИНН",
    "Плательщик1",
    "ПлательщикРасчСчет",
    "ПлательщикБанк1",
    "ПлательщикБанк2",
    "ПлательщикБИК",
    "ПлательщикКорсчет",
    "ПолучательСчет",
    "ДатаПоступило",
    "Получатель",
    "ПолучательИНН",
    "Получатель1",
    "ПолучательРасчСчет",
    "ПолучательБанк1",
    "ПолучательБанк2",
    "ПолучательБИК",
    "ПолучательКорсчет",
    "ВидПлатежа",
    "ВидОплаты",
    "Код",
    _PURPOSE,
    "ПлательщикКПП",
    "ПолучательКПП",
    "Очередность",
)
# Keys managed by OneCDocument attributes (a document whose `fields` holds none of
# them is treated as built in code and written with the full canonical layout).
_DOCUMENT_MANAGED = frozenset(_DOCUMENT_LAYOUT + _PURPOSE_LINES + _party_keys(_PAYER) + _party_keys(_RECIPIENT))
# Other keys of the standard (and of the samples): only used to recognise the text
# encoding of a line.
_DOCUMENT_OTHER_KEYS = (
    "КвитанцияДата",
    "КвитанцияВремя",
    "КвитанцияСодержание",
    "КодНазПлатежа",
    "СтатусСоставителя",
    "ПоказательКБК",
    "ОКАТО",
    "ПоказательОснования",
    "ПоказательПериода",
    "ПоказательНомера",
    "ПоказательДаты",
    "ПоказательТипа",
    "СрокАкцепта",
    "ВидАккредитива",
    "СрокПлатежа",
    "УсловиеОплаты1",
    "УсловиеОплаты2",
    "УсловиеОплаты3",
    "ПлатежПоПредст",
    "ДополнУсловия",
    "НомерСчетаПоставщика",
    "ДатаОтсылкиДок",
)
_KNOWN_KEYS = frozenset(_HEADER_KEYS + _BALANCE_KEYS + _DOCUMENT_OTHER_KEYS) | _DOCUMENT_MANAGED

_CODEC_OF_DECLARED = {
    "windows": "cp1251",
    "win": "cp1251",
    "cp1251": "cp1251",
    "windows-1251": "cp1251",
    "dos": "cp866",
    "cp866": "cp866",
    "utf-8": "utf-8",
    "utf8": "utf-8",
}
_CANDIDATE_CODECS = ("cp1251", "cp866", "utf-8")
_CODEC_NAMES = {"cp1251": "cp1251 (Windows)", "cp866": "cp866 (DOS)", "utf-8": "UTF-8"}


class OneCFormatError(ValueError):
    """A 1C ClientBankExchange file cannot be read or written.

    :param message: what was expected and what was found, in plain words.
    :param line: 1-based line number of the input the problem is on (for an
        unclosed section: the line where the section started), or ``None``
        (errors of :func:`write`).
    :param field: the key concerned (``"Сумма"``, ``"Плательщик1"``...), if any.

    ``str(error)`` is ``"line N: message"`` when the line is known.
    """

    def __init__(self, message: str, line: int | None = None, *, field: str | None = None):
        self.reason = message
        self.line = line
        self.field = field
        super().__init__(f"line {line}: {message}" if line is not None else message)


# ---------------------------------------------------------------------------
# Data model
# ---------------------------------------------------------------------------


@dataclass(kw_only=True)
class OneCParty:
    """Payer or recipient of a document.

    ``account`` reads ``<Party>Счет`` and falls back to ``<Party>РасчСчет``;
    ``inn``/``name`` read the split keys (``<Party>ИНН``, ``<Party>1``) and fall back
    to the combined ``<Party>`` value (``"ИНН 1234567890 ООО Ромашка"``,
    ``"1234567890, ООО Ромашка"``...). Empty values are ``None``. Names and bank
    names are kept exactly as written; codes and accounts are stripped of spaces at
    their ends.
    """

    inn: str | None = None
    kpp: str | None = None
    name: str | None = None
    account: str | None = None
    bank_name: str | None = None  # <Party>Банк1
    bank_city: str | None = None  # <Party>Банк2
    bic: str | None = None
    corr_account: str | None = None  # <Party>Корсчет


@dataclass(kw_only=True)
class OneCAccountBalance:
    """One ``СекцияРасчСчет`` block: the balance of one account over the period.

    The totals are read as written and never checked against the documents.
    ``fields`` keeps the raw key/value pairs in order (unknown keys included);
    ``line`` is the 1-based line of ``СекцияРасчСчет`` (not part of equality).
    """

    account: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    opening: Decimal | None = None  # НачальныйОстаток
    total_in: Decimal | None = None  # ВсегоПоступило
    total_out: Decimal | None = None  # ВсегоСписано
    closing: Decimal | None = None  # КонечныйОстаток
    fields: dict[str, str] = field(default_factory=dict)
    line: int | None = field(default=None, compare=False)


@dataclass(kw_only=True)
class OneCDocument:
    """One ``СекцияДокумент`` block (a payment order, bank order...).

    ``kind`` is the text after ``СекцияДокумент=`` (``"Платежное поручение"``), or
    ``None`` for a bare ``СекцияДокумент`` line. ``purpose`` is the whole text of
    ``НазначениеПлатежа`` and ``НазначениеПлатежа1..6`` (the purpose split in lines),
    each part once: a main key that holds only the first words is followed by the
    continuation in the lines; a main key that repeats the lines' text is taken alone
    (see ``_purpose_from_fields``). ``fields`` keeps every raw
    key/value pair in file order, so nothing is lost (a key repeated inside one
    document keeps its first position and its last value, with a warning).
    ``line`` is the 1-based line of ``СекцияДокумент`` (not part of equality).
    """

    amount: Decimal  # Сумма
    kind: str | None = None
    number: str | None = None  # Номер
    date: dt.date | None = None  # Дата
    payer: OneCParty = field(default_factory=OneCParty)
    recipient: OneCParty = field(default_factory=OneCParty)
    purpose: str | None = None
    date_debited: dt.date | None = None  # ДатаСписано
    date_credited: dt.date | None = None  # ДатаПоступило
    payment_kind: str | None = None  # ВидПлатежа ("Электронно", "Почтой"...)
    operation_type: str | None = None  # ВидОплаты ("01" платёжное поручение, "17" банковский ордер...)
    priority: str | None = None  # Очередность
    uin: str | None = None  # Код (УИН)
    fields: dict[str, str] = field(default_factory=dict)
    line: int | None = field(default=None, compare=False)


@dataclass(kw_only=True)
class OneCFile:
    """A whole 1CClientBankExchange file.

    ``encoding`` is the ``Кодировка=`` value as declared (``"Windows"``/``"DOS"``,
    ``None`` when absent); ``codec`` is the Python codec the text was actually read
    with. ``accounts`` are the header ``РасчСчет`` lines; ``document_kind`` the
    first header ``Документ=`` line and ``other_document_kinds`` any further ones
    (the key may repeat). ``created`` joins ``ДатаСоздания`` and ``ВремяСоздания``.
    ``extra`` keeps unknown header keys in order.

    ``codec``, ``header_order``, ``final_newline`` and ``warnings`` describe how the
    file was laid out and read; they are not part of equality.
    """

    format_version: str | None = "1.03"
    encoding: str | None = "Windows"
    sender: str | None = None  # Отправитель
    recipient: str | None = None  # Получатель
    created: dt.datetime | None = None
    date_from: dt.date | None = None  # ДатаНачала
    date_to: dt.date | None = None  # ДатаКонца
    accounts: list[str] = field(default_factory=list)
    document_kind: str | None = None
    other_document_kinds: list[str] = field(default_factory=list)
    balances: list[OneCAccountBalance] = field(default_factory=list)
    documents: list[OneCDocument] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)
    codec: str | None = field(default=None, compare=False)
    header_order: list[str] = field(default_factory=list, compare=False, repr=False)
    final_newline: bool = field(default=True, compare=False, repr=False)
    warnings: list[str] = field(default_factory=list, compare=False, repr=False)


# ---------------------------------------------------------------------------
# Value parsing and rendering
# ---------------------------------------------------------------------------

_AMOUNT_RE = re.compile(r"([+-]?)(\d+)(?:[.,](\d+))?")
_DATE_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_EMPTY_DATES = frozenset({"00.00.0000", "01.01.0001"})
_CENT = Decimal("0.01")
_BAD = object()  # a value that failed to parse while deriving attributes for write()


class _Problem(Exception):
    """Internal: a value cannot be parsed; turned into OneCFormatError by the caller."""


def _short(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _parse_amount(value: str) -> Decimal | None:
    text = value.strip().replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    match = _AMOUNT_RE.fullmatch(text)
    if not match:
        raise _Problem(
            f"expected an amount such as 1234.56 (digits, '.' or ',' before the kopecks), found {_short(value)}"
        )
    sign, whole, frac = match.groups()
    amount = Decimal(f"{sign}{whole}.{frac or '0'}")
    rounded = amount.quantize(_CENT)
    if rounded != amount:
        raise _Problem(f"expected at most two decimals (kopecks), found {_short(value)}")
    return rounded


def _parse_date(value: str) -> dt.date | None:
    text = value.strip()
    if not text or text in _EMPTY_DATES:
        return None
    match = _DATE_RE.fullmatch(text)
    if match:
        day, month, year = (int(x) for x in match.groups())
    else:
        match = _ISO_DATE_RE.fullmatch(text)
        if not match:
            raise _Problem(f"expected a date dd.mm.yyyy, found {_short(value)}")
        year, month, day = (int(x) for x in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise _Problem(f"expected a date dd.mm.yyyy, found {_short(value)} (no such day)") from None


def _parse_time(value: str) -> dt.time | None:
    text = value.strip()
    if not text:
        return None
    match = _TIME_RE.fullmatch(text)
    if not match:
        raise _Problem(f"expected a time hh:mm:ss, found {_short(value)}")
    hour, minute, second = match.groups()
    try:
        return dt.time(int(hour), int(minute), int(second or 0))
    except ValueError:
        raise _Problem(f"expected a time hh:mm:ss, found {_short(value)} (no such time)") from None


def _text(value: str | None) -> str | None:
    """A text value (name, purpose...): kept exactly, empty means None."""
    return value if value else None


def _code(value: str | None) -> str | None:
    """A code (INN, account, number...): stripped, empty means None."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def _render_amount(value, where: str, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, float) or not isinstance(value, (Decimal, int)):
        raise OneCFormatError(
            f"{where}: {key} must be a Decimal (or int), got {type(value).__name__} {value!r}",
            field=key,
        )
    amount = Decimal(value)
    if not amount.is_finite():
        raise OneCFormatError(f"{where}: {key} is {amount}, expected a finite amount", field=key)
    rounded = amount.quantize(_CENT)
    if rounded != amount:
        raise OneCFormatError(
            f"{where}: {key}={amount} has fractions of a kopeck; the format holds two decimals",
            field=key,
        )
    return format(rounded, "f")


def _render_date(value, where: str, key: str) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise OneCFormatError(f"{where}: {key} must be a date, got {type(value).__name__} {value!r}", field=key)
    return f"{value.day:02d}.{value.month:02d}.{value.year:04d}"


# ---------------------------------------------------------------------------
# Encoding detection and line splitting
# ---------------------------------------------------------------------------


def _recognised(text: str) -> bool:
    """Does a decoded line look like 1C (a marker or a known key)?"""
    stripped = text.strip()
    if stripped in _MARKERS or stripped.startswith(_SECTION_DOCUMENT + "="):
        return True
    key, sep, _ = stripped.partition("=")
    return bool(sep) and key.strip() in _KNOWN_KEYS


def _try_decode(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return None


# Nothing but ASCII whitespace from a position on (bytes.strip()'s, without its copy).
_BLANK = re.compile(rb"[ \t\n\r\x0b\x0c]*\Z")
_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _separator(data: bytes, start: int = 0) -> bytes:
    """LF, or CR for the old Mac files that have no LF."""
    return b"\n" if data.find(b"\n", start) >= 0 or data.find(b"\r", start) < 0 else b"\r"


def _iter_lines(data: bytes, start: int = 0) -> Iterator[bytes]:
    """The lines of `data` from offset `start`, one at a time (never all of them at once:
    a file of millions of short lines costs one line of memory, not millions of objects),
    without their CR/LF; no empty line after a final separator."""
    separator = _separator(data, start)
    stop = len(data) - 1 if data.endswith(separator) and len(data) > start else len(data)
    strip_cr = separator == b"\n"
    while True:
        found = data.find(separator, start, stop)
        line = data[start : stop if found < 0 else found]
        yield line[:-1] if strip_cr and line.endswith(b"\r") else line
        if found < 0:
            return
        start = found + 1


# "Кодировка" as it reads in every candidate codec: the line is found without decoding the others.
_ENCODING_KEYS = tuple({"Кодировка".encode(codec) for codec in _CANDIDATE_CODECS})


def _find_declared(data: bytes, start: int, codecs: Iterable[str]) -> tuple[str | None, int | None]:
    """The first ``Кодировка=`` line: (its value, its number), searched in the bytes (no
    line decoded but that one)."""
    separator = _separator(data, start)
    found = []
    for key in _ENCODING_KEYS:
        position = data.find(key, start)
        while position >= 0:
            line_start = data.rfind(separator, start, position) + 1 or start
            if _BLANK.match(data[line_start:position]):  # the key opens its line
                found.append((line_start, position))
                break
            position = data.find(key, position + 1)
    for line_start, _position in sorted(found):
        line_end = data.find(separator, line_start)
        raw = data[line_start : len(data) if line_end < 0 else line_end].rstrip(b"\r")
        for codec in codecs:
            text = _try_decode(raw, codec)
            if text is not None:
                key, sep, value = text.partition("=")
                if sep and key.strip() == "Кодировка":
                    return value.strip(), data.count(separator, start, line_start) + 1
    return None, None


def _choose_codec(
    data: bytes, start: int, lines: Callable[[], Iterator[bytes]], warnings: list[str]
) -> tuple[str, str | None]:
    """Return (codec, declared Кодировка value) for the file's lines (`lines()` iterates
    over them afresh: each pass holds one line at a time)."""
    declared, declared_line = _find_declared(data, start, _CANDIDATE_CODECS)
    declared_codec = _CODEC_OF_DECLARED.get(declared.lower()) if declared else None

    non_ascii = False
    scores = dict.fromkeys(_CANDIDATE_CODECS, 0)
    for raw in lines() if _NON_ASCII.search(data, start) else ():
        if raw.isascii():
            continue
        non_ascii = True
        for codec in _CANDIDATE_CODECS:
            text = _try_decode(raw, codec)
            if text is not None and _recognised(text):
                scores[codec] += 1
    best = max(_CANDIDATE_CODECS, key=lambda c: (scores[c], c == declared_codec))

    if scores[best] == 0:
        if non_ascii:
            if declared is None:
                # The key itself may be unreadable: find the line by its ASCII value.
                for number, raw in enumerate(itertools.islice(lines(), 30), 1):
                    if re.fullmatch(rb"[^=]+=\s*(Windows|DOS)\s*", raw):
                        declared_line = number
                        break
            if declared is not None:
                where = f"line {declared_line} says Кодировка={declared}, but"
            elif declared_line is not None:
                where = f"line {declared_line} looks like the Кодировка= line but its key does not decode, and"
            else:
                where = "there is no readable Кодировка= line, and"
            raise OneCFormatError(
                f"cannot read the text encoding: {where} no line decodes to a known 1C key "
                f"(such as Сумма= or КонецДокумента) in cp1251, cp866 or UTF-8",
                line=declared_line or 1,
                field="Кодировка",
            )
        return declared_codec or "cp1251", declared
    if declared_codec is not None and scores[declared_codec] == scores[best]:
        return declared_codec, declared
    if declared is None:
        warnings.append(f"no Кодировка= line; the text was read as {_CODEC_NAMES[best]}")
    elif declared_codec is None:
        warnings.append(
            f"line {declared_line}: unknown Кодировка={declared!r} (expected Windows or DOS); "
            f"the text was read as {_CODEC_NAMES[best]}"
        )
    else:
        warnings.append(
            f"line {declared_line}: Кодировка={declared} says {_CODEC_NAMES[declared_codec]} but the "
            f"text is {_CODEC_NAMES[best]}; it was read as {_CODEC_NAMES[best]}"
        )
    return best, declared


def _decode_line(raw: bytes, number: int, codec: str, declared: str | None, warnings: list[str]) -> str:
    if raw.isascii():
        return raw.decode("ascii")
    text = _try_decode(raw, codec)
    if text is None or not _recognised(text):
        # A single line in another encoding (the 1C sample ends with a UTF-8
        # КонецФайла in a cp1251 file): accept it when it is a known key/marker there.
        for other in _CANDIDATE_CODECS:
            if other == codec:
                continue
            alternative = _try_decode(raw, other)
            if alternative is not None and _recognised(alternative):
                warnings.append(
                    f"line {number} is in {_CODEC_NAMES[other]}, not {_CODEC_NAMES[codec]} like the "
                    f"rest of the file; it was read as {_CODEC_NAMES[other]}"
                )
                return alternative
    if text is None:
        try:
            raw.decode(codec)
        except UnicodeDecodeError as exc:
            label = f" (Кодировка={declared})" if declared else ""
            raise OneCFormatError(
                f"the line is not valid {_CODEC_NAMES[codec]} text{label}: byte 0x{raw[exc.start]:02X} "
                f"at column {exc.start + 1} does not decode",
                line=number,
            ) from None
    return text


# ---------------------------------------------------------------------------
# parse()
# ---------------------------------------------------------------------------


class _Section:
    def __init__(self, kind: str, start: int, title: str | None = None):
        self.kind = kind  # "balance" | "document"
        self.start = start
        self.title = title  # document kind
        self.fields: dict[str, str] = {}
        self.lines: dict[str, int] = {}

    def add(self, key: str, value: str, number: int, warnings: list[str]) -> None:
        if key in self.fields:
            warnings.append(
                f"line {number}: {key} appears twice in the section that starts at line "
                f"{self.start} (first at line {self.lines[key]}); the later value is kept"
            )
        self.fields[key] = value
        self.lines[key] = number

    @property
    def label(self) -> str:
        if self.kind == "balance":
            return f"the {_SECTION_BALANCE} section that starts at line {self.start}"
        return f"the document ({_SECTION_DOCUMENT}) that starts at line {self.start}"

    @property
    def end_marker(self) -> str:
        return _END_BALANCE if self.kind == "balance" else _END_DOCUMENT


def parse(data: bytes) -> OneCFile:
    """Read a 1CClientBankExchange file (the raw bytes, any supported encoding).

    :raises OneCFormatError: the file is not a readable 1C file; ``error.line``
        tells where.
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > MAX_FILE_BYTES:
        raise OneCFormatError(
            f"the file is {len(data) / 1024 / 1024:.1f} MiB; a 1C statement of at most "
            f"{MAX_FILE_BYTES // 1024 // 1024} MiB is read (split a longer period into several files)",
            line=1,
        )
    data = bytes(data)  # no copy when it already is bytes
    warnings: list[str] = []
    forced_codec = None
    start = 0
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise OneCFormatError("the file starts with a UTF-16 mark but is not valid UTF-16", line=1) from None
        data = text.encode("utf-8")
        del text
        forced_codec = "utf-8"
        warnings.append("the file is UTF-16; it was read as such")
    elif data.startswith(b"\xef\xbb\xbf"):
        start = 3  # the BOM is skipped, not cut off (a copy of the file)
        forced_codec = "utf-8"

    if _BLANK.match(data, start):
        raise OneCFormatError(f"the file is empty; expected the first line {FIRST_LINE!r}", line=1)

    def lines() -> Iterator[bytes]:
        return _iter_lines(data, start)

    final_newline = data.endswith(_separator(data, start))
    first = next(lines()).strip()
    if first != FIRST_LINE.encode("ascii"):
        shown = first.decode("cp1251", errors="replace")
        raise OneCFormatError(
            f"expected the first line to be {FIRST_LINE!r}, found {_short(shown)}; "
            f"this is not a 1C ClientBankExchange file",
            line=1,
        )

    if forced_codec:
        codec = forced_codec
        declared, _declared_line = _find_declared(data, start, ("utf-8",))
        if declared is not None and _CODEC_OF_DECLARED.get(declared.lower()) != "utf-8":
            warnings.append(f"Кодировка={declared} but the file is UTF-8 (it has a byte order mark)")
    else:
        codec, declared = _choose_codec(data, start, lines, warnings)

    result = OneCFile(encoding=declared, format_version=None, codec=codec, final_newline=final_newline)
    result.warnings = warnings
    header: list[tuple[str, str, int]] = []
    section: _Section | None = None
    ended_at = None
    number = 1

    for number, raw in enumerate(itertools.islice(lines(), 1, None), 2):
        text = _decode_line(raw, number, codec, declared, warnings)
        stripped = text.strip()
        if not stripped:
            continue
        if ended_at is not None:
            warnings.append(f"line {number}: text after {_END_FILE} (line {ended_at}) was ignored")
            break
        is_document_start = stripped == _SECTION_DOCUMENT or stripped.startswith(_SECTION_DOCUMENT + "=")
        if is_document_start or stripped in _MARKERS:
            if section is not None:
                if stripped == section.end_marker:
                    if section.kind == "balance":
                        result.balances.append(_build_balance(section))
                    else:
                        result.documents.append(_build_document(section))
                    section = None
                    continue
                raise OneCFormatError(
                    f"{section.label} has no {section.end_marker}: found {stripped.partition('=')[0]} "
                    f"at line {number} first",
                    line=section.start,
                    field=section.end_marker,
                )
            if stripped == _SECTION_BALANCE:
                section = _Section("balance", number)
            elif is_document_start:
                kind = stripped.partition("=")[2] if "=" in stripped else None
                section = _Section("document", number, kind)
            elif stripped == _END_FILE:
                ended_at = number
            else:
                opening = _SECTION_BALANCE if stripped == _END_BALANCE else _SECTION_DOCUMENT
                raise OneCFormatError(f"{stripped} without a matching {opening} before it", line=number, field=stripped)
            continue
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key:
            inside = f" inside {section.label}" if section is not None else " in the header"
            expected = "Key=Value" if sep == "" else "a key before '='"
            hint = ""
            if not raw.isascii():
                hint = f" (if that text looks garbled, the file is not really {_CODEC_NAMES[codec]})"
            raise OneCFormatError(f"expected {expected}{inside}, found {_short(text)}{hint}", line=number)
        if section is not None:
            section.add(key, value, number, warnings)
        else:
            header.append((key, value, number))

    if section is not None:
        raise OneCFormatError(
            f"{section.label} has no {section.end_marker}: the file ends at line {number}",
            line=section.start,
            field=section.end_marker,
        )
    if ended_at is None:
        warnings.append(f"the file has no final {_END_FILE} line; every section was closed, so it was read as complete")
    _apply_header(result, header, warnings)
    return result


def _checked(parser, value: str, key: str, line: int, strict: bool):
    try:
        return parser(value)
    except _Problem as problem:
        if strict:
            raise OneCFormatError(f"{key}: {problem}", line=line, field=key) from None
        return _BAD


def _apply_header(result: OneCFile, header: list[tuple[str, str, int]], warnings: list[str]) -> None:
    created_date = created_time = None
    seen: dict[str, int] = {}
    for key, value, number in header:
        if key in seen and key not in _HEADER_REPEATED:
            warnings.append(
                f"line {number}: header key {key} repeats (first at line {seen[key]}); the later value is kept"
            )
        else:
            result.header_order.append(key)
        seen.setdefault(key, number)
        if key == "ВерсияФормата":
            result.format_version = _code(value)
        elif key == "Кодировка":
            pass  # already read (result.encoding)
        elif key == "Отправитель":
            result.sender = _text(value)
        elif key == "Получатель":
            result.recipient = _text(value)
        elif key == "ДатаСоздания":
            created_date = _checked(_parse_date, value, key, number, True)
        elif key == "ВремяСоздания":
            created_time = _checked(_parse_time, value, key, number, True)
        elif key == "ДатаНачала":
            result.date_from = _checked(_parse_date, value, key, number, True)
        elif key == "ДатаКонца":
            result.date_to = _checked(_parse_date, value, key, number, True)
        elif key == "РасчСчет":
            account = _code(value)
            if account:
                result.accounts.append(account)
        elif key == "Документ":
            kind = _text(value)
            if kind:
                if result.document_kind is None:
                    result.document_kind = kind
                else:
                    result.other_document_kinds.append(kind)
        else:
            result.extra[key] = value
    if created_date is not None:
        result.created = dt.datetime.combine(created_date, created_time or dt.time(0))
    elif created_time is not None:
        warnings.append("ВремяСоздания without ДатаСоздания was ignored")


def _build_balance(section: _Section) -> OneCAccountBalance:
    return _balance_from_fields(section.fields, section.start, section.lines, strict=True)


def _balance_from_fields(fields, start, key_lines, strict) -> OneCAccountBalance:
    def get(key, parser):
        value = fields.get(key)
        if value is None:
            return None
        return _checked(parser, value, key, key_lines.get(key, start), strict)

    return OneCAccountBalance(
        account=_code(fields.get("РасчСчет")),
        date_from=get("ДатаНачала", _parse_date),
        date_to=get("ДатаКонца", _parse_date),
        opening=get("НачальныйОстаток", _parse_amount),
        total_in=get("ВсегоПоступило", _parse_amount),
        total_out=get("ВсегоСписано", _parse_amount),
        closing=get("КонечныйОстаток", _parse_amount),
        fields=dict(fields),
        line=start,
    )


def _build_document(section: _Section) -> OneCDocument:
    return _document_from_fields(section.fields, section.title, section.start, section.lines, strict=True)


_COMBINED_RE = re.compile(
    r"""\s*
    (?:(?:ИНН|INN)\s*:?\s*(?P<inn_prefixed>\d{1,12})|(?P<inn>\d{12}|\d{10}))(?!\d)
    (?:[\s,;/\\]*КПП\s*:?\s*(?P<kpp>\d{9})(?!\d))?
    [\s,;/\\]*
    (?P<name>.*)$""",
    re.VERBOSE | re.DOTALL,
)


def _split_combined(value: str) -> tuple[str | None, str | None, str | None]:
    """'ИНН 1234567890 ООО Ромашка' / '1234567890, ООО Ромашка' -> (inn, kpp, name)."""
    match = _COMBINED_RE.match(value)
    if not match:
        return None, None, _text(value.strip())
    inn = match.group("inn_prefixed") or match.group("inn")
    return inn, match.group("kpp"), _text(match.group("name").strip())


def _party_from_fields(fields: dict[str, str], prefix: str) -> OneCParty:
    inn = _code(fields.get(f"{prefix}ИНН"))
    kpp = _code(fields.get(f"{prefix}КПП"))
    name = _text(fields.get(f"{prefix}1"))
    combined = fields.get(prefix)
    if combined and combined.strip() and (inn is None or name is None):
        c_inn, c_kpp, c_name = _split_combined(combined)
        inn = inn or c_inn
        kpp = kpp or c_kpp
        name = name or c_name
    return OneCParty(
        inn=inn,
        kpp=kpp,
        name=name,
        account=_code(fields.get(f"{prefix}Счет")) or _code(fields.get(f"{prefix}РасчСчет")),
        bank_name=_text(fields.get(f"{prefix}Банк1")),
        bank_city=_text(fields.get(f"{prefix}Банк2")),
        bic=_code(fields.get(f"{prefix}БИК")),
        corr_account=_code(fields.get(f"{prefix}Корсчет")),
    )


_WHITESPACE_RE = re.compile(r"\s+")


def _squeezed(text: str) -> str:
    return _WHITESPACE_RE.sub("", text).casefold()


def _purpose_from_fields(fields: dict[str, str]) -> str | None:
    """The whole purpose of a document, from ``НазначениеПлатежа`` and the lines
    ``НазначениеПлатежа1..6`` (the standard's purpose split in lines), each text once:

    * only the main key: it, exactly as written;
    * only lines: the non-empty lines joined with single spaces;
    * the main key already holds the lines' text (the standard's "both forms": the
      whole text in the main key, the same text split in lines; the lines may cut
      words anywhere, so spaces are ignored when comparing): the main key;
    * the lines start with the main key's text (the lines hold the whole text, the
      main key its first part): the lines;
    * otherwise the main key holds the first words and the lines the rest (a bank
      that writes the continuation only there): the main key, then the lines.
    """
    main = fields.get(_PURPOSE) or ""
    parts = [fields[key].strip() for key in _PURPOSE_LINES if (fields.get(key) or "").strip()]
    if not parts:
        return main if main.strip() else None
    lines = " ".join(parts)
    if not main.strip():
        return lines
    whole, split = _squeezed(main), _squeezed(lines)
    if split in whole:
        return main
    if split.startswith(whole):
        return lines
    return f"{main.rstrip()} {lines}"


def _document_from_fields(fields, kind, start, key_lines, strict) -> OneCDocument:
    def get(key, parser):
        value = fields.get(key)
        if value is None:
            return None
        return _checked(parser, value, key, key_lines.get(key, start), strict)

    amount = get("Сумма", _parse_amount)
    if amount is None:
        if strict:
            found = "an empty Сумма= line" if "Сумма" in fields else "no Сумма line"
            raise OneCFormatError(
                f"the document that starts at line {start} has {found}; expected an amount such as 1234.56",
                line=key_lines.get("Сумма", start),
                field="Сумма",
            )
        amount = _BAD
    return OneCDocument(
        kind=kind,
        number=_code(fields.get("Номер")),
        date=get("Дата", _parse_date),
        amount=amount,
        payer=_party_from_fields(fields, _PAYER),
        recipient=_party_from_fields(fields, _RECIPIENT),
        purpose=_purpose_from_fields(fields),
        date_debited=get("ДатаСписано", _parse_date),
        date_credited=get("ДатаПоступило", _parse_date),
        payment_kind=_text(fields.get("ВидПлатежа")),
        operation_type=_code(fields.get("ВидОплаты")),
        priority=_code(fields.get("Очередность")),
        uin=_code(fields.get("Код")),
        fields=dict(fields),
        line=start,
    )


# ---------------------------------------------------------------------------
# direction()
# ---------------------------------------------------------------------------


def _norm_account(account: str | None) -> str:
    return re.sub(r"\s+", "", account or "")


def direction(document: OneCDocument, own_accounts: Iterable[str]) -> str | None:
    """``"out"``, ``"in"`` or ``None`` (cannot tell) for a document of a statement.

    docs/banks.md §4: outgoing = ``ПлательщикСчет`` is ours and ``ДатаСписано`` is
    filled; incoming = ``ПолучательСчет`` is ours and ``ДатаПоступило`` is filled.
    Failing that, the accounts alone decide (only one side is ours), then the dates
    alone (only one of them is filled: a statement's document whose payer account
    is not listed as ours but which was debited is still outgoing). A transfer
    between two own accounts without a telling date is ``None``.
    """
    if isinstance(own_accounts, str):
        own_accounts = {own_accounts}
    own = {_norm_account(a) for a in own_accounts if _norm_account(a)}
    payer_own = _norm_account(document.payer.account) in own if document.payer.account else False
    recipient_own = _norm_account(document.recipient.account) in own if document.recipient.account else False
    debited = document.date_debited is not None
    credited = document.date_credited is not None
    out_rule = debited and payer_own
    in_rule = credited and recipient_own
    if out_rule != in_rule:
        return "out" if out_rule else "in"
    if not (out_rule and in_rule) and payer_own != recipient_own:
        return "out" if payer_own else "in"
    if debited != credited:
        return "out" if debited else "in"
    return None


# ---------------------------------------------------------------------------
# write()
# ---------------------------------------------------------------------------


def _layout(existing: list[str], canonical: Iterable[str], wanted: set[str]) -> list[str]:
    """Existing key order, plus each wanted key that is missing, inserted after the
    nearest canonical key before it that is present (or first)."""
    result = list(existing)
    canonical = list(canonical)
    for index, key in enumerate(canonical):
        if key not in wanted or key in result:
            continue
        position = 0
        for previous in reversed(canonical[:index]):
            if previous in result:
                position = len(result) - result[::-1].index(previous)
                break
        result.insert(position, key)
    for key in wanted:
        if key not in result:
            result.append(key)
    return result


def _combined_value(inn: str | None, name: str | None, old: str | None) -> str:
    if old is not None and not old.strip().upper().startswith(("ИНН", "INN")) and inn:
        return f"{inn}, {name or ''}".rstrip(", ")
    if inn:
        return f"ИНН {inn} {name or ''}".rstrip()
    return name or ""


_PARTY_ATTRS = ("inn", "kpp", "name", "account", "bank_name", "bank_city", "bic", "corr_account")


def _party_primary_keys(prefix: str, attr: str) -> tuple[str, ...]:
    return {
        "inn": (f"{prefix}ИНН",),
        "kpp": (f"{prefix}КПП",),
        "name": (f"{prefix}1",),
        "account": (f"{prefix}Счет", f"{prefix}РасчСчет"),
        "bank_name": (f"{prefix}Банк1",),
        "bank_city": (f"{prefix}Банк2",),
        "bic": (f"{prefix}БИК",),
        "corr_account": (f"{prefix}Корсчет",),
    }[attr]


_PARTY_ALIASES = {"account": "2"}  # <Party>2 repeats the account in bank statements


def _document_pairs(doc: OneCDocument, where: str) -> list[tuple[str, str]]:
    if not isinstance(doc, OneCDocument):
        raise OneCFormatError(f"{where}: expected an OneCDocument, got {type(doc).__name__}")
    if doc.amount is None:
        raise OneCFormatError(f"{where}: the document has no amount (Сумма)", field="Сумма")
    values = dict(doc.fields)
    built = not any(key in _DOCUMENT_MANAGED for key in values)
    old = _document_from_fields(values, doc.kind, doc.line or 0, {}, strict=False)
    new_keys: set[str] = set()

    def put(key: str, value: str) -> None:
        if key not in values:
            new_keys.add(key)
        values[key] = value

    # Amount and dates: always written in the standard form.
    put("Сумма", _render_amount(doc.amount, where, "Сумма"))
    for attr, key, always in (
        ("date", "Дата", True),
        ("date_debited", "ДатаСписано", False),
        ("date_credited", "ДатаПоступило", False),
    ):
        value = getattr(doc, attr)
        if key in values or value is not None or (built and always):
            put(key, _render_date(value, where, key))

    # Plain codes and texts: re-rendered only when the attribute changed.
    for attr, key in (
        ("number", "Номер"),
        ("payment_kind", "ВидПлатежа"),
        ("operation_type", "ВидОплаты"),
        ("priority", "Очередность"),
        ("uin", "Код"),
    ):
        value = getattr(doc, attr)
        if built or (value != getattr(old, attr) and (key in values or value)):
            put(key, value or "")

    for prefix, party, old_party in ((_PAYER, doc.payer, old.payer), (_RECIPIENT, doc.recipient, old.recipient)):
        party = party or OneCParty()
        if built:
            for attr in _PARTY_ATTRS:
                for key in _party_primary_keys(prefix, attr):
                    put(key, getattr(party, attr) or "")
            put(prefix, _combined_value(party.inn, party.name, None))
            continue
        for attr in _PARTY_ATTRS:
            value = getattr(party, attr)
            before = getattr(old_party, attr)
            if value == before:
                continue
            primary = _party_primary_keys(prefix, attr)
            present = [key for key in primary if key in values]
            for key in present or (primary[:1] if value else ()):
                put(key, value or "")
            alias = _PARTY_ALIASES.get(attr)
            if alias and before and (values.get(prefix + alias) or "").strip() == before:
                put(prefix + alias, value or "")
        if (party.inn != old_party.inn or party.name != old_party.name) and (values.get(prefix) or "").strip():
            put(prefix, _combined_value(party.inn, party.name, values[prefix]))

    if built:
        put(_PURPOSE, doc.purpose or "")
    elif doc.purpose != old.purpose:
        numbered = [key for key in _PURPOSE_LINES if key in values]
        had_lines = any(values[key].strip() for key in numbered)
        if _PURPOSE in values or not had_lines:
            put(_PURPOSE, doc.purpose or "")
        if had_lines:
            for key in numbered:
                put(key, "")
            if doc.purpose:
                put(numbered[0], doc.purpose)

    order = _layout(list(doc.fields), _DOCUMENT_LAYOUT, new_keys)
    return [(key, values[key]) for key in order]


def _balance_pairs(balance: OneCAccountBalance, where: str) -> list[tuple[str, str]]:
    values = dict(balance.fields)
    built = not any(key in _BALANCE_KEYS for key in values)
    old = _balance_from_fields(values, balance.line or 0, {}, strict=False)
    new_keys: set[str] = set()

    def put(key: str, value: str) -> None:
        if key not in values:
            new_keys.add(key)
        values[key] = value

    if (built or balance.account != old.account) and (built or "РасчСчет" in values or balance.account):
        put("РасчСчет", balance.account or "")
    for attr, key, render in (
        ("date_from", "ДатаНачала", _render_date),
        ("date_to", "ДатаКонца", _render_date),
        ("opening", "НачальныйОстаток", _render_amount),
        ("total_in", "ВсегоПоступило", _render_amount),
        ("total_out", "ВсегоСписано", _render_amount),
        ("closing", "КонечныйОстаток", _render_amount),
    ):
        value = getattr(balance, attr)
        if built or key in values or value is not None:
            put(key, render(value, where, key))
    order = _layout(list(balance.fields), _BALANCE_KEYS, new_keys)
    return [(key, values[key]) for key in order]


def _header_pairs(file: OneCFile, encoding: str) -> list[tuple[str, str]]:
    where = "header"
    built = not file.header_order
    created = file.created
    singles = {
        "ВерсияФормата": file.format_version or "1.03",
        "Кодировка": encoding,
        "Отправитель": file.sender,
        "Получатель": file.recipient,
        "ДатаСоздания": _render_date(created, where, "ДатаСоздания") if created else None,
        "ВремяСоздания": created.strftime("%H:%M:%S") if created else None,
        "ДатаНачала": _render_date(file.date_from, where, "ДатаНачала") if file.date_from else None,
        "ДатаКонца": _render_date(file.date_to, where, "ДатаКонца") if file.date_to else None,
    }
    wanted = {"ВерсияФормата", "Кодировка"}
    for key, value in singles.items():
        if value is not None:
            wanted.add(key)
    if built:
        wanted |= {"ДатаНачала", "ДатаКонца"}
    elif created is not None and "ДатаСоздания" in file.header_order and created.time() == dt.time(0):
        wanted.discard("ВремяСоздания")  # the file had no time; keep it that way
    accounts = list(file.accounts)
    kinds = ([file.document_kind] if file.document_kind else []) + list(file.other_document_kinds)
    if accounts:
        wanted.add("РасчСчет")
    if kinds:
        wanted.add("Документ")
    extras = [key for key in file.extra if key not in file.header_order]
    order = _layout(list(file.header_order), _HEADER_KEYS, wanted)
    order = [key for key in order if key in _HEADER_KEYS or key in file.extra] + extras

    pairs: list[tuple[str, str]] = []
    for index, key in enumerate(order):
        if key in _HEADER_REPEATED:
            queue = accounts if key == "РасчСчет" else kinds
            if key in order[index + 1 :]:
                if queue:
                    pairs.append((key, queue.pop(0)))
            else:
                pairs.extend((key, value) for value in queue)
                queue.clear()
        elif key in singles:
            pairs.append((key, singles[key] or ""))
        else:
            pairs.append((key, file.extra[key]))
    return pairs


def _document_label(index: int, doc: OneCDocument) -> str:
    label = f"document {index}"
    details = []
    if getattr(doc, "number", None):
        details.append(f"Номер={doc.number}")
    if getattr(doc, "line", None):
        details.append(f"read from line {doc.line}")
    return f"{label} ({', '.join(details)})" if details else label


def write(file: OneCFile, encoding: str | None = None) -> bytes:
    """Serialise ``file`` as a standard 1CClientBankExchange file (CRLF line ends).

    :param encoding: ``"Windows"`` (cp1251) or ``"DOS"`` (cp866); by default the
        file's own ``encoding`` when that is one of them, else ``"Windows"``. The
        ``Кодировка=`` line written is this value.
    :raises OneCFormatError: a character cannot be represented in the encoding, a
        value contains a line break, an amount has fractions of a kopeck, a
        document has no amount... The message names the document and the key.
    """
    if encoding is None:
        encoding = file.encoding if file.encoding in ENCODINGS else "Windows"
    if encoding not in ENCODINGS:
        raise OneCFormatError(
            f"cannot write Кодировка={encoding!r}: expected one of {', '.join(ENCODINGS)}",
            field="Кодировка",
        )
    codec = ENCODINGS[encoding]
    out: list[bytes] = []

    def emit(line: str, where: str, key: str | None) -> None:
        try:
            out.append(line.encode(codec))
        except UnicodeEncodeError as exc:
            char = line[exc.start]
            what = f"key {key}" if key else "line"
            raise OneCFormatError(
                f"{where}: {what} contains {char!r} (U+{ord(char):04X}), which cannot be written in "
                f"{_CODEC_NAMES[codec]} (Кодировка={encoding}); value {_short(line.partition('=')[2] if key else line)}",
                field=key,
            ) from None

    def emit_pair(key: str, value, where: str) -> None:
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise OneCFormatError(f"{where}: value of {key} must be a string, got {type(value).__name__}", field=key)
        if not key or "=" in key or any(c in key for c in "\r\n") or key.strip() != key:
            raise OneCFormatError(f"{where}: {key!r} is not a valid key", field=key)
        if key in _MARKERS:
            raise OneCFormatError(f"{where}: {key} is a section marker, not a key", field=key)
        if "\r" in value or "\n" in value:
            raise OneCFormatError(
                f"{where}: {key} contains a line break, which the format cannot hold; value {_short(value)}",
                field=key,
            )
        emit(f"{key}={value}", where, key)

    emit(FIRST_LINE, "header", None)
    for key, value in _header_pairs(file, encoding):
        emit_pair(key, value, "header")
    for index, balance in enumerate(file.balances, 1):
        where = f"{_SECTION_BALANCE} {index}" + (f" (read from line {balance.line})" if balance.line else "")
        emit(_SECTION_BALANCE, where, None)
        for key, value in _balance_pairs(balance, where):
            emit_pair(key, value, where)
        emit(_END_BALANCE, where, None)
    for index, doc in enumerate(file.documents, 1):
        where = _document_label(index, doc)
        kind = getattr(doc, "kind", None)
        if kind is not None and ("\r" in kind or "\n" in kind):
            raise OneCFormatError(f"{where}: the document kind contains a line break", field=_SECTION_DOCUMENT)
        pairs = _document_pairs(doc, where)
        emit(_SECTION_DOCUMENT if kind is None else f"{_SECTION_DOCUMENT}={kind}", where, None)
        for key, value in pairs:
            emit_pair(key, value, where)
        emit(_END_DOCUMENT, where, None)
    emit(_END_FILE, "end of file", None)
    return b"\r\n".join(out) + (b"\r\n" if file.final_newline else b"")


# ---------------------------------------------------------------------------
# Builders for the two standard uses
# ---------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def statement_file(
    account: str,
    date_from: dt.date,
    date_to: dt.date,
    documents: Iterable[OneCDocument] = (),
    *,
    opening: Decimal | None = None,
    total_in: Decimal | None = None,
    total_out: Decimal | None = None,
    closing: Decimal | None = None,
    sender: str | None = None,
    recipient: str | None = "1С:Предприятие",
    created: dt.datetime | None = None,
    encoding: str = "Windows",
    format_version: str = "1.03",
) -> OneCFile:
    """A bank statement of one account for 1C (``kl_to_1c.txt``).

    The documents are taken as given (give each its ``kind``, e.g.
    ``"Платежное поручение"``, and ``date_debited``/``date_credited``).
    ``total_in``/``total_out`` default to the sums of the incoming/outgoing
    documents (by :func:`direction` against ``account``); ``closing`` defaults to
    ``opening + total_in - total_out`` when ``opening`` is given. ``created``
    defaults to now.

    :raises OneCFormatError: a total has to be computed but a document's direction
        cannot be told.
    """
    documents = list(documents)
    if total_in is None or total_out is None:
        sums = {"in": Decimal("0.00"), "out": Decimal("0.00")}
        for index, doc in enumerate(documents, 1):
            way = direction(doc, {account})
            if way is None:
                raise OneCFormatError(
                    f"{_document_label(index, doc)}: cannot tell whether it is incoming or outgoing for "
                    f"account {account} (set ДатаСписано/ДатаПоступило and the accounts, or pass "
                    f"total_in and total_out)"
                )
            sums[way] += doc.amount
        total_in = sums["in"] if total_in is None else total_in
        total_out = sums["out"] if total_out is None else total_out
    if closing is None and opening is not None:
        closing = opening + total_in - total_out
    balance = OneCAccountBalance(
        account=account,
        date_from=date_from,
        date_to=date_to,
        opening=opening,
        total_in=total_in,
        total_out=total_out,
        closing=closing,
    )
    return OneCFile(
        format_version=format_version,
        encoding=encoding,
        sender=sender,
        recipient=recipient,
        created=created or _now(),
        date_from=date_from,
        date_to=date_to,
        accounts=[account],
        balances=[balance],
        documents=documents,
        codec=ENCODINGS.get(encoding),
    )


def payment_orders_file(
    documents: Iterable[OneCDocument],
    *,
    accounts: Iterable[str] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    sender: str | None = "Odoo",
    recipient: str | None = None,
    created: dt.datetime | None = None,
    encoding: str = "Windows",
    format_version: str = "1.03",
    document_kind: str = _PAYMENT_ORDER,
) -> OneCFile:
    """Payment orders for the bank (``1c_to_kl.txt``).

    Each document is copied; a copy without ``kind`` gets ``document_kind``
    (written ``СекцияДокумент=Платежное поручение``), and for payment orders a
    missing ``operation_type`` becomes ``"01"`` and a missing ``priority`` ``"5"``.
    ``accounts`` default to the payers' accounts (in order, without repeats);
    ``date_from``/``date_to`` to the earliest/latest document date; ``created`` to
    now.

    :raises OneCFormatError: no period can be set (no dates given, none on the
        documents).
    """
    prepared = []
    for doc in documents:
        changes = {}
        if doc.kind is None:
            changes["kind"] = document_kind
        if document_kind == _PAYMENT_ORDER:
            if doc.operation_type is None:
                changes["operation_type"] = "01"
            if doc.priority is None:
                changes["priority"] = "5"
        prepared.append(dataclasses.replace(doc, **changes) if changes else doc)
    if accounts is None:
        accounts = []
        for doc in prepared:
            if doc.payer.account and doc.payer.account not in accounts:
                accounts.append(doc.payer.account)
    dates = [doc.date for doc in prepared if doc.date is not None]
    date_from = date_from or (min(dates) if dates else None)
    date_to = date_to or (max(dates) if dates else None)
    if date_from is None or date_to is None:
        raise OneCFormatError("payment orders file: give date_from/date_to or documents with a date")
    return OneCFile(
        format_version=format_version,
        encoding=encoding,
        sender=sender,
        recipient=recipient,
        created=created or _now(),
        date_from=date_from,
        date_to=date_to,
        accounts=list(accounts),
        document_kind=document_kind,
        documents=prepared,
        codec=ENCODINGS.get(encoding),
    )
