import json
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from html import escape
from itertools import count
from types import SimpleNamespace
from urllib.parse import parse_qs, quote, urlparse

import responses
from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .tbank_common import SANDBOX_URL, TERMINAL_KEY, TBankCommon

QR_PAYLOAD = (
    'https://qr.nspk.ru/AD10006M8KH0HIF0ULJSB3TFQD5LM4GL?type=02&bank=100000000004&sum={amount}&cur=RUB&crc=C08B'
)


def kopecks(value):
    return Decimal(str(value)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)


class InvoiceLinkCommon(TBankCommon):
    """A deal to invoice, taxes and products, and the bank faked at the HTTP boundary:
    Init registers a payment, GetQr gives its SBP QR code (or refuses: no SBP)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.bank_crm_payment_link_kind = 'tbank'
        cls.env.user.groups_id += cls.env.ref('odoo_bank_crm.group_bank_crm_user')
        cls.partner.lang = 'en_US'
        cls.lead.company_id = cls.company
        cls.vat20 = cls.env['account.tax'].create(
            {
                'name': "VAT 20%",
                'amount': 20,
                'type_tax_use': 'sale',
                'price_include_override': 'tax_excluded',
                'company_id': cls.company.id,
            }
        )
        cls.chair = cls.env['product.product'].create(
            {'name': "Office chair", 'lst_price': 1999.99, 'taxes_id': [Command.set(cls.vat20.ids)]}
        )
        cls.no_price = cls.env['product.product'].create({'name': "Custom work", 'lst_price': 0.0})
        cls.Move = cls.env['account.move']
        cls.Link = cls.env['bank.crm.payment.link']
        cls.Wizard = cls.env['bank.crm.invoice.wizard']

    @contextmanager
    def _mock_bank_link(self, qr=True, init_error=None):
        """Init and GetQr answered like the bank; yields a recorder of the requests
        (`calls`, `sent(method)`) kept after the block."""
        recorder = SimpleNamespace(calls=[])
        if not hasattr(self, '_payment_ids'):  # the bank never gives the same PaymentId twice
            self._payment_ids = count(7001)
        payment_ids = self._payment_ids

        def answer(values):
            return 200, {}, json.dumps({'TerminalKey': TERMINAL_KEY, 'Success': True, 'ErrorCode': '0', **values})

        def init(request):
            if init_error:
                return answer({'Success': False, 'ErrorCode': '9999', 'Message': init_error})
            body = json.loads(request.body)
            payment_id = str(next(payment_ids))
            return answer(
                {
                    'Status': 'NEW',
                    'PaymentId': payment_id,
                    'OrderId': body['OrderId'],
                    'Amount': body['Amount'],
                    'PaymentURL': f'https://securepay.test/new/{payment_id}',
                }
            )

        def get_qr(request):
            body = json.loads(request.body)
            if not qr:
                return answer({'Success': False, 'ErrorCode': '3001', 'Message': "SBP is not enabled for the terminal"})
            return answer({'PaymentId': body['PaymentId'], 'Data': QR_PAYLOAD.format(amount=body['PaymentId'])})

        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(responses.POST, f'{SANDBOX_URL}/Init', callback=init, content_type='application/json')
            mock.add_callback(responses.POST, f'{SANDBOX_URL}/GetQr', callback=get_qr, content_type='application/json')
            mock.add_passthru('http://127.0.0.1')  # the test server of HttpCase
            try:
                yield recorder
            finally:
                recorder.calls = [call for call in mock.calls if call.request.url.startswith(SANDBOX_URL)]

    @staticmethod
    def _bank_requests(recorder, method):
        return [
            json.loads(call.request.body) for call in recorder.calls if call.request.url == f'{SANDBOX_URL}/{method}'
        ]

    def _wizard_form(self, lead=None, partner=None, **values):
        context = {'default_lead_id': lead.id} if lead else {'default_partner_id': partner.id}
        form = Form(self.Wizard.with_user(self.salesperson).with_context(**context))
        form.currency_id = self.currency_rub
        form.send_now = False
        for name, value in values.items():
            setattr(form, name, value)
        return form

    def _issue(self, form):
        wizard = form.save()
        action = wizard.action_issue()
        link = self.Link.browse(action['res_id'])  # read back as the test's user
        return link.invoice_id, link

    def _counts(self):
        return (
            self.Move.search_count([]),
            self.Link.search_count([]),
            self.env['payment.transaction'].search_count([]),
            self.env['mail.mail'].search_count([]),
        )


@tagged('post_install', '-at_install')
class TestInvoiceWizard(InvoiceLinkCommon):
    """The "Issue invoice" wizard: the invoice it builds, to the kopeck, and its payment link."""

    def test_amount_only_from_deal_with_bank_link_and_qr(self):
        due = fields.Date.today() + timedelta(days=3)
        form = self._wizard_form(lead=self.lead, due_date=due)
        self.assertEqual(form.partner_id, self.partner)
        self.assertEqual(form.mode, 'amount')
        self.assertEqual(form.amount, 1234.56, "the deal's expected revenue is prefilled")
        self.assertEqual(form.link_kind, 'tbank')
        form.payer_name = "Иванов Иван"
        form.order_status = "Ready to ship"
        form.customer_notes = "Thank you for your order"
        with self._mock_bank_link() as bank:
            invoice, link = self._issue(form)

        self.assertEqual(invoice.state, 'posted')
        self.assertEqual(invoice.bank_crm_lead_id, self.lead)
        self.assertEqual(invoice.invoice_line_ids.product_id, self.company.bank_crm_amount_product_id)
        self.assertEqual(kopecks(invoice.amount_total), Decimal('1234.56'))
        self.assertEqual(invoice.invoice_date_due, due)
        self.assertEqual(invoice.bank_crm_payer_name, "Иванов Иван")
        self.assertIn("Thank you for your order", str(invoice.narration))

        (init,) = self._bank_requests(bank, 'Init')
        self.assertEqual(init['Amount'], 123456)
        self.assertEqual(
            init['RedirectDueDate'],
            f'{due.isoformat()}T23:59:59+03:00',
            "the link lives until the end of the due date, Moscow time",
        )
        pay_page = f"/bank_crm/pay/{invoice.id}?access_token={invoice.access_token}"
        self.assertTrue(init['SuccessURL'].endswith(pay_page))
        self.assertEqual(link.kind, 'tbank')
        self.assertTrue(link.url.endswith(pay_page))
        self.assertEqual(link.payment_url, 'https://securepay.test/new/7001')
        self.assertEqual(link.transaction_id.provider_reference, '7001')
        self.assertEqual(link.sbp_qr_payload, QR_PAYLOAD.format(amount='7001'))
        self.assertEqual(invoice.bank_crm_sbp_qr_payload, link.sbp_qr_payload)
        self.assertIn(
            '/report/barcode/?barcode_type=QR&value=https%3A%2F%2Fqr.nspk.ru%2F', invoice.bank_crm_sbp_qr_image_url
        )
        self.assertEqual(link.status, 'new')
        self.assertEqual((link.lead_id, link.partner_id, link.company_id), (self.lead, self.partner, self.company))
        self.assertEqual(kopecks(link.amount), Decimal('1234.56'))
        self.assertEqual(invoice.bank_crm_payment_url, link.url)
        self.assertEqual(self.lead.bank_crm_payment_state, 'unpaid')

    def test_amount_only_with_discount_on_the_invoice(self):
        form = self._wizard_form(partner=self.partner, amount=999.99, discount=3, link_kind='portal')
        invoice, link = self._issue(form)
        # by hand: 999.99 × 0.97 = 969.9903 → 969.99, taxes included in the amount
        self.assertEqual(kopecks(invoice.amount_total), kopecks(Decimal('999.99') * Decimal('0.97')))
        self.assertEqual(kopecks(invoice.amount_total), Decimal('969.99'))
        self.assertEqual(link.kind, 'portal')
        self.assertIn(f'/my/invoices/{invoice.id}?access_token=', link.url)
        self.assertFalse(link.transaction_id)

    def test_itemised_taxes_excluded_with_line_and_invoice_discounts(self):
        form = self._wizard_form(lead=self.lead, mode='items', discount=5)
        with form.line_ids.new() as line:
            line.product_id = self.chair
            self.assertEqual(line.price_unit, 1999.99)
            self.assertEqual(line.tax_ids[:], self.vat20)
            line.quantity = 3
            line.discount = 10
        with form.line_ids.new() as line:
            line.name = "Delivery"
            line.price_unit = 500
            line.tax_ids.clear()
        # by hand, rounded per line: chairs 3 × 1999.99 × 0.90 × 0.95 = 5129.97435 → 5129.97,
        # their VAT 20% = 1025.99487 → 1025.99; delivery 500 × 0.95 = 475.00
        chairs = Decimal('1999.99') * 3 * Decimal('0.90') * Decimal('0.95')
        vat = kopecks(chairs * Decimal('0.2'))
        untaxed = kopecks(chairs) + kopecks(Decimal('500') * Decimal('0.95'))
        self.assertEqual((untaxed, vat), (Decimal('5604.97'), Decimal('1025.99')))
        self.assertEqual(kopecks(form.amount_total), untaxed + vat, "the wizard's preview is the invoice's total")
        with self._mock_bank_link():
            invoice, _link = self._issue(form)
        self.assertEqual(kopecks(invoice.amount_untaxed), untaxed)
        self.assertEqual(kopecks(invoice.amount_tax), vat)
        self.assertEqual(kopecks(invoice.amount_total), Decimal('6630.96'))
        self.assertEqual(invoice.invoice_line_ids.mapped('discount'), [14.5, 5.0])

    def test_itemised_prices_including_taxes(self):
        form = self._wizard_form(partner=self.partner, mode='items', prices_include_tax=True)
        with form.line_ids.new() as line:
            line.product_id = self.chair
            line.price_unit = 1200
            line.quantity = 2
            line.discount = 12.5
        with form.line_ids.new() as line:
            line.product_id = self.chair
            line.price_unit = 33.33
            line.quantity = 3
        # by hand: 2 × 1200 × 0.875 = 2100.00 incl. VAT 2100 × 20/120 = 350.00;
        # 3 × 33.33 = 99.99 incl. VAT 99.99 × 20/120 = 16.665 → 16.67 (half up)
        first, second = Decimal('2100.00'), Decimal('99.99')
        vat = kopecks(first * 20 / 120) + kopecks(second * 20 / 120)
        self.assertEqual(vat, Decimal('366.67'))
        self.assertEqual(kopecks(form.amount_total), first + second)
        with self._mock_bank_link():
            invoice, _link = self._issue(form)
        self.assertEqual(kopecks(invoice.amount_total), Decimal('2199.99'))
        self.assertEqual(kopecks(invoice.amount_tax), vat)
        self.assertEqual(kopecks(invoice.amount_untaxed), Decimal('2199.99') - vat)
        self.assertTrue(all(tax.price_include for tax in invoice.invoice_line_ids.tax_ids))

    def test_currency_rounding_of_another_currency(self):
        """A currency without minor units (portal link: the bank takes roubles only)."""
        jpy = self._prepare_currency('JPY')
        self.assertEqual(jpy.rounding, 1.0)
        self.env['res.currency.rate'].create(
            {'currency_id': jpy.id, 'rate': 1.6, 'name': '2020-01-01', 'company_id': self.company.id}
        )
        form = self._wizard_form(partner=self.partner, mode='items', link_kind='portal', discount=10)
        form.currency_id = jpy
        with form.line_ids.new() as line:
            line.name = "Consulting"
            line.price_unit = 333.4
            line.quantity = 3
            line.tax_ids.clear()
        invoice, link = self._issue(form)
        # by hand: 3 × 333.40 × 0.90 = 900.18 → 900 yen
        self.assertEqual(invoice.currency_id, jpy)
        self.assertEqual(Decimal(str(invoice.amount_total)), Decimal('900'))
        self.assertEqual(kopecks(form.amount_total), Decimal('900.00'))
        self.assertEqual(link.kind, 'portal')

    def test_issue_from_the_customer_card(self):
        form = self._wizard_form(partner=self.partner, amount=150)
        self.assertFalse(form.lead_id)
        with self._mock_bank_link():
            invoice, link = self._issue(form)
        self.assertEqual(invoice.partner_id, self.partner)
        self.assertFalse(invoice.bank_crm_lead_id)
        self.assertIn(invoice, self.partner.bank_crm_invoice_ids)
        self.assertEqual(self.partner.bank_crm_payment_link_count, 1)
        self.assertEqual(link.partner_id, self.partner)

    def test_sbp_not_enabled_still_gives_the_card_link(self):
        form = self._wizard_form(lead=self.lead)
        with self._mock_bank_link(qr=False):
            invoice, link = self._issue(form)
        self.assertEqual(link.payment_url, 'https://securepay.test/new/7001')
        self.assertFalse(link.sbp_qr_payload)
        self.assertFalse(invoice.bank_crm_sbp_qr_payload)
        self.assertIn("SBP is not enabled", link.note)
        self.assertTrue(invoice.message_ids.filtered(lambda m: "no SBP QR code" in str(m.body)))

    def test_bad_input_creates_nothing(self):
        no_email = self.env['res.partner'].create({'name': "Без почты"})
        yesterday = fields.Date.today() - timedelta(days=1)
        usd = self.env.ref('base.USD')
        if usd == self.currency_rub:  # pragma: no cover - a company in another currency
            usd = self._prepare_currency('EUR')
        cases = {
            "zero amount": ({'amount': 0}, "more than zero"),
            "negative amount": ({'amount': -10}, "more than zero"),
            "send now without an email": ({'partner_id': no_email.id, 'send_now': True}, "no email address"),
            "a product without a price": (
                {'mode': 'items', 'line_ids': [Command.create({'product_id': self.no_price.id, 'quantity': 1})]},
                "has no price",
            ),
            "a currency the bank does not take": ({'currency_id': usd.id}, "RUB"),
            "a due date in the past": ({'due_date': yesterday}, "already passed"),
            "a discount of 100%": ({'discount': 100}, "between 0 and 100"),
        }
        before = self._counts()
        for case, (values, message) in cases.items():
            with self.subTest(case=case), self._mock_bank_link() as bank:
                wizard = (
                    self.Wizard.with_user(self.salesperson)
                    .with_context(default_lead_id=self.lead.id)
                    .create({'currency_id': self.currency_rub.id, 'send_now': False, 'amount': 100, **values})
                )
                with self.assertRaisesRegex(UserError, message):
                    wizard.action_issue()
                self.assertEqual(self._counts(), before, "nothing is created")
                self.assertFalse(bank.calls, "the bank is not asked")

    def test_send_by_sms_when_the_sms_app_is_installed(self):
        if 'sms.sms' not in self.env:
            self.skipTest("the SMS app is not installed")
        form = self._wizard_form(lead=self.lead, link_kind='portal')
        self.assertTrue(form.sms_available)
        form.send_sms = True
        invoice, link = self._issue(form)
        sms = self.env['sms.sms'].sudo().search([('partner_id', '=', self.partner.id)])
        self.assertEqual(len(sms), 1)
        self.assertIn(link.url, sms.body)
        self.assertIn(invoice.name, sms.body)
        self.assertEqual(link.status, 'sent')

    def test_bank_refusal_creates_nothing(self):
        before = self._counts()
        form = self._wizard_form(lead=self.lead)
        with self._mock_bank_link(init_error="Terminal blocked"), self.assertRaisesRegex(UserError, "Terminal blocked"):
            self._issue(form)
        self.assertEqual(self._counts()[:3], (before[0], before[1], before[2]))

    def test_share_links(self):
        form = self._wizard_form(lead=self.lead)
        with self._mock_bank_link():
            invoice, link = self._issue(form)
        telegram = urlparse(link.action_share_telegram()['url'])
        self.assertEqual((telegram.netloc, telegram.path), ('t.me', '/share/url'))
        self.assertEqual(parse_qs(telegram.query)['url'], [link.url])
        self.assertIn(invoice.name, parse_qs(telegram.query)['text'][0])
        whatsapp = link.action_share_whatsapp()['url']
        self.assertTrue(whatsapp.startswith('https://wa.me/?text='))
        self.assertIn(quote(link.url, safe=''), whatsapp)


@tagged('post_install', '-at_install')
class TestPaymentLinkSending(InvoiceLinkCommon):
    """`account.move._bank_crm_send_payment_link`, the email, and the registry's statuses."""

    def _sent_emails(self, invoice):
        """The messages emailed to the invoice's customer, newest first."""
        return invoice.message_ids.filtered(
            lambda m: (
                m.message_type == 'comment'
                and invoice.partner_id
                in m.notification_ids.filtered(lambda n: n.notification_type == 'email').res_partner_id
            )
        )

    def test_send_now_emails_the_link_and_the_qr(self):
        form = self._wizard_form(lead=self.lead)
        form.send_now = True
        with self._mock_bank_link():
            invoice, link = self._issue(form)
        mail = self._sent_emails(invoice)
        self.assertEqual(len(mail), 1)
        body = str(mail.body)
        self.assertIn(link.url.replace('&', '&amp;'), body)
        self.assertIn(invoice.bank_crm_sbp_qr_image_url.replace('&', '&amp;'), body)
        self.assertIn(quote(link.sbp_qr_payload, safe=''), body)
        self.assertIn("1,234.56", body)
        self.assertIn(invoice.name, mail.subject)
        # the invoice itself is attached (as HTML when tests run: Odoo renders no PDF then)
        self.assertEqual([name.rsplit('.', 1)[0] for name in mail.attachment_ids.mapped('name')], [invoice.name])
        self.assertFalse(invoice.message_ids.filtered(lambda m: "not updated from the attachment" in str(m.body)))
        self.assertEqual(link.status, 'sent')
        self.assertTrue(link.sent_date)

    def test_contract_send_creates_the_company_default_link(self):
        """The stage-triggered rules call the method on invoices that have no link yet."""
        self.company.bank_crm_payment_link_kind = 'portal'
        invoice = self._create_invoice(amount=500)
        self.assertTrue(invoice._bank_crm_send_payment_link())
        link = invoice.bank_crm_payment_link_ids
        self.assertEqual((len(link), link.kind, link.status), (1, 'portal', 'sent'))
        body = str(self._sent_emails(invoice).body)
        self.assertIn(link.url.replace('&', '&amp;'), body)
        # sent again: the same link, no new one
        invoice._bank_crm_send_payment_link()
        self.assertEqual(invoice.bank_crm_payment_link_ids, link)
        self.assertEqual(len(self._sent_emails(invoice)), 2)

    def test_contract_send_refuses_a_customer_without_email(self):
        invoice = self._create_invoice(amount=500, partner_id=self.env['res.partner'].create({'name': "Без почты"}).id)
        with self.assertRaisesRegex(UserError, "no email address"):
            invoice._bank_crm_send_payment_link()
        self.assertFalse(invoice.bank_crm_payment_link_ids)

    def test_template_is_offered_in_the_composer(self):
        template = self.env.ref('odoo_bank_crm.mail_template_bank_crm_payment_link')
        self.assertEqual(template.model, 'account.move')
        invoice = self._create_invoice(amount=500)
        composer = Form(
            self.env['mail.compose.message'].with_context(
                default_model='account.move', default_res_ids=invoice.ids, default_composition_mode='comment'
            )
        )
        composer.template_id = template
        self.assertIn(invoice.name, composer.subject)
        self.assertIn(self.partner, composer.partner_ids[:])

    def test_status_paid_then_refunded(self):
        form = self._wizard_form(lead=self.lead)
        with self._mock_bank_link():
            invoice, link = self._issue(form)
        tx = link.transaction_id
        tx._tbank_apply_status('CONFIRMED')
        self.assertEqual(link.status, 'paid')
        self.assertTrue(link.paid_date)
        self.assertEqual(self.lead.bank_crm_payment_state, 'paid')
        self.assertEqual(invoice._bank_crm_pay_page_state(link), 'paid')
        tx._tbank_apply_status('REFUNDED')
        self.assertEqual(link.status, 'refunded')

    def test_status_expires_with_its_due_date(self):
        due = fields.Date.today() + timedelta(days=1)
        form = self._wizard_form(lead=self.lead, due_date=due)
        with self._mock_bank_link():
            _invoice, link = self._issue(form)
        self.assertEqual(
            link.expiry_date,
            datetime.combine(due, datetime.min.time()) + timedelta(hours=20, minutes=59, seconds=59),
            "23:59:59 in Moscow is 20:59:59 UTC",
        )
        with freeze_time(link.expiry_date + timedelta(minutes=1)):
            self.Link._cron_update_expired()
        self.assertEqual(link.status, 'expired')

    def test_bank_expiry_limits(self):
        with freeze_time('2026-03-10 12:00:00'):
            today = fields.Date.today()
            self.assertEqual(self.Link._bank_expiry(today).isoformat(), '2026-03-10T23:59:59+03:00')
            # past due: a day from now
            self.assertEqual(self.Link._bank_expiry(today - timedelta(days=3)).isoformat(), '2026-03-11T12:00:00+00:00')
            # at most 90 days ahead
            far = self.Link._bank_expiry(today + timedelta(days=365))
            self.assertLessEqual(far, datetime.fromisoformat('2026-06-08T12:00:00+00:00'))

    def test_invoice_pdf_shows_the_qr_and_the_link(self):
        form = self._wizard_form(lead=self.lead, payer_name="Иванов Иван", order_status="Ready to ship")
        with self._mock_bank_link():
            invoice, link = self._issue(form)
        html = self.env['ir.actions.report']._render_qweb_html('account.account_invoices', invoice.ids)[0].decode()
        self.assertIn('id="bank_crm_sbp_qr"', html)
        self.assertIn(escape(invoice.bank_crm_sbp_qr_image_path), html)
        self.assertIn(escape(link.url), html)
        self.assertIn("Иванов Иван", html)
        # an accountant without the Account menu's rights prints it too
        accountant = self.env['res.users'].create(
            {
                'name': "Accountant",
                'login': 'bank_crm_accountant_only',
                'company_id': self.company.id,
                'company_ids': [Command.set(self.company.ids)],
                'groups_id': [Command.set([self.env.ref('account.group_account_invoice').id])],
            }
        )
        html = (
            self.env['ir.actions.report']
            .with_user(accountant)
            ._render_qweb_html('account.account_invoices', invoice.ids)[0]
            .decode()
        )
        self.assertIn(escape(link.url), html)
        link.transaction_id._tbank_apply_status('CONFIRMED')
        html = self.env['ir.actions.report']._render_qweb_html('account.account_invoices', invoice.ids)[0].decode()
        self.assertNotIn('id="bank_crm_pay_online"', html, "a paid invoice asks for nothing")

    def test_users_see_their_company_links_only(self):
        form = self._wizard_form(lead=self.lead, link_kind='portal')
        _invoice, link = self._issue(form)
        other_company = self.env['res.company'].create({'name': "Other Co"})
        outsider = self.env['res.users'].create(
            {
                'name': "Other Co user",
                'login': 'other_co_user',
                'company_id': other_company.id,
                'company_ids': [Command.set(other_company.ids)],
                'groups_id': [Command.set([self.env.ref('odoo_bank_crm.group_bank_crm_user').id])],
            }
        )
        self.assertFalse(self.Link.with_user(outsider).search([('id', '=', link.id)]))
        self.assertTrue(self.Link.with_user(self.salesperson).search([('id', '=', link.id)]))
