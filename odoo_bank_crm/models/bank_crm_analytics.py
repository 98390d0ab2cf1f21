"""Income, expenses and profit: per deal and customer, and on the Account dashboard.

A deal's money in is what its invoices received (`crm.lead.bank_crm_amount_paid`); its
money out is the outgoing bank and cash transactions on the deal's analytic account
(given to the deal on demand), in the company's currency (the journal item of the
account, so foreign-currency accounts count at the rate they were booked at). The
margin is the difference. `bank.crm.deal.profitability` is that, as a report for
pivots; the deal form reads the same report.
"""

import json

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.tools import SQL, date_utils
from odoo.tools.misc import format_date


class BankCrmDealProfitability(models.Model):
    _name = 'bank.crm.deal.profitability'
    _description = "Profitability of Deals"
    _auto = False
    _rec_name = 'lead_id'
    _order = 'margin desc, lead_id desc'
    _depends = {
        'crm.lead': [
            'type',
            'partner_id',
            'user_id',
            'team_id',
            'stage_id',
            'company_id',
            'create_date',
            'bank_crm_amount_paid',
            'bank_crm_amount_invoiced',
            'bank_crm_analytic_account_id',
        ],
        'res.partner': ['commercial_partner_id'],
        'res.company': ['currency_id'],
        'account.bank.statement.line': ['amount', 'move_id', 'bank_crm_analytic_account_id'],
        'account.move': ['state', 'journal_id'],
        'account.move.line': ['move_id', 'account_id', 'balance'],
        'account.journal': ['default_account_id'],
    }

    lead_id = fields.Many2one('crm.lead', string="Deal", readonly=True)
    partner_id = fields.Many2one('res.partner', string="Customer", readonly=True)
    user_id = fields.Many2one('res.users', string="Salesperson", readonly=True)
    team_id = fields.Many2one('crm.team', string="Sales Team", readonly=True)
    stage_id = fields.Many2one('crm.stage', readonly=True)
    company_id = fields.Many2one('res.company', readonly=True)
    currency_id = fields.Many2one('res.currency', readonly=True)
    analytic_account_id = fields.Many2one('account.analytic.account', readonly=True)
    date = fields.Date(string="Created On", readonly=True)
    invoiced = fields.Monetary(readonly=True)
    received = fields.Monetary(readonly=True, help="What the deal's invoices were paid, less refunds.")
    expense = fields.Monetary(
        string="Expenses", readonly=True, help="Outgoing transactions on the deal's analytic account."
    )
    margin = fields.Monetary(readonly=True, help="Received minus expenses.")

    @property
    def _table_query(self):
        return SQL("""
            WITH expenses AS (
                SELECT line.bank_crm_analytic_account_id AS analytic_account_id,
                       -SUM(item.balance) AS expense
                  FROM account_bank_statement_line line
                  JOIN account_move move ON move.id = line.move_id
                  JOIN account_journal journal ON journal.id = move.journal_id
                  JOIN account_move_line item ON item.move_id = move.id
                                             AND item.account_id = journal.default_account_id
                 WHERE line.bank_crm_analytic_account_id IS NOT NULL
                   AND line.amount < 0
                   AND move.state != 'cancel'
              GROUP BY line.bank_crm_analytic_account_id
            )
            SELECT lead.id AS id,
                   lead.id AS lead_id,
                   partner.commercial_partner_id AS partner_id,
                   lead.user_id AS user_id,
                   lead.team_id AS team_id,
                   lead.stage_id AS stage_id,
                   lead.company_id AS company_id,
                   COALESCE(company.currency_id,
                            (SELECT currency_id FROM res_company ORDER BY sequence, id LIMIT 1)) AS currency_id,
                   lead.bank_crm_analytic_account_id AS analytic_account_id,
                   lead.create_date::date AS date,
                   COALESCE(lead.bank_crm_amount_invoiced, 0) AS invoiced,
                   COALESCE(lead.bank_crm_amount_paid, 0) AS received,
                   COALESCE(expenses.expense, 0) AS expense,
                   COALESCE(lead.bank_crm_amount_paid, 0) - COALESCE(expenses.expense, 0) AS margin
              FROM crm_lead lead
         LEFT JOIN res_partner partner ON partner.id = lead.partner_id
         LEFT JOIN res_company company ON company.id = lead.company_id
         LEFT JOIN expenses ON expenses.analytic_account_id = lead.bank_crm_analytic_account_id
             WHERE lead.type = 'opportunity'
               AND (COALESCE(lead.bank_crm_amount_paid, 0) != 0
                    OR lead.bank_crm_analytic_account_id IS NOT NULL)
        """)


class CrmLead(models.Model):
    _inherit = 'crm.lead'

    bank_crm_analytic_account_id = fields.Many2one(
        'account.analytic.account',
        string="Analytic Account",
        copy=False,
        index='btree_not_null',
        ondelete='set null',
        help="Bank and cash transactions on this analytic account are the deal's expenses.",
    )
    bank_crm_received_amount = fields.Monetary(
        string="Received", currency_field='company_currency', compute='_compute_bank_crm_profitability'
    )
    bank_crm_expense_amount = fields.Monetary(
        string="Expenses",
        currency_field='company_currency',
        compute='_compute_bank_crm_profitability',
        help="Outgoing transactions on the deal's analytic account, in the company's currency.",
    )
    bank_crm_margin = fields.Monetary(
        string="Margin",
        currency_field='company_currency',
        compute='_compute_bank_crm_profitability',
        help="Money received for the deal's invoices minus its expenses.",
    )

    def _compute_bank_crm_profitability(self):
        """The deals' lines of the profitability report, in one query."""
        saved = {lead._origin.id: lead for lead in self if lead._origin.id}
        rows = (
            {
                row['lead_id'][0]: row
                for row in self.env['bank.crm.deal.profitability']
                .sudo()  # sudo: the figures of these deals only, which the user reads
                .search_read([('lead_id', 'in', list(saved))], ['lead_id', 'received', 'expense', 'margin'])
            }
            if saved
            else {}
        )
        for lead in self:
            row = rows.get(lead._origin.id, {})
            lead.bank_crm_received_amount = row.get('received', 0.0)
            lead.bank_crm_expense_amount = row.get('expense', 0.0)
            lead.bank_crm_margin = row.get('margin', 0.0)

    def _bank_crm_ensure_analytic_account(self):
        """The deal's analytic account, made on first need in the analytic plan of projects."""
        self.ensure_one()
        if not self.bank_crm_analytic_account_id:
            plan, _other_plans = self.env['account.analytic.plan']._get_all_plans()
            # sudo: salespeople may not manage analytic accounts: this one is the deal's own
            self.bank_crm_analytic_account_id = (
                self.env['account.analytic.account']
                .sudo()  # sudo: see above
                .create(
                    {
                        'name': self.name,
                        'plan_id': plan.id,
                        'partner_id': self.partner_id.commercial_partner_id.id or False,
                        'company_id': self.company_id.id or False,
                    }
                )
            )
        return self.bank_crm_analytic_account_id

    def action_bank_crm_create_analytic_account(self):
        for lead in self:
            lead._bank_crm_ensure_analytic_account()
        return True

    def action_bank_crm_view_expenses(self):
        """The outgoing transactions attributed to the deal."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('odoo_bank_crm.account_bank_statement_line_action')
        action['domain'] = [
            ('bank_crm_analytic_account_id', '=', self.bank_crm_analytic_account_id.id),
            ('amount', '<', 0),
        ]
        action['context'] = {'default_bank_crm_analytic_account_id': self.bank_crm_analytic_account_id.id}
        action['display_name'] = _("Expenses of %(deal)s", deal=self.name)
        return action


class AccountJournal(models.Model):
    _inherit = 'account.journal'

    bank_crm_dashboard_graph = fields.Text(
        string="Income and Expenses Chart",
        compute='_compute_bank_crm_dashboard_graph',
        help="Income and expenses of the last six months, for the dashboard card.",
    )

    @api.depends_context('lang')
    def _compute_bank_crm_dashboard_graph(self):
        """Income (bars up) and expenses (bars down) of each of the last six months, for
        every card of the dashboard in one grouped query; the data of Odoo's
        `dashboard_graph` widget."""
        this_month = date_utils.start_of(fields.Date.context_today(self), 'month')
        months = [this_month - relativedelta(months=back) for back in range(5, -1, -1)]
        journals = self.filtered(lambda journal: journal._origin.id)
        sums = {}
        if journals:
            sums = {
                (journal.id, month, direction): amount
                for journal, month, direction, amount in self.env['account.bank.statement.line']._read_group(
                    [('journal_id', 'in', journals._origin.ids), ('state', '!=', 'cancel'), ('date', '>=', months[0])],
                    ['journal_id', 'date:month', 'bank_crm_direction'],
                    ['amount:sum'],
                )
            }
        labels = [format_date(self.env, month, date_format='LLL') for month in months]
        for journal in self:
            currency = journal.currency_id or journal.company_id.currency_id
            values = []
            for month, label in zip(months, labels):
                key = (journal._origin.id, month)
                values.append(
                    {'label': label, 'type': 'past', 'value': currency.round(sums.get(key + ('inbound',), 0.0))}
                )
                # the month's second bar: its label is the first's (one label a month)
                values.append(
                    {'label': '', 'type': 'future', 'value': currency.round(sums.get(key + ('outbound',), 0.0))}
                )
            journal.bank_crm_dashboard_graph = json.dumps(
                [
                    {
                        'values': values,
                        'title': _("Income and expenses"),
                        'key': _("Income and expenses"),
                        'is_sample_data': False,
                    }
                ]
            )
