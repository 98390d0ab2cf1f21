"""Statement sync: importing N operations through our pipeline (the bank sandbox's
T-Bank business API over HTTP, paging, dedupe, partners, matching, categories) vs
creating the same statement lines with one batch ORM `create` (the baseline), then
re-syncing the same period (nothing new: dedupe only). One run, one fresh database,
one Odoo process for all sides.

The sandbox's volume account is set to hold exactly N confirmed operations spread over
the last D days (D = N / 300, at least 7), so the number is explicit. Both sides create
the same lines (same field values, same Odoo `create`); the baseline runs with the
addon's own create hooks (categorisation by 5 rules, matching) switched off, so it is what Odoo
itself costs. A warm-up of 20 lines on a third account comes first (the first creations
of a process fill Odoo's caches). Also printed: the same baseline created in pages of
1,000 lines, like the sync creates them (Odoo's batch create costs a little more per line
as the batch grows, so this is the stricter comparison).

    python3 -m bench --only sync [--operations 20000]
    python3 -m bench.sync [--operations 20000] [--days D] [--keep]
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))
import harness  # noqa: E402

from bench import log_to_stderr  # noqa: E402
from bench.sandbox_statement import ACCOUNT, PER_DAY, start_with_statement, window_days  # noqa: E402

NAME = "sync"
DB = "bank_crm_bench_sync"
OPERATIONS = 20_000
PAGE = 1000  # const.SYNC_PAGE_SIZE
GOAL_FIRST_RATIO = 1.5
GOAL_RESYNC_RATIO = 0.2

SCRIPT = r"""
import json, time
from datetime import date
from odoo import fields
def log(*args):
    print('BENCH_LOG', *args, flush=True)
env['ir.config_parameter'].set_param('odoo_bank_crm.sync_backoff_seconds', '0')
connection = env['bank.connection'].create({{
    'name': 'Sandbox', 'provider_code': 'tbank_business', 'api_url': {api!r},
    'api_token': 'TBankSandboxToken', 'state': 'connected'}})
Journal = env['account.journal']
journal = Journal.create({{'name': 'Bench sync', 'type': 'bank', 'code': 'BSYNC',
    'bank_crm_connection_id': connection.id, 'bank_crm_bank_account_ref': {account!r}}})
baseline_journal = Journal.create({{'name': 'Bench baseline', 'type': 'bank', 'code': 'BBASE'}})
paged_journal = Journal.create({{'name': 'Bench baseline pages', 'type': 'bank', 'code': 'BPAGE'}})
warmup_journal = Journal.create({{'name': 'Bench warm-up', 'type': 'bank', 'code': 'BWARM'}})
Category = env['bank.crm.expense.category']
categories = {{name: Category.create({{'name': name}}).id for name in ("Аренда", "Зарплата", "Налоги", "Банк", "Прочее")}}
env['bank.crm.categorisation.rule'].create([
    {{'name': "Аренда", 'sequence': 1, 'direction': 'outbound', 'purpose_text': "аренд", 'category_id': categories["Аренда"]}},
    {{'name': "Зарплата", 'sequence': 2, 'purpose_match': 'regex', 'purpose_text': r"заработн\w+ плат|зарплат",
     'category_id': categories["Зарплата"]}},
    {{'name': "Налоги", 'sequence': 3, 'purpose_text': "налог", 'direction': 'outbound', 'category_id': categories["Налоги"]}},
    {{'name': "Комиссии", 'sequence': 4, 'purpose_text': "комисси", 'amount_max': 5000, 'category_id': categories["Банк"]}},
    {{'name': "Прочие расходы", 'sequence': 50, 'direction': 'outbound', 'category_id': categories["Прочее"]}},
])
Line = env['account.bank.statement.line']
Line.create([{{'journal_id': warmup_journal.id, 'date': '2020-01-%02d' % (i + 1), 'amount': (-1) ** i * (100 + i),
              'payment_ref': 'Прогрев %d' % i}} for i in range(20)])
env.cr.commit()
date_from, date_to = date.fromisoformat({date_from!r}), date.fromisoformat({date_to!r})

def measure(function):
    env.invalidate_all()
    started, queries = time.perf_counter(), env.cr.sql_log_count
    result = function()
    env.flush_all()
    env.cr.commit()
    return result, time.perf_counter() - started, env.cr.sql_log_count - queries

log('sync', date_from, date_to)
run, first, first_queries = measure(lambda: journal._bank_crm_sync(date_from=date_from, date_to=date_to))
log('sync done', first)
FIELDS = ['date', 'amount', 'payment_ref', 'partner_id', 'partner_name', 'account_number', 'bank_crm_operation_id',
          'bank_crm_fallback_key', 'bank_crm_counterparty_inn', 'bank_crm_counterparty_kpp',
          'bank_crm_counterparty_bic', 'bank_crm_document_number']
rows = Line.search_read([('journal_id', '=', journal.id)], FIELDS, order='id')
match_states = dict(Line._read_group([('journal_id', '=', journal.id)], ['bank_crm_match_state'], ['__count']))
categorised = Line.search_count([('journal_id', '=', journal.id), ('bank_crm_category_id', '!=', False)])
values = []
for row in rows:
    row.pop('id')
    row['partner_id'] = row['partner_id'] and row['partner_id'][0]
    values.append(row)
Plain = Line.with_context(bank_crm_no_matching=True, bank_crm_no_categorisation=True,
                         bank_crm_no_payer_recognition=True)  # Odoo alone

log('baseline: one create of', len(values))
_r, baseline, baseline_queries = measure(lambda: Plain.create([dict(v, journal_id=baseline_journal.id) for v in values]))
log('baseline done', baseline)
def paged():
    for start in range(0, len(values), {page}):
        Plain.create([dict(v, journal_id=paged_journal.id) for v in values[start:start + {page}]])
        env.cr.commit()
_r, paged_seconds, paged_queries = measure(paged)
log('paged baseline done', paged_seconds)
again, resync, resync_queries = measure(lambda: journal._bank_crm_sync(date_from=date_from, date_to=date_to))
counts = {{j.code: Line.search_count([('journal_id', '=', j.id)]) for j in (journal, baseline_journal, paged_journal)}}
print('BENCH_JSON ' + json.dumps({{'count': len(rows), 'fetched': run.fetched_count, 'created': run.created_count,
    'skipped': run.skipped_count, 'state': run.state, 'first': first, 'first_queries': first_queries,
    'baseline': baseline, 'baseline_queries': baseline_queries, 'paged': paged_seconds, 'paged_queries': paged_queries,
    'resync': resync, 'resync_queries': resync_queries, 'resync_fetched': again.fetched_count,
    'resync_created': again.created_count, 'resync_skipped': again.skipped_count, 'lines_per_journal': counts,
    'match_states': {{str(k): v for k, v in match_states.items()}}, 'categorised': categorised,
    'date_from': str(date_from), 'date_to': str(date_to)}}), flush=True)
"""


def run(operations=OPERATIONS, days=None, keep=False, log=log_to_stderr):
    days = window_days(operations, days)
    stack = harness.Stack()
    log(f"[{NAME}] fresh database with the addon...")
    (harness.LOGS / "bench-sync.log").unlink(missing_ok=True)  # figures are read back from it
    db = stack.db_with_addon(DB, "bench-sync.log")
    sandbox, port, date_from, today, account = start_with_statement("bench-sync", operations, days)
    try:
        log(f"[{NAME}] sandbox account: {account.get('generated')} operations {account.get('generated_period')}")
        log(f"[{NAME}] syncing {operations} operations over {days} days, then the baselines and the re-sync...")
        script = SCRIPT.format(
            api=f"http://127.0.0.1:{port}/openapi/api",
            account=ACCOUNT,
            page=PAGE,
            date_from=date_from.isoformat(),
            date_to=today.isoformat(),
        )
        started = time.perf_counter()
        stack.odoo(["-d", db, "--no-http"], "bench-sync.log", command="shell", stdin=script)
        output = (harness.LOGS / "bench-sync.log").read_text(errors="replace")
        figures = json.loads(output.rsplit("BENCH_JSON ", 1)[1].splitlines()[0])
        figures["wall"] = time.perf_counter() - started
    finally:
        harness.stop(sandbox)
        if not keep:
            harness.odoo_db.drop(stack.port, db, stack.cluster)
    figures["operations"], figures["days"] = operations, days
    figures["first_ratio"] = figures["first"] / figures["baseline"]
    figures["paged_ratio"] = figures["first"] / figures["paged"]
    figures["resync_ratio"] = figures["resync"] / figures["first"]
    return figures


def report(f):
    count = f["count"]

    def goal(ratio, limit):
        return f"goal <= {limit}: {'met' if ratio <= limit else 'NOT met'}"

    return "\n".join(
        [
            f"Statement sync of {count} operations over {f['days']} days ({f['date_from']}..{f['date_to']}; "
            f"T-Bank business API of the sandbox, pages of {PAGE}); one Odoo process, 2-core machine shared with other work",
            f"  {'':44} {'seconds':>8} {'lines/s':>8} {'ms/line':>8} {'queries':>8} {'q/line':>7}",
            *(
                f"  {label:44} {seconds:8.1f} {count / seconds:8.0f} {1000 * seconds / count:8.1f} {queries:8d} "
                f"{queries / count:7.2f}"
                for label, seconds, queries in [
                    ("our sync (HTTP, dedupe, partners, match, cat.)", f["first"], f["first_queries"]),
                    ("baseline: one batch ORM create", f["baseline"], f["baseline_queries"]),
                    (f"baseline in creates of {PAGE} (as the sync)", f["paged"], f["paged_queries"]),
                ]
            ),
            f"  ratio sync / one batch create  {f['first_ratio']:.2f}  ({goal(f['first_ratio'], GOAL_FIRST_RATIO)})",
            f"  ratio sync / creates of {PAGE}   {f['paged_ratio']:.2f}",
            f"  sync: fetched {f['fetched']}, created {f['created']}, skipped {f['skipped']}, state {f['state']}; "
            f"matching states {f['match_states']}, categorised {f['categorised']}",
            f"  re-sync of the same period: {f['resync']:.1f} s, {f['resync_queries']} queries, fetched "
            f"{f['resync_fetched']}, {f['resync_created']} created, {f['resync_skipped']} skipped",
            f"  ratio re-sync / first sync {f['resync_ratio']:.3f}  ({goal(f['resync_ratio'], GOAL_RESYNC_RATIO)})",
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m bench.sync", description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=OPERATIONS, help=f"operations to import ({OPERATIONS})")
    parser.add_argument("--days", type=int, help=f"days they span (default operations / {PER_DAY}, at least 7)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    figures = run(args.operations, args.days, keep=args.keep)
    print(report(figures))
    return figures


if __name__ == "__main__":
    main()
