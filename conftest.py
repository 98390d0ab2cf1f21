"""pytest's root configuration for every layer.

1. pytest-odoo (the runner of the addon's Odoo tests) registers itself in every
   pytest session of an environment where it is installed, with session-wide
   autouse fixtures that load an Odoo registry: without an Odoo database they
   fail every test ("Missing database name"). The plain layers need no database
   of their own, so in a session that names none those fixtures are overridden
   here by ones that do nothing, and the addon's Odoo tests are not collected;
   in a session that names one, the overrides hand over to pytest-odoo.
2. An Odoo test fails when Odoo logs an ERROR while it runs (as under Odoo's own
   runner): a test that expects one mutes it with `mute_logger` or `assertLogs`.
3. A skip is a failure, unless it is listed in ALLOWED_SKIPS with its reason:
   a run that silently skipped the tours or the sandbox tests proves nothing.
"""

import logging
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
# the Odoo tests of both addons (payment_tbank: T-Bank acquiring; odoo_bank_crm: the rest)
ODOO_TESTS = (ROOT / "odoo_bank_crm" / "tests", ROOT / "payment_tbank" / "tests")
ODOO_OPTIONS = ("--odoo-database", "--odoo-config", "--odoo-dev")

# The one place where a skip is allowed: {test node id: why it may skip}. Empty
# by design; an entry needs a reason a reviewer accepts.
ALLOWED_SKIPS = {}


def odoo_session(config):
    """Whether this pytest session runs against an Odoo database (pytest-odoo's set-up)."""
    try:
        if any(config.getoption(option) for option in ODOO_OPTIONS):
            return True
    except ValueError:  # pytest-odoo is not installed: none of its options exists
        return False
    return bool(os.environ.get("ODOO_RC") or os.environ.get("OPENERP_SERVER"))


def _odoo_fixture(name, scope):
    @pytest.fixture(name=name, scope=scope, autouse=True)
    def fixture(request):
        if odoo_session(request.config):
            # asked from its override, the same name resolves to the overridden fixture
            yield request.getfixturevalue(name)
        else:
            yield None

    return fixture


load_registry = _odoo_fixture("load_registry", "session")
load_http = _odoo_fixture("load_http", "session")
enable_odoo_test_flag = _odoo_fixture("enable_odoo_test_flag", "module")


def pytest_configure(config):
    if odoo_session(config):
        _serve_this_addon(config)
        return
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if any(path.is_relative_to(tests) for tests in ODOO_TESTS):
            raise pytest.UsageError(
                f"{arg}: the addon's Odoo tests need an Odoo database: run them with "
                f"`make test ARGS=...` or `.venv/bin/python tools/odoo_test.py ...`, or give pytest-odoo "
                f"one with --odoo-database (and --odoo-config, --odoo-http)"
            )


def _serve_this_addon(config):
    """`pytest --odoo-database=<db> odoo_bank_crm/tests` as it stands: this project's folder
    on Odoo's addons path (else `odoo.addons.odoo_bank_crm` cannot be imported), and Odoo's
    HTTP server on (else every HttpCase and tour would be skipped, which fails the run)."""
    from odoo.modules.module import initialize_sys_path
    from odoo.tools import config as odoo_config

    paths = [path for path in (odoo_config.get('addons_path') or '').split(',') if path]
    if not any(Path(path).resolve() == ROOT for path in paths):
        odoo_config['addons_path'] = ','.join([str(ROOT), *paths])
        initialize_sys_path()
    config.option.odoo_http = True


def pytest_ignore_collect(collection_path, config):
    """The addon's Odoo tests are Odoo modules: collected only with an Odoo database."""
    if any(collection_path.is_relative_to(tests) for tests in ODOO_TESTS) and not odoo_session(config):
        return True
    return None


# --- 2. ERROR logged during an Odoo test -----------------------------------


class _ErrorRecords(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def _is_odoo_test(item):
    return any(Path(str(item.path)).is_relative_to(tests) for tests in ODOO_TESTS)


def _guard_errors(item, when):
    handler = _ErrorRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        result = yield
    finally:
        root.removeHandler(handler)
    if handler.records:
        lines = [f"{r.levelname} {r.name}: {handler.format(r)}" for r in handler.records]
        raise AssertionError(
            f"Odoo logged {len(lines)} error(s) during {when}, which fails the test "
            "(mute it with mute_logger or assertLogs if it is expected):\n" + "\n".join(lines)
        )
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    if not _is_odoo_test(item):
        return (yield)
    return (yield from _guard_errors(item, "set-up"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if not _is_odoo_test(item):
        return (yield)
    return (yield from _guard_errors(item, "the test"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    if not _is_odoo_test(item):
        return (yield)
    return (yield from _guard_errors(item, "tear-down"))


# --- 3. Skips fail the run ---------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.skipped and not hasattr(report, "wasxfail") and item.nodeid not in ALLOWED_SKIPS:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = (
            f"skipped ({reason}), and a skip fails the run: provide what the test needs "
            f"(tools/setup.py), or list it with its reason in ALLOWED_SKIPS (conftest.py)"
        )
    return report
