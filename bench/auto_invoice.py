"""Stage-triggered invoices: what an auto-invoice rule adds to moving deals into its stage.

One run on a fresh database with the addon and its demo data. For each batch size (250
and 1,000 deals by default) the same deals are moved in one `write` into a stage without
rule (the baseline), then into the stage of a rule that invoices every one of them and
sends the invoice (payment link in the customer portal, so no bank is called). The rule
posts the invoices during the write and queues their emails for its sending job; that job
is then timed on a sample, as it runs after the stage change.

Printed: time of each move, their ratio, SQL queries per deal (`env.cr.sql_log_count`) for
the baseline and with the rule, and what the rule adds per deal. Goal: invoicing adds a
bounded number of queries per deal, the same for 250 deals as for 1,000.

    python3 -m bench --only auto_invoice
    python3 -m bench.auto_invoice [--sizes 250,1000] [--send-sample 20] [--keep]
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "tools") not in sys.path:
    sys.path.insert(0, str(ROOT / "tools"))
import harness  # noqa: E402

from bench import log_to_stderr  # noqa: E402

NAME = "auto_invoice"
DB = "bank_crm_bench_auto_invoice"
# Queries per deal may differ by this much between batch sizes and still count as "the same".
TOLERANCE = 0.05

# Runs inside `odoo shell` (`env` given); assigns `result`.
SCRIPT = r"""
import time
from odoo import Command

SIZES, SEND_SAMPLE, BUILDER_SAMPLE = __SIZES__, __SEND_SAMPLE__, 50
env = env(user=env.ref('base.user_admin'))
company = env.company
company.write({'bank_crm_payment_link_kind': 'portal', 'email': company.email or 'bench@example.com'})
Stage = env['crm.stage']
stage_new = Stage.create({'name': "Bench: New", 'sequence': 100})
stage_plain = Stage.create({'name': "Bench: Negotiation (no rule)", 'sequence': 101})
stage_rule = Stage.create({'name': "Bench: Contract Signed (rule)", 'sequence': 102})
partners = env['res.partner'].create([
    {'name': f"Bench customer {i}", 'email': f"customer{i}@example.com", 'city': "Москва",
     'country_id': env.ref('base.ru').id} for i in range(50)])
rule = env['bank.crm.auto.invoice.rule'].create({
    'name': "Bench prepayment", 'stage_id': stage_rule.id, 'invoice_mode': 'amount',
    'invoice_basis': "Предоплата по договору", 'send_mode': 'send', 'payment_link_kind': 'portal',
    'min_expected_revenue': 1, 'partner_country_ids': [Command.set(env.ref('base.ru').ids)],
})
Firing = env['bank.crm.auto.invoice.firing']
env.cr.commit()

def make_leads(count, tag):
    return env['crm.lead'].create([{
        'name': f"Bench deal {tag}-{i}", 'type': 'opportunity', 'partner_id': partners[i % len(partners)].id,
        'expected_revenue': 1000 + i, 'stage_id': stage_new.id, 'user_id': env.user.id,
    } for i in range(count)])

def measure(function):
    env.flush_all()
    env.invalidate_all()
    queries, start = env.cr.sql_log_count, time.perf_counter()
    function()
    env.flush_all()
    return time.perf_counter() - start, env.cr.sql_log_count - queries

def move(leads, stage):
    return measure(lambda: leads.write({'stage_id': stage.id}))

def send(count):
    return measure(lambda: Firing._cron_bank_crm_send_invoices(limit=count))

# warm-up: first invoice, first email, caches
warm = make_leads(3, 'warm')
move(warm, stage_plain)
move(warm, stage_rule)
send(3)
env.cr.commit()

# reference: the invoice builder alone, one savepoint per invoice, no automation
builder_leads = make_leads(BUILDER_SAMPLE, 'builder')
env.cr.commit()

def issue_directly():
    for lead in builder_leads:
        with env.cr.savepoint():
            env['account.move']._bank_crm_create_invoice({
                'partner': lead.partner_id, 'lead': lead, 'mode': 'amount', 'amount': lead.expected_revenue,
                'description': "Предоплата по договору"})

builder_time, builder_queries = measure(issue_directly)
env.cr.commit()
result = {'rows': [], 'builder': {'invoices': BUILDER_SAMPLE, 's': builder_time, 'queries': builder_queries}}
for size in SIZES:
    leads = make_leads(size, size)
    env.cr.commit()
    base_time, base_queries = move(leads, stage_plain)
    rule_time, rule_queries = move(leads, stage_rule)
    invoices = env['account.move'].search([('bank_crm_lead_id', 'in', leads.ids), ('state', '=', 'posted')])
    queued = Firing.search_count([('lead_id', 'in', leads.ids), ('send_state', '=', 'to_send')])
    env.cr.commit()
    sample = min(SEND_SAMPLE, queued)
    send_time, send_queries = send(sample) if sample else (0.0, 0)
    sent = Firing.search_count([('lead_id', 'in', leads.ids), ('send_state', '=', 'sent')])
    result['rows'].append({
        'deals': size, 'invoices': len(invoices), 'queued': queued,
        'baseline_s': base_time, 'rule_s': rule_time,
        'baseline_queries': base_queries, 'rule_queries': rule_queries,
        'send_sample': sample, 'sent': sent, 'send_s': send_time, 'send_queries': send_queries,
    })
    Firing.search([('lead_id', 'in', leads.ids), ('send_state', '=', 'to_send')]).send_state = 'review'
    env.cr.commit()
"""


def run(sizes=(250, 1000), send_sample=20, keep=False, log=log_to_stderr, out=sys.stdout, **_options):
    """Run the benchmark on a fresh database, print its report to `out` (None: do not
    print) and return the figures."""
    stack = harness.Stack()
    log(f"{NAME}: fresh database {DB} with the addon")
    stack.db_with_addon(DB, "bench-auto-invoice-install.log")
    try:
        log(f"{NAME}: moving {', '.join(map(str, sizes))} deals (log: .state/logs/bench-auto-invoice.log)")
        script = SCRIPT.replace("__SIZES__", repr(tuple(sizes))).replace("__SEND_SAMPLE__", repr(send_sample))
        result = harness.odoo_shell_json(stack, DB, script, "bench-auto-invoice.log")
    finally:
        if not keep:
            harness.odoo_db.drop(stack.port, DB, stack.cluster)
    rows = result["rows"]
    for row in rows:
        n = row["deals"]
        row["ratio"] = row["rule_s"] / row["baseline_s"] if row["baseline_s"] else float("inf")
        row["baseline_queries_per_deal"] = row["baseline_queries"] / n
        row["rule_queries_per_deal"] = row["rule_queries"] / n
        row["added_queries_per_deal"] = (row["rule_queries"] - row["baseline_queries"]) / n
        row["added_ms_per_deal"] = 1000 * (row["rule_s"] - row["baseline_s"]) / n
        sample = row["send_sample"]
        row["send_s_per_invoice"] = row["send_s"] / sample if sample else None
        row["send_queries_per_invoice"] = row["send_queries"] / sample if sample else None
    builder = result["builder"]
    builder["ms_per_invoice"] = 1000 * builder["s"] / builder["invoices"]
    builder["queries_per_invoice"] = builder["queries"] / builder["invoices"]
    added = [row["added_queries_per_deal"] for row in rows]
    bounded = max(added) - min(added) <= max(1.0, TOLERANCE * max(added))
    complete = all(row["invoices"] == row["deals"] == row["queued"] for row in rows)
    result = {
        "name": NAME,
        "rows": rows,
        "builder": builder,
        "goals": {"bounded_queries": bounded, "every_deal_invoiced": complete},
    }
    if out is not None:
        print(report(result), file=out, flush=True)
    return result


def report(result):
    rows = result["rows"]
    lines = [
        "Auto-invoice rule: one write moves N deals into its stage; baseline: the same deals into a stage without rule",
        f"  {'deals':>6} {'invoices':>8} {'baseline':>9} {'rule':>9} {'ratio':>6} {'base q/deal':>11} "
        f"{'rule q/deal':>11} {'added q/deal':>12} {'added ms/deal':>13}",
    ]
    for row in rows:
        lines.append(
            f"  {row['deals']:>6} {row['invoices']:>8} {row['baseline_s']:>8.2f}s {row['rule_s']:>8.2f}s "
            f"{row['ratio']:>6.1f} {row['baseline_queries_per_deal']:>11.1f} "
            f"{row['rule_queries_per_deal']:>11.1f} {row['added_queries_per_deal']:>12.1f} "
            f"{row['added_ms_per_deal']:>13.1f}"
        )
    builder = result["builder"]
    lines.append(
        f"  of which the invoice itself (`_bank_crm_create_invoice` alone, {builder['invoices']} invoices): "
        f"{builder['queries_per_invoice']:.1f} queries and {builder['ms_per_invoice']:.1f} ms each"
    )
    for row in rows:
        if row["send_sample"]:
            lines.append(
                f"  sending job after the {row['deals']}-deal move: {row['send_sample']} invoices emailed, "
                f"{row['send_s_per_invoice']:.2f} s and {row['send_queries_per_invoice']:.0f} queries each "
                f"(invoice PDF, payment link, email)"
            )
    added = [f"{row['added_queries_per_deal']:.1f}" for row in rows]
    goals = result["goals"]
    lines.append(
        f"  goal: queries added per deal independent of the batch ({' vs '.join(added)}): "
        f"{'met' if goals['bounded_queries'] else 'NOT met'}"
    )
    lines.append(f"  every deal invoiced and queued for sending: {'yes' if goals['every_deal_invoiced'] else 'NO'}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,1000", help="batch sizes, comma-separated (250,1000)")
    parser.add_argument("--send-sample", type=int, default=20, help="invoices the sending job is timed on (20)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
    run(tuple(int(size) for size in args.sizes.split(",")), send_sample=args.send_sample, keep=args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
