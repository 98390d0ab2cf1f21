"""Where Odoo's own screens meet the rights over money (bank.crm.money.right).

Record rules hide the accounts an employee is not granted; the operations a right
allows are checked here, on the server, whatever screen or RPC call asks for them.
"""

import json

from odoo import api, fields, models

# The figures "see balances" covers: the account's balance in Odoo and at the bank.
BALANCE_FIELDS = frozenset(
    {
        'bank_crm_balance',
        'bank_crm_bank_balance',
        'bank_crm_balance_difference',
        'bank_crm_month_income',
        'bank_crm_month_expense',
        'current_statement_balance',
    }
)
# Everything "see balances" hides: the figures and the dashboard's income and expense chart.
HIDDEN_WITHOUT_BALANCES = BALANCE_FIELDS | {'bank_crm_dashboard_graph'}
# The chart, for whoever may not see it.
EMPTY_GRAPH = json.dumps([{'values': [], 'title': "", 'key': "", 'is_sample_data': False}])


class AccountJournal(models.Model):
    _inherit = 'account.journal'

    bank_crm_right_ids = fields.Many2many(
        'bank.crm.money.right',
        'bank_crm_money_right_journal_rel',
        'journal_id',
        'right_id',
        string="Employees' Rights",
        groups='odoo_bank_crm.group_bank_crm_director',
    )
    bank_crm_can_see_balances = fields.Boolean(string="May See Balances", compute='_compute_bank_crm_can_see_balances')

    @api.depends_context('uid', 'allowed_company_ids')
    def _compute_bank_crm_can_see_balances(self):
        Right = self.env['bank.crm.money.right']
        if self.env.su or not Right._bank_crm_is_restricted():
            self.bank_crm_can_see_balances = True
            return
        right = Right._bank_crm_right_of()  # one query for the whole dashboard
        for journal in self:
            journal.bank_crm_can_see_balances = right._bank_crm_grants('can_see_balances', journal)

    def _read_format(self, fnames, load='_classic_read'):
        """Balances are blanked for whoever's rights do not show them (read, search_read,
        the web client's web_read)."""
        result = super()._read_format(fnames, load)
        hidden = BALANCE_FIELDS.intersection(fnames)
        if HIDDEN_WITHOUT_BALANCES.intersection(fnames) and not self.env.su:
            blind = (
                self.browse([values['id'] for values in result])
                .filtered(lambda journal: not journal.bank_crm_can_see_balances)
                .ids
            )
            for values in result:
                if values['id'] in blind:
                    values.update(dict.fromkeys(hidden, 0.0))
                    if 'bank_crm_dashboard_graph' in values:
                        values['bank_crm_dashboard_graph'] = EMPTY_GRAPH
        return result

    def export_data(self, fields_to_export):
        if HIDDEN_WITHOUT_BALANCES.intersection(path.split('/')[0] for path in fields_to_export):
            self.env['bank.crm.money.right']._bank_crm_check('can_see_balances', self)
        return super().export_data(fields_to_export)


class AccountBankStatementLine(models.Model):
    _inherit = 'account.bank.statement.line'

    def export_data(self, fields_to_export):
        """Exporting transactions is downloading a statement."""
        self.env['bank.crm.money.right']._bank_crm_check('can_download_statements', self.journal_id)
        return super().export_data(fields_to_export)

    @api.model
    def action_bank_crm_balances(self):
        """Accounts > Balances by Currency, for whoever may see balances."""
        self.env['bank.crm.money.right']._bank_crm_check('can_see_balances')
        return self.env['ir.actions.act_window']._for_xml_id(
            'odoo_bank_crm.account_bank_statement_line_action_balances'
        )


class AccountMove(models.Model):
    _inherit = 'account.move'

    @api.model_create_multi
    def create(self, vals_list):
        """A customer credit note is a refund however it is made: created directly (form,
        import, RPC), copied, or by Odoo's reversal wizard (which copies the invoice)."""
        moves = super().create(vals_list)
        if any(move.move_type == 'out_refund' for move in moves):
            self.env['bank.crm.money.right']._bank_crm_check('can_refund')
        return moves

    def write(self, vals):
        """An invoice switched into a credit note ("Switch into refund") is a refund too."""
        if vals.get('move_type') == 'out_refund' and any(move.move_type != 'out_refund' for move in self):
            self.env['bank.crm.money.right']._bank_crm_check('can_refund')
        return super().write(vals)


class AccountMoveReversal(models.TransientModel):
    _inherit = 'account.move.reversal'

    def reverse_moves(self, is_modify=False):
        """Credit notes for customers are refunds."""
        if any(move.move_type in ('out_invoice', 'out_receipt') for move in self.move_ids):
            self.env['bank.crm.money.right']._bank_crm_check('can_refund')
        return super().reverse_moves(is_modify=is_modify)


class PaymentTransaction(models.Model):
    _inherit = 'payment.transaction'

    def action_refund(self, amount_to_refund=None):
        """Card and SBP refunds (Odoo's refund wizard calls this)."""
        self.env['bank.crm.money.right']._bank_crm_check('can_refund')
        return super().action_refund(amount_to_refund=amount_to_refund)
