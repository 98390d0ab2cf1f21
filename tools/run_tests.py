"""`make test`: every test layer in one pytest session, on a private PostgreSQL cluster.

    python3 tools/run_tests.py [PYTEST ARGS]       # all layers (pytest.ini's testpaths)
    python3 tools/run_tests.py odoo_bank_crm/tests -k TestMoneyRights -x
    python3 tools/run_tests.py payment_tbank/tests

The session runs the plain layers (bank_api, unit, sandbox, end to end, the
install cycle) and the addon's Odoo tests, the latter under pytest-odoo on a
fresh database made for this run (the addon installed with its demo data), with
Odoo's HTTP server in-process for HttpCase and the browser tours, and a bank
sandbox beside it (its URL in BANK_CRM_SANDBOX_URL). The database, the sandbox
and the cluster (if this run started it) are gone afterwards.

Checks first what the Odoo layer needs (Odoo 18, PostgreSQL), with one clear
line when something is missing; `tools/setup.py` (run by `make test`) provides
them.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
import odoo_db
import odoo_env
import pgcluster

# the Odoo tests of both addons, run on one database with odoo_bank_crm (and so payment_tbank)
ODOO_TESTS = ("payment_tbank/tests", "odoo_bank_crm/tests")
CONFIG = """[options]
db_host = 127.0.0.1
db_port = {port}
db_user = {user}
db_password = {password}
addons_path = {addons}
data_dir = {data_dir}
logfile = {logfile}
log_level = info
http_interface = 127.0.0.1
gevent_port = {gevent_port}
max_cron_threads = 0
"""


def _as_path(arg):
    """The file or folder a pytest argument names, or None (an option, a -k expression)."""
    if arg.startswith("-") or len(arg) > 1024:
        return None
    path = harness.ROOT / arg.split("::")[0]
    try:
        return path.resolve() if path.exists() else None
    except OSError:  # not a path at all (too long a name)
        return None


def wants_odoo(argv):
    """Whether the pytest arguments select the addon's Odoo tests (no path: every layer)."""
    odoo_tests = [(harness.ROOT / tests).resolve() for tests in ODOO_TESTS]
    paths = [path for path in map(_as_path, argv) if path is not None]
    return not paths or any(p.is_relative_to(t) or t.is_relative_to(p) for p in paths for t in odoo_tests)


class OdooTestDatabase:
    """A fresh database with the addon, a sandbox, and the pytest-odoo arguments for them."""

    def __init__(self, stack, label):
        self.stack, self.label = stack, label
        pid = os.getpid()
        self.db = f"bank_crm_{label}_{pid}"
        self.state = harness.ROOT / ".state" / f"sandbox-{label}-{pid}"
        self.config = harness.ROOT / ".state" / f"odoo-{label}-{pid}.conf"
        self.logfile = harness.LOGS / f"odoo-{label}.log"
        self.sandbox = None

    def __enter__(self):
        self.logfile.unlink(missing_ok=True)
        self.stack.db_with_addon(self.db, f"odoo-{self.label}-install.log")
        port = harness.free_port()
        shutil.rmtree(self.state, ignore_errors=True)
        self.sandbox = harness.start_sandbox(
            port, self.state, f"sandbox-{self.label}.log", extra=["--notify-interval", "0.5"]
        )
        self.sandbox_url = f"http://127.0.0.1:{port}"
        self.config.write_text(
            CONFIG.format(
                port=self.stack.port,
                user=pgcluster.DB_USER,
                password=pgcluster.DB_PASSWORD,
                addons=",".join(odoo_env._addons_dirs(self.stack.src)),
                data_dir=odoo_db.data_dir(self.stack.cluster),
                logfile=self.logfile,
                gevent_port=harness.free_port(),
            )
        )
        return self

    def pytest_args(self):
        return [f"--odoo-config={self.config}", f"--odoo-database={self.db}", "--odoo-http", "--odoo-log-level=info"]

    def env(self):
        return {**os.environ, "BANK_CRM_SANDBOX_URL": self.sandbox_url}

    def __exit__(self, *exc):
        harness.stop(self.sandbox)
        shutil.rmtree(self.state, ignore_errors=True)
        self.config.unlink(missing_ok=True)
        odoo_db.drop(self.stack.port, self.db, self.stack.cluster)


def run_pytest(argv, label="suite"):
    """One pytest session over `argv`, with the Odoo test database when it is needed."""
    command = [sys.executable, "-m", "pytest", *argv]
    if not wants_odoo(argv):
        return subprocess.call(command, cwd=harness.ROOT)
    with OdooTestDatabase(harness.Stack(), label) as odoo:
        print(f"odoo tests: database {odoo.db}, sandbox {odoo.sandbox_url}, log {odoo.logfile}", flush=True)
        return subprocess.call([*command, *odoo.pytest_args()], cwd=harness.ROOT, env=odoo.env())


def main(argv):
    try:
        odoo_env.locate()
        bin_dir = pgcluster.find_pg_bin()
        user = pgcluster._run_as()
        running = pgcluster._is_running(bin_dir, user, pgcluster.cluster_dir(harness.TEST_CLUSTER, user))
        pgcluster.start(harness.TEST_CLUSTER, harness.TEST_PG_PORT)
    except (odoo_env.OdooNotFound, pgcluster.ClusterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return run_pytest(argv)
    finally:
        if not running:
            pgcluster.stop(harness.TEST_CLUSTER)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
