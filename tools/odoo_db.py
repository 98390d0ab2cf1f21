"""Odoo databases for the demo and the tests, on the private cluster.

A template database holds Odoo with the addon's dependencies, set up as a
Russian company (country RU, currency RUB) before any accounting is installed.
It is built once under a temporary name and renamed when complete, so an
interrupted build leaves nothing half-made. Databases are cloned from it
together with their filestore.
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_env

ROOT = odoo_env.ROOT
ADDON = "odoo_bank_crm"
# the addons of this repository, in the order they install (odoo_bank_crm depends on payment_tbank)
ADDONS = ("payment_tbank", "odoo_bank_crm")
DEPENDENCIES = ("crm", "account", "account_payment", "payment", "base_automation", "mail")

# Odoo's generic chart of accounts pins the company to the USA and US dollars,
# and the dependencies' demo data books dollar entries that forbid changing the
# currency afterwards. The demo and test company is Russian: we remove those
# sample accounting entries (only them: partners, products, users stay) and
# switch the company to Russia and roubles, as a Russian customer's Odoo is.
RUSSIAN_COMPANY = """
company = env.ref('base.main_company')
env['account.partial.reconcile'].search([]).unlink()
env['account.bank.statement.line'].with_context(force_delete=True).search([]).unlink()
payments = env['account.payment'].search([])
payments.action_draft()
payments.with_context(force_delete=True).unlink()
moves = env['account.move'].search([])
moves.filtered(lambda m: m.state == 'posted').button_draft()
moves.with_context(force_delete=True).unlink()
env['account.bank.statement'].search([]).unlink()
env.ref('base.RUB').active = True
russia = env.ref('base.ru')
# The fiscal country stays the chart's: its taxes are tagged with it, and posting checks it.
company.write({'country_id': russia.id, 'currency_id': env.ref('base.RUB').id})
env['res.lang']._activate_lang('ru_RU')
# Odoo's own Russian for every installed module (Odoo ships ru.po for each), as the
# language wizard loads it: a module installed later (the addon) gets its terms at
# install, as ru_RU is active by then (docs/i18n.md).
env['ir.module.module'].search([('state', '=', 'installed')])._update_translations(['ru_RU'], overwrite=True)
env.cr.commit()
assert company.currency_id.name == 'RUB', company.currency_id.name
assert env.ref('crm.stage_lead1').with_context(lang='ru_RU').name != 'New', "Odoo's Russian not loaded"
"""


class DatabaseError(Exception):
    pass


def data_dir(cluster):
    return ROOT / ".state" / f"odoo-data-{cluster}"


def connect(port, dbname="postgres"):
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="odoo", password="odoo", dbname=dbname)
    conn.autocommit = True
    return conn


def exists(port, name):
    with closing(connect(port)) as conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return bool(cr.fetchone())


def drop(port, name, cluster):
    with closing(connect(port)) as conn, conn.cursor() as cr:
        cr.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
        cr.execute(f'DROP DATABASE IF EXISTS "{name}"')
    shutil.rmtree(data_dir(cluster) / "filestore" / name, ignore_errors=True)


def run_odoo(src, port, cluster, args, log_path, command=None, stdin=None, check=True, env=None):
    """Run odoo-bin once (`command` = shell, ... or None for the server) and
    return the completed process; its output goes to `log_path`."""
    argv = odoo_env.odoo_command(src) + ([command] if command else [])
    argv += odoo_env.base_args(port) + ["--data-dir", str(data_dir(cluster))] + list(args)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        result = subprocess.run(
            argv,
            stdin=None if stdin else subprocess.DEVNULL,
            input=stdin.encode() if stdin else None,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
    if check and result.returncode != 0:
        raise DatabaseError(
            f"odoo {' '.join(a for a in args if not a.startswith('--db_'))[:120]} "
            f"failed (exit {result.returncode}); see {log_path}"
        )
    return result


def template_name(src):
    """Name of the template for this Odoo and these dependencies."""
    release = (Path(src) / "odoo" / "release.py").read_bytes()
    digest = hashlib.sha1(release + ",".join(DEPENDENCIES).encode() + RUSSIAN_COMPANY.encode()).hexdigest()[:8]
    return f"bank_crm_deps_{digest}"


def ensure_template(src, port, cluster, log_path, demo=True):
    """The dependencies template (built on first use), returns its name. Runs started
    at the same time (tests, i18n, benchmarks) wait for one another to build it."""
    name = template_name(src) + ("" if demo else "_nodemo")
    if exists(port, name):
        return name
    lock_path = ROOT / ".state" / f"{name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if exists(port, name):
            return name
        return _build_template(src, port, cluster, log_path, name, demo)


def _build_template(src, port, cluster, log_path, name, demo):
    building = name + "_building"
    drop(port, building, cluster)
    demo_args = [] if demo else ["--without-demo=all"]
    run_odoo(
        src,
        port,
        cluster,
        ["-d", building, "-i", ",".join(DEPENDENCIES), "--stop-after-init", "--no-http"] + demo_args,
        log_path,
    )
    run_odoo(src, port, cluster, ["-d", building, "--no-http"], log_path, command="shell", stdin=RUSSIAN_COMPANY)
    with closing(connect(port)) as conn, conn.cursor() as cr:
        cr.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    store = data_dir(cluster) / "filestore"
    if (store / building).exists():
        shutil.rmtree(store / name, ignore_errors=True)
        (store / building).rename(store / name)
    return name


def clone(port, cluster, template, name):
    """A fresh copy of `template` (database and filestore) named `name`."""
    drop(port, name, cluster)
    with closing(connect(port)) as conn, conn.cursor() as cr:
        cr.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    store = data_dir(cluster) / "filestore"
    if (store / template).exists():
        shutil.copytree(store / template, store / name)


def addon_source_hash():
    """A digest of the addons' files: the demo database is updated when they change."""
    digest = hashlib.sha1()
    for path in sorted(path for addon in ADDONS for path in (ROOT / addon).rglob("*")):
        if path.is_file() and path.suffix in {".py", ".xml", ".csv", ".po", ".js", ".scss", ".css", ".png"}:
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def addon_changed_since_install(port, name):
    with closing(connect(port, name)) as conn, conn.cursor() as cr:
        cr.execute("SELECT value FROM ir_config_parameter WHERE key = 'odoo_bank_crm.source_hash'")
        row = cr.fetchone()
    return not row or row[0] != addon_source_hash()


def addon_installed(port, name):
    with closing(connect(port, name)) as conn, conn.cursor() as cr:
        cr.execute("SELECT state FROM ir_module_module WHERE name = %s", [ADDON])
        row = cr.fetchone()
        return bool(row and row[0] == "installed")


if __name__ == "__main__":  # manual use: python3 tools/odoo_db.py PORT CLUSTER
    port, cluster = int(sys.argv[1]), sys.argv[2]
    src, _addons = odoo_env.locate()
    print(ensure_template(src, port, cluster, ROOT / ".state" / "logs" / "template.log"))
    os._exit(0)
