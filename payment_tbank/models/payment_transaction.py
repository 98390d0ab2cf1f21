import logging
from decimal import Decimal

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .. import const
from ..public_input import loads_json
from ..tbank_api import Receipt, ReceiptItem, is_newer_status
from ..utils import from_minor, to_minor

_logger = logging.getLogger(__name__)

ORDER_ID_MAX_LENGTH = 36  # docs/banks.md §1.3 Init OrderId
DESCRIPTION_MAX_LENGTH = 140  # docs/banks.md §1.3 Init Description
RECEIPT_NAME_MAX_LENGTH = 128


def _tbank_error(env, message):
    """A refusal of T-Bank data, named as the bank's (as payment_stripe prefixes "Stripe: "),
    in `env`'s language (a module-level `_()` finds none)."""
    return ValidationError(env._("T-Bank: %(message)s", message=message))


class PaymentTransaction(models.Model):
    _inherit = 'payment.transaction'

    tbank_status = fields.Char(
        string="T-Bank Status",
        readonly=True,
        copy=False,
        help="The last payment status the bank reported (NEW, AUTHORIZED, CONFIRMED, ...).",
    )
    tbank_payment_url = fields.Char(string="T-Bank Payment Link", readonly=True, copy=False)

    # === BUSINESS METHODS - PAYMENT FLOW === #

    def _get_specific_rendering_values(self, processing_values):
        """Override of `payment`: register the payment with Init and redirect the customer
        to the bank's PaymentURL (docs/banks.md §1.3)."""
        res = super()._get_specific_rendering_values(processing_values)
        if self.provider_code != 'tbank':
            return res
        return {'api_url': self._tbank_init_payment()}

    def _tbank_invoice_lines(self):
        """The product lines of the invoices this transaction pays (account_payment's
        `invoice_ids`), or None without account_payment (payment_tbank needs only `payment`)."""
        if 'invoice_ids' not in self._fields:
            return None
        return self.invoice_ids.invoice_line_ids.filtered(lambda l: l.display_type == 'product')

    def _tbank_invoice_companies(self):
        """The companies of the invoices this transaction pays (none without account_payment)."""
        if 'invoice_ids' not in self._fields:
            return self.env['res.company']
        return self.invoice_ids.company_id

    def _tbank_order_id(self):
        """OrderId for Init: the transaction reference, which Odoo keeps unique."""
        if len(self.reference) <= ORDER_ID_MAX_LENGTH:
            return self.reference
        raise ValidationError(
            _(
                "T-Bank accepts order numbers of at most %(max)s characters; %(reference)s is longer.",
                max=ORDER_ID_MAX_LENGTH,
                reference=self.reference,
            )
        )

    def _tbank_init_payment(self, redirect_due_date=None, success_url=None, fail_url=None):
        """Register the payment with the bank (Init) once and return its PaymentURL.

        :param datetime redirect_due_date: when the link expires (timezone-aware), or the bank's default
        :param str success_url: SuccessURL, default Odoo's /payment/status
        :param str fail_url: FailURL, default Odoo's /payment/status
        :return: the bank's payment page URL
        """
        self.ensure_one()
        provider = self.provider_id
        provider._tbank_check_currency(self.currency_id, self.reference)
        if self.tbank_payment_url:
            return self.tbank_payment_url
        base_url = provider.get_base_url().rstrip('/')
        description = f"{self.company_id.name}: {self.reference}"[:DESCRIPTION_MAX_LENGTH]
        customer_data = {
            key: value for key, value in (('Email', self.partner_email), ('Phone', self.partner_phone)) if value
        }
        response = provider._tbank_call(
            'init',
            amount=to_minor(self.amount, self.currency_id),
            order_id=self._tbank_order_id(),
            description=description,
            pay_type='T' if provider.capture_manually else 'O',
            notification_url=provider._tbank_webhook_url(),
            success_url=success_url or f'{base_url}/payment/status',
            fail_url=fail_url or f'{base_url}/payment/status',
            redirect_due_date=redirect_due_date,
            data=customer_data or None,
            receipt=self._tbank_prepare_receipt() if provider.tbank_receipt_enabled else None,
            language='en' if (self.partner_lang or '').startswith('en') else 'ru',
        )
        self.write(
            {
                'provider_reference': response.payment_id,
                'tbank_payment_url': response.payment_url,
                'tbank_status': response.status,
            }
        )
        return response.payment_url

    def _tbank_prepare_receipt(self, amount=None):
        """The 54-FZ receipt (docs/banks.md §1.3 Receipt FFD 1.05) of the invoices paid by
        this transaction, in kopecks; the items add up exactly to the amount paid. Paid in
        advance of delivery (the provider's `tbank_receipt_payment_method`), the items are a
        prepayment's, with the calculated VAT rates (docs/vat-and-receipts.md).

        :param float amount: the amount the receipt is for (a refund's), default the transaction's
        """
        self.ensure_one()
        currency = self.currency_id
        total = to_minor(abs(amount if amount is not None else self.amount), currency)
        if not (self.partner_email or self.partner_phone):
            raise ValidationError(
                _(
                    "A fiscal receipt needs the customer's email or phone number: add one to %(partner)s.",
                    partner=self.partner_id.display_name,
                )
            )
        items = []
        line_method, amount_method = const.RECEIPT_LINE_PAYMENT_METHODS[
            self.provider_id.tbank_receipt_payment_method or 'full_payment'
        ]
        invoice_lines = self._tbank_invoice_lines()
        for line in invoice_lines or ():
            line_total = to_minor(line.price_total, currency)
            if not line_total:
                continue
            quantity = line.quantity or 1.0
            items.append(
                {
                    'name': (line.name or line.product_id.display_name or self.reference)[:RECEIPT_NAME_MAX_LENGTH],
                    'price': to_minor(line.price_total / quantity, currency),
                    'quantity': quantity,
                    'amount': line_total,
                    'tax': self._tbank_vat_code(line.tax_ids, line_method),
                    'payment_method': line_method,
                    'payment_object': 'service' if line.product_id.type == 'service' else 'commodity',
                }
            )
        items_total = sum(item['amount'] for item in items)
        taxes = invoice_lines.tax_ids if invoice_lines is not None else None
        if not items or items_total != total:
            # A partial payment or refund, or no invoice: one line for the amount itself.
            items = [
                {
                    'name': _("Payment %(reference)s", reference=self.reference)[:RECEIPT_NAME_MAX_LENGTH],
                    'price': total,
                    'quantity': 1,
                    'amount': total,
                    'tax': self._tbank_vat_code(taxes, amount_method)
                    if taxes is not None and len(taxes) <= 1
                    else const.RECEIPT_NO_VAT,
                    'payment_method': amount_method,
                    'payment_object': 'payment',
                }
            ]
        return Receipt(
            items=[ReceiptItem(**item) for item in items],
            taxation=self.provider_id.tbank_taxation or 'usn_income',
            email=self.partner_email or None,
            phone=None if self.partner_email else self.partner_phone,
        )

    @api.model
    def _tbank_vat_code(self, taxes, payment_method='full_payment'):
        """T-Bank's VAT code for the taxes of a receipt line paid with `payment_method`
        (the item's PaymentMethod): vat22, vat10, ... or, paid in advance, the calculated
        rate vat122, vat110, ...; none without VAT or at a rate the receipt has no code for.

        :param taxes: the line's account.tax records
        :param str payment_method: the receipt item's PaymentMethod (full_payment, full_prepayment, ...)
        """
        # A 0 % tax is no VAT here: Odoo's tax does not tell a 0 % rate (vat0) from a sale without VAT.
        vat = taxes.filtered(lambda t: t.amount_type == 'percent' and t.amount)
        if len(vat) != 1:
            return const.RECEIPT_NO_VAT
        rate = Decimal(str(vat.amount))
        codes = const.RECEIPT_VAT_CODES.get(int(rate)) if rate == rate.to_integral_value() else None
        if not codes:
            return const.RECEIPT_NO_VAT
        on_delivery, in_advance = codes
        return in_advance if payment_method in const.RECEIPT_PREPAYMENT_METHODS else on_delivery

    def _send_refund_request(self, amount_to_refund=None):
        """Override of `payment`: refund with Cancel (full or partial, docs/banks.md §1.4)."""
        refund_tx = super()._send_refund_request(amount_to_refund=amount_to_refund)
        if self.provider_code != 'tbank':
            return refund_tx
        provider = self.provider_id
        provider._tbank_check_currency(self.currency_id, self.reference)
        refund_amount = -refund_tx.amount
        receipt = self._tbank_prepare_receipt(refund_amount) if provider.tbank_receipt_enabled else None
        response = provider._tbank_call(
            'cancel', self.provider_reference, amount=to_minor(refund_amount, self.currency_id), receipt=receipt
        )
        refund_tx.write({'provider_reference': response.payment_id, 'tbank_status': response.status})
        if is_newer_status(response.status, self.tbank_status):
            self.tbank_status = response.status
        refund_tx._set_done()
        return refund_tx

    def _send_capture_request(self, amount_to_capture=None):
        """Override of `payment`: capture a two-stage payment with Confirm."""
        child_capture_tx = super()._send_capture_request(amount_to_capture=amount_to_capture)
        if self.provider_code != 'tbank':
            return child_capture_tx
        response = self.provider_id._tbank_call('confirm', self.provider_reference)
        self._tbank_apply_status(response.status, message=response.message)
        return child_capture_tx

    def _send_void_request(self, amount_to_void=None):
        """Override of `payment`: release a two-stage payment's hold with Cancel."""
        child_void_tx = super()._send_void_request(amount_to_void=amount_to_void)
        if self.provider_code != 'tbank':
            return child_void_tx
        response = self.provider_id._tbank_call('cancel', self.provider_reference)
        self._tbank_apply_status(response.status, message=response.message)
        return child_void_tx

    # === BUSINESS METHODS - NOTIFICATIONS === #

    def _get_tx_from_notification_data(self, provider_code, notification_data):
        """Override of `payment`: the transaction is the notification's OrderId, of a
        provider of the notification's terminal in the transaction's company, and the
        notification must name the payment Init returned for it (PaymentId, required)."""
        tx = super()._get_tx_from_notification_data(provider_code, notification_data)
        if provider_code != 'tbank' or len(tx) == 1:
            return tx
        order_id = notification_data.get('OrderId')
        if not order_id:
            raise _tbank_error(self.env, _("Received data with missing OrderId."))
        tx = self.search([('reference', '=', order_id), ('provider_code', '=', 'tbank')])
        if not tx:
            raise _tbank_error(self.env, _("No transaction found matching order %s.", order_id))
        tx._tbank_check_notification_terminal(notification_data)
        payment_id = notification_data.get('PaymentId')
        payment_id = '' if payment_id is None or isinstance(payment_id, bool) else str(payment_id)
        if not payment_id:
            raise _tbank_error(self.env, _("Received data with missing PaymentId."))
        if payment_id != tx.provider_reference:
            raise _tbank_error(
                self.env,
                _(
                    "The notification's PaymentId %(received)s is not the order's payment %(expected)s.",
                    received=payment_id,
                    expected=tx.provider_reference or _("(none registered)"),
                ),
            )
        return tx

    @api.model
    def _tbank_parse_notification(self, raw_text):
        """The notification in `raw_text` (docs/banks.md §1.7), or None when it is junk:
        anything but a JSON object with TerminalKey and Status as text, its texts free of
        NUL characters (PostgreSQL refuses them), an integer Amount within what a column
        holds. Junk is refused (400) rather than failing (500) and being sent again."""
        try:
            payload = loads_json(raw_text or '')
        except ValueError:  # invalid, nested too deep, or a NUL character
            return None
        if not isinstance(payload, dict):
            return None
        terminal, status, amount = payload.get('TerminalKey'), payload.get('Status'), payload.get('Amount')
        if not (isinstance(terminal, str) and terminal and isinstance(status, str) and status):
            return None
        if isinstance(amount, int) and not isinstance(amount, bool) and not -(2**31) < amount < 2**31:
            return None
        return payload

    @api.model
    def _tbank_notified_tx(self, notification_data, providers):
        """The transaction a verified notification is about, checked to be of one of
        `providers` (`payment.provider._tbank_verifying_providers`).

        :raise ValidationError: no such order, another terminal's, or another payment of it
        """
        tx = self._get_tx_from_notification_data('tbank', notification_data)
        tx._tbank_check_notification_terminal(notification_data, providers)
        return tx

    def _tbank_lock(self):
        """Lock the transaction's row until the end of the database transaction:
        concurrent notifications of one payment (other statuses, redeliveries) apply one
        after the other. What was read of it before is of this transaction's snapshot,
        which the lock confirms (a row changed since fails here to serialise, and Odoo
        retries the request)."""
        self.ensure_one()
        self.env.cr.execute(
            "SELECT id FROM payment_transaction WHERE id = %s FOR UPDATE", [self.id], log_exceptions=False
        )

    @api.model
    def _tbank_process_webhook(self, raw_text):
        """The bank's notification as payment_tbank alone handles it (docs/banks.md §1.7):
        verified by its token, checked against its order (terminal, payment, amount,
        currency), then applied once and forwards only (`_tbank_apply_status`); Odoo's
        post-processing job books the payment, as for any provider.

        :param str raw_text: the request's body
        :return: (HTTP status, body): 200 `OK` once applied or refused for good (the bank
            stops sending it), 400 junk, 403 a forged token, 404 an order not (yet) known
            (the bank sends it again later)
        """
        payload = self._tbank_parse_notification(raw_text)
        if payload is None:
            _logger.warning("T-Bank: malformed notification refused")
            return 400, 'Bad Request'
        providers = self.env['payment.provider']._tbank_verifying_providers(payload)
        if not providers:
            _logger.warning("T-Bank: notification refused: bad terminal or token")
            return 403, 'Forbidden'
        try:
            tx = self._tbank_notified_tx(payload, providers)
        except ValidationError as error:
            if not self.search_count([('reference', '=', payload.get('OrderId')), ('provider_code', '=', 'tbank')]):
                _logger.warning("T-Bank: notification for unknown order %s: %s", payload.get('OrderId'), error)
                return 404, 'Not Found'
            _logger.warning("T-Bank: notification refused: %s", error)
            return 200, 'OK'
        tx._tbank_lock()
        try:
            with self.env.cr.savepoint():
                tx._handle_notification_data('tbank', payload)
        except ValidationError as error:
            _logger.warning("T-Bank: notification for %s refused: %s", tx.reference, error)
            tx._log_message_on_linked_documents(_("A T-Bank notification was refused: %(error)s", error=error))
        return 200, 'OK'

    def _tbank_check_currency(self):
        """Refuse a T-Bank transaction not in roubles (see `payment.provider._tbank_check_currency`)."""
        for tx in self:
            tx.provider_id._tbank_check_currency(tx.currency_id, tx.reference)

    def _tbank_check_notification_terminal(self, notification_data, providers=None):
        """A notification acts only on the transactions of its own terminal: the
        transaction's provider must have the notification's TerminalKey, be one of
        `providers` (those whose password verified the token) when given, and be of the
        company of the invoices the transaction pays (the transaction's own company is
        its provider's).

        :param dict notification_data: the bank's notification
        :param providers: payment.provider records whose password verified the token
        :raise ValidationError: when the transaction is another terminal's or company's
        """
        self.ensure_one()
        provider = self.provider_id.sudo()  # sudo: the terminal key of a provider of any company
        if (
            provider.code != 'tbank'
            or provider.tbank_terminal_key != notification_data.get('TerminalKey')
            or (providers is not None and provider not in providers)
            or self._tbank_invoice_companies() - provider.company_id
        ):
            raise _tbank_error(
                self.env,
                _(
                    "The notification was signed by terminal %(terminal)s, which is not the terminal "
                    "of order %(order)s: it cannot change that order.",
                    terminal=notification_data.get('TerminalKey'),
                    order=self.reference,
                ),
            )

    @api.model
    def _tbank_notified_amount(self, notification_data):
        """The notification's Amount in kopecks, or None when it is missing or not a whole number."""
        amount = notification_data.get('Amount')
        if isinstance(amount, bool):
            return None
        if isinstance(amount, int):
            return amount
        if isinstance(amount, str) and amount.isdigit():
            return int(amount)
        return None

    def _process_notification_data(self, notification_data):
        """Override of `payment`: check the amount (required, the order's in kopecks), then
        apply the bank's status (docs/banks.md §1.7)."""
        super()._process_notification_data(notification_data)
        if self.provider_code != 'tbank':
            return
        self._tbank_check_currency()
        amount = self._tbank_notified_amount(notification_data)
        if amount is None:
            raise _tbank_error(self.env, _("Received data with missing or invalid Amount."))
        expected = to_minor(self.amount, self.currency_id)
        if amount != expected:
            raise _tbank_error(
                self.env,
                _(
                    "The notified amount (%(received)s) does not match the order's (%(expected)s).",
                    received=from_minor(amount, self.currency_id),
                    expected=self.amount,
                ),
            )
        payment_method = self._tbank_payment_method(notification_data.get('Pan'))
        if payment_method and payment_method != self.payment_method_id:
            self.payment_method_id = payment_method
        message = notification_data.get('Message') or notification_data.get('Details')
        self._tbank_apply_status(notification_data.get('Status'), message=message)

    def _tbank_payment_method(self, pan):
        """SBP notifications carry the payer's phone in Pan, card ones a masked card."""
        if not pan:
            return self.env['payment.method']
        code = 'sbp' if str(pan).lstrip().startswith('+') else 'card'
        if self.payment_method_id.code == code:
            return self.payment_method_id
        return self.env['payment.method']._get_from_code(code)

    def _tbank_apply_status(self, status, message=None):
        """Move the transaction to the state a bank status means, once and forwards only.

        A status that is not later than the last one applied (a redelivery, or an older
        status arriving after a newer one) changes nothing, so a paid transaction is never
        taken back. Used by notifications, GetState checks and Confirm/Cancel answers.
        """
        self.ensure_one()
        if not status:
            raise _tbank_error(self.env, _("Received data with missing payment status."))
        if self.tbank_status and not is_newer_status(status, self.tbank_status):
            _logger.info(
                "T-Bank: status %s for %s ignored, %s already applied", status, self.reference, self.tbank_status
            )
            return False
        self.tbank_status = status
        if status in const.STATUS_MAPPING['pending']:
            self._set_pending()
        elif status in const.STATUS_MAPPING['authorized']:
            self._set_authorized()
        elif status in const.STATUS_MAPPING['done']:
            self._set_done(extra_allowed_states=('error', 'cancel'))
        elif status in const.STATUS_MAPPING['cancel']:
            self._set_canceled(state_message=message)
        elif status in const.STATUS_MAPPING['error']:
            self._set_error(
                _(
                    "The bank declined the payment (%(status)s): %(message)s",
                    status=status,
                    message=message or _("no reason given"),
                )
            )
        elif status in const.REFUND_STATUSES:  # REVERSED is a cancel, matched above
            self._tbank_apply_refund(status)
        else:
            _logger.warning("T-Bank: unknown status %s for %s", status, self.reference)
            return False
        return True

    def _tbank_apply_refund(self, status):
        """A refund the bank notifies. Refunds issued from Odoo are already recorded (their
        Cancel answer); a full refund made in the bank's cabinet is recorded here for the
        part not yet refunded; a partial one, whose amount the notification does not carry,
        is left to the accountant with a message on the documents."""
        refunded = -sum(
            self.child_transaction_ids.filtered(lambda t: t.operation == 'refund' and t.state == 'done').mapped(
                'amount'
            )
        )
        remaining = self.currency_id.round(self.amount - refunded)
        if status == 'REFUNDED' and remaining > 0:
            refund_tx = self._create_child_transaction(remaining, is_refund=True)
            refund_tx.write({'provider_reference': self.provider_reference, 'tbank_status': status})
            refund_tx._set_done()
        elif status != 'REFUNDED' and not refunded:
            self._log_message_on_linked_documents(
                _(
                    "T-Bank reports a partial refund (%(status)s) of %(reference)s made outside Odoo: "
                    "record the refunded amount.",
                    status=status,
                    reference=self.reference,
                )
            )
