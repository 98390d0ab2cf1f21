"""T-Bank notifications per second and their latency, against Odoo running 2 workers,
next to a trivial Odoo route hit the same way in the same run.

Transactions for N distinct notifications are prepared beforehand in one `odoo shell`
script (a deal, a posted invoice and a registered transaction each, as after Init,
without calling the bank); each notification is a signed CONFIRMED, so every one does
the whole work: the request stores, verifies and applies it and triggers Odoo's
post-processing job, which posts and reconciles the payment and announces it on the
deal (the bench waits for it). Requests go over loopback from a small thread pool, at
the same client concurrency for both routes (see `run`).
"""

import json
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor

import requests

import harness
from tbank_api import compute_token

NAME = "webhook"
DB = "bank_crm_bench"
WORKERS = 2
GOAL_P99_MS = 150.0
GOAL_RATIO = 1 / 3
BASELINES = {
    "version_info": (
        "POST",
        "/web/webclient/version_info",
        json.dumps({"jsonrpc": "2.0", "method": "call", "params": {}}).encode(),
    ),
    "health": ("GET", "/web/health", None),
}

PREPARE = """
from odoo import Command
count, first_payment_id = {count:d}, {first_payment_id:d}
provider = env.ref('payment_tbank.payment_provider_tbank')
card = env.ref('payment.payment_method_card')
rub = env.ref('base.RUB')
partners = env['res.partner'].create([{{'name': f"ООО «Нагрузка {{i}}»", 'email': f"load{{i}}@example.com"}}
                                     for i in range(10)])
admin = env.ref('base.user_admin')
leads = env['crm.lead'].create([{{'name': f"Нагрузочная сделка {{i}}", 'type': 'opportunity',
                                 'partner_id': partners[i % 10].id, 'user_id': admin.id}}
                               for i in range(count)])
invoices = env['account.move'].create([{{
    'move_type': 'out_invoice', 'partner_id': lead.partner_id.id, 'bank_crm_lead_id': lead.id,
    'currency_id': rub.id,
    'invoice_line_ids': [Command.create({{'name': "Услуга", 'quantity': 1, 'price_unit': 1000 + i,
                                          'tax_ids': [Command.clear()]}})],
}} for i, lead in enumerate(leads)])
invoices.action_post()
Transaction = env['payment.transaction']
txs = Transaction.create([{{
    'provider_id': provider.id, 'payment_method_id': card.id,
    'reference': Transaction._compute_reference('tbank', invoice_ids=[Command.set(invoice.ids)]),
    'amount': invoice.amount_residual, 'currency_id': invoice.currency_id.id,
    'partner_id': invoice.partner_id.id, 'operation': 'online_redirect',
    'invoice_ids': [Command.set(invoice.ids)],
    'provider_reference': str(first_payment_id + i), 'tbank_status': 'NEW',
}} for i, invoice in enumerate(invoices)])
env.cr.commit()
result = [[tx.reference, tx.provider_reference, round(tx.amount * 100)] for tx in txs]
"""


def prepare_transactions(acq, count, first_payment_id, log_name="bench-prepare.log"):
    """`count` posted invoices of their own deals, each with a registered T-Bank transaction
    (as after Init, without calling the bank), made by one `odoo shell` script on `acq`'s
    database; returns [[reference, PaymentId, amount in kopecks]] for `notification`."""
    return acq.shell_json(PREPARE.format(count=count, first_payment_id=first_payment_id), log_name)


def percentile(values, fraction):
    """Nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def notification(reference, payment_id, amount_minor):
    payload = {
        "TerminalKey": harness.TBANK_TERMINAL_KEY,
        "OrderId": reference,
        "Success": True,
        "Status": "CONFIRMED",
        "PaymentId": int(payment_id),
        "ErrorCode": "0",
        "Amount": amount_minor,
        "CardId": 881900,
        "Pan": "220077******7761",
        "ExpDate": "1230",
    }
    payload["Token"] = compute_token(payload, harness.TBANK_PASSWORD)
    return json.dumps(payload, ensure_ascii=False).encode()


def fire(url, requests_to_send, concurrency, expect, rate=None, sent_at=None, headers=None):
    """Send `requests_to_send` ([(method, body)]) to `url` from `concurrency` threads, one
    keep-alive session each (`headers` added to every request), as fast as they answer or,
    with `rate`, request i not before i / rate seconds after the start; `sent_at`, a list as
    long as the requests, receives each request's wall-clock start (time.time()). Returns
    (wall seconds, latencies in ms, unexpected answers)."""
    sessions = [requests.Session() for _ in range(concurrency)]
    headers = {"Content-Type": "application/json", **(headers or {})}

    def one(index):
        method, body = requests_to_send[index]
        session = sessions[index % concurrency]
        if rate:
            time.sleep(max(0.0, begin + index / rate - time.perf_counter()))
        if sent_at is not None:
            sent_at[index] = time.time()
        started = time.perf_counter()
        response = session.request(method, url, data=body, headers=headers, timeout=60)
        elapsed = (time.perf_counter() - started) * 1000
        return elapsed, None if expect(response) else (response.status_code, response.text[:200])

    started = begin = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(one, range(len(requests_to_send))))
    wall = time.perf_counter() - started
    for session in sessions:
        session.close()
    return wall, [r[0] for r in results], [r[1] for r in results if r[1]]


def figures(label, wall, latencies):
    return {
        "label": label,
        "requests": len(latencies),
        "throughput": len(latencies) / wall,
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
    }


def run(requests_count=300, concurrency=8, warmup=16, baseline="version_info", keep=False, log=print):
    """Run the benchmark on a stack of its own (its database dropped afterwards unless
    `keep`); returns the figures as a dict.

    Each route is measured at two client concurrencies, the same for both routes: as
    many clients as Odoo has workers (each worker always busy, no request waits in
    Odoo's queue: the latency is the request's own), and `concurrency` (requests queue
    behind one another: p50 is about concurrency / throughput). Odoo runs its cron
    worker too: the post-processing job each notification triggers (payment posted and
    reconciled, deal, salesperson) runs beside the webhook's load, as it would in
    production; before every baseline it is left to finish what earlier notifications
    gave it, so that the baseline has the machine to itself."""
    levels = sorted({WORKERS, concurrency})
    acq = harness.AcquiringStack(DB, "bench", workers=WORKERS)
    log(f"[{NAME}] starting PostgreSQL, the sandbox and Odoo ({WORKERS} workers, 1 cron worker) on a fresh database...")
    started = time.monotonic()
    acq.start()
    try:
        total = requests_count * len(levels) + warmup
        log(
            f"[{NAME}] ready in {time.monotonic() - started:.0f}s; preparing {total} invoices with registered "
            f"transactions (outside the timing)..."
        )
        started = time.monotonic()
        txs = prepare_transactions(acq, total, 8_100_000_000)
        log(f"[{NAME}] prepared in {time.monotonic() - started:.0f}s")
        bodies = [notification(*tx) for tx in txs]
        webhook_url = f"{acq.odoo_url}/payment/tbank/webhook"
        method, path, base_body = BASELINES[baseline]
        base_url = f"{acq.odoo_url}{path}"

        def ok(response):
            return response.status_code == 200 and response.text == "OK"

        def base_ok(response):
            return response.status_code == 200

        def posted(batch):
            """Wait until the post-processing job has posted the payments of `batch`;
            return the seconds waited."""
            references = [tx[0] for tx in batch]
            started = time.monotonic()
            while time.monotonic() < started + 900:
                payments = acq.rpc.call(
                    "account.payment", "search_count", [("payment_transaction_id.reference", "in", references)]
                )
                if payments >= len(batch):
                    break
                time.sleep(0.5)
            return time.monotonic() - started

        # warm both routes up in every worker (registry, caches) before measuring
        fire(base_url, [(method, base_body)] * warmup, concurrency, base_ok)
        _, _, bad = fire(webhook_url, [("POST", body) for body in bodies[:warmup]], concurrency, ok)
        assert not bad, f"warm-up notifications refused: {bad[:3]}"
        posted(txs[:warmup])

        levels_results = []
        for index, level in enumerate(levels):
            batch = slice(warmup + index * requests_count, warmup + (index + 1) * requests_count)
            log(f"[{NAME}] {level} concurrent clients: baseline, {requests_count} x {method} {path}...")
            wall, latencies, bad = fire(base_url, [(method, base_body)] * requests_count, level, base_ok)
            assert not bad, f"baseline answers not 200: {bad[:3]}"
            base = figures(f"baseline {path}", wall, latencies)
            log(f"[{NAME}] {level} concurrent clients: webhook, {requests_count} distinct notifications...")
            wall, latencies, bad = fire(webhook_url, [("POST", body) for body in bodies[batch]], level, ok)
            assert not bad, f"notifications not answered OK: {bad[:3]}"
            hook = figures("webhook /payment/tbank/webhook", wall, latencies)
            # The webhook answers once the transaction is done; the post-processing job it
            # triggers posts the payments right after: wait for it, and say how long it took.
            waited = posted(txs[batch])
            log(
                f"[{NAME}] {level} concurrent clients: the {requests_count} payments were posted and reconciled "
                f"{waited:.1f}s after the last answer ({requests_count / (wall + waited):.1f} payments/s end to end)"
            )
            ratio = hook["throughput"] / base["throughput"]
            levels_results.append(
                {
                    "concurrency": level,
                    "rows": [base, hook],
                    "ratio": ratio,
                    "posted_after_s": waited,
                    "end_to_end": requests_count / (wall + waited),
                    "goals": {
                        "p99_ms": (hook["p99"], GOAL_P99_MS, hook["p99"] < GOAL_P99_MS),
                        "ratio": (ratio, GOAL_RATIO, ratio >= GOAL_RATIO),
                    },
                }
            )

        # every notification did its work: one payment per transaction, each invoice paid
        references = [tx[0] for tx in txs]
        done = acq.rpc.call(
            "payment.transaction", "search_count", [("reference", "in", references), ("state", "=", "done")]
        )
        payments = acq.rpc.call(
            "account.payment", "search_count", [("payment_transaction_id.reference", "in", references)]
        )
        paid = acq.rpc.call(
            "account.move",
            "search_count",
            [("transaction_ids.reference", "in", references), ("payment_state", "in", ("paid", "in_payment"))],
        )
        assert done == payments == paid == len(txs), (done, payments, paid, len(txs))
    finally:
        acq.stop()
        if not keep and getattr(acq, "stack", None):
            harness.odoo_db.drop(acq.stack.port, DB, acq.stack.cluster)
    load = os.getloadavg()
    return {
        "name": NAME,
        "workers": WORKERS,
        "cron_workers": 1,
        "levels": levels_results,
        "load_average": load,
        "checked": f"{done} transactions done, {payments} payments, {paid} invoices paid",
    }


def report(result):
    lines = [
        f"Webhook notifications vs a trivial route: Odoo {result['workers']} workers and "
        f"{result['cron_workers']} cron worker (running the post-processing the notifications trigger), "
        f"loopback; each route measured at the same client concurrency"
    ]
    for level in result["levels"]:
        lines += [
            f"  {level['concurrency']} concurrent clients:",
            f"    {'':34} {'requests':>8} {'throughput':>14} {'p50':>10} {'p99':>10}",
        ]
        for row in level["rows"]:
            lines.append(
                f"    {row['label']:34} {row['requests']:>8} {row['throughput']:>8.1f} req/s "
                f"{row['p50']:>7.1f} ms {row['p99']:>7.1f} ms"
            )
        p99, p99_goal, p99_ok = level["goals"]["p99_ms"]
        ratio, ratio_goal, ratio_ok = level["goals"]["ratio"]
        lines += [
            f"    ratio webhook / baseline throughput: {ratio:.3f}",
            f"    goal p99 < {p99_goal:.0f} ms: {'met' if p99_ok else 'NOT met'} ({p99:.1f} ms); "
            f"goal ratio >= 1/3: {'met' if ratio_ok else 'NOT met'} ({ratio:.3f})",
            f"    payments posted by the post-processing job {level['posted_after_s']:.1f}s after the last "
            f"answer ({level['end_to_end']:.1f} payments/s end to end)",
        ]
    lines += [
        f"  checked afterwards: {result['checked']}",
        "  load average at the end (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in result["load_average"]),
    ]
    return "\n".join(lines)
