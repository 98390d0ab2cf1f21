"""End-to-end: one Odoo server (2 workers) with the addon, the bank sandbox as the
bank, both started once for the session and talked to over HTTP only."""

import pytest

import harness
from e2e_helpers import Sandbox, Shop

DB = "bank_crm_e2e"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/tests/e2e/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def acq():
    """Odoo with 2 workers on a fresh database, T-Bank acquiring pointed at the sandbox
    (notifications retried every 0.2 s, GetState checks without delay)."""
    stack = harness.AcquiringStack(DB, "e2e", workers=2, notify_interval=0.2)
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def shop(acq):
    return Shop(acq)


@pytest.fixture
def sandbox(acq):
    """The sandbox's admin API; faults set by a test are cleared after it."""
    admin = Sandbox(acq.sandbox_url)
    admin.clear_faults()
    yield admin
    admin.clear_faults()
