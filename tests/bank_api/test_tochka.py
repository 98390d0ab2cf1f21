"""TochkaClient against a mocked bank (`responses`): docs/banks.md §3 customers, accounts,
balances, asynchronous statements (polling with an injected sleep), payments for
signing, the Data envelope, error mapping, exact decimals, no secrets."""

import datetime as dt
import json
import logging
import re
from decimal import Decimal

import pytest
import requests
import responses

from bank_api import (
    BankAuthError,
    BankError,
    BankOperation,
    BankProtocolError,
    BankRateLimited,
    BankRejected,
    BankUnavailable,
)
from bank_api.tochka import (
    PRODUCTION_URL,
    SANDBOX_TOKEN,
    SANDBOX_URL,
    TochkaAccount,
    TochkaClient,
    TochkaStatement,
    TochkaTransaction,
    to_account_info,
    to_operation,
    to_operations,
)

BASE = "https://tochka.test/uapi"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.payload-secret.signature"
ACCOUNT_ID = "40702810302000000011/044525104"
OB = f"{BASE}/open-banking/v1.0"


@pytest.fixture
def bank():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def client():
    return TochkaClient(TOKEN, base_url=BASE + "/")


def dumps(obj):
    """JSON text keeping Decimal digits exactly."""
    text = json.dumps(obj, ensure_ascii=False, default=lambda v: f"@@{v}@@")
    return re.sub(r'"@@([-0-9.E+]+)@@"', r"\1", text)


def wrapped(data):
    return dumps({"Data": data, "Links": {"self": "https://enter.tochka.com/uapi/x"}, "Meta": {"totalPages": 1}})


def tochka_error(status, error_code="Validation Error", message="Ошибка валидации", detail="field required"):
    return {
        "code": str(status),
        "id": "c397b21a-d998-4c4d-9471-e60eaf816b87",
        "message": message,
        "Errors": [{"errorCode": error_code, "message": detail, "url": "https://enter.tochka.com/doc/v2/redoc"}],
    }


def transaction(tid="t-1", indicator="Credit", amount="15000.00", status="Booked", **extra):
    body = {
        "transactionId": tid,
        "paymentId": f"p-{tid}",
        "creditDebitIndicator": indicator,
        "status": status,
        "documentNumber": "12",
        "transactionTypeCode": "Платежное поручение",
        "documentProcessDate": "2026-01-15",
        "description": "Оплата по счету № INV/2026/00012",
        "Amount": {"amount": Decimal(amount), "amountNat": Decimal(amount), "currency": "RUB"},
        "DebtorParty": {"inn": "7701000001", "name": "ООО «Ромашка»", "kpp": "770101001"},
        "DebtorAccount": {"schemeName": "RU.CBR.BBAN", "identification": "40702810938000001000"},
        "DebtorAgent": {
            "schemeName": "RU.CBR.BIK",
            "identification": "044525225",
            "accountIdentification": "30101810400000000225",
            "name": "ПАО Сбербанк",
        },
        "CreditorParty": {"inn": "7709550014", "name": "ООО «Демо Торг»", "kpp": "770901001"},
        "CreditorAccount": {"schemeName": "RU.CBR.BBAN", "identification": "40702810302000000011"},
        "CreditorAgent": {
            "schemeName": "RU.CBR.BIK",
            "identification": "044525104",
            "accountIdentification": "30101810745374525104",
            "name": "ООО «Банк Точка»",
        },
    }
    body.update(extra)
    return body


def statement(status="Ready", transactions=None, statement_id="100000001"):
    body = {
        "accountId": ACCOUNT_ID,
        "statementId": statement_id,
        "status": status,
        "startDateTime": "2026-01-01",
        "endDateTime": "2026-01-31",
        "creationDateTime": "2026-02-01T10:00:00+03:00",
    }
    if status == "Ready":
        body.update(
            {
                "startDateBalance": Decimal("100000.00"),
                "endDateBalance": Decimal("114749.50"),
                "Transaction": transactions if transactions is not None else [transaction()],
            }
        )
    return body


# --------------------------------------------------------------- customers, accounts


def test_defaults_and_repr():
    assert TochkaClient(TOKEN).base_url == PRODUCTION_URL == "https://enter.tochka.com/uapi"
    assert SANDBOX_URL == "https://enter.tochka.com/sandbox/v2" and SANDBOX_TOKEN == "sandbox.jwt.token"
    assert TOKEN not in repr(TochkaClient(TOKEN))
    with pytest.raises(ValueError):
        TochkaClient(None)


def test_list_customers(bank, client):
    bank.get(
        f"{OB}/customers",
        body=wrapped(
            {
                "Customer": [
                    {
                        "customerCode": "300123456",
                        "customerType": "Business",
                        "isResident": True,
                        "taxCode": "7709550014",
                        "fullName": "ООО «Демо Торг»",
                        "kpp": "770901001",
                        "customerOgrn": "1237700000015",
                    },
                    {
                        "customerCode": 300123457,
                        "customerType": "Personal",
                        "isResident": True,
                        "fullName": "Иванов И. И.",
                    },
                ]
            }
        ),
    )
    business, person = client.list_customers()
    assert (business.customer_code, business.customer_type, business.tax_code) == (
        "300123456",
        "Business",
        "7709550014",
    )
    assert person.customer_code == "300123457" and person.kpp is None
    assert bank.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_list_accounts_and_account_info(bank, client):
    bank.get(
        f"{OB}/accounts",
        body=wrapped(
            {
                "Account": [
                    {
                        "customerCode": "300123456",
                        "accountId": ACCOUNT_ID,
                        "status": "Enabled",
                        "statusUpdateDateTime": "2023-09-01T00:00:00+03:00",
                        "currency": "RUB",
                        "accountType": "Business",
                        "accountSubType": "CurrentAccount",
                        "registrationDate": "2023-09-01",
                        "accountDetails": [
                            {
                                "schemeName": "RU.CBR.AccountNumber",
                                "identification": "40702810302000000011",
                                "name": "Расчетный счет",
                            }
                        ],
                    },
                    {
                        "customerCode": "300123456",
                        "accountId": "40702840202000000013/044525104",
                        "status": "Enabled",
                        "currency": "840",
                        "accountType": "Business",
                        "accountSubType": "CurrentAccount",
                        "registrationDate": "2024-06-03T00:00:00+03:00",
                    },
                ]
            }
        ),
    )
    rub, usd = client.list_accounts()
    assert (rub.account_number, rub.bic, rub.name, rub.registration_date) == (
        "40702810302000000011",
        "044525104",
        "Расчетный счет",
        dt.date(2023, 9, 1),
    )
    assert usd.currency == "USD" and usd.name is None and usd.registration_date == dt.date(2024, 6, 3)
    info = to_account_info(rub)
    assert (info.bank_account_id, info.account_number, info.bic, info.currency, info.balance, info.account_type) == (
        ACCOUNT_ID,
        "40702810302000000011",
        "044525104",
        "RUB",
        None,
        "CurrentAccount",
    )
    assert info.raw["accountId"] == ACCOUNT_ID


def test_balances_exact_signed_and_preferred(bank, client):
    bank.get(
        f"{OB}/accounts/{ACCOUNT_ID}/balances",
        body=wrapped(
            {
                "Balance": [
                    {
                        "accountId": ACCOUNT_ID,
                        "creditDebitIndicator": "Credit",
                        "type": "OpeningAvailable",
                        "dateTime": "2026-02-01T10:00:00+03:00",
                        "Amount": {"amount": Decimal("8642549.01"), "currency": "RUB"},
                    },
                    {
                        "accountId": ACCOUNT_ID,
                        "creditDebitIndicator": "Debit",
                        "type": "ClosingAvailable",
                        "dateTime": "2026-02-01T10:00:00+03:00",
                        "Amount": {"amount": Decimal("0.10"), "currency": "RUB"},
                    },
                    {
                        "accountId": ACCOUNT_ID,
                        "creditDebitIndicator": "Credit",
                        "type": "Expected",
                        "dateTime": "2026-02-01T10:00:00+03:00",
                        "Amount": {"amount": 5, "currency": "RUB"},
                    },
                ]
            }
        ),
    )
    balances = client.get_balances(ACCOUNT_ID)
    assert bank.calls[0].request.url == f"{OB}/accounts/40702810302000000011/044525104/balances"
    assert [b.signed_amount for b in balances] == [Decimal("8642549.01"), Decimal("-0.10"), Decimal("5")]
    account = TochkaAccount.model_validate({"accountId": ACCOUNT_ID, "currency": "RUB"})
    assert to_account_info(account, balances).balance == Decimal("-0.10")  # ClosingAvailable first
    assert str(to_account_info(account, balances[2:]).balance) == "5.00"  # Expected, two places
    with pytest.raises(ValueError):
        client.get_balances("")


@pytest.mark.parametrize("data", [{}, {"Account": "x"}, {"Account": [{"currency": "RUB"}]}])
def test_accounts_unexpected_data(bank, client, data):
    bank.get(f"{OB}/accounts", body=wrapped(data))
    with pytest.raises(BankProtocolError):
        client.list_accounts()


# ------------------------------------------------------------------------ statements


def test_init_statement_body_and_id(bank, client):
    bank.post(f"{OB}/statements", body=wrapped({"Statement": statement("Created")}))
    start = dt.datetime(2026, 1, 1, 1, 0, tzinfo=dt.timezone.utc)  # 04:00 Moscow, 1 January
    assert client.init_statement(ACCOUNT_ID, start, dt.date(2026, 1, 31)) == "100000001"
    assert json.loads(bank.calls[0].request.body) == {
        "Data": {"Statement": {"accountId": ACCOUNT_ID, "startDateTime": "2026-01-01", "endDateTime": "2026-01-31"}}
    }
    with pytest.raises(ValueError):
        client.init_statement(ACCOUNT_ID, dt.date(2026, 2, 1), dt.date(2026, 1, 1))
    with pytest.raises(TypeError):
        client.init_statement(ACCOUNT_ID, "2026-01-01", dt.date(2026, 1, 1))


def test_init_statement_without_id_is_a_protocol_error(bank, client):
    bank.post(f"{OB}/statements", body=wrapped({"Statement": {"status": "Created"}}))
    with pytest.raises(BankProtocolError, match="statementId"):
        client.init_statement(ACCOUNT_ID, dt.date(2026, 1, 1), dt.date(2026, 1, 2))


def test_get_statement_and_operations(bank, client):
    debit = transaction("t-2", "Debit", "250.50", documentNumber=None, transactionTypeCode="Мемориальный ордер")
    pending = transaction("t-3", status="Pending", amount="1")
    no_ids = transaction(None, paymentId=None, amount="0.01")
    bank.get(
        f"{OB}/accounts/{ACCOUNT_ID}/statements/100000001",
        body=wrapped({"Statement": [statement(transactions=[transaction(), debit, pending, no_ids])]}),
    )
    result = client.get_statement(ACCOUNT_ID, "100000001")
    assert result.status == "Ready" and result.end_date_balance == Decimal("114749.50")
    assert result.transactions[0].amount.amount_nat == Decimal("15000.00")
    ops = to_operations(result)
    assert all(isinstance(op, BankOperation) for op in ops)
    credit, out, held, anonymous = ops
    assert (credit.bank_operation_id, credit.amount, credit.currency, credit.confirmed, credit.date) == (
        "t-1",
        Decimal("15000.00"),
        "RUB",
        True,
        dt.date(2026, 1, 15),
    )
    assert (
        credit.counterparty_name,
        credit.counterparty_inn,
        credit.counterparty_kpp,
        credit.counterparty_account,
        credit.counterparty_bic,
        credit.counterparty_bank_name,
    ) == ("ООО «Ромашка»", "7701000001", "770101001", "40702810938000001000", "044525225", "ПАО Сбербанк")
    assert credit.purpose == "Оплата по счету № INV/2026/00012" and credit.document_number == "12"
    assert credit.account_number == "40702810302000000011" and credit.timestamp is None
    assert credit.raw["Amount"]["amount"] == Decimal("15000.00")
    # outgoing: negative, the creditor is the counterparty
    assert (out.amount, out.counterparty_name, out.counterparty_bic) == (
        Decimal("-250.50"),
        "ООО «Демо Торг»",
        "044525104",
    )
    assert out.document_number is None and out.raw["transactionTypeCode"] == "Мемориальный ордер"
    assert held.confirmed is False and str(held.amount) == "1.00"
    assert anonymous.bank_operation_id.startswith("sha1:") and anonymous.amount == Decimal("0.01")
    assert anonymous.bank_operation_id == to_operation(result.transactions[3]).bank_operation_id  # stable


def test_statement_dates_may_come_as_datetimes():
    parsed = TochkaStatement.model_validate(
        {"status": "Ready", "startDateTime": "2026-01-01T00:00:00+03:00", "Transaction": None}
    )
    assert parsed.start_date_time == dt.date(2026, 1, 1) and parsed.transactions == []
    txn = TochkaTransaction.model_validate(transaction(documentProcessDate="2026-01-15T00:00:00+03:00"))
    assert to_operation(txn).date == dt.date(2026, 1, 15)
    with pytest.raises(BankProtocolError):
        to_operation(TochkaTransaction.model_validate(transaction(documentProcessDate=None)))


def test_get_statement_without_statement(bank, client):
    bank.get(f"{OB}/accounts/{ACCOUNT_ID}/statements/1", body=wrapped({"Statement": []}))
    with pytest.raises(BankProtocolError):
        client.get_statement(ACCOUNT_ID, "1")


class FakeSleep:
    def __init__(self):
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)


def test_fetch_statement_polls_until_ready(bank, client):
    bank.post(f"{OB}/statements", body=wrapped({"Statement": statement("Created")}))
    url = f"{OB}/accounts/{ACCOUNT_ID}/statements/100000001"
    bank.get(url, body=wrapped({"Statement": [statement("Created")]}))
    bank.get(url, body=wrapped({"Statement": [statement("Processing")]}))
    bank.get(url, body=wrapped({"Statement": [statement("Ready")]}))
    sleep = FakeSleep()
    result = client.fetch_statement(
        ACCOUNT_ID, dt.date(2026, 1, 1), dt.date(2026, 1, 31), poll_interval=0.5, sleep=sleep
    )
    assert result.status == "Ready" and len(result.transactions) == 1
    assert sleep.calls == [0.5, 0.5] and len(bank.calls) == 4


def test_fetch_statement_error_is_a_rejection(bank, client):
    bank.post(f"{OB}/statements", body=wrapped({"Statement": statement("Created")}))
    url = f"{OB}/accounts/{ACCOUNT_ID}/statements/100000001"
    bank.get(url, body=wrapped({"Statement": [statement("Processing")]}))
    bank.get(url, body=wrapped({"Statement": [statement("Error")]}))
    with pytest.raises(BankRejected) as caught:
        client.fetch_statement(ACCOUNT_ID, dt.date(2026, 1, 1), dt.date(2026, 1, 31), sleep=FakeSleep())
    assert caught.value.statement_id == "100000001" and caught.value.code == "Error"
    assert not caught.value.retryable


def test_fetch_statement_times_out(bank, client):
    bank.post(f"{OB}/statements", body=wrapped({"Statement": statement("Created")}))
    bank.get(f"{OB}/accounts/{ACCOUNT_ID}/statements/100000001", body=wrapped({"Statement": [statement("Processing")]}))
    sleep = FakeSleep()
    with pytest.raises(BankUnavailable) as caught:
        client.fetch_statement(
            ACCOUNT_ID, dt.date(2026, 1, 1), dt.date(2026, 1, 31), poll_interval=2, timeout=10, sleep=sleep
        )
    assert sleep.calls == [2, 2, 2, 2, 2] and sum(sleep.calls) <= 10
    assert caught.value.statement_id == "100000001" and caught.value.retryable
    assert len(bank.calls) == 1 + 6  # init + a poll before each sleep and one after the last


# -------------------------------------------------------------------------- payments


def payment_kwargs(**overrides):
    kwargs = {
        "account_code": "40702810302000000011",
        "bank_code": "044525104",
        "counterparty_name": "ООО «Вектор»",
        "counterparty_account_number": "40702810938010001037",
        "counterparty_bank_bic": "044525187",
        "amount": Decimal("1234.56"),
        "purpose": "Оплата по счету № 5. НДС не облагается",
        "counterparty_inn": "7701010137",
        "counterparty_kpp": "770201001",
        "counterparty_bank_corr_account": "30101810700000000187",
        "payment_date": dt.date(2026, 2, 10),
        "payment_number": 17,
    }
    kwargs.update(overrides)
    return kwargs


def test_create_payment_for_sign(bank, client):
    bank.post(
        f"{BASE}/payment/v1.0/for-sign",
        body=wrapped({"requestId": "openapi-b96d770e", "redirectURL": "https://enter.tochka.com/sign/b96d770e"}),
    )
    result = client.create_payment_for_sign(**payment_kwargs())
    assert (result.request_id, result.redirect_url) == ("openapi-b96d770e", "https://enter.tochka.com/sign/b96d770e")
    raw = bank.calls[0].request.body.decode("utf-8")
    assert '"paymentAmount":1234.56' in raw
    assert json.loads(raw) == {
        "Data": {
            "accountCode": "40702810302000000011",
            "bankCode": "044525104",
            "counterpartyBankBic": "044525187",
            "counterpartyAccountNumber": "40702810938010001037",
            "counterpartyName": "ООО «Вектор»",
            "paymentAmount": 1234.56,
            "paymentDate": "2026-02-10",
            "paymentPurpose": "Оплата по счету № 5. НДС не облагается",
            "counterpartyINN": "7701010137",
            "counterpartyKPP": "770201001",
            "counterpartyBankCorrAccount": "30101810700000000187",
            "paymentNumber": 17,
        }
    }


def test_create_payment_for_sign_defaults_to_today_in_moscow(bank, client):
    bank.post(f"{BASE}/payment/v1.0/for-sign", body=wrapped({"requestId": "r", "redirectURL": "u"}))
    client.create_payment_for_sign(**payment_kwargs(payment_date=None, amount=100))
    sent = json.loads(bank.calls[0].request.body)["Data"]
    moscow_today = dt.datetime.now(dt.timezone(dt.timedelta(hours=3))).date().isoformat()
    assert sent["paymentDate"] == moscow_today and sent["paymentAmount"] == 100


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": 1.5},
        {"amount": Decimal("0.001")},
        {"amount": -1},
        {"account_code": "123"},
        {"bank_code": "12345678"},
        {"counterparty_inn": "123"},
        {"counterparty_kpp": "1"},
        {"counterparty_account_number": "x" * 20},
        {"purpose": ""},
        {"payment_priority": "9"},
    ],
)
def test_create_payment_for_sign_refuses_bad_arguments(bank, client, overrides):
    with pytest.raises(ValueError):
        client.create_payment_for_sign(**payment_kwargs(**overrides))
    assert len(bank.calls) == 0


def test_get_payment_status(bank, client):
    bank.get(f"{BASE}/payment/v1.0/status/openapi-1", body=wrapped({"requestId": "openapi-1", "status": "Paid"}))
    bank.get(
        f"{BASE}/payment/v1.0/status/openapi-2",
        body=wrapped({"requestId": "openapi-2", "status": "Rejected", "errors": [{"message": "Недостаточно средств"}]}),
    )
    paid = client.get_payment_status("openapi-1")
    rejected = client.get_payment_status("openapi-2")
    assert (paid.status, paid.is_final) == ("Paid", True)
    assert rejected.errors == [{"message": "Недостаточно средств"}]
    with pytest.raises(ValueError):
        client.get_payment_status(" ")


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize("status", [401, 403])
def test_401_403_are_auth_errors(bank, client, status):
    bank.get(
        f"{OB}/accounts",
        status=status,
        json=tochka_error(status, "Unauthorized", "Ошибка авторизации", "The token has been revoked"),
    )
    with pytest.raises(BankAuthError) as caught:
        client.list_accounts()
    error = caught.value
    assert (error.http_status, error.code, error.error_id) == (
        status,
        "Unauthorized",
        "c397b21a-d998-4c4d-9471-e60eaf816b87",
    )
    assert "Ошибка авторизации; The token has been revoked" in error.message


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_4xx_are_rejections_with_the_first_error_code(bank, client, status):
    bank.post(f"{OB}/statements", status=status, json=tochka_error(status, detail="startDateTime: field required"))
    with pytest.raises(BankRejected) as caught:
        client.init_statement(ACCOUNT_ID, dt.date(2026, 1, 1), dt.date(2026, 1, 2))
    assert caught.value.code == "Validation Error" and caught.value.http_status == status
    assert "startDateTime: field required" in caught.value.message


def test_error_without_errors_list_uses_the_top_code(bank, client):
    bank.get(f"{OB}/accounts", status=404, json={"code": "404", "id": "x", "message": "Not found"})
    with pytest.raises(BankRejected) as caught:
        client.list_accounts()
    assert caught.value.code == "404" and caught.value.error_id == "x"


def test_424_and_5xx_are_unavailable(bank, client):
    bank.get(f"{OB}/accounts", status=424, json=tochka_error(424, "Something going wrong", "Что-то пошло не так"))
    bank.get(f"{OB}/accounts", status=500, json=tochka_error(500, "HTTPInternalError"))
    bank.get(f"{OB}/accounts", status=502, body="<html>Bad Gateway</html>")
    for _ in range(3):
        with pytest.raises(BankUnavailable):
            client.list_accounts()


def test_429_with_retry_after(bank, client):
    bank.get(f"{OB}/accounts", status=429, headers={"Retry-After": "3"}, body="")
    with pytest.raises(BankRateLimited) as caught:
        client.list_accounts()
    assert caught.value.retry_after == 3


@pytest.mark.parametrize("failure", [requests.ConnectTimeout(), requests.ReadTimeout(), requests.ConnectionError()])
def test_network_failures_are_unavailable(bank, client, failure):
    bank.get(f"{OB}/accounts", body=failure)
    with pytest.raises(BankUnavailable):
        client.list_accounts()


@pytest.mark.parametrize("body", ["<html></html>", "", "[]", '{"Data": []}', '{"Account": []}', "\x00\x01"])
def test_garbage_or_no_data_envelope_is_a_protocol_error(bank, client, body):
    bank.get(f"{OB}/accounts", body=body)
    with pytest.raises(BankProtocolError):
        client.list_accounts()


def test_4xx_without_error_body_is_a_protocol_error(bank, client):
    bank.get(f"{OB}/accounts", status=405, body="")
    with pytest.raises(BankProtocolError):
        client.list_accounts()


@pytest.mark.parametrize("scenario", ["echo", "ok"])
def test_token_never_in_errors_or_logs(bank, client, caplog, scenario):
    caplog.set_level(logging.DEBUG)
    if scenario == "echo":
        bank.get(f"{OB}/accounts", status=401, json=tochka_error(401, "Unauthorized", f"bad {TOKEN}", f"jwt {TOKEN}"))
    else:
        bank.get(f"{OB}/accounts", body=wrapped({"Account": []}))
    try:
        client.list_accounts()
    except BankError as exc:
        assert TOKEN not in str(exc) and TOKEN not in repr(exc)
    assert TOKEN not in caplog.text and "/open-banking/v1.0/accounts" in caplog.text
