"""A sync killed mid-way and two syncs of one account at once (issue #16 §3).

The crash itself (SIGKILL of Odoo between committed pages) runs outside the test runner,
in `python -m bench --only sync_crash`; here, what the next sync does with the run a dead
process left "running", and what a sync does while another process holds the account's
sync lock (taken here from a connection of its own, as another Odoo process would).
"""

import responses

from odoo import Command, sql_db
from odoo.tests import new_test_user, tagged

from .. import const
from .common import BankCrmCommon
from .test_bank_sync import ACCOUNT, API, FakeStatement


@tagged('post_install', '-at_install')
class TestBankSyncCrash(BankCrmCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env['ir.config_parameter'].sudo().set_param('odoo_bank_crm.sync_backoff_seconds', '0')
        cls.connection = cls.env['bank.connection'].create(
            {'name': "T-Bank", 'provider_code': 'tbank_business', 'api_url': API, 'api_token': 'good-token'}
        )
        cls.connection.state = 'connected'
        cls.bank_journal.write({'bank_crm_connection_id': cls.connection.id, 'bank_crm_bank_account_ref': ACCOUNT})
        cls.currency_name = (cls.bank_journal.currency_id or cls.bank_journal.company_id.currency_id).name

    def _sync(self, fake, **kwargs):
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(responses.GET, f'{API}/v1/statement', callback=fake)
            return self.bank_journal._bank_crm_sync(**kwargs)

    def _lines(self):
        return self.env['account.bank.statement.line'].search([('journal_id', '=', self.bank_journal.id)])

    def _runs(self):
        return self.env['bank.sync.run'].search([('journal_id', '=', self.bank_journal.id)], order='id')

    def test_run_left_running_by_a_dead_process_is_interrupted_and_resumed(self):
        # two pages booked, then the process died: its run stays "running" with its cursor
        first = self._sync(
            FakeStatement(300, self.currency_name, page_size=100, fail_pages={200}, failures=99),
            date_from='2026-03-01',
            date_to='2026-03-31',
        )
        first.write({'state': 'running', 'error': False, 'finished_at': False})  # as a SIGKILL leaves it
        self.assertEqual((first.cursor, first.pages_count, len(self._lines())), ('200', 2, 196))

        resume = FakeStatement(300, self.currency_name, page_size=100)
        second = self._sync(resume)
        self.assertEqual(first.state, 'interrupted')
        self.assertIn("Interrupted after 2 pages (200 operations)", first.error)
        self.assertEqual(second.state, 'done')
        self.assertEqual(second.resumed_run_id, first)
        self.assertEqual(
            second.note,
            f"Resumed run #{first.id} (Interrupted) from its cursor, after the 2 pages and 200 operations it had "
            "fetched.",
        )
        self.assertEqual(resume.calls[0].get('cursor'), '200')  # resumed, not restarted
        self.assertEqual((second.date_from, second.date_to), (first.date_from, first.date_to))
        self.assertEqual((second.pages_count, second.fetched_count, second.created_count), (1, 100, 98))
        lines = self._lines()
        self.assertEqual(len(lines), 294)
        self.assertEqual(len(set(lines.mapped('bank_crm_operation_id'))), 294)
        # the next pull starts after the resumed window, overlapping it: nothing twice
        third = self._sync(FakeStatement(300, self.currency_name, page_size=100))
        self.assertFalse(third.resumed_run_id)
        self.assertEqual(third.created_count, 0)
        self.assertEqual(len(self._lines()), 294)

    def test_run_interrupted_before_its_first_page_starts_again(self):
        orphan = self.env['bank.sync.run'].create(
            {
                'connection_id': self.connection.id,
                'journal_id': self.bank_journal.id,
                'date_from': '2026-03-01',
                'date_to': '2026-03-31',
            }
        )
        fake = FakeStatement(50, self.currency_name)
        run = self._sync(fake, date_from='2026-03-01', date_to='2026-03-31')
        self.assertEqual(orphan.state, 'interrupted')
        self.assertIn("Interrupted after 0 pages", orphan.error)
        self.assertFalse(run.resumed_run_id)
        self.assertNotIn('cursor', fake.calls[0])
        self.assertEqual((run.state, len(self._lines())), ('done', 49))

    def test_sync_while_another_process_syncs_the_account_is_skipped(self):
        running = self._sync(FakeStatement(20, self.currency_name), date_from='2026-03-01', date_to='2026-03-31')
        running.write({'state': 'running'})  # what the other process's run looks like meanwhile
        lines = self._lines()
        other = sql_db.db_connect(self.env.cr.dbname).cursor()  # another Odoo process
        try:
            other.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [const.SYNC_LOCK_NAMESPACE, self.bank_journal.id])
            self.assertTrue(other.fetchone()[0])
            with responses.RequestsMock():  # no call to the bank
                skipped = self.bank_journal._bank_crm_sync(manual=True)
        finally:
            other.rollback()
            other.close()
        self.assertEqual(skipped.state, 'skipped')
        self.assertEqual(
            skipped.note,
            f"Skipped: another sync of this account was running (run #{running.id}, started {running.started_at}); "
            "it books the same operations.",
        )
        self.assertEqual(running.state, 'running', "a run whose process is alive is not taken for interrupted")
        self.assertEqual(self._lines(), lines)
        # once the other process is done, the account syncs again
        running.write({'state': 'done'})
        again = self._sync(FakeStatement(25, self.currency_name), date_from='2026-03-01', date_to='2026-03-31')
        self.assertEqual((again.state, again.created_count, again.skipped_count), ('done', 5, 20))
        self.assertEqual(len(self._lines()), 25)

    def test_sync_now_while_the_account_is_being_synced_says_so(self):
        admin = new_test_user(
            self.env,
            login='bank_crm_crash_admin',
            groups='base.group_user,base.group_system',
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        self.connection.with_user(admin).action_sync_now()
        other = sql_db.db_connect(self.env.cr.dbname).cursor()
        try:
            other.execute("SELECT pg_advisory_xact_lock(%s, %s)", [const.SYNC_LOCK_NAMESPACE, self.bank_journal.id])
            with responses.RequestsMock():
                self.env.ref('odoo_bank_crm.cron_bank_sync').method_direct_trigger()
        finally:
            other.rollback()
            other.close()
        self.assertEqual(self._runs().mapped('state'), ['skipped'])
        self.assertIn("another sync of this account was running", self.connection.last_sync_result)
        self.assertFalse(self.connection.sync_requested_at)
        self.assertFalse(self._lines())

    def test_scheduled_sync_pauses_within_its_time_and_continues(self):
        """A long first sync in the job pauses between pages once its time is spent (Odoo
        kills a job past its worker's CPU limit) and the job continues it at once, from the
        cursor, until it ends; nothing is missed or booked twice."""
        self.env['ir.config_parameter'].sudo().set_param('odoo_bank_crm.sync_time_budget_seconds', '0')
        cron = self.env.ref('odoo_bank_crm.cron_bank_sync')
        Trigger = self.env['ir.cron.trigger']
        triggers = Trigger.search_count([('cron_id', '=', cron.id)])
        self.connection.last_sync_at = False
        fake = FakeStatement(300, self.currency_name, page_size=100)
        for _run in range(3):
            with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
                mock.add_callback(responses.GET, f'{API}/v1/statement', callback=fake)
                self.env['bank.connection']._cron_sync()
        first, second, third = self._runs()
        self.assertEqual((first.state, first.pages_count), ('paused', 1))
        self.assertIn("Paused after 1 pages", first.note)
        self.assertEqual((second.state, second.resumed_run_id, second.pages_count), ('paused', first, 1))
        self.assertEqual((third.state, third.resumed_run_id), ('done', second))
        self.assertEqual([call.get('cursor') for call in fake.calls], [None, '100', '200'])
        lines = self._lines()
        self.assertEqual(len(lines), 294)
        self.assertEqual(len(set(lines.mapped('bank_crm_operation_id'))), 294)
        self.assertGreaterEqual(Trigger.search_count([('cron_id', '=', cron.id)]), triggers + 2)
        self.assertFalse(self.connection.sync_requested_at)  # all done: no longer asked for
        # a fourth run has nothing to continue: the connection is not due again yet
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(responses.GET, f'{API}/v1/statement', callback=fake)
            self.env['bank.connection']._cron_sync()
        self.assertEqual(len(self._runs()), 3)
