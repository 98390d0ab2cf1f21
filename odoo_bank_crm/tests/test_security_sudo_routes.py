"""Issue #13: "No sudo() reachable from a public route may return or change data beyond
what that route exists for." Each public route attacked over HTTP, as an outsider would:
the pay page and its Pay button with another invoice's token or id, the bank's webhook
with a crafted notification. (The shop API's: `test_shop_api.py`, section SUDO BOUNDS.)
See docs/security/sudo-and-public-routes.md."""

import json
from datetime import timedelta
from html import escape

from odoo import Command, fields
from odoo.tests import HttpCase, tagged
from odoo.tools.misc import formatLang

from .tbank_common import TBankCommon
from .test_invoice_wizard import InvoiceLinkCommon
from .test_pay_page import pay_form

WEBHOOK = '/payment/tbank/webhook'


@tagged('post_install', '-at_install')
class TestPayPageSudoBounds(InvoiceLinkCommon, HttpCase):
    """The pay page reads its invoice as superuser (Odoo's `_document_check_access`) once the
    token is the invoice's own: it shows that invoice and its seller, nothing of another
    invoice or customer, and its Pay button changes only that invoice's payment."""

    def setUp(self):
        super().setUp()
        self.invoice = self._create_invoice(amount=1234.56)
        self.other_partner = self.env['res.partner'].create(
            {'name': "Zephyr Secret Customer", 'email': 'zephyr@example.com', 'phone': '+79990001122'}
        )
        self.other = self._create_invoice(amount=9876.54, partner_id=self.other_partner.id)
        with self._mock_bank_link():
            self.link = self.invoice._bank_crm_ensure_payment_link(kind='tbank')
            self.other_link = self.other._bank_crm_ensure_payment_link(kind='tbank')

    def _page(self, invoice, token, suffix=''):
        return self.url_open(f'/bank_crm/pay/{invoice.id}{suffix}?access_token={token}', allow_redirects=False)

    def _state(self, invoice):
        """What a visit could change of an invoice: its links and transactions."""
        self.env.invalidate_all()
        links = invoice.bank_crm_payment_link_ids
        txs = self.env['payment.transaction'].search([('invoice_ids', 'in', invoice.ids)])
        return (
            invoice.payment_state,
            invoice.bank_crm_sbp_qr_payload,
            [(link.id, link.opened_date, link.payment_url, link.transaction_id.id) for link in links],
            [(tx.id, tx.state, tx.amount, tx.tbank_payment_url) for tx in txs],
        )

    def test_a_valid_token_shows_its_own_invoice_only(self):
        other_before = self._state(self.other)
        html = self._page(self.invoice, self.invoice._portal_ensure_token()).text
        self.assertIn(self.invoice.name, html)
        self.assertIn(self.invoice.company_id.name, html)
        for label, leak in [
            ("the other invoice's number", self.other.name),
            ("the other customer", self.other_partner.name),
            ("the other customer's email", self.other_partner.email),
            ("the other invoice's amount", formatLang(self.env, self.other.amount_residual)),
            ("the other invoice's token", self.other._portal_ensure_token()),
            ("the other invoice's bank page", self.other_link.payment_url),
            ("the other invoice's QR code", escape(self.other_link.sbp_qr_image_url)),
            ("this invoice's customer's email", self.partner.email),
            ("this invoice's customer's phone", self.partner.phone),
        ]:
            with self.subTest(label):
                self.assertNotIn(leak, html)
        self.assertEqual(self._state(self.other), other_before)

    def test_another_invoices_token_or_id_gets_nothing(self):
        token = self.invoice._portal_ensure_token()
        other_token = self.other._portal_ensure_token()
        refund, bill = self.env['account.move'].create(
            [
                {
                    'move_type': move_type,
                    'partner_id': self.other_partner.id,
                    'invoice_date': fields.Date.today(),
                    'invoice_line_ids': [Command.create({'name': "Supplies", 'quantity': 1, 'price_unit': 50})],
                }
                for move_type in ('out_refund', 'in_invoice')
            ]
        )
        (refund | bill).action_post()
        before = {move: self._state(move) for move in (self.invoice, self.other)}
        attempts = [
            ("the other invoice's id with this token", self.other, token, ''),
            ("this invoice's id with the other's token", self.invoice, other_token, ''),
            ("the Pay button of the other invoice with this token", self.other, token, '/go'),
            ("a credit note with its own valid token", refund, refund._portal_ensure_token(), ''),
            ("a vendor bill with its own valid token", bill, bill._portal_ensure_token(), ''),
            ("a vendor bill's Pay button with its own valid token", bill, bill._portal_ensure_token(), '/go'),
        ]
        with self._mock_bank_link() as bank:
            for label, move, move_token, suffix in attempts:
                with self.subTest(label):
                    response = self._page(move, move_token, suffix)
                    self.assertEqual(response.status_code, 404)
                    self.assertNotIn(move.name, response.text)
            # the Pay button's form POSTed to the other invoice, with a valid CSRF token and this token
            _action, form = pay_form(self._page(self.invoice, token).text)
            response = self.url_open(
                f'/bank_crm/pay/{self.other.id}/go',
                data={'csrf_token': form['csrf_token'], 'access_token': token},
                allow_redirects=False,
            )
            self.assertEqual(response.status_code, 404)
            # the customer portal's invoice page (overridden to mark a link opened) with this token
            portal = self.url_open(f'/my/invoices/{self.other.id}?access_token={token}', allow_redirects=False)
            self.assertNotEqual(portal.status_code, 200)
        self.assertFalse(bank.calls, "no request to the bank")
        # only this invoice's own page was opened above (for the CSRF token): its link's first visit
        self.assertTrue(self.link.opened_date)
        self.assertEqual(self._state(self.other), before[self.other], "nothing of the other invoice changed")
        self.assertFalse(self.other_link.opened_date)

    def test_the_pay_button_renews_its_own_invoices_payment_only(self):
        """An expired link renewed from the pay page closes only this invoice's expired payment
        and never takes over a transaction that also pays another invoice (Odoo's portal pays
        several overdue invoices at once), even one for the same amount."""
        self.link.sudo().expiry_date = fields.Datetime.now() - timedelta(minutes=5)
        shared = self._create_transaction(
            'redirect',
            reference='SHARED-OVERDUE-1',
            amount=self.invoice.amount_residual,
            invoice_ids=[Command.set((self.invoice | self.other).ids)],
            provider_reference='8800555',
            tbank_payment_url='https://securepay.test/new/shared',
        )
        other_before = self._state(self.other)
        with self._mock_bank_link() as bank:
            action, form = pay_form(self._page(self.invoice, self.invoice._portal_ensure_token()).text)
            go = self.url_open(action, data=form, allow_redirects=False)
        self.assertEqual(go.status_code, 303)
        fresh = self.invoice.bank_crm_payment_link_ids - self.link
        self.assertEqual(len(fresh), 1)
        self.assertEqual(go.headers['Location'], fresh.payment_url)
        self.assertNotEqual(fresh.payment_url, shared.tbank_payment_url)
        self.assertEqual(fresh.transaction_id.invoice_ids, self.invoice, "a new payment for this invoice alone")
        self.assertEqual(len(self._bank_requests(bank, 'Init')), 1)
        self.assertEqual(self.link.transaction_id.state, 'cancel', "this invoice's expired payment is closed")
        self.assertEqual((shared.state, shared.tbank_payment_url), ('draft', 'https://securepay.test/new/shared'))
        # the other invoice: what it had is unchanged, but for the shared transaction it is also paid by
        other_state = self._state(self.other)
        self.assertEqual(other_state[:3], other_before[:3])
        self.assertEqual(other_state[3], other_before[3])

    def test_the_customer_opens_and_pays_their_invoice(self):
        """The legitimate path: the token's invoice, its link opened, paid on the bank's page."""
        response = self._page(self.invoice, self.invoice._portal_ensure_token())
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice.name, response.text)
        self.assertTrue(self.link.opened_date)
        with self._mock_bank_link() as bank:
            action, form = pay_form(response.text)
            go = self.url_open(action, data=form, allow_redirects=False)
        self.assertEqual((go.status_code, go.headers['Location']), (303, self.link.payment_url))
        self.assertFalse(bank.calls, "the valid link is reused")


@tagged('post_install', '-at_install')
class TestWebhookSudoBounds(TBankCommon, HttpCase):
    """The webhook processes as superuser (`bank.webhook.event._process_attempts`): a
    verified notification changes the one transaction it names (and the accounting of its
    invoice), whatever else its body says, and the answer tells nothing but OK."""

    def _post(self, payload):
        response = self.opener.post(
            self.base_url() + WEBHOOK,
            data=json.dumps(payload),
            headers={'Content-Type': 'application/json'},
            timeout=30,
        )
        self.env.invalidate_all()
        # what Odoo's post-processing job, triggered by the webhook, does right after
        self.env['payment.transaction'].search(
            [('is_post_processed', '=', False), ('state', 'in', ('done', 'cancel'))]
        )._post_process()
        return response

    def _snapshot(self, tx, invoice):
        self.env.invalidate_all()
        return (tx.state, tx.tbank_status, tx.amount, invoice.payment_state, invoice.amount_residual)

    def test_a_notification_changes_only_the_transaction_it_names(self):
        invoice = self._create_invoice(amount=1000)
        tx = self._create_invoice_tx(invoice, payment_id='100500')
        other_invoice = self._create_invoice(amount=2000)
        other_tx = self._create_invoice_tx(other_invoice, payment_id='100501')
        other_before = self._snapshot(other_tx, other_invoice)
        events_before = self.env['bank.webhook.event'].search_count([])

        # signed by the terminal, crafted to name the other order, invoice, partner and company too
        crafted = self._notification(
            tx,
            'CONFIRMED',
            invoice_ids=str(other_invoice.id),
            InvoiceId=other_invoice.id,
            partner_id=self.env.user.partner_id.id,
            company_id=self.env.company.id,
            Reference=other_tx.reference,
            Description=other_tx.reference,
        )
        response = self._post(crafted)
        self.assertEqual((response.status_code, response.text), (200, 'OK'), "nothing but OK in the answer")
        self.assertEqual(tx.state, 'done')
        self.assertIn(invoice.payment_state, ('paid', 'in_payment'))
        self.assertEqual(self._snapshot(other_tx, other_invoice), other_before, "the other order is untouched")
        event = self.env['bank.webhook.event'].search([], order='id desc', limit=1)
        self.assertEqual(self.env['bank.webhook.event'].search_count([]), events_before + 1, "one event stored")
        self.assertEqual((event.state, event.transaction_id), ('processed', tx))

        # the paid order's genuine notification replayed under the other order's number
        replay = self._notification(other_tx, 'CONFIRMED', PaymentId=100500, Amount=round(tx.amount * 100))
        response = self._post(replay)
        self.assertEqual((response.status_code, response.text), (200, 'OK'))
        self.assertEqual(self._snapshot(other_tx, other_invoice), other_before)
        self.assertEqual(self.env['bank.webhook.event'].search([], order='id desc', limit=1).state, 'rejected')

        # a forged one names the other order: refused, and the answer says only that
        forged = dict(self._notification(other_tx, 'CONFIRMED'), Token='0' * 64)
        response = self._post(forged)
        self.assertEqual((response.status_code, response.text), (403, 'Forbidden'))
        self.assertEqual(self._snapshot(other_tx, other_invoice), other_before)

        # the legitimate path for the other order
        response = self._post(self._notification(other_tx, 'CONFIRMED'))
        self.assertEqual((response.status_code, response.text), (200, 'OK'))
        self.assertEqual(other_tx.state, 'done')
