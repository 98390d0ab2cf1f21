import json

from odoo.tests import HttpCase, tagged

from odoo.addons.payment_tbank.tbank_api import compute_token
from .tbank_common import TBankCommon

WEBHOOK = '/payment/tbank/webhook'
PUBLIC_KEY = PUBLIC_PASSWORD = 'TinkoffBankTest'  # T-Bank's published test terminal
LIVE_KEY, LIVE_PASSWORD = 'LiveShop1234DEMO', 'LivePassword987'


@tagged('post_install', '-at_install')
class TestTBankNotificationOrigin(TBankCommon, HttpCase):
    """Issue #13 item 2: a notification acts only on its own terminal's transactions.

    Two more T-Bank providers next to the common one (key TinkoffBankTest, its own password):
    a live one with its own terminal, and one in test mode with T-Bank's public test
    terminal, whose key and password anyone can read in the bank's documentation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.live = cls.tbank.copy({'name': "T-Bank (live)"})
        cls.live.write({'tbank_terminal_key': LIVE_KEY, 'tbank_password': LIVE_PASSWORD, 'state': 'enabled'})
        cls.public = cls.tbank.copy({'name': "T-Bank (public test terminal)"})
        cls.public.write({'tbank_terminal_key': PUBLIC_KEY, 'tbank_password': PUBLIC_PASSWORD, 'state': 'test'})

    def _post(self, payload):
        response = self.opener.post(
            self.base_url() + WEBHOOK,
            data=json.dumps(payload),
            headers={'Content-Type': 'application/json'},
            timeout=30,
        )
        self.env.invalidate_all()
        return response

    @staticmethod
    def _signed(password, **fields):
        payload = {'Success': True, 'ErrorCode': '0', **fields}
        payload['Token'] = compute_token(payload, password)
        return payload

    def _last_event(self):
        return self.env['bank.webhook.event'].search([], order='id desc', limit=1)

    def _live_tx(self, amount=500000, payment_id='880001'):
        invoice = self._create_invoice(amount=amount)
        return invoice, self._create_invoice_tx(invoice, payment_id=payment_id, provider_id=self.live.id)

    def _assert_untouched(self, tx, invoice, response):
        self.assertEqual(response.status_code, 200)  # the event is kept; the bank need not repeat it
        self.assertEqual(tx.state, 'draft')
        self.assertFalse(tx.tbank_status)
        self.assertEqual(invoice.payment_state, 'not_paid')
        event = self._last_event()
        self.assertEqual(event.state, 'rejected')
        self.assertFalse(event.processed_key)

    def test_public_test_terminal_cannot_pay_a_live_providers_order(self):
        """The confirmed attack: signed with the public test terminal, no PaymentId, no Amount."""
        invoice, tx = self._live_tx()
        attack = self._signed(PUBLIC_PASSWORD, TerminalKey=PUBLIC_KEY, OrderId=tx.reference, Status='CONFIRMED')
        self._assert_untouched(tx, invoice, self._post(attack))
        self.assertIn('not the terminal', self._last_event().result)

        # nor with the order's real PaymentId and Amount (a customer sees both)
        attack = self._signed(
            PUBLIC_PASSWORD,
            TerminalKey=PUBLIC_KEY,
            OrderId=tx.reference,
            Status='CONFIRMED',
            PaymentId=880001,
            Amount=50000000,
        )
        self._assert_untouched(tx, invoice, self._post(attack))

    def test_a_terminal_key_shared_with_another_password_is_not_enough(self):
        """The common provider has the key TinkoffBankTest with its own password: the public
        password verifies a token for that key, but only for the public provider."""
        invoice = self._create_invoice()
        tx = self._create_invoice_tx(invoice)  # the common provider's
        attack = self._signed(
            PUBLIC_PASSWORD,
            TerminalKey=PUBLIC_KEY,
            OrderId=tx.reference,
            Status='CONFIRMED',
            PaymentId=int(tx.provider_reference),
            Amount=round(tx.amount * 100),
        )
        self._assert_untouched(tx, invoice, self._post(attack))

    def test_payment_id_and_amount_are_required(self):
        invoice, tx = self._live_tx()
        complete = {
            'TerminalKey': LIVE_KEY,
            'OrderId': tx.reference,
            'Status': 'CONFIRMED',
            'PaymentId': 880001,
            'Amount': 50000000,
        }
        for missing in ('PaymentId', 'Amount'):
            with self.subTest(missing=missing):
                fields = {key: value for key, value in complete.items() if key != missing}
                self._assert_untouched(tx, invoice, self._post(self._signed(LIVE_PASSWORD, **fields)))
                self.assertIn(
                    f'missing {"or invalid " if missing == "Amount" else ""}{missing}', self._last_event().result
                )
        for wrong in ({'PaymentId': 880002}, {'Amount': 100}, {'Amount': 50000000.4}, {'PaymentId': True}):
            with self.subTest(wrong=wrong):
                fields = dict(complete, **wrong)
                self._assert_untouched(tx, invoice, self._post(self._signed(LIVE_PASSWORD, **fields)))

    def test_a_transaction_without_a_registered_payment_is_not_paid(self):
        invoice = self._create_invoice(amount=1000)
        tx = self._create_invoice_tx(invoice, payment_id=False, provider_id=self.live.id)
        notification = self._signed(
            LIVE_PASSWORD, TerminalKey=LIVE_KEY, OrderId=tx.reference, Status='CONFIRMED', PaymentId=5, Amount=100000
        )
        self._assert_untouched(tx, invoice, self._post(notification))
        self.assertFalse(tx.provider_reference)

    def test_each_terminal_pays_its_own_orders(self):
        invoice, tx = self._live_tx()
        notification = self._signed(
            LIVE_PASSWORD,
            TerminalKey=LIVE_KEY,
            OrderId=tx.reference,
            Status='CONFIRMED',
            PaymentId=880001,
            Amount=50000000,
        )
        response = self._post(notification)
        self.assertEqual((response.status_code, response.text), (200, 'OK'))
        self.assertEqual(tx.state, 'done')
        self.assertEqual(self._last_event().state, 'processed')

        # the test-mode provider's own order: its notifications still work
        test_invoice = self._create_invoice(amount=10)
        test_tx = self._create_invoice_tx(test_invoice, payment_id='42', provider_id=self.public.id)
        notification = self._signed(
            PUBLIC_PASSWORD,
            TerminalKey=PUBLIC_KEY,
            OrderId=test_tx.reference,
            Status='AUTHORIZED',
            PaymentId=42,
            Amount=1000,
        )
        self.assertEqual(self._post(notification).text, 'OK')
        self.assertEqual(test_tx.state, 'authorized')

    def test_provider_form_warns_about_the_public_test_terminal(self):
        self.assertTrue(self.public.tbank_public_test_credentials)
        self.assertFalse(self.live.tbank_public_test_credentials)
        self.live.tbank_password = PUBLIC_PASSWORD  # the published password under another key
        self.assertTrue(self.live.tbank_public_test_credentials)
        self.public.state = 'disabled'
        self.assertFalse(self.public.tbank_public_test_credentials, "a disabled provider takes nothing")
        arch = self.env['payment.provider'].get_views([(False, 'form')])['views']['form']['arch']
        self.assertIn('tbank_public_test_credentials_warning', arch)
