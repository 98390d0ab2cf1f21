"""A statement of any period, accounts and counterparties: on screen, PDF, XLSX, 1C.

Balances: the opening balance of an account is the sum of all its transactions before
the period; its closing balance is the opening balance plus all its movements of the
period. When the statement is narrowed to some counterparties, categories or one
direction, the balances stay the account's own and the totals are those of the lines
shown. Every figure comes from a grouped query (one per kind of figure, whatever the
number of lines) and is rounded with the account currency's rounding.
"""

import base64
import dataclasses
import io
import re

import xlsxwriter

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import get_lang

from ..bank_api import onec
from ..models.bank_crm_statement_job import STATEMENT_JOB_MIN_DAYS, STATEMENT_JOB_MIN_LINES
from ..utils import notification_action
from ..utils import to_decimal

# what the statement's rows and its 1C documents read, fetched with the lines in one query
_LINE_FIELDS = [
    'id',
    'journal_id',
    'date',
    'amount',
    'partner_id',
    'partner_name',
    'payment_ref',
    'account_number',
    'bank_crm_counterparty_inn',
    'bank_crm_counterparty_kpp',
    'bank_crm_counterparty_bic',
    'bank_crm_document_number',
    'bank_crm_category_id',
]

# strftime directives of a language's date format, as Excel number formats
_EXCEL_DATE_CODES = {
    '%d': 'dd',
    '%m': 'mm',
    '%Y': 'yyyy',
    '%y': 'yy',
    '%b': 'mmm',
    '%B': 'mmmm',
    '%a': 'ddd',
    '%A': 'dddd',
    '%e': 'd',
    '%j': 'dd',
}


def excel_date_format(strftime_format):
    """Excel's number format for dates shown as `strftime_format` shows them."""
    return re.sub(r'%[a-zA-Z]', lambda m: _EXCEL_DATE_CODES.get(m.group(), ''), strftime_format or '%d.%m.%Y')


class BankCrmStatementWizard(models.TransientModel):
    _name = 'bank.crm.statement.wizard'
    _description = "Bank Statement"

    company_id = fields.Many2one('res.company', required=True, default=lambda self: self.env.company)
    date_from = fields.Date(
        string="From", required=True, default=lambda self: fields.Date.context_today(self).replace(day=1)
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)
    journal_ids = fields.Many2many(
        'account.journal',
        'bank_crm_statement_wizard_journal_rel',
        'wizard_id',
        'journal_id',
        string="Accounts",
        domain="[('type', 'in', ('bank', 'cash'))]",
        help="Leave empty for every bank and cash account.",
    )
    partner_filter = fields.Selection(
        [('all', "All"), ('include', "Only these"), ('exclude', "All but these")],
        string="Counterparties",
        default='all',
        required=True,
    )
    partner_ids = fields.Many2many(
        'res.partner',
        'bank_crm_statement_wizard_partner_rel',
        'wizard_id',
        'partner_id',
        string="Partners",
        help="Their contacts count as them.",
    )
    partner_category_ids = fields.Many2many(
        'res.partner.category',
        'bank_crm_statement_wizard_partner_category_rel',
        'wizard_id',
        'category_id',
        string="Partner Tags",
        help="Partners with one of these tags (or a tag under them).",
    )
    category_ids = fields.Many2many(
        'bank.crm.expense.category',
        'bank_crm_statement_wizard_category_rel',
        'wizard_id',
        'category_id',
        string="Categories",
        help="Transactions of these categories and of their subcategories. Leave empty for all, categorised or not.",
    )
    direction = fields.Selection(
        [('all', "Incoming and outgoing"), ('inbound', "Incoming only"), ('outbound', "Outgoing only")],
        default='all',
        required=True,
    )
    encoding = fields.Selection(
        [('Windows', "Windows (cp1251)"), ('DOS', "DOS (cp866)")],
        string="1C Encoding",
        default='Windows',
        required=True,
    )
    data_file = fields.Binary(string="File", readonly=True, attachment=False)
    filename = fields.Char(readonly=True)

    @api.onchange('partner_ids', 'partner_category_ids')
    def _onchange_bank_crm_partners(self):
        if (self.partner_ids or self.partner_category_ids) and self.partner_filter == 'all':
            self.partner_filter = 'include'

    # === WHAT THE STATEMENT HOLDS === #

    def _bank_crm_check(self):
        self.ensure_one()
        if self.date_from > self.date_to:
            raise UserError(_("The period ends before it starts."))
        if self.partner_filter == 'include' and not (self.partner_ids or self.partner_category_ids):
            raise UserError(_("Choose the partners or partner tags the statement is about."))

    def _bank_crm_journals(self):
        """The accounts of the statement: those chosen, else every bank and cash account."""
        if self.journal_ids:
            # the records themselves, also from an in-memory wizard (the 1C export's)
            return self.journal_ids._origin.sorted(lambda j: (j.sequence, j.name, j.id))
        return self.env['account.journal'].search(
            [('type', 'in', ('bank', 'cash')), ('company_id', 'in', self.env.companies.ids)], order='sequence, name, id'
        )

    def _bank_crm_is_filtered(self):
        """Whether lines of the accounts' period are left out (then totals ≠ movements)."""
        return bool(
            (self.partner_filter != 'all' and (self.partner_ids or self.partner_category_ids))
            or self.category_ids
            or self.direction != 'all'
        )

    def _bank_crm_filter_domain(self):
        """The counterparty, category and direction filters, as a domain on statement lines."""
        domain = []
        if self.partner_filter != 'all' and (self.partner_ids or self.partner_category_ids):
            partner_domain = []
            if self.partner_ids:
                partner_domain.append([('id', 'child_of', self.partner_ids.ids)])
            if self.partner_category_ids:
                partner_domain.append([('category_id', 'child_of', self.partner_category_ids.ids)])
            # explicit ids: "not in" then keeps the lines without partner, as "all but" means
            partners = (
                self.env['res.partner']
                .with_context(active_test=False)
                .search(
                    ['|', *partner_domain[0], *partner_domain[1]] if len(partner_domain) == 2 else partner_domain[0]
                )
            )
            domain.append(('partner_id', 'in' if self.partner_filter == 'include' else 'not in', partners.ids))
        if self.category_ids:
            domain.append(('bank_crm_category_id', 'child_of', self.category_ids.ids))
        if self.direction != 'all':
            domain.append(('bank_crm_direction', '=', self.direction))
        return domain

    def _bank_crm_period_domain(self, journals):
        return [
            ('journal_id', 'in', journals.ids),
            ('state', '!=', 'cancel'),
            ('date', '>=', self.date_from),
            ('date', '<=', self.date_to),
        ]

    def _bank_crm_line_domain(self):
        """Every filter of the wizard as a domain on statement lines (the "on screen" list)."""
        self._bank_crm_check()
        return self._bank_crm_period_domain(self._bank_crm_journals()) + self._bank_crm_filter_domain()

    def _bank_crm_filter_summary(self):
        """The filters in words, for the printed and exported statements."""
        summary = []
        if self.journal_ids:
            summary.append(_("Accounts: %(accounts)s", accounts=", ".join(self.journal_ids.mapped('display_name'))))
        if self.partner_filter != 'all':
            names = ", ".join(
                self.partner_ids.mapped('display_name') + self.partner_category_ids.mapped('display_name')
            )
            if names:
                summary.append(
                    _("Only: %(counterparties)s", counterparties=names)
                    if self.partner_filter == 'include'
                    else _("All but: %(counterparties)s", counterparties=names)
                )
        if self.category_ids:
            summary.append(
                _("Categories: %(categories)s", categories=", ".join(self.category_ids.mapped('complete_name')))
            )
        if self.direction != 'all':
            summary.append(dict(self._fields['direction']._description_selection(self.env))[self.direction])
        return summary

    def _bank_crm_statement_data(self, with_lines=True):
        """Everything a statement shows, computed with a few grouped queries:

        {'accounts': [{'journal', 'name', 'number', 'currency', 'opening', 'income', 'expense', 'closing',
                       'selected_income', 'selected_expense', 'count', 'lines': [row]}],
         'totals': [{'currency', 'income', 'expense', 'net', 'count'}],  # the lines shown, per currency
         'categories': [{'name', 'currency', 'income', 'expense', 'net'}],
         'filtered': bool, 'filters': [text]}

        Expenses are positive; `closing` = `opening` + `income` - `expense`, all the
        account's. A row (a line): {'id', 'date', 'amount', 'income', 'expense', 'partner',
        'category', 'purpose', 'number', 'inn', 'kpp', 'name', 'account', 'bic'}, the
        keys a 1C document is made of included (`_bank_crm_onec_statement`).
        """
        self.env['bank.crm.money.right']._bank_crm_check('can_download_statements', self._bank_crm_journals())
        self._bank_crm_check()
        Line = self.env['account.bank.statement.line']
        journals = self._bank_crm_journals()
        period = self._bank_crm_period_domain(journals)
        filtered = self._bank_crm_is_filtered()
        selected_domain = period + self._bank_crm_filter_domain()

        opening = dict(
            Line._read_group(
                [('journal_id', 'in', journals.ids), ('state', '!=', 'cancel'), ('date', '<', self.date_from)],
                ['journal_id'],
                ['amount:sum'],
            )
        )
        movements = {
            (journal, direction): (amount, count)
            for journal, direction, amount, count in Line._read_group(
                period, ['journal_id', 'bank_crm_direction'], ['amount:sum', '__count']
            )
        }
        selected = (
            movements
            if not filtered
            else {
                (journal, direction): (amount, count)
                for journal, direction, amount, count in Line._read_group(
                    selected_domain, ['journal_id', 'bank_crm_direction'], ['amount:sum', '__count']
                )
            }
        )

        rows_by_journal = self._bank_crm_rows(selected_domain, journals) if with_lines else {}

        accounts, totals = [], {}
        for journal in journals:
            currency = journal.currency_id or journal.company_id.currency_id
            income, in_count = movements.get((journal, 'inbound'), (0.0, 0))
            expense, out_count = movements.get((journal, 'outbound'), (0.0, 0))
            selected_income, selected_in = selected.get((journal, 'inbound'), (0.0, 0))
            selected_expense, selected_out = selected.get((journal, 'outbound'), (0.0, 0))
            if not self.journal_ids and journal not in opening and not (in_count or out_count):
                continue  # an account with nothing to show, not asked for
            account = {
                'journal': journal,
                'name': journal.display_name,
                'number': journal.bank_acc_number or '',
                'currency': currency,
                'opening': currency.round(opening.get(journal, 0.0)),
                'income': currency.round(income),
                'expense': currency.round(-expense),
                'selected_income': currency.round(selected_income),
                'selected_expense': currency.round(-selected_expense),
                'count': selected_in + selected_out,
                'lines': rows_by_journal.get(journal.id, []),
            }
            account['closing'] = currency.round(account['opening'] + account['income'] - account['expense'])
            accounts.append(account)
            total = totals.setdefault(currency, {'currency': currency, 'income': 0.0, 'expense': 0.0, 'count': 0})
            total['income'] = currency.round(total['income'] + account['selected_income'])
            total['expense'] = currency.round(total['expense'] + account['selected_expense'])
            total['count'] += account['count']
        for total in totals.values():
            total['net'] = total['currency'].round(total['income'] - total['expense'])

        by_category, uncategorised = {}, _("Uncategorised")
        for currency, category, direction, amount in Line._read_group(
            selected_domain, ['currency_id', 'bank_crm_category_id', 'bank_crm_direction'], ['amount:sum']
        ):
            row = by_category.setdefault(
                (category, currency),
                {'name': category.complete_name or uncategorised, 'currency': currency, 'income': 0.0, 'expense': 0.0},
            )
            row['income' if direction == 'inbound' else 'expense'] = currency.round(abs(amount))
        categories = sorted(
            by_category.values(), key=lambda row: (row['name'] == uncategorised, row['name'], row['currency'].name)
        )
        for row in categories:
            row['net'] = row['currency'].round(row['income'] - row['expense'])
        return {
            'accounts': accounts,
            'totals': list(totals.values()),
            'categories': categories,
            'filtered': filtered,
            'filters': self._bank_crm_filter_summary(),
        }

    @api.model
    def _bank_crm_rows(self, domain, journals):
        """The lines of `domain` as plain rows per journal id, by date: one query for the
        lines (built by the ORM, so record rules apply), one per 1,000 partners and
        categories named. Statements run to hundreds of thousands of lines, where records
        would cost the time."""
        Line = self.env['account.bank.statement.line']
        query = Line._search(domain, order='date, id')
        selected = self.env.execute_query(
            query.select(*(Line._field_to_sql(query.table, fname, query) for fname in _LINE_FIELDS))
        )
        partners = self.env['res.partner'].browse({row[4] for row in selected if row[4]})
        partner_values = {
            partner.id: (partner.display_name, partner.name, partner.vat or '')
            for partner in partners.with_context(active_test=False)
        }
        categories = self.env['bank.crm.expense.category'].browse({row[12] for row in selected if row[12]})
        category_names = {
            category.id: category.complete_name for category in categories.with_context(active_test=False)
        }
        currencies = {journal.id: journal.currency_id or journal.company_id.currency_id for journal in journals}
        rows = {}
        for (
            line_id,
            journal_id,
            day,
            amount,
            partner_id,
            partner_name,
            purpose,
            account,
            inn,
            kpp,
            bic,
            number,
            category_id,
        ) in selected:
            amount = currencies[journal_id].round(amount)
            display_name, name, vat = partner_values.get(partner_id, ('', '', ''))
            rows.setdefault(journal_id, []).append(
                {
                    'id': line_id,
                    'date': day,
                    'amount': amount,
                    'income': amount if amount > 0 else 0.0,
                    'expense': -amount if amount < 0 else 0.0,
                    'partner': display_name or partner_name or '',
                    'category': category_names.get(category_id, ''),
                    'purpose': purpose or '',
                    'number': number or '',
                    'inn': inn or vat,
                    'kpp': kpp or '',
                    'name': partner_name or name,
                    'account': account or '',
                    'bic': bic or '',
                }
            )
        return rows

    def _bank_crm_file_stem(self):
        return f"statement_{self.date_from}_{self.date_to}"

    def _bank_crm_download(self, content, filename):
        self.write({'data_file': base64.b64encode(content), 'filename': filename})
        return {
            'type': 'ir.actions.act_url',
            'target': 'download',
            'url': f'/web/content/?model={self._name}&id={self.id}&field=data_file'
            f'&filename_field=filename&download=true',
        }

    # === OUTPUTS === #

    def action_show(self):
        """On screen: the transactions list with the wizard's filters, grouped by account."""
        domain = self._bank_crm_line_domain()
        action = self.env['ir.actions.act_window']._for_xml_id('odoo_bank_crm.account_bank_statement_line_action')
        action['domain'] = domain
        action['context'] = {'search_default_group_by_journal': 1}
        action['display_name'] = _(
            "Statement %(date_from)s – %(date_to)s",
            date_from=fields.Date.to_string(self.date_from),
            date_to=fields.Date.to_string(self.date_to),
        )
        return action

    def action_bank_crm_reconciliation_act(self):
        """Button: the «Акт сверки» with the statement's counterparty over the statement's period."""
        self._bank_crm_check()
        partners = (
            self.partner_ids.commercial_partner_id if self.partner_filter == 'include' else self.partner_ids.browse()
        )
        if len(partners) != 1:
            raise UserError(_("A reconciliation act is made with one counterparty: choose exactly one."))
        return self.env['bank.crm.reconciliation.act.wizard']._action_open(
            {
                'default_partner_id': partners.id,
                'default_date_from': fields.Date.to_string(self.date_from),
                'default_date_to': fields.Date.to_string(self.date_to),
            }
        )

    def action_print_pdf(self):
        self._bank_crm_check()
        if self._bank_crm_is_long():
            return self._bank_crm_queue('pdf')
        return self.env.ref('odoo_bank_crm.action_report_bank_crm_statement').report_action(self)

    def action_export_xlsx(self):
        if self._bank_crm_is_long():
            return self._bank_crm_queue('xlsx')
        content, filename, _mimetype = self._bank_crm_file('xlsx')
        return self._bank_crm_download(content, filename)

    def action_export_onec(self):
        if self._bank_crm_is_long():
            return self._bank_crm_queue('onec')
        content, filename, _mimetype = self._bank_crm_file('onec')
        return self._bank_crm_download(content, filename)

    def _bank_crm_is_long(self):
        """Whether the statement is made by a job: over more than a year, or of many lines
        (one count query; docs/sync.md, "Long statements as a job")."""
        self._bank_crm_check()
        if (self.date_to - self.date_from).days > STATEMENT_JOB_MIN_DAYS:
            return True
        Line = self.env['account.bank.statement.line']
        return Line.search_count(self._bank_crm_line_domain(), limit=STATEMENT_JOB_MIN_LINES + 1) > (
            STATEMENT_JOB_MIN_LINES
        )

    def _bank_crm_queue(self, kind):
        # sudo: the job is written only here, from this wizard's checked choices; it makes
        # the statement as this user and its rules let only them read it
        self.env['bank.crm.statement.job'].sudo()._bank_crm_queue(self, kind)
        return notification_action(
            _(
                "This statement is long: it is being made in the background, a notification with its file "
                "tells when it is ready."
            )
        )

    def _bank_crm_file(self, kind):
        """The statement as a file: (content, filename, mimetype), the same whether made at
        once or by the job (`bank.crm.statement.job`)."""
        self.ensure_one()
        if kind == 'pdf':
            self._bank_crm_check()
            report = self.env.ref('odoo_bank_crm.action_report_bank_crm_statement')
            content, report_type = report._render_qweb_pdf(report.report_name, self.ids)
            # a test database renders the HTML (Odoo's `_render_qweb_pdf` without wkhtmltopdf)
            if report_type == 'pdf':
                return content, f"{self._bank_crm_file_stem()}.pdf", 'application/pdf'
            return content, f"{self._bank_crm_file_stem()}.html", 'text/html'
        data = self._bank_crm_statement_data()
        if kind == 'xlsx':
            return (
                self._bank_crm_xlsx(data),
                f"{self._bank_crm_file_stem()}.xlsx",
                'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
            )
        return self._bank_crm_onec(data), f"kl_to_1c_{self.date_from}_{self.date_to}.txt", 'text/plain'

    def _bank_crm_onec(self, data):
        """The statement as a 1C ClientBankExchange file: a balance section per bank
        account (the account's own opening, movements and closing) and the lines shown as
        its documents. Cash desks have no place in that format and are left out."""
        statements = [
            self._bank_crm_onec_statement(
                account['journal'],
                self.date_from,
                self.date_to,
                account['lines'],
                account['opening'],
                encoding=self.encoding,
                total_in=account['income'],
                total_out=account['expense'],
                closing=account['closing'],
            )
            for account in data['accounts']
            if account['journal'].type == 'bank'
        ]
        if not statements:
            raise UserError(_("The 1C format holds bank accounts only: choose at least one."))
        return self._bank_crm_onec_write(statements, self.encoding)

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
        `_bank_crm_rows`). The totals default to the documents' sums and the
        closing balance to opening + in - out (`onec.statement_file`).

        The one 1C statement writer: this wizard's "1C" button and the 1C export's
        (`bank.crm.onec.export.wizard`) both come here.
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

    def _bank_crm_xlsx(self, data):
        """The statement as an XLSX workbook: the lines and their totals, the accounts'
        balances, the totals per category. Amounts are numbers with two decimals, dates
        are dates (shown as the user's language shows them)."""
        output = io.BytesIO()
        book = xlsxwriter.Workbook(output, {'in_memory': True})
        book.add_format({'bold': True})
        title = book.add_format({'bold': True, 'font_size': 14})
        head = book.add_format({'bold': True, 'bottom': 1, 'text_wrap': True, 'valign': 'top'})
        money = book.add_format({'num_format': '#,##0.00'})
        money_bold = book.add_format({'num_format': '#,##0.00', 'bold': True, 'top': 1})
        label_bold = book.add_format({'bold': True, 'top': 1})
        date = book.add_format({'num_format': excel_date_format(get_lang(self.env).date_format), 'align': 'left'})
        period = _(
            "%(date_from)s – %(date_to)s",
            date_from=self.date_from.strftime(get_lang(self.env).date_format),
            date_to=self.date_to.strftime(get_lang(self.env).date_format),
        )

        sheet = book.add_worksheet(_("Statement"))
        sheet.write(0, 0, _("Bank statement"), title)
        sheet.write(1, 0, period)
        row = 2
        for text in data['filters']:
            sheet.write(row, 0, text)
            row += 1
        row += 1
        columns = [
            (_("Date"), 11),
            (_("Account"), 24),
            (_("Counterparty"), 30),
            (_("INN"), 13),
            (_("Purpose"), 50),
            (_("Category"), 22),
            (_("Document"), 10),
            (_("Incoming"), 15),
            (_("Outgoing"), 15),
            (_("Currency"), 8),
        ]
        for col, (name, width) in enumerate(columns):
            sheet.set_column(col, col, width)
            sheet.write(row, col, name, head)
        sheet.freeze_panes(row + 1, 0)
        first_line_row = row + 1
        for account in data['accounts']:
            currency_name = account['currency'].name
            for line in account['lines']:
                row += 1
                sheet.write_datetime(row, 0, line['date'], date)
                sheet.write_string(row, 1, account['name'])
                sheet.write_string(row, 2, line['partner'])
                sheet.write_string(row, 3, line['inn'])
                sheet.write_string(row, 4, line['purpose'])
                sheet.write_string(row, 5, line['category'])
                sheet.write_string(row, 6, line['number'])
                if line['income']:
                    sheet.write_number(row, 7, line['income'], money)
                if line['expense']:
                    sheet.write_number(row, 8, line['expense'], money)
                sheet.write_string(row, 9, currency_name)
        if row >= first_line_row:
            sheet.autofilter(first_line_row - 1, 0, row, len(columns) - 1)
        for total in data['totals']:
            row += 1
            sheet.write(row, 0, _("Total"), label_bold)
            for col in range(1, 7):
                sheet.write_blank(row, col, None, label_bold)
            sheet.write_number(row, 7, total['income'], money_bold)
            sheet.write_number(row, 8, total['expense'], money_bold)
            sheet.write(row, 9, total['currency'].name, label_bold)

        balances = book.add_worksheet(_("Accounts"))
        balances.write(0, 0, _("Balances of the accounts"), title)
        balances.write(1, 0, period)
        headers = [
            (_("Account"), 30),
            (_("Account Number"), 24),
            (_("Currency"), 9),
            (_("Opening Balance"), 16),
            (_("Incoming"), 16),
            (_("Outgoing"), 16),
            (_("Closing Balance"), 16),
        ]
        if data['filtered']:
            headers += [(_("Incoming (Lines Shown)"), 16), (_("Outgoing (Lines Shown)"), 16)]
        for col, (name, width) in enumerate(headers):
            balances.set_column(col, col, width)
            balances.write(3, col, name, head)
        for index, account in enumerate(data['accounts'], start=4):
            balances.write_string(index, 0, account['name'])
            balances.write_string(index, 1, account['number'])
            balances.write_string(index, 2, account['currency'].name)
            for col, key in enumerate(('opening', 'income', 'expense', 'closing'), start=3):
                balances.write_number(index, col, account[key], money)
            if data['filtered']:
                balances.write_number(index, 7, account['selected_income'], money)
                balances.write_number(index, 8, account['selected_expense'], money)

        categories = book.add_worksheet(_("Categories"))
        categories.write(0, 0, _("Totals by category"), title)
        categories.write(1, 0, period)
        for col, (name, width) in enumerate(
            [(_("Category"), 36), (_("Currency"), 9), (_("Incoming"), 16), (_("Outgoing"), 16), (_("Net"), 16)]
        ):
            categories.set_column(col, col, width)
            categories.write(3, col, name, head)
        for index, category in enumerate(data['categories'], start=4):
            categories.write_string(index, 0, category['name'])
            categories.write_string(index, 1, category['currency'].name)
            categories.write_number(index, 2, category['income'], money)
            categories.write_number(index, 3, category['expense'], money)
            categories.write_number(index, 4, category['net'], money)
        book.close()
        return output.getvalue()
