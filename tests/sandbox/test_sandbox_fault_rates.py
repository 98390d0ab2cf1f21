"""Fault rates (a share of notifications duplicated, reordered or dropped; bursts of HTTP
429/500 on the API), drawn from a seed so that a run can be repeated, and recorded per
payment so that a run's end check can say what the bank did."""

import pytest

from bank_sandbox.faults import FaultError, draw, parse_value
from sandbox_helpers import Api, wait_until


def pay_many(api, receiver, count, prefix="ORDER"):
    """`count` payments initialised and paid by card (AUTHORIZED then CONFIRMED each)."""
    ids = []
    for index in range(count):
        payment_id = api.init(order_id=f"{prefix}-{index}", NotificationURL=receiver.notify_url)["PaymentId"]
        api.admin_pay(payment_id)
        ids.append(payment_id)
    return ids


def fault_records(api):
    return api.admin("GET", "notify/faults").json()


def test_rates_are_shares_between_0_and_1(api):
    assert parse_value("drop_rate", "0.02") == 0.02
    assert parse_value("duplicate_rate", 1) == 1.0
    for bad in ("-0.1", "1.5", "often", True):
        with pytest.raises(FaultError):
            parse_value("reorder_rate", bad)
    assert api.admin("POST", "faults", {"drop_rate": 2}).status_code == 400
    assert api.admin("POST", "faults", {"burst_rate": "x"}).status_code == 400
    # refused values change nothing
    assert api.admin("GET", "faults").json()["faults"]["drop_rate"] == 0.0
    faults = api.admin("POST", "faults", {"drop_rate": 0.02, "seed": 7}).json()["faults"]
    assert (faults["drop_rate"], faults["seed"], faults["burst_length"]) == (0.02, 7, 5)


def test_draws_depend_on_the_seed_only():
    assert draw(1, "drop", "k", "CONFIRMED", 1) == draw(1, "drop", "k", "CONFIRMED", 1)
    assert draw(1, "drop", "k", "CONFIRMED", 1) != draw(2, "drop", "k", "CONFIRMED", 1)
    shares = [draw(3, "x", i) for i in range(2000)]
    assert all(0 <= s < 1 for s in shares)
    assert 0.45 < sum(s < 0.5 for s in shares) / len(shares) < 0.55


def test_duplicate_rate_one_delivers_every_notification_twice(api, receiver):
    api.admin("POST", "faults", {"duplicate_rate": 1})
    [payment_id] = pay_many(api, receiver, 1)
    receiver.wait_for(4)
    wait_until(lambda: not api.state()["pending_notifications"])
    assert receiver.statuses(payment_id) == ["AUTHORIZED"] * 2 + ["CONFIRMED"] * 2
    record = fault_records(api)["payments"][f"tbank_acquiring:{payment_id}"]
    assert record["duplicated"] == ["AUTHORIZED", "CONFIRMED"]
    assert record["notifications"] == 2 and "dropped" not in record and "reordered" not in record
    assert record["meta"] == {"PaymentId": int(payment_id), "OrderId": "ORDER-0"}


def test_reorder_rate_one_sends_newest_first(api, receiver):
    api.admin("POST", "faults", {"reorder_rate": 1})
    [payment_id] = pay_many(api, receiver, 1)
    receiver.wait_for(2)
    assert receiver.statuses(payment_id) == ["CONFIRMED", "AUTHORIZED"]
    record = fault_records(api)["payments"][f"tbank_acquiring:{payment_id}"]
    assert record["reordered"] == ["CONFIRMED", "AUTHORIZED"]


def test_drop_rate_one_sends_nothing_and_the_status_still_changes(api, receiver):
    api.admin("POST", "faults", {"drop_rate": 1})
    [payment_id] = pay_many(api, receiver, 1)
    assert api.flush()["results"] == []
    assert receiver.notifications == []
    assert api.status(payment_id) == "CONFIRMED"
    record = fault_records(api)["payments"][f"tbank_acquiring:{payment_id}"]
    assert record["dropped"] == ["AUTHORIZED", "CONFIRMED"]


def test_rates_hit_about_their_share_and_the_same_seed_repeats_a_run(make_sandbox, receiver, tmp_path):
    rates = {"duplicate_rate": 0.3, "reorder_rate": 0.2, "drop_rate": 0.1, "seed": 42}
    runs = []
    for run in range(2):
        server = make_sandbox(state_dir=tmp_path / f"run-{run}", faults=rates, notify_interval=0.02)
        api = Api(server.url)
        pay_many(api, receiver, 60, prefix=f"RUN{run}")
        api.flush()
        wait_until(lambda api=api: not api.state()["pending_notifications"], timeout=20)
        records = fault_records(api)["payments"]
        # PaymentIds restart in each state dir: the same keys, the same draws
        runs.append({key: {k: v for k, v in r.items() if k != "meta"} for key, r in records.items()})
        server.stop()
    assert runs[0] == runs[1]
    records = runs[0].values()
    notifications = sum(r["notifications"] for r in records)
    assert notifications == 120
    for fault, share, per in (("duplicated", 0.3, 120), ("dropped", 0.1, 120), ("reordered", 0.2, 60)):
        hit = (
            sum(1 for r in records if r.get(fault))
            if fault == "reordered"
            else sum(len(r.get(fault, [])) for r in records)
        )
        assert 0.3 * share * per <= hit <= 2 * share * per, (fault, hit)
    # another seed, other faults
    server = make_sandbox(state_dir=tmp_path / "other", faults={**rates, "seed": 43}, notify_interval=0.02)
    api = Api(server.url)
    pay_many(api, receiver, 60, prefix="OTHER")
    other = {key: {k: v for k, v in r.items() if k != "meta"} for key, r in fault_records(api)["payments"].items()}
    assert other != runs[0]


def test_bursts_of_429_or_500_then_recovery(api):
    payment_id = api.init()["PaymentId"]
    api.admin("POST", "faults", {"burst_rate": 1, "burst_length": 3})
    statuses = {api.post("GetState", api.signed({"PaymentId": payment_id})).status_code for _ in range(3)}
    assert len(statuses) == 1 and statuses <= {429, 500}  # one burst, of one kind
    api.admin("POST", "faults", {"burst_rate": 0})
    assert api.call("GetState", PaymentId=payment_id)["Success"] is True
    counters = fault_records(api)["counters"]
    assert counters.get("http429_bursts", 0) + counters.get("http500_bursts", 0) == 1
    assert counters.get("http429_answered", 0) + counters.get("http500_answered", 0) == 3
    assert api.admin("GET", "health").status_code == 200  # the admin API is never faulted


def test_no_fault_records_without_faults(api, receiver):
    pay_many(api, receiver, 1)
    receiver.wait_for(2)
    assert fault_records(api)["payments"] == {}
