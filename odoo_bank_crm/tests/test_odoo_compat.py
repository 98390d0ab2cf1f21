"""Pins the Odoo behaviour that models/odoo_compat.py relies on."""

from contextlib import contextmanager

from markupsafe import Markup

from odoo import SUPERUSER_ID, api, sql_db
from odoo.tests import HttpCase, TransactionCase, tagged

from ..models.odoo_compat import (
    can_commit,
    create_payments,
    link_payment_entries,
    message_post_batch,
    payment_entry_link_batchable,
    trigger_cron_now,
)
from .tbank_common import TBankCommon


@tagged('post_install', '-at_install')
class TestCanCommit(TransactionCase):
    def test_a_test_cursor_refuses_commits(self):
        """Odoo's TransactionCase replaces its cursor's commit on the instance (by one
        that raises): the guard sees it, whatever runs the test."""
        self.assertIsInstance(self.env.cr, sql_db.Cursor)
        self.assertIn('commit', vars(self.env.cr))
        with self.assertRaises(AssertionError):
            self.env.cr.commit()  # pylint: disable=invalid-commit
        self.assertFalse(can_commit(self.env))

    def test_a_job_cursor_commits(self):
        """A cursor of the registry's own, as a cron job or a request gets outside tests."""
        with self.registry.cursor() as cr:
            self.assertIs(type(cr), sql_db.Cursor)
            self.assertTrue(can_commit(api.Environment(cr, self.env.uid, {})))
            cr.rollback()


@tagged('post_install', '-at_install')
class TestCanCommitInTestMode(HttpCase):
    def test_a_registry_in_test_mode_hands_out_test_cursors(self):
        """HttpCase puts the registry in test mode: requests and jobs get a TestCursor,
        whose commit only moves a savepoint; the guard refuses it too."""
        with self.registry.cursor() as cr:
            self.assertIsInstance(cr, sql_db.TestCursor)
            self.assertNotIsInstance(cr, sql_db.Cursor)
            self.assertFalse(can_commit(api.Environment(cr, self.env.uid, {})))


@tagged('post_install', '-at_install')
class TestCronTriggers(TransactionCase):
    """`trigger_cron_now` against Odoo's `ir.cron`: its triggers outlive the run that
    could have missed the work they announce."""

    XMLID = 'payment.cron_post_process_payment_tx'

    def _triggers(self):
        cron = self.env.ref(self.XMLID)
        self.env.cr.execute("SELECT id, call_at FROM ir_cron_trigger WHERE cron_id = %s ORDER BY id", [cron.id])
        return self.env.cr.fetchall()

    def _job(self):
        """The job as `ir.cron._acquire_one_job` hands it to `_process_job`."""
        self.env.cr.execute(
            """
            SELECT id, cron_name, nextcall, interval_type, interval_number
              FROM ir_cron WHERE id = %s
            """,
            [self.env.ref(self.XMLID).id],
        )
        job = self.env.cr.dictfetchone()
        job['cron_name'] = str(job['cron_name'])
        return job

    def test_a_trigger_row_due_now_and_a_wake_up_after_the_commit(self):
        before = self._triggers()
        trigger_cron_now(self.env, self.XMLID)
        added = self._triggers()[len(before) :]
        self.assertEqual(len(added), 1)
        self.env.cr.execute("SELECT now() AT TIME ZONE 'UTC'")
        self.assertEqual(added[0][1], self.env.cr.fetchone()[0], "due at once")
        self.assertTrue(self.env.cr.postcommit._funcs, "the cron workers are woken up after the commit")

    def test_a_trigger_committed_during_a_run_outlives_it(self):
        """What the booking jobs rely on when they trigger themselves, or a request triggers
        them, while they run: Odoo's `_reschedule_later` (the end of a run) deletes the
        job's triggers due by then as its cursor's snapshot sees them; one committed after
        that snapshot (taken before the run) survives, and the job runs again."""
        cron = self.env.ref(self.XMLID)
        self.env.cr.execute(
            """
            INSERT INTO ir_cron_trigger (cron_id, call_at)
            VALUES (%s, now() AT TIME ZONE 'UTC' - interval '1 second') RETURNING id
            """,
            [cron.id],
        )
        seen = self.env.cr.fetchone()[0]  # due before the run, seen by it: deleted at its end
        with self.registry.cursor() as cr:  # another transaction, committed during the "run"
            trigger_cron_now(api.Environment(cr, SUPERUSER_ID, {}), self.XMLID)
            cr.execute("SELECT max(id) FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])
            committed = cr.fetchone()[0]
        self.addCleanup(self._delete_committed_trigger, committed)
        self.env['ir.cron']._reschedule_later(self._job())
        self.assertNotIn(seen, [row[0] for row in self._triggers()])
        with self.registry.cursor() as cr:
            cr.execute("SELECT id FROM ir_cron_trigger WHERE id = %s", [committed])
            self.assertTrue(cr.fetchone(), "the trigger committed after the run's snapshot is kept")

    def _delete_committed_trigger(self, trigger_id):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM ir_cron_trigger WHERE id = %s", [trigger_id])


# === Booking T-Bank payments in batches (docs/booking.md) === #

PAYMENT_FIELDS = [
    'amount',
    'payment_type',
    'partner_type',
    'currency_id',
    'partner_id',
    'journal_id',
    'company_id',
    'payment_method_line_id',
    'payment_token_id',
    'destination_account_id',
    'outstanding_account_id',
    'state',
    'date',
]
MOVE_FIELDS = ['move_type', 'state', 'date', 'journal_id', 'company_id', 'partner_id', 'currency_id', 'partner_bank_id']
LINE_FIELDS = [
    'account_id',
    'partner_id',
    'currency_id',
    'debit',
    'credit',
    'balance',
    'amount_currency',
    'date',
    'date_maturity',
    'display_type',
]


@tagged('post_install', '-at_install')
class TestCreatePayments(TBankCommon):
    """`create_payments` against account's `account.payment.create` called as account_payment's
    `_create_payment` calls it: the same payments, entries and journal items, the entries
    created in one `account.move.create`."""

    def _payment_values(self, count):
        values = []
        for index in range(count):
            invoice = self._create_invoice(amount=1000 + index)
            tx = self._create_invoice_tx(invoice, payment_id=str(8_000_000 + index))
            values.append(tx._bank_crm_payment_values())
        return values

    @contextmanager
    def _entry_inserts(self):
        """The `INSERT INTO account_move` queries run inside (Odoo's own query recorder)."""
        queries = []
        with contextmanager(self._patchExecute)(queries):
            inserts = []
            yield inserts
        inserts += [query for query in queries if query.lstrip().upper().startswith('INSERT INTO "ACCOUNT_MOVE"')]

    def _records(self, payment):
        move = payment.move_id
        lines = move.line_ids.sorted(lambda line: (line.account_id.id, line.debit))
        memo = payment.memo
        return {
            'payment': {**payment.read(PAYMENT_FIELDS)[0], 'id': 0},
            'move': {**move.read(MOVE_FIELDS)[0], 'id': 0},
            'entry of the payment': (move.origin_payment_id == payment, move.ref == memo),
            'invoices': payment.invoice_ids == payment.payment_transaction_id.invoice_ids,
            'lines': [{**line.read(LINE_FIELDS)[0], 'id': 0} for line in lines],
            'line names': [line.name.replace(memo, '<memo>') for line in lines],
        }

    def test_same_entries_as_account_create_in_one_go(self):
        odoo_values, batch_values = self._payment_values(3), self._payment_values(3)
        self.assertTrue(all(values['write_off_line_vals'] == [] for values in odoo_values + batch_values))
        with self._entry_inserts() as odoo_inserts:
            odoo_payments = self.env['account.payment'].create(odoo_values)
        with self._entry_inserts() as batch_inserts:
            batch_payments = create_payments(self.env, batch_values)
        self.assertEqual(len(odoo_inserts), 3, "account's create: an entry created per payment")
        self.assertEqual(len(batch_inserts), 1, "all the entries in one create")
        self.assertEqual(batch_payments.payment_transaction_id.ids, [v['payment_transaction_id'] for v in batch_values])
        for stage in ('created', 'posted'):
            for odoo_payment, batch_payment in zip(odoo_payments, batch_payments, strict=True):
                self.assertTrue(batch_payment.move_id, stage)
                expected, got = self._records(odoo_payment), self._records(batch_payment)
                for key, value in expected.items():
                    self.assertEqual(got[key], value, f"{stage}: {key}")
            odoo_payments.action_post()
            batch_payments.action_post()
            self.env.flush_all()

    def test_refuses_write_offs(self):
        values = self._payment_values(1)[0]
        values['write_off_line_vals'] = [{'name': "Write-off", 'amount_currency': 1.0, 'balance': 1.0}]
        with self.assertRaises(ValueError):
            create_payments(self.env, [values])


MESSAGE_FIELDS = [
    'body',
    'message_type',
    'subtype_id',
    'author_id',
    'author_guest_id',
    'email_from',
    'record_name',
    'model',
    'reply_to',
    'record_alias_domain_id',
    'record_company_id',
    'email_add_signature',
    'subject',
    'partner_ids',
    'attachment_ids',
    'is_internal',
]


@tagged('post_install', '-at_install')
class TestMessagePostBatch(TBankCommon):
    """`message_post_batch` against mail's `message_post`: the same messages, parents,
    notifications and followers, for records with and without messages, followed or not."""

    def _deals(self):
        # no creation message: the first post on each is its thread's first message
        deals = (
            self.env['crm.lead']
            .with_context(mail_create_nolog=True, mail_create_nosubscribe=True)
            .create([{'name': f"Deal {index}", 'type': 'opportunity'} for index in range(3)])
        )
        # a follower of the notes of the second deal (an employee: notes are internal) is notified of them
        deals[1].message_subscribe(
            partner_ids=self.env.ref('base.user_admin').partner_id.ids, subtype_ids=self.env.ref('mail.mt_note').ids
        )
        # the third has a message already
        deals[2].message_post(body="Earlier")
        return deals

    def _posts(self, deals):
        other_author = self.salesperson.partner_id.id
        return [
            (deals[0], Markup("<p>First</p>"), self.env.user.partner_id.id),
            (deals[1], "Followed & <escaped>", other_author),
            (deals[0], "Second", other_author),
            (deals[2], Markup("Third <b>bold</b>"), self.env.user.partner_id.id),
            (deals[2], "Fourth", self.partner.id),
        ]

    def _thread(self, deal):
        messages = deal.message_ids.sorted('id')
        return {
            'messages': [
                {
                    **message.read(MESSAGE_FIELDS)[0],
                    'id': 0,
                    'res_id': message.res_id == deal.id,
                    'parent': messages.ids.index(message.parent_id.id) if message.parent_id else False,
                    'notified': message.notification_ids.mapped(lambda n: (n.res_partner_id, n.notification_type)),
                }
                for message in messages
            ],
            'followers': deal.message_follower_ids.mapped(lambda f: (f.partner_id, f.subtype_ids)),
        }

    def test_same_messages_as_message_post(self):
        odoo_deals, batch_deals = self._deals(), self._deals()
        odoo_messages = self.env['mail.message']
        for record, body, author_id in self._posts(odoo_deals):
            odoo_messages += record.message_post(body=body, author_id=author_id)
        batch_messages = message_post_batch(self._posts(batch_deals))
        self.assertEqual(len(batch_messages), len(odoo_messages))
        self.assertEqual(
            [(m.res_id, str(m.body)) for m in batch_messages],
            [
                (deal.id, str(m.body))
                for deal, m in zip([batch_deals[i] for i in (0, 1, 0, 2, 2)], odoo_messages, strict=True)
            ],
            "returned in the order of the posts",
        )
        self.env.flush_all()
        for odoo_deal, batch_deal in zip(odoo_deals, batch_deals, strict=True):
            expected, got = self._thread(odoo_deal), self._thread(batch_deal)
            self.assertEqual(got, expected)
        self.assertTrue(self._thread(batch_deals[1])['messages'][-1]['notified'], "the follower is notified")

    def test_one_model_at_a_time(self):
        with self.assertRaises(ValueError):
            message_post_batch([(self.lead, "A", False), (self.partner, "B", False)])


# === Booking round 3 (issue #16 §1): the payments' entries linked together === #


@tagged('post_install', '-at_install')
class TestLinkPaymentEntries(TBankCommon):
    """`link_payment_entries` against account's `_generate_journal_entry`, which writes each
    payment's entry on it with a `write` of its own: the same payments (with their
    `write_uid` and computed states) and the same messages. (Odoo logs no tracking
    message for a payment created and linked in the same transaction, so the messages
    compared here are both empty; what matters is that they stay equal.)"""

    _payment_values = TestCreatePayments._payment_values

    def test_account_payment_write_is_odoos(self):
        """The installed modules' `account.payment.write` is base's, mail's and account's:
        the batched link runs (else `link_payment_entries` writes one by one)."""
        self.assertTrue(payment_entry_link_batchable(self.env))

    def test_same_payments_and_tracking_as_account(self):
        tracked = self.env(context=dict(self.env.context, tracking_disable=False, mail_notrack=False))
        self.env = tracked
        odoo_values, batch_values = self._payment_values(3), self._payment_values(3)
        odoo_payments = tracked['account.payment'].create(odoo_values)
        batch_payments = create_payments(tracked, batch_values)
        for payments in (odoo_payments, batch_payments):
            payments.action_post()
        self.env.flush_all()
        self.env.cr.precommit.run()  # the tracking messages, as the commit writes them
        self.env.invalidate_all()

        def tracking(payment):
            return [
                (
                    message.message_type,
                    message.subtype_id,
                    [
                        (value.field_id.name, value.old_value_char, value.new_value_char)
                        for value in message.tracking_value_ids.sorted('id')
                    ],
                )
                for message in payment.message_ids.sorted('id')
            ]

        for odoo_payment, batch_payment in zip(odoo_payments, batch_payments, strict=True):
            self.assertEqual(batch_payment.move_id.origin_payment_id, batch_payment)
            self.assertEqual(
                (batch_payment.state, batch_payment.write_uid, batch_payment.is_reconciled, batch_payment.is_matched),
                (odoo_payment.state, odoo_payment.write_uid, odoo_payment.is_reconciled, odoo_payment.is_matched),
            )
            self.assertEqual(tracking(batch_payment), tracking(odoo_payment))

    def test_one_entry_per_payment(self):
        payments = self.env['account.payment'].create(self._payment_values(2))
        with self.assertRaises(ValueError):
            link_payment_entries(payments, payments.move_id[:1])
