"""Profile of one booking batch (docs/booking.md, "Where the remaining time goes").

Not part of the suite (no `test_` file name, not imported by tests/__init__.py): run it
on demand, it prints the batch's queries, queries per transaction, Python calls and the
top cumulative items:

    ODOO_SRC=... BANK_CRM_TEST_PG_PORT=... python tools/odoo_test.py \
        odoo_bank_crm/tests/profile_booking.py -k test_profile_batch -s

BANK_CRM_PROFILE_SIZE sets the batch size (100); BANK_CRM_PROFILE_OUT a file for the
pstats dump.
"""

# pylint: disable=print-used
# (an on-demand profile: its report goes to the terminal that asked for it)
import cProfile
import io
import os
import pstats
import time

from odoo.tests import tagged

from .test_booking import TestBooking


@tagged('post_install', '-at_install')
class ProfileBooking(TestBooking):
    def test_profile_batch(self):
        size = int(os.environ.get('BANK_CRM_PROFILE_SIZE', '100'))
        txs = [self._paid_tx(index, amount=1000 + index) for index in range(size)]
        self._flush_tracking()
        cr = self.env.cr
        queries = cr.sql_log_count
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        self.env['payment.transaction']._bank_crm_book_pending(batch_size=size)
        self.env.flush_all()
        cr.precommit.run()
        profile.disable()
        wall = time.perf_counter() - started
        queries = cr.sql_log_count - queries
        self.assertTrue(all(tx.payment_id for tx in txs))
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        stats.sort_stats('cumulative').print_stats(70)
        if os.environ.get('BANK_CRM_PROFILE_OUT'):
            stats.dump_stats(os.environ['BANK_CRM_PROFILE_OUT'])
        print(
            f"\nBATCH {size}: {wall:.1f} s wall, {queries} queries, {queries / size:.1f} a transaction, "
            f"{stats.total_calls} function calls, load {os.getloadavg()[0]:.1f}\n"
        )
        print(out.getvalue())
