import base64
import io
import re
import shutil

import openpyxl

from odoo import fields
from odoo.tests import Form, tagged
from odoo.tools.misc import formatLang

from ..bank_api import onec
from .common import BankCrmCommon

ACCOUNT_1 = '40702810000000000001'
ACCOUNT_2 = '40702810000000000002'


@tagged('post_install', '-at_install')
class TestStatementWizard(BankCrmCommon):
    """Figures checked against totals computed by hand for this data, period March 2026:

    bank (ACCOUNT_1): before: +10,000.00, -1,234.56 (rent)            → opening 8,765.44
                      in March: +5,000.55 Ромашка, -700.10 rent (supplier), -300.00 Ромашка's contact,
                                -99.99 taxes                          → in 5,000.55, out 1,100.09
                      after: +777.00                                  → closing 12,665.90
    bank 2 (ACCOUNT_2): before +2,000.00; March +1,500.25 (other customer), -250.75 office (supplier)
                                                                      → closing 3,249.50
    cash: March +100.00 Ромашка                                       → closing 100.00
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the accountant of the tests also runs the Account menu
        cls.env.user.groups_id |= cls.env.ref('odoo_bank_crm.group_bank_crm_director')
        cls.bank_journal.bank_acc_number = ACCOUNT_1
        cls.bank_journal_2.bank_acc_number = ACCOUNT_2
        cls.env.company.vat = '7700000001'
        Category = cls.env['bank.crm.expense.category']
        cls.office = Category.create({'name': "Office"})
        cls.rent = Category.create({'name': "Rent", 'parent_id': cls.office.id})
        cls.taxes = Category.create({'name': "Taxes"})
        cls.suppliers = cls.env['res.partner.category'].create({'name': "Suppliers"})
        cls.supplier = cls.env['res.partner'].create(
            {'name': "ИП Петров", 'is_company': True, 'vat': '500100732259', 'category_id': [(6, 0, cls.suppliers.ids)]}
        )
        cls.contact = cls.env['res.partner'].create({'name': "Иван (Ромашка)", 'parent_id': cls.partner.id})
        cls.customer = cls.env['res.partner'].create({'name': "ООО «Вектор»", 'is_company': True})

        def line(journal, date, amount, partner=None, purpose="Платёж", category=None):
            return {
                'journal_id': journal.id,
                'date': date,
                'amount': amount,
                'payment_ref': purpose,
                'partner_id': partner and partner.id,
                'bank_crm_category_id': category and category.id,
                'bank_crm_document_number': str(abs(int(amount))),
            }

        cls.env['account.bank.statement.line'].with_context(bank_crm_no_matching=True).create(
            [
                line(cls.bank_journal, '2026-02-20', 10000.00, purpose="Входящий остаток"),
                line(cls.bank_journal, '2026-02-25', -1234.56, cls.supplier, "Аренда за февраль", cls.rent),
                line(cls.bank_journal, '2026-03-01', 5000.55, cls.partner, "Оплата по счету № 7"),
                line(cls.bank_journal, '2026-03-05', -700.10, cls.supplier, "Аренда за март", cls.rent),
                line(cls.bank_journal, '2026-03-10', -300.00, cls.contact, "Возврат аванса"),
                line(cls.bank_journal, '2026-03-15', -99.99, None, "Налог УСН", cls.taxes),
                line(cls.bank_journal, '2026-04-01', 777.00, cls.partner, "Оплата по счету № 8"),
                line(cls.bank_journal_2, '2026-01-10', 2000.00, purpose="Входящий остаток"),
                line(cls.bank_journal_2, '2026-03-12', 1500.25, cls.customer, "Оплата по договору 3"),
                line(cls.bank_journal_2, '2026-03-20', -250.75, cls.supplier, "Канцтовары", cls.office),
                line(cls.cash_journal, '2026-03-03', 100.00, cls.partner, "Наличные"),
            ]
        )

    def _wizard(self, **values):
        return self.env['bank.crm.statement.wizard'].create(
            {'date_from': '2026-03-01', 'date_to': '2026-03-31', **values}
        )

    def _accounts(self, data):
        return {account['journal']: account for account in data['accounts']}

    def _figures(self, account):
        return tuple(
            account[key]
            for key in ('opening', 'income', 'expense', 'closing', 'selected_income', 'selected_expense', 'count')
        )

    def _totals(self, data):
        [total] = data['totals']  # one currency
        return total['income'], total['expense'], total['count']

    def test_balances_of_every_account(self):
        data = self._wizard()._bank_crm_statement_data()
        accounts = self._accounts(data)
        self.assertEqual(
            set(accounts),
            {self.bank_journal, self.bank_journal_2, self.cash_journal},
            "accounts without anything to show are left out when none is chosen",
        )
        self.assertEqual(
            self._figures(accounts[self.bank_journal]), (8765.44, 5000.55, 1100.09, 12665.90, 5000.55, 1100.09, 4)
        )
        self.assertEqual(
            self._figures(accounts[self.bank_journal_2]), (2000.00, 1500.25, 250.75, 3249.50, 1500.25, 250.75, 2)
        )
        self.assertEqual(self._figures(accounts[self.cash_journal]), (0.0, 100.0, 0.0, 100.0, 100.0, 0.0, 1))
        self.assertEqual(self._totals(data), (6600.80, 1350.84, 7))
        self.assertFalse(data['filtered'])
        rows = accounts[self.bank_journal]['lines']
        self.assertEqual([row['amount'] for row in rows], [5000.55, -700.10, -300.00, -99.99])
        self.assertEqual(
            (rows[1]['partner'], rows[1]['inn'], rows[1]['category'], rows[1]['expense']),
            ("ИП Петров", '500100732259', "Office / Rent", 700.10),
        )
        categories = {(row['name'], row['income'], row['expense'], row['net']) for row in data['categories']}
        self.assertEqual(
            categories,
            {
                ("Office", 0.0, 250.75, -250.75),
                ("Office / Rent", 0.0, 700.10, -700.10),
                ("Taxes", 0.0, 99.99, -99.99),
                ("Uncategorised", 6600.80, 300.00, 6300.80),
            },
        )

    def test_filters(self):
        cases = [
            # (wizard values, {journal: (selected in, selected out, count)}, totals in/out/count)
            (
                {'journal_ids': [(6, 0, self.bank_journal_2.ids)]},
                {self.bank_journal_2: (1500.25, 250.75, 2)},
                (1500.25, 250.75, 2),
            ),
            (
                {'date_from': '2026-02-01', 'date_to': '2026-02-28', 'journal_ids': [(6, 0, self.bank_journal.ids)]},
                {self.bank_journal: (10000.00, 1234.56, 2)},
                (10000.00, 1234.56, 2),
            ),
            (
                {'partner_filter': 'include', 'partner_ids': [(6, 0, self.partner.ids)]},  # its contact included
                {
                    self.bank_journal: (5000.55, 300.00, 2),
                    self.bank_journal_2: (0.0, 0.0, 0),
                    self.cash_journal: (100.00, 0.0, 1),
                },
                (5100.55, 300.00, 3),
            ),
            (
                {'partner_filter': 'exclude', 'partner_ids': [(6, 0, self.partner.ids)]},  # lines without partner kept
                {
                    self.bank_journal: (0.0, 800.09, 2),
                    self.bank_journal_2: (1500.25, 250.75, 2),
                    self.cash_journal: (0.0, 0.0, 0),
                },
                (1500.25, 1050.84, 4),
            ),
            (
                {'partner_filter': 'include', 'partner_category_ids': [(6, 0, self.suppliers.ids)]},
                {self.bank_journal: (0.0, 700.10, 1), self.bank_journal_2: (0.0, 250.75, 1)},
                (0.0, 950.85, 2),
            ),
            (
                {'partner_filter': 'exclude', 'partner_category_ids': [(6, 0, self.suppliers.ids)]},
                {self.bank_journal: (5000.55, 399.99, 3)},
                (6600.80, 399.99, 5),
            ),
            (
                {
                    'partner_filter': 'include',
                    'partner_ids': [(6, 0, self.customer.ids)],
                    'partner_category_ids': [(6, 0, self.suppliers.ids)],
                },
                {self.bank_journal_2: (1500.25, 250.75, 2)},
                (1500.25, 950.85, 3),
            ),
            (
                {'category_ids': [(6, 0, self.office.ids)]},  # subcategories included
                {self.bank_journal: (0.0, 700.10, 1), self.bank_journal_2: (0.0, 250.75, 1)},
                (0.0, 950.85, 2),
            ),
            (
                {'category_ids': [(6, 0, (self.taxes | self.rent).ids)]},
                {self.bank_journal: (0.0, 800.09, 2)},
                (0.0, 800.09, 2),
            ),
            (
                {'direction': 'outbound'},
                {self.bank_journal: (0.0, 1100.09, 3), self.cash_journal: (0.0, 0.0, 0)},
                (0.0, 1350.84, 4),
            ),
            (
                {'direction': 'inbound', 'journal_ids': [(6, 0, (self.bank_journal | self.cash_journal).ids)]},
                {self.bank_journal: (5000.55, 0.0, 1), self.cash_journal: (100.0, 0.0, 1)},
                (5100.55, 0.0, 2),
            ),
        ]
        expected_balances = {
            self.bank_journal: (8765.44, 12665.90),
            self.bank_journal_2: (2000.00, 3249.50),
            self.cash_journal: (0.0, 100.00),
        }
        for values, per_account, totals in cases:
            with self.subTest(filters=values):
                wizard = self._wizard(**values)
                data = wizard._bank_crm_statement_data()
                accounts = self._accounts(data)
                for journal, (income, expense, count) in per_account.items():
                    account = accounts[journal]
                    self.assertEqual(
                        (account['selected_income'], account['selected_expense'], account['count']),
                        (income, expense, count),
                    )
                    self.assertEqual(len(account['lines']), count)
                    if 'date_from' not in values:  # narrowing never changes an account's balances
                        self.assertEqual((account['opening'], account['closing']), expected_balances[journal])
                self.assertEqual(self._totals(data), totals)
                # on screen: the transactions list with the same filters
                action = wizard.action_show()
                self.assertEqual(action['res_model'], 'account.bank.statement.line')
                self.assertEqual(self.env['account.bank.statement.line'].search_count(action['domain']), totals[2])
                self.assertEqual(action['context'].get('search_default_group_by_journal'), 1)

    def test_february_statement_balances(self):
        data = self._wizard(date_from='2026-02-01', date_to='2026-02-28')._bank_crm_statement_data()
        accounts = self._accounts(data)
        self.assertEqual(self._figures(accounts[self.bank_journal])[:4], (0.0, 10000.00, 1234.56, 8765.44))
        self.assertEqual(self._figures(accounts[self.bank_journal_2])[:4], (2000.00, 0.0, 0.0, 2000.00))
        self.assertNotIn(self.cash_journal, accounts)

    def test_wizard_from_the_partner_card(self):
        action = self.env.ref('odoo_bank_crm.bank_crm_statement_wizard_action')
        self.assertEqual(action.res_model, 'bank.crm.statement.wizard')
        arch = self.env['res.partner'].with_user(self.users['user']).get_view(view_type='form')['arch']
        self.assertIn(f'name="{action.id}"', arch, "the Statement button of the partner's card")
        context = {'default_partner_ids': [self.partner.id], 'default_partner_filter': 'include'}
        with Form(self.env['bank.crm.statement.wizard'].with_user(self.users['user']).with_context(**context)) as form:
            form.date_from = fields.Date.to_date('2026-03-01')
            form.date_to = fields.Date.to_date('2026-03-31')
        wizard = form.record
        self.assertEqual((wizard.partner_filter, wizard.partner_ids), ('include', self.partner))
        self.assertEqual(self._totals(wizard._bank_crm_statement_data()), (5100.55, 300.00, 3))

    def test_wrong_period_or_nothing_to_include(self):
        with self.assertRaisesRegex(Exception, "ends before"):
            self._wizard(date_from='2026-04-01', date_to='2026-03-01')._bank_crm_statement_data()
        with self.assertRaisesRegex(Exception, "partners"):
            self._wizard(partner_filter='include').action_show()

    def _text(self, html):
        text = re.sub(r'<[^>]+>', ' ', html.decode() if isinstance(html, bytes) else html)
        return ' '.join(text.replace('\xa0', ' ').replace('&nbsp;', ' ').split())

    def _amount(self, value):
        return formatLang(self.env, value)

    def test_pdf(self):
        """The printed statement: each account's opening and closing balance, its lines and
        totals, the totals per category; a real PDF when wkhtmltopdf is installed."""
        wizard = self._wizard()
        report = self.env.ref('odoo_bank_crm.action_report_bank_crm_statement')
        self.assertEqual(report.paperformat_id.format, 'A4')
        html, _kind = report._render_qweb_html(report.report_name, wizard.ids)
        text = self._text(html)
        for expected in (
            "Opening balance",
            "Closing balance",
            "Totals by category",
            "Office / Rent",
            "Аренда за март",
            "ИП Петров",
            "Uncategorised",
            ACCOUNT_1,
        ):
            self.assertIn(expected, text)
        for amount in (8765.44, 12665.90, 5000.55, 1100.09, 2000.00, 3249.50, 700.10, 6600.80, 1350.84, 6300.80):
            self.assertIn(self._amount(amount), text)
        self.assertIn("03/05/2026", text)  # dates as the user's language writes them
        self.assertNotIn("Аренда за февраль", text)
        # a narrowed statement says so, and shows the account's movements too
        narrowed = self._text(
            report._render_qweb_html(
                report.report_name, self._wizard(partner_filter='include', partner_ids=[(6, 0, self.supplier.ids)]).ids
            )[0]
        )
        self.assertIn("Only: ИП Петров", narrowed)
        self.assertIn("All movements of the account", narrowed)
        self.assertIn(self._amount(8765.44), narrowed)
        if not shutil.which('wkhtmltopdf'):
            self.skipTest("wkhtmltopdf is not installed: the HTML of the PDF was checked")
        pdf, kind = report.with_context(force_report_rendering=True)._render_qweb_pdf(report.report_name, wizard.ids)
        self.assertEqual(kind, 'pdf')
        self.assertTrue(pdf.startswith(b'%PDF'))
        from odoo.tools.pdf import PdfFileReader

        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        pdf_text = ' '.join(' '.join(page.extract_text().split()) for page in reader.pages)
        pdf_text = pdf_text.replace('\xa0', ' ')
        for amount in (8765.44, 12665.90, 3249.50):
            self.assertIn(self._amount(amount), pdf_text)

    def test_pdf_in_russian(self):
        """A Russian user's statement is in Russian: dates as Russia writes them."""
        self.env['res.lang']._activate_lang('ru_RU')
        user = self.users['user']
        user.lang = 'ru_RU'
        report = self.env.ref('odoo_bank_crm.action_report_bank_crm_statement').with_user(user)
        wizard = self._wizard().with_user(user)
        text = self._text(report._render_qweb_html(report.report_name, wizard.ids)[0])
        self.assertIn("05.03.2026", text)
        self.assertIn("8 765,44", text.replace('\u202f', ' '))

    def test_xlsx(self):
        wizard = self._wizard()
        action = wizard.action_export_xlsx()
        self.assertEqual(action['type'], 'ir.actions.act_url')
        self.assertIn(f"id={wizard.id}", action['url'])
        self.assertTrue(wizard.filename.endswith('.xlsx'))
        book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(wizard.data_file)))
        self.assertEqual(book.sheetnames, ["Statement", "Accounts", "Categories"])
        sheet = book["Statement"]
        rows = list(sheet.iter_rows())
        header = next(index for index, row in enumerate(rows) if row[0].value == "Date")
        lines = [row for row in rows[header + 1 :] if row[0].is_date]
        self.assertEqual(len(lines), 7)
        first = lines[0]
        self.assertEqual(first[0].value.date(), fields.Date.to_date('2026-03-01'))
        self.assertEqual(first[0].number_format, 'mm/dd/yyyy')
        self.assertEqual(
            (first[1].value, first[2].value, first[4].value, first[7].value),
            (self.bank_journal.display_name, "ООО «Ромашка»", "Оплата по счету № 7", 5000.55),
        )
        self.assertEqual(first[7].number_format, '#,##0.00')
        rent = next(row for row in lines if row[4].value == "Аренда за март")
        self.assertEqual(
            (rent[3].value, rent[5].value, rent[7].value, rent[8].value),
            ('500100732259', "Office / Rent", None, 700.10),
        )
        self.assertIsInstance(rent[8].value, float)
        [total] = [row for row in rows if row[0].value == "Total"]
        self.assertEqual((total[7].value, total[8].value), (6600.80, 1350.84))

        accounts = {row[0].value: [cell.value for cell in row] for row in book["Accounts"].iter_rows(min_row=5)}
        self.assertEqual(
            accounts[self.bank_journal.display_name][1:7],
            [
                ACCOUNT_1,
                self.bank_journal.currency_id.name or self.env.company.currency_id.name,
                8765.44,
                5000.55,
                1100.09,
                12665.90,
            ],
        )
        self.assertEqual(accounts[self.bank_journal_2.display_name][3:7], [2000.00, 1500.25, 250.75, 3249.50])
        categories = {row[0].value: [cell.value for cell in row][2:] for row in book["Categories"].iter_rows(min_row=5)}
        self.assertEqual(categories["Office / Rent"], [0, 700.10, -700.10])
        self.assertEqual(categories["Uncategorised"], [6600.80, 300.00, 6300.80])

    def test_onec(self):
        wizard = self._wizard(journal_ids=[(6, 0, (self.bank_journal | self.bank_journal_2 | self.cash_journal).ids)])
        wizard.action_export_onec()
        self.assertTrue(wizard.filename.startswith('kl_to_1c'))
        parsed = onec.parse(base64.b64decode(wizard.data_file))
        self.assertEqual(parsed.encoding, 'Windows')
        self.assertEqual(parsed.accounts, [ACCOUNT_1, ACCOUNT_2], "a cash desk has no place in a 1C file")
        balances = {
            b.account: (str(b.opening), str(b.total_in), str(b.total_out), str(b.closing)) for b in parsed.balances
        }
        self.assertEqual(
            balances,
            {
                ACCOUNT_1: ('8765.44', '5000.55', '1100.09', '12665.90'),
                ACCOUNT_2: ('2000.00', '1500.25', '250.75', '3249.50'),
            },
        )
        self.assertEqual(
            [str(d.amount) for d in parsed.documents], ['5000.55', '700.10', '300.00', '99.99', '1500.25', '250.75']
        )
        rent = parsed.documents[1]
        self.assertEqual(
            (rent.purpose, rent.recipient.inn, rent.payer.account, rent.payer.inn),
            ("Аренда за март", '500100732259', ACCOUNT_1, '7700000001'),
        )
        self.assertEqual(
            [onec.direction(d, {ACCOUNT_1, ACCOUNT_2}) for d in parsed.documents],
            ['in', 'out', 'out', 'out', 'in', 'out'],
        )

        # narrowed: the documents shown, the accounts' own balances
        narrowed = self._wizard(journal_ids=[(6, 0, self.bank_journal.ids)], direction='outbound', encoding='DOS')
        narrowed.action_export_onec()
        parsed = onec.parse(base64.b64decode(narrowed.data_file))
        self.assertEqual(parsed.encoding, 'DOS')
        self.assertEqual([str(d.amount) for d in parsed.documents], ['700.10', '300.00', '99.99'])
        self.assertEqual(str(parsed.balances[0].closing), '12665.90')

        with self.assertRaisesRegex(Exception, "bank accounts only"):
            self._wizard(journal_ids=[(6, 0, self.cash_journal.ids)]).action_export_onec()

    def test_pdf_action(self):
        action = self._wizard().with_context(discard_logo_check=True).action_print_pdf()
        self.assertEqual(
            (action['type'], action['report_name']), ('ir.actions.report', 'odoo_bank_crm.report_bank_crm_statement')
        )

    def test_queries_do_not_grow_with_the_lines(self):
        wizard = self._wizard()

        def queries():
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            data = wizard._bank_crm_statement_data()
            return self.env.cr.sql_log_count - before, sum(len(a['lines']) for a in data['accounts'])

        queries()
        small, small_lines = queries()
        self.env['account.bank.statement.line'].with_context(bank_crm_no_matching=True).create(
            [
                {
                    'journal_id': (self.bank_journal, self.bank_journal_2)[i % 2].id,
                    'date': f'2026-03-{1 + i % 28:02d}',
                    'amount': (-1) ** i * (10 + i),
                    'payment_ref': f"Line {i}",
                    'partner_id': (self.partner, self.supplier, self.customer)[i % 3].id,
                    'bank_crm_category_id': (self.rent, self.taxes)[i % 2].id,
                }
                for i in range(150)
            ]
        )
        big, big_lines = queries()
        self.assertEqual(big_lines, small_lines + 150)
        self.assertEqual(small, big, "the statement's queries grow with its lines")
