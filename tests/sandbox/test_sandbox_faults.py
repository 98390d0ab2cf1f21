"""Fault injection: latency, HTTP 500/429, duplicate, out-of-order and dropped notifications."""

import time

import pytest

from bank_sandbox.tokens import check_token
from sandbox_helpers import PASSWORD, Api, wait_until


def test_faults_default_off_and_listed(api):
    answer = api.admin("GET", "faults").json()
    assert answer["faults"] == {
        "latency": 0,
        "http500": 0,
        "http429": 0,
        "duplicate": 0,
        "out_of_order": False,
        "drop": False,
        "duplicate_rate": 0.0,
        "reorder_rate": 0.0,
        "drop_rate": 0.0,
        "burst_rate": 0.0,
        "burst_length": 5,
        "seed": 0,
    }
    assert set(answer["known"]) == set(answer["faults"])


def test_set_and_clear_faults_at_runtime(api):
    assert api.admin("POST", "faults", {"latency": "5", "drop": "true"}).json()["faults"]["drop"] is True
    assert api.admin("GET", "faults").json()["faults"]["latency"] == 5
    assert api.admin("POST", "faults", {"clear": ["drop"]}).json()["faults"] == {
        "latency": 5,
        "http500": 0,
        "http429": 0,
        "duplicate": 0,
        "out_of_order": False,
        "drop": False,
        "duplicate_rate": 0.0,
        "reorder_rate": 0.0,
        "drop_rate": 0.0,
        "burst_rate": 0.0,
        "burst_length": 5,
        "seed": 0,
    }
    assert api.admin("DELETE", "faults").json()["faults"]["latency"] == 0
    assert api.admin("POST", "faults", {"nonsense": 1}).status_code == 400
    assert api.admin("POST", "faults", {"latency": -1}).status_code == 400
    assert api.admin("POST", "faults", {"drop": "perhaps"}).status_code == 400


def test_latency_is_added_to_api_calls_only(api):
    payment_id = api.init()["PaymentId"]
    api.admin("POST", "faults", {"latency": 300})
    started = time.monotonic()
    response = api.post("GetState", api.signed({"PaymentId": payment_id}))
    # a lower bound only: a busy machine makes a call slower, never faster
    assert time.monotonic() - started >= 0.3
    assert response.headers["X-Sandbox-Latency-Ms"] == "300"
    assert response.json()["Success"] is True
    # the admin API and the payment page are not delayed (told by the sandbox, not timed)
    assert "X-Sandbox-Latency-Ms" not in api.admin("GET", "health").headers
    assert "X-Sandbox-Latency-Ms" not in api.http.get(f"{api.base}/pay/{payment_id}", timeout=5).headers


def test_http500_for_the_next_n_requests_then_recovery(api):
    payment_id = api.init()["PaymentId"]
    api.admin("POST", "faults", {"http500": 2})
    for _ in range(2):
        response = api.post("GetState", api.signed({"PaymentId": payment_id}))
        assert response.status_code == 500 and "<html>" in response.text
    assert api.admin("GET", "faults").json()["faults"]["http500"] == 0
    assert api.call("GetState", PaymentId=payment_id)["Success"] is True
    assert api.admin("GET", "health").status_code == 200  # admin is never faulted


def test_http429(api):
    api.admin("POST", "faults", {"http429": 1})
    response = api.post("Init", api.signed({"Amount": 1000, "OrderId": "x"}))
    assert response.status_code == 429 and response.headers["Retry-After"] == "1"
    assert api.init()["Success"] is True


def test_duplicate_delivers_each_notification_n_times(api, receiver):
    api.admin("POST", "faults", {"duplicate": 3})
    payment_id = api.init(NotificationURL=receiver.notify_url)["PaymentId"]
    api.admin_pay(payment_id)
    receiver.wait_for(6)
    wait_until(lambda: not api.state()["pending_notifications"])
    assert receiver.statuses(payment_id) == ["AUTHORIZED"] * 3 + ["CONFIRMED"] * 3
    assert all(check_token(n, PASSWORD) for n in receiver.notifications)


def test_out_of_order_sends_newest_first(api, receiver):
    api.admin("POST", "faults", {"out_of_order": True})
    payment_id = api.init(NotificationURL=receiver.notify_url)["PaymentId"]
    api.admin_pay(payment_id)
    pending = api.state()["pending_notifications"]
    assert [p["meta"]["Status"] for p in pending] == ["AUTHORIZED", "CONFIRMED"] and all(p["held"] for p in pending)
    api.flush()
    assert receiver.statuses(payment_id) == ["CONFIRMED", "AUTHORIZED"]


def test_out_of_order_released_by_the_background_worker(make_sandbox, receiver):
    server = make_sandbox(faults={"out_of_order": True}, notify_interval=0.1)
    api = Api(server.url)
    payment_id = api.init(NotificationURL=receiver.notify_url, PayType="T")["PaymentId"]
    api.admin_pay(payment_id)
    api.call("Confirm", PaymentId=payment_id)
    receiver.wait_for(2)
    assert receiver.statuses(payment_id) == ["CONFIRMED", "AUTHORIZED"]


def test_drop_never_sends_but_status_changes(api, receiver):
    api.admin("POST", "faults", {"drop": True})
    payment_id = api.init(NotificationURL=receiver.notify_url)["PaymentId"]
    api.admin_pay(payment_id)
    assert api.flush()["results"] == []
    assert receiver.notifications == []
    assert api.status(payment_id) == "CONFIRMED"
    state = api.state()
    assert state["pending_notifications"] == []
    assert [e["event"] for e in state["delivery_log"]] == ["dropped", "dropped"]


def test_drop_turned_on_discards_pending_retries(api, receiver):
    receiver.default = (500, "no")
    payment_id = api.init(NotificationURL=receiver.notify_url, PayType="T")["PaymentId"]
    api.admin_pay(payment_id)
    wait_until(lambda: receiver.notifications)
    api.admin("POST", "faults", {"drop": True})
    wait_until(lambda: not api.state()["pending_notifications"])
    assert api.state()["delivery_log"][-1]["event"] == "dropped"


@pytest.mark.parametrize("faults", [{"http500": 1}, {"latency": 50}])
def test_faults_from_options(make_sandbox, faults):
    server = make_sandbox(faults=faults)
    assert Api(server.url).admin("GET", "faults").json()["faults"][next(iter(faults))] == next(iter(faults.values()))
