"""Notifications to the merchant: payload, token, retries until `OK`, delivery log, restart."""

from bank_sandbox.tokens import check_token, make_token
from sandbox_helpers import PASSWORD, Api, wait_until


def test_notification_payload_and_token(api, receiver):
    payment_id = api.init(150050, "ORD-N", NotificationURL=receiver.notify_url)["PaymentId"]
    api.admin_pay(payment_id, card="2200770239097761", exp="11/29")
    authorized, confirmed = receiver.wait_for(2)
    for note in (authorized, confirmed):
        assert check_token(note, PASSWORD), note
        assert note["PaymentId"] == int(payment_id)  # a number in notifications
        assert note["Success"] is True and note["ErrorCode"] == "0"
        assert (note["TerminalKey"], note["OrderId"], note["Amount"]) == ("TinkoffBankTest", "ORD-N", 150050)
        assert note["Pan"] == "220077******7761" and note["ExpDate"] == "1129" and isinstance(note["CardId"], int)
        assert "RebillId" not in note
    assert [authorized["Status"], confirmed["Status"]] == ["AUTHORIZED", "CONFIRMED"]
    # the token is over root scalars with Success rendered "true"
    unsigned = {k: v for k, v in confirmed.items() if k != "Token"}
    assert confirmed["Token"] == make_token(unsigned, PASSWORD)
    assert not check_token({**confirmed, "Amount": 1}, PASSWORD)


def test_recurrent_payment_carries_rebill_id(api, receiver):
    payment_id = api.init(NotificationURL=receiver.notify_url, Recurrent="Y", CustomerKey="c-1")["PaymentId"]
    api.admin_pay(payment_id)
    notes = receiver.wait_for(2)
    assert isinstance(notes[0]["RebillId"], int) and check_token(notes[0], PASSWORD)


def test_each_notified_status_is_sent(api, receiver):
    payment_id = api.init(10000, NotificationURL=receiver.notify_url)["PaymentId"]
    api.admin_pay(payment_id)
    api.call("Cancel", PaymentId=payment_id, Amount=1000)
    api.call("Cancel", PaymentId=payment_id)
    two_stage = api.init(10000, "T", NotificationURL=receiver.notify_url, PayType="T")["PaymentId"]
    api.admin_pay(two_stage)
    api.call("Cancel", PaymentId=two_stage, Amount=1)
    api.call("Cancel", PaymentId=two_stage)
    cancelled = api.init(order_id="C", NotificationURL=receiver.notify_url)["PaymentId"]
    api.call("Cancel", PaymentId=cancelled)
    receiver.wait_for(8)
    assert receiver.statuses(payment_id) == ["AUTHORIZED", "CONFIRMED", "PARTIAL_REFUNDED", "REFUNDED"]
    assert receiver.statuses(two_stage) == ["AUTHORIZED", "PARTIAL_REVERSED", "REVERSED"]
    assert receiver.statuses(cancelled) == ["CANCELED"]
    assert all(check_token(n, PASSWORD) for n in receiver.notifications)


def test_retries_until_the_merchant_answers_ok(api, receiver):
    receiver.responses.extend([(500, "error"), (200, "ok"), (200, "<p>OK</p>")])
    payment_id = api.init(NotificationURL=receiver.notify_url, PayType="T")["PaymentId"]
    api.admin_pay(payment_id)
    receiver.wait_for(4)
    wait_until(lambda: not api.state()["pending_notifications"])
    attempts = [e for e in api.state()["delivery_log"] if e["event"] == "attempt"]
    assert [(e["attempt"], e["http_status"], e["body"], e["ok"]) for e in attempts] == [
        (1, 500, "error", False),
        (2, 200, "ok", False),
        (3, 200, "<p>OK</p>", False),
        (4, 200, "OK", True),
    ]
    assert all(e["time"] and e["meta"]["Status"] == "AUTHORIZED" for e in attempts)
    assert len(receiver.notifications) == 4


def test_gives_up_after_max_attempts(make_sandbox, receiver):
    server = make_sandbox(notify_max_attempts=3)
    api = Api(server.url)
    receiver.default = (503, "busy")
    payment_id = api.init(NotificationURL=receiver.notify_url, PayType="T")["PaymentId"]
    api.admin_pay(payment_id)
    wait_until(lambda: api.state()["given_up_notifications"])
    state = api.state()
    assert state["pending_notifications"] == []
    assert [e["event"] for e in state["delivery_log"]] == ["attempt", "attempt", "attempt", "gave_up"]
    assert len(receiver.notifications) == 3


def test_unreachable_merchant_is_logged_and_retried(api, receiver):
    dead_url = receiver.url + "/notify"
    receiver.close()  # nothing listens any more
    payment_id = api.init(NotificationURL=dead_url, PayType="T")["PaymentId"]
    api.admin_pay(payment_id)
    wait_until(lambda: len([e for e in api.state()["delivery_log"] if e["event"] == "attempt"]) >= 2)
    entry = api.state()["delivery_log"][0]
    assert entry["http_status"] is None and entry["ok"] is False and entry["error"]


def test_terminal_default_notification_url(make_sandbox, receiver):
    server = make_sandbox(terminals=[f"Shop:pw:{receiver.notify_url}"])
    api = Api(server.url, "Shop", "pw")
    api.admin_pay(api.init(PayType="T")["PaymentId"])
    note = receiver.wait_for(1)[0]
    assert note["TerminalKey"] == "Shop" and check_token(note, "pw")


def test_no_notification_url_is_logged(api):
    api.admin_pay(api.init(PayType="T")["PaymentId"])
    assert api.state()["delivery_log"][0]["event"] == "no_url"


def test_flush_delivers_synchronously(make_sandbox, receiver):
    server = make_sandbox(notify_interval=3600)
    api = Api(server.url)
    receiver.responses.append((500, "no"))
    payment_id = api.init(NotificationURL=receiver.notify_url, PayType="T")["PaymentId"]
    api.admin_pay(payment_id)
    wait_until(lambda: api.state()["delivery_log"])  # first attempt failed; next one in an hour
    assert len(api.state()["pending_notifications"]) == 1
    result = api.flush()
    assert result["delivered"] == 1 and result["pending"] == 0
    assert result["results"][0]["http_status"] == 200 and result["results"][0]["meta"]["Status"] == "AUTHORIZED"


def test_state_and_pending_notifications_survive_a_restart(make_sandbox, receiver, tmp_path):
    state_dir = tmp_path / "shared-state"
    first = make_sandbox(state_dir, notify_interval=3600)
    api = Api(first.url)
    receiver.default = (500, "down for maintenance")
    payment_id = api.init(NotificationURL=receiver.notify_url)["PaymentId"]
    api.admin_pay(payment_id)
    wait_until(lambda: len(api.state()["delivery_log"]) >= 2)
    api.admin("POST", "faults", {"latency": 1})
    first.stop()
    assert (state_dir / "state.json").exists()

    receiver.default = (200, "OK")
    second = make_sandbox(state_dir)
    api2 = Api(second.url)
    assert api2.status(payment_id) == "CONFIRMED"
    assert api2.state()["faults"]["latency"] == 1
    wait_until(lambda: not api2.state()["pending_notifications"])
    assert receiver.statuses(payment_id) == ["AUTHORIZED", "CONFIRMED"] * 2  # failed twice, then delivered
    # counters continue: no PaymentId is reused
    assert int(api2.init(order_id="next")["PaymentId"]) == int(payment_id) + 1


def test_corrupt_state_file_is_moved_aside(make_sandbox, tmp_path):
    state_dir = tmp_path / "corrupt"
    state_dir.mkdir()
    (state_dir / "state.json").write_text("{not json")
    server = make_sandbox(state_dir)
    assert Api(server.url).init()["Status"] == "NEW"
    assert list(state_dir.glob("state.json.corrupt-*"))


def test_every_change_is_on_disk_before_the_answer(sandbox, api):
    """No clean stop needed: a fresh reader of the state dir sees the latest status."""
    from bank_sandbox.state import StateStore
    from bank_sandbox.tbank_acquiring import PAYMENTS

    payment_id = api.init()["PaymentId"]
    api.admin_pay(payment_id)
    reader = StateStore(sandbox.state_dir, read_only=True)
    assert reader.collection(PAYMENTS)[payment_id]["Status"] == "CONFIRMED"
    assert reader.data["counters"]["tbank_payment"] == int(payment_id)


def test_torn_journal_line_is_ignored(make_sandbox, tmp_path):
    from bank_sandbox.tbank_acquiring import PAYMENTS

    state_dir = tmp_path / "torn"
    first = make_sandbox(state_dir)
    payment_id = Api(first.url).init()["PaymentId"]
    first.stop()
    with open(state_dir / f"{PAYMENTS}.jsonl", "a") as journal:
        journal.write('{"k": "123", "v": {"Sta')  # crash in the middle of an append
    second = make_sandbox(state_dir)
    api = Api(second.url)
    assert list(api.state()["payments"]) == [payment_id]
    api.admin_pay(payment_id)  # appended after the repaired journal, readable without a clean stop
    from bank_sandbox.state import StateStore

    assert StateStore(state_dir, read_only=True).collection(PAYMENTS)[payment_id]["Status"] == "CONFIRMED"
