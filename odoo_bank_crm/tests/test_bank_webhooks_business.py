"""The business banks' account webhooks over HTTP, as the banks call them (issue #15,
docs/bank-webhooks.md): verification (T-Bank's secret, Tochka's RS256 JWT) with the
attacks performed, one line per operation whatever the order of event and sync, the
matching and the salesperson's notification at once, unknown accounts flagged.

T-Bank's statement for the sync is faked with `responses`; Tochka's public keys are
generated here and given to the receiver's key cache as the bank's JWKS."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from odoo import Command, sql_db
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .. import const
from ..bank_api.webhooks import JwksCache
from ..adapters import tochka as tochka_adapter
from .common import BankCrmCommon
from .test_bank_sync_schedule import FixedStatement

TBANK_API = 'http://localhost:8999/hooks-tbank/openapi/api'
TOCHKA_API = 'http://localhost:8999/hooks-tochka/uapi'
JWKS_URL = 'http://localhost:8999/hooks-tochka/jwks'
OUR_TBANK = '40702810110000000001'
OUR_TOCHKA = '40702810802000000004'
PAYER_ACCOUNT = '40702810900000000777'
SECRET = 'the-secret-we-gave-the-bank'


@tagged('post_install', '-at_install')
class TestBusinessWebhooks(BankCrmCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner.write({'vat': '7707083893', 'bank_ids': [Command.create({'acc_number': PAYER_ACCOUNT})]})
        cls.salesperson = cls.users['user']
        cls.lead = cls.env['crm.lead'].create(
            {'name': "Supply", 'type': 'opportunity', 'partner_id': cls.partner.id, 'user_id': cls.salesperson.id}
        )
        Connection = cls.env['bank.connection']
        cls.tbank = Connection.create(
            {'name': "T-Bank hooks", 'provider_code': 'tbank_business', 'api_url': TBANK_API, 'api_token': 'tok'}
        )
        cls.tbank.write({'state': 'connected', 'webhook_enabled': True, 'webhook_secret': SECRET})
        cls.bank_journal.write({'bank_crm_connection_id': cls.tbank.id, 'bank_crm_bank_account_ref': OUR_TBANK})
        cls.tochka = Connection.create(
            {
                'name': "Tochka hooks",
                'provider_code': 'tochka',
                'api_url': TOCHKA_API,
                'api_token': 'tok',
                'webhook_jwks_url': JWKS_URL,
            }
        )
        cls.tochka.write({'state': 'connected', 'webhook_enabled': True})
        cls.bank_journal_2.write(
            {'bank_crm_connection_id': cls.tochka.id, 'bank_crm_bank_account_ref': f'{OUR_TOCHKA}/044525104'}
        )
        cls.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cls.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = dict(json.loads(RSAAlgorithm.to_jwk(cls.key.public_key())), kid='tochka-1')
        # the bank's published keys, as the receiver's cache would have fetched them
        tochka_adapter._JWKS_CACHES[JWKS_URL] = JwksCache(JWKS_URL, fetch=lambda url: {'keys': [jwk]})

    @classmethod
    def tearDownClass(cls):
        tochka_adapter._JWKS_CACHES.pop(JWKS_URL, None)
        super().tearDownClass()

    # --- helpers ---

    def _invoice(self, amount):
        invoice = self.env['account.move'].create(
            {
                'move_type': 'out_invoice',
                'partner_id': self.partner.id,
                'bank_crm_lead_id': self.lead.id,
                'invoice_line_ids': [
                    Command.create({'name': "Goods", 'quantity': 1, 'price_unit': amount, 'tax_ids': [Command.clear()]})
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _operation(self, operation_id='op-1', amount='15000.00', purpose="Оплата", status='Transaction', **extra):
        return dict(
            {
                'operationId': operation_id,
                'operationDate': '2026-03-10T09:15:00Z',
                'operationStatus': status,
                'typeOfOperation': 'Credit',
                'accountAmount': amount,
                'payPurpose': purpose,
                'docNumber': '1042',
                'payer': {'name': "ООО «Ромашка»", 'inn': '7707083893', 'account': PAYER_ACCOUNT},
                'receiver': {'name': "ООО «Мы»", 'account': OUR_TBANK},
            },
            **extra,
        )

    def _post(self, path, data, headers=None, book=True):
        """The bank's request, then (``book``) the booking job it triggers, as the cron worker runs it."""
        response = self.opener.post(self.base_url() + path, data=data, headers=headers or {}, timeout=30)
        self.env.invalidate_all()
        if book:
            self._book()
        return response

    def _book(self):
        events = self.env['bank.webhook.event']._cron_book_queued()
        self.env.invalidate_all()
        return events

    def _post_tbank(self, payload, authorization=f'Bearer {SECRET}', connection=None, book=True):
        headers = {'Content-Type': 'application/json'}
        if authorization is not None:
            headers['Authorization'] = authorization
        path = f'/bank_crm/webhook/tbank_business/{(connection or self.tbank).id}'
        return self._post(path, json.dumps(payload), headers, book=book)

    def _claims(self, payment_id='pay-1', amount='15000.0', purpose="Оплата", account=OUR_TOCHKA, **extra):
        currency = self.env.company.currency_id.name  # the test company's, the journal's
        return dict(
            {
                'SidePayer': {
                    'account': PAYER_ACCOUNT,
                    'name': "ООО «Ромашка»",
                    'amount': amount,
                    'currency': currency,
                    'inn': '7707083893',
                    'bankCode': '044525225',
                },
                'SideRecipient': {'account': account, 'amount': amount, 'currency': currency},
                'purpose': purpose,
                'documentNumber': '15',
                'paymentId': payment_id,
                'date': '2026-03-10',
                'webhookType': 'incomingPayment',
                'customerCode': '300000092',
            },
            **extra,
        )

    def _post_tochka(self, token, book=True):
        headers = {'Content-Type': 'text/plain'}
        return self._post(f'/bank_crm/webhook/tochka/{self.tochka.id}', token, headers, book=book)

    def _lines(self, journal=None):
        return self.env['account.bank.statement.line'].search([('journal_id', '=', (journal or self.bank_journal).id)])

    def _events(self):
        return self.env['bank.webhook.event'].search([('connection_id', '!=', False)], order='id')

    def _last_event(self):
        return self.env['bank.webhook.event'].search([], order='id desc', limit=1)

    def _sync(self, operations):
        with responses.RequestsMock() as mock:
            mock.add_callback(responses.GET, f'{TBANK_API}/v1/statement', callback=FixedStatement(operations))
            self.bank_journal._bank_crm_sync(manual=True, date_from='2026-03-09', date_to='2026-03-11')
        self.env.invalidate_all()

    # --- T-Bank ---

    def test_tbank_event_pays_the_invoice_and_tells_the_salesperson(self):
        invoice = self._invoice(15000.0)
        response = self._post_tbank(self._operation(purpose=f"Оплата по счету № {invoice.name}"))
        self.assertEqual(response.status_code, 200)
        line = self._lines()
        self.assertEqual(len(line), 1)
        self.assertEqual(line.bank_crm_operation_id, 'op-1')
        self.assertTrue(line.is_reconciled)
        self.assertEqual(invoice.payment_state, 'paid')
        self.assertEqual(self.lead.bank_crm_payment_state, 'paid')
        self.assertTrue(self.lead.activity_ids.filtered(lambda a: a.user_id == self.salesperson))
        event = self._last_event()
        self.assertEqual((event.state, event.line_count, event.connection_id), ('processed', 1, self.tbank))
        self.assertTrue(self.tbank.webhook_last_event_at)
        self.assertTrue(self.tbank.webhook_balance_due, "the bank's balance is refreshed by the triggered job")

    def test_tbank_forged_secret_books_nothing(self):
        invoice = self._invoice(15000.0)
        payload = self._operation(purpose=f"Оплата по счету № {invoice.name}")
        for authorization in (None, 'Bearer wrong', f'Bearer {SECRET}x', 'Bearer ', SECRET, f'Token {SECRET}'):
            with mute_logger('odoo.addons.odoo_bank_crm.models.bank_webhook_event_business'):
                response = self._post_tbank(payload, authorization, book=False)
            self.assertEqual(response.status_code, 401, authorization)
            event = self._last_event()
            self.assertEqual(event.state, 'rejected')
            self.assertFalse(event.processed_key, "nothing claimed")
            self.assertNotIn(SECRET, event.result)
            self.assertFalse(self._book(), "a forged body queues nothing")
        self.assertFalse(self._lines())
        self.assertEqual(invoice.payment_state, 'not_paid')
        self.assertIn('"operationId": "op-1"', event.raw_body, "the forged body is kept, as received")

    def test_tbank_secret_of_another_connection_is_refused(self):
        other = self.tbank.copy({'name': "Other T-Bank"})
        other.write({'webhook_enabled': True, 'webhook_secret': 'other-secret'})
        with mute_logger('odoo.addons.odoo_bank_crm.models.bank_webhook_event_business'):
            response = self._post_tbank(self._operation(), 'Bearer other-secret')
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self._lines())

    def test_unknown_or_disabled_address_is_404(self):
        self.assertEqual(self._post('/bank_crm/webhook/tbank_business/999999', '{}').status_code, 404)
        # the Tochka connection's id at the T-Bank address
        response = self._post_tbank(self._operation(), connection=self.tochka)
        self.assertEqual(response.status_code, 404)
        self.tbank.webhook_enabled = False
        self.assertEqual(self._post_tbank(self._operation()).status_code, 404)
        self.assertFalse(self._lines())
        self.assertEqual(self._last_event().state, 'rejected')

    def test_tbank_observed_body_pays_the_invoice(self):
        """The oper-feed-operation body as public receivers observe it (docs/bank-webhooks.md):
        flat, accountNumber, documentNumber, string amounts, event dates, no operationDate."""
        invoice = self._invoice(15000.0)
        body = {
            'operationId': 'observed-1',
            'typeOfOperation': 'Credit',
            'accountNumber': OUR_TBANK,
            'documentNumber': '1042',
            'accountAmount': '15000.00',
            'rubleAmount': '15000.00',
            'counterParty': {'account': PAYER_ACCOUNT, 'inn': '7707083893', 'name': "ООО «Ромашка»"},
            'payPurpose': f"Оплата по счету № {invoice.name}",
            'authorizationDate': '2026-03-10T09:15:00Z',
            'trxnPostDate': '2026-03-10T09:15:01Z',
        }
        self.assertEqual(self._post_tbank(body).status_code, 200)
        line = self._lines()
        self.assertEqual((len(line), line.bank_crm_operation_id), (1, 'observed-1'))
        self.assertEqual(invoice.payment_state, 'paid')
        self.assertEqual(self.lead.bank_crm_payment_state, 'paid')
        # the statement names it with another operationId (the bank says it may): one line
        self._sync([self._operation(operation_id='statement-id', purpose=body['payPurpose'])])
        self.assertEqual(len(self._lines()), 1)

    def test_duplicates_and_retries_book_one_line(self):
        for _attempt in range(3):
            self.assertEqual(self._post_tbank(self._operation()).status_code, 200)
        self.assertEqual(len(self._lines()), 1)
        self.assertEqual(self._events().mapped('state'), ['processed', 'duplicate', 'duplicate'])

    def test_request_queues_and_the_job_books_once(self):
        """The answer comes once the verified event is queued; the job books it, once,
        however often it runs."""
        invoice = self._invoice(15000.0)
        response = self._post_tbank(self._operation(purpose=f"Оплата по счету № {invoice.name}"), book=False)
        self.assertEqual(response.status_code, 200)
        event = self._last_event()
        self.assertEqual((event.state, event.verified, event.next_attempt_at), ('queued', True, False))
        self.assertTrue(event.processed_key, "the operation is claimed in the request")
        self.assertFalse(self._lines(), "nothing booked before the job")
        cron = self.env.ref('odoo_bank_crm.cron_book_queued_business_webhooks')
        self.assertTrue(self.env['ir.cron.trigger'].search([('cron_id', '=', cron.id)]), "the job is triggered")
        self.assertEqual(self._book(), event)
        self.assertEqual(self._book(), self.env['bank.webhook.event'], "the second run finds nothing queued")
        self.assertEqual(len(self._lines()), 1)
        self.assertEqual((event.state, event.line_count), ('processed', 1))
        self.assertEqual(invoice.payment_state, 'paid')
        self.assertEqual(len(self.lead.activity_ids.filtered(lambda a: a.user_id == self.salesperson)), 1)

    def test_duplicate_while_the_first_is_queued_books_once(self):
        self.assertEqual(self._post_tbank(self._operation(), book=False).status_code, 200)
        self.assertEqual(self._post_tbank(self._operation(), book=False).status_code, 200)
        self.assertEqual(self._events().mapped('state'), ['queued', 'duplicate'])
        self.assertEqual(len(self._book()), 1, "the duplicate is not queued")
        self.assertEqual(len(self._lines()), 1)
        self.assertEqual(self._events().mapped('state'), ['processed', 'duplicate'])

    def test_queued_events_are_booked_in_order_of_arrival(self):
        for operation_id in ('op-1', 'op-2', 'op-3'):
            self._post_tbank(self._operation(operation_id, docNumber=operation_id), book=False)
        events = self._events()
        self.assertEqual(events.mapped('state'), ['queued'] * 3)
        self.assertEqual(self._book().ids, events.ids)
        self.assertEqual(self._lines().sorted('id').mapped('bank_crm_operation_id'), ['op-1', 'op-2', 'op-3'])

    def test_a_failing_event_is_kept_and_the_others_booked(self):
        """An event the booking fails on is marked with its error and tried again later;
        the next queued one is booked."""
        self._post_tbank(self._operation('op-1'), book=False)
        self._post_tbank(self._operation('op-2', docNumber='2'), book=False)
        first, second = self._events()
        # the first's stored body no longer parses as it did in the request (as if the
        # booking failed on it): the job flags it and goes on
        first.sudo().write({'raw_body': '{"operationId": "op-1"}'})
        self._book()
        self.assertEqual(first.state, 'attention')
        self.assertIn('op-1', first.raw_body)
        self.assertEqual(second.state, 'processed')
        self.assertEqual(self._lines().mapped('bank_crm_operation_id'), ['op-2'])

    def test_authorization_then_transaction(self):
        """T-Bank reports an operation again when it changes: the hold books nothing,
        the confirmation books the line."""
        self._post_tbank(self._operation(status='Authorization'))
        self.assertFalse(self._lines())
        self._post_tbank(self._operation())
        self.assertEqual(len(self._lines()), 1)

    def test_event_then_sync_is_one_line(self):
        self._post_tbank(self._operation())
        self._sync([self._operation()])
        self.assertEqual(len(self._lines()), 1)
        run = self.env['bank.sync.run'].search([('journal_id', '=', self.bank_journal.id)], limit=1)
        self.assertEqual((run.created_count, run.skipped_count), (0, 1))

    def test_sync_then_event_is_one_line(self):
        self._sync([self._operation()])
        self.assertEqual(self._post_tbank(self._operation()).status_code, 200)
        self.assertEqual(len(self._lines()), 1)
        event = self._last_event()
        self.assertEqual((event.state, event.line_count), ('processed', 0))

    def test_night_operation_reidentified_by_the_sync_is_one_line(self):
        """The event's id A, the statement's id B for the same night payment (§6.9)."""
        self._post_tbank(self._operation('night-A', operationDate='2026-03-10T20:30:00Z'))
        self._sync([self._operation('night-B', operationDate='2026-03-10T20:30:00Z')])
        self.assertEqual(self._lines().mapped('bank_crm_operation_id'), ['night-A'])

    def test_unknown_account_is_stored_and_flagged(self):
        operation = self._operation(receiver={'account': '40702810999999999999'})
        response = self._post_tbank(operation)
        self.assertEqual(response.status_code, 200, "genuine: the bank must not send it again")
        event = self._last_event()
        self.assertEqual(event.state, 'attention')
        self.assertIn('40702810999999999999', event.result)
        self.assertFalse(self.env['account.bank.statement.line'].search([('bank_crm_operation_id', '=', 'op-1')]))
        self.assertTrue(self.tbank.activity_ids, "a person is asked to look")

    def test_unexpected_genuine_payload_is_flagged_not_500(self):
        for body in ({'hello': 'world'}, {'operationId': 'x'}, [1, 2]):
            self.assertEqual(self._post_tbank(body).status_code, 200)
            self.assertEqual(self._last_event().state, 'attention')
        response = self._post(
            f'/bank_crm/webhook/tbank_business/{self.tbank.id}',
            b'\xff\xfe not json',
            {'Authorization': f'Bearer {SECRET}'},
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._last_event().state, 'attention')
        self.assertFalse(self._lines())

    def test_archiving_turns_instant_updates_off(self):
        self.tbank.action_archive()
        self.assertFalse(self.tbank.webhook_enabled)
        self.assertFalse(self.tbank.webhook_secret)
        self.assertEqual(self._post_tbank(self._operation()).status_code, 404)

    def test_director_cannot_turn_instant_updates_on_or_off(self):
        """Over RPC too: refused before any write or call to the bank."""
        self.tbank.write({'webhook_enabled': False, 'webhook_subscribed_at': False})
        for connection, method in ((self.tbank, 'action_enable_webhooks'), (self.tochka, 'action_disable_webhooks')):
            before = connection.read(['webhook_enabled', 'webhook_secret', 'webhook_subscribed_at'])
            messages = len(connection.message_ids)
            with self.assertRaises(AccessError):
                getattr(connection.with_user(self.users['director']), method)()
            self.assertEqual(connection.read(['webhook_enabled', 'webhook_secret', 'webhook_subscribed_at']), before)
            self.assertEqual(len(connection.message_ids), messages)

    def test_secret_is_administrators_only(self):
        connection = self.tbank.with_user(self.users['director'])
        self.assertNotIn('webhook_secret', connection.fields_get())
        self.assertTrue(connection.webhook_enabled)

    # --- Tochka ---

    def _token(self, claims=None, key=None, kid='tochka-1', algorithm='RS256'):
        headers = {'kid': kid} if kid else None
        return jwt.encode(claims or self._claims(), key or self.key, algorithm=algorithm, headers=headers)

    def test_tochka_event_books_and_pays(self):
        invoice = self._invoice(15000.0)
        response = self._post_tochka(self._token(self._claims(purpose=f"Оплата по счету № {invoice.name}")))
        self.assertEqual(response.status_code, 200)
        line = self._lines(self.bank_journal_2)
        self.assertEqual(line.bank_crm_operation_id, 'pay-1')
        self.assertEqual(invoice.payment_state, 'paid')
        self.assertEqual(self.lead.bank_crm_payment_state, 'paid')
        self.assertEqual(self._post_tochka(self._token(self._claims())).status_code, 200)
        self.assertEqual(len(self._lines(self.bank_journal_2)), 1, "the retried event books nothing")

    def _assert_refused(self, token):
        with mute_logger('odoo.addons.odoo_bank_crm.models.bank_webhook_event_business'):
            response = self._post_tochka(token, book=False)
        self.assertEqual(response.status_code, 401)
        self.assertEqual(self._last_event().state, 'rejected')
        self.assertFalse(self._book(), "a forgery queues nothing")
        self.assertFalse(self._lines(self.bank_journal_2))

    def test_tochka_forged_signature(self):
        self._assert_refused(self._token(key=self.other_key))

    def test_tochka_alg_none(self):
        self._assert_refused(jwt.encode(self._claims(), None, algorithm='none', headers={'kid': 'tochka-1'}))

    def test_tochka_hs256_with_the_public_key_as_secret(self):
        public_pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        segments = [
            base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b'=')
            for part in ({'alg': 'HS256', 'typ': 'JWT', 'kid': 'tochka-1'}, self._claims())
        ]
        signing_input = b'.'.join(segments)
        signature = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest()).rstrip(b'=')
        self._assert_refused((signing_input + b'.' + signature).decode())

    def test_tochka_expired(self):
        self._assert_refused(self._token(self._claims(exp=int(time.time()) - 3600)))

    def test_tochka_wrong_key_id(self):
        self._assert_refused(self._token(kid='not-the-banks'))

    def test_tochka_plain_json_is_refused(self):
        self._assert_refused(json.dumps(self._claims()))

    def test_tochka_test_webhook_while_subscribing(self):
        """Tochka tests the URL while the connection subscribes, before "instant updates
        on" is committed: a genuine token is answered 200 and books nothing; a forged one
        is still refused."""
        self.tochka.webhook_enabled = False
        response = self._post_tochka(self._token(self._claims(purpose="Тестовый вебхук")))
        self.assertEqual(response.status_code, 200)
        event = self._last_event()
        self.assertEqual((event.state, event.verified, event.line_count), ('processed', True, 0))
        self.assertFalse(self._lines(self.bank_journal_2))
        self._assert_refused(self._token(key=self.other_key))

    def test_tochka_sbp_payment_pulls_the_statement(self):
        claims = {
            'webhookType': 'incomingSbpPayment',
            'operationId': 'sbp-1',
            'amount': '500.00',
            'customerCode': '300000092',
            'purpose': 'Оплата',
        }
        self.assertEqual(self._post_tochka(self._token(claims)).status_code, 200)
        self.assertEqual(self._last_event().state, 'processed')
        self.assertTrue(self.tochka.webhook_sync_due, "the statement pull books the exact line")
        self.assertFalse(self._lines(self.bank_journal_2))

    def test_a_pull_another_process_holds_is_asked_again(self):
        """The follow-up's statement pull skipped (another process pulls the account): the
        connection stays due, and the job comes back for it, rather than leave the
        operation to the scheduled sync."""
        self.tochka.webhook_sync_due = True
        cron = self.env.ref('odoo_bank_crm.cron_bank_webhook_followup')
        Trigger = self.env['ir.cron.trigger']
        triggers = Trigger.search_count([('cron_id', '=', cron.id)])
        # another process pulling the account: a connection of its own (the test's registry
        # cursors share the test's connection, where the lock would be re-entrant)
        with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
            cr.execute("SELECT pg_advisory_lock(%s, %s)", [const.SYNC_LOCK_NAMESPACE, self.bank_journal_2.id])
            try:
                self.env['bank.connection']._cron_webhook_followup()
            finally:
                cr.execute("SELECT pg_advisory_unlock(%s, %s)", [const.SYNC_LOCK_NAMESPACE, self.bank_journal_2.id])
        run = self.env['bank.sync.run'].search([('journal_id', '=', self.bank_journal_2.id)], order='id desc', limit=1)
        self.assertEqual(run.state, 'skipped')
        self.assertTrue(self.tochka.webhook_sync_due)
        self.assertGreater(Trigger.search_count([('cron_id', '=', cron.id)]), triggers, "the job comes back")

    def test_tochka_unknown_account_is_flagged(self):
        self.assertEqual(self._post_tochka(self._token(self._claims(account='40702810999999999999'))).status_code, 200)
        self.assertEqual(self._last_event().state, 'attention')
        self.assertFalse(self._lines(self.bank_journal_2))

    # --- booking in batches, failures, attempts (round 4) ---

    def _queue_tbank(self, count, prefix='batch'):
        for index in range(count):
            operation = self._operation(f'{prefix}-{index}', amount=f'{100 + index}.00', docNumber=f'{prefix}{index}')
            self.assertEqual(self._post_tbank(operation, book=False).status_code, 200)
        return self._events().filtered(lambda e: e.state == 'queued')

    def test_batch_books_every_queued_event_once(self):
        """One run books the queued events together; a second run finds nothing; an event
        whose operation the sync booked while it was queued books nothing."""
        events = self._queue_tbank(4)
        self.assertEqual(len(events), 4)
        self.assertEqual(events.mapped('attempt_count'), [0] * 4, "queueing is not a booking attempt")
        # the statement brings the second operation while its event is queued
        self._sync([self._operation('batch-1', amount='101.00', docNumber='batch1')])
        self.assertEqual(len(self._lines()), 1)
        self.assertEqual(self._book(), events)
        self.assertEqual(self._book(), self.env['bank.webhook.event'], "the second run finds nothing")
        self.assertEqual(sorted(self._lines().mapped('bank_crm_operation_id')), [f'batch-{i}' for i in range(4)])
        self.assertEqual(events.mapped('state'), ['processed'] * 4)
        self.assertEqual(events.mapped('line_count'), [1, 0, 1, 1])
        self.assertEqual(events.mapped('attempt_count'), [1] * 4, "each booking attempt counted once")
        self.assertFalse(any(events.mapped('next_attempt_at')))

    def test_batch_duplicate_delivery_in_the_same_batch_books_once(self):
        self.assertEqual(self._post_tbank(self._operation('dup-1'), book=False).status_code, 200)
        self.assertEqual(self._post_tbank(self._operation('dup-2', docNumber='2'), book=False).status_code, 200)
        self.assertEqual(self._post_tbank(self._operation('dup-1'), book=False).status_code, 200)
        self.assertEqual(self._events().mapped('state'), ['queued', 'queued', 'duplicate'])
        self.assertEqual(len(self._book()), 2)
        self.assertEqual(sorted(self._lines().mapped('bank_crm_operation_id')), ['dup-1', 'dup-2'])
        self._sync([self._operation('dup-1'), self._operation('dup-2', docNumber='2')])
        self.assertEqual(len(self._lines()), 2, "the sync books nothing twice")

    def test_a_failing_event_is_retried_with_back_off_and_booked_once(self):
        """A booking that fails for a real reason (the journal's suspense account archived
        meanwhile) leaves the event failed with its error; the other events of the batch
        are booked; `_cron_process_waiting` tries it again after its back-off and, the cause
        gone, it is booked once."""
        invoice = self._invoice(15000.0)
        suspense = self.bank_journal_2.suspense_account_id.copy({'code': '999001', 'name': "Tochka suspense"})
        self.bank_journal_2.suspense_account_id = suspense
        token = self._token(self._claims(purpose=f"Оплата по счету № {invoice.name}"))
        self.assertEqual(self._post_tochka(token, book=False).status_code, 200)
        self.assertEqual(self._post_tbank(self._operation('other-1', amount='10.00'), book=False).status_code, 200)
        tochka_event, tbank_event = self._events()
        suspense.deprecated = True
        with mute_logger('odoo.addons.odoo_bank_crm.models.bank_webhook_event_business'):
            self.assertEqual(self._book(), tochka_event | tbank_event)
        self.assertEqual((tbank_event.state, tbank_event.line_count), ('processed', 1), "the other event is booked")
        self.assertEqual(tochka_event.state, 'failed')
        self.assertIn('deprecated', tochka_event.result)
        self.assertEqual(tochka_event.attempt_count, 1)
        self.assertTrue(tochka_event.next_attempt_at)
        self.assertFalse(self._lines(self.bank_journal_2))
        self.assertTrue(self.tochka.activity_ids, "an administrator is told")
        Event = self.env['bank.webhook.event']
        self.assertFalse(Event._cron_process_waiting(), "not before its back-off")
        # the next attempt is due, the cause still there: failed again, later
        tochka_event.sudo().next_attempt_at = '2020-01-01 00:00:00'
        self.assertEqual(Event._cron_process_waiting(), tochka_event)
        self.env.invalidate_all()
        self.assertEqual(tochka_event.state, 'queued', "queued again; its claim is its own")
        with mute_logger('odoo.addons.odoo_bank_crm.models.bank_webhook_event_business'):
            self._book()
        self.assertEqual((tochka_event.state, tochka_event.attempt_count), ('failed', 2))
        delay = (tochka_event.next_attempt_at - tochka_event.write_date).total_seconds()
        self.assertGreaterEqual(delay, Event._retry_delay_minutes(2) * 60 - 1, "backed off: longer than the first")
        # the cause gone: booked once
        suspense.deprecated = False
        tochka_event.sudo().next_attempt_at = '2020-01-01 00:00:00'
        Event._cron_process_waiting()
        self._book()
        self.assertEqual((tochka_event.state, tochka_event.line_count, tochka_event.attempt_count), ('processed', 1, 3))
        self.assertEqual(len(self._lines(self.bank_journal_2)), 1)
        self.assertEqual(invoice.payment_state, 'paid')
        self.assertFalse(Event._cron_process_waiting(), "nothing left to try")
        self.assertFalse(self._book())
        self.assertEqual(len(self._lines(self.bank_journal_2)), 1)

    def test_tochka_test_webhook_during_resubscription_is_not_booked(self):
        """Re-subscribing a connection whose instant updates are on: the bank's signed test
        webhooks arrive during ``PUT /webhook/v1.0/{client_id}`` and look like real
        operations; they are answered 200 and booked nothing; afterwards a real event books."""
        self.tochka.webhook_client_id = 'integration-1'
        path = f'/bank_crm/webhook/tochka/{self.tochka.id}'
        test_token = self._token(self._claims(payment_id='test-1', amount='1.00', purpose="Тестовый вебхук"))
        answers = []

        def put(request):
            # the bank tests the URL before it answers (docs/bank-webhooks.md)
            answers.append(self.opener.post(self.base_url() + path, data=test_token, timeout=30).status_code)
            return (200, {}, json.dumps({'Data': {'webhooksList': ['incomingPayment'], 'url': 'x'}}))

        with responses.RequestsMock() as mock:
            mock.add_passthru(self.base_url())
            mock.add_callback(responses.PUT, f'{TOCHKA_API}/webhook/v1.0/integration-1', callback=put)
            self.tochka.action_enable_webhooks()
        self.env.invalidate_all()
        self.assertEqual(answers, [200])
        event = self._last_event()
        self.assertEqual((event.state, event.verified, event.line_count), ('processed', True, 0))
        self.assertIn('test', event.result)
        self.assertFalse(self._book(), "nothing queued")
        self.assertFalse(self._lines(self.bank_journal_2))
        self.assertTrue(self.tochka.webhook_sync_due, "the statement books any real operation sent meanwhile")
        # subscribed: a real event books
        self.assertEqual(self._post_tochka(self._token(self._claims(payment_id='real-1'))).status_code, 200)
        self.assertEqual(self._lines(self.bank_journal_2).mapped('bank_crm_operation_id'), ['real-1'])

    def test_attempts_counted_once_per_booking(self):
        self.assertEqual(self._post_tbank(self._operation(), book=False).status_code, 200)
        event = self._last_event()
        self.assertEqual(event.attempt_count, 0)
        self._book()
        self.assertEqual((event.state, event.attempt_count), ('processed', 1))
        # a forgery or a duplicate is finished in the request: that is its one attempt
        self.assertEqual(self._post_tbank(self._operation()).status_code, 200)
        self.assertEqual((self._last_event().state, self._last_event().attempt_count), ('duplicate', 1))
