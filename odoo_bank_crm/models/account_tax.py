from odoo import _, models


class AccountTax(models.Model):
    _inherit = 'account.tax'

    def _bank_crm_variant(self, price_include):
        """The same taxes computed on prices that include them (or not): the sibling tax
        with the other price-include setting, created once as a copy when the company has
        none, so an invoice can take prices the way the salesperson typed them."""
        variants = self.browse()
        for tax in self:
            if tax.amount_type == 'group' or tax.price_include == price_include:
                variants |= tax
                continue
            override = 'tax_included' if price_include else 'tax_excluded'
            sibling = self.search(
                [
                    ('company_id', '=', tax.company_id.id),
                    ('type_tax_use', '=', tax.type_tax_use),
                    ('amount_type', '=', tax.amount_type),
                    ('amount', '=', tax.amount),
                    ('tax_group_id', '=', tax.tax_group_id.id),
                    ('country_id', '=', tax.country_id.id),
                    ('price_include_override', '=', override),
                ],
                limit=1,
            )
            if not sibling:
                suffix = _("incl.") if price_include else _("excl.")
                sibling = (
                    tax.sudo()  # sudo: the tax's included/excluded twin, copied from it, in its company
                    .copy(
                        {
                            'name': f"{tax.name} ({suffix})",
                            'price_include_override': override,
                        }
                    )
                    .sudo(False)
                )
            variants |= sibling
        return variants
