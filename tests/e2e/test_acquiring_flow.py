"""A customer pays an invoice of a deal by card on the bank's page; the bank's
notifications (or, when they are lost, the GetState check) settle it in Odoo."""

from e2e_helpers import PAID_INVOICE_STATES, pay_on_page, payment_id_of, wait_until


def settled(events, count):
    """`events` once there are `count` of them and none is still being processed."""
    return len(events) == count and all(e["state"] != "received" for e in events) and events


def assert_paid_once(shop, deal, reference):
    """Invoice and deal paid, by exactly one payment, announced once on the deal."""
    paid = wait_until(lambda: shop.is_paid(deal), f"invoice and deal of {reference} paid")
    invoice, lead = paid
    assert invoice["amount_residual"] == 0
    assert lead["bank_crm_paid_date"]
    tx = shop.transaction(reference)
    assert (tx["state"], tx["tbank_status"]) == ("done", "CONFIRMED")
    payments = shop.payments_of(reference)
    assert len(payments) == 1, payments
    assert payments[0]["amount"] == tx["amount"]
    assert len(shop.payment_messages(deal["lead"])) == 1
    activities = shop.activities(deal["lead"])
    assert [a["user_id"][0] for a in activities] == [shop.salesperson_id], activities
    assert "Payment received" in activities[0]["summary"]
    return tx


def test_card_payment_reaches_the_deal(shop, sandbox):
    """Odoo calls the bank (Init), the customer pays, the bank's notifications reach
    Odoo: invoice paid, deal paid, chatter and an activity for the salesperson."""
    deal = shop.deal_with_invoice(1500.50)
    links = shop.link_from_shell(deal["invoice"], times=2)
    reference, payment_url = links[0]
    assert payment_url.startswith(sandbox.url + "/pay/")
    assert links[1] == links[0]  # asked again while it is open: the same link, no second Init
    payment_id = payment_id_of(payment_url)
    assert shop.transaction(reference)["provider_reference"] == payment_id
    assert sandbox.payment(payment_id)["Amount"] == 150050
    assert shop.invoice_state(deal["invoice"])["payment_state"] not in PAID_INVOICE_STATES

    marker = shop.last_event_id()
    landing = pay_on_page(payment_url)
    assert landing.url.startswith(shop.acq.odoo_url + "/payment/status")

    assert_paid_once(shop, deal, reference)
    messages = shop.payment_messages(deal["lead"])
    assert "1,500.50" in messages[0] and "paid in full" in messages[0]
    events = wait_until(lambda: settled(shop.events(marker, reference), 2), "both notifications processed")
    assert sorted((e["bank_status"], e["state"]) for e in events) == [
        ("AUTHORIZED", "processed"),
        ("CONFIRMED", "processed"),
    ]
    assert all(e["order_id"] == reference for e in events)
    # the bank saw exactly `OK` each time and has nothing left to send
    deliveries = [e for e in sandbox.deliveries(payment_id) if e["event"] == "attempt"]
    assert [(e["meta"]["Status"], e["http_status"], e["body"]) for e in deliveries] == [
        ("AUTHORIZED", 200, "OK"),
        ("CONFIRMED", 200, "OK"),
    ]


def test_redelivered_notifications_are_applied_once(shop, sandbox):
    """The bank sends every notification three times (fault `duplicate`): each is
    answered OK, applied once, and the copies are kept as duplicates."""
    sandbox.set_faults(duplicate=3)
    deal = shop.deal_with_invoice(990.00)
    reference, payment_url = shop.link_from_portal(deal["invoice"])
    payment_id = payment_id_of(payment_url)
    marker = shop.last_event_id()
    pay_on_page(payment_url)

    wait_until(
        lambda: not sandbox.pending(payment_id) and len(sandbox.deliveries(payment_id)) >= 6,
        "the sandbox to deliver 3 copies of each notification",
    )
    assert_paid_once(shop, deal, reference)
    deliveries = sandbox.deliveries(payment_id)
    assert all((e["http_status"], e["body"]) == (200, "OK") for e in deliveries), deliveries
    events = wait_until(lambda: settled(shop.events(marker, reference), 6), "6 notifications processed")
    states = sorted(e["state"] for e in events)
    assert states == ["duplicate"] * 4 + ["processed"] * 2, events
    processed = sorted(e["bank_status"] for e in events if e["state"] == "processed")
    assert processed == ["AUTHORIZED", "CONFIRMED"]


def test_lost_notification_is_found_by_getstate(shop, sandbox, acq):
    """The bank's notifications never come (fault `drop`): the invoice stays unpaid
    until the GetState check (cron) asks the bank, then invoice and deal are paid."""
    sandbox.set_faults(drop=True)
    deal = shop.deal_with_invoice(2500.00)
    reference, payment_url = shop.link_from_portal(deal["invoice"])
    payment_id = payment_id_of(payment_url)
    marker = shop.last_event_id()
    pay_on_page(payment_url)

    assert sandbox.payment(payment_id)["Status"] == "CONFIRMED"
    wait_until(
        lambda: len([e for e in sandbox.deliveries(payment_id) if e["event"] == "dropped"]) == 2,
        "the sandbox to drop both notifications",
    )
    assert not [e for e in sandbox.deliveries(payment_id) if e["event"] == "attempt"]
    assert shop.invoice_state(deal["invoice"])["payment_state"] not in PAID_INVOICE_STATES
    assert shop.deal(deal["lead"])["bank_crm_payment_state"] == "unpaid"
    assert shop.transaction(reference)["state"] in ("draft", "pending")
    assert shop.events(marker, reference) == []

    cron = acq.rpc.call(
        "ir.model.data",
        "search_read",
        [("module", "=", "odoo_bank_crm"), ("name", "=", "cron_tbank_check_pending")],
        ["res_id"],
    )

    def check_pending():
        """One run of the cron, as the scheduler would do it every few minutes. The
        check delay is 0 but counts in whole seconds: a run within the second the
        transaction was made may not see it yet, hence a run until paid."""
        acq.rpc.call("ir.cron", "method_direct_trigger", [cron[0]["res_id"]])
        return shop.is_paid(deal)

    wait_until(check_pending, "the GetState check to settle the payment", interval=0.5)
    assert_paid_once(shop, deal, reference)
    assert shop.events(marker, reference) == []


def test_notifications_out_of_order(shop, sandbox):
    """CONFIRMED arrives before AUTHORIZED (fault `out_of_order`): paid once, and the
    late AUTHORIZED does not take the payment back."""
    sandbox.set_faults(out_of_order=True)
    deal = shop.deal_with_invoice(777.77)
    reference, payment_url = shop.link_from_portal(deal["invoice"])
    payment_id = payment_id_of(payment_url)
    marker = shop.last_event_id()
    pay_on_page(payment_url)

    deliveries = wait_until(
        lambda: (
            not sandbox.pending(payment_id)
            and len(sandbox.deliveries(payment_id)) >= 2
            and sandbox.deliveries(payment_id)
        ),
        "the sandbox to deliver both notifications",
    )
    assert [(e["meta"]["Status"], e["body"]) for e in deliveries] == [("CONFIRMED", "OK"), ("AUTHORIZED", "OK")]
    tx = assert_paid_once(shop, deal, reference)
    assert tx["tbank_status"] == "CONFIRMED"
    events = wait_until(lambda: settled(shop.events(marker, reference), 2), "both notifications processed")
    assert [e["bank_status"] for e in events] == ["CONFIRMED", "AUTHORIZED"]
    assert all(e["state"] in ("processed", "duplicate") for e in events), events
    assert shop.is_paid(deal)
