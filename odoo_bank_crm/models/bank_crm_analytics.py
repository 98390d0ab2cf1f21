"""Income, expenses and profit: per deal and customer, and on the Account dashboard.

A deal's money in is what its invoices received (`crm.lead.bank_crm_amount_paid`); its
money out is the outgoing bank and cash transactions on the deal's analytic account
(given to the deal on demand), in the company's currency (the journal item of the
account, so foreign-currency accounts count at the rate they were booked at). The
margin is the difference. `bank.crm.deal.profitability` is that, as a report for
pivots; the deal form reads the same report (`crm_lead.py`: the deal's analytic account
and figures). The dashboard card's chart is `account.journal`'s (`account_journal.py`).
"""

from odoo import fields, models
from odoo.tools import SQL


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
