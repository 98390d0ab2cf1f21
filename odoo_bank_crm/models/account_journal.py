from odoo import api, fields, models
from odoo.tools import date_utils


class AccountJournal(models.Model):
    _inherit = 'account.journal'

    bank_crm_currency_id = fields.Many2one(
        'res.currency', string="Account Currency", compute='_compute_bank_crm_currency_id')
    bank_crm_balance = fields.Monetary(
        string="Balance", currency_field='bank_crm_currency_id',
        compute='_compute_bank_crm_figures',
        help="Sum of every transaction of this account recorded in Odoo.")
    bank_crm_month_income = fields.Monetary(
        string="Income This Month", currency_field='bank_crm_currency_id',
        compute='_compute_bank_crm_figures')
    bank_crm_month_expense = fields.Monetary(
        string="Expenses This Month", currency_field='bank_crm_currency_id',
        compute='_compute_bank_crm_figures')
    bank_crm_transaction_count = fields.Integer(
        string="Transactions", compute='_compute_bank_crm_figures')
    bank_crm_last_transaction_date = fields.Date(
        string="Last Transaction", compute='_compute_bank_crm_figures')

    @api.depends('currency_id', 'company_id.currency_id')
    def _compute_bank_crm_currency_id(self):
        for journal in self:
            journal.bank_crm_currency_id = journal.currency_id or journal.company_id.currency_id

    def _compute_bank_crm_figures(self):
        """Balances and this month's movements of all journals in two grouped queries."""
        Line = self.env['account.bank.statement.line']
        base_domain = [('journal_id', 'in', self.ids), ('state', '!=', 'cancel')]
        totals = {
            journal.id: (balance, count, last_date)
            for journal, balance, count, last_date in Line._read_group(
                base_domain, ['journal_id'], ['amount:sum', '__count', 'date:max'])
        }
        month_start = date_utils.start_of(fields.Date.context_today(self), 'month')
        movements = {
            (journal.id, direction): amount
            for journal, direction, amount in Line._read_group(
                base_domain + [('date', '>=', month_start)],
                ['journal_id', 'bank_crm_direction'], ['amount:sum'])
        }
        for journal in self:
            balance, count, last_date = totals.get(journal.id, (0.0, 0, False))
            journal.bank_crm_balance = balance
            journal.bank_crm_transaction_count = count
            journal.bank_crm_last_transaction_date = last_date
            journal.bank_crm_month_income = movements.get((journal.id, 'inbound'), 0.0)
            journal.bank_crm_month_expense = -movements.get((journal.id, 'outbound'), 0.0)

    def action_bank_crm_open_transactions(self):
        """The Transactions list, filtered on this account."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id(
            'odoo_bank_crm.account_bank_statement_line_action')
        action['domain'] = [('journal_id', '=', self.id)]
        action['context'] = {'default_journal_id': self.id, 'search_default_group_by_month': 1}
        action['display_name'] = self.display_name
        return action
