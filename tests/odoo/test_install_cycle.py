"""The addon installs on a fresh database, uninstalls cleanly, installs again.

A production database: no demo data (demo records that other documents still
reference are, as everywhere in Odoo, not removable by an uninstall).
"""

import time

import pytest

pytestmark = pytest.mark.odoo

STATE_SQL = "SELECT state FROM ir_module_module WHERE name = 'odoo_bank_crm'"


@pytest.fixture(scope="module")
def stack():
    import harness

    return harness.Stack(demo=False)


def _query(stack, db, sql):
    import odoo_db

    with odoo_db.connect(stack.port, db) as conn, conn.cursor() as cr:
        cr.execute(sql)
        return cr.fetchall()


def _uninstall(stack, db):
    stack.odoo(
        ["-d", db, "--no-http"],
        "install-cycle.log",
        command="shell",
        stdin=(
            "env['ir.module.module'].search([('name', '=', 'odoo_bank_crm')]).button_immediate_uninstall()\n"
            "env.cr.commit()\n"
        ),
    )


def test_install_uninstall_install(stack, record_property):
    db = stack.fresh_db("bank_crm_install_cycle")
    started = time.monotonic()
    stack.odoo(["-d", db, "-i", "odoo_bank_crm", "--stop-after-init", "--no-http"], "install-cycle.log")
    record_property("install_seconds", round(time.monotonic() - started, 1))
    assert _query(stack, db, STATE_SQL) == [("installed",)]
    assert _query(
        stack,
        db,
        "SELECT count(*) FROM ir_model_data WHERE module = 'odoo_bank_crm' "
        "AND model = 'ir.ui.menu' AND name = 'menu_bank_crm_root'",
    ) == [(1,)]

    _uninstall(stack, db)
    assert _query(stack, db, STATE_SQL) == [("uninstalled",)]
    # our columns, groups, views and menus are gone
    assert (
        _query(
            stack,
            db,
            "SELECT column_name FROM information_schema.columns WHERE "
            "table_name = 'account_bank_statement_line' AND column_name LIKE 'bank_crm%'",
        )
        == []
    )
    assert _query(
        stack,
        db,
        "SELECT count(*) FROM ir_model_data WHERE module = 'odoo_bank_crm' "
        "AND model IN ('res.groups', 'ir.ui.view', 'ir.ui.menu', 'ir.actions.act_window')",
    ) == [(0,)]
    assert _query(stack, db, "SELECT count(*) FROM ir_model_fields WHERE name LIKE 'bank_crm%'") == [(0,)]

    stack.odoo(["-d", db, "-i", "odoo_bank_crm", "--stop-after-init", "--no-http"], "install-cycle.log")
    assert _query(stack, db, STATE_SQL) == [("installed",)]
    log = (stack_logs() / "install-cycle.log").read_text(errors="replace")
    assert " ERROR " not in log and "Traceback" not in log, "errors logged during the cycle: see install-cycle.log"


def stack_logs():
    import harness

    return harness.LOGS
