from . import test_account_dashboard
from . import test_account_menu_access
from . import test_invoice_builder
from . import test_shop_api
from . import test_tbank_provider
from . import test_tbank_webhook
from . import test_translations
