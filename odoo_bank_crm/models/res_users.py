from odoo import _, api, fields, models


class ResUsers(models.Model):
    _inherit = 'res.users'

    bank_crm_right_ids = fields.One2many('bank.crm.money.right', 'user_id', string="Rights over Money")
    bank_crm_restricted = fields.Boolean(
        string="Rights over Money Apply",
        compute='_compute_bank_crm_rights',
        compute_sudo=True,
        help="Technical: the user's bank accounts are limited to their rights (read by record rules).",
    )
    bank_crm_journal_ids = fields.Many2many(
        'account.journal',
        string="Accounts Granted",
        compute='_compute_bank_crm_rights',
        compute_sudo=True,
        help="Technical: the bank and cash accounts the user's rights grant (read by record rules).",
    )

    @api.depends_context('uid')
    def _compute_bank_crm_rights(self):
        Right = self.env['bank.crm.money.right']
        # sudo: these users' own rights, shown on their form (the table is administrators')
        rights = Right.sudo().with_context(active_test=True).search([('user_id', 'in', self.ids)])
        for user in self:
            user.bank_crm_restricted = Right._bank_crm_is_restricted(user)
            user.bank_crm_journal_ids = rights.filtered(lambda r: r.user_id == user).journal_ids

    def action_bank_crm_open_money_right(self):
        """Directors: the user's rights over money in this company, made on first open."""
        self.ensure_one()
        Right = self.env['bank.crm.money.right']
        right = Right.with_context(active_test=False).search(
            [('user_id', '=', self.id), ('company_id', '=', self.env.company.id)], limit=1
        )
        return {
            'type': 'ir.actions.act_window',
            'name': _("Rights over Money"),
            'res_model': 'bank.crm.money.right',
            'view_mode': 'form',
            'res_id': right.id,
            'context': {'default_user_id': self.id},
        }
