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
        """The bank's notification (docs/banks.md §1.7): the answer is exactly `OK` once
        the result is committed, 400 for a malformed body, 403 for a forged token, 413 for
        a body over 1 MiB, another status (the bank sends it again) when it could not be
        applied (`_tbank_process_notification`)."""
        try:
            raw_body = read_body(request.httprequest).decode('utf-8', errors='replace')
        except BodyTooLarge:
            _logger.warning("T-Bank webhook: body over %s bytes refused", MAX_BODY_BYTES)
            return request.make_response(
                'Request Entity Too Large',
                headers=[('Content-Type', 'text/plain; charset=utf-8'), ('Connection', 'close')],
                status=413,
            )
        status, body = self._tbank_process_notification(raw_body)
        return request.make_response(body, headers=[('Content-Type', 'text/plain; charset=utf-8')], status=status)

    def _tbank_process_notification(self, raw_body):
        """(HTTP status, body) of the notification `raw_body`; a module adding to the
        webhook (odoo_bank_crm stores it first) overrides this.

        :param str raw_body: the request's body, at most MAX_BODY_BYTES
        """
        # sudo: the bank calls as the public user; nothing changes unless the token verifies
        return request.env['payment.transaction'].sudo()._tbank_process_webhook(raw_body)
