import logging

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)


class TBankController(http.Controller):
    _webhook_url = '/payment/tbank/webhook'

    @http.route(_webhook_url, type='http', methods=['POST'], auth='public', csrf=False, save_session=False)
    def tbank_webhook(self):
        """The bank's notification (bank-apis.md §1.7): stored raw first, then processed;
        the answer is exactly `OK` once the result is committed, 400 for a malformed body,
        403 for a forged token, 5xx (the bank retries) when it could not be processed."""
        environ = request.httprequest.environ
        raw_body = request.httprequest.get_data().decode('utf-8', errors='replace')
        # A request Odoo retries after a concurrency error must not store the body twice.
        event = environ.get('odoo_bank_crm.webhook_event')
        if event is None:
            event = (
                request.env['bank.webhook.event'].sudo()._store_raw('tbank', raw_body, request.httprequest.remote_addr)
            )
            environ['odoo_bank_crm.webhook_event'] = event
        # processed as stored, without reading the body back
        status, body = event._process('tbank', raw_body)
        return request.make_response(body, headers=[('Content-Type', 'text/plain; charset=utf-8')], status=status)
