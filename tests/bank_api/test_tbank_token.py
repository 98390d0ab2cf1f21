"""T-Bank Token, docs/banks.md §1.6 and the public vectors of §7."""

import hashlib

import pytest

from tbank_api import compute_token, verify_token


def sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_vector_1_init_with_cyrillic_description():
    params = {
        "TerminalKey": "MerchantTerminalKey",
        "Amount": 19200,
        "OrderId": "21090",
        "Description": "Подарочная карта на 1000 рублей",
    }
    assert compute_token(params, "usaf8fw8fsw21g") == "0024a00af7c350a3a67ca168ce06502aa72772456662e38696d48b56ee9c97d9"


def test_vector_2_nested_data_and_receipt_ignored():
    params = {
        "TerminalKey": "TinkoffBankTest",
        "Amount": 100000,
        "OrderId": "TokenExample",
        "Description": "test",
        "DATA": {"Phone": "+71234567890", "Email": "a@test.com"},
        "Receipt": {
            "Email": "a@test.ru",
            "Taxation": "osn",
            "Items": [
                {"Name": "Наименование товара 1", "Price": 10000, "Quantity": 1.00, "Amount": 10000, "Tax": "vat10"}
            ],
        },
    }
    assert compute_token(params, "123456") == "597c160c8c348fb14c63c820c54b712468923a74fd111ac6b0ecda01fb5f4716"


def test_vector_3_integer_order_id():
    params = {"TerminalKey": "TinkoffBankTest", "Amount": 100000, "OrderId": 100500, "Description": "test"}
    assert compute_token(params, "123456") == "2f182d493f0488bde0750d1bdb8b1de3a10bbe0a38358a89c8ea93972a55f453"


def test_booleans_are_lowercase_words():
    params = {"TerminalKey": "T", "Success": True, "IsRejected": False}
    # sorted keys: IsRejected, Password, Success, TerminalKey
    assert compute_token(params, "pw") == sha("falsepwtrueT")


def test_integral_numbers_have_no_decimals():
    assert compute_token({"Amount": 19200}, "pw") == sha("19200pw")
    assert compute_token({"Amount": 19200.0}, "pw") == sha("19200pw")


def test_nested_objects_arrays_token_and_none_left_out():
    params = {
        "TerminalKey": "T",
        "PaymentId": "42",
        "Token": "whatever",
        "Receipt": {"Items": []},
        "Shops": [{"ShopCode": "1"}],
        "DATA": {"a": "b"},
        "Description": None,
    }
    assert compute_token(params, "pw") == sha("pw42T")


def test_keys_sorted_by_code_point():
    # "PayType" < "PaymentId" because "T" < "m"
    assert compute_token({"PaymentId": "1", "PayType": "O"}, "pw") == sha("pwO1")


def test_unsignable_value_is_refused():
    with pytest.raises(TypeError):
        compute_token({"When": object()}, "pw")


def test_verify_token_true_false_tampered():
    payload = {
        "TerminalKey": "TinkoffBankTest",
        "Amount": 100000,
        "OrderId": "21050",
        "Success": True,
        "Status": "CONFIRMED",
        "PaymentId": 13660,
    }
    payload["Token"] = compute_token(payload, "secret-pw")
    assert verify_token(payload, "secret-pw") is True
    assert verify_token(payload, "other-pw") is False
    assert verify_token({**payload, "Amount": 100001}, "secret-pw") is False
    assert verify_token({**payload, "Success": False}, "secret-pw") is False
    assert verify_token({**payload, "Extra": "x"}, "secret-pw") is False  # new root scalar
    assert verify_token({**payload, "DATA": {"x": 1}}, "secret-pw") is True  # nested: unsigned
    assert verify_token({**payload, "Token": payload["Token"].upper()}, "secret-pw") is True


@pytest.mark.parametrize("token", [None, "", 123, "ä" * 64, "0" * 64])
def test_verify_token_missing_or_garbage(token):
    payload = {"TerminalKey": "T", "Amount": 1}
    if token is not None:
        payload["Token"] = token
    assert verify_token(payload, "pw") is False


def test_verify_token_non_dict():
    assert verify_token(["Token"], "pw") is False
