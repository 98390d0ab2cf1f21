from odoo import api, fields, models


class AccountBankStatementLine(models.Model):
    _inherit = 'account.bank.statement.line'

    bank_crm_direction = fields.Selection(
        selection=[('inbound', "Incoming"), ('outbound', "Outgoing")],
        string="Direction", compute='_compute_bank_crm_direction', store=True,
        help="Incoming: money received on the account. Outgoing: money paid from it.")
    bank_crm_journal_type = fields.Selection(
        related='journal_id.type', string="Account Type", help="Whether the line is on a bank or a cash account.")

    @api.depends('amount')
    def _compute_bank_crm_direction(self):
        for line in self:
            line.bank_crm_direction = 'outbound' if line.amount < 0 else 'inbound'
