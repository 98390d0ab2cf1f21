"""Statement sync that survives crashes (issue #16 §3): one command, bounded in time,
outside the test runner, so the real per-page commits and the resume path run.

1. The sandbox's volume account holds N confirmed operations (default 20,000). Odoo
   (prefork: 2 HTTP workers + 1 cron worker) syncs it on "Sync Now" (JSON-RPC), which
   queues the sync for the cron worker. Once some pages are committed, the whole Odoo
   server is killed with SIGKILL.
2. The bank re-identifies the operations made 22:00-03:00 Moscow time (the sandbox's
   admin call), as T-Bank does (docs/banks.md §6.9).
3. Odoo restarts; the sync the user asked for is still pending and resumes from the
   killed run's cursor (if nothing starts within a minute, "Sync Now" is pressed again).
4. Two syncs of the same account at once from two workers: the account wizard's
   "Add and Sync" over the whole period (an HTTP worker) and "Sync Now" (the cron
   worker), sent together. Then, if the wizard's was skipped, it is run again alone, so
   the whole period, with its re-identified operations, is read once more.
5. Odoo's lines are compared with the sandbox's operations: missing, duplicated, the
   re-identified ones each one line; the pages of the resumed run against the total;
   the sync log (bank.sync.run) as Odoo shows it.

    python3 -m bench --only sync_crash [--operations 20000]
    python3 -m bench.sync_crash [--operations 20000] [--keep]
"""

import argparse
import math
import os
import signal
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT / "tools", ROOT / "odoo_bank_crm"):  # the harness; bank_api as a plain package
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
import harness  # noqa: E402

from bank_api.tbank_business import TBankBusinessClient, to_operations  # noqa: E402
from bench import log_to_stderr  # noqa: E402
from bench.sandbox_statement import ACCOUNT, admin_post, start_with_statement, window_days  # noqa: E402

NAME = "sync_crash"
DB = "bank_crm_bench_sync_crash"
OPERATIONS = 20_000
PAGE = 1000  # const.SYNC_PAGE_SIZE
KILL_AFTER_SHARE = 0.3  # of the pages, committed before the kill
WAIT = 900  # seconds, the longest any step may take
TOKEN = "TBankSandboxToken"

SETUP = r"""
from odoo import fields
env['ir.config_parameter'].set_param('odoo_bank_crm.sync_backoff_seconds', '1')
connection = env['bank.connection'].create({{
    'name': 'Sandbox T-Bank', 'provider_code': 'tbank_business', 'api_url': {api!r}, 'api_token': {token!r}}})
# connected and just synced: the schedule leaves it alone, only "Sync Now" starts it
connection.write({{'state': 'connected', 'last_sync_at': fields.Datetime.now(), 'sync_interval_minutes': 1440}})
journal = env['account.journal'].create({{'name': 'Crash run', 'type': 'bank', 'code': 'BCRSH',
    'bank_crm_connection_id': connection.id, 'bank_crm_bank_account_ref': {account!r},
    'bank_crm_sync_start_date': {date_from!r}}})
env.cr.commit()
result = {{'connection': connection.id, 'journal': journal.id}}
"""

RUN_FIELDS = [
    "state",
    "manual",
    "date_from",
    "date_to",
    "pages_count",
    "fetched_count",
    "created_count",
    "skipped_count",
    "resumed_run_id",
    "note",
    "error",
    "started_at",
    "finished_at",
]


def _sandbox_operations(url, date_from):
    """The sandbox's confirmed operations of the account, oldest first, as the addon reads them."""
    client = TBankBusinessClient(TOKEN, base_url=f"{url}/openapi/api")
    client.session.trust_env = False
    return [op for page in client.iter_statement(ACCOUNT, date_from, page_size=5000) for op in to_operations(page)]


class Run:
    """The Odoo server of the crash run, restartable."""

    def __init__(self, stack, db, log):
        self.stack, self.db, self.log = stack, db, log
        self.process = self.rpc = self.port = None

    def start(self):
        self.port = harness.free_port()
        self.process = self.stack.start_prefork_server(
            self.db,
            self.port,
            "bench-sync-crash-odoo.log",
            workers=2,
            # one sync of a big account may take minutes: the cron worker's default limit
            # (--limit-time-real, 120 s) would stop it; it would resume, but the figures mix
            extra=["--limit-time-real-cron", "1200"],
        )
        self.rpc = harness.OdooRpc(f"http://127.0.0.1:{self.port}", self.db, timeout=WAIT)
        return self

    def rpc_clone(self):
        """Another JSON-RPC session (its own HTTP connection), for a call in another thread."""
        return harness.OdooRpc(self.rpc.url, self.db, timeout=WAIT)

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)  # the whole server: main process and workers
        self.process.wait()

    def runs(self, journal_id):
        return self.rpc.call("bank.sync.run", "search_read", [("journal_id", "=", journal_id)], RUN_FIELDS, order="id")

    def line_count(self, journal_id):
        return self.rpc.call("account.bank.statement.line", "search_count", [("journal_id", "=", journal_id)])

    def wait_for(self, what, predicate, timeout=WAIT, every=0.5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(every)
        raise RuntimeError(f"{NAME}: gave up waiting for {what} after {timeout} s")

    def sync_requested(self, connection_id):
        return self.rpc.read_one("bank.connection", connection_id, ["sync_requested_at"])["sync_requested_at"]


def _wizard_sync(rpc, connection_id, journal_id, date_from, out):
    """The account wizard's "Add and Sync" over the whole period, in an HTTP worker."""
    try:
        wizard = rpc.call(
            "bank.crm.add.account.wizard",
            "create",
            {"kind": "tbank_business", "connection_id": connection_id, "sync_start_date": date_from},
        )
        rpc.call("bank.crm.add.account.wizard", "action_fetch_accounts", [wizard])
        lines = rpc.call(
            "bank.crm.add.account.wizard.line",
            "search_read",
            [("wizard_id", "=", wizard)],
            ["account_number"],
        )
        for line in lines:
            values = {"selected": line["account_number"] == ACCOUNT}
            if values["selected"]:
                values["journal_id"] = journal_id
            rpc.call("bank.crm.add.account.wizard.line", "write", [line["id"]], values)
        out["ready"] = time.monotonic()
        out["go"].wait(WAIT)
        out["started"] = time.monotonic()
        rpc.call("bank.crm.add.account.wizard", "action_connect", [wizard])
        out["ended"] = time.monotonic()
    except Exception as error:
        out["error"] = str(error)


def run(operations=OPERATIONS, keep=False, log=log_to_stderr):
    days = window_days(operations)
    stack = harness.Stack()
    log(f"[{NAME}] fresh database with the addon...")
    db = stack.db_with_addon(DB, "bench-sync-crash.log")
    sandbox, sandbox_port, date_from, _today, _account = start_with_statement("bench-sync-crash", operations, days)
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    odoo = None
    figures = {"operations": operations, "days": days}
    started = time.perf_counter()
    try:
        original = _sandbox_operations(sandbox_url, date_from)
        figures["sandbox_confirmed"] = len(original)
        ids = harness.odoo_shell_json(
            stack,
            db,
            SETUP.format(
                api=f"{sandbox_url}/openapi/api", token=TOKEN, account=ACCOUNT, date_from=date_from.isoformat()
            ),
            "bench-sync-crash.log",
        )
        connection_id, journal_id = ids["connection"], ids["journal"]

        # 1. Sync Now, SIGKILL after some committed pages
        kill_after = max(1, int(math.ceil(len(original) / PAGE) * KILL_AFTER_SHARE))
        log(f"[{NAME}] Odoo (2 workers + cron); Sync Now of {operations} operations, SIGKILL after {kill_after} pages")
        odoo = Run(stack, db, log).start()
        answer = odoo.rpc.call("bank.connection", "action_sync_now", [connection_id])
        figures["sync_now_answer"] = answer["params"]["message"]

        def committed_pages():
            # the scheduled sync pauses within its time budget and goes on in the next run:
            # the pages committed so far are those of all its runs
            runs = odoo.runs(journal_id)
            return runs and sum(run["pages_count"] for run in runs) >= kill_after and runs[-1]

        odoo.wait_for("pages committed", committed_pages, every=0.2)
        odoo.kill()
        log(f"[{NAME}] Odoo killed; the bank re-identifies its night operations; restart")

        # 2. the bank re-identifies night operations
        reidentified = admin_post(sandbox_port, "/_admin/business/reidentify", {"account": ACCOUNT})
        current = _sandbox_operations(sandbox_url, date_from)
        figures["reidentified"] = sum(a.bank_operation_id != b.bank_operation_id for a, b in zip(original, current))
        figures["reidentified_sandbox"] = reidentified["reidentified"]

        # 3. restart: the pending request resumes the sync
        odoo.start()
        runs = odoo.runs(journal_id)
        killed = runs[-1]
        figures["killed_run_after_restart"] = killed["state"]
        figures["killed_lines"] = odoo.line_count(journal_id)

        def resumed():
            runs = odoo.runs(journal_id)
            return len(runs) > 1 and runs[-1]["state"] != "running" and runs

        try:
            odoo.wait_for("the pending sync to resume by itself", lambda: len(odoo.runs(journal_id)) > 1, timeout=60)
            figures["resumed_by"] = "the request left pending by the crash (the cron's trigger survived)"
        except RuntimeError:
            odoo.rpc.call("bank.connection", "action_sync_now", [connection_id])
            figures["resumed_by"] = "Sync Now pressed again after the restart"
        runs = odoo.wait_for("the resumed sync", resumed)
        odoo.wait_for("the request cleared", lambda: not odoo.sync_requested(connection_id))
        figures["after_resume"] = odoo.runs(journal_id)
        figures["lines_after_resume"] = odoo.line_count(journal_id)
        log(f"[{NAME}] resumed; now two syncs of the account at once")

        # 4. two syncs at once: the wizard's (HTTP worker) and Sync Now (cron worker)
        before = len(odoo.runs(journal_id))
        wizard = {"go": threading.Event()}
        thread = threading.Thread(
            target=_wizard_sync, args=(odoo.rpc_clone(), connection_id, journal_id, date_from.isoformat(), wizard)
        )
        thread.start()
        odoo.wait_for("the wizard ready", lambda: "ready" in wizard or "error" in wizard)
        wizard["go"].set()
        odoo.rpc.call("bank.connection", "action_sync_now", [connection_id])
        thread.join(WAIT)
        odoo.wait_for("Sync Now's sync", lambda: not odoo.sync_requested(connection_id))
        figures["wizard_error"] = wizard.get("error")
        concurrent = odoo.runs(journal_id)[before:]
        figures["concurrent"] = concurrent
        figures["sync_result"] = odoo.rpc.read_one("bank.connection", connection_id, ["last_sync_result"])[
            "last_sync_result"
        ]
        if not any(r["state"] == "done" and r["date_from"] == date_from.isoformat() for r in concurrent):
            log(f"[{NAME}] the whole period again (the wizard, alone)")
            again = {"go": threading.Event()}
            again["go"].set()
            _wizard_sync(odoo.rpc, connection_id, journal_id, date_from.isoformat(), again)
            figures["wizard_again_error"] = again.get("error")
        figures["runs"] = odoo.runs(journal_id)

        # 5. compare
        lines = odoo.rpc.call(
            "account.bank.statement.line",
            "search_read",
            [("journal_id", "=", journal_id)],
            ["bank_crm_operation_id", "bank_crm_fallback_key", "amount"],
        )
        figures.update(_compare(original, current, lines))
    finally:
        if odoo and odoo.process:
            harness.stop(odoo.process)
        harness.stop(sandbox)
        if not keep:
            harness.odoo_db.drop(stack.port, db, stack.cluster)
    figures["wall"] = time.perf_counter() - started
    return figures


def _compare(original, current, lines):
    """Each sandbox operation (under its id before and after re-identification) against
    Odoo's lines: missing, booked more than once, lines the bank does not know."""
    by_id = Counter(line["bank_crm_operation_id"] for line in lines)
    missing = doubled = 0
    renamed_old = renamed_new = 0
    known = set()
    for before, after in zip(original, current):
        names = {before.bank_operation_id, after.bank_operation_id}
        known |= names
        count = sum(by_id[name] for name in names)
        missing += count == 0
        doubled += count > 1
        if before.bank_operation_id != after.bank_operation_id and count == 1:
            renamed_old += by_id[before.bank_operation_id]
            renamed_new += by_id[after.bank_operation_id]
    unknown = sum(n for name, n in by_id.items() if name not in known)
    amount_odoo = sum(round(line["amount"] * 100) for line in lines)
    amount_bank = sum(round(op.amount * 100) for op in current)
    return {
        "lines": len(lines),
        "missing": missing,
        "doubled": doubled,
        "unknown_lines": unknown,
        "reidentified_booked_under_old_id": renamed_old,
        "reidentified_booked_under_new_id": renamed_new,
        "amount_difference_minor": amount_odoo - amount_bank,
    }


def _run_line(run):
    resumed = f", resumed #{run['resumed_run_id'][0]}" if run["resumed_run_id"] else ""
    text = run["note"] or run["error"] or ""
    return (
        f"  #{run['id']:<4} {run['state']:<11} {'manual' if run['manual'] else 'cron':<6} "
        f"{run['date_from']}..{run['date_to']}  pages {run['pages_count']:>3}  fetched {run['fetched_count']:>6}  "
        f"created {run['created_count']:>6}  skipped {run['skipped_count']:>6}{resumed}\n         {text}"
    )


def report(f):
    runs = f["runs"]
    killed = f["after_resume"][0]
    resumed = next((r for r in f["after_resume"] if r["resumed_run_id"]), None)
    total_pages = math.ceil(f["sandbox_confirmed"] / PAGE)
    ok = f["missing"] == 0 and f["doubled"] == 0 and f["unknown_lines"] == 0 and f["lines"] == f["sandbox_confirmed"]
    lines = [
        f"Sync crash run: {f['operations']} operations over {f['days']} days on the sandbox's T-Bank account, "
        f"Odoo prefork (2 workers + cron), {f['wall']:.0f} s in all",
        f"  Sync Now answered: {f['sync_now_answer']}",
        f"  SIGKILL of the whole server after {killed['pages_count']} committed pages "
        f"({f['killed_lines']} lines booked); after the restart the run read '{f['killed_run_after_restart']}'",
        f"  the bank re-identified {f['reidentified']} booked-or-not operations (22:00-03:00 Moscow; "
        f"{f['reidentified_sandbox']} with holds)",
        f"  resumed by {f['resumed_by']}: "
        + (
            f"run #{resumed['id']} fetched {resumed['pages_count']} pages of {total_pages} "
            f"({resumed['fetched_count']} of {f['sandbox_confirmed']} operations), from the cursor of run "
            f"#{resumed['resumed_run_id'][0]}"
            if resumed
            else "NO RESUMED RUN"
        ),
        "  two syncs at once (wizard in an HTTP worker + Sync Now in the cron worker): "
        + ", ".join(f"#{r['id']} {r['state']}" for r in f["concurrent"])
        + (f"; wizard error: {f['wizard_error']}" if f["wizard_error"] else "; no error"),
        f"  Sync Now's result on the connection: {f['sync_result']}",
        f"  compared with the sandbox: {f['sandbox_confirmed']} confirmed operations, {f['lines']} lines; "
        f"missing {f['missing']}, duplicated {f['doubled']}, lines the bank does not know {f['unknown_lines']}, "
        f"amount difference {f['amount_difference_minor']} kopecks  ({'OK' if ok else 'NOT OK'})",
        f"  re-identified operations, one line each: {f['reidentified_booked_under_old_id']} under the id booked "
        f"before the kill, {f['reidentified_booked_under_new_id']} under the new id",
        "  sync log (bank.sync.run):",
        *(_run_line(r) for r in runs),
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m bench.sync_crash", description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=OPERATIONS, help=f"operations to sync ({OPERATIONS})")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    figures = run(args.operations, keep=args.keep)
    print(report(figures))
    return figures


if __name__ == "__main__":
    main()
