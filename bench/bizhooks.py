"""Instant updates (issue #15, docs/bank-webhooks.md): from the sandbox's T-Bank webhook
to the invoice paid and the salesperson notified, against Odoo running 2 workers and 1
cron worker, the sandbox as the bank.

A T-Bank Business connection is added the administrator's way (Add Account wizard over
RPC: instant updates on); N deals with a posted invoice each are prepared outside the
timing. Each transfer is made from the sandbox's admin API naming one invoice; the
sandbox sends the webhook.

- **Webhook → paid**: for every event, from the moment the sandbox's request left
  (`sent` in its delivery log) to the moment the salesperson's activity on the deal is
  seen committed in the database, polled every 50 ms by a watcher thread (an upper
  bound by the poll interval). The receiver answers once the verified event is queued;
  the booking job, triggered at once, books the line, reconciles the invoice, updates
  the deal and schedules the activity in one transaction, so the activity committed
  means paid and notified. The database is read afterwards: every invoice paid, one
  line per operation, one activity per deal for the salesperson, and the activity seen
  after the webhook was sent.
  Single events: sequential (each waits for its answer). Burst: N transfers made as
  fast as the admin API takes them; the figures are per event, plus the time to drain.
- **Receiver**: distinct `oper-feed-operation` bodies POSTed by 2 clients straight to the
  connection's address (the answer: stored, verified, claimed, queued and committed),
  next to the trivial route of bench/webhook.py at the same concurrency (the throughput
  ratio).
"""

import datetime as dt
import os
import threading
import time
import uuid

import harness
from bench.webhook import BASELINES, figures, fire, percentile

NAME = "bizhooks"
DB = "bank_crm_bench_bizhooks"
WORKERS = 2
GOAL_SINGLE_P99_S = 3.0
GOAL_RECEIVER_P99_MS = 150.0
PAYER_INN = "7707083893"
PAYER_ACCOUNT = "40702810900000000777"

PREPARE = """
from odoo import Command
count = {count:d}
partner = env['res.partner'].create({{'name': "ООО «Ромашка»", 'vat': {inn!r}, 'email': 'buyer@example.com'}})
admin = env.ref('base.user_admin')
leads = env['crm.lead'].create([{{'name': f"Сделка {{i}}", 'type': 'opportunity', 'partner_id': partner.id,
                                 'user_id': admin.id}} for i in range(count)])
invoices = env['account.move'].create([{{
    'move_type': 'out_invoice', 'partner_id': partner.id, 'bank_crm_lead_id': lead.id,
    'invoice_line_ids': [Command.create({{'name': "Услуга", 'quantity': 1, 'price_unit': 1000 + i,
                                          'tax_ids': [Command.clear()]}})],
}} for i, lead in enumerate(leads)])
invoices.action_post()
env.cr.commit()
result = [[invoice.id, invoice.name, lead.id, str(invoice.amount_residual)] for invoice, lead in zip(invoices, leads)]
"""

CHECK = """
ids = {invoice_ids!r}
invoices = env['account.move'].browse(ids)
leads = invoices.bank_crm_lead_id
activities = env['mail.activity'].search([('res_model', '=', 'crm.lead'), ('res_id', 'in', leads.ids)])
env.cr.execute(
    "SELECT bank_crm_operation_id, count(*) FROM account_bank_statement_line "
    "WHERE bank_crm_operation_id = ANY(%s) GROUP BY 1", [{operation_ids!r}])
lines = dict(env.cr.fetchall())
result = {{
    'paid': len(invoices.filtered(lambda m: m.payment_state in ('paid', 'in_payment'))),
    'deals_paid': len(leads.filtered(lambda l: l.bank_crm_payment_state == 'paid')),
    'lines': sum(lines.values()), 'operations_booked': len(lines),
    'activity_created': {{str(a.res_id): a.create_date.isoformat() for a in activities}},
}}
"""


def _instant(text):
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()


def _deliveries(acq, operation_ids):
    """{operation id: (sent, answered)} of the first 200 attempt of each operation's webhook."""
    wanted, found = set(operation_ids), {}
    for entry in _sandbox_state(acq)["delivery_log"]:
        operation = (entry.get("meta") or {}).get("operation")
        if operation in wanted and entry.get("ok") and operation not in found and entry.get("sent"):
            found[operation] = (_instant(entry["sent"]), _instant(entry["time"]))
    return found


def _sandbox_state(acq):
    import requests

    response = requests.get(f"{acq.sandbox_url}/_admin/state", timeout=60)
    response.raise_for_status()
    return response.json()


def _wait_delivered(acq, operation_ids, timeout):
    deadline = time.monotonic() + timeout
    while True:
        found = _deliveries(acq, operation_ids)
        if len(found) == len(operation_ids) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


class _ActivityWatcher(threading.Thread):
    """When each lead's first activity is first seen committed (polled every 50 ms)."""

    def __init__(self, acq, lead_ids, interval=0.05):
        super().__init__(daemon=True)
        self.acq, self.lead_ids, self.interval = acq, list(lead_ids), interval
        self.seen, self.stopping = {}, threading.Event()

    def run(self):
        conn = harness.odoo_db.connect(self.acq.stack.port, DB)
        conn.autocommit = True
        try:
            with conn.cursor() as cr:
                while not self.stopping.is_set():
                    pending = [lead for lead in self.lead_ids if lead not in self.seen]
                    if pending:
                        cr.execute(
                            "SELECT DISTINCT res_id FROM mail_activity WHERE res_model = 'crm.lead' AND res_id = ANY(%s)",
                            [pending],
                        )
                        now = time.time()
                        for (lead,) in cr.fetchall():
                            self.seen.setdefault(lead, now)
                    time.sleep(self.interval)
        finally:
            conn.close()

    def stop(self):
        self.stopping.set()
        self.join(10)


def _paid(delivered, watcher, deals, operation_ids, timeout):
    """{operation id: (sent, activity seen)}, waiting up to `timeout` for the activities."""
    lead_of = {operation_id: deal[2] for operation_id, deal in zip(operation_ids, deals)}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(lead not in watcher.seen for lead in lead_of.values()):
        time.sleep(0.2)
    return {
        operation_id: (sent, watcher.seen[lead_of[operation_id]])
        for operation_id, (sent, _answered) in delivered.items()
        if lead_of.get(operation_id) in watcher.seen
    }


def _transfers(bank, deals, tag):
    operation_ids = []
    for index, (_invoice_id, name, _lead_id, amount) in enumerate(deals):
        operation_id = f"bench-{tag}-{index}-{uuid.uuid4().hex[:6]}"
        bank.transfer(
            operation_id, float(amount), f"Оплата по счету № {name}", PAYER_INN, PAYER_ACCOUNT, str(100000 + index)
        )
        operation_ids.append(operation_id)
    return operation_ids


def _latency_figures(delivered):
    seconds = [answered - sent for sent, answered in delivered.values()]
    return {
        "events": len(seconds),
        "p50_s": percentile(seconds, 0.50),
        "p99_s": percentile(seconds, 0.99),
        "max_s": max(seconds),
    }


def run(single=30, burst=1000, receiver_requests=200, keep=False, log=print):
    acq = harness.AcquiringStack(DB, "bizhooks", workers=WORKERS, notify_interval=0.05)
    log(f"[{NAME}] starting PostgreSQL, the sandbox and Odoo ({WORKERS} workers, 1 cron worker)...")
    started = time.monotonic()
    acq.start()
    try:
        bank = harness.BusinessBank(acq, "tbank_business")
        state = bank.connection_state()
        assert state["webhook_enabled"], state["webhook_error"]
        total = single + burst + receiver_requests + 4
        log(f"[{NAME}] ready in {time.monotonic() - started:.0f}s; preparing {total} deals with invoices...")
        deals = acq.shell_json(PREPARE.format(count=total, inn=PAYER_INN), "bizhooks-prepare.log")
        warm, deals = deals[:4], deals[4:]
        single_deals, burst_deals, receiver_deals = (
            deals[:single],
            deals[single : single + burst],
            deals[single + burst :],
        )
        watcher = _ActivityWatcher(acq, [deal[2] for deal in warm + single_deals + burst_deals])
        watcher.start()
        # warm-up: every worker has the registry and the bank's code loaded
        warm_ids = _transfers(bank, warm, "warm")
        _paid(_wait_delivered(acq, warm_ids, 120), watcher, warm, warm_ids, 120)

        log(f"[{NAME}] {single} single events, one after the other...")
        single_ids = []
        for deal in single_deals:
            [operation_id] = _transfers(bank, [deal], "single")
            _paid(_wait_delivered(acq, [operation_id], 60), watcher, [deal], [operation_id], 60)
            single_ids.append(operation_id)
        single_delivered = _paid(_deliveries(acq, single_ids), watcher, single_deals, single_ids, 0)
        load_single = os.getloadavg()
        log(f"[{NAME}] single: {_latency_figures(single_delivered)} load {load_single}")

        log(f"[{NAME}] a burst of {burst} transfers...")
        burst_started = time.time()
        burst_ids = _transfers(bank, burst_deals, "burst")
        made_in = time.time() - burst_started
        burst_delivered = _paid(_wait_delivered(acq, burst_ids, 1800), watcher, burst_deals, burst_ids, 1800)
        watcher.stop()
        drained = max(paid for _sent, paid in burst_delivered.values()) - burst_started
        load_burst = os.getloadavg()
        log(f"[{NAME}] burst: {_latency_figures(burst_delivered)} drained in {drained:.1f}s load {load_burst}")

        log(f"[{NAME}] receiver: {receiver_requests} events from 2 clients, and the trivial route...")
        import json

        secret = acq.rpc.read_one("bank.connection", bank.connection, ["webhook_secret"])["webhook_secret"]
        bodies = [
            json.dumps(
                {
                    "operationId": f"bench-receiver-{index}-{uuid.uuid4().hex[:6]}",
                    "typeOfOperation": "Credit",
                    "accountNumber": bank.account,
                    "documentNumber": str(200000 + index),
                    "accountAmount": amount,
                    "rubleAmount": amount,
                    "counterParty": {"account": PAYER_ACCOUNT, "inn": PAYER_INN, "name": "ООО «Ромашка»"},
                    "payPurpose": f"Оплата по счету № {name}",
                    "authorizationDate": dt.datetime.now(dt.timezone.utc).isoformat(),
                    "trxnPostDate": dt.datetime.now(dt.timezone.utc).isoformat(),
                },
                ensure_ascii=False,
            ).encode()
            for index, (_invoice_id, name, _lead_id, amount) in enumerate(receiver_deals)
        ]
        method, path, base_body = BASELINES["version_info"]
        fire(f"{acq.odoo_url}{path}", [(method, base_body)] * 16, WORKERS, lambda r: r.status_code == 200)
        wall, latencies, bad = fire(
            f"{acq.odoo_url}{path}", [(method, base_body)] * receiver_requests, WORKERS, lambda r: r.status_code == 200
        )
        assert not bad, bad[:3]
        base = figures(f"baseline {path}", wall, latencies)
        wall, latencies, bad = fire(
            f"{acq.odoo_url}/bank_crm/webhook/tbank_business/{bank.connection}",
            [("POST", body) for body in bodies],
            WORKERS,
            lambda r: r.status_code == 200,
            headers={"Authorization": f"Bearer {secret}"},
        )
        hook = dict(figures("receiver /bank_crm/webhook/tbank_business", wall, latencies), not_200=len(bad))
        if bad:
            log(f"[{NAME}] receiver: {len(bad)} answers not 200 (the bank would resend them): {bad[:3]}")
        load_receiver = os.getloadavg()

        # what the database says: every invoice and deal paid, one line per operation,
        # the salesperson's activity committed between sent and answered
        operation_ids = single_ids + burst_ids
        all_deals = single_deals + burst_deals
        check = acq.shell_json(
            CHECK.format(invoice_ids=[d[0] for d in all_deals], operation_ids=operation_ids), "bizhooks-check.log"
        )
        within = 0
        delivered = {**single_delivered, **burst_delivered}
        for operation_id, deal in zip(operation_ids, all_deals):
            created = check["activity_created"].get(str(deal[2]))
            sent, seen = delivered.get(operation_id, (None, None))
            if created and sent and sent - 1.0 <= _instant(created) <= seen + 0.001:
                within += 1  # create_date has second precision in Odoo's datetime fields
    finally:
        acq.stop()
        if not keep and getattr(acq, "stack", None):
            harness.odoo_db.drop(acq.stack.port, DB, acq.stack.cluster)
    return {
        "name": NAME,
        "workers": WORKERS,
        "cron_workers": 1,
        "single": dict(_latency_figures(single_delivered), load_average=load_single),
        "burst": dict(
            _latency_figures(burst_delivered),
            made_in_s=made_in,
            drained_s=drained,
            rate=len(burst_delivered) / drained,
            load_average=load_burst,
        ),
        "receiver": {
            "rows": [base, hook],
            "ratio": hook["throughput"] / base["throughput"],
            "load_average": load_receiver,
        },
        "checked": dict(
            {k: v for k, v in check.items() if k != "activity_created"},
            events=len(operation_ids),
            activities=len(check["activity_created"]),
            activity_between_sent_and_answer=within,
        ),
    }


def _load(values):
    return "/".join(f"{v:.1f}" for v in values)


def report(result):
    single, burst, receiver = result["single"], result["burst"], result["receiver"]
    base, hook = receiver["rows"]
    ok = lambda flag: "OK" if flag else "MISSED"  # noqa: E731
    return "\n".join(
        [
            f"Instant updates (T-Bank oper-feed-operation via the sandbox): Odoo {result['workers']} workers + "
            f"{result['cron_workers']} cron; webhook sent → the salesperson's activity committed (invoice paid, deal)",
            f"  single events ({single['events']}, sequential): p50 {single['p50_s']:.3f} s  p99 "
            f"{single['p99_s']:.3f} s  max {single['max_s']:.3f} s  goal p99 < {GOAL_SINGLE_P99_S:.0f} s: "
            f"{ok(single['p99_s'] < GOAL_SINGLE_P99_S)}  (load {_load(single['load_average'])})",
            f"  burst ({burst['events']} transfers made in {burst['made_in_s']:.1f} s): per event p50 "
            f"{burst['p50_s']:.3f} s p99 {burst['p99_s']:.3f} s; drained in {burst['drained_s']:.1f} s = "
            f"{burst['rate']:.1f} events/s  (load {_load(burst['load_average'])})",
            f"  receiver at {result['workers']} clients: {hook['label']} {hook['throughput']:.1f} req/s p50 "
            f"{hook['p50']:.1f} ms p99 {hook['p99']:.1f} ms; {base['label']} {base['throughput']:.1f} req/s p99 "
            f"{base['p99']:.1f} ms; ratio {receiver['ratio']:.2f}; not 200: {hook['not_200']}; goal p99 < {GOAL_RECEIVER_P99_MS:.0f} ms: "
            f"{ok(hook['p99'] < GOAL_RECEIVER_P99_MS)}  (load {_load(receiver['load_average'])})",
            f"  checked: {result['checked']}",
        ]
    )
