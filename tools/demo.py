"""`make demo`: PostgreSQL, the bank sandbox and Odoo with the addon and its demo data.

The first run builds the demo database; later runs reuse it. Ctrl-C stops
everything this command started.
"""

import argparse
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness
import odoo_db
import odoo_env
import pgcluster

ROOT = harness.ROOT
DEMO_DB = "bank_crm_demo"

CONFIGURE = """
env['ir.config_parameter'].set_param('odoo_bank_crm.source_hash', {source_hash!r})
env['ir.config_parameter'].set_param('web.base.url', {base_url!r})
env['ir.config_parameter'].set_param('web.base.url.freeze', 'True')
env['ir.config_parameter'].set_param('odoo_bank_crm.sandbox_url', {sandbox_url!r})
# the Add Account wizard offers the sandbox's business APIs: connecting asks only for the token
env['ir.config_parameter'].set_param('odoo_bank_crm.api_url.tbank_business', {sandbox_url!r} + '/openapi/api')
env['ir.config_parameter'].set_param('odoo_bank_crm.api_url.tochka', {sandbox_url!r} + '/uapi')
# T-Bank acquiring points at the sandbox exactly as it would at the bank (test terminal)
provider = env.ref('payment_tbank.payment_provider_tbank')
provider.write({{'tbank_terminal_key': 'TinkoffBankTest', 'tbank_password': 'TinkoffBankTest',
                'tbank_api_url': {sandbox_url!r} + '/v2', 'state': 'test', 'is_published': True}})
provider.journal_id  # creates the provider's payment method line once, before any payment
# instant updates (docs/bank-webhooks.md): a business connection added with the Add Account
# wizard subscribes to its bank's webhooks; Tochka's are addressed by the integration's
# client_id and signed with the sandbox's key pair, published at its own JWKS URL
Default = env['ir.default']
Default.set('bank.connection', 'webhook_client_id', 'demo-integration')
Default.set('bank.connection', 'webhook_jwks_url', {sandbox_url!r} + '/tochka/webhook-keys')
for connection in env['bank.connection'].search([('provider_code', 'in', ('tbank_business', 'tochka'))]):
    if connection.journal_ids and not connection.webhook_enabled:
        connection.write({{'webhook_client_id': connection.webhook_client_id or 'demo-integration',
                          'webhook_jwks_url': {sandbox_url!r} + '/tochka/webhook-keys'}})
        connection._bank_crm_subscribe_webhooks()
env.cr.commit()
"""


# The demo is Russian (issue #18 §1): its company and its users read Russian, Odoo's own
# words included (the template loads Odoo's Russian, tools/odoo_db.py). Set once, when the
# database is built: a user who switches to English (Preferences > Language) keeps it.
RUSSIAN_USERS = """
env.ref('base.main_partner').lang = 'ru_RU'
env['res.users'].with_context(active_test=False).search([('share', '=', False)]).write({'lang': 'ru_RU'})
env.cr.commit()
"""


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def preflight(args):
    """Everything that can be checked before anything is created."""
    try:
        src, _ = odoo_env.locate()
        pgcluster.find_pg_bin()
    except (odoo_env.OdooNotFound, pgcluster.ClusterError) as exc:
        fail(str(exc))
    for port, what in ((args.http_port, "Odoo (ODOO_PORT)"), (args.sandbox_port, "the bank sandbox (SANDBOX_PORT)")):
        if pgcluster.port_in_use(port):
            fail(f"port {port} for {what} is already in use: stop the program using it or choose another port")
    return src


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http-port", type=int, default=int(os.environ.get("ODOO_PORT", 8069)))
    parser.add_argument("--sandbox-port", type=int, default=int(os.environ.get("SANDBOX_PORT", 8070)))
    parser.add_argument("--pg-port", type=int, default=int(os.environ.get("PG_PORT", 5433)))
    parser.add_argument("--rebuild", action="store_true", help="drop the demo database and build it again")
    args = parser.parse_args()
    started_at = time.monotonic()
    preflight(args)

    processes = []

    def shutdown(*_):
        print("\nstopping the demo...", flush=True)
        for process in reversed(processes):
            harness.stop(process)
        pgcluster.stop("demo")
        print("stopped.")
        sys.exit(0)

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    try:
        print(f"PostgreSQL: starting the private cluster on port {args.pg_port}...", flush=True)
        stack = harness.Stack(cluster="demo", port=args.pg_port)
        print(f"Bank sandbox: starting on port {args.sandbox_port}...", flush=True)
        sandbox_url = f"http://127.0.0.1:{args.sandbox_port}"
        processes.append(
            harness.start_sandbox(
                args.sandbox_port,
                ROOT / ".state" / "sandbox-demo",
                "demo-sandbox.log",
                extra=["--public-url", f"http://localhost:{args.sandbox_port}"],
            )
        )
        if args.rebuild:
            odoo_db.drop(stack.port, DEMO_DB, "demo")
        if odoo_db.exists(stack.port, DEMO_DB) and odoo_db.addon_installed(stack.port, DEMO_DB):
            if odoo_db.addon_changed_since_install(stack.port, DEMO_DB):
                print(f"Odoo: the addon changed since {DEMO_DB} was built, updating it...", flush=True)
                stack.odoo(
                    ["-d", DEMO_DB, "-u", ",".join(odoo_db.ADDONS), "--stop-after-init", "--no-http"],
                    "demo-install.log",
                )
            else:
                print(f"Odoo: reusing the demo database {DEMO_DB}", flush=True)
        else:
            print(f"Odoo: creating the demo database {DEMO_DB} (first run: about two minutes)...", flush=True)
            stack.db_with_addon(DEMO_DB, "demo-install.log")
            stack.odoo(["-d", DEMO_DB, "--no-http"], "demo-install.log", command="shell", stdin=RUSSIAN_USERS)
        base_url = f"http://localhost:{args.http_port}"
        stack.odoo(
            ["-d", DEMO_DB, "--no-http"],
            "demo-install.log",
            command="shell",
            stdin=CONFIGURE.format(base_url=base_url, sandbox_url=sandbox_url, source_hash=odoo_db.addon_source_hash()),
        )
        print(f"Odoo: starting on port {args.http_port}...", flush=True)
        processes.append(
            stack.start_server(
                DEMO_DB,
                args.http_port,
                "demo-odoo.log",
                # threaded, not prefork: the browser's live notifications (bus websocket) are
                # served on the HTTP port itself; prefork serves them on a separate port
                # that only a reverse proxy routes to
                extra=["--max-cron-threads", "1"],
            )
        )
    except (harness.odoo_db.DatabaseError, RuntimeError, pgcluster.ClusterError) as exc:
        for process in reversed(processes):
            harness.stop(process)
        fail(str(exc))

    print(
        f"""
Ready in {time.monotonic() - started_at:.0f}s.
  Odoo:          {base_url}/odoo/bank-accounts
  Login:         admin / admin   (Account Director)   demo / demo   (Account User)
                 manager / manager   (Account Manager: pays suppliers within limits)
  Bank sandbox:  {sandbox_url}/_admin/state   (test card 2200770239097761)
  Add Account:   T-Bank Business  API URL {sandbox_url}/openapi/api  token TBankSandboxToken
                 Tochka           API URL {sandbox_url}/uapi         token sandbox.jwt.token
                 (instant updates turn on: a transfer shows up paid within seconds)
  Transfer:      python tools/demo_transfer.py --bank tbank_business --invoice INV/2026/00001 --amount 1500
                 (from the sandbox's admin API to the company's account, naming the invoice)
  Logs:          {harness.LOGS}
Press Ctrl-C to stop everything.""",
        flush=True,
    )
    while True:
        for process in processes:
            if process.poll() is not None:
                print(f"a demo process exited (code {process.returncode}); see {harness.LOGS}", file=sys.stderr)
                shutdown()
        time.sleep(1)


if __name__ == "__main__":
    main()
