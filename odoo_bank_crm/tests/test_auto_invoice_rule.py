from datetime import timedelta
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, HttpCase, tagged

from .common import BankCrmCommon

STATE = 'bank_crm_auto_invoice'


class AutoInvoiceCommon(BankCrmCommon):
    """A pipeline with a trigger stage, two teams, customers in three cities of two
    countries, and a salesperson; payment links in the customer portal, so that sending
    an invoice needs no bank."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.write({'bank_crm_payment_link_kind': 'portal', 'email': 'sales@romashka.example.com'})
        # the user of the tests sets the rules up, as an Account Manager does
        cls.env.user.groups_id += cls.env.ref('odoo_bank_crm.group_bank_crm_manager')
        Stage = cls.env['crm.stage']
        cls.stage_new = Stage.create({'name': "Auto-invoice: New", 'sequence': 1})
        cls.stage_signed = Stage.create({'name': "Contract Signed", 'sequence': 60})
        cls.stage_other = Stage.create({'name': "Auto-invoice: Negotiation", 'sequence': 61})
        cls.salesperson = cls.users['user']
        cls.team = cls.env['crm.team'].create({'name': "Direct Sales", 'user_id': cls.users['manager'].id})
        cls.team_2 = cls.env['crm.team'].create({'name': "Partners"})
        Partner = cls.env['res.partner']
        cls.russia, cls.kazakhstan = cls.env.ref('base.ru'), cls.env.ref('base.kz')
        cls.vip = cls.env['res.partner.category'].create({'name': "VIP"})
        cls.moscow = Partner.create(
            {
                'name': "ООО «Москва»",
                'city': "Москва",
                'country_id': cls.russia.id,
                'email': 'moscow@example.com',
                'category_id': [Command.set(cls.vip.ids)],
            }
        )
        cls.kazan = Partner.create(
            {'name': "ООО «Казань»", 'city': "Казань", 'country_id': cls.russia.id, 'email': 'kazan@example.com'}
        )
        cls.almaty = Partner.create(
            {'name': "ТОО «Алматы»", 'city': "Алматы", 'country_id': cls.kazakhstan.id, 'email': 'almaty@example.com'}
        )
        cls.chair = cls.env['product.product'].create({'name': "Chair", 'lst_price': 1500.0, 'taxes_id': False})

    def _rule(self, **values):
        rule = self.env['bank.crm.auto.invoice.rule'].create(
            {
                'name': "Prepayment",
                'stage_id': self.stage_signed.id,
                'invoice_basis': "Предоплата по договору",
                'send_mode': 'review',
                **values,
            }
        )
        # automations patch the registry's models: remove them before the test's rollback
        self.addCleanup(lambda: rule.with_context(active_test=False).exists().unlink())
        return rule

    def _leads(self, *specs, stage=None):
        """Deals in the first stage: (partner, expected revenue, extra values)."""
        return self.env['crm.lead'].create(
            [
                {
                    'name': f"Deal {index}",
                    'type': 'opportunity',
                    'partner_id': partner.id if partner else False,
                    'expected_revenue': revenue,
                    'user_id': self.salesperson.id,
                    'team_id': self.team.id,
                    'stage_id': (stage or self.stage_new).id,
                    **(extra[0] if extra else {}),
                }
                for index, (partner, revenue, *extra) in enumerate(specs)
            ]
        )

    def _invoices(self, leads):
        return self.env['account.move'].search([('bank_crm_lead_id', 'in', leads.ids)])

    def _invoiced(self, leads):
        return self._invoices(leads).bank_crm_lead_id

    def _emailed_to_customer(self, invoice):
        return self.env['mail.message'].search_count(
            [
                ('model', '=', 'account.move'),
                ('res_id', '=', invoice.id),
                ('message_type', '=', 'comment'),
                ('partner_ids', 'in', invoice.partner_id.ids),
            ]
        )

    def _send_queued(self):
        """What the sending job does once the stage change is committed."""
        cron = self.env.ref('odoo_bank_crm.cron_bank_crm_auto_invoice_send')
        self.assertTrue(self.env['ir.cron.trigger'].search([('cron_id', '=', cron.id)]), "the job was not triggered")
        self.env['bank.crm.auto.invoice.firing']._cron_bank_crm_send_invoices()

    def _later_operation(self, minutes):
        """A later request: Odoo stamps stage changes with the transaction's time."""
        return patch.object(self.env.cr, 'now', return_value=self.env.cr.now() + timedelta(minutes=minutes))


@tagged('post_install', '-at_install')
class TestAutoInvoiceRule(AutoInvoiceCommon):
    # === CONDITIONS === #

    def test_condition_min_expected_revenue(self):
        self._rule(min_expected_revenue=1000)
        small, exact, big = leads = self._leads((self.moscow, 999.99), (self.moscow, 1000), (self.moscow, 50000))
        leads.write({'stage_id': self.stage_signed.id})
        self.assertEqual(self._invoiced(leads), exact | big)
        self.assertEqual(self._invoices(big).amount_total, 50000)
        self.assertEqual(self._invoices(big).invoice_line_ids.name, "Предоплата по договору")

    def test_condition_max_expected_revenue(self):
        self._rule(max_expected_revenue=1000)
        small, exact, big = leads = self._leads((self.moscow, 10), (self.moscow, 1000), (self.moscow, 1000.01))
        leads.write({'stage_id': self.stage_signed.id})
        self.assertEqual(self._invoiced(leads), small | exact)

    def test_condition_city(self):
        self._rule(partner_city="москва,  Алматы")
        moscow, kazan, almaty = leads = self._leads((self.moscow, 100), (self.kazan, 100), (self.almaty, 100))
        leads.write({'stage_id': self.stage_signed.id})
        self.assertEqual(self._invoiced(leads), moscow | almaty)

    def test_condition_country(self):
        self._rule(partner_country_ids=[Command.set(self.kazakhstan.ids)])
        moscow, almaty = leads = self._leads((self.moscow, 100), (self.almaty, 100))
        leads.write({'stage_id': self.stage_signed.id})
        self.assertEqual(self._invoiced(leads), almaty)

    def test_condition_customer_tags(self):
        self._rule(partner_category_ids=[Command.set(self.vip.ids)])
        moscow, kazan = leads = self._leads((self.moscow, 100), (self.kazan, 100))
        leads.write({'stage_id': self.stage_signed.id})
        self.assertEqual(self._invoiced(leads), moscow)

    def test_condition_extra_domain(self):
        self._rule(lead_domain="[('priority', '=', '3'), ('user_id', '=', uid)]")
        urgent, normal = leads = self._leads((self.moscow, 100, {'priority': '3'}), (self.moscow, 100))
        urgent.user_id = self.env.user  # `uid`: the user who moves the deals
        leads.write({'stage_id': self.stage_signed.id})
        self.assertEqual(self._invoiced(leads), urgent)

    def test_condition_team(self):
        self._rule(team_id=self.team_2.id)
        direct, partners = leads = self._leads((self.moscow, 100), (self.moscow, 100, {'team_id': self.team_2.id}))
        leads.write({'stage_id': self.stage_signed.id})
        self.assertEqual(self._invoiced(leads), partners)

    def test_conditions_combined_and_preview(self):
        rule = self._rule(
            min_expected_revenue=500, partner_country_ids=[Command.set(self.russia.ids)], partner_city="Казань"
        )
        kazan_big, kazan_small, moscow_big = leads = self._leads(
            (self.kazan, 700), (self.kazan, 100), (self.moscow, 700)
        )
        # the preview counts deals that would be invoiced, whatever their stage
        self.assertEqual(rule.matching_lead_count, 1)
        action = rule.action_bank_crm_view_matching_leads()
        self.assertEqual(self.env['crm.lead'].search(action['domain']), kazan_big)
        leads.write({'stage_id': self.stage_signed.id})
        self.assertEqual(self._invoiced(leads), kazan_big)

    def test_invalid_extra_domain_is_refused(self):
        with self.assertRaises(ValidationError):
            self._rule(lead_domain="[('no_such_field', '=', 1)]")

    # === WHAT THE INVOICE CONTAINS === #

    def test_invoice_items_discount_notes_due_date(self):
        self._rule(
            invoice_mode='items',
            discount=10,
            due_days=5,
            customer_notes="<p>Спасибо!</p>",
            prices_include_tax=False,
            send_mode='review',
            line_ids=[
                Command.create({'product_id': self.chair.id, 'quantity': 2, 'price_unit': 0}),
                Command.create({'product_id': self.chair.id, 'name': "Assembly", 'quantity': 1, 'price_unit': 300}),
            ],
        )
        lead = self._leads((self.moscow, 1))
        lead.stage_id = self.stage_signed
        invoice = self._invoices(lead)
        self.assertEqual(invoice.state, 'posted')
        self.assertEqual(invoice.partner_id, self.moscow)
        self.assertEqual(invoice.invoice_user_id, self.salesperson)
        self.assertEqual(invoice.invoice_line_ids.mapped('price_unit'), [1500.0, 300.0])  # zero: the product's price
        self.assertAlmostEqual(invoice.amount_total, (2 * 1500 + 300) * 0.9)
        self.assertIn("Спасибо!", str(invoice.narration))
        self.assertEqual(invoice.invoice_origin, "Предоплата по договору")
        self.assertEqual(invoice.invoice_date_due, invoice.invoice_date + timedelta(days=5))

    def test_review_mode_posts_without_sending(self):
        self._rule(send_mode='review')
        lead = self._leads((self.moscow, 2500))
        lead.stage_id = self.stage_signed
        invoice = self._invoices(lead)
        self.assertEqual(invoice.state, 'posted')
        self.assertFalse(self._emailed_to_customer(invoice))
        activity = invoice.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.salesperson)
        self.assertEqual(activity.summary, "Review and send the invoice")
        self.assertEqual(
            self.env['bank.crm.auto.invoice.firing'].search([('invoice_id', '=', invoice.id)]).send_state, 'review'
        )
        self.assertTrue(lead.message_ids.filtered(lambda m: invoice.name in str(m.body) and "review" in str(m.body)))

    def test_send_mode_emails_with_the_rules_template(self):
        template = self.env.ref('odoo_bank_crm.mail_template_bank_crm_payment_link').copy(
            {'subject': "Счёт {{ object.name }} по правилу"}
        )
        rule = self._rule(send_mode='send', payment_link_kind='portal', mail_template_id=template.id)
        lead = self._leads((self.moscow, 2500))
        lead.stage_id = self.stage_signed
        invoice = self._invoices(lead)
        self.assertEqual(invoice.state, 'posted')
        # the email (its PDF, the payment link) is the sending job's, after the stage change
        self.assertEqual(rule.firing_ids.send_state, 'to_send')
        self.assertFalse(self._emailed_to_customer(invoice))
        self._send_queued()
        self.assertEqual(rule.firing_ids.send_state, 'sent')
        self.assertTrue(self._emailed_to_customer(invoice))
        self.assertTrue(invoice.message_ids.filtered(lambda m: "по правилу" in (m.subject or "")))
        self.assertFalse(invoice.activity_ids)
        self.assertEqual(rule.invoice_count, 1)
        self.assertEqual(rule.firing_ids.invoice_id, invoice)

    # === ONCE / EVERY TIME === #

    def test_once_per_deal(self):
        rule = self._rule(frequency='once')
        lead = self._leads((self.moscow, 1000))
        lead.stage_id = self.stage_signed
        lead.stage_id = self.stage_signed  # no change, no trigger
        with self._later_operation(5):
            lead.stage_id = self.stage_other
        with self._later_operation(10):
            lead.stage_id = self.stage_signed
        self.assertEqual(len(self._invoices(lead)), 1)
        self.assertEqual(len(rule.firing_ids), 1)
        self.assertEqual(rule.firing_ids.lead_id, lead)

    def test_every_time_the_stage_is_reached(self):
        rule = self._rule(frequency='every_time')
        lead = self._leads((self.moscow, 1000))
        lead.stage_id = self.stage_signed
        with self._later_operation(5):
            lead.stage_id = self.stage_other
        with self._later_operation(10):
            lead.stage_id = self.stage_signed
        self.assertEqual(len(self._invoices(lead)), 2)
        self.assertEqual(len(rule.firing_ids), 2)
        self.assertEqual(len(set(rule.firing_ids.mapped('stage_entry_date'))), 2)

    def test_never_twice_for_the_same_stage_entry(self):
        """A consultant duplicates the automation: both copies run on the same arrival."""
        for frequency in ('once', 'every_time'):
            with self.subTest(frequency=frequency):
                rule = self._rule(frequency=frequency)
                copy = rule.automation_id.copy()
                self.addCleanup(lambda copy=copy: copy.exists().unlink())
                self.assertEqual(copy.action_server_ids.bank_crm_auto_invoice_rule_id, rule)
                lead = self._leads((self.moscow, 1000))
                lead.stage_id = self.stage_signed
                self.assertEqual(len(self._invoices(lead)), 1)
                self.assertEqual(len(rule.firing_ids), 1)
                copy.unlink()
                rule.unlink()

    # === HOWEVER THE STAGE CHANGES === #

    def test_fires_however_the_stage_changes(self):
        self._rule()
        created, form, imported, api_write = leads = self._leads(*[(self.moscow, 100)] * 4)
        # created directly in the stage
        created_there = self._leads((self.kazan, 100), stage=self.stage_signed)
        # the form (as the salesperson)
        with Form(form.with_user(self.salesperson)) as lead_form:
            lead_form.stage_id = self.stage_signed
        # an import
        result = self.env['crm.lead'].load(['.id', 'stage_id/.id'], [[str(imported.id), str(self.stage_signed.id)]])
        self.assertFalse(result['messages'])
        # the API (the kanban's drag and drop is a write too; see the tour)
        api_write.with_user(self.salesperson).write({'stage_id': self.stage_signed.id})
        self.assertEqual(self._invoiced(leads | created_there), leads[1:] | created_there)
        created.stage_id = self.stage_signed
        self.assertEqual(self._invoiced(created), created)

    def test_batch_of_500_deals(self):
        """One write moves 500 deals; the rule matches one in five."""
        rule = self._rule(min_expected_revenue=5000)
        leads = self._leads(*[(self.moscow if i % 2 else self.kazan, 10000 if i % 5 == 0 else 100) for i in range(500)])
        matching = leads.filtered(lambda lead: lead.expected_revenue >= 5000)
        self.assertEqual(len(matching), 100)
        leads.write({'stage_id': self.stage_signed.id})
        self.assertTrue(all(lead.stage_id == self.stage_signed for lead in leads))
        invoices = self._invoices(leads)
        self.assertEqual(len(invoices), 100)
        self.assertEqual(invoices.bank_crm_lead_id, matching)
        self.assertEqual(set(invoices.mapped('state')), {'posted'})
        self.assertEqual(len(rule.firing_ids), 100)
        # a second write, and a round trip through another stage: nothing more
        leads.write({'stage_id': self.stage_signed.id})
        with self._later_operation(5):
            leads.write({'stage_id': self.stage_other.id})
        with self._later_operation(10):
            leads.write({'stage_id': self.stage_signed.id})
        self.assertEqual(len(self._invoices(leads)), 100)
        self.assertEqual(len(rule.firing_ids), 100)

    def test_conditions_cost_no_query_per_deal(self):
        """A rule's conditions are one search over the batch: moving 80 deals that do not
        match costs the same number of queries as moving 20, over the same moves into a
        stage without rule."""
        self._rule(partner_city="Владивосток")
        extra = {}
        for size in (20, 80):
            leads = self._leads(*[(self.moscow, 100)] * size)
            counts = {}
            for stage in (self.stage_other, self.stage_signed):
                leads.write({'stage_id': self.stage_new.id})
                self.env.flush_all()
                with self._later_operation(size + (stage == self.stage_signed)):
                    before = self.env.cr.sql_log_count
                    leads.write({'stage_id': stage.id})
                    self.env.flush_all()
                    counts[stage] = self.env.cr.sql_log_count - before
            extra[size] = counts[self.stage_signed] - counts[self.stage_other]
        self.assertFalse(self._invoices(self.env['crm.lead'].search([('partner_id', '=', self.moscow.id)])))
        self.assertLessEqual(extra[80], extra[20], extra)

    # === FAILURES === #

    def test_failure_isolation_when_sending(self):
        """One customer without an email among others: the others are invoiced and sent,
        the failing deal gets a note and an activity, and every deal changes stage."""
        self._rule(send_mode='send', payment_link_kind='portal')
        no_email = self.env['res.partner'].create({'name': "ИП Без Почты", 'city': "Москва"})
        first, failing, third, fourth = leads = self._leads(
            (self.moscow, 1000), (no_email, 2000), (self.kazan, 3000), (self.almaty, 4000)
        )
        leads.write({'stage_id': self.stage_signed.id})
        self.assertTrue(all(lead.stage_id == self.stage_signed for lead in leads))
        invoices = self._invoices(leads)
        self.assertEqual(invoices.bank_crm_lead_id, first | third | fourth)
        self._send_queued()
        for invoice in invoices:
            self.assertEqual(invoice.state, 'posted')
            self.assertTrue(self._emailed_to_customer(invoice), invoice.partner_id.name)
        # the failing deal: no invoice left behind, an activity and a note saying why
        self.assertFalse(self._invoices(failing))
        activity = failing.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.salesperson)
        self.assertIn("Prepayment", activity.summary)
        note = failing.message_ids.filtered(lambda m: "did not issue an invoice" in str(m.body))
        self.assertEqual(len(note), 1)
        self.assertIn("email", str(note.body))
        self.assertFalse(first.activity_ids)
        # once the email is added, the next arrival in the stage invoices it
        no_email.email = 'found@example.com'
        with self._later_operation(5):
            failing.stage_id = self.stage_other
        with self._later_operation(10):
            failing.stage_id = self.stage_signed
        self.assertEqual(len(self._invoices(failing)), 1)

    def test_failure_when_the_sending_job_runs(self):
        """The email was there when the invoice was issued and is gone when the job sends
        it: the invoice stays posted, the deal gets a note and an activity, the others go."""
        rule = self._rule(send_mode='send', payment_link_kind='portal')
        leaving = self.env['res.partner'].create({'name': "ООО «Уходящая»", 'email': 'soon@example.com'})
        kept, failing = leads = self._leads((self.moscow, 1000), (leaving, 2000))
        leads.write({'stage_id': self.stage_signed.id})
        leaving.email = False
        self._send_queued()
        states = {firing.lead_id: firing.send_state for firing in rule.firing_ids}
        self.assertEqual(states, {kept: 'sent', failing: 'failed'})
        self.assertTrue(self._emailed_to_customer(self._invoices(kept)))
        invoice = self._invoices(failing)
        self.assertEqual(invoice.state, 'posted')
        self.assertFalse(self._emailed_to_customer(invoice))
        self.assertIn(invoice.name, failing.activity_ids.summary)
        self.assertTrue(failing.message_ids.filtered(lambda m: "could not be sent" in str(m.body)))
        self.assertTrue(rule.firing_ids.filtered(lambda f: f.lead_id == failing).send_error)

    def test_failure_notes_escape_what_users_typed(self):
        """A rule name (typed by a manager) and a failure reason (a customer's data) are text in
        the deal's notes, never HTML; the invoice link stays a link."""
        rule = self._rule(send_mode='send', payment_link_kind='portal', name='<img src=x onerror="alert(1)">')
        leaving = self.env['res.partner'].create({'name': "ООО «Уходящая»", 'email': 'soon@example.com'})
        no_email = self.env['res.partner'].create({'name': "<b>ИП</b> Без Почты"})
        unsent, not_issued = leads = self._leads((leaving, 2000), (no_email, 1000))
        leads.write({'stage_id': self.stage_signed.id})
        leaving.email = False
        self._send_queued()
        invoice = self._invoices(unsent)
        for lead, text in ((unsent, "could not be sent"), (not_issued, "did not issue an invoice")):
            body = str(lead.message_ids.filtered(lambda m, text=text: text in str(m.body)).body)
            self.assertIn("&lt;img src=x onerror=", body)
            self.assertNotIn("<img", body)
        unsent_body = str(unsent.message_ids.filtered(lambda m: "could not be sent" in str(m.body)).body)
        self.assertIn("data-oe-model", unsent_body)  # Odoo's record link, as markup
        self.assertIn(invoice.name, unsent_body)
        self.assertEqual(rule.firing_ids.filtered(lambda f: f.lead_id == unsent).send_state, 'failed')

    def test_failures_become_activities(self):
        free = self.env['product.product'].create({'name': "Free sample", 'lst_price': 0})
        no_price = self._rule(
            name="No price",
            invoice_mode='items',
            line_ids=[Command.create({'product_id': free.id, 'quantity': 1, 'price_unit': 0})],
        )
        lead, no_customer = leads = self._leads((self.moscow, 100), (None, 100))
        leads.write({'stage_id': self.stage_signed.id})
        self.assertFalse(self._invoices(leads))
        for deal, reason in ((lead, "has no price"), (no_customer, "customer")):
            with self.subTest(reason=reason):
                self.assertEqual(deal.stage_id, self.stage_signed)
                self.assertIn("No price", deal.activity_ids.summary)
                self.assertTrue(deal.message_ids.filtered(lambda m: reason in str(m.body)))
        # a rule that no longer fits: its product was archived
        no_price.line_ids.product_id = self.chair
        self.chair.active = False
        other = self._leads((self.moscow, 100))
        other.stage_id = self.stage_signed
        self.assertFalse(self._invoices(other))
        self.assertTrue(other.message_ids.filtered(lambda m: "can no longer be sold" in str(m.body)))

    # === THE AUTOMATION FOLLOWS THE RULE === #

    def test_automation_created_updated_removed_with_the_rule(self):
        rule = self._rule()
        automation = rule.automation_id
        self.assertTrue(automation)
        self.assertEqual(automation.model_name, 'crm.lead')
        self.assertEqual(automation.trigger, 'on_stage_set')
        self.assertEqual(automation.trg_field_ref, self.stage_signed.id)
        self.assertEqual(automation.filter_domain, repr([('stage_id', '=', self.stage_signed.id)]))
        self.assertTrue(automation.active)
        action = automation.action_server_ids
        self.assertEqual(len(action), 1)
        self.assertEqual(action.state, STATE)
        self.assertEqual(action.bank_crm_auto_invoice_rule_id, rule)
        self.assertEqual(action.usage, 'base_automation')
        self.assertEqual(automation, self.env['base.automation'].search([('name', 'ilike', "Prepayment")]))
        # the addon's external id: uninstalling it removes the automation
        self.assertTrue(automation.get_external_id()[automation.id].startswith('odoo_bank_crm.'))

        rule.write({'stage_id': self.stage_other.id, 'name': "Deposit"})
        self.assertEqual(automation.trg_field_ref, self.stage_other.id)
        self.assertEqual(automation.filter_domain, repr([('stage_id', '=', self.stage_other.id)]))
        self.assertIn("Deposit", automation.name)
        self.assertIn("Deposit", action.name)
        moved = self._leads((self.moscow, 100))
        moved.stage_id = self.stage_signed
        self.assertFalse(self._invoices(moved))
        moved.stage_id = self.stage_other
        self.assertEqual(self._invoiced(moved), moved)

        rule.active = False
        self.assertFalse(automation.active)
        rule.active = True
        self.assertTrue(automation.active)

        automation_id = automation.id
        rule.unlink()
        self.assertFalse(automation.exists())
        self.assertFalse(action.exists())
        self.assertFalse(
            self.env['ir.model.data'].search([('model', '=', 'base.automation'), ('res_id', '=', automation_id)])
        )

    def test_automation_recreated_when_missing(self):
        rule = self._rule()
        rule.automation_id.unlink()
        self.assertFalse(rule.automation_id)
        rule.name = "Again"
        self.assertTrue(rule.automation_id.action_server_ids.filtered(lambda a: a.state == STATE))

    def test_stage_shows_its_rules_and_takes_them_along(self):
        rule = self._rule()
        stage = self.stage_signed.with_user(self.users['manager'])
        self.assertEqual(stage.bank_crm_auto_invoice_rule_count, 1)
        action = stage.action_bank_crm_auto_invoice_rules()
        self.assertEqual(self.env['bank.crm.auto.invoice.rule'].search(action['domain']), rule)
        automation = rule.automation_id
        self.stage_signed.unlink()
        self.assertFalse(rule.exists())
        self.assertFalse(automation.exists())

    def test_rule_form(self):
        """An Account Manager fills the form: the preview follows the conditions as typed."""
        self._leads((self.kazan, 700), (self.moscow, 700), (self.kazan, 10))
        manager = self.users['manager']
        manager.groups_id += self.env.ref('sales_team.group_sale_salesman_all_leads')  # sees every deal
        form = Form(self.env['bank.crm.auto.invoice.rule'].with_user(manager))
        form.name = "Kazan prepayment"
        form.stage_id = self.stage_signed
        form.partner_city = "Казань"
        self.assertEqual(form.matching_lead_count, 2)
        form.min_expected_revenue = 500
        self.assertEqual(form.matching_lead_count, 1)
        form.invoice_mode = 'items'
        with form.line_ids.new() as line:
            line.product_id = self.chair
            line.quantity = 2
        form.send_mode = 'send'
        self.assertEqual(form.mail_template_id, self.env.ref('odoo_bank_crm.mail_template_bank_crm_payment_link'))
        self.assertEqual(form.payment_link_kind, 'portal')  # the company's
        rule = form.save()
        self.addCleanup(lambda: rule.exists().sudo().unlink())
        self.assertEqual(rule.line_ids.product_id, self.chair)
        self.assertTrue(rule.sudo().automation_id)

    def test_account_managers_manage_rules(self):
        manager = self.users['manager']
        rule = (
            self.env['bank.crm.auto.invoice.rule']
            .with_user(manager)
            .create({'name': "Manager's rule", 'stage_id': self.stage_signed.id})
        )
        self.addCleanup(lambda: rule.exists().sudo().unlink())
        self.assertTrue(rule.sudo().automation_id)
        rule.write({'stage_id': self.stage_other.id})
        self.assertEqual(rule.sudo().automation_id.trg_field_ref, self.stage_other.id)
        with self.assertRaises(AccessError):
            self.env['bank.crm.auto.invoice.rule'].with_user(self.users['user']).create(
                {'name': "User's rule", 'stage_id': self.stage_signed.id}
            )
        menus = self.env['ir.ui.menu'].with_user(manager).load_menus(debug=False)
        self.assertIn(
            'odoo_bank_crm.menu_bank_crm_auto_invoice_rules',
            {menu.get('xmlid') for menu in menus.values() if isinstance(menu, dict)},
        )
        rule.unlink()


@tagged('post_install', '-at_install')
class TestAutoInvoiceTour(AutoInvoiceCommon, HttpCase):
    def test_tour_drag_deal_to_trigger_stage(self):
        """The salesperson drags a card to the trigger stage in the pipeline and finds the
        invoice on the card and on the deal."""
        self._rule()
        lead = self._leads((self.moscow, 12500, {'name': "Tour deal: office chairs"}))
        self.start_tour(
            '/odoo/action-crm.crm_lead_action_pipeline', 'odoo_bank_crm_auto_invoice', login=self.salesperson.login
        )
        self.assertEqual(lead.stage_id, self.stage_signed)
        invoice = self._invoices(lead)
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.amount_total, 12500)
