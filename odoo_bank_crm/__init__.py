from . import controllers
from . import models
from . import wizards


def post_init_hook(env):
    # existing companies get the default product of amount-only invoices
    env['res.company'].search([('bank_crm_amount_product_id', '=', False)]).bank_crm_amount_product_id = env.ref(
        'odoo_bank_crm.product_product_invoice_amount'
    )
