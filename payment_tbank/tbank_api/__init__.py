"""T-Bank Internet Acquiring API v2 client (docs/banks.md §1), pure Python: no Odoo import
(imported as `tbank_api` by tests/bank_api, as `odoo.addons.payment_tbank.tbank_api` in Odoo).

- `signing`: the request/notification Token (§1.6);
- `schemas`: request/response bodies as pydantic models (§1.3, §1.4, §1.7);
- `const`: statuses and their order (§1.5), receipt Tax and PaymentMethod codes (§1.3), ErrorCode → error class (§1.8), URLs (§1.1);
- `errors`, `transport`: typed errors and the HTTP plumbing;
- `client`: `TBankAcquiringClient`, every HTTP call through one ``_request``.
"""

from .client import TBankAcquiringClient
from .errors import BankAuthError, BankError, BankProtocolError, BankRateLimited, BankRejected, BankUnavailable
from .const import (
    DEFAULT_TIMEOUT,
    ERROR_CODE_CLASSES,
    FAILURE_STATUSES,
    FINAL_STATUSES,
    NOTIFICATION_STATUSES,
    PAYMENT_STATUSES,
    PRODUCTION_URL,
    RECEIPT_PAYMENT_METHODS,
    RECEIPT_TAXES,
    REFUND_STATUSES,
    STATUS_RANK,
    SUCCESS_STATUSES,
    TEST_URL,
    is_newer_status,
    status_rank,
)
from .schemas import (
    BankId,
    CancelResponse,
    ConfirmResponse,
    GetQrResponse,
    GetStateResponse,
    InitRequest,
    InitResponse,
    Kopecks,
    Receipt,
    ReceiptItem,
    check_receipt_total,
)
from .signing import compute_token, verify_token

__all__ = [
    "TBankAcquiringClient",
    "BankError",
    "BankAuthError",
    "BankProtocolError",
    "BankRateLimited",
    "BankRejected",
    "BankUnavailable",
    "compute_token",
    "verify_token",
    "BankId",
    "Kopecks",
    "ReceiptItem",
    "Receipt",
    "check_receipt_total",
    "InitRequest",
    "InitResponse",
    "GetStateResponse",
    "ConfirmResponse",
    "CancelResponse",
    "GetQrResponse",
    "PRODUCTION_URL",
    "TEST_URL",
    "RECEIPT_TAXES",
    "RECEIPT_PAYMENT_METHODS",
    "DEFAULT_TIMEOUT",
    "STATUS_RANK",
    "PAYMENT_STATUSES",
    "SUCCESS_STATUSES",
    "FAILURE_STATUSES",
    "REFUND_STATUSES",
    "FINAL_STATUSES",
    "NOTIFICATION_STATUSES",
    "ERROR_CODE_CLASSES",
    "status_rank",
    "is_newer_status",
]
