import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

# КПП: 4 digits (tax office), 2 digits or capital Latin letters (reason), 3 digits
KPP_RE = re.compile(r'^\d{4}[\dA-Z]{2}\d{3}$')
# ОГРН of an organisation: 13 digits; ОГРНИП of an individual entrepreneur: 15 digits
OGRN_RE = re.compile(r'^(\d{13}|\d{15})$')


class ResPartner(models.Model):
    _inherit = 'res.partner'

    bank_crm_invoice_ids = fields.Many2many(
        'account.move',
        string="Customer Invoices",
        compute='_compute_bank_crm_invoices',
        help="Posted and draft customer invoices of this customer and its contacts.",
    )
    bank_crm_payment_link_count = fields.Integer(string="Payment Links", compute='_compute_bank_crm_payment_link_count')
    bank_crm_kpp = fields.Char(
        string="KPP",
        size=9,
        help="Tax registration reason code (КПП) of a Russian organisation: 9 characters. "
        "Printed next to the INN on Russian invoices and reconciliation acts.",
    )
    bank_crm_ogrn = fields.Char(
        string="OGRN",
        size=15,
        help="Primary state registration number (ОГРН, 13 digits; ОГРНИП of an entrepreneur, 15 digits).",
    )

    @api.constrains('bank_crm_kpp', 'bank_crm_ogrn')
    def _check_bank_crm_kpp_ogrn(self):
        for partner in self:
            if partner.bank_crm_kpp and not KPP_RE.match(partner.bank_crm_kpp):
                raise ValidationError(
                    _(
                        "The KPP of %(partner)s must be 9 characters: 4 digits, 2 digits or capital letters, "
                        "3 digits (e.g. 770101001); not \"%(kpp)s\".",
                        partner=partner.display_name,
                        kpp=partner.bank_crm_kpp,
                    )
                )
            if partner.bank_crm_ogrn and not OGRN_RE.match(partner.bank_crm_ogrn):
                raise ValidationError(
                    _(
                        "The OGRN of %(partner)s must be 13 digits (15 for an entrepreneur's OGRNIP); "
                        "not \"%(ogrn)s\".",
                        partner=partner.display_name,
                        ogrn=partner.bank_crm_ogrn,
                    )
                )

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + ['bank_crm_kpp', 'bank_crm_ogrn']

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

    def action_bank_crm_reconciliation_act(self):
        """Button: the «Акт сверки» wizard for this counterparty (its company, with its contacts)."""
        self.ensure_one()
        return self.env['bank.crm.reconciliation.act.wizard']._action_open(
            {'default_partner_id': self.commercial_partner_id.id}
        )

    @api.model
    def _bank_crm_find_counterparties(self, operations, company):
        """Partners of bank operations, by account number and by INN, in two queries, among
        the partners `company` may use (its own and the shared ones: another company's
        customers stay theirs).

        :return: {('account', number): partner, ('inn', inn): partner}
        """
        accounts = {op.counterparty_account for op in operations if op.counterparty_account}
        inns = {op.counterparty_inn for op in operations if op.counterparty_inn}
        found = {}
        in_company = self._check_company_domain(company)
        if accounts:
            for bank_account in self.env['res.partner.bank'].search(
                [('acc_number', 'in', list(accounts)), *self.env['res.partner.bank']._check_company_domain(company)]
            ):
                found.setdefault(('account', bank_account.acc_number), bank_account.partner_id.commercial_partner_id)
        if inns:
            for partner in self.search([('vat', 'in', list(inns)), ('is_company', '=', True), *in_company], order='id'):
                found.setdefault(('inn', partner.vat), partner)
            for partner in self.search(
                [('vat', 'in', list(inns - {key[1] for key in found if key[0] == 'inn'})), *in_company], order='id'
            ):
                found.setdefault(('inn', partner.vat), partner.commercial_partner_id)
        return found
