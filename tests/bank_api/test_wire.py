"""Helpers of `bank_api.wire` shared by every bank client."""

from bank_api.wire import scrub_secrets


def test_scrub_secrets():
    assert scrub_secrets("token abcdef, password Pw-123456", "abcdef", "Pw-123456") == "token ***, password ***"
    assert scrub_secrets(12345678, "2345") == "12345678"  # a short secret is not searched for
    assert scrub_secrets("no secret", None, "") == "no secret"
    assert scrub_secrets(None, "abcdef") is None
