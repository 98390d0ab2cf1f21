from odoo import Command
from odoo.tests import tagged

from .common import BankCrmCommon


@tagged('post_install', '-at_install')
class TestBankMatching(BankCrmCommon):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner.write({'vat': '7707083893', 'bank_ids': [Command.create({'acc_number': '40702810900000000777'})]})
        cls.salesperson = cls.users['user']
        cls.lead = cls.env['crm.lead'].create({'name': "Supply", 'type': 'opportunity', 'partner_id': cls.partner.id,
                                               'user_id': cls.salesperson.id})
        cls.currency = cls.env.company.currency_id

    def _invoice(self, amount, lead=None, partner=None):
        invoice = self.env['account.move'].create({
            'move_type': 'out_invoice', 'partner_id': (partner or self.partner).id,
            'bank_crm_lead_id': (lead or self.lead).id,
            'invoice_line_ids': [Command.create({'name': "Goods", 'quantity': 1, 'price_unit': amount,
                                                 'tax_ids': [Command.clear()]})],
        })
        invoice.action_post()
        return invoice

    def _incoming(self, amount, purpose, inn=None, account=None, name=None):
        return self.env['account.bank.statement.line'].create({
            'journal_id': self.bank_journal.id, 'date': '2026-03-10', 'amount': amount, 'payment_ref': purpose,
            'bank_crm_counterparty_inn': inn, 'account_number': account, 'partner_name': name,
        })

    def test_transfer_with_the_invoice_number_is_reconciled(self):
        invoice = self._invoice(15000.0)
        number = invoice.name
        line = self._incoming(15000.0, f"Оплата по счету №{number.replace('/', ' / ')} от 01.03.2026, НДС не облагается",
                              inn='7707083893')
        self.assertTrue(line.is_reconciled)
        self.assertEqual(line.bank_crm_match_state, 'matched')
        self.assertEqual(invoice.payment_state, 'paid')
        self.assertEqual(self.lead.bank_crm_payment_state, 'paid')
        self.assertEqual(line.bank_crm_lead_id, self.lead)
        self.assertTrue(self.lead.activity_ids.filtered(lambda a: a.user_id == self.salesperson),
                        "the salesperson is told, by the same code as acquiring")

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
        line = self._incoming(9500.0, "Перечисление средств по операциям эквайринга за 09.03.2026. "
                                      "Комиссия 285,00 руб.", inn='7710140679', name="АО «ТБанк»")
        self.assertEqual(line.bank_crm_match_state, 'payout')
        self.assertFalse(line.is_reconciled)
        self.assertEqual(line.bank_crm_acquiring_fee, 285.0)

    def test_payer_recognised_by_account_and_unknown_payer_becomes_a_partner(self):
        line = self._incoming(100.0, "Оплата", account='40702810900000000777')
        self.assertEqual(line.partner_id, self.partner)
        unknown = self._incoming(250.0, "Оплата по договору 5", inn='500100732259', account='40802810000000000001',
                                 name="ИП Сидоров")
        self.assertFalse(unknown.partner_id)
        unknown.action_bank_crm_create_partner()
        self.assertEqual(unknown.partner_id.vat, '500100732259')
        self.assertEqual(unknown.partner_id.bank_ids.acc_number, '40802810000000000001')

    def test_matching_reads_invoices_in_constant_queries(self):
        for index in range(5):
            self._invoice(100.0 + index)
        lines = self.env['account.bank.statement.line'].with_context(bank_crm_no_matching=True).create([{
            'journal_id': self.bank_journal.id, 'date': '2026-03-10', 'amount': 50.0 + index,
            'payment_ref': f"Оплата {index}"} for index in range(40)])

        def queries(records):
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            records._bank_crm_match()
            self.env.flush_all()
            return self.env.cr.sql_log_count - before

        # 30 more transactions must not cost a query each
        self.assertLess(queries(lines) - queries(lines[:10]), 30)
