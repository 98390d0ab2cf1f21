"""Helpers for the bank sandbox tests: a signed API client, a merchant stand-in that
records notifications and redirects, and polling with a deadline."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from bank_sandbox.tokens import make_token

TERMINAL = "TinkoffBankTest"
PASSWORD = "TinkoffBankTest"


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.01):
    """Poll ``predicate`` until it returns a truthy value or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


class Api:
    """Signed client of the sandbox's T-Bank acquiring API."""

    def __init__(self, base_url: str, terminal: str = TERMINAL, password: str = PASSWORD):
        self.base = base_url
        self.terminal = terminal
        self.password = password
        self.http = requests.Session()
        self.http.trust_env = False

    def signed(self, params: dict, password: str | None = None, terminal: str | None = None) -> dict:
        body = {"TerminalKey": terminal or self.terminal, **params}
        body["Token"] = make_token(body, self.password if password is None else password)
        return body

    def post(self, method: str, body, **kwargs) -> requests.Response:
        if isinstance(body, (dict, list)):
            kwargs["json"] = body
        else:
            kwargs["data"] = body
        return self.http.post(f"{self.base}/v2/{method}", timeout=10, **kwargs)

    def call(self, method: str, **params) -> dict:
        response = self.post(method, self.signed(params))
        assert response.status_code == 200, response.text
        return response.json()

    def init(self, amount: int = 150050, order_id: str = "ORDER-1", **params) -> dict:
        answer = self.call("Init", Amount=amount, OrderId=order_id, **params)
        assert answer["Success"] is True, answer
        return answer

    # admin helpers
    def admin(self, method: str, path: str, body=None) -> requests.Response:
        return self.http.request(method, f"{self.base}/_admin/{path}", json=body, timeout=10)

    def admin_pay(self, payment_id, **body) -> dict:
        response = self.admin("POST", "pay", {"PaymentId": payment_id, **body})
        assert response.status_code == 200, response.text
        return response.json()

    def state(self) -> dict:
        return self.admin("GET", "state").json()

    def flush(self) -> dict:
        return self.admin("POST", "notify/flush").json()

    def status(self, payment_id) -> str:
        return self.call("GetState", PaymentId=payment_id)["Status"]


class Receiver:
    """A merchant stand-in: records POSTed notifications and GET redirects."""

    def __init__(self):
        self.notifications: list[dict] = []
        self.gets: list[str] = []
        self.responses: deque = deque()
        self.default = (200, "OK")
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.notifications.append(json.loads(body))
                    status, text = receiver.responses.popleft() if receiver.responses else receiver.default
                self._send(status, text)

            def do_GET(self):
                with receiver.lock:
                    receiver.gets.append(self.path)
                self._send(200, "<html><body>merchant page</body></html>", "text/html")

            def _send(self, status, text, ctype="text/plain"):
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def notify_url(self) -> str:
        return self.url + "/notify"

    def statuses(self, payment_id=None) -> list[str]:
        with self.lock:
            return [n["Status"] for n in self.notifications if payment_id is None or n["PaymentId"] == int(payment_id)]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        wait_until(lambda: len(self.notifications) >= count, timeout)
        with self.lock:
            return list(self.notifications)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
