from odoo import SUPERUSER_ID
from odoo.tests import TransactionCase, tagged


@tagged('post_install', '-at_install')
class TestTrackingLanguage(TransactionCase):
    """Odoo stores a tracked selection's labels as text in the writer's language: the changes
    the addon's jobs and the banks' requests make are written in the company's language, so a
    Russian company's chatter does not read "Not Invoiced → Unpaid" (issue #18 §1)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env['res.lang']._activate_lang('ru_RU')
        cls.env['ir.module.module']._load_module_terms(['odoo_bank_crm'], ['ru_RU'], overwrite=True)
        cls.company = cls.env.company
        cls.company.partner_id.lang = 'ru_RU'
        cls.lead = cls.env['crm.lead'].create({'name': "Поставка", 'type': 'opportunity'})
        cls.env.flush_all()
        cls.env.cr.precommit.run()

    def _labels(self, lang):
        field = self.env['crm.lead']._fields['bank_crm_payment_state']
        return dict(field._description_selection(self.env(context={'lang': lang})))

    def _tracked(self, env):
        """The payment state's change as the chatter stores it, written in `env`."""
        self.lead.with_env(env).write({'bank_crm_payment_state': 'unpaid'})
        env.flush_all()
        env.cr.precommit.run()
        value = self.lead.message_ids.tracking_value_ids.filtered(lambda v: v.field_id.name == 'bank_crm_payment_state')
        self.assertEqual(len(value), 1)
        return value.old_value_char, value.new_value_char

    def test_a_job_writes_in_the_company_language(self):
        russian = self._labels('ru_RU')
        self.assertNotEqual(russian['unpaid'], self._labels('en_US')['unpaid'], "ru.po translates the states")
        job = self.env(user=SUPERUSER_ID, context={}, su=True)  # as ir.cron runs a job: no language
        self.assertEqual(self._tracked(job), (russian['not_invoiced'], russian['unpaid']))

    def test_a_bank_request_writes_in_the_company_language(self):
        russian = self._labels('ru_RU')
        bank = self.env(user=self.env.ref('base.public_user'), context={'lang': 'en_US'}, su=True)
        self.assertEqual(self._tracked(bank), (russian['not_invoiced'], russian['unpaid']))

    def test_a_person_writes_in_their_language(self):
        english = self._labels('en_US')
        person = self.env(user=self.env.ref('base.user_admin'), context={'lang': 'en_US'}, su=True)
        self.assertEqual(self._tracked(person), (english['not_invoiced'], english['unpaid']))

    def test_a_company_without_a_language_keeps_odoo_rule(self):
        self.company.partner_id.lang = False
        english = self._labels('en_US')
        job = self.env(user=SUPERUSER_ID, context={}, su=True)
        self.assertEqual(self._tracked(job), (english['not_invoiced'], english['unpaid']))

    def test_code_that_knows_its_readers_language_chooses_it(self):
        english = self._labels('en_US')
        job = self.env(user=SUPERUSER_ID, context={'bank_crm_tracking_lang': 'en_US'}, su=True)
        self.assertEqual(self._tracked(job), (english['not_invoiced'], english['unpaid']))

    def test_demo_deals_chatter_is_russian(self):
        """The demo's paid deal (invoiced and paid at install, by the superuser) reads Russian."""
        deal = self.env.ref('odoo_bank_crm.crm_lead_romashka_equipment')
        values = deal.message_ids.tracking_value_ids.filtered(lambda v: v.field_id.name == 'bank_crm_payment_state')
        self.assertTrue(values)
        english = set(self._labels('en_US').values())
        self.assertFalse({v for value in values for v in (value.old_value_char, value.new_value_char)} & english)

    def test_payment_order_state_written_by_a_job_is_in_the_company_language(self):
        order = self.env['bank.crm.payment.order'].search([('state', '=', 'draft')], limit=1)
        self.assertTrue(order, "the demo has a draft outgoing payment")
        russian = dict(order._fields['state']._description_selection(self.env(context={'lang': 'ru_RU'})))
        self.assertNotEqual(russian['failed'], "Failed")
        job = self.env(user=SUPERUSER_ID, context={}, su=True)  # the bank's status, fetched by a job
        order.with_env(job)._bank_crm_set_workflow_state({'state': 'failed'})
        job.flush_all()
        job.cr.precommit.run()
        value = order.message_ids.tracking_value_ids.filtered(lambda v: v.field_id.name == 'state')
        self.assertEqual((value.old_value_char, value.new_value_char), (russian['draft'], russian['failed']))

    def test_odoo_own_tracking_written_by_a_job_is_in_the_company_language(self):
        """Odoo's own tracked fields too: an invoice paid by a job (a bank's payment booked by
        the cron) reads «Не оплачено → …» in a Russian company's chatter."""
        partner = self.env['res.partner'].create({'name': "ООО «Ромашка»"})
        invoice = self.env['account.move'].create(
            {
                'move_type': 'out_invoice',
                'partner_id': partner.id,
                'invoice_line_ids': [(0, 0, {'name': "Поставка", 'quantity': 1, 'price_unit': 1000.0, 'tax_ids': []})],
            }
        )
        invoice.action_post()
        self.env.flush_all()
        self.env.cr.precommit.run()
        field = invoice._fields['payment_state']
        russian = dict(field._description_selection(self.env(context={'lang': 'ru_RU'})))
        self.assertNotEqual(russian['not_paid'], dict(field._description_selection(self.env))['not_paid'])
        job = self.env(user=SUPERUSER_ID, context={}, su=True)  # as ir.cron runs a job: no language
        wizard = (
            job['account.payment.register']
            .with_context(active_model='account.move', active_ids=invoice.ids)
            .create({'payment_date': invoice.invoice_date})
        )
        wizard._create_payments()
        job.flush_all()
        job.cr.precommit.run()
        value = invoice.message_ids.tracking_value_ids.filtered(lambda v: v.field_id.name == 'payment_state')
        self.assertEqual(len(value), 1)
        self.assertEqual(value.old_value_char, russian['not_paid'])
        self.assertIn(value.new_value_char, (russian['in_payment'], russian['paid']))
