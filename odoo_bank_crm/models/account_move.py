from odoo import Command, _, fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = 'account.move'

    bank_crm_lead_id = fields.Many2one(
        'crm.lead', string="Deal", index='btree_not_null', copy=False, tracking=True,
        domain="[('type', '=', 'opportunity')]",
        help="The CRM deal this invoice was issued for.")
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
