"""Run some of the addon's Odoo tests quickly, while developing.

    python3 tools/odoo_test.py TestMoneyRights [TestOther ...] [PYTEST ARGS]
    python3 tools/odoo_test.py odoo_bank_crm/tests/test_money_rights.py -x

The same as `make test` for the addon's Odoo tests only (pytest-odoo, a fresh
database, the bank sandbox beside it): bare test class names become a `-k`
selection over both addons' tests (payment_tbank's and odoo_bank_crm's; `/odoo_bank_crm:TestX`,
Odoo's tag form, is understood too).
`make test` remains the reference: it runs every test of every layer.
"""

import sys

import harness
import pgcluster
import run_tests


def pytest_args(argv):
    names, rest = [], []
    for arg in argv:
        name = arg.split(":", 1)[1] if arg.startswith(("/odoo_bank_crm:", "/payment_tbank:")) else arg
        (names if name.isidentifier() and name[:1].isupper() else rest).append(name)
    if not any(a.startswith(run_tests.ODOO_TESTS) for a in rest):
        rest[:0] = run_tests.ODOO_TESTS
    return rest + (["-k", " or ".join(names)] if names else [])


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    pgcluster.start(harness.TEST_CLUSTER, harness.TEST_PG_PORT)
    return run_tests.run_pytest(pytest_args(argv), label="dev")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
