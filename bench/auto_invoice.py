"""Stage-triggered invoices: what an auto-invoice rule adds to moving deals into its stage.

One run on a fresh database with the addon: for each batch size (250 and 1,000 deals by
default) the same deals are moved in one `write` into a stage without rule (the
baseline), then into the stage of a rule that invoices every one of them and sends the
invoice (payment link in the customer portal, so no bank is called; the emails are
queued as Odoo queues them). Printed: the time ratio and the SQL queries per deal
(`env.cr.sql_log_count`), for the baseline and with the rule. The goal: invoicing adds a
bounded number of queries per deal, the same for 250 deals as for 1,000.

    python3 -m bench.auto_invoice [--sizes 250,1000] [--keep]

or, from the bench package, `bench.auto_invoice.run(sizes=(250, 1000))`, which returns
the figures as a dict.
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import harness  # noqa: E402

DB = "bank_crm_bench_auto_invoice"

# Runs inside `odoo shell` (`env` given); assigns `result`.
SCRIPT = r"""
import time
from odoo import Command

SIZES = __SIZES__
env = env(user=env.ref('base.user_admin'), context={'tracking_disable': False})
company = env.company
company.write({'bank_crm_payment_link_kind': 'portal', 'email': company.email or 'bench@example.com'})
# The demo company is Russian but the generic chart's sale taxes are American: Odoo refuses to
# post them there. The amount-only product is invoiced without tax in this benchmark.
company.bank_crm_amount_product_id.taxes_id = [Command.clear()]
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
env.cr.commit()

def make_leads(count, tag):
    return env['crm.lead'].create([{
        'name': f"Bench deal {tag}-{i}", 'type': 'opportunity', 'partner_id': partners[i % len(partners)].id,
        'expected_revenue': 1000 + i, 'stage_id': stage_new.id, 'user_id': env.user.id,
    } for i in range(count)])

def move(leads, stage):
    env.flush_all()
    env.invalidate_all()
    queries, start = env.cr.sql_log_count, time.perf_counter()
    leads.write({'stage_id': stage.id})
    env.flush_all()
    return time.perf_counter() - start, env.cr.sql_log_count - queries

# warm-up: first invoice, first email, caches
warm = make_leads(5, 'warm')
move(warm, stage_plain)
move(warm, stage_rule)

result = {'sizes': []}
for size in SIZES:
    leads = make_leads(size, size)
    base_time, base_queries = move(leads, stage_plain)
    rule_time, rule_queries = move(leads, stage_rule)
    invoices = env['account.move'].search([('bank_crm_lead_id', 'in', leads.ids)])
    sent = env['mail.message'].search_count([
        ('model', '=', 'account.move'), ('res_id', 'in', invoices.ids), ('message_type', '=', 'comment')])
    result['sizes'].append({
        'deals': size, 'invoices': len(invoices), 'emails': sent,
        'failed': len(leads) - len(invoices),
        'baseline_s': base_time, 'rule_s': rule_time,
        'baseline_queries': base_queries, 'rule_queries': rule_queries,
    })
env.cr.rollback()
"""


def run(sizes=(250, 1000), keep=False, out=sys.stdout):
    """Run the benchmark on a fresh database; print and return the figures."""
    stack = harness.Stack()
    stack.db_with_addon(DB, "bench-auto-invoice-install.log")
    try:
        script = SCRIPT.replace("__SIZES__", repr(tuple(sizes)))
        result = harness.odoo_shell_json(stack, DB, script, "bench-auto-invoice.log")
    finally:
        if not keep:
            harness.odoo_db.drop(stack.port, DB, stack.cluster)
    rows = result["sizes"]
    print("Auto-invoice rule: one write moves N deals into a stage; baseline = same deals into a stage "
          "without rule", file=out)
    print(f"{'deals':>6} {'invoices':>8} {'emails':>6} {'baseline s':>10} {'rule s':>8} {'ratio':>6} "
          f"{'base q/deal':>11} {'rule q/deal':>11} {'added q/deal':>12}", file=out)
    for row in rows:
        n = row["deals"]
        row["ratio"] = row["rule_s"] / row["baseline_s"] if row["baseline_s"] else float("inf")
        row["baseline_queries_per_deal"] = row["baseline_queries"] / n
        row["rule_queries_per_deal"] = row["rule_queries"] / n
        row["added_queries_per_deal"] = (row["rule_queries"] - row["baseline_queries"]) / n
        print(f"{n:>6} {row['invoices']:>8} {row['emails']:>6} {row['baseline_s']:>10.2f} {row['rule_s']:>8.2f} "
              f"{row['ratio']:>6.1f} {row['baseline_queries_per_deal']:>11.1f} {row['rule_queries_per_deal']:>11.1f} "
              f"{row['added_queries_per_deal']:>12.1f}", file=out)
    if len(rows) > 1:
        added = [row["added_queries_per_deal"] for row in rows]
        print(f"added queries per deal, {rows[0]['deals']} vs {rows[-1]['deals']} deals: "
              f"{added[0]:.1f} vs {added[-1]:.1f} (bounded if equal)", file=out)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250,1000", help="batch sizes, comma-separated")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
    run(tuple(int(size) for size in args.sizes.split(",")), keep=args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
