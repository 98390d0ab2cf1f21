"""Pins the Odoo behaviour that models/odoo_compat.py relies on."""

from odoo import api, sql_db
from odoo.tests import HttpCase, TransactionCase, tagged

from ..models.odoo_compat import can_commit, trigger_cron_now


@tagged('post_install', '-at_install')
class TestCanCommit(TransactionCase):
    def test_a_test_cursor_refuses_commits(self):
        """Odoo's TransactionCase replaces its cursor's commit on the instance (by one
        that raises): the guard sees it, whatever runs the test."""
        self.assertIsInstance(self.env.cr, sql_db.Cursor)
        self.assertIn('commit', vars(self.env.cr))
        with self.assertRaises(AssertionError):
            self.env.cr.commit()  # pylint: disable=invalid-commit
        self.assertFalse(can_commit(self.env))

    def test_a_job_cursor_commits(self):
        """A cursor of the registry's own, as a cron job or a request gets outside tests."""
        with self.registry.cursor() as cr:
            self.assertIs(type(cr), sql_db.Cursor)
            self.assertTrue(can_commit(api.Environment(cr, self.env.uid, {})))
            cr.rollback()


@tagged('post_install', '-at_install')
class TestCanCommitInTestMode(HttpCase):
    def test_a_registry_in_test_mode_hands_out_test_cursors(self):
        """HttpCase puts the registry in test mode: requests and jobs get a TestCursor,
        whose commit only moves a savepoint; the guard refuses it too."""
        with self.registry.cursor() as cr:
            self.assertIsInstance(cr, sql_db.TestCursor)
            self.assertNotIsInstance(cr, sql_db.Cursor)
            self.assertFalse(can_commit(api.Environment(cr, self.env.uid, {})))


@tagged('post_install', '-at_install')
class TestCronTriggers(TransactionCase):
    """`trigger_cron_now` against Odoo's `ir.cron`: its triggers outlive the run that
    could have missed the work they announce."""

    XMLID = 'payment.cron_post_process_payment_tx'

    def _triggers(self):
        cron = self.env.ref(self.XMLID)
        self.env.cr.execute("SELECT id, call_at FROM ir_cron_trigger WHERE cron_id = %s ORDER BY id", [cron.id])
        return self.env.cr.fetchall()

    def _job(self):
        """The job as `ir.cron._acquire_one_job` hands it to `_process_job`."""
        self.env.cr.execute(
            """
            SELECT id, cron_name, nextcall, interval_type, interval_number
              FROM ir_cron WHERE id = %s
            """,
            [self.env.ref(self.XMLID).id],
        )
        job = self.env.cr.dictfetchone()
        job['cron_name'] = str(job['cron_name'])
        return job

    def test_written_once_at_the_commit_and_dated_then(self):
        before = self._triggers()
        trigger_cron_now(self.env, self.XMLID)
        trigger_cron_now(self.env, self.XMLID)
        self.assertEqual(self._triggers(), before, "nothing is written before the commit")
        self.env.cr.flush()  # what a commit runs first: the pre-commit hooks
        added = self._triggers()[len(before) :]
        self.assertEqual(len(added), 1, "one trigger per job and transaction")
        self.env.cr.execute("SELECT now() AT TIME ZONE 'UTC', clock_timestamp() AT TIME ZONE 'UTC'")
        transaction_start, clock = self.env.cr.fetchone()
        self.assertTrue(transaction_start < added[0][1] <= clock, "dated by the database's clock when written")

    def test_a_run_that_began_before_keeps_it(self):
        """Odoo's `_reschedule_later` (the end of a run) deletes the job's triggers dated
        before the run's transaction began, and keeps the later ones: a trigger dated at
        the commit of work the run could not see survives the run."""
        self.env.cr.execute(
            """
            INSERT INTO ir_cron_trigger (cron_id, call_at)
            VALUES (%s, now() AT TIME ZONE 'UTC' - interval '1 second') RETURNING id
            """,
            [self.env.ref(self.XMLID).id],
        )
        earlier = self.env.cr.fetchone()[0]
        trigger_cron_now(self.env, self.XMLID)
        self.env.cr.flush()
        later = self._triggers()[-1][0]
        self.env['ir.cron']._reschedule_later(self._job())
        self.assertEqual([row[0] for row in self._triggers()], [later])
        self.assertNotEqual(earlier, later)
