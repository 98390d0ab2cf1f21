import json
import re
import threading
import time
import types
import uuid
from contextlib import closing

import psycopg2.errors
import responses

from odoo import SUPERUSER_ID, Command, api, sql_db
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.account_payment.tests.common import AccountPaymentCommon

from odoo.addons.payment_tbank.tbank_api import compute_token
from odoo.addons.payment_tbank.public_input import MAX_BODY_BYTES

API_URL = '/bank_crm/api/v1/orders'
TERMINAL_KEY = 'ShopApiTestTerminal'
PASSWORD = 'ShopApiTestPassword'


class FakeTBankAcquiring:
    """T-Bank's acquiring API (docs/banks.md §1.3 Init) faked at the HTTP boundary with
    `responses`: it checks the request's Token like the bank and answers `mode`: 'ok' (a
    new payment with its PaymentURL), 'refused' (Success false with an ErrorCode) or
    'down' (HTTP 503). Requests to the test's own Odoo server pass through."""

    url = 'http://localhost:8999/tbank/v2'

    def __init__(self):
        self.mode = 'ok'
        self.requests = []
        self._next_payment_id = 4200000
        self.mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        self.mock.add_passthru('http://127.0.0.1')
        self.mock.add_callback(responses.POST, re.compile(re.escape(self.url) + r'/\w+'), callback=self._callback)
        self.mock.start()

    def _callback(self, request):
        body = json.loads(request.body)
        self.requests.append((request.path_url, body))
        status, answer = self._answer(request.path_url, body)
        return status, {'Content-Type': 'application/json'}, json.dumps(answer)

    def stop(self):
        self.mock.stop()
        self.mock.reset()

    def _answer(self, path, body):
        if self.mode == 'down':
            return 503, {'error': 'Service Unavailable'}
        common = {'TerminalKey': TERMINAL_KEY, 'OrderId': body.get('OrderId')}
        if not path.endswith('/Init'):
            return 200, {**common, 'Success': False, 'ErrorCode': '9', 'Message': "Unknown method"}
        if body.get('Token') != compute_token(body, PASSWORD):
            return 200, {**common, 'Success': False, 'ErrorCode': '204', 'Message': "Неверный токен"}
        if self.mode == 'refused':
            return 200, {
                **common,
                'Success': False,
                'ErrorCode': '1013',
                'Message': "Терминал заблокирован для платежей",
                'Details': "Payments are disabled for this terminal",
            }
        self._next_payment_id += 1
        return 200, {
            **common,
            'Success': True,
            'ErrorCode': '0',
            'Status': 'NEW',
            'Amount': body['Amount'],
            'PaymentId': str(self._next_payment_id),
            'PaymentURL': f'https://securepay.example/new/pay{self._next_payment_id}',
        }

    def inits(self):
        return [body for path, body in self.requests if path.endswith('/Init')]


@tagged('post_install', '-at_install')
class TestShopApi(AccountPaymentCommon, HttpCase):
    """The online shop's order API, through real HTTP requests to Odoo's server, which
    calls a fake T-Bank over HTTP in turn."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank = FakeTBankAcquiring()
        cls.addClassCleanup(cls.bank.stop)
        cls.company = cls.env.company
        cls.currency_rub = cls._prepare_currency('RUB')
        cls.tbank = cls._prepare_provider(
            'tbank',
            update_values={
                'tbank_terminal_key': TERMINAL_KEY,
                'tbank_password': PASSWORD,
                'tbank_api_url': cls.bank.url,
                'available_currency_ids': [Command.set(cls.currency_rub.ids)],
            },
        )
        Tax = cls.env['account.tax']
        cls.vat20 = Tax.create(
            {'name': "VAT 20% incl.", 'amount': 20, 'type_tax_use': 'sale', 'price_include_override': 'tax_included'}
        )
        cls.vat0 = Tax.create(
            {'name': "VAT 0%", 'amount': 0, 'type_tax_use': 'sale', 'price_include_override': 'tax_included'}
        )
        cls.chair = cls.env['product.product'].create(
            {
                'name': "Office chair",
                'default_code': 'CHAIR-1',
                'type': 'consu',
                'list_price': 1000.0,
                'taxes_id': [Command.set(cls.tax_sale_a.ids)],
            }
        )
        cls.leader = new_test_user(
            cls.env,
            login='shop_team_leader',
            name="Team Leader",
            groups='base.group_user,sales_team.group_sale_salesman',
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.team = cls.env['crm.team'].create(
            {'name': "Online sales", 'user_id': cls.leader.id, 'company_id': cls.company.id}
        )
        cls.stage = cls.env['crm.stage'].create({'name': "Awaiting payment", 'sequence': 50})
        cls.shop_user = cls._api_user('shop_integration', "Online Shop")
        cls.company.write(
            {
                'bank_crm_shop_user_id': cls.shop_user.id,
                'bank_crm_shop_team_id': cls.team.id,
                'bank_crm_shop_stage_id': cls.stage.id,
            }
        )
        cls.api_key = cls._api_key(cls.shop_user)

    @classmethod
    def _api_user(
        cls,
        login,
        name,
        groups='base.group_user,sales_team.group_sale_salesman_all_leads,account.group_account_invoice',
    ):
        return new_test_user(
            cls.env,
            login=login,
            name=name,
            groups=groups,
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    @classmethod
    def _api_key(cls, user):
        # As the user's preferences create it (no expiry: an administrator sets it up).
        return cls.env['res.users.apikeys'].with_user(user).sudo()._generate(None, "Online shop", None)

    def setUp(self):
        super().setUp()
        self.bank.mode = 'ok'
        self.bank.requests.clear()

    # === HELPERS === #

    def _order(self, order_id=None, **overrides):
        order = {
            'order_id': order_id or f'SHOP-{uuid.uuid4().hex[:10]}',
            'customer': {
                'name': "ООО «Вектор»",
                'inn': '7707083893',
                'email': 'buyer@vector.example',
                'phone': '+7 900 123-45-67',
            },
            'items': [
                {'code': 'CHAIR-1', 'quantity': 2, 'unit_price': 1500.00, 'tax': 'vat20'},
                {'name': "Доставка по Москве", 'quantity': 1, 'unit_price': 350.50, 'tax': 'none'},
            ],
            'success_url': 'https://shop.example/orders/ok',
            'fail_url': 'https://shop.example/orders/fail',
            'comment': "Позвонить перед доставкой",
        }
        order.update(overrides)
        return order

    def _post(self, body, key=None, headers=None):
        """POST `body` (a dict sent as JSON, or bytes as they are) with the API key."""
        headers = {'Content-Type': 'application/json', **(headers or {})}
        if key is not False:
            headers.setdefault('Authorization', f'Bearer {key or self.api_key}')
        headers = {name: value for name, value in headers.items() if value is not None}
        chunked = isinstance(body, types.GeneratorType)  # sent with Transfer-Encoding: chunked
        data = body if chunked or isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        return self.opener.post(self.base_url() + API_URL, data=data, headers=headers, timeout=30)

    def _counts(self):
        env = self.env(su=True)
        return {
            model: env[model].with_context(active_test=False).search_count([])
            for model in ('crm.lead', 'account.move', 'res.partner', 'payment.transaction', 'bank.crm.shop.order')
        }

    def _assert_nothing_created(self, response, counts_before, status, error):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.headers['Content-Type'], 'application/json; charset=utf-8')
        self.assertEqual(response.json()['error'], error, response.text)
        self.assertNotIn('Traceback', response.text)
        self.assertEqual(self._counts(), counts_before)

    def _field_errors(self, response):
        self.assertEqual(response.status_code, 400, response.text)
        self.assertEqual(response.json()['error'], 'validation_error')
        return {detail['field']: detail for detail in response.json()['details']}

    # === THE ORDER === #

    def test_order_creates_partner_deal_posted_invoice_and_payment_link(self):
        counts = self._counts()
        response = self._post(self._order('A-1001'))
        self.assertEqual(response.status_code, 201, response.text)
        answer = response.json()
        self.assertEqual(
            set(answer), {'order_id', 'deal_id', 'invoice_id', 'invoice_number', 'amount', 'currency', 'payment_url'}
        )
        self.assertEqual(answer['order_id'], 'A-1001')
        self.assertEqual(answer['amount'], 3350.5)  # 2 x 1500.00 + 350.50, prices tax included
        self.assertEqual(answer['currency'], 'RUB')

        invoice = self.env['account.move'].browse(answer['invoice_id'])
        lead = self.env['crm.lead'].browse(answer['deal_id'])
        self.assertRecordValues(
            invoice,
            [
                {
                    'move_type': 'out_invoice',
                    'state': 'posted',
                    'name': answer['invoice_number'],
                    'bank_crm_lead_id': lead.id,
                    'currency_id': self.currency_rub.id,
                    'amount_total': 3350.5,
                    'invoice_origin': 'A-1001',
                    'invoice_user_id': self.leader.id,
                }
            ],
        )
        shop_item = self.env.ref('odoo_bank_crm.product_product_shop_item')
        self.assertRecordValues(
            invoice.invoice_line_ids,
            [
                {
                    'product_id': self.chair.id,
                    'name': "[CHAIR-1] Office chair",
                    'quantity': 2.0,
                    'price_unit': 1500.0,
                    'tax_ids': self.vat20.ids,
                    'price_total': 3000.0,
                },
                {
                    'product_id': shop_item.id,
                    'name': "Доставка по Москве",
                    'quantity': 1.0,
                    'price_unit': 350.5,
                    'tax_ids': [],
                    'price_total': 350.5,
                },
            ],
        )

        partner = invoice.partner_id
        self.assertRecordValues(
            partner,
            [
                {
                    'name': "ООО «Вектор»",
                    'vat': '7707083893',
                    'email': 'buyer@vector.example',
                    'phone': '+7 900 123-45-67',
                    'is_company': True,
                }
            ],
        )
        self.assertRecordValues(
            lead,
            [
                {
                    'type': 'opportunity',
                    'partner_id': partner.id,
                    'expected_revenue': 3350.5,
                    'team_id': self.team.id,
                    'stage_id': self.stage.id,
                    'user_id': self.leader.id,
                    'company_id': self.company.id,
                }
            ],
        )
        self.assertEqual(lead.source_id, self.env.ref('odoo_bank_crm.utm_source_online_shop'))
        self.assertIn("Позвонить перед доставкой", lead.description)

        tx = invoice.transaction_ids
        self.assertEqual(len(tx), 1)
        self.assertRecordValues(
            tx,
            [
                {
                    'provider_id': self.tbank.id,
                    'amount': 3350.5,
                    'currency_id': self.currency_rub.id,
                    'partner_id': partner.id,
                    'tbank_payment_url': answer['payment_url'],
                    'tbank_status': 'NEW',
                }
            ],
        )
        self.assertTrue(answer['payment_url'].startswith('https://securepay.example/new/'))
        [init] = self.bank.inits()
        self.assertEqual(init['Amount'], 335050)
        self.assertEqual(init['OrderId'], tx.reference)
        self.assertEqual(init['SuccessURL'], 'https://shop.example/orders/ok')
        self.assertEqual(init['FailURL'], 'https://shop.example/orders/fail')

        shop_order = self.env['bank.crm.shop.order'].search([('name', '=', 'A-1001')])
        self.assertRecordValues(
            shop_order,
            [
                {
                    'company_id': self.company.id,
                    'partner_id': partner.id,
                    'lead_id': lead.id,
                    'invoice_id': invoice.id,
                    'transaction_id': tx.id,
                    'payment_url': answer['payment_url'],
                    'amount_total': 3350.5,
                }
            ],
        )
        self.assertEqual(json.loads(shop_order.response_body), answer)
        self.assertEqual(shop_order.create_uid, self.shop_user)
        self.assertEqual(invoice.create_uid, self.shop_user, "created with the integration user's rights")
        self.assertEqual(
            self._counts(),
            {
                **counts,
                'crm.lead': counts['crm.lead'] + 1,
                'account.move': counts['account.move'] + 1,
                'res.partner': counts['res.partner'] + 1,
                'payment.transaction': counts['payment.transaction'] + 1,
                'bank.crm.shop.order': counts['bank.crm.shop.order'] + 1,
            },
        )

    def test_same_order_number_again_gets_the_first_answer(self):
        first = self._post(self._order('A-2002'))
        self.assertEqual(first.status_code, 201, first.text)
        counts = self._counts()
        again = self._post(self._order('A-2002'))
        # the same order written differently (key order, spacing, numbers as text) is the same order
        reordered = dict(reversed(list(self._order('A-2002').items())))
        reordered['items'] = [dict(item, quantity=str(item['quantity'])) for item in reordered['items']]
        rewritten = self._post(json.dumps(reordered, indent=4).encode())
        for response in (again, rewritten):
            self.assertEqual(response.status_code, 200, response.text)
            self.assertEqual(response.json(), first.json())
        self.assertEqual(self._counts(), counts, "no second deal, invoice or payment")
        self.assertEqual(len(self.bank.inits()), 1, "the bank was asked once")
        self.assertEqual(self.env['crm.lead'].search_count([('name', 'like', 'A-2002')]), 1)

    def test_order_number_reused_for_a_different_order_is_a_conflict(self):
        """A shop (or whoever holds its key) sending another order under a number already
        used gets 409, never the first order's answer (its payment link)."""
        first = self._post(self._order('A-2003'))
        self.assertEqual(first.status_code, 201, first.text)
        counts = self._counts()
        for label, order in [
            ("other items", self._order('A-2003', items=[{'code': 'CHAIR-1', 'quantity': 9, 'unit_price': 1}])),
            ("other customer", self._order('A-2003', customer={'name': "Someone else", 'email': 'x@y.example'})),
            ("other return address", self._order('A-2003', success_url='https://attacker.example/ok')),
        ]:
            with self.subTest(label):
                response = self._post(order)
                self._assert_nothing_created(response, counts, 409, 'order_conflict')
                self.assertNotIn(first.json()['payment_url'], response.text)
        self.assertEqual(len(self.bank.inits()), 1)

    def test_two_shops_order_numbers_never_collide(self):
        """The company moves to another shop (another integration user and key): the new
        shop's orders 1001 and 1002 are its own, not the old shop's orders of the same
        numbers, whose stored answers (payment links) are never given to it."""
        old = {number: self._post(self._order(number)) for number in ('1001', '1002')}
        for response in old.values():
            self.assertEqual(response.status_code, 201, response.text)
        new_shop = self._api_user('shop_integration_2', "New Online Shop")
        new_key = self._api_key(new_shop)
        self.company.bank_crm_shop_user_id = new_shop
        for label, order in [
            ("same body as the old shop's", self._order('1001')),
            ("other body", self._order('1002', items=[{'code': 'CHAIR-1', 'quantity': 1, 'unit_price': 10}])),
        ]:
            with self.subTest(label):
                response = self._post(order, key=new_key)
                self.assertEqual(response.status_code, 201, response.text)
                first = old[order['order_id']].json()
                self.assertNotEqual(response.json()['invoice_id'], first['invoice_id'])
                self.assertNotEqual(response.json()['payment_url'], first['payment_url'])
        orders = self.env['bank.crm.shop.order'].search([('name', 'in', ('1001', '1002'))])
        self.assertEqual(len(orders), 4)
        self.assertEqual(orders.shop_user_id, self.shop_user | new_shop)
        # the old shop, back, still gets its own answer
        self.company.bank_crm_shop_user_id = self.shop_user
        self.assertEqual(self._post(self._order('1001')).json(), old['1001'].json())

    def test_order_number_sent_as_a_number(self):
        response = self._post(self._order(order_id=None) | {'order_id': 31337})
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual(response.json()['order_id'], '31337')

    def test_deal_without_shop_team_has_no_salesperson(self):
        self.company.write({'bank_crm_shop_team_id': False, 'bank_crm_shop_stage_id': False})
        response = self._post(self._order())
        self.assertEqual(response.status_code, 201, response.text)
        lead = self.env['crm.lead'].browse(response.json()['deal_id'])
        self.assertFalse(lead.user_id, "not the integration user")
        self.assertFalse(lead.team_id)
        self.assertTrue(lead.stage_id)

    def test_shop_prices_include_a_tax_the_company_adds_on_top(self):
        vat10 = self.env['account.tax'].create(
            {'name': "VAT 10%", 'amount': 10, 'type_tax_use': 'sale', 'price_include_override': 'tax_excluded'}
        )
        response = self._post(
            self._order(
                items=[
                    {'code': 'CHAIR-1', 'quantity': '3', 'unit_price': '33.33', 'tax': 'vat10'},
                    {'name': "Сборка", 'quantity': 1, 'unit_price': 0, 'tax': 'vat0'},
                ]
            )
        )
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual(response.json()['amount'], 99.99, "exactly what the shop showed")
        invoice = self.env['account.move'].browse(response.json()['invoice_id'])
        chair, assembly = invoice.invoice_line_ids
        self.assertRecordValues(chair, [{'price_unit': 33.33, 'quantity': 3.0, 'price_total': 99.99}])
        self.assertEqual(chair.tax_ids.amount, 10)
        self.assertTrue(chair.tax_ids.price_include, "the price-included variant of the company's 10% tax")
        self.assertNotEqual(chair.tax_ids, vat10)
        self.assertEqual(assembly.tax_ids, self.vat0)

    # === VAT AS IT IS IN 2026 (issue #18 §2b, docs/vat-and-receipts.md) === #

    def _receipt_items_of(self, tax_code, unit_price):
        """Order one chair at `unit_price` with VAT code `tax_code`; the invoice line and
        the receipt items the bank received in Init."""
        response = self._post(
            self._order(items=[{'code': 'CHAIR-1', 'quantity': 1, 'unit_price': unit_price, 'tax': tax_code}])
        )
        self.assertEqual(response.status_code, 201, response.text)
        invoice = self.env['account.move'].browse(response.json()['invoice_id'])
        return invoice.invoice_line_ids, self.bank.inits()[-1]['Receipt']['Items']

    def test_vat22_order_is_taxed_and_receipted_at_22_percent(self):
        vat22 = self.env['account.tax'].create(
            {'name': "VAT 22% incl.", 'amount': 22, 'type_tax_use': 'sale', 'price_include_override': 'tax_included'}
        )
        self.tbank.write({'tbank_receipt_enabled': True, 'tbank_taxation': 'osn'})
        line, (item,) = self._receipt_items_of('vat22', '1220.00')
        self.assertEqual(line.tax_ids, vat22)
        self.assertEqual(line.price_total, 1220.0)
        self.assertEqual((item['Tax'], item['PaymentMethod'], item['Amount']), ('vat22', 'full_payment', 122000))
        # a shop that ships after payment: the receipt is a prepayment's, at 22/122
        self.tbank.tbank_receipt_payment_method = 'full_prepayment'
        _line, (item,) = self._receipt_items_of('vat22', '1220.00')
        self.assertEqual((item['Tax'], item['PaymentMethod']), ('vat122', 'full_prepayment'))

    def test_vat20_still_accepted_for_old_orders(self):
        self.tbank.write({'tbank_receipt_enabled': True, 'tbank_taxation': 'osn'})
        line, (item,) = self._receipt_items_of('vat20', '1200.00')
        self.assertEqual(line.tax_ids, self.vat20)
        self.assertEqual((item['Tax'], item['Amount']), ('vat20', 120000))

    def test_vat22_without_a_22_percent_tax_is_refused_and_nothing_created(self):
        counts = self._counts()
        response = self._post(
            self._order(items=[{'code': 'CHAIR-1', 'quantity': 1, 'unit_price': 1220, 'tax': 'vat22'}])
        )
        self._assert_nothing_created(response, counts, 422, 'tax_not_found')
        self.assertFalse(self.bank.inits())

    def test_the_shop_sends_rates_not_calculated_rates(self):
        # vat122 is the receipt's business (a prepayment), never the shop's: refused and named.
        counts = self._counts()
        for code in ('vat122', 'vat120', 'vat18'):
            with self.subTest(code):
                order = self._order(items=[{'code': 'CHAIR-1', 'quantity': 1, 'unit_price': 1220, 'tax': code}])
                errors = self._field_errors(self._post(order))
                self.assertEqual(errors['items.0.tax']['code'], 'literal_error')
                self.assertIn('vat22', errors['items.0.tax']['message'])
        self.assertEqual(self._counts(), counts)
        self.assertFalse(self.bank.inits())

    # === THE CUSTOMER === #

    def test_only_a_company_inn_finds_an_existing_partner(self):
        company = self.env['res.partner'].create(
            {'name': "ООО «Вектор» (CRM)", 'vat': '7707083893', 'is_company': True}
        )
        self.env['res.partner'].create({'name': "Contact", 'parent_id': company.id, 'email': 'c@vector.example'})
        response = self._post(
            self._order(customer={'name': "Vector LLC", 'inn': '7707083893', 'email': 'other@x.example'})
        )
        self.assertEqual(response.status_code, 201, response.text)
        invoice = self.env['account.move'].browse(response.json()['invoice_id'])
        self.assertEqual(invoice.partner_id, company)
        self.assertEqual(invoice.bank_crm_lead_id.partner_id, company)

    def test_email_phone_or_person_inn_never_attach_an_order_to_an_existing_partner(self):
        """Whoever holds the shop's key types someone else's email, phone or INN: the
        order, its invoice and its chatter never go to that partner; a new contact is
        created, and the existing partners are unchanged."""
        victim = self.env['res.partner'].create(
            {'name': "Ivan Petrov", 'email': 'Ivan.Petrov@Mail.example', 'phone': '+7 (912) 345-67-89'}
        )
        employee = self.env.ref('base.user_admin').partner_id
        person = self.env['res.partner'].create({'name': "ИП Сидоров", 'vat': '500100732259'})
        contact = self.env['res.partner'].create(
            {'name': "Contact", 'vat': '7707083893', 'parent_id': self.env['res.partner'].create({'name': "Co"}).id}
        )
        cases = [
            ("email", {'name': "I. Petrov", 'email': 'ivan.petrov@mail.example'}, victim),
            ("phone", {'name': "Мария", 'phone': '8 912 3456789'}, victim),
            ("an employee's email", {'name': "Admin", 'email': employee.email}, employee),
            ("a person's INN", {'name': "Sidorov", 'inn': '500100732259'}, person),
            ("a company's contact's INN", {'name': "Vector", 'inn': '7707083893'}, contact | contact.parent_id),
        ]
        existing = self.env['res.partner'].search([])
        snapshot = existing.read(['name', 'email', 'phone', 'vat'])
        for how, customer, target in cases:
            with self.subTest(matched_by=how):
                response = self._post(self._order(customer=customer))
                self.assertEqual(response.status_code, 201, response.text)
                partner = self.env['account.move'].browse(response.json()['invoice_id']).partner_id
                self.assertNotIn(partner, existing, "a new contact")
                self.assertNotIn(partner, target)
                self.assertEqual(partner.name, customer['name'])
                self.assertEqual(self.env['crm.lead'].browse(response.json()['deal_id']).partner_id, partner)
        self.assertEqual(existing.read(['name', 'email', 'phone', 'vat']), snapshot, "existing partners unchanged")

    def test_new_person_without_inn(self):
        response = self._post(self._order(customer={'name': "Пётр Сидоров", 'email': 'petr@example.com'}))
        self.assertEqual(response.status_code, 201, response.text)
        partner = self.env['account.move'].browse(response.json()['invoice_id']).partner_id
        self.assertRecordValues(
            partner, [{'name': "Пётр Сидоров", 'email': 'petr@example.com', 'vat': False, 'is_company': False}]
        )

    # === VALIDATION === #

    def test_each_invalid_field_is_named(self):
        order = self._order()
        item = order['items'][0]
        customer = order['customer']
        cases = [
            (
                "no customer name",
                {'customer': {k: v for k, v in customer.items() if k != 'name'}},
                'customer.name',
                'missing',
            ),
            ("blank customer name", {'customer': {**customer, 'name': "  "}}, 'customer.name', 'string_too_short'),
            ("no items", {'items': []}, 'items', 'too_short'),
            ("negative quantity", {'items': [{**item, 'quantity': -1}]}, 'items.0.quantity', 'greater_than'),
            ("zero quantity", {'items': [{**item, 'quantity': 0}]}, 'items.0.quantity', 'greater_than'),
            ("negative price", {'items': [{**item, 'unit_price': -5}]}, 'items.0.unit_price', 'greater_than_equal'),
            (
                "fractions of a kopeck",
                {'items': [{**item, 'unit_price': 10.005}]},
                'items.0.unit_price',
                'decimal_max_places',
            ),
            ("INN of 9 digits", {'customer': {**customer, 'inn': '770708389'}}, 'customer.inn', 'inn_invalid'),
            (
                "INN with a wrong check digit",
                {'customer': {**customer, 'inn': '7707083894'}},
                'customer.inn',
                'inn_checksum',
            ),
            ("bad email", {'customer': {**customer, 'email': 'buyer-at-vector'}}, 'customer.email', 'email_invalid'),
            ("URL not http", {'success_url': 'javascript:alert(1)'}, 'success_url', 'url_invalid'),
            ("URL without host", {'fail_url': 'https://'}, 'fail_url', 'url_invalid'),
            ("order id too long", {'order_id': 'X' * 65}, 'order_id', 'string_too_long'),
            ("item without code or name", {'items': [{'quantity': 1, 'unit_price': 10}]}, 'items.0', 'item_unnamed'),
            ("quantity as words", {'items': [{**item, 'quantity': "two"}]}, 'items.0.quantity', 'decimal_parsing'),
            ("price as a boolean", {'items': [{**item, 'unit_price': True}]}, 'items.0.unit_price', 'decimal_type'),
            ("items as an object", {'items': item}, 'items', 'list_type'),
            ("customer as text", {'customer': "Ivan"}, 'customer', 'model_type'),
            ("unknown VAT code", {'items': [{**item, 'tax': 'vat18'}]}, 'items.0.tax', 'literal_error'),
            ("unknown field", {'items': [{**item, 'qty': 2}]}, 'items.0.qty', 'extra_forbidden'),
            ("order id missing", {'order_id': None}, 'order_id', 'string_type'),
        ]
        counts = self._counts()
        for label, change, field, code in cases:
            with self.subTest(label):
                response = self._post({**order, **change})
                errors = self._field_errors(response)
                self.assertIn(field, errors)
                self.assertEqual(errors[field]['code'], code)
                self.assertTrue(errors[field]['message'])
        self.assertEqual(self._counts(), counts)
        self.assertFalse(self.bank.inits())

    def test_several_errors_reported_at_once(self):
        order = self._order(items=[{'code': 'CHAIR-1', 'quantity': -2, 'unit_price': 'abc'}])
        del order['customer']['name']
        errors = self._field_errors(self._post(order))
        self.assertEqual(set(errors), {'customer.name', 'items.0.quantity', 'items.0.unit_price'})
        self.assertEqual(errors['customer.name']['message'], "This field is required.")

    def test_body_must_be_a_json_object(self):
        counts = self._counts()
        self._assert_nothing_created(
            self._post(b'order_id=1', headers={'Content-Type': 'text/plain'}), counts, 415, 'unsupported_media_type'
        )
        self._assert_nothing_created(self._post(b'{"order_id": "1",'), counts, 400, 'invalid_json')
        self._assert_nothing_created(self._post(b''), counts, 400, 'invalid_json')
        self._assert_nothing_created(self._post(b'\xff\xfe'), counts, 400, 'invalid_json')
        response = self._post([self._order()])
        self.assertEqual(self._field_errors(response)['']['code'], 'model_type')

    def test_oversized_malformed_and_deep_bodies_are_refused_and_nothing_created(self):
        counts = self._counts()
        order = json.dumps(self._order(comment="x")).encode()
        over = order.replace(b'"x"', b'"' + b'x' * MAX_BODY_BYTES + b'"')

        def chunked(data):
            for start in range(0, len(data), 64 * 1024):
                yield data[start : start + 64 * 1024]

        # declared: Odoo's dispatcher refuses it before anything is parsed (its own 413 page)
        response = self._post(over)
        self.assertEqual(response.status_code, 413)
        self.assertEqual(self._counts(), counts)
        # chunked (no Content-Length): the API stops reading past the cap
        self._assert_nothing_created(self._post(chunked(over)), counts, 413, 'payload_too_large')
        for label, body in [
            ("deep arrays (Python's recursion limit)", b'[' * 200_000 + b']' * 200_000),
            ("deep objects", ('{"a":' * 40 + '1' + '}' * 40).encode()),
            ("huge integer", b'{"order_id": ' + b'9' * 5000 + b'}'),
            ("NUL character (PostgreSQL refuses it)", json.dumps(self._order('A-\x00-1')).encode()),
        ]:
            with self.subTest(label):
                self._assert_nothing_created(self._post(body), counts, 400, 'invalid_json')
        # a genuine order sent chunked is read whole
        response = self._post(chunked(json.dumps(self._order(comment="x" * 4000)).encode()))
        self.assertEqual(response.status_code, 201, response.text)

    # === AUTHENTICATION === #

    def test_requests_without_a_valid_key_are_refused(self):
        counts = self._counts()
        for label, headers in [
            ("no header", {'Authorization': None}),
            ("wrong key", {'Authorization': 'Bearer 0123456789abcdef0123456789abcdef01234567'}),
            ("not a bearer token", {'Authorization': f'Basic {self.api_key}'}),
            ("empty bearer", {'Authorization': 'Bearer '}),
        ]:
            with self.subTest(label):
                response = self._post(self._order(), headers=headers)
                self._assert_nothing_created(response, counts, 401, 'unauthorized')
        self.assertFalse(self.bank.inits())

    def test_key_of_a_user_without_rights_is_forbidden(self):
        other = self._api_user('shop_other', "Other Employee")
        weak = self._api_user('shop_weak', "Weak Integration", groups='base.group_user')
        other_key, weak_key = self._api_key(other), self._api_key(weak)
        counts = self._counts()
        # A valid key, with every right, but not the company's integration user.
        response = self._post(self._order(), key=other_key)
        self._assert_nothing_created(response, counts, 403, 'forbidden')
        # The integration user, without the rights to create deals and invoices.
        self.company.bank_crm_shop_user_id = weak
        response = self._post(self._order(), key=weak_key)
        self._assert_nothing_created(response, counts, 403, 'forbidden')
        self.assertIn(self.env.ref('account.group_account_invoice').full_name, response.json()['message'])
        self.assertFalse(self.bank.inits())

    def test_revoked_key_is_refused(self):
        self.env['res.users.apikeys'].sudo().search([('user_id', '=', self.shop_user.id)])._remove()
        self.assertEqual(self._post(self._order()).status_code, 401)

    # === BUSINESS REFUSALS === #

    def test_unknown_product_code_refused_and_nothing_created(self):
        counts = self._counts()
        order = self._order(
            customer={'name': "Новый клиент", 'email': 'new.customer@example.com'},
            items=[
                {'code': 'CHAIR-1', 'quantity': 1, 'unit_price': 10},
                {'code': 'NO-SUCH-CODE', 'quantity': 1, 'unit_price': 10},
            ],
        )
        response = self._post(order)
        self._assert_nothing_created(response, counts, 422, 'unknown_product')
        self.assertIn('NO-SUCH-CODE', response.json()['message'])
        self.assertFalse(self.env['res.partner'].search([('email', '=', 'new.customer@example.com')]))
        self.assertFalse(self.bank.inits())

    def test_business_refusals(self):
        counts = self._counts()
        cases = [
            ("currency", self._order(currency='USD'), 'currency_not_supported'),
            (
                "no such VAT rate in the company",
                self._order(items=[{'name': "Книга", 'quantity': 1, 'unit_price': 500, 'tax': 'vat10'}]),
                'tax_not_found',
            ),
            (
                "nothing to pay",
                self._order(items=[{'name': "Подарок", 'quantity': 1, 'unit_price': 0}]),
                'nothing_to_pay',
            ),
        ]
        for label, order, code in cases:
            with self.subTest(label):
                response = self._post(order)
                self._assert_nothing_created(response, counts, 422, code)
                self.assertTrue(response.json()['message'])
        self.tbank.state = 'disabled'
        response = self._post(self._order())
        self._assert_nothing_created(response, counts, 422, 'acquiring_not_configured')
        self.assertIn("T-Bank", response.json()['message'])
        self.assertFalse(self.bank.inits())

    def test_bank_failure_leaves_nothing_and_the_shop_can_retry(self):
        counts = self._counts()
        order = self._order('A-5005', customer={'name': "Retry Customer", 'email': 'retry@example.com'})
        for mode, words in [('refused', "Терминал заблокирован"), ('down', "503")]:
            with self.subTest(mode):
                self.bank.mode = mode
                response = self._post(order)
                self._assert_nothing_created(response, counts, 502, 'bank_error')
                self.assertIn(words, response.json()['message'])
        self.assertFalse(self.env['res.partner'].search([('email', '=', 'retry@example.com')]))
        self.bank.mode = 'ok'
        response = self._post(order)
        self.assertEqual(response.status_code, 201, "the order number was not kept by the failed attempts")
        self.assertEqual(response.json()['order_id'], 'A-5005')

    # === SUDO BOUNDS (issue #13: a public route's sudo() reaches only what it exists for) === #

    def _other_company(self):
        """A second company, where the shop's integration user also works (as an employee
        of both may), with its own shop, products, customers and team."""
        other = self.env['res.company'].create({'name': "Borealis Other Company", 'currency_id': self.currency_rub.id})
        self.shop_user.sudo().company_ids = [Command.link(other.id)]
        return other

    def test_orders_stay_in_the_key_users_company(self):
        """The shop's key acts in its own company only: another company's order number,
        product code or customer INN, or a body naming the other company, gets nothing of it."""
        other = self._other_company()
        other_shop = new_test_user(
            self.env,
            login='shop_other_company',
            groups='base.group_user,sales_team.group_sale_salesman_all_leads,account.group_account_invoice',
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        other.bank_crm_shop_user_id = other_shop
        secret_answer = json.dumps({'order_id': 'B-1001', 'payment_url': 'https://securepay.example/secret-b'})
        other_order = (
            self.env['bank.crm.shop.order']
            .sudo()
            .create(
                {
                    'name': 'B-1001',
                    'company_id': other.id,
                    'shop_user_id': other_shop.id,
                    'request_body': json.dumps(self._order('B-1001')),
                    'response_body': secret_answer,
                }
            )
        )
        self.env['product.product'].create(
            {'name': "Borealis only", 'default_code': 'B-ONLY', 'list_price': 10, 'company_id': other.id}
        )
        other_customer = self.env['res.partner'].create(
            {'name': "Borealis Customer", 'vat': '7707083893', 'is_company': True, 'company_id': other.id}
        )
        counts = self._counts()

        # a crafted body naming the other company
        response = self._post({**self._order('A-7001'), 'company_id': other.id})
        self.assertEqual(self._field_errors(response)['company_id']['code'], 'extra_forbidden')
        self._assert_nothing_created(response, counts, 400, 'validation_error')
        # the other company's product code
        response = self._post(
            self._order('A-7002', items=[{'code': 'B-ONLY', 'quantity': 1, 'unit_price': 10}]),
        )
        self._assert_nothing_created(response, counts, 422, 'unknown_product')
        self.assertFalse(self.bank.inits())

        # the other company's order number, and its customer's INN: a new order of this company
        response = self._post(self._order('B-1001'))
        self.assertEqual(response.status_code, 201, response.text)
        self.assertNotIn('secret-b', response.text)
        answer = response.json()
        invoice = self.env['account.move'].browse(answer['invoice_id'])
        self.assertEqual(invoice.company_id, self.company)
        self.assertNotEqual(invoice.partner_id, other_customer, "another company's customer is not found")
        self.assertEqual(invoice.bank_crm_lead_id.company_id, self.company)
        order = self.env['bank.crm.shop.order'].search([('name', '=', 'B-1001'), ('id', '!=', other_order.id)])
        self.assertEqual((order.company_id, order.shop_user_id), (self.company, self.shop_user))
        self.assertEqual(other_order.response_body, secret_answer, "the other company's order is unchanged")
        self.assertFalse(other_order.invoice_id)
        self.assertEqual(other_customer.name, "Borealis Customer")

    def test_a_key_acts_only_where_its_user_works(self):
        """A company that chose as its shop user someone who does not work in it: that
        user's key does not act there."""
        other = self.env['res.company'].create({'name': "Borealis Other Company", 'currency_id': self.currency_rub.id})
        outsider = self._api_user('shop_outsider', "Outsider Shop")  # works in the first company only
        other.bank_crm_shop_user_id = outsider
        counts = self._counts()
        response = self._post(self._order(), key=self._api_key(outsider))
        self._assert_nothing_created(response, counts, 403, 'forbidden')
        self.assertFalse(self.bank.inits())

    def test_an_access_error_names_no_record(self):
        """Odoo's access error names the records refused (with their company, for a user
        in debug mode): the shop gets a message of its own instead."""
        other = self._other_company()
        self.shop_user.sudo().groups_id = [Command.link(self.env.ref('base.group_no_one').id)]
        hidden_team = self.env['crm.team'].create({'name': "Borealis Hidden Team", 'company_id': other.id})
        self.company.sudo().bank_crm_shop_team_id = hidden_team  # a misconfiguration the key cannot read
        counts = self._counts()
        response = self._post(self._order())
        self._assert_nothing_created(response, counts, 403, 'forbidden')
        self.assertNotIn("Borealis", response.text)
        self.assertNotIn('crm.team', response.text)
        self.assertFalse(self.bank.inits())

    # === CONCURRENCY === #

    def _claim_in_thread(self, cr, order_id):
        """Run `_bank_crm_claim` on a real cursor in a thread; return the thread and its result."""
        result = {}

        def claim():
            env = api.Environment(cr, SUPERUSER_ID, {})
            try:
                result['record'] = env['bank.crm.shop.order']._bank_crm_claim(order_id).id
            except psycopg2.Error as error:
                result['error'] = error

        thread = threading.Thread(target=claim)
        thread.start()
        return thread, result

    def _wait_until_blocked(self, cr, thread):
        """Until the session of `cr` waits for a lock held by another transaction."""
        with closing(sql_db.db_connect(self.env.cr.dbname).cursor()) as watcher:
            for _attempt in range(100):
                watcher.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [cr._cnx.get_backend_pid()]
                )
                if (watcher.fetchone() or [None])[0] == 'Lock' or not thread.is_alive():
                    return
                watcher.rollback()
                time.sleep(0.05)

    def test_two_requests_at_once_one_claims_the_order_number(self):
        """The unique key decides between two transactions claiming the same number (real
        connections, outside the test transaction): the second waits; if the first
        commits, the second fails with an error Odoo retries the request on, and the retry
        finds the first one's order; if the first rolls back, the second gets the number."""
        dbname = self.env.cr.dbname
        order_id = f'RACE-{uuid.uuid4().hex[:8]}'
        try:
            for first_outcome in ('rollback', 'commit'):
                with (
                    self.subTest(first=first_outcome),
                    closing(sql_db.db_connect(dbname).cursor()) as cr_first,
                    closing(sql_db.db_connect(dbname).cursor()) as cr_second,
                ):
                    for cr in (cr_first, cr_second):
                        cr.execute("SET lock_timeout = '10s'")
                    cr_second.execute("SELECT 1")  # its snapshot: before the first one commits
                    env_first = api.Environment(cr_first, SUPERUSER_ID, {})
                    self.assertTrue(env_first['bank.crm.shop.order']._bank_crm_claim(order_id))
                    thread, result = self._claim_in_thread(cr_second, order_id)
                    self._wait_until_blocked(cr_second, thread)
                    self.assertTrue(thread.is_alive(), "the second claim waits for the first transaction")
                    getattr(cr_first, first_outcome)()
                    thread.join(15)
                    if first_outcome == 'rollback':
                        self.assertTrue(result.get('record'), result)
                        cr_second.rollback()
                    else:
                        self.assertIsInstance(result.get('error'), PG_CONCURRENCY_EXCEPTIONS_TO_RETRY)
                        self.assertIsInstance(result['error'], psycopg2.errors.SerializationFailure)
                        cr_second.rollback()
                        # What Odoo's retry of the request sees: the first one's order.
                        env_retry = api.Environment(cr_second, SUPERUSER_ID, {})
                        company = env_retry['res.users'].browse(SUPERUSER_ID).company_id
                        found = env_retry['bank.crm.shop.order'].with_company(company)._bank_crm_find(order_id)
                        self.assertEqual(found.name, order_id)
                        cr_second.rollback()
        finally:
            with closing(sql_db.db_connect(dbname).cursor()) as cleanup:
                cleanup.execute("DELETE FROM bank_crm_shop_order WHERE name = %s", [order_id])
                cleanup.commit()
