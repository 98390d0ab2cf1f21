from collections import defaultdict

import pytz
from babel.dates import format_date as babel_format_date

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_repr

from ..ru_format import format_percent, format_rouble_amount, rouble_amount_in_words
from ..utils import notification_action, to_decimal
from .bank_crm_payment_link import qr_image_path

# The «Счёт на оплату» (docs/russian-documents.md): the invoice layout of Russian companies.
RU_INVOICE_REPORT = 'odoo_bank_crm.report_invoice_document_ru'


class AccountMove(models.Model):
    _inherit = 'account.move'

    bank_crm_lead_id = fields.Many2one(
        'crm.lead',
        string="Deal",
        index='btree_not_null',
        copy=False,
        tracking=True,
        domain="[('type', '=', 'opportunity')]",
        help="The CRM deal this invoice was issued for.",
    )
    bank_crm_payer_name = fields.Char(string="Payer Name", help="The person who pays, when not the customer.")
    bank_crm_payer_company = fields.Char(
        string="Payer Company", help="The company that pays, as it should read on the invoice."
    )
    bank_crm_order_status = fields.Char(
        string="Order Status", help="The order's status as the customer should see it, e.g. \"Ready to ship\"."
    )
    bank_crm_notified_paid = fields.Monetary(
        string="Paid Amount Announced",
        copy=False,
        readonly=True,
        help="How much of this invoice's payment the salesperson was already told about.",
    )

    def _bank_crm_on_payment_received(self):
        """One place for every way money reaches an invoice (acquiring, bank transfer,
        manual payment): announce on its deal what was paid since the last announcement."""
        payments = []
        for invoice in self.filtered(lambda m: m.move_type == 'out_invoice' and m.state == 'posted'):
            paid = invoice.amount_total - invoice.amount_residual
            new_amount = invoice.currency_id.round(paid - invoice.bank_crm_notified_paid)
            if new_amount <= 0:
                continue
            invoice.bank_crm_notified_paid = paid
            if invoice.bank_crm_lead_id:
                payments.append((invoice.bank_crm_lead_id, invoice, new_amount))
        self.env['crm.lead']._bank_crm_payments_received(payments)

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
        self.env['payment.provider']._tbank_check_currency(self.currency_id, self.name)
        # sudo: the invoice's own company's provider (its credentials stay in `_tbank_client`)
        provider = provider or self.env['payment.provider'].sudo().search(
            [
                ('code', '=', 'tbank'),
                ('state', 'in', ('enabled', 'test')),
                *self.env['payment.provider']._check_company_domain(self.company_id),
            ],
            limit=1,
        )
        if not provider:
            raise UserError(_("T-Bank acquiring is not set up: enable the T-Bank payment provider first."))
        # sudo: salespeople, the shop's user and the pay page's visitor have no rights on
        # transactions; only this invoice's are searched and created
        Transaction = self.env['payment.transaction'].sudo()
        # Only a transaction that pays this invoice alone is reused: one that also pays other
        # invoices (Odoo's portal pays several overdue invoices at once) is not this link's.
        open_tx = Transaction.search(
            [
                ('invoice_ids', 'in', self.ids),
                ('provider_id', '=', provider.id),
                ('state', 'in', ('draft', 'pending')),
                ('tbank_payment_url', '!=', False),
            ],
            order='id desc',
        ).filtered(lambda tx: tx.invoice_ids == self)[:1]
        if open_tx and self.currency_id.compare_amounts(open_tx.amount, self.amount_residual) == 0:
            return open_tx, open_tx.tbank_payment_url
        tx = Transaction.create(
            {
                'provider_id': provider.id,
                'payment_method_id': self.env.ref('payment.payment_method_card').id,
                'reference': Transaction._compute_reference('tbank', invoice_ids=[Command.set(self.ids)]),
                'amount': self.amount_residual,
                'currency_id': self.currency_id.id,
                'partner_id': self.partner_id.id,
                'operation': 'online_redirect',
                'invoice_ids': [Command.set(self.ids)],
            }
        )
        return tx, tx._tbank_init_payment(
            redirect_due_date=redirect_due_date, success_url=success_url, fail_url=fail_url
        )

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
        company = lead.company_id or self.env.company
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
        line_commands = [
            Command.create(self._bank_crm_invoice_line_vals(line, company, prices_include_tax, global_discount))
            for line in lines
        ]
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
            raise UserError(
                _("Describe what the invoice is for, or set the wording of amount-only invoices in Settings.")
            )
        return {'product': product, 'name': name, 'quantity': 1.0, 'price_unit': amount, 'tax_ids': None}

    @api.model
    def _bank_crm_invoice_line_vals(self, line, company, prices_include_tax, global_discount):
        product = line.get('product') or self.env['product.product']
        quantity = line.get('quantity') if line.get('quantity') is not None else 1.0
        if quantity <= 0:
            raise UserError(
                _("The quantity of %(line)s must be more than zero.", line=line.get('name') or product.display_name)
            )
        price_unit = line.get('price_unit')
        if price_unit is None:
            if not product or not product.lst_price:
                raise UserError(
                    _(
                        "%(product)s has no price: enter one.",
                        product=product.display_name or line.get('name') or _("A line"),
                    )
                )
            price_unit = product.lst_price
        if price_unit < 0:
            raise UserError(_("Prices cannot be negative; use a discount instead."))
        taxes = line.get('tax_ids')
        if taxes is None:
            taxes = product.taxes_id.filtered(lambda t: t.company_id == company) if product else self.env['account.tax']
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

    # === PAYMENT LINKS === #
    # The link a customer pays an invoice by: the bank's (behind the invoice's pay page,
    # with the SBP QR code) or Odoo's customer portal. Every link issued is kept in
    # bank.crm.payment.link; the wizard, the stage-triggered rules and the chatter send
    # them with `_bank_crm_send_payment_link`.

    bank_crm_payment_link_ids = fields.One2many(
        'bank.crm.payment.link', 'invoice_id', string="Payment Links", readonly=True, copy=False
    )
    bank_crm_payment_link_id = fields.Many2one(
        'bank.crm.payment.link', string="Last Payment Link", compute='_compute_bank_crm_payment_link'
    )
    bank_crm_payment_url = fields.Char(
        string="Payment Link",
        compute='_compute_bank_crm_payment_link',
        help="The link sent to the customer: the invoice's pay page, or its page in the customer portal.",
    )
    bank_crm_payment_link_status = fields.Selection(
        selection=lambda self: self.env['bank.crm.payment.link']._fields['status']._description_selection(self.env),
        string="Link Status",
        compute='_compute_bank_crm_payment_link',
    )
    bank_crm_sbp_qr_payload = fields.Char(
        string="SBP QR Code",
        copy=False,
        readonly=True,
        help="The Faster Payments System (SBP) link of the invoice's last bank payment link, drawn as a QR code.",
    )
    bank_crm_sbp_qr_image_url = fields.Char(
        string="SBP QR Image",
        compute='_compute_bank_crm_sbp_qr_image_url',
        help="The QR code's image drawn by Odoo's barcode route (absolute URL, for emails).",
    )
    bank_crm_sbp_qr_image_path = fields.Char(string="SBP QR Image Path", compute='_compute_bank_crm_sbp_qr_image_url')
    bank_crm_amount_paid_signed = fields.Monetary(
        string="Paid", currency_field='company_currency_id', compute='_compute_bank_crm_amount_paid_signed'
    )

    @api.depends('amount_total_signed', 'amount_residual_signed')
    def _compute_bank_crm_amount_paid_signed(self):
        for move in self:
            move.bank_crm_amount_paid_signed = move.amount_total_signed - move.amount_residual_signed

    @api.depends('bank_crm_payment_link_ids.url', 'bank_crm_payment_link_ids.status')
    def _compute_bank_crm_payment_link(self):
        for invoice in self:
            # sudo: whoever may read the invoice may see its own link (the PDF prints it), registry rights or not
            link = invoice.sudo().bank_crm_payment_link_ids.sorted(
                lambda l: (l.create_date or fields.Datetime.now(), l.id), reverse=True
            )[:1]
            invoice.bank_crm_payment_link_id = link
            invoice.bank_crm_payment_url = link.url
            invoice.bank_crm_payment_link_status = link.status

    @api.depends('bank_crm_sbp_qr_payload')
    def _compute_bank_crm_sbp_qr_image_url(self):
        for invoice in self:
            path = invoice.bank_crm_sbp_qr_payload and qr_image_path(invoice.bank_crm_sbp_qr_payload)
            invoice.bank_crm_sbp_qr_image_path = path
            invoice.bank_crm_sbp_qr_image_url = path and invoice.get_base_url().rstrip('/') + path

    def _bank_crm_customer_lang(self):
        """The language the invoice's customer reads its pages in: the customer's (the contact's,
        else its company's), else the invoicing company's, else Odoo's default, among the
        active languages (a partner may keep one that was since deactivated).

        :return: a language code
        """
        self.ensure_one()
        active = self.env['res.lang']._get_active_by('code')
        for partner in (self.partner_id, self.commercial_partner_id, self.company_id.partner_id):
            if partner.lang in active:
                return partner.lang
        default = self.env['ir.default'].sudo()._get('res.partner', 'lang')  # sudo: a global default, read only
        return default if default in active else next(iter(active))

    def _bank_crm_pay_page_url(self):
        """The invoice's pay page, opened with its portal access token (absolute URL)."""
        self.ensure_one()
        return f"{self.get_base_url().rstrip('/')}/bank_crm/pay/{self.id}?access_token={self._portal_ensure_token()}"

    def _bank_crm_ensure_payment_link(self, kind=None):
        """The invoice's payment link of `kind` that can still be paid, issued now if there is none.

        :param str kind: 'tbank' or 'portal'; default: any kind, and the company's (Settings)
            when a link must be issued
        :return: bank.crm.payment.link
        :raise UserError: when the link cannot be issued (nothing to pay, bank refused, ...)
        """
        self.ensure_one()
        # sudo: this invoice's own links, also for a user without rights on the links' registry
        usable = self.sudo().bank_crm_payment_link_ids.filtered(
            lambda link: (not kind or link.kind == kind) and link._is_usable()
        )
        if usable:
            if usable[0].kind == 'tbank':  # a bank link issued in another currency is never sent on
                self.env['payment.provider']._tbank_check_currency(self.currency_id, self.name)
            return usable[0].with_env(self.env)
        return self._bank_crm_create_payment_link(kind or self.company_id.bank_crm_payment_link_kind or 'tbank')

    def _bank_crm_create_payment_link(self, kind):
        """Issue a new payment link of `kind` and record it in the registry.

        A bank link lives until the end of the due date (Moscow time, docs/banks.md §1.3 Init
        RedirectDueDate) and brings the customer back to the pay page; its SBP QR code is
        asked with GetQr, and a terminal without SBP only leaves a note.
        """
        self.ensure_one()
        # sudo: the links' registry is written by the code only; each link created is this invoice's
        Link = self.env['bank.crm.payment.link'].sudo()
        if self.move_type != 'out_invoice' or self.state != 'posted':
            raise UserError(_("Only a posted customer invoice can get a payment link."))
        # links renewed by the customer on the pay page, or issued by automations, are the salesperson's
        user = self.invoice_user_id if (self.env.su or self.env.user.share) else self.env.user
        values = {'invoice_id': self.id, 'kind': kind, 'amount': self.amount_residual, 'user_id': user.id}
        if kind == 'portal':
            values['url'] = self.get_base_url().rstrip('/') + self.get_portal_url()
            return Link.create(values).with_env(self.env)
        self.env['payment.provider']._tbank_check_currency(self.currency_id, self.name)
        # The bank's payment behind an expired link is closed, so that Init registers a fresh one.
        stale = (
            self.sudo()  # sudo: this invoice's own expired bank links and their transactions
            .bank_crm_payment_link_ids.filtered(lambda link: link.kind == 'tbank' and not link._is_usable())
            .transaction_id
        )
        # sudo: only the open transactions behind this invoice's expired links are closed
        stale.filtered(lambda tx: tx.state in ('draft', 'pending')).sudo()._set_canceled(
            state_message=_("The payment link expired.")
        )
        expiry = Link._bank_expiry(self.invoice_date_due)
        pay_page = self._bank_crm_pay_page_url()
        tx, payment_url = self._bank_crm_tbank_payment_link(
            redirect_due_date=expiry, success_url=pay_page, fail_url=pay_page
        )
        existing = Link.search([('transaction_id', '=', tx.id)], limit=1)
        if existing:  # the open payment was reused
            return existing.with_env(self.env)
        qr_payload, note = self._bank_crm_sbp_qr(tx)
        values.update(
            {
                'url': pay_page,
                'payment_url': payment_url,
                'transaction_id': tx.id,
                'expiry_date': expiry.astimezone(pytz.utc).replace(tzinfo=None),
                'sbp_qr_payload': qr_payload,
                'note': note,
            }
        )
        self.sudo().bank_crm_sbp_qr_payload = qr_payload  # sudo: a readonly field of this invoice only
        return Link.create(values).with_env(self.env)

    def _bank_crm_sbp_qr(self, tx):
        """The SBP QR payload (GetQr, DataType PAYLOAD) of a bank payment, or (False, why not):
        the card link works without it, e.g. on a terminal without SBP."""
        try:
            response = tx.provider_id._tbank_call('get_qr', tx.provider_reference, data_type='PAYLOAD')
        except UserError as error:
            note = _("The payment link has no SBP QR code: %(error)s", error=error)
            self.message_post(body=note)
            return False, note
        return response.data, False

    def _bank_crm_send_payment_link(self, template=None):
        """Email each invoice's payment link to its customer.

        For each invoice: ensures a payment link exists (issued with the company's default
        kind when there is none that can still be paid; the context key
        `bank_crm_payment_link_kind` asks for a kind), posts the email template (or
        `template`) to the invoice's customer in the chatter, and records the link as sent.
        Used by the "Issue invoice" wizard, the stage-triggered invoice rules and the
        payment links' "Resend".

        :param mail.template template: default: "Invoice: payment link"
        :return: True
        :raise UserError: when a customer has no email address, a link cannot be issued, or
            the template has code that an administrator did not write
            (`mail.template._bank_crm_check_trusted`)
        """
        template = template or self.env.ref('odoo_bank_crm.mail_template_bank_crm_payment_link')
        # the template is rendered for the customer by whoever sends, under sudo() for the rules
        template._bank_crm_check_trusted()
        for invoice in self:
            if not invoice.partner_id.email:
                raise UserError(
                    _(
                        "%(customer)s has no email address: add one to send invoice %(invoice)s.",
                        customer=invoice.partner_id.display_name,
                        invoice=invoice.name,
                    )
                )
        kind = self.env.context.get('bank_crm_payment_link_kind')
        for invoice in self:
            link = invoice._bank_crm_ensure_payment_link(kind=kind)
            # no_new_invoice: the attached PDF is this invoice's, not a document to import into it
            invoice.with_context(no_new_invoice=True).message_post_with_source(
                template,
                message_type='comment',
                subtype_xmlid='mail.mt_comment',
                email_layout_xmlid='mail.mail_notification_layout_with_responsible_signature',
            )
            link._mark_sent()
        return True

    def action_bank_crm_send_payment_link(self):
        """Button: send the payment link (again)."""
        self._bank_crm_send_payment_link()
        return notification_action(
            _("The payment link was sent to %(emails)s.", emails=", ".join(self.partner_id.mapped('email'))),
            type='success',
        )

    def _bank_crm_pay_page_link(self):
        """The bank link the pay page shows: the invoice's last one."""
        self.ensure_one()
        return self.bank_crm_payment_link_ids.filtered(lambda link: link.kind == 'tbank')[:1]

    def _bank_crm_pay_page_state(self, link):
        """What the pay page tells the customer: paid, refunded, cancelled, processing (the bank
        holds the money and confirms it), expired (the link ran out, a fresh one is offered) or payable."""
        self.ensure_one()
        if self.state == 'cancel':
            return 'cancelled'
        if self.payment_state == 'reversed':
            return 'refunded'
        if self.payment_state in ('paid', 'in_payment') or link.transaction_id.state == 'done':
            return 'paid'
        if link.transaction_id.state == 'authorized':
            return 'processing'
        if link and not link._is_usable():
            return 'expired'
        return 'payable'

    # === «СЧЁТ НА ОПЛАТУ» (docs/russian-documents.md) === #

    def _get_name_invoice_report(self):
        """A Russian company's customer invoices print as a «Счёт на оплату», wherever Odoo
        prints an invoice: the send wizard, the mail templates' attachment (the deal card's
        "Issue invoice", stage rules, the shop API's emails), the portal and the Print menu."""
        self.ensure_one()
        if self.move_type == 'out_invoice' and self.company_id._bank_crm_is_russian():
            return RU_INVOICE_REPORT
        return super()._get_name_invoice_report()

    def _bank_crm_ru_invoice_data(self):
        """Everything the «Счёт на оплату» prints, computed here with exact amounts (Decimal,
        the currency's rounding) and formatted as Russian documents write them.

        :return: dict (see report/report_invoice_templates.xml, `report_invoice_document_ru`)
        """
        self.ensure_one()
        currency = self.currency_id
        company = self.company_id
        customer = self.commercial_partner_id
        product_lines = self.invoice_line_ids.filtered(lambda line: line.display_type == 'product')
        taxes = product_lines.tax_ids
        # prices "with VAT included" only when every VAT of the invoice is included in its price
        included = bool(taxes) and all(tax.price_include for tax in taxes)
        lines = []
        total = 0
        for number, line in enumerate(product_lines, start=1):
            amount = to_decimal(line.price_total if included else line.price_subtotal, currency)
            total += amount
            line_included = all(tax.price_include for tax in line.tax_ids)
            if line_included == included or not line.quantity:
                price = to_decimal(line.price_unit, currency)
            else:  # a line priced with VAT on an invoice priced without: its price without VAT
                price = to_decimal(line.price_subtotal / line.quantity, currency)
            name = line.name or line.product_id.display_name or ''
            if line.discount:
                name = f"{name} (скидка {format_percent(line.discount)})"
            lines.append(
                {
                    'number': number,
                    'name': name,
                    'quantity': self._bank_crm_ru_quantity(line),
                    'uom': line.product_uom_id.name or '',
                    'price': format_rouble_amount(price),
                    'amount': format_rouble_amount(amount),
                }
            )
        vat = defaultdict(int)
        for tax_line in self.line_ids.filtered(lambda line: line.display_type == 'tax'):
            # a customer invoice credits its taxes: the VAT is minus the line's amount
            vat[tax_line.tax_line_id.amount] += to_decimal(-tax_line.amount_currency, currency)
        vat_label = "В том числе НДС" if included else "Сумма НДС"
        vat_lines = [
            {'label': f"{vat_label} {format_percent(rate)}:", 'amount': format_rouble_amount(amount)}
            for rate, amount in sorted(vat.items(), reverse=True)
            if rate
        ]
        amount_total = to_decimal(self.amount_total, currency)
        if currency.name == 'RUB':
            words = rouble_amount_in_words(amount_total)
        else:
            words = currency.with_context(lang='ru_RU').amount_to_text(self.amount_total)
        bank_account = self.partner_bank_id or company.partner_id.bank_ids[:1]
        return {
            'title': f"Счёт на оплату № {self.name} от {self._bank_crm_ru_date(self.invoice_date)}",
            'due': self.invoice_date_due
            and self.invoice_date_due != self.invoice_date
            and f"Оплатить не позднее {self._bank_crm_ru_date(self.invoice_date_due)}",
            'bank': {
                'name': ', '.join(filter(None, [bank_account.bank_id.name, bank_account.bank_id.city])),
                'bic': bank_account.bank_id.bic or '',
                'corr_account': bank_account.bank_id.bank_crm_corr_account or '',
                'account': bank_account.acc_number or '',
                'recipient': bank_account.partner_id.name or company.name,
            },
            'supplier': self._bank_crm_ru_party(company.partner_id),
            'buyer': self._bank_crm_ru_party(customer),
            'company_inn': company.vat or '',
            'company_kpp': company.bank_crm_kpp or '',
            'basis': self.ref or self.invoice_origin or "Основной договор",
            'lines': lines,
            'total_label': "Итого:",
            'total': format_rouble_amount(total),
            'vat_lines': vat_lines,
            'no_vat': not vat_lines,
            'amount_total': format_rouble_amount(amount_total),
            'summary': f"Всего наименований {len(lines)}, на сумму {format_rouble_amount(amount_total)} "
            f"{'руб.' if currency.name == 'RUB' else currency.name}",
            'words': words,
        }

    @api.model
    def _bank_crm_ru_document_lang(self):
        """The language Russian documents read their records in (units, countries): Russian
        when it is active, else the context's."""
        return 'ru_RU' if 'ru_RU' in self.env['res.lang']._get_active_by('code') else self.env.lang

    @api.model
    def _bank_crm_ru_date(self, date):
        """A date as Russian documents write it: «15 января 2026 г.»."""
        return f"{babel_format_date(date, 'd MMMM y', locale='ru')} г." if date else ''

    @api.model
    def _bank_crm_ru_party(self, partner):
        """A party of a Russian document as one line: name, INN, KPP, address, phone (a
        Russian address without its country, as domestic documents write it)."""
        domestic = {partner.country_id.name} if partner.country_id.code == 'RU' else set()
        address = ', '.join(
            part.strip()
            for part in partner._display_address(without_company=True).split('\n')
            if part.strip() and part.strip() not in domestic
        )
        parts = [
            partner.name,
            partner.vat and f"ИНН {partner.vat}",
            partner.bank_crm_kpp and f"КПП {partner.bank_crm_kpp}",
            address,
            partner.phone and f"тел.: {partner.phone}",
        ]
        return ', '.join(filter(None, parts))

    @api.model
    def _bank_crm_ru_quantity(self, line):
        """A quantity without needless zeros, with a decimal comma: 2, 1,5, 0,125."""
        digits = self.env['decimal.precision'].precision_get('Product Unit of Measure')
        text = float_repr(line.quantity, digits)
        if '.' in text:
            text = text.rstrip('0').rstrip('.')
        return text.replace('.', ',')
