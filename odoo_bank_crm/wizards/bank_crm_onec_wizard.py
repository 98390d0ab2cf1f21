import base64

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

from ..bank_api import onec, onec_operations
from ..models.bank_crm_onec_import_job import ONEC_IMPORT_JOB_MIN_DOCUMENTS
from ..utils import notification_action


class BankCrmOneCImportWizard(models.TransientModel):
    """Import a bank statement in 1C ClientBankExchange format (kl_to_1c.txt), the file
    every Russian bank exports, through the same booking pipeline as the API syncs:
    the same file twice books nothing twice; a broken file books nothing at all."""

    _name = 'bank.crm.onec.import.wizard'
    _description = "Import a 1C Bank Statement"

    journal_id = fields.Many2one(
        'account.journal',
        string="Account",
        domain=[('type', '=', 'bank')],
        help="Leave empty to find the account by the number in the file.",
    )
    data_file = fields.Binary(string="1C File (kl_to_1c.txt)", required=True)
    filename = fields.Char()
    result = fields.Text(readonly=True)

    def action_import(self):
        self.ensure_one()
        encoded = self.data_file or b''
        # the size of the file, from its base64 before it is decoded (no copy of a huge upload)
        size = len(encoded) // 4 * 3 - encoded[-2:].count(b'=')
        if size > onec.MAX_FILE_BYTES:
            megabytes, limit = f"{size / 1024 / 1024:.1f}", onec.MAX_FILE_BYTES // 1024 // 1024
            raise UserError(
                _(
                    "This file is %(size)s MiB: a 1C statement of at most %(limit)s MiB can be imported. "
                    "Export a shorter period from the bank, in several files.",
                    size=megabytes,
                    limit=limit,
                )
            )
        try:
            parsed = onec.parse(base64.b64decode(encoded))
        except onec.OneCFormatError as error:
            raise UserError(_("This 1C file cannot be imported, nothing was: %(error)s", error=error)) from None
        journal = self.journal_id or self._find_journal(parsed)
        own_accounts = {journal.bank_acc_number} | set(parsed.accounts)
        currency = (journal.currency_id or journal.company_id.currency_id).name
        operations = [self._operation(document, own_accounts, currency, journal) for document in parsed.documents]
        if len(operations) > ONEC_IMPORT_JOB_MIN_DOCUMENTS:
            return self._queue(journal, operations)
        created, skipped = journal._bank_crm_import_operations(operations)
        self.result = _(
            "%(created)s transactions imported into %(account)s, %(skipped)s already there.",
            created=created,
            account=journal.name,
            skipped=skipped,
        )
        return notification_action(self.result, type='success', next=journal.action_bank_crm_open_transactions())

    def _queue(self, journal, operations):
        """A large file, parsed and checked: booked by a job, its progress on the account's
        card, a notification at its end (docs/sync.md, "Large 1C imports as a job")."""
        # sudo: the job is written only here, from a file this wizard checked; its rules let
        # its requester read it
        job = self.env['bank.crm.onec.import.job'].sudo()._bank_crm_queue(journal, operations, self.filename)
        self.result = _(
            "%(count)s documents of the file are being imported into %(account)s: the account's card shows "
            "the progress, a notification tells when it ends.",
            count=job.parsed_count,
            account=journal.name,
        )
        return notification_action(self.result, next={'type': 'ir.actions.act_window_close'})

    def _find_journal(self, parsed):
        accounts = set(parsed.accounts) | {balance.account for balance in parsed.balances if balance.account}
        journal = self.env['account.journal'].search(
            [
                ('type', '=', 'bank'),
                ('bank_acc_number', 'in', list(accounts)),
                ('company_id', 'in', self.env.companies.ids),
            ],
            limit=1,
        )
        if not journal:
            raise UserError(
                _(
                    "No bank account of the company has the number of this file (%(accounts)s): "
                    "choose the account to import into.",
                    accounts=", ".join(sorted(accounts)) or "—",
                )
            )
        return journal

    @api.model
    def _operation(self, document, own_accounts, currency, journal):
        """A 1C document as a bank-neutral operation (`onec_operations.to_operation`); its id is
        stable across re-imports."""
        operation = onec_operations.to_operation(document, own_accounts, currency)
        if operation is None:
            raise UserError(
                _(
                    "Line %(line)s: document %(number)s is neither paid from nor to %(account)s: nothing was imported.",
                    line=document.line,
                    number=document.number or "?",
                    account=journal.bank_acc_number or journal.name,
                )
            )
        return operation


class BankCrmOneCExportWizard(models.TransientModel):
    """Export an account's transactions of a period as a 1C ClientBankExchange statement."""

    _name = 'bank.crm.onec.export.wizard'
    _description = "Export a Statement for 1C"

    journal_id = fields.Many2one('account.journal', string="Account", required=True, domain=[('type', '=', 'bank')])
    date_from = fields.Date(
        string="From", required=True, default=lambda self: fields.Date.context_today(self).replace(day=1)
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)
    encoding = fields.Selection(
        [('Windows', "Windows (cp1251)"), ('DOS', "DOS (cp866)")], default='Windows', required=True
    )
    data_file = fields.Binary(string="File", readonly=True, attachment=False)
    filename = fields.Char(readonly=True)

    def action_export(self):
        """The account's statement of the period for 1C: the one 1C statement export, the
        statement wizard's (`bank.crm.statement.wizard`, its "1C" button), for one account."""
        self.ensure_one()
        # an in-memory statement of this account and period: built, never stored (whoever
        # may use this export needs no right on the statement wizard's records)
        statement = self.env['bank.crm.statement.wizard'].new(
            {
                'company_id': self.journal_id.company_id.id,
                'journal_ids': [Command.set(self.journal_id.ids)],
                'date_from': self.date_from,
                'date_to': self.date_to,
                'encoding': self.encoding,
            }
        )
        content = statement._bank_crm_onec(statement._bank_crm_statement_data())
        journal = self.journal_id
        self.write(
            {
                'data_file': base64.b64encode(content),
                'filename': f"kl_to_1c_{journal.bank_acc_number or journal.code}_{self.date_from}_{self.date_to}.txt",
            }
        )
        return {
            'type': 'ir.actions.act_window',
            'res_model': self._name,
            'res_id': self.id,
            'view_mode': 'form',
            'target': 'new',
        }
