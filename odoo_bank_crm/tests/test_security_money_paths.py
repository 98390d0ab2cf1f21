"""Issue #13, the money paths: each attack performed as an employee would (ORM as the
user, or JSON-RPC with a logged-in session), and the legitimate path next to it."""

from contextlib import contextmanager
from datetime import timedelta

import responses

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged

from ..bank_api import onec
from .common import JsonRpcMixin
from .tbank_common import SANDBOX_URL, TBankCommon
from .test_auto_invoice_rule import AutoInvoiceCommon
from .test_money_rights import MoneyRightsCommon
from .test_payment_orders import PaymentOrdersCommon


class RefusedMixin:
    @contextmanager
    def refused(self, exception, text):
        """assertRaisesRegex, in a savepoint (Odoo's assertRaises): what the refused call
        wrote is rolled back, as it would be for the user's request."""
        with self.assertRaises(exception) as caught:
            yield
        self.assertIn(text, str(caught.exception))


# === 1. Domains are data, not code === #


@tagged('post_install', '-at_install')
class TestAutoInvoiceDomainIsData(RefusedMixin, AutoInvoiceCommon):
    def _manager_rule(self, lead_domain):
        rule = (
            self.env['bank.crm.auto.invoice.rule']
            .with_user(self.users['manager'])
            .create(
                {
                    'name': "Prepayment",
                    'stage_id': self.stage_signed.id,
                    'send_mode': 'review',
                    'lead_domain': lead_domain,
                }
            )
        )
        self.addCleanup(lambda: rule.sudo().with_context(active_test=False).exists().unlink())
        return rule

    def test_domain_cannot_call_a_method_of_the_user(self):
        manager = self.users['manager']
        settings = self.env.ref('base.group_system')
        groups_before = manager.groups_id
        attack = f"[('user_id', '=', user.sudo().write({{'groups_id': [(4, {settings.id})]}}) and uid)]"
        with self.assertRaises(ValidationError):
            self._manager_rule(attack)
        manager.invalidate_recordset()
        self.assertEqual(manager.groups_id, groups_before)
        self.assertFalse(manager.has_group('base.group_system'))
        self.assertFalse(self.env['bank.crm.auto.invoice.rule'].search([('lead_domain', '=', attack)]))

    def test_stored_malicious_domain_is_not_run_when_a_deal_moves(self):
        """A rule written before the fix: evaluating it at the stage change fails, harmlessly."""
        manager = self.users['manager']
        rule = self._manager_rule("[]")
        settings = self.env.ref('base.group_system')
        self.env.cr.execute(
            "UPDATE bank_crm_auto_invoice_rule SET lead_domain = %s WHERE id = %s",
            [f"[('id', '!=', env.user.sudo().write({{'groups_id': [(4, {settings.id})]}}))]", rule.id],
        )
        rule.invalidate_recordset()
        lead = self._leads((self.moscow, 100))
        lead.with_user(self.salesperson).write({'stage_id': self.stage_signed.id})
        self.assertEqual(lead.stage_id, self.stage_signed)
        self.assertFalse(self._invoices(lead))
        manager.invalidate_recordset()
        self.assertFalse(manager.has_group('base.group_system'))

    def test_domain_must_be_a_domain_of_plain_values(self):
        for text in (
            "'not a domain'",
            "[('name', '=', datetime.datetime)]",
            "[('name', 'calls', 'x')]",
            "[('name', '=')]",
            "[(company_ids, '=', 1)]",
        ):
            with self.subTest(text=text), self.assertRaises(ValidationError):
                self._manager_rule(text)

    def test_ids_and_dates_still_work(self):
        rule = self._manager_rule(
            "[('user_id', '=', uid), ('company_id', 'in', company_ids + [False]), "
            "('create_date', '>=', (context_today() - relativedelta(days=1)).strftime('%Y-%m-%d'))]"
        )
        lead = self._leads((self.moscow, 100))
        lead.user_id = self.users['manager']
        self.assertEqual(rule.with_user(self.users['manager']).matching_lead_count, 1)
        lead.with_user(self.users['manager']).write({'stage_id': self.stage_signed.id})
        self.assertEqual(self._invoiced(lead), lead)


# === 4. Workflow fields cannot be set from outside === #


@tagged('post_install', '-at_install')
class TestPaymentWorkflowFieldsOverRpc(RefusedMixin, HttpCase, JsonRpcMixin, PaymentOrdersCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager.password = 'manager-pass-1'
        cls.director.password = 'director-pass-1'

    def _values(self, **extra):
        return {
            'journal_id': self.bank_journal.id,
            'partner_id': self.supplier.id,
            'amount': 900000,
            'purpose': "Оплата по счету № 15",
            **extra,
        }

    def _count(self):
        return self.env['bank.crm.payment.order'].search_count([])

    def test_manager_cannot_create_an_approved_payment(self):
        self.authenticate('bank_crm_manager', 'manager-pass-1')
        before = self._count()
        for values, context in (
            (
                self._values(
                    state='approved',
                    approval_mode='director',
                    approved_by_id=self.director.id,
                    approved_date='2026-03-01 10:00:00',
                ),
                {},
            ),
            (self._values(state='ready', approval_mode='limits'), {}),
            (self._values(bank_status='EXECUTED'), {}),
            (self._values(), {'default_state': 'approved', 'default_approved_by_id': self.director.id}),
            (self._values(user_id=self.director.id), {}),
        ):
            with self.subTest(values=values, context=context):
                answer = self._call_kw('bank.crm.payment.order', 'create', [values], {'context': context})
                self.assertIn('error', answer)
                self.assertIn('set by its workflow', answer['error']['data']['message'])
        self.assertEqual(self._count(), before)

    def test_manager_and_director_cannot_write_the_state(self):
        payment = self._payment(120000)
        payment.action_submit()
        self.assertEqual(payment.state, 'to_approve')
        for login, password, values in (
            ('bank_crm_manager', 'manager-pass-1', {'state': 'approved'}),
            ('bank_crm_manager', 'manager-pass-1', {'approval_mode': 'limits', 'state': 'ready'}),
            ('bank_crm_director', 'director-pass-1', {'state': 'approved', 'approved_by_id': self.director.id}),
            ('bank_crm_director', 'director-pass-1', {'bank_status': 'EXECUTED'}),
        ):
            with self.subTest(login=login, values=values):
                self.authenticate(login, password)
                answer = self._call_kw('bank.crm.payment.order', 'write', [payment.ids, values])
                self.assertIn('error', answer)
                payment.invalidate_recordset()
                self.assertEqual(payment.state, 'to_approve')
                self.assertFalse(payment.approved_by_id)
                self.assertFalse(payment.approval_mode)
                self.assertFalse(payment.bank_status)

    def test_draft_write_of_the_state_is_refused_too(self):
        payment = self._payment(100)
        with self.refused(AccessError, "set by its workflow"):
            payment.with_user(self.manager).write({'state': 'ready'})
        with self.refused(AccessError, "set by its workflow"):
            payment.with_user(self.director).write({'approved_by_id': self.director.id})
        self.assertEqual(payment.state, 'draft')

    def test_workflow_over_rpc_still_works(self):
        self.authenticate('bank_crm_manager', 'manager-pass-1')
        answer = self._call_kw('bank.crm.payment.order', 'create', [self._values(amount=120000)])
        payment = self.env['bank.crm.payment.order'].browse(answer['result'])
        self.assertIn('result', self._call_kw('bank.crm.payment.order', 'action_submit', [payment.ids]))
        self.assertEqual(payment.state, 'to_approve')
        self.authenticate('bank_crm_director', 'director-pass-1')
        self.assertIn('result', self._call_kw('bank.crm.payment.order', 'action_approve', [payment.ids]))
        payment.invalidate_recordset()
        self.assertEqual((payment.state, payment.approved_by_id), ('approved', self.director))

    def test_workflow_keeps_the_users_rights(self):
        """No superuser behind the workflow: a manager who lost the account cannot move its payments."""
        payment = self._payment(100)
        payment.action_submit()
        self.manager_right.journal_ids = [Command.set(self.cash_journal.ids)]
        with self.assertRaises(AccessError):
            payment.with_user(self.manager).action_cancel()
        self.assertEqual(payment.with_user(self.director).state, 'ready')


# === 5. The approved recipient is the one paid; 10. limits at the day's rate === #


@tagged('post_install', '-at_install')
class TestPaymentRecipient(RefusedMixin, PaymentOrdersCommon):
    def test_recipient_account_must_be_the_recipients(self):
        before = self.env['bank.crm.payment.order'].search_count([])
        someone_elses = self.other_supplier.bank_ids
        with self.refused(ValidationError, "belongs to"):
            self._payment(100, partner_bank_id=someone_elses.id)
        self.assertEqual(self.env['bank.crm.payment.order'].search_count([]), before)
        payment = self._payment(100)
        with self.refused(ValidationError, "belongs to"):
            payment.with_user(self.manager).write({'partner_bank_id': someone_elses.id})
        self.assertEqual(payment.partner_bank_id, self.supplier_account)

    def test_untrusted_account_goes_to_no_bank(self):
        self.supplier_account.with_user(self.env.ref('base.user_admin')).allow_out_payment = False
        payment = self._payment(100)
        payment.action_submit()
        with self.refused(UserError, "not trusted"):
            payment.with_user(self.manager).action_export_onec()
        with self.refused(UserError, "not trusted"):
            payment.with_user(self.manager).action_send_to_bank()
        self.assertEqual(payment.state, 'ready')
        self.assertFalse(
            self.env['ir.attachment'].search([('res_model', '=', payment._name), ('res_id', '=', payment.id)])
        )
        # the manager cannot trust it themselves
        with self.assertRaises(UserError):
            self.supplier_account.with_user(self.manager).write({'allow_out_payment': True})
        # whoever validates bank accounts can
        self.supplier_account.with_user(self.env.ref('base.user_admin')).allow_out_payment = True
        payment.with_user(self.manager).action_export_onec()
        self.assertEqual(payment.state, 'exported')

    def test_account_changed_after_submission_goes_back_to_draft(self):
        untrusted = self.env['res.partner.bank'].create(
            {'partner_id': self.supplier.id, 'acc_number': '40702810438000099999', 'bank_id': self.bank_ru.id}
        )
        payment = self._payment(120000, partner_bank_id=untrusted.id)
        payment.action_submit()
        self.assertEqual(payment.state, 'to_approve')
        self.assertEqual(payment.recipient_acc_number, '40702810438000099999')
        # someone swaps the number in the (untrusted, so still editable) account
        untrusted.acc_number = '40702810438000066666'
        self.assertEqual(payment.state, 'draft')
        self.assertFalse(payment.recipient_acc_number)
        self.assertIn("back to draft", payment.message_ids[0].body)
        with self.assertRaises(UserError):
            payment.with_user(self.director).action_approve()

    def test_bic_changed_after_approval_is_not_sent(self):
        payment = self._payment(100)
        payment.action_submit()
        self.bank_ru.bic = '044525999'
        with self.refused(UserError, "changed after it was submitted"):
            payment.with_user(self.manager).action_export_onec()
        self.assertEqual(payment.state, 'ready')

    def test_the_approved_account_is_the_one_exported(self):
        payment = self._payment(100)
        payment.action_submit()
        action = payment.with_user(self.manager).action_export_onec()
        attachment = self.env['ir.attachment'].browse(int(action['url'].split('/')[3].split('?')[0]))
        document = onec.parse(attachment.raw).documents[0]
        self.assertEqual((document.recipient.account, document.recipient.bic), ('40702810438000012345', '044525225'))

    def test_limits_at_the_rate_of_the_day_of_submission(self):
        today = fields.Date.context_today(self.env.user)
        currency = self.setup_other_currency(
            'EUR', rates=[('2020-01-01', 1.0), (fields.Date.to_string(today - timedelta(days=30)), 0.01)]
        )
        journal = self.env['account.journal'].create(
            {'name': "Euro Bank", 'code': 'EURB', 'type': 'bank', 'currency_id': currency.id}
        )
        self.manager_right.journal_ids = [Command.link(journal.id)]
        # 2000 EUR were 2000 in 2020, are 200000 today: above the largest single payment (100000)
        payment = self._payment(2000, journal=journal, payment_date='2020-06-01')
        payment.action_submit()
        self.assertEqual(payment.amount_company, 200000)
        self.assertEqual(payment.state, 'to_approve')
        self.assertIn("largest single payment", payment.approval_reason)
        small = self._payment(500, journal=journal, payment_date='2020-06-01')
        small.action_submit()
        self.assertEqual((small.amount_company, small.state), (50000, 'ready'))


# === 12. The refund right on every path to a customer credit note === #


@tagged('post_install', '-at_install')
class TestRefundRightOnEveryPath(RefusedMixin, MoneyRightsCommon):
    def _refund_values(self):
        return {
            'move_type': 'out_refund',
            'partner_id': self.partner.id,
            'invoice_line_ids': [Command.create({'name': "Возврат", 'quantity': 1, 'price_unit': 500})],
        }

    def _refunds(self):
        return self.env['account.move'].search_count([('move_type', '=', 'out_refund')])

    def test_direct_credit_note_needs_the_right(self):
        before = self._refunds()
        with self.refused(AccessError, "refund customers"):
            self.env['account.move'].with_user(self.clerk).create(self._refund_values())
        with self.refused(AccessError, "refund customers"):
            self.env['account.move'].with_user(self.clerk).with_context(default_move_type='out_refund').create(
                {'partner_id': self.partner.id}
            )
        self.assertEqual(self._refunds(), before)
        self.clerk_right.can_refund = True
        refund = self.env['account.move'].with_user(self.clerk).create(self._refund_values())
        self.assertEqual(refund.move_type, 'out_refund')

    def test_invoice_switched_into_a_credit_note_needs_the_right(self):
        invoice = (
            self.env['account.move'].with_user(self.clerk).create({**self._refund_values(), 'move_type': 'out_invoice'})
        )
        with self.refused(AccessError, "refund customers"):
            invoice.with_user(self.clerk).action_switch_move_type()
        self.assertEqual(invoice.move_type, 'out_invoice')
        self.clerk_right.can_refund = True
        invoice.with_user(self.clerk).action_switch_move_type()
        self.assertEqual(invoice.move_type, 'out_refund')

    def test_reversal_wizard_makes_nothing_without_the_right(self):
        invoice = self.init_invoice('out_invoice', partner=self.partner, amounts=[1000], post=True)
        reversal = (
            self.env['account.move.reversal']
            .with_user(self.clerk)
            .with_context(active_model='account.move', active_ids=invoice.ids)
            .create({'journal_id': invoice.journal_id.id, 'reason': "returned"})
        )
        before = self._refunds()
        for method in ('refund_moves', 'modify_moves'):
            with self.subTest(method=method), self.refused(AccessError, "refund customers"):
                getattr(reversal, method)()
        self.assertEqual(self._refunds(), before)
        self.assertFalse(invoice.reversal_move_ids)


@tagged('post_install', '-at_install')
class TestCardRefundRight(RefusedMixin, TBankCommon):
    def _paid_tx(self):
        invoice = self._create_invoice(amount=1000.0)
        tx = self._create_invoice_tx(invoice)
        tx._handle_notification_data('tbank', self._notification(tx, 'CONFIRMED'))
        return tx

    def _refund_wizard(self, tx):
        return (
            self.env['payment.refund.wizard']
            .with_user(self.salesperson)
            .with_context(active_model='account.payment', active_id=tx.payment_id.id)
            .create({'payment_id': tx.payment_id.id, 'amount_to_refund': 300.0})
        )

    def test_card_refund_needs_the_right(self):
        tx = self._paid_tx()
        wizard = self._refund_wizard(tx)
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add(responses.POST, f'{SANDBOX_URL}/Cancel', json={'Success': True})
            with self.refused(AccessError, "refund customers"):
                wizard.action_refund()
            with self.refused(AccessError, "refund customers"):
                tx.with_user(self.salesperson).action_refund(amount_to_refund=300.0)
            self.assertFalse(mock.calls, "nothing reached the bank")
        self.assertFalse(tx.child_transaction_ids)

    def test_card_refund_with_the_right(self):
        tx = self._paid_tx()
        self.env['bank.crm.money.right'].create({'user_id': self.salesperson.id, 'can_refund': True})
        wizard = self._refund_wizard(tx)
        with self._mock_bank(
            'Cancel', {'PaymentId': 100500, 'Status': 'PARTIAL_REFUNDED', 'OriginalAmount': 100000, 'NewAmount': 70000}
        ) as mock:
            wizard.action_refund()
        self.assertEqual(len(mock.calls), 1)
        self.assertEqual(tx.child_transaction_ids.mapped('amount'), [-300.0])
