"""Typed errors raised by the T-Bank acquiring client: the hierarchy of odoo_bank_crm's `bank_api/errors.py`,
carried here so that payment_tbank installs without odoo_bank_crm.

Each error tells the caller what to do next through its class and its `retryable`
attribute: retry later (`BankUnavailable`, `BankRateLimited`), fix the configuration
(`BankAuthError`), tell the user why the bank said no (`BankRejected`), or stop and
investigate (`BankProtocolError`). The Odoo side maps these classes to user messages
and retry policy in one place.

Messages are human-readable and never contain secrets (passwords, tokens, request
bodies): they are shown to users and written to logs.
"""


class BankError(Exception):
    """Base class of every error a bank client raises.

    :param message: human-readable text, safe to show and to log (no secrets).
    :param code: the bank's own error code as a string (e.g. T-Bank ``ErrorCode`` "8"),
        or ``None`` when the failure is not a bank answer (timeout, HTTP status...).
    :param details: the bank's longer explanation (T-Bank ``Details``), if any.
    :param http_status: the HTTP status of the answer, if there was one.
    """

    retryable = False

    def __init__(self, message, code=None, details=None, *, http_status=None):
        super().__init__(message)
        self.message = message
        self.code = None if code is None else str(code)
        self.details = details
        self.http_status = http_status

    def __str__(self):
        return self.message

    def __repr__(self):
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class BankAuthError(BankError):
    """The bank does not accept our credentials or terminal (wrong TerminalKey/Password,
    terminal unknown or blocked; T-Bank ErrorCode 202/204/205, HTTP 401/403), or an
    incoming notification carries a bad signature. Retrying will not help: fix settings."""


class BankRateLimited(BankError):
    """The bank asks us to slow down (HTTP 429). ``retry_after`` is the number of seconds
    the bank asked us to wait (from ``Retry-After``), or ``None`` if it did not say."""

    retryable = True

    def __init__(self, message, code=None, details=None, *, http_status=429, retry_after=None):
        super().__init__(message, code, details, http_status=http_status)
        self.retry_after = retry_after


class BankUnavailable(BankError):
    """The bank could not be reached or failed internally (HTTP 5xx, timeout, connection
    error, T-Bank ErrorCode 3/9999). Safe to retry later; for a request that creates
    something (Init) the retry must reuse the same OrderId so the bank can deduplicate."""

    retryable = True


class BankRejected(BankError):
    """A business refusal: the bank understood the request and said no (e.g. T-Bank
    ErrorCode 8 wrong transaction status, 255 payment not found, 308 receipt sum differs,
    3002 not enough balance for the refund). ``code`` and ``message`` carry the bank's
    answer; retrying the same request gives the same answer."""


class BankProtocolError(BankError):
    """The bank answered something we cannot understand (not JSON, not an object,
    required fields missing or of the wrong type). Not retried automatically: the outcome
    of the request is unknown and a human should look."""
