import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResBank(models.Model):
    _inherit = 'res.bank'

    bank_crm_corr_account = fields.Char(
        string="Correspondent Account",
        size=20,
        help="The bank's correspondent account at the Bank of Russia (20 digits, starting 30101), "
        "printed in the bank block of Russian invoices.",
    )

    @api.constrains('bank_crm_corr_account')
    def _check_bank_crm_corr_account(self):
        for bank in self.filtered('bank_crm_corr_account'):
            if not re.fullmatch(r'\d{20}', bank.bank_crm_corr_account):
                raise ValidationError(
                    _(
                        "The correspondent account of %(bank)s must be 20 digits; not \"%(account)s\".",
                        bank=bank.display_name,
                        account=bank.bank_crm_corr_account,
                    )
                )
