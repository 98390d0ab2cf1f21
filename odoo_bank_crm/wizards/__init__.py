from . import bank_crm_add_account_wizard
from . import bank_crm_invoice_wizard
from . import bank_crm_onec_wizard
from . import bank_crm_statement_wizard
from . import bank_crm_statement_check_wizard
from . import bank_crm_payment_reject_wizard
from . import account_move_reversal
from . import bank_crm_reconciliation_act_wizard
