from odoo import fields, models


class AccountMove(models.Model):
    _inherit = 'account.move'

    bank_crm_lead_id = fields.Many2one(
        'crm.lead', string="Deal", index='btree_not_null', copy=False, tracking=True,
        domain="[('type', '=', 'opportunity')]",
        help="The CRM deal this invoice was issued for.")
