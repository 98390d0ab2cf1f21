from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import const


class ResConfigSettings(models.TransientModel):
    _inherit = 'res.config.settings'

    bank_crm_notify_salesperson = fields.Boolean(related='company_id.bank_crm_notify_salesperson', readonly=False)
    bank_crm_notify_user_ids = fields.Many2many(related='company_id.bank_crm_notify_user_ids', readonly=False)
    bank_crm_paid_stage_id = fields.Many2one(related='company_id.bank_crm_paid_stage_id', readonly=False)
    bank_crm_shop_user_id = fields.Many2one(related='company_id.bank_crm_shop_user_id', readonly=False)
    bank_crm_shop_team_id = fields.Many2one(related='company_id.bank_crm_shop_team_id', readonly=False)
    bank_crm_shop_stage_id = fields.Many2one(related='company_id.bank_crm_shop_stage_id', readonly=False)
    bank_crm_shop_product_id = fields.Many2one(related='company_id.bank_crm_shop_product_id', readonly=False)
    bank_crm_amount_product_id = fields.Many2one(related='company_id.bank_crm_amount_product_id', readonly=False)
    bank_crm_amount_label = fields.Char(related='company_id.bank_crm_amount_label', readonly=False)
    bank_crm_payment_link_kind = fields.Selection(related='company_id.bank_crm_payment_link_kind', readonly=False)
    bank_crm_acquiring_fee_account_id = fields.Many2one(
        related='company_id.bank_crm_acquiring_fee_account_id', readonly=False
    )
    # Bank accounts and sync (docs/sync.md)
    bank_crm_sync_time_budget_seconds = fields.Integer(
        string="Sync Time per Job Run (seconds)",
        config_parameter='odoo_bank_crm.sync_time_budget_seconds',
        default=const.SYNC_TIME_BUDGET_SECONDS,
        help="How long one run of the sync job works before it pauses after its current page and runs again at "
        "once for the rest: a long first sync is never cut by the worker's time limit. Keep it well below "
        "the server's cron time limit.",
    )
    bank_crm_sync_backoff_seconds = fields.Integer(
        string="First Retry After (seconds)",
        config_parameter='odoo_bank_crm.sync_backoff_seconds',
        default=const.SYNC_BACKOFF_SECONDS,
        help="When a bank asks to slow down, fails or does not answer, the sync waits this long before retrying, "
        "then doubles the wait at each retry (or waits as long as the bank asks).",
    )
    bank_crm_tbank_pending_check_minutes = fields.Integer(
        string="Check Unconfirmed Card Payments After (minutes)",
        config_parameter='odoo_bank_crm.tbank_pending_check_minutes',
        default=const.PENDING_CHECK_AFTER_MINUTES,
        help="A T-Bank payment whose notification has not arrived after this long is asked about at the bank "
        "by the scheduled check, so no payment stays unconfirmed.",
    )
    # Russian documents (docs/russian-documents.md)
    bank_crm_kpp = fields.Char(related='company_id.bank_crm_kpp', readonly=False)
    bank_crm_ogrn = fields.Char(related='company_id.bank_crm_ogrn', readonly=False)
    bank_crm_director_name = fields.Char(related='company_id.bank_crm_director_name', readonly=False)
    bank_crm_director_title = fields.Char(related='company_id.bank_crm_director_title', readonly=False)
    bank_crm_accountant_name = fields.Char(related='company_id.bank_crm_accountant_name', readonly=False)
    bank_crm_director_facsimile = fields.Image(related='company_id.bank_crm_director_facsimile', readonly=False)
    bank_crm_accountant_facsimile = fields.Image(related='company_id.bank_crm_accountant_facsimile', readonly=False)
    bank_crm_stamp = fields.Image(related='company_id.bank_crm_stamp', readonly=False)

    @api.constrains(
        'bank_crm_sync_time_budget_seconds', 'bank_crm_sync_backoff_seconds', 'bank_crm_tbank_pending_check_minutes'
    )
    def _check_bank_crm_limits(self):
        limits = (
            ('bank_crm_sync_time_budget_seconds', const.SYNC_TIME_BUDGET_LIMITS),
            ('bank_crm_sync_backoff_seconds', const.SYNC_BACKOFF_LIMITS),
            ('bank_crm_tbank_pending_check_minutes', const.PENDING_CHECK_LIMITS),
        )
        for settings in self:
            for fname, (_default, minimum, maximum) in limits:
                if not minimum <= settings[fname] <= maximum:
                    raise ValidationError(
                        _(
                            "%(setting)s must be between %(minimum)s and %(maximum)s.",
                            setting=self._fields[fname]._description_string(self.env),
                            minimum=minimum,
                            maximum=maximum,
                        )
                    )
