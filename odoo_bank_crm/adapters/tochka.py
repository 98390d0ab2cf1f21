"""Tochka on the Odoo side (docs/banks.md §3)."""

import threading

import jwt

from .. import const
from ..bank_api import tochka, webhooks
from .base import BankAdapter, PaymentState, PaymentStatus, SentPayment, StatementPage
from .registry import register


#: One cache of the bank's public keys per JWKS URL and worker process.
_JWKS_CACHES = {}
_JWKS_LOCK = threading.Lock()


def jwks_cache(url):
    with _JWKS_LOCK:
        cache = _JWKS_CACHES.get(url)
        if cache is None:
            cache = _JWKS_CACHES[url] = webhooks.JwksCache(url)
        return cache


@register
class TochkaAdapter(BankAdapter):
    code = 'tochka'
    label = "Tochka"
    default_url = tochka.PRODUCTION_URL
    status_batch = 1
    # docs/banks.md §3: WaitingForCreate, Created, Paid, Canceled, Rejected
    payment_status_mapping = {PaymentState.DONE: ('Paid',), PaymentState.FAILED: ('Rejected', 'Canceled')}
    webhook_tests_deliveries = True
    webhook_signed_with_keys = True
    webhook_keys_url = tochka.TOCHKA_JWKS_URL

    def client(self, connection):
        return tochka.TochkaClient(
            # sudo: the connection's token, given to the client only
            token=connection.sudo().api_token,
            base_url=connection.api_url,
            timeout=const.BANK_API_TIMEOUT,
        )

    def accounts(self, client):
        return [
            tochka.to_account_info(account, client.get_balances(account.account_id))
            for account in client.list_accounts()
        ]

    def to_operations(self, answer, journal):
        return tochka.to_operations(answer)

    def pages(self, client, journal, date_from, date_to, cursor=None):
        # Tochka builds a whole statement asynchronously: one page, no cursor.
        statement = client.fetch_statement(journal.bank_crm_bank_account_ref, date_from, date_to)
        yield StatementPage(self.to_operations(statement, journal), None, statement.end_date_balance)

    def send_payment(self, client, payment):
        # a payment for signing, in the internet bank's "На подпись" list (§3); the bank's
        # account reference is "<account>/<bic>"
        reference = payment.own_account.split('/')
        created = client.create_payment_for_sign(
            account_code=reference[0],
            bank_code=payment.own_bic or (reference + [''])[1],
            counterparty_name=payment.recipient_name,
            counterparty_account_number=payment.recipient_account,
            counterparty_bank_bic=payment.recipient_bic,
            amount=payment.amount,
            purpose=payment.purpose,
            payment_date=payment.payment_date,
            counterparty_inn=payment.recipient_inn,
            payment_number=int(payment.document_number),
            payer_inn=payment.payer_inn,
        )
        status = PaymentStatus(created.request_id, PaymentState.PENDING, 'WaitingForCreate')
        return SentPayment(created.request_id, status, created.redirect_url)

    def payment_statuses(self, client, document_ids):
        statuses = {}
        for document_id in document_ids:
            status = client.get_payment_status(document_id)
            reason = "; ".join(str(error) for error in status.errors or []) or None
            statuses[document_id] = PaymentStatus(document_id, self.payment_state(status.status), status.status, reason)
        return statuses

    def subscribe_webhooks(self, connection, client, url, secret):
        resubscribing = connection.webhook_enabled
        connection.write({'webhook_enabled': True})
        # the bank's test webhooks arrive during this call, each a signed operation like a
        # real one: the receiver sees this lock and books none of them
        try:
            with connection._bank_crm_subscribing_lock():
                client.put_webhook(connection.webhook_client_id or '', url, tochka.TOCHKA_EVENT_TYPES)
        finally:
            if resubscribing:
                # a real operation the bank sent meanwhile was taken for a test (even when
                # the call then failed): the statement books it
                connection._bank_crm_webhook_sync_soon()

    def unsubscribe_webhooks(self, connection):
        if connection.webhook_client_id and connection.api_token:
            connection._client().delete_webhook(connection.webhook_client_id)

    def verify_webhook(self, connection, raw_body, authorization):
        tochka.verify_tochka_jwt(raw_body, jwks_cache(connection.webhook_jwks_url))

    def webhook_entries(self, event, raw_body=None):
        """Tochka's incomingPayment, incomingSbpPayment, acquiringInternetPayment (docs/banks.md
        §3). SBP and acquiring events, which carry no line, are finished here (the statement
        is pulled at once)."""
        _ = event.env._
        token = event.raw_body if raw_body is None else raw_body
        if event.verified:
            # verified by the receiver (or an earlier attempt) against the bank's keys
            claims = jwt.decode(token, options={'verify_signature': False})
        else:
            try:
                claims = tochka.verify_tochka_jwt(token, jwks_cache(event.connection_id.webhook_jwks_url))
            except webhooks.WebhookForged as error:
                event.write({'state': 'rejected', 'result': _("Refused: %(reason)s", reason=str(error))})
                return 401, 'Unauthorized'
            event.verified = True
        try:
            parsed = tochka.parse_tochka_event(claims)
        except webhooks.WebhookUnexpected as error:
            return event._business_attention(_("Unexpected notification: %(error)s", error=error))
        if parsed.operation is None:
            notice = parsed.notice
            event.write(
                {
                    'state': 'processed',
                    'bank_payment_id': notice.operation_id[:64],
                    'bank_status': parsed.webhook_type[:32],
                    'result': _(
                        "%(kind)s %(operation)s noted: the account's statement is pulled now to book it.",
                        kind=parsed.webhook_type,
                        operation=notice.operation_id,
                    ),
                }
            )
            event.connection_id._bank_crm_webhook_followup(sync=True)
            return 200, 'OK'
        operation = parsed.operation
        return [(parsed.account_number, lambda currency: operation, f'{parsed.webhook_type}:{parsed.dedupe_id}')]
