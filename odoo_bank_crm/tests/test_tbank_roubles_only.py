import responses

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, tagged

from .test_auto_invoice_rule import AutoInvoiceCommon
from .test_invoice_wizard import InvoiceLinkCommon
from .test_pay_page import pay_form


@tagged('post_install', '-at_install')
class TestTBankRoublesOnly(InvoiceLinkCommon, HttpCase):
    """Issue #13 item 3: no path sends T-Bank another currency's minor units as kopecks."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.usd = cls.env.ref('base.USD')
        cls.usd.active = True
        # even a provider set to take dollars (its currencies are editable) gets no dollar payment
        cls.tbank.available_currency_ids = [Command.link(cls.usd.id)]

    def setUp(self):
        super().setUp()
        self.usd_invoice = self._create_invoice(amount=500, currency_id=self.usd.id)

    def _nothing_for(self, invoice, bank):
        self.assertFalse(self._bank_requests(bank, 'Init'), "no Init with the bank")
        self.assertFalse(self.env['payment.transaction'].search_count([('invoice_ids', 'in', invoice.ids)]))
        self.assertFalse(invoice.bank_crm_payment_link_ids.filtered(lambda link: link.kind == 'tbank'))

    def test_pay_page_refuses_with_a_clear_message(self):
        token = self.usd_invoice._portal_ensure_token()
        page = self.url_open(f'/bank_crm/pay/{self.usd_invoice.id}?access_token={token}')
        self.assertIn("takes roubles (RUB) only. Please contact us", page.text)
        self.assertNotIn('o_bank_crm_pay_button', page.text, "no Pay button")
        # a POST made by hand, with a valid CSRF token of the visitor's session
        _action, fields = pay_form(self.url_open(self._create_invoice(amount=10)._bank_crm_pay_page_url()).text)
        with self._mock_bank_link() as bank:
            response = self.url_open(
                f'/bank_crm/pay/{self.usd_invoice.id}/go',
                data={'csrf_token': fields['csrf_token'], 'access_token': token},
                allow_redirects=False,
            )
        self.assertEqual(response.status_code, 200, "the page again, with the reason")
        self.assertIn("takes roubles (RUB) only. Please contact us", response.text)
        self._nothing_for(self.usd_invoice, bank)

    def test_invoice_wizard_refuses_before_creating_anything(self):
        form = self._wizard_form(lead=self.lead, link_kind='tbank')
        form.currency_id = self.usd
        wizard = form.save()
        before = self._counts()
        with self._mock_bank_link() as bank, self.assertRaisesRegex(ValidationError, r'roubles \(RUB\) only'):
            wizard.action_issue()
        self.assertEqual(self._counts(), before)
        self.assertFalse(bank.calls)
        # a portal link in dollars is still fine
        form = self._wizard_form(lead=self.lead, link_kind='portal')
        form.currency_id = self.usd
        invoice, link = self._issue(form)
        self.assertEqual((invoice.currency_id, link.kind), (self.usd, 'portal'))

    def test_sending_or_resending_a_link_refuses(self):
        invoice = self.usd_invoice.with_user(self.salesperson)
        with self._mock_bank_link() as bank, self.assertRaisesRegex(ValidationError, "USD"):
            invoice.action_bank_crm_send_payment_link()
        self._nothing_for(self.usd_invoice, bank)
        # a bank link issued in dollars before this fix is never sent again
        old = self.Link.sudo().create(
            {
                'invoice_id': self.usd_invoice.id,
                'kind': 'tbank',
                'amount': 500,
                'url': self.usd_invoice._bank_crm_pay_page_url(),
                'payment_url': 'https://securepay.example/old',
                'user_id': self.salesperson.id,
            }
        )
        messages = len(self.usd_invoice.message_ids)
        with self.assertRaisesRegex(ValidationError, "USD"):
            old.with_user(self.salesperson).action_send()
        self.assertEqual(len(self.usd_invoice.message_ids), messages, "nothing emailed")
        self.assertFalse(old.sent_date)

    def test_shop_path_and_checkout_refuse(self):
        """What the shop API and Odoo's checkout call: the link, and Init itself."""
        with self._mock_bank_link() as bank:
            with self.assertRaisesRegex(ValidationError, "USD"):
                self.usd_invoice._bank_crm_tbank_payment_link()
            tx = self._create_transaction('redirect', currency_id=self.usd.id, reference='USD-CHECKOUT-1')
            with self.assertRaisesRegex(ValidationError, "USD"):
                tx._get_processing_values()
        self._nothing_for(self.usd_invoice, bank)
        self.assertFalse(tx.provider_reference)

    def test_a_dollar_transaction_is_never_paid_by_a_notification(self):
        tx = self._create_transaction(
            'redirect', currency_id=self.usd.id, reference='USD-NOTIFY-1', provider_reference='9'
        )
        with self.assertRaisesRegex(ValidationError, "USD"):
            tx._handle_notification_data('tbank', self._notification(tx, 'CONFIRMED'))
        self.assertEqual(tx.state, 'draft')

    def test_roubles_still_pay(self):
        invoice = self._create_invoice(amount=500)
        with self._mock_bank_link() as bank:
            link = invoice.with_user(self.salesperson)._bank_crm_ensure_payment_link(kind='tbank')
        (init,) = self._bank_requests(bank, 'Init')
        self.assertEqual(init['Amount'], 50000)
        self.assertEqual(link.kind, 'tbank')


@tagged('post_install', '-at_install')
class TestStageInvoiceRoublesOnly(AutoInvoiceCommon):
    """Issue #13 item 3, stage-triggered invoices: a rule sending T-Bank links in a company
    that invoices in dollars records why it could not, and never calls the bank."""

    def test_stage_triggered_invoice_in_dollars_gets_no_bank_link(self):
        self.assertNotEqual(self.env.company.currency_id.name, 'RUB')
        # sudo: test set-up of the company's terminal, as an administrator does
        self.env.ref('payment_tbank.payment_provider_tbank').sudo().copy(
            {
                'name': "T-Bank (rules)",
                'tbank_terminal_key': 'RuleTestDEMO',
                'tbank_password': 'RuleTestPassword',
                'tbank_api_url': 'http://localhost:8999/tbank/v2',
                'company_id': self.env.company.id,
                'state': 'test',
            }
        )
        rule = self._rule(send_mode='send', payment_link_kind='tbank')
        lead = self._leads((self.moscow, 2500))
        with responses.RequestsMock(assert_all_requests_are_fired=False) as bank:
            bank.add(responses.POST, 'http://localhost:8999/tbank/v2/Init', json={'Success': True})
            lead.stage_id = self.stage_signed
            self._send_queued()
            calls = list(bank.calls)
        self.assertFalse(calls, "no Init with the bank")
        firing = rule.firing_ids
        self.assertEqual(firing.send_state, 'failed')
        self.assertIn("roubles (RUB) only", firing.send_error)
        invoice = self._invoices(lead)
        self.assertFalse(self._emailed_to_customer(invoice))
        self.assertFalse(self.env['payment.transaction'].search_count([('invoice_ids', 'in', invoice.ids)]))
