import json
from contextlib import contextmanager
from types import SimpleNamespace

import responses

from odoo import Command

from odoo.addons.payment.tests.common import PaymentCommon
from odoo.addons.payment_tbank.tbank_api import compute_token

# Odoo's test runner blocks requests to other hosts than localhost; `responses` answers
# for the bank at this address.
BANK_URL = 'http://localhost:8999/tbank/v2'
TERMINAL_KEY = 'ShopTerminalKey'
PASSWORD = 'TerminalPassword1'


class TBankPaymentCommon(PaymentCommon):
    """The T-Bank provider on a rouble company (`payment` only: no account_payment needed),
    and notifications built exactly as the bank signs them (docs/banks.md §1.6-1.7)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.currency = cls.currency_rub = cls._prepare_currency('RUB')
        cls.provider = cls.tbank = cls._prepare_provider(
            'tbank',
            update_values={
                'tbank_terminal_key': TERMINAL_KEY,
                'tbank_password': PASSWORD,
                'tbank_api_url': BANK_URL,
                'available_currency_ids': [Command.set(cls.currency_rub.ids)],
            },
        )
        cls.payment_method = cls.env.ref('payment.payment_method_card')
        cls.payment_method_id = cls.payment_method.id
        cls.amount = 1234.56
        cls.partner.write({'email': 'buyer@example.com', 'phone': '+79161234567'})
        # the post-processing runs for real (with account_payment installed, it books a payment)
        cls.enable_post_process_patcher = False

    def _tbank_tx(self, reference='SO-TB-1', payment_id='100500', **values):
        return self._create_transaction(
            'redirect', reference=reference, provider_reference=payment_id, tbank_status='NEW', **values
        )

    @staticmethod
    def _notification(tx, status, amount=None, password=PASSWORD, **overrides):
        payload = {
            'TerminalKey': TERMINAL_KEY,
            'OrderId': tx.reference,
            'Success': status not in ('REJECTED', 'AUTH_FAIL'),
            'Status': status,
            'PaymentId': int(tx.provider_reference or 100500),
            'ErrorCode': '0',
            'Amount': amount if amount is not None else round(tx.amount * 100),
            'Pan': '220077******7761',
        }
        payload.update(overrides)
        payload['Token'] = compute_token(payload, password)
        return payload

    @contextmanager
    def _mock_bank(self, method, answer):
        """Fake the bank's answer to `method` at the HTTP boundary; yields a recorder
        whose `calls` are the requests made (kept after the block)."""
        recorder = SimpleNamespace(calls=[])
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add(
                responses.POST,
                f'{BANK_URL}/{method}',
                json={'TerminalKey': TERMINAL_KEY, 'Success': True, 'ErrorCode': '0', **answer},
            )
            try:
                yield recorder
            finally:
                recorder.calls = list(mock.calls)

    @staticmethod
    def _sent(recorder, index=0):
        return json.loads(recorder.calls[index].request.body)
