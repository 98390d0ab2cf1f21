from odoo import fields, models


class BankCrmPaymentRejectWizard(models.TransientModel):
    _name = 'bank.crm.payment.reject.wizard'
    _description = "Reject Outgoing Payments"

    payment_ids = fields.Many2many('bank.crm.payment.order', string="Payments", required=True)
    reason = fields.Text(required=True)

    def action_reject(self):
        self.payment_ids._bank_crm_reject(self.reason)
        return {'type': 'ir.actions.act_window_close'}
