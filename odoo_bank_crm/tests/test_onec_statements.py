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


THEIRS = '40702810267020000630'


def _document(number, amount, purpose_lines, *, incoming=True, debited='', credited='', extra=()):
    """A document as a bank writes it in a statement of ACCOUNT (issue #16 §4 shapes)."""
    payer, recipient = (THEIRS, ACCOUNT) if incoming else (ACCOUNT, THEIRS)
    return [
        'СекцияДокумент=Платежное поручение',
        f'Номер={number}',
        'Дата=03.02.2025',
        f'Сумма={amount}',
        f'ПлательщикСчет={payer}',
        f'ДатаСписано={debited}',
        'ПлательщикИНН=7707083893' if incoming else 'ПлательщикИНН=7777777777',
        'Плательщик1=ООО Ромашка' if incoming else 'Плательщик1=ООО Наша',
        f'ПолучательСчет={recipient}',
        f'ДатаПоступило={credited}',
        'ПолучательИНН=7777777777' if incoming else 'ПолучательИНН=7707083893',
        'Получатель1=ООО Наша' if incoming else 'Получатель1=ООО Ромашка',
        *extra,
        *purpose_lines,
        'КонецДокумента',
    ]


def _file(*documents, date_from='01.02.2025', date_to='28.02.2025', end=True):
    return [
        '1CClientBankExchange',
        'ВерсияФормата=1.03',
        'Кодировка=Windows',
        f'ДатаНачала={date_from}',
        f'ДатаКонца={date_to}',
        f'РасчСчет={ACCOUNT}',
        'СекцияРасчСчет',
        f'РасчСчет={ACCOUNT}',
        'НачальныйОстаток=100000.00',
        'КонечныйОстаток=100000.00',
        'КонецРасчСчет',
        *(line for document in documents for line in document),
        *(['КонецФайла'] if end else []),
    ]


SPLIT = [
    'НазначениеПлатежа=Оплата по счету',
    'НазначениеПлатежа1=№INV/2025/00123 от 01.02.2025 за товары',
    'НазначениеПлатежа2=В т.ч. НДС (20%) 250-00',
]
SPLIT_WHOLE = 'Оплата по счету №INV/2025/00123 от 01.02.2025 за товары В т.ч. НДС (20%) 250-00'


@tagged('post_install', '-at_install')
class TestOneCFilesLoseNothing(BankCrmCommon):
    """Issue #16 §4: real banks' 1C files, through the import wizard: the text kept whole,
    each document booked once, nothing else booked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank_journal.bank_acc_number = ACCOUNT

    _import = TestOneCStatements._import
    _lines = TestOneCStatements._lines

    def test_overlapping_files_book_each_document_once(self):
        first = _document('1', '1000.00', ['НазначениеПлатежа=Оплата по счету №INV/2025/00001'], credited='03.02.2025')
        shared = _document('2', '1500.00', SPLIT, credited='10.02.2025')
        last = _document('3', '250.00', ['НазначениеПлатежа=Комиссия'], incoming=False, debited='20.02.2025')
        file_a = '\r\n'.join(_file(first, shared, date_to='15.02.2025')).encode('cp1251')
        # B overlaps A (10-28 February) and is exported the other way: UTF-8 under
        # Кодировка=Windows, LF, no КонецФайла
        file_b = '\n'.join(_file(shared, last, date_from='10.02.2025', end=False)).encode('utf-8')

        wizard = self._import(file_a, journal=self.bank_journal)
        self.assertIn('2 transactions imported', wizard.result)
        wizard = self._import(file_b, journal=self.bank_journal)
        self.assertIn('1 transactions imported', wizard.result)
        self.assertIn('1 already there', wizard.result)
        lines = self._lines()
        self.assertEqual(
            [(str(line.date), line.amount, line.payment_ref) for line in lines],
            [
                ('2025-02-03', 1000.0, 'Оплата по счету №INV/2025/00001'),
                ('2025-02-10', 1500.0, SPLIT_WHOLE),
                ('2025-02-20', -250.0, 'Комиссия'),
            ],
        )
        # either file again books nothing
        for data in (file_a, file_b):
            self.assertIn('0 transactions imported', self._import(data, journal=self.bank_journal).result)
        self.assertEqual(len(self._lines()), 3)

    def test_untidy_file_books_exactly_its_documents_whole(self):
        untidy = []
        for line in _file(
            _document(
                '7',
                '1500.00',
                SPLIT,
                debited='03.02.2025',
                credited='04.02.2025',
                extra=['ИдентификаторДокумента=abc-1', 'НовыйКлюч=1'],
            ),
            _document(
                '8',
                '200.00',
                ['НазначениеПлатежа=Комиссия'],
                incoming=False,
                debited='05.02.2025',
                credited='05.02.2025',
            ),
            end=False,
        ):
            untidy += [line, ''] if line.startswith(('Сумма', 'КонецДокумента')) else [line]
        untidy.insert(4, 'ПризнакБанка=2')
        wizard = self._import('\n'.join(untidy).encode('utf-8'))  # the account found in the file
        self.assertIn('2 transactions imported', wizard.result)
        lines = self._lines()
        # the balance section, the unknown keys and the blank lines book nothing; each
        # document with both dates is booked once, on its side's date, with its whole purpose
        self.assertEqual(
            [(str(line.date), line.amount, line.payment_ref, line.account_number) for line in lines],
            [
                ('2025-02-04', 1500.0, SPLIT_WHOLE, THEIRS),
                ('2025-02-05', -200.0, 'Комиссия', THEIRS),
            ],
        )
