"""«Счёт на оплату» and «Акт сверки» (issue #18 §2, §3; docs/russian-documents.md): rendered
to a real PDF by wkhtmltopdf and read back with pdftotext; the act's figures against a hand
computation, its XLSX read back."""

import base64
import io
import re
import shutil
import subprocess

from openpyxl import load_workbook

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

# a 1×1 transparent PNG: the facsimiles and the stamp
PIXEL = base64.b64encode(
    bytes.fromhex(
        '89504e470d0a1a0a0000000d4948445200000001000000010806000000'
        '1f15c4890000000d49444154789c6360000002000005000157a2e0d90000000049454e44ae426082'
    )
)


def pdf_text(pdf):
    """The text of a PDF as pdftotext reads it, each run of spaces made one space."""
    text = subprocess.run(['pdftotext', '-layout', '-', '-'], input=pdf, capture_output=True, check=True).stdout
    return ' '.join(text.decode().replace('\xa0', ' ').split())


@tagged('post_install', '-at_install')
class RussianDocumentsCommon(AccountTestInvoicingCommon):
    country_code = 'RU'

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data['company']
        cls.company.write(
            {
                'name': "ООО «Тест Торг»",
                'vat': '7701234567',
                'bank_crm_kpp': '770101001',
                'bank_crm_ogrn': '1027700132195',
                'street': "ул. Тверская, д. 1",
                'city': "Москва",
                'zip': '125009',
                'bank_crm_director_name': "Иванов И. И.",
                'bank_crm_accountant_name': "Петрова А. С.",
            }
        )
        bank = cls.env['res.bank'].create(
            {'name': "АО «ТБанк»", 'bic': '044525974', 'bank_crm_corr_account': '30101810145250000974'}
        )
        cls.company_bank_account = cls.env['res.partner.bank'].create(
            {'acc_number': '40702810910000000001', 'partner_id': cls.company.partner_id.id, 'bank_id': bank.id}
        )
        cls.customer = cls.env['res.partner'].create(
            {
                'name': "ООО «Ромашка»",
                'is_company': True,
                'vat': '7702345678',
                'bank_crm_kpp': '770201001',
                'street': "ул. Ленина, д. 5",
                'city': "Казань",
                'email': 'buh@romashka.example',
            }
        )
        cls.env['res.lang']._activate_lang('ru_RU')
        cls.vat = {
            (rate, included): cls.env['account.tax'].create(
                {
                    'name': f"НДС {rate}%{' вкл.' if included else ''}",
                    'amount': rate,
                    'amount_type': 'percent',
                    'type_tax_use': 'sale',
                    'price_include_override': 'tax_included' if included else 'tax_excluded',
                    'company_id': cls.company.id,
                }
            )
            for rate in (22, 10, 5, 7)
            for included in (True, False)
        }

    @classmethod
    def _invoice(cls, lines, partner=None, date='2026-03-02', post=True, move_type='out_invoice', company=None):
        """An invoice of `lines`: (name, quantity, price, taxes)."""
        company = company or cls.company
        move = (
            cls.env['account.move']
            .with_company(company)
            .create(
                {
                    'move_type': move_type,
                    'partner_id': (partner or cls.customer).id,
                    'invoice_date': date,
                    'date': date,
                    'line_ids': [
                        Command.create(
                            {
                                'name': name,
                                'quantity': quantity,
                                'price_unit': price,
                                'tax_ids': [Command.set(taxes.ids)],
                            }
                        )
                        for name, quantity, price, taxes in lines
                    ],
                }
            )
        )
        if post:
            move.action_post()
        return move

    def _pdf(self, report, records):
        if not shutil.which('wkhtmltopdf') or not shutil.which('pdftotext'):
            self.fail("wkhtmltopdf and pdftotext (poppler-utils) are needed: tools/setup.py installs them")
        pdf, kind = (
            self.env['ir.actions.report']
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(report, records.ids)
        )
        self.assertEqual(kind, 'pdf')
        self.assertTrue(pdf.startswith(b'%PDF'))
        return pdf


class TestRussianInvoice(RussianDocumentsCommon):
    def test_invoice_pdf_has_every_element(self):
        self.company.write(
            {'bank_crm_director_facsimile': PIXEL, 'bank_crm_accountant_facsimile': PIXEL, 'bank_crm_stamp': PIXEL}
        )
        invoice = self._invoice(
            [
                ("Консультация", 2, 6100.00, self.vat[22, True]),
                ("Книга «Учёт»", 3, 110.00, self.vat[10, True]),
            ]
        )
        invoice.invoice_date_due = fields.Date.to_date('2026-03-12')
        invoice._bank_crm_create_payment_link('portal')
        invoice.bank_crm_sbp_qr_payload = 'https://qr.nspk.ru/AS1000TEST'
        self.assertEqual(invoice._get_name_invoice_report(), 'odoo_bank_crm.report_invoice_document_ru')
        text = pdf_text(self._pdf('account.account_invoices', invoice))
        for element in [
            # the bank block
            "АО «ТБанк»",
            "Банк получателя",
            "БИК 044525974",
            "Сч. № 30101810145250000974",
            "ИНН 7701234567",
            "КПП 770101001",
            "Сч. № 40702810910000000001",
            "Получатель",
            f"Счёт на оплату № {invoice.name} от 2 марта 2026 г.",
            # the parties and the basis
            "Поставщик (Исполнитель):",
            "ООО «Тест Торг», ИНН 7701234567, КПП 770101001",
            "Покупатель (Заказчик):",
            "ООО «Ромашка», ИНН 7702345678, КПП 770201001",
            "Казань",
            "Основание: Основной договор",
            # the items: №, name, quantity, unit, price, sum
            "№ Товары (работы, услуги) Кол-во Ед. Цена Сумма",
            "1 Консультация 2 6 100,00 12 200,00",
            "2 Книга «Учёт» 3 110,00 330,00",
            # the totals: 12 200 incl. 22/122 = 2 200; 330 incl. 10/110 = 30
            "Итого: 12 530,00",
            "В том числе НДС 22%: 2 200,00",
            "В том числе НДС 10%: 30,00",
            "Всего к оплате: 12 530,00",
            "Всего наименований 2, на сумму 12 530,00 руб.",
            "Двенадцать тысяч пятьсот тридцать рублей 00 копеек",
            "Оплатить не позднее 12 марта 2026 г.",
            # how to pay
            "Оплата по СБП:",
            "Оплатить онлайн:",
            invoice.bank_crm_payment_url,
            # the signatures
            "Руководитель",
            "Генеральный директор",
            "Иванов И. И.",
            "Бухгалтер",
            "Петрова А. С.",
        ]:
            self.assertIn(element, text)
        self.assertNotIn("Без налога (НДС)", text)
        html = self.env['ir.actions.report']._render_qweb_html('account.account_invoices', invoice.ids)[0].decode()
        self.assertEqual(html.count('alt="подпись"'), 2)
        self.assertIn('alt="М.П."', html)

    def test_without_facsimile_no_images(self):
        invoice = self._invoice([("Услуга", 1, 100.00, self.env['account.tax'])])
        html = self.env['ir.actions.report']._render_qweb_html('account.account_invoices', invoice.ids)[0].decode()
        self.assertNotIn('alt="подпись"', html)
        self.assertNotIn('alt="М.П."', html)
        self.assertNotIn("Оплата по СБП", html)

    def test_amounts_in_words_of_the_traps(self):
        cases = {
            '0.01': "Ноль рублей 01 копейка",
            '1000000.00': "Один миллион рублей 00 копеек",
            '21.21': "Двадцать один рубль 21 копейка",
            '12.12': "Двенадцать рублей 12 копеек",
            '1.01': "Один рубль 01 копейка",
            '2.02': "Два рубля 02 копейки",
            '5.05': "Пять рублей 05 копеек",
            '11.11': "Одиннадцать рублей 11 копеек",
        }
        invoices = self.env['account.move']
        for amount in cases:
            invoices |= self._invoice([("Услуга", 1, float(amount), self.env['account.tax'])])
        for invoice, (amount, words) in zip(invoices, cases.items(), strict=True):
            with self.subTest(amount=amount):
                text = pdf_text(self._pdf('account.account_invoices', invoice))
                self.assertIn(words, text)
                self.assertIn("Без налога (НДС) -", text)
                self.assertEqual(invoice._bank_crm_ru_invoice_data()['words'], words)
                if amount == '1000000.00':
                    self.assertIn("Всего к оплате: 1 000 000,00", text)

    def test_vat_lines_of_each_rate(self):
        # prices with VAT included: «В том числе НДС»; 1 220 at 22/122 = 220, 110 at 10/110 = 10,
        # 105 at 5/105 = 5, 107 at 7/107 = 7
        included = self._invoice(
            [
                ("Товар 22", 1, 1220.00, self.vat[22, True]),
                ("Товар 10", 1, 110.00, self.vat[10, True]),
                ("Товар 5", 1, 105.00, self.vat[5, True]),
                ("Товар 7", 1, 107.00, self.vat[7, True]),
            ]
        )
        # prices without VAT: «Сумма НДС» added to «Итого»
        excluded = self._invoice(
            [
                ("Работа 22", 2, 500.00, self.vat[22, False]),
                ("Работа 7", 1, 1000.00, self.vat[7, False]),
            ]
        )
        no_vat = self._invoice([("Услуга без НДС", 4, 250.00, self.env['account.tax'])])
        text = pdf_text(self._pdf('account.account_invoices', included))
        for line in [
            "Итого: 1 542,00",
            "В том числе НДС 22%: 220,00",
            "В том числе НДС 10%: 10,00",
            "В том числе НДС 5%: 5,00",
            "В том числе НДС 7%: 7,00",
            "Всего к оплате: 1 542,00",
            "Одна тысяча пятьсот сорок два рубля 00 копеек",
        ]:
            self.assertIn(line, text)
        text = pdf_text(self._pdf('account.account_invoices', excluded))
        for line in [
            "1 Работа 22 2 500,00 1 000,00",
            "Итого: 2 000,00",
            "Сумма НДС 22%: 220,00",
            "Сумма НДС 7%: 70,00",
            "Всего к оплате: 2 290,00",
            "Две тысячи двести девяносто рублей 00 копеек",
        ]:
            self.assertIn(line, text)
        text = pdf_text(self._pdf('account.account_invoices', no_vat))
        for line in ["Итого: 1 000,00", "Без налога (НДС) -", "Всего к оплате: 1 000,00", "Всего наименований 1"]:
            self.assertIn(line, text)
        self.assertNotIn("НДС 22%", text)

    def test_other_companies_keep_odoos_invoice(self):
        other = self.setup_other_company(name="US Co", country_id=self.env.ref('base.us').id)['company']
        invoice = self._invoice([("Service", 1, 100.00, self.env['account.tax'])], company=other)
        self.assertEqual(invoice._get_name_invoice_report(), 'account.report_invoice_document')
        html = self.env['ir.actions.report']._render_qweb_html('account.account_invoices', invoice.ids)[0].decode()
        self.assertNotIn("Счёт на оплату", html)
        self.assertIn(invoice.name, html)
        # a Russian company's credit note keeps Odoo's layout too: it is not a request to pay
        refund = self._invoice([("Возврат", 1, 100.00, self.env['account.tax'])], move_type='out_refund')
        self.assertEqual(refund._get_name_invoice_report(), 'account.report_invoice_document')

    def test_invoice_sent_to_the_customer_is_the_russian_one(self):
        """The deal card's "Issue invoice" and the stage rules send through
        `_bank_crm_send_payment_link`: the PDF attached to the email is the «Счёт на оплату»."""
        invoice = self._invoice([("Консультация", 1, 1220.00, self.vat[22, True])])
        invoice.with_context(bank_crm_payment_link_kind='portal')._bank_crm_send_payment_link()
        message = invoice.message_ids.filtered(lambda m: m.attachment_ids)[:1]
        self.assertTrue(message, "the email carries the invoice")
        content = base64.b64decode(message.attachment_ids[0].datas)
        # under test, Odoo attaches the report's HTML instead of running wkhtmltopdf
        self.assertIn("Счёт на оплату", content.decode(errors='replace'))
        self.assertIn("В том числе НДС 22%", content.decode(errors='replace'))

    def test_kpp_ogrn_and_corr_account_are_checked(self):
        for values in ({'bank_crm_kpp': '77010100'}, {'bank_crm_kpp': '7701a1001'}, {'bank_crm_ogrn': '12345'}):
            with self.subTest(values=values), self.assertRaises(ValidationError):
                self.customer.write(values)
        self.assertEqual(self.customer.bank_crm_kpp, '770201001')
        self.customer.bank_crm_kpp = '7701AB001'  # letters are allowed in the reason code
        with self.assertRaises(ValidationError):
            self.env['res.bank'].create({'name': "Банк", 'bank_crm_corr_account': '3010181'})


class TestReconciliationAct(RussianDocumentsCommon):
    """Hand computation, period 01.02.2026 – 31.03.2026:

    before: invoice 10 000 (15.01), payment 4 000 (20.01)       → opening 6 000 owed to us
    in the period:
      10.02 invoice 5 000                                        debit  5 000
      15.02 partial payment of it 3 000                          credit 3 000
      20.02 credit note 1 000                                    credit 1 000
      05.03 payment 9 000 (owed 7 000: an overpayment of 2 000)  credit 9 000
      10.03 their bill (we buy) 500                              credit   500
      12.03 our payment of the bill 500                          debit    500
    turnovers: debit 5 500, credit 13 500; closing 6 000 + 5 500 − 13 500 = −2 000,
    a debt of 2 000 in the customer's favour.
    Left out: a draft invoice, an invoice of 01.04, another company's invoice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        bank = cls.company_data['default_journal_bank']
        # payments booked straight to the bank account, so that each has its journal entry
        (
            bank.inbound_payment_method_line_ids | bank.outbound_payment_method_line_ids
        ).payment_account_id = bank.default_account_id
        none = cls.env['account.tax']
        inv1 = cls._invoice([("Товар", 1, 10000.00, none)], date='2026-01-15')
        cls._pay(inv1, 4000, '2026-01-20')
        inv2 = cls._invoice([("Товар", 1, 5000.00, none)], date='2026-02-10')
        cls._pay(inv2, 3000, '2026-02-15')
        cls.refund = cls._invoice([("Возврат", 1, 1000.00, none)], date='2026-02-20', move_type='out_refund')
        cls.overpayment = cls.env['account.payment'].create(
            {
                'payment_type': 'inbound',
                'partner_type': 'customer',
                'partner_id': cls.customer.id,
                'amount': 9000,
                'date': '2026-03-05',
                'journal_id': bank.id,
            }
        )
        cls.overpayment.action_post()
        bill = cls._invoice([("Аренда", 1, 500.00, none)], date='2026-03-10', move_type='in_invoice')
        cls._pay(bill, 500, '2026-03-12')
        cls._invoice([("Черновик", 1, 777.00, none)], date='2026-03-15', post=False)
        cls._invoice([("Апрель", 1, 888.00, none)], date='2026-04-01')
        cls.other_company = cls.setup_other_company(name="ООО «Другая»")['company']
        cls._invoice([("Чужой", 1, 999.00, none)], date='2026-03-01', company=cls.other_company)
        cls.inv2 = inv2

    @classmethod
    def _pay(cls, move, amount, date):
        return (
            cls.env['account.payment.register']
            .with_context(active_model='account.move', active_ids=move.ids)
            .create({'amount': amount, 'payment_date': date, 'journal_id': cls.company_data['default_journal_bank'].id})
            ._create_payments()
        )

    def _act(self, user=None, **values):
        Wizard = self.env['bank.crm.reconciliation.act.wizard']
        if user:
            Wizard = Wizard.with_user(user)
        return Wizard.create(
            {'partner_id': self.customer.id, 'date_from': '2026-02-01', 'date_to': '2026-03-31', **values}
        )

    def test_figures_against_the_hand_computation(self):
        act = self._act()
        data = act._bank_crm_act_data()
        self.assertEqual(data['opening'], 6000)
        self.assertEqual(
            [(line['date'].isoformat(), int(line['debit']), int(line['credit'])) for line in data['lines']],
            [
                ('2026-02-10', 5000, 0),
                ('2026-02-15', 0, 3000),
                ('2026-02-20', 0, 1000),
                ('2026-03-05', 0, 9000),
                ('2026-03-10', 0, 500),
                ('2026-03-12', 500, 0),
            ],
        )
        self.assertEqual((data['debit'], data['credit'], data['closing']), (5500, 13500, -2000))
        self.assertEqual(
            data['conclusion'],
            "По данным ООО «Тест Торг» на 31.03.2026 задолженность в пользу ООО «Ромашка» составляет 2\xa0000,00 руб.",
        )
        documents = [line['document'] for line in data['lines']]
        self.assertTrue(documents[0].startswith(f"Реализация № {self.inv2.name} от 10.02.2026"))
        self.assertTrue(documents[1].startswith("Оплата от покупателя"))
        self.assertTrue(documents[2].startswith(f"Корректировка реализации (возврат) № {self.refund.name}"))
        self.assertTrue(documents[4].startswith("Поступление"))
        self.assertTrue(documents[5].startswith("Оплата поставщику"))

    def test_pdf_read_back(self):
        act = self._act()
        text = pdf_text(self._pdf('odoo_bank_crm.report_bank_crm_reconciliation_act', act))
        for element in [
            "Акт сверки взаимных расчётов",
            "за период 01.02.2026 – 31.03.2026",
            "между ООО «Тест Торг» и ООО «Ромашка»",
            "По данным ООО «Тест Торг», руб.",
            "По данным ООО «Ромашка», руб.",
            "Дата Документ Дебет Кредит Дата Документ Дебет Кредит",
            "Сальдо начальное на 01.02.2026 6 000,00",
            "5 000,00",
            "9 000,00",
            "Обороты за период 5 500,00 13 500,00",
            "Сальдо конечное на 31.03.2026 2 000,00",
            "задолженность в пользу ООО «Ромашка» составляет 2 000,00 руб.",
            "(Две тысячи рублей 00 копеек)",
            "От ООО «Тест Торг»",
            "От ООО «Ромашка»",
            "Иванов И. И.",
            "М.П.",
        ]:
            self.assertIn(element, text)
        for absent in ("777,00", "888,00", "999,00"):
            self.assertNotIn(absent, text)

    def test_xlsx_read_back(self):
        act = self._act()
        act.action_export_xlsx()
        self.assertEqual(act.filename, f"akt_sverki_{self.customer.id}_2026-02-01_2026-03-31.xlsx")
        sheet = load_workbook(io.BytesIO(base64.b64decode(act.data_file))).active
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        by_label = {row[0]: row for row in rows if isinstance(row[0], str)}
        self.assertEqual(by_label["Сальдо начальное на 01.02.2026"][2:4], [6000, None])
        self.assertEqual(by_label["Обороты за период"][2:4], [5500, 13500])
        self.assertEqual(by_label["Сальдо конечное на 31.03.2026"][2:4], [None, 2000])
        lines = [row for row in rows if hasattr(row[0], 'year')]
        self.assertEqual(
            [(row[0].date().isoformat(), row[2], row[3]) for row in lines],
            [
                ('2026-02-10', 5000, None),
                ('2026-02-15', None, 3000),
                ('2026-02-20', None, 1000),
                ('2026-03-05', None, 9000),
                ('2026-03-10', None, 500),
                ('2026-03-12', 500, None),
            ],
        )
        self.assertTrue(all(row[4:] == [None, None, None, None] for row in lines), "their columns are blank")
        conclusion = next(row[0] for row in rows if isinstance(row[0], str) and 'задолженность' in row[0])
        self.assertIn("в пользу ООО «Ромашка» составляет 2\xa0000,00 руб.", conclusion)

    def test_no_debt(self):
        data = self._act(date_from='2025-01-01', date_to='2025-12-31')._bank_crm_act_data()
        self.assertEqual((data['opening'], data['lines'], data['closing']), (0, [], 0))
        self.assertTrue(data['conclusion'].endswith("задолженность отсутствует."))
        data = self._act(date_from='2026-01-01', date_to='2026-01-31')._bank_crm_act_data()
        self.assertEqual(data['closing'], 6000)
        self.assertIn("задолженность в пользу ООО «Тест Торг» составляет 6\xa0000,00 руб.", data['conclusion'])

    def test_opened_from_the_partner_card_and_the_statements_wizard(self):
        self.env.user.groups_id |= self.env.ref('odoo_bank_crm.group_bank_crm_user')
        contact = self.env['res.partner'].create({'name': "Анна", 'parent_id': self.customer.id})
        action = contact.action_bank_crm_reconciliation_act()
        self.assertEqual(action['res_model'], 'bank.crm.reconciliation.act.wizard')
        self.assertEqual(action['context']['default_partner_id'], self.customer.id)
        statement = self.env['bank.crm.statement.wizard'].create(
            {
                'date_from': '2026-02-01',
                'date_to': '2026-03-31',
                'partner_filter': 'include',
                'partner_ids': [Command.set(contact.ids)],
            }
        )
        action = statement.action_bank_crm_reconciliation_act()
        self.assertEqual(
            {key: action['context'][key] for key in ('default_partner_id', 'default_date_from', 'default_date_to')},
            {
                'default_partner_id': self.customer.id,
                'default_date_from': '2026-02-01',
                'default_date_to': '2026-03-31',
            },
        )
        statement.partner_filter = 'all'
        with self.assertRaises(UserError):
            statement.action_bank_crm_reconciliation_act()

    def test_period_backwards_is_refused(self):
        with self.assertRaises(UserError):
            self._act(date_from='2026-03-31', date_to='2026-02-01')._bank_crm_act_data()

    def test_who_may_print(self):
        invoicing = new_test_user(
            self.env,
            login='ru_invoicing',
            groups='base.group_user,account.group_account_invoice',
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        data = self._act(user=invoicing)._bank_crm_act_data()
        self.assertEqual(data['closing'], -2000)
        salesperson = new_test_user(
            self.env,
            login='ru_salesperson',
            groups='base.group_user,sales_team.group_sale_salesman',
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        Wizard = self.env['bank.crm.reconciliation.act.wizard']
        count = Wizard.search_count([])
        with self.assertRaises(AccessError):
            self._act(user=salesperson)
        self.assertEqual(Wizard.search_count([]), count)
        # an act someone else made is no more readable: its figures, its PDF, its XLSX
        act = self._act().with_user(salesperson)
        for attempt in (act._bank_crm_act_data, act.action_print_pdf, act.action_export_xlsx):
            with self.subTest(attempt=attempt.__name__), self.assertRaises(AccessError):
                attempt()
        self.assertFalse(act.sudo().data_file)

    def test_only_the_current_companys_lines_and_partners(self):
        other = self.other_company
        foreign_partner = self.env['res.partner'].create({'name': "Клиент чужой", 'company_id': other.id})
        invoicing = new_test_user(
            self.env,
            login='ru_invoicing_2',
            groups='base.group_user,account.group_account_invoice',
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        # another company's customer: not theirs to reconcile
        with self.assertRaises(UserError):
            self._act(user=invoicing, partner_id=foreign_partner.id)
        # the company asked for over RPC must be one of theirs
        act = self._act(user=invoicing, company_id=other.id)
        with self.assertRaises(AccessError):
            act._bank_crm_act_data()
        # an act of the other company shows the other company's invoice only
        self.env.user.company_ids |= other
        data = self._act(company_id=other.id)._bank_crm_act_data()
        self.assertEqual([int(line['debit']) for line in data['lines']], [999])
        self.assertTrue(re.search(r"задолженность в пользу ООО «Другая»", data['conclusion']))


@tagged('post_install', '-at_install')
class TestDemoCompanyInvoice(TransactionCase):
    """The demo company is the Russian one the bank sandbox knows, and its invoices print as
    a complete «Счёт на оплату» (issue #18 §1)."""

    def test_demo_company_is_russian_and_its_invoice_is_complete(self):
        company = self.env.ref('base.main_company')
        self.assertEqual(company.name, "ООО «Демо Торг»")
        self.assertEqual(
            (
                company.country_id.code,
                company.currency_id.name,
                company.vat,
                company.bank_crm_kpp,
                company.bank_crm_ogrn,
            ),
            ('RU', 'RUB', '7709550014', '770901001', '1237700000015'),
        )
        self.assertTrue(company.logo)
        invoice = self.env['account.move'].search(
            [('company_id', '=', company.id), ('move_type', '=', 'out_invoice'), ('state', '=', 'posted')],
            order='id',
            limit=1,
        )
        self.assertTrue(invoice, "the demo has posted customer invoices")
        pdf, kind = (
            self.env['ir.actions.report']
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf('account.account_invoices', invoice.ids)
        )
        self.assertEqual(kind, 'pdf')
        text = pdf_text(pdf)
        for element in (
            "Счёт на оплату",
            "ООО «Демо Торг»",
            "7709550014",
            "770901001",
            "Соколов А. В.",
            "Морозова Е. П.",
            invoice.commercial_partner_id.name,
        ):
            self.assertIn(element, text)
