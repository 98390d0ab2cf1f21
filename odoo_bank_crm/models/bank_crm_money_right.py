from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

# Journals whose money rights govern: what a right grants and record rules hide.
MONEY_JOURNAL_TYPES = ('bank', 'cash', 'credit')
# Users of the Account groups without a right of their own may only issue invoices
# (the Account User's job); every other operation needs a right that allows it.
DEFAULT_WITHOUT_RIGHT = {'can_issue_invoices'}


class BankCrmMoneyRight(models.Model):
    """What one employee may do with the company's money: which accounts they see,
    which operations they may run, and how much they may pay without a director.

    Directors edit rights; every other user reads only their own. A user of the
    Account groups who is neither a director nor an accountant sees exactly the bank
    and cash accounts listed here (record rules in bank_crm_rights_security.xml)."""

    _name = 'bank.crm.money.right'
    _description = "Employee's Rights over Money"
    _inherit = ['mail.thread']
    _order = 'user_id'
    _rec_name = 'user_id'

    user_id = fields.Many2one(
        'res.users',
        string="Employee",
        required=True,
        ondelete='cascade',
        index=True,
        tracking=True,
        domain="[('share', '=', False)]",
    )
    company_id = fields.Many2one('res.company', required=True, default=lambda self: self.env.company, index=True)
    currency_id = fields.Many2one(related='company_id.currency_id', string="Currency")
    active = fields.Boolean(default=True, tracking=True)
    journal_ids = fields.Many2many(
        'account.journal',
        'bank_crm_money_right_journal_rel',
        'right_id',
        'journal_id',
        string="Accounts",
        domain=f"[('type', 'in', {MONEY_JOURNAL_TYPES!r}), ('company_id', '=', company_id)]",
        help="The bank and cash accounts this employee sees, with their transactions, and may pay from.",
    )

    can_issue_invoices = fields.Boolean(string="Issue Invoices", default=True, tracking=True)
    can_refund = fields.Boolean(
        string="Refunds", tracking=True, help="Refund customers' card payments and issue credit notes."
    )
    can_pay = fields.Boolean(
        string="Outgoing Payments",
        tracking=True,
        help="Prepare payments to suppliers and contractors from the accounts above.",
    )
    can_see_balances = fields.Boolean(string="See Balances", default=True, tracking=True)
    can_download_statements = fields.Boolean(
        string="Download Statements",
        default=True,
        tracking=True,
        help="Statements as PDF, XLSX or 1C, and exports of transactions.",
    )

    max_payment_amount = fields.Monetary(
        string="Largest Single Payment",
        tracking=True,
        help="A payment above this amount waits for a director's approval. 0: every payment does.",
    )
    daily_limit = fields.Monetary(
        tracking=True,
        help="The total this employee may pay in a day without approval. 0: every payment waits for approval.",
    )
    monthly_limit = fields.Monetary(
        tracking=True,
        help="The total this employee may pay in a calendar month without approval. "
        "0: every payment waits for approval.",
    )
    partner_ids = fields.Many2many(
        'res.partner',
        'bank_crm_money_right_partner_rel',
        'right_id',
        'partner_id',
        string="Counterparties",
        help="Whom this employee may pay without approval. Leave this and the tags empty for anyone.",
    )
    partner_category_ids = fields.Many2many(
        'res.partner.category',
        'bank_crm_money_right_category_rel',
        'right_id',
        'category_id',
        string="Counterparty Tags",
        help="Counterparties with any of these tags may be paid without approval.",
    )
    lock_counter = fields.Integer(
        readonly=True,
        copy=False,
        help="Bumped by every payment checked against these limits: concurrent checks serialise on it.",
    )

    paid_today = fields.Monetary(compute='_compute_usage')
    paid_this_month = fields.Monetary(compute='_compute_usage')

    _sql_constraints = [
        ('user_company_unique', 'UNIQUE(user_id, company_id)', "An employee has one set of rights per company."),
        (
            'limits_positive',
            'CHECK(max_payment_amount >= 0 AND daily_limit >= 0 AND monthly_limit >= 0)',
            "Limits cannot be negative.",
        ),
    ]

    @api.depends('user_id', 'company_id')
    def _compute_usage(self):
        today = fields.Date.context_today(self)
        Payment = self.env['bank.crm.payment.order']
        for right in self:
            right.paid_today = Payment._bank_crm_spent(right.user_id, right.company_id, today, today)
            right.paid_this_month = Payment._bank_crm_spent(
                right.user_id, right.company_id, today.replace(day=1), today
            )

    @api.constrains('journal_ids', 'company_id')
    def _check_journals(self):
        for right in self:
            wrong = right.journal_ids.filtered(
                lambda j: j.type not in MONEY_JOURNAL_TYPES or j.company_id != right.company_id
            )
            if wrong:
                raise ValidationError(
                    _(
                        "Rights can only grant bank and cash accounts of %(company)s: %(accounts)s",
                        company=right.company_id.name,
                        accounts=", ".join(wrong.mapped('name')),
                    )
                )

    # Record rules read the rights through res.users, and their domains are cached per
    # user: keep both fresh.
    @api.model
    def _bank_crm_rights_changed(self):
        self.env['res.users'].invalidate_model(['bank_crm_journal_ids', 'bank_crm_restricted'])
        self.env.registry.clear_cache()

    @api.model_create_multi
    def create(self, vals_list):
        rights = super().create(vals_list)
        self._bank_crm_rights_changed()
        return rights

    def write(self, vals):
        result = super().write(vals)
        if set(vals) - {'lock_counter'}:
            self._bank_crm_rights_changed()
        return result

    def unlink(self):
        result = super().unlink()
        self._bank_crm_rights_changed()
        return result

    # === CHECKS === #

    @api.model
    def _bank_crm_is_restricted(self, user=None):
        """Whether `user`'s money is governed by rights: a user of the Account groups who is
        neither an Account Director nor an accountant (accountants see all of accounting)."""
        user = user or self.env.user
        return (
            user.has_group('odoo_bank_crm.group_bank_crm_user')
            and not user.has_group('odoo_bank_crm.group_bank_crm_director')
            and not user.has_group('account.group_account_readonly')
        )

    @api.model
    def _bank_crm_right_of(self, user=None, company=None):
        user = user or self.env.user
        company = company or self.env.company
        # sudo: a user's own right in a company, which decides what they may do (they cannot read the table)
        return self.sudo().search([('user_id', '=', user.id), ('company_id', '=', company.id)], limit=1)

    @api.model
    def _bank_crm_allows(self, operation, journals=None, user=None, company=None):
        """True when `user` may run `operation` (a boolean field of the right), on every journal of
        `journals` if given."""
        user = user or self.env.user
        if self.env.su and user == self.env.user or not self._bank_crm_is_restricted(user):
            return True
        return self._bank_crm_right_of(user, company)._bank_crm_grants(operation, journals)

    def _bank_crm_grants(self, operation, journals=None):
        """What this right (or its absence: an empty recordset) allows: `operation` on every
        bank, cash and card account of `journals`, if given."""
        if not self:
            return operation in DEFAULT_WITHOUT_RIGHT and not journals
        if not self[operation]:
            return False
        if not journals:
            return True
        # sudo: the type of the journals asked about, nothing else of them
        return not (journals.sudo().filtered(lambda j: j.type in MONEY_JOURNAL_TYPES)._origin - self.journal_ids)

    @api.model
    def _bank_crm_balance_hidden_journals(self, journals):
        """The bank, cash and card accounts of `journals` whose balances the current user's
        rights (in each account's company) do not show; the other journals have none to hide."""
        if self.env.su or not self._bank_crm_is_restricted():
            return journals.browse()
        # sudo: the type and company of journals the user reads (or reads the figures of)
        money = journals.sudo().filtered(lambda j: j.type in MONEY_JOURNAL_TYPES)
        hidden_ids = []
        for company in money.company_id:
            right = self._bank_crm_right_of(company=company)
            hidden_ids += [
                journal.id
                for journal in money
                if journal.company_id == company and not right._bank_crm_grants('can_see_balances', journal)
            ]
        return journals.browse(hidden_ids)

    @api.model
    def _bank_crm_check(self, operation, journals=None):
        """Raise a clear AccessError unless the current user may run `operation`."""
        if not self._bank_crm_allows(operation, journals):
            if journals:
                message = _(
                    "Your rights do not allow you to %(operation)s on %(accounts)s. Ask an Account Director.",
                    operation=self._bank_crm_operation_label(operation),
                    accounts=", ".join(journals.sudo().mapped('name')),  # sudo: the names the user acts on
                )
            else:
                message = _(
                    "Your rights do not allow you to %(operation)s. Ask an Account Director.",
                    operation=self._bank_crm_operation_label(operation),
                )
            raise AccessError(message)

    @api.model
    def _bank_crm_operation_label(self, operation):
        labels = {
            'can_issue_invoices': _("issue invoices"),
            'can_refund': _("refund customers"),
            'can_pay': _("make outgoing payments"),
            'can_see_balances': _("see balances"),
            'can_download_statements': _("download statements"),
        }
        return labels[operation]

    def _bank_crm_counterparty_allowed(self, partner):
        self.ensure_one()
        if not self.partner_ids and not self.partner_category_ids:
            return True
        commercial = partner.commercial_partner_id
        return bool(
            commercial & self.partner_ids
            or partner & self.partner_ids
            or (partner.category_id | commercial.category_id) & self.partner_category_ids
        )
