"""What the tests, benchmarks and the demo share: the cluster, databases with
the addon installed, and Odoo and sandbox servers started as subprocesses.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_db
import odoo_env
import pgcluster

ROOT = odoo_env.ROOT
LOGS = ROOT / ".state" / "logs"
TEST_CLUSTER = "test"
TEST_PG_PORT = int(os.environ.get("BANK_CRM_TEST_PG_PORT", "5434"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url, timeout=120, process=None):
    """Wait until `url` answers (any HTTP status) or fail with a clear message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


class Stack:
    """The test cluster, located Odoo and the dependency template, made once."""

    def __init__(self, cluster=TEST_CLUSTER, port=TEST_PG_PORT, demo=True):
        self.cluster, self.port = cluster, port
        self.src, _ = odoo_env.locate()
        pgcluster.start(cluster, port)
        self.template = odoo_db.ensure_template(self.src, port, cluster, LOGS / "template.log", demo=demo)

    def fresh_db(self, name):
        odoo_db.clone(self.port, self.cluster, self.template, name)
        return name

    def odoo(self, args, log_name, command=None, stdin=None, check=True, env=None):
        return odoo_db.run_odoo(
            self.src, self.port, self.cluster, args, LOGS / log_name, command=command, stdin=stdin, check=check, env=env
        )

    def db_with_addon(self, name, log_name):
        """A fresh database with the addon installed (and its demo data)."""
        self.fresh_db(name)
        self.odoo(["-d", name, "-i", odoo_db.ADDON, "--stop-after-init", "--no-http"], log_name)
        return name

    def start_server(self, db, http_port, log_name, extra=(), env=None):
        """An Odoo server on `http_port` serving only `db`, as a subprocess."""
        argv = (
            odoo_env.odoo_command(self.src)
            + odoo_env.base_args(self.port, db)
            + [
                "--data-dir",
                str(odoo_db.data_dir(self.cluster)),
                "--http-interface",
                "127.0.0.1",
                "--http-port",
                str(http_port),
                "--gevent-port",
                str(free_port()),
                *extra,
            ]
        )
        LOGS.mkdir(parents=True, exist_ok=True)
        # the child keeps its own copy of the log's descriptor; ours closes at once
        with open(LOGS / log_name, "ab") as log:
            process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        wait_http(f"http://127.0.0.1:{http_port}/web/health", process=process)
        return process

    def start_prefork_server(self, db, http_port, log_name, workers=2, extra=()):
        """Like `start_server`, with `workers` HTTP workers and one cron worker (which runs
        the jobs the webhook triggers, like Odoo's payment post-processing)."""
        return self.start_server(
            db, http_port, log_name, extra=["--workers", str(workers), "--max-cron-threads", "1", *extra]
        )


def start_sandbox(port, state_dir, log_name, extra=()):
    """The bank sandbox as a subprocess, like the demo runs it."""
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / log_name, "ab") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "bank_sandbox", "--port", str(port), "--state", str(state_dir), *extra],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
    wait_http(f"http://127.0.0.1:{port}/_admin/health", timeout=30, process=process)
    return process


def stop(process, timeout=20):
    """Stop a subprocess started here, and its children, politely then firmly."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


# === Odoo with T-Bank acquiring pointed at the sandbox (end-to-end tests, benchmarks) ===

TBANK_TERMINAL_KEY = TBANK_PASSWORD = "TinkoffBankTest"

TBANK_SETUP = """
provider = env.ref('payment_tbank.payment_provider_tbank')
provider.write({{'tbank_terminal_key': {terminal!r}, 'tbank_password': {password!r},
                'tbank_api_url': {api_url!r}, 'state': 'test'}})
# Reading the journal makes Odoo create the provider's payment method line now, as
# the provider's form does; else the first payments would race to create it.
assert provider.journal_id and provider.journal_id.inbound_payment_method_line_ids.filtered(
    lambda line: line.payment_provider_id == provider)
params = env['ir.config_parameter']
params.set_param('web.base.url', {base_url!r})
params.set_param('web.base.url.freeze', 'True')
params.set_param('odoo_bank_crm.tbank_pending_check_minutes', '0')
env.cr.commit()
"""


def odoo_shell_json(stack, db, script, log_name):
    """Run `script` in `odoo shell` on `db` (it must commit what it keeps) and return
    the JSON-serialisable value it assigns to `result`."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        tail = f"\nimport json as _json\nopen({str(out)!r}, 'w').write(_json.dumps(result))\n"
        stack.odoo(["-d", db, "--no-http"], log_name, command="shell", stdin=script + tail)
        return json.loads(out.read_text())


class OdooRpc:
    """Odoo's external JSON-RPC API (/jsonrpc, execute_kw) as one user."""

    def __init__(self, url, db, login="admin", password="admin", timeout=60):
        import requests

        self.url, self.db, self.password, self.timeout = url.rstrip("/"), db, password, timeout
        self.http = requests.Session()
        self.uid = self._jsonrpc("common", "login", db, login, password)
        if not self.uid:
            raise RuntimeError(f"Odoo refused the login {login!r} on {db}")

    def _jsonrpc(self, service, method, *args):
        response = self.http.post(
            f"{self.url}/jsonrpc",
            timeout=self.timeout,
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "id": 1,
                "params": {"service": service, "method": method, "args": list(args)},
            },
        )
        response.raise_for_status()
        answer = response.json()
        if answer.get("error"):
            data = answer["error"].get("data") or {}
            raise RuntimeError(f"{service}.{method}: {data.get('message') or answer['error']}\n{data.get('debug', '')}")
        return answer.get("result")  # Odoo leaves `result` out when a method returns None

    def call(self, model, method, *args, **kwargs):
        return self._jsonrpc(
            "object", "execute_kw", self.db, self.uid, self.password, model, method, list(args), kwargs
        )

    def read_one(self, model, record_id, fields):
        return self.call(model, "read", [record_id], fields)[0]


class BusinessBank:
    """A business bank (T-Bank Business or Tochka) of the sandbox connected to Odoo the
    administrator's way (the Add Account wizard over RPC, instant updates on), and
    transfers to the company's account made from the sandbox's admin API
    (docs/bank-webhooks.md)."""

    API_PATHS = {"tbank_business": ("/openapi/api", "TBankSandboxToken"), "tochka": ("/uapi", "sandbox.jwt.token")}

    def __init__(self, acq, bank):
        self.acq, self.rpc, self.bank = acq, acq.rpc, bank
        self.sandbox_url = acq.sandbox_url
        path, token = self.API_PATHS[bank]
        wizard = self.rpc.call(
            "bank.crm.add.account.wizard",
            "create",
            {"kind": bank, "name": f"{bank} e2e", "api_url": f"{acq.sandbox_url}{path}", "api_token": token},
        )
        self.rpc.call("bank.crm.add.account.wizard", "action_fetch_accounts", [wizard])
        found = self.rpc.call("bank.crm.add.account.wizard", "read", [wizard], ["connection_id", "line_ids"])[0]
        self.connection = found["connection_id"][0]
        lines = self.rpc.call(
            "bank.crm.add.account.wizard.line", "read", found["line_ids"], ["account_number", "currency_id"]
        )
        self.account = next(line["account_number"] for line in lines if line["currency_id"][1] == "RUB")
        self.rpc.call(
            "bank.crm.add.account.wizard.line",
            "write",
            [line["id"] for line in lines if line["account_number"] != self.account],
            {"selected": False},
        )
        if bank == "tochka":  # the integration's client_id and the bank's keys (here: the sandbox's)
            self.rpc.call(
                "bank.connection",
                "write",
                [self.connection],
                {"webhook_client_id": "e2e-client", "webhook_jwks_url": f"{acq.sandbox_url}/tochka/webhook-keys"},
            )
        self.rpc.call("bank.crm.add.account.wizard", "action_connect", [wizard])
        self.wait_for_requested_sync()
        self.journal = self.rpc.call(
            "account.journal",
            "search",
            [("bank_crm_connection_id", "=", self.connection), ("bank_acc_number", "=", self.account)],
        )[0]

    def wait_for_requested_sync(self, timeout=180.0):
        """The first sync of the accounts just added runs in the cron worker: wait until it
        ended (the connection's request cleared), so the tests count lines after it."""
        deadline = time.monotonic() + timeout
        while self.rpc.read_one("bank.connection", self.connection, ["sync_requested_at"])["sync_requested_at"]:
            if time.monotonic() >= deadline:
                raise AssertionError(f"the first sync of {self.bank} did not end within {timeout:.0f}s")
            time.sleep(0.2)

    def connection_state(self):
        return self.rpc.read_one(
            "bank.connection", self.connection, ["webhook_enabled", "webhook_error", "webhook_last_event_at"]
        )

    def transfer(self, operation_id, amount, purpose, payer_inn, payer_account, document_number):
        """A payment to the company's account, as the bank books it (its webhook follows)."""
        import requests

        response = requests.post(
            f"{self.sandbox_url}/_admin/business/operations",
            timeout=30,
            json={
                "bank": self.bank,
                "account": self.account,
                "id": operation_id,
                "amount": f"{amount:.2f}",
                "direction": "credit",
                "purpose": purpose,
                "document_number": document_number,
                "counterparty": {"name": "ООО «Ромашка»", "inn": payer_inn, "account": payer_account},
            },
        )
        response.raise_for_status()
        return response.json()

    def lines(self, operation_id=None):
        domain = [("journal_id", "=", self.journal)]
        if operation_id:
            domain.append(("bank_crm_operation_id", "=", operation_id))
        return self.rpc.call(
            "account.bank.statement.line", "search_read", domain, ["bank_crm_operation_id", "is_reconciled"]
        )

    def sync(self):
        """The scheduled sync's work, asked by the administrator ("Sync Now")."""
        return self.rpc.call("bank.connection", "action_sync_now", [self.connection])


class AcquiringStack:
    """A fresh database with the addon, the bank sandbox and an Odoo server running
    `workers` workers, with the T-Bank provider pointed at the sandbox:

        with AcquiringStack("bank_crm_e2e", "e2e") as acq:
            acq.rpc.call("res.partner", "search_count", [])
    """

    def __init__(self, db, log_prefix, workers=2, notify_interval=0.2, sandbox_extra=()):
        self.db, self.log_prefix, self.workers = db, log_prefix, workers
        self.notify_interval, self.sandbox_extra = notify_interval, list(sandbox_extra)
        self.processes = []

    def start(self):
        import shutil

        try:
            self.stack = Stack()
            self.stack.db_with_addon(self.db, f"{self.log_prefix}-install.log")
            self.sandbox_port, self.odoo_port = free_port(), free_port()
            self.sandbox_url = f"http://127.0.0.1:{self.sandbox_port}"
            self.odoo_url = f"http://127.0.0.1:{self.odoo_port}"
            state = ROOT / ".state" / f"sandbox-{self.log_prefix}"
            shutil.rmtree(state, ignore_errors=True)
            self.processes.append(
                start_sandbox(
                    self.sandbox_port,
                    state,
                    f"{self.log_prefix}-sandbox.log",
                    extra=["--notify-interval", str(self.notify_interval), *self.sandbox_extra],
                )
            )
            self.stack.odoo(
                ["-d", self.db, "--no-http"],
                f"{self.log_prefix}-install.log",
                command="shell",
                stdin=TBANK_SETUP.format(
                    terminal=TBANK_TERMINAL_KEY,
                    password=TBANK_PASSWORD,
                    api_url=f"{self.sandbox_url}/v2",
                    base_url=self.odoo_url,
                ),
            )
            self.processes.append(
                self.stack.start_prefork_server(
                    self.db, self.odoo_port, f"{self.log_prefix}-odoo.log", workers=self.workers
                )
            )
            self.rpc = OdooRpc(self.odoo_url, self.db)
        except BaseException:
            self.stop()
            raise
        return self

    def shell_json(self, script, log_name=None):
        return odoo_shell_json(self.stack, self.db, script, log_name or f"{self.log_prefix}-shell.log")

    def stop(self):
        for process in reversed(self.processes):
            stop(process)
        self.processes = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def invoice_portal_transaction(odoo_url, invoice_id, portal_url, provider_id, payment_method_id, amount, timeout=60):
    """What the customer's invoice page does on "Pay": ask Odoo for a transaction of
    `amount` with a redirect provider (`/invoice/transaction/<id>`, authorised by the
    access token of the invoice's `portal_url`), whose redirect form leads to the bank.

    :return: (the transaction's reference, the redirect form's action: the bank's payment page)
    :raise RuntimeError: Odoo answered an error (the bank refused Init, or Odoo failed)
    """
    import re

    import requests

    token = re.search(r"access_token=([\w-]+)", portal_url).group(1)
    response = requests.post(
        f"{odoo_url}/invoice/transaction/{invoice_id}",
        timeout=timeout,
        json={
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {
                "access_token": token,
                "provider_id": provider_id,
                "payment_method_id": payment_method_id,
                "token_id": None,
                "amount": amount,
                "flow": "redirect",
                "tokenization_requested": False,
                "landing_route": portal_url,
                "is_validation": False,
            },
        },
    )
    response.raise_for_status()
    answer = response.json()
    if "result" not in answer:
        raise RuntimeError(str(answer.get("error", {}).get("data", {}).get("message", answer))[:200])
    action = re.search(r'action="([^"]+)"', answer["result"]["redirect_form_html"]).group(1)
    return answer["result"]["reference"], action
