"""Where the addon relies on how Odoo behaves rather than on its public API.

Each piece is pinned by a test in tests/test_odoo_compat.py, so that an Odoo
upgrade that changes the behaviour fails there first, with a clear name.
"""

import logging
import os
import threading

import psycopg2
from psycopg2 import sql as pgsql

from odoo import sql_db
from odoo.sql_db import Cursor
from odoo.tools.translate import get_translation

_logger = logging.getLogger(__name__)

# account_payment's `_post_process` message (18.0), word for word: the batched booking
# writes it as Odoo does, in Odoo's own translation (`payment_posted_message`).
PAYMENT_POSTED_MESSAGE = "The payment related to the transaction with reference %(ref)s has been posted: %(link)s"


def can_commit(env):
    """Whether a long job may commit as it goes (a sync page, a sent invoice).

    Not inside a test, which must stay one transaction. Decided from the cursor
    itself, so that it holds under any test runner (Odoo's, pytest-odoo, plain
    unittest) without a flag only one of them sets:
    - a TransactionCase's cursor is a real cursor whose commit Odoo's test case
      replaces, on the instance, by one that raises;
    - an HttpCase's requests (and anything under a registry in test mode) run on
      a `TestCursor`, whose commit only moves a savepoint.
    Outside tests, a job's cursor is a plain `Cursor` with its own commit.
    """
    cr = env.cr
    if not isinstance(cr, Cursor):  # TestCursor (a BaseCursor, not a Cursor)
        return False
    return 'commit' not in vars(cr)


def payment_posted_message(env, reference, link):
    """The message account_payment's `_post_process` logs once a transaction's payment is
    posted, translated from account_payment's own terms, as its `_()` does there (a `_()`
    here would look the term up in this addon's)."""
    return get_translation(
        'account_payment', env.lang or 'en_US', PAYMENT_POSTED_MESSAGE, {'ref': reference, 'link': link}
    )


class _CronWakeUp:
    """Wakes Odoo's cron workers up, as `ir.cron._notifydb` does (NOTIFY cron_trigger on the
    `postgres` database, where they listen), on a connection this process keeps open:
    Odoo's own opens and closes one each time (a new PostgreSQL backend per notification,
    a few milliseconds of both cores for every bank notification)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pid = self.connection = None

    def __call__(self, dbname):
        with self.lock:
            for attempt in (1, 2):
                try:
                    if self.connection is None or self.connection.closed or self.pid != os.getpid():
                        self.pid, self.connection = os.getpid(), None  # never reuse a parent's after a fork
                        _dbname, info = sql_db.connection_info_for('postgres')
                        self.connection = psycopg2.connect(**info)
                        self.connection.autocommit = True
                    with self.connection.cursor() as cr:
                        cr.execute(
                            pgsql.SQL("SELECT {}('cron_trigger', %s)").format(
                                pgsql.Identifier(os.getenv('ODOO_NOTIFY_FUNCTION', 'pg_notify'))
                            ),
                            [dbname],
                        )
                    return
                except psycopg2.Error as error:
                    self.connection = None
                    if attempt == 2:
                        # the job still runs when the cron worker next wakes up by itself
                        _logger.warning("Could not wake the cron workers up: %s", error)


wake_up_cron_workers = _CronWakeUp()


def trigger_cron_now(env, xmlid):
    """Run the job `xmlid` as soon as this transaction commits: `ir.cron._trigger()`, with
    two differences that matter for work a job takes with FOR UPDATE SKIP LOCKED while
    requests keep adding to it (a bank's notifications):

    - The trigger row is written just before the commit (a pre-commit hook, once per job
      and transaction), dated by the database's clock at that moment. At the end of a
      run, Odoo deletes the job's triggers dated before the run began (`_reschedule_later`:
      `call_at < now()`, the run's transaction start). `_trigger()` dates its row with
      Python's clock, to the second, while the request is still working: a run that began
      in between would miss the request's work (not yet committed) and then delete its
      trigger, leaving the work to the job's next scheduled call. Dated at the commit, the
      trigger outlives any run that could have missed the work.
    - Lean enough for a request the bank is waiting on: a plain insert, and the cron
      workers woken up after the commit on a connection this process keeps open.

    Pinned by tests/test_odoo_compat.py (TestCronTriggers).
    """
    cr = env.cr
    planned = cr.precommit.data.setdefault('bank_crm.cron_triggers', set())
    if xmlid in planned:
        return
    planned.add(xmlid)
    cron_id = env['ir.model.data']._xmlid_to_res_id(xmlid)
    uid = env.uid

    def insert_trigger():
        cr.execute(
            """
            INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date)
            VALUES (%(cron)s, clock_timestamp() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC',
                    %(uid)s, now() AT TIME ZONE 'UTC')
            """,
            {'cron': cron_id, 'uid': uid},
        )
        dbname = cr.dbname
        cr.postcommit.add(lambda: wake_up_cron_workers(dbname))

    cr.precommit.add(insert_trigger)
