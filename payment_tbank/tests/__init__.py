from . import test_tbank_payment
from . import test_tbank_webhook
