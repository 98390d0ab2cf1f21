from odoo import api, models


class ResPartner(models.Model):
    _inherit = 'res.partner'

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
