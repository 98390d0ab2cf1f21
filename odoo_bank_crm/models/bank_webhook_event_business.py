"""The business banks' account webhooks (docs/bank-webhooks.md): in the request, the raw
body is stored, verified (T-Bank's secret, Tochka's RS256 JWT), its shape checked and its
operation claimed once, the event marked queued and the booking job triggered; the answer
is given after that commit. The job (`_cron_book_queued`) books the queued events through
the sync's import, in order of arrival, each in a transaction of its own. A forgery is
refused (4xx) with nothing queued; a genuine notification the code cannot book is kept
and flagged for a person (200: the bank must not retry it)."""

import hashlib
import logging
import time
from collections import Counter, defaultdict

import jwt
import psycopg2

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..bank_api import webhooks
from odoo.addons.payment_tbank.public_input import loads_json
from .bank_connection_webhooks import jwks_cache
from .bank_webhook_event import LINE_KEY_INDEX
from .odoo_compat import can_commit, trigger_cron_now

_logger = logging.getLogger(__name__)

BUSINESS_PROVIDERS = ('tbank_business', 'tochka')
BOOKING_CRON_XMLID = 'odoo_bank_crm.cron_book_queued_business_webhooks'
#: Attempts of one event's booking within a run when the sync books the same line meanwhile.
BOOKING_ATTEMPTS = 3
#: Queued events the job books together in one transaction, at most (docs/bank-webhooks.md).
BOOKING_BATCH = 100
#: A batch is sized to take about this long at the rate the previous batch was booked; the
#: first batch of a run is BOOKING_FIRST_BATCH events. A batch is one transaction: the cron
#: worker's time limit (Odoo's limit_time_real, 120 s by default) must never cut one.
BOOKING_BATCH_SECONDS = 15.0
BOOKING_FIRST_BATCH = 10
#: A run takes no new batch after this long: it triggers the next run instead.
BOOKING_RUN_SECONDS = 45.0


class BankWebhookEvent(models.Model):
    _inherit = 'bank.webhook.event'

    provider_code = fields.Selection(
        selection_add=[('tbank_business', "T-Bank Business"), ('tochka', "Tochka")],
        ondelete={'tbank_business': 'cascade', 'tochka': 'cascade'},
    )
    state = fields.Selection(
        selection_add=[('queued', "Queued for Booking"), ('attention', "Needs Attention")],
        ondelete={'queued': 'set default', 'attention': 'set default'},
    )
    connection_id = fields.Many2one(
        'bank.connection', string="Bank Connection", readonly=True, index='btree_not_null', ondelete='set null'
    )
    verified = fields.Boolean(
        readonly=True, help="The bank's secret or signature was checked: the notification is the bank's."
    )
    line_count = fields.Integer(string="Transactions Booked", readonly=True)

    # === RECEIVING === #

    @api.model
    def _business_connection(self, provider_code, connection_id):
        """The active connection of this bank the URL names that can take its webhooks:
        with instant updates on, or any Tochka one (see `_business_receive`)."""
        # sudo: the bank calls as the public user; only the connection the URL names is read
        connection = self.env['bank.connection'].sudo().browse(connection_id).exists()
        if not connection or connection.provider_code != provider_code or not connection.active:
            return connection.browse()
        return connection if connection.webhook_enabled or provider_code == 'tochka' else connection.browse()

    def _business_receive(self, provider_code, connection_id, raw_body, authorization=None):
        """Verify a stored business webhook, check its shape and queue it for the booking
        job (`_cron_book_queued`): (HTTP status, body), given once that is committed.

        Tochka tests the URL with a signed webhook per type *while* the connection
        subscribes (``PUT /webhook/v1.0/{client_id}`` refuses the subscription unless it
        is answered 200), before the connection's "instant updates on" is committed; it may
        also deliver after they are turned off. A verified Tochka webhook for a connection
        without instant updates is therefore answered 200 and kept as ignored, booking
        nothing (the sync books the operations). T-Bank's has no test: 404 as before."""
        self.ensure_one()
        connection = self._business_connection(provider_code, connection_id)
        if not connection:
            self._business_mark(False, False)
            return self._finish('rejected', _("No connection with instant updates at this address."), 404, 'Not Found')
        try:
            if provider_code == 'tbank_business':
                webhooks.check_tbank_secret(authorization, connection.webhook_secret)
            else:
                webhooks.verify_tochka_jwt(raw_body, jwks_cache(connection.webhook_jwks_url))
        except webhooks.WebhookForged as error:
            _logger.warning("Bank webhook %s for connection %s refused: %s", self.id, connection.id, error)
            self._business_mark(connection.id, False)
            return self._finish('rejected', _("Refused: %(reason)s", reason=str(error)), 401, 'Unauthorized')
        except webhooks.WebhookKeysUnavailable as error:
            _logger.warning("Bank webhook %s: %s", self.id, error)
            self._business_mark(connection.id, False)
            return self._finish('failed', _("The bank's public keys could not be read."), 503, 'Unavailable')
        # verified: noted with the outcome, in its transaction (`_business_apply_mark`, `_finish`)
        event = self.with_context(bank_crm_mark=(connection.id, True))
        if not connection.webhook_enabled:
            return event._finish(
                'processed',
                _("Ignored: instant updates are off for this connection (the bank's test while subscribing?)."),
            )
        if provider_code == 'tochka' and connection._bank_crm_subscribing():
            # Tochka tests the URL with signed webhooks while the connection (re)subscribes
            return event._finish(
                'processed',
                _("Ignored: the bank's test while the connection subscribes (the statement books any real one)."),
            )
        return event._process(provider_code, raw_body)

    def _business_mark(self, connection_id, verified):
        """Note the connection and the verification, committed on their own (the
        processing that follows may fail and be tried again by the job)."""
        with self.env.registry.cursor() as cr:
            cr.execute(
                "UPDATE bank_webhook_event SET connection_id = %s, verified = %s WHERE id = %s",
                [connection_id or None, verified, self.id],
            )
        self.invalidate_recordset(['connection_id', 'verified'])

    def _business_apply_mark(self):
        """In the request's processing transaction: the connection and the verification
        noted with the outcome (one commit fewer than a transaction of their own)."""
        mark = self.env.context.get('bank_crm_mark')
        if mark:
            self.write({'connection_id': mark[0], 'verified': mark[1]})

    def _finish(self, state, result, status=200, body=None):
        """The outcome of a failed or finished request; the connection and the
        verification noted first (committed: the job may try the event again)."""
        mark = self.env.context.get('bank_crm_mark')
        if mark:
            self._business_mark(*mark)
        return super()._finish(state, result, status=status, body=body)

    # === PROCESSING === #

    def _process_tbank_business(self, raw_body=None):
        """T-Bank's oper-feed-operation (docs/banks.md §2.5)."""
        self._business_apply_mark()
        outcome = self._tbank_business_entries(raw_body)
        return outcome if isinstance(outcome, tuple) else self._business_book(outcome)

    def _process_tochka(self, raw_body=None):
        """Tochka's incomingPayment, incomingSbpPayment, acquiringInternetPayment (§3)."""
        self._business_apply_mark()
        outcome = self._tochka_entries(raw_body)
        return outcome if isinstance(outcome, tuple) else self._business_book(outcome)

    def _tbank_business_entries(self, raw_body=None):
        """The event's operations as entries (account number, currency → `BankOperation`,
        id of the operation in the event), or the (status, body) it was finished with."""
        if not self.verified:
            # only the request carried the secret: an unverified event can never be applied
            self.write({'state': 'rejected', 'result': _("Not verified: the bank's secret was not checked.")})
            return 401, 'Unauthorized'
        try:
            payload = loads_json(self.raw_body if raw_body is None else raw_body)
            items = webhooks.parse_tbank_event(payload)
        except ValueError as error:  # WebhookUnexpected is a ValueError too
            return self._business_attention(_("Unexpected notification: %(error)s", error=error))
        return [
            (item.account_number, item.to_operation, f'{item.operation.operation_id}:{item.operation.operation_status}')
            for item in items
        ]

    def _tochka_entries(self, raw_body=None):
        """As `_tbank_business_entries`; SBP and acquiring events, which carry no line, are
        finished here (the statement is pulled at once)."""
        token = self.raw_body if raw_body is None else raw_body
        if self.verified:
            # verified by the receiver (or an earlier attempt) against the bank's keys
            claims = jwt.decode(token, options={'verify_signature': False})
        else:
            try:
                claims = webhooks.verify_tochka_jwt(token, jwks_cache(self.connection_id.webhook_jwks_url))
            except webhooks.WebhookForged as error:
                self.write({'state': 'rejected', 'result': _("Refused: %(reason)s", reason=str(error))})
                return 401, 'Unauthorized'
            self.verified = True
        try:
            event = webhooks.parse_tochka_event(claims)
        except webhooks.WebhookUnexpected as error:
            return self._business_attention(_("Unexpected notification: %(error)s", error=error))
        if event.operation is None:
            notice = event.notice
            self.write(
                {
                    'state': 'processed',
                    'bank_payment_id': notice.operation_id[:64],
                    'bank_status': event.webhook_type[:32],
                    'result': _(
                        "%(kind)s %(operation)s noted: the account's statement is pulled now to book it.",
                        kind=event.webhook_type,
                        operation=notice.operation_id,
                    ),
                }
            )
            self.connection_id._bank_crm_webhook_followup(sync=True)
            return 200, 'OK'
        operation = event.operation
        return [(event.account_number, lambda currency: operation, f'{event.webhook_type}:{event.dedupe_id}')]

    def _business_journals(self, entries):
        """{account number: journal} of the event's connection when every entry's account
        is one of them, else the (status, body) of the event flagged for a person."""
        connection = self.connection_id
        journals = {}
        for journal in connection.journal_ids:
            for ref in (journal.bank_crm_bank_account_ref, journal.bank_acc_number):
                if ref:
                    journals.setdefault(ref.split('/', 1)[0], journal)
        unknown = sorted({account or '?' for account, *_rest in entries if account not in journals})
        if unknown:
            return self._business_attention(
                _(
                    "Operation on account %(accounts)s, which is not an account of %(connection)s: nothing booked.",
                    accounts=", ".join(unknown),
                    connection=connection.name,
                )
            )
        return journals

    def _business_book(self, entries):
        """In the request: check the event's accounts, claim its operations once and queue
        it for the booking job (`_cron_book_queued`). Entries are (account number,
        currency → `BankOperation`, id of the operation in the event)."""
        journals = self._business_journals(entries)
        if isinstance(journals, tuple):
            return journals
        ids = sorted(event_id for _account, _make, event_id in entries)
        material = f"{self.provider_code}|{self.connection_id.id}|{'|'.join(ids)}"
        key = 'bizhook:' + hashlib.sha256(material.encode()).hexdigest()
        values = {'dedupe_key': key, 'bank_payment_id': ids[0][:64]}
        # Claim it unless an earlier delivery did (queued or booked); this event's own claim
        # holds when it is queued again after a failed booking. A concurrent duplicate waits
        # on the unique key until this transaction ends, then fails on it (→ duplicate, 200).
        self.env.cr.execute(
            """
            UPDATE bank_webhook_event SET processed_key = %(key)s
             WHERE id = %(id)s
               AND NOT EXISTS (SELECT 1 FROM bank_webhook_event WHERE processed_key = %(key)s AND id != %(id)s)
        """,
            {'key': key, 'id': self.id},
            log_exceptions=False,
        )
        if not self.env.cr.rowcount:
            self.write(dict(values, state='duplicate', result=_("Already booked by an earlier delivery.")))
            return 200, 'OK'
        self.write(dict(values, state='queued', result=_("Verified; queued for booking.")))
        self._trigger_booking()
        return 200, 'OK'

    def _schedule_next_attempt(self):
        """A queued event was not booked yet: the request that queued it made no booking
        attempt, the job makes (and counts) it (`_book_together`, `_book_queued`)."""
        if self.state == 'queued':
            self.write({'next_attempt_at': False})
            return
        super()._schedule_next_attempt()

    @api.model
    def _trigger_booking(self):
        """The booking job to run as soon as this transaction commits
        (`odoo_compat.trigger_cron_now`: lean enough for a request the
        bank is waiting on)."""
        trigger_cron_now(self.env, BOOKING_CRON_XMLID)

    # === BOOKING JOB === #

    @api.model
    def _cron_book_queued(self, limit=1000, batch=BOOKING_BATCH):
        """Book the queued events in order of arrival, up to `batch` at a time in one
        transaction (and, outside tests, a commit per batch). The rows are taken with FOR
        UPDATE SKIP LOCKED, so two cron workers book distinct batches. A batch that fails is
        redone one event at a time, each in a savepoint: a failing event is marked (failed:
        tried again by `_cron_process_waiting` with its back-off) and the others are booked.

        Each batch is sized from the rate of the previous one to take about
        BOOKING_BATCH_SECONDS, and a run takes no new batch after BOOKING_RUN_SECONDS (the
        next run is triggered): on a loaded machine a batch of 100 took longer than the cron
        worker's time limit, which killed it, rolled it back and left the next worker the
        same batch (bench/bizhooks.py). Returns the events taken."""
        # sudo: as OdooBot, the job's user, whoever runs it: the chatter message, the
        # salesperson's activity and the accounting of the verified, queued events only
        env = self.env(user=SUPERUSER_ID, su=True)
        commit = can_commit(env)
        done = self.browse()
        started = time.monotonic()
        size = min(batch, BOOKING_FIRST_BATCH)
        while len(done) < limit:
            if done and time.monotonic() - started > BOOKING_RUN_SECONDS:
                self._trigger_booking()  # the rest in the next run, within its own time
                break
            env.cr.execute(
                """
                SELECT id FROM bank_webhook_event
                 WHERE state = 'queued' AND id != ALL(%s)
                 ORDER BY id LIMIT %s
                   FOR UPDATE SKIP LOCKED
            """,
                [done.ids, min(size, limit - len(done))],
            )
            ids = [row[0] for row in env.cr.fetchall()]
            if not ids:
                break
            events = self.with_env(env).browse(ids)
            done |= events
            batch_started = time.monotonic()
            events._book_batch()
            if commit:
                env.cr.commit()  # pylint: disable=invalid-commit
            per_event = (time.monotonic() - batch_started) / len(events)
            size = max(1, min(batch, int(BOOKING_BATCH_SECONDS / max(per_event, 1e-3))))
        else:
            # more than one run's worth: the next run comes at once
            self._trigger_booking()
        return done.with_env(self.env)

    def _book_batch(self):
        """Book these queued events (their rows locked by the job) together; should that
        fail, one at a time, so that one bad event never blocks the others."""
        if len(self) > 1:
            try:
                with self.env.cr.savepoint():
                    self._book_together()
                return
            except Exception as error:  # any failure of the batch: each event is tried on its own below
                self.env.invalidate_all()
                _logger.info(
                    "Bank notifications %s-%s not booked together (%s): one at a time",
                    self[:1].id,
                    self[-1:].id,
                    type(error).__name__,
                )
        for event in self:
            event._book_queued()

    def _book_together(self):
        """Book these queued events in one go: their operations imported per journal by one
        call of the sync's import (`account.journal._bank_crm_book_event_operations`: one
        create of the statement lines, which runs the matching's batch path, the deals'
        payment state and the salespersons' notifications), the events marked in one
        UPDATE per outcome, the balance follow-up asked once per connection."""
        collected = {}
        for event in self:
            outcome = getattr(event, f'_{event.provider_code}_entries')()
            if isinstance(outcome, list):
                journals = event._business_journals(outcome)
                if isinstance(journals, dict):
                    collected[event] = (outcome, journals)
                    continue
            # finished on its own (flagged for a person, or refused): its attempt is counted
            event._schedule_next_attempt()
        by_journal = defaultdict(list)
        for event, (entries, journals) in collected.items():
            for account, make, _event_id in entries:
                journal = journals[account]
                currency = (journal.currency_id or journal.company_id.currency_id).name
                by_journal[journal].append((event, make(currency)))
        created = Counter()
        for journal, pairs in by_journal.items():
            operation_ids = [operation.bank_operation_id for _event, operation in pairs]
            before = self._business_booked_ids(journal, operation_ids)
            journal._bank_crm_book_event_operations([operation for _event, operation in pairs])
            new = self._business_booked_ids(journal, operation_ids) - before
            for event, operation in pairs:
                if operation.bank_operation_id in new:
                    new.discard(operation.bank_operation_id)  # one line is one event's
                    created[event] += 1
        by_count = defaultdict(list)
        for event in collected:
            by_count[created[event]].append(event.id)
        for count, event_ids in by_count.items():
            if count:
                result = _("%(count)s transaction(s) booked.", count=count)
            else:
                result = _("Nothing new: already booked by the sync or an earlier event, or not yet confirmed.")
            self._business_mark_booked(event_ids, count, result)
        connections = {}
        for event in collected:
            connections[event.connection_id] = connections.get(event.connection_id, False) or bool(created[event])
        for connection, balance in connections.items():
            connection._bank_crm_webhook_followup(balance=balance)

    @api.model
    def _business_booked_ids(self, journal, operation_ids):
        """Which of these operation ids have a line on the journal (one query)."""
        self.env['account.bank.statement.line'].flush_model(['journal_id', 'bank_crm_operation_id'])
        self.env.cr.execute(
            "SELECT bank_crm_operation_id FROM account_bank_statement_line"
            " WHERE journal_id = %s AND bank_crm_operation_id = ANY(%s)",
            [journal.id, list(operation_ids)],
        )
        return {row[0] for row in self.env.cr.fetchall()}

    def _business_mark_booked(self, event_ids, count, result):
        """The booked events done, their attempt counted: one UPDATE for them all (a write
        per event was the batch's largest share of queries)."""
        self.flush_model()
        self.env.cr.execute(
            """
            UPDATE bank_webhook_event
               SET state = 'processed', line_count = %s, result = %s, attempt_count = attempt_count + 1,
                   next_attempt_at = NULL, write_uid = %s, write_date = now() AT TIME ZONE 'UTC'
             WHERE id = ANY(%s)
        """,
            [count, result, self.env.uid, event_ids],
        )
        self.browse(event_ids).invalidate_recordset(
            ['state', 'line_count', 'result', 'attempt_count', 'next_attempt_at', 'write_uid', 'write_date']
        )

    def _book_queued(self):
        """Book this queued event on its own (its row locked by the job); a failure is
        recorded on it: failed, with its error, tried again by `_cron_process_waiting` with
        the usual back-off (its claim is its own); a cause a person must remove (an account
        archived, a journal's setting) is also put to an administrator."""
        self.ensure_one()
        for attempt in range(1, BOOKING_ATTEMPTS + 1):
            try:
                with self.env.cr.savepoint():
                    self._book_together()
                return
            except psycopg2.IntegrityError as error:
                if error.diag.constraint_name == LINE_KEY_INDEX and attempt < BOOKING_ATTEMPTS:
                    # the sync booked the same operation meanwhile: the next attempt finds its line
                    self.env.invalidate_all()
                    continue
                failure = error
            except Exception as error:  # any other failure: kept, tried again later, the others go on
                failure = error
            break
        self.env.invalidate_all()
        # the error's text apart from the term: the translations' extractor stops at an f-string in a call
        reason = f'{type(failure).__name__}: {failure}'[:500]
        _logger.warning("Bank notification %s could not be booked (%s); tried again later", self.id, reason)
        result = _("Booking failed (%(error)s); tried again by the job.", error=reason)
        self.write({'state': 'failed', 'result': result})
        self._schedule_next_attempt()
        if isinstance(failure, (UserError, ValidationError)):
            self._business_tell_admin(result)

    def _business_attention(self, message):
        """A genuine notification the code cannot book: kept, flagged for a person
        (an activity on the connection), answered 200 so that the bank stops sending it."""
        self.write({'state': 'attention', 'result': message})
        self._business_tell_admin(message)
        return 200, 'OK'

    def _business_tell_admin(self, message):
        """An activity on the connection for an administrator (one open at a time)."""
        connection = self.connection_id
        summary = _("A bank notification needs attention")
        if connection and not connection.activity_ids.filtered(lambda a: a.summary == summary):
            admins = self.env.ref('base.group_system').users.filtered(lambda u: u.active and not u.share)
            for admin in admins[:1]:
                connection.activity_schedule(
                    'mail.mail_activity_data_todo', user_id=admin.id, summary=summary, note=message
                )
