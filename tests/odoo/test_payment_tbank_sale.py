"""A sales order paid online offers and uses the T-Bank provider with payment_tbank alone
(no odoo_bank_crm; issue #14 §2): the provider is among the order's compatible providers
(sale's portal payment, the flow website_sale's checkout also takes), the order's
transaction registers the payment with the bank (the sandbox), and the bank's signed
notification pays it and confirms the order through Odoo's own post-processing.

`website_sale` itself is in the Odoo source the tests run on, but cannot be installed
there: `website`'s data (website_data.xml, the configurator's features) names modules this
source tree lacks (`website_hr_recruitment`), so the test takes `sale`, which carries the
order's payment logic (`sale_order_ids`, confirmation on payment) that website_sale uses."""

import shutil

import pytest

pytestmark = pytest.mark.odoo

DB = "bank_crm_payment_tbank_sale"
LOG = "payment-tbank-shop.log"

CHECKOUT = """
import json
from odoo import Command
from odoo.addons.payment_tbank.tbank_api import compute_token
from odoo.addons.payment_tbank.utils import to_minor
assert not env['ir.module.module'].search([('name', '=', 'odoo_bank_crm'), ('state', '=', 'installed')])
rub = env.ref('base.RUB')
provider = env.ref('payment_tbank.payment_provider_tbank')
provider.write({'tbank_terminal_key': 'TinkoffBankTest', 'tbank_password': 'TinkoffBankTest',
                'tbank_api_url': SANDBOX + '/v2', 'state': 'test', 'is_published': True})
partner = env['res.partner'].create({'name': 'Shop Buyer', 'email': 'buyer@example.com', 'phone': '+79161234567',
                                     'country_id': env.ref('base.ru').id, 'city': 'Moscow', 'street': 'Tverskaya 1',
                                     'zip': '125009'})
product = env['product.product'].create({'name': 'Chair', 'list_price': 1500.0, 'taxes_id': [Command.clear()]})
pricelist = env['product.pricelist'].create({'name': 'Roubles', 'currency_id': rub.id})
order = env['sale.order'].create({'partner_id': partner.id, 'pricelist_id': pricelist.id,
                                  'order_line': [Command.create({'product_id': product.id, 'product_uom_qty': 2})]})
providers = env['payment.provider'].sudo()._get_compatible_providers(
    order.company_id.id, partner.id, order.amount_total, currency_id=order.currency_id.id,
    sale_order_id=order.id)
offered = provider in providers
card = env.ref('payment.payment_method_card')
tx = env['payment.transaction'].sudo().create({
    'provider_id': provider.id, 'payment_method_id': card.id, 'amount': order.amount_total,
    'currency_id': order.currency_id.id, 'partner_id': partner.id, 'operation': 'online_redirect',
    'reference': env['payment.transaction']._compute_reference('tbank', sale_order_ids=[Command.set(order.ids)]),
    'sale_order_ids': [Command.set(order.ids)],
})
processing = tx._get_processing_values()
payment_url = tx.tbank_payment_url
payload = {'TerminalKey': 'TinkoffBankTest', 'OrderId': tx.reference, 'Success': True, 'Status': 'CONFIRMED',
           'PaymentId': int(tx.provider_reference), 'ErrorCode': '0', 'Amount': to_minor(tx.amount, tx.currency_id),
           'Pan': '430000******0777'}
payload['Token'] = compute_token(payload, 'TinkoffBankTest')
answer = env['payment.transaction'].sudo()._tbank_process_webhook(json.dumps(payload))
env['payment.transaction']._cron_post_process()
env.cr.commit()
env.invalidate_all()
result = {
    'offered': offered, 'currency': order.currency_id.name, 'form': 'method="get"' in processing['redirect_form_html'],
    'payment_url': bool(payment_url), 'answer': list(answer), 'tx': [tx.state, tx.tbank_status, tx.is_post_processed],
    'order': order.state,
}
"""


def test_sales_order_pays_with_tbank_without_odoo_bank_crm():
    import harness
    import odoo_db

    stack = harness.Stack()
    (harness.LOGS / LOG).unlink(missing_ok=True)
    port = harness.free_port()
    state = harness.ROOT / ".state" / "sandbox-payment-tbank-shop"
    shutil.rmtree(state, ignore_errors=True)
    sandbox = harness.start_sandbox(port, state, "payment-tbank-shop-sandbox.log")
    stack.fresh_db(DB)
    try:
        stack.odoo(["-d", DB, "-i", "payment_tbank,sale", "--stop-after-init", "--no-http"], LOG)
        script = f"SANDBOX = {f'http://127.0.0.1:{port}'!r}\n" + CHECKOUT
        result = harness.odoo_shell_json(stack, DB, script, LOG)
    finally:
        harness.stop(sandbox)
        shutil.rmtree(state, ignore_errors=True)
        odoo_db.drop(stack.port, DB, stack.cluster)
    assert result == {
        'offered': True,
        'currency': 'RUB',
        'form': True,
        'payment_url': True,
        'answer': [200, 'OK'],
        'tx': ['done', 'CONFIRMED', True],
        'order': 'sale',
    }
    log = (harness.LOGS / LOG).read_text(errors="replace")
    assert " ERROR " not in log and "Traceback" not in log, f"errors logged: see {LOG}"
