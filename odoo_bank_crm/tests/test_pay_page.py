import re
from datetime import timedelta
from html import escape, unescape

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tools.misc import formatLang

from .test_invoice_wizard import InvoiceLinkCommon


def pay_form(html):
    """The Pay button's form of a pay page: (action, its fields)."""
    form = re.search(r'<form[^>]*o_bank_crm_pay_form[^>]*>(.*?)</form>', html, re.S)
    action = re.search(r'action="([^"]*)"', form.group(0)).group(1)
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(1)))
    return unescape(action), {name: unescape(value) for name, value in fields.items()}


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

    def _pay(self, invoice=None, **override):
        """What the Pay button does: the page opened, then its form POSTed."""
        action, fields = pay_form(self._page(invoice=invoice).text)
        fields.update(override)
        return self.url_open(action, data={k: v for k, v in fields.items() if v is not None}, allow_redirects=False)

    def test_the_access_token_is_required(self):
        other = self._create_invoice(amount=10)
        self.assertEqual(self._page(token=False).status_code, 404, "no token")
        self.assertEqual(self._page(token='not-the-token').status_code, 404, "a wrong token")
        self.assertEqual(self._page(token=other._portal_ensure_token()).status_code, 404, "another invoice's token")
        self.assertEqual(self._page(token=other._portal_ensure_token(), suffix='/go').status_code, 404)
        # a POST with a valid CSRF token (from the visitor's own page of the other invoice) but the other's token
        _action, fields = pay_form(self._page(invoice=other).text)
        response = self.url_open(
            f'/bank_crm/pay/{self.invoice.id}/go',
            data={'csrf_token': fields['csrf_token'], 'access_token': other.access_token},
            allow_redirects=False,
        )
        self.assertEqual(response.status_code, 404)
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
        self.assertEqual(
            pay_form(html)[0], f'/bank_crm/pay/{self.invoice.id}/go', "the Pay button POSTs its form to /go"
        )
        self.assertIn(escape(self.link.sbp_qr_image_url), html)
        self.assertIn('name="viewport"', html, "made for phones too")
        self.assertEqual(self.link.status, 'opened', "the customer opened the link")
        self.assertTrue(self.link.opened_date)

        # the QR code is drawn by Odoo's barcode route, for anyone
        qr = self.url_open(self.link.sbp_qr_image_url)
        self.assertEqual((qr.status_code, qr.headers['Content-Type']), (200, 'image/png'))

        with self._mock_bank_link() as bank:
            go = self._pay()
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
            go = self._pay()
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
        # a session's CSRF token, from an invoice that still has a Pay button
        _action, fields = pay_form(self._page(invoice=self._create_invoice(amount=10)).text)
        go = self.url_open(
            f'/bank_crm/pay/{self.invoice.id}/go',
            data={'csrf_token': fields['csrf_token'], 'access_token': self.invoice.access_token},
            allow_redirects=False,
        )
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
            go = self._pay(invoice=invoice)
        bank_link = invoice.bank_crm_payment_link_ids.filtered(lambda link: link.kind == 'tbank')
        self.assertEqual(go.headers['Location'], bank_link.payment_url)

    def test_portal_link_is_opened_on_the_portal_page(self):
        invoice = self._create_invoice(amount=300)
        link = invoice._bank_crm_ensure_payment_link(kind='portal')
        self.assertEqual(self.url_open(link.url).status_code, 200)
        self.assertEqual(link.status, 'opened')

    # === Issue #13 item 14: a GET changes nothing; the bank is called on a POST with a CSRF token === #

    def _bank_state(self, invoice):
        return (
            self.env['payment.transaction'].search_count([('invoice_ids', 'in', invoice.ids)]),
            len(invoice.bank_crm_payment_link_ids),
        )

    def test_a_get_changes_nothing(self):
        invoice = self._create_invoice(amount=700)
        with self._mock_bank_link() as bank:
            page = self._page(invoice=invoice)
            go = self._page(invoice=invoice, suffix='/go')  # an old bookmark, a link preview, a crawler
        self.assertEqual(page.status_code, 200)
        self.assertEqual(go.status_code, 303)
        self.assertIn(f'/bank_crm/pay/{invoice.id}?access_token=', go.headers['Location'], "back to the page")
        self.assertFalse(bank.calls, "no Init with the bank")
        self.assertEqual(self._bank_state(invoice), (0, 0), "no transaction, no link")

    def test_a_post_without_a_valid_csrf_token_is_refused(self):
        invoice = self._create_invoice(amount=700)
        action, fields = pay_form(self._page(invoice=invoice).text)
        stolen = fields['csrf_token']
        forged = {'access_token': invoice.access_token}
        with self._mock_bank_link() as bank:
            # a cross-site form (no token), a made-up token, and another session's token
            no_token = self.url_open(action, data=forged, allow_redirects=False)
            made_up = self.url_open(
                action, data=dict(forged, csrf_token='0' * 40 + 'o9999999999'), allow_redirects=False
            )
            self.opener.cookies.clear()
            other_session = self.url_open(action, data=dict(forged, csrf_token=stolen), allow_redirects=False)
        for response in (no_token, made_up, other_session):
            self.assertEqual(response.status_code, 400)
        self.assertFalse(bank.calls, "no Init with the bank")
        self.assertEqual(self._bank_state(invoice), (0, 0), "no transaction, no link")

    def test_a_post_with_the_csrf_token_inits_and_redirects(self):
        invoice = self._create_invoice(amount=700)
        with self._mock_bank_link() as bank:
            go = self._pay(invoice=invoice)
        (init,) = self._bank_requests(bank, 'Init')
        link = invoice.bank_crm_payment_link_ids
        self.assertEqual(go.status_code, 303)
        self.assertEqual(go.headers['Location'], link.payment_url)
        self.assertEqual(init['Amount'], 70000)
        self.assertEqual(self._bank_state(invoice), (1, 1))
