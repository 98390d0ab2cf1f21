"""The same notification delivered 20 times at once to Odoo running 2 workers."""

import threading
import time

import requests

from e2e_helpers import notification, payment_id_of, post_webhook, wait_until

DELIVERIES = 20
MAX_RETRIES = 10


def deliver_until_ok(odoo_url, payload, start, answers):
    """One delivery, retried on a 5xx like the bank does, until `OK`; every answer is recorded."""
    session = requests.Session()
    start.wait()
    for _attempt in range(MAX_RETRIES):
        response = post_webhook(odoo_url, payload, session)
        answers.append((response.status_code, response.text))
        if response.status_code < 500:
            return
        time.sleep(0.05)


def test_concurrent_redeliveries_apply_once(shop, sandbox, acq):
    deal = shop.deal_with_invoice(4200.00)
    reference, payment_url = shop.link_from_portal(deal["invoice"])
    payload = notification(reference, payment_id_of(payment_url), 420000, status="CONFIRMED")
    marker = shop.last_event_id()

    start, answers = threading.Barrier(DELIVERIES), []
    threads = [
        threading.Thread(target=deliver_until_ok, args=(acq.odoo_url, payload, start, answers))
        for _ in range(DELIVERIES)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)

    final = [a for a in answers if a[0] < 500]
    retried = [a for a in answers if a[0] >= 500]
    assert final == [(200, "OK")] * DELIVERIES, answers

    tx = shop.transaction(reference)
    assert (tx["state"], tx["tbank_status"]) == ("done", "CONFIRMED")  # committed before OK
    # the accounting follows in Odoo's post-processing job, triggered by the webhook
    invoice, lead = wait_until(lambda: shop.is_paid(deal), "invoice and deal paid")
    payments = shop.payments_of(reference)
    assert len(payments) == 1, payments
    assert invoice["amount_residual"] == 0
    assert len(shop.payment_messages(deal["lead"])) == 1
    assert len(shop.activities(deal["lead"])) == 1

    events = shop.events(marker, reference)
    assert len(events) == len(answers), events
    states = sorted(e["state"] for e in events)
    assert states.count("processed") == 1, states
    assert states.count("duplicate") == DELIVERIES - 1, states
    assert states.count("failed") == len(retried), states


def test_concurrent_statuses_of_one_payment(shop, sandbox, acq):
    """AUTHORIZED and CONFIRMED of one payment, 5 copies each, all at once: both
    applied once (the payment row serialises them), the payment posted once."""
    deal = shop.deal_with_invoice(3100.00)
    reference, payment_url = shop.link_from_portal(deal["invoice"])
    payment_id = payment_id_of(payment_url)
    payloads = [
        notification(reference, payment_id, 310000, status=status)
        for status in ("AUTHORIZED", "CONFIRMED")
        for _ in range(5)
    ]
    marker = shop.last_event_id()

    start, answers = threading.Barrier(len(payloads)), []
    threads = [
        threading.Thread(target=deliver_until_ok, args=(acq.odoo_url, payload, start, answers)) for payload in payloads
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    assert [a for a in answers if a[0] < 500] == [(200, "OK")] * len(payloads), answers

    tx = shop.transaction(reference)
    assert (tx["state"], tx["tbank_status"]) == ("done", "CONFIRMED")
    wait_until(lambda: shop.is_paid(deal), "invoice and deal paid")
    assert len(shop.payments_of(reference)) == 1
    assert len(shop.payment_messages(deal["lead"])) == 1
    events = shop.events(marker, reference)
    processed = sorted(e["bank_status"] for e in events if e["state"] == "processed")
    assert processed == ["AUTHORIZED", "CONFIRMED"], events
    assert sorted(e["state"] for e in events if e["state"] != "processed") == (
        ["duplicate"] * 8 + ["failed"] * sum(1 for a in answers if a[0] >= 500)
    ), events
