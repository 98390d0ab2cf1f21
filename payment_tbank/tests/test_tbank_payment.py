import json

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.payment_tbank import const
from odoo.addons.payment_tbank.tbank_api import verify_token

from .common import PASSWORD, TERMINAL_KEY, TBankPaymentCommon


@tagged('post_install', '-at_install')
class TestTBankPayment(TBankPaymentCommon):
    """The provider and its transactions with `payment` alone: Init, the notification's
    checks and states, refunds, credentials kept out of errors and logs."""

    # === PROVIDER === #

    def test_provider_takes_roubles_cards_and_sbp(self):
        self.assertEqual(self.tbank._get_supported_currencies().mapped('name'), ['RUB'])
        self.assertEqual(self.tbank._get_default_payment_method_codes(), const.DEFAULT_PAYMENT_METHOD_CODES)
        self.assertEqual((self.tbank.support_refund, self.tbank.support_manual_capture), ('partial', 'full_only'))
        sbp = self.env.ref('payment_tbank.payment_method_sbp')
        self.assertIn(sbp, self.tbank.payment_method_ids)

    def test_public_test_terminal_is_flagged(self):
        self.assertFalse(self.tbank.tbank_public_test_credentials)
        self.tbank.tbank_terminal_key = const.TBANK_PUBLIC_TEST_TERMINAL_KEY
        self.assertTrue(self.tbank.tbank_public_test_credentials)

    def test_api_url_must_be_http(self):
        with self.assertRaises(ValidationError):
            self.tbank.tbank_api_url = 'ftp://bank.example'

    def test_password_is_administrators_only(self):
        self.assertEqual(self.env['payment.provider']._fields['tbank_password'].groups, 'base.group_system')

    # === INIT === #

    def test_rendering_registers_the_payment_with_init(self):
        tx = self._create_transaction('redirect', reference='SO-TB-INIT')
        answer = {'PaymentId': '700100', 'Status': 'NEW', 'PaymentURL': 'https://securepay.test/new/700100'}
        with self._mock_bank('Init', answer) as bank:
            values = tx._get_specific_rendering_values({})
        self.assertEqual(values, {'api_url': 'https://securepay.test/new/700100'})
        sent = self._sent(bank)
        self.assertEqual((sent['Amount'], sent['OrderId'], sent['PayType']), (123456, 'SO-TB-INIT', 'O'))
        self.assertTrue(sent['NotificationURL'].endswith('/payment/tbank/webhook'))
        self.assertTrue(verify_token(sent, PASSWORD), "the request is signed with the terminal's password")
        self.assertEqual(
            (tx.provider_reference, tx.tbank_payment_url, tx.tbank_status),
            ('700100', 'https://securepay.test/new/700100', 'NEW'),
        )

    def test_receipt_without_invoices_is_one_line_of_the_amount(self):
        self.tbank.write({'tbank_receipt_enabled': True, 'tbank_taxation': 'osn'})
        tx = self._create_transaction('redirect', reference='SO-TB-RCPT')
        receipt = tx._tbank_prepare_receipt()
        [item] = receipt.items
        self.assertEqual((item.amount, item.quantity, item.tax), (123456, 1, const.RECEIPT_NO_VAT))
        self.assertEqual(receipt.email, 'buyer@example.com')

    def test_other_currency_is_refused_before_the_bank_is_called(self):
        usd = self._prepare_currency('USD')
        tx = self._create_transaction('redirect', reference='SO-TB-USD', currency_id=usd.id)
        with self._mock_bank('Init', {}) as bank, self.assertRaises(ValidationError):
            tx._get_specific_rendering_values({})
        self.assertEqual(bank.calls, [])

    def test_refused_credentials_never_reach_the_error_or_the_log(self):
        tx = self._create_transaction('redirect', reference='SO-TB-AUTH')
        answer = {'Success': False, 'ErrorCode': '204', 'Message': f"Bad terminal {PASSWORD}"}
        with self.assertLogs('odoo.addons.payment_tbank', 'WARNING') as logs:
            with self._mock_bank('Init', answer), self.assertRaises(UserError) as caught:
                tx._get_specific_rendering_values({})
        self.assertNotIn(PASSWORD, str(caught.exception))
        self.assertNotIn(PASSWORD, '\n'.join(logs.output))

    # === NOTIFICATIONS (payment_tbank alone: `_tbank_process_webhook`) === #

    def _process(self, payload):
        Transaction = self.env['payment.transaction']
        raw = payload if isinstance(payload, str) else json.dumps(payload)
        with mute_logger('odoo.addons.payment_tbank.models.payment_transaction'):
            result = Transaction._tbank_process_webhook(raw)
        self.env.invalidate_all()  # as the next request would read it
        return result

    def test_confirmed_notification_settles_and_odoo_post_processes(self):
        tx = self._tbank_tx()
        self.assertEqual(self._process(self._notification(tx, 'CONFIRMED')), (200, 'OK'))
        self.env.invalidate_all()
        self.assertEqual((tx.state, tx.tbank_status), ('done', 'CONFIRMED'))
        # what Odoo's post-processing job does for each transaction it finds (its commits aside);
        # odoo_bank_crm, when installed, has done it already
        self.env['payment.transaction'].search([('is_post_processed', '=', False), ('id', '=', tx.id)])._post_process()
        self.assertTrue(tx.is_post_processed)

    def test_redelivery_and_older_status_change_nothing(self):
        tx = self._tbank_tx()
        self._process(self._notification(tx, 'CONFIRMED'))
        last_change = tx.last_state_change
        self.assertEqual(self._process(self._notification(tx, 'CONFIRMED')), (200, 'OK'))
        self.assertEqual(self._process(self._notification(tx, 'AUTHORIZED')), (200, 'OK'))
        self.assertEqual((tx.state, tx.tbank_status, tx.last_state_change), ('done', 'CONFIRMED', last_change))

    def test_forged_token_is_refused_and_changes_nothing(self):
        tx = self._tbank_tx()
        forged = self._notification(tx, 'CONFIRMED', password='not-the-password')
        self.assertEqual(self._process(forged), (403, 'Forbidden'))
        tampered = dict(self._notification(tx, 'CONFIRMED'), Amount=1)
        self.assertEqual(self._process(tampered), (403, 'Forbidden'))
        self.assertEqual((tx.state, tx.tbank_status), ('draft', 'NEW'))

    def test_disabled_terminal_signs_nothing(self):
        tx = self._tbank_tx()
        self.tbank.state = 'disabled'
        self.assertEqual(self._process(self._notification(tx, 'CONFIRMED')), (403, 'Forbidden'))
        self.assertEqual(tx.state, 'draft')

    def test_malformed_bodies_are_refused(self):
        for body in ('', 'not json', '[]', '{"TerminalKey": "x"}', '{"TerminalKey": 1, "Status": "CONFIRMED"}'):
            self.assertEqual(self._process(body), (400, 'Bad Request'), body)

    def test_unknown_order_is_sent_again_later(self):
        tx = self._tbank_tx()
        payload = self._notification(tx, 'CONFIRMED', OrderId='SO-NOT-YET')
        self.assertEqual(self._process(payload), (404, 'Not Found'), "not OK: the bank sends it again")

    def test_wrong_amount_or_payment_is_refused_for_good(self):
        tx = self._tbank_tx()
        self.assertEqual(self._process(self._notification(tx, 'CONFIRMED', amount=100)), (200, 'OK'))
        self.assertEqual(self._process(self._notification(tx, 'CONFIRMED', PaymentId=999)), (200, 'OK'))
        self.assertEqual((tx.state, tx.tbank_status), ('draft', 'NEW'))

    def test_another_terminal_cannot_change_the_order(self):
        tx = self._tbank_tx()
        other = self.tbank.copy(
            {'name': "T-Bank (other shop)", 'tbank_terminal_key': 'OtherShop', 'tbank_password': 'OtherPassword1'}
        )
        other.state = 'test'
        payload = self._notification(tx, 'CONFIRMED', password='OtherPassword1', TerminalKey='OtherShop')
        self.assertEqual(self._process(payload), (200, 'OK'))
        self.assertEqual((tx.state, tx.tbank_status), ('draft', 'NEW'))

    def test_rejected_and_sbp_notifications(self):
        tx = self._tbank_tx()
        self._process(self._notification(tx, 'REJECTED', Message="Insufficient funds"))
        self.assertEqual(tx.state, 'error')
        self.assertIn("Insufficient funds", tx.state_message)
        sbp_tx = self._tbank_tx(reference='SO-TB-SBP', payment_id='100501')
        self._process(self._notification(sbp_tx, 'CONFIRMED', Pan='+7 (916) ***-**-67'))
        self.assertEqual((sbp_tx.state, sbp_tx.payment_method_id.code), ('done', 'sbp'))

    # === REFUND === #

    def test_partial_refund_with_cancel(self):
        tx = self._tbank_tx()
        self._process(self._notification(tx, 'CONFIRMED'))
        answer = {'PaymentId': '100500', 'Status': 'PARTIAL_REFUNDED', 'OriginalAmount': 123456, 'NewAmount': 23456}
        with self._mock_bank('Cancel', answer) as bank:
            refund_tx = tx._send_refund_request(amount_to_refund=1000.0)
        self.assertEqual(self._sent(bank)['Amount'], 100000)
        self.assertEqual((refund_tx.state, refund_tx.amount, refund_tx.operation), ('done', -1000.0, 'refund'))
        self.assertEqual(tx.tbank_status, 'PARTIAL_REFUNDED')
        self.assertEqual(self._sent(bank)['TerminalKey'], TERMINAL_KEY)
