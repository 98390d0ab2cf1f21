from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = 'res.config.settings'

    bank_crm_notify_salesperson = fields.Boolean(related='company_id.bank_crm_notify_salesperson', readonly=False)
    bank_crm_notify_user_ids = fields.Many2many(related='company_id.bank_crm_notify_user_ids', readonly=False)
    bank_crm_paid_stage_id = fields.Many2one(related='company_id.bank_crm_paid_stage_id', readonly=False)
    bank_crm_shop_user_id = fields.Many2one(related='company_id.bank_crm_shop_user_id', readonly=False)
    bank_crm_shop_team_id = fields.Many2one(related='company_id.bank_crm_shop_team_id', readonly=False)
    bank_crm_shop_stage_id = fields.Many2one(related='company_id.bank_crm_shop_stage_id', readonly=False)
    bank_crm_shop_product_id = fields.Many2one(related='company_id.bank_crm_shop_product_id', readonly=False)
    bank_crm_amount_product_id = fields.Many2one(related='company_id.bank_crm_amount_product_id', readonly=False)
    bank_crm_amount_label = fields.Char(related='company_id.bank_crm_amount_label', readonly=False)
    bank_crm_payment_link_kind = fields.Selection(related='company_id.bank_crm_payment_link_kind', readonly=False)
    bank_crm_acquiring_fee_account_id = fields.Many2one(
        related='company_id.bank_crm_acquiring_fee_account_id', readonly=False
    )
