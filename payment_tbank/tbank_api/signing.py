"""Request and notification signature (docs/banks.md §1.6 Token, §1.7 Notifications)."""

import hashlib
import hmac
from decimal import Decimal

__all__ = ["compute_token", "verify_token"]

TOKEN_FIELD = "Token"
PASSWORD_FIELD = "Password"


def _token_value(key, value):
    """Render one root-level scalar the way the bank does (§1.6): booleans as
    ``true``/``false``, integral numbers without decimals, strings as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    # Amounts are integer kopecks; a number read back as 19200.0 must still sign as
    # "19200". Other numbers keep their shortest exact text.
    if isinstance(value, float) and value == value:  # not NaN
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal) and value.is_finite():
        return str(int(value)) if value == value.to_integral_value() else str(value)
    raise TypeError(f"cannot sign field {key!r} of type {type(value).__name__}")


def compute_token(params: dict, password: str) -> str:
    """T-Bank request signature, docs/banks.md §1.6 Token.

    Take the root-level scalar parameters of ``params`` (nested objects and arrays such
    as ``Receipt``, ``DATA``, ``Shops`` are left out; ``Token`` itself and ``None`` values
    are skipped), add ``Password``, sort by key, concatenate the values only, and return
    the lower-case SHA-256 hex digest of the UTF-8 bytes.
    """
    pairs = {PASSWORD_FIELD: password}
    for key, value in params.items():
        if key == TOKEN_FIELD or value is None or isinstance(value, (dict, list, tuple)):
            continue
        pairs[key] = _token_value(key, value)
    joined = "".join(pairs[key] for key in sorted(pairs))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def verify_token(payload: dict, password: str) -> bool:
    """True if ``payload["Token"]`` is the signature of ``payload`` under ``password``
    (docs/banks.md §1.7: same algorithm, all root scalars but Token). Constant-time
    comparison; a missing, non-text or malformed token is simply False."""
    received = payload.get(TOKEN_FIELD) if isinstance(payload, dict) else None
    if not isinstance(received, str):
        return False
    try:
        expected = compute_token(payload, password)
    except TypeError:
        return False
    return hmac.compare_digest(expected.encode("ascii"), received.lower().encode("utf-8"))
