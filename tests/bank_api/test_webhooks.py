"""bank_api.webhooks: T-Bank's oper-feed-operation and Tochka's webhooks become the same
BankOperation as the statement sync; T-Bank's secret and Tochka's RS256 JWTs are verified
(docs/bank-webhooks.md). Keys are generated here; the JWKS is served through `responses`."""

import base64
import hashlib
import hmac
import datetime as dt
import json
import time
from decimal import Decimal

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bank_api.tbank_business import (
    TBankStatementPage,
    check_tbank_secret,
    parse_tbank_event,
    tbank_event_operations,
    to_operations as tbank_to_operations,
)
from bank_api.tochka import (
    TochkaStatement,
    parse_tochka_event,
    to_operations as tochka_to_operations,
    verify_tochka_jwt,
)
from bank_api.webhooks import JwksCache, WebhookForged, WebhookKeysUnavailable, WebhookUnexpected

JWKS_URL = "https://keys.example/jwks"
OUR_ACCOUNT = "40702810110000000001"
PAYER_ACCOUNT = "40702810900000000099"

OPERATION = {
    "operationId": "a1b2c3",
    "operationDate": "2026-03-10T09:15:00Z",
    "operationStatus": "Transaction",
    "typeOfOperation": "Credit",
    "category": "incomeCustomer",
    "operationAmount": 15000,
    "accountAmount": 15000,
    "rubleAmount": 15000,
    "payPurpose": "Оплата по счету № 77",
    "docNumber": "1042",
    "payer": {"name": "ООО «Ромашка»", "inn": "7707083893", "account": PAYER_ACCOUNT, "bicRu": "044525225"},
    "receiver": {"name": "ООО «Мы»", "inn": "7700000000", "account": OUR_ACCOUNT, "bicRu": "044525974"},
}


@pytest.fixture(scope="module")
def key_pair():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(private_key, kid="k1"):
    jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
    jwk["kid"] = kid
    return jwk


@pytest.fixture
def keys(key_pair):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, JWKS_URL, json={"keys": [_jwk(key_pair)]})
        yield JwksCache(JWKS_URL)


def _incoming_payment(**overrides):
    claims = {
        "SidePayer": {
            "bankCode": "044525225",
            "bankName": "ПАО Сбербанк",
            "account": PAYER_ACCOUNT,
            "name": "ООО «Ромашка»",
            "amount": "40.0",
            "currency": "RUB",
            "inn": "7707083893",
            "kpp": "770701001",
        },
        "SideRecipient": {
            "bankCode": "044525104",
            "account": OUR_ACCOUNT,
            "name": "ООО «Мы»",
            "amount": "40.0",
            "currency": "RUB",
            "inn": "7700000000",
        },
        "purpose": "Оплата по счету № 77",
        "documentNumber": "15",
        "paymentId": "p-1",
        "date": "2018-10-01",
        "webhookType": "incomingPayment",
        "customerCode": "300000092",
    }
    claims.update(overrides)
    return claims


def _sign(claims, key, kid="k1", algorithm="RS256"):
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid} if kid else None)


# ---------------------------------------------------------------------------- T-Bank


def test_tbank_event_is_the_statement_operation():
    """The event's operation is the BankOperation the sync builds from the statement."""
    [(account, operation)] = tbank_event_operations(OPERATION, "RUB")
    [synced] = tbank_to_operations(TBankStatementPage.model_validate({"operations": [OPERATION]}), "RUB", OUR_ACCOUNT)
    assert account == OUR_ACCOUNT
    assert operation == synced
    assert operation.fallback_key == synced.fallback_key
    assert operation.amount == Decimal("15000.00") and operation.confirmed


@pytest.mark.parametrize(
    "payload",
    [
        {"data": OPERATION},
        {"operation": OPERATION},
        {"accountNumber": OUR_ACCOUNT, "operations": [OPERATION]},
        [OPERATION],
    ],
)
def test_tbank_event_wrappers(payload):
    [item] = parse_tbank_event(payload)
    assert item.account_number == OUR_ACCOUNT
    assert item.operation.operation_id == "a1b2c3"


def test_tbank_debit_takes_the_payer_as_our_account():
    debit = dict(OPERATION, typeOfOperation="Debit", payer=OPERATION["receiver"], receiver=OPERATION["payer"])
    [(account, operation)] = tbank_event_operations(debit)
    assert account == OUR_ACCOUNT and operation.amount == Decimal("-15000.00")


def test_tbank_authorization_is_not_confirmed():
    [(_account, operation)] = tbank_event_operations(dict(OPERATION, operationStatus="Authorization"))
    assert not operation.confirmed


#: An ``oper-feed-operation`` body in the shape the published receivers observe
#: (docs/bank-webhooks.md, "The oper-feed-operation body"): flat, ``accountNumber`` at the
#: top, amounts as strings, ``documentNumber``, the parties' ``bankBic``/``bic``, the dates
#: of the statement method's operation and no ``operationDate``. Values are ours.
OBSERVED_EVENT = {
    "operationId": "f6b1c2d4-0000-4000-8000-000000000077",
    "typeOfOperation": "Credit",
    "accountNumber": OUR_ACCOUNT,
    "documentNumber": "1042",
    "operationAmount": "15000.00",
    "operationCurrencyDigitalCode": "643",
    "accountAmount": "15000.00",
    "accountCurrencyDigitalCode": "643",
    "rubleAmount": "15000.00",
    "counterParty": {
        "account": PAYER_ACCOUNT,
        "bankBic": "044525225",
        "bankName": "ПАО Сбербанк",
        "corrAccount": "30101810400000000225",
        "inn": "7707083893",
        "kpp": "770701001",
        "name": "ООО «Ромашка»",
    },
    "description": "Оплата по счету № 77",
    "payPurpose": "Оплата по счету № 77",
    "authorizationDate": "2026-03-10T09:15:00Z",
    "trxnPostDate": "2026-03-10T09:15:02Z",
    "chargeDate": "2026-03-10",
    "drawDate": "2026-03-10",
    "docDate": "2026-03-10",
    "payVo": "01",
    "priority": "5",
    "category": "incomeCustomer",
    "payer": {"account": PAYER_ACCOUNT, "name": "ООО «Ромашка»", "inn": "7707083893", "bic": "044525225"},
    "receiver": {"account": OUR_ACCOUNT, "name": "ООО «Мы»", "inn": "7700000000", "bic": "044525974"},
}


def test_tbank_observed_event_is_the_statement_line():
    """The observed body books the statement's line: same day, amount, counterparty,
    document number (the fallback key, for an operationId that differs from the
    statement's), confirmed, our account from ``accountNumber``."""
    [(account, operation)] = tbank_event_operations(OBSERVED_EVENT, "RUB")
    statement_operation = dict(OPERATION, operationId="statement-id-differs")
    [synced] = tbank_to_operations(
        TBankStatementPage.model_validate({"operations": [statement_operation]}), "RUB", OUR_ACCOUNT
    )
    assert account == OUR_ACCOUNT
    assert operation.bank_operation_id == OBSERVED_EVENT["operationId"]
    assert operation.fallback_key == synced.fallback_key
    assert operation.amount == Decimal("15000.00") and operation.confirmed
    assert operation.counterparty_bic == "044525225" and operation.counterparty_inn == "7707083893"
    assert operation.purpose == "Оплата по счету № 77" and operation.document_number == "1042"
    assert operation.raw["payVo"] == "01"  # the body is kept whole


def test_tbank_observed_event_documentnumber_in_the_statement():
    """A statement that spells the document number like the webhook gives the same key."""
    statement_operation = dict(OPERATION, documentNumber=OPERATION["docNumber"])
    del statement_operation["docNumber"]
    [synced] = tbank_to_operations(TBankStatementPage.model_validate({"operations": [statement_operation]}), "RUB")
    [(_account, operation)] = tbank_event_operations(OBSERVED_EVENT, "RUB")
    assert synced.document_number == "1042" and synced.fallback_key == operation.fallback_key


@pytest.mark.parametrize(
    ("changes", "day", "confirmed"),
    [
        # a hold: authorised, not posted
        ({"trxnPostDate": None, "chargeDate": None, "drawDate": None}, dt.date(2026, 3, 10), False),
        ({"status": "Authorization"}, dt.date(2026, 3, 10), False),
        # 22:30 UTC is the next day in Moscow, like the statement's operationDate
        ({"authorizationDate": "2026-03-10T22:30:00Z"}, dt.date(2026, 3, 11), True),
        # only dates: the Moscow day
        ({"authorizationDate": None, "trxnPostDate": None}, dt.date(2026, 3, 10), True),
        # the statement's own spelling wins
        ({"operationDate": "2026-03-09T10:00:00Z", "operationStatus": "Transaction"}, dt.date(2026, 3, 9), True),
    ],
)
def test_tbank_observed_event_dates_and_status(changes, day, confirmed):
    event = {key: value for key, value in dict(OBSERVED_EVENT, **changes).items() if value is not None}
    [(_account, operation)] = tbank_event_operations(event, "RUB")
    assert (operation.date, operation.confirmed) == (day, confirmed)


def test_tbank_observed_event_without_any_date_is_flagged():
    event = {key: value for key, value in OBSERVED_EVENT.items() if not key.endswith("Date")}
    with pytest.raises(WebhookUnexpected, match="operationDate"):
        parse_tbank_event(event)


@pytest.mark.parametrize(
    "payload",
    [{}, {"data": {"x": 1}}, {"operations": []}, "text", {"operationId": "x"}, [1], {"operations": [OPERATION] * 101}],
)
def test_tbank_unexpected_shapes(payload):
    with pytest.raises(WebhookUnexpected):
        parse_tbank_event(payload)


def test_tbank_secret():
    check_tbank_secret("Bearer s3cret", "s3cret")
    check_tbank_secret("Basic s3cret", "s3cret")
    for header in (None, "", "Bearer", "Bearer wrong", "Token s3cret", "s3cret", "Bearer s3cret2"):
        with pytest.raises(WebhookForged) as caught:
            check_tbank_secret(header, "s3cret")
        assert "s3cret" not in str(caught.value)
    with pytest.raises(WebhookForged):
        check_tbank_secret("Bearer ", "")


# ---------------------------------------------------------------------------- Tochka


def test_tochka_good_token(keys, key_pair):
    claims = verify_tochka_jwt(_sign(_incoming_payment(), key_pair), keys)
    event = parse_tochka_event(claims)
    assert event.account_number == OUR_ACCOUNT
    operation = event.operation
    assert operation.bank_operation_id == "p-1"
    assert operation.amount == Decimal("40.00") and operation.currency == "RUB"
    assert operation.date == dt.date(2018, 10, 1)
    assert (operation.counterparty_inn, operation.counterparty_account) == ("7707083893", PAYER_ACCOUNT)


def test_tochka_event_matches_the_statement_line(keys, key_pair):
    """Same id and fallback key as the statement's Transaction for the same payment."""
    statement = TochkaStatement.model_validate(
        {
            "accountId": f"{OUR_ACCOUNT}/044525104",
            "status": "Ready",
            "Transaction": [
                {
                    "transactionId": "p-1",
                    "paymentId": "p-1",
                    "creditDebitIndicator": "Credit",
                    "status": "Booked",
                    "documentNumber": "15",
                    "documentProcessDate": "2018-10-01",
                    "description": "Оплата по счету № 77",
                    "Amount": {"amount": 40, "currency": "RUB"},
                    "DebtorParty": {"inn": "7707083893", "name": "ООО «Ромашка»", "kpp": "770701001"},
                    "DebtorAccount": {"identification": PAYER_ACCOUNT},
                    "DebtorAgent": {"identification": "044525225", "name": "ПАО Сбербанк"},
                }
            ],
        }
    )
    [synced] = tochka_to_operations(statement)
    event = parse_tochka_event(verify_tochka_jwt(_sign(_incoming_payment(), key_pair), keys))
    assert event.operation.bank_operation_id == synced.bank_operation_id
    assert event.operation.fallback_key == synced.fallback_key
    assert event.operation.amount == synced.amount


def test_tochka_forged_signature(keys, other_key):
    with pytest.raises(WebhookForged):
        verify_tochka_jwt(_sign(_incoming_payment(), other_key), keys)


def test_tochka_tampered_payload(keys, key_pair):
    header, payload, signature = _sign(_incoming_payment(), key_pair).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["SideRecipient"]["amount"] = "4000000.0"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(WebhookForged):
        verify_tochka_jwt(f"{header}.{forged}.{signature}", keys)


def test_tochka_alg_none_refused(keys):
    token = jwt.encode(_incoming_payment(), None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(WebhookForged, match="RS256 only"):
        verify_tochka_jwt(token, keys)


def test_tochka_hs256_with_the_public_key_refused(keys, key_pair):
    """The classic confusion attack: HMAC keyed with the published public key."""
    public_pem = key_pair.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(_incoming_payment()).encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest()).rstrip(
        b"="
    )
    with pytest.raises(WebhookForged, match="RS256 only"):
        verify_tochka_jwt(b".".join((header, body, signature)), keys)


def test_tochka_expired(keys, key_pair):
    token = _sign(_incoming_payment(exp=int(time.time()) - 3600), key_pair)
    with pytest.raises(WebhookForged, match="expired"):
        verify_tochka_jwt(token, keys)
    # a token with a future exp passes
    verify_tochka_jwt(_sign(_incoming_payment(exp=int(time.time()) + 3600), key_pair), keys)


def test_tochka_wrong_kid(keys, key_pair):
    with pytest.raises(WebhookForged, match="key id"):
        verify_tochka_jwt(_sign(_incoming_payment(), key_pair, kid="unknown"), keys)


def test_tochka_not_a_jwt(keys):
    for body in ("", "hello", "a.b.c", '{"webhookType": "incomingPayment"}'):
        with pytest.raises(WebhookForged):
            verify_tochka_jwt(body, keys)


def test_jwks_cached_and_refetched_on_rotation(key_pair, other_key):
    fetched = []
    documents = [{"keys": [_jwk(key_pair)]}, {"keys": [_jwk(key_pair), _jwk(other_key, "k2")]}]
    now = [1000.0]

    def fetch(url):
        fetched.append(url)
        return documents[min(len(fetched) - 1, 1)]

    cache = JwksCache(JWKS_URL, fetch=fetch, clock=lambda: now[0], min_refetch=60)
    for _ in range(3):
        verify_tochka_jwt(_sign(_incoming_payment(), key_pair), cache)
    assert len(fetched) == 1, "one fetch for many tokens"
    with pytest.raises(WebhookForged):  # within min_refetch: an unknown kid does not refetch
        verify_tochka_jwt(_sign(_incoming_payment(), other_key, kid="k2"), cache)
    now[0] += 61
    verify_tochka_jwt(_sign(_incoming_payment(), other_key, kid="k2"), cache)
    assert len(fetched) == 2, "a rotated key is picked up"


def test_single_jwk_without_kid(key_pair):
    """Tochka publishes one JWK (not a set); a token without kid takes it."""
    jwk = json.loads(RSAAlgorithm.to_jwk(key_pair.public_key()))
    cache = JwksCache(JWKS_URL, fetch=lambda url: jwk)
    claims = verify_tochka_jwt(_sign(_incoming_payment(), key_pair, kid=None), cache)
    assert claims["paymentId"] == "p-1"


def test_keys_unreachable(key_pair):
    def fetch(url):
        raise ValueError("connection refused")

    with pytest.raises(WebhookKeysUnavailable):
        verify_tochka_jwt(_sign(_incoming_payment(), key_pair), JwksCache(JWKS_URL, fetch=fetch))


def test_tochka_sbp_and_acquiring_are_notices():
    sbp = parse_tochka_event(
        {
            "webhookType": "incomingSbpPayment",
            "operationId": "op-9",
            "qrcId": "AS1000670LSS7DN18SJQDNP4B05KLJL2",
            "amount": "0.33",
            "payerName": "Иван И.",
            "customerCode": "300000092",
            "purpose": "Оплата",
            "refTransactionId": "r-1",
        }
    )
    assert sbp.operation is None and sbp.notice.amount == Decimal("0.33")
    acquiring = parse_tochka_event(
        {
            "webhookType": "acquiringInternetPayment",
            "operationId": "u-1",
            "amount": "100",
            "status": "APPROVED",
            "customerCode": "300000092",
        }
    )
    assert acquiring.notice.operation_id == "u-1" and acquiring.dedupe_id == "u-1:APPROVED"


@pytest.mark.parametrize(
    "claims",
    [
        {"webhookType": "outgoingPayment"},
        {},
        _incoming_payment(SidePayer="x"),
        _incoming_payment(paymentId=None),
        _incoming_payment(SideRecipient={"account": OUR_ACCOUNT, "amount": "abc"}),
        _incoming_payment(SideRecipient={"account": OUR_ACCOUNT, "amount": "-5"}),
        _incoming_payment(SideRecipient={"account": OUR_ACCOUNT, "amount": "1.001"}),
        _incoming_payment(date="yesterday"),
        _incoming_payment(date=None),
    ],
)
def test_tochka_unexpected(claims):
    with pytest.raises(WebhookUnexpected):
        parse_tochka_event(claims)
