"""What the tests, benchmarks and the demo share: the cluster, databases with
the addon installed, and Odoo and sandbox servers started as subprocesses.
"""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import odoo_db  # noqa: E402
import odoo_env  # noqa: E402
import pgcluster  # noqa: E402

ROOT = odoo_env.ROOT
LOGS = ROOT / ".state" / "logs"
TEST_CLUSTER = "test"
TEST_PG_PORT = int(os.environ.get("BANK_CRM_TEST_PG_PORT", "5434"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_http(url, timeout=120, process=None):
    """Wait until `url` answers (any HTTP status) or fail with a clear message."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with code {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


class Stack:
    """The test cluster, located Odoo and the dependency template, made once."""

    def __init__(self, cluster=TEST_CLUSTER, port=TEST_PG_PORT, demo=True):
        self.cluster, self.port = cluster, port
        self.src, _ = odoo_env.locate()
        pgcluster.start(cluster, port)
        self.template = odoo_db.ensure_template(self.src, port, cluster, LOGS / "template.log", demo=demo)

    def fresh_db(self, name):
        odoo_db.clone(self.port, self.cluster, self.template, name)
        return name

    def odoo(self, args, log_name, command=None, stdin=None, check=True):
        return odoo_db.run_odoo(self.src, self.port, self.cluster, args, LOGS / log_name,
                                command=command, stdin=stdin, check=check)

    def db_with_addon(self, name, log_name):
        """A fresh database with the addon installed (and its demo data)."""
        self.fresh_db(name)
        self.odoo(["-d", name, "-i", odoo_db.ADDON, "--stop-after-init", "--no-http"], log_name)
        return name

    def start_server(self, db, http_port, log_name, extra=(), env=None):
        """An Odoo server on `http_port` serving only `db`, as a subprocess."""
        argv = odoo_env.odoo_command(self.src) + odoo_env.base_args(self.port, db) + [
            "--data-dir", str(odoo_db.data_dir(self.cluster)),
            "--http-interface", "127.0.0.1", "--http-port", str(http_port),
            "--gevent-port", str(free_port()), *extra]
        LOGS.mkdir(parents=True, exist_ok=True)
        log = open(LOGS / log_name, "ab")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                   env={**os.environ, **(env or {})}, start_new_session=True)
        wait_http(f"http://127.0.0.1:{http_port}/web/health", process=process)
        return process


def start_sandbox(port, state_dir, log_name, extra=()):
    """The bank sandbox as a subprocess, like the demo runs it."""
    LOGS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / log_name, "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "bank_sandbox", "--port", str(port), "--state", str(state_dir), *extra],
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    wait_http(f"http://127.0.0.1:{port}/_admin/health", timeout=30, process=process)
    return process


def stop(process, timeout=20):
    """Stop a subprocess started here, and its children, politely then firmly."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass
