from odoo.exceptions import ValidationError
from odoo.tests import TransactionCase, tagged

from .. import const
from ..models.bank_connection import sleep_before_retry
from ..utils import config_number


@tagged('post_install', '-at_install')
class TestSettingsBounds(TransactionCase):
    """The numbers of Settings → Bank CRM stay within sense: refused with a clear error in
    Settings, and a value edited by hand in the system parameters never stops a job."""

    def test_settings_refuse_numbers_out_of_bounds(self):
        Settings = self.env['res.config.settings']
        for fname, value in (
            ('bank_crm_sync_backoff_seconds', -1),
            ('bank_crm_sync_time_budget_seconds', 100000),
            ('bank_crm_tbank_pending_check_minutes', -5),
        ):
            with self.subTest(fname), self.assertRaisesRegex(ValidationError, "must be between"):
                Settings.create({fname: value})
        Settings.create({'bank_crm_sync_backoff_seconds': 0, 'bank_crm_sync_time_budget_seconds': 30}).execute()
        Parameters = self.env['ir.config_parameter'].sudo()
        self.assertEqual(Parameters.get_param('odoo_bank_crm.sync_time_budget_seconds'), '30')

    def test_parameters_edited_by_hand_are_read_within_bounds(self):
        Parameters = self.env['ir.config_parameter'].sudo()
        key = 'odoo_bank_crm.sync_backoff_seconds'
        for raw, expected in (('-5', 0), ('abc', const.SYNC_BACKOFF_SECONDS), ('1e9', 60), ('3', 3)):
            Parameters.set_param(key, raw)
            self.assertEqual(config_number(self.env, key, *const.SYNC_BACKOFF_LIMITS), expected, raw)
        Parameters.set_param(key, '-5')
        sleep_before_retry(self.env, 1, ValueError("the bank did not answer"))  # no negative sleep
