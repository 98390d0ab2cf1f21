from odoo import Command, fields
from odoo.tests import tagged

from .common import BankCrmCommon

# the tests' environment switches Odoo's tracking off; these tests check the chatter as it is in use
TRACKING_ON = {'tracking_disable': False, 'mail_notrack': False}


@tagged('post_install', '-at_install')
class TestBankMatching(BankCrmCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner.write({'vat': '7707083893', 'bank_ids': [Command.create({'acc_number': '40702810900000000777'})]})
        cls.salesperson = cls.users['user']
        cls.lead = cls.env['crm.lead'].create(
            {'name': "Supply", 'type': 'opportunity', 'partner_id': cls.partner.id, 'user_id': cls.salesperson.id}
        )
        cls.currency = cls.env.company.currency_id

    def _invoice(self, amount, lead=None, partner=None):
        invoice = self.env['account.move'].create(
            {
                'move_type': 'out_invoice',
                'partner_id': (partner or self.partner).id,
                'bank_crm_lead_id': (self.lead if lead is None else lead).id,
                'invoice_line_ids': [
                    Command.create({'name': "Goods", 'quantity': 1, 'price_unit': amount, 'tax_ids': [Command.clear()]})
                ],
            }
        )
        invoice.action_post()
        return invoice

    def _incoming(self, amount, purpose, inn=None, account=None, name=None):
        return self.env['account.bank.statement.line'].create(
            {
                'journal_id': self.bank_journal.id,
                'date': '2026-03-10',
                'amount': amount,
                'payment_ref': purpose,
                'bank_crm_counterparty_inn': inn,
                'account_number': account,
                'partner_name': name,
            }
        )

    def test_transfer_with_the_invoice_number_is_reconciled(self):
        invoice = self._invoice(15000.0)
        number = invoice.name
        line = self._incoming(
            15000.0, f"Оплата по счету №{number.replace('/', ' / ')} от 01.03.2026, НДС не облагается", inn='7707083893'
        )
        self.assertTrue(line.is_reconciled)
        self.assertEqual(line.bank_crm_match_state, 'matched')
        self.assertEqual(invoice.payment_state, 'paid')
        self.assertEqual(self.lead.bank_crm_payment_state, 'paid')
        self.assertEqual(line.bank_crm_lead_id, self.lead)
        self.assertTrue(
            self.lead.activity_ids.filtered(lambda a: a.user_id == self.salesperson),
            "the salesperson is told, by the same code as acquiring",
        )

    def test_partial_transfer_leaves_the_deal_partially_paid(self):
        invoice = self._invoice(10000.0)
        self._incoming(4000.0, f"Частичная оплата по счету {invoice.name}", inn='7707083893')
        self.assertEqual(invoice.payment_state, 'partial')
        self.assertEqual(self.lead.bank_crm_payment_state, 'partial')
        self.assertAlmostEqual(self.lead.bank_crm_amount_due, 6000.0)

    def test_amount_and_inn_only_is_proposed_then_confirmed_in_one_click(self):
        invoice = self._invoice(777.77)
        other = self._invoice(777.77)  # the same customer owes the same amount twice: ambiguous
        line = self._incoming(777.77, "Оплата за товар", inn='7707083893')
        self.assertFalse(line.is_reconciled)
        self.assertEqual(line.bank_crm_match_state, 'proposed')
        self.assertEqual(set(line.bank_crm_proposal_ids.invoice_id.ids), {invoice.id, other.id})
        line.bank_crm_proposal_ids.filtered(lambda p: p.invoice_id == invoice).action_confirm()
        self.assertTrue(line.is_reconciled)
        self.assertEqual(invoice.payment_state, 'paid')
        self.assertEqual(other.payment_state, 'not_paid')
        self.assertFalse(line.bank_crm_proposal_ids)

    def test_look_alike_number_is_not_matched_automatically(self):
        invoice = self._invoice(5000.0)
        sequence = int(invoice.name.rsplit('/', 1)[-1])
        line = self._incoming(5000.0, f"Оплата по счету № {sequence}0 от 01.03.2026")  # 00010 vs 00001
        self.assertFalse(line.is_reconciled)
        self.assertEqual(invoice.payment_state, 'not_paid')

    def test_acquiring_payout_is_never_matched_to_an_invoice(self):
        self._invoice(9500.0)
        line = self._incoming(
            9500.0,
            "Перечисление средств по операциям эквайринга за 09.03.2026. Комиссия 285,00 руб.",
            inn='7710140679',
            name="АО «ТБанк»",
        )
        self.assertEqual(line.bank_crm_match_state, 'payout')
        self.assertFalse(line.is_reconciled)
        self.assertEqual(line.bank_crm_acquiring_fee, 285.0)

    def test_payer_recognised_by_account_and_unknown_payer_becomes_a_partner(self):
        line = self._incoming(100.0, "Оплата", account='40702810900000000777')
        self.assertEqual(line.partner_id, self.partner)
        unknown = self._incoming(
            250.0, "Оплата по договору 5", inn='500100732259', account='40802810000000000001', name="ИП Сидоров"
        )
        self.assertFalse(unknown.partner_id)
        unknown.action_bank_crm_create_partner()
        self.assertEqual(unknown.partner_id.vat, '500100732259')
        self.assertEqual(unknown.partner_id.bank_ids.acc_number, '40802810000000000001')

    def _match_queries(self, lines):
        """The queries matching `lines` takes, the cache emptied first."""
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        lines._bank_crm_match()
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def test_matching_reads_invoices_in_constant_queries(self):
        for index in range(5):
            self._invoice(100.0 + index)
        lines = (
            self.env['account.bank.statement.line']
            .with_context(bank_crm_no_matching=True)
            .create(
                [
                    {
                        'journal_id': self.bank_journal.id,
                        'date': '2026-03-10',
                        'amount': 50.0 + index,
                        'payment_ref': f"Оплата {index}",
                    }
                    for index in range(40)
                ]
            )
        )

        # 30 more transactions: not a query each, nor one for every three
        few, many = self._match_queries(lines[:10]), self._match_queries(lines)
        self.assertLess(many - few, 10, f"10 lines: {few} queries, 40 lines: {many}")

    def _incoming_batch(self, values):
        return (
            self.env['account.bank.statement.line']
            .with_context(bank_crm_no_matching=True)
            .create([{'journal_id': self.bank_journal.id, 'date': '2026-03-10', **vals} for vals in values])
        )

    def test_sure_matches_are_reconciled_in_constant_queries(self):
        """Reconciling 30 transactions costs about what reconciling 3 does: the journal items,
        the reconciliation and the chatter of the entries and invoices are written in one go."""
        invoices = self.env['account.move']
        for index in range(33):
            invoices |= self._invoice(1000.0 + index, lead=self.env['crm.lead'])
        lines = self._incoming_batch(
            [
                {
                    'amount': invoice.amount_total,
                    'payment_ref': f"Оплата по счету {invoice.name}",
                    'partner_id': self.partner.id,
                }
                for invoice in invoices
            ]
        )

        few, many = self._match_queries(lines[:3]), self._match_queries(lines[3:])
        self.assertTrue(all(lines.mapped('is_reconciled')))
        self.assertEqual(set(invoices.mapped('payment_state')), {'paid'})
        self.assertLess(many - few, 9, f"3 lines: {few} queries, 30 lines: {many}")

    def test_batch_writes_the_chatter_odoo_would(self):
        """The bank entry notes its journal items created and deleted, the invoice notes the
        transfer that paid it with its payment status, as Odoo's own reconciliation would;
        nothing twice once the transaction commits."""
        invoice = self._invoice(2500.0)
        self.env = self.env(context=dict(self.env.context, **TRACKING_ON))
        line = self._incoming(2500.0, f"Оплата по счету {invoice.name}", inn='7707083893')
        self.assertTrue(line.is_reconciled)
        self.env.cr.precommit.run()  # Odoo's tracking at commit: it must not add its own payment status note
        self.env.invalidate_all()
        notes = invoice.message_ids.filtered(lambda m: m.tracking_value_ids.field_id.name == 'payment_state')
        self.assertEqual(len(notes), 1, "the payment status is noted once")
        self.assertIn("received on", notes.body)
        self.assertIn(line.payment_ref, notes.body)
        self.assertIn(self.bank_journal.display_name, notes.body)
        self.assertEqual(notes.subtype_id, self.env.ref('account.mt_invoice_paid'))
        self.assertEqual(
            (notes.tracking_value_ids.old_value_char, notes.tracking_value_ids.new_value_char), ("Not Paid", "Paid")
        )
        entry_notes = line.move_id.message_ids
        created = entry_notes.filtered(lambda m: "created" in m.body)
        deleted = entry_notes.filtered(lambda m: "deleted" in m.body)
        self.assertEqual(len(created), 1)
        self.assertEqual(len(deleted), 1)
        receivable = line.move_id.line_ids.filtered(lambda l: l.account_id.account_type == 'asset_receivable')
        self.assertIn(f"#{receivable.id}", created.body)
        self.assertIn('balance', created.tracking_value_ids.field_id.mapped('name'))
        self.assertEqual(
            created.tracking_value_ids.filtered(lambda t: t.field_id.name == 'balance').new_value_float, -2500.0
        )
        self.assertEqual(
            deleted.tracking_value_ids.filtered(lambda t: t.field_id.name == 'balance').old_value_float, -2500.0
        )

    def test_followers_of_paid_invoices_are_notified(self):
        """Someone who follows the invoice's "Paid" subtype is notified, as with Odoo's tracking."""
        invoice = self._invoice(3100.0)
        follower = self.users['manager'].partner_id
        invoice.message_subscribe(partner_ids=follower.ids, subtype_ids=self.env.ref('account.mt_invoice_paid').ids)
        self.env = self.env(context=dict(self.env.context, **TRACKING_ON))
        self._incoming(3100.0, f"Оплата по счету {invoice.name}", inn='7707083893')
        self.assertEqual(invoice.payment_state, 'paid')
        note = invoice.message_ids.filtered(lambda m: m.subtype_id == self.env.ref('account.mt_invoice_paid'))
        self.assertEqual(len(note), 1)
        self.assertIn(follower, note.notification_ids.res_partner_id)

    def test_payout_fees_are_booked_together(self):
        fee_account = self.env['account.account'].create(
            {'name': "Acquiring fees", 'code': '919191', 'account_type': 'expense'}
        )
        self.env.company.bank_crm_acquiring_fee_account_id = fee_account
        lines = self._incoming_batch(
            [
                {
                    'amount': 9000.0 + index,
                    'bank_crm_counterparty_inn': '7710140679',
                    'partner_name': "АО «ТБанк»",
                    'payment_ref': f"Перечисление средств по операциям эквайринга за {index % 28 + 1:02d}.03.2026. "
                    f"Комиссия {100 + index},00 руб.",
                }
                for index in range(33)
            ]
        )
        few, many = self._match_queries(lines[:3]), self._match_queries(lines[3:])
        self.assertLess(many - few, 9, f"3 payouts: {few} queries, 30 payouts: {many}")
        self.assertEqual(set(lines.mapped('bank_crm_match_state')), {'payout'})
        for index, line in enumerate(lines):
            fee = line.move_id.line_ids.filtered(lambda l: l.account_id == fee_account)
            self.assertEqual(fee.balance, 100.0 + index)
            self.assertIn("Acquiring payout: fee of", ' '.join(line.move_id.message_ids.mapped('body')))
        self.assertFalse(self.env['account.move']._get_unbalanced_moves({'records': lines.move_id}))

    def test_deals_are_told_in_one_go(self):
        """A statement paying invoices of many deals: each deal gets one note (with the payment
        state it changed, noted once) and its salesperson one activity, all written together."""
        leads = self.env['crm.lead'].create(
            [
                {
                    'name': f"Deal {index}",
                    'type': 'opportunity',
                    'partner_id': self.partner.id,
                    'user_id': self.salesperson.id,
                }
                for index in range(12)
            ]
        )
        invoices = [self._invoice(500.0 + index, lead=lead) for index, lead in enumerate(leads)]
        lines = self._incoming_batch(
            [
                {
                    'amount': invoice.amount_total,
                    'partner_id': self.partner.id,
                    'payment_ref': f"Оплата по счету {invoice.name}",
                }
                for invoice in invoices
            ]
        )
        lines.with_context(**TRACKING_ON)._bank_crm_match()
        self.env.cr.precommit.run()
        self.env.invalidate_all()
        self.assertEqual(set(leads.mapped('bank_crm_payment_state')), {'paid'})
        for lead, invoice in zip(leads, invoices):
            notes = lead.message_ids.filtered(lambda m: invoice.name in (m.body or ''))
            self.assertEqual(len(notes), 1)
            self.assertIn("the deal is paid in full", notes.body)
            self.assertEqual(
                notes.tracking_value_ids.filtered(lambda t: t.field_id.name == 'bank_crm_payment_state').new_value_char,
                "Paid",
            )
            self.assertEqual(len(lead.activity_ids.filtered(lambda a: a.user_id == self.salesperson)), 1)
            self.assertEqual(lead.bank_crm_paid_date, fields.Date.context_today(lead))
        payment_state_notes = leads.message_ids.filtered(
            lambda m: 'bank_crm_payment_state' in m.tracking_value_ids.field_id.mapped('name')
        )
        self.assertEqual(len(payment_state_notes), 12, "the payment state is noted once a deal")

    def test_payer_named_by_the_invoice_is_recognised_when_the_line_is_created(self):
        """A transfer surely paying an invoice, from a payer unknown by INN and account, is
        created with the customer (its entry is not rewritten afterwards); a line created
        before, matched later, gets the customer from the matching."""
        other = self.env['res.partner'].create({'name': "ООО «Лютик»", 'is_company': True})
        invoice, later = self._invoice(4321.0, partner=other), self._invoice(1234.0, partner=other)
        line = self._incoming_batch([{'amount': 4321.0, 'payment_ref': f"Оплата по счету {invoice.name}"}])
        self.assertEqual(line.partner_id, other)
        self.assertEqual(line.move_id.partner_id, other)
        self.assertFalse(line.is_reconciled, "matching is off here: only the payer is recognised")
        untouched = (
            self.env['account.bank.statement.line']
            .with_context(bank_crm_no_matching=True, bank_crm_no_payer_recognition=True)
            .create(
                {
                    'journal_id': self.bank_journal.id,
                    'date': '2026-03-10',
                    'amount': 1234.0,
                    'payment_ref': f"Оплата по счету {later.name}",
                }
            )
        )
        self.assertFalse(untouched.partner_id)
        untouched._bank_crm_match()
        self.assertTrue(untouched.is_reconciled)
        self.assertEqual(untouched.partner_id, other)
        self.assertEqual(later.payment_state, 'paid')
