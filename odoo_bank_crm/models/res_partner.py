from odoo import _, fields, models


class ResPartner(models.Model):
    _inherit = 'res.partner'

    bank_crm_invoice_ids = fields.Many2many(
        'account.move',
        string="Customer Invoices",
        compute='_compute_bank_crm_invoices',
        help="Posted and draft customer invoices of this customer and its contacts.",
    )
    bank_crm_payment_link_count = fields.Integer(string="Payment Links", compute='_compute_bank_crm_payment_link_count')

    def _compute_bank_crm_invoices(self):
        Move = self.env['account.move']
        if not Move.has_access('read'):
            self.bank_crm_invoice_ids = False
            return
        for partner in self:
            if not partner.id:
                partner.bank_crm_invoice_ids = False
                continue
            partner.bank_crm_invoice_ids = Move.search(
                [
                    ('commercial_partner_id', '=', partner.commercial_partner_id.id),
                    ('move_type', 'in', ('out_invoice', 'out_refund')),
                    ('state', '!=', 'cancel'),
                ],
                order='invoice_date desc, id desc',
                limit=80,
            )

    def _compute_bank_crm_payment_link_count(self):
        Link = self.env['bank.crm.payment.link']
        if not Link.has_access('read'):
            self.bank_crm_payment_link_count = 0
            return
        counts = dict(
            Link._read_group([('partner_id', 'child_of', self.commercial_partner_id.ids)], ['partner_id'], ['__count'])
        )
        for partner in self:
            partner.bank_crm_payment_link_count = sum(
                count
                for linked, count in counts.items()
                if linked.commercial_partner_id == partner.commercial_partner_id
            )

    def action_bank_crm_issue_invoice(self):
        """Button: the "Issue invoice" wizard for this customer."""
        self.ensure_one()
        return self.env['bank.crm.invoice.wizard']._action_open({'default_partner_id': self.id})

    def action_bank_crm_view_payment_links(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('odoo_bank_crm.bank_crm_payment_link_action')
        action['domain'] = [('partner_id', 'child_of', self.commercial_partner_id.id)]
        action['context'] = {}
        action['display_name'] = _("Payment Links of %(customer)s", customer=self.display_name)
        return action
