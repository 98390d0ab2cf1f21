"""What the webhook answers to notifications it must not apply, and what it keeps of them."""

from e2e_helpers import PAID_INVOICE_STATES, notification, payment_id_of, post_webhook


def only_event(shop, marker):
    events = shop.events(marker)
    assert len(events) == 1, events
    return events[0]


def test_forged_token_is_refused_and_kept(shop, acq):
    deal = shop.deal_with_invoice(1000.00)
    reference, payment_url = shop.link_from_portal(deal["invoice"])
    payload = notification(reference, payment_id_of(payment_url), 100000, password="not-the-password")
    marker = shop.last_event_id()

    response = post_webhook(acq.odoo_url, payload)

    assert response.status_code == 403
    assert response.text != "OK"
    event = only_event(shop, marker)
    assert event["state"] == "rejected"
    assert f'"OrderId": "{reference}"' in event["raw_body"]
    assert shop.transaction(reference)["state"] in ("draft", "pending")
    assert shop.invoice_state(deal["invoice"])["payment_state"] not in PAID_INVOICE_STATES


def test_malformed_body_is_a_bad_request(shop, acq):
    marker = shop.last_event_id()
    response = post_webhook(acq.odoo_url, b'{"TerminalKey": "TinkoffBankTest", "Status": ')
    assert response.status_code == 400
    event = only_event(shop, marker)
    assert event["state"] == "rejected"
    assert event["raw_body"] == '{"TerminalKey": "TinkoffBankTest", "Status": '


def test_unknown_order_waits(shop, acq):
    marker = shop.last_event_id()
    payload = notification("NO-SUCH-ORDER-42", 9000000042, 5000, status="CONFIRMED")

    response = post_webhook(acq.odoo_url, payload)

    assert (response.status_code, response.text) == (200, "OK")
    event = only_event(shop, marker)
    assert (event["state"], event["order_id"]) == ("waiting", "NO-SUCH-ORDER-42")


def test_wrong_amount_is_refused(shop, acq):
    """A correctly signed notification whose amount is not the order's pays nothing."""
    deal = shop.deal_with_invoice(1000.00)
    reference, payment_url = shop.link_from_portal(deal["invoice"])
    marker = shop.last_event_id()

    response = post_webhook(acq.odoo_url, notification(reference, payment_id_of(payment_url), 100, "CONFIRMED"))

    assert (response.status_code, response.text) == (200, "OK")
    event = only_event(shop, marker)
    assert event["state"] == "rejected"
    assert shop.transaction(reference)["state"] in ("draft", "pending")
    assert shop.payments_of(reference) == []
    assert shop.invoice_state(deal["invoice"])["payment_state"] not in PAID_INVOICE_STATES
