"""Statements over a period of 100,000 transactions, next to a plain read_group of the same lines.

One run on a fresh database with the addon (and its demo data):

1. a seed of 2,000 transactions in the period (plus 40 before it, for the opening
   balances) is created through the ORM in batches, on two bank accounts, with 40
   counterparties and 6 categorisation rules: the first half with the rules applied on
   creation, the second half without them, then categorised in one batch. Both are
   timed: what the rules add to creating a transaction;
2. the seed is cloned in SQL until the period holds `lines` transactions (journal
   entries, their items and the statement lines, with fresh ids and names), then
   ANALYZEd. Creating 100,000 statement lines through the ORM costs about 50 ms each
   in Odoo itself (a journal entry, two journal items and a sequence number per line),
   over an hour here; the statement reads the rows the same however they were made;
3. measured as the admin user (an Account Director, record rules on), cache emptied
   before each run, median of 3 runs, with the SQL queries of each:
   - the baseline: `_read_group` of the period's lines by account (amount sum);
   - the statement's balances and totals (per account, per category), no lines;
   - the whole statement with its lines (what the PDF, Excel and 1C outputs start from);
   - the Excel file and the 1C file, end to end;
   - "Show": the action and the grouped list's first `web_read_group`.

    python3 -m bench.statement [--lines 100000] [--keep]

or `bench.statement.run(lines=100_000)`, which prints and returns the figures.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import harness  # noqa: E402

NAME = "statement"
DB = "bank_crm_bench_statement"
SEED = 2000  # transactions of the period created through the ORM

# Runs inside `odoo shell` (`env` given); assigns `result`.
SCRIPT = r"""
import random
import statistics
import time
from odoo import Command

LINES, SEED = __LINES__, __SEED__
COPIES = max(1, -(-LINES // SEED))
env = env(user=env.ref('base.user_admin'), context={'tracking_disable': True})
cr = env.cr
rng = random.Random(20250101)
company = env.company
journals = env['account.journal'].create([
    {'name': "Bench: Main Account", 'code': 'BNCH1', 'type': 'bank', 'bank_acc_number': '40702810900000000001'},
    {'name': "Bench: Second Account", 'code': 'BNCH2', 'type': 'bank', 'bank_acc_number': '40702810900000000002'},
])
tag = env['res.partner.category'].create({'name': "Bench suppliers"})
partners = env['res.partner'].create([{
    'name': f"ООО «Контрагент {i}»", 'is_company': True, 'vat': f"77{i:08d}",
    'category_id': [Command.set(tag.ids)] if i % 4 == 0 else [],
} for i in range(40)])
Category = env['bank.crm.expense.category']
office = Category.create({'name': "Офис"})
categories = {name: Category.create({'name': name, 'parent_id': parent.id if parent else False})
              for name, parent in [("Аренда", office), ("Хозяйственные расходы", office), ("Налоги", None),
                                   ("Зарплата", None), ("Банк", None), ("Поставщики", None), ("Прочее", None)]}
env['bank.crm.categorisation.rule'].create([
    {'name': "Аренда", 'sequence': 1, 'direction': 'outbound', 'purpose_text': "аренд",
     'category_id': categories["Аренда"].id},
    {'name': "Налоги", 'sequence': 2, 'counterparty_inn': '7727406020', 'category_id': categories["Налоги"].id},
    {'name': "Зарплата", 'sequence': 3, 'purpose_match': 'regex', 'purpose_text': r"заработн\w+ плат|зарплат",
     'category_id': categories["Зарплата"].id},
    {'name': "Комиссии", 'sequence': 4, 'purpose_text': "комисси", 'amount_max': 5000,
     'category_id': categories["Банк"].id},
    {'name': "Поставщик 0", 'sequence': 5, 'partner_id': partners[0].id, 'direction': 'outbound',
     'category_id': categories["Поставщики"].id},
    {'name': "Прочие расходы", 'sequence': 50, 'direction': 'outbound', 'category_id': categories["Прочее"].id},
])
PURPOSES = [
    ("Оплата по счету № {n} от {d}. В т.ч. НДС 20%", 1), ("Предоплата по договору {n}", 1),
    ("Арендная плата за офис, {d}", -1), ("Налог УСН за квартал", -1), ("Заработная плата за {d}", -1),
    ("Комиссия банка за обслуживание счёта", -1), ("Оплата поставщику по счету № {n}", -1),
    ("Хозяйственные расходы", -1),
]

def values(count, year):
    rows = []
    for i in range(count):
        purpose, sign = rng.choice(PURPOSES)
        day = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        partner = partners[rng.randrange(40)]
        rows.append({
            'journal_id': journals[i % 2].id, 'date': day,
            'amount': sign * rng.randint(100, 500_000) / 100 if sign > 0 else -rng.randint(100, 200_000) / 100,
            'payment_ref': purpose.format(n=rng.randint(1, 9999), d=day),
            'partner_id': partner.id, 'bank_crm_counterparty_inn': '7727406020' if 'Налог' in purpose else partner.vat,
            'bank_crm_document_number': str(i),
        })
    return rows

Line = env['account.bank.statement.line'].with_context(bank_crm_no_matching=True)

def create(rows, **context):
    env.flush_all()
    started, queries = time.perf_counter(), cr.sql_log_count
    created = Line.browse()
    for start in range(0, len(rows), 500):
        created |= Line.with_context(**context).create(rows[start:start + 500])
        env.flush_all()
    seconds, queries = time.perf_counter() - started, cr.sql_log_count - queries
    cr.commit()
    env.invalidate_all()
    return created, seconds, queries

half = SEED // 2
seed_rows = values(SEED, 2025) + values(SEED // 50, 2024)
create(values(20, 2023))  # the first creations of a process fill Odoo's caches: not measured, before the period
with_rules, seconds_with, queries_with = create(seed_rows[:half])
without_rules, seconds_without, queries_without = create(seed_rows[half:2 * half], bank_crm_no_categorisation=True)
started, queries = time.perf_counter(), cr.sql_log_count
categorised = Line.browse(without_rules.ids)._bank_crm_categorise()
env.flush_all()
batch_seconds, batch_queries = time.perf_counter() - started, cr.sql_log_count - queries
rest, _s, _q = create(seed_rows[2 * half:])
cr.commit()
result = {'creation': {
    'lines': half, 'with_rules_s': seconds_with, 'without_rules_s': seconds_without,
    'with_rules_queries': queries_with, 'without_rules_queries': queries_without,
    'categorised_later': categorised, 'batch_categorise_s': batch_seconds, 'batch_categorise_queries': batch_queries,
    'categorised_on_creation': Line.search_count([('id', 'in', with_rules.ids), ('bank_crm_category_id', '!=', False)]),
}}

# --- clone the seed in SQL up to LINES transactions in the period --- #
seed_ids = (with_rules | without_rules | rest).ids
def columns(table):
    cr.execute("SELECT column_name FROM information_schema.columns "
               "WHERE table_schema = current_schema() AND table_name = %s AND column_name != 'id'", [table])
    return [name for (name,) in cr.fetchall()]

def clone(table, alias, overrides, join, with_id=None):
    names = columns(table)
    select = [overrides.get(name, f'{alias}."{name}"') for name in names]
    target = ([f'"id"'] if with_id else []) + [f'"{name}"' for name in names]
    cr.execute(f'INSERT INTO "{table}" ({", ".join(target)}) '
               f'SELECT {", ".join(([with_id] if with_id else []) + select)} FROM "{table}" {alias} {join}')

started = time.perf_counter()
cr.execute("CREATE TEMP TABLE bench_seed AS SELECT id AS st_id, move_id FROM account_bank_statement_line "
           "WHERE id = ANY(%s)", [seed_ids])
for copy in range(1, COPIES):
    cr.execute("CREATE TEMP TABLE bench_map AS SELECT st_id AS old_st, move_id AS old_move, "
               "nextval('account_bank_statement_line_id_seq') AS new_st, nextval('account_move_id_seq') AS new_move "
               "FROM bench_seed")
    clone('account_move', 'm', {'name': f"m.name || '-{copy}'", 'statement_line_id': 'NULL'},
          'JOIN bench_map map ON map.old_move = m.id', with_id='map.new_move')
    clone('account_bank_statement_line', 's', {
        'move_id': 'map.new_move', 'bank_crm_operation_id': 'NULL', 'bank_crm_fallback_key': 'NULL',
        'internal_index': "substr(s.internal_index, 1, 18) || lpad(map.new_st::text, 10, '0')",
    }, 'JOIN bench_map map ON map.old_st = s.id', with_id='map.new_st')
    clone('account_move_line', 'l', {'move_id': 'map.new_move', 'statement_line_id': 'map.new_st',
                                     'move_name': f"l.move_name || '-{copy}'"},
          'JOIN bench_map map ON map.old_move = l.move_id')
    cr.execute("UPDATE account_move m SET statement_line_id = map.new_st FROM bench_map map WHERE m.id = map.new_move")
    cr.execute("DROP TABLE bench_map")
cr.execute("ANALYZE account_move")
cr.execute("ANALYZE account_bank_statement_line")
cr.execute("ANALYZE account_move_line")
cr.commit()
env.invalidate_all()
result['clone_s'] = time.perf_counter() - started

# --- measure --- #
wizard = env['bank.crm.statement.wizard'].create({
    'date_from': '2025-01-01', 'date_to': '2025-12-31', 'journal_ids': [Command.set(journals.ids)]})
period = [('journal_id', 'in', journals.ids), ('state', '!=', 'cancel'),
          ('date', '>=', '2025-01-01'), ('date', '<=', '2025-12-31')]
result['period_lines'] = Line.search_count(period)
result['opening_lines'] = Line.search_count([('journal_id', 'in', journals.ids), ('date', '<', '2025-01-01')])
cr.commit()

def measure(label, function, repeat=3):
    times, queries, out = [], [], None
    for _ in range(repeat):
        env.invalidate_all()
        q0, t0 = cr.sql_log_count, time.perf_counter()
        out = function()
        times.append(time.perf_counter() - t0)
        queries.append(cr.sql_log_count - q0)
    return {'label': label, 'seconds': statistics.median(times), 'best': min(times), 'queries': queries[-1]}, out

rows = []
row, baseline = measure("baseline: read_group of the lines by account",
                        lambda: Line._read_group(period, ['journal_id'], ['amount:sum']))
rows.append(row)
row, data = measure("statement: balances and totals (no lines)",
                    lambda: wizard._bank_crm_statement_data(with_lines=False))
rows.append(row)
check = {a['journal'].id: (a['opening'], a['income'], a['expense'], a['closing']) for a in data['accounts']}
row, data = measure("statement with its lines (data of PDF/Excel/1C)", lambda: wizard._bank_crm_statement_data())
row['rows'] = sum(len(a['lines']) for a in data['accounts'])
rows.append(row)
row, content = measure("Excel file, end to end", lambda: wizard._bank_crm_xlsx(wizard._bank_crm_statement_data()))
row['size_mb'] = len(content) / 1e6
rows.append(row)
row, content = measure("1C file, end to end", lambda: wizard._bank_crm_onec(wizard._bank_crm_statement_data()))
row['size_mb'] = len(content) / 1e6
rows.append(row)

def show():
    action = wizard.action_show()
    return Line.web_read_group(action['domain'], ['amount:sum'], ['journal_id'])
row, _out = measure("Show: action + grouped list", show)
rows.append(row)
result['rows'] = rows
# the statement's figures agree with the baseline's sums, exactly
sums = {journal.id: amount for journal, amount in baseline}
result['agrees'] = all(round(check[j][1] - check[j][2] - sums[j], 2) == 0 for j in sums)
env.cr.rollback()
"""


def run(lines=100_000, keep=False, out=sys.stdout, seed=SEED):
    """Run the benchmark on a fresh database; print and return the figures."""
    stack = harness.Stack()
    print(f"[{NAME}] installing the addon on a fresh database...", file=sys.stderr, flush=True)
    stack.db_with_addon(DB, "bench-statement-install.log")
    try:
        print(
            f"[{NAME}] creating the seed through the ORM, cloning it to {lines:,} lines, measuring...",
            file=sys.stderr,
            flush=True,
        )
        script = SCRIPT.replace("__LINES__", str(int(lines))).replace("__SEED__", str(int(seed)))
        result = harness.odoo_shell_json(stack, DB, script, "bench-statement.log")
    finally:
        if not keep:
            harness.odoo_db.drop(stack.port, DB, stack.cluster)
    print(report(result), file=out, flush=True)
    return result


def report(result):
    creation = result['creation']
    n = creation['lines']
    base = result['rows'][0]['seconds']
    lines = [
        f"Statement over a period of {result['period_lines']:,} transactions on 2 accounts "
        f"({result['opening_lines']:,} before it), as an Account Director, median of 3, cold cache:",
        f"  {'':52} {'seconds':>8} {'× baseline':>10} {'queries':>8}",
    ]
    for row in result['rows']:
        extra = f"  {row['rows']:,} lines" if 'rows' in row else ""
        extra += f"  {row['size_mb']:.1f} MB" if 'size_mb' in row else ""
        lines.append(
            f"  {row['label']:52} {row['seconds']:>8.3f} {row['seconds'] / base:>10.1f} {row['queries']:>8}{extra}"
        )
    lines += [
        f"  balances agree with the baseline's sums to the kopeck: {'yes' if result['agrees'] else 'NO'}",
        f"Creating {n:,} transactions through the ORM (batches of 500, matching off):",
        f"  with the categorisation rules: {creation['with_rules_s']:.1f} s ({creation['with_rules_s'] / n * 1000:.1f} ms "
        f"per line, {creation['with_rules_queries'] / n:.1f} queries per line), "
        f"{creation['categorised_on_creation']:,} categorised",
        f"  without them:                  {creation['without_rules_s']:.1f} s ({creation['without_rules_s'] / n * 1000:.1f} ms "
        f"per line, {creation['without_rules_queries'] / n:.1f} queries per line)",
        f"  categorising those {n:,} afterwards in one batch: {creation['batch_categorise_s']:.2f} s, "
        f"{creation['batch_categorise_queries']} queries, {creation['categorised_later']:,} categorised",
        f"  (then cloned in SQL to the period's size in {result['clone_s']:.0f} s)",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000, help="transactions in the period (100000)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"of which created through the ORM ({SEED})")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args(argv)
    run(args.lines, keep=args.keep, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
