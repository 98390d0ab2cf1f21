import json

from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.payment_tbank.public_input import MAX_BODY_BYTES

from .common import TBankPaymentCommon

WEBHOOK = '/payment/tbank/webhook'


@tagged('post_install', '-at_install')
class TestTBankWebhookRoute(TBankPaymentCommon, HttpCase):
    """The webhook over HTTP, as the bank calls it (the same URL whichever module adds
    to it: odoo_bank_crm stores the body first)."""

    def _post(self, body):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        with mute_logger('odoo.addons.payment_tbank', 'odoo.addons.odoo_bank_crm'):
            response = self.opener.post(
                self.base_url() + WEBHOOK, data=data, headers={'Content-Type': 'application/json'}, timeout=30
            )
        self.env.invalidate_all()
        return response

    def test_signed_notification_is_applied_and_answered_ok(self):
        tx = self._tbank_tx()
        response = self._post(self._notification(tx, 'CONFIRMED'))
        self.assertEqual((response.status_code, response.text), (200, 'OK'))
        self.assertEqual((tx.state, tx.tbank_status), ('done', 'CONFIRMED'))

    def test_forged_notification_is_forbidden(self):
        tx = self._tbank_tx()
        response = self._post(self._notification(tx, 'CONFIRMED', password='forged-password'))
        self.assertEqual(response.status_code, 403)
        self.assertEqual((tx.state, tx.tbank_status), ('draft', 'NEW'))

    def test_junk_is_a_bad_request(self):
        self.assertEqual(self._post('{not json').status_code, 400)

    def test_body_over_the_cap_is_refused_unread(self):
        tx = self._tbank_tx()
        payload = self._notification(tx, 'CONFIRMED')
        body = json.dumps(dict(payload, Padding='x' * MAX_BODY_BYTES))
        self.assertEqual(self._post(body).status_code, 413)
        self.assertEqual(tx.state, 'draft')

    def test_get_is_not_allowed(self):
        response = self.url_open(WEBHOOK, timeout=30)
        self.assertEqual(response.status_code, 405)
