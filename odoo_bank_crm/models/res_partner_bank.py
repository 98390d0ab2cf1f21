from odoo import models

from .bank_crm_payment_order import RECIPIENT_ACCOUNT_FIELDS


class ResPartnerBank(models.Model):
    _inherit = 'res.partner.bank'

    def write(self, vals):
        watched = [name for name in RECIPIENT_ACCOUNT_FIELDS if name in vals]
        before = {account: [account[name] for name in watched] for account in self} if watched else {}
        result = super().write(vals)
        changed = self.browse([account.id for account, old in before.items() if [account[n] for n in watched] != old])
        if changed:
            # what was approved is paid to the account approved, or goes back to draft
            self.env['bank.crm.payment.order']._bank_crm_recipient_changed(changed)
        return result
