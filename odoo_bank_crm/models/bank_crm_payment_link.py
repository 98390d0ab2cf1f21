from datetime import datetime, time, timedelta
from urllib.parse import quote, urlencode

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..utils import notification_action

PAYMENT_LINK_KINDS = [
    ('tbank', "T-Bank payment link"),
    ('portal', "Odoo customer portal"),
]

# The bank's RedirectDueDate is read in Moscow time and must lie between 1 minute and
# 90 days ahead (docs/banks.md §1.3 Init).
BANK_TIMEZONE = 'Europe/Moscow'
LINK_MIN_LIFETIME = timedelta(minutes=5)
LINK_MAX_LIFETIME = timedelta(days=90) - timedelta(minutes=5)
# A fresh link for an invoice already past its due date lives as long as the bank's default.
LINK_LIFETIME_AFTER_DUE = timedelta(hours=24)

QR_SIZE = 240


def qr_image_path(payload, size=QR_SIZE):
    """Odoo's own barcode route drawing `payload` as a QR code (a relative URL)."""
    return '/report/barcode/?' + urlencode(
        {
            'barcode_type': 'QR',
            'value': payload,
            'width': size,
            'height': size,
            'quiet': 0,
        }
    )


class BankCrmPaymentLink(models.Model):
    _name = 'bank.crm.payment.link'
    _description = "Payment Link"
    _order = 'create_date desc, id desc'
    _check_company_auto = True

    invoice_id = fields.Many2one(
        'account.move',
        required=True,
        ondelete='cascade',
        index=True,
        readonly=True,
        domain=[('move_type', '=', 'out_invoice')],
    )
    lead_id = fields.Many2one(related='invoice_id.bank_crm_lead_id', string="Deal", store=True, index='btree_not_null')
    partner_id = fields.Many2one(related='invoice_id.partner_id', string="Customer", store=True, index=True)
    company_id = fields.Many2one(related='invoice_id.company_id', store=True, index=True)
    currency_id = fields.Many2one(related='invoice_id.currency_id', store=True)
    user_id = fields.Many2one('res.users', string="Issued By", readonly=True, default=lambda self: self.env.user)
    amount = fields.Monetary(readonly=True, help="What was due when the link was issued.")
    kind = fields.Selection(PAYMENT_LINK_KINDS, required=True, readonly=True)
    url = fields.Char(
        string="Link",
        readonly=True,
        help="What the customer receives: the invoice's pay page for a bank link, the invoice's "
        "page in the customer portal for a portal link.",
    )
    payment_url = fields.Char(
        string="Bank Payment Page", readonly=True, help="The bank's own payment page (PaymentURL)."
    )
    transaction_id = fields.Many2one('payment.transaction', readonly=True, index='btree_not_null')
    sbp_qr_payload = fields.Char(
        string="SBP QR Code", readonly=True, help="The Faster Payments System (SBP) link the QR code encodes."
    )
    expiry_date = fields.Datetime(string="Expires", readonly=True)
    sent_date = fields.Datetime(string="Sent", readonly=True)
    opened_date = fields.Datetime(string="Opened", readonly=True, help="When the customer first opened the pay page.")
    paid_date = fields.Datetime(string="Paid On", compute='_compute_status', store=True)
    status = fields.Selection(
        selection=[
            ('new', "Created"),
            ('sent', "Sent"),
            ('opened', "Opened"),
            ('paid', "Paid"),
            ('expired', "Expired"),
            ('refunded', "Refunded"),
        ],
        compute='_compute_status',
        store=True,
        index=True,
        default='new',
    )
    note = fields.Char(readonly=True, help="E.g. why the link has no SBP QR code.")
    sbp_qr_image_url = fields.Char(string="SBP QR Image", compute='_compute_sbp_qr_image_url')
    sms_available = fields.Boolean(compute='_compute_sms_available')

    # === COMPUTE METHODS === #

    @api.depends('invoice_id.name', 'kind')
    def _compute_display_name(self):
        kinds = dict(self._fields['kind']._description_selection(self.env))
        for link in self:
            link.display_name = f"{link.invoice_id.name or ''} · {kinds.get(link.kind, '')}"

    @api.depends('sbp_qr_payload')
    def _compute_sbp_qr_image_url(self):
        for link in self:
            link.sbp_qr_image_url = link.sbp_qr_payload and qr_image_path(link.sbp_qr_payload)

    @api.depends('company_id')  # a dependency, so that new records get it too
    def _compute_sms_available(self):
        self.sms_available = 'sms.sms' in self.env

    @api.depends(
        'invoice_id.state',
        'invoice_id.payment_state',
        'invoice_id.reversal_move_ids.state',
        'transaction_id.state',
        'transaction_id.child_transaction_ids.state',
        'sent_date',
        'opened_date',
        'expiry_date',
    )
    def _compute_status(self):
        now = fields.Datetime.now()
        for link in self:
            invoice, tx = link.invoice_id, link.transaction_id
            refunds = tx.child_transaction_ids.filtered(lambda t: t.operation == 'refund' and t.state == 'done')
            if refunds or invoice.payment_state == 'reversed':
                status = 'refunded'
            elif tx.state == 'done' or invoice.payment_state in ('paid', 'in_payment'):
                status = 'paid'
            elif (
                invoice.state != 'posted'
                or tx.state in ('cancel', 'error')
                or (link.expiry_date and link.expiry_date <= now)
            ):
                status = 'expired'
            elif link.opened_date:
                status = 'opened'
            elif link.sent_date:
                status = 'sent'
            else:
                status = 'new'
            link.status = status
            if status in ('paid', 'refunded') and not link.paid_date:
                link.paid_date = tx.last_state_change if tx.state == 'done' else now
            elif status not in ('paid', 'refunded'):
                link.paid_date = False

    # === ACTIONS === #

    def action_send(self):
        """Send (again) the invoice's payment link by email."""
        self.invoice_id._bank_crm_send_payment_link()
        return notification_action(
            _("The payment link was sent."), type='success', next={'type': 'ir.actions.act_window_close'}
        )

    def action_share_telegram(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_url',
            'target': 'new',
            'url': 'https://t.me/share/url?'
            + urlencode({'url': self.url, 'text': self._share_text(with_url=False)}, quote_via=quote),
        }

    def action_share_whatsapp(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_url',
            'target': 'new',
            'url': 'https://wa.me/?' + urlencode({'text': self._share_text()}, quote_via=quote),
        }

    def action_send_sms(self):
        """Odoo's SMS composer with the link, when the SMS app is installed (no hard dependency)."""
        self.ensure_one()
        if 'sms.composer' not in self.env:
            raise UserError(_("Install the SMS Marketing or SMS app to send payment links by SMS."))
        return {
            'type': 'ir.actions.act_window',
            'name': _("Send the payment link by SMS"),
            'res_model': 'sms.composer',
            'view_mode': 'form',
            'target': 'new',
            'context': {
                'default_composition_mode': 'comment',
                'default_res_model': 'account.move',
                'default_res_id': self.invoice_id.id,
                'default_body': self._share_text(),
            },
        }

    def action_open_invoice(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'res_model': 'account.move',
            'res_id': self.invoice_id.id,
            'view_mode': 'form',
            'views': [(False, 'form')],
        }

    # === BUSINESS METHODS === #

    def _share_text(self, with_url=True):
        """The short message of SMS and messengers: who asks for how much, and the link."""
        self.ensure_one()
        invoice = self.invoice_id.with_context(lang=self.partner_id.lang or self.env.lang)
        text = _(
            "%(company)s: invoice %(invoice)s for %(amount)s.",
            company=invoice.company_id.name,
            invoice=invoice.name,
            amount=invoice.currency_id.format(invoice.amount_residual),
        )
        return f"{text} {self.url}" if with_url else text

    def _is_usable(self):
        """Whether the customer can still pay by this link (or already did)."""
        self.ensure_one()
        if self.status in ('paid', 'refunded'):
            return True
        return self.status != 'expired' and not (
            self.expiry_date and self.expiry_date <= fields.Datetime.now() + timedelta(minutes=1)
        )

    def _mark_opened(self):
        """The customer opened the pay page: the first time counts."""
        # sudo: the visitor of a pay page marks its own links opened (the time only)
        self.filtered(lambda link: not link.opened_date).sudo().opened_date = fields.Datetime.now()

    def _mark_sent(self):
        self.sudo().sent_date = fields.Datetime.now()  # sudo: the sending time only, of these links

    @api.model
    def _bank_expiry(self, due_date):
        """RedirectDueDate of a bank link for an invoice due on `due_date`: the end of that day
        in Moscow, or a day from now once it has passed; always within the bank's limits.

        :return: a timezone-aware datetime
        """
        now = datetime.now(pytz.utc)
        expiry = None
        if due_date:
            expiry = pytz.timezone(BANK_TIMEZONE).localize(datetime.combine(due_date, time(23, 59, 59)))
        if not expiry or expiry < now + LINK_MIN_LIFETIME:
            expiry = now + LINK_LIFETIME_AFTER_DUE
        return min(expiry, now + LINK_MAX_LIFETIME).replace(microsecond=0)

    @api.model
    def _cron_update_expired(self):
        """Links whose time ran out become expired (the status is stored for filters)."""
        links = self.search([('status', 'in', ('new', 'sent', 'opened')), ('expiry_date', '<=', fields.Datetime.now())])
        for field_name in ('status', 'paid_date'):
            self.env.add_to_compute(self._fields[field_name], links)
        links._recompute_recordset(['status', 'paid_date'])
