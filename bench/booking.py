"""Booking throughput: T-Bank notifications → invoice paid, deal updated, salesperson told,
end to end, against Odoo running 2 HTTP workers and 1 cron worker (issue #16 §1).

The transactions are prepared beforehand by bench/webhook.py's script (a deal, a posted
invoice and a registered transaction each). Each notification is a signed CONFIRMED: the
webhook stores, verifies and applies it and triggers Odoo's post-processing job, whose
cron worker books it (payment created, posted and reconciled with the invoice, the deal's
payment state, the salesperson's message, activity and live notification).

Time-to-paid of a payment runs from the moment its notification was sent (the client's
clock, taken just before the request) until the commit that made its invoice paid. The
commit time is read from the database as it happens: a watcher polls PostgreSQL every
`POLL_S` seconds for the transactions' `account.payment` rows and notes PostgreSQL's
`clock_timestamp()` when a row first becomes visible (same machine, same clock as the
client). The payment, its reconciliation (the invoice's payment_state) and the deal's
updates are written in the same database transaction, so the row's visibility is the
moment the invoice became paid for everyone. Odoo's `create_date`/`write_date` are not
used: they hold `now()`, the start of the writing transaction, not its commit, which
would flatter a job that books many payments in one transaction. The figure is late by
at most one polling interval.

Measured, in this order: a trivial Odoo route at `concurrency` clients (the baseline),
(a) a burst of `burst` notifications at `concurrency` clients (the webhook's throughput,
p50 and p99 under load are this burst's), then (b) a steady `rate` per second for
`duration` seconds.
"""

import os
import threading
import time

import psycopg2

import harness
from bench import webhook

NAME = "booking"
DB = "bank_crm_bench_booking"
WORKERS = 2
POLL_S = 0.1
GOAL_THROUGHPUT = 30.0  # payments/s end to end
GOAL_P99_TIME_TO_PAID = 5.0  # seconds, at the steady rate
GOAL_WEBHOOK_P99_MS = webhook.GOAL_P99_MS
ISSUE_THROUGHPUT = 3.0  # payments/s end to end, issue #16 (bench/webhook.py, before batching)


class PaidWatcher(threading.Thread):
    """Notes when each watched transaction's payment first becomes visible in the database."""

    def __init__(self, dsn):
        super().__init__(daemon=True)
        self.dsn, self.pending, self.seen = dsn, set(), {}
        self.lock, self.stopping = threading.Lock(), threading.Event()
        self.error = None

    def watch(self, references):
        with self.lock:
            self.pending.update(references)

    def run(self):
        try:
            connection = psycopg2.connect(**self.dsn)
            connection.autocommit = True  # every poll sees the latest commits
            with connection, connection.cursor() as cr:
                while not self.stopping.is_set():
                    with self.lock:
                        pending = list(self.pending)
                    if pending:
                        cr.execute(
                            """
                            SELECT t.reference, extract(epoch FROM clock_timestamp())
                              FROM account_payment p
                              JOIN payment_transaction t ON t.id = p.payment_transaction_id
                             WHERE t.reference = ANY(%s)
                            """,
                            [pending],
                        )
                        with self.lock:
                            for reference, seen_at in cr.fetchall():
                                if reference in self.pending:
                                    self.pending.discard(reference)
                                    self.seen[reference] = float(seen_at)
                    self.stopping.wait(POLL_S)
            connection.close()
        except psycopg2.Error as error:  # reported by `wait`
            self.error = error

    def wait(self, references, timeout):
        """Wait until every one of `references` is paid; return the seconds waited."""
        started = time.monotonic()
        while time.monotonic() < started + timeout:
            if self.error:
                raise RuntimeError(f"the watcher stopped: {self.error}")
            with self.lock:
                if all(reference in self.seen for reference in references):
                    break
            time.sleep(POLL_S)
        else:
            raise RuntimeError(f"not every payment was booked within {timeout}s")
        return time.monotonic() - started


def phase(label, txs, sent_at, watcher, wall, latencies):
    """The figures of one phase: webhook latency, end-to-end throughput, time-to-paid."""
    paid_at = [watcher.seen[tx[0]] for tx in txs]
    times = [paid - sent for paid, sent in zip(paid_at, sent_at)]
    span = max(paid_at) - min(sent_at)
    return {
        "label": label,
        "payments": len(txs),
        "webhook": webhook.figures("webhook /payment/tbank/webhook", wall, latencies),
        "send_seconds": wall,
        "span_seconds": span,
        "throughput": len(txs) / span,
        "ttp_p50": webhook.percentile(times, 0.50),
        "ttp_p99": webhook.percentile(times, 0.99),
        "ttp_max": max(times),
    }


def run(burst=1000, rate=20.0, duration=30.0, concurrency=8, warmup=16, keep=False, log=print):
    """Run the benchmark on a stack of its own (its database dropped afterwards unless
    `keep`); returns the figures as a dict."""
    steady = int(rate * duration)
    acq = harness.AcquiringStack(DB, "bench-booking", workers=WORKERS)
    log(f"[{NAME}] starting PostgreSQL, the sandbox and Odoo ({WORKERS} workers, 1 cron worker)...")
    started = time.monotonic()
    acq.start()
    watcher = None
    try:
        total = warmup + burst + steady
        log(f"[{NAME}] ready in {time.monotonic() - started:.0f}s; preparing {total} invoices and transactions...")
        started = time.monotonic()
        txs = webhook.prepare_transactions(acq, total, 8_200_000_000, "bench-booking-prepare.log")
        log(f"[{NAME}] prepared in {time.monotonic() - started:.0f}s")
        bodies = [("POST", webhook.notification(*tx)) for tx in txs]
        webhook_url = f"{acq.odoo_url}/payment/tbank/webhook"
        method, path, base_body = webhook.BASELINES["version_info"]
        base_url = f"{acq.odoo_url}{path}"
        watcher = PaidWatcher(
            {
                "host": "127.0.0.1",
                "port": acq.stack.port,
                "user": "odoo",
                "password": "odoo",
                "dbname": DB,
            }
        )
        watcher.start()
        watcher.watch(tx[0] for tx in txs)

        def ok(response):
            return response.status_code == 200 and response.text == "OK"

        def base_ok(response):
            return response.status_code == 200

        # warm both routes and the job up in every worker (registry, caches)
        webhook.fire(base_url, [(method, base_body)] * warmup, concurrency, base_ok)
        _, _, bad = webhook.fire(webhook_url, bodies[:warmup], concurrency, ok)
        assert not bad, f"warm-up notifications refused: {bad[:3]}"
        watcher.wait([tx[0] for tx in txs[:warmup]], 300)

        log(f"[{NAME}] baseline: 300 x {method} {path} at {concurrency} clients...")
        wall, latencies, bad = webhook.fire(base_url, [(method, base_body)] * 300, concurrency, base_ok)
        assert not bad, f"baseline answers not 200: {bad[:3]}"
        base = webhook.figures(f"baseline {path}", wall, latencies)

        phases = []
        for label, chunk, chunk_rate in (
            (f"(a) burst of {burst} at {concurrency} clients", slice(warmup, warmup + burst), None),
            (f"(b) steady {rate:g}/s for {duration:g}s", slice(warmup + burst, total), rate),
        ):
            log(f"[{NAME}] {label}...")
            chunk_txs, sent_at = txs[chunk], [0.0] * len(txs[chunk])
            wall, latencies, bad = webhook.fire(
                webhook_url, bodies[chunk], concurrency, ok, rate=chunk_rate, sent_at=sent_at
            )
            assert not bad, f"notifications not answered OK: {bad[:3]}"
            waited = watcher.wait([tx[0] for tx in chunk_txs], 1800)
            result = phase(label, chunk_txs, sent_at, watcher, wall, latencies)
            log(
                f"[{NAME}] {label}: all booked {waited:.1f}s after the last answer, "
                f"{result['throughput']:.1f} payments/s, time-to-paid p99 {result['ttp_p99']:.2f}s"
            )
            phases.append(result)

        # every notification did the whole work: one payment per transaction, each
        # invoice paid, each deal paid, its salesperson given an activity
        references = [tx[0] for tx in txs]
        done = acq.rpc.call(
            "payment.transaction", "search_count", [("reference", "in", references), ("state", "=", "done")]
        )
        payments = acq.rpc.call(
            "account.payment", "search_count", [("payment_transaction_id.reference", "in", references)]
        )
        invoices = acq.rpc.call(
            "account.move",
            "search_read",
            [("transaction_ids.reference", "in", references), ("payment_state", "in", ("paid", "in_payment"))],
            ["bank_crm_lead_id"],
        )
        lead_ids = [invoice["bank_crm_lead_id"][0] for invoice in invoices]
        deals = acq.rpc.call(
            "crm.lead", "search_count", [("id", "in", lead_ids), ("bank_crm_payment_state", "=", "paid")]
        )
        told = acq.rpc.call(
            "mail.activity", "search_count", [("res_model", "=", "crm.lead"), ("res_id", "in", lead_ids)]
        )
        assert done == payments == len(invoices) == deals == told == len(txs), (
            done,
            payments,
            len(invoices),
            deals,
            told,
            len(txs),
        )
    finally:
        if watcher:
            watcher.stopping.set()
            watcher.join(5)
        acq.stop()
        if not keep and getattr(acq, "stack", None):
            harness.odoo_db.drop(acq.stack.port, DB, acq.stack.cluster)
    burst_result, steady_result = phases
    hook = burst_result["webhook"]
    ratio = hook["throughput"] / base["throughput"]
    return {
        "name": NAME,
        "workers": WORKERS,
        "cron_workers": 1,
        "concurrency": concurrency,
        "baseline": base,
        "phases": phases,
        "webhook_ratio": ratio,
        "goals": {
            "throughput": (burst_result["throughput"], GOAL_THROUGHPUT, burst_result["throughput"] >= GOAL_THROUGHPUT),
            "ttp_p99_s": (
                steady_result["ttp_p99"],
                GOAL_P99_TIME_TO_PAID,
                steady_result["ttp_p99"] < GOAL_P99_TIME_TO_PAID,
            ),
            "webhook_p99_ms": (hook["p99"], GOAL_WEBHOOK_P99_MS, hook["p99"] < GOAL_WEBHOOK_P99_MS),
        },
        "load_average": os.getloadavg(),
        "checked": f"{done} transactions done, {payments} payments, {len(invoices)} invoices paid, "
        f"{deals} deals paid, {told} salesperson activities",
    }


def report(result):
    lines = [
        f"Booking: T-Bank notification → invoice paid, deal updated, salesperson told; Odoo "
        f"{result['workers']} workers + {result['cron_workers']} cron worker, loopback, "
        f"{result['concurrency']} clients",
        f"  {'':44} {'payments':>8} {'payments/s':>11} {'p50 ttp':>9} {'p99 ttp':>9} {'max ttp':>9}",
    ]
    for row in result["phases"]:
        lines.append(
            f"  {row['label']:44} {row['payments']:>8} {row['throughput']:>11.1f} "
            f"{row['ttp_p50']:>8.2f}s {row['ttp_p99']:>8.2f}s {row['ttp_max']:>8.2f}s"
        )
    base, hook = result["baseline"], result["phases"][0]["webhook"]
    lines += [
        "  (ttp: time-to-paid, from the notification sent to the commit that made its invoice paid)",
        f"  {'':34} {'requests':>8} {'throughput':>14} {'p50':>10} {'p99':>10}",
    ]
    for row in (base, hook):
        lines.append(
            f"  {row['label']:34} {row['requests']:>8} {row['throughput']:>8.1f} req/s "
            f"{row['p50']:>7.1f} ms {row['p99']:>7.1f} ms"
        )
    throughput, goal, met = result["goals"]["throughput"]
    lines.append(
        f"  burst throughput {throughput:.1f} payments/s, {throughput / ISSUE_THROUGHPUT:.1f}x the issue's "
        f"{ISSUE_THROUGHPUT:.1f}/s; goal >= {goal:.0f}/s: {'met' if met else 'NOT met'}"
    )
    p99, goal, met = result["goals"]["ttp_p99_s"]
    lines.append(f"  steady p99 time-to-paid {p99:.2f}s; goal < {goal:.0f}s: {'met' if met else 'NOT met'}")
    p99, goal, met = result["goals"]["webhook_p99_ms"]
    lines += [
        f"  webhook p99 during the burst {p99:.1f} ms; goal < {goal:.0f} ms: {'met' if met else 'NOT met'}; "
        f"throughput ratio webhook / baseline {result['webhook_ratio']:.3f}",
        f"  checked afterwards: {result['checked']}",
        "  load average at the end (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in result["load_average"]),
    ]
    return "\n".join(lines)
