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
