from odoo.http import request

from odoo.addons.payment_tbank.controllers.main import TBankController


class BankCrmTBankController(TBankController):
    """T-Bank's webhook (payment_tbank's route), each notification stored raw first in
    bank.webhook.event, then processed from there (docs/architecture.md)."""

    def _tbank_process_notification(self, raw_body):
        """Override of payment_tbank: the body is stored as it came before anything is
        checked, then processed as stored (`bank.webhook.event._process_tbank`)."""
        environ = request.httprequest.environ
        # A request Odoo retries after a concurrency error must not store the body twice.
        event = environ.get('odoo_bank_crm.webhook_event')
        if event is None:
            # sudo: the bank calls as the public user, and notifications are administrators' records;
            # `_store_raw` inserts this one body as a new event and touches nothing else
            Event = request.env['bank.webhook.event'].sudo()
            event = Event._store_raw('tbank', raw_body, request.httprequest.remote_addr)
            environ['odoo_bank_crm.webhook_event'] = event
        # processed as stored, without reading the body back
        return event._process('tbank', event._storable_text(raw_body))
