import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import const
from ..tbank_api import (
    BankAuthError,
    BankError,
    BankRejected,
    TBankAcquiringClient,
    verify_token,
)

_logger = logging.getLogger(__name__)


class PaymentProvider(models.Model):
    _inherit = 'payment.provider'

    code = fields.Selection(selection_add=[('tbank', "T-Bank")], ondelete={'tbank': 'set default'})
    tbank_terminal_key = fields.Char(
        string="Terminal Key",
        required_if_provider='tbank',
        help="The terminal's key (TerminalKey) from the T-Business cabinet: Internet acquiring > Stores.",
    )
    tbank_password = fields.Char(
        string="Terminal Password",
        required_if_provider='tbank',
        groups='base.group_system',
        help="The terminal's password from the T-Business cabinet. Only administrators can read it.",
    )
    tbank_api_url = fields.Char(
        string="API URL",
        required_if_provider='tbank',
        default=const.TBANK_PRODUCTION_URL,
        help="The bank's acquiring API. Keep the default in production; point it at the bank "
        "sandbox for demos and tests.",
    )
    tbank_receipt_enabled = fields.Boolean(
        string="Send Fiscal Receipts (54-FZ)",
        help="Send the receipt (items, VAT, customer's email or phone) with every payment, "
        "for the online cash register connected to the terminal.",
    )
    tbank_taxation = fields.Selection(
        selection=const.RECEIPT_TAXATION_SYSTEMS,
        string="Taxation System",
        default='usn_income',
        help="The company's taxation system, printed on fiscal receipts.",
    )
    tbank_receipt_payment_method = fields.Selection(
        selection=const.RECEIPT_PAYMENT_METHODS,
        string="Payment Method on Receipts",
        default='full_payment',
        help="Whether goods and services are handed over when paid or delivered later. A payment "
        "made in advance is receipted as a prepayment, with the calculated VAT rate (22/122, 10/110...).",
    )

    tbank_public_test_credentials = fields.Boolean(
        string="Uses T-Bank's Public Test Terminal",
        compute='_compute_tbank_public_test_credentials',
        help="The terminal key or password is the one T-Bank publishes for tests: anyone can sign "
        "notifications with it.",
    )

    # === COMPUTE METHODS === #

    @api.depends('code', 'state', 'tbank_terminal_key', 'tbank_password')
    def _compute_tbank_public_test_credentials(self):
        for provider in self:
            # sudo: the password is administrators-only; only whether it is the published one is exposed
            password = provider.sudo().tbank_password
            provider.tbank_public_test_credentials = (
                provider.code == 'tbank'
                and provider.state in ('enabled', 'test')
                and (
                    provider.tbank_terminal_key == const.TBANK_PUBLIC_TEST_TERMINAL_KEY
                    or password == const.TBANK_PUBLIC_TEST_PASSWORD
                )
            )

    def _compute_feature_support_fields(self):
        """Override of `payment`: refunds (Cancel) and two-stage payments (Confirm)."""
        result = super()._compute_feature_support_fields()
        self.filtered(lambda p: p.code == 'tbank').update(
            {
                'support_manual_capture': 'full_only',
                'support_refund': 'partial',
            }
        )
        return result

    # === CONSTRAINT METHODS === #

    @api.constrains('state', 'tbank_api_url')
    def _check_tbank_api_url(self):
        for provider in self.filtered(lambda p: p.code == 'tbank' and p.state != 'disabled'):
            if not (provider.tbank_api_url or '').startswith(('https://', 'http://')):
                raise ValidationError(_("The T-Bank API URL must start with https:// (or http:// for a sandbox)."))

    def write(self, vals):
        res = super().write(vals)
        if 'state' in vals and 'journal_id' in self._fields:
            # With account_payment, Odoo creates the provider's payment method line on the
            # journal lazily, when the journal is first read; two workers applying the first
            # notifications at once would create two. Create it now, once.
            self.filtered(lambda p: p.code == 'tbank' and p.state != 'disabled').mapped('journal_id')
        return res

    # === BUSINESS METHODS === #

    def _get_supported_currencies(self):
        """Override of `payment`: T-Bank acquiring takes roubles."""
        supported_currencies = super()._get_supported_currencies()
        if self.code == 'tbank':
            supported_currencies = supported_currencies.filtered(lambda c: c.name in const.SUPPORTED_CURRENCIES)
        return supported_currencies

    @api.model
    def _tbank_check_currency(self, currency, document):
        """T-Bank takes roubles only: its amounts are kopecks, and another currency's minor
        units sent as kopecks would charge the wrong sum.

        :param currency: the res.currency of what would be paid
        :param str document: what would be paid (an invoice number, a payment reference), for the message
        :raise ValidationError: when the currency is not the rouble
        """
        if currency.name not in const.SUPPORTED_CURRENCIES:
            raise ValidationError(
                _(
                    "T-Bank takes payments in roubles (RUB) only, and %(document)s is in %(currency)s: "
                    "issue it in roubles, or send the customer a portal link instead.",
                    document=document,
                    currency=currency.name or _("no currency"),
                )
            )

    def _get_default_payment_method_codes(self):
        """Override of `payment`: cards and SBP."""
        default_codes = super()._get_default_payment_method_codes()
        if self.code != 'tbank':
            return default_codes
        return const.DEFAULT_PAYMENT_METHOD_CODES

    @api.model
    def _tbank_verifying_providers(self, notification_data):
        """The enabled terminals with the notification's TerminalKey whose password
        verifies its Token (docs/banks.md §1.6): the notification may act only on their
        transactions (`payment.transaction._tbank_check_notification_terminal`).

        :param dict notification_data: the bank's notification (`_tbank_parse_notification`'s)
        :return: payment.provider records, as superuser, empty for a forged notification
        """
        # sudo: the bank calls as the public user; the passwords are compared, never returned
        providers = self.sudo().search_fetch(
            [
                ('code', '=', 'tbank'),
                ('tbank_terminal_key', '=', notification_data['TerminalKey']),
                ('state', '!=', 'disabled'),
            ],
            ['tbank_password', 'company_id'],
        )
        return providers.filtered(lambda p: p.tbank_password and verify_token(notification_data, p.tbank_password))

    def _tbank_client(self):
        """The tbank_api client for this terminal (credentials read as superuser, never returned)."""
        self.ensure_one()
        provider = self.sudo()  # sudo: this terminal's credentials, given to the client only
        return TBankAcquiringClient(
            terminal_key=provider.tbank_terminal_key,
            password=provider.tbank_password,
            base_url=provider.tbank_api_url.rstrip('/'),
            timeout=const.TBANK_TIMEOUT,
        )

    def _tbank_call(self, method, *args, **kwargs):
        """Call `method` of the acquiring client; bank errors become user errors that say
        what happened and what to do, never a credential (bank_api scrubs them).

        :param str method: a TBankAcquiringClient method name (init, get_state, ...)
        :raise UserError: when the bank refuses or cannot be reached
        """
        self.ensure_one()
        try:
            return getattr(self._tbank_client(), method)(*args, **kwargs)
        except BankAuthError as error:
            _logger.warning("T-Bank refused the terminal credentials of provider %s: %s", self.id, error)
            raise UserError(
                _(
                    "T-Bank refused the terminal's key or password (%(error)s). "
                    "Check them in the payment provider's settings.",
                    error=error,
                )
            ) from None
        except BankRejected as error:
            raise UserError(_("T-Bank refused the operation: %(error)s", error=error)) from None
        except BankError as error:
            _logger.warning("T-Bank %s failed for provider %s: %s", method, self.id, error)
            raise UserError(
                _(
                    "T-Bank could not be reached or answered with an error (%(error)s). "
                    "Please try again in a few minutes.",
                    error=error,
                )
            ) from None

    def _tbank_webhook_url(self):
        return f"{self.get_base_url().rstrip('/')}/payment/tbank/webhook"
