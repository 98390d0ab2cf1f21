import json
from contextlib import contextmanager
from types import SimpleNamespace

import responses

from odoo import Command

from odoo.addons.account_payment.tests.common import AccountPaymentCommon

from odoo.addons.payment_tbank.tbank_api import compute_token

# Odoo's test runner blocks requests to other hosts than localhost; `responses` answers
# for the bank at this address.
SANDBOX_URL = 'http://localhost:8999/tbank/v2'
TERMINAL_KEY = 'TinkoffBankTest'
PASSWORD = 'TestPassword1'


class TBankCommon(AccountPaymentCommon):
    """The T-Bank provider on a rouble company, an invoice for a deal, and helpers that
    build notifications exactly as the bank signs them (docs/banks.md §1.6-1.7)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.currency_rub = cls._prepare_currency('RUB')
        cls.tbank = cls._prepare_provider(
            'tbank',
            update_values={
                'tbank_terminal_key': TERMINAL_KEY,
                'tbank_password': PASSWORD,
                'tbank_api_url': SANDBOX_URL,
                'available_currency_ids': [Command.set(cls.currency_rub.ids)],
            },
        )
        cls.provider = cls.tbank
        cls.currency = cls.currency_rub
        cls.payment_method = cls.env.ref('payment.payment_method_card')
        cls.payment_method_id = cls.payment_method.id
        cls.amount = 1234.56
        cls.partner.write({'email': 'buyer@example.com', 'phone': '+79161234567'})
        cls.salesperson = cls.env['res.users'].create(
            {
                'name': "Sales Person",
                'login': 'tbank_salesperson',
                'email': 'sales@example.com',
                'groups_id': [
                    Command.set(
                        [
                            cls.env.ref('sales_team.group_sale_salesman').id,
                            cls.env.ref('odoo_bank_crm.group_bank_crm_user').id,
                        ]
                    )
                ],
            }
        )
        cls.lead = cls.env['crm.lead'].create(
            {
                'name': "Warehouse equipment",
                'type': 'opportunity',
                'partner_id': cls.partner.id,
                'user_id': cls.salesperson.id,
                'expected_revenue': cls.amount,
            }
        )

    def _create_invoice(self, amount=None, lead=None, **values):
        invoice = self.env['account.move'].create(
            {
                'move_type': 'out_invoice',
                'partner_id': self.partner.id,
                'currency_id': self.currency_rub.id,
                'bank_crm_lead_id': (lead or self.lead).id,
                'invoice_line_ids': [
                    Command.create(
                        {
                            'name': "Equipment",
                            'quantity': 1,
                            'price_unit': amount or self.amount,
                            'tax_ids': [Command.clear()],
                        }
                    )
                ],
                **values,
            }
        )
        invoice.action_post()
        return invoice

    def _create_invoice_tx(self, invoice=None, payment_id='100500', **values):
        invoice = invoice or self._create_invoice()
        values.setdefault('reference', invoice.name.replace('/', '-') + '-1')
        return self._create_transaction(
            'redirect',
            amount=invoice.amount_residual,
            invoice_ids=[Command.set(invoice.ids)],
            provider_reference=payment_id,
            **values,
        )

    @staticmethod
    def _notification(tx, status, amount=None, **overrides):
        payload = {
            'TerminalKey': TERMINAL_KEY,
            'OrderId': tx.reference,
            'Success': status not in ('REJECTED', 'AUTH_FAIL'),
            'Status': status,
            'PaymentId': int(tx.provider_reference or 100500),
            'ErrorCode': '0',
            'Amount': amount if amount is not None else round(tx.amount * 100),
            'CardId': 322264,
            'Pan': '220077******7761',
            'ExpDate': '1230',
        }
        payload.update(overrides)
        payload['Token'] = compute_token(payload, PASSWORD)
        return payload

    @contextmanager
    def _mock_bank(self, method, answer):
        """Fake the bank's answer to `method` at the HTTP boundary; yields a recorder
        whose `calls` are the requests made (kept after the block)."""
        recorder = SimpleNamespace(calls=[])
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add(
                responses.POST,
                f'{SANDBOX_URL}/{method}',
                json={'TerminalKey': TERMINAL_KEY, 'Success': True, 'ErrorCode': '0', **answer},
            )
            try:
                yield recorder
            finally:
                recorder.calls = list(mock.calls)

    @staticmethod
    def _sent(mock, index=0):
        return json.loads(mock.calls[index].request.body)
