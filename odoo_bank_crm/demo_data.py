"""Demo data that depends on today's date: transactions, invoices and payments.

Not a model of the product: plain functions of an environment. Called once from
demo/bank_crm_demo.xml (through `account.journal._bank_crm_generate_demo_data`, as a data
file can only call a model's method). Everything is deterministic (fixed seed), so two
demo databases show the same figures on the same day.
"""

import random
from datetime import timedelta

from odoo import Command, fields

# (journal xml id, opening balance, [(label, counterparty xml id or None, amount range)] x how many)
_DEMO_ACCOUNTS = [
    ('account_journal_tbank_main', 1_250_000, 24),
    ('account_journal_tbank_acquiring', 86_000, 14),
    ('account_journal_tbank_usd', 12_400, 6),
    ('account_journal_tochka_main', 640_000, 18),
    ('account_journal_tochka_reserve', 300_000, 4),
    ('account_journal_sber_main', 410_000, 12),
    ('account_journal_sber_payroll', 520_000, 6),
    ('account_journal_cash_office', 35_000, 8),
]

_DEMO_PARTNERS = (
    'res_partner_romashka',
    'res_partner_vector',
    'res_partner_ivanov',
    'res_partner_stroymarket',
    'res_partner_petrova',
    'res_partner_office_rent',
    'res_partner_tax_office',
)
_INCOMING = [
    ("Оплата по счету № {n} от {d}. В т.ч. НДС 22%", 'res_partner_romashka'),
    ("Оплата по договору поставки № {n}. НДС не облагается", 'res_partner_stroymarket'),
    ("Предоплата за услуги по счету {n}", 'res_partner_vector'),
    ("Оплата по счёту №{n} за разработку сайта", 'res_partner_ivanov'),
    ("Оплата онлайн-курса, заказ {n}", 'res_partner_petrova'),
]
_OUTGOING = [
    ("Арендная плата за офис за {m}. В т.ч. НДС 22%", 'res_partner_office_rent'),
    ("Налог УСН за {m}", 'res_partner_tax_office'),
    ("Комиссия банка за обслуживание счёта", None),
    ("Оплата поставщику по счету № {n}", 'res_partner_stroymarket'),
    ("Хозяйственные расходы", None),
]


def generate(env):
    """Every dated record of the demo: statement lines of each demo account, invoices of
    the deals (the won ones paid) and the manager's outgoing payments."""
    # The demo company is Russian: its customers read Russian, and what the demo records
    # (tracked payment states in the deals' chatter) is written in Russian when Odoo has it.
    if 'ru_RU' in env['res.lang']._get_active_by('code'):
        # the changes the dependencies' demo data made are tracked now, in their language:
        # Odoo tracks a transaction's changes of a model at its commit, in the language of
        # the first records that changed (mail.thread._track_finalize)
        env.flush_all()
        env.cr.precommit.run()
        # Odoo loads a module's terms after its data: the labels tracked here need ours now
        env['ir.module.module']._load_module_terms(['odoo_bank_crm'], ['ru_RU'])
        env = env(context=dict(env.context, lang='ru_RU', bank_crm_tracking_lang='ru_RU'))
        ours = [f'odoo_bank_crm.{name}' for name in _DEMO_PARTNERS]
        env['res.partner'].browse([env.ref(xml_id).id for xml_id in ours]).write({'lang': 'ru_RU'})
    rng = random.Random(20260201)
    today = fields.Date.context_today(env['account.journal'])
    ref = lambda xml_id: env.ref(f'odoo_bank_crm.{xml_id}')  # noqa: E731
    line_vals = []
    for journal_xml_id, opening, count in _DEMO_ACCOUNTS:
        journal = ref(journal_xml_id)
        line_vals.append(
            {
                'journal_id': journal.id,
                'date': today - timedelta(days=95),
                'payment_ref': "Входящий остаток",
                'amount': opening,
            }
        )
        for index in range(count):
            incoming = index % 3 != 2
            label, partner_xml_id = rng.choice(_INCOMING if incoming else _OUTGOING)
            day = today - timedelta(days=rng.randint(0, 90))
            amount = rng.randint(20, 900) * 100 if journal.type == 'bank' else rng.randint(5, 60) * 100
            if journal.currency_id:  # the USD account moves smaller sums
                amount = round(amount / 90, 0)
            line_vals.append(
                {
                    'journal_id': journal.id,
                    'date': day,
                    'payment_ref': label.format(
                        n=rng.randint(10, 250), d=day.strftime('%d.%m.%Y'), m=day.strftime('%m.%Y')
                    ),
                    'partner_id': ref(partner_xml_id).id if partner_xml_id else False,
                    'amount': amount if incoming else -amount,
                }
            )
    _archive_foreign_demo_data(env)
    env['account.bank.statement.line'].create(line_vals)
    _generate_demo_invoices(env, ref, today)
    _generate_demo_payments(env, ref)
    # the chart's generic "Bank" and "Cash" journals stay empty in this demo: out of the way
    Journal = env['account.journal']
    ours = Journal.browse([ref(xml_id).id for xml_id, _opening, _count in _DEMO_ACCOUNTS])
    Journal.search(
        [('type', 'in', ('bank', 'cash')), ('company_id', '=', env.company.id), ('id', 'not in', ours.ids)]
    ).filtered(lambda j: not env['account.move'].search_count([('journal_id', '=', j.id)], limit=1)).action_archive()


def _archive_foreign_demo_data(env):
    """The dependencies' demo deals (French and English names, with their activities) and
    products (office furniture priced in dollars) are not this Russian company's: archived,
    so the pipeline, the activities and the product lists show only the demo's own."""
    foreign = env['ir.model.data'].search_fetch(
        [('model', 'in', ('crm.lead', 'product.template')), ('module', '!=', 'odoo_bank_crm')],
        ['model', 'res_id'],
    )
    for model in ('crm.lead', 'product.template'):
        records = env[model].browse(foreign.filtered(lambda x, m=model: x.model == m).mapped('res_id')).exists()
        records.filtered('active').action_archive()


def _generate_demo_payments(env, ref):
    """The manager's outgoing payments: one within her limits, ready for the bank; the
    office rent above them, waiting for the director; one draft."""
    manager = ref('user_bank_crm_manager')
    Payment = env['bank.crm.payment.order'].with_user(manager).with_company(env.company)
    rent, supplies, _draft = Payment.create(
        [
            {
                'journal_id': ref('account_journal_tbank_main').id,
                'partner_id': ref('res_partner_office_rent').id,
                'amount': 250000,
                'purpose': "Арендная плата за офис за текущий месяц по договору № 14/А, НДС не облагается",
            },
            {
                'journal_id': ref('account_journal_tochka_main').id,
                'partner_id': ref('res_partner_office_rent').id,
                'amount': 18400,
                'purpose': "Возмещение коммунальных платежей по договору № 14/А, НДС не облагается",
            },
            {
                'journal_id': ref('account_journal_sber_main').id,
                'partner_id': ref('res_partner_office_rent').id,
                'amount': 5200,
                'purpose': "Оплата парковочных мест, НДС не облагается",
            },
        ]
    )
    (rent | supplies).action_submit()


def _generate_demo_invoices(env, ref, today):
    """Invoices for the deals past qualification; the won deals' are paid. Prices
    include VAT at 22 %, the standard rate since 2026; the sole trader charges none."""
    vat22 = ref('account_tax_sale_vat22')
    leads = [
        (ref('crm_lead_romashka_equipment'), 14, True, vat22),
        (ref('crm_lead_stroymarket_delivery'), 9, True, vat22),
        (ref('crm_lead_vector_support'), 5, False, vat22),
        (ref('crm_lead_ivanov_website'), 2, False, env['account.tax']),
    ]
    invoices = env['account.move'].create(
        [
            {
                'move_type': 'out_invoice',
                'partner_id': lead.partner_id.id,
                'bank_crm_lead_id': lead.id,
                'invoice_date': today - timedelta(days=days_ago),
                'invoice_date_due': today - timedelta(days=days_ago) + timedelta(days=10),
                'invoice_user_id': lead.user_id.id,
                'invoice_line_ids': [
                    Command.create(
                        {
                            'name': lead.name,
                            'quantity': 1,
                            'price_unit': lead.expected_revenue,
                            'tax_ids': [Command.set(taxes.ids)],
                        }
                    )
                ],
            }
            for lead, days_ago, _paid, taxes in leads
        ]
    )
    invoices.action_post()
    bank = ref('account_journal_tbank_main')
    for invoice, (_lead, days_ago, paid, _taxes) in zip(invoices, leads):
        if paid:
            env['account.payment.register'].with_context(
                active_model='account.move',
                active_ids=invoice.ids,
            ).create(
                {
                    'journal_id': bank.id,
                    'payment_date': today - timedelta(days=days_ago - 3),
                }
            )._create_payments()
