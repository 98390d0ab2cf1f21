from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = 'account.move'

    bank_crm_lead_id = fields.Many2one(
        'crm.lead', string="Deal", index='btree_not_null', copy=False, tracking=True,
        domain="[('type', '=', 'opportunity')]",
        help="The CRM deal this invoice was issued for.")
    bank_crm_payer_name = fields.Char(string="Payer Name", help="The person who pays, when not the customer.")
    bank_crm_payer_company = fields.Char(string="Payer Company", help="The company that pays, as it should read on the invoice.")
    bank_crm_order_status = fields.Char(string="Order Status", help="The order's status as the customer should see it, e.g. \"Ready to ship\".")
    bank_crm_notified_paid = fields.Monetary(
        string="Paid Amount Announced", copy=False, readonly=True,
        help="How much of this invoice's payment the salesperson was already told about.")

    def _bank_crm_on_payment_received(self):
        """One place for every way money reaches an invoice (acquiring, bank transfer,
        manual payment): announce on its deal what was paid since the last announcement."""
        for invoice in self.filtered(lambda m: m.move_type == 'out_invoice' and m.state == 'posted'):
            paid = invoice.amount_total - invoice.amount_residual
            new_amount = invoice.currency_id.round(paid - invoice.bank_crm_notified_paid)
            if new_amount <= 0:
                continue
            invoice.bank_crm_notified_paid = paid
            if invoice.bank_crm_lead_id:
                invoice.bank_crm_lead_id._bank_crm_payment_received(invoice, new_amount)

    def _bank_crm_tbank_payment_link(self, provider=None, redirect_due_date=None, success_url=None, fail_url=None):
        """The bank's payment link for what is due on this invoice: a T-Bank transaction
        registered with Init, reused while it is still open for the same amount.

        :param provider: the T-Bank payment provider (default: the company's enabled or test one)
        :param datetime redirect_due_date: when the link expires (timezone-aware)
        :param str success_url: where the bank sends the customer after paying (default: Odoo's /payment/status)
        :param str fail_url: where the bank sends the customer when the payment fails (same default)
        :return: (payment.transaction, PaymentURL)
        """
        self.ensure_one()
        if self.move_type != 'out_invoice' or self.state != 'posted':
            raise UserError(_("Only a posted customer invoice can be paid online."))
        if self.currency_id.is_zero(self.amount_residual):
            raise UserError(_("Invoice %(invoice)s has nothing left to pay.", invoice=self.name))
        provider = provider or self.env['payment.provider'].sudo().search([
            ('code', '=', 'tbank'), ('state', 'in', ('enabled', 'test')),
            *self.env['payment.provider']._check_company_domain(self.company_id),
        ], limit=1)
        if not provider:
            raise UserError(_("T-Bank acquiring is not set up: enable the T-Bank payment provider first."))
        Transaction = self.env['payment.transaction'].sudo()
        open_tx = Transaction.search([
            ('invoice_ids', 'in', self.ids), ('provider_id', '=', provider.id),
            ('state', 'in', ('draft', 'pending')), ('tbank_payment_url', '!=', False),
        ], order='id desc', limit=1)
        if open_tx and self.currency_id.compare_amounts(open_tx.amount, self.amount_residual) == 0:
            return open_tx, open_tx.tbank_payment_url
        tx = Transaction.create({
            'provider_id': provider.id,
            'payment_method_id': self.env.ref('payment.payment_method_card').id,
            'reference': Transaction._compute_reference('tbank', invoice_ids=[Command.set(self.ids)]),
            'amount': self.amount_residual,
            'currency_id': self.currency_id.id,
            'partner_id': self.partner_id.id,
            'operation': 'online_redirect',
            'invoice_ids': [Command.set(self.ids)],
        })
        return tx, tx._tbank_init_payment(redirect_due_date=redirect_due_date, success_url=success_url, fail_url=fail_url)

    # === BUILDING INVOICES === #
    # One way to build an invoice from the CRM: the "Issue invoice" wizard, the
    # stage-triggered rules and the shop API all describe the invoice as a `spec` and
    # call `_bank_crm_create_invoice`.

    @api.model
    def _bank_crm_create_invoice(self, spec):
        """Create and post a customer invoice from a plain description.

        :param dict spec:
            partner (res.partner, required), lead (crm.lead or None), currency (res.currency or None),
            mode: 'amount' (one line for `amount`, tax included, `description`) or 'items';
            lines: for 'items', dicts of product (product.product or None), name, quantity,
                   price_unit, discount (percent), tax_ids (account.tax; None → the product's);
            prices_include_tax: whether the items' prices already contain their taxes;
            discount: percent off the whole invoice (combined with each line's);
            payer_name, payer_company, order_status, customer_notes, invoice_origin,
            invoice_date, due_date (date or None → payment terms), salesperson (res.users or None)
        :return: the posted account.move
        :raise UserError: with a message for the user when the spec cannot make an invoice
        """
        partner = spec.get('partner')
        if not partner:
            raise UserError(_("Choose the customer to invoice."))
        lead = spec.get('lead') or self.env['crm.lead']
        company = (lead.company_id or self.env.company)
        currency = spec.get('currency') or company.currency_id
        global_discount = float(spec.get('discount') or 0.0)
        if not 0 <= global_discount < 100:
            raise UserError(_("The discount on the invoice must be between 0 and 100%."))
        if spec.get('mode', 'items') == 'amount':
            lines = [self._bank_crm_amount_line(spec, company)]
            prices_include_tax = True
        else:
            lines = spec.get('lines') or []
            prices_include_tax = bool(spec.get('prices_include_tax'))
        if not lines:
            raise UserError(_("Add at least one product or service to invoice."))
        line_commands = [Command.create(self._bank_crm_invoice_line_vals(
            line, company, prices_include_tax, global_discount)) for line in lines]
        values = {
            'move_type': 'out_invoice',
            'company_id': company.id,
            'partner_id': partner.id,
            'currency_id': currency.id,
            'bank_crm_lead_id': lead.id,
            'invoice_user_id': (spec.get('salesperson') or lead.user_id or self.env.user).id,
            'invoice_origin': spec.get('invoice_origin') or lead.name or False,
            'invoice_line_ids': line_commands,
            'bank_crm_payer_name': spec.get('payer_name') or False,
            'bank_crm_payer_company': spec.get('payer_company') or False,
            'bank_crm_order_status': spec.get('order_status') or False,
            'narration': spec.get('customer_notes') or False,
        }
        if spec.get('invoice_date'):
            values['invoice_date'] = spec['invoice_date']
        if spec.get('due_date'):
            values.update(invoice_date_due=spec['due_date'], invoice_payment_term_id=False)
        with self.env.cr.savepoint():  # a refused invoice leaves nothing behind
            invoice = self.with_company(company).create(values)
            if invoice.currency_id.compare_amounts(invoice.amount_total, 0) <= 0:
                raise UserError(_("The invoice total must be more than zero."))
            invoice.action_post()
        return invoice

    @api.model
    def _bank_crm_amount_line(self, spec, company):
        """The single line of an "amount only" invoice: the product and wording set in Settings."""
        amount = spec.get('amount') or 0.0
        if amount <= 0:
            raise UserError(_("The amount to invoice must be more than zero."))
        product = company.bank_crm_amount_product_id
        name = spec.get('description') or company.bank_crm_amount_label or (product and product.display_name)
        if not name:
            raise UserError(_("Describe what the invoice is for, or set the wording of amount-only "
                              "invoices in Settings."))
        return {'product': product, 'name': name, 'quantity': 1.0, 'price_unit': amount, 'tax_ids': None}

    @api.model
    def _bank_crm_invoice_line_vals(self, line, company, prices_include_tax, global_discount):
        product = line.get('product') or self.env['product.product']
        quantity = line.get('quantity') if line.get('quantity') is not None else 1.0
        if quantity <= 0:
            raise UserError(_("The quantity of %(line)s must be more than zero.",
                              line=line.get('name') or product.display_name))
        price_unit = line.get('price_unit')
        if price_unit is None:
            if not product or not product.lst_price:
                raise UserError(_("%(product)s has no price: enter one.",
                                  product=product.display_name or line.get('name') or _("A line")))
            price_unit = product.lst_price
        if price_unit < 0:
            raise UserError(_("Prices cannot be negative; use a discount instead."))
        taxes = line.get('tax_ids')
        if taxes is None:
            taxes = product.taxes_id.filtered(lambda t: t.company_id == company) if product else \
                self.env['account.tax']
        taxes = taxes._bank_crm_variant(prices_include_tax)
        line_discount = float(line.get('discount') or 0.0)
        if not 0 <= line_discount <= 100:
            raise UserError(_("A line's discount must be between 0 and 100%."))
        discount = 100.0 * (1 - (1 - line_discount / 100.0) * (1 - global_discount / 100.0))
        return {
            'product_id': product.id or False,
            'name': line.get('name') or product.display_name,
            'quantity': quantity,
            'price_unit': price_unit,
            'discount': discount,
            'tax_ids': [Command.set(taxes.ids)],
        }
