"""Issue #13, items 6, 7 and 9: "see balances" on every path, every model of a journal's
money following the rights, and multi-company."""

import datetime as dt
import json
from decimal import Decimal

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..bank_api.statement import BankOperation
from .test_money_rights import MoneyRightsCommon


@tagged('post_install', '-at_install')
class TestBalancesHiddenEverywhere(MoneyRightsCommon):
    """The clerk (rights on the main bank, "see balances" off) against the manager (rights
    on the main bank and the cash desk, "see balances" on)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.statement = cls.env['account.bank.statement'].create(
            {
                'name': "March",
                'balance_start': 0.0,
                'balance_end_real': 750.0,
                'line_ids': [Command.set(cls.lines[cls.bank_journal].ids)],
            }
        )

    def test_odoo_journal_dashboard(self):
        spec = {'kanban_dashboard': {}, 'kanban_dashboard_graph': {}}
        clerk = self.bank_journal.with_user(self.clerk).web_read(spec)[0]
        card = json.loads(clerk['kanban_dashboard'])
        for key in ('account_balance', 'last_balance', 'to_check_balance', 'outstanding_pay_account_balance'):
            self.assertEqual(card[key], "", key)
        self.assertEqual(json.loads(clerk['kanban_dashboard_graph'])[0]['values'], [])
        manager = self.bank_journal.with_user(self.manager).web_read(spec)[0]
        self.assertIn("750", json.loads(manager['kanban_dashboard'])['last_balance'])
        self.assertTrue(json.loads(manager['kanban_dashboard_graph'])[0]['values'])

    def test_our_dashboard_over_search_read(self):
        fields_ = ['bank_crm_balance', 'bank_crm_bank_balance', 'current_statement_balance', 'kanban_dashboard']
        clerk = (
            self.env['account.journal'].with_user(self.clerk).search_read([('id', '=', self.bank_journal.id)], fields_)
        )
        self.assertEqual((clerk[0]['bank_crm_balance'], clerk[0]['current_statement_balance']), (0.0, 0.0))
        manager = (
            self.env['account.journal']
            .with_user(self.manager)
            .search_read([('id', '=', self.bank_journal.id)], fields_)
        )
        self.assertEqual(manager[0]['bank_crm_balance'], 750.0)

    def test_sums_of_transactions(self):
        Line = self.env['account.bank.statement.line']
        for method in ('read_group', 'web_read_group'):
            groups = getattr(Line.with_user(self.clerk), method)(
                [], ['amount:sum', 'total:sum(amount)', 'running_balance'], ['journal_id']
            )
            groups = groups['groups'] if method == 'web_read_group' else groups
            self.assertEqual(len(groups), 1)  # the granted account only
            self.assertIs(groups[0]['amount'], False, method)
            self.assertIs(groups[0]['total'], False, method)
            self.assertEqual(groups[0]['journal_id_count'], 2)  # counts stay
        # Odoo's "latest running balance" of grouped statement lines
        groups = (
            Line.with_user(self.clerk)
            .with_context(show_running_balance_latest=True)
            .read_group([], ['amount:sum'], ['date:month'])
        )
        self.assertIs(groups[0]['running_balance'], False)
        manager = Line.with_user(self.manager).read_group(
            [('journal_id', '=', self.bank_journal.id)], ['amount:sum'], ['journal_id']
        )
        self.assertEqual(manager[0]['amount'], 750.0)

    def test_running_balances_of_transactions(self):
        Line = self.env['account.bank.statement.line']
        domain = [('journal_id', '=', self.bank_journal.id)]
        clerk = Line.with_user(self.clerk).search_read(
            domain, ['amount', 'running_balance', 'statement_balance_end_real']
        )
        self.assertEqual(sorted(row['amount'] for row in clerk), [-250.0, 1000.0])  # the transactions themselves
        self.assertTrue(all(row['running_balance'] is False for row in clerk))
        self.assertTrue(all(row['statement_balance_end_real'] is False for row in clerk))
        manager = Line.with_user(self.manager).search_read(domain, ['running_balance'])
        self.assertIn(750.0, [row['running_balance'] for row in manager])
        self.clerk_right.can_download_statements = True
        self.clerk.groups_id += self.env.ref('base.group_allow_export')
        with self.assertRaisesRegex(AccessError, "see balances"):
            self.lines[self.bank_journal].with_user(self.clerk).export_data(['amount', 'running_balance'])
        rows = self.lines[self.bank_journal].with_user(self.clerk).export_data(['amount'])['datas']
        self.assertEqual(len(rows), 2)

    def test_bank_statements(self):
        fields_ = ['balance_start', 'balance_end', 'balance_end_real']
        clerk = self.statement.with_user(self.clerk).read(fields_)[0]
        self.assertEqual([clerk[name] for name in fields_], [False, False, False])
        groups = (
            self.env['account.bank.statement']
            .with_user(self.clerk)
            .read_group([], ['balance_end_real:sum'], ['journal_id'])
        )
        self.assertIs(groups[0]['balance_end_real'], False)
        with self.assertRaisesRegex(AccessError, "see balances"):
            self.statement.with_user(self.clerk).export_data(['name', 'balance_end_real'])
        manager = self.statement.with_user(self.manager).read(fields_)[0]
        self.assertEqual([manager[name] for name in fields_], [0.0, 750.0, 750.0])

    def test_journal_items_and_ledger_account(self):
        Item = self.env['account.move.line']
        account = self.bank_journal.default_account_id
        domain = [('journal_id', '=', self.bank_journal.id)]
        groups = Item.with_user(self.clerk).read_group(domain, ['balance:sum', 'debit:sum'], ['account_id'])
        self.assertTrue(groups)
        self.assertTrue(all(group['balance'] is False and group['debit'] is False for group in groups))
        rows = Item.with_user(self.clerk).search_read(domain + [('account_id', '=', account.id)], ['cumulated_balance'])
        self.assertTrue(rows and all(row['cumulated_balance'] is False for row in rows))
        self.assertIs(account.with_user(self.clerk).read(['current_balance'])[0]['current_balance'], False)
        # the manager sees them, and the clerk still sums what is not an account's money
        groups = Item.with_user(self.manager).read_group(
            domain + [('account_id', '=', account.id)], ['balance:sum'], ['account_id']
        )
        self.assertEqual(groups[0]['balance'], 750.0)
        self.assertEqual(account.with_user(self.manager).read(['current_balance'])[0]['current_balance'], 750.0)
        invoice = self.init_invoice('out_invoice', partner=self.partner, amounts=[1000], post=True)
        groups = Item.with_user(self.clerk).read_group([('move_id', '=', invoice.id)], ['balance:sum'], ['move_id'])
        self.assertEqual(groups[0]['balance'], 0.0)


@tagged('post_install', '-at_install')
class TestPaymentsFollowRights(MoneyRightsCommon):
    """Odoo 18's account.payment does not inherit account.move: its own record rule."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.payments = {
            journal: cls.env['account.payment'].create(
                {
                    'journal_id': journal.id,
                    'partner_id': cls.partner.id,
                    'payment_type': 'inbound',
                    'partner_type': 'customer',
                    'amount': amount,
                }
            )
            for journal, amount in ((cls.bank_journal, 100.0), (cls.bank_journal_2, 9999.0))
        }
        cls.payments[cls.bank_journal_2].action_post()

    def test_hidden_account_payments_are_hidden_everywhere(self):
        Payment = self.env['account.payment'].with_user(self.clerk)
        hidden = self.payments[self.bank_journal_2]
        self.assertEqual(Payment.search([]), self.payments[self.bank_journal])
        self.assertFalse(Payment.search_count([('id', '=', hidden.id)]))
        with self.assertRaises(AccessError):
            hidden.with_user(self.clerk).read(['amount'])
        groups = Payment.read_group([], ['amount:sum'], ['journal_id'])
        self.assertEqual([group['journal_id'][0] for group in groups], self.bank_journal.ids)
        self.assertEqual(groups[0]['amount'], 100.0)
        self.clerk.groups_id += self.env.ref('base.group_allow_export')
        with self.assertRaises(AccessError):
            hidden.with_user(self.clerk).export_data(['amount', 'partner_id'])
        with self.assertRaises(AccessError):
            hidden.with_user(self.clerk).write({'amount': 1.0})
        self.assertEqual(hidden.amount, 9999.0)
        # nor through the entry of the payment
        self.assertFalse(self.env['account.move.line'].with_user(self.clerk).search([('payment_id', '=', hidden.id)]))

    def test_granted_and_unrestricted_users_see_theirs(self):
        self.assertEqual(self.payments[self.bank_journal].with_user(self.clerk).read(['amount'])[0]['amount'], 100.0)
        both = self.payments[self.bank_journal] | self.payments[self.bank_journal_2]
        self.assertEqual(self.env['account.payment'].with_user(self.director).search([('id', 'in', both.ids)]), both)
        self.assertEqual(
            self.env['account.payment'].with_user(self.manager).search([('id', 'in', both.ids)]),
            self.payments[self.bank_journal],
        )


@tagged('post_install', '-at_install')
class TestMultiCompany(MoneyRightsCommon):
    """Two companies; the director and an administrator of the first only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.setup_other_company()['company']
        cls.admin_a = new_test_user(
            cls.env,
            login='bank_crm_admin_a',
            groups='base.group_user,base.group_system,odoo_bank_crm.group_bank_crm_director',
            company_id=cls.company_a.id,
            company_ids=[Command.set(cls.company_a.ids)],
        )
        B = cls.env['res.company'].browse(cls.company_b.id)
        cls.bank_b = cls.env['account.journal'].create(
            {'name': "Bank of B", 'code': 'BNKB', 'type': 'bank', 'company_id': B.id}
        )
        cls.connection_a = cls.env['bank.connection'].create(
            {'name': "A's bank", 'provider_code': 'tbank_business', 'api_url': 'http://localhost:8999/a'}
        )
        cls.connection_b = cls.env['bank.connection'].create(
            {
                'name': "B's bank",
                'provider_code': 'tbank_business',
                'api_url': 'http://localhost:8999/b',
                'company_id': B.id,
            }
        )
        cls.bank_b.bank_crm_connection_id = cls.connection_b
        cls.run_b = cls.env['bank.sync.run'].create(
            {
                'connection_id': cls.connection_b.id,
                'journal_id': cls.bank_b.id,
                'date_from': '2026-03-01',
                'date_to': '2026-03-31',
            }
        )
        cls.line_b = cls.env['account.bank.statement.line'].create(
            {'journal_id': cls.bank_b.id, 'payment_ref': "B's money", 'amount': 500, 'date': '2026-03-10'}
        )
        cls.invoice_b = cls.init_invoice('out_invoice', partner=cls.partner, amounts=[500], post=True, company=B)
        cls.proposal_b = cls.env['bank.crm.match.proposal'].create(
            {'statement_line_id': cls.line_b.id, 'invoice_id': cls.invoice_b.id, 'amount': 500, 'score': 90}
        )
        # sudo: shop orders and notifications are created by the public routes only
        cls.shop_order_b = cls.env['bank.crm.shop.order'].sudo().create({'name': "B-1", 'company_id': B.id})
        # sudo: the T-Bank provider is the main company's (a card payment of another company than A)
        transaction_b = (
            cls.env['payment.transaction']
            .sudo()
            .create(
                {
                    'provider_id': cls.env.ref('payment_tbank.payment_provider_tbank').id,
                    'payment_method_id': cls.env.ref('payment.payment_method_unknown').id,
                    'reference': 'B-TX-1',
                    'amount': 500,
                    'currency_id': B.currency_id.id,
                    'partner_id': cls.partner.id,
                    'company_id': B.id,
                }
            )
        )
        cls.event_b = (
            cls.env['bank.webhook.event']
            .sudo()
            .create({'provider_code': 'tbank', 'order_id': 'B-TX-1', 'transaction_id': transaction_b.id})
        )
        cls.right_b = cls.env['bank.crm.money.right'].create(
            {'user_id': cls.clerk.id, 'company_id': B.id, 'journal_ids': [Command.set(cls.bank_b.ids)]}
        )

    def test_company_rules_hide_the_other_company(self):
        self.assertTrue(self.event_b.company_id)
        self.assertNotEqual(self.event_b.company_id, self.company_a)
        for user, model, record in (
            (self.director, 'bank.connection', self.connection_b),
            (self.director, 'bank.sync.run', self.run_b),
            (self.director, 'bank.crm.match.proposal', self.proposal_b),
            (self.director, 'bank.crm.money.right', self.right_b),
            (self.admin_a, 'bank.connection', self.connection_b),
            (self.admin_a, 'bank.sync.run', self.run_b),
            (self.admin_a, 'bank.webhook.event', self.event_b),
            (self.admin_a, 'bank.crm.shop.order', self.shop_order_b),
            (self.admin_a, 'bank.crm.money.right', self.right_b),
        ):
            with self.subTest(user=user.login, model=model):
                self.assertFalse(self.env[model].with_user(user).search([('id', '=', record.id)]))
                with self.assertRaises(AccessError):
                    record.with_user(user).read(['display_name'])
        # their own company's records stay theirs
        self.assertEqual(
            self.env['bank.connection'].with_user(self.director).search([('company_id', '=', self.company_a.id)]),
            self.connection_a,
        )

    def test_links_between_companies_are_refused(self):
        with self.assertRaises(UserError):
            self.bank_journal.bank_crm_connection_id = self.connection_b
        self.assertFalse(self.bank_journal.bank_crm_connection_id)
        with self.assertRaises(UserError):
            self.env['bank.sync.run'].create(
                {
                    'connection_id': self.connection_a.id,
                    'journal_id': self.bank_b.id,
                    'date_from': '2026-03-01',
                    'date_to': '2026-03-31',
                }
            )
        with self.assertRaises(UserError):
            self.env['bank.crm.match.proposal'].create(
                {'statement_line_id': self.lines[self.bank_journal][0].id, 'invoice_id': self.invoice_b.id, 'amount': 1}
            )
        # the same company: fine
        self.bank_journal.bank_crm_connection_id = self.connection_a
        self.assertEqual(self.connection_a.journal_ids, self.bank_journal)

    def test_add_account_wizard_refuses_another_company_connection(self):
        # an administrator of both companies, working in A, picks B's connection
        admin = self.env.ref('base.user_admin')
        admin.company_ids |= self.company_a | self.company_b
        journals_before = self.env['account.journal'].search_count([])
        Wizard = self.env['bank.crm.add.account.wizard'].with_user(admin)
        # working in A only, B's connection cannot even be read (company rule)
        with self.assertRaises(AccessError):
            Wizard.with_context(allowed_company_ids=self.company_a.ids).create(
                {'kind': 'tbank_business', 'connection_id': self.connection_b.id}
            ).action_fetch_accounts()
        # with both companies active, A the current one: refused by the wizard
        wizard = Wizard.with_context(allowed_company_ids=[self.company_a.id, self.company_b.id]).create(
            {'kind': 'tbank_business', 'connection_id': self.connection_b.id}
        )
        with self.assertRaisesRegex(UserError, "belongs to"):
            wizard.action_fetch_accounts()
        wizard.write(
            {
                'step': 'accounts',
                'line_ids': [
                    Command.create(
                        {
                            'selected': True,
                            'account_ref': '40702810000000000001',
                            'account_number': '40702810000000000001',
                            'currency_id': self.company_a.currency_id.id,
                        }
                    )
                ],
            }
        )
        with self.assertRaisesRegex(UserError, "belongs to"):
            wizard.action_connect()
        self.assertEqual(self.env['account.journal'].search_count([]), journals_before)
        self.assertFalse(self.connection_b.journal_ids - self.bank_b)

    def test_counterparties_are_found_in_the_company_only(self):
        Partner = self.env['res.partner']
        theirs = Partner.create(
            {'name': "B's client", 'vat': '7123456789', 'is_company': True, 'company_id': self.company_b.id}
        )
        Partner.create(
            {'name': "B's supplier", 'vat': '7700000001', 'is_company': True, 'company_id': self.company_b.id}
        )
        self.env['res.partner.bank'].create({'acc_number': '40702810000000099999', 'partner_id': theirs.id})
        shared = Partner.create({'name': "Shared", 'vat': '7700000001', 'is_company': True})
        operation = BankOperation(
            bank_operation_id='op-1',
            date=dt.date(2026, 3, 10),
            amount=Decimal('100'),
            currency='USD',
            confirmed=True,
            counterparty_inn='7123456789',
            counterparty_account='40702810000000099999',
        )
        other = BankOperation(
            bank_operation_id='op-2',
            date=dt.date(2026, 3, 10),
            amount=Decimal('5'),
            currency='USD',
            confirmed=True,
            counterparty_inn='7700000001',
        )
        # the sync runs as the superuser (the cron): only the company's domain limits it
        found = Partner.sudo()._bank_crm_find_counterparties([operation, other], self.company_a)
        self.assertNotIn(('inn', '7123456789'), found)
        self.assertNotIn(('account', '40702810000000099999'), found)
        self.assertEqual(found[('inn', '7700000001')], shared)
        found_b = Partner.sudo()._bank_crm_find_counterparties([operation], self.company_b)
        self.assertEqual(found_b[('inn', '7123456789')], theirs)
        # and the matcher of open invoices knows the company's payers only
        matcher, _invoices = (
            self.env['account.bank.statement.line']
            .sudo()
            ._bank_crm_matcher(self.company_a, {'7123456789'}, {'40702810000000099999'})
        )
        self.assertNotIn(theirs.id, matcher._partner_inns)
        matcher, _invoices = (
            self.env['account.bank.statement.line'].sudo()._bank_crm_matcher(self.company_b, {'7123456789'}, set())
        )
        self.assertIn(theirs.id, matcher._partner_inns)
