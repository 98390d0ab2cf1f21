from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.payment_tbank.tbank_api import compute_token
from .tbank_common import PASSWORD, SANDBOX_URL, TBankCommon


@tagged('post_install', '-at_install')
class TestTBankProvider(TBankCommon):
    def test_provider_defaults(self):
        self.assertEqual(self.tbank.support_refund, 'partial')
        self.assertEqual(self.tbank.support_manual_capture, 'full_only')
        self.assertEqual(self.tbank._get_supported_currencies(), self.currency_rub)
        self.assertIn('sbp', self.tbank.payment_method_ids.mapped('code'))
        self.assertEqual(self.tbank._tbank_webhook_url()[-len('/payment/tbank/webhook') :], '/payment/tbank/webhook')

    def test_rendering_values_register_the_payment_with_init(self):
        tx = self._create_transaction('redirect', reference='INV-2026-00001-1')
        with self._mock_bank(
            'Init',
            {
                'PaymentId': '3093639567',
                'Status': 'NEW',
                'Amount': 123456,
                'OrderId': tx.reference,
                'PaymentURL': 'https://securepay.test/new/AbCdEf',
            },
        ) as mock:
            processing_values = tx._get_processing_values()
        sent = self._sent(mock)
        self.assertEqual(sent['Amount'], 123456)
        self.assertEqual(sent['OrderId'], 'INV-2026-00001-1')
        self.assertEqual(sent['PayType'], 'O')
        self.assertTrue(sent['NotificationURL'].endswith('/payment/tbank/webhook'))
        self.assertEqual(sent['DATA'], {'Email': 'buyer@example.com', 'Phone': '+79161234567'})
        self.assertEqual(sent['Token'], compute_token(sent, PASSWORD))
        self.assertNotIn('Receipt', sent)
        form = self._extract_values_from_html_form(processing_values['redirect_form_html'])
        self.assertEqual(form['action'], 'https://securepay.test/new/AbCdEf')
        self.assertEqual(form['method'], 'get')
        self.assertEqual(tx.provider_reference, '3093639567')
        self.assertEqual(tx.tbank_status, 'NEW')

    def test_two_stage_payment_when_captured_manually(self):
        self.tbank.capture_manually = True
        tx = self._create_transaction('redirect')
        with self._mock_bank('Init', {'PaymentId': '1', 'Status': 'NEW', 'PaymentURL': 'https://p.test/1'}) as mock:
            tx._get_processing_values()
        self.assertEqual(self._sent(mock)['PayType'], 'T')

    def test_receipt_adds_up_to_the_amount_paid(self):
        self.tbank.tbank_receipt_enabled = True
        vat20 = self.env['account.tax'].create(
            {'name': "VAT 20% incl.", 'amount': 20, 'price_include_override': 'tax_included', 'type_tax_use': 'sale'}
        )
        invoice = self.env['account.move'].create(
            {
                'move_type': 'out_invoice',
                'partner_id': self.partner.id,
                'currency_id': self.currency_rub.id,
                'invoice_line_ids': [
                    Command.create(
                        {'name': "Chair", 'quantity': 3, 'price_unit': 333.33, 'tax_ids': [Command.set(vat20.ids)]}
                    ),
                    Command.create(
                        {'name': "Delivery", 'quantity': 1, 'price_unit': 500.01, 'tax_ids': [Command.clear()]}
                    ),
                ],
            }
        )
        invoice.action_post()
        tx = self._create_invoice_tx(invoice, payment_id=False)
        with self._mock_bank('Init', {'PaymentId': '7', 'Status': 'NEW', 'PaymentURL': 'https://p.test/7'}) as mock:
            tx._tbank_init_payment()
        sent = self._sent(mock)
        receipt = sent['Receipt']
        self.assertEqual(sum(item['Amount'] for item in receipt['Items']), sent['Amount'])
        self.assertEqual(sent['Amount'], 150000)  # 3 x 333.33 rounded by line + 500.01, exact kopecks
        self.assertEqual([item['Tax'] for item in receipt['Items']], ['vat20', 'none'])
        self.assertEqual(receipt['Email'], 'buyer@example.com')
        self.assertEqual(sent['Token'], compute_token(sent, PASSWORD))

    def test_find_the_transaction_of_a_notification(self):
        tx = self._create_invoice_tx()
        Tx = self.env['payment.transaction']
        self.assertEqual(Tx._get_tx_from_notification_data('tbank', self._notification(tx, 'CONFIRMED')), tx)
        with self.assertRaises(ValidationError):
            Tx._get_tx_from_notification_data('tbank', self._notification(tx, 'CONFIRMED', OrderId='NOPE'))
        with self.assertRaises(ValidationError):  # another payment of the same order
            Tx._get_tx_from_notification_data('tbank', self._notification(tx, 'CONFIRMED', PaymentId=999))

    def test_every_status(self):
        expected = {
            'NEW': 'pending',
            'FORM_SHOWED': 'pending',
            'AUTHORIZING': 'pending',
            '3DS_CHECKING': 'pending',
            'AUTHORIZED': 'authorized',
            'CONFIRMED': 'done',
            'REJECTED': 'error',
            'AUTH_FAIL': 'error',
            'CANCELED': 'cancel',
            'DEADLINE_EXPIRED': 'cancel',
            'REVERSED': 'cancel',
        }
        for index, (status, state) in enumerate(expected.items()):
            with self.subTest(status=status):
                tx = self._create_transaction(
                    'redirect', reference=f'STATUS-{index}', provider_reference=str(index + 1)
                )
                tx._handle_notification_data('tbank', self._notification(tx, status))
                self.assertEqual(tx.state, state)
                self.assertEqual(tx.tbank_status, status)

    def test_sbp_payment_method_from_the_notification(self):
        tx = self._create_invoice_tx()
        tx._handle_notification_data('tbank', self._notification(tx, 'CONFIRMED', Pan='+7 (916) ***-**-42'))
        self.assertEqual(tx.payment_method_id.code, 'sbp')

    def test_paid_once_and_never_taken_back(self):
        invoice = self._create_invoice()
        tx = self._create_invoice_tx(invoice)
        tx._handle_notification_data('tbank', self._notification(tx, 'CONFIRMED'))  # before AUTHORIZED
        payment = tx.payment_id
        self.assertTrue(payment)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        for late in ('AUTHORIZED', 'CONFIRMED', 'REJECTED', 'DEADLINE_EXPIRED', 'NEW'):
            tx._handle_notification_data('tbank', self._notification(tx, late))
            self.assertEqual(tx.state, 'done', late)
            self.assertEqual(tx.tbank_status, 'CONFIRMED')
        self.assertEqual(tx.payment_id, payment)
        self.assertEqual(self.env['account.payment'].search_count([('payment_transaction_id', '=', tx.id)]), 1)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))

    def test_amount_mismatch_is_refused(self):
        tx = self._create_invoice_tx()
        with self.assertRaisesRegex(ValidationError, 'does not match'):
            tx._handle_notification_data('tbank', self._notification(tx, 'CONFIRMED', amount=100))
        self.assertEqual(tx.state, 'draft')

    def test_payment_marks_invoice_and_deal_paid_and_tells_the_salesperson(self):
        stage = self.env['crm.stage'].create({'name': "Paid, to ship", 'sequence': 60})
        self.env.company.bank_crm_paid_stage_id = stage
        invoice = self._create_invoice()
        self.assertEqual(self.lead.bank_crm_payment_state, 'unpaid')
        tx = self._create_invoice_tx(invoice)
        tx._handle_notification_data('tbank', self._notification(tx, 'AUTHORIZED'))
        self.assertEqual(self.lead.bank_crm_payment_state, 'unpaid')
        tx._handle_notification_data('tbank', self._notification(tx, 'CONFIRMED'))
        self.assertTrue(tx.is_post_processed)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(self.lead.bank_crm_payment_state, 'paid')
        self.assertAlmostEqual(self.lead.bank_crm_amount_paid, self.amount)
        self.assertEqual(self.lead.bank_crm_amount_due, 0)
        self.assertEqual(self.lead.bank_crm_paid_date, fields.Date.context_today(self.lead))
        self.assertEqual(self.lead.stage_id, stage)
        activity = self.lead.activity_ids.filtered(lambda a: a.user_id == self.salesperson)
        self.assertEqual(len(activity), 1)
        self.assertIn('Payment received', activity.summary)
        self.assertTrue(self.lead.message_ids.filtered(lambda m: 'paid in full' in (m.body or '')))
        sent = self.env.cr.precommit.data.get('bus.bus.values', [])
        channel = f'"res.partner",{self.salesperson.partner_id.id}]'
        self.assertTrue(
            [v for v in sent if v['channel'].endswith(channel) and 'simple_notification' in v['message']],
            "the salesperson gets a live notification",
        )
        # a redelivery tells nobody twice
        tx._handle_notification_data('tbank', self._notification(tx, 'CONFIRMED'))
        self.assertEqual(len(self.lead.activity_ids.filtered(lambda a: a.user_id == self.salesperson)), 1)

    def test_partial_payment_leaves_the_deal_partially_paid(self):
        invoice = self._create_invoice(amount=1000.0)
        self.env['account.payment.register'].with_context(active_model='account.move', active_ids=invoice.ids).create(
            {'amount': 400.0}
        )._create_payments()
        self.assertEqual(self.lead.bank_crm_payment_state, 'partial')
        self.assertAlmostEqual(self.lead.bank_crm_amount_due, 600.0)
        self.assertTrue(self.lead.message_ids.filtered(lambda m: '600' in (m.body or '')))

    def test_deal_payment_states(self):
        self.assertEqual(self.lead.bank_crm_payment_state, 'not_invoiced')
        with freeze_time(fields.Date.today() + timedelta(days=40)):
            invoice = self._create_invoice(
                invoice_date=fields.Date.today() - timedelta(days=40),
                invoice_date_due=fields.Date.today() - timedelta(days=30),
            )
            self.lead._cron_bank_crm_update_overdue()
        self.lead.invalidate_recordset()
        self.assertEqual(self.lead.bank_crm_payment_state, 'overdue')
        credit_note = invoice._reverse_moves(cancel=True)
        self.assertEqual(credit_note.state, 'posted')
        self.assertEqual(self.lead.bank_crm_payment_state, 'refunded')

    def test_refunds_call_cancel(self):
        invoice = self._create_invoice(amount=1000.0)
        tx = self._create_invoice_tx(invoice)
        tx._handle_notification_data('tbank', self._notification(tx, 'CONFIRMED'))
        with self._mock_bank(
            'Cancel', {'PaymentId': 100500, 'Status': 'PARTIAL_REFUNDED', 'OriginalAmount': 100000, 'NewAmount': 70000}
        ) as mock:
            refund_tx = tx._send_refund_request(amount_to_refund=300.0)
        sent = self._sent(mock)
        self.assertEqual((sent['PaymentId'], sent['Amount']), ('100500', 30000))
        self.assertEqual(refund_tx.state, 'done')
        self.assertEqual(refund_tx.amount, -300.0)
        self.assertTrue(refund_tx.payment_id)
        self.assertEqual(tx.tbank_status, 'PARTIAL_REFUNDED')
        with self._mock_bank(
            'Cancel', {'PaymentId': 100500, 'Status': 'REFUNDED', 'OriginalAmount': 100000, 'NewAmount': 0}
        ):
            last = tx._send_refund_request(amount_to_refund=700.0)
        self.assertEqual(last.state, 'done')
        # the bank's REFUNDED notification that follows records nothing more
        tx._handle_notification_data('tbank', self._notification(tx, 'REFUNDED'))
        self.assertEqual(len(tx.child_transaction_ids), 2)

    def test_refund_made_in_the_bank_cabinet(self):
        tx = self._create_invoice_tx()
        tx._handle_notification_data('tbank', self._notification(tx, 'CONFIRMED'))
        tx._handle_notification_data('tbank', self._notification(tx, 'REFUNDED'))
        refund = tx.child_transaction_ids
        self.assertEqual(refund.operation, 'refund')
        self.assertAlmostEqual(refund.amount, -self.amount)
        self.assertEqual(refund.state, 'done')

    def test_capture_and_void_of_two_stage_payments(self):
        self.tbank.capture_manually = True
        tx = self._create_invoice_tx()
        tx._handle_notification_data('tbank', self._notification(tx, 'AUTHORIZED'))
        self.assertEqual(tx.state, 'authorized')
        with self._mock_bank('Confirm', {'PaymentId': '100500', 'Status': 'CONFIRMED'}) as mock:
            tx._send_capture_request()
        self.assertEqual(self._sent(mock)['PaymentId'], '100500')
        self.assertEqual(tx.state, 'done')

        other = self._create_invoice_tx(payment_id='200')
        other._handle_notification_data('tbank', self._notification(other, 'AUTHORIZED'))
        with self._mock_bank('Cancel', {'PaymentId': 200, 'Status': 'REVERSED', 'OriginalAmount': 1, 'NewAmount': 0}):
            other._send_void_request()
        self.assertEqual(other.state, 'cancel')

    def test_bank_errors_become_clear_user_errors(self):
        tx = self._create_transaction('redirect')
        with self._mock_bank('Init', {'Success': False, 'ErrorCode': '204', 'Message': 'Неверный токен'}):
            with self.assertRaisesRegex(UserError, 'key or password') as caught:
                tx._tbank_init_payment()
        self.assertNotIn(PASSWORD, str(caught.exception))

    def test_cron_asks_getstate_about_pending_payments(self):
        invoice = self._create_invoice()
        tx = self._create_invoice_tx(invoice, tbank_payment_url='https://p.test/x')
        tx._set_pending()
        self.env.cr.execute(
            "UPDATE payment_transaction SET create_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(hours=1), tx.id],
        )
        tx.invalidate_recordset()
        with self._mock_bank(
            'GetState', {'PaymentId': '100500', 'Status': 'CONFIRMED', 'Amount': 123456, 'OrderId': tx.reference}
        ) as mock:
            self.env['payment.transaction']._cron_tbank_check_pending()
        self.assertEqual(self._sent(mock)['PaymentId'], '100500')
        self.assertEqual(tx.state, 'done')
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))

    def test_cron_asks_every_pending_payment_in_turn(self):
        """Open payment links beyond the job's batch never starve a newer payment whose
        notification was lost: each run asks those asked least recently."""
        txs = self.env['payment.transaction']
        for index, payment_id in enumerate(('301', '302', '303')):
            tx = self._create_invoice_tx(payment_id=payment_id, tbank_payment_url=f'https://p.test/{payment_id}')
            tx._set_pending()
            self.env.cr.execute(
                "UPDATE payment_transaction SET create_date = %s WHERE id = %s",
                [fields.Datetime.now() - timedelta(hours=3 - index), tx.id],
            )
            txs |= tx
        txs.invalidate_recordset()
        asked = []
        for _run in range(2):
            with self._mock_bank('GetState', {'PaymentId': '0', 'Status': 'FORM_SHOWED', 'Amount': 123456}) as mock:
                self.env['payment.transaction']._cron_tbank_check_pending(limit=2)
            asked.append([self._sent(mock, index)['PaymentId'] for index in range(len(mock.calls))])
        self.assertEqual(asked[0], ['301', '302'])  # never asked: oldest first
        self.assertEqual(asked[1][0], '303')  # the newest payment is not left behind
        self.assertEqual(set(txs.mapped('state')), {'pending'})
        self.assertTrue(all(txs.mapped('tbank_checked_at')))

    def test_invoice_payment_link_is_reused(self):
        invoice = self._create_invoice()
        with self._mock_bank('Init', {'PaymentId': '55', 'Status': 'NEW', 'PaymentURL': 'https://p.test/55'}) as mock:
            tx, url = invoice._bank_crm_tbank_payment_link(provider=self.tbank)
            again_tx, again_url = invoice._bank_crm_tbank_payment_link(provider=self.tbank)
        self.assertEqual(len(mock.calls), 1)
        self.assertEqual((tx, url), (again_tx, again_url))
        self.assertEqual(url, 'https://p.test/55')
        self.assertEqual(tx.invoice_ids, invoice)
        self.assertEqual(tx.amount, invoice.amount_residual)
        self.assertEqual(self.tbank.tbank_api_url, SANDBOX_URL)
