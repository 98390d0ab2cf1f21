from odoo import fields, models


class CrmStage(models.Model):
    _inherit = 'crm.stage'

    bank_crm_auto_invoice_rule_ids = fields.One2many(
        'bank.crm.auto.invoice.rule',
        'stage_id',
        string="Auto-Invoice Rules",
        groups='odoo_bank_crm.group_bank_crm_user',
    )
    bank_crm_auto_invoice_rule_count = fields.Integer(
        string="Auto-Invoice Rule Count",
        compute='_compute_bank_crm_auto_invoice_rule_count',
        groups='odoo_bank_crm.group_bank_crm_user',
    )

    def _compute_bank_crm_auto_invoice_rule_count(self):
        counts = dict(
            self.env['bank.crm.auto.invoice.rule']._read_group(
                [('stage_id', 'in', self.ids)], ['stage_id'], ['__count']
            )
        )
        for stage in self:
            stage.bank_crm_auto_invoice_rule_count = counts.get(stage._origin, 0)

    def unlink(self):
        # through the ORM, so that the rules' automations go with them
        # sudo: the rules of these stages, archived ones too, whoever may delete the stage
        self.env['bank.crm.auto.invoice.rule'].sudo().with_context(active_test=False).search(
            [('stage_id', 'in', self.ids)]
        ).unlink()
        return super().unlink()

    def action_bank_crm_auto_invoice_rules(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('odoo_bank_crm.bank_crm_auto_invoice_rule_action')
        action.update(
            {
                'domain': [('stage_id', '=', self.id)],
                'context': {'default_stage_id': self.id},
            }
        )
        return action
