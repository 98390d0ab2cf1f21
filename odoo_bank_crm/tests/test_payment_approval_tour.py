from odoo.tests import HttpCase, tagged

from .test_payment_orders import PaymentOrdersCommon


@tagged('post_install', '-at_install')
class TestPaymentApprovalTour(HttpCase, PaymentOrdersCommon):
    """In a real browser: an Account Director approves a manager's payment that is above
    the manager's largest single payment."""

    def test_director_approves_a_payment(self):
        self.supplier.name = "ООО «Поставщик тура»"
        payment = self._payment(120000)
        payment.action_submit()
        self.assertEqual(payment.state, 'to_approve')
        self.start_tour('/odoo', 'odoo_bank_crm_payment_approval', login='bank_crm_director')
        self.assertEqual(payment.state, 'approved')
        self.assertEqual(payment.approved_by_id, self.director)
        self.assertTrue(any("Approved by" in body for body in payment.message_ids.mapped("body")))
