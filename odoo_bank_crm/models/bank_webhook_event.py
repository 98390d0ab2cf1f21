import hashlib
import logging
import random
import time

import psycopg2
from psycopg2 import errorcodes

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError, ValidationError


_logger = logging.getLogger(__name__)

# Concurrent notifications of one payment serialise on its row; PostgreSQL then asks
# the later ones to retry (REPEATABLE READ), which we do here, like Odoo's own `retrying`.
RETRYABLE_PGCODES = (errorcodes.SERIALIZATION_FAILURE, errorcodes.DEADLOCK_DETECTED, errorcodes.LOCK_NOT_AVAILABLE)
MAX_ATTEMPTS = 6
# One line per operation and account (account.bank.statement.line's init).
LINE_KEY_INDEX = 'account_bank_statement_line_bank_crm_operation_uniq'
# A stored notification still to be processed (waiting for its order, failed, or never
# processed) is tried again by the job at most this many times in all, each attempt
# scheduled by its `next_attempt_at`: 1, 2, 4... minutes after the previous one, at most
# RETRY_MAX_DELAY_MINUTES apart (about 8.5 hours in all).
EVENT_MAX_ATTEMPTS = 10
RETRY_FIRST_DELAY_MINUTES = 1
RETRY_MAX_DELAY_MINUTES = 6 * 60
RETRY_STATES = ('received', 'waiting', 'failed')
RETENTION_PARAM = 'odoo_bank_crm.webhook_rejected_retention_days'
DEFAULT_RETENTION_DAYS = 30
PURGE_BATCH = 10000


class BankWebhookEvent(models.Model):
    """Every notification a bank sent, stored raw before it is processed, with what
    became of it. Redeliveries are stored too and recognised by their key, so a
    notification is applied once however often it arrives."""

    _name = 'bank.webhook.event'
    _description = "Bank Notification"
    _order = 'id desc'
    _rec_name = 'order_id'

    provider_code = fields.Selection(selection=[('tbank', "T-Bank")], string="Bank", required=True, readonly=True)
    received_at = fields.Datetime(
        string="Received", required=True, readonly=True, default=fields.Datetime.now, index=True
    )
    remote_addr = fields.Char(string="Sender Address", readonly=True)
    raw_body = fields.Text(
        string="Raw Notification",
        readonly=True,
        help="The body exactly as the bank sent it (its token included: it is a signature, not a secret).",
    )
    order_id = fields.Char(readonly=True, index=True)
    bank_payment_id = fields.Char(readonly=True)
    bank_status = fields.Char(readonly=True)
    amount_minor = fields.Integer(string="Amount (minor units)", readonly=True)
    dedupe_key = fields.Char(
        string="Key", readonly=True, index=True, help="Same bank, payment, status and amount: the same notification."
    )
    processed_key = fields.Char(readonly=True, copy=False, help="Set on the one event that applied a notification.")
    state = fields.Selection(
        selection=[
            ('received', "Received"),
            ('processed', "Processed"),
            ('duplicate', "Already Applied"),
            ('waiting', "Waiting for Order"),
            ('rejected', "Rejected"),
            ('failed', "Failed"),
        ],
        string="Status",
        required=True,
        default='received',
        readonly=True,
        index=True,
    )
    result = fields.Text(readonly=True)
    transaction_id = fields.Many2one('payment.transaction', readonly=True, index='btree_not_null', ondelete='set null')
    company_id = fields.Many2one(related='transaction_id.company_id', store=True)
    attempt_count = fields.Integer(
        string="Attempts", readonly=True, default=0, help="How many times the notification was processed."
    )
    next_attempt_at = fields.Datetime(
        string="Next Attempt",
        readonly=True,
        index='btree_not_null',
        help="When the job processes the notification again; empty when it is done with it "
        "(processed, rejected, or out of attempts).",
    )

    _sql_constraints = [
        ('processed_key_unique', 'UNIQUE(processed_key)', "A bank notification is applied only once."),
    ]

    # === STORING === #

    @api.model
    def _store_raw(self, provider_code, raw_body, remote_addr=None):
        """Store a notification as received, committed in its own transaction before
        anything else happens, so nothing the bank sent is lost whatever follows.
        One INSERT: nothing of the ORM's create is needed for a row that is only a record
        of what arrived (no defaults beyond these, no computed values yet)."""
        raw_body = self._storable_text(raw_body)
        # Should the request die before processing it, the job picks it up after the first delay.
        with self.env.registry.cursor() as cr:
            cr.execute(
                """
                INSERT INTO bank_webhook_event (provider_code, raw_body, remote_addr, state, received_at,
                                                attempt_count, next_attempt_at,
                                                create_uid, create_date, write_uid, write_date)
                VALUES (%(code)s, %(body)s, %(addr)s, 'received', now() AT TIME ZONE 'UTC',
                        0, now() AT TIME ZONE 'UTC' + make_interval(mins => %(delay)s),
                        %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC')
                RETURNING id
            """,
                {
                    'code': provider_code,
                    'body': raw_body,
                    'addr': (remote_addr or '')[:64] or None,
                    'uid': self.env.uid,
                    'delay': RETRY_FIRST_DELAY_MINUTES,
                },
            )
            event_id = cr.fetchone()[0]
        return self.browse(event_id)

    @api.model
    def _storable_text(self, raw_body):
        """The body as text PostgreSQL can store: invalid UTF-8 and NUL characters (which
        a text column refuses) become U+FFFD, so junk is kept rather than failing."""
        if isinstance(raw_body, bytes):
            raw_body = raw_body.decode('utf-8', errors='replace')
        return (raw_body or '').replace('\x00', '\ufffd')

    # === PROCESSING === #

    def _process(self, provider_code=None, raw_body=None):
        """Process the event in transactions of its own, retrying on concurrency
        errors; return (HTTP status, body) for the bank. The outcome is committed
        before this returns. The webhook, which has just stored the event, passes its
        provider and body so that they are not read back."""
        self.ensure_one()
        try:
            return self._process_attempts(provider_code, raw_body)
        finally:
            # the work was committed by other cursors: what this one holds in cache is stale
            self.env.invalidate_all()

    def _process_attempts(self, provider_code=None, raw_body=None):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self.env.registry.cursor() as cr:
                    # sudo: as OdooBot, not the public user of the bank's request (messages, activities);
                    # what it changes is bounded by `_process_tbank`: the one transaction the
                    # verified notification names, and the accounting that follows it
                    event = self.with_env(self.env(cr=cr, user=SUPERUSER_ID, su=True))
                    method = getattr(event, f'_process_{provider_code or event.provider_code}')
                    outcome = method(raw_body) if raw_body is not None else method()
                    event._schedule_next_attempt()
                    return outcome
            except psycopg2.IntegrityError as error:
                if error.diag.constraint_name == LINE_KEY_INDEX and attempt < MAX_ATTEMPTS:
                    # the sync booked the same operation meanwhile: the next attempt finds its line
                    continue
                if error.diag.constraint_name != 'bank_webhook_event_processed_key_unique':
                    # not our claim: applying the payment failed, the bank must send it again
                    _logger.exception("Bank notification %s could not be processed", self.id)
                    return self._finish('failed', _("Unexpected error; see the server log."), status=500)
                # another delivery of the same notification applied it first
                return self._finish('duplicate', _("Already applied by an earlier delivery."))
            except psycopg2.OperationalError as error:
                if error.pgcode not in RETRYABLE_PGCODES or attempt == MAX_ATTEMPTS:
                    _logger.warning("Bank notification %s: database error %s", self.id, error.pgcode)
                    return self._finish('failed', _("Database busy, the bank will send it again."), status=503)
                time.sleep(random.uniform(0.01, 0.05 * attempt))
            except Exception:
                _logger.exception("Bank notification %s could not be processed", self.id)
                return self._finish('failed', _("Unexpected error; see the server log."), status=500)
        return self._finish('failed', _("Gave up after concurrent updates."), status=503)

    def _finish(self, state, result, status=200, body=None):
        """Record the outcome (and the attempt) in a transaction of its own and give the
        HTTP answer."""
        body = body or ('OK' if status == 200 else 'Error')
        with self.env.registry.cursor() as cr:
            cr.execute(
                """
                UPDATE bank_webhook_event
                   SET state = %(state)s, result = %(result)s, write_date = now() AT TIME ZONE 'UTC',
                       attempt_count = attempt_count + 1,
                       next_attempt_at = CASE
                           WHEN %(state)s IN %(retry_states)s AND attempt_count + 1 < %(max)s
                           THEN now() AT TIME ZONE 'UTC' + make_interval(mins => LEAST(
                                %(first)s * power(2, attempt_count)::int, %(cap)s))
                       END
                 WHERE id = %(id)s
            """,
                {
                    'state': state,
                    'result': result,
                    'retry_states': RETRY_STATES,
                    'max': EVENT_MAX_ATTEMPTS,
                    'first': RETRY_FIRST_DELAY_MINUTES,
                    'cap': RETRY_MAX_DELAY_MINUTES,
                    'id': self.id,
                },
            )
        self.invalidate_recordset(['state', 'result', 'attempt_count', 'next_attempt_at'])
        return status, body

    @api.model
    def _retry_delay_minutes(self, attempt_count):
        """Minutes until the next attempt after `attempt_count` attempts (1, 2, 4... capped)."""
        return min(RETRY_FIRST_DELAY_MINUTES * 2 ** max(attempt_count - 1, 0), RETRY_MAX_DELAY_MINUTES)

    def _schedule_next_attempt(self):
        """Count the attempt just made and schedule the next one, in the processing
        transaction (merged into the outcome's own write): only a notification still to
        be processed gets one, and none after EVENT_MAX_ATTEMPTS. Junk is rejected, so
        it is never tried again."""
        self.ensure_one()
        count = self.attempt_count + 1
        values = {'attempt_count': count, 'next_attempt_at': False}
        if self.state in RETRY_STATES:
            if count < EVENT_MAX_ATTEMPTS:
                values['next_attempt_at'] = fields.Datetime.add(
                    fields.Datetime.now(), minutes=self._retry_delay_minutes(count)
                )
            else:
                values['result'] = _(
                    "%(result)s Not tried again after %(count)s attempts: use Process Again once the cause is fixed.",
                    result=self.result or '',
                    count=count,
                )
        self.write(values)

    def _process_tbank(self, raw_body=None):
        """T-Bank notification (docs/banks.md §1.7): verify, find, apply once, answer OK.
        What the event learns is written once, with its outcome."""
        Transaction = self.env['payment.transaction']
        payload = Transaction._tbank_parse_notification(self.raw_body if raw_body is None else raw_body)
        if payload is None:
            self.write(
                {
                    'state': 'rejected',
                    'result': _("Malformed notification: a JSON object with TerminalKey and Status was expected."),
                }
            )
            return 400, 'Bad Request'
        values = {
            'order_id': str(payload.get('OrderId') or '')[:64],
            'bank_payment_id': str(payload.get('PaymentId') or '')[:64],
            'bank_status': str(payload['Status'])[:32],
            'amount_minor': payload.get('Amount') if isinstance(payload.get('Amount'), int) else 0,
        }
        # Every enabled terminal with this key whose password verifies the token: the
        # notification may act only on their transactions (checked once it is found).
        providers = self.env['payment.provider']._tbank_verifying_providers(payload)
        if not providers:
            _logger.warning("T-Bank notification %s rejected: bad terminal or token", self.id)
            self.write(
                dict(
                    values,
                    state='rejected',
                    result=_("Forged or unknown signature: the token does not match any enabled T-Bank terminal."),
                )
            )
            return 403, 'Forbidden'
        values['dedupe_key'] = dedupe_key = self._tbank_key(payload)
        try:
            tx = Transaction._tbank_notified_tx(payload, providers)
        except ValidationError as error:
            if Transaction.search_count([('reference', '=', payload.get('OrderId')), ('provider_code', '=', 'tbank')]):
                self.write(dict(values, state='rejected', result=str(error)))
            else:
                self.write(
                    dict(
                        values,
                        state='waiting',
                        result=_("No order %(order)s yet: processed when it exists.", order=payload.get('OrderId')),
                    )
                )
            return 200, 'OK'
        # Claim the notification unless an earlier delivery applied it: a concurrent
        # delivery of the same one waits here on the unique key until this transaction
        # ends, then fails on it (→ duplicate, answered OK).
        self.env.cr.execute(
            """
            UPDATE bank_webhook_event SET processed_key = %(key)s
             WHERE id = %(id)s
               AND NOT EXISTS (SELECT 1 FROM bank_webhook_event WHERE processed_key = %(key)s)
        """,
            {'key': dedupe_key, 'id': self.id},
            log_exceptions=False,
        )
        if not self.env.cr.rowcount:
            self.write(
                dict(
                    values, state='duplicate', transaction_id=tx.id, result=_("Already applied by an earlier delivery.")
                )
            )
            return 200, 'OK'
        # Concurrent notifications of one payment (other statuses) serialise on its row
        # (retried here on a serialisation failure): nothing read above to read again.
        tx._tbank_lock()
        try:
            with self.env.cr.savepoint():
                # The bank is answered once the transaction's new state is committed; the
                # accounting that follows (payment posted and reconciled, deal, salesperson)
                # and the chatter messages run right after in Odoo's post-processing job,
                # triggered now.
                tx.with_context(bank_crm_defer_post_process=True)._handle_notification_data('tbank', payload)
        except ValidationError as error:
            self.write(dict(values, state='rejected', processed_key=False, transaction_id=tx.id, result=str(error)))
            tx._log_message_on_linked_documents(_("A T-Bank notification was refused: %(error)s", error=error))
            return 200, 'OK'
        self.write(
            dict(
                values,
                state='processed',
                transaction_id=tx.id,
                result=_("Applied: the transaction is %(state)s.", state=tx.state),
            )
        )
        return 200, 'OK'

    @api.model
    def _tbank_key(self, payload):
        material = '|'.join(str(payload.get(key, '')) for key in ('TerminalKey', 'PaymentId', 'Status', 'Amount'))
        return 'tbank:' + hashlib.sha256(material.encode()).hexdigest()

    # === ADMINISTRATION === #

    def action_process_again(self):
        """Process waiting or failed notifications again (e.g. once their order exists)."""
        for event in self.filtered(lambda e: e.state in RETRY_STATES):
            event._process()
        self.invalidate_recordset()
        return True

    @api.model
    def _cron_process_waiting(self, limit=500):
        """Process again the notifications whose next attempt is due, the longest due
        first. Only those still to be processed have one, for EVENT_MAX_ATTEMPTS in all:
        rejected junk never comes back, and a notification tried again and again goes
        behind the others, so none starves another."""
        events = self.search(
            [
                ('state', 'in', RETRY_STATES),
                ('next_attempt_at', '<=', fields.Datetime.now()),
                ('attempt_count', '<', EVENT_MAX_ATTEMPTS),
            ],
            limit=limit,
            order='next_attempt_at, id',
        )
        for event in events:
            event._process()
        return events

    @api.model
    def _retention_days(self):
        """Days rejected notifications are kept (system parameter RETENTION_PARAM)."""
        # sudo: a system parameter, read by the job and by administrators alike
        value = self.env['ir.config_parameter'].sudo().get_param(RETENTION_PARAM)
        try:
            days = int(value) if value not in (None, False, '') else DEFAULT_RETENTION_DAYS
        except ValueError:
            days = 0
        if days < 1:
            _logger.warning(
                "%s must be a whole number of days (1 or more), not %r: %s days are kept",
                RETENTION_PARAM,
                value,
                DEFAULT_RETENTION_DAYS,
            )
            days = DEFAULT_RETENTION_DAYS
        return days

    @api.model
    def _cron_purge_rejected(self, batch=PURGE_BATCH):
        """Delete the rejected notifications (junk, forgeries, refusals) received more
        than the retention period ago, by batches; the job is triggered again while
        some remain."""
        cutoff = fields.Datetime.subtract(fields.Datetime.now(), days=self._retention_days())
        domain = [('state', '=', 'rejected'), ('received_at', '<', cutoff)]
        # sudo: no user may delete notifications; only this job, and only rejected ones
        events = self.sudo().search(domain, limit=batch, order='id')
        events.unlink()
        remaining = self.sudo().search_count(domain)  # sudo: as above if len(events) == batch else 0
        self.env['ir.cron']._notify_progress(done=len(events), remaining=remaining)
        return len(events)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_processed(self):
        if self.filtered(lambda e: e.state == 'processed') and not self.env.is_superuser():
            raise UserError(_("Processed bank notifications are the audit trail of payments: they cannot be deleted."))
