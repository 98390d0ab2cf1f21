from . import main
from . import shop_api
