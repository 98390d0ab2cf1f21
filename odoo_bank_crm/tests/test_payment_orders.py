import os
from decimal import Decimal

import requests

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..bank_api import onec
from .test_money_rights import MoneyRightsCommon

SANDBOX = os.environ.get('BANK_CRM_SANDBOX_URL')


class PaymentOrdersCommon(MoneyRightsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref('base.main_company').vat = '7707083893'
        cls.bank_ru = cls.env['res.bank'].create({'name': "ПАО Сбербанк", 'bic': '044525225'})
        cls.supplier = cls.env['res.partner'].create(
            {'name': "ООО «Поставщик»", 'is_company': True, 'vat': '7701107259'}
        )
        cls.supplier_account = cls.env['res.partner.bank'].create(
            {'partner_id': cls.supplier.id, 'acc_number': '40702810438000012345', 'bank_id': cls.bank_ru.id}
        )
        cls.other_supplier = cls.env['res.partner'].create(
            {
                'name': "ИП Сидоров",
                'vat': '771234567890',
                'bank_ids': [Command.create({'acc_number': '40802810438000054321', 'bank_id': cls.bank_ru.id})],
            }
        )
        # verified by whoever validates bank accounts: Odoo trusts them for outgoing payments
        (cls.supplier_account | cls.other_supplier.bank_ids).with_user(cls.env.ref('base.user_admin')).write(
            {'allow_out_payment': True}
        )
        cls.manager_right.write(
            {'can_pay': True, 'max_payment_amount': 100000, 'daily_limit': 150000, 'monthly_limit': 400000}
        )
        cls.director_group = cls.env.ref('odoo_bank_crm.group_bank_crm_director')

    def _payment(self, amount, user=None, journal=None, partner=None, **values):
        return (
            self.env['bank.crm.payment.order']
            .with_user(user or self.manager)
            .create(
                {
                    'journal_id': (journal or self.bank_journal).id,
                    'partner_id': (partner or self.supplier).id,
                    'amount': amount,
                    'purpose': "Оплата по счету № 15 от 01.03.2026, НДС не облагается",
                    **values,
                }
            )
        )


@tagged('post_install', '-at_install')
class TestPaymentOrderFlow(PaymentOrdersCommon):
    def test_within_limits_is_ready(self):
        payment = self._payment(40000)
        self.assertEqual(payment.name[:4], 'OUT/')
        self.assertEqual(payment.partner_bank_id, self.supplier_account)
        payment.action_submit()
        self.assertEqual(payment.state, 'ready')
        self.assertEqual(payment.approval_mode, 'limits')
        self.assertEqual(payment.amount_company, 40000)
        self.assertIn("within their limits", payment.message_ids[0].body)
        self.assertEqual(self.manager_right.with_user(self.manager).paid_today, 40000)

    def test_above_single_payment_limit_waits_for_a_director(self):
        payment = self._payment(120000)
        payment.action_submit()
        self.assertEqual(payment.state, 'to_approve')
        self.assertIn("largest single payment", payment.approval_reason)
        activity = payment.sudo().activity_ids
        self.assertTrue(activity)
        self.assertTrue(set(activity.user_id.ids) <= set(self.director_group.users.ids))
        self.assertIn(self.director, activity.user_id)
        self.assertEqual(
            activity[0].activity_type_id, self.env.ref('odoo_bank_crm.mail_activity_bank_crm_payment_approval')
        )

    def test_daily_limit_counts_what_was_paid_today(self):
        first = self._payment(80000)
        first.action_submit()
        second = self._payment(80000)
        second.action_submit()
        self.assertEqual(first.state, 'ready')
        self.assertEqual(second.state, 'to_approve')
        self.assertIn("daily limit", second.approval_reason)
        self.assertIn("80,000.00", second.approval_reason)
        # what a director approved is not the manager's own spending
        second.with_user(self.director).action_approve()
        third = self._payment(70000)
        third.action_submit()
        self.assertEqual(third.state, 'ready')

    def test_monthly_limit(self):
        self.manager_right.write({'daily_limit': 10**7, 'max_payment_amount': 10**7})
        amounts = [150000, 150000, 120000, 20000]
        payments = [self._payment(amount) for amount in amounts]
        for payment in payments:
            payment.action_submit()
        self.assertEqual([p.state for p in payments], ['ready', 'ready', 'to_approve', 'ready'])
        self.assertIn("monthly limit", payments[2].approval_reason)
        self.assertEqual(self.manager_right.with_user(self.manager).paid_this_month, 320000)

    def test_limit_exactly_reached_is_allowed(self):
        payment = self._payment(100000)
        payment.action_submit()
        self.assertEqual(payment.state, 'ready')
        payment = self._payment(50000)
        payment.action_submit()
        self.assertEqual(payment.state, 'ready', "150000 paid today = the daily limit")
        payment = self._payment(0.01)
        payment.action_submit()
        self.assertEqual(payment.state, 'to_approve')

    def test_counterparties_outside_the_rights_need_approval(self):
        tag = self.env['res.partner.category'].create({'name': "Постоянные поставщики"})
        self.manager_right.write({'partner_category_ids': [Command.set(tag.ids)]})
        payment = self._payment(100, partner=self.other_supplier)
        payment.action_submit()
        self.assertEqual(payment.state, 'to_approve')
        self.assertIn("not among the counterparties", payment.approval_reason)
        self.supplier.category_id = tag
        payment = self._payment(100)
        payment.action_submit()
        self.assertEqual(payment.state, 'ready')
        self.manager_right.write(
            {'partner_category_ids': [Command.clear()], 'partner_ids': [Command.set(self.other_supplier.ids)]}
        )
        payment = self._payment(100, partner=self.other_supplier)
        payment.action_submit()
        self.assertEqual(payment.state, 'ready')

    def test_zero_limits_mean_every_payment_is_approved(self):
        self.manager_right.write({'max_payment_amount': 0})
        payment = self._payment(1)
        payment.action_submit()
        self.assertEqual(payment.state, 'to_approve')

    def test_director_approves(self):
        payment = self._payment(120000)
        payment.action_submit()
        with self.assertRaisesRegex(AccessError, "Only an Account Director"):
            payment.with_user(self.manager).action_approve()
        payment.with_user(self.director).action_approve()
        self.assertEqual(payment.state, 'approved')
        self.assertEqual(payment.approved_by_id, self.director)
        self.assertEqual(payment.approval_mode, 'director')
        self.assertFalse(payment.sudo().activity_ids)
        self.assertIn(self.manager.partner_id, payment.message_ids[0].partner_ids)

    def test_director_rejects_with_a_reason(self):
        payment = self._payment(120000)
        payment.action_submit()
        action = payment.with_user(self.director).action_open_reject_wizard()
        wizard = (
            self.env[action['res_model']]
            .with_user(self.director)
            .with_context(**action['context'])
            .create({'reason': "   "})
        )
        with self.assertRaisesRegex(UserError, "Say why"):
            wizard.action_reject()
        wizard.reason = "Аренда уже оплачена в этом месяце"
        wizard.action_reject()
        self.assertEqual(payment.state, 'rejected')
        self.assertEqual(payment.rejection_reason, "Аренда уже оплачена в этом месяце")
        self.assertIn("Аренда уже оплачена", payment.message_ids[0].body)
        with self.assertRaises(UserError):
            payment.action_send_to_bank()
        payment.action_reset_to_draft()
        self.assertEqual(payment.state, 'draft')
        self.assertFalse(payment.rejection_reason)

    def test_director_needs_no_approval(self):
        payment = self._payment(5_000_000, user=self.director, journal=self.bank_journal_2)
        payment.with_user(self.director).action_submit()
        self.assertEqual(payment.state, 'ready')
        self.assertEqual(payment.approval_mode, 'director')

    def test_submitted_payment_cannot_be_changed(self):
        payment = self._payment(120000)
        payment.action_submit()
        with self.assertRaisesRegex(UserError, "no longer a draft"):
            payment.with_user(self.manager).write({'amount': 10})
        with self.assertRaisesRegex(UserError, "no longer a draft"):
            payment.with_user(self.director).write({'partner_id': self.other_supplier.id})
        with self.assertRaises(UserError):
            payment.with_user(self.manager).unlink()
        payment.with_user(self.manager).action_cancel()
        self.assertEqual(payment.state, 'canceled')
        payment.with_user(self.manager).unlink()

    def test_payment_rights_per_user(self):
        Payment = self.env['bank.crm.payment.order']
        with self.assertRaises(AccessError):  # Account Users do not pay
            self._payment(10, user=self.clerk)
        with self.assertRaises(AccessError):  # an account not granted
            self._payment(10, journal=self.bank_journal_2)
        self.manager_right.can_pay = False
        with self.assertRaisesRegex(AccessError, "make outgoing payments"):
            self._payment(10)
        self.manager_right.can_pay = True
        mine = self._payment(10)
        theirs = self._payment(10, user=self.director, journal=self.bank_journal_2)
        self.assertEqual(Payment.with_user(self.manager).search([('id', 'in', (mine | theirs).ids)]), mine)
        self.assertEqual(Payment.with_user(self.director).search([('id', 'in', (mine | theirs).ids)]), mine | theirs)
        with self.assertRaises(AccessError):
            theirs.with_user(self.manager).read(['amount'])
        with self.assertRaisesRegex(AccessError, "make outgoing payments"):
            mine.with_user(self.manager).write({'journal_id': self.bank_journal_2.id})

    def test_recipient_details_are_required_before_the_bank(self):
        payment = self._payment(100)
        payment.partner_bank_id = False
        with self.assertRaisesRegex(UserError, "recipient's account number"):
            payment.action_submit()
        self.supplier.vat = False
        payment.partner_bank_id = self.supplier_account
        with self.assertRaisesRegex(UserError, "recipient's INN"):
            payment.action_submit()

    def test_bill_fills_the_payment(self):
        bill = self.init_invoice('in_invoice', partner=self.supplier, amounts=[12345.67], post=True)
        bill.ref = "15/А"
        payment = self.env['bank.crm.payment.order'].with_user(self.manager).new({'journal_id': self.bank_journal.id})
        payment.bill_id = bill
        payment._onchange_bill_id()
        self.assertEqual(payment.partner_id, self.supplier)
        self.assertEqual(payment.amount, bill.amount_residual)
        self.assertIn("15/А", payment.purpose)

    def test_export_as_onec_payment_orders(self):
        self.bank_journal.bank_account_id = self.env['res.partner.bank'].create(
            {
                'partner_id': self.env.company.partner_id.id,
                'acc_number': '40702810510000000001',
                'bank_id': self.bank_ru.id,
            }
        )
        payments = self._payment(1234.5) | self._payment(99.99, partner=self.other_supplier)
        with self.assertRaises(UserError):  # not submitted yet
            payments.action_export_onec()
        payments.action_submit()
        action = payments.with_user(self.manager).action_export_onec()
        attachment = self.env['ir.attachment'].browse(int(action['url'].split('/')[3].split('?')[0]))
        parsed = onec.parse(attachment.raw)
        self.assertEqual([doc.amount for doc in parsed.documents], [Decimal('1234.50'), Decimal('99.99')])
        self.assertEqual(parsed.documents[0].recipient.account, '40702810438000012345')
        self.assertEqual(parsed.documents[0].recipient.inn, '7701107259')
        self.assertEqual(parsed.documents[1].recipient.bic, '044525225')
        self.assertEqual(parsed.documents[0].payer.account, '40702810510000000001')
        self.assertEqual(parsed.documents[0].kind, "Платежное поручение")
        self.assertTrue(parsed.documents[0].purpose.startswith("Оплата по счету № 15"))
        self.assertEqual(set(payments.mapped('state')), {'exported'})
        payments[0].action_mark_done()
        self.assertEqual(payments[0].state, 'done')

    def test_cash_payment_is_paid_by_hand(self):
        contractor = self.env['res.partner'].create({'name': "Курьер Иванов"})  # no INN, no account
        payment = self._payment(3500, journal=self.cash_journal, partner=contractor)
        payment.action_submit()
        self.assertEqual(payment.state, 'ready')
        payment.action_mark_done()
        self.assertEqual(payment.state, 'done')
        bank_payment = self._payment(100)
        bank_payment.action_submit()
        with self.assertRaisesRegex(UserError, "marked paid by hand"):
            bank_payment.action_mark_done()

    def test_no_bank_connection_says_export(self):
        payment = self._payment(100)
        payment.action_submit()
        with self.assertRaisesRegex(UserError, "1C payment order"):
            payment.action_send_to_bank()


@tagged('post_install', '-at_install')
class TestPaymentOrdersInTheBank(PaymentOrdersCommon):
    """Payments to sign in T-Bank Business and Tochka, against the bank sandbox."""

    def setUp(self):
        super().setUp()
        if not SANDBOX:
            self.skipTest("needs the bank sandbox: run through `make test` (BANK_CRM_SANDBOX_URL)")
        self.env['ir.config_parameter'].sudo().set_param('odoo_bank_crm.sync_backoff_seconds', '0')

    def _sandbox_account(self, bank):
        answer = requests.get(f'{SANDBOX}/_admin/business/accounts', params={'bank': bank}, timeout=10).json()
        return next(row for row in answer['accounts'][bank] if row['currency'] == 'RUB')

    def _connect(self, journal, provider, api_url, token):
        bank = self._sandbox_account(provider)
        connection = self.env['bank.connection'].create(
            {'name': f"{provider} sandbox", 'provider_code': provider, 'api_url': api_url, 'api_token': token}
        )
        bic = '044525974' if provider == 'tbank_business' else '044525104'
        journal.write(
            {
                'bank_crm_connection_id': connection.id,
                'bank_crm_bank_account_ref': bank['bank_account_id'],
                'bank_account_id': self.env['res.partner.bank']
                .create(
                    {
                        'partner_id': self.env.company.partner_id.id,
                        'acc_number': bank['account'],
                        'bank_id': self.env['res.bank'].create({'name': provider, 'bic': bic}).id,
                    }
                )
                .id,
            }
        )
        return connection

    def _force(self, payment, status):
        answer = requests.post(
            f'{SANDBOX}/_admin/business/payments', json={'id': payment.bank_document_id, 'status': status}, timeout=10
        )
        answer.raise_for_status()

    def test_tbank_business_payment_draft_then_executed(self):
        self._connect(self.bank_journal, 'tbank_business', f'{SANDBOX}/openapi/api', 'TBankSandboxToken')
        payment = self._payment(45000.5)
        payment.action_submit()
        payment.with_user(self.manager).action_send_to_bank()
        self.assertEqual(payment.state, 'sent')
        self.assertTrue(payment.bank_document_id)
        self.assertEqual(payment.bank_status, 'IN_PROGRESS')
        document = payment.bank_document_id
        # sending again is refused; the idempotency key would give the same draft anyway
        with self.assertRaises(UserError):
            payment.action_send_to_bank()
        self._force(payment, 'EXECUTED')
        payment.with_user(self.manager).action_check_status()
        self.assertEqual(payment.state, 'done')
        self.assertEqual(payment.bank_document_id, document)
        self.assertIn("executed", payment.message_ids[0].body)

    def test_tbank_business_failed_payment_tells_its_author(self):
        self._connect(self.bank_journal, 'tbank_business', f'{SANDBOX}/openapi/api', 'TBankSandboxToken')
        payment = self._payment(100)
        payment.action_submit()
        payment.action_send_to_bank()
        self._force(payment, 'FAILED')
        self.env['bank.crm.payment.order']._cron_bank_crm_follow_payments()
        self.assertEqual(payment.state, 'failed')
        self.assertEqual(payment.sudo().activity_ids.user_id, self.manager)
        payment.action_reset_to_draft()
        self.assertEqual(payment.state, 'draft')

    def test_tochka_payment_for_sign(self):
        self._connect(self.bank_journal_2, 'tochka', f'{SANDBOX}/uapi', 'sandbox.jwt.token')
        self.manager_right.journal_ids = [Command.link(self.bank_journal_2.id)]
        payment = self._payment(777.77, journal=self.bank_journal_2)
        payment.action_submit()
        payment.action_send_to_bank()
        self.assertEqual(payment.state, 'sent')
        self.assertTrue(payment.bank_sign_url)
        self._force(payment, 'Paid')
        payment.action_check_status()
        self.assertEqual(payment.state, 'done')

    def test_tochka_rejected_payment_fails(self):
        self._connect(self.bank_journal_2, 'tochka', f'{SANDBOX}/uapi', 'sandbox.jwt.token')
        self.manager_right.journal_ids = [Command.link(self.bank_journal_2.id)]
        payment = self._payment(500, journal=self.bank_journal_2)
        payment.action_submit()
        payment.action_send_to_bank()
        self.assertEqual(payment.bank_status, 'WaitingForCreate')
        self._force(payment, 'Rejected')
        payment.action_check_status()
        self.assertEqual((payment.state, payment.bank_status), ('failed', 'Rejected'))
        self.assertEqual(payment.sudo().activity_ids.user_id, self.manager)

    def test_revoked_token_is_a_clear_error_without_the_token(self):
        self._connect(self.bank_journal, 'tbank_business', f'{SANDBOX}/openapi/api', 'not-a-valid-token-42')
        payment = self._payment(100)
        payment.action_submit()
        action = payment.with_user(self.manager).action_send_to_bank()
        self.assertEqual(action['params']['type'], 'danger')
        self.assertIn("did not take", action['params']['message'])
        self.assertNotIn('not-a-valid-token-42', str(action))
        self.assertEqual(payment.state, 'ready')
        self.assertTrue(payment.bank_error)
        self.assertEqual(payment.journal_id.sudo().bank_crm_connection_id.state, 'revoked')
        self.assertNotIn('not-a-valid-token-42', ''.join(payment.message_ids.mapped('body')))
