"""What the end-to-end tests do to Odoo and the bank sandbox, over HTTP only:
a deal with an invoice, its payment link, paying like a customer on the bank's page,
signed notifications built like the bank's, and polling with a deadline."""

from __future__ import annotations

import json
import re
import time
import uuid

import requests

from tbank_api import compute_token

import harness

SUCCESS_CARD = "2200770239097761"
WEBHOOK_PATH = "/payment/tbank/webhook"
PAID_INVOICE_STATES = ("paid", "in_payment")


def wait_until(probe, what, timeout=180.0, interval=0.2):
    """Call `probe` until it returns something truthy and return that, or fail
    after `timeout` seconds naming `what` and the last value seen."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last seen: {last!r}")
        time.sleep(interval)


class Sandbox:
    """The bank sandbox's admin API."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.http = requests.Session()

    def _json(self, method, path, body=None):
        response = self.http.request(method, f"{self.url}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def set_faults(self, **faults):
        return self._json("POST", "/_admin/faults", faults)

    def clear_faults(self):
        return self._json("DELETE", "/_admin/faults")

    def state(self):
        return self._json("GET", "/_admin/state")

    def payment(self, payment_id):
        return self.state()["payments"][str(payment_id)]

    def deliveries(self, payment_id):
        """The delivery log entries of one payment's notifications, oldest first."""
        return [
            entry
            for entry in self.state()["delivery_log"]
            if str((entry.get("meta") or {}).get("PaymentId")) == str(payment_id)
        ]

    def pending(self, payment_id):
        return [
            item
            for item in self.state()["pending_notifications"]
            if str((item.get("meta") or {}).get("PaymentId")) == str(payment_id)
        ]


class Shop:
    """Odoo as the CRM user and the customer see it."""

    def __init__(self, acq):
        self.acq, self.rpc = acq, acq.rpc
        self.provider_id = self.rpc.call("payment.provider", "search", [("code", "=", "tbank")], limit=1)[0]
        self.card_method_id = self.rpc.call("payment.method", "search", [("code", "=", "card")], limit=1)[0]
        self.salesperson_id = self._salesperson()

    def _salesperson(self):
        group = self.rpc.call(
            "ir.model.data",
            "search_read",
            [("module", "=", "sales_team"), ("name", "=", "group_sale_salesman")],
            ["res_id"],
        )
        return self.rpc.call(
            "res.users",
            "create",
            {
                "name": "Продавец Петров",
                "login": f"seller-{uuid.uuid4().hex[:8]}",
                "groups_id": [(6, 0, [group[0]["res_id"]])],
            },
        )

    def deal_with_invoice(self, amount=1500.50, name="Сайт под ключ"):
        """A customer, a deal of the salesperson and a posted invoice for it: {partner, lead, invoice}."""
        suffix = uuid.uuid4().hex[:6]
        partner = self.rpc.call(
            "res.partner", "create", {"name": f"ООО «Ромашка» {suffix}", "email": f"buyer-{suffix}@example.com"}
        )
        lead = self.rpc.call(
            "crm.lead",
            "create",
            {"name": f"{name} {suffix}", "type": "opportunity", "partner_id": partner, "user_id": self.salesperson_id},
        )
        invoice = self.rpc.call(
            "account.move",
            "create",
            {
                "move_type": "out_invoice",
                "partner_id": partner,
                "bank_crm_lead_id": lead,
                "invoice_line_ids": [
                    (0, 0, {"name": name, "quantity": 1, "price_unit": amount, "tax_ids": [(6, 0, [])]})
                ],
            },
        )
        self.rpc.call("account.move", "action_post", [invoice])
        return {"partner": partner, "lead": lead, "invoice": invoice}

    def link_from_shell(self, invoice_id, times=1):
        """The invoice's payment link made by the addon itself (`_bank_crm_tbank_payment_link`,
        private, hence an `odoo shell` script on the running database), asked `times` times
        in a row: [(reference, PaymentURL), ...]."""
        links = self.acq.shell_json(
            f"invoice = env['account.move'].browse({invoice_id:d})\n"
            f"result = []\n"
            f"for _ in range({times:d}):\n"
            f"    tx, url = invoice._bank_crm_tbank_payment_link()\n"
            f"    env.cr.commit()\n"
            f"    result.append([tx.reference, url])\n"
        )
        return [tuple(link) for link in links]

    def link_from_portal(self, invoice_id):
        """The customer's way: the invoice's portal page asks Odoo for a transaction
        (`/invoice/transaction/<id>`), whose redirect form leads to the bank: (reference, PaymentURL)."""
        portal_url = self.rpc.call("account.move", "get_portal_url", [invoice_id])
        amount = self.rpc.read_one("account.move", invoice_id, ["amount_residual"])["amount_residual"]
        return harness.invoice_portal_transaction(
            self.acq.odoo_url, invoice_id, portal_url, self.provider_id, self.card_method_id, amount
        )

    def transaction(self, reference, fields=("state", "tbank_status", "provider_reference", "payment_id", "amount")):
        found = self.rpc.call("payment.transaction", "search_read", [("reference", "=", reference)], list(fields))
        assert len(found) == 1, found
        return found[0]

    def invoice_state(self, invoice_id):
        return self.rpc.read_one("account.move", invoice_id, ["payment_state", "amount_residual"])

    def deal(self, lead_id):
        return self.rpc.read_one(
            "crm.lead", lead_id, ["bank_crm_payment_state", "bank_crm_amount_paid", "bank_crm_paid_date"]
        )

    def is_paid(self, deal):
        invoice = self.invoice_state(deal["invoice"])
        lead = self.deal(deal["lead"])
        return (
            invoice["payment_state"] in PAID_INVOICE_STATES
            and lead["bank_crm_payment_state"] == "paid"
            and (invoice, lead)
        )

    def payments_of(self, reference):
        return self.rpc.call(
            "account.payment",
            "search_read",
            [("payment_transaction_id.reference", "=", reference)],
            ["amount", "state"],
        )

    def payment_messages(self, lead_id):
        messages = self.rpc.call(
            "mail.message",
            "search_read",
            [("model", "=", "crm.lead"), ("res_id", "=", lead_id), ("message_type", "!=", "user_notification")],
            ["body"],
        )
        return [m["body"] for m in messages if "received for invoice" in (m["body"] or "")]

    def activities(self, lead_id):
        return self.rpc.call(
            "mail.activity",
            "search_read",
            [("res_model", "=", "crm.lead"), ("res_id", "=", lead_id)],
            ["summary", "user_id"],
        )

    def last_event_id(self):
        found = self.rpc.call("bank.webhook.event", "search", [], limit=1, order="id desc")
        return found[0] if found else 0

    def events(self, after_id, order_id=None):
        """Notifications stored since event `after_id`, oldest first, optionally only those
        whose raw body names `order_id` (duplicates may not have their fields parsed)."""
        events = self.rpc.call(
            "bank.webhook.event",
            "search_read",
            [("id", ">", after_id)],
            ["state", "bank_status", "order_id", "raw_body", "result", "transaction_id"],
            order="id",
        )
        if order_id is None:
            return events
        return [e for e in events if _raw_order_id(e["raw_body"]) == order_id]


def _raw_order_id(raw_body):
    try:
        return json.loads(raw_body or "").get("OrderId")
    except (ValueError, AttributeError):
        return None


def pay_on_page(payment_url, card=SUCCESS_CARD):
    """Pay like a customer: open the bank's page, submit the card form, follow the
    redirects back to the shop. Returns the last response."""
    browser = requests.Session()
    page = browser.get(payment_url, timeout=30)
    page.raise_for_status()
    form = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert form, f"no card form on {payment_url}"
    action = requests.compat.urljoin(payment_url, form.group(1))
    result = browser.post(
        action, timeout=30, data={"action": "card", "card_number": card, "exp_date": "12/30", "cvv": "123"}
    )
    assert result.history and result.history[0].status_code == 303, (result.status_code, result.text[:300])
    return result


def payment_id_of(payment_url):
    return re.search(r"/pay/(\d+)", payment_url).group(1)


def notification(reference, payment_id, amount_minor, status="CONFIRMED", password=harness.TBANK_PASSWORD, **extra):
    """A notification as T-Bank signs it (docs/banks.md §1.7)."""
    payload = {
        "TerminalKey": harness.TBANK_TERMINAL_KEY,
        "OrderId": reference,
        "Success": status not in ("REJECTED", "AUTH_FAIL", "CANCELED", "DEADLINE_EXPIRED"),
        "Status": status,
        "PaymentId": int(payment_id),
        "ErrorCode": "0",
        "Amount": amount_minor,
        "CardId": 881900,
        "Pan": "220077******7761",
        "ExpDate": "1230",
        **extra,
    }
    payload["Token"] = compute_token(payload, password)
    return payload


def post_webhook(odoo_url, body, session=None):
    """POST a notification body (dict → JSON, or raw bytes) to the webhook like the bank."""
    data = json.dumps(body, ensure_ascii=False).encode() if isinstance(body, dict) else body
    return (session or requests).post(
        f"{odoo_url}{WEBHOOK_PATH}", data=data, timeout=60, headers={"Content-Type": "application/json"}
    )
