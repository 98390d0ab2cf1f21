from odoo import api, fields, models


class AccountBankStatementLine(models.Model):
    _inherit = 'account.bank.statement.line'

    bank_crm_direction = fields.Selection(
        selection=[('inbound', "Incoming"), ('outbound', "Outgoing")],
        string="Direction",
        compute='_compute_bank_crm_direction',
        store=True,
        help="Incoming: money received on the account. Outgoing: money paid from it.",
    )
    bank_crm_journal_type = fields.Selection(
        related='journal_id.type', string="Account Type", help="Whether the line is on a bank or a cash account."
    )

    @api.depends('amount')
    def _compute_bank_crm_direction(self):
        for line in self:
            line.bank_crm_direction = 'outbound' if line.amount < 0 else 'inbound'

    bank_crm_operation_id = fields.Char(
        string="Bank Operation",
        readonly=True,
        copy=False,
        help="The bank's id of the operation: one line per operation and account.",
    )
    bank_crm_fallback_key = fields.Char(readonly=True, copy=False, index='btree_not_null')
    bank_crm_counterparty_inn = fields.Char(string="Counterparty INN", readonly=True)
    bank_crm_counterparty_kpp = fields.Char(string="Counterparty KPP", readonly=True)
    bank_crm_counterparty_bic = fields.Char(string="Counterparty BIC", readonly=True)
    bank_crm_document_number = fields.Char(string="Document Number", readonly=True)
    bank_crm_lead_id = fields.Many2one(
        'crm.lead', string="Deal", index='btree_not_null', readonly=True, help="The deal this payment was matched to."
    )

    def init(self):
        result = super().init()
        # Overlapping pulls can never book an operation twice on an account.
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS account_bank_statement_line_bank_crm_operation_uniq
                ON account_bank_statement_line (journal_id, bank_crm_operation_id)
             WHERE bank_crm_operation_id IS NOT NULL
        """)
        return result

    @api.model
    def _bank_crm_fallback_key(self, operation):
        """What identifies an operation whose id the bank may change (docs/banks.md §6.9)."""
        day, amount, counterparty, document = operation.fallback_key
        return f"{day.isoformat()}|{amount}|{counterparty}|{document}"

    @api.model
    def _bank_crm_line_values(self, journal, operation, partners):
        """Statement line values of a bank operation (bank_api.statement.BankOperation)."""
        partner = partners.get(('account', operation.counterparty_account)) or partners.get(
            ('inn', operation.counterparty_inn)
        )
        return {
            'journal_id': journal.id,
            'date': operation.date,
            'amount': float(operation.amount),
            'payment_ref': operation.purpose or operation.counterparty_name or operation.bank_operation_id,
            'partner_id': partner.id if partner else False,
            'partner_name': operation.counterparty_name or False,
            'account_number': operation.counterparty_account or False,
            'bank_crm_operation_id': operation.bank_operation_id,
            'bank_crm_fallback_key': self._bank_crm_fallback_key(operation),
            'bank_crm_counterparty_inn': operation.counterparty_inn or False,
            'bank_crm_counterparty_kpp': operation.counterparty_kpp or False,
            'bank_crm_counterparty_bic': operation.counterparty_bic or False,
            'bank_crm_document_number': operation.document_number or False,
        }
