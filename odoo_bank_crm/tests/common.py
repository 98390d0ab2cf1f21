import json
import os

import requests

from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


def clear_sandbox_webhooks():
    """Drop the bank sandbox's webhook subscriptions. A test whose Add Account subscribed
    this test server calls it when it ends: otherwise the sandbox's later operations (a
    later test's outgoing payment) send webhooks, retried for minutes, into whichever
    tests run then."""
    sandbox = os.environ.get('BANK_CRM_SANDBOX_URL')
    if sandbox:
        requests.post(f'{sandbox}/_admin/business/webhooks/clear', json={}, timeout=30).raise_for_status()


class BankCrmCommon(AccountTestInvoicingCommon):
    """Bank and cash accounts with a few transactions, and one real user per group."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank_journal = cls.company_data['default_journal_bank']
        cls.cash_journal = cls.company_data['default_journal_cash']
        cls.bank_journal_2 = cls.env['account.journal'].create(
            {
                'name': "Second Bank",
                'code': 'BNK9',
                'type': 'bank',
            }
        )
        cls.partner = cls.env['res.partner'].create({'name': "ООО «Ромашка»", 'vat': '7701234567'})
        groups = {
            'user': 'odoo_bank_crm.group_bank_crm_user',
            'manager': 'odoo_bank_crm.group_bank_crm_manager',
            'director': 'odoo_bank_crm.group_bank_crm_director',
        }
        cls.users = {
            role: new_test_user(
                cls.env,
                login=f'bank_crm_{role}',
                groups=f'base.group_user,{group}',
                name=f"Bank CRM {role.title()}",
                company_id=cls.env.company.id,
                company_ids=[Command.set(cls.env.company.ids)],
            )
            for role, group in groups.items()
        }
        cls.outsider = new_test_user(cls.env, login='bank_crm_outsider', groups='base.group_user')
        # Account Users and Managers see the accounts their rights grant: all of them here,
        # with every operation; test_money_rights narrows them.
        cls.rights = cls.env['bank.crm.money.right'].create(
            [
                {
                    'user_id': cls.users[role].id,
                    'journal_ids': [Command.set((cls.bank_journal | cls.cash_journal | cls.bank_journal_2).ids)],
                    'can_issue_invoices': True,
                    'can_refund': True,
                    'can_pay': role == 'manager',
                    'can_see_balances': True,
                    'can_download_statements': True,
                    'max_payment_amount': 100000,
                    'daily_limit': 150000,
                    'monthly_limit': 1000000,
                }
                for role in ('user', 'manager')
            ]
        )

    @classmethod
    def _create_lines(cls, journal, amounts, date='2026-03-10', partner=None):
        return cls.env['account.bank.statement.line'].create(
            [
                {
                    'journal_id': journal.id,
                    'date': date,
                    'payment_ref': f"Line {index}",
                    'amount': amount,
                    'partner_id': partner.id if partner else False,
                }
                for index, amount in enumerate(amounts)
            ]
        )


class JsonRpcMixin:
    """Calls as the web client makes them, in an HttpCase whose session is authenticated."""

    def _call_kw(self, model, method, args, kwargs=None):
        response = self.url_open(
            '/web/dataset/call_kw',
            data=json.dumps(
                {
                    'jsonrpc': '2.0',
                    'method': 'call',
                    'id': 1,
                    'params': {'model': model, 'method': method, 'args': args, 'kwargs': kwargs or {}},
                }
            ),
            headers={'Content-Type': 'application/json'},
        )
        return response.json()
