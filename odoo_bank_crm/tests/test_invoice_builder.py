from decimal import ROUND_HALF_UP, Decimal

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import BankCrmCommon


def kopecks(value):
    return Decimal(value).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)


@tagged('post_install', '-at_install')
class TestInvoiceBuilder(BankCrmCommon):
    """`_bank_crm_create_invoice`, the one way the CRM builds invoices."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lead = cls.env['crm.lead'].create(
            {'name': "Deal", 'type': 'opportunity', 'partner_id': cls.partner.id, 'expected_revenue': 1000}
        )
        cls.vat20 = cls.env['account.tax'].create(
            {'name': "VAT 20%", 'amount': 20, 'type_tax_use': 'sale', 'price_include_override': 'tax_excluded'}
        )
        cls.product = cls.env['product.product'].create(
            {'name': "Chair", 'lst_price': 1999.99, 'taxes_id': [Command.set(cls.vat20.ids)]}
        )
        cls.Move = cls.env['account.move']

    def test_amount_only(self):
        invoice = self.Move._bank_crm_create_invoice(
            {
                'partner': self.partner,
                'lead': self.lead,
                'mode': 'amount',
                'amount': 1000.01,
                'description': "Оплата по договору № 7",
                'payer_name': "Иванов И.И.",
                'order_status': "Ready",
                'customer_notes': "Thank you",
            }
        )
        self.assertEqual(invoice.state, 'posted')
        self.assertEqual(invoice.bank_crm_lead_id, self.lead)
        self.assertEqual(invoice.invoice_line_ids.name, "Оплата по договору № 7")
        self.assertEqual(invoice.invoice_line_ids.product_id, self.env.company.bank_crm_amount_product_id)
        self.assertEqual(kopecks(invoice.amount_total), Decimal('1000.01'))
        self.assertEqual(invoice.bank_crm_payer_name, "Иванов И.И.")
        self.assertEqual(self.lead.bank_crm_payment_state, 'unpaid')

    def test_items_with_taxes_excluded_and_discounts(self):
        invoice = self.Move._bank_crm_create_invoice(
            {
                'partner': self.partner,
                'lead': self.lead,
                'mode': 'items',
                'discount': 5,
                'lines': [
                    {'product': self.product, 'quantity': 3, 'price_unit': None, 'discount': 10},
                    {
                        'product': None,
                        'name': "Delivery",
                        'quantity': 1,
                        'price_unit': 500.0,
                        'tax_ids': self.env['account.tax'],
                    },
                ],
            }
        )
        # by hand: 3 x 1999.99 x 0.9 x 0.95 = 5129.97 (untaxed, rounded per line), VAT 20% = 1025.99
        chair = kopecks(Decimal('1999.99') * 3 * Decimal('0.9') * Decimal('0.95'))
        delivery = kopecks(Decimal('500') * Decimal('0.95'))
        vat = kopecks(chair * Decimal('0.2'))
        self.assertEqual(kopecks(invoice.amount_untaxed), chair + delivery)
        self.assertEqual(kopecks(invoice.amount_tax), vat)
        self.assertEqual(kopecks(invoice.amount_total), chair + delivery + vat)
        self.assertEqual(invoice.invoice_line_ids[0].discount, 14.5)

    def test_items_with_taxes_included(self):
        invoice = self.Move._bank_crm_create_invoice(
            {
                'partner': self.partner,
                'mode': 'items',
                'prices_include_tax': True,
                'lines': [{'product': self.product, 'quantity': 2, 'price_unit': 1200.0}],
            }
        )
        self.assertEqual(kopecks(invoice.amount_total), Decimal('2400.00'))
        self.assertEqual(kopecks(invoice.amount_tax), Decimal('400.00'))
        tax = invoice.invoice_line_ids.tax_ids
        self.assertTrue(tax.price_include)
        self.assertEqual(tax.amount, 20)
        # the included variant is created once and reused
        again = self.Move._bank_crm_create_invoice(
            {
                'partner': self.partner,
                'mode': 'items',
                'prices_include_tax': True,
                'lines': [{'product': self.product, 'quantity': 1, 'price_unit': 120.0}],
            }
        )
        self.assertEqual(again.invoice_line_ids.tax_ids, tax)

    def test_bad_specs_create_nothing(self):
        count = self.Move.search_count([])
        bad = [
            {'partner': self.partner, 'mode': 'amount', 'amount': 0},
            {'partner': self.partner, 'mode': 'amount', 'amount': -5},
            {'partner': self.partner, 'mode': 'items', 'lines': []},
            {
                'partner': self.partner,
                'mode': 'items',
                'lines': [
                    {
                        'product': self.env['product.product'].create({'name': "Free?", 'lst_price': 0.0}),
                        'price_unit': None,
                    }
                ],
            },
            {'partner': self.partner, 'mode': 'items', 'lines': [{'name': "X", 'quantity': -1, 'price_unit': 5}]},
            {'partner': self.partner, 'mode': 'items', 'discount': 100, 'lines': [{'name': "X", 'price_unit': 5}]},
            {'mode': 'amount', 'amount': 10},
        ]
        for spec in bad:
            with self.subTest(spec=spec), self.assertRaises(UserError):
                self.Move._bank_crm_create_invoice(spec)
            self.assertEqual(self.Move.search_count([]), count, spec)
