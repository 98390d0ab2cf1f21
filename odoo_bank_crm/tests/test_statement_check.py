from odoo.tests import tagged

from .common import BankCrmCommon


@tagged('post_install', '-at_install')
class TestStatementCheck(BankCrmCommon):
    def test_duplicates_and_missing_days(self):
        Line = self.env['account.bank.statement.line']
        values = {
            'journal_id': self.bank_journal.id,
            'payment_ref': "Оплата по счету 12",
            'amount': 500.0,
            'account_number': '40702810900000000001',
        }
        Line.create([dict(values, date='2026-03-02'), dict(values, date='2026-03-02')])  # Monday, twice
        Line.create([dict(values, date='2026-03-03', amount=1.0), dict(values, date='2026-03-09', amount=2.0)])
        wizard = (
            self.env['bank.crm.statement.check.wizard']
            .with_user(self.users['manager'])
            .create({'journal_id': self.bank_journal.id, 'date_from': '2026-03-01', 'date_to': '2026-03-31'})
        )
        wizard.action_check()
        self.assertEqual(wizard.duplicate_count, 1)
        self.assertEqual(wizard.missing_day_count, 3)  # Wednesday 4 to Friday 6
        self.assertIn('04.03.2026', wizard.result)
        self.assertNotIn('07.03.2026', wizard.result)  # Saturday is not a working day

    def test_nothing_to_report(self):
        self._create_lines(self.bank_journal, [10.0], date='2026-03-02')
        wizard = (
            self.env['bank.crm.statement.check.wizard']
            .with_user(self.users['director'])
            .create({'journal_id': self.bank_journal.id, 'date_from': '2026-03-01', 'date_to': '2026-03-31'})
        )
        wizard.action_check()
        self.assertEqual((wizard.duplicate_count, wizard.missing_day_count), (0, 0))
