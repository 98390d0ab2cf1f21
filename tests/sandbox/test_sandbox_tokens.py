"""The sandbox's own token function against the public vectors of docs/banks.md §7."""

import hashlib

import pytest

from bank_sandbox.tokens import check_token, make_token, render_value, token_source

VECTORS = [
    # 1: official spec intro / TK-PHP README
    (
        {
            "TerminalKey": "MerchantTerminalKey",
            "Amount": 19200,
            "OrderId": "21090",
            "Description": "Подарочная карта на 1000 рублей",
        },
        "usaf8fw8fsw21g",
        "19200Подарочная карта на 1000 рублей21090usaf8fw8fsw21gMerchantTerminalKey",
        "0024a00af7c350a3a67ca168ce06502aa72772456662e38696d48b56ee9c97d9",
    ),
    # 2: legacy doc vector, DATA and Receipt ignored
    (
        {
            "TerminalKey": "TinkoffBankTest",
            "Amount": 100000,
            "OrderId": "TokenExample",
            "Description": "test",
            "DATA": {"Phone": "+71234567890", "Email": "a@test.com"},
            "Receipt": {"Email": "a@test.ru", "Taxation": "osn", "Items": [{"Name": "x", "Amount": 100000}]},
        },
        "123456",
        "100000testTokenExample123456TinkoffBankTest",
        "597c160c8c348fb14c63c820c54b712468923a74fd111ac6b0ecda01fb5f4716",
    ),
    # 3: same with an integer OrderId
    (
        {"TerminalKey": "TinkoffBankTest", "Amount": 100000, "OrderId": 100500, "Description": "test"},
        "123456",
        "100000test100500123456TinkoffBankTest",
        "2f182d493f0488bde0750d1bdb8b1de3a10bbe0a38358a89c8ea93972a55f453",
    ),
]


@pytest.mark.parametrize("params,password,source,token", VECTORS, ids=["vector1", "vector2", "vector3"])
def test_public_vectors(params, password, source, token):
    assert token_source(params, password) == source
    assert make_token(params, password) == token
    assert check_token({**params, "Token": token}, password)
    assert not check_token({**params, "Token": token}, password + "x")


def test_token_itself_nested_and_null_values_are_excluded():
    params = {
        "TerminalKey": "T",
        "Amount": 1,
        "Token": "whatever",
        "Shops": [{"ShopCode": "1"}],
        "DATA": {"a": "b"},
        "Receipt": {"Items": []},
        "CustomerKey": None,
    }
    assert token_source(params, "p") == "1pT"


def test_booleans_and_numbers_render_like_the_bank():
    assert render_value(True) == "true" and render_value(False) == "false"
    assert render_value(19200.0) == "19200" and render_value(1.5) == "1.5" and render_value(7) == "7"
    params = {"TerminalKey": "T", "Success": True, "Amount": 100.0}
    expected = hashlib.sha256(b"100ptrueT").hexdigest()
    assert make_token(params, "p") == expected


def test_check_token_rejects_missing_or_non_string_token():
    assert not check_token({"TerminalKey": "T"}, "p")
    assert not check_token({"TerminalKey": "T", "Token": 5}, "p")
