"""Request bodies of the addon's own HTTP API as pydantic models: pure Python, no `odoo`
import (imported relatively by the controllers; testable without Odoo)."""

from .shop_order import ShopCustomer, ShopOrderItem, ShopOrderRequest

__all__ = ["ShopCustomer", "ShopOrderItem", "ShopOrderRequest"]
