import os
from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import BankCrmCommon

SANDBOX = os.environ.get('BANK_CRM_SANDBOX_URL')


@tagged('post_install', '-at_install')
class TestAddAccountWizard(BankCrmCommon):
    """Account > Add account, end to end against the bank sandbox (over real HTTP)."""

    def setUp(self):
        super().setUp()
        if not SANDBOX:
            self.skipTest("needs the bank sandbox: run through `make test` (BANK_CRM_SANDBOX_URL)")
        self.env['ir.config_parameter'].sudo().set_param('odoo_bank_crm.sync_backoff_seconds', '0')

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
        return journal

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
