"""The 54-FZ receipt's VAT codes as of 2026 (issue #18 §2b, docs/vat-and-receipts.md): the
standard rate is 22 % (vat22), a prepayment carries the calculated rate (vat122, vat110,
vat105, vat107), and 20 % (vat20/vat120) is still receipted for shipments made before 2026.
Each test pays an invoice through Init and reads the receipt the bank received."""

from odoo import Command
from odoo.tests import tagged

from odoo.addons.payment_tbank import const
from odoo.addons.payment_tbank.tbank_api import RECEIPT_PAYMENT_METHODS, RECEIPT_TAXES
from .tbank_common import TBankCommon


@tagged('post_install', '-at_install')
class TestReceiptVat(TBankCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tbank.write({'tbank_receipt_enabled': True, 'tbank_taxation': 'osn'})
        cls.service = cls.env['product.product'].create({'name': "Installation", 'type': 'service'})

    def _tax(self, rate):
        return self.env['account.tax'].create(
            {
                'name': f"VAT {rate}% incl.",
                'amount': rate,
                'amount_type': 'percent',
                'type_tax_use': 'sale',
                'price_include_override': 'tax_included',
            }
        )

    def _receipt_items(self, tax, payment_method, amount=None, price_unit=1220.0):
        """Pay an invoice of one line with `tax` (price incl. tax), the provider set to
        `payment_method`; return the receipt items Init sent and the Init body."""
        self.tbank.tbank_receipt_payment_method = payment_method
        invoice = self.env['account.move'].create(
            {
                'move_type': 'out_invoice',
                'partner_id': self.partner.id,
                'currency_id': self.currency_rub.id,
                'invoice_line_ids': [
                    Command.create(
                        {
                            'product_id': self.service.id,
                            'name': "Installation",
                            'quantity': 1,
                            'price_unit': price_unit,
                            'tax_ids': [Command.set(tax.ids)],
                        }
                    )
                ],
            }
        )
        invoice.action_post()
        tx = self._create_invoice_tx(invoice, payment_id=False)
        if amount is not None:
            tx.amount = amount
        with self._mock_bank('Init', {'PaymentId': '7', 'Status': 'NEW', 'PaymentURL': 'https://p.test/7'}) as mock:
            tx._tbank_init_payment()
        sent = self._sent(mock)
        self.assertEqual(sum(item['Amount'] for item in sent['Receipt']['Items']), sent['Amount'])
        return sent['Receipt']['Items'], sent

    def _assert_codes(self, rate, on_payment, in_advance):
        """The receipt of a `rate` % line is `on_payment` paid on delivery, `in_advance` prepaid."""
        tax = self._tax(rate)
        (item,) = self._receipt_items(tax, 'full_payment')[0]
        self.assertEqual((item['Tax'], item['PaymentMethod']), (on_payment, 'full_payment'))
        self.assertEqual((item['PaymentObject'], item['Amount']), ('service', 122000))
        (item,) = self._receipt_items(tax, 'full_prepayment')[0]
        self.assertEqual((item['Tax'], item['PaymentMethod']), (in_advance, 'full_prepayment'))

    # === ONE TEST PER RATE === #

    def test_vat22_standard_rate_since_2026(self):
        self._assert_codes(22, 'vat22', 'vat122')

    def test_vat10(self):
        self._assert_codes(10, 'vat10', 'vat110')

    def test_vat5_simplified_regime(self):
        self._assert_codes(5, 'vat5', 'vat105')

    def test_vat7_simplified_regime(self):
        self._assert_codes(7, 'vat7', 'vat107')

    def test_vat20_kept_for_shipments_before_2026(self):
        self._assert_codes(20, 'vat20', 'vat120')

    # === THE EDGES === #

    def test_default_is_payment_on_delivery(self):
        provider = self.tbank.copy({'name': "T-Bank copy"})
        self.assertEqual(provider.tbank_receipt_payment_method, 'full_payment')

    def test_partial_prepayment_is_an_advance_at_the_calculated_rate(self):
        (item,), sent = self._receipt_items(self._tax(22), 'full_prepayment', amount=500.0)
        self.assertEqual(sent['Amount'], 50000)
        self.assertEqual(
            (item['Tax'], item['PaymentMethod'], item['PaymentObject'], item['Amount']),
            ('vat122', 'advance', 'payment', 50000),
        )

    def test_partial_payment_on_delivery_keeps_the_rate(self):
        (item,), _sent = self._receipt_items(self._tax(22), 'full_payment', amount=500.0)
        self.assertEqual(
            (item['Tax'], item['PaymentMethod'], item['PaymentObject']), ('vat22', 'full_payment', 'payment')
        )

    def test_refund_of_a_prepayment_has_the_calculated_rate(self):
        self._receipt_items(self._tax(22), 'full_prepayment')
        tx = self.env['payment.transaction'].search([('provider_reference', '=', '7')], limit=1)
        tx._handle_notification_data('tbank', self._notification(tx, 'CONFIRMED'))
        with self._mock_bank(
            'Cancel', {'PaymentId': 7, 'Status': 'PARTIAL_REFUNDED', 'OriginalAmount': 122000, 'NewAmount': 100000}
        ) as mock:
            tx._send_refund_request(amount_to_refund=220.0)
        (item,) = self._sent(mock)['Receipt']['Items']
        self.assertEqual((item['Tax'], item['PaymentMethod'], item['Amount']), ('vat122', 'advance', 22000))

    def test_a_rate_without_a_receipt_code_is_not_rounded_to_one(self):
        # 22.5 % is no 22 %: the line goes without VAT code rather than with a wrong one.
        (item,) = self._receipt_items(self._tax(22.5), 'full_payment', price_unit=1225.0)[0]
        self.assertEqual(item['Tax'], 'none')

    def test_the_table_speaks_the_banks_codes(self):
        codes = {code for pair in const.RECEIPT_VAT_CODES.values() for code in pair}
        self.assertLessEqual(codes | {const.RECEIPT_NO_VAT}, RECEIPT_TAXES)
        methods = {method for pair in const.RECEIPT_LINE_PAYMENT_METHODS.values() for method in pair}
        self.assertLessEqual(methods | const.RECEIPT_PREPAYMENT_METHODS, RECEIPT_PAYMENT_METHODS)
        self.assertEqual(
            set(const.RECEIPT_LINE_PAYMENT_METHODS), {key for key, _label in const.RECEIPT_PAYMENT_METHODS}
        )
