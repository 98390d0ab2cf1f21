"""A database of odoo_bank_crm 18.0.1.1.0 (acquiring inside it, main at 92cf3ef) upgrades
with `-u odoo_bank_crm`, which installs payment_tbank first (issue #14 §2): the T-Bank
provider (same record, credentials, state), its transactions, the stored webhook events
and the payment links are all there, unchanged, and the provider still takes a signed
notification."""

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.odoo

OLD_COMMIT = "92cf3ef"
DB = "bank_crm_upgrade_1_1"
LOG = "upgrade-1-1.log"
PASSWORD = "UpgradePassword1"

# In the old code: the provider set up, transactions in several states, events, links.
SET_UP_OLD = f"""
from odoo import Command
provider = env.ref('odoo_bank_crm.payment_provider_tbank')
provider.write({{'tbank_terminal_key': 'UpgradeTerminal', 'tbank_password': {PASSWORD!r},
                'tbank_api_url': 'http://127.0.0.1:9/v2', 'state': 'test',
                'tbank_receipt_enabled': True, 'tbank_taxation': 'osn'}})
# what an administrator may have changed: the provider's name, SBP taken off the terminal,
# the SBP method's name and place in the list
provider.with_context(lang='en_US').name = 'Our T-Bank terminal'
provider.payment_method_ids = [Command.set(env.ref('payment.payment_method_card').ids)]
sbp = env.ref('odoo_bank_crm.payment_method_sbp')
sbp.write({{'name': 'Fast payments (SBP)', 'sequence': 7}})
rub = env.ref('base.RUB')
partner = env['res.partner'].create({{'name': 'Upgrade Buyer', 'email': 'buyer@example.com'}})
invoice = env['account.move'].create({{
    'move_type': 'out_invoice', 'partner_id': partner.id, 'currency_id': rub.id,
    'invoice_line_ids': [Command.create({{'name': 'Service', 'quantity': 1, 'price_unit': 1500.0,
                                         'tax_ids': [Command.clear()]}})],
}})
invoice.action_post()
card = env.ref('payment.payment_method_card')
txs = env['payment.transaction']
for index, (state, status) in enumerate([('draft', 'NEW'), ('pending', 'FORM_SHOWED'),
                                        ('authorized', 'AUTHORIZED'), ('cancel', 'CANCELED'),
                                        ('error', 'REJECTED'), ('done', 'CONFIRMED')]):
    tx = txs.create({{
        'provider_id': provider.id, 'payment_method_id': card.id, 'amount': 1500.0,
        'currency_id': rub.id, 'partner_id': partner.id, 'reference': f'UPG-{{index}}',
        'provider_reference': str(900000 + index), 'invoice_ids': [Command.set(invoice.ids)],
        'tbank_payment_url': f'https://securepay.test/new/{{900000 + index}}',
    }})
    tx.write({{'state': state, 'tbank_status': status}})
    txs |= tx
Event = env['bank.webhook.event']
for tx in txs[3:]:
    body = json.dumps({{'TerminalKey': 'UpgradeTerminal', 'OrderId': tx.reference, 'Status': tx.tbank_status,
                       'PaymentId': tx.provider_reference, 'Amount': 150000}})
    Event.create({{'provider_code': 'tbank', 'raw_body': body, 'state': 'processed', 'order_id': tx.reference,
                  'bank_payment_id': tx.provider_reference, 'bank_status': tx.tbank_status,
                  'amount_minor': 150000, 'transaction_id': tx.id, 'dedupe_key': 'upg:' + tx.reference,
                  'processed_key': 'upg:' + tx.reference}})
Event.create({{'provider_code': 'tbank', 'raw_body': 'junk', 'state': 'rejected', 'result': 'Malformed'}})
env['bank.crm.payment.link'].create({{'invoice_id': invoice.id, 'kind': 'tbank', 'amount': 1500.0,
                                     'url': 'https://shop.test/pay/1', 'payment_url': txs[0].tbank_payment_url,
                                     'transaction_id': txs[0].id}})
env.cr.commit()
result = True
"""

SNAPSHOT = {
    "provider": "SELECT id, code, state, tbank_terminal_key, tbank_password, tbank_api_url, tbank_receipt_enabled,"
    " tbank_taxation, redirect_form_view_id FROM payment_provider WHERE code = 'tbank' ORDER BY id",
    "transactions": "SELECT id, reference, state, tbank_status, provider_reference, tbank_payment_url, amount,"
    " provider_id, payment_method_id FROM payment_transaction ORDER BY id",
    "events": "SELECT id, provider_code, state, raw_body, transaction_id, dedupe_key, processed_key, result"
    " FROM bank_webhook_event ORDER BY id",
    "links": "SELECT id, invoice_id, kind, url, payment_url, transaction_id FROM bank_crm_payment_link ORDER BY id",
    "sbp": "SELECT id, code, active, name, sequence, support_refund FROM payment_method WHERE code = 'sbp'",
    "provider_settings": "SELECT id, name FROM payment_provider WHERE code = 'tbank' ORDER BY id",
    "provider_methods": "SELECT r.payment_provider_id, r.payment_method_id FROM payment_method_payment_provider_rel r"
    " JOIN payment_provider p ON p.id = r.payment_provider_id WHERE p.code = 'tbank' ORDER BY 1, 2",
    "provider_currencies": "SELECT c.payment_provider_id, c.currency_id FROM payment_currency_rel c"
    " JOIN payment_provider p ON p.id = c.payment_provider_id WHERE p.code = 'tbank' ORDER BY 1, 2",
}

# In the new code: a signed notification for the draft transaction, as the webhook applies it.
NOTIFY_NEW = f"""
from odoo.addons.payment_tbank.tbank_api import compute_token
tx = env['payment.transaction'].search([('reference', '=', 'UPG-0')])
payload = {{'TerminalKey': 'UpgradeTerminal', 'OrderId': 'UPG-0', 'Success': True, 'Status': 'CONFIRMED',
           'PaymentId': 900000, 'ErrorCode': '0', 'Amount': 150000}}
payload['Token'] = compute_token(payload, {PASSWORD!r})
raw = json.dumps(payload)
Event = env['bank.webhook.event'].sudo()
event = Event._store_raw('tbank', raw, '127.0.0.1')
answer = event._process('tbank', event._storable_text(raw))
env.cr.commit()
tx.invalidate_recordset()
result = [list(answer), tx.state, tx.tbank_status, event.state]
"""


def _query(port, db, sql):
    import odoo_db

    with odoo_db.connect(port, db) as conn, conn.cursor() as cr:
        cr.execute(sql)
        return [list(row) for row in cr.fetchall()]


def _snapshot(port, db):
    return {name: _query(port, db, sql) for name, sql in SNAPSHOT.items()}


def _shell(stack, db, script, old_addons=None):
    """`odoo shell` on `db` and its `result`: with the new code, or with only `old_addons`
    on the addons path (this repository's folder left out: its odoo_bank_crm is the new one)."""
    import harness
    import odoo_db
    import odoo_env

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        tail = f"\nimport json as _json\nopen({str(out)!r}, 'w').write(_json.dumps(result))\n"
        stdin = "import json\n" + script + tail
        if old_addons is None:
            stack.odoo(["-d", db, "--no-http"], LOG, command="shell", stdin=stdin)
        else:
            argv = [sys.executable, str(Path(stack.src) / "odoo-bin"), f"--addons-path={old_addons}", "shell"]
            argv += odoo_env.base_args(stack.port) + ["--data-dir", str(odoo_db.data_dir(stack.cluster))]
            with open(harness.LOGS / LOG, "ab") as log:
                subprocess.run(
                    [*argv, "-d", db, "--no-http"],
                    input=stdin.encode(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    check=True,
                )
        return json.loads(out.read_text())


def test_upgrade_from_odoo_bank_crm_1_1_keeps_acquiring(tmp_path):
    import harness
    import odoo_db

    stack = harness.Stack()
    (harness.LOGS / LOG).unlink(missing_ok=True)
    old = tmp_path / "old"
    old.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(harness.ROOT), "archive", OLD_COMMIT, "odoo_bank_crm"], capture_output=True, check=True
    ).stdout
    archive_path = tmp_path / "old.tar"
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(old, filter="data")
    old_addons = f"{old},{Path(stack.src) / 'addons'}"

    stack.fresh_db(DB)
    try:
        stack.odoo(
            [f"--addons-path={old_addons}", "-d", DB, "-i", "odoo_bank_crm", "--stop-after-init", "--no-http"], LOG
        )
        assert _shell(stack, DB, SET_UP_OLD, old_addons) is True
        before = _snapshot(stack.port, DB)
        assert len(before["transactions"]) >= 6 and len(before["events"]) == 4 and before["links"]
        provider_xmlid = "SELECT module, res_id FROM ir_model_data WHERE name = 'payment_provider_tbank'"
        [[old_module, provider_id]] = _query(stack.port, DB, provider_xmlid)
        assert old_module == "odoo_bank_crm"

        stack.odoo(["-d", DB, "-u", "odoo_bank_crm", "--stop-after-init", "--no-http"], LOG)

        modules = dict(
            _query(
                stack.port,
                DB,
                "SELECT name, state FROM ir_module_module WHERE name IN ('payment_tbank', 'odoo_bank_crm')",
            )
        )
        assert modules == {"payment_tbank": "installed", "odoo_bank_crm": "installed"}
        assert _snapshot(stack.port, DB) == before, "nothing of acquiring lost or changed by the upgrade"
        assert _query(stack.port, DB, provider_xmlid) == [["payment_tbank", provider_id]]
        assert _query(
            stack.port,
            DB,
            "SELECT count(*) FROM ir_model_data WHERE module = 'odoo_bank_crm' AND name LIKE '%tbank%'"
            " AND model IN ('payment.provider', 'ir.ui.view', 'payment.method')",
        ) == [[0]]
        assert _query(
            stack.port,
            DB,
            "SELECT m.name FROM payment_provider p JOIN ir_module_module m ON m.id = p.module_id"
            " WHERE p.code = 'tbank'",
        ) == [["payment_tbank"]]

        answer, state, status, event_state = _shell(stack, DB, NOTIFY_NEW)
        assert (answer, state, status, event_state) == ([200, "OK"], "done", "CONFIRMED", "processed")
    finally:
        odoo_db.drop(stack.port, DB, stack.cluster)
    log = (harness.LOGS / LOG).read_text(errors="replace")
    assert " ERROR " not in log and "Traceback" not in log, f"errors logged during the upgrade: see {LOG}"
