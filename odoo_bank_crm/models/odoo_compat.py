"""Where the addon relies on how Odoo behaves rather than on its public API.

Each piece is pinned by a test in tests/test_odoo_compat.py, so that an Odoo
upgrade that changes the behaviour fails there first, with a clear name.
"""

from odoo.sql_db import Cursor
from odoo.tools.translate import get_translation

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
