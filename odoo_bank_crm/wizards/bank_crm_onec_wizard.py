import base64
import dataclasses

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..bank_api import onec, onec_operations
from ..models.bank_crm_onec_import_job import ONEC_IMPORT_JOB_MIN_DOCUMENTS
from ..utils import to_decimal


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
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {'type': 'success', 'message': self.result, 'next': journal.action_bank_crm_open_transactions()},
        }

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
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {'type': 'info', 'message': self.result, 'next': {'type': 'ir.actions.act_window_close'}},
        }

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
        self.ensure_one()
        self.env['bank.crm.money.right']._bank_crm_check('can_download_statements', self.journal_id)
        if self.date_from > self.date_to:
            raise UserError(_("The period ends before it starts."))
        journal = self.journal_id
        Line = self.env['account.bank.statement.line']
        base = [('journal_id', '=', journal.id), ('state', '!=', 'cancel')]
        [(opening,)] = Line._read_group(base + [('date', '<', self.date_from)], [], ['amount:sum'])
        lines = Line.search(base + [('date', '>=', self.date_from), ('date', '<=', self.date_to)], order='date, id')
        content = self._bank_crm_onec_write(
            [
                self._bank_crm_onec_statement(
                    journal,
                    self.date_from,
                    self.date_to,
                    self._bank_crm_onec_line_values(lines),
                    opening or 0.0,
                    encoding=self.encoding,
                )
            ],
            self.encoding,
        )
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

    @api.model
    def _bank_crm_onec_line_values(self, lines):
        """What the 1C document of each statement line says (see `_bank_crm_onec_statement`)."""
        return [
            {
                'id': line.id,
                'date': line.date,
                'amount': line.amount,
                'purpose': line.payment_ref,
                'number': line.bank_crm_document_number,
                'inn': line.bank_crm_counterparty_inn or line.partner_id.vat,
                'kpp': line.bank_crm_counterparty_kpp,
                'name': line.partner_name or line.partner_id.name,
                'account': line.account_number,
                'bic': line.bank_crm_counterparty_bic,
            }
            for line in lines
        ]

    @api.model
    def _bank_crm_onec_statement(
        self,
        journal,
        date_from,
        date_to,
        lines,
        opening,
        encoding='Windows',
        total_in=None,
        total_out=None,
        closing=None,
    ):
        """One account's statement for 1C (an `onec.OneCFile`) with `lines` as its documents:
        the values of statement lines of `journal` (dicts with the keys of
        `_bank_crm_onec_line_values`). The totals default to the documents' sums and the
        closing balance to opening + in - out (`onec.statement_file`).

        Shared by this export and the statement wizard (bank.crm.statement.wizard).
        """
        currency = journal.bank_crm_currency_id
        company = journal.company_id
        own = onec.OneCParty(
            inn=company.vat or None,
            name=company.name,
            account=journal.bank_acc_number,
            bank_name=journal.bank_id.name or None,
            bic=journal.bank_id.bic or None,
        )
        documents = []
        for line in lines:
            other = onec.OneCParty(
                inn=line['inn'] or None,
                kpp=line['kpp'] or None,
                name=line['name'] or None,
                account=line['account'] or None,
                bic=line['bic'] or None,
            )
            incoming = line['amount'] > 0
            documents.append(
                onec.OneCDocument(
                    kind="Платежное поручение",
                    number=line['number'] or str(line['id']),
                    date=line['date'],
                    amount=abs(to_decimal(line['amount'], currency)),
                    payer=other if incoming else own,
                    recipient=own if incoming else other,
                    purpose=line['purpose'] or None,
                    date_credited=line['date'] if incoming else None,
                    date_debited=None if incoming else line['date'],
                )
            )

        def money(value):
            return None if value is None else to_decimal(value, currency)

        try:
            return onec.statement_file(
                journal.bank_acc_number or journal.name,
                date_from,
                date_to,
                documents,
                opening=money(opening),
                total_in=money(total_in),
                total_out=money(total_out),
                closing=money(closing),
                sender=company.name,
                encoding=encoding,
            )
        except onec.OneCFormatError as error:
            raise UserError(_("The statement cannot be written in the 1C format: %(error)s", error=error)) from None

    @api.model
    def _bank_crm_onec_write(self, statements, encoding):
        """The bytes of one 1C file holding the statements (`onec.OneCFile`) of one or
        several accounts of the same period: a balance section per account, then the
        documents of all."""
        file = statements[0]
        if len(statements) > 1:
            file = dataclasses.replace(
                file,
                accounts=[account for statement in statements for account in statement.accounts],
                balances=[balance for statement in statements for balance in statement.balances],
                documents=[document for statement in statements for document in statement.documents],
            )
        try:
            return onec.write(file, encoding=encoding)
        except onec.OneCFormatError as error:
            raise UserError(_("The statement cannot be written in the 1C format: %(error)s", error=error)) from None
