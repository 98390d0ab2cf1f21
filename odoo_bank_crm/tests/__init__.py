from . import test_account_dashboard
from . import test_account_menu_access
from . import test_translations
