"""A private PostgreSQL cluster for the demo and the tests.

    python3 tools/pgcluster.py start --name test --port 5433
    python3 tools/pgcluster.py stop --name test
    python3 tools/pgcluster.py status --name test

The cluster lives in the project's state folder (``.state/pg-<name>``) and
listens on 127.0.0.1 only. ``initdb`` refuses to run as root, so when we are
root every PostgreSQL binary runs as the ``postgres`` system user, and the data
folder moves to a place that user can reach if the project folder is private.
Odoo refuses the database user ``postgres``: we create the role ``odoo``.

Every failure is one line on stderr naming the problem and a non-zero exit;
a cluster whose initdb failed is removed, never left half-created.
"""

import argparse
import glob
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB_USER = "odoo"
DB_PASSWORD = "odoo"


class ClusterError(Exception):
    """A problem the user must fix; its text is the one line we print."""


def find_pg_bin():
    """Directory holding initdb, pg_ctl and postgres, or ClusterError."""
    candidates = []
    if os.environ.get("PG_BIN"):
        candidates.append(os.environ["PG_BIN"])
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(os.path.dirname(os.path.realpath(initdb)))
        candidates.append(os.path.dirname(initdb))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if all(os.access(os.path.join(folder, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise ClusterError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: install PostgreSQL "
        "(e.g. `apt-get install postgresql`) or set PG_BIN to the folder that holds them"
    )


def _run_as():
    """The system user the server runs as: ourselves, or `postgres` when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise ClusterError(
            "running as root but there is no `postgres` system user to run PostgreSQL as: "
            "create one (useradd postgres) or run as a normal user"
        ) from exc
    return "postgres"


def _as_user(cmd, user):
    return ["runuser", "-u", user, "--"] + cmd if user else cmd


def _reachable_by(user, path):
    """Whether `user` can traverse every parent of `path` (root can always)."""
    if not user:
        return True
    probe = path
    while not probe.exists():
        probe = probe.parent
    return (
        subprocess.run(
            _as_user(["test", "-x", str(probe)], user), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        ).returncode
        == 0
    )


def state_dir():
    return Path(os.environ.get("BANK_CRM_STATE", ROOT / ".state"))


def cluster_dir(name, user):
    """Where cluster `name` lives: the state folder, or a per-project folder the
    `postgres` user can reach when the state folder sits under a private one."""
    preferred = state_dir() / f"pg-{name}"
    if _reachable_by(user, preferred.parent):
        return preferred
    digest = hashlib.sha1(str(ROOT).encode()).hexdigest()[:12]
    return Path("/var/tmp/odoo_bank_crm") / digest / f"pg-{name}"


def port_in_use(port, host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _pg_ctl(bin_dir, user, data, *args, check=True):
    cmd = _as_user([os.path.join(bin_dir, "pg_ctl"), "-D", str(data), *args], user)
    return subprocess.run(cmd, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _is_running(bin_dir, user, data):
    return data.exists() and _pg_ctl(bin_dir, user, data, "status", check=False).returncode == 0


def _running_port(data):
    """The port a running cluster listens on (postmaster.pid, line 4)."""
    try:
        return int((data / "postmaster.pid").read_text().splitlines()[3])
    except (OSError, IndexError, ValueError):
        return None


def _initdb(bin_dir, user, data):
    data.parent.mkdir(parents=True, exist_ok=True)
    if user:
        # the postgres user needs its own folder; the parents only need traversal
        os.chmod(data.parent, 0o755)
        shutil.chown(data.parent, user)
    cmd = _as_user(
        [
            os.path.join(bin_dir, "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ],
        user,
    )
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        last = (result.stdout.strip().splitlines() or ["no output"])[-1]
        raise ClusterError(f"initdb failed for {data}: {last}")


def _psql(bin_dir, port, sql, user, data):
    psql = os.path.join(bin_dir, "psql")
    if not os.access(psql, os.X_OK):
        psql = shutil.which("psql") or psql
    cmd = _as_user(
        [
            psql,
            "-h",
            str(data),
            "-p",
            str(port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-qAtc",
            sql,
        ],
        user,
    )
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout


def start(name, port):
    """Create (first time) and start cluster `name` on `port`; idempotent."""
    bin_dir = find_pg_bin()
    user = _run_as()
    data = cluster_dir(name, user)
    if _is_running(bin_dir, user, data):
        if _running_port(data) == port:
            return data
        _pg_ctl(bin_dir, user, data, "stop", "-m", "fast", "-w")
    if port_in_use(port):
        raise ClusterError(
            f"port {port} is already in use by another program: free it or choose another port (PG_PORT=...)"
        )
    if not (data / "PG_VERSION").exists():
        if data.exists():
            shutil.rmtree(data)
        _initdb(bin_dir, user, data)
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={data} "
        f"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    result = _pg_ctl(
        bin_dir, user, data, "start", "-w", "-t", "60", "-l", str(data / "server.log"), "-o", options, check=False
    )
    if result.returncode != 0:
        raise ClusterError(f"PostgreSQL did not start on port {port}; see {data / 'server.log'}")
    exists = _psql(bin_dir, port, f"SELECT 1 FROM pg_roles WHERE rolname = '{DB_USER}'", user, data)
    if not exists.strip():
        _psql(bin_dir, port, f"CREATE ROLE {DB_USER} LOGIN SUPERUSER PASSWORD '{DB_PASSWORD}'", user, data)
    return data


def stop(name):
    bin_dir = find_pg_bin()
    user = _run_as()
    data = cluster_dir(name, user)
    if _is_running(bin_dir, user, data):
        _pg_ctl(bin_dir, user, data, "stop", "-m", "fast", "-w")
        return True
    return False


def restart(name):
    """Restart running cluster `name` with a fast shutdown (`pg_ctl restart -m fast`): every
    connection is cut, as in a database failover; its options are kept (postmaster.opts)."""
    bin_dir = find_pg_bin()
    user = _run_as()
    data = cluster_dir(name, user)
    if not _is_running(bin_dir, user, data):
        raise ClusterError(f"cluster '{name}' is not running")
    result = _pg_ctl(
        bin_dir, user, data, "restart", "-m", "fast", "-w", "-t", "60", "-l", str(data / "server.log"), check=False
    )
    if result.returncode != 0:
        raise ClusterError(f"PostgreSQL did not restart; see {data / 'server.log'}")
    return data


def wait_ready(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_in_use(port):
            return True
        time.sleep(0.2)
    return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("--name", default="demo")
    parser.add_argument("--port", type=int, default=5433)
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            data = start(args.name, args.port)
            print(f"PostgreSQL cluster '{args.name}' ready on 127.0.0.1:{args.port} ({data}), user {DB_USER}")
        elif args.command == "stop":
            print("stopped" if stop(args.name) else "not running")
        else:
            bin_dir = find_pg_bin()
            user = _run_as()
            running = _is_running(bin_dir, user, cluster_dir(args.name, user))
            print("running" if running else "stopped")
            return 0 if running else 1
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
