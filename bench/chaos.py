"""The chaos run (issue #16 §2): card and SBP payments through the real flow while the bank
misbehaves and the servers die, then an account of every payment against the bank's records.

Odoo runs on 2 HTTP workers and 1 cron worker; the bank sandbox duplicates, reorders and
drops a share of its notifications and answers bursts of HTTP 429/500 (its seeded fault
rates, bank_sandbox/faults.py). Each payment goes as far as the bank is concerned as a real
one: a deal and a posted invoice (made by RPC in batches), the customer's portal asks Odoo
for a transaction (Odoo calls Init on the sandbox), the customer pays on the bank (its
admin pay API, by card or SBP), the bank notifies Odoo. A share of the paid payments is
refunded from Odoo once their payment is booked. Meanwhile, at set points of the run: one
Odoo worker killed with SIGKILL (twice), the whole Odoo server killed with SIGKILL and
started again, PostgreSQL restarted (fast shutdown). The GetState job (every minute for the
run, `odoo_bank_crm.tbank_pending_check_minutes` after a payment's registration) recovers
the notifications that never came.

At the end every payment the bank holds is compared with Odoo: confirmed → transaction done,
invoice paid, exactly one account.payment; refunded → one refund, booked once; nothing
done in Odoo that the bank did not confirm. See docs/chaos.md.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import requests

import harness
import pgcluster
from bench.webhook import percentile

NAME = "chaos"
DB = "bank_crm_chaos"
WORKERS = 2
COUNT = 10_000
TIME_BOUND = 30 * 60
SEED = 16
RATES = {"duplicate_rate": 0.10, "reorder_rate": 0.05, "drop_rate": 0.02, "burst_rate": 0.01, "burst_length": 5}
REFUND_SHARE = 0.02
SBP_SHARE = 0.3
CHECK_MINUTES = 1  # the GetState job: a payment is checked this long after its registration
CRON_MINUTES = 1  # and the job runs this often during the run
BATCH = 25  # deals and invoices made per RPC batch (the time bound is checked between batches)
PAID_STATES = ("paid", "in_payment")
BANK_CONFIRMED = ("CONFIRMED", "PARTIAL_REFUNDED", "REFUNDED")
# what happens during a full run, at these shares of it (payments started or time spent)
FULL_CHAOS = (
    (0.15, "worker"),
    (0.35, "postgres"),
    (0.55, "worker"),
    (0.75, "server"),
)
SHORT_CHAOS = ((0.4, "worker"),)


class ChaosError(RuntimeError):
    pass


def _utc(text):
    """An Odoo datetime string (UTC, naive) as a POSIX timestamp."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()


def retrying(what, call, deadline_s=180, log=None):
    """`call()` again and again while Odoo or PostgreSQL is down or the bank refuses for
    a while (a burst), up to `deadline_s` seconds; then the last error is raised."""
    deadline = time.monotonic() + deadline_s
    delay = 0.2
    while True:
        try:
            return call()
        except (requests.RequestException, RuntimeError, ValueError, KeyError, AttributeError) as error:
            if time.monotonic() > deadline:
                raise ChaosError(f"{what}: {error}") from error
            time.sleep(delay)
            delay = min(delay * 2, 3.0)


class Driver:
    """The customers, the accountant and the chaos, against one AcquiringStack."""

    def __init__(self, acq, count, time_bound, seed, chaos, concurrency, refund_share, log):
        self.acq, self.count, self.time_bound, self.seed = acq, count, time_bound, seed
        self.chaos, self.concurrency, self.refund_share, self.log = list(chaos), concurrency, refund_share, log
        self.rates = dict(RATES)
        self.rpc_local = threading.local()
        self.lock = threading.Lock()
        self.paid = {}  # PaymentId -> {reference, invoice, amount, paid_at, method}
        self.failed_pays = Counter()
        self.refunds_wanted = []  # PaymentIds to refund once booked
        self.refunded = set()
        self.events = []  # (seconds into the run, what)
        self.started = None
        self.stop = threading.Event()
        self.submitted = 0
        self.earlier = set()  # the bank's payments from before the run

    # -- plumbing -------------------------------------------------------------------------
    @property
    def rpc(self):
        if getattr(self.rpc_local, "rpc", None) is None:
            self.rpc_local.rpc = retrying(
                "login", lambda: harness.OdooRpc(self.acq.odoo_url, self.acq.db, timeout=120), log=self.log
            )
        return self.rpc_local.rpc

    def call(self, model, method, *args, **kwargs):
        return retrying(f"{model}.{method}", lambda: self.rpc.call(model, method, *args, **kwargs), log=self.log)

    def sandbox(self, method, path, body=None, timeout=60):
        response = requests.request(method, f"{self.acq.sandbox_url}{path}", json=body, timeout=timeout)
        response.raise_for_status()
        return response.json()

    def progress(self):
        elapsed = time.monotonic() - self.started
        return max(self.submitted / self.count, elapsed / self.time_bound)

    def note(self, what):
        at = time.monotonic() - self.started
        self.events.append((round(at, 1), what))
        self.log(f"[{NAME}] {at:7.1f}s {what}")

    # -- set-up ---------------------------------------------------------------------------
    def configure(self, check_minutes):
        """The GetState job every CRON_MINUTES, for payments `check_minutes` old; the bank's
        faults on. Returns what was there before (for `restore`)."""
        self.param_ids = self.call(
            "ir.config_parameter", "search", [("key", "=", "odoo_bank_crm.tbank_pending_check_minutes")]
        )
        self.cron_id = self.call(
            "ir.model.data",
            "search_read",
            [("module", "=", "odoo_bank_crm"), ("name", "=", "cron_tbank_check_pending")],
            ["res_id"],
        )[0]["res_id"]
        saved = {
            "param": self.call("ir.config_parameter", "read", self.param_ids, ["value"])[0]["value"],
            "cron": self.call("ir.cron", "read", [self.cron_id], ["interval_number", "interval_type"])[0],
        }
        self.call("ir.config_parameter", "write", self.param_ids, {"value": str(check_minutes)})
        # the new interval from now on: Odoo keeps a job's next call when its interval changes
        next_call = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 60 * CRON_MINUTES))
        self.call(
            "ir.cron",
            "write",
            [self.cron_id],
            {"interval_number": CRON_MINUTES, "interval_type": "minutes", "nextcall": next_call},
        )
        self.sandbox("POST", "/_admin/faults", {**self.rates, "seed": self.seed})
        self.provider_id = self.call("payment.provider", "search", [("code", "=", "tbank")], limit=1)[0]
        self.card_id = self.call("payment.method", "search", [("code", "=", "card")], limit=1)[0]
        self.partners = self.call(
            "res.partner",
            "create",
            [{"name": f"ООО «Хаос {i}»", "email": f"chaos{i}@example.com"} for i in range(10)],
        )
        return saved

    def restore(self, saved):
        self.call("ir.config_parameter", "write", self.param_ids, {"value": saved["param"]})
        cron = saved["cron"]
        self.call(
            "ir.cron",
            "write",
            [self.cron_id],
            {"interval_number": cron["interval_number"], "interval_type": cron["interval_type"]},
        )

    def make_invoices(self, start, size):
        """`size` deals with a posted invoice each: [(invoice id, amount)]."""
        leads = self.call(
            "crm.lead",
            "create",
            [
                {"name": f"Сделка хаоса {start + i}", "type": "opportunity", "partner_id": self.partners[i % 10]}
                for i in range(size)
            ],
        )
        amounts = [f"{100 + (start + i) % 9000}.{(start + i) * 7 % 100:02d}" for i in range(size)]
        invoices = self.call(
            "account.move",
            "create",
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": self.partners[i % 10],
                    "bank_crm_lead_id": lead,
                    "invoice_line_ids": [
                        (0, 0, {"name": "Услуга", "quantity": 1, "price_unit": amounts[i], "tax_ids": [(6, 0, [])]})
                    ],
                }
                for i, lead in enumerate(leads)
            ],
        )
        self.call("account.move", "action_post", invoices)
        return list(zip(invoices, amounts))

    # -- one customer -------------------------------------------------------------------
    def transaction(self, invoice_id, amount):
        """The customer's portal asks Odoo for a transaction; Odoo calls Init: (reference, PaymentId)."""
        portal_url = self.call("account.move", "get_portal_url", [invoice_id])

        def ask():
            # the bank refusing Init (a burst) or Odoo failing raises: asked again
            reference, action = harness.invoice_portal_transaction(
                self.acq.odoo_url, invoice_id, portal_url, self.provider_id, self.card_id, amount, timeout=120
            )
            return reference, re.search(r"/pay/(\d+)", action).group(1)

        return retrying(f"transaction for invoice {invoice_id}", ask, deadline_s=300)

    def pay(self, index, invoice_id, amount):
        reference, payment_id = self.transaction(invoice_id, amount)
        sbp = (index * 7919 + self.seed) % 100 < SBP_SHARE * 100
        body = {"PaymentId": payment_id, "method": "sbp" if sbp else "card"}
        answer = retrying(f"pay {payment_id}", lambda: self.sandbox("POST", "/_admin/pay", body))
        with self.lock:
            if answer["outcome"] != "paid":
                self.failed_pays[answer["outcome"]] += 1
                return
            self.paid[payment_id] = {
                "reference": reference,
                "invoice": invoice_id,
                "amount": amount,
                "paid_at": time.time(),
                "method": body["method"],
            }
            if (index * 104729 + self.seed) % 1000 < self.refund_share * 1000:
                self.refunds_wanted.append(payment_id)

    def refund_booked(self, final=False):
        """Refund, once each, the payments chosen for it whose account.payment exists (as an
        accountant would from the payment): `action_refund` of the transaction, which sends
        Cancel to the bank. When the answer is lost (a kill, PostgreSQL down) the bank's
        REFUNDED notification records it; the bank refuses a second one."""
        with self.lock:
            waiting = [p for p in self.refunds_wanted if p not in self.refunded]
        if not waiting:
            return
        references = {self.paid[p]["reference"]: p for p in waiting}
        booked = self.call(
            "payment.transaction",
            "search_read",
            [("reference", "in", list(references)), ("state", "=", "done"), ("payment_id", "!=", False)],
            ["id", "reference"],
        )
        for tx in booked:
            payment_id = references[tx["reference"]]
            try:
                self.rpc.call("payment.transaction", "action_refund", [tx["id"]])
            except (requests.RequestException, RuntimeError, ValueError):
                # a burst or a kill: the bank's status says whether the refund went through
                status = retrying("GetState", lambda p=payment_id: self.sandbox("GET", "/_admin/state"))["payments"][
                    payment_id
                ]["Status"]
                if status != "REFUNDED":
                    if final:
                        retrying(
                            f"refund {payment_id}",
                            lambda i=tx["id"]: self.rpc.call("payment.transaction", "action_refund", [i]),
                        )
                    else:
                        continue
            with self.lock:
                self.refunded.add(payment_id)

    # -- chaos ----------------------------------------------------------------------------
    def worker_pids(self):
        """The HTTP workers of the running server: children of its master that said so in its log."""
        master = self.acq.processes[-1].pid
        text = (harness.LOGS / f"{self.acq.log_prefix}-odoo.log").read_text(errors="replace")
        named = {int(pid) for pid in re.findall(r"Worker WorkerHTTP \((\d+)\) alive", text)}
        children = set()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as handle:
                        stat = handle.read()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                    children.add(int(entry))
        return sorted(named & children)

    def kill_worker(self):
        pids = self.worker_pids()
        if not pids:
            raise ChaosError("no HTTP worker of the Odoo server found to kill")
        os.kill(pids[0], signal.SIGKILL)
        self.note(f"SIGKILL to Odoo HTTP worker {pids[0]} (of {pids})")

    def kill_server(self):
        server = self.acq.processes.pop()
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        self.note(f"SIGKILL to the whole Odoo server (master {server.pid} and its workers)")
        started = time.monotonic()
        self.acq.processes.append(
            self.acq.stack.start_prefork_server(
                self.acq.db, self.acq.odoo_port, f"{self.acq.log_prefix}-odoo.log", workers=WORKERS
            )
        )
        self.note(f"Odoo server started again in {time.monotonic() - started:.1f}s")

    def restart_postgres(self):
        started = time.monotonic()
        pgcluster.restart(harness.TEST_CLUSTER)
        self.note(f"PostgreSQL restarted (fast shutdown) in {time.monotonic() - started:.1f}s")

    def chaos_loop(self):
        actions = {"worker": self.kill_worker, "server": self.kill_server, "postgres": self.restart_postgres}
        pending = sorted(self.chaos)
        while pending and not self.stop.wait(0.5):
            if self.progress() >= pending[0][0]:
                _, what = pending.pop(0)
                try:
                    actions[what]()
                except (ChaosError, OSError, pgcluster.ClusterError, RuntimeError) as error:
                    self.note(f"{what} FAILED: {error}")
        self.missed_chaos = pending

    # -- the run --------------------------------------------------------------------------
    def run(self):
        self.started = time.monotonic()
        self.missed_chaos = []
        chaos = threading.Thread(target=self.chaos_loop, name="chaos", daemon=True)
        chaos.start()
        deadline = self.started + self.time_bound
        index = 0
        with ThreadPoolExecutor(self.concurrency) as pool:
            while index < self.count and time.monotonic() < deadline:
                size = min(BATCH, self.count - index)
                batch = self.make_invoices(index, size)
                list(pool.map(lambda item: self.pay(*item), [(index + i, *batch[i]) for i in range(size)]))
                index += size
                self.submitted = index
                self.refund_booked()
                self.log(
                    f"[{NAME}] {time.monotonic() - self.started:7.1f}s {index} payments made, "
                    f"{len(self.refunded)} refunded"
                )
        self.ran_s = time.monotonic() - self.started
        self.stop.set()
        chaos.join()
        return index


def settle(driver, timeout_s):
    """Wait until every payment the bank confirmed is booked in Odoo (or `timeout_s`), the
    refunds chosen made; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() < started + timeout_s:
        driver.refund_booked(final=time.monotonic() > started + timeout_s / 2)
        references = [p["reference"] for p in driver.paid.values()]
        booked = driver.call(
            "payment.transaction",
            "search_count",
            [("reference", "in", references), ("state", "=", "done"), ("payment_id", "!=", False)],
        )
        pending = driver.sandbox("GET", "/_admin/health")["pending_notifications"]
        if booked >= len(references) and not pending and len(driver.refunded) >= len(driver.refunds_wanted):
            break
        time.sleep(2)
    return time.monotonic() - started


def account(driver):
    """Every payment the bank holds against Odoo's records: the end check's figures. Only
    the run's own payments: the bank's earlier ones (other tests') are left out."""
    bank = driver.sandbox("GET", "/_admin/state", timeout=300)["payments"]
    bank = {payment_id: payment for payment_id, payment in bank.items() if payment_id not in driver.earlier}
    faults = driver.sandbox("GET", "/_admin/notify/faults", timeout=300)
    records = {str(r["meta"].get("PaymentId")): r for r in faults["payments"].values()}
    txs = driver.call(
        "payment.transaction",
        "search_read",
        [("provider_code", "=", "tbank")],
        ["reference", "provider_reference", "state", "operation", "source_transaction_id", "invoice_ids", "amount"],
    )
    payments = driver.call(
        "account.payment",
        "search_read",
        [("payment_transaction_id", "!=", False)],
        ["payment_transaction_id", "create_date", "amount"],
    )
    by_tx = {}
    for payment in payments:
        by_tx.setdefault(payment["payment_transaction_id"][0], []).append(payment)
    invoice_ids = sorted({i for tx in txs for i in tx["invoice_ids"]})
    invoices = (
        {i["id"]: i["payment_state"] for i in driver.call("account.move", "read", invoice_ids, ["payment_state"])}
        if invoice_ids
        else {}
    )
    originals = {tx["provider_reference"]: tx for tx in txs if tx["operation"] != "refund" and tx["provider_reference"]}
    refunds = {}
    for tx in txs:
        if tx["operation"] == "refund" and tx["source_transaction_id"]:
            refunds.setdefault(tx["source_transaction_id"][0], []).append(tx)

    lost, doubled, unconfirmed_paid, recovered, recovery_s, to_paid_s = [], [], [], [], [], []
    refunded_ok = 0
    for payment_id, payment in bank.items():
        tx = originals.get(payment_id)
        confirmed = payment["Status"] in BANK_CONFIRMED
        if tx is None:
            if confirmed:
                lost.append((payment_id, "no transaction in Odoo"))
            continue
        booked = by_tx.get(tx["id"], [])
        if not confirmed:
            if tx["state"] == "done" or booked:
                unconfirmed_paid.append((payment_id, payment["Status"], tx["state"]))
            continue
        invoice_paid = all(invoices.get(i) in PAID_STATES for i in tx["invoice_ids"])
        if len(booked) > 1:
            doubled.append((payment_id, f"{len(booked)} payments"))
        if tx["state"] != "done" or not booked or not invoice_paid:
            lost.append(
                (payment_id, f"transaction {tx['state']}, {len(booked)} payments, invoice paid: {invoice_paid}")
            )
            continue
        info = driver.paid.get(payment_id)
        if info:
            to_paid_s.append(_utc(booked[0]["create_date"]) - info["paid_at"])
        record = records.get(payment_id, {})
        if "CONFIRMED" in record.get("dropped", []):
            recovered.append(payment_id)
            if info:
                recovery_s.append(_utc(booked[0]["create_date"]) - info["paid_at"])
        if payment["Status"] == "REFUNDED":
            done_refunds = [r for r in refunds.get(tx["id"], []) if r["state"] == "done"]
            refund_payments = [p for r in done_refunds for p in by_tx.get(r["id"], [])]
            if len(done_refunds) > 1 or len(refund_payments) > 1:
                doubled.append((payment_id, f"{len(done_refunds)} refunds, {len(refund_payments)} refund payments"))
            elif len(done_refunds) == 1 and len(refund_payments) == 1:
                refunded_ok += 1
            else:
                lost.append((payment_id, f"refund: {len(done_refunds)} done, {len(refund_payments)} payments"))
        elif refunds.get(tx["id"]) and any(r["state"] == "done" for r in refunds[tx["id"]]):
            unconfirmed_paid.append((payment_id, "refund the bank did not make", payment["Status"]))

    dropped_confirmed = [p for p, r in records.items() if "CONFIRMED" in r.get("dropped", []) and p in bank]
    counters = faults["counters"]
    return {
        "bank_payments": len(bank),
        "confirmed": sum(1 for p in bank.values() if p["Status"] in BANK_CONFIRMED),
        "notifications": sum(r["notifications"] for r in records.values()),
        "duplicated": sum(len(r.get("duplicated", [])) for r in records.values()),
        "reordered": sum(1 for r in records.values() if r.get("reordered")),
        "dropped": sum(len(r.get("dropped", [])) for r in records.values()),
        "dropped_confirmed": len(dropped_confirmed),
        "recovered": len(recovered),
        "refunded": refunded_ok,
        "bursts": counters.get("http429_bursts", 0) + counters.get("http500_bursts", 0),
        "burst_answers": counters.get("http429_answered", 0) + counters.get("http500_answered", 0),
        "given_up": len(driver.sandbox("GET", "/_admin/state", timeout=300)["given_up_notifications"]),
        "lost": lost,
        "doubled": doubled,
        "unconfirmed_paid": unconfirmed_paid,
        "longest_to_paid_s": max(to_paid_s, default=0.0),
        "p50_to_paid_s": percentile(to_paid_s, 0.5) if to_paid_s else 0.0,
        "p99_to_paid_s": percentile(to_paid_s, 0.99) if to_paid_s else 0.0,
        "longest_recovery_s": max(recovery_s, default=0.0),
    }


def drive(
    acq,
    count=COUNT,
    time_bound=TIME_BOUND,
    seed=SEED,
    chaos=FULL_CHAOS,
    concurrency=4,
    refund_share=REFUND_SHARE,
    check_minutes=CHECK_MINUTES,
    settle_s=None,
    rates=None,
    log=print,
):
    """The run against a running AcquiringStack `acq`; returns the figures (see `report`).
    The GetState job's settings and the bank's faults are put back as they were afterwards."""
    driver = Driver(acq, count, time_bound, seed, chaos, concurrency, refund_share, log)
    driver.rates = {**RATES, **(rates or {})}
    saved = driver.configure(check_minutes)
    # the bank's payments from before the run (other end-to-end tests share the sandbox)
    driver.earlier = set(driver.sandbox("GET", "/_admin/state", timeout=300)["payments"])
    try:
        log(f"[{NAME}] {count} payments at most, {time_bound:.0f}s at most; faults {driver.rates}, seed {seed}")
        made = driver.run()
        # the GetState job's schedule: a payment is looked at `check_minutes` after its
        # registration, by a run every CRON_MINUTES; then the job's own time
        schedule_s = 60 * (check_minutes + CRON_MINUTES)
        waited = settle(driver, settle_s or schedule_s * 3 + 120)
        log(f"[{NAME}] settled {waited:.0f}s after the last payment; checking against the bank's records...")
        figures = account(driver)
    finally:
        with contextlib.suppress(requests.RequestException, ChaosError):
            driver.sandbox("DELETE", "/_admin/faults")
            driver.restore(saved)
    return {
        "name": NAME,
        "rates": driver.rates,
        "asked": count,
        "made": made,
        "bounded_by": "count" if made >= count else f"time ({time_bound:.0f}s)",
        "paid": len(driver.paid),
        "failed_pays": dict(driver.failed_pays),
        "refunds_asked": len(driver.refunds_wanted),
        "run_s": driver.ran_s,
        "settle_s": waited,
        "check_minutes": check_minutes,
        "schedule_s": schedule_s,
        "events": driver.events,
        "missed_chaos": [what for _, what in driver.missed_chaos],
        "load_average": os.getloadavg(),
        **figures,
    }


def run(count=COUNT, time_bound=TIME_BOUND, seed=SEED, keep=False, log=print):
    """A full run on a stack of its own (database dropped afterwards unless `keep`)."""
    acq = harness.AcquiringStack(
        DB, NAME, workers=WORKERS, notify_interval=0.5, sandbox_extra=["--notify-max-attempts", "2000", "--quiet"]
    )
    log(f"[{NAME}] starting PostgreSQL, the sandbox and Odoo ({WORKERS} workers, 1 cron worker) on a fresh database...")
    acq.start()
    try:
        return drive(acq, count=count, time_bound=time_bound, seed=seed, log=log)
    finally:
        acq.stop()
        if not keep and getattr(acq, "stack", None):
            harness.odoo_db.drop(acq.stack.port, DB, acq.stack.cluster)


def failed(result):
    """Why the run failed (lost, doubled, paid without the bank), or an empty list."""
    reasons = []
    for key in ("lost", "doubled", "unconfirmed_paid"):
        if result[key]:
            reasons.append(f"{key}: {len(result[key])} (first: {result[key][:5]})")
    return reasons


def report(result):
    lines = [
        f"Chaos run: Odoo {WORKERS} workers + 1 cron worker, the sandbox's faults {result['rates']}",
        f"  payments: {result['made']} of {result['asked']} asked (bounded by {result['bounded_by']}), "
        f"in {result['run_s']:.0f}s; {result['paid']} paid (card/SBP), refunds asked {result['refunds_asked']}",
        "  during the run: " + "; ".join(f"{at:.0f}s {what}" for at, what in result["events"]),
        f"  bank: {result['bank_payments']} payments, {result['confirmed']} confirmed; "
        f"{result['bursts']} bursts of 429/500 ({result['burst_answers']} such answers)",
        f"  sent {result['notifications']} notifications: duplicated {result['duplicated']}, "
        f"reordered {result['reordered']} payments, dropped {result['dropped']} "
        f"({result['dropped_confirmed']} CONFIRMED), given up by the bank {result['given_up']}",
        f"  recovered by GetState: {result['recovered']} (longest {result['longest_recovery_s']:.0f}s after payment; "
        f"schedule {result['schedule_s']}s: check after {result['check_minutes']} min, job every {CRON_MINUTES} min)",
        f"  refunded once: {result['refunded']}",
        f"  lost: {len(result['lost'])}   doubled: {len(result['doubled'])}   "
        f"paid without the bank: {len(result['unconfirmed_paid'])}",
        f"  time to paid (bank paid -> account.payment): p50 {result['p50_to_paid_s']:.1f}s, "
        f"p99 {result['p99_to_paid_s']:.1f}s, longest {result['longest_to_paid_s']:.1f}s; "
        f"settled {result['settle_s']:.0f}s after the last payment",
        "  load average at the end (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in result["load_average"]),
    ]
    if result["missed_chaos"]:
        lines.append(f"  NOT done (the run ended first): {result['missed_chaos']}")
    reasons = failed(result)
    lines.append("  result: " + ("FAILED — " + "; ".join(reasons) if reasons else "nothing lost, nothing doubled"))
    return "\n".join(lines)
