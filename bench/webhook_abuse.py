"""The T-Bank webhook under abuse: 1,000 junk requests, then genuine notifications, against
Odoo running 2 workers and its cron worker, as in production.

The junk is what an outsider can send without the terminal's password: bodies that are
not JSON, JSON nested deep enough to exhaust Python's recursion, JSON that is not a
notification, NUL characters, forged tokens, and bodies over the 1 MiB cap (declared by
Content-Length and chunked). Then:

- a genuine notification of an existing order: how long until it is applied (answered
  OK, the transaction done), next to the same before the junk;
- a genuine notification that arrives before its order (stored as waiting), then the
  order: how long until the job applies it, next to the normal delay (its first retry
  delay plus the job's interval, set to 1 minute here, plus the cron worker's polling).
"""

import collections
import json
import time
from concurrent.futures import ThreadPoolExecutor

import requests

import harness
from bench.webhook import PREPARE, notification

NAME = "webhook_abuse"
DB = "bank_crm_bench_abuse"
WORKERS = 2
JUNK = 1000
CONCURRENCY = 8
CRON_MINUTES = 1
CRON_POLL_SECONDS = 60  # Odoo's cron workers look for due jobs at least this often
FIRST_RETRY_MINUTES = 1  # models/bank_webhook_event.py RETRY_FIRST_DELAY_MINUTES
CAP = 1024 * 1024

LATE = """
rub = env.ref('base.RUB')
partner = env['res.partner'].create({'name': "ООО «Опоздавший заказ»"})
invoice = env['account.move'].create({
    'move_type': 'out_invoice', 'partner_id': partner.id, 'currency_id': rub.id,
    'invoice_line_ids': [Command.create({'name': "Услуга", 'quantity': 1, 'price_unit': 1500,
                                         'tax_ids': [Command.clear()]})],
})
invoice.action_post()
env.cr.commit()
result = {
    'invoice': invoice.id, 'partner': partner.id, 'currency': rub.id,
    'provider': env.ref('payment_tbank.payment_provider_tbank').id,
    'method': env.ref('payment.payment_method_card').id,
    'cron': env.ref('odoo_bank_crm.cron_process_waiting_webhooks').id,
}
"""


def junk_bodies(count, signed_sample):
    """`count` junk requests as (label, body, headers), cycling through the kinds."""
    forged = dict(json.loads(signed_sample), Token="0" * 64)

    def chunked(data):
        for start in range(0, len(data), 64 * 1024):
            yield data[start : start + 64 * 1024]

    kinds = [
        ("not JSON", lambda: b"junk", {}),
        ("nested 100,000 deep", lambda: b"[" * 100_000, {}),
        ("nested 40 deep", lambda: b'{"a":' * 40 + b"1" + b"}" * 40, {}),
        ("not a notification", lambda: b'{"Status": "CONFIRMED"}', {}),
        ("NUL character", lambda: json.dumps(dict(forged, OrderId="x\x00")).encode(), {}),
        ("amount out of range", lambda: json.dumps(dict(forged, Amount=10**30)).encode(), {}),
        ("forged token", lambda: json.dumps(forged).encode(), {}),
        ("unknown terminal", lambda: json.dumps(dict(forged, TerminalKey="Nope")).encode(), {}),
        ("not UTF-8", lambda: b'{"TerminalKey": "\xff", "Status": "\xfe"}', {}),
    ]
    oversized = [
        ("over 1 MiB, declared", lambda: b"x" * (CAP + 1), {}),
        ("over 1 MiB, chunked", lambda: chunked(b"x" * (CAP + 1)), {}),
    ]
    result = []
    for index in range(count):
        # one in 50 is oversized: 20 bodies of 1 MiB, the rest small
        label, make, headers = oversized[index // 50 % 2] if index % 50 == 49 else kinds[index % len(kinds)]
        result.append((label, make, headers))
    return result


def post(session, url, data, headers=None):
    started = time.perf_counter()
    response = session.post(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}, timeout=120
    )
    return response, (time.perf_counter() - started) * 1000


def run(keep=False, log=print):
    acq = harness.AcquiringStack(DB, "bench-abuse", workers=WORKERS)
    log(f"[{NAME}] starting PostgreSQL, the sandbox and Odoo ({WORKERS} workers, 1 cron worker)...")
    acq.start()
    try:
        txs = acq.shell_json(PREPARE.format(count=2, first_payment_id=8_300_000_000), "bench-abuse-prepare.log")
        late = acq.shell_json("from odoo import Command\n" + LATE, "bench-abuse-prepare.log")
        rpc = acq.rpc
        # the job every minute from now on (its next run moved to now, not left 5 minutes away)
        rpc.call(
            "ir.cron",
            "write",
            [late["cron"]],
            {
                "interval_number": CRON_MINUTES,
                "interval_type": "minutes",
                "nextcall": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            },
        )
        url = f"{acq.odoo_url}/payment/tbank/webhook"
        session = requests.Session()

        def genuine(tx):
            response, ms = post(session, url, notification(*tx))
            state = rpc.call("payment.transaction", "search_read", [("reference", "=", tx[0])], ["state"])[0]["state"]
            return {"status": response.status_code, "answer": response.text, "ms": ms, "tx_state": state}

        # every worker warmed up (registry, caches) before anything is timed
        for _warmup in range(4 * WORKERS):  # a new connection each: the workers take turns
            post(requests.Session(), url, b"warm-up")
        before = genuine(txs[0])
        log(f"[{NAME}] genuine before the junk: {before}")

        log(f"[{NAME}] {JUNK} junk requests from {CONCURRENCY} clients...")
        bodies = junk_bodies(JUNK, notification(*txs[1]))
        sessions = [requests.Session() for _ in range(CONCURRENCY)]

        def one(index):
            label, make, headers = bodies[index]
            try:
                response, ms = post(sessions[index % CONCURRENCY], url, make(), headers)
                return label, response.status_code, ms
            except requests.ConnectionError:
                sessions[index % CONCURRENCY] = requests.Session()
                return label, "connection closed", 0.0

        last = rpc.call("bank.webhook.event", "search", [], limit=1, order="id desc")
        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            results = list(pool.map(one, range(JUNK)))
        junk_wall = time.perf_counter() - started
        answers = collections.Counter((label, status) for label, status, _ms in results)
        junk_events = rpc.call("bank.webhook.event", "search", [("id", ">", last[0] if last else 0)])

        after = genuine(txs[1])
        log(f"[{NAME}] genuine after the junk: {after}")

        junk_states = collections.Counter(
            row["state"] for row in rpc.call("bank.webhook.event", "read", junk_events, ["state"])
        )
        scheduled_junk = rpc.call(
            "bank.webhook.event", "search_count", [("id", "in", junk_events), ("next_attempt_at", "!=", False)]
        )

        # a genuine notification before its order, then the order
        reference, payment_id = "BENCH-LATE-1", "8300000999"
        response, ms = post(session, url, notification(reference, payment_id, 150000))
        event = rpc.call(
            "bank.webhook.event", "search_read", [("order_id", "=", reference)], ["state", "next_attempt_at"]
        )[0]
        log(f"[{NAME}] notification before its order: {response.status_code} {response.text!r}, event {event}")
        rpc.call(
            "payment.transaction",
            "create",
            {
                "provider_id": late["provider"],
                "payment_method_id": late["method"],
                "reference": reference,
                "amount": 1500.0,
                "currency_id": late["currency"],
                "partner_id": late["partner"],
                "operation": "online_redirect",
                "invoice_ids": [(6, 0, [late["invoice"]])],
                "provider_reference": payment_id,
                "tbank_status": "NEW",
            },
        )
        ordered = time.monotonic()
        bound = FIRST_RETRY_MINUTES * 60 + CRON_MINUTES * 60 + CRON_POLL_SECONDS
        log(f"[{NAME}] order created; waiting for the job to apply it (normal delay at most {bound} s)...")
        state = None
        while time.monotonic() < ordered + 3 * bound:
            state = rpc.call("bank.webhook.event", "read", [event["id"]], ["state", "attempt_count"])[0]
            if state["state"] == "processed":
                break
            time.sleep(2)
        late_delay = time.monotonic() - ordered
        tx_state = rpc.call("payment.transaction", "search_read", [("reference", "=", reference)], ["state"])[0][
            "state"
        ]
        states = collections.Counter(
            row["state"] for row in rpc.call("bank.webhook.event", "search_read", [], ["state"])
        )
    finally:
        acq.stop()
        if not keep and getattr(acq, "stack", None):
            harness.odoo_db.drop(acq.stack.port, DB, acq.stack.cluster)
    return {
        "before": before,
        "after": after,
        "junk_wall_s": junk_wall,
        "junk_answers": {f"{label} -> {status}": count for (label, status), count in sorted(answers.items(), key=str)},
        "junk_stored": len(junk_events),
        "junk_states": dict(junk_states),
        "junk_scheduled": scheduled_junk,
        "late": {"event": state, "tx_state": tx_state, "delay_s": late_delay, "bound_s": bound},
        "states": dict(states),
    }


def report(result):
    before, after, late = result["before"], result["after"], result["late"]
    lines = [
        f"Webhook under abuse: Odoo {WORKERS} workers + 1 cron worker, loopback, {JUNK} junk requests "
        f"from {CONCURRENCY} clients in {result['junk_wall_s']:.1f} s ({JUNK / result['junk_wall_s']:.0f} req/s)",
        "  junk answers (kind, HTTP status: count):",
    ]
    for answer, count in result["junk_answers"].items():
        lines.append(f"    {answer:45} {count:>5}")
    lines += [
        f"  junk stored: {result['junk_stored']} events, states {dict(result['junk_states'])}; "
        f"scheduled for another attempt: {result['junk_scheduled']}",
        f"  genuine notification, order exists, before the junk: {before['status']} {before['answer']!r} in "
        f"{before['ms']:.0f} ms, transaction {before['tx_state']}",
        f"  genuine notification, order exists, after the junk:  {after['status']} {after['answer']!r} in "
        f"{after['ms']:.0f} ms, transaction {after['tx_state']}",
        f"  genuine notification before its order: applied by the job {late['delay_s']:.0f} s after the order "
        f"was created (normal delay at most {late['bound_s']} s: first retry {FIRST_RETRY_MINUTES} min + job "
        f"every {CRON_MINUTES} min + cron polling {CRON_POLL_SECONDS} s); event {late['event']}, "
        f"transaction {late['tx_state']}",
        f"  all events by state: {dict(result['states'])}",
    ]
    return "\n".join(lines)
