"""The scheduled sync, "Sync Now", and operations the bank re-identifies (issue #16 §3).

The bank is faked over HTTP with `responses`, as in test_bank_sync: the sync code runs
for real, from the cron record or the button down to the statement lines it books.
"""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import requests
import responses

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import BankCrmCommon
from .test_bank_sync import FakeStatement


def _statement_url(api):
    return f'{api}/v1/statement'


class FixedStatement:
    """A statement endpoint answering one page of the given T-Bank operations."""

    def __init__(self, operations):
        self.operations = operations
        self.calls = []

    def __call__(self, request):
        self.calls.append({k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()})
        return 200, {}, json.dumps({'operations': self.operations})


def night_operation(operation_id, doc_number='1042', when='2026-03-10T20:30:00Z', amount='15000.00'):
    """An incoming payment booked at 23:30 Moscow time (20:30 UTC)."""
    operation = {
        'operationId': operation_id,
        'operationDate': when,
        'operationStatus': 'Transaction',
        'typeOfOperation': 'Credit',
        'accountAmount': amount,
        'payPurpose': 'Оплата по счету № 77 от 01.03.2026',
        'counterParty': {'name': 'ООО «Ромашка»', 'inn': '7707083893', 'account': '40702810900000000099'},
    }
    if doc_number is not None:
        operation['docNumber'] = doc_number
    return operation


@tagged('post_install', '-at_install')
class TestBankSyncSchedule(BankCrmCommon):
    """`_cron_sync` (run from its cron record) and the "Sync Now" button."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env['ir.config_parameter'].sudo().set_param('odoo_bank_crm.sync_backoff_seconds', '0')
        cls.cron = cls.env.ref('odoo_bank_crm.cron_bank_sync')
        cls.currency_name = (cls.bank_journal.currency_id or cls.bank_journal.company_id.currency_id).name
        now = fields.Datetime.now()
        # name: (state, active, interval in minutes, last sync, due?)
        plan = {
            'never': ('connected', True, 60, False, True),
            'overdue': ('connected', True, 60, now - timedelta(hours=2), True),
            'recent': ('connected', True, 60, now - timedelta(minutes=10), False),
            'failing': ('error', True, 30, now - timedelta(hours=1), True),
            'archived': ('connected', False, 60, False, False),
            'draft': ('draft', True, 60, False, False),
            'revoked': ('revoked', True, 60, False, False),
        }
        cls.connections, cls.journals, cls.apis, cls.due = {}, {}, {}, set()
        for index, (name, (state, active, interval, last_sync, due)) in enumerate(plan.items()):
            api = f'http://localhost:8999/bank-{name}/openapi/api'  # Odoo's tests block other hosts
            connection = cls.env['bank.connection'].create(
                {
                    'name': f"T-Bank {name}",
                    'provider_code': 'tbank_business',
                    'api_url': api,
                    'api_token': 'good-token',
                    'sync_interval_minutes': interval,
                }
            )
            # state, last sync and archiving are the sync's own bookkeeping, set as it would
            connection.write({'state': state, 'last_sync_at': last_sync, 'active': active})
            cls.journals[name] = cls.env['account.journal'].create(
                {
                    'name': f"Account {name}",
                    'code': f'SY{index}',
                    'type': 'bank',
                    'bank_crm_connection_id': connection.id,
                    'bank_crm_bank_account_ref': f'4070281051000000{index:04d}',
                }
            )
            cls.connections[name], cls.apis[name] = connection, api
            if due:
                cls.due.add(name)
        cls.admin_user = new_test_user(
            cls.env,
            login='bank_crm_sync_admin',
            groups='base.group_user,base.group_system,odoo_bank_crm.group_bank_crm_director',
            name="Bank CRM Administrator",
            company_id=cls.env.company.id,
            company_ids=[Command.set(cls.env.company.ids)],
        )

    def _lines(self, name):
        return self.env['account.bank.statement.line'].search([('journal_id', '=', self.journals[name].id)])

    def _run_cron(self, fakes):
        """Run the sync's cron record with each bank answering through its fake."""
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            for name, fake in fakes.items():
                if isinstance(fake, Exception):
                    mock.add(responses.GET, _statement_url(self.apis[name]), body=fake)
                else:
                    mock.add_callback(responses.GET, _statement_url(self.apis[name]), callback=fake)
            self.cron.method_direct_trigger()

    def test_cron_syncs_exactly_the_due_connections(self):
        fakes = {name: FakeStatement(5, self.currency_name) for name in self.connections}
        self._run_cron(fakes)
        called = {name for name, fake in fakes.items() if fake.calls}
        self.assertEqual(called, self.due)
        for name, connection in self.connections.items():
            runs = self.env['bank.sync.run'].search([('connection_id', '=', connection.id)])
            if name in self.due:
                self.assertEqual(runs.mapped('state'), ['done'], name)
                self.assertFalse(runs.manual, name)
                self.assertEqual(len(self._lines(name)), 5, name)
                self.assertEqual(connection.state, 'connected', name)  # a failing bank that recovered
            else:
                self.assertFalse(runs, name)
                self.assertFalse(self._lines(name), name)
        # the connections just synced are no longer due: a second run calls no bank
        again = {name: FakeStatement(5, self.currency_name) for name in self.connections}
        self._run_cron(again)
        self.assertFalse([name for name, fake in again.items() if fake.calls])

    def _assert_one_failure_spares_the_others(self, failure, expected_state, expected_error):
        fakes = {name: FakeStatement(5, self.currency_name) for name in self.due}
        fakes['overdue'] = failure
        self._run_cron(fakes)
        failed = self.env['bank.sync.run'].search([('connection_id', '=', self.connections['overdue'].id)])
        self.assertEqual(failed.state, 'failed')
        self.assertIn(expected_error, failed.error)
        self.assertNotIn('good-token', failed.error)
        self.assertEqual(self.connections['overdue'].state, expected_state)
        self.assertTrue(self.connections['overdue'].last_error)
        self.assertFalse(self._lines('overdue'))
        for name in self.due - {'overdue'}:
            run = self.env['bank.sync.run'].search([('connection_id', '=', self.connections[name].id)])
            self.assertEqual(run.state, 'done', name)
            self.assertEqual(len(self._lines(name)), 5, name)

    def test_cron_bank_answering_500_spares_the_others(self):
        failing = FakeStatement(5, self.currency_name, fail_pages={0}, failures=99, status=500)
        self._assert_one_failure_spares_the_others(
            failing, 'error', 'The bank did not answer or failed (HTTP 500): T-Bank business GET /v1/statement: busy'
        )
        self.assertGreater(len(failing.calls), 1, "a 5xx is retried before the run fails")

    def test_cron_bank_timing_out_spares_the_others(self):
        timeout = requests.exceptions.ReadTimeout("read timed out")
        self._assert_one_failure_spares_the_others(
            timeout, 'error', 'The bank did not answer or failed: T-Bank business GET /v1/statement: no answer in time'
        )

    def test_cron_bank_refusing_the_token_spares_the_others(self):
        self.connections['overdue'].api_token = 'revoked-token'
        failing = FakeStatement(5, self.currency_name)  # answers 401 to any other token
        self._assert_one_failure_spares_the_others(failing, 'revoked', 'The bank refused the token (HTTP 401)')
        self.assertEqual(len(failing.calls), 1, "a refused token is not retried")
        self.assertNotIn('revoked-token', self.connections['overdue'].last_error)

    def _notifications_to(self, user):
        """The live notifications sent to `user` in this transaction (written to the bus on
        commit, or sooner when a savepoint flushes)."""
        self.env.cr.flush()
        channel = f'"res.partner",{user.partner_id.id}]'
        return [
            json.loads(message.message)['payload']
            for message in self.env['bus.bus'].sudo().search([('channel', 'like', channel)], order='id')
            if message.channel.endswith(channel) and 'simple_notification' in message.message
        ]

    def _triggers(self):
        return self.env['ir.cron.trigger'].search([('cron_id', '=', self.cron.id)])

    def test_sync_now_queues_the_sync_and_tells_the_result(self):
        connection = self.connections['recent']  # not due: the button syncs anyway
        triggers = self._triggers()
        with responses.RequestsMock():  # the click itself calls no bank
            action = connection.with_user(self.admin_user).action_sync_now()
        self.assertEqual(action['tag'], 'display_notification')
        self.assertEqual(action['params']['type'], 'info')
        self.assertIn("The sync of T-Bank recent has started", action['params']['message'])
        self.assertEqual(connection.sync_requested_uid, self.admin_user)
        self.assertTrue(connection.sync_requested_at)
        self.assertEqual(len(self._triggers() - triggers), 1, "the sync cron is woken up")
        self.assertFalse(self._lines('recent'))

        fakes = {name: FakeStatement(5, self.currency_name) for name in self.due}
        fakes['recent'] = FakeStatement(100, self.currency_name)  # 2 of them are holds, not booked
        self._run_cron(fakes)
        self.assertEqual(len(self._lines('recent')), 98)
        run = self.env['bank.sync.run'].search([('connection_id', '=', connection.id)])
        self.assertEqual((run.state, run.manual, run.created_count, run.skipped_count), ('done', True, 98, 2))
        self.assertEqual(connection.last_sync_result, "98 new transactions, 2 already known.")
        self.assertFalse(connection.sync_requested_at)
        self.assertFalse(connection.sync_requested_uid)
        told = self._notifications_to(self.admin_user)
        self.assertEqual(len(told), 1)
        self.assertEqual(
            (told[0]['type'], told[0]['title'], told[0]['message']),
            ('success', "Bank sync: T-Bank recent", "98 new transactions, 2 already known."),
        )
        # again: nothing new, said so
        connection.with_user(self.admin_user).action_sync_now()
        self._run_cron({'recent': FakeStatement(100, self.currency_name)})
        self.assertEqual(connection.last_sync_result, "0 new transactions, 100 already known.")
        self.assertEqual(len(self._lines('recent')), 98)
        # the connections due were synced by the same cron run, as scheduled; the others were not
        for name in self.due:
            self.assertEqual(len(self._lines(name)), 5, name)
            self.assertFalse(
                self.env['bank.sync.run'].search([('connection_id', '=', self.connections[name].id)]).manual
            )
        self.assertFalse(self._lines('draft'))

    def test_sync_now_failure_reaches_the_requester(self):
        connection = self.connections['recent']
        connection.with_user(self.admin_user).action_sync_now()
        fakes = {name: FakeStatement(5, self.currency_name) for name in self.due}
        fakes['recent'] = FakeStatement(5, self.currency_name, fail_pages={0}, failures=99, status=500)
        self._run_cron(fakes)
        run = self.env['bank.sync.run'].search([('connection_id', '=', connection.id)])
        self.assertEqual(run.state, 'failed')
        told = self._notifications_to(self.admin_user)
        self.assertEqual(len(told), 1)
        self.assertEqual((told[0]['type'], told[0]['sticky']), ('danger', True))
        self.assertIn(
            "The sync of Account recent failed: The bank did not answer or failed (HTTP 500)", told[0]['message']
        )
        self.assertEqual(connection.last_sync_result, told[0]['message'])
        self.assertNotIn('good-token', told[0]['message'])
        self.assertFalse(connection.sync_requested_at)
        for name in self.due:  # the failing request stopped none of the due connections
            self.assertEqual(len(self._lines(name)), 5, name)

    def test_sync_now_refused_to_who_may_not_change_the_connection(self):
        director = new_test_user(
            self.env,
            login='bank_crm_sync_director',
            groups='base.group_user,odoo_bank_crm.group_bank_crm_director',
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        connection = self.connections['recent']
        triggers = self._triggers()
        with self.assertRaises(AccessError):
            connection.with_user(director).action_sync_now()
        self.assertFalse(connection.sync_requested_at)
        self.assertEqual(self._triggers(), triggers)


@tagged('post_install', '-at_install')
class TestBankReidentifiedOperations(BankCrmCommon):
    """T-Bank may change `operationId` of operations made 22:00-03:00 (docs/banks.md §6.9)."""

    API = 'http://localhost:8999/bank-night/openapi/api'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection = cls.env['bank.connection'].create(
            {'name': "T-Bank", 'provider_code': 'tbank_business', 'api_url': cls.API, 'api_token': 'good-token'}
        )
        cls.connection.state = 'connected'
        cls.bank_journal.write(
            {'bank_crm_connection_id': cls.connection.id, 'bank_crm_bank_account_ref': '40702810510000000001'}
        )

    def _pull(self, operations):
        with responses.RequestsMock() as mock:
            mock.add_callback(responses.GET, _statement_url(self.API), callback=FixedStatement(operations))
            run = self.bank_journal._bank_crm_sync(date_from='2026-03-01', date_to='2026-03-31')
        self.assertEqual(run.state, 'done', run.error)
        return run

    def _lines(self):
        return self.env['account.bank.statement.line'].search([('journal_id', '=', self.bank_journal.id)])

    def test_same_operation_under_a_new_id_stays_one_line(self):
        self._pull([night_operation('A')])
        line = self._lines()
        self.assertEqual((line.bank_crm_operation_id, line.amount), ('A', 15000.0))
        self.assertEqual(line.date, fields.Date.to_date('2026-03-10'))  # 23:30 in Moscow
        run = self._pull([night_operation('B')])
        self.assertEqual((run.created_count, run.skipped_count), (0, 1))
        self.assertEqual(self._lines(), line)
        self.assertEqual(line.bank_crm_operation_id, 'A')

    def test_same_amount_and_day_with_other_document_numbers_are_two_lines(self):
        self._pull([night_operation('A', doc_number='1042')])
        run = self._pull([night_operation('A', doc_number='1042'), night_operation('C', doc_number='1043')])
        self.assertEqual((run.created_count, run.skipped_count), (1, 1))
        self.assertEqual(sorted(self._lines().mapped('bank_crm_document_number')), ['1042', '1043'])

    def test_operations_alike_in_one_answer_are_all_booked(self):
        # two card payments of the same sum on the same day, without document number: the
        # bank lists them under two ids in the same answer, so they are two operations
        twins = [night_operation('A', doc_number=None), night_operation('B', doc_number=None)]
        run = self._pull(twins)
        self.assertEqual(run.created_count, 2)
        self.assertEqual(len(self._lines()), 2)
        run = self._pull(twins)  # and pulling them again books neither twice
        self.assertEqual((run.created_count, run.skipped_count), (0, 2))
        self.assertEqual(len(self._lines()), 2)
