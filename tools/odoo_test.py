"""Run some of the addon's Odoo tests quickly, while developing.

    python3 tools/odoo_test.py /odoo_bank_crm:TestMoneyRights [/odoo_bank_crm:TestOther ...]

A fresh database from the test template, the bank sandbox (its URL in
BANK_CRM_SANDBOX_URL, as in `make test`), Odoo's own runner with the given
test tags; prints the failures and Odoo's tally, exits non-zero on any failure.
`make test` remains the reference: it runs every test of every layer.
"""

import re
import sys

import harness

FAILURE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (ERROR|CRITICAL) ")


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    returncode, log_path = harness.run_addon_tests(harness.Stack(), ",".join(argv), "dev")
    log = log_path.read_text(errors="replace").splitlines()
    printing = False
    for line in log:
        if FAILURE.match(line):
            printing = True
        elif re.match(r"^\d{4}-\d\d-\d\d ", line):
            printing = False
        if printing or " tests in " in line or "failed, " in line:
            print(line)
    print(f"log: {log_path}; exit code {returncode}")
    return returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
