import logging
from collections import defaultdict
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from markupsafe import Markup
from psycopg2 import OperationalError, errors as pg_errors

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools import is_html_empty, safe_eval

from .ir_actions_server import AUTO_INVOICE_STATE

_logger = logging.getLogger(__name__)

# The other developer's email of invoices with their payment link; a rule without a
# template lets `account.move._bank_crm_send_payment_link` use it as well.
DEFAULT_MAIL_TEMPLATE = 'odoo_bank_crm.mail_template_bank_crm_payment_link'
# `firing_key` of rules that invoice a deal once; "every time" rules key on the stage entry.
ONCE = 'once'
SEND_CRON = 'odoo_bank_crm.cron_bank_crm_auto_invoice_send'


def _bank_crm_is_plain_value(value):
    if isinstance(value, (list, tuple)):
        return all(_bank_crm_is_plain_value(item) for item in value)
    return value is None or isinstance(value, (bool, int, float, str, date))


class BankCrmAutoInvoiceRule(models.Model):
    _name = 'bank.crm.auto.invoice.rule'
    _description = "Auto-Invoice Rule"
    _order = 'stage_id, name, id'
    _check_company_auto = True

    name = fields.Char(string="Rule Name", required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one('res.company', required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related='company_id.currency_id')

    # === WHEN === #
    stage_id = fields.Many2one(
        'crm.stage',
        required=True,
        index=True,
        ondelete='cascade',
        help="The invoice is issued when a deal reaches this stage, however it gets there: dragged in the "
        "pipeline, set on the form, imported or written by another application.",
    )
    team_id = fields.Many2one(
        'crm.team', string="Sales Team", check_company=True, help="Only deals of this team; empty for every team."
    )
    frequency = fields.Selection(
        selection=[
            ('once', "Once per deal"),
            ('every_time', "Every time the deal reaches the stage"),
        ],
        string="Issue",
        required=True,
        default='once',
        help="Once per deal: a deal that leaves the stage and comes back is not invoiced again.\n"
        "Every time: each arrival in the stage issues a new invoice (several arrivals within one "
        "operation count as one).",
    )

    # === CONDITIONS === #
    min_expected_revenue = fields.Monetary(
        string="Minimum Expected Revenue",
        currency_field='currency_id',
        help="Only deals expected to bring at least this much; zero for no minimum.",
    )
    max_expected_revenue = fields.Monetary(
        string="Maximum Expected Revenue",
        currency_field='currency_id',
        help="Only deals expected to bring at most this much; zero for no maximum.",
    )
    partner_city = fields.Char(
        string="Customer's City",
        help="Only customers in this city (several cities separated by commas); case does not matter.",
    )
    partner_country_ids = fields.Many2many(
        'res.country',
        'bank_crm_auto_invoice_rule_country_rel',
        'rule_id',
        'country_id',
        string="Customer's Countries",
        help="Only customers in one of these countries.",
    )
    partner_category_ids = fields.Many2many(
        'res.partner.category',
        'bank_crm_auto_invoice_rule_partner_category_rel',
        'rule_id',
        'category_id',
        string="Customer's Tags",
        help="Only customers with one of these tags.",
    )
    lead_domain = fields.Char(
        string="Other Conditions",
        default='[]',
        help="Any other condition on the deal, e.g. its tags, source or salesperson.",
    )
    matching_lead_count = fields.Integer(
        string="Matching Deals",
        compute='_compute_matching_lead_count',
        help="Deals you can see that meet the rule's conditions now, whatever their stage: the ones it "
        "would invoice on reaching the stage.",
    )

    # === INVOICE === #
    invoice_basis = fields.Char(
        string="Basis",
        help="What the invoice is for, as the customer reads it, e.g. \"Prepayment under contract No. 7\": "
        "the invoice's source and, for the deal's amount, the wording of its line. Empty: the deal's "
        "name, and the wording set in Settings.",
    )
    invoice_mode = fields.Selection(
        selection=[
            ('amount', "The deal's amount"),
            ('items', "Products"),
        ],
        string="Invoice For",
        required=True,
        default='amount',
        help="The deal's amount: one line of the deal's expected revenue, taxes included.\nProducts: the lines below.",
    )
    line_ids = fields.One2many('bank.crm.auto.invoice.rule.line', 'rule_id', string="Products", copy=True)
    discount = fields.Float(
        string="Discount (%)", digits='Discount', help="Percentage off the whole invoice, on top of each line's price."
    )
    prices_include_tax = fields.Boolean(
        string="Prices Include Taxes", help="Whether the products' prices below already contain their taxes."
    )
    customer_notes = fields.Html(string="Comment to the Customer", help="Printed on the invoice.")
    due_days = fields.Integer(
        string="Due in (Days)",
        help="The invoice is due this many days after it is issued; zero to follow the customer's payment terms.",
    )

    # === SENDING === #
    send_mode = fields.Selection(
        selection=[
            ('send', "Send it to the customer"),
            ('review', "Leave it for review"),
        ],
        string="Once Issued",
        required=True,
        default='send',
        help="Send: the invoice is emailed with its payment link at once.\n"
        "Review: the invoice is posted but not sent; its salesperson gets an activity to review and send it.",
    )
    mail_template_id = fields.Many2one(
        'mail.template',
        string="Email Template",
        domain=[('model', '=', 'account.move')],
        default=lambda self: self.env.ref(DEFAULT_MAIL_TEMPLATE, raise_if_not_found=False),
        help="The email sent with the invoice; empty for the default one.",
    )
    payment_link_kind = fields.Selection(
        selection=[('tbank', "T-Bank payment link"), ('portal', "Odoo customer portal")],
        string="Payment Link",
        required=True,
        default=lambda self: self.env.company.bank_crm_payment_link_kind or 'tbank',
        help="What the customer pays by: the bank's payment page (cards and SBP QR code) or the invoice's "
        "page in the customer portal.",
    )

    # === BOOKKEEPING === #
    automation_id = fields.Many2one(
        'base.automation',
        string="Automation Rule",
        readonly=True,
        copy=False,
        ondelete='set null',
        help="The automation rule (Settings > Technical > Automation Rules) that runs this rule when a deal "
        "reaches its stage; created, updated and removed with it.",
    )
    firing_ids = fields.One2many('bank.crm.auto.invoice.firing', 'rule_id', string="Issued Invoices")
    invoice_count = fields.Integer(string="Invoices", compute='_compute_invoice_count')

    _sql_constraints = [
        (
            'discount_range',
            'CHECK(discount >= 0 AND discount < 100)',
            "The discount must be at least 0% and less than 100%.",
        ),
        ('due_days_positive', 'CHECK(due_days >= 0)', "The number of days to pay cannot be negative."),
    ]

    @api.constrains('min_expected_revenue', 'max_expected_revenue')
    def _check_expected_revenue(self):
        for rule in self:
            if rule.min_expected_revenue < 0 or rule.max_expected_revenue < 0:
                raise ValidationError(_("Expected revenues of a rule cannot be negative."))
            if rule.max_expected_revenue and rule.min_expected_revenue > rule.max_expected_revenue:
                raise ValidationError(
                    _("The minimum expected revenue of rule “%(rule)s” is above its maximum.", rule=rule.name)
                )

    @api.constrains('invoice_mode', 'line_ids')
    def _check_lines(self):
        for rule in self:
            if rule.invoice_mode == 'items' and not rule.line_ids:
                raise ValidationError(_("Add the products that rule “%(rule)s” invoices.", rule=rule.name))

    @api.constrains('mail_template_id')
    def _check_mail_template_id(self):
        """The email of a rule is rendered under sudo() for whoever moves a deal: it must be an
        invoice's email, and any code in it must be an administrator's
        (`mail.template._bank_crm_untrusted_reason`). Checked again when it is sent."""
        for rule in self.filtered('mail_template_id'):
            template = rule.mail_template_id
            if template.sudo().model != 'account.move':  # sudo: the model of any template it names
                raise ValidationError(
                    _(
                        "The email template of rule “%(rule)s” must be an email of invoices.",
                        rule=rule.name,
                    )
                )
            reason = template._bank_crm_untrusted_reason()
            if reason:
                raise ValidationError(reason)

    @api.constrains('lead_domain')
    def _check_lead_domain(self):
        for rule in self:
            try:
                domain = rule._bank_crm_extra_domain()
                with self.env.cr.savepoint(flush=False):
                    self.env['crm.lead'].search_count(domain, limit=1)
            except Exception as error:
                raise ValidationError(
                    _("The other conditions of rule “%(rule)s” are not valid: %(error)s", rule=rule.name, error=error)
                ) from None

    # === COMPUTES === #

    @api.depends(
        'company_id',
        'team_id',
        'min_expected_revenue',
        'max_expected_revenue',
        'partner_city',
        'partner_country_ids',
        'partner_category_ids',
        'lead_domain',
    )
    def _compute_matching_lead_count(self):
        Lead = self.env['crm.lead']
        for rule in self:
            try:
                domain = expression.AND([[('type', '=', 'opportunity')], rule._bank_crm_lead_domain()])
                with self.env.cr.savepoint(flush=False):
                    rule.matching_lead_count = Lead.search_count(domain)
            except Exception:  # conditions being typed in the form
                rule.matching_lead_count = 0

    @api.depends('firing_ids.invoice_id')
    def _compute_invoice_count(self):
        counts = dict(
            self.env['bank.crm.auto.invoice.firing']._read_group(
                [('rule_id', 'in', self.ids), ('invoice_id', '!=', False)], ['rule_id'], ['__count']
            )
        )
        for rule in self:
            rule.invoice_count = counts.get(rule._origin, 0)

    # === CRUD: the automation rule follows the rule === #

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        rules._bank_crm_sync_automation()
        return rules

    def write(self, vals):
        result = super().write(vals)
        # sudo: whether these rules' own automations exist (Odoo's technical records)
        if {'name', 'stage_id', 'active'} & set(vals) or any(not rule.automation_id for rule in self.sudo()):
            self._bank_crm_sync_automation()
        return result

    def unlink(self):
        # through the ORM, before the rules: their server actions, then their automations
        # sudo: these rules' own server actions and automations, which their managers cannot delete
        self.env['ir.actions.server'].sudo().search([('bank_crm_auto_invoice_rule_id', 'in', self.ids)]).unlink()
        self.sudo().automation_id.unlink()  # sudo: as above
        return super().unlink()

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        if 'name' not in (default or {}):
            for rule, vals in zip(self, vals_list):
                vals['name'] = _("%s (copy)", rule.name)
        return vals_list

    def _bank_crm_automation_values(self):
        """What the rule's automation must say: Odoo's "Stage is set to" trigger on deals."""
        self.ensure_one()
        return {
            'name': _("Issue invoice: %(rule)s", rule=self.name),
            'model_id': self.env['ir.model']._get_id('crm.lead'),
            'trigger': 'on_stage_set',
            'trg_field_ref': self.stage_id.id,
            'active': self.active,
        }

    def _bank_crm_sync_automation(self):
        """Create the rule's automation and its server action, or bring them in step with the
        rule (name, stage, active). Done as superuser: managers of rules need no rights on
        Odoo's technical automation records."""
        Automation = self.env['base.automation'].sudo()  # sudo: see the docstring
        lead_model_id = self.env['ir.model']._get_id('crm.lead')
        to_create = []
        for rule in self.sudo():  # sudo: these rules' own automations
            values = rule._bank_crm_automation_values()
            automation = rule.automation_id
            if not automation:
                to_create.append(rule)
                continue
            changes = {
                name: value
                for name, value in values.items()
                if (automation[name].id if name == 'model_id' else automation[name]) != value
            }
            if not automation.action_server_ids.filtered(
                lambda a: a.state == AUTO_INVOICE_STATE and a.bank_crm_auto_invoice_rule_id == rule
            ):
                changes['action_server_ids'] = [Command.create(rule._bank_crm_action_values(lead_model_id))]
            if changes:
                automation.write(changes)
        if to_create:
            automations = Automation.create(
                [
                    {
                        **rule._bank_crm_automation_values(),
                        'description': Markup("<p>%s</p>")
                        % self.env._(
                            "Kept in step with the auto-invoice rule “%(rule)s” (Account > Auto-Invoice Rules): "
                            "change the rule there.",
                            rule=rule.name,
                        ),
                        'action_server_ids': [Command.create(rule._bank_crm_action_values(lead_model_id))],
                    }
                    for rule in to_create
                ]
            )
            for rule, automation in zip(to_create, automations):
                rule.automation_id = automation
            # an external id of the addon, so that uninstalling it removes the automations too
            # sudo: the external ids of the automations just created, nothing else
            self.env['ir.model.data'].sudo().create(
                [
                    {
                        'module': 'odoo_bank_crm',
                        'name': f'auto_invoice_rule_{rule.id}_automation_{automation.id}',
                        'model': 'base.automation',
                        'res_id': automation.id,
                        'noupdate': True,
                    }
                    for rule, automation in zip(to_create, automations)
                ]
            )

    def _bank_crm_action_values(self, lead_model_id):
        self.ensure_one()
        return {
            'name': _("Issue invoice: %(rule)s", rule=self.name),
            'model_id': lead_model_id,
            'usage': 'base_automation',
            'state': AUTO_INVOICE_STATE,
            'bank_crm_auto_invoice_rule_id': self.id,
        }

    # === CONDITIONS === #

    def _bank_crm_cities(self):
        return [city.strip() for city in (self.partner_city or '').split(',') if city.strip()]

    def _bank_crm_extra_domain(self):
        """The "other conditions" as a domain. A domain is data: it is evaluated with ids
        and dates only, the way Odoo evaluates saved filters (ir.filters), never with a
        record in scope, so that the text a rule's author writes can neither reach a record
        nor call a method; and what it gives must be a domain of plain values."""
        self.ensure_one()
        if not self.lead_domain:
            return []
        eval_context = {
            'datetime': safe_eval.datetime,
            'dateutil': safe_eval.dateutil,
            'time': safe_eval.time,
            'relativedelta': relativedelta,
            'context_today': safe_eval.datetime.datetime.today,
            'uid': self.env.uid,
            'company_id': self.company_id.id or self.env.company.id,
            'company_ids': self.env.companies.ids,
        }
        domain = safe_eval.safe_eval(self.lead_domain, eval_context)
        self._bank_crm_check_plain_domain(domain)
        return expression.normalize_domain(domain)

    def _bank_crm_check_plain_domain(self, domain):
        """Raise ValueError unless `domain` is a domain of plain values (no record, no callable)."""
        if not isinstance(domain, (list, tuple)):
            raise ValueError(_("a domain is a list of conditions"))
        for element in domain:
            if element in expression.DOMAIN_OPERATORS:
                continue
            if not (isinstance(element, (list, tuple)) and len(element) == 3):
                raise ValueError(_("%(element)r is not a condition", element=element))
            path, operator, value = element
            if not (isinstance(path, str) or path in (0, 1)) or operator not in expression.TERM_OPERATORS:
                raise ValueError(_("%(element)r is not a condition", element=element))
            if not _bank_crm_is_plain_value(value):
                raise ValueError(_("the value of %(path)s is not plain data", path=path))

    def _bank_crm_lead_domain(self):
        """The deals the rule applies to, whatever their stage (all its conditions but the stage)."""
        self.ensure_one()
        domain = [('company_id', 'in', [self.company_id.id or self.env.company.id, False])]
        if self.team_id:
            domain.append(('team_id', '=', self.team_id.id))
        if self.min_expected_revenue:
            domain.append(('expected_revenue', '>=', self.min_expected_revenue))
        if self.max_expected_revenue:
            domain.append(('expected_revenue', '<=', self.max_expected_revenue))
        cities = self._bank_crm_cities()
        if cities:
            domain = expression.AND([domain, expression.OR([[('partner_id.city', '=ilike', city)] for city in cities])])
        if self.partner_country_ids:
            domain.append(('partner_id.country_id', 'in', self.partner_country_ids.ids))
        if self.partner_category_ids:
            domain.append(('partner_id.category_id', 'in', self.partner_category_ids.ids))
        return expression.AND([domain, self._bank_crm_extra_domain()])

    def _bank_crm_unfit_reason(self):
        """Why the rule cannot invoice anything as it stands, or None."""
        self.ensure_one()
        if not self.active:
            return _("The rule “%(rule)s” is archived.", rule=self.name)
        if self.invoice_mode == 'items':
            if not self.line_ids:
                return _("The rule “%(rule)s” has no products to invoice.", rule=self.name)
            unusable = self.line_ids.product_id.filtered(
                lambda p: not p.active or (p.company_id and p.company_id != self.company_id)
            )
            if unusable:
                return _(
                    "The rule “%(rule)s” invoices products that can no longer be sold here: %(products)s.",
                    rule=self.name,
                    products=", ".join(unusable.mapped('display_name')),
                )
        return None

    # === ISSUING === #

    def _bank_crm_firing_key(self, lead):
        """What tells two arrivals of `lead` in the stage apart: nothing for "once" rules; the
        time of the stage change (Odoo's `date_last_stage_update`, the operation's time) for
        "every time" rules."""
        if self.frequency == 'once':
            return ONCE
        return fields.Datetime.to_string(lead.date_last_stage_update or fields.Datetime.now())

    def _bank_crm_invoice_spec(self, lead):
        """The invoice of `lead` as `account.move._bank_crm_create_invoice` wants it."""
        self.ensure_one()
        spec = {
            'partner': lead.partner_id,
            'lead': lead,
            'mode': self.invoice_mode,
            'discount': self.discount,
            'invoice_origin': self.invoice_basis or lead.name,
            'customer_notes': False if is_html_empty(self.customer_notes) else self.customer_notes,
            'salesperson': lead.user_id or None,
        }
        if self.due_days:
            spec['due_date'] = fields.Date.context_today(self) + timedelta(days=self.due_days)
        if self.invoice_mode == 'amount':
            spec.update(amount=lead.expected_revenue, description=self.invoice_basis or None)
        else:
            spec.update(
                prices_include_tax=self.prices_include_tax,
                lines=[
                    {
                        'product': line.product_id,
                        'name': line.name or None,
                        'quantity': line.quantity,
                        'price_unit': line.price_unit or None,  # zero: the product's sales price
                        'tax_ids': None,
                    }
                    for line in self.line_ids
                ],
            )
        return spec

    def _bank_crm_issue_invoices(self, leads):
        """Issue the rule's invoice for each of `leads` that meets its conditions and has not
        had it yet (for this arrival in the stage, for "every time" rules).

        Batch work: the conditions are one search over the batch, what was already issued
        one more; then each deal gets its invoice in its own savepoint, so that a deal that
        fails (no customer, no email, no price...) leaves nothing half-done and does not
        stop the others nor the stage change: its salesperson gets an activity and the deal
        a note saying why.

        :param leads: crm.lead records that just reached the rule's stage
        :return: the invoices issued (account.move)
        """
        self.ensure_one()
        Move = self.env['account.move']
        leads = leads.exists()
        if not leads:
            return Move
        failures = {}  # lead: reason
        in_stage = leads.filtered(lambda lead: lead.stage_id == self.stage_id)
        for lead in leads - in_stage:
            failures[lead] = _(
                "The rule “%(rule)s” invoices deals in stage %(stage)s; this deal is in %(current)s.",
                rule=self.name,
                stage=self.stage_id.display_name,
                current=lead.stage_id.display_name or _("no stage"),
            )
        matching, unfit = self.env['crm.lead'], None
        if in_stage:
            try:
                domain = expression.AND([[('id', 'in', in_stage.ids)], self._bank_crm_lead_domain()])
                with self.env.cr.savepoint(flush=False):
                    matching = self.env['crm.lead'].with_context(active_test=False).search(domain)
            except OperationalError:
                raise
            except Exception as error:  # e.g. the other conditions name a field that was removed
                unfit = _("The conditions of rule “%(rule)s” cannot be checked: %(error)s", rule=self.name, error=error)
                matching = in_stage
        to_invoice = self._bank_crm_not_yet_invoiced(matching.with_env(self.env))
        unfit = unfit or (to_invoice and self._bank_crm_unfit_reason())
        if unfit:
            failures.update(dict.fromkeys(to_invoice, unfit))
            to_invoice = self.env['crm.lead']
        invoices, issued = self._bank_crm_issue_for(to_invoice, failures)
        self._bank_crm_announce(issued, failures)
        return invoices

    def _bank_crm_not_yet_invoiced(self, leads):
        """`leads` but those the rule already invoiced (for this arrival in the stage)."""
        if not leads:
            return leads
        # sudo: the rules' bookkeeping of firings, which no user edits; read for `leads` only
        Firing = self.env['bank.crm.auto.invoice.firing'].sudo()
        keys = {lead: self._bank_crm_firing_key(lead) for lead in leads}
        domain = [('rule_id', '=', self.id), ('lead_id', 'in', leads.ids)]
        if self.frequency != 'once':
            domain.append(('firing_key', 'in', list(set(keys.values()))))
        firings = Firing.search_fetch(domain, ['lead_id', 'firing_key'])
        done = {(firing.lead_id.id, firing.firing_key) for firing in firings}
        if self.frequency == 'once':
            done_leads = {lead_id for lead_id, _key in done}
            return leads.filtered(lambda lead: lead.id not in done_leads)
        return leads.filtered(lambda lead: (lead.id, keys[lead]) not in done)

    def _bank_crm_issue_for(self, leads, failures):
        """One savepoint per deal: the claim (unique per rule, deal and arrival) and the
        posted invoice. Invoices to send are queued for the sending job (`firing._cron_...`):
        the email (its PDF, the bank's payment link) never weighs on the stage change.
        Returns (invoices, [(lead, invoice)])."""
        # sudo: the rules' bookkeeping of firings, written for these leads only
        Firing = self.env['bank.crm.auto.invoice.firing'].sudo()
        Move = self.env['account.move'].with_company(self.company_id)
        send = self.send_mode == 'send'
        invoices, issued = self.env['account.move'], []
        for lead in leads:
            if send and lead.partner_id and not lead.partner_id.email:
                # caught here rather than by the sender: no invoice that cannot be sent
                failures[lead] = _(
                    "%(customer)s has no email address to send the invoice to: add one, and the "
                    "invoice will be issued the next time the deal reaches the stage.",
                    customer=lead.partner_id.display_name,
                )
                continue
            try:
                with self.env.cr.savepoint():
                    firing = Firing.create(
                        {
                            'rule_id': self.id,
                            'lead_id': lead.id,
                            'stage_id': self.stage_id.id,
                            'stage_entry_date': lead.date_last_stage_update,
                            'firing_key': self._bank_crm_firing_key(lead),
                            'send_state': 'to_send' if send else 'review',
                        }
                    )
                    invoice = Move._bank_crm_create_invoice(self._bank_crm_invoice_spec(lead))
                    firing.invoice_id = invoice
            except pg_errors.UniqueViolation as error:
                if error.diag.constraint_name != 'bank_crm_auto_invoice_firing_firing_unique':
                    failures[lead] = self._bank_crm_unexpected(lead, error)
                # else: a concurrent transaction issued it first
            except OperationalError:
                raise  # serialization failures: let Odoo retry the whole request
            except (UserError, ValidationError) as error:
                failures[lead] = error.args[0]
            except Exception as error:
                failures[lead] = self._bank_crm_unexpected(lead, error)
            else:
                invoices |= invoice
                issued.append((lead, invoice))
        if send and issued:
            self.env.ref(SEND_CRON)._trigger()
        return invoices, issued

    def _bank_crm_unexpected(self, lead, error):
        _logger.warning("Auto-invoice rule %s could not invoice deal %s", self.id, lead.id, exc_info=error)
        return _("Unexpected error: %(error)s", error=error)

    def _bank_crm_announce(self, issued, failures):
        """Tell people what happened: a note on each invoiced deal, a "review and send"
        activity on invoices left for review, a note and an activity on each deal that
        could not be invoiced."""
        if issued:
            sent = self.send_mode == 'send'
            body = Markup(
                _(
                    "Invoice %(invoice)s was issued by the rule “%(rule)s”; it is being emailed to the "
                    "customer with its payment link."
                )
                if sent
                else _("Invoice %(invoice)s was issued by the rule “%(rule)s”; it waits for review before being sent.")
            )
            leads = self.env['crm.lead'].browse(lead.id for lead, _invoice in issued)
            leads._message_log_batch(
                bodies={
                    lead.id: body % {'invoice': invoice._get_html_link(), 'rule': self.name} for lead, invoice in issued
                }
            )
            if not sent:
                by_user = defaultdict(lambda: self.env['account.move'])
                for lead, invoice in issued:
                    by_user[lead.user_id or invoice.invoice_user_id or self.env.user] |= invoice
                for user, invoices in by_user.items():
                    invoices.activity_schedule(
                        'mail.mail_activity_data_todo',
                        user_id=user.id,
                        summary=_("Review and send the invoice"),
                        note=_(
                            "Issued automatically by the rule “%(rule)s” when the deal reached %(stage)s.",
                            rule=self.name,
                            stage=self.stage_id.display_name,
                        ),
                    )
        for lead, reason in failures.items():
            self._bank_crm_tell_failure(
                lead,
                _("Invoice not issued: %(rule)s", rule=self.name),
                _("The rule “%(rule)s” did not issue an invoice: %(reason)s", rule=self.name, reason=reason),
            )

    def _bank_crm_tell_failure(self, lead, summary, note):
        """A note on the deal and an activity for its salesperson."""
        lead.message_post(body=note, subtype_xmlid='mail.mt_note')
        lead.activity_schedule(
            'mail.mail_activity_data_todo',
            user_id=(lead.user_id or lead.team_id.user_id or self.env.user).id,
            summary=summary,
            note=note,
        )

    # === ACTIONS === #

    def action_bank_crm_view_matching_leads(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('crm.crm_lead_opportunities')
        action.update(
            {
                'name': _("Deals Matching %(rule)s", rule=self.name),
                'domain': expression.AND([[('type', '=', 'opportunity')], self._bank_crm_lead_domain()]),
                'context': {'default_type': 'opportunity', 'search_default_stage': 1},
            }
        )
        return action

    def action_bank_crm_view_invoices(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('account.action_move_out_invoice_type')
        action.update(
            {
                'domain': [('id', 'in', self.firing_ids.invoice_id.ids)],
                'context': {'default_move_type': 'out_invoice', 'create': False},
            }
        )
        return action

    def action_bank_crm_view_automation(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'res_model': 'base.automation',
            'res_id': self.automation_id.id,
            'view_mode': 'form',
            'views': [(False, 'form')],
        }


class BankCrmAutoInvoiceRuleLine(models.Model):
    _name = 'bank.crm.auto.invoice.rule.line'
    _description = "Product of an Auto-Invoice Rule"
    _order = 'sequence, id'
    _check_company_auto = True

    rule_id = fields.Many2one('bank.crm.auto.invoice.rule', required=True, ondelete='cascade', index=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(related='rule_id.company_id')
    currency_id = fields.Many2one(related='rule_id.currency_id')
    product_id = fields.Many2one('product.product', required=True, check_company=True, domain=[('sale_ok', '=', True)])
    name = fields.Char(string="Description", help="Empty: the product's name.")
    quantity = fields.Float(default=1.0, digits='Product Unit of Measure', required=True)
    price_unit = fields.Float(
        string="Unit Price", digits='Product Price', help="Zero: the product's sales price when the invoice is issued."
    )

    _sql_constraints = [
        ('quantity_positive', 'CHECK(quantity > 0)', "The quantity of a product to invoice must be more than zero."),
        ('price_unit_positive', 'CHECK(price_unit >= 0)', "Prices cannot be negative; use a discount instead."),
    ]
