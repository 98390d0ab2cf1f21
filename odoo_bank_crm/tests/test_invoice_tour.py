import os
import time

import requests

from odoo.tests import HttpCase, tagged

from .test_pay_page import pay_form

TEST_CARD = '2200770239097761'  # bank_sandbox/README.md: succeeds


@tagged('post_install', '-at_install')
class TestInvoiceTour(HttpCase):
    """In a real browser, against the bank sandbox: a salesperson issues an invoice from a
    deal, the customer opens its pay page and pays on the bank's page, the bank's
    notification reaches Odoo, and the deal shows Paid."""

    def setUp(self):
        super().setUp()
        self.sandbox_url = os.environ.get('BANK_CRM_SANDBOX_URL')
        if not self.sandbox_url:
            self.skipTest("needs the bank sandbox: run through make test")
        self.sandbox_url = self.sandbox_url.rstrip('/')
        self._sandbox('POST', '/_admin/reset', json={})  # its payments of another run are not ours
        provider = self.env.ref('payment_tbank.payment_provider_tbank')
        provider.write(
            {
                'tbank_terminal_key': 'TinkoffBankTest',
                'tbank_password': 'TinkoffBankTest',
                'tbank_api_url': f'{self.sandbox_url}/v2',
                'state': 'test',
            }
        )
        self.assertTrue(
            provider.journal_id.inbound_payment_method_line_ids.filtered(
                lambda line: line.payment_provider_id == provider
            )
        )
        self.company = self.env.ref('base.main_company')
        if self.company.currency_id.name != 'RUB':
            self.skipTest("the bank takes roubles: the demo company works in RUB")
        self.company.bank_crm_payment_link_kind = 'tbank'
        # The generic chart's sales tax belongs to another country than the Russian demo
        # company's; amount-only invoices here are without VAT (simplified taxation).
        self.company.bank_crm_amount_product_id.taxes_id = False
        self.partner = self.env['res.partner'].create(
            {'name': "ООО «Василёк»", 'email': 'buyer@vasilek.example.com', 'lang': 'en_US'}
        )
        self.lead = self.env['crm.lead'].create(
            {
                'name': "Office furniture",
                'type': 'opportunity',
                'partner_id': self.partner.id,
                'expected_revenue': 1000,
                'user_id': self.env.ref('base.user_admin').id,
                'company_id': self.company.id,
            }
        )

    def _sandbox(self, method, path, **kwargs):
        response = requests.request(method, f'{self.sandbox_url}{path}', timeout=30, **kwargs)
        response.raise_for_status()
        return response

    def test_issue_invoice_pay_on_the_bank_page_and_see_the_deal_paid(self):
        deal_url = f'/odoo/action-crm.crm_lead_action_pipeline/{self.lead.id}'
        self.start_tour(deal_url, 'odoo_bank_crm_invoice_tour', login='admin')

        invoice = self.lead.bank_crm_invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.amount_total, 1500.50)
        link = invoice.bank_crm_payment_link_ids
        self.assertEqual((link.kind, link.status), ('tbank', 'sent'), "emailed, and opened by a user, not the customer")
        self.assertTrue(link.payment_url.startswith(f'{self.sandbox_url}/pay/'))
        self.assertTrue(link.sbp_qr_payload.startswith('https://qr.nspk.ru/'))

        # The customer opens the pay page (not logged in), then pays on the bank's card form.
        self.authenticate(None, None)
        page = self.url_open(link.url)
        self.assertEqual(page.status_code, 200)
        action, fields = pay_form(page.text)
        redirect = self.url_open(action, data=fields, allow_redirects=False)
        self.assertEqual(redirect.headers['Location'], link.payment_url)
        self.assertEqual(link.status, 'opened')
        bank_page = self._sandbox('GET', f'/pay/{link.transaction_id.provider_reference}')
        self.assertIn('card_number', bank_page.text)
        paid = self._sandbox(
            'POST',
            f'/pay/{link.transaction_id.provider_reference}',
            allow_redirects=False,
            data={'action': 'card', 'card_number': TEST_CARD, 'exp_date': '12/30', 'cvv': '123'},
        )
        self.assertEqual(paid.status_code, 303)
        self.assertTrue(paid.headers['Location'].startswith(link.url), "back to the pay page")

        # The bank's signed notifications reach Odoo's webhook. They come without the test
        # browser's cookie, which Odoo's test server demands after a tour unless told not to.
        self.http_request_strict_check = False
        for _attempt in range(40):
            self._sandbox('POST', '/_admin/notify/flush', json={})
            with self.registry.test_lock:  # the server's requests share this test's cursor
                self.env.invalidate_all()
                if link.transaction_id.state == 'done':
                    break
            time.sleep(0.25)
        self.assertEqual(link.transaction_id.state, 'done')
        # What Odoo's post-processing job, which the webhook triggers, does right after:
        # the payment is posted and reconciled with the invoice.
        link.transaction_id.filtered(lambda tx: not tx.is_post_processed)._post_process()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(link.status, 'paid')
        self.assertEqual(self.lead.bank_crm_payment_state, 'paid')
        self.assertIn("This invoice is paid", self.url_open(link.url).text)

        self.start_tour(deal_url, 'odoo_bank_crm_invoice_paid_tour', login='admin')
