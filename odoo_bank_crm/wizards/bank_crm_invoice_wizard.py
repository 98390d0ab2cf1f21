from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import plaintext2html

from ..models.bank_crm_payment_link import PAYMENT_LINK_KINDS

DEFAULT_DUE_DAYS = 5


class BankCrmInvoiceWizard(models.TransientModel):
    """ "Issue invoice" from a customer or a deal: describes the invoice, hands it to the one
    invoice builder (`account.move._bank_crm_create_invoice`), issues its payment link and,
    if asked, sends it."""

    _name = 'bank.crm.invoice.wizard'
    _description = "Issue Invoice"
    _check_company_auto = True

    lead_id = fields.Many2one('crm.lead', string="Deal", readonly=True)
    partner_id = fields.Many2one(
        'res.partner',
        string="Customer",
        required=True,
        check_company=True,
        compute='_compute_partner_id',
        store=True,
        readonly=False,
        precompute=True,
    )
    partner_email = fields.Char(related='partner_id.email', string="Email")
    company_id = fields.Many2one(
        'res.company',
        required=True,
        readonly=True,
        compute='_compute_company_id',
        store=True,
        precompute=True,
    )
    currency_id = fields.Many2one(
        'res.currency',
        required=True,
        compute='_compute_currency_id',
        store=True,
        readonly=False,
        precompute=True,
    )
    mode = fields.Selection(
        selection=[('amount', "Amount only"), ('items', "Itemised")], string="Invoice", required=True, default='amount'
    )

    # Amount only
    amount = fields.Monetary(
        compute='_compute_amount',
        store=True,
        readonly=False,
        precompute=True,
        help="What the customer pays, taxes included.",
    )
    description = fields.Char(
        string="Wording",
        compute='_compute_description',
        store=True,
        readonly=False,
        precompute=True,
        help="What the invoice's single line says; the default is set in Settings.",
    )

    # Itemised
    line_ids = fields.One2many('bank.crm.invoice.wizard.line', 'wizard_id', string="Items")
    prices_include_tax = fields.Boolean(
        string="Prices Include Taxes", help="The prices typed already contain their taxes."
    )

    discount = fields.Float(string="Discount on the Invoice (%)", digits='Discount')
    amount_untaxed = fields.Monetary(string="Untaxed Amount", compute='_compute_totals')
    amount_tax = fields.Monetary(string="Taxes", compute='_compute_totals')
    amount_total = fields.Monetary(string="Total", compute='_compute_totals')

    payer_name = fields.Char(help="The person who pays, when not the customer.")
    payer_company = fields.Char(help="The company that pays, as it should read on the invoice.")
    order_status = fields.Char(help="As the customer should see it, e.g. \"Ready to ship\".")
    customer_notes = fields.Text(
        string="Notes for the Customer", help="Printed on the invoice and shown on its pay page."
    )
    due_date = fields.Date(
        required=True,
        default=lambda self: fields.Date.add(fields.Date.context_today(self), days=DEFAULT_DUE_DAYS),
        help="The customer pays by this date; a bank payment link lasts until its end (Moscow time).",
    )
    link_kind = fields.Selection(
        PAYMENT_LINK_KINDS,
        string="Payment Link",
        required=True,
        compute='_compute_link_kind',
        store=True,
        readonly=False,
        precompute=True,
    )
    send_now = fields.Boolean(
        string="Send by Email Now", compute='_compute_send_now', store=True, readonly=False, precompute=True
    )
    send_sms = fields.Boolean(string="Send by SMS Now")
    sms_available = fields.Boolean(compute='_compute_sms_available')

    # === COMPUTE METHODS === #

    @api.depends('lead_id')
    def _compute_partner_id(self):
        for wizard in self:
            if wizard.lead_id.partner_id:
                wizard.partner_id = wizard.lead_id.partner_id

    @api.depends('lead_id')
    def _compute_company_id(self):
        for wizard in self:
            wizard.company_id = wizard.lead_id.company_id or self.env.company

    @api.depends('company_id')
    def _compute_currency_id(self):
        for wizard in self:
            wizard.currency_id = wizard.company_id.currency_id

    @api.depends('lead_id')
    def _compute_amount(self):
        for wizard in self:
            if not wizard.amount and wizard.lead_id:
                due = wizard.lead_id.expected_revenue - wizard.lead_id.bank_crm_amount_invoiced
                wizard.amount = max(due, 0.0)

    @api.depends('company_id')
    def _compute_description(self):
        for wizard in self:
            if not wizard.description:
                company = wizard.company_id.with_context(lang=wizard.partner_id.lang or self.env.lang)
                wizard.description = company.bank_crm_amount_label or company.bank_crm_amount_product_id.display_name

    @api.depends('company_id')
    def _compute_link_kind(self):
        for wizard in self:
            wizard.link_kind = wizard.company_id.bank_crm_payment_link_kind or 'tbank'

    @api.depends('partner_id')
    def _compute_send_now(self):
        for wizard in self:
            wizard.send_now = bool(wizard.partner_id.email)

    @api.depends('company_id')  # a dependency, so that new records get it too
    def _compute_sms_available(self):
        self.sms_available = 'sms.sms' in self.env

    @api.depends(
        'mode',
        'amount',
        'discount',
        'prices_include_tax',
        'currency_id',
        'line_ids.quantity',
        'line_ids.price_unit',
        'line_ids.discount',
        'line_ids.tax_ids',
    )
    def _compute_totals(self):
        """A preview of the invoice's totals, computed as the invoice will compute them."""
        AccountTax = self.env['account.tax']
        for wizard in self:
            if wizard.mode == 'amount':
                wizard.update({'amount_untaxed': wizard.amount, 'amount_tax': 0.0, 'amount_total': wizard.amount})
                continue
            base_lines = [
                AccountTax._prepare_base_line_for_taxes_computation(
                    line,
                    price_unit=line.price_unit,
                    quantity=line.quantity,
                    discount=line._combined_discount(),
                    tax_ids=line.tax_ids,
                    # as the invoice will, once its taxes are swapped for their included/excluded variants
                    special_mode='total_included' if wizard.prices_include_tax else 'total_excluded',
                    currency_id=wizard.currency_id,
                    product_id=line.product_id,
                )
                for line in wizard.line_ids
            ]
            AccountTax._add_tax_details_in_base_lines(base_lines, wizard.company_id)
            AccountTax._round_base_lines_tax_details(base_lines, wizard.company_id)
            totals = AccountTax._get_tax_totals_summary(base_lines, wizard.currency_id, wizard.company_id)
            wizard.update(
                {
                    'amount_untaxed': totals['base_amount_currency'],
                    'amount_tax': totals['tax_amount_currency'],
                    'amount_total': totals['total_amount_currency'],
                }
            )

    # === ACTIONS === #

    @api.model
    def _action_open(self, context):
        self.env['bank.crm.money.right']._bank_crm_check('can_issue_invoices')
        return {
            'type': 'ir.actions.act_window',
            'name': _("Issue Invoice"),
            'res_model': self._name,
            'view_mode': 'form',
            'views': [(False, 'form')],
            'target': 'new',
            'context': {**self.env.context, **context},
        }

    def action_issue(self):
        """Build the invoice, issue its payment link and send it if asked; nothing is left
        behind when any step is refused.

        :return: the new payment link, in a dialog that shares it
        """
        self.ensure_one()
        self.env['bank.crm.money.right']._bank_crm_check('can_issue_invoices')
        self._check_input()
        with self.env.cr.savepoint():
            invoice = (
                self.env['account.move'].with_company(self.company_id)._bank_crm_create_invoice(self._invoice_spec())
            )
            link = invoice._bank_crm_ensure_payment_link(kind=self.link_kind)
            if self.send_now:
                invoice._bank_crm_send_payment_link()
        if self.send_sms:
            self._send_sms(link)
        return {
            'type': 'ir.actions.act_window',
            'name': _("Invoice %(invoice)s issued", invoice=invoice.name),
            'res_model': 'bank.crm.payment.link',
            'res_id': link.id,
            'view_mode': 'form',
            'views': [(self.env.ref('odoo_bank_crm.bank_crm_payment_link_view_form_share').id, 'form')],
            'target': 'new',
        }

    # === BUSINESS METHODS === #

    def _check_input(self):
        """Refuse, before anything is created, what cannot make a payable invoice."""
        self.ensure_one()
        currency = self.currency_id
        if self.link_kind == 'tbank':
            self.env['payment.provider']._tbank_check_currency(currency, _("this invoice"))
        if self.mode == 'amount':
            if currency.compare_amounts(self.amount, 0) <= 0:
                raise UserError(_("The amount to invoice must be more than zero."))
        else:
            if not self.line_ids:
                raise UserError(_("Add at least one product or service to invoice."))
            for line in self.line_ids:
                label = line.name or line.product_id.display_name or _("A line")
                if line.quantity <= 0:
                    raise UserError(_("The quantity of %(line)s must be more than zero.", line=label))
                if currency.compare_amounts(line.price_unit, 0) < 0:
                    raise UserError(_("Prices cannot be negative; use a discount instead."))
                if currency.is_zero(line.price_unit):
                    raise UserError(_("%(product)s has no price: enter one.", product=label))
                if not 0 <= line.discount <= 100:
                    raise UserError(_("A line's discount must be between 0 and 100%."))
            if currency.compare_amounts(self.amount_total, 0) <= 0:
                raise UserError(_("The invoice total must be more than zero."))
        if not 0 <= self.discount < 100:
            raise UserError(_("The discount on the invoice must be between 0 and 100%."))
        if self.due_date < fields.Date.context_today(self):
            raise UserError(
                _(
                    "The due date %(date)s has already passed: choose today or a later day.",
                    date=fields.Date.to_string(self.due_date),
                )
            )
        if self.send_now and not self.partner_id.email:
            raise UserError(
                _(
                    "%(customer)s has no email address: add one, or untick \"Send by Email Now\".",
                    customer=self.partner_id.display_name,
                )
            )
        if self.send_sms and not (self.partner_id.mobile or self.partner_id.phone):
            raise UserError(
                _(
                    "%(customer)s has no phone number: add one, or untick \"Send by SMS Now\".",
                    customer=self.partner_id.display_name,
                )
            )
        if self.link_kind == 'tbank':
            provider = self._tbank_provider()
            if not provider:
                raise UserError(
                    _(
                        "T-Bank acquiring is not set up: enable the T-Bank payment provider, "
                        "or choose the customer portal link."
                    )
                )
            if currency not in provider._get_supported_currencies():
                raise UserError(
                    _(
                        "T-Bank takes payments in %(currencies)s only, not in %(currency)s: "
                        "change the currency or choose the customer portal link.",
                        currencies=", ".join(provider._get_supported_currencies().mapped('name')),
                        currency=currency.name,
                    )
                )

    def _tbank_provider(self):
        return (
            self.env['payment.provider']
            .sudo()  # sudo: salespeople may not read providers; the company's T-Bank one only
            .search(
                [
                    ('code', '=', 'tbank'),
                    ('state', 'in', ('enabled', 'test')),
                    *self.env['payment.provider']._check_company_domain(self.company_id),
                ],
                limit=1,
            )
        )

    def _invoice_spec(self):
        """The wizard as a spec of `account.move._bank_crm_create_invoice`."""
        self.ensure_one()
        spec = {
            'partner': self.partner_id,
            'lead': self.lead_id,
            'currency': self.currency_id,
            'mode': self.mode,
            'discount': self.discount,
            'payer_name': self.payer_name,
            'payer_company': self.payer_company,
            'order_status': self.order_status,
            'customer_notes': plaintext2html(self.customer_notes) if self.customer_notes else False,
            'due_date': self.due_date,
        }
        if self.mode == 'amount':
            spec.update(amount=self.amount, description=self.description)
        else:
            spec.update(
                prices_include_tax=self.prices_include_tax,
                lines=[
                    {
                        'product': line.product_id or None,
                        'name': line.name,
                        'quantity': line.quantity,
                        'price_unit': line.price_unit,
                        'discount': line.discount,
                        'tax_ids': line.tax_ids,
                    }
                    for line in self.line_ids
                ],
            )
        return spec

    def _send_sms(self, link):
        """SMS through Odoo's SMS app, only when it is installed (no hard dependency)."""
        if 'sms.sms' not in self.env:
            return
        link.invoice_id._message_sms(link._share_text(), partner_ids=self.partner_id.ids)
        link._mark_sent()


class BankCrmInvoiceWizardLine(models.TransientModel):
    _name = 'bank.crm.invoice.wizard.line'
    _description = "Issue Invoice: Item"

    wizard_id = fields.Many2one('bank.crm.invoice.wizard', required=True, ondelete='cascade')
    company_id = fields.Many2one(related='wizard_id.company_id')
    currency_id = fields.Many2one(related='wizard_id.currency_id')
    product_id = fields.Many2one('product.product', domain=[('sale_ok', '=', True)])
    name = fields.Char(
        string="Description", compute='_compute_from_product', store=True, readonly=False, precompute=True
    )
    quantity = fields.Float(digits='Product Unit of Measure', default=1.0)
    price_unit = fields.Float(
        string="Price",
        digits='Product Price',
        compute='_compute_from_product',
        store=True,
        readonly=False,
        precompute=True,
    )
    discount = fields.Float(string="Discount (%)", digits='Discount')
    tax_ids = fields.Many2many(
        'account.tax',
        string="Taxes",
        domain="[('type_tax_use', '=', 'sale'), ('company_id', 'parent_of', company_id)]",
        compute='_compute_from_product',
        store=True,
        readonly=False,
        precompute=True,
    )

    @api.depends('product_id')
    def _compute_from_product(self):
        for line in self:
            product = line.product_id
            if not product:
                continue
            company = line.company_id or self.env.company
            line.name = product.with_context(lang=line.wizard_id.partner_id.lang or self.env.lang).display_name
            line.price_unit = product.lst_price
            line.tax_ids = product.taxes_id.filtered(lambda tax: tax.company_id == company)

    def _combined_discount(self):
        """The line's discount combined with the whole invoice's, as the invoice applies it."""
        self.ensure_one()
        return 100.0 * (1 - (1 - self.discount / 100.0) * (1 - self.wizard_id.discount / 100.0))
