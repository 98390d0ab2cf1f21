"""The business-API banks of the sandbox (T-Bank T-API, Tochka) through the project's own
clients (`bank_api.tbank_business`, `bank_api.tochka`) over real HTTP: accounts,
100 000 generated operations paged quickly, resuming from a cursor, Tochka's asynchronous
statements, payment drafts, revoked tokens, faults, the admin API."""

import datetime as dt
import json
import time
from decimal import Decimal

import pytest
import requests

from bank_api import (
    BankAuthError,
    BankRateLimited,
    BankRejected,
    BankUnavailable,
)
from bank_api.tbank_business import TBankBusinessClient, to_account_info, to_operations
from bank_api.tochka import TochkaClient
from bank_api.tochka import to_account_info as tochka_account_info
from bank_api.tochka import to_operations as tochka_operations
from bank_sandbox.business_data import account_is_valid

TBANK_TOKEN = "TBankSandboxToken"
TOCHKA_TOKEN = "sandbox.jwt.token"
LONG_AGO = dt.date(2020, 1, 1)
# Paging through 100 000 operations is checked for what it returns; its time is a figure
# (recorded and printed), not an assertion: speed is measured by bench/, never by tests.


def tbank_client(sandbox, token=TBANK_TOKEN, **kwargs):
    client = TBankBusinessClient(token, base_url=sandbox.url + "/openapi/api", **kwargs)
    client.session.trust_env = False
    return client


def tochka_client(sandbox, token=TOCHKA_TOKEN):
    client = TochkaClient(token, base_url=sandbox.url + "/uapi")
    client.session.trust_env = False
    return client


class Admin:
    def __init__(self, sandbox):
        self.base = sandbox.url
        self.http = requests.Session()
        self.http.trust_env = False

    def __call__(self, method, path, body=None, expect=200):
        response = self.http.request(method, f"{self.base}/_admin/{path}", json=body, timeout=30)
        assert response.status_code == expect, response.text
        return response.json()

    def accounts(self, bank):
        return self("GET", "business/accounts")["accounts"][bank]


class FakeSleep:
    def __init__(self):
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)


@pytest.fixture
def admin(sandbox):
    return Admin(sandbox)


@pytest.fixture
def tbank(sandbox):
    return tbank_client(sandbox)


@pytest.fixture
def tochka(sandbox):
    return tochka_client(sandbox)


def today_msk():
    return dt.datetime.now(dt.timezone(dt.timedelta(hours=3))).date()


# ------------------------------------------------------------------- T-Bank: accounts


def test_tbank_accounts(tbank, admin):
    accounts = tbank.list_accounts()
    infos = [to_account_info(a) for a in accounts]
    assert [i.currency for i in infos] == ["RUB", "RUB", "USD", "RUB"]
    assert all(account_is_valid("044525974", i.account_number) and i.bic == "044525974" for i in infos)
    assert all(isinstance(i.balance, Decimal) and i.balance.as_tuple().exponent == -2 for i in infos)
    assert accounts[2].raw["currency"] == "840" and accounts[2].transit_account
    summaries = admin.accounts("tbank_business")
    assert [s["generated"] for s in summaries][-1] == 100_000
    assert [s["balance"] for s in summaries] == [str(i.balance) for i in infos]


def test_tbank_statement_balances_match_the_account(tbank):
    account = tbank.list_accounts()[0]
    pages = list(tbank.iter_statement(account.account_number, LONG_AGO, page_size=100))
    first = pages[0].balances
    assert first.balance_begin == Decimal("1250000") and first.balance_end == account.balance.otb
    confirmed = [op for p in pages for op in to_operations(p)]
    assert all(op.confirmed for op in confirmed)
    assert sum(op.amount for op in confirmed) == first.balance_end - first.balance_begin
    assert first.credit - first.debit == first.balance_end - first.balance_begin
    assert all(p.balances is None for p in pages[1:]) and len(pages) > 1


def test_tbank_operations_look_like_the_bank(tbank):
    account = tbank.list_accounts()[0]
    page = tbank.get_statement_page(account.account_number, LONG_AGO, limit=200, operation_status="All")
    ops = to_operations(page, account.currency, account.account_number)
    assert len(ops) == 200 and len({op.bank_operation_id for op in ops}) == 200
    timestamps = [op.timestamp for op in ops]
    assert timestamps == sorted(timestamps)  # oldest first
    incoming = [op for op in ops if op.is_incoming]
    outgoing = [op for op in ops if not op.is_incoming]
    assert incoming and outgoing
    assert any(op.purpose.startswith("Оплата по счету №") for op in incoming)
    with_party = [op for op in incoming if op.counterparty_inn]
    assert with_party and all(account_is_valid(op.counterparty_bic, op.counterparty_account) for op in with_party)
    assert all(op.amount.as_tuple().exponent == -2 for op in ops)
    raw = page.operations[0].raw
    assert {
        "operationId",
        "operationDate",
        "typeOfOperation",
        "accountAmount",
        "rubleAmount",
        "payer",
        "receiver",
    } <= set(raw)


def test_usd_account_has_ruble_equivalents(tbank):
    usd = [a for a in tbank.list_accounts() if a.currency == "USD"][0]
    page = tbank.get_statement_page(usd.account_number, LONG_AGO, operation_status="All")
    assert page.operations
    for op in page.operations:
        assert op.ruble_amount > op.account_amount > 0
    assert to_operations(page, "USD")[0].currency == "USD"


# ------------------------------------------------------------- T-Bank: volume, cursors


def test_paging_through_100000_operations(tbank, admin, record_property):
    volume = [s for s in admin.accounts("tbank_business") if s["generated"] == 100_000][0]["account"]
    started, cpu_started = time.perf_counter(), time.process_time()
    count, pages, seen_last, ordered = 0, 0, None, True
    balances = None
    for page in tbank.iter_statement(volume, LONG_AGO, page_size=5000, operation_status="All"):
        pages += 1
        balances = balances or page.balances
        for op in page.operations:
            count += 1
            if seen_last is not None and op.operation_date < seen_last:
                ordered = False
            seen_last = op.operation_date
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    record_property("seconds_for_100000_operations", round(elapsed, 2))
    record_property("cpu_seconds_for_100000_operations", round(cpu, 2))
    print(f"\n100 000 operations in {pages} pages: {elapsed:.2f} s wall, {cpu:.2f} s CPU (client + sandbox)")
    assert count == 100_000 and pages == 20 and ordered
    assert balances is not None and balances.balance_begin == Decimal("50000000")


def test_statement_filters_by_status(tbank, admin):
    volume = [s for s in admin.accounts("tbank_business") if s["generated"] == 100_000][0]["account"]
    since = today_msk() - dt.timedelta(days=3)

    def count(status):
        return sum(
            len(p.operations) for p in tbank.iter_statement(volume, since, page_size=5000, operation_status=status)
        )

    every, confirmed, holds = count("All"), count("Transaction"), count("Authorization")
    assert holds > 0 and confirmed > 0 and every == confirmed + holds
    page = tbank.get_statement_page(volume, since, operation_status="Authorization", limit=5)
    assert {op.operation_status for op in page.operations} == {"Authorization"}
    assert not any(op.confirmed for op in to_operations(page))
    fees = tbank.get_statement_page(volume, since, categories=["fee"], limit=50, operation_status="All")
    assert fees.operations and {op.category for op in fees.operations} == {"fee"}


def test_resume_from_a_saved_cursor_even_after_a_restart(make_sandbox, tmp_path):
    state = tmp_path / "resume"
    first_sandbox = make_sandbox(state)
    client = tbank_client(first_sandbox)
    account = client.list_accounts()[0].account_number
    everything = [
        op.operation_id
        for p in client.iter_statement(account, LONG_AGO, page_size=50, operation_status="All")
        for op in p.operations
    ]
    assert len(everything) == 240

    seen, saved_cursor = [], None
    for number, page in enumerate(client.iter_statement(account, LONG_AGO, page_size=50, operation_status="All")):
        seen += [op.operation_id for op in page.operations]
        saved_cursor = page.next_cursor  # persisted after each page
        if number == 1:
            break  # the sync "crashes" after two pages
    first_sandbox.stop()

    second_sandbox = make_sandbox(state)  # same state, another port
    resumed = tbank_client(second_sandbox).iter_statement(
        account, LONG_AGO, page_size=50, cursor=saved_cursor, operation_status="All"
    )
    rest = [op.operation_id for p in resumed for op in p.operations]
    assert seen + rest == everything and len(set(seen + rest)) == 240


def test_a_cursor_belongs_to_its_query(tbank):
    account = tbank.list_accounts()[0].account_number
    cursor = tbank.get_statement_page(account, LONG_AGO, limit=10).next_cursor
    assert cursor
    with pytest.raises(BankRejected) as caught:
        tbank.get_statement_page(account, dt.date(2021, 1, 1), limit=10, cursor=cursor)
    assert caught.value.code == "INVALID_CURSOR" and caught.value.http_status == 400
    with pytest.raises(BankRejected, match="INVALID_CURSOR"):
        tbank.get_statement_page(account, LONG_AGO, limit=10, cursor="not-a-cursor!")


def test_statement_contract_errors(tbank):
    with pytest.raises(BankRejected) as caught:
        tbank.get_statement_page("40702810000000000000", LONG_AGO)
    assert (caught.value.code, caught.value.http_status) == ("ACCOUNT_NOT_FOUND", 422)
    account = tbank.list_accounts()[0].account_number
    with pytest.raises(BankRejected) as caught:
        tbank.get_statement_page(account, LONG_AGO, limit=5001)
    assert caught.value.code == "INVALID_DATA" and caught.value.error_id
    with pytest.raises(BankRejected, match="INVALID_DATA"):
        tbank.get_statement_page(account, dt.date(2026, 1, 2), dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))


def test_generated_data_is_deterministic(make_sandbox, tmp_path):
    spec = {"count": 300, "seed": 42, "start": "2026-01-01T00:00:00Z", "end": "2026-02-01T00:00:00Z"}
    listings = []
    for name in ("a", "b"):
        sandbox = make_sandbox(tmp_path / name)
        created = Admin(sandbox)(
            "POST", "business/accounts", {"bank": "tbank_business", "generated": spec, "opening_balance": "1000.00"}
        )
        client = tbank_client(sandbox)
        ops = [
            (op.operation_id, op.account_amount, op.pay_purpose, op.operation_date)
            for p in client.iter_statement(created["account"], LONG_AGO, page_size=1000, operation_status="All")
            for op in p.operations
        ]
        listings.append((created["account"], ops))
    assert listings[0] == listings[1] and len(listings[0][1]) == 300
    other = Admin(sandbox)("POST", "business/accounts", {"bank": "tbank_business", "generated": {**spec, "seed": 43}})
    page = tbank_client(sandbox).get_statement_page(other["account"], LONG_AGO, limit=5, operation_status="All")
    assert page.operations[0].operation_id != listings[0][1][0][0]


# ------------------------------------------------------ T-Bank: an incoming transfer


def test_incoming_transfer_added_by_admin_is_synced(tbank, admin):
    account = tbank.list_accounts()[0]
    before = account.balance.otb
    created = admin(
        "POST",
        "business/operations",
        {
            "account": account.account_number,
            "amount": "15000.00",
            "direction": "credit",
            "purpose": "Оплата по счету № INV/2026/00012",
            "document_number": "845",
            "counterparty": {
                "name": "ООО «Ромашка»",
                "inn": "7701000001",
                "kpp": "770101001",
                "account": "40702810938000001000",
                "bic": "044525225",
                "bank_name": "ПАО Сбербанк",
            },
        },
        expect=201,
    )
    assert created["bank"] == "tbank_business" and created["amount"] == "15000.00"
    page = tbank.get_statement_page(account.account_number, today_msk())
    ours = [
        op
        for op in to_operations(page, "RUB", account.account_number)
        if op.purpose == "Оплата по счету № INV/2026/00012"
    ]
    assert len(ours) == 1
    op = ours[0]
    assert (op.bank_operation_id, op.amount, op.confirmed, op.document_number) == (
        created["id"],
        Decimal("15000.00"),
        True,
        "845",
    )
    assert (op.counterparty_name, op.counterparty_inn, op.counterparty_account, op.counterparty_bic) == (
        "ООО «Ромашка»",
        "7701000001",
        "40702810938000001000",
        "044525225",
    )
    assert op.date == today_msk()
    assert tbank.list_accounts()[0].balance.otb == before + Decimal("15000.00")


def test_admin_operations_in_batch_and_errors(admin, tbank, tochka):
    tbank_account = tbank.list_accounts()[0].account_number
    tochka_account = tochka.list_accounts()[0].account_id
    answer = admin(
        "POST",
        "business/operations",
        {
            "operations": [
                {"account": tbank_account, "amount": 100, "direction": "debit", "purpose": "Комиссия"},
                {"account": tochka_account, "amount": "1.05", "date": "2026-01-10", "status": "Booked"},
            ]
        },
        expect=201,
    )
    assert [o["bank"] for o in answer["operations"]] == ["tbank_business", "tochka"]
    admin("POST", "business/operations", {"account": "40702810000000000000", "amount": 1}, expect=404)
    admin("POST", "business/operations", {"account": tbank_account, "amount": "1.001"}, expect=400)
    admin("POST", "business/operations", {"account": tbank_account, "amount": 1, "direction": "up"}, expect=400)
    admin("POST", "business/operations", {"account": tbank_account, "amount": 1, "date": "soon"}, expect=400)
    duplicate = {"account": tbank_account, "amount": 1, "id": "same-id"}
    admin("POST", "business/operations", duplicate, expect=201)
    admin("POST", "business/operations", duplicate, expect=409)


# ------------------------------------------------------------------ tokens and faults


def test_revoked_token_is_an_auth_error(tbank, tochka, admin):
    assert tbank.list_accounts() and tochka.list_accounts()
    admin("POST", "tokens/revoke", {"token": TBANK_TOKEN})
    with pytest.raises(BankAuthError) as caught:
        tbank.list_accounts()
    assert caught.value.http_status == 401 and caught.value.code == "UNAUTHORIZED"
    assert "отозван" in caught.value.message
    assert tochka.list_accounts()  # another bank, another token
    admin("POST", "tokens/revoke", {"token": TOCHKA_TOKEN, "bank": "tochka"})
    with pytest.raises(BankAuthError, match="revoked"):
        tochka.list_accounts()
    admin("POST", "tokens", {"token": TBANK_TOKEN, "bank": "tbank_business"})
    assert tbank.list_accounts()


def test_unknown_or_missing_token(sandbox):
    with pytest.raises(BankAuthError):
        tbank_client(sandbox, "not-a-token").list_accounts()
    with pytest.raises(BankAuthError):
        tochka_client(sandbox, "not-a-token").list_customers()
    bare = requests.get(sandbox.url + "/openapi/api/v4/bank-accounts", timeout=10)
    assert bare.status_code == 401 and set(bare.json()) >= {"errorId", "errorMessage", "errorCode"}
    bare = requests.get(sandbox.url + "/uapi/open-banking/v1.0/accounts", timeout=10)
    body = bare.json()
    assert bare.status_code == 401 and body["code"] == "401" and body["id"]
    assert body["Errors"][0]["errorCode"] == "Unauthorized" and body["Errors"][0]["url"]


def test_tokens_configured_at_start_and_never_stored_in_clear(make_sandbox, tmp_path, monkeypatch):
    secret = "prod-like-token-7f3a9c"
    monkeypatch.setenv("BANK_SANDBOX_TBANK_BUSINESS_TOKENS", f"{secret}, another-token-1")
    monkeypatch.setenv("BANK_SANDBOX_TOCHKA_TOKENS", "tochka-jwt-secret-1")
    state = tmp_path / "tokens"
    sandbox = make_sandbox(state)
    assert tbank_client(sandbox, secret).list_accounts()
    assert tbank_client(sandbox, "another-token-1").list_accounts()
    assert tochka_client(sandbox, "tochka-jwt-secret-1").list_accounts()
    with pytest.raises(BankAuthError):
        tochka_client(sandbox, secret).list_accounts()
    admin = Admin(sandbox)
    listing = json.dumps(admin("GET", "tokens"), ensure_ascii=False)
    assert secret not in listing and "prod…" in listing
    admin("POST", "tokens/revoke", {"token": secret})
    sandbox.stop()
    for path in state.iterdir():
        assert secret not in path.read_text("utf-8", errors="replace")
    restarted = make_sandbox(state)  # a revocation survives a restart, even of a configured token
    with pytest.raises(BankAuthError):
        tbank_client(restarted, secret).list_accounts()
    assert tbank_client(restarted, "another-token-1").list_accounts()


def test_faults_apply_to_business_apis(tbank, tochka, admin, sandbox):
    admin("POST", "faults", {"http500": 2})
    with pytest.raises(BankUnavailable) as caught:
        tbank.list_accounts()
    assert caught.value.http_status == 500
    with pytest.raises(BankUnavailable):
        tochka.list_accounts()
    assert tbank.list_accounts()
    admin("POST", "faults", {"http429": 1})
    with pytest.raises(BankRateLimited) as caught:
        tochka.list_customers()
    assert caught.value.retry_after == 1
    admin("POST", "faults", {"latency": 400})
    slow = tbank_client(sandbox, timeout=(5, 0.1))
    with pytest.raises(BankUnavailable, match="no answer in time"):
        slow.list_accounts()
    admin("DELETE", "faults")
    assert slow.list_accounts()


def test_request_id_is_echoed(sandbox):
    response = requests.get(
        sandbox.url + "/openapi/api/v4/bank-accounts",
        timeout=10,
        headers={"Authorization": f"Bearer {TBANK_TOKEN}", "X-Request-Id": "abc-123"},
    )
    assert response.headers["X-Request-Id"] == "abc-123"
    missing = requests.get(sandbox.url + "/openapi/api/v9/nothing", timeout=10)
    assert missing.status_code == 404 and missing.json()["errorCode"] == "NOT_FOUND"


# -------------------------------------------------------------- T-Bank: payment drafts


def draft(client, account, amount="1234.50", key="pay-1", **kwargs):
    return client.create_payment_draft(
        from_account=account,
        recipient_name="ООО «Вектор»",
        recipient_inn="7701010137",
        recipient_kpp="770201001",
        recipient_account="40702810938010001037",
        recipient_bik="044525187",
        recipient_bank_name="Банк ВТБ (ПАО)",
        amount=Decimal(amount),
        purpose="Оплата по счету № 5 за товары. НДС не облагается",
        document_number="321",
        idempotency_key=key,
        **kwargs,
    )


def test_payment_draft_lifecycle(tbank):
    account = tbank.list_accounts()[0]
    created = draft(tbank, account.account_number)
    assert created.status == "IN_PROGRESS" and created.idempotency_key == "pay-1"
    again = draft(tbank, account.account_number)  # a retry with the same key
    assert again.document_id == created.document_id
    pending = tbank.list_accounts()[0].balance
    assert pending.pending_payments == Decimal("1234.5")
    assert tbank.get_payment_status(created.document_id).status == "IN_PROGRESS"  # first look
    executed = tbank.get_payment_status(created.document_id)  # signed on the second
    assert executed.status == "EXECUTED" and executed.is_final
    after = tbank.list_accounts()[0].balance
    assert after.otb == account.balance.otb - Decimal("1234.50") and after.pending_payments == 0
    page = tbank.get_statement_page(account.account_number, today_msk())
    debit = [op for op in to_operations(page) if op.document_number == "321"]
    assert len(debit) == 1 and debit[0].amount == Decimal("-1234.50")
    assert debit[0].counterparty_name == "ООО «Вектор»" and debit[0].counterparty_bic == "044525187"
    assert tbank.get_payment_status(created.document_id).status == "EXECUTED"  # stays


def test_payment_draft_failures(tbank, admin):
    accounts = tbank.list_accounts()
    rub = accounts[0]
    too_much = draft(tbank, rub.account_number, amount=str(rub.balance.otb + 1), key="big")
    tbank.get_payment_status(too_much.document_id)
    failed = tbank.get_payment_status(too_much.document_id)
    assert failed.status == "FAILED" and "Недостаточно средств" in failed.error_message
    forced = draft(tbank, rub.account_number, key="forced")
    assert admin("POST", "business/payments", {"id": forced.document_id, "status": "FAILED"})["status"] == "FAILED"
    assert tbank.get_payment_status(forced.document_id).status == "FAILED"
    admin("POST", "business/payments", {"id": "nope", "status": "FAILED"}, expect=404)
    with pytest.raises(BankRejected) as caught:
        draft(tbank, accounts[2].account_number, key="usd")  # the USD account
    assert caught.value.http_status == 422
    with pytest.raises(BankRejected, match="does not know"):
        tbank.get_payment_status("00000000-0000-0000-0000-000000000000")


def test_payment_signing_can_wait_for_the_admin(tbank, admin):
    admin("POST", "business/config", {"bank": "tbank_business", "payment_sign_polls": 0})
    account = tbank.list_accounts()[0].account_number
    created = draft(tbank, account, key="manual")
    for _ in range(3):
        assert tbank.get_payment_status(created.document_id).status == "IN_PROGRESS"
    admin("POST", "business/payments", {"id": created.document_id, "status": "EXECUTED"})
    assert tbank.get_payment_status(created.document_id).status == "EXECUTED"


# ---------------------------------------------------------------------------- Tochka


def test_tochka_customers_accounts_balances(tochka, admin):
    business = [c for c in tochka.list_customers() if c.customer_type == "Business"]
    assert len(business) == 1 and business[0].customer_code == "300123456"
    accounts = tochka.list_accounts()
    assert [a.currency for a in accounts] == ["RUB", "RUB", "USD"]
    assert all(a.bic == "044525104" and account_is_valid(a.bic, a.account_number) for a in accounts)
    infos = [tochka_account_info(a, tochka.get_balances(a.account_id)) for a in accounts]
    assert [str(i.balance) for i in infos] == [s["balance"] for s in admin.accounts("tochka")]
    balances = tochka.get_balances(accounts[0].account_id)
    assert {b.type for b in balances} == {"OpeningAvailable", "ClosingAvailable", "Expected"}


def test_tochka_account_id_may_be_encoded(sandbox, tochka):
    account_id = tochka.list_accounts()[0].account_id
    encoded = account_id.replace("/", "%2F")
    for path in (f"accounts/{encoded}/balances", f"accounts/{encoded}", f"accounts/{account_id}"):
        response = requests.get(
            f"{sandbox.url}/uapi/open-banking/v1.0/{path}",
            timeout=10,
            headers={"Authorization": f"Bearer {TOCHKA_TOKEN}"},
        )
        assert response.status_code == 200, path
        assert set(response.json()) == {"Data", "Links", "Meta"}
    unknown = requests.get(
        f"{sandbox.url}/uapi/open-banking/v1.0/accounts/40702810000000000000/044525104/balances",
        timeout=10,
        headers={"Authorization": f"Bearer {TOCHKA_TOKEN}"},
    )
    assert unknown.status_code == 404 and unknown.json()["Errors"][0]["errorCode"] == "HTTPNotFound"


def test_tochka_asynchronous_statement(tochka, admin):
    admin("POST", "business/config", {"bank": "tochka", "statement_ready_polls": 3})
    account = tochka.list_accounts()[0]
    sleep = FakeSleep()
    statement = tochka.fetch_statement(
        account.account_id, today_msk() - dt.timedelta(days=120), today_msk(), poll_interval=0.25, sleep=sleep
    )
    assert statement.status == "Ready" and sleep.calls == [0.25, 0.25]  # Processing, Processing, Ready
    ops = tochka_operations(statement)
    assert len(ops) > 100 and all(op.confirmed for op in ops)
    assert sum(op.amount for op in ops) == statement.end_date_balance - statement.start_date_balance
    assert statement.start_date_balance == Decimal("800000")
    balance = tochka_account_info(account, tochka.get_balances(account.account_id)).balance
    assert statement.end_date_balance == balance


def test_tochka_statement_polling_by_hand(tochka):
    account_id = tochka.list_accounts()[1].account_id
    statement_id = tochka.init_statement(account_id, dt.date(2020, 1, 1), today_msk())
    assert tochka.get_statement(account_id, statement_id).status == "Processing"
    ready = tochka.get_statement(account_id, statement_id)
    assert ready.status == "Ready" and ready.statement_id == statement_id
    assert len(ready.transactions) == 25
    with pytest.raises(BankRejected) as caught:
        tochka.get_statement(tochka.list_accounts()[0].account_id, statement_id)  # not this account's
    assert caught.value.http_status == 404


def test_tochka_statement_error_and_timeout(tochka, admin):
    account_id = tochka.list_accounts()[0].account_id
    admin("POST", "business/config", {"bank": "tochka", "statement_errors": 1})
    with pytest.raises(BankRejected) as caught:
        tochka.fetch_statement(account_id, today_msk(), today_msk(), sleep=FakeSleep())
    assert caught.value.code == "Error" and caught.value.statement_id
    admin("POST", "business/config", {"bank": "tochka", "statement_ready_polls": 50})
    sleep = FakeSleep()
    with pytest.raises(BankUnavailable):
        tochka.fetch_statement(account_id, today_msk(), today_msk(), poll_interval=1, timeout=3, sleep=sleep)
    assert sleep.calls == [1, 1, 1]
    admin("POST", "business/config", {"bank": "tochka", "statement_ready_polls": 1})
    assert tochka.fetch_statement(account_id, today_msk(), today_msk(), sleep=FakeSleep()).status == "Ready"


def test_tochka_statement_validation(tochka):
    account_id = tochka.list_accounts()[0].account_id
    with pytest.raises(BankRejected) as caught:
        tochka.init_statement("40702810000000000000/044525104", dt.date(2026, 1, 1), dt.date(2026, 1, 2))
    assert caught.value.http_status == 404
    with pytest.raises(BankRejected) as caught:
        tochka.init_statement(account_id.split("/")[0] + "/044525225", dt.date(2026, 1, 1), dt.date(2026, 1, 2))
    assert caught.value.http_status == 404


def test_tochka_incoming_transfer_and_payment_for_sign(sandbox, tochka, admin):
    account = tochka.list_accounts()[0]
    admin(
        "POST",
        "business/operations",
        {
            "account": account.account_id,
            "amount": "15000.00",
            "purpose": "Оплата по счету № INV/2026/00012",
            "counterparty": {"name": "ООО «Ромашка»", "inn": "7701000001"},
        },
        expect=201,
    )
    created = tochka.create_payment_for_sign(
        account_code=account.account_number,
        bank_code=account.bic,
        counterparty_name="ООО «Вектор»",
        counterparty_account_number="40702810938010001037",
        counterparty_bank_bic="044525187",
        amount=Decimal("2500.75"),
        purpose="Оплата по счету № 7",
        counterparty_inn="7701010137",
        payment_number=42,
    )
    assert created.request_id.startswith("openapi-") and created.redirect_url.startswith(sandbox.public_url)
    page = requests.get(created.redirect_url, timeout=10)
    assert page.status_code == 200 and "2500.75" in page.text and "ООО «Вектор»" in page.text
    assert tochka.get_payment_status(created.request_id).status == "Created"
    assert tochka.get_payment_status(created.request_id).status == "Paid"
    statement = tochka.fetch_statement(account.account_id, today_msk(), today_msk(), sleep=FakeSleep())
    ops = {op.purpose: op for op in tochka_operations(statement)}
    assert ops["Оплата по счету № INV/2026/00012"].amount == Decimal("15000.00")
    assert ops["Оплата по счету № INV/2026/00012"].counterparty_inn == "7701000001"
    paid = ops["Оплата по счету № 7"]
    assert (paid.amount, paid.counterparty_name, paid.document_number) == (Decimal("-2500.75"), "ООО «Вектор»", "42")


def test_tochka_signing_page_and_rejections(sandbox, tochka, admin):
    account = tochka.list_accounts()[0]
    kwargs = {
        "account_code": account.account_number,
        "bank_code": account.bic,
        "counterparty_name": "ООО «Вектор»",
        "counterparty_account_number": "40702810938010001037",
        "counterparty_bank_bic": "044525187",
        "purpose": "Оплата",
    }
    signed = tochka.create_payment_for_sign(amount=Decimal("10.00"), **kwargs)
    form = requests.post(signed.redirect_url, data={"action": "sign"}, timeout=10)
    assert form.status_code == 200 and "Paid" in form.text
    assert tochka.get_payment_status(signed.request_id).status == "Paid"
    cancelled = tochka.create_payment_for_sign(amount=Decimal("10.00"), **kwargs)
    assert (
        admin("POST", "business/payments", {"id": cancelled.request_id, "status": "Canceled"})["status"] == "Canceled"
    )
    assert tochka.get_payment_status(cancelled.request_id).status == "Canceled"
    huge = tochka.create_payment_for_sign(amount=Decimal("999999999.00"), **kwargs)
    tochka.get_payment_status(huge.request_id)
    rejected = tochka.get_payment_status(huge.request_id)
    assert rejected.status == "Rejected" and rejected.errors
    with pytest.raises(BankRejected) as caught:
        tochka.get_payment_status("openapi-unknown")
    assert caught.value.http_status == 404
    usd = tochka.list_accounts()[2]
    with pytest.raises(BankRejected):
        tochka.create_payment_for_sign(amount=Decimal("1"), **{**kwargs, "account_code": usd.account_number})
    assert requests.get(f"{sandbox.url}/tochka/payments/nothing", timeout=10).status_code == 404


# ------------------------------------------------------------------------ admin API


def test_admin_accounts_config_and_state(admin, tbank):
    created = admin(
        "POST",
        "business/accounts",
        {
            "bank": "tbank_business",
            "currency": "EUR",
            "name": "Евро",
            "opening_balance": "500.00",
            "generated": {"count": 1000, "seed": 5},
        },
    )
    assert created["currency"] == "EUR" and created["generated"] == 1000 and created["balance"]
    numbers = [a.account_number for a in tbank.list_accounts()]
    assert created["account"] in numbers and account_is_valid("044525974", created["account"])
    renamed = admin("POST", "business/accounts", {"account": created["account"], "name": "Евро-2", "generated": None})
    assert renamed["generated"] == 0 and renamed["balance"] == "500.00"
    admin("POST", "business/accounts", {"bank": "tbank_business", "currency": "XAU"}, expect=400)
    admin("POST", "business/accounts", {"bank": "nobank"}, expect=404)
    admin(
        "POST",
        "business/accounts",
        {"bank": "tbank_business", "generated": {"count": 10**9, "start": "2026-01-01", "end": "2026-01-02"}},
        expect=400,
    )
    config = admin("POST", "business/config", {"payment_sign_polls": 3})["config"]
    assert config["tbank_business"]["payment_sign_polls"] == 3 and config["tochka"]["payment_sign_polls"] == 3
    admin("POST", "business/config", {"statement_ready_polls": -1}, expect=400)
    state = admin("GET", "state")
    assert state["tbank_business"]["tokens"]["active"] >= 1 and "accounts" in state["tochka"]
    assert TBANK_TOKEN not in json.dumps(state)
    health = admin("GET", "health")
    assert {"tbank_acquiring", "tbank_business", "tochka"} <= set(health["banks"])


def test_reset_restores_the_seed(admin, tbank, tochka):
    account = tbank.list_accounts()[0]
    admin("POST", "business/operations", {"account": account.account_number, "amount": "99.99"}, expect=201)
    admin("POST", "tokens/revoke", {"token": TBANK_TOKEN})
    admin("POST", "reset")
    assert tbank.list_accounts()[0].balance.otb == account.balance.otb
    assert all(s["added"] == 0 for s in admin.accounts("tbank_business"))
    assert tochka.list_accounts()


def test_added_operations_survive_a_restart(make_sandbox, tmp_path):
    state = tmp_path / "persist"
    sandbox = make_sandbox(state)
    account = tbank_client(sandbox).list_accounts()[0].account_number
    created = Admin(sandbox)(
        "POST",
        "business/operations",
        {"account": account, "amount": "42.00", "purpose": "Оплата по счету № INV/2026/00099"},
        expect=201,
    )
    sandbox.stop()
    restarted = make_sandbox(state)
    page = tbank_client(restarted).get_statement_page(account, today_msk())
    assert created["id"] in {op.operation_id for op in page.operations}


def test_reidentify_night_operations(make_sandbox, tmp_path):
    """T-Bank may change the id of operations made 22:00-03:00 Moscow time (docs/banks.md
    §6.9): the admin call does it; ids change again at each call, stay put between calls
    and across a restart, and nothing else about the operations changes."""
    state = tmp_path / "night"
    sandbox = make_sandbox(state)
    client, admin = tbank_client(sandbox), Admin(sandbox)
    account = client.list_accounts()[0].account_number

    def statement():
        return [op for p in client.iter_statement(account, LONG_AGO, page_size=100) for op in p.operations]

    def night(op):
        hour = op.operation_date.astimezone(dt.timezone(dt.timedelta(hours=3))).hour
        return hour >= 22 or hour < 3

    def same_but_id(old, new):
        return old.model_dump(exclude={"operation_id", "raw"}) == new.model_dump(exclude={"operation_id", "raw"})

    before = statement()
    nights = [op for op in before if night(op)]
    assert nights and len(nights) < len(before)
    answer = admin("POST", "business/reidentify", {"account": account})
    assert answer["generation"] == 1
    assert answer["reidentified"] >= len(nights)  # unconfirmed night holds are renamed too
    after = statement()
    assert len(after) == len(before)
    for old, new in zip(before, after):
        assert (old.operation_id != new.operation_id) == night(old), old.operation_date
        assert same_but_id(old, new)
    assert [op.operation_id for op in statement()] == [op.operation_id for op in after]  # stable
    sandbox.stop()

    sandbox = make_sandbox(state)  # and across a restart
    client, admin = tbank_client(sandbox), Admin(sandbox)
    assert [op.operation_id for op in statement()] == [op.operation_id for op in after]
    # a window, at any hour: only the operations inside it change again
    middle = after[len(after) // 2].operation_date
    answer = admin("POST", "business/reidentify", {"account": account, "from": middle.isoformat(), "night_only": False})
    assert answer["generation"] == 2
    third = statement()
    changed = [old.operation_date >= middle for old, new in zip(after, third) if old.operation_id != new.operation_id]
    assert changed and all(changed) and len(changed) == len([op for op in after if op.operation_date >= middle])
    admin("POST", "business/reidentify", {"account": "40702810000000000000"}, expect=404)
    admin("POST", "business/reidentify", {"account": account, "night_only": "yes"}, expect=400)
