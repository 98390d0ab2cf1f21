import datetime as dt
import logging
from decimal import Decimal

from odoo import _, api, fields, models

from ..bank_api.statement import BankOperation
from .odoo_compat import can_commit, trigger_cron_now

_logger = logging.getLogger(__name__)

# A 1C file of more documents than this is booked by the job (`bank.crm.onec.import.job`),
# a smaller one at once in the request (docs/sync.md, "Large 1C imports as a job").
ONEC_IMPORT_JOB_MIN_DOCUMENTS = 500
# Documents booked, then committed, per chunk of the job: a crash resumes after the last chunk.
ONEC_IMPORT_CHUNK = 200

# What of a 1C document's operation the job keeps (`BankCrmOneCImportWizard._operation`)
_TEXT_FIELDS = (
    'bank_operation_id',
    'currency',
    'purpose',
    'counterparty_name',
    'counterparty_inn',
    'counterparty_kpp',
    'counterparty_account',
    'counterparty_bic',
    'counterparty_bank_name',
    'document_number',
)


def operation_to_json(operation):
    """A 1C document's operation as JSON: the amount as a decimal string (exact), the day ISO."""
    values = {name: getattr(operation, name) for name in _TEXT_FIELDS}
    values.update(date=operation.date.isoformat(), amount=str(operation.amount), confirmed=operation.confirmed)
    return values


def operation_from_json(values):
    """The operation `operation_to_json` stored, as it was."""
    return BankOperation(
        **{name: values[name] for name in _TEXT_FIELDS},
        date=dt.date.fromisoformat(values['date']),
        amount=Decimal(values['amount']),
        confirmed=values['confirmed'],
    )


class BankCrmOneCImportJob(models.Model):
    """A large 1C file, parsed and checked in the request, booked by a job in committed
    chunks (docs/sync.md, "Large 1C imports as a job"). Readable only by whoever imported
    it (and administrators): it holds the file's payments."""

    _name = 'bank.crm.onec.import.job'
    _description = "1C Statement Import Job"
    _order = 'id desc'

    journal_id = fields.Many2one('account.journal', string="Account", required=True, readonly=True, index=True)
    company_id = fields.Many2one(related='journal_id.company_id', store=True)
    user_id = fields.Many2one(
        'res.users', string="Imported By", required=True, readonly=True, default=lambda self: self.env.user
    )
    filename = fields.Char(readonly=True)
    state = fields.Selection(
        [('queued', "Queued"), ('running', "Running"), ('done', "Done"), ('failed', "Failed")],
        default='queued',
        required=True,
        readonly=True,
        index=True,
    )
    operations = fields.Json(
        readonly=True, prefetch=False, help="The documents of the file, parsed and checked, to be booked."
    )
    parsed_count = fields.Integer(string="Parsed", readonly=True, help="Documents in the file.")
    position = fields.Integer(readonly=True, help="Documents booked or found already there so far.")
    created_count = fields.Integer(string="Booked", readonly=True, help="Transactions booked by this import.")
    skipped_count = fields.Integer(string="Already There", readonly=True)
    matched_count = fields.Integer(
        string="Matched", readonly=True, help="Incoming transactions booked by this import and matched to an invoice."
    )
    error = fields.Text(readonly=True)

    @api.model
    def _bank_crm_queue(self, journal, operations, filename=None):
        """Store the checked operations for the job and trigger it after this commit."""
        job = self.create(
            {
                'journal_id': journal.id,
                'filename': filename,
                'operations': [operation_to_json(operation) for operation in operations],
                'parsed_count': len(operations),
            }
        )
        trigger_cron_now(self.env, 'odoo_bank_crm.cron_bank_crm_onec_import')
        return job

    @api.model
    def _cron_run(self):
        """Book the queued and interrupted imports, oldest first."""
        for job in self.search([('state', 'in', ('queued', 'running'))], order='id'):
            job._bank_crm_run()
            if can_commit(self.env):
                # its end, and the requester's notification, before the next import
                self.env.cr.commit()  # pylint: disable=invalid-commit

    def _bank_crm_progress(self):
        """What the account's card shows of this import (the keys of a sync's progress)."""
        self.ensure_one()
        return {
            'state': self.state,
            'fetched': self.parsed_count,
            'created': self.created_count,
            'matched': self.matched_count,
            'onec_import': True,
        }

    def _bank_crm_push_progress(self):
        for job in self:
            job.user_id._bus_send(
                'bank_crm_sync_progress', {'journal_id': job.journal_id.id, **job._bank_crm_progress()}
            )

    def _bank_crm_run(self):
        """Book the documents left, a committed chunk at a time: the position is written
        with its chunk, and the booking skips what the account already has (by operation
        key), so a run after a crash neither doubles nor loses a document."""
        self.ensure_one()
        journal = self.journal_id.with_company(self.company_id)
        self.state = 'running'
        self._bank_crm_push_progress()  # the card goes from "queued" to the counts at once
        if can_commit(self.env):
            self.env.cr.commit()  # pylint: disable=invalid-commit
        operations = self.operations or []
        try:
            while self.position < len(operations):
                chunk = operations[self.position : self.position + ONEC_IMPORT_CHUNK]
                created, skipped, matched = journal._bank_crm_import_counted([operation_from_json(op) for op in chunk])
                self.write(
                    {
                        'position': self.position + len(chunk),
                        'created_count': self.created_count + created,
                        'skipped_count': self.skipped_count + skipped,
                        'matched_count': self.matched_count + matched,
                    }
                )
                self._bank_crm_push_progress()
                if can_commit(self.env):
                    # a crash later resumes after this chunk
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        except Exception as error:  # any failure of a chunk ends the job, its requester told why
            if not can_commit(self.env):
                raise
            _logger.exception("1C import job %s failed at document %s", self.id, self.position)
            self.env.cr.rollback()
            self._bank_crm_end('failed', error=str(error))
            self.env.cr.commit()  # pylint: disable=invalid-commit
            return
        self._bank_crm_end('done')

    def _bank_crm_end(self, state, error=None):
        # booked: the file's documents are not kept; failed: kept with the position, to see where
        values = {'state': state, 'error': error or False}
        if state == 'done':
            values['operations'] = False
        self.write(values)
        self._bank_crm_push_progress()
        if state == 'done':
            message = _(
                "1C import into %(account)s: %(created)s transactions imported, %(skipped)s already there, "
                "%(matched)s matched.",
                account=self.journal_id.name,
                created=self.created_count,
                skipped=self.skipped_count,
                matched=self.matched_count,
            )
        else:
            message = _(
                "1C import into %(account)s stopped after %(position)s of %(parsed)s documents: %(error)s",
                account=self.journal_id.name,
                position=self.position,
                parsed=self.parsed_count,
                error=error,
            )
        self.user_id._bus_send(
            'simple_notification',
            {
                'type': 'success' if state == 'done' else 'danger',
                'title': _("1C Import"),
                'message': message,
                'sticky': state != 'done',
            },
        )
