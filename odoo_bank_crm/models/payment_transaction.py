import logging
import time
from datetime import timedelta
from decimal import Decimal

import psycopg2
from psycopg2 import sql as pgsql

from dateutil.relativedelta import relativedelta

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import ValidationError

from .. import const
from ..bank_api import Receipt, ReceiptItem, is_newer_status
from ..utils import config_number, from_minor, to_minor
from .odoo_compat import can_commit, create_payments, message_post_batch, payment_posted_message, trigger_cron_now

_logger = logging.getLogger(__name__)

ORDER_ID_MAX_LENGTH = 36  # docs/banks.md §1.3 Init OrderId
DESCRIPTION_MAX_LENGTH = 140  # docs/banks.md §1.3 Init Description
RECEIPT_NAME_MAX_LENGTH = 128
POST_PROCESS_CRON_XMLID = 'payment.cron_post_process_payment_tx'
# Transactions booked together, in one database transaction, by the post-processing job
# (docs/booking.md): large enough that the per-batch costs are shared, small enough that
# the first of a batch is not kept waiting long for the last.
BOOKING_BATCH_SIZE = 100
# Seconds one run of the job books for before it hands over to a next run (triggered at
# once): a cron worker is killed after its real-time limit (120 s by default), which
# Odoo's one-at-a-time job reaches under a burst, losing the transaction in progress.
BOOKING_RUN_SECONDS = 60
# Seconds a run waits for pending transactions another database transaction holds before
# it leaves them to a next run, triggered at once.
BOOKING_LOCK_WAIT_SECONDS = 10
# As Odoo's `_cron_post_process`: a transaction that does not go through is not retried forever.
POST_PROCESS_RETRY_DAYS = 4
# The operations booked in batches: a payment for the transaction's own invoices (refunds,
# captures and voids of a source transaction, and validations, take Odoo's own path).
BOOKING_OPERATIONS = ('online_redirect', 'online_direct', 'online_token', 'offline')


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
    tbank_checked_at = fields.Datetime(
        string="Last Asked the Bank",
        readonly=True,
        copy=False,
        help="When the job checking unsettled payments last asked the bank (GetState) about this one.",
    )
    # The 'transaction received' messages of a bank's notification, posted on the invoices
    # by the post-processing job that follows it rather than while the bank waits for its
    # answer (see `_log_received_message`). Technical: no label to translate.
    bank_crm_deferred_messages = fields.Json(readonly=True, copy=False, export_string_translation=False)

    # === BUSINESS METHODS - PAYMENT FLOW === #

    def _get_specific_rendering_values(self, processing_values):
        """Override of `payment`: register the payment with Init and redirect the customer
        to the bank's PaymentURL (docs/banks.md §1.3)."""
        res = super()._get_specific_rendering_values(processing_values)
        if self.provider_code != 'tbank':
            return res
        return {'api_url': self._tbank_init_payment()}

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
        invoice_lines = self.invoice_ids.invoice_line_ids.filtered(lambda l: l.display_type == 'product')
        for line in invoice_lines:
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
        if not items or items_total != total:
            # A partial payment or refund, or no invoice: one line for the amount itself.
            items = [
                {
                    'name': _("Payment %(reference)s", reference=self.reference)[:RECEIPT_NAME_MAX_LENGTH],
                    'price': total,
                    'quantity': 1,
                    'amount': total,
                    'tax': self._tbank_vat_code(invoice_lines.tax_ids, amount_method)
                    if len(invoice_lines.tax_ids) <= 1
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
        refund_tx._bank_crm_post_process()
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
            or self.invoice_ids.company_id - provider.company_id
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
        self._bank_crm_post_process()
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
            refund_tx._bank_crm_post_process()
        elif status != 'REFUNDED' and not refunded:
            self._log_message_on_linked_documents(
                _(
                    "T-Bank reports a partial refund (%(status)s) of %(reference)s made outside Odoo: "
                    "record the refunded amount.",
                    status=status,
                    reference=self.reference,
                )
            )

    def _bank_crm_post_process(self):
        """Odoo's own post-processing (payment posted and reconciled with the invoice) as
        soon as the transaction is final, not only when the customer comes back: at once,
        or, for a bank's notification that must be answered quickly, by Odoo's
        post-processing job triggered to run right now (it also posts the messages the
        notification deferred)."""
        to_process = self.filtered(lambda tx: tx.state in ('done', 'cancel') and not tx.is_post_processed)
        if self.env.context.get('bank_crm_defer_post_process'):
            if to_process or self.filtered('bank_crm_deferred_messages'):
                self._bank_crm_trigger_post_processing()
        elif to_process:
            to_process._post_process()

    @api.model
    def _bank_crm_trigger_post_processing(self):
        """Odoo's post-processing job to run as soon as this transaction commits
        (`odoo_compat.trigger_cron_now`: lean enough for a request the
        bank is waiting on)."""
        trigger_cron_now(self.env, POST_PROCESS_CRON_XMLID)

    def _log_received_message(self):
        """Override of `payment`: while the bank waits for the answer to its notification
        (context `bank_crm_defer_post_process`), the chatter messages on the invoices are
        only written down; the post-processing job triggered with it posts them, in order."""
        if not self.env.context.get('bank_crm_defer_post_process'):
            self._bank_crm_post_deferred_messages()  # earlier statuses' messages come first
            return super()._log_received_message()
        deferred = self.filtered(lambda tx: tx.provider_code == 'tbank')
        for tx in deferred:
            tx.bank_crm_deferred_messages = [*(tx.bank_crm_deferred_messages or []), tx._get_received_message()]
        return super(PaymentTransaction, self - deferred)._log_received_message()

    def _bank_crm_post_deferred_messages(self):
        deferred = self.filtered('bank_crm_deferred_messages')
        messages = [(tx, message) for tx in deferred for message in tx.bank_crm_deferred_messages]
        deferred.bank_crm_deferred_messages = False
        self._bank_crm_log_on_linked_documents(messages)

    def _bank_crm_log_on_linked_documents(self, messages):
        """`tx._log_message_on_linked_documents(message)` for each (tx, message), in order: what
        account_payment's writes (each invoice to notify gets a `message_post` by the
        transaction's author) written together (`odoo_compat.message_post_batch`). A
        transaction of another (a refund's, a capture's), or all when another module
        overrides the method (sale also posts on the orders), take Odoo's own path."""
        batchable = self._bank_crm_linked_documents_batchable()
        batched = []
        for tx, message in messages:
            if batchable and not tx.source_transaction_id:
                batched.append((tx, message))
            else:
                tx._log_message_on_linked_documents(message)
        # as account_payment's `_log_message_on_linked_documents`
        user_partner = self.env.user.partner_id if self.env.uid == SUPERUSER_ID else None
        posts = [
            (invoice, message, (user_partner or tx.partner_id).id)
            for tx, message in batched
            for invoice in tx._get_invoices_to_notify()
        ]
        message_post_batch(posts)

    @api.model
    def _bank_crm_linked_documents_batchable(self):
        """Whether `_log_message_on_linked_documents` is only payment's and account_payment's
        (messages on the invoices to notify, see `_bank_crm_log_on_linked_documents`)."""
        modules = {
            getattr(cls, '_module', None)
            for cls in type(self).__mro__
            if '_log_message_on_linked_documents' in vars(cls)
        }
        return modules <= {'payment', 'account_payment'}

    def _post_process(self):
        """Override of `payment`: the transactions' rows locked first, so that two jobs or
        requests post-processing the same transaction at once cannot both create its payment
        (the later one waits, then fails to serialise and is retried by its caller, which
        then finds it post-processed); then the messages a bank's notification deferred."""
        self._bank_crm_lock_rows()
        self._bank_crm_post_deferred_messages()
        return super()._post_process()

    def _bank_crm_lock_rows(self, skip_locked=False):
        """Lock these transactions' rows until the end of the database transaction.

        Odoo runs under REPEATABLE READ: when a concurrent transaction committed a change to
        one of the rows (it post-processed it), the lock raises a serialisation failure
        (`psycopg2.OperationalError`), which Odoo's callers (`_cron_post_process`, the
        /payment/status/poll route, the HTTP retry) answer with a rollback and a retry.

        :param bool skip_locked: skip the rows another transaction holds instead of waiting
        :return: the ids locked
        """
        if not self.ids:
            return []
        self.env.cr.execute(
            pgsql.SQL("SELECT id FROM payment_transaction WHERE id = ANY(%s) ORDER BY id FOR UPDATE {}").format(
                pgsql.SQL('SKIP LOCKED' if skip_locked else '')
            ),
            [self.ids],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    # === BOOKING: BATCHED POST-PROCESSING === #

    @api.model
    def _cron_post_process(self):
        """Override of `payment`: the done T-Bank transactions are booked in batches
        (`_bank_crm_book_pending`, docs/booking.md), then Odoo's own job post-processes the
        others one by one, as it always does."""
        if self:
            return super()._cron_post_process()
        attempted = self._bank_crm_book_pending(deadline=time.monotonic() + BOOKING_RUN_SECONDS)
        if attempted is None:  # out of time: the next run, triggered, books the rest first
            return None
        retry_limit_date = fields.Datetime.now() - relativedelta(days=POST_PROCESS_RETRY_DAYS)
        # T-Bank's done transactions are the batches' (one done since the last batch is the
        # next run's: its notification triggered it); T-Bank's drafts have nothing to post-process
        # and would be booked here one by one, slowly, if they became done meanwhile
        others = self.search(
            [
                ('is_post_processed', '=', False),
                ('last_state_change', '>=', retry_limit_date),
                ('id', 'not in', attempted),
                '|',
                ('provider_code', '!=', 'tbank'),
                ('state', 'not in', ('draft', 'done')),
            ]
        )
        if others:
            return super(PaymentTransaction, others)._cron_post_process()
        return None

    @api.model
    def _bank_crm_book_pending(self, batch_size=BOOKING_BATCH_SIZE, deadline=None):
        """Book the done T-Bank transactions not yet post-processed, `batch_size` at a time,
        each batch in one go (`_bank_crm_book`) and committed on its own, so that a crash
        loses at most the batch in progress. The rows of a batch are locked (SKIP LOCKED:
        a concurrent run takes others), so no transaction is booked twice. When a batch
        fails, its transactions are post-processed one by one as Odoo's job does: the one
        that fails is logged and left for the next run, the others are booked.

        :param float deadline: `time.monotonic()` after which no new batch is started: the
            job is triggered again to book the rest in a next run
        :return: the ids of the transactions attempted (booked or failed), or None when the
            deadline stopped it
        """
        commit = can_commit(self.env)
        provider_ids = self.env['payment.provider'].sudo().search([('code', '=', 'tbank')]).ids  # sudo: every company's
        retry_limit_date = fields.Datetime.now() - relativedelta(days=POST_PROCESS_RETRY_DAYS)
        attempted = []
        waiting_since = None
        while True:
            self.env.flush_all()
            try:
                ids = self._bank_crm_pending_ids(
                    provider_ids, retry_limit_date, attempted, batch_size, skip_locked=True
                )
            except psycopg2.errors.SerializationFailure:
                if not commit:
                    raise
                # a row changed by a transaction committed while this one looked: look again
                self.env.cr.rollback()
                continue
            if not ids:
                if not commit or not self._bank_crm_pending_ids(provider_ids, retry_limit_date, attempted, 1):
                    return attempted
                # Pending transactions another transaction holds (a duplicate of their
                # notification, the customer's status poll): their holder may commit without
                # triggering this job (nothing new for it), so wait for them a little; past
                # that, the job is triggered to come back for them at once.
                waiting_since = waiting_since or time.monotonic()
                if time.monotonic() - waiting_since > BOOKING_LOCK_WAIT_SECONDS:
                    self._bank_crm_trigger_post_processing()
                    return attempted
                # nothing to keep: the commit gives the next look a fresh snapshot
                self.env.cr.commit()  # pylint: disable=invalid-commit
                time.sleep(0.2)
                continue
            waiting_since = None
            if deadline is not None and time.monotonic() > deadline:
                self._bank_crm_trigger_post_processing()
                return None
            attempted += ids
            batch = self.browse(ids)
            try:
                with self.env.cr.savepoint():
                    batch._bank_crm_book()
            except Exception as error:  # any failure: book them one by one instead
                _logger.info("Booking %s transactions together failed (%s); booking them one by one", len(ids), error)
                batch._bank_crm_book_one_by_one(commit)
            if commit:
                # each batch is its own unit of work: a crash loses at most the batch in progress
                self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _bank_crm_pending_ids(self, provider_ids, retry_limit_date, excluded, limit, skip_locked=False):
        """The done T-Bank transactions waiting for their booking, in order: with
        `skip_locked`, those no other transaction holds, locked until the commit; without,
        all of them, whoever holds them (nothing locked)."""
        self.env.cr.execute(
            pgsql.SQL(
                """
                SELECT id FROM payment_transaction
                 WHERE is_post_processed IS NOT TRUE AND state = 'done' AND provider_id IN %s
                   AND last_state_change >= %s AND id != ALL(%s)
                 ORDER BY id LIMIT %s
                """
                "{}"
            ).format(pgsql.SQL(' FOR UPDATE SKIP LOCKED' if skip_locked else '')),
            [tuple(provider_ids) or (0,), retry_limit_date, excluded, limit],
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _bank_crm_book_one_by_one(self, commit):
        """Odoo's `_cron_post_process` loop for these transactions: each post-processed on
        its own, a failing one logged and rolled back (to be retried by the next run)."""
        for tx in self:
            try:
                with self.env.cr.savepoint():
                    tx._post_process()
                if commit:
                    # as Odoo's job: each transaction's post-processing kept on its own
                    self.env.cr.commit()  # pylint: disable=invalid-commit
            except psycopg2.OperationalError:
                _logger.info("Post-processing %s is retried later (concurrent update)", tx.reference)
            except Exception as error:  # as Odoo's job: log, roll back, go on
                _logger.exception(
                    "encountered an error while post-processing transaction with reference %s:\n%s",
                    tx.reference,
                    error,
                )

    def _bank_crm_batchable(self):
        """The transactions `_bank_crm_book` books together: done payments of their own
        invoices, without payment yet, no early payment discount (Odoo computes its
        write-off per invoice), and no invoice shared with another transaction of the
        batch (reconciled one after the other by Odoo). The others take Odoo's own path."""
        candidates = self.filtered(
            lambda tx: (
                tx.state == 'done'
                and tx.operation in BOOKING_OPERATIONS
                and not tx.source_transaction_id
                and not tx.payment_id
                and not tx.child_transaction_ids
                and tx.invoice_ids
                and not tx.invoice_ids.invoice_payment_term_id.filtered('early_discount')
            )
        )
        seen = {}
        for tx in candidates:
            for invoice_id in tx.invoice_ids.ids:
                seen[invoice_id] = seen.get(invoice_id, 0) + 1
        return candidates.filtered(lambda tx: all(seen[invoice_id] == 1 for invoice_id in tx.invoice_ids.ids))

    def _bank_crm_book(self):
        """Post-process these transactions together, writing what Odoo's `_post_process`
        (payment, account_payment, ours) writes for each of them one at a time:
        the deferred messages, the flag, draft invoices posted, then for the batchable ones
        (`_bank_crm_batchable`) their payments created in one `create`, posted together and
        each reconciled with its invoices by one reconciliation plan (the deal updates and
        the salesperson's notice follow from the reconciliation, for all at once), then
        the "payment posted" messages. The others are post-processed by Odoo's own code."""
        batchable = self._bank_crm_batchable()
        (self - batchable)._post_process()
        if not batchable:
            return
        batchable._bank_crm_post_deferred_messages()
        batchable.is_post_processed = True
        # as account_payment's `_post_process`, for done transactions
        batchable.invoice_ids.filtered(lambda inv: inv.state == 'draft').action_post()
        for company in batchable.company_id:
            batchable.filtered(lambda tx, company=company: tx.company_id == company).with_company(
                company
            )._bank_crm_create_payments()
        batchable._bank_crm_log_on_linked_documents(
            [(tx, payment_posted_message(self.env, tx.reference, tx.payment_id._get_html_link())) for tx in batchable]
        )

    def _bank_crm_create_payments(self):
        """account_payment's `_create_payment` for many transactions: the same values, one
        `create` with one `account.move.create` for all their entries
        (`odoo_compat.create_payments`), one `action_post`, one reconciliation plan (a group per transaction, as
        `reconcile()` is a plan of one group)."""
        payments = create_payments(self.env, [tx._bank_crm_payment_values() for tx in self])
        payments.action_post()
        plan = []
        for tx, payment in zip(self, payments, strict=True):
            tx.payment_id = payment
            plan.append(
                (payment.move_id.line_ids + tx.invoice_ids.line_ids).filtered(
                    lambda line, payment=payment: (
                        line.account_id == payment.destination_account_id and not line.reconciled
                    )
                )
            )
        self.env['account.move.line']._reconcile_plan(plan)
        return payments

    def _bank_crm_payment_values(self):
        """The values account_payment's `_create_payment` gives the payment of this
        transaction (without early payment discount, see `_bank_crm_batchable`)."""
        self.ensure_one()
        reference = f'{self.reference} - {self.partner_id.display_name or ""} - {self.provider_reference or ""}'
        payment_method_line = self.provider_id.journal_id.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == self.provider_id
        )
        values = {
            'amount': abs(self.amount),
            'payment_type': 'inbound' if self.amount > 0 else 'outbound',
            'currency_id': self.currency_id.id,
            'partner_id': self.partner_id.commercial_partner_id.id,
            'partner_type': 'customer',
            'journal_id': self.provider_id.journal_id.id,
            'company_id': self.provider_id.company_id.id,
            'payment_method_line_id': payment_method_line.id,
            'payment_token_id': self.token_id.id,
            'payment_transaction_id': self.id,
            'memo': reference,
            'write_off_line_vals': [],
            'invoice_ids': self.invoice_ids,
        }
        payment_term_lines = self.invoice_ids.line_ids.filtered(lambda line: line.display_type == 'payment_term')
        if payment_term_lines:
            values['destination_account_id'] = payment_term_lines[0].account_id.id
        return values

    # === CRON === #

    @api.model
    def _cron_tbank_check_pending(self, limit=200):
        """Ask GetState about payments still unsettled a while after they were registered,
        so a lost notification never leaves a paid order unpaid.

        Each run takes the `limit` payments asked least recently (never asked first), so that
        many open payment links waiting for their customers never keep a newer payment whose
        notification was lost from being asked: every unsettled payment is asked in turn."""
        now = fields.Datetime.now()
        delay = int(config_number(self.env, 'odoo_bank_crm.tbank_pending_check_minutes', *const.PENDING_CHECK_LIMITS))
        txs = self.search(
            [
                ('provider_code', '=', 'tbank'),
                ('state', 'in', ('draft', 'pending', 'authorized')),
                ('provider_reference', '!=', False),
                ('create_date', '<=', now - timedelta(minutes=delay)),
                ('create_date', '>=', now - timedelta(days=45)),
            ],
            limit=limit,
            order='tbank_checked_at ASC NULLS FIRST, create_date, id',
        )
        commit = can_commit(self.env)
        for tx in txs:
            try:
                response = tx.provider_id._tbank_call('get_state', tx.provider_reference)
                with self.env.cr.savepoint():
                    tx._tbank_apply_status(response.status, message=response.message)
            except Exception as error:
                _logger.warning("T-Bank: GetState for %s failed: %s", tx.reference, error)
            try:
                with self.env.cr.savepoint():
                    tx.tbank_checked_at = now  # asked (or tried): its turn comes again last
                    tx.flush_recordset(['tbank_checked_at'])
            except psycopg2.OperationalError:
                _logger.info("T-Bank: %s changed meanwhile; it is asked again next time", tx.reference)
            if commit:
                # each payment's answer is kept on its own: a notification processed at the same
                # time for another payment never undoes it, and row locks stay short
                self.env.cr.commit()  # pylint: disable=invalid-commit
