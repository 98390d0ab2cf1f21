from odoo import fields, models


class ResCompany(models.Model):
    _inherit = 'res.company'

    bank_crm_notify_salesperson = fields.Boolean(string="Tell the Salesperson", default=True)
    bank_crm_notify_user_ids = fields.Many2many(
        'res.users', 'bank_crm_company_notify_user_rel', 'company_id', 'user_id',
        string="Also Tell", domain=[('share', '=', False)])
    bank_crm_paid_stage_id = fields.Many2one('crm.stage', string="Stage of Paid Deals")
