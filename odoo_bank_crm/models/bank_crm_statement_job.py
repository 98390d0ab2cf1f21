import logging

from odoo import _, api, fields, models

from .odoo_compat import can_commit, trigger_cron_now

_logger = logging.getLogger(__name__)

# A statement over more days than this, or of more lines than that, is made by the job
# (`bank.crm.statement.job`), a shorter one at once (docs/sync.md, "Long statements as a job").
STATEMENT_JOB_MIN_DAYS = 366
STATEMENT_JOB_MIN_LINES = 20000

# The statement wizard's choices the job makes the statement of again, as its requester
_WIZARD_FIELDS = (
    'company_id',
    'date_from',
    'date_to',
    'journal_ids',
    'partner_filter',
    'partner_ids',
    'partner_category_ids',
    'category_ids',
    'direction',
    'encoding',
)


class BankCrmStatementJob(models.Model):
    """A long statement asked for in the statement wizard, made by a job as its requester
    (their rights, their language) and attached here: only they (and administrators) read it."""

    _name = 'bank.crm.statement.job'
    _description = "Statement Job"
    _order = 'id desc'

    company_id = fields.Many2one('res.company', required=True, readonly=True)
    user_id = fields.Many2one(
        'res.users', string="Requested By", required=True, readonly=True, default=lambda self: self.env.user
    )
    kind = fields.Selection(
        [('pdf', "PDF"), ('xlsx', "XLSX"), ('onec', "1C")], string="Format", required=True, readonly=True
    )
    wizard_values = fields.Json(readonly=True, help="The statement's period, accounts and filters.")
    state = fields.Selection(
        [('queued', "Queued"), ('done', "Done"), ('failed', "Failed")],
        default='queued',
        required=True,
        readonly=True,
        index=True,
    )
    attachment_id = fields.Many2one('ir.attachment', string="Statement File", readonly=True)
    error = fields.Text(readonly=True)

    @api.model
    def _bank_crm_queue(self, wizard, kind):
        values = {}
        for name in _WIZARD_FIELDS:
            value = wizard[name]
            if isinstance(value, models.BaseModel):
                value = value.ids if wizard._fields[name].type == 'many2many' else value.id
            elif name in ('date_from', 'date_to'):
                value = fields.Date.to_string(value)
            values[name] = value
        job = self.create({'company_id': wizard.company_id.id, 'kind': kind, 'wizard_values': values})
        trigger_cron_now(self.env, 'odoo_bank_crm.cron_bank_crm_statement')
        return job

    @api.model
    def _cron_run(self):
        for job in self.search([('state', '=', 'queued')], order='id'):
            job._bank_crm_run()
            if can_commit(self.env):
                self.env.cr.commit()  # pylint: disable=invalid-commit

    def _bank_crm_wizard(self):
        """The statement wizard as its requester filled it, in their environment."""
        self.ensure_one()
        values = dict(self.wizard_values)
        for name in ('journal_ids', 'partner_ids', 'partner_category_ids', 'category_ids'):
            values[name] = [(6, 0, values[name])]
        user = self.user_id
        env = self.env(user=user.id, su=False, context=dict(self.env.context, lang=user.lang, tz=user.tz))
        return env['bank.crm.statement.wizard'].with_company(self.company_id).create(values)

    def _bank_crm_run(self):
        self.ensure_one()
        try:
            wizard = self._bank_crm_wizard()
            content, filename, mimetype = wizard._bank_crm_file(self.kind)
        except Exception as error:  # any failure ends the job, its requester told why
            if not can_commit(self.env):
                raise
            _logger.exception("Statement job %s failed", self.id)
            self.env.cr.rollback()
            self.write({'state': 'failed', 'error': str(error)})
            self._bank_crm_notify()
            return
        attachment = self.env['ir.attachment'].create(
            {
                'name': filename,
                'raw': content,
                'mimetype': mimetype,
                'res_model': self._name,
                'res_id': self.id,
            }
        )
        self.write({'state': 'done', 'attachment_id': attachment.id})
        self._bank_crm_notify()

    def _bank_crm_notify(self):
        """Tell the requester: the file's download link, or why there is none."""
        self.ensure_one()
        if self.state == 'done':
            payload = {
                'type': 'success',
                'title': _("Statement"),
                'message': _("Your statement %(name)s is ready.", name=self.attachment_id.name),
                'url': f'/web/content/{self.attachment_id.id}?download=true',
                'button': _("Download"),
            }
        else:
            payload = {
                'type': 'danger',
                'title': _("Statement"),
                'message': _("Your statement could not be made: %(error)s", error=self.error),
            }
        self.user_id._bus_send('bank_crm_statement_ready', payload)
