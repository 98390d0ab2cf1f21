import logging

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

_logger = logging.getLogger(__name__)

# The server action type of stage-triggered invoices (`_run_action_<state>_multi` below).
AUTO_INVOICE_STATE = 'bank_crm_auto_invoice'
# Context key under which `base.automation._process` gathers the deals of one operation
# for our actions, so that a rule processes them in one batch (see `_process` below).
AUTO_INVOICE_BATCH = 'bank_crm_auto_invoice_batch'


class IrActionsServer(models.Model):
    _inherit = 'ir.actions.server'

    state = fields.Selection(
        selection_add=[(AUTO_INVOICE_STATE, "Issue Invoice (Bank CRM)")], ondelete={AUTO_INVOICE_STATE: 'cascade'}
    )
    bank_crm_auto_invoice_rule_id = fields.Many2one(
        'bank.crm.auto.invoice.rule',
        string="Auto-Invoice Rule",
        ondelete='cascade',
        index='btree_not_null',
        help="The rule that says what the invoice contains and to which deals it is issued.",
    )

    @api.constrains('state', 'model_id', 'bank_crm_auto_invoice_rule_id')
    def _check_bank_crm_auto_invoice(self):
        for action in self.filtered(lambda a: a.state == AUTO_INVOICE_STATE):
            if action.model_id.model != 'crm.lead':
                raise ValidationError(
                    _(
                        "The action “%(action)s” issues invoices for deals: it must run on the Lead/Opportunity model.",
                        action=action.name,
                    )
                )
            if not action.bank_crm_auto_invoice_rule_id:
                raise ValidationError(_("Choose the auto-invoice rule of the action “%(action)s”.", action=action.name))

    @api.depends('bank_crm_auto_invoice_rule_id.name')
    def _compute_name(self):
        result = super()._compute_name()
        for action in self.filtered(
            lambda a: a.base_automation_id and a.state == AUTO_INVOICE_STATE and a.bank_crm_auto_invoice_rule_id
        ):
            action.name = _("Issue invoice: %(rule)s", rule=action.bank_crm_auto_invoice_rule_id.name)
        return result

    def _run_action_bank_crm_auto_invoice_multi(self, eval_context=None):
        """Issue the invoices of the action's rule for all the deals it runs on, in one batch.

        Inside an automation (see `base.automation._process` below) the deals of the
        operation are gathered first, then processed together: one search for the rule's
        conditions over the whole batch, one savepoint per deal. Run by hand on selected
        deals, the selection is processed at once.
        """
        leads = eval_context.get('records') or eval_context.get('record') if eval_context else None
        if not leads or self.env.context.get('onchange_self'):
            return False
        batch = self.env.context.get(AUTO_INVOICE_BATCH)
        if batch is not None:
            entry = batch.setdefault(self.id, {'context': self.env.context, 'ids': []})
            entry['ids'].extend(leads.ids)
            return False
        rule = self.bank_crm_auto_invoice_rule_id
        if not rule:
            _logger.warning("Server action %s issues invoices but has no auto-invoice rule; nothing done.", self.id)
            return False
        rule.with_env(self.env)._bank_crm_issue_invoices(leads.with_env(self.env))
        return False


class BaseAutomation(models.Model):
    _inherit = 'base.automation'

    def _process(self, records, domain_post=None):
        """Run the auto-invoice actions of the automation once for all the records of the
        operation instead of once per record.

        Odoo runs an automation's actions record by record. Our action, called in that
        loop with the batch context, only notes the records Odoo chose (after its own
        filters and its protection against recursion); once the loop is over, it runs on
        all of them together, with the context Odoo gave it.
        """
        actions = self.sudo().action_server_ids  # sudo: the kind of this automation's own actions
        if self.env.context.get(AUTO_INVOICE_BATCH) is not None or not any(
            action.state == AUTO_INVOICE_STATE for action in actions
        ):
            return super()._process(records, domain_post=domain_post)
        batch = {}
        result = super(BaseAutomation, self.with_context(**{AUTO_INVOICE_BATCH: batch}))._process(
            records, domain_post=domain_post
        )
        for action_id, entry in batch.items():
            ids = list(dict.fromkeys(entry['ids']))
            action = (
                self.env['ir.actions.server']
                .sudo()  # sudo: the automation's own action, run as Odoo runs automations
                .browse(action_id)
                .with_context(
                    entry['context'],
                    active_model=records._name,
                    active_ids=ids,
                    active_id=ids[0],
                    **{AUTO_INVOICE_BATCH: None},
                )
            )
            try:
                action.run()
            except Exception as error:
                self._add_postmortem(error)
                raise
        return result
