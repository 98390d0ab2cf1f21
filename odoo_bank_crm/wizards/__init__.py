from . import bank_crm_add_account_wizard
