"""T-Bank Internet Acquiring vocabulary as data: endpoints, payment statuses and their
order, and the ErrorCode → error-class table. Behaviour reads these tables; nothing else
in the addon should compare status strings or error codes by hand.
"""

from .errors import BankAuthError, BankRejected, BankUnavailable

# docs/banks.md §1.1 Endpoints / environments. DEMO terminals talk to production;
# real terminals are tested against the test server (IP whitelisted by the bank).
PRODUCTION_URL = "https://securepay.tinkoff.ru/v2"
TEST_URL = "https://rest-api-test.tinkoff.ru/v2"
DEFAULT_TIMEOUT = (5, 30)  # (connect, read) seconds

# docs/banks.md §1.5 Payment status model.
# Rank: a larger rank is a later step of the payment's life, so a caller holding
# status A who receives B (notification retries arrive late and out of order, §1.7)
# applies B only if ``status_rank(B) > status_rank(A)``.
#
# Failures (the attempt ended without money moving) rank *below* AUTHORIZED on
# purpose: the two branches never both happen to one PaymentId, and should the bank
# contradict itself we keep the status in which money was held or debited.
# Refund/reversal steps rank above CONFIRMED. Equal ranks never replace each other;
# a repeated PARTIAL_REFUNDED with a new amount is a new event the caller recognises
# by the amount, not by the rank.
STATUS_RANK = {
    "NEW": 0,  # after Init
    "FORM_SHOWED": 10,  # the payment form was opened
    "AUTHORIZING": 20,
    "PAY_CHECKING": 20,  # being processed (SBP)
    "3DS_CHECKING": 30,
    "3DS_CHECKED": 40,
    "REJECTED": 50,  # declined by the bank
    "AUTH_FAIL": 50,  # error or 3DS failed
    "CANCELED": 50,  # cancelled before any money was held
    "DEADLINE_EXPIRED": 50,  # RedirectDueDate passed / 3DS not completed in time
    "ATTEMPTS_EXPIRED": 50,  # SBP: too many form openings
    "AUTHORIZED": 60,  # money held (two-stage): Confirm within 7 days
    "CONFIRMING": 70,
    "CONFIRMED": 80,  # money debited
    "REVERSING": 90,  # cancel of an AUTHORIZED, unconfirmed payment
    "REFUNDING": 90,  # refund of a CONFIRMED payment
    "ASYNC_REFUNDING": 90,  # SBP refund in progress
    "PARTIAL_REVERSED": 100,
    "PARTIAL_REFUNDED": 100,
    "REVERSED": 110,
    "REFUNDED": 110,
}

PAYMENT_STATUSES = frozenset(STATUS_RANK)

# "Successful" = money held or debited (§1.5).
SUCCESS_STATUSES = frozenset({"AUTHORIZED", "CONFIRMED"})
# The attempt ended without the customer's money moving.
FAILURE_STATUSES = frozenset({"REJECTED", "AUTH_FAIL", "CANCELED", "DEADLINE_EXPIRED", "ATTEMPTS_EXPIRED"})
# Money (all or part) went back to the customer.
REFUND_STATUSES = frozenset({"PARTIAL_REVERSED", "REVERSED", "PARTIAL_REFUNDED", "REFUNDED"})
# Nothing will happen to the payment any more.
FINAL_STATUSES = FAILURE_STATUSES | {"REVERSED", "REFUNDED"}
# Statuses the bank sends to NotificationURL (§1.5, last paragraph).
NOTIFICATION_STATUSES = frozenset(
    {
        "AUTHORIZED",
        "CONFIRMED",
        "PARTIAL_REVERSED",
        "REVERSED",
        "CANCELED",
        "PARTIAL_REFUNDED",
        "REFUNDED",
        "REJECTED",
        "DEADLINE_EXPIRED",
    }
)

UNKNOWN_STATUS_RANK = -1


def status_rank(status: str) -> int:
    """Position of ``status`` in the payment's life (see `STATUS_RANK`).
    An unknown status ranks -1: it never replaces a known one (log it and look)."""
    return STATUS_RANK.get(status, UNKNOWN_STATUS_RANK)


def is_newer_status(new: str, current: "str | None") -> bool:
    """True if ``new`` is a later step than ``current`` (``current`` may be ``None``,
    meaning nothing known yet), i.e. the caller should apply it."""
    if current is None:
        return new in STATUS_RANK
    return status_rank(new) > status_rank(current)


# docs/banks.md §1.8 Error codes. Codes not listed here are business refusals
# (`BankRejected`), which is the right default for the ~330 other codes.
ERROR_CODE_CLASSES = {
    "202": BankAuthError,  # terminal blocked
    "204": BankAuthError,  # wrong token: check TerminalKey / password
    "205": BankAuthError,  # terminal not found
    "3": BankUnavailable,  # internal error
    "9999": BankUnavailable,  # internal error
}
DEFAULT_ERROR_CLASS = BankRejected

# docs/banks.md §1.3 Receipt (``Items_FFD_105`` / ``Items_FFD_12``): the item's ``Tax`` codes.
# A rate (vat22: 22 %) is charged on a sale of what the customer gets; a calculated rate
# (vat122: 22/122) on money received before delivery (a prepayment, an advance). vat22 and
# vat122 are T-Bank's codes for the standard rate since 1 January 2026 (Federal Law
# 425-FZ of 28.11.2025); vat20/vat120 stay for shipments made before 2026
# (docs/vat-and-receipts.md).
RECEIPT_TAXES = frozenset(
    {
        "none",
        "vat0",
        "vat5",
        "vat7",
        "vat10",
        "vat20",
        "vat22",
        "vat105",
        "vat107",
        "vat110",
        "vat120",
        "vat122",
    }
)
# The item's ``PaymentMethod`` (FFD tag 1214); the bank's default is full_payment.
RECEIPT_PAYMENT_METHODS = frozenset(
    {"full_prepayment", "prepayment", "advance", "full_payment", "partial_payment", "credit", "credit_payment"}
)
