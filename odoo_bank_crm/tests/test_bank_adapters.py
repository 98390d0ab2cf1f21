"""One place per bank (issue #14 §1): the banks are the registered adapters. The provider
selections are built from the registry, the Add Account wizard picks no bank for the
user, and the payment order flow speaks bank-neutral states only: each bank's status
words are its adapter's, never another bank's."""

from odoo.tests import tagged

from ..adapters import ADAPTERS, PaymentState, PaymentStatus, adapter_for, provider_selection
from .test_payment_orders import PaymentOrdersCommon


@tagged('post_install', '-at_install')
class TestBankAdapters(PaymentOrdersCommon):
    def _selection(self, model, field):
        return self.env[model]._fields[field]._description_selection(self.env)

    def test_provider_selections_are_the_registry(self):
        codes = list(ADAPTERS)
        self.assertGreaterEqual(set(codes), {'tbank_business', 'tochka'})
        self.assertEqual([code for code, _label in self._selection('bank.connection', 'provider_code')], codes)
        self.assertEqual(
            [code for code, _label in self._selection('bank.crm.add.account.wizard', 'kind')], codes + ['cash']
        )
        event_codes = [code for code, _label in self._selection('bank.webhook.event', 'provider_code')]
        self.assertLessEqual(set(codes), set(event_codes))
        # the keys stored in the database are the codes they always were
        self.assertEqual(
            set(
                self.env['ir.model.fields.selection']
                .search([('field_id.model', '=', 'bank.connection'), ('field_id.name', '=', 'provider_code')])
                .mapped('value')
            ),
            set(codes),
        )
        self.assertEqual(dict(provider_selection())['tochka'], "Tochka")

    def test_add_account_picks_no_bank_for_the_user(self):
        Wizard = self.env['bank.crm.add.account.wizard']
        self.assertFalse(Wizard.default_get(['kind']).get('kind'))
        # the dashboard's "add a cash desk" still opens it on cash
        self.assertEqual(Wizard.with_context(default_kind='cash').default_get(['kind'])['kind'], 'cash')

    def test_each_bank_maps_only_its_own_status_words(self):
        tbank, tochka = adapter_for('tbank_business'), adapter_for('tochka')
        self.assertEqual(tbank.payment_state('EXECUTED'), PaymentState.DONE)
        self.assertEqual(tbank.payment_state('FAILED'), PaymentState.FAILED)
        self.assertEqual(tbank.payment_state('IN_PROGRESS'), PaymentState.PENDING)
        self.assertEqual(tochka.payment_state('Paid'), PaymentState.DONE)
        self.assertEqual(tochka.payment_state('Rejected'), PaymentState.FAILED)
        self.assertEqual(tochka.payment_state('Canceled'), PaymentState.FAILED)
        self.assertEqual(tochka.payment_state('Created'), PaymentState.PENDING)
        # one bank's word means nothing to the other (they were one mixed table before)
        self.assertEqual(tbank.payment_state('Paid'), PaymentState.PENDING)
        self.assertEqual(tochka.payment_state('EXECUTED'), PaymentState.PENDING)

    def test_the_payment_flow_follows_the_neutral_state(self):
        payment = self._payment(100)
        payment.action_submit()
        payment._bank_crm_set_workflow_state({'state': 'sent', 'bank_document_id': 'doc-1', 'bank_status': 'Sent'})
        # a word no bank of ours uses: the neutral state decides, the word is kept for people
        payment._bank_crm_apply_status(PaymentStatus('doc-1', PaymentState.PENDING, 'Queued'))
        self.assertEqual((payment.state, payment.bank_status), ('sent', 'Queued'))
        payment._bank_crm_apply_status(PaymentStatus('doc-1', PaymentState.FAILED, 'Bounced', "no funds"))
        self.assertEqual((payment.state, payment.bank_status, payment.bank_error), ('failed', 'Bounced', "no funds"))
        self.assertIn("no funds", payment.message_ids[0].body)
        self.assertEqual(payment.sudo().activity_ids.user_id, self.manager)

    def test_an_executed_payment_is_paid(self):
        payment = self._payment(100)
        payment.action_submit()
        payment._bank_crm_set_workflow_state({'state': 'sent', 'bank_document_id': 'doc-2', 'bank_status': 'Sent'})
        payment._bank_crm_apply_status(PaymentStatus('doc-2', PaymentState.DONE, 'Settled'))
        self.assertEqual(payment.state, 'done')
        self.assertTrue(payment.done_date)
        # the same word again changes nothing
        payment._bank_crm_apply_status(PaymentStatus('doc-2', PaymentState.FAILED, 'Settled'))
        self.assertEqual(payment.state, 'done')
