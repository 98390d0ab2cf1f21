import logging
import re
import uuid
from decimal import Decimal

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools.misc import format_amount

from ..adapters import OutgoingPayment, PaymentState
from ..bank_api import BankError, onec
from ..bank_api.money import from_minor_units, to_minor_units
from ..utils import notification_action, to_decimal, to_minor
from .bank_crm_money_right import MONEY_JOURNAL_TYPES

_logger = logging.getLogger(__name__)

# Payments that count against a manager's daily and monthly limits: those that went
# through on the manager's own authority, from the moment they were ready.
SPENT_STATES = ('ready', 'sent', 'exported', 'done')
# What only the workflow methods set (through `_bank_crm_set_workflow_state`): create and
# write refuse them from anyone, directors and superuser included.
WORKFLOW_FIELDS = frozenset(
    {
        'state',
        'user_id',
        'submitted_date',
        'amount_company',
        'approval_mode',
        'approval_reason',
        'approved_by_id',
        'approved_date',
        'rejection_reason',
        'recipient_acc_number',
        'recipient_bic',
        'bank_key',
        'bank_document_id',
        'bank_status',
        'bank_sign_url',
        'bank_error',
        'sent_date',
        'done_date',
    }
)
# The context key under which `_bank_crm_set_workflow_state` writes those fields; its value
# is this object, which no RPC call can send (JSON has no way to spell it).
WORKFLOW_KEY = 'bank_crm_payment_workflow'
_WORKFLOW_TOKEN = object()
# What the recipient's account of a payment sent to the bank is made of: a change to one of
# these after submission sends the payment back to draft.
RECIPIENT_ACCOUNT_FIELDS = ('acc_number', 'bank_id', 'partner_id')


class BankCrmPaymentOrder(models.Model):
    """An outgoing payment to a supplier or contractor, prepared in Odoo and signed in
    the bank: draft → ready (within the author's limits) or waiting for approval → a
    director approves or rejects → sent to the bank as a payment draft for signing
    (T-Bank Business, Tochka) or exported as a 1C payment order → executed or failed,
    as the bank says."""

    _name = 'bank.crm.payment.order'
    _description = "Outgoing Payment"
    _inherit = ['mail.thread', 'mail.activity.mixin']
    _order = 'id desc'
    _check_company_auto = True

    name = fields.Char(string="Number", readonly=True, copy=False, default=lambda self: _("New"))
    state = fields.Selection(
        selection=[
            ('draft', "Draft"),
            ('to_approve', "Waiting for Approval"),
            ('ready', "Ready"),
            ('approved', "Approved"),
            ('rejected', "Rejected"),
            ('sent', "Sent to the Bank"),
            ('exported', "Exported to 1C"),
            ('done', "Paid"),
            ('failed', "Failed"),
            ('canceled', "Canceled"),
        ],
        default='draft',
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
        index=True,
    )
    company_id = fields.Many2one(
        'res.company', required=True, default=lambda self: self.env.company, readonly=True, index=True
    )
    journal_id = fields.Many2one(
        'account.journal',
        string="From Account",
        required=True,
        check_company=True,
        index=True,
        tracking=True,
        domain=f"[('type', 'in', {MONEY_JOURNAL_TYPES!r})]",
    )
    journal_type = fields.Selection(
        related='journal_id.type',
        string="Account Type",
        help="Bank accounts pay through the bank; the cash desk pays by hand.",
    )
    currency_id = fields.Many2one('res.currency', compute='_compute_currency_id', store=True, precompute=True)
    company_currency_id = fields.Many2one(related='company_id.currency_id', string="Company Currency")
    partner_id = fields.Many2one(
        'res.partner', string="Recipient", required=True, tracking=True, check_company=True, index=True
    )
    partner_bank_id = fields.Many2one(
        'res.partner.bank',
        string="Recipient's Account",
        tracking=True,
        check_company=True,
        compute='_compute_partner_bank_id',
        store=True,
        readonly=False,
        precompute=True,
        domain="[('partner_id', 'in', [partner_id, commercial_partner_id])]",
    )
    commercial_partner_id = fields.Many2one(related='partner_id.commercial_partner_id')
    amount = fields.Monetary(required=True, tracking=True)
    amount_company = fields.Monetary(
        string="Amount in Company Currency",
        currency_field='company_currency_id',
        readonly=True,
        copy=False,
        help="The amount the limits were checked against, at the rate of the day it was submitted.",
    )
    purpose = fields.Char(
        string="Purpose of Payment",
        required=True,
        size=210,
        tracking=True,
        help="As the bank will print it, with the VAT: «Оплата по счету № 15 от 01.03.2026, в т.ч. НДС 22% ...».",
    )
    payment_date = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    bill_id = fields.Many2one(
        'account.move',
        string="Vendor Bill",
        check_company=True,
        index='btree_not_null',
        domain="[('move_type', '=', 'in_invoice'), ('state', '=', 'posted'), "
        "('payment_state', 'in', ('not_paid', 'partial'))]",
    )
    user_id = fields.Many2one(
        'res.users', string="Prepared By", default=lambda self: self.env.user, readonly=True, tracking=True, index=True
    )
    submitted_date = fields.Date(string="Submitted On", readonly=True, copy=False)
    approval_mode = fields.Selection(
        selection=[('limits', "Within the Author's Limits"), ('director', "By an Account Director")],
        string="Authorised",
        readonly=True,
        copy=False,
    )
    approval_reason = fields.Text(string="Why Approval Is Needed", readonly=True, copy=False)
    approved_by_id = fields.Many2one('res.users', readonly=True, copy=False)
    approved_date = fields.Datetime(string="Approved On", readonly=True, copy=False)
    rejection_reason = fields.Text(readonly=True, copy=False)
    recipient_acc_number = fields.Char(
        string="Approved Account Number",
        readonly=True,
        copy=False,
        help="The recipient's account number as it was submitted: the one sent to the bank.",
    )
    recipient_bic = fields.Char(
        string="Approved BIC",
        readonly=True,
        copy=False,
        help="The BIC of the recipient's bank as it was submitted: the one sent to the bank.",
    )
    bank_key = fields.Char(
        string="Idempotency Key",
        readonly=True,
        copy=False,
        help="Sent with the payment draft so that a retry never creates a second one.",
    )
    bank_document_id = fields.Char(readonly=True, copy=False, index='btree_not_null')
    bank_status = fields.Char(readonly=True, copy=False, tracking=True)
    bank_sign_url = fields.Char(string="Sign in the Bank", readonly=True, copy=False)
    bank_error = fields.Text(string="Bank's Answer", readonly=True, copy=False)
    sent_date = fields.Datetime(string="Sent On", readonly=True, copy=False)
    done_date = fields.Datetime(string="Paid On", readonly=True, copy=False)
    can_approve = fields.Boolean(compute='_compute_can_approve')

    _sql_constraints = [
        ('amount_positive', 'CHECK(amount > 0)', "The amount of a payment must be positive."),
    ]

    @api.depends('journal_id')
    def _compute_currency_id(self):
        for payment in self:
            payment.currency_id = (
                payment.journal_id.currency_id or payment.company_id.currency_id or self.env.company.currency_id
            )

    @api.depends('partner_id')
    def _compute_partner_bank_id(self):
        for payment in self:
            if payment.partner_bank_id.partner_id not in (payment.partner_id | payment.commercial_partner_id):
                payment.partner_bank_id = payment.commercial_partner_id.bank_ids[:1] or payment.partner_id.bank_ids[:1]

    @api.depends_context('uid')
    def _compute_can_approve(self):
        director = self.env.user.has_group('odoo_bank_crm.group_bank_crm_director')
        for payment in self:
            payment.can_approve = director and payment.state == 'to_approve'

    @api.onchange('bill_id')
    def _onchange_bill_id(self):
        bill = self.bill_id
        if bill:
            self.partner_id = bill.partner_id
            self.amount = bill.amount_residual
            if bill.partner_bank_id:
                self.partner_bank_id = bill.partner_bank_id
            reference = bill.ref or bill.name
            self.purpose = _(
                "Payment of invoice %(reference)s of %(date)s",
                reference=reference,
                date=fields.Date.to_string(bill.invoice_date or bill.date),
            )

    @api.constrains('journal_id')
    def _check_journal_type(self):
        for payment in self:
            if payment.journal_id.type not in MONEY_JOURNAL_TYPES:
                raise ValidationError(_("Payments are made from a bank or cash account."))

    @api.constrains('partner_id', 'partner_bank_id')
    def _check_partner_bank_id(self):
        """The money goes to the recipient's own account, never to someone else's."""
        for payment in self:
            owner = payment.partner_bank_id.partner_id
            if payment.partner_bank_id and owner not in (payment.partner_id | payment.commercial_partner_id):
                raise ValidationError(
                    _(
                        "The account %(account)s belongs to %(owner)s, not to the recipient %(partner)s.",
                        account=payment.partner_bank_id.acc_number,
                        owner=owner.display_name,
                        partner=payment.partner_id.display_name,
                    )
                )

    # === CRUD === #

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get('name', _("New")) == _("New"):
                vals['name'] = self.env['ir.sequence'].next_by_code('bank.crm.payment.order') or _("New")
        payments = super().create(vals_list)
        if not payments._bank_crm_in_workflow():
            # checked on the records, so that `default_state` & co. in the context are caught too
            forced = {
                name
                for payment in payments
                for name in WORKFLOW_FIELDS
                if name != 'user_id' and payment[name] and not (name == 'state' and payment.state == 'draft')
            }
            if any(payment.user_id != self.env.user for payment in payments):
                forced.add('user_id')
            if forced:
                payments._bank_crm_refuse_workflow_fields(forced)
        payments._bank_crm_check_may_pay()
        return payments

    def write(self, vals):
        if self._bank_crm_in_workflow():
            return super().write(vals)
        forced = WORKFLOW_FIELDS.intersection(vals)
        if forced:
            self._bank_crm_refuse_workflow_fields(forced)
        locked = set(vals) - {'activity_ids', 'message_main_attachment_id'}
        if locked and not self.env.su:
            # What was submitted is what gets checked, approved and paid.
            for payment in self:
                if payment.state != 'draft':
                    raise UserError(
                        _("%(payment)s is no longer a draft: reset it to draft to change it.", payment=payment.name)
                    )
            if 'journal_id' in vals:
                self.env['bank.crm.money.right']._bank_crm_check(
                    'can_pay', self.env['account.journal'].browse(vals['journal_id'])
                )
        return super().write(vals)

    def _bank_crm_in_workflow(self):
        return self.env.context.get(WORKFLOW_KEY) is _WORKFLOW_TOKEN

    def _bank_crm_refuse_workflow_fields(self, names):
        _logger.warning(
            "User %s tried to set the workflow fields %s of outgoing payments %s by hand",
            self.env.uid,
            sorted(names),
            self.ids,
        )
        raise AccessError(
            _(
                "%(fields)s of an outgoing payment are set by its workflow (submit, approve, send to the bank), "
                "not by hand.",
                fields=", ".join(sorted(self._fields[name]._description_string(self.env) for name in names)),
            )
        )

    def _bank_crm_set_workflow_state(self, values):
        """The one way to change the workflow fields (WORKFLOW_FIELDS): as the current user,
        whose access rights and record rules apply, bypassing only the refusal of those
        fields and the lock on submitted payments. Only the workflow methods call it."""
        return self.with_context(**{WORKFLOW_KEY: _WORKFLOW_TOKEN}).write(values)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_drafts(self):
        if any(payment.state not in ('draft', 'canceled', 'rejected') for payment in self):
            raise UserError(_("Only draft, canceled or rejected payments can be deleted."))

    def _bank_crm_check_may_pay(self):
        """Raise unless the current user may make payments from these payments' accounts."""
        self.env['bank.crm.money.right']._bank_crm_check('can_pay', self.journal_id)

    # === LIMITS === #

    @api.model
    def _bank_crm_spent_minor(self, user, company, date_from, date_to):
        """What `user` paid on their own authority between the dates (both included), in
        the company currency's minor units: exact, from the database."""
        if not user or not company:
            return 0
        self.flush_model(['user_id', 'company_id', 'approval_mode', 'state', 'submitted_date', 'amount_company'])
        self.env.cr.execute(
            """
            SELECT COALESCE(SUM(amount_company), 0) FROM bank_crm_payment_order
             WHERE user_id = %s AND company_id = %s AND approval_mode = 'limits' AND state IN %s
               AND submitted_date BETWEEN %s AND %s
        """,
            [user.id, company.id, SPENT_STATES, date_from, date_to],
        )
        total = Decimal(self.env.cr.fetchone()[0])  # numeric column: exact
        return to_minor_units(
            total.quantize(Decimal(1).scaleb(-company.currency_id.decimal_places)), company.currency_id.decimal_places
        )

    @api.model
    def _bank_crm_spent(self, user, company, date_from, date_to):
        units = self._bank_crm_spent_minor(user, company, date_from, date_to)
        return float(from_minor_units(units, company.currency_id.decimal_places)) if company else 0.0

    def _bank_crm_limit_problems(self, right):
        """Why this payment needs a director, as sentences ([] when it is within `right`).
        The caller holds the lock on `right`."""
        self.ensure_one()
        currency = self.company_id.currency_id
        amount = to_minor(self.amount_company, currency)

        def money(units):
            return self._bank_crm_format(float(from_minor_units(units, currency.decimal_places)), currency)

        problems = []
        single = to_minor(right.max_payment_amount, currency)
        if amount > single:
            problems.append(
                _(
                    "%(amount)s is above the largest single payment allowed, %(limit)s.",
                    amount=money(amount),
                    limit=money(single),
                )
            )
        today = self.submitted_date
        day_spent = self._bank_crm_spent_minor(self.user_id, self.company_id, today, today)
        daily = to_minor(right.daily_limit, currency)
        if day_spent + amount > daily:
            problems.append(
                _(
                    "With %(spent)s already paid today the daily limit of %(limit)s would be exceeded.",
                    spent=money(day_spent),
                    limit=money(daily),
                )
            )
        month_spent = self._bank_crm_spent_minor(self.user_id, self.company_id, today.replace(day=1), today)
        monthly = to_minor(right.monthly_limit, currency)
        if month_spent + amount > monthly:
            problems.append(
                _(
                    "With %(spent)s already paid this month the monthly limit of %(limit)s would be exceeded.",
                    spent=money(month_spent),
                    limit=money(monthly),
                )
            )
        if not right._bank_crm_counterparty_allowed(self.partner_id):
            problems.append(
                _("%(partner)s is not among the counterparties you may pay.", partner=self.partner_id.display_name)
            )
        return problems

    @api.model
    def _bank_crm_format(self, amount, currency):
        """An amount as the user reads it (their language's separators, the currency's sign)."""
        return format_amount(self.env, amount, currency)

    def _bank_crm_lock_right(self, right):
        """Serialise every check against `right`'s limits: the row is updated, so a
        concurrent transaction checking the same limits waits for this one and then fails
        to serialise; Odoo retries it and it sees this payment."""
        self.env.cr.execute("UPDATE bank_crm_money_right SET lock_counter = lock_counter + 1 WHERE id = %s", [right.id])
        right.invalidate_recordset(['lock_counter'])

    # === WORKFLOW === #

    def action_submit(self):
        """Check the payment against its author's rights: within them it is ready to be
        sent; above them it waits for a director."""
        Right = self.env['bank.crm.money.right']
        for payment in self:
            if payment.state != 'draft':
                raise UserError(_("Only a draft can be submitted."))
            payment._bank_crm_check_may_pay()
            payment._bank_crm_check_recipient()
            user = self.env.user
            today = fields.Date.context_today(payment)
            bank_account = payment.partner_bank_id
            payment._bank_crm_set_workflow_state(
                {
                    'user_id': user.id,
                    'submitted_date': today,
                    # at the rate of the day it is submitted: not of a date its author chose
                    'amount_company': payment.currency_id._convert(
                        payment.amount, payment.company_id.currency_id, payment.company_id, today
                    ),
                    # what is approved is what the bank gets (see `_bank_crm_recipient_changed`)
                    'recipient_acc_number': bank_account.acc_number or False,
                    'recipient_bic': bank_account.bank_id.bic or False,
                }
            )
            if not Right._bank_crm_is_restricted(user):
                payment._bank_crm_set_workflow_state(
                    {
                        'state': 'ready',
                        'approval_mode': 'director',
                        'approved_by_id': user.id,
                        'approved_date': fields.Datetime.now(),
                    }
                )
                payment.message_post(body=_("Submitted by %(user)s, who needs no approval.", user=user.name))
                continue
            right = Right._bank_crm_right_of(user, payment.company_id)
            payment._bank_crm_lock_right(right)
            problems = payment._bank_crm_limit_problems(right)
            if not problems:
                payment._bank_crm_set_workflow_state({'state': 'ready', 'approval_mode': 'limits'})
                payment.message_post(
                    body=_("Submitted by %(user)s: within their limits, ready to be sent to the bank.", user=user.name)
                )
            else:
                payment._bank_crm_set_workflow_state({'state': 'to_approve', 'approval_reason': "\n".join(problems)})
                payment._bank_crm_ask_directors(problems)
        return True

    def _bank_crm_ask_directors(self, problems):
        self.ensure_one()
        directors = self.env.ref('odoo_bank_crm.group_bank_crm_director').users.filtered(
            lambda u: (
                u.active and not u.share and self.company_id in u.company_ids and u != self.env.ref('base.user_root')
            )
        )
        note = "\n".join(problems)
        self.message_post(
            body=_(
                "Submitted by %(user)s; it needs a director's approval: %(reasons)s",
                user=self.user_id.name,
                reasons=" ".join(problems),
            )
        )
        for director in directors[:10]:
            # sudo: the author schedules the directors' approval activities, not a change of the payment
            self.sudo().activity_schedule(
                'odoo_bank_crm.mail_activity_bank_crm_payment_approval',
                user_id=director.id,
                summary=_(
                    "Approve the payment of %(amount)s to %(partner)s",
                    partner=self.partner_id.name,
                    amount=self._bank_crm_format(self.amount, self.currency_id),
                ),
                note=note,
            )

    def _bank_crm_check_director(self):
        if not self.env.user.has_group('odoo_bank_crm.group_bank_crm_director'):
            raise AccessError(_("Only an Account Director approves or rejects payments."))

    def action_approve(self):
        self._bank_crm_check_director()
        for payment in self:
            if payment.state != 'to_approve':
                raise UserError(_("%(payment)s is not waiting for approval.", payment=payment.name))
            payment._bank_crm_set_workflow_state(
                {
                    'state': 'approved',
                    'approval_mode': 'director',
                    'approved_by_id': self.env.user.id,
                    'approved_date': fields.Datetime.now(),
                }
            )
            payment.activity_feedback(['odoo_bank_crm.mail_activity_bank_crm_payment_approval'], feedback=_("Approved"))
            payment.message_post(
                body=_("Approved by %(user)s.", user=self.env.user.name), partner_ids=payment.user_id.partner_id.ids
            )
        return True

    def action_open_reject_wizard(self):
        self._bank_crm_check_director()
        return {
            'type': 'ir.actions.act_window',
            'name': _("Reject Payment"),
            'res_model': 'bank.crm.payment.reject.wizard',
            'view_mode': 'form',
            'target': 'new',
            'context': {'default_payment_ids': self.ids},
        }

    def _bank_crm_reject(self, reason):
        self._bank_crm_check_director()
        reason = (reason or "").strip()
        if not reason:
            raise UserError(_("Say why the payment is rejected: its author will read it."))
        for payment in self:
            if payment.state != 'to_approve':
                raise UserError(_("%(payment)s is not waiting for approval.", payment=payment.name))
            payment._bank_crm_set_workflow_state({'state': 'rejected', 'rejection_reason': reason})
            payment.activity_feedback(
                ['odoo_bank_crm.mail_activity_bank_crm_payment_approval'],
                feedback=_("Rejected: %(reason)s", reason=reason),
            )
            payment.message_post(
                body=_("Rejected by %(user)s: %(reason)s", user=self.env.user.name, reason=reason),
                partner_ids=payment.user_id.partner_id.ids,
            )

    def action_cancel(self):
        for payment in self:
            if payment.state not in ('draft', 'to_approve', 'ready', 'approved'):
                raise UserError(
                    _("%(payment)s was already sent or exported: cancel it in the bank.", payment=payment.name)
                )
            payment._bank_crm_check_may_pay()
            payment.activity_unlink(['odoo_bank_crm.mail_activity_bank_crm_payment_approval'])
            payment._bank_crm_set_workflow_state({'state': 'canceled'})
        return True

    def action_reset_to_draft(self):
        for payment in self:
            if payment.state not in ('rejected', 'canceled', 'failed'):
                raise UserError(_("Only rejected, canceled or failed payments go back to draft."))
            payment._bank_crm_check_may_pay()
            payment._bank_crm_set_workflow_state(
                {
                    'state': 'draft',
                    'approval_mode': False,
                    'approval_reason': False,
                    'approved_by_id': False,
                    'approved_date': False,
                    'rejection_reason': False,
                    'submitted_date': False,
                    'amount_company': 0,
                    'bank_document_id': False,
                    'bank_status': False,
                    'bank_sign_url': False,
                    'bank_error': False,
                    'bank_key': False,
                    'sent_date': False,
                    'recipient_acc_number': False,
                    'recipient_bic': False,
                }
            )
        return True

    # === TO THE BANK === #

    def _bank_crm_check_recipient(self):
        """What the bank needs to know of the recipient (cash is handed over: nothing)."""
        self.ensure_one()
        if self.journal_type == 'cash':
            return
        missing = []
        bank_account = self.partner_bank_id
        if not bank_account.acc_number:
            missing.append(_("the recipient's account number"))
        if not bank_account.bank_id.bic:
            missing.append(_("the BIC of the recipient's bank"))
        if not self.commercial_partner_id.vat:
            missing.append(_("the recipient's INN"))
        if missing:
            raise UserError(
                _(
                    "%(payment)s cannot go to the bank without %(missing)s.",
                    payment=self.name,
                    missing=", ".join(missing),
                )
            )

    def _bank_crm_check_sendable(self):
        for payment in self:
            if payment.state not in ('ready', 'approved'):
                raise UserError(
                    _(
                        "%(payment)s is not ready: submit it, and have it approved when it needs to be.",
                        payment=payment.name,
                    )
                )
            payment._bank_crm_check_may_pay()
            payment._bank_crm_check_recipient()
            payment._bank_crm_check_recipient_approved()

    def _bank_crm_check_recipient_approved(self):
        """Nothing goes to a bank but to an account Odoo trusts for outgoing payments
        (res.partner.bank `allow_out_payment`, set by whoever may validate bank accounts),
        and only the account number and BIC that were submitted and approved."""
        self.ensure_one()
        if self.journal_type == 'cash':
            return
        bank_account = self.partner_bank_id
        if not bank_account.allow_out_payment:
            raise UserError(
                _(
                    "%(payment)s cannot go to the bank: the account %(account)s of %(partner)s is not trusted for "
                    "outgoing payments. Have it verified (by calling the recipient) and marked trusted first.",
                    payment=self.name,
                    account=bank_account.acc_number,
                    partner=self.partner_id.display_name,
                )
            )
        if (bank_account.acc_number, bank_account.bank_id.bic) != (self.recipient_acc_number, self.recipient_bic):
            raise UserError(
                _(
                    "The recipient's account of %(payment)s changed after it was submitted: reset it to draft "
                    "and submit it again.",
                    payment=self.name,
                )
            )

    @api.model
    def _bank_crm_recipient_changed(self, bank_accounts):
        """The recipient's account of submitted payments changed (number, bank or owner):
        they go back to draft, to be submitted, and approved, again."""
        # sudo: the account's change concerns every payment to it, also those its editor cannot see
        payments = self.sudo().search(
            [('partner_bank_id', 'in', bank_accounts.ids), ('state', 'in', ('to_approve', 'ready', 'approved'))]
        )
        for payment in payments:
            payment.activity_unlink(['odoo_bank_crm.mail_activity_bank_crm_payment_approval'])
            payment._bank_crm_set_workflow_state(
                {
                    'state': 'draft',
                    'approval_mode': False,
                    'approval_reason': False,
                    'approved_by_id': False,
                    'approved_date': False,
                    'submitted_date': False,
                    'amount_company': 0,
                    'recipient_acc_number': False,
                    'recipient_bic': False,
                }
            )
            payment.message_post(
                body=_(
                    "The recipient's account changed after the payment was submitted: it is back to draft, "
                    "to be checked and submitted again."
                ),
                partner_ids=payment.user_id.partner_id.ids,
            )

    def _bank_crm_document_number(self):
        digits = re.sub(r"\D", "", self.name or "")
        return str(int(digits[-6:]) or self.id % 1000000) if digits else str(self.id % 1000000)

    def _bank_crm_decimal_amount(self):
        return to_decimal(self.amount, self.currency_id)

    def action_send_to_bank(self):
        """Put each payment in its bank's list of payments to sign (its adapter's
        `send_payment`: a draft or a payment for signing). A bank that refuses or cannot
        be reached leaves the payment ready, its answer recorded, and says so."""
        self._bank_crm_check_sendable()
        refused = []
        for payment in self:
            connection = payment.journal_id.sudo().bank_crm_connection_id  # sudo: its credentials
            if not connection:
                raise UserError(
                    _(
                        "%(account)s is not connected to a bank's API: export the payment as a 1C "
                        "payment order and load it in the internet bank.",
                        account=payment.journal_id.name,
                    )
                )
            if not payment.bank_key:
                payment._bank_crm_set_workflow_state({'bank_key': str(uuid.uuid4())})
            try:
                answer = payment._bank_crm_create_in_bank(connection)
            except BankError as error:
                payment._bank_crm_set_workflow_state({'bank_error': str(error)})
                payment.message_post(body=_("The bank did not take the payment: %(error)s", error=error))
                refused.append(_("The bank did not take %(payment)s: %(error)s", payment=payment.name, error=error))
                continue
            except ValueError as error:
                raise UserError(
                    _("%(payment)s cannot be sent as it is: %(error)s", payment=payment.name, error=error)
                ) from None
            payment._bank_crm_set_workflow_state(
                {'state': 'sent', 'sent_date': fields.Datetime.now(), 'bank_error': False, **answer}
            )
            payment.message_post(
                body=_(
                    "Sent to %(bank)s as a payment to sign (document %(document)s).",
                    bank=connection.name,
                    document=answer['bank_document_id'],
                )
            )
        if refused:
            # Returned, not raised: what happened (the error, the revoked connection) is kept.
            return notification_action(
                "\n".join(refused), type='danger', sticky=True, next={'type': 'ir.actions.client', 'tag': 'soft_reload'}
            )
        return True

    def _bank_crm_create_in_bank(self, connection):
        """Hand the payment to its bank's adapter: the values the bank's answer sets."""
        self.ensure_one()
        journal = self.journal_id.sudo()  # sudo: the connection and the company's own account
        recipient = self.commercial_partner_id
        bank_account = self.partner_bank_id.sudo()  # sudo: the recipient's bank's name only
        client = connection._client()
        outgoing = OutgoingPayment(
            own_account=journal.bank_account_id.acc_number or journal.bank_crm_bank_account_ref,
            own_bic=journal.bank_account_id.bank_id.bic or None,
            payer_inn=self.company_id.vat or None,
            recipient_name=recipient.name,
            recipient_inn=recipient.vat,
            recipient_account=self.recipient_acc_number,
            recipient_bic=self.recipient_bic,
            recipient_bank_name=bank_account.bank_id.name or None,
            amount=self._bank_crm_decimal_amount(),
            purpose=self.purpose,
            document_number=self._bank_crm_document_number(),
            payment_date=self.payment_date,
            idempotency_key=self.bank_key,
        )
        sent = connection._bank_call(_("Sending a payment"), connection._adapter().send_payment, client, outgoing)
        return {
            'bank_document_id': sent.document_id,
            'bank_status': sent.status.bank_status,
            'bank_sign_url': sent.sign_url or False,
        }

    def action_export_onec(self):
        """The payments as 1C payment orders (1c_to_kl.txt) to load in any internet bank."""
        self._bank_crm_check_sendable()
        documents = []
        for payment in self:
            journal = payment.journal_id
            company = payment.company_id
            bank_account = payment.partner_bank_id
            documents.append(
                onec.OneCDocument(
                    number=payment._bank_crm_document_number(),
                    date=payment.payment_date,
                    amount=payment._bank_crm_decimal_amount(),
                    payer=onec.OneCParty(
                        inn=company.vat or None,
                        name=company.name,
                        account=journal.bank_acc_number or None,
                        bank_name=journal.bank_id.name or None,
                        bic=journal.bank_id.bic or None,
                    ),
                    recipient=onec.OneCParty(
                        inn=payment.commercial_partner_id.vat or None,
                        name=payment.commercial_partner_id.name,
                        account=payment.recipient_acc_number or None,
                        bank_name=bank_account.bank_id.name or None,
                        bic=payment.recipient_bic or None,
                    ),
                    purpose=payment.purpose,
                    payment_kind="Электронно",
                )
            )
        try:
            data = onec.write(onec.payment_orders_file(documents, sender=self.env.company.name), encoding='Windows')
        except onec.OneCFormatError as error:
            raise UserError(_("The payments cannot be written as 1C payment orders: %(error)s", error=error)) from None
        first = self[:1]
        attachment = self.env['ir.attachment'].create(
            {
                'name': f"1c_to_kl_{fields.Date.context_today(self)}_{first.id}.txt",
                'raw': data,
                'mimetype': 'text/plain',
                'res_model': self._name,
                'res_id': first.id,
            }
        )
        for payment in self:
            payment._bank_crm_set_workflow_state({'state': 'exported', 'sent_date': fields.Datetime.now()})
            payment.message_post(
                body=_("Exported as a 1C payment order, to be loaded in the internet bank."),
                attachment_ids=attachment.ids if payment == first else [],
            )
        return {'type': 'ir.actions.act_url', 'target': 'self', 'url': f"/web/content/{attachment.id}?download=true"}

    def action_mark_done(self):
        """Paid outside Odoo's reach: a payment exported to 1C that the internet bank shows
        executed, or cash handed over from the cash desk."""
        for payment in self:
            by_hand = payment.state == 'exported' or (
                payment.journal_type == 'cash' and payment.state in ('ready', 'approved')
            )
            if not by_hand:
                raise UserError(
                    _(
                        "Only cash payments and payments exported to 1C are marked paid by hand; "
                        "the bank tells about the others."
                    )
                )
            payment._bank_crm_check_may_pay()
            payment._bank_crm_set_workflow_state({'state': 'done', 'done_date': fields.Datetime.now()})
            payment.message_post(body=_("Marked paid by %(user)s.", user=self.env.user.name))
        return True

    def action_check_status(self):
        self._bank_crm_follow()
        return True

    # === STATUS FROM THE BANK === #

    def _bank_crm_follow(self):
        """Ask the banks about payments sent to them; executed ones become paid, refused
        ones failed, with the bank's words in the chatter."""
        sent = self.filtered(lambda p: p.state == 'sent' and p.bank_document_id)
        # sudo: the connection's credentials; the payments stay the user's
        for connection, payments in sent.grouped(lambda p: p.journal_id.sudo().bank_crm_connection_id).items():
            if not connection:
                continue
            try:
                client = connection._client()
                adapter = connection._adapter()
                for start in range(0, len(payments), adapter.status_batch):
                    batch = payments[start : start + adapter.status_batch]
                    statuses = connection._bank_call(
                        _("Following payments"), adapter.payment_statuses, client, batch.mapped('bank_document_id')
                    )
                    for payment in batch:
                        status = statuses.get(payment.bank_document_id)
                        if status:
                            payment._bank_crm_apply_status(status)
            except (BankError, UserError) as error:
                payments._bank_crm_set_workflow_state({'bank_error': str(error)})

    def _bank_crm_apply_status(self, status):
        """Record the bank's status (a bank-neutral `PaymentStatus`); the bank's word is
        recorded whoever asked for it."""
        self.ensure_one()
        if status.bank_status == self.bank_status:
            return
        payment = self
        reason = status.reason or status.bank_status
        values = {'bank_status': status.bank_status}
        if status.state == PaymentState.DONE:
            values.update(state='done', done_date=fields.Datetime.now())
        elif status.state == PaymentState.FAILED:
            values.update(state='failed', bank_error=reason)
        payment._bank_crm_set_workflow_state(values)
        author = payment.user_id.partner_id.ids
        if status.state == PaymentState.DONE:
            payment.message_post(body=_("The bank executed the payment."), partner_ids=author)
        elif status.state == PaymentState.FAILED:
            payment.message_post(
                body=_(
                    "The bank did not execute the payment (%(status)s): %(reason)s",
                    status=status.bank_status,
                    reason=reason,
                ),
                partner_ids=author,
            )
            payment.activity_schedule(
                'mail.mail_activity_data_todo',
                user_id=payment.user_id.id,
                summary=_("The bank did not execute %(payment)s", payment=payment.name),
                note=reason,
            )

    @api.model
    def _cron_bank_crm_follow_payments(self):
        self.search([('state', '=', 'sent'), ('bank_document_id', '!=', False)])._bank_crm_follow()
