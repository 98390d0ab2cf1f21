from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tools.misc import formatLang

from .test_invoice_wizard import InvoiceLinkCommon

RUSSIAN = ("К оплате", "Оплатить", "В том числе налоги", "Есть вопросы?", ">ИНН<")
ENGLISH = ("To pay", "Taxes included", "Questions?", ">INN<")


@tagged('post_install', '-at_install')
class TestPayPageLanguage(InvoiceLinkCommon, HttpCase):
    """The customer's pages (pay page, portal invoice, the page the bank sends back to) are in
    the customer's language, else the company's; a language the visitor chose wins."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env['res.lang']._activate_lang('ru_RU')
        cls.env['ir.module.module']._load_module_terms(
            ['portal', 'account', 'account_payment', 'odoo_bank_crm'], ['ru_RU'], overwrite=True
        )
        cls.company.partner_id.write({'lang': 'ru_RU', 'phone': '+7 495 777-00-11'})
        # a Russian seller: its tax number is named INN, in the page's language ("ИНН")
        cls.company.write({'vat': '7709550014', 'country_id': cls.env.ref('base.ru').id})
        cls.env.ref('base.ru').vat_label = False
        cls.partner.lang = 'ru_RU'

    def setUp(self):
        super().setUp()
        self.invoice = self.env['account.move'].create(
            {
                'move_type': 'out_invoice',
                'partner_id': self.partner.id,
                'currency_id': self.currency_rub.id,
                'bank_crm_lead_id': self.lead.id,
                'invoice_line_ids': [
                    Command.create(
                        {
                            'name': "Equipment",
                            'quantity': 1,
                            'price_unit': 15000,
                            'tax_ids': [Command.set(self.vat20.ids)],
                        }
                    )
                ],
            }
        )
        self.invoice.action_post()
        with self._mock_bank_link():
            self.link = self.invoice._bank_crm_ensure_payment_link(kind='tbank')

    def _open(self, extra='', path=None):
        """The page as an anonymous customer's browser opens it (following Odoo's redirects)."""
        path = path or f'/bank_crm/pay/{self.invoice.id}'
        response = self.url_open(f'{path}?access_token={self.invoice._portal_ensure_token()}{extra}')
        self.assertEqual(response.status_code, 200)
        return response

    def assertRussian(self, html):
        for text in RUSSIAN:
            self.assertIn(text, html)
        for text in ENGLISH:
            self.assertNotIn(text, html)
        self.assertIn(formatLang(self.env(context={'lang': 'ru_RU'}), self.invoice.amount_residual), html)

    def assertEnglish(self, html):
        for text in ENGLISH:
            self.assertIn(text, html)
        for text in RUSSIAN:
            self.assertNotIn(text, html)
        self.assertIn(formatLang(self.env(context={'lang': 'en_US'}), self.invoice.amount_residual), html)

    def test_russian_customer_reads_russian(self):
        response = self._open()
        self.assertRussian(response.text)
        self.assertIn("+7 495 777-00-11", response.text, "the invoice company's phone")
        self.assertEqual(self.opener.cookies.get('frontend_lang'), 'ru_RU', "the next page stays Russian")

    def test_customer_without_language_reads_the_company_language(self):
        self.partner.lang = False
        self.assertRussian(self._open().text)

    def test_english_customer_stays_english(self):
        self.partner.lang = 'en_US'
        self.assertEnglish(self._open().text)
        self.assertEqual(self.opener.cookies.get('frontend_lang'), 'en_US')

    def test_a_language_chosen_by_the_visitor_wins(self):
        self.opener.cookies.set('frontend_lang', 'en_US')
        self.assertEnglish(self._open().text)

        self.partner.lang = 'en_US'
        self.opener.cookies.set('frontend_lang', 'ru_RU')
        response = self._open()
        self.assertTrue(response.url.split('?')[0].endswith(f'/ru/bank_crm/pay/{self.invoice.id}'), response.url)
        self.assertRussian(response.text)

    def test_a_logged_in_users_language_wins(self):
        self.salesperson.write({'password': 'tbank_salesperson', 'lang': 'en_US'})
        self.authenticate('tbank_salesperson', 'tbank_salesperson')
        self.assertEnglish(self._open().text)

    def test_the_page_after_the_bank_is_in_russian(self):
        self.assertRussian(self._open().text)
        # the bank sends the customer back with its result in the query (SuccessURL)
        html = self._open(extra='&Success=true&PaymentId=7001&ErrorCode=0').text
        self.assertRussian(html)
        self.assertIn("Спасибо! Ждём подтверждения платежа от банка", html)
        self.assertNotIn("We are waiting for the bank", html)

    def test_the_page_after_the_bank_keeps_an_english_customer_english(self):
        self.partner.lang = 'en_US'
        self._open()
        html = self._open(extra='&Success=true&PaymentId=7001&ErrorCode=0').text
        self.assertEnglish(html)
        self.assertIn("We are waiting for the bank to confirm your payment", html)

    def test_portal_invoice_in_the_customer_language(self):
        response = self._open(path=f'/my/invoices/{self.invoice.id}')
        self.assertNotIn(formatLang(self.env(context={'lang': 'en_US'}), self.invoice.amount_total), response.text)
        self.assertIn(formatLang(self.env(context={'lang': 'ru_RU'}), self.invoice.amount_total), response.text)
        self.assertEqual(self.opener.cookies.get('frontend_lang'), 'ru_RU')

        self.partner.lang = 'en_US'
        self.opener.cookies.clear()
        response = self._open(path=f'/my/invoices/{self.invoice.id}')
        self.assertIn(formatLang(self.env(context={'lang': 'en_US'}), self.invoice.amount_total), response.text)
        self.assertEqual(self.opener.cookies.get('frontend_lang'), 'en_US')
