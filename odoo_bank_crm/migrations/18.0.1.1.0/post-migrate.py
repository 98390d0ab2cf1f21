from odoo import SUPERUSER_ID, api

from odoo.addons.odoo_bank_crm.upgrade import record_approved_recipients, record_reviewed_templates


def migrate(cr, version):
    if not version:
        return
    record_approved_recipients(cr)
    record_reviewed_templates(api.Environment(cr, SUPERUSER_ID, {}))
