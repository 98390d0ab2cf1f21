import logging

from odoo import http
from odoo.http import request

from ..public_input import MAX_BODY_BYTES, BodyTooLarge, read_body

_logger = logging.getLogger(__name__)


class TBankController(http.Controller):
    _webhook_url = '/payment/tbank/webhook'

    # max_content_length: Odoo's dispatcher answers 413 to a declared body over the cap
    # before it parses anything of it; `read_body` caps what is read (chunked bodies too).
    @http.route(
        _webhook_url,
        type='http',
        methods=['POST'],
        auth='public',
        csrf=False,
        save_session=False,
        max_content_length=MAX_BODY_BYTES,
    )
    def tbank_webhook(self):
        """The bank's notification (docs/banks.md §1.7): stored raw first, then processed;
        the answer is exactly `OK` once the result is committed, 400 for a malformed body,
        403 for a forged token, 413 (not stored) for a body over 1 MiB, 5xx (the bank
        retries) when it could not be processed."""
        environ = request.httprequest.environ
        try:
            raw_body = read_body(request.httprequest).decode('utf-8', errors='replace')
        except BodyTooLarge:
            _logger.warning("T-Bank webhook: body over %s bytes refused", MAX_BODY_BYTES)
            return request.make_response(
                'Request Entity Too Large',
                headers=[('Content-Type', 'text/plain; charset=utf-8'), ('Connection', 'close')],
                status=413,
            )
        # A request Odoo retries after a concurrency error must not store the body twice.
        event = environ.get('odoo_bank_crm.webhook_event')
        if event is None:
            # sudo: the bank calls as the public user, and notifications are administrators' records;
            # `_store_raw` inserts this one body as a new event and touches nothing else
            Event = request.env['bank.webhook.event'].sudo()
            event = Event._store_raw('tbank', raw_body, request.httprequest.remote_addr)
            environ['odoo_bank_crm.webhook_event'] = event
        # processed as stored, without reading the body back
        status, body = event._process('tbank', event._storable_text(raw_body))
        return request.make_response(body, headers=[('Content-Type', 'text/plain; charset=utf-8')], status=status)
