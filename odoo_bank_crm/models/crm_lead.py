from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import float_is_zero
from odoo.tools.misc import get_lang


class CrmLead(models.Model):
    _inherit = 'crm.lead'

    bank_crm_invoice_ids = fields.One2many(
        'account.move',
        'bank_crm_lead_id',
        string="Invoices",
        domain=[('move_type', 'in', ('out_invoice', 'out_refund'))],
    )
    bank_crm_invoice_count = fields.Integer(string="Invoice Count", compute='_compute_bank_crm_invoice_count')
    bank_crm_amount_invoiced = fields.Monetary(
        string="Invoiced",
        currency_field='company_currency',
        compute='_compute_bank_crm_payment',
        store=True,
        help="Posted customer invoices of the deal, less its credit notes, in the company's currency.",
    )
    bank_crm_amount_paid = fields.Monetary(
        string="Paid", currency_field='company_currency', compute='_compute_bank_crm_payment', store=True
    )
    bank_crm_amount_due = fields.Monetary(
        string="Due", currency_field='company_currency', compute='_compute_bank_crm_payment', store=True
    )
    bank_crm_payment_state = fields.Selection(
        selection=[
            ('not_invoiced', "Not Invoiced"),
            ('unpaid', "Unpaid"),
            ('partial', "Partially Paid"),
            ('paid', "Paid"),
            ('refunded', "Refunded"),
            ('overdue', "Overdue"),
        ],
        string="Payment",
        compute='_compute_bank_crm_payment',
        store=True,
        index=True,
        default='not_invoiced',
        tracking=True,
    )
    bank_crm_paid_date = fields.Date(
        string="Paid On", readonly=True, copy=False, tracking=True, help="When the deal's invoices were paid in full."
    )

    @api.depends('bank_crm_invoice_ids')
    def _compute_bank_crm_invoice_count(self):
        counts = {
            lead.id: count
            for lead, count in self.env['account.move']._read_group(
                [('bank_crm_lead_id', 'in', self.ids), ('move_type', 'in', ('out_invoice', 'out_refund'))],
                ['bank_crm_lead_id'],
                ['__count'],
            )
        }
        for lead in self:
            lead.bank_crm_invoice_count = counts.get(lead.id, 0)

    @api.depends(
        'bank_crm_invoice_ids.state',
        'bank_crm_invoice_ids.amount_total_signed',
        'bank_crm_invoice_ids.amount_residual_signed',
        'bank_crm_invoice_ids.payment_state',
        'bank_crm_invoice_ids.invoice_date_due',
    )
    def _compute_bank_crm_payment(self):
        today = fields.Date.context_today(self)
        for lead in self:
            invoices = lead.bank_crm_invoice_ids.filtered(lambda m: m.state == 'posted')
            rounding = lead.company_currency.rounding or 0.01
            invoiced = sum(invoices.mapped('amount_total_signed'))
            due = sum(invoices.mapped('amount_residual_signed'))
            paid = invoiced - due
            lead.bank_crm_amount_invoiced = invoiced
            lead.bank_crm_amount_due = due
            lead.bank_crm_amount_paid = paid
            customer_invoices = invoices.filtered(lambda m: m.move_type == 'out_invoice')
            if not customer_invoices:
                state = 'not_invoiced'
            elif float_is_zero(invoiced, precision_rounding=rounding) or all(
                m.payment_state == 'reversed' for m in customer_invoices
            ):
                state = 'refunded'
            elif float_is_zero(due, precision_rounding=rounding) or due < 0:
                state = 'paid'
            elif any(
                m.invoice_date_due and m.invoice_date_due < today and m.amount_residual for m in customer_invoices
            ):
                state = 'overdue'
            elif float_is_zero(paid, precision_rounding=rounding):
                state = 'unpaid'
            else:
                state = 'partial'
            lead.bank_crm_payment_state = state

    @api.model
    def _cron_bank_crm_update_overdue(self):
        """Deals whose invoices fell due since yesterday become overdue (the state is stored)."""
        leads = self.search([('bank_crm_payment_state', 'in', ('unpaid', 'partial', 'overdue'))])
        self.env.add_to_compute(self._fields['bank_crm_payment_state'], leads)
        leads._recompute_recordset(['bank_crm_payment_state'])

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

    def _bank_crm_payment_recipients(self):
        """Who is told that money arrived on this deal: its salesperson, and the users
        chosen in Settings."""
        self.ensure_one()
        company = self.company_id or self.env.company
        users = company.bank_crm_notify_user_ids
        if company.bank_crm_notify_salesperson and self.user_id:
            users |= self.user_id
        return users.filtered('active')

    @api.model
    def _bank_crm_payments_received(self, payments):
        """Money arrived for invoices of deals, acquiring or bank transfer alike, one payment
        or a whole statement's: on each deal a note of its payments (with the payment state
        it changed), an activity and a live notification for the people to tell, the paid
        date, and the configured stage once the deal is paid in full. Written in one go.

        :param payments: [(crm.lead, account.move, amount in the invoice's currency)]
        """
        by_lead = {}
        for lead, invoice, amount in payments:
            by_lead.setdefault(lead.id, []).append((invoice, amount))
        if not by_lead:
            return
        leads = self.browse(list(by_lead))
        leads.mapped('bank_crm_payment_state')  # computed for all at once
        today = fields.Date.context_today(self)
        activity_type = self.env.ref('mail.mail_activity_data_todo')
        model_id = self.env['ir.model']._get_id(self._name)
        notes, activities, stages = {}, [], {}
        for lead in leads:
            fully_paid = lead.bank_crm_payment_state == 'paid'
            texts = []
            for invoice, amount in by_lead[lead.id]:
                amount_text = invoice.currency_id.format(amount)
                texts.append(
                    _(
                        "Payment of %(amount)s received for invoice %(invoice)s: the deal is paid in full.",
                        amount=amount_text,
                        invoice=invoice.name,
                    )
                    if fully_paid
                    else _(
                        "Payment of %(amount)s received for invoice %(invoice)s; %(due)s still due.",
                        amount=amount_text,
                        invoice=invoice.name,
                        due=lead.company_currency.format(lead.bank_crm_amount_due),
                    )
                )
            body = Markup('<br/>').join(texts)
            notes[lead.id] = body
            invoices = [invoice for invoice, _amount in by_lead[lead.id]]
            summary = _(
                "Payment received: %(amount)s",
                amount=", ".join(invoice.currency_id.format(amount) for invoice, amount in by_lead[lead.id]),
            )
            for user in lead._bank_crm_payment_recipients():
                activities.append(
                    {
                        'activity_type_id': activity_type.id,
                        'summary': summary,
                        'note': body,
                        'automated': True,
                        'date_deadline': today,
                        'res_model_id': model_id,
                        'res_id': lead.id,
                        'user_id': user.id,
                    }
                )
                user._bus_send(
                    'simple_notification',
                    {
                        'type': 'success',
                        'title': summary,
                        'message': f"{lead.name}: {', '.join(invoice.name for invoice in invoices)}",
                        'sticky': False,
                    },
                )
            if fully_paid:
                stage = (lead.company_id or self.env.company).bank_crm_paid_stage_id
                move_to = stage if stage and lead.stage_id != stage and not lead.stage_id.is_won else None
                stages.setdefault(move_to, []).append(lead.id)
        self._bank_crm_assign_payment_activities(activities, by_lead)
        for stage, lead_ids in stages.items():
            self.browse(lead_ids).write({'bank_crm_paid_date': today, **({'stage_id': stage.id} if stage else {})})
        # the payment state (computed above) and the paid date (written) have their tracking prepared
        fnames = ['bank_crm_payment_state', 'bank_crm_paid_date']
        tracked_fields = self.fields_get(fnames, attributes=('string', 'type', 'selection', 'currency_field'))
        initial = self._bank_crm_take_tracking(leads, fnames)
        note = self.env.ref('mail.mt_note')
        self._bank_crm_log_batch(
            [
                (lead, notes[lead.id], lead._mail_track(tracked_fields, initial.get(lead.id, {}))[1], note)
                for lead in leads
            ]
        )

    # Profitability: the deal's line of the report `bank.crm.deal.profitability`

    bank_crm_analytic_account_id = fields.Many2one(
        'account.analytic.account',
        string="Analytic Account",
        copy=False,
        index='btree_not_null',
        ondelete='set null',
        help="Bank and cash transactions on this analytic account are the deal's expenses.",
    )
    bank_crm_received_amount = fields.Monetary(
        string="Received", currency_field='company_currency', compute='_compute_bank_crm_profitability'
    )
    bank_crm_expense_amount = fields.Monetary(
        string="Expenses",
        currency_field='company_currency',
        compute='_compute_bank_crm_profitability',
        help="Outgoing transactions on the deal's analytic account, in the company's currency.",
    )
    bank_crm_margin = fields.Monetary(
        string="Margin",
        currency_field='company_currency',
        compute='_compute_bank_crm_profitability',
        help="Money received for the deal's invoices minus its expenses.",
    )

    def _compute_bank_crm_profitability(self):
        """The deals' lines of the profitability report, in one query."""
        saved = {lead._origin.id: lead for lead in self if lead._origin.id}
        rows = (
            {
                row['lead_id'][0]: row
                for row in self.env['bank.crm.deal.profitability']
                .sudo()  # sudo: the figures of these deals only, which the user reads
                .search_read([('lead_id', 'in', list(saved))], ['lead_id', 'received', 'expense', 'margin'])
            }
            if saved
            else {}
        )
        for lead in self:
            row = rows.get(lead._origin.id, {})
            lead.bank_crm_received_amount = row.get('received', 0.0)
            lead.bank_crm_expense_amount = row.get('expense', 0.0)
            lead.bank_crm_margin = row.get('margin', 0.0)

    def _bank_crm_ensure_analytic_account(self):
        """The deal's analytic account, made on first need in the analytic plan of projects."""
        self.ensure_one()
        if not self.bank_crm_analytic_account_id:
            plan, _other_plans = self.env['account.analytic.plan']._get_all_plans()
            # sudo: salespeople may not manage analytic accounts: this one is the deal's own
            self.bank_crm_analytic_account_id = (
                self.env['account.analytic.account']
                .sudo()  # sudo: see above
                .create(
                    {
                        'name': self.name,
                        'plan_id': plan.id,
                        'partner_id': self.partner_id.commercial_partner_id.id or False,
                        'company_id': self.company_id.id or False,
                    }
                )
            )
        return self.bank_crm_analytic_account_id

    def action_bank_crm_create_analytic_account(self):
        for lead in self:
            lead._bank_crm_ensure_analytic_account()
        return True

    def action_bank_crm_view_expenses(self):
        """The outgoing transactions attributed to the deal."""
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('odoo_bank_crm.account_bank_statement_line_action')
        action['domain'] = [
            ('bank_crm_analytic_account_id', '=', self.bank_crm_analytic_account_id.id),
            ('amount', '<', 0),
        ]
        action['context'] = {'default_bank_crm_analytic_account_id': self.bank_crm_analytic_account_id.id}
        action['display_name'] = _("Expenses of %(deal)s", deal=self.name)
        return action

    @api.model
    def _bank_crm_assign_payment_activities(self, activity_values, by_lead):
        """Create the "payment received" activities and tell each person assigned ONCE.

        Odoo's `mail.activity.create` e-mails the assignee of every activity it creates
        (`action_notify`: a template rendered and a `message_notify` per activity), which was
        29 % of a booking batch of 100 (docs/booking.md). The activities are created as
        Odoo's bulk creations do, with `mail_activity_quick_update`; then a person with one
        activity gets Odoo's own notice (`action_notify`), and a person with several gets one
        `message_notify` listing the deals and what was paid on each, in their language. Both
        follow the person's preference (Inbox or e-mail). As Odoo, nobody is told of an
        activity they assign themselves.

        :param list activity_values: the `mail.activity` values, one per deal and person
        :param dict by_lead: {crm.lead id: [(account.move, amount in the invoice's currency)]}
        """
        activities = self.env['mail.activity'].with_context(mail_activity_quick_update=True).create(activity_values)
        to_tell = activities.filtered(lambda activity: activity.user_id and activity.user_id != self.env.user)
        by_user = {}
        for activity in to_tell:
            by_user.setdefault(activity.user_id, self.env['mail.activity'])
            by_user[activity.user_id] |= activity
        readable = to_tell.user_id.partner_id._filtered_access('read')
        for user, user_activities in by_user.items():
            if len(user_activities) == 1:
                # sudo: as Odoo's `mail.activity.create`, for an assignee whose partner the user cannot read
                (user_activities if user.partner_id in readable else user_activities.sudo()).action_notify()
            else:
                self._bank_crm_notify_payments(user, user_activities, by_lead)
        return activities

    @api.model
    def _bank_crm_notify_payments(self, user, activities, by_lead):
        """One notification to `user` for the payment activities `activities` assigned to
        them on several deals, in their language."""
        env = self.with_context(lang=user.lang or self.env.lang).env
        lang = get_lang(env)
        activity_type = activities[:1].activity_type_id.with_env(env)
        leads = self.with_env(env).browse(activities.mapped('res_id'))
        items = Markup()
        for lead in leads:
            paid = Markup(', ').join(
                env._(
                    "%(amount)s for invoice %(invoice)s",
                    amount=invoice.currency_id.format(amount),
                    invoice=invoice.name,
                )
                for invoice, amount in by_lead[lead.id]
            )
            items += Markup('<li><a href="%s">%s</a>: %s</li>') % (
                lead._notify_get_action_link('view'),
                lead.name,
                paid,
            )
        body = Markup(
            '<div style="margin: 0px; padding: 0px; font-size: 13px;">%s<br/><br/><p>%s</p><ul>%s</ul></div>'
        ) % (
            env._("Dear %(name)s,", name=user.name),
            env._(
                'Payments were received on %(count)s of your deals; an activity "%(activity)s" with deadline '
                '%(deadline)s is assigned to you on each:',
                count=len(leads),
                activity=activity_type.name,
                deadline=activities[:1].date_deadline.strftime(lang.date_format),
            ),
            items,
        )
        # not about one deal: a notification of no record (mail.thread, as mail's own scheduled messages)
        self.env['mail.thread'].message_notify(
            partner_ids=user.partner_id.ids,
            body=body,
            subject=env._("Payments received on %(count)s deals", count=len(leads)),
            email_layout_xmlid='mail.mail_notification_layout',
        )
