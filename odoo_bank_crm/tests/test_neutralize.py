from odoo.modules import neutralize
from odoo.tests import tagged

from .tbank_common import TBankCommon


@tagged('post_install', '-at_install')
class TestNeutralize(TBankCommon):
    """Issue #13 item 15: a copied database (Odoo's `neutralize`) takes no payment, calls no
    bank and keeps no credential of the addon."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tbank.state = 'enabled'
        cls.test_terminal = cls.tbank.copy({'name': "T-Bank (test)"})
        cls.test_terminal.write(
            {'tbank_terminal_key': 'ShopTestDEMO', 'tbank_password': 'ShopTestPassword', 'state': 'test'}
        )
        cls.connection = cls.env['bank.connection'].create(
            {
                'name': "T-Bank Business",
                'provider_code': 'tbank_business',
                'api_url': 'http://localhost:8999/tbank_business',
                'api_token': 'live-secret-token',
                'state': 'connected',
            }
        )
        cls.crons = (
            cls.env['ir.cron']
            .with_context(active_test=False)
            .search(
                [
                    (
                        'id',
                        'in',
                        cls.env['ir.model.data']
                        .search([('module', '=', 'odoo_bank_crm'), ('model', '=', 'ir.cron')])
                        .mapped('res_id'),
                    )
                ]
            )
        )
        cls.crons.active = True

    def _assert_neutralized(self):
        self.env.invalidate_all()
        providers = self.tbank + self.test_terminal
        self.assertEqual(set(providers.mapped('state')), {'disabled'}, "test terminals too")
        self.assertEqual(providers.mapped('tbank_terminal_key'), [False, False])
        self.assertEqual(providers.mapped('tbank_password'), [False, False])
        self.assertEqual((self.connection.state, self.connection.api_token), ('draft', False))
        self.assertGreaterEqual(len(self.crons), 5)
        self.assertFalse(any(self.crons.mapped('active')), self.crons.filtered('active').mapped('name'))
        for xmlid in ('cron_bank_sync', 'cron_tbank_check_pending', 'cron_bank_crm_follow_payments'):
            self.assertIn(self.env.ref(f'odoo_bank_crm.{xmlid}'), self.crons)

    def test_the_addons_queries_neutralize_its_money_paths(self):
        """The addons' own data/neutralize.sql (payment_tbank's: the terminals; odoo_bank_crm's:
        connections and jobs), found and run as Odoo's neutralize does."""
        queries = list(neutralize.get_neutralization_queries(['payment_tbank', 'odoo_bank_crm']))
        self.assertEqual(len(queries), 2)
        for query in queries:
            self.env.cr.execute(query)
        self._assert_neutralized()

    def test_neutralize_database(self):
        """Odoo's whole neutralization (every installed module's queries), then an administrator
        sets a test terminal up again in the copy."""
        neutralize.neutralize_database(self.env.cr)
        self._assert_neutralized()
        self.test_terminal.write(
            {'tbank_terminal_key': 'StagingDEMO', 'tbank_password': 'StagingPassword', 'state': 'test'}
        )
        self.assertEqual(self.test_terminal._tbank_client().terminal_key, 'StagingDEMO')
