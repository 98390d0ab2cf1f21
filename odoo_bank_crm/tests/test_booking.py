import html
import re

from odoo import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .tbank_common import TBankCommon

LOGGER = 'odoo.addons.odoo_bank_crm.models.payment_transaction'
PAYMENT_FIELDS = [
    'amount',
    'payment_type',
    'currency_id',
    'partner_id',
    'partner_type',
    'journal_id',
    'company_id',
    'payment_method_line_id',
    'payment_token_id',
    'state',
    'date',
    'is_reconciled',
    'is_matched',
    'destination_account_id',
    'outstanding_account_id',
]
LINE_FIELDS = [
    'account_id',
    'partner_id',
    'currency_id',
    'debit',
    'credit',
    'balance',
    'amount_currency',
    'amount_residual',
    'reconciled',
    'date',
    'date_maturity',
    'display_type',
]


@tagged('post_install', '-at_install')
class TestBooking(TBankCommon):
    """The post-processing job books done T-Bank transactions in batches, writing what
    Odoo's own post-processing writes one transaction at a time (docs/booking.md)."""

    def _paid_tx(self, index, amount=1000):
        """A deal with a posted invoice and a transaction the bank confirmed, as the webhook
        leaves it: done, its messages deferred, not post-processed."""
        lead = self.env['crm.lead'].create(
            {
                'name': f"Deal {index}",
                'type': 'opportunity',
                'partner_id': self.partner.id,
                'user_id': self.salesperson.id,
            }
        )
        invoice = self._create_invoice(amount=amount, lead=lead)
        tx = self._create_invoice_tx(invoice, payment_id=str(9_000_000 + index))
        tx.with_context(bank_crm_defer_post_process=True)._handle_notification_data(
            'tbank', self._notification(tx, 'CONFIRMED')
        )
        self.assertEqual((tx.state, tx.is_post_processed), ('done', False))
        return tx

    def _book(self):
        self.env['payment.transaction']._bank_crm_book_pending()
        self._flush_tracking()

    def _flush_tracking(self):
        """What the commit runs: the tracking messages Odoo prepared."""
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.invalidate_all()

    @staticmethod
    def _normalise(text, tx):
        """A message's text with what differs between two transactions' records (names,
        references, ids) replaced by placeholders."""
        text = str(text or '')
        payment, invoice = tx.payment_id, tx.invoice_ids
        for value, placeholder in (
            (tx.reference, '<ref>'),
            (tx.provider_reference, '<payment-id>'),
            (payment.name, '<payment>'),
            (invoice.name, '<invoice>'),
            (invoice.bank_crm_lead_id.name, '<deal>'),
        ):
            text = text.replace(value, placeholder)
        return re.sub(r'(data-oe-id="|/|#)\d+', r'\1<id>', text)

    def _messages(self, record, tx):
        return [
            (
                self._normalise(message.body, tx),
                message.message_type,
                message.subtype_id,
                message.author_id,
                [
                    (value.field_id.name, value.old_value_char, value.new_value_char, value.new_value_float)
                    for value in message.tracking_value_ids.sorted('id')
                ],
            )
            for message in record.message_ids.sorted('id')
        ]

    def _records(self, tx):
        """Everything the booking of `tx` wrote, comparable with another transaction's."""
        payment, invoice = tx.payment_id, tx.invoice_ids
        lead = invoice.bank_crm_lead_id
        lines = payment.move_id.line_ids.sorted(lambda line: (line.account_id.id, line.debit))
        partials = invoice.line_ids.matched_credit_ids
        return {
            'tx': (tx.state, tx.is_post_processed, tx.bank_crm_deferred_messages),
            'payment': payment.read(PAYMENT_FIELDS)[0] | {'id': 0},
            'memo': self._normalise(payment.memo, tx),
            'payment invoices': payment.invoice_ids == invoice,
            'reconciled invoices': payment.reconciled_invoice_ids == invoice,
            'move': (payment.move_id.state, payment.move_id.journal_id, payment.move_id.partner_id),
            'lines': [{**line.read(LINE_FIELDS)[0], 'id': 0} for line in lines],
            'line names': [self._normalise(line.name, tx) for line in lines],
            'partials': [
                (partial.amount, partial.debit_amount_currency, partial.credit_amount_currency) for partial in partials
            ],
            'partial lines': partials.credit_move_id == payment.move_id.line_ids.filtered('reconciled'),
            'invoice': (invoice.state, invoice.payment_state, invoice.amount_residual),
            'invoice messages': self._messages(invoice, tx),
            'payment messages': self._messages(payment, tx),
            'move messages': self._messages(payment.move_id, tx),
            'deal': (
                lead.bank_crm_payment_state,
                lead.bank_crm_amount_paid,
                lead.bank_crm_amount_due,
                lead.bank_crm_paid_date,
                lead.stage_id,
            ),
            'deal messages': self._messages(lead, tx),
            'activities': [
                (a.activity_type_id, a.summary, self._normalise(a.note, tx), a.user_id, a.date_deadline)
                for a in lead.activity_ids
            ],
        }

    def test_batch_writes_what_odoo_writes_one_by_one(self):
        odoo_txs = [self._paid_tx(index, amount=1000 + index) for index in range(3)]
        batch_txs = [self._paid_tx(10 + index, amount=1000 + index) for index in range(3)]
        # Odoo's own path: its job post-processes the transactions one at a time
        for tx in odoo_txs:
            tx._post_process()
        self._flush_tracking()
        self.assertTrue(all(tx.payment_id for tx in odoo_txs))
        self._book()
        for odoo_tx, batch_tx in zip(odoo_txs, batch_txs, strict=True):
            self.assertTrue(batch_tx.payment_id)
            self.assertNotEqual(batch_tx.payment_id, odoo_tx.payment_id)
            expected, booked = self._records(odoo_tx), self._records(batch_tx)
            for key, value in expected.items():
                self.assertEqual(booked[key], value, key)
        self.assertIn(batch_txs[0].invoice_ids.payment_state, ('paid', 'in_payment'))
        deal_notes = [message[0] for message in self._records(batch_txs[0])['deal messages']]
        self.assertTrue(any('<invoice>' in note for note in deal_notes), "the deal notes the payment")

    def test_one_failing_transaction_spares_the_others(self):
        good = [self._paid_tx(index) for index in range(2)]
        # a transaction whose draft invoice cannot be posted: Odoo's post-processing fails on it
        bad_invoice = self.env['account.move'].create(
            {'move_type': 'out_invoice', 'partner_id': self.partner.id, 'currency_id': self.currency_rub.id}
        )
        bad = self._create_transaction(
            'redirect',
            reference='BAD-1',
            amount=100,
            invoice_ids=[Command.set(bad_invoice.ids)],
            provider_reference='9100000',
        )
        bad.with_context(bank_crm_defer_post_process=True)._handle_notification_data(
            'tbank', self._notification(bad, 'CONFIRMED')
        )
        with self.assertLogs(LOGGER, 'ERROR') as logs:
            self._book()
        self.assertIn(bad.reference, logs.output[0])
        for tx in good:
            self.assertTrue(tx.is_post_processed)
            self.assertEqual(len(tx.payment_id), 1)
            self.assertIn(tx.invoice_ids.payment_state, ('paid', 'in_payment'))
        self.assertFalse(bad.is_post_processed, "left for the next run")
        self.assertFalse(bad.payment_id)
        self.assertEqual(self.env['account.payment'].search_count([('payment_transaction_id', '=', bad.id)]), 0)
        # once the invoice is fixed, the next run books it, and nothing else again
        bad_invoice.write(
            {
                'invoice_line_ids': [
                    Command.create({'name': "Fix", 'quantity': 1, 'price_unit': 100, 'tax_ids': [Command.clear()]})
                ]
            }
        )
        self._book()
        self.assertTrue(bad.is_post_processed)
        self.assertEqual(len(bad.payment_id), 1)
        self.assertIn(bad_invoice.payment_state, ('paid', 'in_payment'))
        txs = bad + good[0] + good[1]
        self.assertEqual(self.env['account.payment'].search_count([('payment_transaction_id', 'in', txs.ids)]), 3)

    def test_nothing_is_booked_twice(self):
        """Runs again, a redelivered notification, and a transaction already with a payment
        (a crash after the payment but before the flag) never give a second payment."""
        txs = [self._paid_tx(index) for index in range(3)]
        self._book()
        txs[0].with_context(bank_crm_defer_post_process=True)._handle_notification_data(
            'tbank', self._notification(txs[0], 'CONFIRMED')
        )
        txs[1].is_post_processed = False
        self._book()
        self._book()
        for tx in txs:
            self.assertTrue(tx.is_post_processed)
            self.assertEqual(self.env['account.payment'].search_count([('payment_transaction_id', '=', tx.id)]), 1)
            self.assertEqual(tx.invoice_ids.line_ids.matched_credit_ids.credit_move_id.payment_id, tx.payment_id)

    def test_batches_of_any_size(self):
        txs = [self._paid_tx(index) for index in range(5)]
        self.env['payment.transaction']._bank_crm_book_pending(batch_size=2)
        for tx in txs:
            self.assertEqual(len(tx.payment_id), 1)
            self.assertIn(tx.invoice_ids.payment_state, ('paid', 'in_payment'))

    def test_shared_invoice_takes_odoo_path(self):
        """Two transactions paying parts of one invoice are reconciled one after the other, as
        Odoo does: one is booked in the batch, the other by Odoo's own post-processing."""
        invoice = self._create_invoice(amount=1000)
        txs = self.env['payment.transaction']
        for index in range(2):
            tx = self._create_transaction(
                'redirect',
                reference=f"SHARED-{index}",
                amount=500,
                invoice_ids=[Command.set(invoice.ids)],
                provider_reference=str(9_200_000 + index),
            )
            tx.with_context(bank_crm_defer_post_process=True)._handle_notification_data(
                'tbank', self._notification(tx, 'CONFIRMED')
            )
            txs |= tx
        alone = self._paid_tx(1)
        self.assertEqual((txs + alone)._bank_crm_batchable(), alone)
        self._book()
        for tx in txs + alone:
            self.assertTrue(tx.is_post_processed)
            self.assertEqual(len(tx.payment_id), 1)
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(len(invoice.line_ids.matched_credit_ids), 2)

    @mute_logger(LOGGER)
    def test_locked_rows(self):
        """The lock the batch and `_post_process` take is on the transactions' rows."""
        txs = self._paid_tx(1) + self._paid_tx(2)
        self.assertEqual(txs._bank_crm_lock_rows(skip_locked=True), sorted(txs.ids))
        self.assertEqual(txs._bank_crm_lock_rows(), sorted(txs.ids))

    def test_invoice_messages_written_together(self):
        """Only payment and account_payment log on the linked documents here (no `sale`), so the
        batch writes the invoices' messages together; the comparison above pins their records."""
        self.assertTrue(self.env['payment.transaction']._bank_crm_linked_documents_batchable())
        txs = [self._paid_tx(index) for index in range(2)]
        self._book()
        for tx in txs:
            bodies = [str(message.body) for message in tx.invoice_ids.message_ids]
            self.assertTrue(any(tx.payment_id.name in body for body in bodies), "the payment posted message")

    def _notices(self, user, after_id):
        """The notifications `user` received after message `after_id` (as the superuser: only
        their recipients may read them)."""
        # sudo: a user notification is readable by its recipients only
        return (
            self.env['mail.message']
            .sudo()
            .search(
                [
                    ('id', '>', after_id),
                    ('message_type', '=', 'user_notification'),
                    ('partner_ids', 'in', user.partner_id.ids),
                ]
            )
        )

    def test_one_notice_per_salesperson_per_batch(self):
        """A batch paying 3 deals of one salesperson and 1 of another: 4 activities, and each
        salesperson told once, in their language, of every deal and amount (docs/booking.md)."""
        self.env['res.lang']._activate_lang('ru_RU')
        self.env['ir.module.module']._load_module_terms(['odoo_bank_crm'], ['ru_RU'], overwrite=True)
        self.salesperson.lang = 'ru_RU'
        other = self.salesperson.copy({'name': "Other Seller", 'login': 'tbank_other_seller', 'lang': 'en_US'})
        txs = [self._paid_tx(index, amount=1000 + index) for index in range(4)]
        lone = txs[3].invoice_ids.bank_crm_lead_id
        lone.user_id = other
        last_message = self.env['mail.message'].sudo().search([], order='id desc', limit=1).id  # sudo: all messages
        self._book()
        leads = [tx.invoice_ids.bank_crm_lead_id for tx in txs]
        activities = self.env['mail.activity'].search(
            [('res_model', '=', 'crm.lead'), ('res_id', 'in', [lead.id for lead in leads])]
        )
        self.assertEqual(len(activities), 4)
        self.assertEqual(activities.filtered(lambda a: a.res_id == lone.id).user_id, other)
        notice = self._notices(self.salesperson, last_message)
        self.assertEqual(len(notice), 1, "one notification for the salesperson's three deals")
        # in their language (its date format; the texts' Russian applies once the .pot, which
        # the Russian is merged with, is regenerated with them)
        self.assertEqual(
            notice.subject, self.env(context={'lang': 'ru_RU'})._("Payments received on %(count)s deals", count=3)
        )
        self.assertFalse(notice.model, "about several deals, not one")
        self.assertEqual(notice.notification_ids.res_partner_id, self.salesperson.partner_id)
        body = html.unescape(str(notice.body))
        for tx, lead in zip(txs[:3], leads[:3], strict=True):
            self.assertIn(lead.name, body)
            self.assertIn(tx.invoice_ids.name, body)
            self.assertIn(tx.invoice_ids.currency_id.format(tx.amount), body)
        self.assertIn(activities[0].date_deadline.strftime('%d.%m.%Y'), body, "Russian date format")
        self.assertNotIn(lone.name, body)
        # the other salesperson's single deal: Odoo's own notice of the activity, as before
        lone_notice = self._notices(other, last_message)
        self.assertEqual(len(lone_notice), 1)
        self.assertEqual((lone_notice.model, lone_notice.res_id), ('crm.lead', lone.id))
        self.assertIn("assigned to you", lone_notice.subject)
        self.assertIn(lone.name, lone_notice.subject)
        self.assertIn(txs[3].invoice_ids.currency_id.format(txs[3].amount), lone_notice.subject)

    def test_single_payment_tells_its_salesperson(self):
        tx = self._paid_tx(1, amount=1500)
        lead = tx.invoice_ids.bank_crm_lead_id
        last_message = self.env['mail.message'].sudo().search([], order='id desc', limit=1).id  # sudo: all messages
        tx._post_process()
        notice = self._notices(self.salesperson, last_message)
        self.assertEqual(len(notice), 1)
        self.assertEqual((notice.model, notice.res_id), ('crm.lead', lead.id))
        self.assertIn(lead.name, notice.subject)
        self.assertIn(tx.invoice_ids.currency_id.format(tx.amount), notice.subject)
        self.assertIn("has just assigned you the following activity", str(notice.body))
        self.assertEqual(lead.activity_ids.user_id, self.salesperson)
