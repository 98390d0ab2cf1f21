import logging

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

from odoo.addons.account_payment.controllers.portal import PortalAccount
from odoo.addons.portal.controllers.portal import CustomerPortal

from .. import const

_logger = logging.getLogger(__name__)


class BankCrmPayPage(http.Controller):
    """The invoice's pay page: what a customer who is not logged in sees from the payment
    link: the seller, the invoice, one Pay button to the bank's page, and the SBP QR code.
    Opened with the invoice's portal access token."""

    _pay_page_url = '/bank_crm/pay/<int:invoice_id>'

    @http.route(_pay_page_url, type='http', auth='public', methods=['GET'], website=True, sitemap=False)
    def bank_crm_pay_page(self, invoice_id, access_token=None, **kwargs):
        invoice = self._bank_crm_invoice(invoice_id, access_token)
        link = invoice._bank_crm_pay_page_link()
        if link and (request.env.user._is_public() or request.env.user.share):
            link._mark_opened()
        return self._bank_crm_render(invoice, link, returned=kwargs.get('Success'))

    @http.route(_pay_page_url + '/go', type='http', auth='public', methods=['GET', 'POST'], website=True, sitemap=False)
    def bank_crm_pay_page_go(self, invoice_id, access_token=None, **kwargs):
        """The Pay button, a form POSTed with Odoo's CSRF token (checked by Odoo before this
        runs): to the bank's payment page, through a fresh link when the last one expired.
        A GET (an old bookmark, a link preview, a crawler) changes nothing: back to the page."""
        invoice = self._bank_crm_invoice(invoice_id, access_token)
        if request.httprequest.method != 'POST':
            return request.redirect(invoice._bank_crm_pay_page_url(), local=False)
        if invoice.state != 'posted' or invoice.payment_state in ('paid', 'in_payment', 'reversed'):
            return request.redirect(invoice._bank_crm_pay_page_url(), local=False)
        try:
            link = invoice._bank_crm_ensure_payment_link(kind='tbank')
        except UserError as error:
            _logger.warning("Pay page of invoice %s: no bank link: %s", invoice.id, error)
            return self._bank_crm_render(invoice, invoice._bank_crm_pay_page_link(), error=str(error))
        return request.redirect(link.payment_url, local=False)

    def _bank_crm_invoice(self, invoice_id, access_token):
        """The invoice (as superuser) if the token is its own (or the user may read it); 404 otherwise,
        without telling whether the invoice exists."""
        try:
            invoice = CustomerPortal()._document_check_access('account.move', invoice_id, access_token)
        except (AccessError, MissingError):
            raise request.not_found() from None
        if invoice.move_type != 'out_invoice' or invoice.state == 'draft':
            raise request.not_found()
        return invoice

    @staticmethod
    def _bank_crm_lang(invoice):
        """The customer's language, unless the visitor chose one (a language in the URL, as
        the footer's language selector and the visitor's language cookie give)."""
        chosen = not request.httprequest.environ.get('REQUEST_URI', '/bank_crm/').startswith('/bank_crm/')
        lang = invoice.partner_id.lang
        if chosen or lang not in request.env['res.lang']._get_frontend():
            lang = request.lang.code if request.lang else request.env.lang
        return lang

    def _bank_crm_render(self, invoice, link, returned=None, error=None):
        lang = self._bank_crm_lang(invoice)
        request.update_context(lang=lang)
        request.lang = request.env['res.lang']._get_data(code=lang)
        invoice = invoice.with_context(lang=lang)
        state = invoice._bank_crm_pay_page_state(link)
        values = {
            'invoice': invoice,
            'company': invoice.company_id,
            'res_company': invoice.company_id,
            'link': link,
            'state': state,
            'returned': returned in ('true', 'True', '1') and state == 'payable',
            'error': error,
            # T-Bank takes roubles only: no Pay button for an invoice in another currency
            'tbank_currency_ok': invoice.currency_id.name in const.SUPPORTED_CURRENCIES,
            # POSTed by the Pay button's form, with the access token and Odoo's CSRF token
            'pay_url': f'/bank_crm/pay/{invoice.id}/go',
            'pdf_url': invoice.get_portal_url(report_type='pdf', download=True),
            'title': invoice.name,
            'no_header': True,
        }
        return request.render(
            'odoo_bank_crm.pay_page',
            values,
            headers={
                'X-Robots-Tag': 'noindex, nofollow',
                'Cache-Control': 'no-store',
            },
        )


class BankCrmPortalAccount(PortalAccount):
    """The invoice's page in the customer portal is what a portal payment link opens:
    the customer's first visit marks the link opened."""

    @http.route()
    def portal_my_invoice_detail(self, invoice_id, access_token=None, report_type=None, download=False, **kw):
        response = super().portal_my_invoice_detail(
            invoice_id, access_token=access_token, report_type=report_type, download=download, **kw
        )
        if not report_type and (request.env.user._is_public() or request.env.user.share):
            try:
                invoice = self._document_check_access('account.move', invoice_id, access_token)
            except (AccessError, MissingError):
                return response
            invoice.bank_crm_payment_link_ids.filtered(lambda link: link.kind == 'portal')[:1]._mark_opened()
        return response
