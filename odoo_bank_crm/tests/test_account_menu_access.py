from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .common import BankCrmCommon


@tagged('post_install', '-at_install')
class TestAccountMenuAccess(BankCrmCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_lines(cls.bank_journal, [1500.0, -200.0], partner=cls.partner)

    def _menu_xmlids(self, user):
        menus = self.env['ir.ui.menu'].with_user(user).load_menus(debug=False)
        return {menu.get('xmlid') for menu in menus.values() if isinstance(menu, dict)}

    def test_menu_shown_to_each_group_only(self):
        for role, user in self.users.items():
            with self.subTest(role=role):
                self.assertIn('odoo_bank_crm.menu_bank_crm_root', self._menu_xmlids(user))
                self.assertIn('odoo_bank_crm.menu_bank_crm_transactions', self._menu_xmlids(user))
        self.assertNotIn('odoo_bank_crm.menu_bank_crm_root', self._menu_xmlids(self.outsider))

    def test_each_group_reads_dashboard_and_transactions(self):
        for role, user in self.users.items():
            with self.subTest(role=role):
                env = self.env(user=user)
                journals = env['account.journal'].web_search_read(
                    [('type', 'in', ('bank', 'cash'))],
                    {'name': {}, 'bank_crm_balance': {}, 'bank_crm_month_income': {}, 'bank_crm_currency_id': {}},
                )
                self.assertIn(self.bank_journal.id, [r['id'] for r in journals['records']])
                lines = env['account.bank.statement.line'].web_read_group(
                    [('journal_id', '=', self.bank_journal.id)], ['amount:sum'], ['bank_crm_direction']
                )
                totals = {g['bank_crm_direction']: g['amount'] for g in lines['groups']}
                self.assertAlmostEqual(totals['inbound'], 1500.0)
                self.assertAlmostEqual(totals['outbound'], -200.0)

    def test_only_managers_record_cash_entries(self):
        values = {'journal_id': self.cash_journal.id, 'date': '2026-03-01', 'payment_ref': "Cash sale", 'amount': 99.0}
        with self.assertRaises(AccessError):
            self.env['account.bank.statement.line'].with_user(self.users['user']).create(values)
        line = self.env['account.bank.statement.line'].with_user(self.users['manager']).create(values)
        self.assertEqual(line.bank_crm_direction, 'inbound')

    def test_outsider_cannot_read_transactions(self):
        with self.assertRaises(AccessError):
            self.env['account.bank.statement.line'].with_user(self.outsider).search_read([], ['amount'])

    def test_tour_account_menu(self):
        """A real user of each group opens Account, the dashboard and the transactions in a browser."""
        for role in self.users:
            with self.subTest(role=role):
                self.start_tour('/odoo', 'odoo_bank_crm_account_menu', login=f'bank_crm_{role}')
