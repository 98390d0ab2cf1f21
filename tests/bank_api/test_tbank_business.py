"""TBankBusinessClient against a mocked bank (`responses`): docs/banks.md §2 accounts,
cursor-paged statement, payment drafts, error mapping, exact decimals, no secrets."""

import datetime as dt
import json
import logging
import re
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from bank_api import (
    BankAccountInfo,
    BankAuthError,
    BankError,
    BankOperation,
    BankProtocolError,
    BankRateLimited,
    BankRejected,
    BankUnavailable,
)
from bank_api.tbank_business import (
    PRODUCTION_URL,
    SANDBOX_TOKEN,
    TBankBusinessClient,
    TBankOperation,
    TBankStatementPage,
    to_account_info,
    to_operation,
    to_operations,
)

BASE = "https://bank.test/openapi/api"
TOKEN = "t.Secret-Token-0123456789"
ACCOUNT = "40702810110000000001"
ACCOUNTS = f"{BASE}/v4/bank-accounts"
STATEMENT = f"{BASE}/v1/statement"
CREATE = f"{BASE}/v1/payment/create"
STATUS = f"{BASE}/v1/payment/status"


@pytest.fixture
def bank():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def client():
    return TBankBusinessClient(TOKEN, base_url=BASE + "/")


def query(call):
    return {k: v if len(v) > 1 else v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def operation(op_id="op-1", kind="Credit", amount="1500.00", status="Transaction", **extra):
    body = {
        "operationId": op_id,
        "operationDate": "2026-01-15T09:30:00Z",
        "operationStatus": status,
        "typeOfOperation": kind,
        "category": "incomeCustomer",
        "accountAmount": Decimal(amount),
        "rubleAmount": Decimal(amount),
        "payPurpose": "Оплата по счету № INV/2026/00012",
        "docNumber": "77",
        "payer": {
            "account": "40702810938000001000",
            "inn": "7701000001",
            "kpp": "770101001",
            "name": "ООО «Ромашка»",
            "bankName": "ПАО Сбербанк",
            "bicRu": "044525225",
        },
        "receiver": {
            "account": ACCOUNT,
            "inn": "7709550014",
            "kpp": "770901001",
            "name": "ООО «Демо Торг»",
            "bankName": "АО «ТБанк»",
            "bicRu": "044525974",
        },
    }
    body.update(extra)
    return body


def dumps(obj):
    """JSON text keeping Decimal digits exactly (as the bank writes them)."""
    text = json.dumps(obj, ensure_ascii=False, default=lambda v: f"@@{v}@@")
    return re.sub(r'"@@([-0-9.E+]+)@@"', r"\1", text)


def page(operations, next_cursor=None, balances=None):
    body = {"operations": operations}
    if next_cursor:
        body["nextCursor"] = next_cursor
    if balances:
        body["balances"] = balances
    return dumps(body)


# ------------------------------------------------------------------------- accounts


def test_defaults_and_repr():
    client = TBankBusinessClient(TOKEN)
    assert client.base_url == PRODUCTION_URL == "https://business.tbank.ru/openapi/api"
    assert SANDBOX_TOKEN == "TBankSandboxToken"
    assert TOKEN not in repr(client) and "openapi" in repr(client)
    with pytest.raises(ValueError):
        TBankBusinessClient("")


def test_list_accounts_v3_and_v2_shapes(bank, client):
    bank.get(
        ACCOUNTS,
        body=dumps(
            [
                {
                    "accountNumber": ACCOUNT,
                    "name": "Основной",
                    "currency": "643",
                    "bankBik": "044525974",
                    "accountType": "Current",
                    "balance": {
                        "otb": Decimal("1234567.89"),
                        "authorized": Decimal("100.10"),
                        "pendingPayments": 0,
                        "pendingRequisitions": Decimal("0.5"),
                    },
                },
                {
                    "accountNumber": "40702840510000000003",
                    "name": "Валютный",
                    "currency": 840,
                    "bankBik": "044525974",
                    "accountType": "Current",
                    "balance": {"otb": Decimal("36339.96")},
                    "transitAccount": {"accountNumber": "40702840810000000004"},
                    "extraField": "kept",
                },
                {"accountNumber": "40702978000000000005", "currency": "EUR"},
            ]
        ),
        content_type="application/json",
    )
    accounts = client.list_accounts()
    assert [a.currency for a in accounts] == ["RUB", "USD", "EUR"]
    first, second, third = accounts
    assert first.balance.otb == Decimal("1234567.89") and isinstance(first.balance.otb, Decimal)
    assert first.balance.pending_requisitions == Decimal("0.5") and first.balance.pending_payments == 0
    assert second.transit_account == "40702840810000000004" and second.model_extra["extraField"] == "kept"
    assert second.raw["currency"] == 840
    assert third.balance is None

    headers = bank.calls[0].request.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    uuid.UUID(headers["X-Request-Id"])  # a fresh uuid per request

    info = to_account_info(first)
    assert isinstance(info, BankAccountInfo)
    assert (info.bank_account_id, info.account_number, info.currency, info.bic, info.balance) == (
        ACCOUNT,
        ACCOUNT,
        "RUB",
        "044525974",
        Decimal("1234567.89"),
    )
    assert to_account_info(third).balance is None
    assert str(to_account_info(second).balance) == "36339.96"


def test_list_accounts_whole_balance_gets_two_places(bank, client):
    bank.get(ACCOUNTS, json=[{"accountNumber": ACCOUNT, "currency": "643", "balance": {"otb": 15000}}])
    assert str(to_account_info(client.list_accounts()[0]).balance) == "15000.00"


@pytest.mark.parametrize(
    "body",
    [
        '{"accounts": "x"}',
        '"text"',
        '[{"name": "no number"}]',
        '[{"accountNumber": "123", "currency": "643"}]',
        '[{"accountNumber": "40702810110000000001", "currency": "RUBLES"}]',
    ],
)
def test_list_accounts_unexpected_answers(bank, client, body):
    bank.get(ACCOUNTS, body=body, content_type="application/json")
    with pytest.raises(BankProtocolError):
        client.list_accounts()


# ------------------------------------------------------------------------ statement


def test_statement_first_page_parameters_and_balances(bank, client):
    bank.get(
        STATEMENT,
        body=page(
            [operation()],
            balances={
                "balanceBegin": Decimal("100.00"),
                "balanceEnd": Decimal("1600.00"),
                "credit": Decimal("1500.00"),
                "debit": 0,
            },
        ),
    )
    result = client.get_statement_page(ACCOUNT, dt.date(2026, 1, 1), dt.date(2026, 1, 31), limit=500)
    assert query(bank.calls[0]) == {
        "accountNumber": ACCOUNT,
        "from": "2025-12-31T21:00:00Z",  # 1 January, 00:00 Moscow time
        "to": "2026-01-31T21:00:00Z",  # the whole of 31 January (exclusive end)
        "limit": "500",
        "operationStatus": "Transaction",
        "withBalances": "true",
    }
    assert result.balances.balance_end == Decimal("1600.00") and result.balances.debit == 0
    assert result.next_cursor is None and len(result.operations) == 1


def test_statement_datetimes_sent_as_utc(bank, client):
    bank.get(STATEMENT, body=page([]))
    start = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    client.get_statement_page(
        ACCOUNT,
        start,
        dt.datetime(2026, 3, 2, 9, 15, 30, 250000, tzinfo=dt.timezone.utc),
        operation_status=None,
        categories=["incomeCustomer", "fee"],
    )
    sent = query(bank.calls[0])
    assert sent["from"] == "2026-03-01T09:00:00Z" and sent["to"] == "2026-03-02T09:15:30.250000Z"
    assert "operationStatus" not in sent and sent["categories"] == ["incomeCustomer", "fee"]


def test_statement_refuses_bad_arguments_before_sending(bank, client):
    with pytest.raises(ValueError):
        client.get_statement_page("4070281011", dt.date(2026, 1, 1))
    with pytest.raises(ValueError):
        client.get_statement_page(ACCOUNT, dt.datetime(2026, 1, 1))  # naive: meaning unknown
    with pytest.raises(ValueError):
        client.get_statement_page(ACCOUNT, dt.date(2026, 1, 1), operation_status="Booked")
    with pytest.raises(ValueError):
        client.get_statement_page(ACCOUNT, dt.date(2026, 1, 1), limit=0)
    with pytest.raises(ValueError):
        client.get_statement_page(ACCOUNT, dt.date(2026, 1, 1), categories=[str(i) for i in range(51)])
    with pytest.raises(TypeError):
        client.get_statement_page(ACCOUNT, "2026-01-01")
    assert len(bank.calls) == 0


def test_iter_statement_follows_cursors(bank, client):
    bank.get(
        STATEMENT,
        body=page(
            [operation("a"), operation("b")], "cur-1", balances={"balanceBegin": 0, "balanceEnd": Decimal("4500.00")}
        ),
    )
    bank.get(STATEMENT, body=page([operation("c"), operation("d")], "cur-2"))
    bank.get(STATEMENT, body=page([operation("e")]))
    pages = list(client.iter_statement(ACCOUNT, dt.date(2026, 1, 1), page_size=2))
    assert [[op.operation_id for op in p.operations] for p in pages] == [["a", "b"], ["c", "d"], ["e"]]
    assert [p.next_cursor for p in pages] == ["cur-1", "cur-2", None]
    assert pages[0].balances.balance_end == Decimal("4500.00") and pages[1].balances is None
    first, second, third = (query(call) for call in bank.calls)
    assert first["withBalances"] == "true" and "cursor" not in first and first["limit"] == "2"
    assert second["cursor"] == "cur-1" and "withBalances" not in second
    assert third["cursor"] == "cur-2" and third["from"] == first["from"]


def test_iter_statement_resumes_from_a_saved_cursor(bank, client):
    bank.get(STATEMENT, body=page([operation("c")], "cur-2"))
    bank.get(STATEMENT, body=page([operation("d")]))
    pages = client.iter_statement(ACCOUNT, dt.date(2026, 1, 1), cursor="cur-1")
    ids = [op.operation_id for p in pages for op in p.operations]
    assert ids == ["c", "d"]
    assert query(bank.calls[0])["cursor"] == "cur-1" and "withBalances" not in query(bank.calls[0])


def test_iter_statement_stops_on_a_repeated_cursor(bank, client):
    bank.get(STATEMENT, body=page([operation("a")], "same"))
    bank.get(STATEMENT, body=page([operation("b")], "same"))
    with pytest.raises(BankProtocolError, match="cursor"):
        list(client.iter_statement(ACCOUNT, dt.date(2026, 1, 1)))


def test_iter_statement_raises_at_the_failing_page(bank, client):
    bank.get(STATEMENT, body=page([operation("a")], "cur-1"))
    bank.get(STATEMENT, status=503, body="<html>busy</html>")
    pages = client.iter_statement(ACCOUNT, dt.date(2026, 1, 1))
    assert next(pages).next_cursor == "cur-1"  # the caller can persist it...
    with pytest.raises(BankUnavailable):
        next(pages)  # ...before the next page fails


def test_decimal_amounts_are_exact(bank, client):
    amounts = ["0.10", "0.01", "12345678901234.56", "999999999999999999.99", "1E+2"]
    bank.get(STATEMENT, body=page([operation(f"id{i}", amount=a) for i, a in enumerate(amounts)]))
    result = client.get_statement_page(ACCOUNT, dt.date(2026, 1, 1))
    assert [op.account_amount for op in result.operations] == [Decimal(a) for a in amounts]
    assert all(isinstance(op.ruble_amount, Decimal) for op in result.operations)
    mapped = to_operations(result)
    assert [str(op.amount) for op in mapped] == ["0.10", "0.01", "12345678901234.56", "999999999999999999.99", "100.00"]
    assert sum(op.amount for op in mapped[:2]) == Decimal("0.11")


def test_operations_map_to_the_common_shape(bank, client):
    night = operation("n1", operationDate="2026-01-31T22:30:00Z")  # 1 February in Moscow
    debit = operation("d1", kind="Debit", amount="250.50", status="Authorization", docNumber=12)
    debit["counterParty"] = {
        "name": "ООО «Вектор»",
        "inn": "7701010137",
        "account": "40702810938010001037",
        "bicRu": "044525187",
        "bankName": "Банк ВТБ (ПАО)",
        "kpp": "",
    }
    naive = operation("x1", operationDate="2026-01-15T09:30:00")
    only_rubles = operation("r1")
    del only_rubles["accountAmount"]
    bank.get(STATEMENT, body=page([night, debit, naive, only_rubles]))
    result = client.get_statement_page(ACCOUNT, dt.date(2026, 1, 1), operation_status="All")
    ops = to_operations(result, "643", account_number=ACCOUNT)
    assert all(isinstance(op, BankOperation) for op in ops)
    first, second, third, fourth = ops
    assert first.date == dt.date(2026, 2, 1) and first.timestamp.utcoffset() == dt.timedelta(0)
    assert (first.amount, first.currency, first.confirmed) == (Decimal("1500.00"), "RUB", True)
    assert (
        first.counterparty_name,
        first.counterparty_inn,
        first.counterparty_account,
        first.counterparty_bic,
        first.counterparty_bank_name,
        first.counterparty_kpp,
    ) == ("ООО «Ромашка»", "7701000001", "40702810938000001000", "044525225", "ПАО Сбербанк", "770101001")
    assert first.purpose == "Оплата по счету № INV/2026/00012" and first.document_number == "77"
    assert first.account_number == ACCOUNT and first.is_incoming
    assert first.raw["operationId"] == "n1" and first.raw["payer"]["bankName"] == "ПАО Сбербанк"
    # a debit: negative, unconfirmed, counterParty wins over receiver; number docNumber → text
    assert (second.amount, second.confirmed, second.counterparty_name) == (Decimal("-250.50"), False, "ООО «Вектор»")
    assert second.counterparty_kpp is None and second.document_number == "12" and not second.is_incoming
    assert third.timestamp == dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.timezone.utc)
    assert fourth.amount == Decimal("1500.00")  # rubleAmount is enough for a ruble account
    with pytest.raises(BankProtocolError):
        to_operation(result.operations[3], "USD")
    assert first.fallback_key == (dt.date(2026, 2, 1), Decimal("1500.00"), "40702810938000001000", "77")


def test_operation_model_in_python_has_a_raw_dump():
    op = TBankOperation(
        operation_id="p1",
        operation_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
        type_of_operation="Debit",
        account_amount=Decimal("10.00"),
    )
    assert op.raw["operationId"] == "p1" and op.raw["accountAmount"] == Decimal("10.00")
    assert "__raw__" not in op.model_dump() and to_operation(op).amount == Decimal("-10.00")


@pytest.mark.parametrize(
    "bad",
    [
        {"operationDate": "2026-01-15T09:30:00Z", "typeOfOperation": "Credit", "accountAmount": 1},  # no id
        {
            "operationId": "x",
            "operationDate": "2026-01-15T09:30:00Z",
            "typeOfOperation": "Sideways",
            "accountAmount": 1,
        },
        {"operationId": "x", "operationDate": "yesterday", "typeOfOperation": "Credit", "accountAmount": 1},
        {"operationId": "x", "operationDate": "2026-01-15T09:30:00Z", "typeOfOperation": "Credit"},  # no amount
        {
            "operationId": "x",
            "operationDate": "2026-01-15T09:30:00Z",
            "typeOfOperation": "Credit",
            "accountAmount": "lots",
        },
    ],
)
def test_malformed_operations_are_protocol_errors(bank, client, bad):
    bank.get(STATEMENT, body=dumps({"operations": [bad]}))
    with pytest.raises(BankProtocolError) as caught:
        client.get_statement_page(ACCOUNT, dt.date(2026, 1, 1))
    assert "lots" not in str(caught.value)  # field names and reasons, never values


def test_null_operations_is_an_empty_page(bank, client):
    bank.get(STATEMENT, body='{"operations": null}')
    assert client.get_statement_page(ACCOUNT, dt.date(2026, 1, 1)).operations == []


def test_page_model_parses_by_alias():
    parsed = TBankStatementPage.model_validate({"operations": [], "nextCursor": ""})
    assert parsed.next_cursor is None


# ------------------------------------------------------------------ payment drafts


def draft_kwargs(**overrides):
    kwargs = {
        "from_account": ACCOUNT,
        "recipient_name": "ООО «Вектор»",
        "recipient_inn": "7701010137",
        "recipient_kpp": "770201001",
        "recipient_account": "40702810938010001037",
        "recipient_bik": "044525187",
        "recipient_bank_name": "Банк ВТБ (ПАО)",
        "recipient_corr_account": "30101810700000000187",
        "amount": Decimal("1234.50"),
        "purpose": "Оплата по счету № 5 от 01.02.2026. НДС не облагается",
        "document_number": "15",
        "due_date": dt.date(2026, 2, 10),
        "idempotency_key": "key-1",
    }
    kwargs.update(overrides)
    return kwargs


def test_create_payment_draft_body_and_answer(bank, client):
    bank.post(CREATE, json={"documentId": "doc-1", "status": "IN_PROGRESS"})
    draft = client.create_payment_draft(**draft_kwargs())
    assert (draft.document_id, draft.status, draft.idempotency_key) == ("doc-1", "IN_PROGRESS", "key-1")
    raw = bank.calls[0].request.body.decode("utf-8")
    assert '"amount":1234.5' in raw and "Вектор" in raw  # exact number, Cyrillic as is
    assert json.loads(raw) == {
        "id": "key-1",
        "from": {"accountNumber": ACCOUNT},
        "to": {
            "name": "ООО «Вектор»",
            "inn": "7701010137",
            "kpp": "770201001",
            "accountNumber": "40702810938010001037",
            "bik": "044525187",
            "bankName": "Банк ВТБ (ПАО)",
            "corrAccountNumber": "30101810700000000187",
        },
        "purpose": "Оплата по счету № 5 от 01.02.2026. НДС не облагается",
        "amount": 1234.5,
        "documentNumber": "15",
        "executionOrder": 5,
        "dueDate": "2026-02-10",
    }
    assert bank.calls[0].request.headers["Content-Type"].startswith("application/json")


def test_create_payment_draft_generates_a_key(bank, client):
    bank.post(CREATE, json={"documentId": 123})
    draft = client.create_payment_draft(**draft_kwargs(idempotency_key=None, amount="10", document_number=None))
    sent = json.loads(bank.calls[0].request.body)
    assert draft.document_id == "123" and draft.idempotency_key == sent["id"] and uuid.UUID(sent["id"])
    assert sent["amount"] == 10 and "documentNumber" not in sent


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": 12.5},  # float: inexact by nature
        {"amount": Decimal("1.005")},
        {"amount": Decimal("0")},
        {"amount": "abc"},
        {"recipient_inn": "12345"},
        {"recipient_kpp": "12"},
        {"recipient_account": "4070281093801000103"},
        {"recipient_bik": "04452518"},
        {"from_account": "123"},
        {"document_number": "1234567"},
        {"purpose": ""},
        {"recipient_corr_account": "301"},
    ],
)
def test_create_payment_draft_refuses_bad_arguments_before_sending(bank, client, overrides):
    with pytest.raises(ValueError):
        client.create_payment_draft(**draft_kwargs(**overrides))
    assert len(bank.calls) == 0


def test_payment_statuses(bank, client):
    bank.post(
        STATUS,
        json={
            "documents": [
                {"documentId": "doc-1", "status": "EXECUTED"},
                {"documentId": "doc-2", "status": "FAILED", "errorMessage": "Недостаточно средств"},
            ]
        },
    )
    bank.post(STATUS, json=[{"documentId": "doc-1", "status": "IN_PROGRESS"}])
    statuses = client.get_payment_statuses(["doc-1", "doc-2"])
    assert json.loads(bank.calls[0].request.body) == {"documentIds": ["doc-1", "doc-2"]}
    assert [(s.status, s.is_final) for s in statuses] == [("EXECUTED", True), ("FAILED", True)]
    assert statuses[1].error_message == "Недостаточно средств"
    assert client.get_payment_status("doc-1").status == "IN_PROGRESS"
    with pytest.raises(ValueError):
        client.get_payment_statuses([])
    with pytest.raises(ValueError):
        client.get_payment_statuses([str(i) for i in range(101)])


def test_payment_status_of_an_unknown_document(bank, client):
    bank.post(STATUS, json={"documents": []})
    with pytest.raises(BankRejected, match="doc-9"):
        client.get_payment_status("doc-9")


# --------------------------------------------------------------------------- errors


def error_body(code="INVALID_DATA", message="Некорректные данные", error_id="e-1", details=None):
    body = {"errorId": error_id, "errorMessage": message, "errorCode": code}
    if details is not None:
        body["errorDetails"] = details
    return body


@pytest.mark.parametrize("status", [401, 403])
def test_401_403_are_auth_errors(bank, client, status):
    bank.get(ACCOUNTS, status=status, json=error_body("UNAUTHORIZED", "Токен отозван", "err-42"))
    with pytest.raises(BankAuthError) as caught:
        client.list_accounts()
    error = caught.value
    assert error.http_status == status and error.code == "UNAUTHORIZED" and not error.retryable
    assert error.error_id == "err-42" and "Токен отозван" in error.message
    assert error.request_id == bank.calls[0].request.headers["X-Request-Id"]


def test_401_without_body_is_still_an_auth_error(bank, client):
    bank.get(ACCOUNTS, status=401, body="")
    with pytest.raises(BankAuthError, match="HTTP 401"):
        client.list_accounts()


@pytest.mark.parametrize("status", [400, 422, 404, 409])
def test_4xx_with_bank_error_are_rejections(bank, client, status):
    bank.get(STATEMENT, status=status, json=error_body(details="accountNumber: must be 20 digits"))
    with pytest.raises(BankRejected) as caught:
        client.get_statement_page(ACCOUNT, dt.date(2026, 1, 1))
    error = caught.value
    assert (error.code, error.http_status, error.error_id) == ("INVALID_DATA", status, "e-1")
    assert error.details == "accountNumber: must be 20 digits"
    assert "Некорректные данные (INVALID_DATA): accountNumber" in error.message


def test_4xx_without_a_bank_error_is_a_protocol_error(bank, client):
    bank.get(ACCOUNTS, status=404, body="<html>Not Found</html>")
    with pytest.raises(BankProtocolError, match="HTTP 404"):
        client.list_accounts()


def test_429_with_retry_after(bank, client):
    bank.get(ACCOUNTS, status=429, headers={"Retry-After": "7"}, json=error_body("TOO_MANY_REQUESTS", "Лимит"))
    with pytest.raises(BankRateLimited) as caught:
        client.list_accounts()
    assert caught.value.retry_after == 7 and caught.value.retryable and caught.value.code == "TOO_MANY_REQUESTS"


def test_429_with_http_date_or_without_retry_after(bank, client):
    bank.get(ACCOUNTS, status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, body="")
    bank.get(ACCOUNTS, status=429, body="")
    with pytest.raises(BankRateLimited) as caught:
        client.list_accounts()
    assert caught.value.retry_after == 0  # a date in the past: retry now
    with pytest.raises(BankRateLimited) as caught:
        client.list_accounts()
    assert caught.value.retry_after is None


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_unavailable(bank, client, status):
    bank.get(ACCOUNTS, status=status, body="<html><h1>500 Internal Server Error</h1></html>")
    with pytest.raises(BankUnavailable) as caught:
        client.list_accounts()
    assert caught.value.http_status == status and caught.value.retryable


def test_500_with_bank_error_body(bank, client):
    bank.get(ACCOUNTS, status=500, json=error_body("INTERNAL_ERROR", "Ошибка сервера"))
    with pytest.raises(BankUnavailable, match="Ошибка сервера") as caught:
        client.list_accounts()
    assert caught.value.error_id == "e-1"


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectTimeout("slow"),
        requests.ReadTimeout("slow"),
        requests.ConnectionError("refused"),
        requests.TooManyRedirects("loop"),
    ],
)
def test_network_failures_are_unavailable(bank, client, failure):
    bank.get(ACCOUNTS, body=failure)
    with pytest.raises(BankUnavailable):
        client.list_accounts()


@pytest.mark.parametrize("body", ["<html>maintenance</html>", "", "{not json", b"\xff\xfe\x00garbage"])
def test_garbage_is_a_protocol_error(bank, client, body):
    bank.get(ACCOUNTS, body=body)
    with pytest.raises(BankProtocolError):
        client.list_accounts()


def test_statement_answer_not_an_object(bank, client):
    bank.get(STATEMENT, json=[1, 2])
    with pytest.raises(BankProtocolError):
        client.get_statement_page(ACCOUNT, dt.date(2026, 1, 1))


def test_all_errors_share_the_base_class():
    for error_class in (BankAuthError, BankRateLimited, BankUnavailable, BankRejected, BankProtocolError):
        assert issubclass(error_class, BankError)


# -------------------------------------------------------------------------- secrets


@pytest.mark.parametrize("scenario", ["echo401", "echo400", "timeout", "ok"])
def test_token_never_in_errors_or_logs(bank, client, caplog, scenario):
    caplog.set_level(logging.DEBUG)
    if scenario == "echo401":
        bank.get(ACCOUNTS, status=401, json=error_body("UNAUTHORIZED", f"Bad token {TOKEN}"))
    elif scenario == "echo400":
        bank.get(ACCOUNTS, status=400, json=error_body(details=f"Authorization: Bearer {TOKEN}"))
    elif scenario == "timeout":
        bank.get(ACCOUNTS, body=requests.ReadTimeout(f"timeout with {TOKEN}"))
    else:
        bank.get(ACCOUNTS, json=[])
    try:
        client.list_accounts()
    except BankError as exc:
        texts = [str(exc), repr(exc), str(exc.details)]
    else:
        texts = []
    for text in texts + [caplog.text]:
        assert TOKEN not in text
    assert "/v4/bank-accounts" in caplog.text and "X-Request-Id" in caplog.text
