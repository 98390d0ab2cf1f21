"""What every business bank's account webhooks share (docs/bank-webhooks.md): the
errors a receiver answers by, and a cache of a bank's published public keys (JWKS).
Each bank's own webhooks (its body, its secret or signature) are read in its client
module, beside its statement (docs/banks.md, each bank's webhooks section).

Everything here is pure: a bank's module turns a verified body into the same
`BankOperation` the statement sync produces (so the line an event books is the one the
sync finds later).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
import requests
from jwt.algorithms import RSAAlgorithm

__all__ = [
    "WebhookForged",
    "WebhookUnexpected",
    "WebhookKeysUnavailable",
    "JwksCache",
    "MAX_EVENT_OPERATIONS",
]

#: Largest body accepted for either bank (an operation is a few kilobytes).
MAX_EVENT_OPERATIONS = 100


class WebhookForged(Exception):
    """The request is not from the bank: wrong secret, bad or expired signature, unknown
    key, wrong algorithm. The receiver answers 4xx and books nothing. The message names
    the reason only, never a secret."""


class WebhookKeysUnavailable(Exception):
    """The bank's public keys could not be fetched (and none are cached): the receiver
    answers 503 so that the bank sends the notification again."""


class WebhookUnexpected(ValueError):
    """A genuine (verified) notification the code cannot book: unknown shape or type.
    Stored and flagged for a person, never a 5xx."""


class JwksCache:
    """The bank's public keys by ``kid``, fetched from a JWKS URL and kept for ``ttl``
    seconds. An unknown ``kid`` refetches at most once per ``min_refetch`` seconds (a key
    rotation is picked up at once; a flood of forged kids costs one request a minute).
    The document may be a JWKS (``{"keys": [...]}``) or a single JWK, as Tochka publishes.

    :param fetch: ``url -> JSON object``; defaults to a ``requests`` GET.
    """

    def __init__(
        self,
        url: str,
        *,
        ttl: float = 3600.0,
        min_refetch: float = 60.0,
        timeout: float = 10.0,
        fetch: Callable[[str], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.url = url
        self.ttl, self.min_refetch, self.timeout = ttl, min_refetch, timeout
        self._fetch = fetch or self._http_get
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str | None, Any] = {}
        self._fetched_at: float | None = None

    def _http_get(self, url: str) -> Any:
        response = requests.get(url, timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def _load(self) -> None:
        document = self._fetch(self.url)
        jwks = document.get("keys") if isinstance(document, dict) and "keys" in document else [document]
        keys = {}
        for jwk in jwks if isinstance(jwks, list) else []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA":
                continue
            try:
                keys[jwk.get("kid")] = RSAAlgorithm.from_jwk(jwk)
            except (jwt.InvalidKeyError, ValueError, TypeError, KeyError):
                continue
        self._keys, self._fetched_at = keys, self._clock()

    def key(self, kid: str | None):
        """The public key for ``kid`` (a token without ``kid`` takes the only key).

        :raises WebhookForged: no such key, even after a refetch.
        """
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at > self.ttl
            if stale or (kid not in self._keys and now - self._fetched_at > self.min_refetch):
                try:
                    self._load()
                except (requests.RequestException, ValueError) as error:
                    if not self._keys:
                        raise WebhookKeysUnavailable(
                            f"the bank's public keys could not be read: {type(error).__name__}"
                        ) from None
            if kid in self._keys:
                return self._keys[kid]
            if kid is None and len(self._keys) == 1:
                return next(iter(self._keys.values()))
        raise WebhookForged("the token's key id is not one of the bank's keys")
