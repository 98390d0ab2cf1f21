import logging
import time
from datetime import timedelta

import psycopg2
from psycopg2 import sql as pgsql

from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, api, fields, models

from .. import const
from ..utils import config_number
from .odoo_compat import can_commit, create_payments, message_post_batch, payment_posted_message, trigger_cron_now

_logger = logging.getLogger(__name__)

POST_PROCESS_CRON_XMLID = 'payment.cron_post_process_payment_tx'
# Transactions booked together, in one database transaction, by the post-processing job
# (docs/booking.md): large enough that the per-batch costs are shared, small enough that
# the first of a batch is not kept waiting long for the last.
BOOKING_BATCH_SIZE = 100
# Seconds one run of the job books for before it hands over to a next run (triggered at
# once): a cron worker is killed after its real-time limit (120 s by default), which
# Odoo's one-at-a-time job reaches under a burst, losing the transaction in progress.
BOOKING_RUN_SECONDS = 60
# Seconds a run waits for pending transactions another database transaction holds before
# it leaves them to a next run, triggered at once.
BOOKING_LOCK_WAIT_SECONDS = 10
# As Odoo's `_cron_post_process`: a transaction that does not go through is not retried forever.
POST_PROCESS_RETRY_DAYS = 4
# The operations booked in batches: a payment for the transaction's own invoices (refunds,
# captures and voids of a source transaction, and validations, take Odoo's own path).
BOOKING_OPERATIONS = ('online_redirect', 'online_direct', 'online_token', 'offline')


class PaymentTransaction(models.Model):
    _inherit = 'payment.transaction'

    tbank_checked_at = fields.Datetime(
        string="Last Asked the Bank",
        readonly=True,
        copy=False,
        help="When the job checking unsettled payments last asked the bank (GetState) about this one.",
    )
    # The 'transaction received' messages of a bank's notification, posted on the invoices
    # by the post-processing job that follows it rather than while the bank waits for its
    # answer (see `_log_received_message`). Technical: no label to translate.
    bank_crm_deferred_messages = fields.Json(readonly=True, copy=False, export_string_translation=False)

    # === T-BANK (payment_tbank): ITS PAYMENTS BOOKED AT ONCE === #

    def _send_refund_request(self, amount_to_refund=None):
        """Override of payment_tbank: the refund T-Bank made is booked at once."""
        refund_tx = super()._send_refund_request(amount_to_refund=amount_to_refund)
        if self.provider_code == 'tbank':
            refund_tx._bank_crm_post_process()
        return refund_tx

    def _tbank_apply_status(self, status, message=None):
        """Override of payment_tbank: a status applied is booked at once (or, for a bank's
        notification, by the post-processing job triggered now: `_bank_crm_post_process`)."""
        applied = super()._tbank_apply_status(status, message=message)
        if applied:
            self._bank_crm_post_process()
        return applied

    def _tbank_apply_refund(self, status):
        """Override of payment_tbank: the refund a notification records is booked at once
        (only the one it records: an older refund's booking is its own job's)."""
        before = self.child_transaction_ids
        result = super()._tbank_apply_refund(status)
        (self.child_transaction_ids - before).filtered(lambda tx: tx.operation == 'refund')._bank_crm_post_process()
        return result

    # === POST-PROCESSING === #

    def _bank_crm_post_process(self):
        """Odoo's own post-processing (payment posted and reconciled with the invoice) as
        soon as the transaction is final, not only when the customer comes back: at once,
        or, for a bank's notification that must be answered quickly, by Odoo's
        post-processing job triggered to run right now (it also posts the messages the
        notification deferred)."""
        to_process = self.filtered(lambda tx: tx.state in ('done', 'cancel') and not tx.is_post_processed)
        if self.env.context.get('bank_crm_defer_post_process'):
            if to_process or self.filtered('bank_crm_deferred_messages'):
                self._bank_crm_trigger_post_processing()
        elif to_process:
            to_process._post_process()

    @api.model
    def _bank_crm_trigger_post_processing(self):
        """Odoo's post-processing job to run as soon as this transaction commits
        (`odoo_compat.trigger_cron_now`: lean enough for a request the
        bank is waiting on)."""
        trigger_cron_now(self.env, POST_PROCESS_CRON_XMLID)

    def _log_received_message(self):
        """Override of `payment`: while the bank waits for the answer to its notification
        (context `bank_crm_defer_post_process`), the chatter messages on the invoices are
        only written down; the post-processing job triggered with it posts them, in order."""
        if not self.env.context.get('bank_crm_defer_post_process'):
            self._bank_crm_post_deferred_messages()  # earlier statuses' messages come first
            return super()._log_received_message()
        deferred = self.filtered(lambda tx: tx.provider_code == 'tbank')
        for tx in deferred:
            tx.bank_crm_deferred_messages = [*(tx.bank_crm_deferred_messages or []), tx._get_received_message()]
        return super(PaymentTransaction, self - deferred)._log_received_message()

    def _bank_crm_post_deferred_messages(self):
        deferred = self.filtered('bank_crm_deferred_messages')
        messages = [(tx, message) for tx in deferred for message in tx.bank_crm_deferred_messages]
        deferred.bank_crm_deferred_messages = False
        self._bank_crm_log_on_linked_documents(messages)

    def _bank_crm_log_on_linked_documents(self, messages):
        """`tx._log_message_on_linked_documents(message)` for each (tx, message), in order: what
        account_payment's writes (each invoice to notify gets a `message_post` by the
        transaction's author) written together (`odoo_compat.message_post_batch`). A
        transaction of another (a refund's, a capture's), or all when another module
        overrides the method (sale also posts on the orders), take Odoo's own path."""
        batchable = self._bank_crm_linked_documents_batchable()
        batched = []
        for tx, message in messages:
            if batchable and not tx.source_transaction_id:
                batched.append((tx, message))
            else:
                tx._log_message_on_linked_documents(message)
        # as account_payment's `_log_message_on_linked_documents`
        user_partner = self.env.user.partner_id if self.env.uid == SUPERUSER_ID else None
        posts = [
            (invoice, message, (user_partner or tx.partner_id).id)
            for tx, message in batched
            for invoice in tx._get_invoices_to_notify()
        ]
        message_post_batch(posts)

    @api.model
    def _bank_crm_linked_documents_batchable(self):
        """Whether `_log_message_on_linked_documents` is only payment's and account_payment's
        (messages on the invoices to notify, see `_bank_crm_log_on_linked_documents`)."""
        modules = {
            getattr(cls, '_module', None)
            for cls in type(self).__mro__
            if '_log_message_on_linked_documents' in vars(cls)
        }
        return modules <= {'payment', 'account_payment'}

    def _post_process(self):
        """Override of `payment`: the transactions' rows locked first, so that two jobs or
        requests post-processing the same transaction at once cannot both create its payment
        (the later one waits, then fails to serialise and is retried by its caller, which
        then finds it post-processed); then the messages a bank's notification deferred."""
        self._bank_crm_lock_rows()
        self._bank_crm_post_deferred_messages()
        return super()._post_process()

    def _bank_crm_lock_rows(self, skip_locked=False):
        """Lock these transactions' rows until the end of the database transaction.

        Odoo runs under REPEATABLE READ: when a concurrent transaction committed a change to
        one of the rows (it post-processed it), the lock raises a serialisation failure
        (`psycopg2.OperationalError`), which Odoo's callers (`_cron_post_process`, the
        /payment/status/poll route, the HTTP retry) answer with a rollback and a retry.

        :param bool skip_locked: skip the rows another transaction holds instead of waiting
        :return: the ids locked
        """
        if not self.ids:
            return []
        self.env.cr.execute(
            pgsql.SQL("SELECT id FROM payment_transaction WHERE id = ANY(%s) ORDER BY id FOR UPDATE {}").format(
                pgsql.SQL('SKIP LOCKED' if skip_locked else '')
            ),
            [self.ids],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    # === BOOKING: BATCHED POST-PROCESSING === #

    @api.model
    def _cron_post_process(self):
        """Override of `payment`: the done T-Bank transactions are booked in batches
        (`_bank_crm_book_pending`, docs/booking.md), then Odoo's own job post-processes the
        others one by one, as it always does."""
        if self:
            return super()._cron_post_process()
        attempted = self._bank_crm_book_pending(deadline=time.monotonic() + BOOKING_RUN_SECONDS)
        if attempted is None:  # out of time: the next run, triggered, books the rest first
            return None
        retry_limit_date = fields.Datetime.now() - relativedelta(days=POST_PROCESS_RETRY_DAYS)
        # T-Bank's done transactions are the batches' (one done since the last batch is the
        # next run's: its notification triggered it); T-Bank's drafts have nothing to post-process
        # and would be booked here one by one, slowly, if they became done meanwhile
        others = self.search(
            [
                ('is_post_processed', '=', False),
                ('last_state_change', '>=', retry_limit_date),
                ('id', 'not in', attempted),
                '|',
                ('provider_code', '!=', 'tbank'),
                ('state', 'not in', ('draft', 'done')),
            ]
        )
        if others:
            return super(PaymentTransaction, others)._cron_post_process()
        return None

    @api.model
    def _bank_crm_book_pending(self, batch_size=BOOKING_BATCH_SIZE, deadline=None):
        """Book the done T-Bank transactions not yet post-processed, `batch_size` at a time,
        each batch in one go (`_bank_crm_book`) and committed on its own, so that a crash
        loses at most the batch in progress. The rows of a batch are locked (SKIP LOCKED:
        a concurrent run takes others), so no transaction is booked twice. When a batch
        fails, its transactions are post-processed one by one as Odoo's job does: the one
        that fails is logged and left for the next run, the others are booked.

        :param float deadline: `time.monotonic()` after which no new batch is started: the
            job is triggered again to book the rest in a next run
        :return: the ids of the transactions attempted (booked or failed), or None when the
            deadline stopped it
        """
        commit = can_commit(self.env)
        provider_ids = self.env['payment.provider'].sudo().search([('code', '=', 'tbank')]).ids  # sudo: every company's
        retry_limit_date = fields.Datetime.now() - relativedelta(days=POST_PROCESS_RETRY_DAYS)
        attempted = []
        waiting_since = None
        while True:
            self.env.flush_all()
            try:
                ids = self._bank_crm_pending_ids(
                    provider_ids, retry_limit_date, attempted, batch_size, skip_locked=True
                )
            except psycopg2.errors.SerializationFailure:
                if not commit:
                    raise
                # a row changed by a transaction committed while this one looked: look again
                self.env.cr.rollback()
                continue
            if not ids:
                if not commit or not self._bank_crm_pending_ids(provider_ids, retry_limit_date, attempted, 1):
                    return attempted
                # Pending transactions another transaction holds (a duplicate of their
                # notification, the customer's status poll): their holder may commit without
                # triggering this job (nothing new for it), so wait for them a little; past
                # that, the job is triggered to come back for them at once.
                waiting_since = waiting_since or time.monotonic()
                if time.monotonic() - waiting_since > BOOKING_LOCK_WAIT_SECONDS:
                    self._bank_crm_trigger_post_processing()
                    return attempted
                # nothing to keep: the commit gives the next look a fresh snapshot
                self.env.cr.commit()  # pylint: disable=invalid-commit
                time.sleep(0.2)
                continue
            waiting_since = None
            if deadline is not None and time.monotonic() > deadline:
                self._bank_crm_trigger_post_processing()
                return None
            attempted += ids
            batch = self.browse(ids)
            try:
                with self.env.cr.savepoint():
                    batch._bank_crm_book()
            except Exception as error:  # any failure: book them one by one instead
                _logger.info("Booking %s transactions together failed (%s); booking them one by one", len(ids), error)
                batch._bank_crm_book_one_by_one(commit)
            if commit:
                # each batch is its own unit of work: a crash loses at most the batch in progress
                self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _bank_crm_pending_ids(self, provider_ids, retry_limit_date, excluded, limit, skip_locked=False):
        """The done T-Bank transactions waiting for their booking, in order: with
        `skip_locked`, those no other transaction holds, locked until the commit; without,
        all of them, whoever holds them (nothing locked)."""
        self.env.cr.execute(
            pgsql.SQL(
                """
                SELECT id FROM payment_transaction
                 WHERE is_post_processed IS NOT TRUE AND state = 'done' AND provider_id IN %s
                   AND last_state_change >= %s AND id != ALL(%s)
                 ORDER BY id LIMIT %s
                """
                "{}"
            ).format(pgsql.SQL(' FOR UPDATE SKIP LOCKED' if skip_locked else '')),
            [tuple(provider_ids) or (0,), retry_limit_date, excluded, limit],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _bank_crm_book_one_by_one(self, commit):
        """Odoo's `_cron_post_process` loop for these transactions: each post-processed on
        its own, a failing one logged and rolled back (to be retried by the next run)."""
        for tx in self:
            try:
                with self.env.cr.savepoint():
                    tx._post_process()
                if commit:
                    # as Odoo's job: each transaction's post-processing kept on its own
                    self.env.cr.commit()  # pylint: disable=invalid-commit
            except psycopg2.OperationalError:
                _logger.info("Post-processing %s is retried later (concurrent update)", tx.reference)
            except Exception as error:  # as Odoo's job: log, roll back, go on
                _logger.exception(
                    "encountered an error while post-processing transaction with reference %s:\n%s",
                    tx.reference,
                    error,
                )

    def _bank_crm_batchable(self):
        """The transactions `_bank_crm_book` books together: done payments of their own
        invoices, without payment yet, no early payment discount (Odoo computes its
        write-off per invoice), and no invoice shared with another transaction of the
        batch (reconciled one after the other by Odoo). The others take Odoo's own path."""
        candidates = self.filtered(
            lambda tx: (
                tx.state == 'done'
                and tx.operation in BOOKING_OPERATIONS
                and not tx.source_transaction_id
                and not tx.payment_id
                and not tx.child_transaction_ids
                and tx.invoice_ids
                and not tx.invoice_ids.invoice_payment_term_id.filtered('early_discount')
            )
        )
        seen = {}
        for tx in candidates:
            for invoice_id in tx.invoice_ids.ids:
                seen[invoice_id] = seen.get(invoice_id, 0) + 1
        return candidates.filtered(lambda tx: all(seen[invoice_id] == 1 for invoice_id in tx.invoice_ids.ids))

    def _bank_crm_book(self):
        """Post-process these transactions together, writing what Odoo's `_post_process`
        (payment, account_payment, ours) writes for each of them one at a time:
        the deferred messages, the flag, draft invoices posted, then for the batchable ones
        (`_bank_crm_batchable`) their payments created in one `create`, posted together and
        each reconciled with its invoices by one reconciliation plan (the deal updates and
        the salesperson's notice follow from the reconciliation, for all at once), then
        the "payment posted" messages. The others are post-processed by Odoo's own code."""
        batchable = self._bank_crm_batchable()
        (self - batchable)._post_process()
        if not batchable:
            return
        batchable._bank_crm_post_deferred_messages()
        batchable.is_post_processed = True
        # as account_payment's `_post_process`, for done transactions
        batchable.invoice_ids.filtered(lambda inv: inv.state == 'draft').action_post()
        for company in batchable.company_id:
            batchable.filtered(lambda tx, company=company: tx.company_id == company).with_company(
                company
            )._bank_crm_create_payments()
        batchable._bank_crm_log_on_linked_documents(
            [(tx, payment_posted_message(self.env, tx.reference, tx.payment_id._get_html_link())) for tx in batchable]
        )

    def _bank_crm_create_payments(self):
        """account_payment's `_create_payment` for many transactions: the same values, one
        `create` with one `account.move.create` for all their entries
        (`odoo_compat.create_payments`), one `action_post`, one reconciliation plan (a group per transaction, as
        `reconcile()` is a plan of one group)."""
        payments = create_payments(self.env, [tx._bank_crm_payment_values() for tx in self])
        payments.action_post()
        plan = []
        for tx, payment in zip(self, payments, strict=True):
            tx.payment_id = payment
            plan.append(
                (payment.move_id.line_ids + tx.invoice_ids.line_ids).filtered(
                    lambda line, payment=payment: (
                        line.account_id == payment.destination_account_id and not line.reconciled
                    )
                )
            )
        self.env['account.move.line']._reconcile_plan(plan)
        return payments

    def _bank_crm_payment_values(self):
        """The values account_payment's `_create_payment` gives the payment of this
        transaction (without early payment discount, see `_bank_crm_batchable`)."""
        self.ensure_one()
        reference = f'{self.reference} - {self.partner_id.display_name or ""} - {self.provider_reference or ""}'
        payment_method_line = self.provider_id.journal_id.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == self.provider_id
        )
        values = {
            'amount': abs(self.amount),
            'payment_type': 'inbound' if self.amount > 0 else 'outbound',
            'currency_id': self.currency_id.id,
            'partner_id': self.partner_id.commercial_partner_id.id,
            'partner_type': 'customer',
            'journal_id': self.provider_id.journal_id.id,
            'company_id': self.provider_id.company_id.id,
            'payment_method_line_id': payment_method_line.id,
            'payment_token_id': self.token_id.id,
            'payment_transaction_id': self.id,
            'memo': reference,
            'write_off_line_vals': [],
            'invoice_ids': self.invoice_ids,
        }
        payment_term_lines = self.invoice_ids.line_ids.filtered(lambda line: line.display_type == 'payment_term')
        if payment_term_lines:
            values['destination_account_id'] = payment_term_lines[0].account_id.id
        return values

    # === CRON === #

    @api.model
    def _cron_tbank_check_pending(self, limit=200):
        """Ask GetState about payments still unsettled a while after they were registered,
        so a lost notification never leaves a paid order unpaid.

        Each run takes the `limit` payments asked least recently (never asked first), so that
        many open payment links waiting for their customers never keep a newer payment whose
        notification was lost from being asked: every unsettled payment is asked in turn."""
        now = fields.Datetime.now()
        delay = int(config_number(self.env, 'odoo_bank_crm.tbank_pending_check_minutes', *const.PENDING_CHECK_LIMITS))
        txs = self.search(
            [
                ('provider_code', '=', 'tbank'),
                ('state', 'in', ('draft', 'pending', 'authorized')),
                ('provider_reference', '!=', False),
                ('create_date', '<=', now - timedelta(minutes=delay)),
                ('create_date', '>=', now - timedelta(days=45)),
            ],
            limit=limit,
            order='tbank_checked_at ASC NULLS FIRST, create_date, id',
        )
        commit = can_commit(self.env)
        for tx in txs:
            try:
                response = tx.provider_id._tbank_call('get_state', tx.provider_reference)
                with self.env.cr.savepoint():
                    tx._tbank_apply_status(response.status, message=response.message)
            except Exception as error:
                _logger.warning("T-Bank: GetState for %s failed: %s", tx.reference, error)
            try:
                with self.env.cr.savepoint():
                    tx.tbank_checked_at = now  # asked (or tried): its turn comes again last
                    tx.flush_recordset(['tbank_checked_at'])
            except psycopg2.OperationalError:
                _logger.info("T-Bank: %s changed meanwhile; it is asked again next time", tx.reference)
            if commit:
                # each payment's answer is kept on its own: a notification processed at the same
                # time for another payment never undoes it, and row locks stay short
                self.env.cr.commit()  # pylint: disable=invalid-commit
