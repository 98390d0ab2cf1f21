import json

from odoo.tests import HttpCase, tagged

from .tbank_common import TBankCommon

WEBHOOK = '/payment/tbank/webhook'


@tagged('post_install', '-at_install')
class TestTBankWebhook(TBankCommon, HttpCase):
    """The webhook over HTTP, as the bank calls it."""

    def _post(self, body, content_type='application/json'):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        response = self.opener.post(
            self.base_url() + WEBHOOK, data=data, headers={'Content-Type': content_type}, timeout=30
        )
        self._run_triggered_post_processing()
        return response

    def _run_triggered_post_processing(self):
        """What Odoo's post-processing job, triggered by the webhook, does right after."""
        self.env.invalidate_all()
        self.env['payment.transaction'].search(
            [('is_post_processed', '=', False), ('state', 'in', ('done', 'cancel'))]
        )._post_process()

    def _events(self):
        return self.env['bank.webhook.event'].search([], order='id')

    def test_valid_notification_pays_and_answers_ok(self):
        invoice = self._create_invoice()
        tx = self._create_invoice_tx(invoice)
        cron = self.env.ref('payment.cron_post_process_payment_tx')
        triggers = self.env['ir.cron.trigger'].search_count([('cron_id', '=', cron.id)])
        response = self.opener.post(
            self.base_url() + WEBHOOK,
            data=json.dumps(self._notification(tx, 'CONFIRMED')),
            headers={'Content-Type': 'application/json'},
            timeout=30,
        )
        self.assertEqual((response.status_code, response.text), (200, 'OK'))
        self.env.invalidate_all()
        self.assertEqual(tx.state, 'done', "the transaction's state is committed before the bank is answered")
        self.assertGreater(
            self.env['ir.cron.trigger'].search_count([('cron_id', '=', cron.id)]),
            triggers,
            "the post-processing job is triggered at once",
        )
        self._run_triggered_post_processing()
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        event = self._events()[-1]
        self.assertEqual(event.state, 'processed')
        self.assertEqual(event.transaction_id, tx)
        self.assertIn('"Status": "CONFIRMED"', event.raw_body)

    def test_invoice_messages_are_posted_by_the_job_in_order(self):
        """While the bank waits, the invoice's chatter messages are only written down;
        the post-processing job posts them, in the order of the statuses, before its own."""
        invoice = self._create_invoice()
        tx = self._create_invoice_tx(invoice)
        before = invoice.message_ids
        for status in ('AUTHORIZED', 'CONFIRMED', 'CONFIRMED'):
            response = self.opener.post(
                self.base_url() + WEBHOOK,
                data=json.dumps(self._notification(tx, status)),
                headers={'Content-Type': 'application/json'},
                timeout=30,
            )
            self.assertEqual(response.text, 'OK')
        self.env.invalidate_all()
        self.assertEqual(self._events().mapped('state')[-3:], ['processed', 'processed', 'duplicate'])
        self.assertEqual(len(tx.bank_crm_deferred_messages), 2)
        self.assertEqual(invoice.message_ids, before, "nothing posted while the bank waited")
        # what the triggered job (payment's _cron_post_process) does, without its commits
        self.env['payment.transaction'].search([('is_post_processed', '=', False)])._post_process()
        self.env.invalidate_all()
        self.assertFalse(tx.bank_crm_deferred_messages)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        bodies = [message.body for message in (invoice.message_ids - before).sorted('id')]
        self.assertGreaterEqual(len(bodies), 2)
        self.assertIn(tx.reference, bodies[0])
        self.assertIn(tx.reference, bodies[1])
        self.assertNotEqual(bodies[0], bodies[1], "the authorization's message, then the confirmation's")

    def test_redelivery_changes_nothing_twice(self):
        tx = self._create_invoice_tx()
        payload = self._notification(tx, 'CONFIRMED')
        for _attempt in range(3):
            self.assertEqual(self._post(payload).text, 'OK')
        self.assertEqual(self._events().mapped('state'), ['processed', 'duplicate', 'duplicate'])
        self.assertEqual(self.env['account.payment'].search_count([('payment_transaction_id', '=', tx.id)]), 1)

    def test_out_of_order_notifications(self):
        invoice = self._create_invoice()
        tx = self._create_invoice_tx(invoice)
        self.assertEqual(self._post(self._notification(tx, 'CONFIRMED')).text, 'OK')
        self.assertEqual(self._post(self._notification(tx, 'AUTHORIZED')).text, 'OK')
        self.assertEqual(self._post(self._notification(tx, 'REJECTED')).text, 'OK')
        self.assertEqual(tx.state, 'done')
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))

    def test_forged_token_is_forbidden_and_kept(self):
        tx = self._create_invoice_tx()
        payload = dict(self._notification(tx, 'CONFIRMED'), Token='0' * 64)
        response = self._post(payload)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(tx.state, 'draft')
        event = self._events()[-1]
        self.assertEqual(event.state, 'rejected')
        self.assertIn('Forged', event.result)

    def test_tampered_amount_breaks_the_token(self):
        tx = self._create_invoice_tx()
        payload = self._notification(tx, 'CONFIRMED')
        payload['Amount'] = 1
        self.assertEqual(self._post(payload).status_code, 403)
        self.assertEqual(tx.state, 'draft')

    def test_amount_mismatch_is_kept_as_rejected(self):
        tx = self._create_invoice_tx()
        response = self._post(self._notification(tx, 'CONFIRMED', amount=100))
        self.assertEqual(response.text, 'OK')  # the bank must not repeat it for a day
        self.assertEqual(tx.state, 'draft')
        event = self._events()[-1]
        self.assertEqual(event.state, 'rejected')
        self.assertIn('does not match', event.result)

    def test_unknown_order_waits_then_is_processed(self):
        invoice = self._create_invoice()
        payload = self._notification(
            self.env['payment.transaction'].new(
                {'reference': 'INV-LATER-1', 'amount': invoice.amount_residual, 'provider_reference': '777'}
            ),
            'CONFIRMED',
        )
        self.assertEqual(self._post(payload).text, 'OK')
        event = self._events()[-1]
        self.assertEqual(event.state, 'waiting')
        tx = self._create_invoice_tx(invoice, payment_id='777', reference='INV-LATER-1')
        self.env['bank.webhook.event']._cron_process_waiting()
        self.assertEqual(event.state, 'waiting', "not before its next attempt is due")
        self.assertTrue(event.next_attempt_at)
        event.flush_recordset()
        # as if the minute to its next attempt had passed
        self.env.cr.execute(
            "UPDATE bank_webhook_event SET next_attempt_at = now() AT TIME ZONE 'UTC' - interval '1 second'"
            " WHERE id = %s",
            [event.id],
        )
        self.env.invalidate_all()
        self.env['bank.webhook.event']._cron_process_waiting()
        self.assertEqual(event.state, 'processed', event.result)
        self.assertEqual(event.transaction_id, tx)
        self.assertEqual(tx.state, 'done')

    def test_malformed_bodies(self):
        for body in (b'not json', b'[]', json.dumps({'Status': 'CONFIRMED'}), b''):
            with self.subTest(body=body):
                response = self._post(body)
                self.assertEqual(response.status_code, 400)
                self.assertNotIn('Traceback', response.text)
        self.assertEqual(set(self._events().mapped('state')), {'rejected'})

    def test_only_administrators_see_notifications(self):
        tx = self._create_invoice_tx()
        self._post(self._notification(tx, 'CONFIRMED'))
        # the notification belongs to its transaction's company: an administrator working in it sees it
        self.admin_user.company_ids |= tx.company_id
        Event = self.env['bank.webhook.event'].with_user(self.admin_user).with_company(tx.company_id)
        self.assertEqual(Event.search([]).transaction_id, tx)
        from odoo.exceptions import AccessError

        with self.assertRaises(AccessError):
            self.env['bank.webhook.event'].with_user(self.salesperson).search([])
