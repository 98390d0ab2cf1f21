import json
from urllib.parse import parse_qs, urlparse

import responses

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import BankCrmCommon

API = 'http://localhost:8999/tbank-business/openapi/api'
ACCOUNT = '40702810510000000001'


class FakeStatement:
    """The bank's statement endpoint (docs/banks.md §2.2) over `responses`: `count`
    operations, paged by an opaque cursor, with optional failures of given pages."""

    def __init__(self, count, currency, page_size=None, fail_pages=(), failures=1, status=500):
        self.count, self.currency = count, currency
        self.page_size = page_size
        self.fail_pages, self.failures, self.status = set(fail_pages), failures, status
        self.calls = []

    def operation(self, index):
        incoming = index % 3 != 0
        return {
            'operationId': f'op-{index:06d}',
            'operationDate': f'2026-03-{1 + index % 28:02d}T10:{index % 60:02d}:00Z',
            'operationStatus': 'Authorization' if index % 50 == 49 else 'Transaction',
            'typeOfOperation': 'Credit' if incoming else 'Debit',
            'accountAmount': f'{100 + index}.{index % 100:02d}',
            'payPurpose': f'Оплата по счету № {index} от 01.03.2026',
            'counterParty': {'name': 'ООО «Ромашка»', 'inn': '7707083893', 'account': '40702810900000000099'},
            'docNumber': str(index),
        }

    def __call__(self, request):
        query = {k: v[0] for k, v in parse_qs(urlparse(request.url).query).items()}
        self.calls.append(query)
        if request.headers.get('Authorization') != 'Bearer good-token':
            return 401, {}, json.dumps({'errorMessage': 'token revoked', 'errorCode': 'UNAUTHORIZED'})
        start = int(query.get('cursor') or 0)
        if start in self.fail_pages and self.failures:
            self.failures -= 1
            return self.status, {'Retry-After': '0'}, json.dumps({'errorMessage': 'busy'})
        limit = self.page_size or int(query['limit'])
        end = min(start + limit, self.count)
        body = {'operations': [self.operation(i) for i in range(start, end)]}
        if end < self.count:
            body['nextCursor'] = str(end)
        if not query.get('cursor'):
            body['balances'] = {'balanceBegin': '0', 'balanceEnd': '123456.78'}
        return 200, {}, json.dumps(body)


@tagged('post_install', '-at_install')
class TestBankSync(BankCrmCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env['ir.config_parameter'].sudo().set_param('odoo_bank_crm.sync_backoff_seconds', '0')
        cls.connection = cls.env['bank.connection'].create(
            {
                'name': "T-Bank",
                'provider_code': 'tbank_business',
                'api_url': API,
                'api_token': 'good-token',
                'state': 'connected',
            }
        )
        cls.bank_journal.write({'bank_crm_connection_id': cls.connection.id, 'bank_crm_bank_account_ref': ACCOUNT})
        cls.currency_name = (cls.bank_journal.currency_id or cls.bank_journal.company_id.currency_id).name
        cls.partner.vat = '7707083893'  # the INN the bank's operations carry

    def _sync(self, fake, **kwargs):
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(responses.GET, f'{API}/v1/statement', callback=fake)
            return self.bank_journal._bank_crm_sync(date_from='2026-03-01', date_to='2026-03-31', **kwargs)

    def _lines(self):
        return self.env['account.bank.statement.line'].search([('journal_id', '=', self.bank_journal.id)])

    def test_sync_books_confirmed_operations_once(self):
        fake = FakeStatement(250, self.currency_name, page_size=100)
        run = self._sync(fake)
        self.assertEqual(run.state, 'done')
        self.assertEqual(len(fake.calls), 3)
        self.assertEqual(fake.calls[0].get('withBalances'), 'true')
        self.assertNotIn('withBalances', fake.calls[1])
        lines = self._lines()
        self.assertEqual(len(lines), 245)  # 5 holds (Authorization) are not booked
        self.assertEqual((run.fetched_count, run.created_count, run.skipped_count), (250, 245, 5))
        line = lines.filtered(lambda l: l.bank_crm_operation_id == 'op-000001')
        self.assertEqual(line.amount, 101.01)
        self.assertEqual(line.bank_crm_counterparty_inn, '7707083893')
        self.assertEqual(line.partner_id, self.partner)  # recognised by INN
        self.assertEqual(line.payment_ref, 'Оплата по счету № 1 от 01.03.2026')
        self.assertEqual(self.bank_journal.bank_crm_bank_balance, 123456.78)
        # an overlapping pull (the same period again) books nothing twice
        again = self._sync(FakeStatement(250, self.currency_name, page_size=100))
        self.assertEqual((again.created_count, again.skipped_count), (0, 250))
        self.assertEqual(len(self._lines()), 245)

    def test_overlapping_windows(self):
        self._sync(FakeStatement(120, self.currency_name))
        bigger = FakeStatement(180, self.currency_name)  # the next pull sees the old ones and 60 new
        run = self._sync(bigger)
        self.assertEqual(run.created_count, 59)
        self.assertEqual(len(self._lines()), 177)
        self.assertEqual(len(set(self._lines().mapped('bank_crm_operation_id'))), 177)

    def test_retries_on_rate_limit_and_server_errors(self):
        fake = FakeStatement(300, self.currency_name, page_size=100, fail_pages={100}, failures=2, status=429)
        run = self._sync(fake)
        self.assertEqual(run.state, 'done')
        self.assertEqual(len(self._lines()), 294)

    def test_failed_pull_resumes_where_it_stopped(self):
        fake = FakeStatement(300, self.currency_name, page_size=100, fail_pages={200}, failures=99)
        run = self._sync(fake)
        self.assertEqual(run.state, 'failed')
        self.assertEqual(run.cursor, '200')
        self.assertEqual(len(self._lines()), 196)  # the first two pages are kept
        self.assertEqual(self.connection.state, 'error')
        resume = FakeStatement(300, self.currency_name, page_size=100)
        with responses.RequestsMock() as mock:
            mock.add_callback(responses.GET, f'{API}/v1/statement', callback=resume)
            second = self.bank_journal._bank_crm_sync()
        self.assertEqual(second.state, 'done')
        self.assertEqual(resume.calls[0].get('cursor'), '200')  # resumed, not restarted
        self.assertEqual(len(self._lines()), 294)
        self.assertEqual(self.connection.state, 'connected')

    def test_operation_id_changed_by_the_bank_is_not_booked_twice(self):
        fake = FakeStatement(10, self.currency_name)
        self._sync(fake)
        renamed = FakeStatement(10, self.currency_name)
        original = renamed.operation
        renamed.operation = lambda i: dict(original(i), operationId=f'night-{i}')  # same op, new id
        run = self._sync(renamed)
        self.assertEqual(run.created_count, 0)
        self.assertEqual(len(self._lines()), 10)

    def test_revoked_token(self):
        self.connection.api_token = 'secret-revoked-token-123'
        run = self._sync(FakeStatement(10, self.currency_name))
        self.assertEqual(run.state, 'failed')
        self.assertEqual(self.connection.state, 'revoked')
        self.assertIn('token', self.connection.last_error)
        self.assertNotIn('secret-revoked-token-123', self.connection.last_error)  # no secret echoed
        self.assertTrue(self.connection.activity_ids, "an administrator is told")
        with self.assertRaises(UserError):
            self._sync(FakeStatement(10, self.currency_name), manual=True)

    def test_garbage_answer_books_nothing(self):
        def garbage(request):
            return 200, {}, '<html>maintenance</html>'

        with responses.RequestsMock() as mock:
            mock.add_callback(responses.GET, f'{API}/v1/statement', callback=garbage)
            run = self.bank_journal._bank_crm_sync(date_from='2026-03-01')
        self.assertEqual(run.state, 'failed')
        self.assertFalse(self._lines())

    def test_credentials_only_for_administrators(self):
        from odoo.exceptions import AccessError

        director = self.users['director']
        connection = self.connection.with_user(director)
        self.assertEqual(connection.name, "T-Bank")
        with self.assertRaises(AccessError):
            connection.read(['api_token'])
        with self.assertRaises(AccessError):
            connection.search_read([], ['api_token'])
        self.assertNotIn('api_token', connection.fields_get())
        with self.assertRaises(AccessError):
            self.connection.with_user(self.users['manager']).read(['name'])
