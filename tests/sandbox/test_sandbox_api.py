"""T-Bank acquiring API v2 of the sandbox: methods, validation, authentication, errors."""

import re

import pytest

from sandbox_helpers import Api

METHODS = ["Init", "GetState", "Confirm", "Cancel", "CheckOrder", "GetQr", "SbpPayTest"]


def assert_error(answer: dict, code: str, mentions: str | None = None):
    assert answer["Success"] is False, answer
    assert answer["ErrorCode"] == code, answer
    assert answer["Message"]
    assert "Details" in answer
    if mentions:
        assert mentions in answer["Message"] + answer["Details"], answer


def params_for(method: str, payment_id: str) -> dict:
    return {"Init": {"Amount": 1000, "OrderId": "A-1"}, "CheckOrder": {"OrderId": "ORDER-1"}}.get(
        method, {"PaymentId": payment_id}
    )


# -- authentication on every method --------------------------------------------------------------------
@pytest.mark.parametrize("method", METHODS)
def test_every_method_rejects_a_wrong_token(api, method):
    payment_id = api.init()["PaymentId"]
    body = api.signed(params_for(method, payment_id), password="not-the-password")
    assert_error(api.post(method, body).json(), "204")


@pytest.mark.parametrize("method", METHODS)
def test_every_method_rejects_a_missing_token(api, method):
    payment_id = api.init()["PaymentId"]
    body = api.signed(params_for(method, payment_id))
    del body["Token"]
    assert_error(api.post(method, body).json(), "204")


@pytest.mark.parametrize("method", METHODS)
def test_every_method_rejects_an_unknown_terminal(api, method):
    payment_id = api.init()["PaymentId"]
    body = api.signed(params_for(method, payment_id), terminal="NoSuchTerminal")
    assert_error(api.post(method, body).json(), "205")


@pytest.mark.parametrize("method", METHODS)
def test_every_method_accepts_a_valid_token(api, method):
    payment_id = api.init()["PaymentId"]
    if method == "Confirm":
        payment_id = api.init(order_id="T-1", PayType="T")["PaymentId"]
        api.admin_pay(payment_id)
    if method == "SbpPayTest":
        api.call("GetQr", PaymentId=payment_id)
    answer = api.call(method, **params_for(method, payment_id))
    assert answer["Success"] is True and answer["ErrorCode"] == "0", answer


def test_tampered_parameter_invalidates_the_token(api):
    body = api.signed({"Amount": 1000, "OrderId": "A-1"})
    body["Amount"] = 1
    assert_error(api.post("Init", body).json(), "204")


def test_missing_terminal_key_names_the_field(api):
    assert_error(api.post("GetState", {"PaymentId": "1", "Token": "x"}).json(), "2", "TerminalKey")


def test_second_terminal_from_options(make_sandbox):
    server = make_sandbox(terminals=["ShopA:secretA", "ShopB:secretB"])
    shop_a, shop_b = Api(server.url, "ShopA", "secretA"), Api(server.url, "ShopB", "secretB")
    payment_id = shop_a.init()["PaymentId"]
    assert shop_a.status(payment_id) == "NEW"
    assert_error(shop_b.call("GetState", PaymentId=payment_id), "255")  # not B's payment
    assert_error(Api(server.url).call("GetState", PaymentId=payment_id), "205")  # default terminal not configured


# -- Init -----------------------------------------------------------------------------------------------
def test_init_creates_a_new_payment(api, sandbox):
    answer = api.init(150050, "ORDER-1", Description="Счёт 42", PayType="O", Language="ru")
    assert answer["Status"] == "NEW" and answer["ErrorCode"] == "0"
    assert isinstance(answer["PaymentId"], str) and answer["PaymentId"].isdigit()
    assert answer["PaymentURL"] == f"{sandbox.url}/pay/{answer['PaymentId']}"
    assert (answer["Amount"], answer["OrderId"], answer["TerminalKey"]) == (150050, "ORDER-1", "TinkoffBankTest")
    assert api.status(answer["PaymentId"]) == "NEW"
    assert api.init(order_id="ORDER-2")["PaymentId"] != answer["PaymentId"]


def test_public_url_is_used_in_payment_url(make_sandbox):
    server = make_sandbox(public_url="https://bank.example.test/")
    answer = Api(server.url).init()
    assert answer["PaymentURL"] == f"https://bank.example.test/pay/{answer['PaymentId']}"


def test_init_accepts_integer_order_id_and_nested_objects_outside_the_token(api):
    receipt = {
        "Email": "a@example.com",
        "Taxation": "usn_income",
        "Items": [
            {"Name": "A", "Price": 1000, "Quantity": 1, "Amount": 1000, "Tax": "none"},
            {"Name": "B", "Price": 250, "Quantity": 2, "Amount": 500, "Tax": "vat20"},
        ],
    }
    answer = api.init(1500, 100500, DATA={"Phone": "+79990000000"}, Receipt=receipt)
    assert answer["OrderId"] == "100500"


@pytest.mark.parametrize("field", ["Amount", "OrderId"])
def test_init_missing_required_field(api, field):
    params = {"Amount": 1000, "OrderId": "A-1"}
    del params[field]
    assert_error(api.call("Init", **params), "2", field)


@pytest.mark.parametrize(
    "field,value",
    [
        ("Amount", 0),
        ("Amount", -100),
        ("Amount", "1000"),
        ("Amount", 10.5),
        ("Amount", True),
        ("Amount", 12345678901),
        ("OrderId", "x" * 37),
        ("OrderId", 1.5),
        ("Description", "d" * 141),
        ("PayType", "X"),
        ("Language", "de"),
        ("NotificationURL", "ftp://x"),
        ("SuccessURL", 5),
        ("Recurrent", "N"),
        ("DATA", "notanobject"),
        ("Receipt", []),
    ],
)
def test_init_rejects_bad_types_and_lengths(api, field, value):
    params = {"Amount": 1000, "OrderId": "A-1", field: value}
    assert_error(api.call("Init", **params), "1", field)


def test_init_receipt_must_add_up(api):
    receipt = {
        "Email": "a@example.com",
        "Taxation": "osn",
        "Items": [{"Name": "A", "Price": 900, "Quantity": 1, "Amount": 900, "Tax": "none"}],
    }
    assert_error(api.call("Init", Amount=1000, OrderId="A-1", Receipt=receipt), "308")
    assert_error(api.call("Init", Amount=1000, OrderId="A-1", Receipt={"Taxation": "osn", "Items": []}), "309")


# Every Tax code of the receipt as the bank documents it since 1 January 2026 (docs/banks.md §1.3,
# docs/vat-and-receipts.md): a rate for what is handed over, its calculated twin for a prepayment.
VAT_CODES_2026 = [
    ("vat22", "full_payment"),
    ("vat122", "full_prepayment"),
    ("vat10", "full_payment"),
    ("vat110", "prepayment"),
    ("vat5", "full_payment"),
    ("vat105", "full_prepayment"),
    ("vat7", "full_payment"),
    ("vat107", "advance"),
    ("vat20", "full_payment"),  # shipments made before 2026
    ("vat120", "full_prepayment"),
]


def _receipt(amount, tax, payment_method="full_payment"):
    return {
        "Email": "a@example.com",
        "Taxation": "osn",
        "Items": [
            {
                "Name": "A",
                "Price": amount,
                "Quantity": 1,
                "Amount": amount,
                "Tax": tax,
                "PaymentMethod": payment_method,
                "PaymentObject": "commodity",
            }
        ],
    }


@pytest.mark.parametrize("tax,payment_method", VAT_CODES_2026)
def test_init_receipt_accepts_the_vat_codes_of_2026(api, tax, payment_method):
    answer = api.init(12200, "VAT-1", Receipt=_receipt(12200, tax, payment_method))
    stored = api.state()["payments"][answer["PaymentId"]]["Receipt"]
    assert stored["Items"][0]["Tax"] == tax and stored["Items"][0]["PaymentMethod"] == payment_method


@pytest.mark.parametrize("tax", ["vat22", "vat122"])
def test_confirm_and_refund_receipts_accept_vat22_and_vat122(api, tax):
    payment_id = api.init(12200, "VAT-2", PayType="T")["PaymentId"]
    api.admin_pay(payment_id)
    assert api.status(payment_id) == "AUTHORIZED"
    assert api.call("Confirm", PaymentId=payment_id, Receipt=_receipt(12200, tax))["Status"] == "CONFIRMED"
    refund = api.call("Cancel", PaymentId=payment_id, Amount=2200, Receipt=_receipt(2200, tax))
    assert refund["Status"] == "PARTIAL_REFUNDED", refund


@pytest.mark.parametrize("tax", ["vat18", "vat118", "vat21", "VAT22", "22", ""])
def test_init_receipt_refuses_unknown_vat_codes(api, tax):
    answer = api.call("Init", Amount=1000, OrderId="A-1", Receipt=_receipt(1000, tax))
    assert_error(answer, "2" if tax == "" else "1", "Tax")
    assert api.state()["payments"] == {}


def test_init_receipt_refuses_an_unknown_payment_method(api):
    answer = api.call("Init", Amount=1000, OrderId="A-1", Receipt=_receipt(1000, "vat122", "prepaid"))
    assert_error(answer, "1", "PaymentMethod")
    assert api.state()["payments"] == {}


def test_init_data_limits(api):
    assert_error(api.call("Init", Amount=1000, OrderId="A", DATA={f"k{i}": "v" for i in range(21)}), "207")
    assert_error(api.call("Init", Amount=1000, OrderId="A", DATA={"k" * 21: "v"}), "208")
    assert_error(api.call("Init", Amount=1000, OrderId="A", DATA={"k": "v" * 101}), "207")


@pytest.mark.parametrize(
    "value,code",
    [
        ("tomorrow", "12"),
        ("2030-01-01T00:00:00", "12"),
        ("2001-01-01T00:00:00+03:00", "3017"),
        ("2999-01-01T00:00:00+03:00", "3017"),
    ],
)
def test_init_redirect_due_date(api, value, code):
    assert_error(api.call("Init", Amount=1000, OrderId="A", RedirectDueDate=value), code, "RedirectDueDate")


def test_init_recurrent_needs_customer_key(api):
    assert_error(api.call("Init", Amount=1000, OrderId="A", Recurrent="Y"), "2", "CustomerKey")


def test_order_id_may_repeat_until_it_is_paid(api):
    first = api.init(order_id="SAME")["PaymentId"]
    api.init(order_id="SAME")
    api.admin_pay(first)
    assert_error(api.call("Init", Amount=1000, OrderId="SAME"), "20")


# -- GetState / CheckOrder ----------------------------------------------------------------------------------
def test_get_state_errors(api):
    assert_error(api.call("GetState"), "201", "PaymentId")
    assert_error(api.call("GetState", PaymentId="123"), "255")
    assert_error(api.call("GetState", PaymentId="abc"), "1", "PaymentId")


def test_get_state_accepts_numeric_payment_id(api):
    payment_id = api.init()["PaymentId"]
    answer = api.call("GetState", PaymentId=int(payment_id))
    assert answer["PaymentId"] == payment_id and answer["Amount"] == 150050 and answer["OrderId"] == "ORDER-1"


def test_check_order_lists_every_payment_of_the_order(api):
    first = api.init(order_id="ORD")["PaymentId"]
    second = api.init(2000, "ORD")["PaymentId"]
    api.init(order_id="OTHER")
    api.admin_pay(second)
    answer = api.call("CheckOrder", OrderId="ORD")
    assert answer["OrderId"] == "ORD"
    assert [(p["PaymentId"], p["Status"], p["Amount"]) for p in answer["Payments"]] == [
        (first, "NEW", 150050),
        (second, "CONFIRMED", 2000),
    ]
    assert answer["Payments"][1]["RRN"]
    assert_error(api.call("CheckOrder", OrderId="NOPE"), "255")
    assert_error(api.call("CheckOrder"), "2", "OrderId")


# -- Confirm / Cancel ---------------------------------------------------------------------------------------------
def test_two_stage_confirm_partial(api):
    payment_id = api.init(10000, PayType="T")["PaymentId"]
    assert api.admin_pay(payment_id)["Status"] == "AUTHORIZED"
    assert_error(api.call("Confirm", PaymentId=payment_id, Amount=10001), "1", "Amount")
    answer = api.call("Confirm", PaymentId=payment_id, Amount=8000)
    assert answer["Status"] == "CONFIRMED" and answer["PaymentId"] == payment_id
    state = api.call("GetState", PaymentId=payment_id)
    assert (state["Status"], state["Amount"]) == ("CONFIRMED", 8000)
    assert_error(api.call("Confirm", PaymentId=payment_id), "4")


def test_confirm_needs_an_authorized_payment(api):
    payment_id = api.init()["PaymentId"]
    assert_error(api.call("Confirm", PaymentId=payment_id), "4", "AUTHORIZED")


def test_cancel_new_payment(api):
    payment_id = api.init(5000)["PaymentId"]
    answer = api.call("Cancel", PaymentId=payment_id, Amount=100)  # Amount ignored for NEW
    assert answer["Status"] == "CANCELED"
    assert (answer["OriginalAmount"], answer["NewAmount"]) == (5000, 0)
    assert answer["PaymentId"] == int(payment_id)  # a number in Cancel's answer
    assert api.status(payment_id) == "CANCELED"
    assert_error(api.call("Cancel", PaymentId=payment_id), "4")


def test_cancel_authorized_reverses(api):
    payment_id = api.init(10000, PayType="T")["PaymentId"]
    api.admin_pay(payment_id)
    first = api.call("Cancel", PaymentId=payment_id, Amount=3000)
    assert (first["Status"], first["OriginalAmount"], first["NewAmount"]) == ("PARTIAL_REVERSED", 10000, 7000)
    assert_error(api.call("Cancel", PaymentId=payment_id, Amount=7001), "1", "Amount")
    second = api.call("Cancel", PaymentId=payment_id)
    assert (second["Status"], second["OriginalAmount"], second["NewAmount"]) == ("REVERSED", 7000, 0)


def test_cancel_confirmed_refunds_and_tracks_the_total(api):
    payment_id = api.init(10000)["PaymentId"]
    api.admin_pay(payment_id)
    a = api.call("Cancel", PaymentId=payment_id, Amount=2500)
    b = api.call("Cancel", PaymentId=payment_id, Amount=2500)
    assert (a["Status"], a["NewAmount"], b["Status"], b["NewAmount"]) == (
        "PARTIAL_REFUNDED",
        7500,
        "PARTIAL_REFUNDED",
        5000,
    )
    assert_error(api.call("Cancel", PaymentId=payment_id, Amount=5001), "1")
    c = api.call("Cancel", PaymentId=payment_id)
    assert (c["Status"], c["OriginalAmount"], c["NewAmount"]) == ("REFUNDED", 5000, 0)
    assert api.state()["payments"][payment_id]["refunded_amount"] == 10000
    assert_error(api.call("Cancel", PaymentId=payment_id), "4", "REFUNDED")


def test_cancel_with_external_request_id_is_idempotent(api):
    payment_id = api.init(10000)["PaymentId"]
    api.admin_pay(payment_id)
    first = api.call("Cancel", PaymentId=payment_id, Amount=1000, ExternalRequestId="r-1")
    again = api.call("Cancel", PaymentId=payment_id, Amount=1000, ExternalRequestId="r-1")
    assert first == again and first["ExternalRequestId"] == "r-1"
    assert api.state()["payments"][payment_id]["refunded_amount"] == 1000


def test_cancel_refund_receipt_must_match_the_refund(api):
    payment_id = api.init(10000)["PaymentId"]
    api.admin_pay(payment_id)
    receipt = {
        "Email": "a@example.com",
        "Taxation": "osn",
        "Items": [{"Name": "A", "Price": 1000, "Quantity": 1, "Amount": 1000, "Tax": "none"}],
    }
    assert_error(api.call("Cancel", PaymentId=payment_id, Amount=2000, Receipt=receipt), "308")
    assert api.call("Cancel", PaymentId=payment_id, Amount=1000, Receipt=receipt)["Status"] == "PARTIAL_REFUNDED"


# -- SBP ----------------------------------------------------------------------------------------------------------------
def test_get_qr_payload(api):
    payment_id = api.init(150050)["PaymentId"]
    answer = api.call("GetQr", PaymentId=payment_id)
    match = re.fullmatch(
        r"https://qr\.nspk\.ru/([A-Z0-9]{32})\?type=02&bank=100000000004&sum=150050&cur=RUB&crc=([0-9A-F]{4})",
        answer["Data"],
    )
    assert match, answer["Data"]
    assert answer["PaymentId"] == int(payment_id) and answer["OrderId"] == "ORDER-1" and answer["RequestKey"]
    assert api.call("GetQr", PaymentId=payment_id, DataType="PAYLOAD")["Data"] == answer["Data"]  # same QR
    deeplink = api.call("GetQr", PaymentId=payment_id, BankId="100000000111")["Data"]
    assert deeplink.startswith(f"bank100000000111://qr.nspk.ru/{match.group(1)}?")


def test_get_qr_image_is_svg(api):
    payment_id = api.init()["PaymentId"]
    answer = api.call("GetQr", PaymentId=payment_id, DataType="IMAGE")
    assert answer["Success"] is True and "<svg" in answer["Data"]


def test_get_qr_errors(api):
    assert_error(api.call("GetQr", PaymentId=api.init(999)["PaymentId"]), "3016")
    assert_error(api.call("GetQr", PaymentId=api.init()["PaymentId"], DataType="PNG"), "1", "DataType")
    paid = api.init(order_id="P")["PaymentId"]
    api.admin_pay(paid)
    assert_error(api.call("GetQr", PaymentId=paid), "4")


@pytest.mark.parametrize(
    "flags,status",
    [({}, "CONFIRMED"), ({"IsRejected": True}, "REJECTED"), ({"IsDeadlineExpired": True}, "DEADLINE_EXPIRED")],
)
def test_sbp_pay_test(api, flags, status):
    payment_id = api.init()["PaymentId"]
    assert_error(api.call("SbpPayTest", PaymentId=payment_id), "4", "GetQr")
    api.call("GetQr", PaymentId=payment_id)
    assert api.call("SbpPayTest", PaymentId=payment_id, **flags)["Success"] is True
    assert api.status(payment_id) == status
    if status == "CONFIRMED":
        assert re.fullmatch(r"\+7 \(\d{3}\) \*\*\*-\*\*-\d{2}", api.state()["payments"][payment_id]["Pan"])


def test_sbp_pay_test_rejects_non_boolean_flags(api):
    payment_id = api.init()["PaymentId"]
    api.call("GetQr", PaymentId=payment_id)
    assert_error(api.call("SbpPayTest", PaymentId=payment_id, IsRejected="maybe"), "1", "IsRejected")


# -- malformed requests -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body,headers",
    [
        (b"not json", {"Content-Type": "application/json"}),
        (b"[1, 2]", {"Content-Type": "application/json"}),
        (b'"just a string"', {}),
        (b"", {"Content-Type": "application/json"}),
        (b"{\"TerminalKey\": ", {"Content-Type": "application/json"}),
        (b"\xff\xfe\x00garbage", {"Content-Type": "application/octet-stream"}),
    ],
)
def test_malformed_bodies_get_a_bank_error(api, body, headers):
    response = api.http.post(f"{api.base}/v2/Init", data=body, headers=headers, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert_error(response.json(), "1")
    assert "Traceback" not in response.text


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_tolerated(api, content_type):
    import json

    body = json.dumps(api.signed({"Amount": 1000, "OrderId": "CT"})).encode()
    headers = {"Content-Type": content_type} if content_type else {}
    answer = api.http.post(f"{api.base}/v2/Init", data=body, headers=headers, timeout=5).json()
    assert answer["Success"] is True


def test_non_object_fields_do_not_crash(api):
    body = api.signed({"Amount": {"x": 1}, "OrderId": ["a"]})
    assert_error(api.post("Init", body).json(), "1", "Amount")


def test_unknown_method_is_a_json_404(api):
    response = api.post("NoSuchMethod", api.signed({}))
    assert response.status_code == 404
    assert_error(response.json(), "404", "NoSuchMethod")
    response = api.http.post(f"{api.base}/v2/TinkoffPay/terminals", json={}, timeout=5)
    assert response.status_code == 404 and response.json()["Success"] is False


def test_get_on_an_api_method_is_a_json_405(api):
    response = api.http.get(f"{api.base}/v2/Init", timeout=5)
    assert response.status_code == 405
    assert_error(response.json(), "405")


def test_unknown_path_is_json_404(api):
    response = api.http.get(f"{api.base}/nothing/here", timeout=5)
    assert response.status_code == 404 and response.json()["error"] == "not found"


def test_get_qr_image_without_qrcode_package(api, monkeypatch):
    import bank_sandbox.tbank_acquiring as acquiring

    monkeypatch.setattr(acquiring, "qr_svg", lambda text: None)
    answer = api.call("GetQr", PaymentId=api.init()["PaymentId"], DataType="IMAGE")
    assert_error(answer, "3", "qrcode")
