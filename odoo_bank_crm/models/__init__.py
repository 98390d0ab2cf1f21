from . import account_bank_statement_line
from . import account_journal
from . import account_move
from . import bank_crm_demo
from . import crm_lead
