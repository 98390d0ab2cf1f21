"""T-Bank acquiring's vocabulary as data: the bank's statuses mapped onto Odoo's
transaction states, currencies, payment methods, VAT codes of the fiscal receipt.
Behaviour reads these tables (as payment_stripe's const.py does)."""

from .tbank_api.const import PRODUCTION_URL as TBANK_PRODUCTION_URL  # noqa: F401
from .tbank_api.const import REFUND_STATUSES  # noqa: F401

# docs/banks.md §1.5. Odoo transaction state → T-Bank statuses that lead to it.
# Refund statuses (REFUND_STATUSES, above: money returned to the customer) are handled
# apart, after these: REVERSED, the full cancel of a payment only authorised, is a refund
# status too, but for Odoo it cancels the transaction (no money was captured).
STATUS_MAPPING = {
    'pending': ('NEW', 'FORM_SHOWED', 'AUTHORIZING', 'PAY_CHECKING', '3DS_CHECKING', '3DS_CHECKED', 'CONFIRMING'),
    'authorized': ('AUTHORIZED',),
    'done': ('CONFIRMED',),
    'cancel': ('CANCELED', 'DEADLINE_EXPIRED', 'ATTEMPTS_EXPIRED', 'REVERSED'),
    'error': ('REJECTED', 'AUTH_FAIL'),
}

# Acquiring in Russia is in roubles.
SUPPORTED_CURRENCIES = ('RUB',)

# Payment methods activated with the provider (Odoo code → T-Bank's name for it).
DEFAULT_PAYMENT_METHOD_CODES = {'card', 'sbp'}

# 54-FZ receipt (docs/banks.md §1.3, docs/vat-and-receipts.md).
# When the customer gets what they pay for, as the provider is set up: the receipt
# items' PaymentMethod.
RECEIPT_PAYMENT_METHODS = [
    ('full_payment', "Full payment: goods and services are handed over when paid"),
    ('full_prepayment', "Full prepayment: goods and services are delivered after payment"),
]
# The provider's setting → the PaymentMethod of (the invoice lines, the single line of an
# amount that is not itemised: a part of the invoices, or no invoice). An unitemised
# amount paid in advance is an advance (PaymentObject 'payment').
RECEIPT_LINE_PAYMENT_METHODS = {
    'full_payment': ('full_payment', 'full_payment'),
    'full_prepayment': ('full_prepayment', 'advance'),
}
# PaymentMethods of money received before delivery: their VAT is the calculated rate.
RECEIPT_PREPAYMENT_METHODS = frozenset({'full_prepayment', 'prepayment', 'advance'})
# VAT rate of an Odoo tax (percent) → T-Bank `Tax` code:
#   (paid for what is handed over, paid in advance: the calculated rate rate/(100 + rate)).
# A 0 % tax is sent as 'none': an Odoo tax does not tell 0 % (vat0) from "without VAT".
RECEIPT_VAT_CODES = {
    5: ('vat5', 'vat105'),  # simplified regime (USN) with VAT
    7: ('vat7', 'vat107'),  # simplified regime (USN) with VAT
    10: ('vat10', 'vat110'),
    20: ('vat20', 'vat120'),  # shipments made before 2026 only
    22: ('vat22', 'vat122'),  # the standard rate since 1 January 2026 (Federal Law 425-FZ)
}
RECEIPT_NO_VAT = 'none'
RECEIPT_TAXATION_SYSTEMS = [
    ('osn', "General (OSN)"),
    ('usn_income', "Simplified, income (USN 6%)"),
    ('usn_income_outcome', "Simplified, income minus expenses (USN 15%)"),
    ('esn', "Unified agricultural tax (ESHN)"),
    ('patent', "Patent"),
]

# Seconds to wait for the bank's answer.
TBANK_TIMEOUT = 30
# T-Bank's public test terminal, published in its documentation (docs/banks.md §1.1): anyone
# can sign notifications with it.
TBANK_PUBLIC_TEST_TERMINAL_KEY = 'TinkoffBankTest'
TBANK_PUBLIC_TEST_PASSWORD = 'TinkoffBankTest'
