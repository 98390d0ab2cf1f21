"""Run some of the addon's Odoo tests quickly, while developing.

    python3 tools/odoo_test.py /odoo_bank_crm:TestMoneyRights [/odoo_bank_crm:TestOther ...]

A fresh database from the test template, the bank sandbox (its URL in
BANK_CRM_SANDBOX_URL, as in `make test`), Odoo's own runner with the given
test tags; prints the failures and Odoo's tally, exits non-zero on any failure.
`make test` remains the reference: it runs every test of every layer.
"""
import os
import re
import shutil
import sys

import harness

FAILURE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (ERROR|CRITICAL) ")


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    tags = ",".join(argv)
    stack = harness.Stack()
    name = f"bank_crm_dev_{os.getpid()}"
    db = stack.fresh_db(name)
    log_name = f"odoo-dev-{os.getpid()}.log"
    port = harness.free_port()
    state = harness.ROOT / ".state" / f"sandbox-dev-{os.getpid()}"
    shutil.rmtree(state, ignore_errors=True)
    sandbox = harness.start_sandbox(port, state, f"sandbox-dev-{os.getpid()}.log", extra=["--notify-interval", "0.5"])
    try:
        result = stack.odoo(
            ["-d", db, "-i", "odoo_bank_crm", "--test-tags", tags, "--stop-after-init",
             "--http-port", str(harness.free_port()), "--gevent-port", str(harness.free_port()),
             "--log-level", "info"], log_name, check=False,
            env={"BANK_CRM_SANDBOX_URL": f"http://127.0.0.1:{port}"})
    finally:
        harness.stop(sandbox)
        shutil.rmtree(state, ignore_errors=True)
        harness.odoo_db.drop(stack.port, db, stack.cluster)
    log = (harness.LOGS / log_name).read_text(errors="replace").splitlines()
    printing = False
    for line in log:
        if FAILURE.match(line):
            printing = True
        elif re.match(r"^\d{4}-\d\d-\d\d ", line):
            printing = False
        if printing or " tests in " in line or "failed, " in line:
            print(line)
    print(f"log: {harness.LOGS / log_name}; exit code {result.returncode}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
