from . import main
from . import pay_page
from . import shop_api
from . import bank_webhooks
