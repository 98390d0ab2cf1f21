import json

import psycopg2

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import BankCrmCommon, JsonRpcMixin


class MoneyRightsCommon(BankCrmCommon):
    """A real user per group and per rights setting:

    - ``clerk``: Account User, rights on the main bank account only, issues invoices,
      sees no balance, downloads no statement, refunds nothing;
    - ``manager``: Account Manager, rights on the main bank and the cash desk, pays;
    - ``bare``: Account User without any right of their own;
    - ``director``: Account Director, no right needed;
    - ``outsider``: an internal user without the Account groups.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = cls.users['user']
        cls.manager = cls.users['manager']
        cls.director = cls.users['director']
        cls.bare = new_test_user(
            cls.env,
            login='bank_crm_bare',
            groups='base.group_user,odoo_bank_crm.group_bank_crm_user',
            company_id=cls.env.company.id,
            company_ids=[Command.set(cls.env.company.ids)],
        )
        cls.clerk_right, cls.manager_right = cls.rights
        cls.clerk_right.write(
            {
                'journal_ids': [Command.set(cls.bank_journal.ids)],
                'can_see_balances': False,
                'can_download_statements': False,
                'can_refund': False,
            }
        )
        cls.manager_right.journal_ids = [Command.set((cls.bank_journal | cls.cash_journal).ids)]
        cls.lines = {
            journal: cls._create_lines(journal, [1000.0, -250.0], partner=cls.partner)
            for journal in (cls.bank_journal, cls.cash_journal, cls.bank_journal_2)
        }
        cls.money_journals = cls.env['account.journal'].search([('type', 'in', ('bank', 'cash', 'credit'))])

    def visible(self, user, model, domain=()):
        return self.env[model].with_user(user).search(list(domain))


@tagged('post_install', '-at_install')
class TestMoneyRightsMatrix(MoneyRightsCommon):
    # --- journals ---------------------------------------------------------------------

    def test_journals_visibility_per_user(self):
        money = [('type', 'in', ('bank', 'cash', 'credit'))]
        self.assertEqual(self.visible(self.clerk, 'account.journal', money), self.bank_journal)
        self.assertEqual(self.visible(self.manager, 'account.journal', money), self.bank_journal | self.cash_journal)
        self.assertEqual(self.visible(self.bare, 'account.journal', money), self.env['account.journal'])
        self.assertEqual(self.visible(self.director, 'account.journal', money), self.money_journals)
        # the sales journal (invoicing) stays visible to all of them
        sales = self.company_data['default_journal_sale']
        for user in (self.clerk, self.manager, self.bare, self.director):
            self.assertIn(sales, self.visible(user, 'account.journal'))

    def test_hidden_journal_cannot_be_read_or_written(self):
        with self.assertRaises(AccessError):
            self.bank_journal_2.with_user(self.clerk).read(['name'])
        with self.assertRaises(AccessError):
            self.bank_journal.with_user(self.clerk).write({'name': "Renamed"})
        with self.assertRaises(AccessError):
            self.bank_journal.with_user(self.manager).unlink()
        with self.assertRaises(AccessError):
            self.env['account.journal'].with_user(self.manager).create({'name': "New", 'code': 'NEWB', 'type': 'bank'})
        self.assertEqual(self.bank_journal_2.with_user(self.director).read(['name'])[0]['name'], "Second Bank")

    def test_outsider_sees_no_account_menu_data(self):
        with self.assertRaises(AccessError):
            self.env['bank.crm.payment.order'].with_user(self.outsider).search([])
        with self.assertRaises(AccessError):
            self.env['bank.crm.money.right'].with_user(self.outsider).search([])
        with self.assertRaises(AccessError):
            self.env['account.bank.statement.line'].with_user(self.outsider).search([])

    # --- statement lines and their entries ---------------------------------------------

    def test_statement_lines_visibility(self):
        Line = 'account.bank.statement.line'
        self.assertEqual(self.visible(self.clerk, Line), self.lines[self.bank_journal])
        self.assertEqual(
            self.visible(self.manager, Line), self.lines[self.bank_journal] | self.lines[self.cash_journal]
        )
        self.assertFalse(self.visible(self.bare, Line))
        self.assertEqual(
            self.visible(self.director, Line).filtered(lambda l: l in self.lines[self.bank_journal_2]),
            self.lines[self.bank_journal_2],
        )
        # grouped figures (pivot, graph, Balances by Currency) only count the granted lines
        # (and are sums only for whoever sees balances: test_security_visibility)
        self.clerk_right.can_see_balances = True
        groups = self.env[Line].with_user(self.clerk).read_group([], ['amount:sum'], ['journal_id'])
        self.assertEqual([group['journal_id'][0] for group in groups], self.bank_journal.ids)
        self.assertEqual(groups[0]['amount'], 750.0)
        with self.assertRaises(AccessError):
            self.lines[self.bank_journal_2].with_user(self.clerk).read(['amount'])

    def test_entries_of_hidden_accounts_are_hidden_too(self):
        hidden = self.lines[self.bank_journal_2].move_id
        moves = self.env['account.move'].with_user(self.clerk).search([('id', 'in', hidden.ids)])
        self.assertFalse(moves)
        items = self.env['account.move.line'].with_user(self.clerk).search([('move_id', 'in', hidden.ids)])
        self.assertFalse(items)
        statements = (
            self.env['account.bank.statement']
            .with_user(self.clerk)
            .search([('journal_id', '=', self.bank_journal_2.id)])
        )
        self.assertFalse(statements)

    def test_statement_line_create_write_unlink(self):
        Line = self.env['account.bank.statement.line']
        with self.assertRaises(AccessError):  # Account Users record nothing
            Line.with_user(self.clerk).create({'journal_id': self.bank_journal.id, 'payment_ref': "x", 'amount': 1})
        cash = Line.with_user(self.manager).create(
            {'journal_id': self.cash_journal.id, 'payment_ref': "Касса", 'amount': -300}
        )
        self.assertEqual(cash.journal_id, self.cash_journal)
        with self.assertRaises(AccessError):  # not granted
            Line.with_user(self.manager).create({'journal_id': self.bank_journal_2.id, 'payment_ref': "x", 'amount': 1})
        with self.assertRaises(AccessError):
            self.lines[self.bank_journal_2][:1].with_user(self.manager).write({'payment_ref': "changed"})
        with self.assertRaises(AccessError):
            cash.with_user(self.manager).unlink()

    def test_export_of_transactions_is_a_statement_download(self):
        with self.assertRaisesRegex(AccessError, "download statements"):
            self.lines[self.bank_journal].with_user(self.clerk).export_data(['amount', 'payment_ref'])
        self.manager.groups_id += self.env.ref('base.group_allow_export')
        rows = self.lines[self.bank_journal].with_user(self.manager).export_data(['amount'])['datas']
        self.assertEqual(len(rows), 2)

    def test_statement_wizard_respects_rights(self):
        wizard = (
            self.env['bank.crm.statement.wizard']
            .with_user(self.manager)
            .create({'date_from': '2026-03-01', 'date_to': '2026-03-31'})
        )
        data = wizard._bank_crm_statement_data()
        self.assertEqual({account['journal'] for account in data['accounts']}, {self.bank_journal, self.cash_journal})
        clerk_wizard = (
            self.env['bank.crm.statement.wizard']
            .with_user(self.clerk)
            .create({'date_from': '2026-03-01', 'date_to': '2026-03-31'})
        )
        with self.assertRaisesRegex(AccessError, "download statements"):
            clerk_wizard.action_export_xlsx()
        with self.assertRaisesRegex(AccessError, "download statements"):
            self.env['bank.crm.onec.export.wizard'].with_user(self.clerk).create(
                {
                    'journal_id': self.bank_journal.id,
                    'date_from': '2026-03-01',
                    'date_to': '2026-03-31',
                }
            ).action_export()

    # --- balances ---------------------------------------------------------------------

    def test_balances_hidden_without_the_right(self):
        fields_ = ['bank_crm_balance', 'bank_crm_month_income', 'bank_crm_can_see_balances']
        clerk_view = self.bank_journal.with_user(self.clerk).read(fields_)[0]
        self.assertEqual(clerk_view['bank_crm_balance'], 0.0)
        self.assertFalse(clerk_view['bank_crm_can_see_balances'])
        manager_view = self.bank_journal.with_user(self.manager).search_read(
            [('id', '=', self.bank_journal.id)], fields_
        )[0]
        self.assertEqual(manager_view['bank_crm_balance'], 750.0)
        self.assertTrue(manager_view['bank_crm_can_see_balances'])
        web = self.bank_journal.with_user(self.clerk).web_read(
            {'bank_crm_balance': {}, 'bank_crm_dashboard_graph': {}}
        )[0]
        self.assertEqual(web['bank_crm_balance'], 0.0)
        self.assertEqual(json.loads(web['bank_crm_dashboard_graph'])[0]['values'], [])
        self.assertEqual(
            len(
                json.loads(
                    self.bank_journal.with_user(self.manager).read(['bank_crm_dashboard_graph'])[0][
                        'bank_crm_dashboard_graph'
                    ]
                )[0]['values']
            ),
            12,
        )
        with self.assertRaisesRegex(AccessError, "see balances"):
            self.bank_journal.with_user(self.clerk).export_data(['name', 'bank_crm_balance'])
        with self.assertRaisesRegex(AccessError, "see balances"):
            self.env['account.bank.statement.line'].with_user(self.clerk).action_bank_crm_balances()
        action = self.env['account.bank.statement.line'].with_user(self.manager).action_bank_crm_balances()
        self.assertEqual(action['res_model'], 'account.bank.statement.line')

    # --- invoices and refunds -----------------------------------------------------------

    def test_issuing_invoices(self):
        Wizard = self.env['bank.crm.invoice.wizard']
        for user in (self.clerk, self.bare, self.director):
            action = self.env['res.partner'].with_user(user).browse(self.partner.id).action_bank_crm_issue_invoice()
            self.assertEqual(action['res_model'], 'bank.crm.invoice.wizard')
        self.clerk_right.can_issue_invoices = False
        with self.assertRaisesRegex(AccessError, "issue invoices"):
            self.partner.with_user(self.clerk).action_bank_crm_issue_invoice()
        with self.assertRaises(AccessError):
            Wizard.with_user(self.outsider).create({'partner_id': self.partner.id})

    def test_invoices_readable_by_their_issuers(self):
        invoice = self.init_invoice('out_invoice', partner=self.partner, amounts=[1000], post=True)
        for user in (self.clerk, self.manager, self.bare, self.director):
            self.assertEqual(self.env['account.move'].with_user(user).search([('id', '=', invoice.id)]), invoice)
        with self.assertRaises(AccessError):
            invoice.with_user(self.outsider).read(['name'])

    def test_credit_notes_need_the_refund_right(self):
        invoice = self.init_invoice('out_invoice', partner=self.partner, amounts=[1000], post=True)
        reversal = (
            self.env['account.move.reversal']
            .with_user(self.clerk)
            .with_context(active_model='account.move', active_ids=invoice.ids)
            .create({'journal_id': invoice.journal_id.id, 'reason': "returned"})
        )
        with self.assertRaisesRegex(AccessError, "refund customers"):
            reversal.refund_moves()
        self.clerk_right.can_refund = True
        reversal.refund_moves()
        self.assertEqual(invoice.reversal_move_ids.move_type, 'out_refund')

    # --- connections and rights ---------------------------------------------------------

    def test_connections_for_directors_and_administrators_only(self):
        connection = self.env['bank.connection'].create(
            {
                'name': "T-Bank",
                'provider_code': 'tbank_business',
                'api_url': 'http://localhost:8999/tb',
                'api_token': 'secret-token-1',
            }
        )
        for user in (self.clerk, self.manager, self.bare, self.outsider):
            with self.assertRaises(AccessError):
                connection.with_user(user).read(['name'])
        self.assertEqual(connection.with_user(self.director).read(['name'])[0]['name'], "T-Bank")
        with self.assertRaises(AccessError):
            connection.with_user(self.director).write({'name': "Mine"})
        with self.assertRaises(AccessError):
            connection.with_user(self.director).unlink()

    def test_rights_are_set_by_directors_and_read_by_their_owner(self):
        Right = self.env['bank.crm.money.right']
        self.assertEqual(Right.with_user(self.clerk).search([]), self.clerk_right)
        self.assertEqual(Right.with_user(self.manager).search([]), self.manager_right)
        with self.assertRaises(AccessError):
            self.clerk_right.with_user(self.clerk).write({'can_pay': True, 'daily_limit': 10**9})
        with self.assertRaises(AccessError):
            Right.with_user(self.manager).create({'user_id': self.bare.id})
        with self.assertRaises(AccessError):
            self.manager_right.with_user(self.clerk).read(['daily_limit'])
        right = Right.with_user(self.director).create(
            {'user_id': self.bare.id, 'journal_ids': [Command.set(self.cash_journal.ids)]}
        )
        self.assertEqual(self.visible(self.bare, 'account.journal', [('type', '=', 'cash')]), self.cash_journal)
        right.with_user(self.director).journal_ids = [Command.set(self.bank_journal_2.ids)]
        self.assertEqual(
            self.visible(self.bare, 'account.journal', [('type', 'in', ('bank', 'cash'))]), self.bank_journal_2
        )
        right.with_user(self.director).active = False
        self.assertFalse(self.visible(self.bare, 'account.journal', [('type', 'in', ('bank', 'cash'))]))

    def test_directors_open_rights_from_the_user_form(self):
        action = self.clerk.with_user(self.director).action_bank_crm_open_money_right()
        self.assertEqual((action['res_model'], action['res_id']), ('bank.crm.money.right', self.clerk_right.id))
        action = self.bare.with_user(self.director).action_bank_crm_open_money_right()
        self.assertFalse(action['res_id'])
        self.assertEqual(action['context']['default_user_id'], self.bare.id)

    def test_rights_grant_only_money_journals_of_their_company(self):
        with self.assertRaisesRegex(Exception, "bank and cash accounts"):
            self.clerk_right.journal_ids = [Command.link(self.company_data['default_journal_sale'].id)]
        with self.assertRaises(psycopg2.IntegrityError), mute_logger('odoo.sql_db'):
            self.env['bank.crm.money.right'].create({'user_id': self.clerk.id})  # one per user and company

    def test_accountants_are_not_limited(self):
        accountant = new_test_user(
            self.env,
            login='bank_crm_accountant',
            groups='base.group_user,account.group_account_user,odoo_bank_crm.group_bank_crm_user',
        )
        self.assertEqual(
            self.visible(accountant, 'account.journal', [('type', 'in', ('bank', 'cash', 'credit'))]),
            self.money_journals,
        )

    def test_multi_company(self):
        other = self.setup_other_company()['company']
        other_bank = self.env['account.journal'].create(
            {'name': "Other Bank", 'code': 'OBNK', 'type': 'bank', 'company_id': other.id}
        )
        payment = (
            self.env['bank.crm.payment.order']
            .with_company(other)
            .create({'journal_id': other_bank.id, 'partner_id': self.partner.id, 'amount': 10, 'purpose': "x"})
        )
        # a director of the first company only sees nothing of the other's
        self.assertFalse(self.env['bank.crm.payment.order'].with_user(self.director).search([('id', '=', payment.id)]))
        self.assertFalse(self.visible(self.director, 'account.journal', [('id', '=', other_bank.id)]))
        with self.assertRaisesRegex(Exception, "bank and cash accounts"):
            self.manager_right.journal_ids = [Command.link(other_bank.id)]


@tagged('post_install', '-at_install')
class TestCredentialsOverRpc(JsonRpcMixin, HttpCase, MoneyRightsCommon):
    """Bank credentials are for administrators only, through every path."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.connection = cls.env['bank.connection'].create(
            {
                'name': "Tochka",
                'provider_code': 'tochka',
                'api_url': 'http://localhost:8999/uapi',
                'api_token': 'jwt-very-secret',
            }
        )
        cls.provider = cls.env.ref('payment_tbank.payment_provider_tbank')
        cls.provider.sudo().write({'tbank_terminal_key': 'TK', 'tbank_password': 'terminal-secret'})
        cls.director.password = 'director-pass-1'

    def test_director_cannot_read_credentials_over_rpc(self):
        self.authenticate('bank_crm_director', 'director-pass-1')
        for model, record, secret_field in (
            ('bank.connection', self.connection, 'api_token'),
            ('payment.provider', self.provider, 'tbank_password'),
        ):
            for method, args, kwargs in (
                ('read', [record.ids, [secret_field]], {}),
                ('search_read', [[('id', '=', record.id)], [secret_field]], {}),
                ('web_read', [record.ids], {'specification': {secret_field: {}}}),
                ('export_data', [record.ids, [secret_field]], {}),
                ('web_search_read', [[('id', '=', record.id)]], {'specification': {secret_field: {}}}),
            ):
                answer = self._call_kw(model, method, args, kwargs)
                self.assertIn('error', answer, f"{model}.{method} gave {secret_field}")
                self.assertNotIn('secret', json.dumps(answer))
            # searching by the secret is refused too (no oracle)
            answer = self._call_kw(model, 'search_count', [[(secret_field, '=', 'jwt-very-secret')]])
            self.assertIn('error', answer)
            fields_ = self._call_kw(model, 'fields_get', [], {'attributes': ['string']})['result']
            self.assertNotIn(secret_field, fields_)

    def test_administrator_reads_credentials(self):
        # the connection is the test company's: the administrator works in it (company rules)
        self.env.ref('base.user_admin').company_ids |= self.connection.company_id
        self.authenticate('admin', 'admin')
        answer = self._call_kw(
            'bank.connection',
            'read',
            [self.connection.ids, ['api_token']],
            {'context': {'allowed_company_ids': self.connection.company_id.ids}},
        )
        self.assertEqual(answer['result'][0]['api_token'], 'jwt-very-secret')

    def test_restricted_user_rpc_sees_only_granted_lines(self):
        self.clerk.password = 'clerk-pass-1'
        self.authenticate('bank_crm_user', 'clerk-pass-1')
        answer = self._call_kw('account.bank.statement.line', 'search_read', [[], ['journal_id']])
        self.assertEqual({row['journal_id'][0] for row in answer['result']}, set(self.bank_journal.ids))
        answer = self._call_kw('account.bank.statement.line', 'read', [self.lines[self.bank_journal_2].ids, ['amount']])
        self.assertIn('error', answer)
