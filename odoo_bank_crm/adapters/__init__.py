"""One adapter per bank: the one place where the banks differ on the Odoo side
(docs/architecture.md "Where each bank lives"). A bank is registered by importing its
adapter module here."""

from .base import BankAdapter, OutgoingPayment, PaymentState, PaymentStatus, SentPayment, StatementPage
from .registry import ADAPTERS, adapter_for, provider_selection, register

# the registered banks, in the order the selections show them
from . import tbank_business
from . import tochka

__all__ = [
    'ADAPTERS',
    'BankAdapter',
    'OutgoingPayment',
    'PaymentState',
    'PaymentStatus',
    'SentPayment',
    'StatementPage',
    'adapter_for',
    'provider_selection',
    'register',
]
