import json

import pydantic

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, plaintext2html
from odoo.tools.sql import column_exists

from odoo.addons.payment_tbank import const as tbank_const
from ..schemas.shop_order import ShopOrderRequest


class ShopOrderRefused(UserError):
    """A refusal of the shop API, with the machine-readable code and the HTTP status the
    controller answers with (422 for a business refusal, 502 when the bank failed)."""

    def __init__(self, message, code='refused', status=422):
        super().__init__(message)
        self.code = code
        self.status = status


class BankCrmShopOrder(models.Model):
    _name = 'bank.crm.shop.order'
    _description = "Online Shop Order"
    _order = 'id desc'
    _check_company_auto = True

    name = fields.Char(
        string="Shop Order",
        required=True,
        readonly=True,
        help="The shop's own number of the order. The same number sent again gets the first answer back.",
    )
    company_id = fields.Many2one('res.company', required=True, readonly=True, default=lambda self: self.env.company)
    shop_user_id = fields.Many2one(
        'res.users',
        readonly=True,
        index=True,
        ondelete='restrict',
        help="The integration user whose API key sent the order: its order numbers are its own.",
    )
    partner_id = fields.Many2one('res.partner', string="Customer", readonly=True)
    lead_id = fields.Many2one('crm.lead', string="Deal", readonly=True, index='btree_not_null')
    invoice_id = fields.Many2one('account.move', readonly=True)
    transaction_id = fields.Many2one('payment.transaction', string="Payment Transaction", readonly=True)
    currency_id = fields.Many2one('res.currency', readonly=True)
    amount_total = fields.Monetary(string="Amount", readonly=True)
    payment_url = fields.Char(string="Payment Link", readonly=True)
    success_url = fields.Char(string="Return URL After Payment", readonly=True)
    fail_url = fields.Char(string="Return URL After Failure", readonly=True)
    request_body = fields.Text(string="Request Received", readonly=True)
    response_body = fields.Text(
        string="Answer Sent", readonly=True, help="Sent again, unchanged, when the shop repeats the order."
    )

    _sql_constraints = [
        # Decides between two requests for the same order at once (see `_bank_crm_claim`);
        # a shop's order numbers are scoped by its API key's user.
        ('shop_order_unique', 'UNIQUE(company_id, shop_user_id, name)', "This shop order was already received."),
    ]

    def _auto_init(self):
        # Orders received before the numbers were scoped by user: their user is the one
        # whose request created them (the claim inserts them as the integration user).
        new_column = not column_exists(self.env.cr, self._table, 'shop_user_id')
        result = super()._auto_init()
        if new_column:
            self.env.cr.execute(
                SQL("UPDATE %s SET shop_user_id = create_uid WHERE shop_user_id IS NULL", SQL.identifier(self._table))
            )
        return result

    # === BUSINESS METHODS === #

    @api.model
    def _bank_crm_receive(self, order):
        """Turn a shop's order into a customer, a deal, a posted invoice and a T-Bank
        payment link, once per shop order number and company.

        Runs as the integration user, whose rights create the partner, the deal and the
        invoice; only this model's own bookkeeping is done as superuser (the user needs
        no rights on the API's log). The bank is called last, so its failure leaves
        nothing behind once the caller rolls back.

        :param order: the validated request (`schemas.ShopOrderRequest`)
        :return: (answer as JSON text, True if created now / False if answered before)
        :raise ShopOrderRefused: a business refusal or a bank failure, with its code
        """
        known = self._bank_crm_find(order.order_id)
        if known:
            return self._bank_crm_answer_again(known, order), False

        company = self.env.company
        currency = self._bank_crm_shop_currency(order)
        provider = self._bank_crm_shop_provider()
        lines = [self._bank_crm_prepare_line(item) for item in order.items]
        total = order.total()
        if currency.is_zero(float(total)):
            raise ShopOrderRefused(_("The order total is zero: there is nothing to pay online."), code='nothing_to_pay')

        shop_order = self._bank_crm_claim(order.order_id)
        if not shop_order:  # committed before this request began: answer as it was answered
            return self._bank_crm_answer_again(self._bank_crm_find(order.order_id), order), False

        partner = self._bank_crm_find_or_create_partner(order.customer)
        team = company.bank_crm_shop_team_id
        salesperson = team.user_id
        lead = self.env['crm.lead'].create(self._bank_crm_prepare_lead(order, partner, team, currency, total))
        # The CRM's one way to build an invoice; the shop's prices include their taxes.
        invoice = self.env['account.move']._bank_crm_create_invoice(
            {
                'partner': partner,
                'lead': lead,
                'currency': currency,
                'mode': 'items',
                'lines': lines,
                'prices_include_tax': True,
                'invoice_origin': order.order_id,
                'salesperson': salesperson or None,
            }
        )
        if currency.compare_amounts(invoice.amount_total, float(total)):
            # e.g. taxes rounded globally rather than per line: the customer must pay what the shop showed.
            raise ShopOrderRefused(
                _(
                    "The invoice comes to %(invoice)s while the order's items add up to %(order)s; check how "
                    "%(company)s rounds taxes (Accounting settings: per line).",
                    invoice=invoice.amount_total,
                    order=total,
                    company=company.name,
                ),
                code='amount_mismatch',
            )

        # Last: the bank. Its failure is raised, and the caller rolls everything back.
        try:
            transaction, payment_url = invoice._bank_crm_tbank_payment_link(
                provider=provider, success_url=order.success_url, fail_url=order.fail_url
            )
        except ValidationError as error:
            raise ShopOrderRefused(str(error), code='refused') from None
        except UserError as error:
            raise ShopOrderRefused(str(error), code='bank_error', status=502) from None

        answer = {
            'order_id': order.order_id,
            'deal_id': lead.id,
            'invoice_id': invoice.id,
            'invoice_number': invoice.name,
            'amount': invoice.amount_total,
            'currency': currency.name,
            'payment_url': payment_url,
        }
        response_body = json.dumps(answer, ensure_ascii=False)
        shop_order.write(
            {
                'partner_id': partner.id,
                'lead_id': lead.id,
                'invoice_id': invoice.id,
                'transaction_id': transaction.id,
                'currency_id': currency.id,
                'amount_total': invoice.amount_total,
                'payment_url': payment_url,
                'success_url': order.success_url,
                'fail_url': order.fail_url,
                'request_body': order.model_dump_json(indent=2),
                'response_body': response_body,
            }
        )
        return response_body, True

    @api.model
    def _bank_crm_find(self, shop_order_id):
        """The order this shop (the API key's user) already sent under this number in the
        current company. Another shop's order of the same number is not it."""
        # sudo: the integration user needs no rights on the API's log
        return self.sudo().search(
            [
                ('company_id', '=', self.env.company.id),
                ('shop_user_id', '=', self.env.uid),
                ('name', '=', shop_order_id),
            ],
            limit=1,
        )

    @api.model
    def _bank_crm_answer_again(self, known, order):
        """The first answer to this order number, when the same order is sent again; a
        different order under a number already used is refused (409), never answered with
        another order's link. "The same" is the same validated order: the JSON may differ
        in spacing, key order or how its numbers are written."""
        try:
            same = ShopOrderRequest.model_validate_json(known.request_body or '') == order
        except pydantic.ValidationError:
            same = False
        if not same:
            raise ShopOrderRefused(
                _(
                    "The order number %(order)s was already used for a different order: send a new order under "
                    "a new number.",
                    order=order.order_id,
                ),
                code='order_conflict',
                status=409,
            )
        return known.response_body

    @api.model
    def _bank_crm_claim(self, shop_order_id):
        """Reserve the shop order number for this request, before anything is created.

        Two requests for the same number at once: the unique key decides. The second one
        waits on the first one's row; if the first one commits, PostgreSQL refuses the
        second (a serialization failure in Odoo's repeatable-read transactions), Odoo
        retries the whole request, and the retry answers with the first one's result. If
        the first one rolls back, the second one gets the number.

        :return: the new record (as superuser), or an empty recordset if the number was
            already taken by a transaction this one can see
        """
        self.env.cr.execute(
            SQL(
                """
            INSERT INTO bank_crm_shop_order (name, company_id, shop_user_id,
                                             create_uid, create_date, write_uid, write_date)
            VALUES (%(name)s, %(company)s, %(uid)s,
                    %(uid)s, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC')
            ON CONFLICT (company_id, shop_user_id, name) DO NOTHING
            RETURNING id
            """,
                name=shop_order_id,
                company=self.env.company.id,
                uid=self.env.uid,
            ),
            log_exceptions=False,
        )  # a lost race is retried by Odoo, not an error to log
        row = self.env.cr.fetchone()
        # sudo: the order just claimed by this shop, the API's log (see `_bank_crm_find`)
        return self.sudo().browse(row[0] if row else ())

    # === PREPARATION === #

    @api.model
    def _bank_crm_shop_currency(self, order):
        """The currency of the order (roubles unless the shop says otherwise), which the
        invoice is in and the bank must accept."""
        code = (order.currency or tbank_const.SUPPORTED_CURRENCIES[0]).upper()
        if code not in tbank_const.SUPPORTED_CURRENCIES:
            raise ShopOrderRefused(
                _(
                    "T-Bank acquiring takes payments in %(supported)s only, not in %(currency)s.",
                    supported=", ".join(tbank_const.SUPPORTED_CURRENCIES),
                    currency=code,
                ),
                code='currency_not_supported',
            )
        currency = self.env['res.currency'].search([('name', '=', code)], limit=1)
        if not currency:
            raise ShopOrderRefused(
                _("The currency %(currency)s is not active: activate it in the accounting settings.", currency=code),
                code='currency_not_supported',
            )
        return currency

    @api.model
    def _bank_crm_shop_provider(self):
        """The company's T-Bank provider. Read as superuser: the integration user does not
        need the right to see payment providers, only the link they produce."""
        provider = (
            self.env['payment.provider']
            .sudo()  # sudo: see the docstring; the current company's provider only
            .search(
                [
                    ('code', '=', 'tbank'),
                    ('state', 'in', ('enabled', 'test')),
                    *self.env['payment.provider']._check_company_domain(self.env.company),
                ],
                limit=1,
            )
        )
        if not provider:
            raise ShopOrderRefused(
                _(
                    "T-Bank acquiring is not set up for %(company)s: enable the T-Bank payment provider first.",
                    company=self.env.company.name,
                ),
                code='acquiring_not_configured',
            )
        return provider

    @api.model
    def _bank_crm_prepare_line(self, item):
        """One line of the invoice spec (`account.move._bank_crm_create_invoice`): the
        item's product (by code, or the shop item product), quantity, price as the shop
        shows it (tax included) and the company's sale tax of its VAT rate."""
        company = self.env.company
        Product = self.env['product.product']
        if item.code:
            product = Product.search(
                [('default_code', '=', item.code), *Product._check_company_domain(company)], limit=2
            )
            if not product:
                raise ShopOrderRefused(_("No product has the code %(code)s.", code=item.code), code='unknown_product')
            if len(product) > 1:
                raise ShopOrderRefused(
                    _("Several products have the code %(code)s.", code=item.code), code='ambiguous_product'
                )
        else:
            product = company.bank_crm_shop_product_id or self.env.ref(
                'odoo_bank_crm.product_product_shop_item', raise_if_not_found=False
            )
            if not product:
                raise ShopOrderRefused(
                    _("Items without a product code need the shop item product: choose one in the settings."),
                    code='unknown_product',
                )
        return {
            'product': product,
            'name': item.name or None,
            'quantity': float(item.quantity),
            'price_unit': float(item.unit_price),
            'tax_ids': self._bank_crm_sale_tax(item.tax_rate),
        }

    @api.model
    def _bank_crm_sale_tax(self, rate):
        """The company's sale tax of `rate` percent (None: no tax), preferably one included
        in the price as a shop shows its prices (the invoice takes the included variant anyway)."""
        Tax = self.env['account.tax']
        if rate is None:
            return Tax
        company_domain = Tax._check_company_domain(self.env.company)
        taxes = Tax.search(
            [
                *company_domain,
                ('type_tax_use', '=', 'sale'),
                ('amount_type', '=', 'percent'),
                ('amount', '=', rate),
            ]
        )
        # A part of a group of taxes, or a tax that changes the base of others, is not "VAT at this rate".
        taxes -= Tax.search([*company_domain, ('amount_type', '=', 'group')]).children_tax_ids
        taxes = taxes.filtered(lambda t: not t.include_base_amount)
        tax = taxes.filtered('price_include')[:1] or taxes[:1]
        if not tax:
            raise ShopOrderRefused(
                _(
                    "%(company)s has no sale tax of %(rate)s%%: create it to sell items with this VAT rate.",
                    company=self.env.company.name,
                    rate=rate,
                ),
                code='tax_not_found',
            )
        return tax

    @api.model
    def _bank_crm_prepare_lead(self, order, partner, team, currency, total):
        company = self.env.company
        values = {
            'type': 'opportunity',
            'name': _("Online shop order %(order)s", order=order.order_id),
            'partner_id': partner.id,
            # The deal counts in the company's currency.
            'expected_revenue': currency._convert(
                float(total), company.currency_id, company, fields.Date.context_today(self)
            ),
            'team_id': team.id or False,
            'user_id': team.user_id.id or False,
            'company_id': company.id,
        }
        if company.bank_crm_shop_stage_id:
            values['stage_id'] = company.bank_crm_shop_stage_id.id
        if order.comment:
            values['description'] = plaintext2html(order.comment)
        source = self.env.ref('odoo_bank_crm.utm_source_online_shop', raise_if_not_found=False)
        medium = self.env.ref('odoo_bank_crm.utm_medium_online_shop', raise_if_not_found=False)
        if source:
            values['source_id'] = source.id
        if medium:
            values['medium_id'] = medium.id
        return values

    @api.model
    def _bank_crm_find_or_create_partner(self, customer):
        """The customer's partner. What a shop sends is not proof of who the customer is:
        an email, a phone or a person's INN never attaches the order to an existing
        partner (anyone can type someone else's). Only an INN that is exactly a company
        partner's (its VAT number, as such or with the RU prefix) finds it: the invoice
        goes to that company. Otherwise a new contact is created."""
        Partner = self.env['res.partner']
        if customer.inn:
            company = Partner.search(
                [
                    ('is_company', '=', True),
                    ('parent_id', '=', False),
                    ('vat', 'in', (customer.inn, f'RU{customer.inn}')),
                ],
                order='id',
                limit=1,
            )
            if company:
                return company
        return Partner.create(
            {
                'name': customer.name,
                'email': customer.email or False,
                'phone': customer.phone or False,
                'vat': customer.inn or False,
                'is_company': customer.is_company,
                'country_id': self.env.ref('base.ru').id if customer.inn else False,
            }
        )
