import io
import json
import zipfile

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..models.bank_crm_onec_import_job import ONEC_IMPORT_CHUNK, ONEC_IMPORT_JOB_MIN_DOCUMENTS, operation_from_json
from .common import BankCrmCommon
from . import test_onec_statements as onec_tests
from .test_onec_statements import ACCOUNT, _document, _file

CRON = 'odoo_bank_crm.cron_bank_crm_onec_import'


def _large_file(count=ONEC_IMPORT_JOB_MIN_DOCUMENTS + 1, broken_at=None):
    """A 1C file of `count` distinct incoming documents (the one at `broken_at` is neither
    paid from nor to the account)."""
    documents = []
    for number in range(1, count + 1):
        broken = number == broken_at
        document = _document(
            str(number),
            f'{1000 + number}.00',
            [f'НазначениеПлатежа=Оплата №{number}'],
            credited='10.02.2025',
            debited='10.02.2025' if broken else '',
        )
        if broken:  # debited and credited, from and to someone else: neither in nor out
            document = [line.replace(ACCOUNT, '40702810900000000001') for line in document]
        documents.append(document)
    return '\r\n'.join(_file(*documents)).encode('cp1251')


@tagged('post_install', '-at_install')
class TestOneCImportJob(BankCrmCommon):
    """Issue #18 §4: a large 1C file is checked in the request and booked by a job, in
    committed chunks, with its progress pushed to whoever imported it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank_journal.bank_acc_number = ACCOUNT
        cls.large = _large_file()

    _import = onec_tests.TestOneCStatements._import
    _lines = onec_tests.TestOneCStatements._lines

    def _triggers(self):
        self.env.cr.precommit.run()  # the trigger is written at the commit
        cron = self.env.ref(CRON)
        return self.env['ir.cron.trigger'].sudo().search([('cron_id', '=', cron.id)])

    def _pushes(self, user):
        self.env.cr.precommit.run()  # the bus's rows are written at the commit
        channel = [self.env.cr.dbname, 'res.partner', user.partner_id.id]
        return [
            json.loads(bus.message)
            for bus in self.env['bus.bus'].sudo().search([], order='id')
            if json.loads(bus.channel) == channel
        ]

    def test_large_file_is_queued_then_booked_once_by_the_job(self):
        manager = self.users['manager']
        self._triggers().unlink()
        wizard = self._import(self.large, journal=self.bank_journal)
        self.assertIn(f'{ONEC_IMPORT_JOB_MIN_DOCUMENTS + 1} documents', wizard.result)
        self.assertFalse(self._lines(), "nothing is booked in the request")
        self.assertTrue(self._triggers(), "the job is triggered at once")
        job = self.env['bank.crm.onec.import.job'].with_user(manager).search([])
        self.assertEqual(len(job), 1)
        self.assertEqual((job.state, job.parsed_count, job.user_id), ('queued', 501, manager))
        progress = self.bank_journal.with_user(manager).bank_crm_sync_progress
        self.assertEqual((progress['state'], progress['onec_import']), ('queued', True))

        self.env['bus.bus'].sudo().search([]).unlink()
        Job = self.env['bank.crm.onec.import.job'].sudo()  # the cron runs as superuser
        Job._cron_run()
        Job._cron_run()  # run twice: the second finds nothing to do
        job.invalidate_recordset()
        self.assertEqual((job.state, job.position, job.created_count, job.skipped_count), ('done', 501, 501, 0))
        self.assertFalse(job.operations, "the file's documents are not kept once booked")
        lines = self._lines()
        self.assertEqual(len(lines), 501)
        self.assertEqual(len(set(lines.mapped('bank_crm_operation_id'))), 501)
        self.bank_journal.invalidate_recordset(['bank_crm_sync_progress'])
        self.assertFalse(self.bank_journal.bank_crm_sync_progress, "the import ended")

        pushes = self._pushes(manager)
        progress = [push['payload'] for push in pushes if push['type'] == 'bank_crm_sync_progress']
        self.assertEqual(
            [(p['state'], p['fetched'], p['created']) for p in progress],
            [
                ('running', 501, 0),
                ('running', 501, ONEC_IMPORT_CHUNK),
                ('running', 501, 2 * ONEC_IMPORT_CHUNK),
                ('running', 501, 501),
                ('done', 501, 501),
            ],
        )
        self.assertEqual({(p['journal_id'], p['onec_import']) for p in progress}, {(self.bank_journal.id, True)})
        self.assertEqual(progress[-1]['matched'], job.matched_count)
        [notification] = [push['payload'] for push in pushes if push['type'] == 'simple_notification']
        self.assertEqual(notification['type'], 'success')
        self.assertIn('501 transactions imported', notification['message'])

        # the same file again: checked, queued, books nothing
        self._import(self.large, journal=self.bank_journal)
        Job._cron_run()
        again = Job.search([], order='id desc', limit=1)
        self.assertEqual((again.state, again.created_count, again.skipped_count), ('done', 0, 501))
        self.assertEqual(len(self._lines()), 501)

    def test_job_resumed_after_a_crash_books_nothing_twice(self):
        """A crash between a chunk's booking and its position (or a run restarted from an
        older position) books nothing twice: the booking skips the operation keys the
        account has."""
        self._import(self.large, journal=self.bank_journal)
        job = self.env['bank.crm.onec.import.job'].sudo().search([])
        Job = self.env['bank.crm.onec.import.job'].sudo()  # the cron runs as superuser
        booked_before_crash = [operation_from_json(values) for values in job.operations[:250]]
        self.bank_journal._bank_crm_import_operations(booked_before_crash)
        job.write({'state': 'running', 'position': 0})
        Job._cron_run()
        self.assertEqual((job.state, job.created_count, job.skipped_count), ('done', 251, 250))
        self.assertEqual(len(self._lines()), 501)

    def test_bad_large_file_is_refused_in_the_request_with_nothing_queued(self):
        self._triggers().unlink()
        with self.assertRaisesRegex(UserError, r"Line \d+: document 400 is neither paid from nor to"):
            self._import(_large_file(broken_at=400), journal=self.bank_journal)
        self.assertFalse(self.env['bank.crm.onec.import.job'].sudo().search([]))
        self.assertFalse(self._triggers())
        self.assertFalse(self._lines())

    def test_only_the_importer_reads_the_stored_import(self):
        self._import(self.large, journal=self.bank_journal)
        job = self.env['bank.crm.onec.import.job'].sudo().search([])
        self.assertEqual(job.with_user(self.users['manager']).read(['parsed_count'])[0]['parsed_count'], 501)
        # an Account User (a lower group) has no access to the model at all
        with self.assertRaises(AccessError):
            job.with_user(self.users['user']).read(['operations'])
        # another importer (a director) neither finds nor reads it
        director = self.users['director']
        self.assertFalse(self.env['bank.crm.onec.import.job'].with_user(director).search([]))
        with self.assertRaises(AccessError):
            job.with_user(director).read(['operations'])
        # nobody writes a job by RPC: it is made only from a checked file, and booked by the job
        operations = job.operations
        with self.assertRaises(AccessError):
            self.env['bank.crm.onec.import.job'].with_user(director).create(
                {'journal_id': self.bank_journal.id, 'operations': operations[:1]}
            )
        with self.assertRaises(AccessError):
            job.with_user(self.users['manager']).write({'operations': operations[:1], 'parsed_count': 1})
        self.assertEqual((job.parsed_count, len(job.operations)), (501, 501))
        self.assertEqual(len(self.env['bank.crm.onec.import.job'].sudo().search([])), 1)


@tagged('post_install', '-at_install')
class TestStatementJob(BankCrmCommon):
    """Issue #18 §4: a statement over more than a year is made by a job as its requester,
    attached for them alone, the same file as the immediate path makes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank_journal.bank_acc_number = ACCOUNT
        cls.env['account.bank.statement.line'].with_context(bank_crm_no_matching=True).create(
            [
                {
                    'journal_id': cls.bank_journal.id,
                    'date': date,
                    'amount': amount,
                    'payment_ref': purpose,
                    'partner_id': cls.partner.id,
                }
                for date, amount, purpose in (
                    ('2025-01-15', 10000.00, "Оплата по счету № 1"),
                    ('2025-07-01', -1234.56, "Аренда"),
                    ('2026-02-10', 5000.55, "Оплата по счету № 2"),
                )
            ]
        )
        cls.long_period = {
            'date_from': '2025-01-01',
            'date_to': '2026-03-31',
            'journal_ids': [(6, 0, cls.bank_journal.ids)],
        }

    def _wizard(self, user, **values):
        return self.env['bank.crm.statement.wizard'].with_user(user).create({**self.long_period, **values})

    def _sheets(self, content):
        """The workbook's parts but its creation time (docProps/core.xml)."""
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            return {name: book.read(name) for name in book.namelist() if name != 'docProps/core.xml'}

    def test_long_statement_is_made_by_the_job_for_its_requester(self):
        user = self.users['user']
        Job = self.env['bank.crm.statement.job'].sudo()  # the cron runs as superuser
        cron = self.env.ref('odoo_bank_crm.cron_bank_crm_statement')
        wizard = self._wizard(user)
        action = wizard.action_export_xlsx()
        self.assertEqual(action['tag'], 'display_notification')
        self.assertFalse(wizard.data_file, "nothing is made in the request")
        job = Job.search([])
        self.assertEqual((job.state, job.kind, job.user_id), ('queued', 'xlsx', user))
        self.env.cr.precommit.run()
        self.assertTrue(self.env['ir.cron.trigger'].sudo().search([('cron_id', '=', cron.id)]))

        self.env['bus.bus'].sudo().search([]).unlink()
        Job._cron_run()
        Job._cron_run()  # twice: made once
        self.assertEqual(job.state, 'done')
        self.assertEqual(self.env['ir.attachment'].sudo().search_count([('res_model', '=', Job._name)]), 1)
        attachment = job.attachment_id
        self.assertEqual(attachment.name, 'statement_2025-01-01_2026-03-31.xlsx')
        # the same file as the immediate path makes for the same period
        immediate, filename, _mimetype = self._wizard(user)._bank_crm_file('xlsx')
        self.assertEqual(filename, attachment.name)
        self.assertEqual(self._sheets(attachment.raw), self._sheets(immediate))

        self.env.cr.precommit.run()
        channel = [self.env.cr.dbname, 'res.partner', user.partner_id.id]
        [ready] = [
            json.loads(bus.message)['payload']
            for bus in self.env['bus.bus'].sudo().search([])
            if json.loads(bus.channel) == channel and json.loads(bus.message)['type'] == 'bank_crm_statement_ready'
        ]
        self.assertEqual((ready['type'], ready['url']), ('success', f'/web/content/{attachment.id}?download=true'))
        # its requester reads it
        self.assertTrue(attachment.with_user(user).raw)

    def test_only_the_requester_reads_the_statement(self):
        self._wizard(self.users['user']).action_export_xlsx()
        self.env['bank.crm.statement.job'].sudo()._cron_run()
        job = self.env['bank.crm.statement.job'].sudo().search([])
        attachment = job.attachment_id
        # another Account user (a manager) does not find it; an employee without the
        # accounts' groups has no access to the model
        self.assertFalse(self.env['bank.crm.statement.job'].with_user(self.users['manager']).search([]))
        with self.assertRaises(AccessError):
            self.env['bank.crm.statement.job'].with_user(self.outsider).search([])
        for other in (self.users['manager'], self.outsider):
            with self.assertRaises(AccessError):
                job.with_user(other).read(['wizard_values'])
            with self.assertRaises(AccessError):
                attachment.with_user(other).read(['raw'])
        # nobody makes a job by RPC (it would make a statement as them, of accounts they chose)
        with self.assertRaises(AccessError):
            self.env['bank.crm.statement.job'].with_user(self.users['manager']).create(
                {'company_id': self.env.company.id, 'kind': 'xlsx', 'wizard_values': job.wizard_values}
            )
        self.assertEqual(len(self.env['bank.crm.statement.job'].sudo().search([])), 1)

    def test_short_statement_stays_immediate_and_pdf_goes_to_the_job(self):
        user = self.users['user']
        short = self._wizard(user, date_from='2026-02-01', date_to='2026-02-28')
        action = short.action_export_xlsx()
        self.assertEqual(action['type'], 'ir.actions.act_url')
        self.assertTrue(short.data_file)
        self.assertFalse(self.env['bank.crm.statement.job'].sudo().search([]))
        self._wizard(user).action_print_pdf()
        job = self.env['bank.crm.statement.job'].sudo().search([])
        job._cron_run()
        self.assertEqual((job.kind, job.state), ('pdf', 'done'))
        self.assertIn("Оплата по счету № 2", job.attachment_id.raw.decode())
