from odoo import fields, models


class ResCompany(models.Model):
    _inherit = 'res.company'

    bank_crm_notify_salesperson = fields.Boolean(string="Tell the Salesperson", default=True)
    bank_crm_notify_user_ids = fields.Many2many(
        'res.users',
        'bank_crm_company_notify_user_rel',
        'company_id',
        'user_id',
        string="Also Tell",
        domain=[('share', '=', False)],
    )
    bank_crm_paid_stage_id = fields.Many2one('crm.stage', string="Stage of Paid Deals")
    bank_crm_shop_user_id = fields.Many2one('res.users', string="Shop Integration User", domain=[('share', '=', False)])
    bank_crm_shop_team_id = fields.Many2one('crm.team', string="Sales Team of Shop Deals")
    bank_crm_shop_stage_id = fields.Many2one('crm.stage', string="Stage of Shop Deals")
    bank_crm_shop_product_id = fields.Many2one('product.product', string="Product of Items Without a Code")
    bank_crm_amount_product_id = fields.Many2one(
        'product.product',
        string="Product of Amount-Only Invoices",
        default=lambda self: self.env.ref('odoo_bank_crm.product_product_invoice_amount', raise_if_not_found=False),
        help="The product (and so the taxes and income account) of invoices issued for an amount only.",
    )
    bank_crm_amount_label = fields.Char(
        string="Wording of Amount-Only Invoices",
        translate=True,
        help="What the single line of an amount-only invoice says, e.g. \"Payment under the contract\".",
    )
    bank_crm_payment_link_kind = fields.Selection(
        selection=[('tbank', "T-Bank payment link"), ('portal', "Odoo customer portal")],
        string="Payment Link of Invoices",
        default='tbank',
        required=True,
        help="What invoices issued from the CRM are paid by: the bank's payment page (cards and "
        "SBP QR code, behind the invoice's pay page) or the invoice's page in Odoo's customer portal.",
    )
    bank_crm_acquiring_fee_account_id = fields.Many2one(
        'account.account',
        string="Acquiring Fee Account",
        check_company=True,
        help="Expense account of the fees acquirers deduct from their daily payouts.",
    )
