import json
import os
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import BankCrmCommon, clear_sandbox_webhooks

SANDBOX = os.environ.get('BANK_CRM_SANDBOX_URL')


@tagged('post_install', '-at_install')
class TestAddAccountWizard(BankCrmCommon):
    """Account > Add account, end to end against the bank sandbox (over real HTTP)."""

    def setUp(self):
        super().setUp()
        if not SANDBOX:
            self.skipTest("needs the bank sandbox: run through `make test` (BANK_CRM_SANDBOX_URL)")
        self.env['ir.config_parameter'].sudo().set_param('odoo_bank_crm.sync_backoff_seconds', '0')
        self.addCleanup(clear_sandbox_webhooks)  # Add Account subscribes this server at the sandbox

    def _wizard(self, **values):
        return self.env['bank.crm.add.account.wizard'].create(values)

    def _connect(self, kind, api_url, token, account_suffix):
        wizard = self._wizard(kind=kind, name=f"{kind} sandbox", api_url=api_url, api_token=token)
        wizard.action_fetch_accounts()
        self.assertEqual(wizard.step, 'accounts')
        self.assertFalse(wizard.api_token, "the token is kept on the connection only")
        self.assertTrue(wizard.line_ids)
        wizard.line_ids.selected = False
        chosen = wizard.line_ids.filtered(lambda l: l.account_number.endswith(account_suffix))
        self.assertEqual(len(chosen), 1)
        chosen.selected = True
        wizard.sync_start_date = fields.Date.today() - timedelta(days=400)
        wizard.action_connect()
        journal = self.env['account.journal'].search([('bank_acc_number', '=', chosen.account_number)])
        self.assertEqual(journal.bank_crm_connection_id, wizard.connection_id)
        self.assertEqual(wizard.connection_id.state, 'connected')
        self._run_sync_job()
        return journal

    def _sync_job_triggers(self):
        cron = self.env.ref('odoo_bank_crm.cron_bank_sync')
        self.env.cr.execute("SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])
        return self.env.cr.fetchone()[0]

    def _run_sync_job(self):
        """What the sync cron does when the wizard's commit wakes it."""
        self.env['bank.connection']._cron_sync()

    def _line_count(self, journal):
        return self.env['account.bank.statement.line'].search_count([('journal_id', '=', journal.id)])

    def test_tbank_business_connected_and_synced_in_one_pass(self):
        """Token → the bank's accounts → a bank journal → its first sync; syncing again books nothing."""
        journal = self._connect('tbank_business', f'{SANDBOX}/openapi/api', 'TBankSandboxToken', '0000000002')
        first = self._line_count(journal)
        self.assertGreater(first, 0)
        self.assertTrue(journal.bank_crm_bank_balance_date)
        self.assertTrue(journal.bank_acc_number.startswith('4070281'))
        runs = journal.bank_crm_connection_id.journal_ids._bank_crm_sync(manual=True)
        self.assertEqual(runs.created_count, 0)
        self.assertEqual(self._line_count(journal), first)

    def test_tochka(self):
        journal = self._connect('tochka', f'{SANDBOX}/uapi', 'sandbox.jwt.token', '02000000012')
        self.assertGreater(self._line_count(journal), 0)

    def test_bad_token_is_refused_clearly(self):
        wizard = self._wizard(
            kind='tbank_business', name="Wrong", api_url=f'{SANDBOX}/openapi/api', api_token='not-the-token'
        )
        with self.assertRaisesRegex(UserError, 'did not accept') as caught:
            wizard.action_fetch_accounts()
        self.assertNotIn('not-the-token', str(caught.exception))

    def test_cash_account(self):
        self._wizard(kind='cash', cash_name="Касса склада").action_create_cash()
        journal = self.env['account.journal'].search([('name', '=', "Касса склада")])
        self.assertEqual(journal.type, 'cash')

    def test_only_administrators_connect_banks(self):
        wizard = (
            self.env['bank.crm.add.account.wizard']
            .with_user(self.users['director'])
            .create(
                {
                    'kind': 'tbank_business',
                    'name': "T",
                    'api_url': f'{SANDBOX}/openapi/api',
                    'api_token': 'TBankSandboxToken',
                }
            )
        )
        with self.assertRaisesRegex(UserError, 'administrators'):
            wizard.action_fetch_accounts()
        # nor by calling "Add and Sync" directly (over RPC) with an account line of its own
        wizard.line_ids = [
            Command.create(
                {
                    'selected': True,
                    'account_ref': '40702810000000000999',
                    'account_number': '40702810000000000999',
                    'currency_id': self.env.ref('base.RUB').id,
                }
            )
        ]
        journals = self.env['account.journal'].search_count([])
        with self.assertRaisesRegex(UserError, 'administrators'):
            wizard.action_connect()
        self.assertEqual(self.env['account.journal'].search_count([]), journals, "no account added")

    def test_first_sync_is_queued_with_live_progress(self):
        """ "Add and Sync" books nothing in the request: the first sync is queued for the sync
        job, the card says so; the job's pages push fetched / booked / matched to the
        requester by the bus, and the last push says it ended."""
        wizard = self._wizard(
            kind='tbank_business', name="T-Bank", api_url=f'{SANDBOX}/openapi/api', api_token='TBankSandboxToken'
        )
        wizard.action_fetch_accounts()
        self.assertTrue(all(wizard.line_ids.mapped('selected')), "every account is preselected")
        wizard.line_ids[1:].selected = False
        triggers = self._sync_job_triggers()
        action = wizard.action_connect()
        self.env.cr.flush()  # what a commit runs first: the trigger is written then
        self.assertGreater(self._sync_job_triggers(), triggers, "the sync job is woken at the commit")
        self.assertEqual(action['tag'], 'display_notification')
        self.assertEqual(action['params']['next']['res_model'], 'account.journal')
        journal = wizard.connection_id.journal_ids
        self.assertEqual(len(journal), 1)
        self.assertEqual(self._line_count(journal), 0, "nothing is synced in the request")
        self.assertFalse(journal.bank_crm_bank_balance_date)
        connection = wizard.connection_id
        self.assertTrue(connection.sync_requested_at)
        self.assertEqual(connection.sync_requested_uid, self.env.user)
        self.assertEqual(journal.bank_crm_sync_progress['state'], 'queued')

        self.env.cr.precommit.run()
        self.env['bus.bus'].sudo().search([]).unlink()
        self._run_sync_job()
        self.env.cr.precommit.run()  # the bus's rows are written at the commit
        journal.invalidate_recordset(['bank_crm_sync_progress'])
        self.assertFalse(journal.bank_crm_sync_progress, "the sync ended")
        self.assertFalse(connection.sync_requested_at)
        self.assertGreater(self._line_count(journal), 0)
        self.assertTrue(journal.bank_crm_bank_balance_date)
        requester = [self.env.cr.dbname, 'res.partner', self.env.user.partner_id.id]
        pushes = [
            json.loads(bus.message)
            for bus in self.env['bus.bus'].sudo().search([], order='id')
            if json.loads(bus.channel) == requester
        ]
        progress = [push['payload'] for push in pushes if push['type'] == 'bank_crm_sync_progress']
        self.assertEqual(progress[0]['state'], 'running')
        self.assertEqual(progress[-1]['state'], 'done')
        self.assertEqual({p['journal_id'] for p in progress}, {journal.id})
        run = connection.sync_run_ids
        self.assertEqual(progress[-1]['created'], run.created_count)
        self.assertEqual(progress[-1]['fetched'], run.fetched_count)
        self.assertEqual(progress[-1]['matched'], run.matched_count)
        self.assertIn('simple_notification', [push['type'] for push in pushes], "the requester is told it ended")

    def test_scheduled_sync_pushes_nothing(self):
        """A sync nobody asked for (the schedule) sends no progress to anyone."""
        journal = self._connect('tbank_business', f'{SANDBOX}/openapi/api', 'TBankSandboxToken', '0000000002')
        self.env.cr.precommit.run()  # the first sync's own pushes
        self.env['bus.bus'].sudo().search([]).unlink()
        journal._bank_crm_sync()
        self.env.cr.precommit.run()
        types = [json.loads(bus.message)['type'] for bus in self.env['bus.bus'].sudo().search([])]
        self.assertNotIn('bank_crm_sync_progress', types)
