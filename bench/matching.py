"""Matching incoming transfers inside Odoo: 10,000 incoming statement lines against
10,000 open customer invoices, through the addon's matching entry point
(`account.bank.statement.line._bank_crm_match`, what the sync calls for new incoming lines).

The data is the generated set of the engine's test (tests/bank_api/test_matching.py,
`World`): 2,500 customers (INN on file for 85 %, accounts for 60 %), invoices INV/… and
SRV/… of 2025 and 2026 of which 10,000 are open, and incoming lines paying them as people
write it (full numbers, "№ 12 от 01.02.2026", Cyrillic look-alikes, partial payments,
several invoices in one transfer), look-alike numbers with the same amounts, acquiring
payouts and noise, each with the truth. Invoices closed in the generated set are not
created (their numbers name nothing open, as for the engine); an invoice the set has
partly paid is created for its amount due.

One run on a fresh database with the addon (no demo data, so the invoice numbers are
free). Setup, not measured: the customers and their bank accounts, the 10,000 invoices
(created and posted through the ORM in batches of 500), the 10,000 statement lines (ORM,
batches of 1,000, the addon's hooks off, partners recognised as the sync does; this
creation is timed as the import of the same lines, for the comparison; as in the sync, a
payer not known by INN or account but named by the invoice the purpose surely pays is
recognised at import, so the line is born with it). Measured, cache
emptied first: `_bank_crm_match` on the first 1,000 lines (then rolled back), then on all
10,000, with the SQL queries of each, split into the matching itself (reading the open
invoices and partners, scoring, proposals, states) and the reconciliation of the sure
matches (Odoo's reconciliation, one journal entry each). Checked against the truth:
automatic matches, wrong automatic matches (goal: 0), payouts, proposals.

    python3 -m bench --only matching
    python3 -m bench.matching [--lines 10000] [--small 1000] [--keep]
"""

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT / "tools", ROOT / "odoo_bank_crm"):  # the harness; bank_api as a plain package
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
import harness  # noqa: E402

from bench import log_to_stderr  # noqa: E402

NAME = "matching"
DB = "bank_crm_bench_matching"
LINES, SMALL = 10_000, 1_000

# Runs inside `odoo shell` (`env` given); assigns `result`.
SCRIPT = r"""
import json, time
from types import SimpleNamespace
from odoo import Command

def log(*args):
    print('BENCH_LOG', *args, flush=True)

data = json.load(open(__DATA__))
SMALL = __SMALL__
cr = env.cr
company = env.company
started = time.perf_counter()

# --- customers, their accounts ------------------------------------------------------------- #
ru = env.ref('base.ru')
Partner = env['res.partner'].with_context(no_vat_validation=True)
partners = Partner.create([{
    'name': p['name'], 'is_company': True, 'country_id': ru.id, 'vat': p['inn'] if p['inn_on_file'] else False,
} for p in data['partners']])
partner_of = {p['id']: partner.id for p, partner in zip(data['partners'], partners)}
env['res.partner.bank'].create([{'partner_id': partner_of[p['id']], 'acc_number': account}
                                for p in data['partners'] if p['accounts_on_file'] for account in p['accounts']])
cr.commit()
log('partners', len(partners), time.perf_counter() - started)

# --- open invoices ---------------------------------------------------------------------------- #
Journal = env['account.journal']
journals = {}
for prefix in ('INV', 'SRV'):
    journal = Journal.search([('company_id', '=', company.id), ('type', '=', 'sale'), ('code', '=', prefix)], limit=1)
    journals[prefix] = journal or Journal.create({
        'name': f"Bench {prefix}", 'type': 'sale', 'code': prefix,
        'default_account_id': journals['INV'].default_account_id.id})  # the income account of the invoices' lines
assert all(journal.default_account_id for journal in journals.values())
Move = env['account.move']
invoice_of = {}
rows = data['invoices']
invoice_seconds = time.perf_counter()
for start in range(0, len(rows), 500):
    chunk = rows[start:start + 500]
    moves = Move.create([{
        'move_type': 'out_invoice', 'journal_id': journals[r['prefix']].id, 'name': r['number'],
        'partner_id': partner_of[r['partner']], 'invoice_date': r['date'], 'date': r['date'],
        'invoice_date_due': r['due'],
        'invoice_line_ids': [Command.create({'name': "Услуги", 'quantity': 1, 'price_unit': float(r['residual']),
                                             'tax_ids': [Command.clear()]})],
    } for r in chunk])
    moves.action_post()
    cr.commit()
    for r, move in zip(chunk, moves):
        invoice_of[r['id']] = move.id
    env.invalidate_all()
    log('invoices', start + len(chunk), time.perf_counter() - invoice_seconds)
invoice_seconds = time.perf_counter() - invoice_seconds
check = Move.browse(list(invoice_of.values()))
bad = [(r['number'], m.name, m.amount_residual, r['residual']) for r, m in zip(rows, check)
       if m.name != r['number'] or m.state != 'posted' or abs(m.amount_residual - float(r['residual'])) > 0.001]
assert not bad, bad[:5]
open_count = Move.search_count([('company_id', '=', company.id), ('move_type', '=', 'out_invoice'),
                                ('state', '=', 'posted'), ('payment_state', 'in', ('not_paid', 'partial'))])
env.invalidate_all()

# --- incoming statement lines (payers recognised as the sync does) --------------------------- #
bank = Journal.create({'name': "Bench matching", 'type': 'bank', 'code': 'BMTCH'})
operations = [SimpleNamespace(counterparty_inn=l['inn'], counterparty_account=l['account']) for l in data['lines']]
found = env['res.partner']._bank_crm_find_counterparties(operations, company)
Line = env['account.bank.statement.line']
Plain = Line.with_context(bank_crm_no_matching=True, bank_crm_no_categorisation=True)
line_ids = []
import_seconds, import_queries = time.perf_counter(), cr.sql_log_count
for start in range(0, len(data['lines']), 1000):
    values = []
    for l in data['lines'][start:start + 1000]:
        partner = found.get(('account', l['account'])) or found.get(('inn', l['inn']))
        values.append({'journal_id': bank.id, 'date': l['date'], 'amount': float(l['amount']),
                       'payment_ref': l['purpose'], 'partner_name': l['name'] or False,
                       'account_number': l['account'] or False, 'bank_crm_counterparty_inn': l['inn'] or False,
                       'partner_id': partner.id if partner else False})
    line_ids += Plain.create(values).ids
    env.flush_all()
    cr.commit()
    log('lines', len(line_ids), time.perf_counter() - import_seconds)
import_seconds, import_queries = time.perf_counter() - import_seconds, cr.sql_log_count - import_queries
cr.execute("ANALYZE")
cr.commit()
setup_seconds = time.perf_counter() - started

# --- measured: the matching entry point ------------------------------------------------------- #
Model = type(Line)
original = Model._bank_crm_reconcile_batch  # the sure matches go through it (one by one or together)
reconciled = {}
inside = {'seconds': 0.0, 'queries': 0, 'calls': 0}
def counted_reconcile(self, items):
    t, q = time.perf_counter(), self.env.cr.sql_log_count
    try:
        failed = original(self, items)
        self.env.cr.flush()  # Odoo's bookkeeping of the reconciliation (and its chatter), counted here
        for line, allocations in items:
            if line not in failed:
                reconciled[line.id] = [(invoice.id, round(amount, 2)) for invoice, amount in allocations]
                inside['calls'] += 1
        return failed
    finally:
        inside['seconds'] += time.perf_counter() - t
        inside['queries'] += self.env.cr.sql_log_count - q
Model._bank_crm_reconcile_batch = counted_reconcile

line_index = {line_id: i for i, line_id in enumerate(line_ids)}
wanted_of = {invoice_of[k]: k for k in invoice_of}

def judge(ids):
    env.invalidate_all()
    lines = Line.browse(ids)
    states = {}
    for line in lines:
        states[line.bank_crm_match_state or 'none'] = states.get(line.bank_crm_match_state or 'none', 0) + 1
    wrong, wrong_examples, auto_by_category, payout_wrong = 0, [], {}, 0
    for line in lines:
        i = line_index[line.id]
        truth, category = data['truth'][i], data['category'][i]
        if line.bank_crm_match_state == 'payout':
            if not truth or truth[0] != 'payout':
                payout_wrong += 1
            elif (truth[1] is not None and abs(line.bank_crm_acquiring_fee - float(truth[1])) > 0.001) or \
                    (truth[1] is None and line.bank_crm_acquiring_fee):
                payout_wrong += 1
            continue
        if truth and truth[0] == 'payout':
            payout_wrong += 1
        if line.id in reconciled:
            auto_by_category[category] = auto_by_category.get(category, 0) + 1
            got = {(wanted_of[invoice_id], amount) for invoice_id, amount in reconciled[line.id]}
            want = {(invoice_id, round(float(amount), 2)) for invoice_id, amount in truth[1]} \
                if truth and truth[0] == 'invoice' else None
            if got != want:
                wrong += 1
                if len(wrong_examples) < 5:
                    wrong_examples.append([category, line.payment_ref, line.amount, sorted(got), truth])
    proposals = env['bank.crm.match.proposal'].search_count([('statement_line_id', 'in', ids)])
    return {'states': states, 'automatic': len([i for i in ids if i in reconciled]), 'wrong': wrong,
            'wrong_examples': wrong_examples, 'payout_wrong': payout_wrong, 'proposals': proposals,
            'auto_by_category': auto_by_category}

# the statements by kind: reads (SELECT) apart from the writes (INSERT, UPDATE, DELETE, each of a
# batch of rows: Odoo inserts 100 rows a statement) and the rest (savepoints...)
kinds = {}
execute = cr.execute
def counted_execute(query, params=None, log_exceptions=True):
    text = query.code if hasattr(query, 'code') else str(query)
    word = text.lstrip(' (\n').split(None, 1)[0].upper() if text.strip() else '?'
    kind = 'read' if word in ('SELECT', 'WITH') else 'write' if word in ('INSERT', 'UPDATE', 'DELETE') else 'other'
    kinds[kind] = kinds.get(kind, 0) + 1
    return execute(query, params, log_exceptions)
cr.execute = counted_execute

def measure(ids):
    reconciled.clear()
    inside.update(seconds=0.0, queries=0, calls=0)
    env.invalidate_all()
    env.registry.clear_cache()
    kinds.clear()
    t, q = time.perf_counter(), cr.sql_log_count
    Line.browse(ids)._bank_crm_match()
    env.flush_all()
    seconds, queries = time.perf_counter() - t, cr.sql_log_count - q
    figures = {'lines': len(ids), 'seconds': seconds, 'queries': queries, 'reconcile_seconds': inside['seconds'],
               'reconcile_queries': inside['queries'], 'reconcile_calls': inside['calls'], 'kinds': dict(kinds)}
    figures.update(judge(ids))
    log('matched', len(ids), seconds, queries)
    return figures

small = measure(line_ids[:SMALL])
cr.rollback()
env.invalidate_all()
full = measure(line_ids)
cr.commit()
result = {'setup_seconds': setup_seconds, 'invoice_seconds': invoice_seconds, 'invoices': len(invoice_of),
          'open_invoices': open_count, 'import_seconds': import_seconds, 'import_queries': import_queries,
          'small': small, 'full': full, 'partners': len(partners)}
"""


def _world(lines):
    """The engine test's generated set (partners, invoices, lines and the truth) as JSON-able data."""
    spec = importlib.util.spec_from_file_location(
        "bench_matching_world", ROOT / "tests" / "bank_api" / "test_matching.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    world = module.World(n_lines=lines)
    invoices = [
        {
            'id': r['id'],
            'number': r['number'],
            'prefix': r['prefix'],
            'residual': str(r['residual']),
            'partner': r['partner']['id'],
            'date': r['date'].isoformat(),
            'due': (r['date'] + module.dt.timedelta(days=10)).isoformat(),
        }
        for r in sorted(world.open.values(), key=lambda r: r['id'])
    ]
    partners = [
        {
            'id': p['id'],
            'name': p['name'],
            'inn': p['inn'],
            'accounts': p['accounts'],
            'inn_on_file': p['inn_on_file'],
            'accounts_on_file': p['accounts_on_file'],
        }
        for p in world.partners
    ]
    lines = [
        {
            'purpose': l.purpose,
            'amount': str(l.amount),
            'inn': l.payer_inn,
            'account': l.payer_account,
            'name': l.payer_name,
            'date': l.date.isoformat(),
        }
        for l in world.lines
    ]

    def truth(t):
        if t is None:
            return None
        if t[0] == 'payout':
            return ['payout', None if t[1] is None else str(t[1])]
        return ['invoice', sorted([invoice_id, str(amount)] for invoice_id, amount in t[1])]

    return {
        'partners': partners,
        'invoices': invoices,
        'lines': lines,
        'truth': [truth(t) for t in world.truth],
        'category': world.category,
    }


def run(lines=LINES, small=SMALL, keep=False, log=log_to_stderr, import_reference=None):
    """:param import_reference: (seconds, lines) of the sync bench's import in the same run, if any"""
    data = _world(lines)
    log(f"[{NAME}] generated set: {len(data['invoices'])} open invoices, {len(data['lines'])} incoming lines")
    stack = harness.Stack(demo=False)
    log(f"[{NAME}] fresh database with the addon (no demo data)...")
    (harness.LOGS / "bench-matching.log").unlink(missing_ok=True)
    db = stack.db_with_addon(DB, "bench-matching.log")
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(data, handle)
        log(
            f"[{NAME}] creating the customers, {len(data['invoices'])} invoices and {len(data['lines'])} lines, "
            f"then matching {small} and {len(data['lines'])} lines (progress in .state/logs/bench-matching.log)..."
        )
        script = SCRIPT.replace("__DATA__", repr(handle.name)).replace("__SMALL__", str(small))
        started = time.perf_counter()
        figures = harness.odoo_shell_json(stack, db, script, "bench-matching.log")
        figures["wall"] = time.perf_counter() - started
    finally:
        Path(handle.name).unlink(missing_ok=True)
        if not keep:
            harness.odoo_db.drop(stack.port, db, stack.cluster)
    figures["import_reference"] = import_reference
    return figures


def report(f):
    small, full = f["small"], f["full"]

    def row(label, m):
        match_s = m["seconds"] - m["reconcile_seconds"]
        match_q = m["queries"] - m["reconcile_queries"]
        return (
            f"  {label:34} {m['lines']:7d} {m['seconds']:9.1f} {m['queries']:8d} {match_s:9.1f} {match_q:8d} "
            f"{m['reconcile_calls']:7d} {m['reconcile_seconds']:9.1f} {m['reconcile_queries']:8d}"
        )

    def q_per(m):
        return m["queries"] - m["reconcile_queries"]

    lines = [
        f"Matching incoming lines against {f['open_invoices']} open invoices inside Odoo "
        f"(_bank_crm_match, the sync's entry point); one Odoo process, 2-core machine shared with other work",
        f"  setup (not measured): {f['partners']} customers, {f['invoices']} invoices created and posted in "
        f"{f['invoice_seconds']:.0f} s, {full['lines']} statement lines imported in {f['import_seconds']:.1f} s",
        f"  {'':34} {'lines':>7} {'seconds':>9} {'queries':>8} {'match s':>9} {'match q':>8} "
        f"{'reconc.':>7} {'reconc. s':>9} {'reconc. q':>8}",
        row(f"first {small['lines']} lines (rolled back)", small),
        row(f"all {full['lines']} lines", full),
        "  (match = reading invoices/partners, scoring, proposals, states; reconc. = the reconciliation of "
        "the sure matches, `_bank_crm_reconcile_batch`)",
        f"  queries of the matching itself: {q_per(small)} for {small['lines']} lines, {q_per(full)} for "
        f"{full['lines']} lines (x{q_per(full) / max(q_per(small), 1):.2f} for x{full['lines'] / small['lines']:.0f} "
        f"lines); per reconciled line: {full['reconcile_queries'] / max(full['reconcile_calls'], 1):.1f} queries, "
        f"{1000 * full['reconcile_seconds'] / max(full['reconcile_calls'], 1):.0f} ms",
        f"  all queries: {small['queries']} for {small['lines']} lines, {full['queries']} for {full['lines']} lines "
        f"(x{full['queries'] / max(small['queries'], 1):.2f} for x{full['lines'] / small['lines']:.0f} lines; "
        f"{1000 * full['queries'] / full['lines']:.0f} per 1,000 lines: Odoo writes a batch create in INSERTs of "
        f"100 rows and reads in batches of 1,000)",
        f"  by kind: reads (SELECT) {small['kinds'].get('read', 0)} -> {full['kinds'].get('read', 0)}, writes "
        f"(INSERT/UPDATE/DELETE statements of batches) {small['kinds'].get('write', 0)} -> "
        f"{full['kinds'].get('write', 0)}, other (savepoints...) {small['kinds'].get('other', 0)} -> "
        f"{full['kinds'].get('other', 0)}",
    ]
    for label, m in (("first", small), ("all", full)):
        lines.append(
            f"  {label} {m['lines']}: automatic matches {m['automatic']}, WRONG automatic matches {m['wrong']}"
            f" (goal 0: {'met' if m['wrong'] == 0 else 'NOT met'}), payouts misjudged {m['payout_wrong']}, "
            f"lines with proposals {m['states'].get('proposed', 0)} ({m['proposals']} proposals), "
            f"to match {m['states'].get('to_match', 0)}, payouts {m['states'].get('payout', 0)}"
        )
        if m["wrong_examples"]:
            lines.append(f"    e.g. {m['wrong_examples'][:3]}")
    ratio = full["seconds"] / f["import_seconds"]
    lines.append(
        f"  matching {full['lines']} lines {full['seconds']:.1f} s vs importing the same {full['lines']} "
        f"lines (ORM create, hooks off) {f['import_seconds']:.1f} s: ratio {ratio:.2f} "
        f"(goal < 1: {'met' if ratio < 1 else 'NOT met'})"
    )
    if f.get("import_reference"):
        seconds, count = f["import_reference"]
        scaled = seconds * full["lines"] / count
        lines.append(
            f"  vs the sync bench's import of {count} operations in this run ({seconds:.1f} s, "
            f"{scaled:.1f} s for {full['lines']}): ratio {full['seconds'] / scaled:.2f}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m bench.matching", description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=LINES, help=f"incoming lines ({LINES})")
    parser.add_argument("--small", type=int, default=SMALL, help=f"the smaller batch measured first ({SMALL})")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    figures = run(args.lines, args.small, keep=args.keep)
    print(report(figures))
    return figures


if __name__ == "__main__":
    main()
