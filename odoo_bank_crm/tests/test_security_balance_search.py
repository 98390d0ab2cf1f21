"""Issue #13, items 6 and 7: no balance oracle through searches, groupings and orders, and
matches (account.partial.reconcile) follow the rights over money."""

import json

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .common import JsonRpcMixin
from .test_money_rights import MoneyRightsCommon


class BalanceSearchCommon(MoneyRightsCommon):
    """The clerk (rights on the main bank, "see balances" off) and a statement of the main
    bank that ends at 750; the bank reported 750 too."""

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
        cls.bank_journal.bank_crm_bank_balance = 750.0
        cls.transfer = cls.lines[cls.bank_journal].filtered(lambda line: line.amount == 1000.0)

    # Attacks: (model, method, args, kwargs), each searching, grouping or sorting on a balance
    # directly, through a path from another model, or through a related field.
    ORACLES = [
        ('account.bank.statement', 'search', [[('balance_end_real', '>', 700)]], {}),
        ('account.bank.statement', 'search_count', [[('balance_end_real', '<=', 750)]], {}),
        ('account.bank.statement', 'search_read', [[('balance_start', '=', 0)], ['name']], {}),
        ('account.bank.statement', 'search', [[('name', '=', "March"), ('balance_end', '>', 1)]], {}),
        ('account.bank.statement', 'name_search', ["March"], {'args': [('balance_end_real', '>', 700)]}),
        ('account.bank.statement', 'search', [[]], {'order': 'balance_end_real desc'}),
        ('account.bank.statement', 'read_group', [[], ['__count'], ['balance_end_real']], {}),
        (
            'account.bank.statement',
            'read_group',
            [[], ['balance_end_real:sum'], ['journal_id']],
            {'orderby': 'balance_end_real desc'},
        ),
        ('account.bank.statement.line', 'search', [[('statement_balance_end_real', '>', 700)]], {}),
        ('account.bank.statement.line', 'search_count', [[('statement_id.balance_end_real', '>', 700)]], {}),
        ('account.bank.statement.line', 'search', [[('running_balance', '>', 700)]], {}),
        ('account.bank.statement.line', 'search', [[]], {'order': 'running_balance desc'}),
        ('account.bank.statement.line', 'search', [[]], {'order': 'statement_balance_end_real'}),
        ('account.bank.statement.line', 'read_group', [[], ['amount:sum'], ['statement_balance_end_real']], {}),
        ('account.journal', 'search', [[('bank_crm_bank_balance', '>', 700)]], {}),
        ('account.journal', 'search_count', [[('bank_crm_balance', '>', 700)]], {}),
        ('account.journal', 'search', [[]], {'order': 'bank_crm_bank_balance desc'}),
        ('account.journal', 'read_group', [[], ['__count'], ['bank_crm_bank_balance']], {}),
        ('account.move', 'search', [[('journal_id.bank_crm_bank_balance', '>', 700)]], {}),
        ('account.move', 'search', [[('statement_line_id.statement_id.balance_end_real', '>', 700)]], {}),
        ('account.move.line', 'search', [[('cumulated_balance', '>', 700)]], {}),
        ('account.move.line', 'search', [[('statement_id.balance_start', '=', 0)]], {}),
        ('account.move.line', 'search', [[]], {'order': 'cumulated_balance'}),
        ('account.account', 'search', [[('current_balance', '>', 700)]], {}),
        ('account.account', 'search', [[]], {'order': 'current_balance desc'}),
    ]


@tagged('post_install', '-at_install')
class TestBalanceSearchesRefused(BalanceSearchCommon):
    def test_clerk_cannot_search_group_or_sort_on_balances(self):
        for model, method, args, kwargs in self.ORACLES:
            with self.subTest(model=model, method=method, args=args, kwargs=kwargs):
                records = self.env[model].with_user(self.clerk)
                with self.assertRaisesRegex(AccessError, "see balances") as refused:
                    getattr(records, method)(*args, **kwargs)
                self.assertNotIn("750", str(refused.exception))
        # nothing changed: the figures are the ones the bank and the statement gave
        self.assertEqual(self.statement.balance_end_real, 750.0)
        self.assertEqual(self.bank_journal.bank_crm_bank_balance, 750.0)

    def test_clerks_ordinary_searches_still_work(self):
        Line = self.env['account.bank.statement.line'].with_user(self.clerk)
        found = Line.search(
            [('date', '=', '2026-03-10'), ('partner_id', '=', self.partner.id), ('amount', '=', 1000.0)],
            order='amount desc, date desc',
        )
        self.assertEqual(found, self.transfer)
        self.assertEqual(Line.search_count([('amount', '<', 0)]), 1)
        groups = Line.read_group([], ['amount:sum'], ['partner_id'], orderby='amount desc')
        self.assertEqual(groups[0]['partner_id_count'], 2)
        self.assertIs(groups[0]['amount'], False)  # the sum of an account is still blanked
        Statement = self.env['account.bank.statement'].with_user(self.clerk)
        self.assertEqual(Statement.search([('name', '=', "March")]), self.statement)
        self.assertEqual(Statement.read_group([], ['__count'], ['date:month'])[0]['date_count'], 1)
        Journal = self.env['account.journal'].with_user(self.clerk)
        self.assertEqual(Journal.search([('type', '=', 'bank')]), self.bank_journal)
        items = self.env['account.move.line'].with_user(self.clerk).search([('journal_id', '=', self.bank_journal.id)])
        self.assertTrue(items)

    def test_who_may_see_balances_may_search_them(self):
        for user in (self.manager, self.director):
            with self.subTest(user=user.login):
                Statement = self.env['account.bank.statement'].with_user(user)
                self.assertEqual(Statement.search([('balance_end_real', '>', 700)]), self.statement)
                self.assertFalse(Statement.search([('balance_end_real', '>', 750)]))
                groups = Statement.read_group([], ['__count'], ['balance_end_real'])
                self.assertEqual([group['balance_end_real'] for group in groups], [750.0])
                Line = self.env['account.bank.statement.line'].with_user(user)
                self.assertEqual(Line.search([('statement_balance_end_real', '=', 750)]), self.lines[self.bank_journal])
                Journal = self.env['account.journal'].with_user(user)
                self.assertEqual(
                    Journal.search([('bank_crm_bank_balance', '>', 700)], order='bank_crm_bank_balance desc'),
                    self.bank_journal,
                )
        # once their right shows balances, the clerk may search them too
        self.clerk_right.can_see_balances = True
        Statement = self.env['account.bank.statement'].with_user(self.clerk)
        self.assertEqual(Statement.search([('balance_end_real', '>', 700)]), self.statement)

    def _replay_screen(self, user, model, views, domain, order=None, groupby=None):
        """What the web client asks when it opens a view: the views, then the records."""
        records = self.env[model].with_user(user)
        answer = records.get_views(views)
        specification = {name: {} for name in answer['models'][model]['fields']}
        if groupby:
            aggregates = [
                f"{name}:{field['aggregator']}"
                for name, field in answer['models'][model]['fields'].items()
                if field.get('aggregator') and field.get('type') in ('integer', 'float', 'monetary')
            ]
            return records.web_read_group(domain, aggregates, groupby, orderby=order or False)['groups']
        return records.web_search_read(domain, specification, order=order, limit=80)['records']

    def test_odoo_screens_of_the_clerk_still_load(self):
        # Odoo's journal dashboard (its kanban, with the "Favorites" filter it opens with)
        kanban = self.env.ref('account.account_journal_dashboard_kanban_view')
        cards = self._replay_screen(
            self.clerk,
            'account.journal',
            [[kanban.id, 'kanban'], [False, 'search']],
            [('show_on_dashboard', '=', True)],
        )
        bank_card = next(card for card in cards if card['id'] == self.bank_journal.id)
        self.assertEqual(json.loads(bank_card['kanban_dashboard'])['last_balance'], "")
        # our dashboard and the accounts' list
        for view in ('odoo_bank_crm.account_journal_view_kanban_bank_crm', 'odoo_bank_crm.account_journal_view_list'):
            view_id = self.env.ref(view, raise_if_not_found=False)
            if view_id:
                with self.subTest(view=view):
                    records = self._replay_screen(
                        self.clerk,
                        'account.journal',
                        [[view_id.id, view_id.type], [False, 'search']],
                        [('type', 'in', ('bank', 'cash'))],
                    )
                    self.assertEqual([record['id'] for record in records], self.bank_journal.ids)
        # the transactions: list (its default order), grouped by account and by month, pivot
        lines_view = self.env.ref('odoo_bank_crm.account_bank_statement_line_view_list')
        action_domain = [('journal_id.type', 'in', ('bank', 'cash'))]
        rows = self._replay_screen(
            self.clerk,
            'account.bank.statement.line',
            [[lines_view.id, 'list'], [False, 'search']],
            action_domain,
            order='date desc, id desc',
        )
        self.assertEqual({row['id'] for row in rows}, set(self.lines[self.bank_journal].ids))
        for groupby in (['journal_id'], ['date:month'], ['statement_id']):
            with self.subTest(groupby=groupby):
                groups = self._replay_screen(
                    self.clerk,
                    'account.bank.statement.line',
                    [[lines_view.id, 'list'], [False, 'search']],
                    action_domain,
                    groupby=groupby,
                )
                count = f"{groupby[0].split(':')[0]}_count"
                self.assertEqual(sum(group[count] for group in groups), 2)
        # Odoo's statements list and its journal items of the bank (their default orders)
        rows = self._replay_screen(self.clerk, 'account.bank.statement', [[False, 'list'], [False, 'search']], [])
        self.assertEqual([row['id'] for row in rows], self.statement.ids)
        rows = self._replay_screen(
            self.clerk,
            'account.move.line',
            [[False, 'list'], [False, 'search']],
            [('journal_id', '=', self.bank_journal.id)],
            order='date desc, move_name desc, id',
        )
        self.assertTrue(rows)


@tagged('post_install', '-at_install')
class TestBalanceSearchesOverRpc(JsonRpcMixin, HttpCase, BalanceSearchCommon):
    """The same attacks by a clerk logged in to the web client, over /web/dataset/call_kw."""

    def test_clerk_balance_oracle_over_rpc_is_refused(self):
        self.authenticate('bank_crm_user', 'bank_crm_user')
        attacks = [
            *self.ORACLES,
            (
                'account.bank.statement',
                'web_search_read',
                [[('balance_end_real', '>', 700)]],
                {'specification': {'name': {}}},
            ),
            (
                'account.bank.statement.line',
                'web_read_group',
                [[], ['amount:sum'], ['statement_balance_end_real']],
                {},
            ),
            (
                'account.journal',
                'web_search_read',
                [[]],
                {'specification': {'name': {}}, 'order': 'bank_crm_bank_balance desc'},
            ),
        ]
        for model, method, args, kwargs in attacks:
            with self.subTest(model=model, method=method, args=args, kwargs=kwargs):
                answer = self._call_kw(model, method, args, kwargs)
                self.assertNotIn('result', answer)
                self.assertEqual(answer['error']['data']['name'], 'odoo.exceptions.AccessError')
                self.assertIn("see balances", answer['error']['data']['message'])
                self.assertNotIn("750", json.dumps(answer))
        self.assertEqual(self.statement.balance_end_real, 750.0)

    def test_legitimate_searches_over_rpc(self):
        self.authenticate('bank_crm_user', 'bank_crm_user')
        answer = self._call_kw(
            'account.bank.statement.line',
            'search_read',
            [[('amount', '=', 1000.0), ('partner_id', '=', self.partner.id)], ['amount', 'running_balance']],
            {'order': 'date desc, id desc'},
        )
        self.assertEqual([(row['id'], row['running_balance']) for row in answer['result']], [(self.transfer.id, False)])
        self.authenticate('bank_crm_manager', 'bank_crm_manager')
        answer = self._call_kw('account.bank.statement', 'search_count', [[('balance_end_real', '>', 700)]])
        self.assertEqual(answer['result'], 1)
        answer = self._call_kw(
            'account.journal', 'search_read', [[('bank_crm_bank_balance', '=', 750)], ['bank_crm_bank_balance']]
        )
        self.assertEqual(answer['result'], [{'id': self.bank_journal.id, 'bank_crm_bank_balance': 750.0}])

    def test_tour_of_the_clerk_without_balances(self):
        """The clerk opens Account, its dashboard and the transactions in a browser: nothing
        these screens ask of the server is refused."""
        self.start_tour('/odoo', 'odoo_bank_crm_clerk_without_balances', login='bank_crm_user')


@tagged('post_install', '-at_install')
class TestMatchesFollowRights(MoneyRightsCommon):
    """account.partial.reconcile: a match between items of two accounts the clerk does not see
    is hidden; the match of an invoice paid into the clerk's account is not."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        receivable = cls.partner.property_account_receivable_id

        def entry(journal, debit_account, credit_account):
            move = cls.env['account.move'].create(
                {
                    'move_type': 'entry',
                    'journal_id': journal.id,
                    'date': '2026-03-11',
                    'line_ids': [
                        Command.create({'account_id': debit_account.id, 'partner_id': cls.partner.id, 'debit': 300.0}),
                        Command.create(
                            {'account_id': credit_account.id, 'partner_id': cls.partner.id, 'credit': 300.0}
                        ),
                    ],
                }
            )
            move.action_post()
            return move.line_ids.filtered(lambda line: line.account_id == receivable)

        # a transfer through the receivable between the cash desk and the second bank: both hidden
        cls.hidden_items = entry(cls.cash_journal, receivable, cls.cash_journal.default_account_id) | entry(
            cls.bank_journal_2, cls.bank_journal_2.default_account_id, receivable
        )
        cls.hidden_items.reconcile()
        cls.hidden_match = cls.hidden_items.matched_debit_ids | cls.hidden_items.matched_credit_ids
        # an invoice paid into the clerk's account
        cls.invoice = cls.init_invoice('out_invoice', partner=cls.partner, amounts=[500], post=True)
        cls.payment = (
            cls.env['account.payment.register']
            .with_context(active_model='account.move', active_ids=cls.invoice.ids)
            .create({'journal_id': cls.bank_journal.id, 'payment_date': '2026-03-12'})
            ._create_payments()
        )
        cls.invoice_match = cls.invoice.line_ids.matched_credit_ids

    def test_match_between_hidden_accounts_is_hidden(self):
        self.assertEqual(len(self.hidden_match), 1)
        Partial = self.env['account.partial.reconcile'].with_user(self.clerk)
        ours = [('id', 'in', (self.hidden_match | self.invoice_match).ids)]
        self.assertEqual(Partial.search(ours), self.invoice_match)
        self.assertEqual(Partial.search_count([('id', '=', self.hidden_match.id)]), 0)
        self.assertFalse(Partial.search([('amount', '=', 300.0)]))
        with self.assertRaises(AccessError):
            self.hidden_match.with_user(self.clerk).read(['amount', 'debit_move_id', 'credit_move_id'])
        groups = Partial.read_group(ours, ['amount:sum'], ['company_id'])
        self.assertEqual([group['amount'] for group in groups], [500.0])  # the invoice's only
        # nothing changed
        self.assertEqual(self.hidden_match.amount, 300.0)
        self.assertTrue(self.hidden_items.full_reconcile_id)

    def test_invoice_paid_into_the_clerks_account_shows_its_payment(self):
        self.assertEqual(self.invoice.payment_state, 'paid')
        Partial = self.env['account.partial.reconcile'].with_user(self.clerk)
        self.assertIn(self.invoice_match, Partial.search([]))
        self.assertEqual(self.invoice_match.with_user(self.clerk).read(['amount'])[0]['amount'], 500.0)
        widget = self.invoice.with_user(self.clerk).read(['invoice_payments_widget'])[0]['invoice_payments_widget']
        self.assertEqual([payment['amount'] for payment in widget['content']], [500.0])
        self.assertEqual(widget['content'][0]['journal_name'], self.bank_journal.name)
        # who sees the accounts sees the transfer's match too
        for user in (self.director, self.manager):  # the manager is granted the cash desk
            Partial = self.env['account.partial.reconcile'].with_user(user)
            self.assertEqual(Partial.search([('id', '=', self.hidden_match.id)]), self.hidden_match)
