"""The registry of bank adapters: the one list of banks on the Odoo side. The provider
selections (`bank.connection`, webhook events, the Add Account wizard) and every flow
read it."""

ADAPTERS = {}


def register(adapter_class):
    """Class decorator: register one instance of a `BankAdapter` under its code."""
    if not adapter_class.code or adapter_class.code in ADAPTERS:
        raise ValueError(f"bank adapter {adapter_class.__name__}: its code is empty or taken")
    ADAPTERS[adapter_class.code] = adapter_class()
    return adapter_class


def adapter_for(code):
    return ADAPTERS[code]


def provider_selection():
    """The banks as (code, label) pairs, in registration order: a selection's values."""
    return [(adapter.code, adapter.label) for adapter in ADAPTERS.values()]


__all__ = ['ADAPTERS', 'adapter_for', 'provider_selection', 'register']
