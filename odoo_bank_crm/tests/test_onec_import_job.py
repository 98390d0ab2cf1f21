import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..models.bank_crm_onec_import_job import ONEC_IMPORT_CHUNK, ONEC_IMPORT_JOB_MIN_DOCUMENTS, operation_from_json
from .common import BankCrmCommon
from .test_onec_statements import ACCOUNT, TestOneCStatements, _document, _file

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

    _import = TestOneCStatements._import
    _lines = TestOneCStatements._lines

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
