"""T-Bank request/notification signature ("Token"), implemented independently of the addon.

Algorithm (docs/banks.md §1.6): take the root-level *scalar* parameters only (nested
objects and arrays such as ``Receipt``, ``DATA``, ``Shops`` are skipped, so is ``Token``
itself and any ``null``), add ``Password``, sort by key, concatenate the values with no
separator and hash the UTF-8 bytes with SHA-256 (lower-case hex).  Booleans are rendered
``true``/``false`` and integral numbers without decimals.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from collections.abc import Mapping

__all__ = ["render_value", "token_source", "make_token", "check_token"]


def render_value(value: Any) -> str:
    """Render one scalar the way the bank does (JS ``String(value)`` semantics)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _is_scalar(value: Any) -> bool:
    return value is not None and not isinstance(value, (dict, list, tuple))


def token_source(params: Mapping[str, Any], password: str) -> str:
    """The concatenated string that is fed to SHA-256 (handy for debugging)."""
    pairs = {k: v for k, v in params.items() if k != "Token" and _is_scalar(v)}
    pairs["Password"] = password
    return "".join(render_value(pairs[key]) for key in sorted(pairs))


def make_token(params: Mapping[str, Any], password: str) -> str:
    return hashlib.sha256(token_source(params, password).encode("utf-8")).hexdigest()


def check_token(params: Mapping[str, Any], password: str) -> bool:
    """Constant-time comparison of ``params['Token']`` with the expected token."""
    given = params.get("Token")
    if not isinstance(given, str):
        return False
    expected = make_token(params, password)
    return hmac.compare_digest(given.lower().encode("ascii", "replace"), expected.encode("ascii"))
