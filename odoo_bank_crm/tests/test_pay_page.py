from datetime import timedelta
from html import escape

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools.misc import formatLang

from .test_invoice_wizard import InvoiceLinkCommon


@tagged('post_install', '-at_install')
class TestPayPage(InvoiceLinkCommon, HttpCase):
    """/bank_crm/pay/<invoice>: what a customer who is not logged in sees and can do."""

    def setUp(self):
        super().setUp()
        self.invoice = self._create_invoice()
        with self._mock_bank_link():
            self.link = self.invoice._bank_crm_ensure_payment_link(kind='tbank')

    def _page(self, invoice=None, token=None, suffix='', extra=''):
        invoice = invoice or self.invoice
        token = invoice._portal_ensure_token() if token is None else token
        query = f'?access_token={token}{extra}' if token else ''
        return self.url_open(f'/bank_crm/pay/{invoice.id}{suffix}{query}', allow_redirects=False)

    def test_the_access_token_is_required(self):
        other = self._create_invoice(amount=10)
        self.assertEqual(self._page(token=False).status_code, 404, "no token")
        self.assertEqual(self._page(token='not-the-token').status_code, 404, "a wrong token")
        self.assertEqual(self._page(token=other._portal_ensure_token()).status_code, 404, "another invoice's token")
        self.assertEqual(self._page(token=other._portal_ensure_token(), suffix='/go').status_code, 404)
        self.assertEqual(
            self.url_open(f'/bank_crm/pay/999999?access_token={self.invoice.access_token}').status_code, 404
        )
        draft = self.env['account.move'].create({'move_type': 'out_invoice', 'partner_id': self.partner.id})
        self.assertEqual(self._page(invoice=draft).status_code, 404, "a draft is not payable")
        self.assertFalse(self.link.opened_date)

    def test_customer_sees_the_invoice_and_pays_on_the_bank_page(self):
        response = self._page()
        self.assertEqual(response.status_code, 200)
        html = response.text
        self.assertIn(self.invoice.name, html)
        self.assertIn(self.invoice.company_id.name, html)
        self.assertIn("Equipment", html)
        self.assertIn(formatLang(self.env, self.invoice.amount_residual), html)  # 1,234.56
        self.assertIn(escape(f'/bank_crm/pay/{self.invoice.id}/go?access_token={self.invoice.access_token}'), html)
        self.assertIn(escape(self.link.sbp_qr_image_url), html)
        self.assertIn('name="viewport"', html, "made for phones too")
        self.assertEqual(self.link.status, 'opened', "the customer opened the link")
        self.assertTrue(self.link.opened_date)

        # the QR code is drawn by Odoo's barcode route, for anyone
        qr = self.url_open(self.link.sbp_qr_image_url)
        self.assertEqual((qr.status_code, qr.headers['Content-Type']), (200, 'image/png'))

        with self._mock_bank_link() as bank:
            go = self._page(suffix='/go')
        self.assertEqual(go.status_code, 303)
        self.assertEqual(go.headers['Location'], self.link.payment_url)
        self.assertFalse(bank.calls, "the link still valid is reused")

    def test_expired_link_says_so_and_offers_a_fresh_one(self):
        self.link.sudo().expiry_date = fields.Datetime.now() - timedelta(minutes=5)
        html = self._page().text
        self.assertIn("This payment link has expired", html)
        self.assertIn("Get a new link and pay", html)
        self.assertNotIn(escape(self.link.sbp_qr_image_url), html, "an expired QR code is not shown")

        with self._mock_bank_link() as bank:
            go = self._page(suffix='/go')
        (init,) = self._bank_requests(bank, 'Init')
        fresh = self.invoice.bank_crm_payment_link_ids - self.link
        self.assertEqual(len(fresh), 1)
        self.assertEqual(go.headers['Location'], fresh.payment_url)
        self.assertNotEqual(fresh.payment_url, self.link.payment_url)
        self.assertEqual(self.link.transaction_id.state, 'cancel', "the bank's expired payment is closed")
        self.assertEqual(self.link.status, 'expired')
        self.assertEqual(init['OrderId'], fresh.transaction_id.reference)
        self.assertNotIn("This payment link has expired", self._page().text)

    def test_paid_invoice_says_paid(self):
        self.link.transaction_id._tbank_apply_status('CONFIRMED')
        self.assertIn(self.invoice.payment_state, ('paid', 'in_payment'))
        html = self._page().text
        self.assertIn("This invoice is paid", html)
        self.assertNotIn('o_bank_crm_pay_button', html)
        go = self._page(suffix='/go')
        self.assertEqual(go.status_code, 303)
        self.assertIn(
            f'/bank_crm/pay/{self.invoice.id}?access_token=', go.headers['Location'], "nothing to pay: back to the page"
        )

    def test_return_from_the_bank_before_its_notification(self):
        # the bank sends the customer back with its result in the query (SuccessURL)
        html = self._page(extra='&Success=true&PaymentId=7001&ErrorCode=0').text
        self.assertIn("We are waiting for the bank to confirm your payment", html)

    def test_page_speaks_the_customer_language(self):
        self.env['res.lang']._activate_lang('ru_RU')
        self.partner.lang = 'ru_RU'
        html = self._page().text
        self.assertIn(formatLang(self.env(context={'lang': 'ru_RU'}), self.invoice.amount_residual), html)  # 1 234,56
        self.assertNotIn(formatLang(self.env, self.invoice.amount_residual), html)

    def test_internal_users_preview_without_opening(self):
        self.salesperson.password = 'tbank_salesperson'
        self.authenticate('tbank_salesperson', 'tbank_salesperson')
        self.assertEqual(
            self.url_open(f'/bank_crm/pay/{self.invoice.id}').status_code,
            200,
            "users who may read the invoice need no token",
        )
        self.assertFalse(self.link.opened_date, "the salesperson's preview is not the customer's visit")

    def test_portal_link_invoice_gets_a_bank_link_from_the_pay_button(self):
        invoice = self._create_invoice(amount=300)
        invoice._bank_crm_ensure_payment_link(kind='portal')
        self.assertIn("Pay", self._page(invoice=invoice).text)
        with self._mock_bank_link():
            go = self._page(invoice=invoice, suffix='/go')
        bank_link = invoice.bank_crm_payment_link_ids.filtered(lambda link: link.kind == 'tbank')
        self.assertEqual(go.headers['Location'], bank_link.payment_url)

    def test_portal_link_is_opened_on_the_portal_page(self):
        invoice = self._create_invoice(amount=300)
        link = invoice._bank_crm_ensure_payment_link(kind='portal')
        self.assertEqual(self.url_open(link.url).status_code, 200)
        self.assertEqual(link.status, 'opened')
