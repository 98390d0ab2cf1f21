import logging

from odoo import http
from odoo.http import request

from odoo.addons.payment_tbank.public_input import MAX_BODY_BYTES, BodyTooLarge, read_body

from ..adapters import ADAPTERS

_logger = logging.getLogger(__name__)


class BankCrmBusinessWebhookController(http.Controller):
    """The business banks' account webhooks (docs/bank-webhooks.md), one address per
    connection and bank: ``/bank_crm/webhook/<provider code>/<id>``, for each registered adapter."""

    @http.route(
        [f'/bank_crm/webhook/{bank}/<int:connection_id>' for bank in ADAPTERS],
        type='http',
        methods=['POST'],
        auth='public',
        csrf=False,
        save_session=False,
        max_content_length=MAX_BODY_BYTES,
    )
    def bank_crm_business_webhook(self, connection_id):
        """Stored raw first (committed), then verified (the bank's adapter: e.g. the secret
        we gave the bank, or its RS256 JWT), its shape checked, claimed once and queued for the booking
        job (triggered at once); answered 200 once the queued event is committed, 401 for a
        forgery (nothing queued), 404 for an address without instant updates, 413 (not
        stored) for a body over 1 MiB, 503 when the bank should send it again."""
        bank = request.httprequest.path.strip('/').split('/')[2]
        try:
            raw_body = read_body(request.httprequest)
        except BodyTooLarge:
            _logger.warning("Bank webhook: body over %s bytes refused", MAX_BODY_BYTES)
            return request.make_response(
                'Request Entity Too Large',
                headers=[('Content-Type', 'text/plain; charset=utf-8'), ('Connection', 'close')],
                status=413,
            )
        environ = request.httprequest.environ
        # sudo: the bank calls as the public user and notifications are administrators' records;
        # `_store_raw` inserts this one body as a new event and touches nothing else
        Event = request.env['bank.webhook.event'].sudo()
        text = Event._storable_text(raw_body)
        # A request Odoo retries after a concurrency error must not store the body twice.
        event = environ.get('odoo_bank_crm.webhook_event')
        if event is None:
            event = Event._store_raw(bank, text, request.httprequest.remote_addr)
            environ['odoo_bank_crm.webhook_event'] = event
        status, body = event._business_receive(
            bank, connection_id, text, request.httprequest.headers.get('Authorization')
        )
        return request.make_response(body, headers=[('Content-Type', 'text/plain; charset=utf-8')], status=status)
