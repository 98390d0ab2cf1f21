"""Pins the Odoo behaviour that models/odoo_compat.py relies on."""

from odoo import api, sql_db
from odoo.tests import HttpCase, TransactionCase, tagged

from ..models.odoo_compat import can_commit


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
