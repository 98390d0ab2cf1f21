from . import test_account_dashboard
from . import test_account_menu_access
from . import test_add_account_wizard
from . import test_auto_invoice_rule
from . import test_bank_matching
from . import test_bank_sync
from . import test_invoice_builder
from . import test_invoice_tour
from . import test_invoice_wizard
from . import test_onec_statements
from . import test_pay_page
from . import test_pay_page_lang
from . import test_shop_api
from . import test_statement_check
from . import test_tbank_provider
from . import test_tbank_webhook
from . import test_translations
from . import test_expense_categories
from . import test_statement_wizard
from . import test_money_rights
from . import test_payment_orders
from . import test_payment_approval_tour
from . import test_odoo_compat
from . import test_security_visibility
from . import test_security_money_paths
from . import test_public_endpoints
from . import test_tbank_notification_origin
from . import test_neutralize
from . import test_tbank_roubles_only
from . import test_security_balance_search
from . import test_security_user_code
from . import test_receipt_vat
from . import test_security_sudo_routes
from . import test_bank_sync_schedule
from . import test_russian_documents
from . import test_bank_sync_crash
from . import test_booking
from . import test_bank_webhooks_business
from . import test_russian_tour
from . import test_tracking_lang

# onboarding in 90 seconds (issue #18 §4)
from . import test_onboarding_tour
from . import test_settings_bounds

# long work as background jobs (issue #18 §4)
from . import test_onec_import_job

# layout that reads like the model (issue #14 §4)
from . import test_notification_action

# one place per bank: the adapters (issue #14 §1)
from . import test_bank_adapters
