"""«Акт сверки взаиморасчётов»: the reconciliation act with a counterparty over a period.

From the posted receivable and payable journal items of the current company with the
counterparty: the opening balance (everything before the period, one grouped query), each
document of the period in date order with its debit and credit (one query), the turnovers
and the closing balance. Amounts are exact (Decimal at the company currency's rounding).
The counterparty's columns are left blank for them to fill. docs/russian-documents.md.
"""

import base64
import io
from collections import defaultdict
from decimal import Decimal

import xlsxwriter

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..ru_format import format_rouble_amount, rouble_amount_in_words
from ..utils import to_decimal

# what each kind of journal entry is called in the act (column «Документ»)
DOCUMENT_NAMES = {
    'out_invoice': "Реализация",
    'out_refund': "Корректировка реализации (возврат)",
    'in_invoice': "Поступление",
    'in_refund': "Корректировка поступления (возврат)",
    'out_receipt': "Реализация",
    'in_receipt': "Поступление",
}
PAYMENT_NAMES = {
    ('inbound', 'customer'): "Оплата от покупателя",
    ('outbound', 'customer'): "Возврат оплаты покупателю",
    ('outbound', 'supplier'): "Оплата поставщику",
    ('inbound', 'supplier'): "Возврат оплаты от поставщика",
}
ACCOUNT_TYPES = ('asset_receivable', 'liability_payable')
_LINE_FIELDS = ['date', 'move_id', 'move_name', 'move_type', 'payment_id', 'statement_line_id', 'debit', 'credit']


class BankCrmReconciliationActWizard(models.TransientModel):
    _name = 'bank.crm.reconciliation.act.wizard'
    _description = "Reconciliation Act"
    _check_company_auto = True

    company_id = fields.Many2one('res.company', required=True, readonly=True, default=lambda self: self.env.company)
    partner_id = fields.Many2one(
        'res.partner',
        string="Counterparty",
        required=True,
        check_company=True,
        domain="[('is_company', '=', True)]",
        help="The customer or supplier (a company, with all its contacts).",
    )
    date_from = fields.Date(
        string="From",
        required=True,
        default=lambda self: fields.Date.context_today(self).replace(month=1, day=1),
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)
    data_file = fields.Binary(string="File", readonly=True, attachment=False)
    filename = fields.Char(readonly=True)

    @api.model
    def _action_open(self, context):
        """The wizard in a dialog, with `context`'s defaults."""
        return {
            'type': 'ir.actions.act_window',
            'name': _("Reconciliation Act"),
            'res_model': self._name,
            'view_mode': 'form',
            'views': [(False, 'form')],
            'target': 'new',
            'context': {**self.env.context, **context},
        }

    # === THE FIGURES === #

    def _bank_crm_check(self):
        self.ensure_one()
        self.check_access('read')  # also when called on a record browsed by someone without the wizard's rights
        if self.date_from > self.date_to:
            raise UserError(_("The period ends before it starts."))
        if self.company_id not in self.env.user.company_ids:
            raise AccessError(_("You can only reconcile with the data of your own companies."))

    def _bank_crm_act_data(self):
        """The act's figures and texts.

        :return: dict with 'opening', 'debit', 'credit', 'closing' (Decimal, positive: the
            counterparty owes us), 'lines' (date, document, debit, credit; one per journal
            entry, in date order), the parties' names and the act's sentences
        """
        self._bank_crm_check()
        currency = self.company_id.currency_id
        partner = self.partner_id.commercial_partner_id
        # the act's company only (checked above to be one of the user's), whatever companies are selected
        MoveLine = self.env['account.move.line'].with_company(self.company_id)
        domain = [
            ('company_id', '=', self.company_id.id),
            ('partner_id', '=', partner.id),
            ('parent_state', '=', 'posted'),
            ('account_id.account_type', 'in', ACCOUNT_TYPES),
        ]
        [(opening_balance,)] = MoveLine._read_group(
            domain + [('date', '<', self.date_from)], aggregates=['balance:sum']
        )
        opening = to_decimal(opening_balance or 0.0, currency)
        rows = MoveLine.search_read(
            domain + [('date', '>=', self.date_from), ('date', '<=', self.date_to)],
            _LINE_FIELDS,
            order='date, move_name, id',
        )
        per_move = {}
        amounts = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for row in rows:
            move_id = row['move_id'][0]
            per_move.setdefault(move_id, row)
            amounts[move_id][0] += to_decimal(row['debit'], currency)
            amounts[move_id][1] += to_decimal(row['credit'], currency)
        payments = {
            payment['id']: payment
            for payment in self.env['account.payment']
            .with_company(self.company_id)
            .search_read(
                [('id', 'in', [row['payment_id'][0] for row in per_move.values() if row['payment_id']])],
                ['payment_type', 'partner_type'],
            )
        }
        lines = []
        for move_id, row in per_move.items():
            payment = row['payment_id'] and payments.get(row['payment_id'][0])
            debit, credit = amounts[move_id]
            if payment:
                kind = PAYMENT_NAMES[payment['payment_type'], payment['partner_type']]
            elif row['statement_line_id']:  # a bank transfer reconciled without a payment
                kind = "Оплата от контрагента" if credit > debit else "Оплата контрагенту"
            else:
                kind = DOCUMENT_NAMES.get(row['move_type'], "Операция")
            lines.append(
                {
                    'date': row['date'],
                    'document': f"{kind} № {row['move_name']} от {row['date'].strftime('%d.%m.%Y')}",
                    'debit': debit,
                    'credit': credit,
                }
            )
        debit = sum((line['debit'] for line in lines), Decimal(0))
        credit = sum((line['credit'] for line in lines), Decimal(0))
        closing = opening + debit - credit
        ours = self.company_id.name
        theirs = partner.name
        date_to = self.date_to.strftime('%d.%m.%Y')
        if closing > 0:
            debt = f"задолженность в пользу {ours} составляет {format_rouble_amount(closing)} руб."
        elif closing < 0:
            debt = f"задолженность в пользу {theirs} составляет {format_rouble_amount(-closing)} руб."
        else:
            debt = "задолженность отсутствует."
        return {
            'ours': ours,
            'theirs': theirs,
            'partner': partner,
            'company': self.company_id,
            'period': f"{self.date_from.strftime('%d.%m.%Y')} – {date_to}",
            'date_from': self.date_from.strftime('%d.%m.%Y'),
            'date_to': date_to,
            'opening': opening,
            'lines': lines,
            'debit': debit,
            'credit': credit,
            'closing': closing,
            'conclusion': f"По данным {ours} на {date_to} {debt}",
            'closing_words': closing and f"({rouble_amount_in_words(abs(closing))})",
        }

    @api.model
    def _bank_crm_split(self, balance):
        """A balance as the act's (debit, credit) pair: what is owed to us on the debit side."""
        return (balance, Decimal(0)) if balance > 0 else (Decimal(0), -balance)

    @api.model
    def _bank_crm_money(self, amount):
        """An act's amount as printed: blank when zero."""
        return format_rouble_amount(amount) if amount else ''

    # === OUTPUTS === #

    def _bank_crm_file_stem(self):
        return f"akt_sverki_{self.partner_id.commercial_partner_id.id}_{self.date_from}_{self.date_to}"

    def action_print_pdf(self):
        self._bank_crm_check()
        return self.env.ref('odoo_bank_crm.action_report_bank_crm_reconciliation_act').report_action(self)

    def action_export_xlsx(self):
        content = self._bank_crm_xlsx(self._bank_crm_act_data())
        self.write({'data_file': base64.b64encode(content), 'filename': f"{self._bank_crm_file_stem()}.xlsx"})
        return {
            'type': 'ir.actions.act_url',
            'target': 'download',
            'url': f'/web/content/?model={self._name}&id={self.id}&field=data_file'
            f'&filename_field=filename&download=true',
        }

    def _bank_crm_xlsx(self, data):
        """The act as an XLSX workbook laid out like the PDF: amounts are numbers with two
        decimals (exact: written from the Decimal figures), dates are dates."""
        output = io.BytesIO()
        book = xlsxwriter.Workbook(output, {'in_memory': True})
        title = book.add_format({'bold': True, 'font_size': 13, 'align': 'center', 'text_wrap': True})
        wrap = book.add_format({'text_wrap': True, 'valign': 'top'})
        head = book.add_format({'bold': True, 'border': 1, 'align': 'center', 'valign': 'vcenter', 'text_wrap': True})
        cell = book.add_format({'border': 1, 'text_wrap': True, 'valign': 'top'})
        date = book.add_format({'border': 1, 'num_format': 'dd.mm.yyyy', 'valign': 'top'})
        money = book.add_format({'border': 1, 'num_format': '#,##0.00', 'valign': 'top'})
        bold = book.add_format({'border': 1, 'bold': True})
        money_bold = book.add_format({'border': 1, 'bold': True, 'num_format': '#,##0.00'})

        sheet = book.add_worksheet("Акт сверки")
        for col, width in enumerate((11, 38, 14, 14, 11, 30, 14, 14)):
            sheet.set_column(col, col, width)
        sheet.merge_range(0, 0, 0, 7, "Акт сверки взаимных расчётов", title)
        sheet.merge_range(1, 0, 1, 7, f"за период {data['period']} между {data['ours']} и {data['theirs']}", title)
        sheet.set_row(1, 32)
        sheet.merge_range(3, 0, 3, 3, f"По данным {data['ours']}, руб.", head)
        sheet.merge_range(3, 4, 3, 7, f"По данным {data['theirs']}, руб.", head)
        for col, name in enumerate(("Дата", "Документ", "Дебет", "Кредит") * 2):
            sheet.write(4, col, name, head)

        def total_row(row, label, debit, credit, fmt=money_bold, label_fmt=bold):
            sheet.merge_range(row, 0, row, 1, label, label_fmt)
            for col, amount in ((2, debit), (3, credit)):
                if amount:
                    sheet.write_number(row, col, float(amount), fmt)
                else:
                    sheet.write_blank(row, col, None, fmt)
            sheet.merge_range(row, 4, row, 5, label, label_fmt)
            sheet.write_blank(row, 6, None, fmt)
            sheet.write_blank(row, 7, None, fmt)

        row = 5
        total_row(row, f"Сальдо начальное на {data['date_from']}", *self._bank_crm_split(data['opening']))
        for line in data['lines']:
            row += 1
            sheet.write_datetime(row, 0, fields.Datetime.to_datetime(line['date']), date)
            sheet.write_string(row, 1, line['document'], cell)
            for col, key in ((2, 'debit'), (3, 'credit')):
                if line[key]:
                    sheet.write_number(row, col, float(line[key]), money)
                else:
                    sheet.write_blank(row, col, None, money)
            for col in range(4, 8):
                sheet.write_blank(row, col, None, cell)
        row += 1
        total_row(row, "Обороты за период", data['debit'], data['credit'])
        row += 1
        total_row(row, f"Сальдо конечное на {data['date_to']}", *self._bank_crm_split(data['closing']))
        row += 2
        sheet.merge_range(row, 0, row, 7, f"{data['conclusion']} {data['closing_words'] or ''}".strip(), wrap)
        sheet.set_row(row, 30)
        row += 2
        sheet.merge_range(row, 0, row, 3, f"От {data['ours']}", wrap)
        sheet.merge_range(row, 4, row, 7, f"От {data['theirs']}", wrap)
        row += 2
        company = data['company']
        sheet.merge_range(
            row,
            0,
            row,
            3,
            f"{company.bank_crm_director_title or ''} ____________ ({company.bank_crm_director_name or ''})",
        )
        sheet.merge_range(row, 4, row, 7, "____________ (                    )")
        row += 1
        sheet.write(row, 0, "М.П.")
        sheet.write(row, 4, "М.П.")
        book.close()
        return output.getvalue()
