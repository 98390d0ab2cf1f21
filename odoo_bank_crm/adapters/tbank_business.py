"""T-Bank Business (T-API) on the Odoo side (docs/banks.md §2)."""

from .. import const
from ..bank_api import tbank_business
from odoo.addons.payment_tbank.public_input import loads_json
from .base import BankAdapter, PaymentState, PaymentStatus, SentPayment, StatementPage
from .registry import register


@register
class TBankBusinessAdapter(BankAdapter):
    code = 'tbank_business'
    label = "T-Bank Business"
    default_url = tbank_business.PRODUCTION_URL
    status_batch = tbank_business.PAYMENT_STATUS_BATCH
    # docs/banks.md §2.2b: IN_PROGRESS | EXECUTED | FAILED
    payment_status_mapping = {PaymentState.DONE: ('EXECUTED',), PaymentState.FAILED: ('FAILED',)}

    def client(self, connection):
        return tbank_business.TBankBusinessClient(
            # sudo: the connection's token, given to the client only
            token=connection.sudo().api_token,
            base_url=connection.api_url,
            timeout=const.BANK_API_TIMEOUT,
        )

    def accounts(self, client):
        return [tbank_business.to_account_info(account) for account in client.list_accounts()]

    def _account(self, journal):
        return journal.bank_crm_bank_account_ref or journal.bank_acc_number

    def to_operations(self, answer, journal):
        # the amounts are in the account's currency (§2.2)
        currency = (journal.currency_id or journal.company_id.currency_id).name
        return tbank_business.to_operations(answer, currency, self._account(journal))

    def pages(self, client, journal, date_from, date_to, cursor=None):
        pages = client.iter_statement(
            self._account(journal), date_from, date_to, cursor=cursor, page_size=const.SYNC_PAGE_SIZE
        )
        for page in pages:
            balance = page.balances.balance_end if page.balances is not None else None
            yield StatementPage(self.to_operations(page, journal), page.next_cursor, balance)

    def _status(self, document_id, bank_status, reason=None):
        return PaymentStatus(document_id, self.payment_state(bank_status), bank_status, reason)

    def send_payment(self, client, payment):
        # a payment draft, signed in T-Business (§2.4)
        draft = client.create_payment_draft(
            from_account=payment.own_account,
            recipient_name=payment.recipient_name,
            recipient_inn=payment.recipient_inn,
            recipient_account=payment.recipient_account,
            recipient_bik=payment.recipient_bic,
            recipient_bank_name=payment.recipient_bank_name,
            amount=payment.amount,
            purpose=payment.purpose,
            document_number=payment.document_number,
            due_date=payment.payment_date,
            idempotency_key=payment.idempotency_key,
        )
        return SentPayment(draft.document_id, self._status(draft.document_id, draft.status or 'IN_PROGRESS'))

    def payment_statuses(self, client, document_ids):
        return {
            status.document_id: self._status(status.document_id, status.status, status.error_message)
            for status in client.get_payment_statuses(document_ids)
        }

    def subscribe_webhooks(self, connection, client, url, secret):
        email = connection.company_id.email or connection.env.user.email
        # the secret is stored before the bank may use it
        connection.write({'webhook_secret': secret, 'webhook_enabled': True})
        client.add_webhook(url, secret, email or '', tbank_business.TBANK_EVENT_TYPE)

    def verify_webhook(self, connection, raw_body, authorization):
        tbank_business.check_tbank_secret(authorization, connection.webhook_secret)

    def webhook_entries(self, event, raw_body=None):
        """T-Bank's oper-feed-operation (docs/banks.md §2.5)."""
        if not event.verified:
            # only the request carried the secret: an unverified event can never be applied
            event.write(
                {'state': 'rejected', 'result': event.env._("Not verified: the bank's secret was not checked.")}
            )
            return 401, 'Unauthorized'
        try:
            payload = loads_json(event.raw_body if raw_body is None else raw_body)
            items = tbank_business.parse_tbank_event(payload)
        except ValueError as error:  # WebhookUnexpected is a ValueError too
            return event._business_attention(event.env._("Unexpected notification: %(error)s", error=error))
        return [
            (item.account_number, item.to_operation, f'{item.operation.operation_id}:{item.operation.operation_status}')
            for item in items
        ]
