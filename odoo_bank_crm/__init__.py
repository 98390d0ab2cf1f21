from . import controllers
from . import models
from . import wizards

from odoo.addons.payment import reset_payment_provider, setup_provider


def post_init_hook(env):
    setup_provider(env, "tbank")
    # existing companies get the default product of amount-only invoices
    env['res.company'].search([('bank_crm_amount_product_id', '=', False)]).bank_crm_amount_product_id = env.ref(
        'odoo_bank_crm.product_product_invoice_amount'
    )


def uninstall_hook(env):
    reset_payment_provider(env, "tbank")
