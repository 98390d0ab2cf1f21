from odoo import models


class AccountMoveLine(models.Model):
    _inherit = 'account.move.line'

    def _reconcile_post_hook(self, data):
        """ Override of `account`: after any reconciliation that paid (part of) invoices. """
        super()._reconcile_post_hook(data)
        (data['not_paid_invoices'] | data['in_payment_invoices'])._bank_crm_on_payment_received()
