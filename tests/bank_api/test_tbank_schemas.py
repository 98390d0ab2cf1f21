"""T-Bank acquiring pydantic models (docs/banks.md §1.3, §1.4, §1.7)."""

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from tbank_api import (
    CancelResponse,
    GetStateResponse,
    InitRequest,
    InitResponse,
    Receipt,
    ReceiptItem,
)

MSK = timezone(timedelta(hours=3))


def item(amount=10000, quantity=1, **extra):
    return ReceiptItem(name="Подарочная карта", price=amount, quantity=quantity, amount=amount, tax="vat20", **extra)


def test_receipt_item_aliases_and_quantity_numbers():
    line = ReceiptItem.model_validate(
        {
            "Name": "Сыр",
            "Price": 50000,
            "Quantity": "1.5",
            "Amount": 75000,
            "Tax": "vat10",
            "PaymentMethod": "full_payment",
            "PaymentObject": "commodity",
            "Ean13": "0123",
        }
    )
    assert line.quantity == Decimal("1.5")
    payload = line.to_payload()
    assert payload["Quantity"] == 1.5 and payload["Price"] == 50000
    assert payload["Ean13"] == "0123"  # extra fields pass through
    assert item(quantity=Decimal("2")).to_payload()["Quantity"] == 2
    assert isinstance(item(quantity=Decimal("2.000")).to_payload()["Quantity"], int)
    assert json.dumps(line.to_payload(), ensure_ascii=False)  # JSON-ready


@pytest.mark.parametrize("bad", [100.5, "10.5", True, None, -1])
def test_amounts_refuse_fractions_and_non_numbers(bad):
    with pytest.raises(ValueError):
        ReceiptItem(name="x", price=bad, quantity=1, amount=100, tax="none")


def test_receipt_needs_contact_and_items():
    with pytest.raises(ValueError, match="Email or Phone"):
        Receipt(items=[item()], taxation="osn")
    with pytest.raises(ValueError):
        Receipt(items=[], taxation="osn", email="a@b.ru")
    receipt = Receipt(items=[item(10000), item(2500)], taxation="usn_income", phone="+79990000000", ffd_version="1.2")
    assert receipt.total == 12500
    payload = receipt.to_payload()
    assert payload["Taxation"] == "usn_income" and payload["FfdVersion"] == "1.2"
    assert "Email" not in payload


def test_init_request_payload_and_checks():
    receipt = Receipt(items=[item(15000), item(4200)], taxation="osn", email="a@b.ru")
    due = datetime(2016, 8, 31, 12, 28, 0, 123456, tzinfo=MSK)
    request = InitRequest(
        amount=19200,
        order_id="21090",
        description="Описание",
        pay_type="T",
        redirect_due_date=due,
        receipt=receipt,
        data={"Phone": "+7999"},
    )
    payload = request.to_payload()
    assert payload["Amount"] == 19200
    assert payload["OrderId"] == "21090"
    assert payload["PayType"] == "T"
    assert payload["RedirectDueDate"] == "2016-08-31T12:28:00+03:00"
    assert payload["DATA"] == {"Phone": "+7999"}
    assert payload["Receipt"]["Items"][0]["Amount"] == 15000
    assert "SuccessURL" not in payload  # unset fields are not sent

    # Receipt total must equal Amount (local twin of ErrorCode 308)
    with pytest.raises(ValueError, match="308"):
        InitRequest(amount=19201, order_id="1", receipt=receipt)
    with pytest.raises(ValueError, match="timezone"):
        InitRequest(amount=100, order_id="1", redirect_due_date=datetime(2030, 1, 1))
    with pytest.raises(ValueError):
        InitRequest(amount=100.5, order_id="1")
    with pytest.raises(ValueError):
        InitRequest(amount=100, order_id="x" * 37)
    with pytest.raises(ValueError):
        InitRequest(amount=100, order_id="1", pay_type="X")
    with pytest.raises(ValueError):
        InitRequest(amount=100, order_id="1", unknown_field=1)


def test_redirect_due_date_keeps_utc_offset():
    due = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert (
        InitRequest(amount=1, order_id="1", redirect_due_date=due).to_payload()["RedirectDueDate"]
        == "2030-01-02T03:04:05+00:00"
    )


@pytest.mark.parametrize("payment_id", [13660, "13660", " 13660 ", 13660.0, Decimal("13660"), Decimal("13660.00")])
def test_payment_id_is_always_text(payment_id):
    answer = InitResponse.model_validate(
        {
            "Success": True,
            "ErrorCode": "0",
            "Status": "NEW",
            "PaymentId": payment_id,
            "Amount": 100,
            "OrderId": "1",
            "PaymentURL": "https://pay/x",
        }
    )
    assert answer.payment_id == "13660"


@pytest.mark.parametrize("payment_id", [True, 13660.5, Decimal("13660.5"), Decimal("NaN"), "  ", None, [1]])
def test_payment_id_refuses_what_is_no_identifier(payment_id):
    with pytest.raises(ValueError, match="identifier"):
        GetStateResponse.model_validate({"Success": True, "Status": "NEW", "PaymentId": payment_id})


def test_response_by_alias_or_name_and_extras_kept():
    answer = CancelResponse(success=True, status="PARTIAL_REFUNDED", payment_id=5, original_amount=1000, new_amount=400)
    assert answer.new_amount == 400 and answer.payment_id == "5"
    parsed = CancelResponse.model_validate(
        {
            "Success": True,
            "Status": "REFUNDED",
            "PaymentId": "5",
            "OriginalAmount": 1000,
            "NewAmount": 0,
            "ErrorCode": 0,
            "SomethingNew": "kept",
        }
    )
    assert parsed.error_code == "0"
    assert parsed.model_extra == {"SomethingNew": "kept"}
