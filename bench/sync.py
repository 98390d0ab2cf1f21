"""Statement sync: importing N operations through our pipeline (the bank sandbox's
T-Bank business API over HTTP, paging, dedupe, partners, matching, categories) vs
creating the same statement lines with one batch ORM `create` (the baseline), then
re-syncing the same period (nothing new: dedupe only). One run, one fresh database.
"""
import json
import sys
import time

import harness

NAME = "sync"
DB = "bank_crm_bench_sync"
ACCOUNT = "40702810910000000099"  # the sandbox's generated account (100,000 operations over a year)
GOAL_FIRST_RATIO = 1.5
GOAL_RESYNC_RATIO = 0.2

SCRIPT = """
import json, time
from datetime import timedelta
from odoo import fields
env['ir.config_parameter'].set_param('odoo_bank_crm.sync_backoff_seconds', '0')
connection = env['bank.connection'].create({{
    'name': 'Sandbox', 'provider_code': 'tbank_business', 'api_url': {api!r},
    'api_token': 'TBankSandboxToken', 'state': 'connected'}})
journal = env['account.journal'].create({{'name': 'Bench sync', 'type': 'bank', 'code': 'BSYNC',
    'bank_crm_connection_id': connection.id, 'bank_crm_bank_account_ref': {account!r}}})
baseline_journal = env['account.journal'].create({{'name': 'Bench baseline', 'type': 'bank', 'code': 'BBASE'}})
env.cr.commit()
date_to = fields.Date.today()
date_from = date_to - timedelta(days={days})
Line = env['account.bank.statement.line']

started = time.perf_counter(); queries = env.cr.sql_log_count
run = journal._bank_crm_sync(date_from=date_from, date_to=date_to)
env.cr.commit()
first = time.perf_counter() - started
lines = Line.search([('journal_id', '=', journal.id)])
count = len(lines)

values = [{{'journal_id': baseline_journal.id, 'date': l.date, 'amount': l.amount, 'payment_ref': l.payment_ref,
           'partner_name': l.partner_name, 'account_number': l.account_number}} for l in lines]
env.invalidate_all()
started = time.perf_counter()
Line.with_context(bank_crm_no_matching=True).create(values)
env.cr.commit()
baseline = time.perf_counter() - started

started = time.perf_counter()
again = journal._bank_crm_sync(date_from=date_from, date_to=date_to)
env.cr.commit()
resync = time.perf_counter() - started
print('BENCH_JSON ' + json.dumps({{'count': count, 'fetched': run.fetched_count, 'created': run.created_count,
    'first': first, 'baseline': baseline, 'resync': resync, 'resync_created': again.created_count,
    'resync_skipped': again.skipped_count, 'state': run.state}}))
"""


def run(days=7, keep=False, log=print):
    stack = harness.Stack()
    log(f"[{NAME}] fresh database with the addon...")
    db = stack.db_with_addon(DB, "bench-sync.log")
    port = harness.free_port()
    state = harness.ROOT / ".state" / "sandbox-bench-sync"
    sandbox = harness.start_sandbox(port, state, "bench-sync-sandbox.log")
    try:
        log(f"[{NAME}] syncing {days} days of the sandbox's generated account...")
        script = SCRIPT.format(api=f"http://127.0.0.1:{port}/openapi/api", account=ACCOUNT, days=days)
        result = stack.odoo(["-d", db, "--no-http"], "bench-sync.log", command="shell", stdin=script)
        del result
        output = (harness.LOGS / "bench-sync.log").read_text(errors="replace")
        figures = json.loads(output.rsplit("BENCH_JSON ", 1)[1].splitlines()[0])
    finally:
        harness.stop(sandbox)
        if not keep:
            harness.odoo_db.drop(stack.port, db, stack.cluster)
    figures["first_ratio"] = figures["first"] / figures["baseline"]
    figures["resync_ratio"] = figures["resync"] / figures["first"]
    return figures


def report(f):
    return "\n".join([
        f"Statement sync of {f['count']} operations (T-Bank business API of the sandbox, pages of 1000)",
        f"  our sync (HTTP, dedupe, partners, matching, categories): {f['first']:.1f} s ({f['count'] / f['first']:.0f} lines/s)",
        f"  baseline: one batch ORM create of the same lines:        {f['baseline']:.1f} s",
        f"  ratio {f['first_ratio']:.2f}  (goal <= {GOAL_FIRST_RATIO}: {'met' if f['first_ratio'] <= GOAL_FIRST_RATIO else 'NOT met'})",
        f"  re-sync of the same period: {f['resync']:.1f} s, {f['resync_created']} created, {f['resync_skipped']} skipped",
        f"  ratio to the first sync {f['resync_ratio']:.2f}  (goal <= {GOAL_RESYNC_RATIO}: "
        f"{'met' if f['resync_ratio'] <= GOAL_RESYNC_RATIO else 'NOT met'})",
    ])


if __name__ == "__main__":
    figures = run(log=lambda line: print(line, file=sys.stderr, flush=True))
    print(report(figures))
