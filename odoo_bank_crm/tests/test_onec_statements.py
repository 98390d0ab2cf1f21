import base64

from odoo.exceptions import UserError
from odoo.tools import file_open
from odoo.tests import tagged

from ..bank_api import onec
from .common import BankCrmCommon

SAMPLE = 'odoo_bank_crm/tests/data/kl_to_1c.txt'  # a real-shaped bank statement for 1C (cp1251)
ACCOUNT = '40702810000000074935'


@tagged('post_install', '-at_install')
class TestOneCStatements(BankCrmCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank_journal.bank_acc_number = ACCOUNT
        with file_open(SAMPLE, 'rb') as sample:
            cls.sample = sample.read()

    def _import(self, data, journal=None):
        wizard = (
            self.env['bank.crm.onec.import.wizard']
            .with_user(self.users['manager'])
            .create({'data_file': base64.b64encode(data), 'journal_id': journal and journal.id})
        )
        wizard.action_import()
        return wizard

    def _lines(self):
        return self.env['account.bank.statement.line'].search(
            [('journal_id', '=', self.bank_journal.id)], order='date, id'
        )

    def test_import_finds_the_account_and_books_each_document(self):
        wizard = self._import(self.sample)
        lines = self._lines()
        self.assertEqual(sorted(lines.mapped('amount')), [-150000.0, -13056.0, -6936.0])
        self.assertIn('3 transactions imported', wizard.result)
        big = lines.filtered(lambda l: l.amount == -150000.0)
        self.assertEqual(str(big.date), '2024-01-10')
        self.assertEqual(big.account_number, '40702810267020000630')
        self.assertTrue(big.payment_ref)  # the purpose, Cyrillic untouched
        self.assertEqual(big.payment_ref, onec.parse(self.sample).documents[2].purpose)

    def test_the_same_file_twice_books_nothing_twice(self):
        self._import(self.sample)
        wizard = self._import(self.sample)
        self.assertIn('0 transactions imported', wizard.result)
        self.assertEqual(len(self._lines()), 3)

    def test_dos_encoding(self):
        text = self.sample.decode('cp1251').replace('Кодировка=Windows', 'Кодировка=DOS')
        self._import(text.encode('cp866'), journal=self.bank_journal)
        self.assertEqual(len(self._lines()), 3)

    def test_broken_files_name_the_line_and_import_nothing(self):
        text = self.sample.decode('cp1251')
        broken = {
            'missing end of document': text.replace('КонецДокумента', '', 1),
            'bad amount': text.replace('Сумма=13056.00', 'Сумма=13 056,0x'),
        }
        for what, content in broken.items():
            with self.subTest(what), self.assertRaisesRegex(UserError, 'line'):
                self._import(content.encode('cp1251'), journal=self.bank_journal)
        with self.assertRaisesRegex(UserError, 'nothing'):
            self._import(b'not a 1C file at all', journal=self.bank_journal)
        self.assertFalse(self._lines())

    def test_unknown_account(self):
        self.bank_journal.bank_acc_number = '40702810000000000000'
        with self.assertRaisesRegex(UserError, ACCOUNT):
            self._import(self.sample)

    def test_export_round_trip(self):
        self._create_lines(self.bank_journal, [1000.0], date='2023-12-20')
        self._create_lines(self.bank_journal, [2500.55, -700.10], date='2024-01-05', partner=self.partner)
        wizard = (
            self.env['bank.crm.onec.export.wizard']
            .with_user(self.users['user'])
            .create({'journal_id': self.bank_journal.id, 'date_from': '2024-01-01', 'date_to': '2024-01-31'})
        )
        wizard.action_export()
        parsed = onec.parse(base64.b64decode(wizard.data_file))
        self.assertEqual(parsed.encoding, 'Windows')
        self.assertEqual([str(d.amount) for d in parsed.documents], ['2500.55', '700.10'])
        balance = parsed.balances[0]
        self.assertEqual(
            (str(balance.opening), str(balance.total_in), str(balance.total_out), str(balance.closing)),
            ('1000.00', '2500.55', '700.10', '2800.45'),
        )
        self.assertEqual([onec.direction(d, {ACCOUNT}) for d in parsed.documents], ['in', 'out'])

    def test_file_over_the_size_cap_is_refused_before_it_is_read(self):
        # the real statement, padded past 20 MiB with blank lines after its end: were it
        # read, its three documents would be booked
        padded = self.sample + b'\r\n' * ((onec.MAX_FILE_BYTES - len(self.sample)) // 2 + 1)
        with self.assertRaisesRegex(UserError, r"can be imported.*20 MiB|20 MiB.*can be imported"):
            self._import(padded, journal=self.bank_journal)
        self.assertFalse(self._lines())
        # the file itself, unpadded, is booked
        self._import(self.sample, journal=self.bank_journal)
        self.assertEqual(len(self._lines()), 3)
