from freezegun import freeze_time

from odoo.tests import tagged

from .common import BankCrmCommon


@tagged('post_install', '-at_install')
class TestAccountDashboard(BankCrmCommon):
    @freeze_time('2026-03-20')
    def test_balances_and_month_movements(self):
        self._create_lines(self.bank_journal, [1000.10, -250.05], date='2026-02-27')
        self._create_lines(self.bank_journal, [500.00, 0.35, -120.40], date='2026-03-05')
        self._create_lines(self.cash_journal, [300.00, -45.50], date='2026-03-06')
        journals = self.bank_journal | self.cash_journal | self.bank_journal_2
        journals.invalidate_recordset()
        self.assertAlmostEqual(self.bank_journal.bank_crm_balance, 1130.00, places=2)
        self.assertAlmostEqual(self.bank_journal.bank_crm_month_income, 500.35, places=2)
        self.assertAlmostEqual(self.bank_journal.bank_crm_month_expense, 120.40, places=2)
        self.assertEqual(self.bank_journal.bank_crm_transaction_count, 5)
        self.assertEqual(str(self.bank_journal.bank_crm_last_transaction_date), '2026-03-05')
        self.assertAlmostEqual(self.cash_journal.bank_crm_balance, 254.50, places=2)
        # an account without transactions shows zeros, not an error
        self.assertEqual(self.bank_journal_2.bank_crm_balance, 0.0)
        self.assertEqual(self.bank_journal_2.bank_crm_transaction_count, 0)
        self.assertFalse(self.bank_journal_2.bank_crm_last_transaction_date)

    def test_cancelled_entries_do_not_count(self):
        lines = self._create_lines(self.bank_journal, [700.0, 300.0])
        lines[1].move_id.button_cancel()
        self.bank_journal.invalidate_recordset()
        self.assertAlmostEqual(self.bank_journal.bank_crm_balance, 700.0, places=2)

    def test_direction_follows_amount(self):
        incoming, outgoing = self._create_lines(self.bank_journal, [10.0, -10.0])
        self.assertEqual(incoming.bank_crm_direction, 'inbound')
        self.assertEqual(outgoing.bank_crm_direction, 'outbound')

    def test_figures_are_computed_in_constant_queries(self):
        """The dashboard reads all accounts' figures in a fixed number of queries."""
        journals = self.env['account.journal'].create(
            [{'name': f"Bank {i}", 'code': f'BQ{i}', 'type': 'bank'} for i in range(6)]
        )
        for journal in journals:
            self._create_lines(journal, [100.0, -40.0])

        def queries_for(records):
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            records.mapped('bank_crm_balance')
            return self.env.cr.sql_log_count - before

        queries_for(journals)  # warm up what is read once per transaction (company, currency)
        self.assertEqual(queries_for(journals[:2]), queries_for(journals))

    def test_open_transactions_of_an_account(self):
        action = self.bank_journal.action_bank_crm_open_transactions()
        self.assertEqual(action['res_model'], 'account.bank.statement.line')
        self.assertEqual(action['domain'], [('journal_id', '=', self.bank_journal.id)])
