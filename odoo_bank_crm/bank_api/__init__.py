"""Bank API clients for odoo_bank_crm: pure Python (requests + pydantic), no `odoo` import.

Imported as ``odoo.addons.odoo_bank_crm.bank_api`` inside Odoo and as top-level
``bank_api`` in plain pytest, hence relative imports only inside the package.
See docs/architecture.md ("Layers") and docs/banks.md.
"""

from .errors import (
    BankAuthError,
    BankError,
    BankProtocolError,
    BankRateLimited,
    BankRejected,
    BankUnavailable,
)
from .matching import (
    DEFAULT_PAYOUT_RULES,
    Allocation,
    Candidate,
    IncomingLine,
    Matcher,
    MatchResult,
    OpenInvoice,
    PartnerRef,
    PayoutRule,
    extract_fee,
    find_invoice_references,
    find_payout,
    is_acquiring_payout,
)
from .money import from_minor_units, kopecks_to_rubles, rubles_to_kopecks, to_minor_units
from .statement import BANK_TZ, BankAccountInfo, BankOperation, money_places, normalize_currency
from .tbank_acquiring import (
    FAILURE_STATUSES,
    FINAL_STATUSES,
    NOTIFICATION_STATUSES,
    PAYMENT_STATUSES,
    RECEIPT_PAYMENT_METHODS,
    RECEIPT_TAXES,
    REFUND_STATUSES,
    STATUS_RANK,
    SUCCESS_STATUSES,
    CancelResponse,
    ConfirmResponse,
    GetQrResponse,
    GetStateResponse,
    InitRequest,
    InitResponse,
    Receipt,
    ReceiptItem,
    TBankAcquiringClient,
    compute_token,
    is_newer_status,
    status_rank,
    verify_token,
)

__all__ = [
    # errors
    "BankError",
    "BankAuthError",
    "BankRateLimited",
    "BankUnavailable",
    "BankRejected",
    "BankProtocolError",
    # money
    "to_minor_units",
    "from_minor_units",
    "rubles_to_kopecks",
    "kopecks_to_rubles",
    # bank-neutral statement shapes
    "BankOperation",
    "BankAccountInfo",
    "BANK_TZ",
    "normalize_currency",
    "money_places",
    # business APIs (bank models and mappers live in their modules)
    # T-Bank acquiring
    "TBankAcquiringClient",
    "compute_token",
    "verify_token",
    "ReceiptItem",
    "Receipt",
    "InitRequest",
    "InitResponse",
    "GetStateResponse",
    "ConfirmResponse",
    "CancelResponse",
    "GetQrResponse",
    "PAYMENT_STATUSES",
    "RECEIPT_TAXES",
    "RECEIPT_PAYMENT_METHODS",
    "SUCCESS_STATUSES",
    "FAILURE_STATUSES",
    "REFUND_STATUSES",
    "FINAL_STATUSES",
    "NOTIFICATION_STATUSES",
    "STATUS_RANK",
    "status_rank",
    "is_newer_status",
    # matching incoming transfers to open invoices (plain data)
    "Matcher",
    "IncomingLine",
    "OpenInvoice",
    "PartnerRef",
    "MatchResult",
    "Candidate",
    "Allocation",
    "PayoutRule",
    "DEFAULT_PAYOUT_RULES",
    "find_invoice_references",
    "find_payout",
    "is_acquiring_payout",
    "extract_fee",
]
