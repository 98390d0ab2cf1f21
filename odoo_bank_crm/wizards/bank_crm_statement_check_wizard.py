from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import html_escape


class BankCrmStatementCheckWizard(models.TransientModel):
    """Look for holes and doubles in an account's transactions: lines that look like the
    same operation booked twice, and working days without any transaction between the
    first and the last one of the period (a missed sync or import)."""

    _name = 'bank.crm.statement.check.wizard'
    _description = "Check an Account's Transactions"

    journal_id = fields.Many2one(
        'account.journal', string="Account", required=True, domain=[('type', 'in', ('bank', 'cash'))]
    )
    date_from = fields.Date(
        string="From", required=True, default=lambda self: fields.Date.context_today(self) - timedelta(days=90)
    )
    date_to = fields.Date(string="To", required=True, default=fields.Date.context_today)
    result = fields.Html(readonly=True, sanitize=True)
    duplicate_count = fields.Integer(string="Possible Duplicates", readonly=True)
    missing_day_count = fields.Integer(string="Missing Days", readonly=True)

    def action_check(self):
        self.ensure_one()
        if self.date_from > self.date_to:
            raise UserError(_("The period ends before it starts."))
        duplicates = self._possible_duplicates()
        missing = self._missing_days()
        parts = []
        if duplicates:
            parts.append(
                "<h5>{}</h5><ul>{}</ul>".format(
                    html_escape(_("Possible duplicates")),
                    "".join(
                        "<li>{}</li>".format(
                            html_escape(
                                _(
                                    "%(date)s, %(amount)s, %(purpose)s: %(count)s times",
                                    date=date,
                                    amount=self.journal_id.bank_crm_currency_id.format(amount),
                                    purpose=purpose or "—",
                                    count=count,
                                )
                            )
                        )
                        for date, amount, purpose, count in duplicates
                    ),
                )
            )
        if missing:
            parts.append(
                "<h5>{}</h5><p>{}</p>".format(
                    html_escape(_("Working days without any transaction")),
                    html_escape(", ".join(day.strftime('%d.%m.%Y') for day in missing)),
                )
            )
        if not parts:
            parts.append("<p>{}</p>".format(html_escape(_("No possible duplicate and no missing day in this period."))))
        self.write({'result': "".join(parts), 'duplicate_count': len(duplicates), 'missing_day_count': len(missing)})
        return {
            'type': 'ir.actions.act_window',
            'res_model': self._name,
            'res_id': self.id,
            'view_mode': 'form',
            'target': 'new',
        }

    def _possible_duplicates(self):
        """Same day, amount, counterparty account and purpose, more than once (one query)."""
        self.env['account.bank.statement.line'].flush_model()
        self.env.cr.execute(
            """
            SELECT move.date, line.amount, line.payment_ref, COUNT(*)
              FROM account_bank_statement_line line
              JOIN account_move move ON move.id = line.move_id
             WHERE line.journal_id = %s AND move.date BETWEEN %s AND %s AND move.state != 'cancel'
          GROUP BY move.date, line.amount, line.payment_ref, COALESCE(line.account_number, ''),
                   COALESCE(line.bank_crm_document_number, '')
            HAVING COUNT(*) > 1
          ORDER BY move.date
        """,
            [self.journal_id.id, self.date_from, self.date_to],
        )
        return self.env.cr.fetchall()

    def _missing_days(self):
        """Working days (Mon–Fri) between the period's first and last transaction without any."""
        self.env.cr.execute(
            """
            SELECT DISTINCT move.date FROM account_bank_statement_line line
              JOIN account_move move ON move.id = line.move_id
             WHERE line.journal_id = %s AND move.date BETWEEN %s AND %s AND move.state != 'cancel'
          ORDER BY move.date
        """,
            [self.journal_id.id, self.date_from, self.date_to],
        )
        days = [row[0] for row in self.env.cr.fetchall()]
        if len(days) < 2:
            return []
        present, missing, day = set(days), [], days[0]
        while day < days[-1]:
            if day.weekday() < 5 and day not in present:
                missing.append(day)
            day += timedelta(days=1)
        return missing

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get('active_model') == 'account.journal' and self.env.context.get('active_id'):
            values['journal_id'] = self.env.context['active_id']
        return values
