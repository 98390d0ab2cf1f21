from odoo import api, fields, models


class CrmLead(models.Model):
    _inherit = 'crm.lead'

    bank_crm_invoice_ids = fields.One2many(
        'account.move', 'bank_crm_lead_id', string="Invoices",
        domain=[('move_type', 'in', ('out_invoice', 'out_refund'))])
    bank_crm_invoice_count = fields.Integer(
        string="Invoice Count", compute='_compute_bank_crm_invoice_count')

    @api.depends('bank_crm_invoice_ids')
    def _compute_bank_crm_invoice_count(self):
        counts = {
            lead.id: count
            for lead, count in self.env['account.move']._read_group(
                [('bank_crm_lead_id', 'in', self.ids), ('move_type', 'in', ('out_invoice', 'out_refund'))],
                ['bank_crm_lead_id'], ['__count'])
        }
        for lead in self:
            lead.bank_crm_invoice_count = counts.get(lead.id, 0)

    def action_bank_crm_view_invoices(self):
        """The deal's invoices, in the list or, when there is one, its form."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('account.action_move_out_invoice_type')
        invoices = self.bank_crm_invoice_ids
        action['domain'] = [('id', 'in', invoices.ids)]
        action['context'] = {
            'default_move_type': 'out_invoice',
            'default_partner_id': self.partner_id.id,
            'default_bank_crm_lead_id': self.id,
        }
        if len(invoices) == 1:
            action.update(view_mode='form', views=[(False, 'form')], res_id=invoices.id)
        return action
