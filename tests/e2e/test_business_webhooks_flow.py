"""End to end through the sandbox (issue #15, docs/bank-webhooks.md): a business bank
connected with instant updates on, a deal with an invoice, a transfer to the company's
account made from the sandbox's admin API naming the invoice → within a bounded wait the
invoice and the deal are paid and the salesperson is told, with exactly one statement
line; the sync then books nothing twice."""

import uuid

import pytest

from e2e_helpers import wait_until
from harness import BusinessBank

PAYER_INN = "7707083893"
PAYER_ACCOUNT = "40702810900000000777"
#: bounded wait for the webhook → paid path (the sandbox retries every 0.2 s)
PAID_WITHIN = 60


@pytest.mark.parametrize("bank", ["tbank_business", "tochka"])
def test_transfer_pays_the_deal_through_the_webhook(acq, shop, bank):
    business = BusinessBank(acq, bank)
    state = business.connection_state()
    assert state["webhook_enabled"], state["webhook_error"]
    deal = shop.deal_with_invoice(amount=2300.00)
    acq.rpc.call("res.partner", "write", [deal["partner"]], {"vat": PAYER_INN})
    invoice_name = acq.rpc.read_one("account.move", deal["invoice"], ["name"])["name"]
    operation_id = f"e2e-{bank}-{uuid.uuid4().hex[:8]}"
    lines_before = len(business.lines())

    business.transfer(operation_id, 2300.00, f"Оплата по счету № {invoice_name}", PAYER_INN, PAYER_ACCOUNT, "512")

    invoice, lead = wait_until(lambda: shop.is_paid(deal), f"{bank}: deal paid by the webhook", timeout=PAID_WITHIN)
    assert lead["bank_crm_amount_paid"] == pytest.approx(2300.00)
    assert [a for a in shop.activities(deal["lead"]) if a["user_id"][0] == shop.salesperson_id], (
        "salesperson's activity"
    )
    [line] = business.lines(operation_id)
    assert line["is_reconciled"]
    assert len(business.lines()) == lines_before + 1
    assert business.connection_state()["webhook_last_event_at"]

    business.sync()
    assert len(business.lines()) == lines_before + 1, "the sync booked the operation again"
    assert len(business.lines(operation_id)) == 1
    assert shop.invoice_state(deal["invoice"])["payment_state"] == invoice["payment_state"]
