"""payment_tbank installs and passes its tests alone (issue #14 §2): on an empty database
(not the template: neither odoo_bank_crm nor account nor account_payment), Odoo installs
payment_tbank with `payment` and its own test runner runs payment_tbank's tests."""

import re

import pytest

pytestmark = pytest.mark.odoo

LOG = "payment-tbank-alone.log"
DB = "bank_crm_payment_tbank_alone"


def _query(db, sql):
    import harness
    import odoo_db

    with odoo_db.connect(harness.TEST_PG_PORT, db) as conn, conn.cursor() as cr:
        cr.execute(sql)
        return cr.fetchall()


def test_payment_tbank_alone_installs_and_passes_its_tests():
    import harness
    import odoo_db
    import odoo_env
    import pgcluster

    port, cluster = harness.TEST_PG_PORT, harness.TEST_CLUSTER
    pgcluster.start(cluster, port)
    src, _addons = odoo_env.locate()
    (harness.LOGS / LOG).unlink(missing_ok=True)
    odoo_db.drop(port, DB, cluster)  # Odoo creates it empty
    try:
        odoo_db.run_odoo(
            src,
            port,
            cluster,
            [
                "-d",
                DB,
                "-i",
                "payment_tbank",
                "--test-tags",
                "/payment_tbank",
                "--stop-after-init",
                "--without-demo=all",
                "--http-interface",
                "127.0.0.1",
                "--http-port",
                str(harness.free_port()),
                "--gevent-port",
                str(harness.free_port()),
                "--log-level",
                "test",
            ],
            harness.LOGS / LOG,
        )
        assert _query(DB, "SELECT state FROM ir_module_module WHERE name = 'payment_tbank'") == [("installed",)]
        installed = {name for (name,) in _query(DB, "SELECT name FROM ir_module_module WHERE state = 'installed'")}
        assert not installed & {"odoo_bank_crm", "account", "account_payment"}, "payment_tbank on payment alone"
    finally:
        odoo_db.drop(port, DB, cluster)
    log = (harness.LOGS / LOG).read_text(errors="replace")
    ran = re.findall(r"Ran (\d+) tests?", log) or re.findall(r"of (\d+) tests", log)
    assert ran and sum(map(int, ran)) >= 20, f"payment_tbank's tests did not run: see {LOG}"
    assert not re.search(r" (ERROR|CRITICAL) ", log), f"errors logged: see {LOG}"
    assert "FAIL" not in log and "Traceback" not in log, f"a test failed: see {LOG}"
    assert not re.search(r"skipped|skipTest", log, re.IGNORECASE), f"a test was skipped: see {LOG}"
