from psycopg2 import OperationalError

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .odoo_compat import can_commit

# Context key telling `_bank_crm_send_payment_link` which kind of link to send
# (values of `res.company.bank_crm_payment_link_kind`).
PAYMENT_LINK_KIND_KEY = 'bank_crm_payment_link_kind'


class BankCrmAutoInvoiceFiring(models.Model):
    """Which rule invoiced which deal, when: what makes rules idempotent. Unique per rule,
    deal and arrival in the stage ("once" rules have one arrival per deal)."""

    _name = 'bank.crm.auto.invoice.firing'
    _description = "Invoice Issued by an Auto-Invoice Rule"
    _order = 'id desc'
    _rec_name = 'lead_id'
    _check_company_auto = True

    rule_id = fields.Many2one('bank.crm.auto.invoice.rule', required=True, ondelete='cascade', index=True)
    company_id = fields.Many2one(related='rule_id.company_id')
    lead_id = fields.Many2one(
        'crm.lead', string="Deal", required=True, ondelete='cascade', index=True, check_company=True
    )
    stage_id = fields.Many2one('crm.stage', ondelete='set null')
    stage_entry_date = fields.Datetime(string="Stage Reached On")
    firing_key = fields.Char(string="Arrival", required=True)
    invoice_id = fields.Many2one('account.move', ondelete='set null', index='btree_not_null', check_company=True)
    send_state = fields.Selection(
        selection=[
            ('review', "For Review"),
            ('to_send', "To Send"),
            ('sent', "Sent"),
            ('failed', "Not Sent"),
        ],
        string="Email",
        required=True,
        default='review',
        index=True,
    )
    send_error = fields.Char(string="Why Not Sent", readonly=True)
    currency_id = fields.Many2one(related='invoice_id.currency_id')
    amount_total = fields.Monetary(related='invoice_id.amount_total', string="Amount")
    payment_state = fields.Selection(related='invoice_id.payment_state', string="Payment")

    _sql_constraints = [
        (
            'firing_unique',
            'UNIQUE(rule_id, lead_id, firing_key)',
            "A rule invoices a deal once per arrival in its stage.",
        ),
    ]

    @api.model
    def _cron_bank_crm_send_invoices(self, limit=100):
        """Email the invoices that rules issued for sending, one at a time: each is locked
        (`FOR UPDATE SKIP LOCKED`, so that two workers never send the same one), sent with
        `account.move._bank_crm_send_payment_link`, and committed. An invoice that cannot be
        sent stays posted; its deal gets a note and its salesperson an activity."""
        done = 0
        while done < limit:
            self.env.flush_all()  # the query below must see what the last send wrote (when not committed)
            self.env.cr.execute("""
                SELECT id FROM bank_crm_auto_invoice_firing
                 WHERE send_state = 'to_send'
                 ORDER BY id
                 LIMIT 1
                   FOR UPDATE SKIP LOCKED
            """)
            row = self.env.cr.fetchone()
            if not row:
                break
            self.browse(row[0])._bank_crm_send()
            done += 1
            if can_commit(self.env):
                # a sent email cannot be taken back: mark its invoice sent at once
                self.env.cr.commit()  # pylint: disable=invalid-commit
        remaining = self.search_count([('send_state', '=', 'to_send')]) if done == limit else 0
        self.env['ir.cron']._notify_progress(done=done, remaining=remaining)

    def _bank_crm_send(self):
        self.ensure_one()
        rule, lead, invoice = self.rule_id, self.lead_id, self.invoice_id
        if not invoice or invoice.state != 'posted':
            self.write({'send_state': 'failed', 'send_error': _("The invoice is no longer posted.")})
            return
        # as the person who moved the deal: the email and its chatter message are theirs
        sender = (
            invoice.with_user(self.create_uid or self.env.user)
            .sudo()  # sudo: the job sends this invoice's link by email, as its author, whatever their rights now
            .with_context(**{PAYMENT_LINK_KIND_KEY: rule.payment_link_kind})
        )
        try:
            with self.env.cr.savepoint():
                sender._bank_crm_send_payment_link(template=rule.mail_template_id or None)
                self.send_state = 'sent'
        except OperationalError:
            raise
        except Exception as error:
            if isinstance(error, (UserError, ValidationError)):
                reason = error.args[0]
            else:
                reason = rule._bank_crm_unexpected(lead, error)
            self.write({'send_state': 'failed', 'send_error': reason})
            rule._bank_crm_tell_failure(
                lead,
                _("Invoice not sent: %(invoice)s", invoice=invoice.name),
                # a Markup argument (the link): `_` escapes the translation and the other arguments
                _(
                    "Invoice %(invoice)s was issued by the rule “%(rule)s” but could not be sent: %(reason)s",
                    invoice=invoice._get_html_link(),
                    rule=rule.name,
                    reason=reason,
                ),
            )
