"""1C ClientBankExchange reader/writer (`bank_api.onec`), plain pytest, no Odoo.

Fixtures in data/onec/ are the public samples of dronm/clbnk (MIT):
`kl_to_1c.txt` (bank statement, cp1251, CRLF) and `1c_to_kl.txt` (payment orders
exported by 1C; cp1251, but its first line ends with a bare LF and its final
`КонецФайла` is UTF-8 encoded: a real-world untidy file).
"""

import ast
import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from bank_api import onec
from bank_api.onec import (
    OneCAccountBalance,
    OneCDocument,
    OneCFile,
    OneCFormatError,
    OneCParty,
    direction,
    parse,
    payment_orders_file,
    statement_file,
    write,
)

DATA = Path(__file__).parent / "data" / "onec"
OWN = "40702810000000074935"


@pytest.fixture(scope="module")
def kl_bytes():
    return (DATA / "kl_to_1c.txt").read_bytes()


@pytest.fixture(scope="module")
def orders_bytes():
    return (DATA / "1c_to_kl.txt").read_bytes()


@pytest.fixture()
def kl_lines(kl_bytes):
    """The statement as a list of str lines (1-based line N is kl_lines[N - 1])."""
    return kl_bytes.decode("cp1251").split("\r\n")


def build(lines, encoding="cp1251"):
    return "\r\n".join(lines).encode(encoding)


def error_of(data) -> OneCFormatError:
    with pytest.raises(OneCFormatError) as info:
        parse(data)
    return info.value


# ---------------------------------------------------------------------------
# The bank statement sample (kl_to_1c.txt)
# ---------------------------------------------------------------------------


def test_statement_header(kl_bytes):
    f = parse(kl_bytes)
    assert f.format_version == "1.03"
    assert f.encoding == "Windows"
    assert f.codec == "cp1251"
    assert f.sender == "Банк Клиент Онлайн"
    assert f.recipient == "1С:Предприятие"
    assert f.created == dt.datetime(2024, 4, 12, 10, 28, 35)
    assert (f.date_from, f.date_to) == (dt.date(2024, 1, 1), dt.date(2024, 4, 11))
    assert f.accounts == [OWN]
    assert f.document_kind is None
    assert f.extra == {}
    assert f.warnings == []


def test_statement_balance_section_read_as_written(kl_bytes):
    f = parse(kl_bytes)
    assert len(f.balances) == 1
    b = f.balances[0]
    assert b.account == OWN
    assert (b.date_from, b.date_to) == (dt.date(2024, 1, 1), dt.date(2024, 4, 11))
    assert b.opening == Decimal("252842.49")
    assert b.total_in == Decimal("616050.00")
    assert b.total_out == Decimal("789647.44")
    assert b.closing == Decimal("79245.05")
    assert all(isinstance(v, Decimal) for v in (b.opening, b.total_in, b.total_out, b.closing))
    assert b.opening + b.total_in - b.total_out == b.closing
    assert b.line == 11
    # The documents don't add up to the totals (README): the file is still accepted.
    assert sum(d.amount for d in f.documents) != b.total_out


def test_statement_documents(kl_bytes):
    f = parse(kl_bytes)
    assert len(f.documents) == 3
    d1, d2, d3 = f.documents
    assert [d.kind for d in f.documents] == ["Банковский ордер", "Платежное поручение", "Платежное поручение"]
    assert [d.number for d in f.documents] == ["69147", "1", "2"]
    assert [d.date for d in f.documents] == [dt.date(2024, 1, 1), dt.date(2024, 1, 9), dt.date(2024, 1, 10)]
    assert [d.amount for d in f.documents] == [Decimal("6936.00"), Decimal("13056.00"), Decimal("150000.00")]
    assert [d.line for d in f.documents] == [20, 86, 152]
    assert [d.operation_type for d in f.documents] == ["17", "01", "01"]
    assert [d.priority for d in f.documents] == ["5", "5", "5"]
    assert [d.date_debited for d in f.documents] == [dt.date(2024, 1, 1), dt.date(2024, 1, 9), dt.date(2024, 1, 10)]
    assert [d.date_credited for d in f.documents] == [None, None, None]
    assert d1.payment_kind is None and d1.uin is None

    assert d1.payer == OneCParty(
        inn="7777777777",
        kpp="770401001",
        name='ООО "Ромашка"',
        account=OWN,
        bank_name='ФИЛИАЛ "ЦЕНТРАЛЬНЫЙ" БАНКА ВТБ (ПАО)',
        bank_city=None,
        bic="044525411",
        corr_account="30101810145250000411",
    )
    assert d1.recipient.inn == "7702070139"
    assert d1.recipient.kpp == "770943002"
    assert d1.recipient.account == "47422810119484000074"
    # doc 2's payer account differs from the statement account (README): accepted.
    assert d2.payer.account == "40702810000000077777"
    assert d2.payer.inn == "7123456789"
    assert d2.recipient.inn == "7123456789012"
    assert d2.recipient.name == "ИП Пупкин О.А."
    assert d2.recipient.bank_name == "ЗАПАДНО-СИБИРСКОЕ ОТДЕЛЕНИЕ№8647 ПАО СБЕРБАНК"
    assert d2.recipient.bic == "047102651"
    assert d3.payer.name == 'ООО "Пупкин и К"'
    assert d3.payer.account == OWN

    # Purposes: Cyrillic, "№", "ё", and the trailing space of doc 1 kept untouched.
    assert d1.purpose == (
        'Оплата стоимости пакета услуг "Всё по делу" за период с 01/01/2024 по 31/12/2024 '
        "согласно тарифам Банка (п. 17.2.1.). НДС не облагается. "
    )
    assert d2.purpose == d3.purpose == "Оплата по заказу клиента №9614, НДС не облагается"

    # Every raw key kept, in file order.
    assert len(d1.fields) == 64
    assert list(d1.fields)[:6] == ["Номер", "Дата", "Сумма", "КвитанцияДата", "КвитанцияВремя", "КвитанцияСодержание"]
    assert list(d1.fields)[-1] == "ДатаОтсылкиДок"
    assert d1.fields["КодНазПлатежа"] == ""
    assert d1.fields["ПоказательНомера"] == "0"
    assert list(d3.fields)[8:11] == ["Плательщик", "Плательщик1", "ПлательщикИНН"]


def test_statement_directions(kl_bytes):
    f = parse(kl_bytes)
    assert [direction(d, {OWN}) for d in f.documents] == ["out", "out", "out"]
    # doc 2 (payer account not ours) is outgoing by its ДатаСписано.
    assert direction(f.documents[1], {OWN}) == "out"


# ---------------------------------------------------------------------------
# The payment orders sample (1c_to_kl.txt)
# ---------------------------------------------------------------------------


def test_payment_orders_sample(orders_bytes):
    f = parse(orders_bytes)
    assert f.encoding == "Windows" and f.codec == "cp1251"
    assert f.sender == "Бухгалтерия предприятия, редакция 3.0"
    assert f.recipient is None
    assert f.created == dt.datetime(2024, 6, 10, 11, 15, 38)
    assert f.date_from == f.date_to == dt.date(2024, 6, 10)
    assert f.accounts == []
    assert f.document_kind == "Платежное поручение"
    assert f.balances == []
    assert len(f.documents) == 2
    d1, d2 = f.documents
    assert d1.kind is None and d2.kind is None  # bare "СекцияДокумент"
    assert [d.line for d in f.documents] == [10, 42]
    assert [d.number for d in f.documents] == ["1", "2"]
    assert [d.amount for d in f.documents] == [Decimal("175000.00"), Decimal("375.25")]
    assert d1.payer.inn == "1234567891"
    assert d1.payer.name == 'ООО "Рога и Копыта"'
    assert d1.payer.kpp is None
    assert d1.payer.account == "12345678901234567890"  # from ПлательщикРасчСчет
    assert d1.payer.bank_name == "Объёббанк ОАО"
    assert d1.payer.bank_city == "г. Москва"
    assert d1.recipient.inn == "111122223344"
    assert d1.recipient.name == "ИП Иванов А.А."
    assert d1.recipient.account == "12345678901234567890"  # from ПолучательСчет
    assert d2.recipient.bank_name is None and d2.recipient.bic is None
    assert d1.payment_kind == "Электронно"
    assert d1.operation_type == "01" and d1.priority == "5"
    assert d1.purpose == "За товары, по счету №125 на сумму 175000-00"
    assert d2.purpose == "За товары, по счету №777 на сумму 375-25 Plus NDS 111-16"
    assert d2.fields["НазначениеПлатежа2"] == "Plus NDS 111-16"
    # Its last line "КонецФайла" is UTF-8 in a cp1251 file: read, with a warning.
    assert any("line 75" in w and "UTF-8" in w for w in f.warnings)


def test_payment_orders_directions(orders_bytes):
    d1, _ = parse(orders_bytes).documents
    # No ДатаСписано/ДатаПоступило and both accounts equal: cannot tell.
    assert direction(d1, {"12345678901234567890"}) is None
    assert direction(d1, {"40702810000000000000"}) is None


def test_purpose_from_numbered_lines_when_main_line_missing(orders_bytes):
    text = orders_bytes.decode("cp1251", errors="replace")
    text = text.replace("НазначениеПлатежа=За товары, по счету №777 на сумму 375-25 Plus NDS 111-16\r\n", "")
    d2 = parse(text.encode("cp1251", errors="replace")).documents[1]
    assert "НазначениеПлатежа" not in d2.fields
    assert d2.purpose == "За товары, по счету №777 на сумму 375-25 Plus NDS 111-16"


def test_empty_main_purpose_falls_back_to_numbered_lines(kl_lines):
    kl_lines[122] = "НазначениеПлатежа="
    kl_lines[123] = "НазначениеПлатежа1=Оплата по заказу"
    kl_lines[125] = "НазначениеПлатежа3=  №9614  "
    assert parse(build(kl_lines)).documents[1].purpose == "Оплата по заказу №9614"


# ---------------------------------------------------------------------------
# Parties: split vs combined form
# ---------------------------------------------------------------------------


def test_combined_party_used_when_split_keys_missing(kl_lines):
    lines = [
        l
        for l in kl_lines[:85]
        if not l.startswith(("ПлательщикИНН=", "Плательщик1=", "ПолучательИНН=", "Получатель1="))
    ]
    lines += ["КонецФайла"]
    d = parse(build(lines)).documents[0]
    assert d.payer.inn == "7777777777"
    assert d.payer.name == 'ООО "Ромашка"'
    assert d.recipient.inn == "7702070139"
    assert d.recipient.name == 'ФИЛИАЛ "ЦЕНТРАЛЬНЫЙ" БАНКА ВТБ (ПАО)'


@pytest.mark.parametrize(
    "combined, inn, kpp, name",
    [
        ("ИНН 1234567890 ООО Ромашка", "1234567890", None, "ООО Ромашка"),
        ("ИНН 1234567890 КПП 770401001 ООО «Ромашка»", "1234567890", "770401001", "ООО «Ромашка»"),
        ("1234567890, ООО Ромашка", "1234567890", None, "ООО Ромашка"),
        ("123456789012 ИП Иванов И.И.", "123456789012", None, "ИП Иванов И.И."),
        ("ООО Ромашка", None, None, "ООО Ромашка"),
    ],
)
def test_combined_party_forms(combined, inn, kpp, name):
    data = build(
        [
            "1CClientBankExchange",
            "ВерсияФормата=1.03",
            "Кодировка=Windows",
            "СекцияДокумент=Платежное поручение",
            "Сумма=1.00",
            f"Плательщик={combined}",
            "ПлательщикИНН=",
            "Получатель=ИНН 7702070139 Банк",
            "ПолучательИНН=7702070138",
            "КонецДокумента",
            "КонецФайла",
        ]
    )
    d = parse(data).documents[0]
    assert (d.payer.inn, d.payer.kpp, d.payer.name) == (inn, kpp, name)
    # The split form wins when both are present.
    assert d.recipient.inn == "7702070138"
    assert d.recipient.name == "Банк"


def test_payer_account_prefers_schet_over_raschschet():
    data = build(
        [
            "1CClientBankExchange",
            "Кодировка=Windows",
            "СекцияДокумент",
            "Сумма=1",
            "ПлательщикРасчСчет=40702810000000000002",
            "ПлательщикСчет=40702810000000000001",
            "КонецДокумента",
            "КонецФайла",
        ]
    )
    assert parse(data).documents[0].payer.account == "40702810000000000001"


# ---------------------------------------------------------------------------
# Encodings and line endings
# ---------------------------------------------------------------------------


def test_dos_encoding(kl_bytes):
    dos = kl_bytes.decode("cp1251").replace("Кодировка=Windows", "Кодировка=DOS").encode("cp866")
    f = parse(dos)
    assert f.encoding == "DOS" and f.codec == "cp866"
    assert f.warnings == []
    assert f == dataclasses.replace(parse(kl_bytes), encoding="DOS")
    assert f.documents[0].purpose.startswith('Оплата стоимости пакета услуг "Всё по делу"')


def test_lf_only_line_endings(kl_bytes):
    lf = kl_bytes.replace(b"\r\n", b"\n")
    assert b"\r" not in lf
    f = parse(lf)
    assert f == parse(kl_bytes)
    assert [d.line for d in f.documents] == [20, 86, 152]


def test_utf8_with_bom_despite_windows_header(kl_bytes):
    utf8 = b"\xef\xbb\xbf" + kl_bytes.decode("cp1251").encode("utf-8")
    f = parse(utf8)
    assert f.codec == "utf-8"
    assert f == parse(kl_bytes)
    assert any("UTF-8" in w for w in f.warnings)


def test_utf8_without_bom_is_detected(kl_bytes):
    f = parse(kl_bytes.decode("cp1251").encode("utf-8"))
    assert f.codec == "utf-8"
    assert f == parse(kl_bytes)
    assert any("Кодировка=Windows" in w for w in f.warnings)


def test_header_that_lies_is_overridden_by_the_bytes(kl_bytes):
    # cp1251 bytes under "Кодировка=DOS"
    lying = kl_bytes.decode("cp1251").replace("Кодировка=Windows", "Кодировка=DOS").encode("cp1251")
    f = parse(lying)
    assert f.encoding == "DOS" and f.codec == "cp1251"
    assert f.documents == parse(kl_bytes).documents
    assert any("Кодировка=DOS" in w and "cp1251" in w for w in f.warnings)
    # cp866 bytes under "Кодировка=Windows"
    f = parse(kl_bytes.decode("cp1251").encode("cp866"))
    assert f.codec == "cp866"
    assert f.documents == parse(kl_bytes).documents


def test_missing_encoding_header_is_detected(kl_lines):
    del kl_lines[2]
    for codec in ("cp1251", "cp866"):
        f = parse(build(kl_lines, codec))
        assert f.encoding is None and f.codec == codec
        assert f.documents[2].recipient.name == "ИП Пупкин О.А."
        assert any("no Кодировка" in w for w in f.warnings)


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------


def test_round_trip_statement_is_byte_identical(kl_bytes):
    f = parse(kl_bytes)
    out = write(f)
    assert out == kl_bytes
    assert parse(out) == f


def test_round_trip_payment_orders(orders_bytes):
    f = parse(orders_bytes)
    out = write(f)
    again = parse(out)
    assert again == f
    assert again.warnings == []
    assert [d.line for d in again.documents] == [10, 42]
    # The output is a clean standard file: cp1251, CRLF everywhere.
    text = out.decode("cp1251")
    assert out.count(b"\n") == out.count(b"\r\n")
    assert text.startswith("1CClientBankExchange\r\nВерсияФормата=1.03\r\nКодировка=Windows\r\n")
    assert text.endswith("КонецДокумента\r\nКонецФайла\r\n")
    assert "\r\nСекцияДокумент\r\nНомер=1\r\n" in text  # bare section kept bare


def test_round_trip_in_dos(kl_bytes, orders_bytes):
    f = parse(kl_bytes)
    out = write(f, encoding="DOS")
    expected = kl_bytes.decode("cp1251").replace("Кодировка=Windows", "Кодировка=DOS").encode("cp866")
    assert out == expected
    assert parse(out) == dataclasses.replace(f, encoding="DOS")
    # Writing a DOS file again defaults to DOS.
    assert write(parse(out)) == out
    g = parse(orders_bytes)
    assert parse(write(g, "DOS")) == dataclasses.replace(g, encoding="DOS")
    assert parse(write(parse(write(g, "DOS")), "Windows")) == g


def test_round_trip_without_final_newline_and_with(kl_bytes):
    assert not kl_bytes.endswith(b"\n")
    f = parse(kl_bytes + b"\r\n")
    assert f.final_newline
    assert write(f) == kl_bytes + b"\r\n"


def test_modified_document_is_written_from_its_attributes(kl_bytes):
    f = parse(kl_bytes)
    d = f.documents[1]
    d.amount = Decimal("13056.5")
    d.date = dt.date(2024, 1, 11)
    d.payer.name = "ООО «Рога и копыта»"
    d.recipient.account = "40702810900000000001"
    d.purpose = "Новое назначение"
    d.uin = "0"
    again = parse(write(f)).documents[1]
    assert again.amount == Decimal("13056.50")
    assert again.fields["Сумма"] == "13056.50"
    assert again.date == dt.date(2024, 1, 11)
    assert again.payer.name == "ООО «Рога и копыта»"
    assert again.fields["Плательщик"] == "7123456789, ООО «Рога и копыта»"  # combined, same style
    assert again.recipient.account == "40702810900000000001"
    assert again.fields["ПолучательРасчСчет"] == "40702810900000000001"
    assert again.fields["Получатель2"] == "40702810900000000001"  # alias that repeated the account
    assert again.purpose == "Новое назначение"
    assert again.uin == "0"
    # Untouched keys keep their value and their order.
    assert list(again.fields) == list(parse(kl_bytes).documents[1].fields)
    assert again.fields["КвитанцияВремя"] == "00:00:00"
    # Same attributes; write() did not touch the caller's stale raw `fields`.
    assert dataclasses.replace(again, fields=d.fields) == d
    assert d.fields["Сумма"] == "13056.00"


def test_modified_purpose_with_numbered_lines(orders_bytes):
    f = parse(orders_bytes)
    f.documents[1].purpose = "Оплата по счёту №778"
    again = parse(write(f)).documents[1]
    assert again.purpose == "Оплата по счёту №778"
    assert again.fields["НазначениеПлатежа1"] == "Оплата по счёту №778"
    assert again.fields["НазначениеПлатежа2"] == ""


# ---------------------------------------------------------------------------
# Lenient reading of values
# ---------------------------------------------------------------------------


def test_comma_amounts_iso_and_empty_dates_are_read_and_normalised(kl_lines):
    kl_lines[22] = "Сумма=6936,5"
    kl_lines[14] = "НачальныйОстаток=252 842,49"
    kl_lines[21] = "Дата=2024-01-01"
    kl_lines[40] = "ДатаПоступило=00.00.0000"
    f = parse(build(kl_lines))
    d = f.documents[0]
    assert d.amount == Decimal("6936.50")
    assert f.balances[0].opening == Decimal("252842.49")
    assert d.date == dt.date(2024, 1, 1)
    assert d.date_credited is None
    text = write(f).decode("cp1251")
    assert "\r\nСумма=6936.50\r\n" in text
    assert "\r\nНачальныйОстаток=252842.49\r\n" in text
    assert "\r\nДата=01.01.2024\r\n" in text
    assert "\r\nДатаПоступило=\r\n" in text
    assert parse(write(f)) == parse(write(parse(write(f))))  # normalised form is a fixed point


def test_blank_lines_and_missing_final_marker_tolerated(kl_lines):
    kl_lines.insert(19, "")
    del kl_lines[-1]  # КонецФайла
    f = parse(build(kl_lines))
    assert len(f.documents) == 3
    assert any("КонецФайла" in w for w in f.warnings)


def test_text_after_end_of_file_is_ignored(kl_bytes):
    f = parse(kl_bytes + b"\r\n\x1a garbage")
    assert len(f.documents) == 3
    assert any("after КонецФайла" in w for w in f.warnings)


def test_unknown_header_keys_and_repeated_accounts_kept(kl_lines):
    kl_lines.insert(10, "РасчСчет=40702810000000077777")
    kl_lines.insert(11, "МояНастройка=значение = с равенством")
    f = parse(build(kl_lines))
    assert f.accounts == [OWN, "40702810000000077777"]
    assert f.extra == {"МояНастройка": "значение = с равенством"}
    assert write(f) == build(kl_lines)


# ---------------------------------------------------------------------------
# Broken input: OneCFormatError with the right line
# ---------------------------------------------------------------------------


def test_error_is_a_value_error_with_line():
    e = error_of(b"")
    assert isinstance(e, ValueError)
    assert e.line == 1
    assert str(e).startswith("line 1: ")
    assert "empty" in str(e)
    assert error_of(b"  \r\n\r\n").line == 1


def test_garbage_first_line():
    e = error_of("Здравствуйте\r\nВерсияФормата=1.03\r\n".encode("cp1251"))
    assert e.line == 1
    assert "1CClientBankExchange" in str(e) and "Здравствуйте" in str(e)
    e = error_of(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert e.line == 1


def test_undecodable_byte_names_the_line(kl_bytes):
    broken = kl_bytes.replace("Плательщик1=ООО \"Ромашка\"".encode("cp1251"), b"\xcf\xeb\xe0\x98\xf2=x")
    e = error_of(broken)
    assert e.line == 31
    assert "0x98" in str(e) and "cp1251" in str(e)


def test_text_in_an_unsupported_encoding(kl_bytes):
    koi8 = kl_bytes.decode("cp1251").encode("koi8_r", errors="replace")
    e = error_of(koi8)
    assert e.line == 3  # the Кодировка= line, found by its ASCII value
    assert "encoding" in str(e) and "cp1251" in str(e)
    e = error_of(koi8.replace(b"=Windows", "=Кодировка".encode("koi8_r")))
    assert e.line == 1 and "no readable Кодировка" in str(e)
    # Only the Кодировка line readable: the first garbled structural line fails, with a hint.
    mixed = kl_bytes.decode("cp1251").encode("koi8_r", errors="replace").split(b"\r\n")
    mixed[2] = "Кодировка=Windows".encode("cp1251")
    e = error_of(b"\r\n".join(mixed))
    assert e.line == 11 and "not really cp1251" in str(e)


def test_missing_end_of_document_names_its_start_line(kl_lines):
    del kl_lines[84]  # КонецДокумента of the document starting at line 20
    e = error_of(build(kl_lines))
    assert e.line == 20
    assert "КонецДокумента" in str(e) and "line 20" in str(e) and "line 85" in str(e)


def test_missing_end_of_last_document(kl_lines):
    del kl_lines[216]  # last КонецДокумента: КонецФайла comes first
    e = error_of(build(kl_lines))
    assert e.line == 152
    assert "КонецФайла" in str(e)


def test_truncated_file_names_the_open_section(kl_bytes, kl_lines):
    e = error_of(build(kl_lines[:170]))
    assert e.line == 152
    assert "ends" in str(e)
    e = error_of(build(kl_lines[:16]))
    assert e.line == 11
    assert "КонецРасчСчет" in str(e)


def test_bad_amount_names_line_and_value(kl_lines):
    kl_lines[88] = "Сумма=13 056.OO"
    e = error_of(build(kl_lines))
    assert e.line == 89
    assert e.field == "Сумма"
    assert "13 056.OO" in str(e)
    kl_lines[88] = "Сумма=13056.001"
    e = error_of(build(kl_lines))
    assert e.line == 89 and "13056.001" in str(e)


def test_bad_balance_amount(kl_lines):
    kl_lines[17] = "КонечныйОстаток=79245.05 руб"
    e = error_of(build(kl_lines))
    assert e.line == 18 and "79245.05 руб" in str(e)


def test_missing_or_empty_amount_names_the_document(kl_lines):
    kl_lines[88] = "Сумма="
    e = error_of(build(kl_lines))
    assert e.line == 89 and "Сумма" in str(e)
    del kl_lines[88]
    e = error_of(build(kl_lines))
    assert e.line == 86 and "no Сумма" in str(e)


def test_bad_date_names_line_and_value(kl_lines):
    kl_lines[87] = "Дата=32.01.2024"
    e = error_of(build(kl_lines))
    assert e.line == 88 and "32.01.2024" in str(e) and "dd.mm.yyyy" in str(e)
    kl_lines[87] = "Дата=09.01.2024"
    kl_lines[5] = "ДатаСоздания=12/04/2024"
    e = error_of(build(kl_lines))
    assert e.line == 6 and "12/04/2024" in str(e)


def test_line_without_equals_inside_a_section(kl_lines):
    kl_lines[100] = "Плательщик4 без знака равенства"
    e = error_of(build(kl_lines))
    assert e.line == 101
    assert "Key=Value" in str(e) and "line 86" in str(e)


def test_end_marker_without_a_section(kl_lines):
    kl_lines.insert(10, "КонецДокумента")
    e = error_of(build(kl_lines))
    assert e.line == 11 and "СекцияДокумент" in str(e)


# ---------------------------------------------------------------------------
# write(): refusals
# ---------------------------------------------------------------------------


def _simple_file(**doc_changes):
    doc = OneCDocument(
        kind="Платежное поручение",
        number="7",
        date=dt.date(2024, 6, 10),
        amount=Decimal("100.00"),
        payer=OneCParty(inn="7707083893", name="ООО «Ромашка»", account=OWN),
        recipient=OneCParty(inn="7702070139", name="ИП Иванов", account="40702810267020000630"),
        purpose="Оплата",
    )
    return OneCFile(
        date_from=dt.date(2024, 6, 10),
        date_to=dt.date(2024, 6, 10),
        documents=[dataclasses.replace(doc, **doc_changes)],
    )


def test_unrepresentable_character_names_document_and_field():
    with pytest.raises(OneCFormatError) as info:
        write(_simple_file(purpose="Оплата 🙂"))
    assert info.value.field == "НазначениеПлатежа"
    assert "document 1" in str(info.value) and "Номер=7" in str(info.value)
    assert "U+1F642" in str(info.value)
    # «» exist in cp1251 but not in cp866.
    assert "«Ромашка»" in write(_simple_file()).decode("cp1251")
    with pytest.raises(OneCFormatError) as info:
        write(_simple_file(), encoding="DOS")
    assert info.value.field == "Плательщик" or info.value.field == "Плательщик1"
    assert "cp866" in str(info.value)


def test_write_refuses_values_that_would_corrupt_the_file():
    with pytest.raises(OneCFormatError, match="line break"):
        write(_simple_file(purpose="строка 1\nстрока 2"))
    with pytest.raises(OneCFormatError, match="kopeck"):
        write(_simple_file(amount=Decimal("1.005")))
    with pytest.raises(OneCFormatError, match="Decimal"):
        write(_simple_file(amount=100.0))
    with pytest.raises(OneCFormatError, match="Кодировка"):
        write(_simple_file(), encoding="KOI8")


# ---------------------------------------------------------------------------
# direction()
# ---------------------------------------------------------------------------


def _doc(payer=None, recipient=None, debited=None, credited=None):
    return OneCDocument(
        amount=Decimal("1.00"),
        payer=OneCParty(account=payer),
        recipient=OneCParty(account=recipient),
        date_debited=debited,
        date_credited=credited,
    )


D = dt.date(2024, 1, 1)
THEIRS = "40702810267020000630"


@pytest.mark.parametrize(
    "doc, expected",
    [
        (_doc(OWN, THEIRS, debited=D), "out"),
        (_doc(THEIRS, OWN, credited=D), "in"),
        (_doc(OWN, THEIRS), "out"),  # no dates: the accounts decide
        (_doc(THEIRS, OWN), "in"),
        (_doc(THEIRS, "40702810000000000009", debited=D), "out"),  # no own account: the dates decide
        (_doc(THEIRS, "40702810000000000009", credited=D), "in"),
        (_doc(OWN, OWN, debited=D), "out"),  # between own accounts: the date decides
        (_doc(OWN, OWN, credited=D), "in"),
        (_doc(OWN, OWN, debited=D, credited=D), None),
        (_doc(OWN, OWN), None),
        (_doc(THEIRS, "40702810000000000009"), None),
    ],
)
def test_direction_rules(doc, expected):
    assert direction(doc, {OWN}) == expected


def test_direction_account_spaces_ignored():
    assert direction(_doc(OWN, THEIRS), {"40702 81000 00000 74935"}) == "out"
    assert direction(_doc(OWN, THEIRS), OWN) == "out"  # a lone string is one account


# ---------------------------------------------------------------------------
# Builders
# ---------------------------------------------------------------------------


def test_statement_file_builder():
    incoming = OneCDocument(
        kind="Платежное поручение",
        number="15",
        date=dt.date(2024, 6, 3),
        amount=Decimal("1500.00"),
        payer=OneCParty(
            inn="7702070139",
            kpp="770201001",
            name="ООО «Клиент»",
            account=THEIRS,
            bank_name="ПАО СБЕРБАНК",
            bank_city="г. Москва",
            bic="044525225",
            corr_account="30101810400000000225",
        ),
        recipient=OneCParty(inn="7707083893", name="ООО Ромашка", account=OWN),
        purpose="Оплата по счёту №42 от 01.06.2024, без НДС",
        date_credited=dt.date(2024, 6, 3),
        operation_type="01",
        priority="5",
    )
    outgoing = OneCDocument(
        kind="Банковский ордер",
        number="9",
        date=dt.date(2024, 6, 4),
        amount=Decimal("99.90"),
        payer=OneCParty(inn="7707083893", name="ООО Ромашка", account=OWN),
        recipient=OneCParty(name="Банк", account="47423810000000000001"),
        purpose="Комиссия",
        date_debited=dt.date(2024, 6, 4),
        operation_type="17",
    )
    f = statement_file(
        OWN,
        dt.date(2024, 6, 1),
        dt.date(2024, 6, 30),
        [incoming, outgoing],
        opening=Decimal("1000.00"),
        sender="Банк",
        created=dt.datetime(2024, 7, 1, 9, 0, 5),
    )
    b = f.balances[0]
    assert (b.total_in, b.total_out, b.closing) == (Decimal("1500.00"), Decimal("99.90"), Decimal("2400.10"))
    out = write(f)
    text = out.decode("cp1251")
    assert text.startswith(
        "1CClientBankExchange\r\nВерсияФормата=1.03\r\nКодировка=Windows\r\nОтправитель=Банк\r\n"
        "Получатель=1С:Предприятие\r\nДатаСоздания=01.07.2024\r\nВремяСоздания=09:00:05\r\n"
        "ДатаНачала=01.06.2024\r\nДатаКонца=30.06.2024\r\nРасчСчет=40702810000000074935\r\n"
        "СекцияРасчСчет\r\nДатаНачала=01.06.2024\r\nДатаКонца=30.06.2024\r\nРасчСчет=40702810000000074935\r\n"
        "НачальныйОстаток=1000.00\r\nВсегоПоступило=1500.00\r\nВсегоСписано=99.90\r\n"
        "КонечныйОстаток=2400.10\r\nКонецРасчСчет\r\nСекцияДокумент=Платежное поручение\r\nНомер=15\r\n"
        "Дата=03.06.2024\r\nСумма=1500.00\r\nПлательщикСчет=40702810267020000630\r\n"
        "Плательщик=ИНН 7702070139 ООО «Клиент»\r\nПлательщикИНН=7702070139\r\n"
    )
    assert text.endswith("КонецДокумента\r\nКонецФайла\r\n")
    g = parse(out)
    assert g.warnings == []
    for got, sent in zip(g.documents, f.documents):
        assert dataclasses.replace(got, fields={}) == sent
    assert [direction(d, {OWN}) for d in g.documents] == ["in", "out"]
    gb = g.balances[0]
    assert (gb.opening, gb.total_in, gb.total_out, gb.closing) == (
        Decimal("1000.00"),
        Decimal("1500.00"),
        Decimal("99.90"),
        Decimal("2400.10"),
    )
    assert g.created == dt.datetime(2024, 7, 1, 9, 0, 5)
    # Written again from the parsed form, identical bytes.
    assert write(g) == out


def test_statement_file_refuses_to_guess_totals():
    unknown = OneCDocument(amount=Decimal("1.00"), payer=OneCParty(account=THEIRS))
    with pytest.raises(OneCFormatError, match="incoming or outgoing"):
        statement_file(OWN, D, D, [unknown])
    f = statement_file(OWN, D, D, [unknown], total_in=Decimal("0"), total_out=Decimal("1.00"))
    assert f.balances[0].closing is None


def test_payment_orders_file_builder():
    order = OneCDocument(
        number="101",
        date=dt.date(2024, 6, 10),
        amount=Decimal("175000"),
        payer=OneCParty(
            inn="1234567891",
            kpp="770401001",
            name='ООО "Рога и Копыта"',
            account=OWN,
            bank_name="Объёббанк ОАО",
            bank_city="г. Москва",
            bic="044525411",
            corr_account="30101810145250000411",
        ),
        recipient=OneCParty(inn="111122223344", name="ИП Иванов А.А.", account=THEIRS, bic="047102651"),
        purpose="За товары, по счету №125 на сумму 175000-00, без НДС",
        fields={"ПоказательКБК": "", "СтатусСоставителя": ""},
    )
    f = payment_orders_file([order], created=dt.datetime(2024, 6, 10, 11, 15, 38))
    assert f.accounts == [OWN]
    assert f.document_kind == "Платежное поручение"
    assert (f.date_from, f.date_to) == (dt.date(2024, 6, 10), dt.date(2024, 6, 10))
    d = f.documents[0]
    assert (d.kind, d.operation_type, d.priority) == ("Платежное поручение", "01", "5")
    assert order.kind is None  # the caller's document is not modified
    for encoding, codec in (("Windows", "cp1251"), ("DOS", "cp866")):
        out = write(f, encoding)
        text = out.decode(codec)
        assert f"Кодировка={encoding}\r\n" in text
        assert "\r\nДокумент=Платежное поручение\r\nСекцияДокумент=Платежное поручение\r\nНомер=101\r\n" in text
        assert "\r\nСумма=175000.00\r\n" in text
        assert "\r\nОчередность=5\r\nПоказательКБК=\r\nСтатусСоставителя=\r\nКонецДокумента\r\n" in text
        g = parse(out)
        assert g.encoding == encoding and g.codec == codec
        got = g.documents[0]
        assert got.amount == Decimal("175000.00")
        assert got.payer == order.payer
        assert got.recipient == dataclasses.replace(order.recipient)
        assert got.purpose == order.purpose
        assert dataclasses.replace(got, fields={}) == dataclasses.replace(d, fields={})
        assert write(g, encoding) == out


def test_payment_orders_file_needs_a_period():
    with pytest.raises(OneCFormatError, match="date_from"):
        payment_orders_file([OneCDocument(amount=Decimal("1.00"))])


# ---------------------------------------------------------------------------
# Module hygiene
# ---------------------------------------------------------------------------


def test_module_is_self_contained_and_never_imports_odoo():
    tree = ast.parse(Path(onec.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "onec.py must not depend on the rest of bank_api"
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "collections", "dataclasses", "datetime", "itertools", "re", "decimal", "typing"}
    assert issubclass(OneCFormatError, ValueError)
    assert {f.name for f in dataclasses.fields(OneCAccountBalance)} >= {
        "account",
        "date_from",
        "date_to",
        "opening",
        "total_in",
        "total_out",
        "closing",
    }


# ---------------------------------------------------------------------------
# Size and memory: a file too big, or of millions of junk lines
# ---------------------------------------------------------------------------


def test_file_over_the_cap_is_refused_before_reading(kl_bytes):
    # a real statement, padded past 20 MiB after its end: read, it would give its documents
    padded = kl_bytes + b"\r\n" * ((onec.MAX_FILE_BYTES - len(kl_bytes)) // 2 + 1)
    assert len(padded) > onec.MAX_FILE_BYTES
    error = error_of(padded)
    assert "MiB" in str(error) and "20 MiB" in str(error)
    assert error.line == 1


def test_thirty_million_junk_lines_are_refused_by_the_cap():
    junk = onec.FIRST_LINE.encode() + b"\n" + b"\n" * 30_000_000
    error = error_of(junk)
    assert "20 MiB" in str(error)


def test_junk_under_the_cap_is_refused_at_its_first_line_without_copies():
    """Millions of junk lines just under the cap: refused at line 2, and read one line at
    a time (the reader's own allocations stay a tiny fraction of the file)."""
    import tracemalloc

    junk = onec.FIRST_LINE.encode() + b"\r\n" + b"ab\r\n" * ((onec.MAX_FILE_BYTES - 30) // 4)
    assert len(junk) <= onec.MAX_FILE_BYTES
    tracemalloc.start()
    try:
        error = error_of(junk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.line == 2
    assert "expected Key=Value" in str(error)
    assert peak < len(junk) // 20, f"{peak} bytes allocated to read a {len(junk)}-byte file"


def test_lines_read_one_at_a_time_keep_the_split_semantics():
    for data in (b"a\nb\n", b"a\nb", b"a\n\n", b"a\r\nb\r\n", b"a\rb\r", b"\xef\xbb\xbfa\nb"):
        start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
        body = data[start:]
        separator = b"\n" if b"\n" in body or b"\r" not in body else b"\r"
        expected = body.split(separator)
        if body.endswith(separator):
            expected.pop()
        if separator == b"\n":
            expected = [line[:-1] if line.endswith(b"\r") else line for line in expected]
        assert list(onec._iter_lines(data, start)) == expected, data


# ---------------------------------------------------------------------------
# Issue #16 §4: imported files lose nothing (real banks' files vary more than the samples)
# ---------------------------------------------------------------------------

THEIR = "40702810267020000630"
THEIR_INN = "7707083893"


def _bank_document(number, amount, purpose_lines, *, debited="", credited="", incoming=True, extra=()):
    """One document as a bank writes it in a statement (the lines between the markers)."""
    payer, recipient = (THEIR, OWN) if incoming else (OWN, THEIR)
    return [
        "СекцияДокумент=Платежное поручение",
        f"Номер={number}",
        "Дата=03.02.2025",
        f"Сумма={amount}",
        f"ПлательщикСчет={payer}",
        f"ДатаСписано={debited}",
        f"ПлательщикИНН={THEIR_INN if incoming else '7777777777'}",
        f"Плательщик1={'ООО Ромашка' if incoming else 'ООО Наша'}",
        f"ПолучательСчет={recipient}",
        f"ДатаПоступило={credited}",
        f"ПолучательИНН={'7777777777' if incoming else THEIR_INN}",
        f"Получатель1={'ООО Наша' if incoming else 'ООО Ромашка'}",
        *extra,
        *purpose_lines,
        "КонецДокумента",
    ]


def _bank_file(*documents, encoding="Windows", end=True):
    return [
        "1CClientBankExchange",
        "ВерсияФормата=1.03",
        f"Кодировка={encoding}",
        "Отправитель=Банк",
        "ДатаНачала=01.02.2025",
        "ДатаКонца=28.02.2025",
        f"РасчСчет={OWN}",
        *(line for document in documents for line in document),
        *(["КонецФайла"] if end else []),
    ]


SPLIT = [
    "НазначениеПлатежа=Оплата по счету",
    "НазначениеПлатежа1=№INV/2025/00123 от 01.02.2025 за товары",
    "НазначениеПлатежа2=Сумма 1500-00 В т.ч. НДС (20%) 250-00",
]
SPLIT_TAIL = ("№INV/2025/00123 от 01.02.2025 за товары", "Сумма 1500-00 В т.ч. НДС (20%) 250-00")


def _numbered(*texts):
    return [f"НазначениеПлатежа{index}={text}" for index, text in enumerate(texts, 1)]


SPLIT_WHOLE = "Оплата по счету №INV/2025/00123 от 01.02.2025 за товары Сумма 1500-00 В т.ч. НДС (20%) 250-00"


def test_purpose_continued_in_numbered_lines_is_kept_whole():
    """The main key holds only the first words, the continuation is in НазначениеПлатежа1..6."""
    f = parse(build(_bank_file(_bank_document("7", "1500.00", SPLIT, credited="03.02.2025"))))
    (document,) = f.documents
    assert document.purpose == SPLIT_WHOLE
    assert f.warnings == []


@pytest.mark.parametrize(
    "purpose_lines",
    [
        # the standard's two forms: the whole text in the main key and split in lines
        [
            "НазначениеПлатежа=" + SPLIT_WHOLE,
            "НазначениеПлатежа1=Оплата по счету",
            "НазначениеПлатежа2=№INV/2025/00123 от 01.02.2025 за товары",
            "НазначениеПлатежа3=Сумма 1500-00 В т.ч. НДС (20%) 250-00",
        ],
        [
            "НазначениеПлатежа=" + SPLIT_WHOLE,
            "НазначениеПлатежа1=Оплата по счету №INV/2025/0",  # the lines cut words anywhere
            "НазначениеПлатежа2=0123 от 01.02.2025 за товары Сумма 1500-00",
            "НазначениеПлатежа3=В т.ч. НДС (20%) 250-00",
        ],
        # the lines hold the whole text, the main key repeats their beginning
        ["НазначениеПлатежа=Оплата по счету", *_numbered("Оплата по счету", *SPLIT_TAIL)],
        # only the lines, an empty or absent main key, blank lines among them
        ["НазначениеПлатежа=", *_numbered("Оплата по счету", "", *SPLIT_TAIL)],
        _numbered("Оплата по счету", *SPLIT_TAIL),
    ],
)
def test_purpose_in_both_forms_is_not_doubled(purpose_lines):
    (document,) = parse(
        build(_bank_file(_bank_document("7", "1500.00", purpose_lines, credited="03.02.2025")))
    ).documents
    assert _squeeze(document.purpose) == _squeeze(SPLIT_WHOLE)
    assert document.purpose.count("INV/2025/0") == 1


def _squeeze(text):
    return "".join(text.split())


def test_purpose_main_key_alone_is_kept_byte_for_byte():
    lines = ["НазначениеПлатежа=  Оплата  по счету №5  "]
    (document,) = parse(build(_bank_file(_bank_document("7", "1.00", lines, credited="03.02.2025")))).documents
    assert document.purpose == "  Оплата  по счету №5  "


def test_split_purpose_round_trips_untouched():
    data = build(_bank_file(_bank_document("7", "1500.00", SPLIT, credited="03.02.2025"))) + b"\r\n"
    assert write(parse(data)) == data
    assert parse(write(parse(data))).documents[0].purpose == SPLIT_WHOLE


def test_changed_split_purpose_is_written_once():
    f = parse(build(_bank_file(_bank_document("7", "1500.00", SPLIT, credited="03.02.2025"))))
    f.documents[0].purpose = "Оплата по счету №INV/2025/00124"
    assert parse(write(f)).documents[0].purpose == "Оплата по счету №INV/2025/00124"


def test_file_declared_windows_but_written_in_utf8():
    lines = _bank_file(_bank_document("7", "1500.00", SPLIT, credited="03.02.2025"))
    f = parse("\r\n".join(lines).encode("utf-8"))
    assert f.encoding == "Windows" and f.codec == "utf-8"
    assert any("UTF-8" in warning for warning in f.warnings)
    (document,) = f.documents
    assert document.purpose == SPLIT_WHOLE
    assert document.recipient.name == "ООО Наша" and document.payer.name == "ООО Ромашка"
    # the same file in cp1251 reads the same
    assert parse(build(lines)) == f


def test_lf_blank_lines_unknown_keys_and_no_end_of_file():
    tidy = _bank_file(
        _bank_document("7", "1500.00", SPLIT, credited="03.02.2025"),
        _bank_document("8", "200.00", ["НазначениеПлатежа=Комиссия"], debited="04.02.2025", incoming=False),
    )
    untidy = []
    for line in _bank_file(
        _bank_document(
            "7", "1500.00", SPLIT, credited="03.02.2025", extra=["ИдентификаторДокумента=abc-1", "ПризнакСрочности="]
        ),
        _bank_document("8", "200.00", ["НазначениеПлатежа=Комиссия"], debited="04.02.2025", incoming=False),
        end=False,
    ):
        untidy += [line, ""] if line.startswith(("Сумма", "КонецДокумента")) else [line]
    untidy.insert(3, "НовыйКлючБанка=1")
    clean, messy = parse(build(tidy)), parse("\n".join(untidy).encode("cp1251"))
    assert [d.purpose for d in messy.documents] == [SPLIT_WHOLE, "Комиссия"]
    assert [(d.number, d.amount) for d in messy.documents] == [("7", Decimal("1500.00")), ("8", Decimal("200.00"))]
    assert [direction(d, {OWN}) for d in messy.documents] == ["in", "out"]
    # the unknown keys are kept (nothing lost) and change nothing else
    assert messy.documents[0].fields["ИдентификаторДокумента"] == "abc-1"
    assert messy.extra == {"НовыйКлючБанка": "1"}
    for a, b in zip(clean.documents, messy.documents, strict=True):
        assert dataclasses.replace(b, fields=a.fields) == a
    assert any("КонецФайла" in warning for warning in messy.warnings)


def test_missing_end_of_file_with_an_open_document_is_an_error():
    lines = _bank_file(_bank_document("7", "1500.00", SPLIT, credited="03.02.2025"), end=False)[:-1]
    assert error_of("\n".join(lines).encode("cp1251")).field == "КонецДокумента"


@pytest.mark.parametrize(
    ("incoming", "expected"),
    [(True, "in"), (False, "out")],
)
def test_document_with_both_dates_has_one_direction(incoming, expected):
    document = _bank_document("7", "1500.00", SPLIT, debited="03.02.2025", credited="04.02.2025", incoming=incoming)
    (d,) = parse(build(_bank_file(document))).documents
    assert (d.date_debited, d.date_credited) == (dt.date(2025, 2, 3), dt.date(2025, 2, 4))
    assert direction(d, {OWN}) == expected
    assert direction(d, [OWN, "40702810000000000001"]) == expected  # another own account not involved


def test_same_document_in_two_overlapping_files_reads_equal():
    shared = _bank_document("8", "200.00", SPLIT, credited="10.02.2025")
    first = parse(
        build(_bank_file(_bank_document("7", "1.00", ["НазначениеПлатежа=a"], credited="03.02.2025"), shared))
    )
    second = parse(
        "\n".join(
            _bank_file(shared, _bank_document("9", "2.00", ["НазначениеПлатежа=b"], credited="20.02.2025"))
        ).encode("utf-8")
    )
    assert first.documents[1] == second.documents[0]
