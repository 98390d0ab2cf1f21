"""TBankAcquiringClient against a mocked bank (`responses`), docs/banks.md §1.3-§1.8."""

import hashlib
import json
import logging
import traceback
from datetime import datetime, timedelta, timezone

import pytest
import requests
import responses

from tbank_api import (
    BankAuthError,
    BankError,
    BankProtocolError,
    BankRateLimited,
    BankRejected,
    BankUnavailable,
    Receipt,
    ReceiptItem,
    TBankAcquiringClient,
    compute_token,
    verify_token,
)

BASE = "https://bank.test/v2"
TERMINAL = "TinkoffBankTest"
PASSWORD = "Sup3r-S3cret-Pw"


def sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def bank():
    with responses.RequestsMock() as mock:
        yield mock


@pytest.fixture
def client():
    return TBankAcquiringClient(TERMINAL, PASSWORD, base_url=BASE + "/")


def sent(bank, index=-1):
    return json.loads(bank.calls[index].request.body)


def ok(**fields):
    return {"Success": True, "ErrorCode": "0", "TerminalKey": TERMINAL, **fields}


def refusal(code, message="Ошибка", details=None):
    body = {"Success": False, "ErrorCode": code, "Message": message, "TerminalKey": TERMINAL}
    if details is not None:
        body["Details"] = details
    return body


def receipt_for(*amounts, tax="vat20", payment_method="full_payment"):
    return Receipt(
        items=[
            ReceiptItem(
                name=f"Товар {n}",
                price=a,
                quantity=1,
                amount=a,
                tax=tax,
                payment_method=payment_method,
                payment_object="service",
            )
            for n, a in enumerate(amounts)
        ],
        taxation="osn",
        email="buyer@example.ru",
    )


# --------------------------------------------------------------------------- Init


def test_init_body_token_and_parsing(bank):
    # docs/banks.md §7 row 1: Receipt and DATA present in the body, absent from the token.
    client = TBankAcquiringClient("MerchantTerminalKey", "usaf8fw8fsw21g", base_url=BASE)
    bank.post(
        f"{BASE}/Init",
        json=ok(
            Amount=19200,
            OrderId="21090",
            Status="NEW",
            PaymentId="3093639567",
            PaymentURL="https://securepay.tinkoff.ru/new/fU1ppgqa",
        ),
    )
    answer = client.init(
        19200,
        "21090",
        description="Подарочная карта на 1000 рублей",
        receipt=receipt_for(15000, 4200),
        data={"Phone": "+71234567890"},
    )
    body = sent(bank)
    assert bank.calls[0].request.url == f"{BASE}/Init"
    assert bank.calls[0].request.headers["Content-Type"].startswith("application/json")
    assert bank.calls[0].request.req_kwargs["timeout"] == (5, 30)
    assert body["TerminalKey"] == "MerchantTerminalKey"
    assert body["Token"] == "0024a00af7c350a3a67ca168ce06502aa72772456662e38696d48b56ee9c97d9"
    assert body["Description"] == "Подарочная карта на 1000 рублей"
    assert [i["Amount"] for i in body["Receipt"]["Items"]] == [15000, 4200]
    assert body["Receipt"]["Taxation"] == "osn"
    assert body["DATA"] == {"Phone": "+71234567890"}
    assert "Password" not in body and "usaf8fw8fsw21g" not in bank.calls[0].request.body.decode()
    assert answer.payment_id == "3093639567"
    assert answer.status == "NEW" and answer.amount == 19200
    assert answer.payment_url == "https://securepay.tinkoff.ru/new/fU1ppgqa"


def test_init_all_options(bank, client):
    bank.post(f"{BASE}/Init", json=ok(Amount=1000, OrderId="A-1", Status="NEW", PaymentId=13660))
    due = datetime(2030, 5, 1, 12, 0, 30, 999, tzinfo=timezone(timedelta(hours=3)))
    answer = client.init(
        1000,
        "A-1",
        pay_type="T",
        notification_url="https://crm/n",
        success_url="https://crm/s",
        fail_url="https://crm/f",
        redirect_due_date=due,
        language="en",
        customer_key="cust-7",
    )
    body = sent(bank)
    assert body["RedirectDueDate"] == "2030-05-01T12:00:30+03:00"
    expected = sha(
        "1000"
        + "cust-7"
        + "https://crm/f"
        + "en"
        + "https://crm/n"
        + "A-1"
        + PASSWORD
        + "T"
        + "2030-05-01T12:00:30+03:00"
        + "https://crm/s"
        + TERMINAL
    )
    assert body["Token"] == expected
    assert answer.payment_id == "13660"  # number in, text out


def test_init_refuses_bad_arguments_before_sending(bank, client):
    with pytest.raises(ValueError, match="timezone"):
        client.init(1000, "A-1", redirect_due_date=datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="308"):
        client.init(1000, "A-1", receipt=receipt_for(999))
    with pytest.raises(ValueError):
        client.init(10.5, "A-1")
    assert len(bank.calls) == 0


# ------------------------------------------------------------- other operations


def test_get_state(bank, client):
    bank.post(
        f"{BASE}/GetState",
        json=ok(
            Amount=100000,
            OrderId="21050",
            Status="CONFIRMED",
            PaymentId=13660,
            Params=[{"Key": "Route", "Value": "ACQ"}],
        ),
    )
    answer = client.get_state(13660)
    body = sent(bank)
    assert set(body) == {"TerminalKey", "PaymentId", "Token"}
    assert body["PaymentId"] == "13660"
    assert body["Token"] == sha(PASSWORD + "13660" + TERMINAL)
    assert answer.status == "CONFIRMED" and answer.payment_id == "13660"
    assert answer.amount == 100000 and answer.params == [{"Key": "Route", "Value": "ACQ"}]


def test_confirm_with_amount_and_receipt(bank, client):
    bank.post(f"{BASE}/Confirm", json=ok(OrderId="21050", Status="CONFIRMED", PaymentId="13660"))
    answer = client.confirm("13660", amount=5000, receipt=receipt_for(3000, 2000))
    body = sent(bank)
    assert body["Amount"] == 5000 and len(body["Receipt"]["Items"]) == 2
    assert body["Token"] == sha("5000" + PASSWORD + "13660" + TERMINAL)
    assert answer.status == "CONFIRMED"


def test_confirm_receipt_must_match_amount(bank, client):
    with pytest.raises(ValueError, match="308"):
        client.confirm("1", amount=5000, receipt=receipt_for(4000))
    with pytest.raises(ValueError):
        client.confirm("1", amount=0)
    assert len(bank.calls) == 0


def test_cancel_partial_refund(bank, client):
    bank.post(
        f"{BASE}/Cancel",
        json=ok(OrderId="21050", Status="PARTIAL_REFUNDED", PaymentId=13660, OriginalAmount=100000, NewAmount=70000),
    )
    answer = client.cancel(13660, amount=30000, receipt=receipt_for(30000))
    body = sent(bank)
    assert body["Amount"] == 30000 and body["Receipt"]["Items"][0]["Amount"] == 30000
    assert body["Token"] == sha("30000" + PASSWORD + "13660" + TERMINAL)
    assert answer.original_amount == 100000 and answer.new_amount == 70000
    assert answer.payment_id == "13660" and answer.status == "PARTIAL_REFUNDED"


def test_cancel_full_sends_no_amount(bank, client):
    bank.post(f"{BASE}/Cancel", json=ok(Status="CANCELED", PaymentId=1, OriginalAmount=100, NewAmount=0))
    client.cancel("1")
    assert set(sent(bank)) == {"TerminalKey", "PaymentId", "Token"}


# --------------------------------------------------------------------------- receipt VAT codes

# Each receipt Tax code the bank documents (docs/banks.md §1.3, docs/vat-and-receipts.md),
# with a PaymentMethod it goes with: the rate for what is handed over, the calculated rate
# for money received in advance. vat22/vat122 since 1 January 2026; vat20/vat120 for
# shipments made before.
RECEIPT_CODES = [
    ("vat22", "full_payment"),
    ("vat122", "full_prepayment"),
    ("vat10", "full_payment"),
    ("vat110", "prepayment"),
    ("vat5", "full_payment"),
    ("vat105", "full_prepayment"),
    ("vat7", "full_payment"),
    ("vat107", "advance"),
    ("vat20", "full_payment"),
    ("vat120", "full_prepayment"),
    ("vat0", "full_payment"),
    ("none", "full_payment"),
]


@pytest.mark.parametrize("tax,payment_method", RECEIPT_CODES)
def test_init_sends_each_receipt_vat_code_as_given(bank, client, tax, payment_method):
    bank.post(f"{BASE}/Init", json=ok(Amount=12200, OrderId="VAT-1", Status="NEW", PaymentId="1", PaymentURL="u"))
    client.init(12200, "VAT-1", receipt=receipt_for(12200, tax=tax, payment_method=payment_method))
    (item,) = sent(bank)["Receipt"]["Items"]
    assert (item["Tax"], item["PaymentMethod"], item["Amount"]) == (tax, payment_method, 12200)
    # the receipt stays out of the token (docs/banks.md §1.6)
    assert sent(bank)["Token"] == sha("12200" + "VAT-1" + PASSWORD + TERMINAL)


def test_confirm_and_refund_carry_vat22_and_vat122(bank, client):
    bank.post(f"{BASE}/Confirm", json=ok(OrderId="O", Status="CONFIRMED", PaymentId="5"))
    bank.post(f"{BASE}/Cancel", json=ok(OrderId="O", Status="PARTIAL_REFUNDED", PaymentId="5"))
    client.confirm("5", amount=12200, receipt=receipt_for(10000, 2200, tax="vat22"))
    assert [i["Tax"] for i in sent(bank)["Receipt"]["Items"]] == ["vat22", "vat22"]
    client.cancel("5", amount=2200, receipt=receipt_for(2200, tax="vat122", payment_method="full_prepayment"))
    assert sent(bank)["Receipt"]["Items"][0]["Tax"] == "vat122"
    assert sent(bank)["Receipt"]["Items"][0]["PaymentMethod"] == "full_prepayment"


@pytest.mark.parametrize("tax", ["vat18", "vat118", "vat21", "VAT22", "22", ""])
def test_unknown_vat_code_is_refused_before_anything_is_sent(bank, client, tax):
    with pytest.raises(ValueError, match="Tax must be one of"):
        receipt_for(1000, tax=tax)
    assert len(bank.calls) == 0


def test_unknown_payment_method_is_refused_before_anything_is_sent(bank, client):
    with pytest.raises(ValueError, match="PaymentMethod must be one of"):
        receipt_for(1000, tax="vat122", payment_method="prepaid")
    assert len(bank.calls) == 0


def test_get_qr(bank, client):
    link = "https://qr.nspk.ru/AS1000670LSS7DN18SJQDNP4B05KLJL2?type=01&bank=100000000001&sum=10000&cur=RUB&crc=C08B"
    bank.post(f"{BASE}/GetQr", json=ok(OrderId="21050", Data=link, PaymentId=13660))
    answer = client.get_qr(13660)
    body = sent(bank)
    assert body["DataType"] == "PAYLOAD"
    assert body["Token"] == sha("PAYLOAD" + PASSWORD + "13660" + TERMINAL)
    assert answer.data == link and answer.payment_id == "13660"
    with pytest.raises(ValueError):
        client.get_qr(1, data_type="PNG")


def test_uses_given_session_and_timeout(bank):
    session = requests.Session()
    client = TBankAcquiringClient(TERMINAL, PASSWORD, base_url=BASE, timeout=3, session=session)
    assert client.session is session
    bank.post(f"{BASE}/GetState", json=ok(Status="NEW", PaymentId="1"))
    client.get_state("1")
    assert bank.calls[0].request.req_kwargs["timeout"] == 3


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "code, error_class",
    [
        ("204", BankAuthError),
        (205, BankAuthError),
        ("202", BankAuthError),
        ("8", BankRejected),
        ("255", BankRejected),
        ("308", BankRejected),
        ("3002", BankRejected),
        ("1051", BankRejected),
        ("3", BankUnavailable),
        (9999, BankUnavailable),
    ],
)
def test_error_codes_map_to_classes(bank, client, code, error_class):
    bank.post(f"{BASE}/GetState", json=refusal(code, "Неверный статус транзакции", "Подробности"))
    with pytest.raises(error_class) as caught:
        client.get_state("13660")
    error = caught.value
    assert error.code == str(code)
    assert error.details == "Подробности"
    assert "Неверный статус транзакции" in str(error) and "GetState" in str(error)
    assert error.retryable is (error_class is BankUnavailable)


def test_rejected_keeps_bank_code_and_message(bank, client):
    bank.post(f"{BASE}/Cancel", json=refusal("3002", "Недостаточно средств для возврата"))
    with pytest.raises(BankRejected) as caught:
        client.cancel("13660", amount=100)
    assert caught.value.code == "3002"
    assert "Недостаточно средств для возврата" in caught.value.message


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_http_5xx_is_unavailable(bank, client, status):
    bank.post(f"{BASE}/GetState", status=status, body="<html>Bad Gateway</html>")
    with pytest.raises(BankUnavailable) as caught:
        client.get_state("1")
    assert caught.value.retryable and caught.value.http_status == status


def test_429_with_retry_after(bank, client):
    bank.post(f"{BASE}/GetState", status=429, headers={"Retry-After": "7"}, body="")
    with pytest.raises(BankRateLimited) as caught:
        client.get_state("1")
    assert caught.value.retry_after == 7 and caught.value.retryable


def test_429_without_or_with_date_retry_after(bank, client):
    bank.post(f"{BASE}/GetState", status=429, body="slow down")
    with pytest.raises(BankRateLimited) as caught:
        client.get_state("1")
    assert caught.value.retry_after is None
    bank.post(f"{BASE}/GetState", status=429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    with pytest.raises(BankRateLimited) as caught:
        client.get_state("1")
    assert caught.value.retry_after == 0  # a date in the past: retry now


@pytest.mark.parametrize("status", [401, 403])
def test_http_401_403_is_auth_error(bank, client, status):
    bank.post(f"{BASE}/GetState", status=status, json={"error": "forbidden"})
    with pytest.raises(BankAuthError) as caught:
        client.get_state("1")
    assert not caught.value.retryable


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ConnectTimeout(),
        requests.exceptions.ReadTimeout(),
        requests.exceptions.ConnectionError("refused"),
    ],
)
def test_timeouts_and_connection_errors_are_unavailable(bank, client, failure):
    bank.post(f"{BASE}/Init", body=failure)
    with pytest.raises(BankUnavailable) as caught:
        client.init(1000, "A-1")
    assert caught.value.retryable
    assert caught.value.__cause__ is None  # the request (with its Token) is not chained


@pytest.mark.parametrize(
    "kwargs",
    [
        {"body": "<html>maintenance</html>", "status": 200},
        {"body": b"\xff\xfe\x00", "status": 200},
        {"json": ["Success", True], "status": 200},
        {"json": {"ErrorCode": "0", "Status": "NEW"}, "status": 200},  # no Success
        {"json": {"Success": "maybe"}, "status": 200},
        {"body": "Not Found", "status": 404},
        {"json": {"Success": False}, "status": 400},
    ],
)
def test_garbage_is_protocol_error(bank, client, kwargs):
    bank.post(f"{BASE}/GetState", **kwargs)
    with pytest.raises(BankProtocolError) as caught:
        client.get_state("1")
    assert not caught.value.retryable


def test_http_4xx_with_bank_error_code_uses_the_table(bank, client):
    bank.post(f"{BASE}/GetState", status=400, json=refusal("255", "Платеж не найден"))
    with pytest.raises(BankRejected) as caught:
        client.get_state("1")
    assert caught.value.code == "255" and caught.value.http_status == 400


def test_success_with_missing_fields_is_protocol_error(bank, client):
    bank.post(f"{BASE}/Init", json=ok(Status="NEW"))  # no PaymentId
    with pytest.raises(BankProtocolError, match="PaymentId"):
        client.init(1000, "A-1")
    bank.post(f"{BASE}/GetState", json=ok(Status="NEW", PaymentId="1", Amount=10.5))
    with pytest.raises(BankProtocolError, match="Amount"):
        client.get_state("1")


def test_success_as_text_is_understood(bank, client):
    bank.post(f"{BASE}/GetState", json={"Success": "true", "ErrorCode": "0", "Status": "NEW", "PaymentId": "1"})
    assert client.get_state("1").status == "NEW"


def test_all_errors_share_the_base_class():
    for error_class in (BankAuthError, BankRateLimited, BankUnavailable, BankRejected, BankProtocolError):
        assert issubclass(error_class, BankError)
    assert BankRateLimited("x").retry_after is None


# ------------------------------------------------------------------------ secrets


def _error_texts(error):
    return [str(error), repr(error), "".join(traceback.format_exception(error)), str(error.details)]


ERROR_SCENARIOS = [
    {"json": refusal("204", "Неверные параметры")},
    {"json": refusal("8", "Неверный статус", details="token {token} password " + PASSWORD)},
    {"json": refusal("9999", "Внутренняя ошибка")},
    {"status": 502, "body": "bad gateway"},
    {"status": 429, "headers": {"Retry-After": "1"}},
    {"status": 403, "body": ""},
    {"body": requests.exceptions.ReadTimeout("read timed out")},
    {"body": requests.exceptions.ConnectionError("refused")},
    {"body": "not json"},
    {"json": ok(Status="NEW")},
]


@pytest.mark.parametrize("scenario", ERROR_SCENARIOS)
def test_secrets_never_in_errors_or_logs(bank, client, caplog, scenario):
    caplog.set_level(logging.DEBUG)
    token = sha(PASSWORD + "13660" + TERMINAL)
    scenario = dict(scenario)
    if "json" in scenario and "Details" in scenario["json"]:
        scenario["json"] = {**scenario["json"], "Details": scenario["json"]["Details"].format(token=token)}
    bank.post(f"{BASE}/GetState", **scenario)
    with pytest.raises(BankError) as caught:
        client.get_state("13660")
    assert sent(bank)["Token"] == token
    for text in _error_texts(caught.value) + [caplog.text]:
        assert PASSWORD not in text
        assert token not in text
    assert "GetState" in caplog.text and "13660" in caplog.text


def test_success_log_names_method_ids_and_outcome(bank, client, caplog):
    caplog.set_level(logging.DEBUG)
    bank.post(f"{BASE}/Init", json=ok(Status="NEW", PaymentId="777", OrderId="A-1", Amount=1000))
    client.init(1000, "A-1")
    token = sent(bank)["Token"]
    assert "Init" in caplog.text and "A-1" in caplog.text and "777" in caplog.text
    assert "Success" in caplog.text
    assert PASSWORD not in caplog.text and token not in caplog.text


def test_client_repr_hides_password(client):
    assert PASSWORD not in repr(client) and TERMINAL in repr(client)
    assert PASSWORD not in str(vars(client).get("password", ""))


def test_client_needs_credentials():
    with pytest.raises(ValueError):
        TBankAcquiringClient("", PASSWORD)
    with pytest.raises(ValueError):
        TBankAcquiringClient(TERMINAL, "")


# ------------------------------------------------------------------ notifications


def notification_payload(**changes):
    payload = {
        "TerminalKey": TERMINAL,
        "Amount": 100000,
        "OrderId": "21050",
        "Success": True,
        "Status": "CONFIRMED",
        "PaymentId": 13660,
        "ErrorCode": "0",
        "Pan": "430000******0777",
        "ExpDate": "0229",
        "CardId": 322264,
        "DATA": {"Route": "TCB", "Source": "Installment"},
    }
    payload.update(changes)
    # Independent of compute_token: the §1.6 recipe by hand (booleans as "true").
    concatenated = (
        "100000"
        + str(payload["CardId"])
        + "0"
        + "0229"
        + "21050"
        + "430000******0777"
        + PASSWORD
        + str(payload["PaymentId"])
        + "CONFIRMED"
        + "true"
        + TERMINAL
    )
    payload["Token"] = sha(concatenated)
    return payload


def test_notification_token_is_the_recipe_by_hand():
    """The Odoo side checks a notification with `verify_token` over its root scalars."""
    payload = notification_payload()
    assert payload["Token"] == compute_token(payload, PASSWORD)
    assert verify_token(payload, PASSWORD)
    signed_extra = notification_payload(PaymentId="13660")
    signed_extra["NewFlag"] = "x"  # an unknown root scalar is signed by the bank too
    signed_extra["Token"] = compute_token(signed_extra, PASSWORD)
    assert verify_token(signed_extra, PASSWORD)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.update(Amount=1),
        lambda p: p.update(Status="REFUNDED"),
        lambda p: p.update(Success=False),
        lambda p: p.pop("Token"),
        lambda p: p.update(Token="0" * 64),
        lambda p: p.update(Token=None),
    ],
)
def test_notification_tampered_fails_its_token(tamper):
    payload = notification_payload()
    tamper(payload)
    assert not verify_token(payload, PASSWORD)


def test_notification_signed_with_another_password_fails():
    assert not verify_token(notification_payload(), "another-password")
