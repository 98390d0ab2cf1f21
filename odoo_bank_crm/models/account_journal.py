import json
import logging
import time
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import date_utils
from odoo.tools.misc import format_date

from .. import const, demo_data
from ..bank_api import BankAuthError, BankError, BankProtocolError, BankRateLimited, BankUnavailable
from .bank_connection import sleep_before_retry
from .odoo_compat import can_commit
from ..adapters import adapter_for

_logger = logging.getLogger(__name__)


class AccountJournal(models.Model):
    _inherit = 'account.journal'

    bank_crm_currency_id = fields.Many2one(
        'res.currency', string="Account Currency", compute='_compute_bank_crm_currency_id'
    )
    bank_crm_balance = fields.Monetary(
        string="Balance",
        currency_field='bank_crm_currency_id',
        compute='_compute_bank_crm_figures',
        help="Sum of every transaction of this account recorded in Odoo.",
    )
    bank_crm_month_income = fields.Monetary(
        string="Income This Month", currency_field='bank_crm_currency_id', compute='_compute_bank_crm_figures'
    )
    bank_crm_month_expense = fields.Monetary(
        string="Expenses This Month", currency_field='bank_crm_currency_id', compute='_compute_bank_crm_figures'
    )
    bank_crm_transaction_count = fields.Integer(string="Transactions", compute='_compute_bank_crm_figures')
    bank_crm_last_transaction_date = fields.Date(string="Last Transaction", compute='_compute_bank_crm_figures')
    bank_crm_connection_id = fields.Many2one(
        'bank.connection',
        string="Bank Connection",
        index='btree_not_null',
        ondelete='set null',
        copy=False,
        check_company=True,
        help="The bank login whose API this account's transactions are synced from.",
    )
    bank_crm_bank_account_ref = fields.Char(
        string="Bank's Account Id",
        copy=False,
        help="The id of this account in the bank's API (the account number, or number/BIC).",
    )
    bank_crm_sync_start_date = fields.Date(string="Sync From", copy=False, help="The first day the first sync reads.")
    bank_crm_bank_balance = fields.Monetary(
        string="Bank's Balance",
        currency_field='bank_crm_currency_id',
        copy=False,
        readonly=True,
        help="The balance the bank reported at the last sync.",
    )
    bank_crm_bank_balance_date = fields.Datetime(string="Bank's Balance At", copy=False, readonly=True)
    bank_crm_last_sync = fields.Datetime(string="Last Sync", copy=False, readonly=True)
    bank_crm_balance_difference = fields.Monetary(
        string="Difference With the Bank",
        currency_field='bank_crm_currency_id',
        compute='_compute_bank_crm_figures',
        help="The bank's balance minus the balance of the transactions in Odoo: not zero means "
        "transactions are missing or duplicated.",
    )
    bank_crm_to_match_count = fields.Integer(
        string="To Match",
        compute='_compute_bank_crm_figures',
        help="Incoming transactions not yet matched to an invoice.",
    )

    bank_crm_sync_progress = fields.Json(
        string="Sync Progress",
        compute='_compute_bank_crm_sync_progress',
        help="The sync asked for and not yet ended (the first sync of a new account, \"Sync Now\"): queued, or "
        "running with the operations fetched, booked and matched so far. The dashboard's card shows it, "
        "updated live by the bus.",
    )

    @api.depends('currency_id', 'company_id.currency_id')
    def _compute_bank_crm_currency_id(self):
        for journal in self:
            journal.bank_crm_currency_id = journal.currency_id or journal.company_id.currency_id

    def _compute_bank_crm_figures(self):
        """Balances and this month's movements of all journals in two grouped queries."""
        Line = self.env['account.bank.statement.line']
        base_domain = [('journal_id', 'in', self.ids), ('state', '!=', 'cancel')]
        totals = {
            journal.id: (balance, count, last_date)
            for journal, balance, count, last_date in Line._read_group(
                base_domain, ['journal_id'], ['amount:sum', '__count', 'date:max']
            )
        }
        to_match = dict(
            Line._read_group(
                base_domain + [('bank_crm_direction', '=', 'inbound'), ('is_reconciled', '=', False)],
                ['journal_id'],
                ['__count'],
            )
        )
        month_start = date_utils.start_of(fields.Date.context_today(self), 'month')
        movements = {
            (journal.id, direction): amount
            for journal, direction, amount in Line._read_group(
                base_domain + [('date', '>=', month_start)], ['journal_id', 'bank_crm_direction'], ['amount:sum']
            )
        }
        for journal in self:
            balance, count, last_date = totals.get(journal.id, (0.0, 0, False))
            journal.bank_crm_balance = balance
            journal.bank_crm_transaction_count = count
            journal.bank_crm_last_transaction_date = last_date
            journal.bank_crm_month_income = movements.get((journal.id, 'inbound'), 0.0)
            journal.bank_crm_month_expense = -movements.get((journal.id, 'outbound'), 0.0)
            journal.bank_crm_to_match_count = to_match.get(journal, 0)
            journal.bank_crm_balance_difference = (
                journal.bank_crm_currency_id.round(journal.bank_crm_bank_balance - balance)
                if journal.bank_crm_bank_balance_date
                else 0.0
            )

    def _compute_bank_crm_sync_progress(self):
        """Queued (asked for, the job has not started it) or running, with its counts; one query.
        A large 1C import into the account (`bank.crm.onec.import.job`) shows the same way.

        Shown on the card to whoever sees the account: the sync log and the connections are
        for administrators and directors, so they are read as superuser here, for these
        journals only and for counts of operations (no amount, no credential)."""
        # sudo: the running pull's counts of these journals (the sync log is for administrators)
        Run = self.env['bank.sync.run'].sudo()
        running = {
            run.journal_id.id: run
            for run in Run.search([('journal_id', 'in', self.ids), ('state', '=', 'running')], order='id')
        }
        # sudo: whether these journals' connection has a sync asked for, nothing else of it
        requested = self.sudo().bank_crm_connection_id.filtered('sync_requested_at')
        # sudo: the counts of a large 1C import into these journals (its file is its requester's)
        Job = self.env['bank.crm.onec.import.job'].sudo()
        jobs = Job.search([('journal_id', 'in', self.ids), ('state', 'in', ('queued', 'running'))], order='id desc')
        importing = {job.journal_id.id: job for job in jobs}
        for journal in self:
            run = running.get(journal.id)
            if run:
                journal.bank_crm_sync_progress = run._bank_crm_progress()
            elif journal.id in importing:
                journal.bank_crm_sync_progress = importing[journal.id]._bank_crm_progress()
            elif journal.sudo().bank_crm_connection_id in requested:  # sudo: as above, the connection only
                journal.bank_crm_sync_progress = {'state': 'queued', 'fetched': 0, 'created': 0, 'matched': 0}
            else:
                journal.bank_crm_sync_progress = False

    def action_bank_crm_open_transactions(self):
        """The Transactions list, filtered on this account."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('odoo_bank_crm.account_bank_statement_line_action')
        action['domain'] = [('journal_id', '=', self.id)]
        action['context'] = {'default_journal_id': self.id, 'search_default_group_by_month': 1}
        action['display_name'] = self.display_name
        return action

    def action_bank_crm_open_to_match(self):
        """This account's incoming transactions not yet matched to an invoice."""
        action = self.action_bank_crm_open_transactions()
        action['context'] = {
            'default_journal_id': self.id,
            'search_default_filter_inbound': 1,
            'search_default_filter_not_matched': 1,
        }
        return action

    # === STATEMENT SYNC (OCA account_statement_import_online's shape: one pipeline, thin banks) === #

    def _bank_crm_sync(self, manual=False, date_from=None, date_to=None, requested=False):
        """Pull each account's statement from its bank and book the new confirmed operations.

        Incremental: from the last successful pull's end minus an overlap window (late
        bookings), or from the chosen start date. A pull that failed or was interrupted
        resumes from its saved cursor. Retries with backoff on rate limits, 5xx and
        timeouts. Every pull is logged as a `bank.sync.run`. One pull of an account at a
        time: while another process pulls it, this one is logged as skipped (docs/sync.md).

        :param bool manual: raise the bank's error to the user instead of only logging it
        :param bool requested: a person asked for it ("Sync Now"), the cron runs it
        :return: the sync runs
        """
        runs = self.env['bank.sync.run']
        for journal in self.filtered('bank_crm_connection_id'):
            with journal._bank_crm_sync_lock() as locked:
                if not locked:
                    runs |= journal._bank_crm_skipped_run(manual or requested)
                    continue
                if can_commit(self.env):
                    # a snapshot taken now, under the lock, sees all that a pull which just
                    # ended booked (Odoo's transactions are REPEATABLE READ)
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                run = journal._bank_crm_start_run(manual or requested, date_from, date_to)
                runs |= run
                if can_commit(self.env):
                    # the log shows the pull as running at once; a crash leaves it to be found
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                journal._bank_crm_run_sync(run)
                journal.bank_crm_connection_id.last_sync_at = fields.Datetime.now()
                run._bank_crm_push_progress()  # ended: the card reloads its balances
                if can_commit(self.env):
                    # each account's sync is its own unit of work: one failing never undoes another
                    self.env.cr.commit()  # pylint: disable=invalid-commit
            if manual and run.state == 'failed':
                raise UserError(_("The sync of %(account)s failed: %(error)s", account=journal.name, error=run.error))
        return runs

    @contextmanager
    def _bank_crm_sync_lock(self):
        """Whether this process may pull this account now: a PostgreSQL advisory lock per
        account, taken without waiting on a cursor of its own and held until the pull
        ends. The sync commits page by page, so a lock of its own transaction would not
        last; the lock's transaction ends with the pull, or with its process (a killed
        server's connection is closed by PostgreSQL, which frees the lock).

        :return: a context manager yielding True when the lock is taken
        """
        self.ensure_one()
        with self.env.registry.cursor() as lock_cr:
            lock_cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [const.SYNC_LOCK_NAMESPACE, self.id])
            yield lock_cr.fetchone()[0]

    def _bank_crm_skipped_run(self, manual):
        """Log a pull that did not run because another one of the same account is running."""
        self.ensure_one()
        Run = self.env['bank.sync.run']
        running = Run.search([('journal_id', '=', self.id), ('state', '=', 'running')], order='id desc', limit=1)
        today = fields.Date.context_today(self)
        if running:
            message = _(
                "Skipped: another sync of this account was running (run #%(run)s, started %(started)s); "
                "it books the same operations.",
                run=running.id,
                started=running.started_at,
            )
        else:
            message = _("Skipped: another sync of this account was running; it books the same operations.")
        return Run.create(
            {
                'connection_id': self.bank_crm_connection_id.id,
                'journal_id': self.id,
                'state': 'skipped',
                'date_from': running.date_from or today,
                'date_to': running.date_to or today,
                'finished_at': fields.Datetime.now(),
                'manual': manual,
                'note': message,
            }
        )

    def _bank_crm_start_run(self, manual, date_from=None, date_to=None):
        """A new run of this account's pull. Called under the account's sync lock, so a run
        still marked running was left by a process that died: it is marked interrupted,
        and the new run resumes from its cursor."""
        self.ensure_one()
        Run = self.env['bank.sync.run']
        today = fields.Date.context_today(self)
        orphans = Run.search([('journal_id', '=', self.id), ('state', '=', 'running')])
        for orphan in orphans:
            orphan.write(
                {
                    'state': 'interrupted',
                    'finished_at': fields.Datetime.now(),
                    'error': _(
                        "Interrupted after %(pages)s pages (%(fetched)s operations): the process running this "
                        "sync stopped before it ended (a crash or a restart). Found when the next sync of the "
                        "account started.",
                        pages=orphan.pages_count,
                        fetched=orphan.fetched_count,
                    ),
                }
            )
        failed = Run.search(
            [('journal_id', '=', self.id), ('state', 'in', ('failed', 'interrupted', 'paused'))],
            order='id desc',
            limit=1,
        )
        last_done = Run.search([('journal_id', '=', self.id), ('state', '=', 'done')], order='id desc', limit=1)
        note = False
        if failed and failed.cursor and (not last_done or failed.id > last_done.id) and not date_from:
            # resume where it stopped, same window
            date_from, date_to, resume_from = failed.date_from, failed.date_to, failed.cursor
            note = _(
                "Resumed run #%(run)s (%(state)s) from its cursor, after the %(pages)s pages and %(fetched)s "
                "operations it had fetched.",
                run=failed.id,
                state=dict(failed._fields['state']._description_selection(self.env))[failed.state],
                pages=failed.pages_count,
                fetched=failed.fetched_count,
            )
        else:
            failed = Run
            resume_from = False
            if not date_from:
                if last_done:
                    date_from = last_done.date_to - timedelta(days=const.SYNC_OVERLAP_DAYS)
                else:
                    date_from = self.bank_crm_sync_start_date or today - timedelta(days=const.SYNC_DEFAULT_HISTORY_DAYS)
                if self.bank_crm_sync_start_date:
                    date_from = max(date_from, self.bank_crm_sync_start_date)
        return Run.create(
            {
                'connection_id': self.bank_crm_connection_id.id,
                'journal_id': self.id,
                'date_from': date_from,
                'date_to': date_to or today,
                'cursor': resume_from,
                'resumed_run_id': failed.id,
                'note': note,
                'manual': manual,
            }
        )

    def _bank_crm_run_sync(self, run):
        """Fetch the run's pages (resuming at its cursor), book each page at once."""
        self.ensure_one()
        connection = self.bank_crm_connection_id
        adapter = adapter_for(connection.provider_code)
        started = fields.Datetime.now()
        attempt = 0
        run._bank_crm_push_progress()
        while True:
            try:
                client = connection._client()
                pages = adapter.pages(client, self, run.date_from, run.date_to, cursor=run.cursor or None)
                for page in pages:
                    created, skipped, matched = self._bank_crm_import_counted(page.operations)
                    values = {
                        'cursor': page.next_cursor or False,
                        'fetched_count': run.fetched_count + len(page.operations),
                        'created_count': run.created_count + created,
                        'skipped_count': run.skipped_count + skipped,
                        'matched_count': run.matched_count + matched,
                        'pages_count': run.pages_count + 1,
                    }
                    run.write(values)
                    run._bank_crm_push_progress()
                    if page.balance is not None:
                        # sudo: the sync's own bookkeeping on the journal (the balance the bank
                        # reported), whoever clicked "Sync Now"; editing journals stays for accountants
                        self.sudo().write(
                            {
                                'bank_crm_bank_balance': float(page.balance),
                                'bank_crm_bank_balance_date': fields.Datetime.now(),
                            }
                        )
                    if can_commit(self.env):
                        # a crash later resumes after this page
                        self.env.cr.commit()  # pylint: disable=invalid-commit
                    if page.next_cursor and self._bank_crm_sync_out_of_time():
                        run.write(
                            {
                                'state': 'paused',
                                'finished_at': fields.Datetime.now(),
                                'duration': (fields.Datetime.now() - started).total_seconds(),
                                'note': _(
                                    "Paused after %(pages)s pages to stay within the scheduled job's time; the job "
                                    "continues from the cursor at once.",
                                    pages=run.pages_count,
                                ),
                            }
                        )
                        connection._bank_crm_continue_sync()
                        return run
                break
            except BankError as error:
                attempt += 1
                if error.retryable and attempt <= const.SYNC_MAX_RETRIES:
                    _logger.info("Bank sync of journal %s: %s, retry %s", self.id, error, attempt)
                    sleep_before_retry(self.env, attempt - 1, error)
                    continue
                connection._bank_crm_record_error(error)
                run.write(
                    {
                        'state': 'failed',
                        'error': self._bank_crm_sync_error_text(error),
                        'finished_at': fields.Datetime.now(),
                        'duration': (fields.Datetime.now() - started).total_seconds(),
                    }
                )
                return run
            except UserError as error:
                run.write({'state': 'failed', 'error': str(error), 'finished_at': fields.Datetime.now()})
                return run
        run.write(
            {
                'state': 'done',
                'finished_at': fields.Datetime.now(),
                'cursor': False,
                'duration': (fields.Datetime.now() - started).total_seconds(),
            }
        )
        # sudo: the sync's own bookkeeping, as for the bank's balance above
        self.sudo().bank_crm_last_sync = fields.Datetime.now()
        if connection.state != 'connected':
            connection.write({'state': 'connected', 'last_error': False})
        return run

    def _bank_crm_sync_out_of_time(self):
        """Whether the scheduled sync that runs this pull has spent its time budget
        (`bank.connection._cron_sync`); a pull outside the job has none."""
        deadline = self.env.context.get('bank_crm_sync_deadline')
        return deadline is not None and time.monotonic() >= deadline

    def _bank_crm_sync_error_text(self, error):
        """What a failed pull's run says: what kind of failure, the HTTP status when there
        was one, and the bank's own words (bank errors carry no secrets)."""
        if isinstance(error, BankAuthError):
            problem = _("The bank refused the token")
        elif isinstance(error, BankRateLimited):
            problem = _("The bank kept asking to slow down")
        elif isinstance(error, BankUnavailable):
            problem = _("The bank did not answer or failed")
        elif isinstance(error, BankProtocolError):
            problem = _("The bank's answer could not be read")
        else:
            problem = _("The bank refused the request")
        if error.http_status:
            return _("%(problem)s (HTTP %(status)s): %(error)s", problem=problem, status=error.http_status, error=error)
        return _("%(problem)s: %(error)s", problem=problem, error=error)

    def _bank_crm_import_operations(self, operations):
        """Book the confirmed operations this account does not have yet, in one batch.

        Known operations are recognised by the bank's id (a unique key per account), and,
        for banks that re-issue ids (T-Bank's night operations), by their fallback key.
        Counterparties are recognised by INN and account number, in two queries.
        :return: (created, skipped)
        """
        self.ensure_one()
        currency = self.currency_id or self.company_id.currency_id
        confirmed = [op for op in operations if op.confirmed and op.currency == currency.name]
        skipped = len(operations) - len(confirmed)
        if not confirmed:
            return 0, skipped
        Line = self.env['account.bank.statement.line']
        keys = {op.bank_operation_id: Line._bank_crm_fallback_key(op) for op in confirmed}
        self.env.cr.execute(
            """
            SELECT bank_crm_operation_id, bank_crm_fallback_key FROM account_bank_statement_line
             WHERE journal_id = %s AND (bank_crm_operation_id = ANY(%s) OR bank_crm_fallback_key = ANY(%s))
        """,
            [self.id, list(keys), list(set(keys.values()))],
        )
        # A known line stands for a re-identified operation only while its own id is absent
        # from this answer (if the bank still lists it, an operation alike is another one),
        # and for one operation at most: alike operations under distinct ids in one answer
        # (two card payments of the same sum, day and payee) are each booked.
        page_ids = {op.bank_operation_id for op in confirmed}
        known_ids, unclaimed = set(), Counter()
        for operation_id, fallback_key in self.env.cr.fetchall():
            known_ids.add(operation_id)
            if operation_id not in page_ids:
                unclaimed[fallback_key] += 1
        new_operations = []
        for op in confirmed:
            key = keys[op.bank_operation_id]
            if op.bank_operation_id in known_ids:
                skipped += 1
                continue
            known_ids.add(op.bank_operation_id)
            if unclaimed[key]:
                unclaimed[key] -= 1
                skipped += 1
                continue
            new_operations.append(op)
        partners = self.env['res.partner']._bank_crm_find_counterparties(new_operations, self.company_id)
        Line.create([Line._bank_crm_line_values(self, op, partners) for op in new_operations])
        return len(new_operations), skipped

    def _bank_crm_import_counted(self, operations):
        """`_bank_crm_import_operations`, with how many of the lines it created are incoming
        and matched at once: the progress a card shows (a sync's page, a 1C import's chunk).

        :return: (created, skipped, matched)
        """
        Line = self.env['account.bank.statement.line']
        last_line = Line.search([], order='id desc', limit=1)
        created, skipped = self._bank_crm_import_operations(operations)
        if not created:
            return created, skipped, 0
        matched = Line.search_count(
            [
                ('id', '>', last_line.id),
                ('journal_id', '=', self.id),
                # these operations' lines only, not those another job books meanwhile
                ('bank_crm_operation_id', 'in', [operation.bank_operation_id for operation in operations]),
                ('bank_crm_direction', '=', 'inbound'),
                ('is_reconciled', '=', True),
            ]
        )
        return created, skipped, matched

    def _bank_crm_book_event_operations(self, operations):
        """Book the operations a bank's webhook reported on this account, exactly as a
        statement page (`_bank_crm_import_operations`): the same keys, so the sync finds
        the line and skips it (and an event for a synced operation books nothing), then
        the same matching, deal payment state and salesperson notification, which the
        statement lines' creation runs (docs/bank-webhooks.md).
        :return: (created, skipped)
        """
        self.ensure_one()
        return self._bank_crm_import_operations(operations)

    # The Account dashboard's card: income and expenses of the last months

    bank_crm_dashboard_graph = fields.Text(
        string="Income and Expenses Chart",
        compute='_compute_bank_crm_dashboard_graph',
        help="Income and expenses of the last six months, for the dashboard card.",
    )

    @api.depends_context('lang')
    def _compute_bank_crm_dashboard_graph(self):
        """Income (bars up) and expenses (bars down) of each of the last six months, for
        every card of the dashboard in one grouped query; the data of Odoo's
        `dashboard_graph` widget."""
        this_month = date_utils.start_of(fields.Date.context_today(self), 'month')
        months = [this_month - relativedelta(months=back) for back in range(5, -1, -1)]
        journals = self.filtered(lambda journal: journal._origin.id)
        sums = {}
        if journals:
            sums = {
                (journal.id, month, direction): amount
                for journal, month, direction, amount in self.env['account.bank.statement.line']._read_group(
                    [('journal_id', 'in', journals._origin.ids), ('state', '!=', 'cancel'), ('date', '>=', months[0])],
                    ['journal_id', 'date:month', 'bank_crm_direction'],
                    ['amount:sum'],
                )
            }
        labels = [format_date(self.env, month, date_format='LLL') for month in months]
        for journal in self:
            currency = journal.currency_id or journal.company_id.currency_id
            values = []
            for month, label in zip(months, labels):
                key = (journal._origin.id, month)
                values.append(
                    {'label': label, 'type': 'past', 'value': currency.round(sums.get(key + ('inbound',), 0.0))}
                )
                # the month's second bar: its label is the first's (one label a month)
                values.append(
                    {'label': '', 'type': 'future', 'value': currency.round(sums.get(key + ('outbound',), 0.0))}
                )
            journal.bank_crm_dashboard_graph = json.dumps(
                [
                    {
                        'values': values,
                        'title': _("Income and expenses"),
                        'key': _("Income and expenses"),
                        'is_sample_data': False,
                    }
                ]
            )

    @api.model
    def _bank_crm_generate_demo_data(self):
        """The demo's dated records, called once from demo/bank_crm_demo.xml; the generator is
        `odoo_bank_crm/demo_data.py` (demo data is no part of the product's models)."""
        demo_data.generate(self.env)
