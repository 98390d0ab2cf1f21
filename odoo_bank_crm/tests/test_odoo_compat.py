"""Pins the Odoo behaviour that models/odoo_compat.py relies on."""

import inspect
from contextlib import contextmanager

import polib
from markupsafe import Markup

from odoo import SUPERUSER_ID, Command, api, sql_db
from odoo.addons.base_automation.models.base_automation import BaseAutomation as OdooBaseAutomation
from odoo.exceptions import UserError
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools.misc import file_path

from ..models.ir_actions_server import AUTO_INVOICE_BATCH, AUTO_INVOICE_STATE
from ..models.odoo_compat import (
    PAYMENT_POSTED_MESSAGE,
    can_commit,
    create_payments,
    entry_items_model,
    link_payment_entries,
    log_notes_batch,
    message_post_batch,
    payment_entry_generation_is_accounts,
    payment_entry_link_batchable,
    payment_posted_message,
    reconcile_groups,
    rewrite_entry_items,
    statement_line_items,
    take_pending_tracking,
    trigger_cron_now,
)
from .common import BankCrmCommon
from .tbank_common import TBankCommon
from .test_auto_invoice_rule import AutoInvoiceCommon
from .test_money_rights import MoneyRightsCommon


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


# === Odoo's internals behind one door (#14 §3) === #


@tagged('post_install', '-at_install')
class TestStatementEntryItems(BankCrmCommon):
    """`statement_line_items`, `entry_items_model` and `rewrite_entry_items` against account's
    statement entries: the split of their items, and rewriting the items of a posted entry
    as the batched reconciliation does (bank_crm_matching.py)."""

    def _line(self, amount):
        """An incoming transaction nobody can be matched to (no partner, no invoice number)."""
        return self.env['account.bank.statement.line'].create(
            {'journal_id': self.bank_journal.id, 'date': '2026-03-10', 'amount': amount, 'payment_ref': "Возврат"}
        )

    def _invoice(self, amount):
        invoice = self.env['account.move'].create(
            {
                'move_type': 'out_invoice',
                'partner_id': self.partner.id,
                'invoice_line_ids': [
                    Command.create({'name': "Goods", 'quantity': 1, 'price_unit': amount, 'tax_ids': [Command.clear()]})
                ],
            }
        )
        invoice.action_post()
        return invoice

    def test_a_new_line_has_a_liquidity_and_a_suspense_item(self):
        """`_seek_for_lines`: the liquidity item on the journal's account, the suspense item on
        its suspense account, nothing else until a reconciliation adds it."""
        line = self._line(500.0)
        liquidity, suspense, other = statement_line_items(line)
        self.assertEqual(line.move_id.state, 'posted')
        self.assertEqual((liquidity.account_id, liquidity.balance), (self.bank_journal.default_account_id, 500.0))
        self.assertEqual((suspense.account_id, suspense.balance), (self.bank_journal.suspense_account_id, -500.0))
        self.assertFalse(other)
        self.assertEqual(liquidity | suspense, line.move_id.line_ids)

    def test_the_suspense_item_becomes_a_receivable_reconciled_with_the_invoice(self):
        """The batched reconciliation's steps on one line: the suspense item replaced on the
        posted entry by the customer's receivable item, then reconciled with the invoice's;
        `_seek_for_lines` then counts the new item among the others, and account sees the
        line reconciled and the invoice paid."""
        invoice, line = self._invoice(500.0), self._line(500.0)
        _liquidity, suspense, _other = statement_line_items(line)
        receivable = invoice.line_ids.filtered(lambda l: l.account_id.account_type == 'asset_receivable')
        items_model = entry_items_model(self.env, line.company_id)
        self.assertEqual(
            {key: items_model.env.context.get(key) for key in ('skip_readonly_check', 'skip_invoice_sync')},
            {'skip_readonly_check': True, 'skip_invoice_sync': True},
        )
        created = rewrite_entry_items(
            line.move_id,
            items_model,
            create=[
                {
                    'move_id': line.move_id.id,
                    'name': invoice.name,
                    'account_id': receivable.account_id.id,
                    'partner_id': self.partner.id,
                    'balance': -500.0,
                    'amount_currency': -500.0,
                    'currency_id': line.currency_id.id,
                }
            ],
            delete=suspense,
        )
        self.assertEqual(line.move_id.state, 'posted')
        self.assertFalse(suspense.exists())
        _liquidity, suspense_after, other = statement_line_items(line)
        self.assertFalse(suspense_after)
        self.assertEqual(other, created)
        (created | receivable).reconcile()
        self.assertTrue(line.is_reconciled)
        self.assertEqual(invoice.payment_state, 'paid')

    def test_groups_are_reconciled_each_with_itself_in_one_plan(self):
        """`_reconcile_plan` given two groups: each receivable with its own payment item only."""
        items_model = entry_items_model(self.env, self.env.company)
        invoices, groups = [], []
        for amount in (200.0, 300.0):
            invoice, line = self._invoice(amount), self._line(amount)
            receivable = invoice.line_ids.filtered(lambda l: l.account_id.account_type == 'asset_receivable')
            created = rewrite_entry_items(
                line.move_id,
                items_model,
                create=[
                    {
                        'move_id': line.move_id.id,
                        'account_id': receivable.account_id.id,
                        'partner_id': self.partner.id,
                        'balance': -amount,
                        'amount_currency': -amount,
                        'currency_id': line.currency_id.id,
                    }
                ],
                delete=statement_line_items(line)[1],
            )
            invoices.append(invoice)
            groups.append(created | receivable)
        reconcile_groups(items_model, groups)
        for invoice, group in zip(invoices, groups, strict=True):
            self.assertEqual(invoice.payment_state, 'paid')
            created, receivable = group - invoice.line_ids, group & invoice.line_ids
            self.assertEqual(receivable.matched_credit_ids.credit_move_id, created)
            self.assertTrue(group.full_reconcile_id)
        self.assertNotEqual(groups[0].full_reconcile_id, groups[1].full_reconcile_id)

    def test_an_overpayment_stays_in_suspense(self):
        """Writing a posted entry's suspense item, with account's flag for it."""
        invoice, line = self._invoice(300.0), self._line(500.0)
        _liquidity, suspense, _other = statement_line_items(line)
        receivable = invoice.line_ids.filtered(lambda l: l.account_id.account_type == 'asset_receivable')
        rewrite_entry_items(
            line.move_id,
            entry_items_model(self.env, line.company_id),
            create=[
                {
                    'move_id': line.move_id.id,
                    'account_id': receivable.account_id.id,
                    'partner_id': self.partner.id,
                    'balance': -300.0,
                    'amount_currency': -300.0,
                    'currency_id': line.currency_id.id,
                }
            ],
            update=[(suspense, {'balance': -200.0, 'amount_currency': -200.0})],
        )
        self.assertEqual(statement_line_items(line)[1].balance, -200.0)
        self.assertFalse(self.env['account.move']._get_unbalanced_moves({'records': line.move_id}))

    def test_an_unbalanced_entry_is_refused_and_nothing_kept(self):
        """`_check_balanced` checks the entries once, when the block ends."""
        line = self._line(500.0)
        items = line.move_id.line_ids
        _liquidity, suspense, _other = statement_line_items(line)
        with self.assertRaises(UserError), self.env.cr.savepoint():
            rewrite_entry_items(line.move_id, entry_items_model(self.env, line.company_id), delete=suspense)
        self.env.invalidate_all()
        self.assertEqual(line.move_id.line_ids, items)

    def test_without_the_flags_account_refuses(self):
        """What the flags are for: account refuses to delete an item of a posted entry, or to
        change its amount, without them."""
        line = self._line(500.0)
        _liquidity, suspense, _other = statement_line_items(line)
        with self.assertRaises(UserError), self.env.cr.savepoint():
            suspense.unlink()
        with self.assertRaises(UserError), self.env.cr.savepoint():
            suspense.write({'balance': -200.0, 'amount_currency': -200.0})

    def test_no_exchange_difference_sought_without_cash_basis_taxes(self):
        company = self.env.company
        company.tax_exigibility = False
        self.assertTrue(entry_items_model(self.env, company).env.context.get('no_exchange_difference'))
        company.tax_exigibility = True
        self.assertFalse(entry_items_model(self.env, company).env.context.get('no_exchange_difference'))


@tagged('post_install', '-at_install')
class TestPendingTracking(BankCrmCommon):
    """`take_pending_tracking` against mail's tracking: where it keeps the initial values
    until the commit, and that a value taken is not posted."""

    def setUp(self):
        super().setUp()
        self.env = self.env(context=dict(self.env.context, tracking_disable=False, mail_notrack=False))
        self.lead = self.env['crm.lead'].create({'name': "Supply", 'type': 'opportunity', 'expected_revenue': 100.0})
        self._flush_tracking()

    def _flush_tracking(self):
        """What the commit does: mail's `_track_finalize` runs among the precommit hooks."""
        self.env.flush_all()
        self.env.cr.precommit.run()

    def test_initial_values_wait_in_precommit_data(self):
        self.lead.write({'expected_revenue': 250.0, 'user_id': self.users['user'].id})
        pending = self.env.cr.precommit.data[f'mail.tracking.{self.lead._name}']
        self.assertEqual(pending[self.lead.id]['expected_revenue'], 100.0)
        self.assertEqual(
            take_pending_tracking(self.lead, ['expected_revenue']), {self.lead.id: {'expected_revenue': 100.0}}
        )
        self.assertNotIn('expected_revenue', pending[self.lead.id], "taken over")
        Message = self.env['mail.message']
        domain = [('model', '=', self.lead._name), ('res_id', '=', self.lead.id)]
        messages = Message.search(domain)
        self._flush_tracking()
        posted = (Message.search(domain) - messages).tracking_value_ids.field_id.mapped('name')
        self.assertIn('user_id', posted, "the other fields are still tracked by mail")
        self.assertNotIn('expected_revenue', posted)

    def test_nothing_pending_nothing_taken(self):
        self.assertEqual(take_pending_tracking(self.lead, ['expected_revenue']), {})


@tagged('post_install', '-at_install')
class TestLogNotesBatch(BankCrmCommon):
    """`log_notes_batch` against mail's `_message_log`: the same messages and tracking values."""

    MESSAGE_FIELDS = (
        'author_id',
        'email_from',
        'model',
        'record_alias_domain_id',
        'record_company_id',
        'record_name',
        'body',
        'message_type',
        'is_internal',
        'subtype_id',
        'email_add_signature',
        'reply_to',
        'subject',
        'partner_ids',
        'attachment_ids',
        'parent_id',
    )
    TRACKING_FIELDS = ('field_id', 'old_value_float', 'new_value_float', 'old_value_char', 'new_value_char')

    def test_same_messages_as_message_log(self):
        Lead = self.env['crm.lead']
        leads = Lead.create([{'name': f"Deal {index}", 'type': 'opportunity'} for index in range(3)])
        leads.write({'expected_revenue': 900.0})
        fields_ = Lead.fields_get(['expected_revenue'], attributes=('string', 'type', 'selection', 'currency_field'))
        tracking = [lead._mail_track(fields_, {'expected_revenue': 0.0})[1] for lead in leads]
        self.assertTrue(all(tracking))
        body = Markup("Revenue <b>set</b>")
        reference = leads[0]._message_log(body=body, tracking_value_ids=tracking[0])
        before = self.env['mail.message'].search([]).ids
        log_notes_batch(Lead, [(lead, body, values, None) for lead, values in zip(leads[1:], tracking[1:])])
        batch = self.env['mail.message'].search([('id', 'not in', before)], order='id')
        self.assertEqual(batch.mapped('res_id'), leads[1:].ids)
        expected = reference.read(self.MESSAGE_FIELDS)[0]
        expected_tracking = reference.tracking_value_ids.read(self.TRACKING_FIELDS)
        for message in batch:
            self.assertEqual(
                {key: value for key, value in message.read(self.MESSAGE_FIELDS)[0].items() if key != 'id'},
                {key: value for key, value in expected.items() if key != 'id'},
            )
            self.assertEqual(
                [
                    {k: v for k, v in values.items() if k != 'id'}
                    for values in message.tracking_value_ids.read(self.TRACKING_FIELDS)
                ],
                [{k: v for k, v in values.items() if k != 'id'} for values in expected_tracking],
            )

    def test_a_followed_subtype_is_posted_and_notified(self):
        """A note whose subtype a follower of its record follows goes through `message_post`."""
        lead = self.env['crm.lead'].create({'name': "Deal", 'type': 'opportunity'})
        follower = self.env['res.partner'].create({'name': "Follower", 'email': 'follower@example.com'})
        subtype = self.env.ref('mail.mt_comment')
        lead.message_subscribe(follower.ids, subtype_ids=subtype.ids)
        log_notes_batch(lead, [(lead, Markup("Paid"), [], subtype)])
        message = lead.message_ids[0]
        self.assertEqual(message.subtype_id, subtype)
        self.assertIn(follower, message.notification_ids.res_partner_id | message.partner_ids)


@tagged('post_install', '-at_install')
class TestAutomationProcess(AutoInvoiceCommon):
    """What the override of `base.automation._process` (ir_actions_server.py) extends: its
    signature, and that Odoo runs each server action once per record, with the automation's
    context (where the override puts the batch the auto-invoice action gathers into)."""

    def test_signature(self):
        self.assertEqual(
            list(inspect.signature(OdooBaseAutomation._process).parameters), ['self', 'records', 'domain_post']
        )

    def test_actions_run_per_record_with_the_automation_context(self):
        rule = self._rule()
        automation = rule.automation_id
        action = automation.action_server_ids.filtered(lambda a: a.state == AUTO_INVOICE_STATE)
        self.assertEqual(len(action), 1)
        leads = self._leads((self.moscow, 1000.0), (self.kazan, 2000.0))
        batch = {}
        # Odoo's own `_process`, as the override calls it (super) with the batch in its context
        OdooBaseAutomation._process(automation.with_context(**{AUTO_INVOICE_BATCH: batch}), leads)
        self.assertEqual(list(batch), action.ids)
        self.assertEqual(batch[action.id]['ids'], leads.ids, "one run a record, in order")
        self.assertIs(batch[action.id]['context'][AUTO_INVOICE_BATCH], batch)
        self.assertFalse(self._invoices(leads), "only gathered: the override issues them")

    def test_the_override_issues_the_gathered_deals(self):
        """The whole path: a stage change fires the automation, whose `_process` (Odoo's
        inside the override) gathers the deals, then the override issues their invoices."""
        self._rule()
        leads = self._leads((self.moscow, 1000.0), (self.kazan, 2000.0))
        leads.write({'stage_id': self.stage_signed.id})
        self.assertEqual(self._invoiced(leads), leads)


@tagged('post_install', '-at_install')
class TestReadFormatPaths(MoneyRightsCommon):
    """What the `_read_format` overrides (bank_crm_rights_checks.py) rely on: every way a
    client reads records (`read`, `search_read`, the web client's `web_read` and
    `web_search_read`) formats them through `_read_format`, so that the balances blanked
    there are blanked on every path."""

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

    def _reads(self, user):
        Statement = self.env['account.bank.statement'].with_user(user)
        domain, spec = [('id', '=', self.statement.id)], {'balance_end_real': {}}
        return {
            'read': self.statement.with_user(user).read(['balance_end_real'])[0],
            'search_read': Statement.search_read(domain, ['balance_end_real'])[0],
            'web_read': self.statement.with_user(user).web_read(spec)[0],
            'web_search_read': Statement.web_search_read(domain, spec)['records'][0],
        }

    def test_every_read_goes_through_read_format(self):
        for path, values in self._reads(self.clerk).items():
            self.assertIs(values['balance_end_real'], False, path)
        for path, values in self._reads(self.manager).items():
            self.assertEqual(values['balance_end_real'], 750.0, path)


@tagged('post_install', '-at_install')
class TestPaymentPostedMessage(TransactionCase):
    """`payment_posted_message` looks account_payment's own term up: it must still be one of
    account_payment's terms, word for word, or every language gets it in English."""

    def test_the_term_is_account_payments(self):
        terms = {entry.msgid for entry in polib.pofile(file_path('account_payment/i18n/account_payment.pot'))}
        self.assertIn(PAYMENT_POSTED_MESSAGE, terms)

    def test_translated_as_account_payment_does(self):
        message = payment_posted_message(self.env, 'INV-1', Markup('<a href="#">P1</a>'))
        self.assertEqual(message, PAYMENT_POSTED_MESSAGE % {'ref': 'INV-1', 'link': Markup('<a href="#">P1</a>')})


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

    def test_account_payment_entry_making_is_odoos(self):
        """`_generate_journal_entry` and `_generate_move_vals` are account's own (else
        `create_payments` leaves the entries to `_generate_journal_entry`), and the first
        still makes the entries of many payments from the second's values in one create."""
        self.assertTrue(payment_entry_generation_is_accounts(self.env))
        source = inspect.getsource(type(self.env['account.payment'])._generate_journal_entry)
        self.assertIn('_generate_move_vals', source)
        self.assertIn("self.env['account.move'].create(", source)

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
