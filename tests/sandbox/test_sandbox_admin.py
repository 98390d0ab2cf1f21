"""Admin API: health, state, reset, pay without the form, terminals, clock."""

from sandbox_helpers import Api


def test_health(api, sandbox):
    answer = api.admin("GET", "health").json()
    assert answer["status"] == "ok" and "tbank_acquiring" in answer["banks"] and answer["url"] == sandbox.url


def test_state_lists_payments_without_secrets(api):
    payment_id = api.init(Description="x")["PaymentId"]
    state = api.state()
    payment = state["payments"][payment_id]
    assert payment["Status"] == "NEW" and payment["Amount"] == 150050 and payment["history"][0]["Status"] == "NEW"
    assert state["terminals"] == [{"TerminalKey": "TinkoffBankTest"}]
    assert "password" not in api.admin("GET", "state").text.lower()
    assert {"pending_notifications", "delivery_log", "faults", "clock"} <= set(state)


def test_admin_pay_variants(api):
    card = api.admin_pay(api.init(order_id="1")["PaymentId"])
    assert (card["outcome"], card["Status"], card["Success"]) == ("paid", "CONFIRMED", True)
    declined = api.admin_pay(api.init(order_id="2")["PaymentId"], card="2201382000000831")
    assert (declined["Status"], declined["ErrorCode"], declined["Success"]) == ("REJECTED", "1051", False)
    challenge = api.admin_pay(api.init(order_id="3")["PaymentId"], card="2201382000000047")
    assert challenge["Status"] == "CONFIRMED"  # right ACS password by default
    wrong = api.admin_pay(api.init(order_id="4")["PaymentId"], card="2201382000000047", acs_password="x")
    assert wrong["Status"] == "AUTH_FAIL"
    sbp = api.admin_pay(api.init(order_id="5")["PaymentId"], method="sbp", phone="89001234567")
    assert (sbp["Status"], sbp["Pan"]) == ("CONFIRMED", "+7 (900) ***-**-67")


def test_admin_pay_errors(api):
    payment_id = api.init()["PaymentId"]
    api.admin_pay(payment_id)
    again = api.admin("POST", "pay", {"PaymentId": payment_id})
    assert again.status_code == 409 and again.json()["outcome"] == "not_payable"
    assert api.admin("POST", "pay", {"PaymentId": "1"}).status_code == 404
    assert api.admin("POST", "pay", {}).status_code == 400
    assert api.admin("POST", "pay", {"PaymentId": payment_id, "method": "cash"}).status_code == 400


def test_admin_pay_returns_redirect_url(api):
    answer = api.admin_pay(api.init(SuccessURL="https://shop.example/ok")["PaymentId"])
    assert answer["RedirectURL"].startswith("https://shop.example/ok?Success=true&ErrorCode=0")


def test_reset_clears_everything(api):
    payment_id = api.init()["PaymentId"]
    api.admin("POST", "faults", {"latency": 1})
    api.admin("POST", "terminals", {"TerminalKey": "Extra", "Password": "p"})
    assert api.admin("POST", "reset").json()["status"] == "ok"
    state = api.state()
    assert state["payments"] == {} and state["faults"]["latency"] == 0 and state["delivery_log"] == []
    assert [t["TerminalKey"] for t in state["terminals"]] == ["TinkoffBankTest"]
    assert api.call("GetState", PaymentId=payment_id)["ErrorCode"] == "255"


def test_terminals_can_be_added_at_runtime(api, receiver):
    response = api.admin(
        "POST", "terminals", {"TerminalKey": "Shop2", "Password": "pw2", "NotificationURL": receiver.notify_url}
    )
    assert {"TerminalKey": "Shop2", "notification_url": receiver.notify_url} in response.json()["terminals"]
    shop = Api(api.base, "Shop2", "pw2")
    shop.admin_pay(shop.init(PayType="T")["PaymentId"])
    assert receiver.wait_for(1)[0]["TerminalKey"] == "Shop2"
    assert api.admin("POST", "terminals", {"TerminalKey": "New"}).status_code == 400  # password needed


def test_clock(api):
    before = api.admin("GET", "clock").json()
    assert before["offset_seconds"] == 0
    assert api.admin("POST", "clock", {"advance_seconds": 60}).json()["offset_seconds"] == 60
    assert api.admin("POST", "clock", {"advance_seconds": 60}).json()["offset_seconds"] == 120
    assert api.admin("POST", "clock", {"reset": True}).json()["offset_seconds"] == 0
    assert api.admin("POST", "clock", {"advance_seconds": "soon"}).status_code == 400


def test_unknown_admin_path(api):
    assert api.admin("GET", "nope").status_code == 404
    assert api.admin("GET", "reset").status_code == 405
