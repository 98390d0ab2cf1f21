"""The sandbox's account webhooks (docs/bank-webhooks.md): subscriptions through the
bank clients, a webhook per new confirmed operation, T-Bank's Bearer secret, Tochka's
RS256 JWT verifiable against the sandbox's JWKS, and the parsers reading them back."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bank_api.tbank_business import SANDBOX_TOKEN as TBANK_TOKEN, TBankBusinessClient
from bank_api.tochka import SANDBOX_TOKEN as TOCHKA_TOKEN, TochkaClient
from bank_api.tbank_business import tbank_event_operations
from bank_api.tochka import parse_tochka_event, verify_tochka_jwt
from bank_api.webhooks import JwksCache
from sandbox_helpers import wait_until


class RawReceiver:
    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def raw_receiver():
    receiver = RawReceiver()
    yield receiver
    receiver.close()


def _first_account(sandbox, bank):
    answer = requests.get(f"{sandbox.url}/_admin/business/accounts", params={"bank": bank}, timeout=5).json()
    return next(a for a in answer["accounts"][bank] if a["currency"] == "RUB")["account"]


def _add_payment(sandbox, bank, account, op_id):
    body = {
        "bank": bank,
        "account": account,
        "id": op_id,
        "amount": "1500.00",
        "direction": "credit",
        "purpose": "Оплата по счету № 7",
        "document_number": "77",
        "counterparty": {"name": "ООО Ромашка", "inn": "7707083893", "account": "40702810900000000777"},
    }
    response = requests.post(f"{sandbox.url}/_admin/business/operations", json=body, timeout=5)
    assert response.status_code == 201, response.text


def test_tbank_webhook_with_the_secret(sandbox, raw_receiver):
    client = TBankBusinessClient(TBANK_TOKEN, base_url=f"{sandbox.url}/openapi/api")
    client.add_webhook(raw_receiver.url, "s3cret", "admin@example.com")
    account = _first_account(sandbox, "tbank_business")
    _add_payment(sandbox, "tbank_business", account, "hook-op-1")
    wait_until(lambda: raw_receiver.received, 5)
    headers, body = raw_receiver.received[0]
    assert headers["Authorization"] == "Bearer s3cret"
    [(number, operation)] = tbank_event_operations(json.loads(body))
    assert number == account and operation.bank_operation_id == "hook-op-1" and str(operation.amount) == "1500.00"


def test_tochka_webhook_is_a_jwt_signed_by_the_sandbox(sandbox, raw_receiver):
    client = TochkaClient(TOCHKA_TOKEN, base_url=f"{sandbox.url}/uapi")
    client.put_webhook("client-1", raw_receiver.url, ["incomingPayment"])
    assert len(raw_receiver.received) == 1, "the subscription is tested with one webhook per type"
    account = _first_account(sandbox, "tochka")
    _add_payment(sandbox, "tochka", account, "hook-op-2")
    wait_until(lambda: len(raw_receiver.received) >= 2, 5)
    headers, body = raw_receiver.received[1]
    assert headers["Content-Type"] == "text/plain"
    keys = JwksCache(f"{sandbox.url}/tochka/webhook-keys")
    event = parse_tochka_event(verify_tochka_jwt(body, keys))
    assert event.account_number == account
    assert event.operation.bank_operation_id == "hook-op-2"
    client.delete_webhook("client-1")
    _add_payment(sandbox, "tochka", account, "hook-op-3")
    assert len(raw_receiver.received) == 2, "no webhook once unsubscribed"


def test_tbank_webhook_has_the_observed_shape(sandbox, raw_receiver):
    """The body is the flat object public receivers observe (docs/bank-webhooks.md, "The
    oper-feed-operation body"), not the statement's spelling."""
    TBankBusinessClient(TBANK_TOKEN, base_url=f"{sandbox.url}/openapi/api").add_webhook(
        raw_receiver.url, "s3cret", "admin@example.com"
    )
    account = _first_account(sandbox, "tbank_business")
    _add_payment(sandbox, "tbank_business", account, "hook-shape-1")
    wait_until(lambda: raw_receiver.received, 5)
    body = json.loads(raw_receiver.received[0][1])
    assert body["accountNumber"] == account and body["documentNumber"] == "77"
    assert body["accountAmount"] == "1500.00" and body["counterParty"]["inn"] == "7707083893"
    assert "operationDate" not in body and body["trxnPostDate"] == body["authorizationDate"]


def _set_faults(sandbox, **faults):
    response = requests.post(f"{sandbox.url}/_admin/faults", json=faults, timeout=5)
    assert response.status_code == 200, response.text


def _subscribe_both(sandbox, receiver):
    TBankBusinessClient(TBANK_TOKEN, base_url=f"{sandbox.url}/openapi/api").add_webhook(
        receiver.url, "s3cret", "admin@example.com"
    )
    TochkaClient(TOCHKA_TOKEN, base_url=f"{sandbox.url}/uapi").put_webhook(
        "client-1", receiver.url, ["incomingPayment"]
    )
    receiver.received.clear()  # Tochka's subscription test webhook


def test_webhooks_honour_the_duplicate_fault(sandbox, raw_receiver):
    """``duplicate=N``: each bank's webhook of an operation is delivered N times, the
    same body each time (what the receivers' one-line-per-operation rule is for)."""
    _subscribe_both(sandbox, raw_receiver)
    _set_faults(sandbox, duplicate=3)
    for bank in ("tbank_business", "tochka"):
        _add_payment(sandbox, bank, _first_account(sandbox, bank), f"dup-{bank}")
    wait_until(lambda: len(raw_receiver.received) >= 6, 5)
    bodies = [body for _headers, body in raw_receiver.received]
    assert len(bodies) == 6 and len(set(bodies)) == 2, "3 identical copies of each bank's webhook"


def test_webhooks_honour_the_drop_fault(sandbox, raw_receiver):
    """``drop``: no webhook reaches us, the operation is still in the statement (the
    sync is the safety net); once the fault is cleared, the next operation is sent."""
    _subscribe_both(sandbox, raw_receiver)
    _set_faults(sandbox, drop="true")
    account = _first_account(sandbox, "tbank_business")
    _add_payment(sandbox, "tbank_business", account, "dropped-1")
    _add_payment(sandbox, "tochka", _first_account(sandbox, "tochka"), "dropped-2")
    requests.post(f"{sandbox.url}/_admin/notify/flush", timeout=5)
    assert raw_receiver.received == []
    statement = TBankBusinessClient(TBANK_TOKEN, base_url=f"{sandbox.url}/openapi/api").get_statement_page(
        account, dt.date.today() - dt.timedelta(days=2), dt.date.today() + dt.timedelta(days=2)
    )
    assert "dropped-1" in {operation.operation_id for operation in statement.operations}
    requests.post(f"{sandbox.url}/_admin/faults", json={"clear": ["drop"]}, timeout=5)
    _add_payment(sandbox, "tbank_business", account, "after-drop")
    wait_until(lambda: raw_receiver.received, 5)
    assert [json.loads(body)["operationId"] for _headers, body in raw_receiver.received] == ["after-drop"]
