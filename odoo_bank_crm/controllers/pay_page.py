import logging

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

from odoo.addons.account_payment.controllers.portal import PortalAccount
from odoo.addons.portal.controllers.portal import CustomerPortal

from odoo.addons.payment_tbank import const as tbank_const

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
    def _bank_crm_visitor_lang():
        """The language the visitor chose, if any: one in the URL (the footer's language
        selector; Odoo also redirects there from a `frontend_lang` cookie or the browser's
        languages), a `frontend_lang` cookie, or a logged-in user's own language."""
        Lang = request.env['res.lang']
        active = Lang._get_frontend()
        path = request.httprequest.environ.get('REQUEST_URI') or request.httprequest.path
        url_code = path.split('/', 2)[1] if path.count('/') >= 2 else ''
        if url_code and Lang._get_data(url_code=url_code).code in active:
            return request.lang.code
        cookie = request.cookies.get('frontend_lang')
        if cookie in active:
            return cookie
        if not request.env.user._is_public() and request.env.user.lang in active:
            return request.env.user.lang
        return None

    @classmethod
    def _bank_crm_set_lang(cls, invoice):
        """Render this request in the visitor's chosen language, else the customer's
        (`account.move._bank_crm_customer_lang`), the way Odoo renders a frontend page:
        `request.lang`, the context's `lang` and the `frontend_lang` cookie, so that the
        visitor's next page (the one the bank sends them back to) stays in it.

        :return: the language code
        """
        lang = cls._bank_crm_visitor_lang() or invoice._bank_crm_customer_lang()
        request.lang = request.env['res.lang']._get_data(code=lang)
        request.update_context(lang=lang)
        if request.cookies.get('frontend_lang') != lang:
            headers = request.future_response.headers
            # Odoo's frontend dispatch already queued the cookie of the language it guessed
            headers.setlist(
                'Set-Cookie', [c for c in headers.getlist('Set-Cookie') if not c.startswith('frontend_lang=')]
            )
            request.future_response.set_cookie('frontend_lang', lang)
        return lang

    def _bank_crm_render(self, invoice, link, returned=None, error=None):
        lang = self._bank_crm_set_lang(invoice)
        invoice = invoice.with_context(lang=lang)
        state = invoice._bank_crm_pay_page_state(link)
        values = {
            'invoice': invoice,
            'company': invoice.company_id,
            'res_company': invoice.company_id,
            # the seller's tax number's name: a Russian company's is its INN (in the page's language)
            'vat_label': invoice.company_id.country_id.vat_label
            or (invoice.env._("INN") if invoice.company_id.country_id.code == 'RU' else invoice.env._("Tax ID")),
            'link': link,
            'state': state,
            'returned': returned in ('true', 'True', '1') and state == 'payable',
            'error': error,
            # T-Bank takes roubles only: no Pay button for an invoice in another currency
            'tbank_currency_ok': invoice.currency_id.name in tbank_const.SUPPORTED_CURRENCIES,
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
        invoice = None
        if not report_type:
            try:
                invoice = self._document_check_access('account.move', invoice_id, access_token)
            except (AccessError, MissingError):
                invoice = None  # Odoo's own answer follows (a redirect to /my)
            if invoice:
                BankCrmPayPage._bank_crm_set_lang(invoice)
        response = super().portal_my_invoice_detail(
            invoice_id, access_token=access_token, report_type=report_type, download=download, **kw
        )
        if invoice and (request.env.user._is_public() or request.env.user.share):
            invoice.bank_crm_payment_link_ids.filtered(lambda link: link.kind == 'portal')[:1]._mark_opened()
        return response
