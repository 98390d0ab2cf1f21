import logging
import time

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..utils import config_number, notification_action
from ..bank_api import BankAuthError, BankError, BankRateLimited
from ..adapters import adapter_for, provider_selection

_logger = logging.getLogger(__name__)


class BankConnection(models.Model):
    """One login to one bank's business API: its credentials (administrators only),
    the accounts it gives access to (bank journals), and how often they are synced."""

    _name = 'bank.connection'
    _description = "Bank Connection"
    _inherit = ['mail.thread', 'mail.activity.mixin']
    _order = 'name'

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one('res.company', required=True, default=lambda self: self.env.company, index=True)
    # the registered adapters' codes, the selection's stored keys (odoo_bank_crm/adapters/)
    provider_code = fields.Selection(selection=provider_selection(), string="Bank", required=True, tracking=True)
    api_url = fields.Char(
        string="API URL",
        required=True,
        help="The bank's API. Keep the default in production; point it at the bank sandbox for demos and tests.",
    )
    api_token = fields.Char(
        string="API Token",
        groups='base.group_system',
        copy=False,
        help="The token issued in the bank's internet bank for this integration. Only administrators can read it.",
    )
    state = fields.Selection(
        selection=[
            ('draft', "Not Connected"),
            ('connected', "Connected"),
            ('error', "Error"),
            ('revoked', "Access Revoked"),
        ],
        default='draft',
        required=True,
        readonly=True,
        tracking=True,
    )
    last_error = fields.Text(readonly=True)
    sync_interval_minutes = fields.Integer(string="Sync Every (minutes)", default=60, required=True)
    last_sync_at = fields.Datetime(string="Last Sync", readonly=True)
    sync_requested_at = fields.Datetime(
        readonly=True,
        copy=False,
        help="A sync is asked for (\"Sync Now\", or a sync that paused to stay within the scheduled job's time): "
        "it runs in the background and clears this when it ends.",
    )
    sync_requested_uid = fields.Many2one(
        'res.users', string="Sync Requested By", readonly=True, copy=False, ondelete='set null'
    )
    last_sync_result = fields.Char(
        readonly=True, copy=False, help="What the last sync asked for with \"Sync Now\" did."
    )
    journal_ids = fields.One2many('account.journal', 'bank_crm_connection_id', string="Accounts")
    journal_count = fields.Integer(compute='_compute_journal_count')
    sync_run_ids = fields.One2many('bank.sync.run', 'connection_id', string="Sync Runs")

    _sql_constraints = [
        ('sync_interval_positive', 'CHECK(sync_interval_minutes > 0)', "The sync interval must be positive."),
    ]

    def _compute_journal_count(self):
        for connection in self:
            connection.journal_count = len(connection.journal_ids)

    @api.onchange('provider_code')
    def _onchange_provider_code(self):
        if self.provider_code and not self.api_url:
            self.api_url = adapter_for(self.provider_code).default_url

    # === BANK CALLS === #

    def _bank_call(self, what, func, *args, **kwargs):
        """Run `func` against the bank; a revoked or wrong token marks the connection and
        tells the administrator; every failure is recorded without secrets and re-raised."""
        self.ensure_one()
        try:
            return func(*args, **kwargs)
        except BankError as error:
            self._bank_crm_record_error(error, what)
            raise

    def _bank_crm_record_error(self, error, what=None):
        """Record a bank error on the connection: a refused token means access was revoked."""
        if isinstance(error, BankAuthError):
            self._bank_crm_set_problem(
                'revoked',
                _("The bank refused the token (%(error)s): renew it in the connection's settings.", error=error),
            )
        else:
            self._bank_crm_set_problem(
                'error', _("%(what)s failed: %(error)s", what=what or _("The sync"), error=error)
            )

    def _bank_crm_set_problem(self, state, message):
        first_time = self.state != state
        self.write({'state': state, 'last_error': message})
        if first_time:
            admins = self.env.ref('base.group_system').users.filtered(lambda u: u.active and not u.share)
            for admin in admins[:5]:
                self.activity_schedule(
                    'mail.mail_activity_data_todo',
                    user_id=admin.id,
                    summary=_("Bank connection needs attention"),
                    note=message,
                )

    def _adapter(self):
        """This connection's bank adapter (odoo_bank_crm/adapters/): all it knows of its bank."""
        self.ensure_one()
        return adapter_for(self.provider_code)

    def _client(self):
        self.ensure_one()
        if not self.sudo().api_token:  # sudo: whether the token is set, never its value
            raise UserError(_("Enter the API token of %(connection)s first.", connection=self.name))
        return self._adapter().client(self)

    def _fetch_accounts(self):
        """The bank's accounts of this login, as `BankAccountInfo` (the connection test)."""
        self.ensure_one()
        accounts = self._bank_call(_("Listing the accounts"), self._adapter().accounts, self._client())
        self.write({'state': 'connected', 'last_error': False})
        return accounts

    def action_test_connection(self):
        try:
            accounts = self._fetch_accounts()
        except BankError as error:
            raise UserError(_("The bank could not be reached with these settings: %(error)s", error=error)) from None
        return notification_action(_("Connected: %(count)s accounts found.", count=len(accounts)), type='success')

    def action_sync_now(self):
        """Queue a sync of every account of these connections and say it has started.

        The sync cron runs it in the background at once (a sync takes minutes on a big
        account, commits page by page and sleeps between retries: no place for a web
        request); when it ends the user gets a notification and the connection's form
        shows the result (docs/sync.md).
        """
        self.write({'sync_requested_at': fields.Datetime.now(), 'sync_requested_uid': self.env.uid})
        self.env.ref('odoo_bank_crm.cron_bank_sync')._trigger()
        return notification_action(
            _(
                "The sync of %(connections)s has started. You will be told when it ends; the result also "
                "shows on the connection and in its sync log.",
                connections=", ".join(self.mapped('name')),
            ),
            next={'type': 'ir.actions.client', 'tag': 'soft_reload'},
        )

    def _bank_crm_sync_requested(self):
        """Run the sync someone asked for with "Sync Now", then tell them and note the result."""
        self.ensure_one()
        requested_at, requester = self.sync_requested_at, self.sync_requested_uid
        runs = self.journal_ids._bank_crm_sync(requested=True)
        if any(run.state == 'paused' for run in runs):
            return runs  # it goes on in the job's next run; the requester is told when it ends
        message, kind = self._bank_crm_sync_result(runs)
        self.invalidate_recordset(['sync_requested_at'])
        values = {'last_sync_result': message}
        if self.sync_requested_at == requested_at:  # not asked again meanwhile
            values.update(sync_requested_at=False, sync_requested_uid=False)
        self.write(values)
        if requester:
            requester._bus_send(
                'simple_notification',
                {
                    'type': kind,
                    'title': _("Bank sync: %(connection)s", connection=self.name),
                    'message': message,
                    'sticky': kind != 'success',
                },
            )
        return runs

    def _bank_crm_sync_result(self, runs):
        """What a sync's runs come to, in a sentence and a notification type."""
        parts = [
            _(
                "%(created)s new transactions, %(skipped)s already known.",
                created=sum(runs.mapped('created_count')),
                skipped=sum(runs.mapped('skipped_count')),
            )
        ]
        for run in runs.filtered(lambda r: r.state == 'failed'):
            parts.append(_("The sync of %(account)s failed: %(error)s", account=run.journal_id.name, error=run.error))
        for run in runs.filtered(lambda r: r.state == 'skipped'):
            parts.append(_("%(account)s: %(note)s", account=run.journal_id.name, note=run.note))
        if any(run.state == 'failed' for run in runs):
            kind = 'danger'
        elif any(run.state == 'skipped' for run in runs):
            kind = 'warning'
        else:
            kind = 'success'
        return " ".join(parts), kind

    def action_view_sync_runs(self):
        action = self.env['ir.actions.act_window']._for_xml_id('odoo_bank_crm.bank_sync_run_action')
        action['domain'] = [('connection_id', 'in', self.ids)]
        return action

    @api.model
    def _cron_sync(self):
        """Sync the connections someone asked for ("Sync Now") or whose sync paused, then
        those whose interval has passed; one failing bank or account does not stop the
        others, and each account's work is committed on its own.

        Within a time budget (`odoo_bank_crm.sync_time_budget_seconds`): past it, a pull
        pauses after its current page and the job runs again at once for the rest, so a
        long first sync is never killed by the worker's time limit (docs/sync.md)."""
        budget = config_number(self.env, 'odoo_bank_crm.sync_time_budget_seconds', *const.SYNC_TIME_BUDGET_LIMITS)
        connections = self.with_context(bank_crm_sync_deadline=time.monotonic() + budget)
        requested = connections.search([('sync_requested_at', '!=', False)], order='sync_requested_at')
        worked = False  # every run of the job moves at least one pull on
        for connection in requested:
            if worked and connection._bank_crm_sync_out_of_time():
                return
            connection._bank_crm_sync_requested()
            worked = True
        now = fields.Datetime.now()
        for connection in connections.search(
            [('state', 'in', ('connected', 'error')), ('id', 'not in', requested.ids)]
        ):
            due = (
                not connection.last_sync_at
                or (now - connection.last_sync_at).total_seconds() >= connection.sync_interval_minutes * 60
            )
            if due:
                if worked and connection._bank_crm_sync_out_of_time():
                    return
                connection.journal_ids._bank_crm_sync(manual=False)
                worked = True

    def _bank_crm_sync_out_of_time(self):
        """Whether the scheduled sync's time budget is spent; if so the job is run again at
        once for what is left (the connections still requested or due)."""
        deadline = self.env.context.get('bank_crm_sync_deadline')
        if deadline is None or time.monotonic() < deadline:
            return False
        self.env.ref('odoo_bank_crm.cron_bank_sync')._trigger()
        return True

    def _bank_crm_continue_sync(self):
        """A pull paused to stay within the job's time: the connection is asked for again
        (keeping who asked first, told when it all ends) and the job runs again at once."""
        for connection in self.filtered(lambda c: not c.sync_requested_at):
            connection.sync_requested_at = fields.Datetime.now()
        self.env.ref('odoo_bank_crm.cron_bank_sync')._trigger()


class BankSyncRun(models.Model):
    """One pull of one account's statement: what was fetched, created and skipped, how
    long it took, what went wrong, and the cursor a failed pull resumes from."""

    _name = 'bank.sync.run'
    _description = "Bank Sync Run"
    _order = 'id desc'
    _check_company_auto = True

    connection_id = fields.Many2one(
        'bank.connection', required=True, ondelete='cascade', index=True, readonly=True, check_company=True
    )
    journal_id = fields.Many2one(
        'account.journal', string="Account", required=True, ondelete='cascade', index=True, readonly=True
    )
    company_id = fields.Many2one(related='journal_id.company_id', store=True)
    state = fields.Selection(
        [
            ('running', "Running"),
            ('done', "Done"),
            ('failed', "Failed"),
            ('interrupted', "Interrupted"),
            ('skipped', "Skipped"),
            ('paused', "Paused"),
        ],
        default='running',
        required=True,
        readonly=True,
        help="Interrupted: the process running it stopped (a crash or a restart); the next sync resumes from "
        "its cursor. Skipped: another sync of the same account was running. Paused: stopped between pages to "
        "stay within the scheduled job's time; the job continues from its cursor at once.",
    )
    date_from = fields.Date(string="From", required=True, readonly=True)
    date_to = fields.Date(string="To", required=True, readonly=True)
    started_at = fields.Datetime(string="Started", default=fields.Datetime.now, readonly=True)
    finished_at = fields.Datetime(string="Finished", readonly=True)
    duration = fields.Float(string="Seconds", readonly=True, digits=(16, 2))
    fetched_count = fields.Integer(string="Fetched", readonly=True)
    created_count = fields.Integer(string="Created", readonly=True)
    skipped_count = fields.Integer(
        string="Skipped", readonly=True, help="Already known (same bank operation) or not yet confirmed by the bank."
    )
    cursor = fields.Char(string="Resume From", readonly=True, help="Where the next attempt continues.")
    matched_count = fields.Integer(
        string="Matched", readonly=True, help="Incoming transactions booked by this run and matched to an invoice."
    )
    pages_count = fields.Integer(string="Pages", readonly=True, help="Pages of the statement fetched and booked.")
    resumed_run_id = fields.Many2one(
        'bank.sync.run',
        readonly=True,
        ondelete='set null',
        help="The failed or interrupted run this one continued from its cursor.",
    )
    note = fields.Text(readonly=True, help="Where this run started, or why it did not run.")
    error = fields.Text(readonly=True)
    manual = fields.Boolean(readonly=True)

    def _bank_crm_progress(self):
        """What the account's card shows of this run: its state and counts so far."""
        self.ensure_one()
        return {
            'state': self.state,
            'fetched': self.fetched_count,
            'created': self.created_count,
            'matched': self.matched_count,
        }

    def _bank_crm_push_progress(self):
        """Push the run's progress to whoever asked for the sync (the first sync of a new
        account, "Sync Now"), by the bus: the dashboard's card of the account shows it live
        and reloads when the run ends. Sent with the page's commit; a sync nobody asked for
        (the schedule) pushes nothing."""
        for run in self:
            requester = run.connection_id.sync_requested_uid
            if requester:
                requester._bus_send(
                    'bank_crm_sync_progress', {'journal_id': run.journal_id.id, **run._bank_crm_progress()}
                )


def sleep_before_retry(env, attempt, error):
    """Back off before retrying a bank call: the bank's Retry-After, else exponential."""
    base = config_number(env, 'odoo_bank_crm.sync_backoff_seconds', *const.SYNC_BACKOFF_LIMITS)
    delay = error.retry_after if isinstance(error, BankRateLimited) and error.retry_after else base * 2**attempt
    time.sleep(min(delay, 60))


__all__ = ['BankConnection', 'BankSyncRun', 'sleep_before_retry']
