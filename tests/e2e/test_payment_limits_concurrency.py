"""Two payments of one manager submitted at the same moment, to Odoo running 2
workers: the daily limit lets one through and sends the other for approval, never both."""

import threading
import uuid

import harness

ROUNDS = 3


def _manager(acq, journal_id):
    """A fresh Account Manager allowed 100,000 a payment and 150,000 a day."""
    rpc = acq.rpc
    login = f"payer-{uuid.uuid4().hex[:8]}"
    group = rpc.call(
        "ir.model.data",
        "search_read",
        [("module", "=", "odoo_bank_crm"), ("name", "=", "group_bank_crm_manager")],
        ["res_id"],
    )
    user_id = rpc.call(
        "res.users",
        "create",
        {
            "name": f"Менеджер {login}",
            "login": login,
            "password": f"{login}-pass",
            "email": f"{login}@company.example",
            "groups_id": [(6, 0, [group[0]["res_id"]])],
        },
    )
    rpc.call(
        "bank.crm.money.right",
        "create",
        {
            "user_id": user_id,
            "journal_ids": [(6, 0, [journal_id])],
            "can_pay": True,
            "max_payment_amount": 100000,
            "daily_limit": 150000,
            "monthly_limit": 10_000_000,
        },
    )
    return login, f"{login}-pass"


def test_two_payments_at_once_cannot_pass_the_daily_limit_together(acq):
    rpc = acq.rpc
    journal_id = rpc.call("account.journal", "search", [("type", "=", "bank")], limit=1)[0]
    bank_id = rpc.call("res.bank", "create", {"name": "ПАО Сбербанк", "bic": "044525225"})
    supplier = rpc.call(
        "res.partner",
        "create",
        {
            "name": "ООО «Поставщик»",
            "is_company": True,
            "vat": "7701107259",
            "bank_ids": [(0, 0, {"acc_number": f"407028104380{uuid.uuid4().int % 10**8:08d}", "bank_id": bank_id})],
        },
    )
    for _round in range(ROUNDS):
        login, password = _manager(acq, journal_id)
        manager = harness.OdooRpc(acq.odoo_url, acq.db, login, password)
        payments = [
            manager.call(
                "bank.crm.payment.order",
                "create",
                {
                    "journal_id": journal_id,
                    "partner_id": supplier,
                    "amount": 100000,
                    "purpose": "Оплата по договору поставки, НДС не облагается",
                },
            )
            for _ in range(2)
        ]
        sessions = [harness.OdooRpc(acq.odoo_url, acq.db, login, password) for _ in payments]
        start, errors = threading.Barrier(len(payments)), []

        def submit(session, payment_id):
            start.wait()
            try:
                session.call("bank.crm.payment.order", "action_submit", [payment_id])
            except Exception as error:  # reported below
                errors.append(error)

        threads = [
            threading.Thread(target=submit, args=(session, payment_id))
            for session, payment_id in zip(sessions, payments)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not errors, errors
        states = sorted(row["state"] for row in rpc.call("bank.crm.payment.order", "read", payments, ["state"]))
        assert states == ["ready", "to_approve"], states
