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

    # === RUSSIAN DOCUMENTS (docs/russian-documents.md) === #
    bank_crm_kpp = fields.Char(related='partner_id.bank_crm_kpp', readonly=False)
    bank_crm_ogrn = fields.Char(related='partner_id.bank_crm_ogrn', readonly=False)
    bank_crm_director_name = fields.Char(
        string="Director",
        help="Who signs invoices and reconciliation acts as the head of the company, e.g. \"Иванов И. И.\".",
    )
    bank_crm_director_title = fields.Char(
        string="Director's Title",
        default="Генеральный директор",
        help="The director's position as printed under the signature line.",
    )
    bank_crm_accountant_name = fields.Char(
        string="Chief Accountant", help="Who signs invoices as the chief accountant, e.g. \"Петрова А. С.\"."
    )
    bank_crm_director_facsimile = fields.Image(
        string="Director's Facsimile",
        max_width=600,
        max_height=300,
        help="Optional: an image of the director's signature (transparent PNG), printed on the signature line.",
    )
    bank_crm_accountant_facsimile = fields.Image(
        string="Accountant's Facsimile",
        max_width=600,
        max_height=300,
        help="Optional: an image of the chief accountant's signature (transparent PNG).",
    )
    bank_crm_stamp = fields.Image(
        string="Company Stamp",
        max_width=600,
        max_height=600,
        help="Optional: an image of the company's stamp (transparent PNG), printed next to the signatures.",
    )

    def _bank_crm_is_russian(self):
        """Whether the company issues Russian documents (a «Счёт на оплату» as its invoice)."""
        self.ensure_one()
        return self.account_fiscal_country_id.code == 'RU' or self.country_id.code == 'RU'
