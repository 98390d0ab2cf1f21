"""Issue #13, what users write that runs: email templates of auto-invoice rules, regular
expressions of categorisation rules; and the upgrade and demo data of the approved
recipient. Each attack performed as an employee would (ORM as the user), with the
legitimate path next to it."""

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from ..upgrade import record_approved_recipients, record_reviewed_templates
from .test_auto_invoice_rule import AutoInvoiceCommon
from .test_expense_categories import CategorisationCommon
from .test_payment_orders import PaymentOrdersCommon
from .test_security_money_paths import RefusedMixin

# === 1. Email templates are code: only an administrator's is rendered for others === #


@tagged('post_install', '-at_install')
class TestRuleTemplateCode(RefusedMixin, AutoInvoiceCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Settings > "Restrict Template Rendering" off (Odoo 18 has it on): every internal
        # user may write code in templates, as Odoo's template editors
        cls.env['ir.config_parameter'].sudo().set_param('mail.restrict.template.rendering', False)
        cls.manager = cls.users['manager']
        cls.admin = cls.env.ref('base.user_admin')
        cls.settings = cls.env.ref('base.group_system')
        cls.shipped = cls.env.ref('odoo_bank_crm.mail_template_bank_crm_payment_link')
        cls.invoice_model = cls.env['ir.model']._get('account.move')

    def _attack(self):
        """Code that makes the Account Manager a Settings administrator, when rendered."""
        return f"{{{{ user.sudo().write({{'groups_id': [(4, {self.settings.id})]}}) }}}}"

    def _template(self, user, subject, body="<p>Your invoice</p>", model=None):
        return (
            self.env['mail.template']
            .with_user(user)
            .create(
                {
                    'name': "Invoice with a twist",
                    'model_id': (model or self.invoice_model).id,
                    'subject': subject,
                    'body_html': body,
                    'use_default_to': True,  # the invoice's customer
                }
            )
        )

    def _manager_rule(self, template):
        rule = (
            self.env['bank.crm.auto.invoice.rule']
            .with_user(self.manager)
            .create(
                {
                    'name': "Prepayment",
                    'stage_id': self.stage_signed.id,
                    'send_mode': 'send',
                    'payment_link_kind': 'portal',
                    'mail_template_id': template.id,
                }
            )
        )
        self.addCleanup(lambda: rule.sudo().with_context(active_test=False).exists().unlink())
        return rule

    def _assert_not_admin(self):
        self.manager.invalidate_recordset()
        self.assertFalse(self.manager.has_group('base.group_system'))
        self.assertNotIn(self.settings, self.manager.groups_id)

    def test_manager_is_a_template_editor(self):
        """What makes the attack possible: rendering unrestricted in Settings."""
        self.assertTrue(self.manager.has_group('mail.group_mail_template_editor'))
        self.assertFalse(self.manager._is_system())

    def test_restricted_rendering_stops_the_manager_first(self):
        """Odoo's default: only template editors (administrators) write code in templates."""
        self.env['ir.config_parameter'].sudo().set_param('mail.restrict.template.rendering', True)
        self.manager.invalidate_recordset()
        self.assertFalse(self.manager.has_group('mail.group_mail_template_editor'))
        with self.refused(AccessError, "Mail Template Editor"):
            self._template(self.manager, self._attack())
        self._assert_not_admin()

    def test_managers_template_with_code_cannot_be_picked(self):
        for template in (
            self._template(self.manager, self._attack()),
            self._template(
                self.manager,
                "Invoice {{ object.name }}",
                body=f'<p>Dear customer<t t-out="user.sudo().write({{\'groups_id\': [(4, {self.settings.id})]}})"/></p>',
            ),
        ):
            with self.subTest(template=template.subject), self.refused(ValidationError, "no administrator saved"):
                self._manager_rule(template)
        self._assert_not_admin()
        self.assertFalse(self.env['bank.crm.auto.invoice.rule'].search([('name', '=', "Prepayment")]))

    def test_template_changed_after_the_rule_is_not_run_when_a_deal_moves(self):
        """The rule was saved with the shipped email; the manager then writes code into it:
        a salesperson moves a deal, the invoice is issued, the email is not rendered."""
        rule = self._manager_rule(self.shipped)
        self.shipped.with_user(self.manager).write({'subject': self._attack()})
        lead = self._leads((self.moscow, 1000))
        lead.with_user(self.salesperson).write({'stage_id': self.stage_signed.id})
        self._send_queued()
        self._assert_not_admin()
        firing = rule.firing_ids
        self.assertEqual(firing.send_state, 'failed')
        self.assertIn("no administrator saved", firing.send_error)
        self.assertIn(self.manager.name, firing.send_error)
        invoice = self._invoices(lead)
        self.assertEqual(invoice.state, 'posted')
        self.assertFalse(self._emailed_to_customer(invoice))
        self.assertIn("no administrator saved", lead.message_ids[0].body)

    def test_code_in_a_translation_makes_its_translator_the_author(self):
        self.env['res.lang']._activate_lang('ru_RU')
        template = self._template(self.admin, "Invoice {{ object.name }}")
        self.assertIsNone(template._bank_crm_untrusted_reason())
        # new wording, the same code: still the administrator's
        template.with_user(self.manager).update_field_translations('subject', {'ru_RU': "Счёт {{ object.name }}"})
        self.assertIsNone(template._bank_crm_untrusted_reason())
        template.with_user(self.manager).update_field_translations('subject', {'ru_RU': self._attack()})
        with self.refused(UserError, "no administrator saved"):
            template._bank_crm_check_trusted()
        with self.refused(ValidationError, "no administrator saved"):
            self._manager_rule(template)
        self._assert_not_admin()

    def test_upgrade_records_the_administrators_templates(self):
        managers = self._template(self.manager, "Invoice {{ object.name }}", body='<p><t t-out="user.name"/></p>')
        managers.flush_recordset()  # as the manager: Odoo stamps write_uid with whoever flushes
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE mail_template SET bank_crm_reviewed_digest = NULL WHERE id IN %s",
            [(self.shipped.id, managers.id)],
        )
        (self.shipped | managers).invalidate_recordset()
        self.assertTrue(self.shipped._bank_crm_untrusted_reason())
        reviewed = record_reviewed_templates(self.env)
        self.assertIn(self.shipped, reviewed)
        self.assertNotIn(managers, reviewed)
        self.assertIsNone(self.shipped._bank_crm_untrusted_reason())
        self.assertTrue(managers._bank_crm_untrusted_reason())

    def test_rule_template_must_be_an_invoice_email(self):
        template = self._template(self.admin, "Hello", model=self.env['ir.model']._get('res.partner'))
        with self.refused(ValidationError, "email of invoices"):
            self._manager_rule(template)

    def test_shipped_and_administrators_templates_are_sent(self):
        admins = self._template(
            self.admin, "{{ object.company_id.name.upper() }}: invoice {{ object.name }}", body="<p>Please pay</p>"
        )
        plain = self._template(self.manager, "Invoice {{ object.name }}")  # fields only: no code
        for template in (self.shipped, admins, plain):
            with self.subTest(template=template.name):
                rule = self._manager_rule(template)
                lead = self._leads((self.moscow, 1000))
                lead.with_user(self.salesperson).write({'stage_id': self.stage_signed.id})
                self._send_queued()
                self.assertEqual(rule.firing_ids.send_state, 'sent')
                invoice = self._invoices(lead)
                self.assertTrue(self._emailed_to_customer(invoice))
                if template == admins:
                    message = invoice.message_ids.filtered(lambda m: m.message_type == 'comment')[:1]
                    self.assertIn(self.env.company.name.upper(), message.subject)
                rule.active = False

    def test_invoice_wizard_path_checks_the_template_too(self):
        """The deal card's and the payment links' sending use the shipped email: once a
        non-administrator wrote code into it, nobody sends it until an administrator saves it."""
        self.shipped.with_user(self.manager).write({'subject': self._attack()})
        self._rule(send_mode='review', mail_template_id=False)
        lead = self._leads((self.moscow, 1000))
        lead.with_user(self.salesperson).write({'stage_id': self.stage_signed.id})
        invoice = self._invoices(lead)
        self.assertEqual(invoice.state, 'posted')
        with self.refused(UserError, "no administrator saved"):
            invoice._bank_crm_send_payment_link()
        self._assert_not_admin()
        self.assertFalse(self._emailed_to_customer(invoice))
        self.shipped.with_user(self.admin).write({'subject': "{{ object.company_id.name }}: invoice {{ object.name }}"})
        invoice._bank_crm_send_payment_link()
        self.assertTrue(self._emailed_to_customer(invoice))


# === 2. Regular expressions of categorisation rules run in bounded time === #


@tagged('post_install', '-at_install')
class TestCategorisationRegex(RefusedMixin, CategorisationCommon):
    def _manager_rule(self, pattern):
        return (
            self.Rule.with_user(self.users['manager'])
            .with_context(allowed_company_ids=self.env.company.ids)
            .create({'name': "Rx", 'category_id': self.other.id, 'purpose_match': 'regex', 'purpose_text': pattern})
        )

    def test_catastrophic_patterns_are_refused(self):
        for pattern, why in (
            (r"(a+)+$", "repeated group"),
            (r"(x|x?)+", "repeated group"),
            (r"(a|aa)+$", "repeated group"),
            (r"(\w*)*\d", "repeated group"),
            (r"\s*\s*\s*x", "same characters"),
            (r".*a.*b.*c", "same characters"),
            (r"(a)\1", "refers back"),
            ("x" * 201, "longer than"),
        ):
            with self.subTest(pattern=pattern), self.refused(ValidationError, why):
                self._manager_rule(pattern)
        self.assertFalse(self.Rule.search([('name', '=', "Rx")]))

    def test_stored_pattern_is_matched_on_the_first_characters(self):
        """A purpose is matched on its first 210 characters, however long the line's text."""
        rule = self._manager_rule(r"налог")
        self.assertEqual(self._line(-10.0, "x" * 200 + " налог").bank_crm_category_id, self.other)
        self.assertFalse(self._line(-10.0, "x" * 300 + " налог").bank_crm_category_id)
        rule.active = False

    def test_legitimate_patterns_still_categorise(self):
        for pattern, purpose in (
            (r"сч[её]т\w*\s*№?\s*\d+", "Оплата по счёту №15"),
            (r"^(?:ООО|ИП)\s+\w+", "ООО Ромашка, оплата"),
            (r"[^,]*,[^,]*,\s*НДС", "Аренда, март, НДС не облагается"),
            (r"(?:\d{3})+ руб", "Оплата 150000 руб"),
        ):
            with self.subTest(pattern=pattern):
                rule = self._manager_rule(pattern)
                self.assertEqual(self._line(-10.0, purpose).bank_crm_category_id, self.other)
                self.assertFalse(self._line(-10.0, "Прочее").bank_crm_category_id)
                rule.active = False


# === 3. Upgrade: payments submitted before the approved recipient was recorded === #


@tagged('post_install', '-at_install')
class TestUpgradeApprovedRecipient(RefusedMixin, PaymentOrdersCommon):
    def _as_before_the_upgrade(self, payment):
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE bank_crm_payment_order SET recipient_acc_number = NULL, recipient_bic = NULL WHERE id = %s",
            [payment.id],
        )
        payment.invalidate_recordset()

    def test_payments_past_draft_get_their_recipient(self):
        ready = self._payment(100)
        ready.action_submit()
        waiting = self._payment(120000)
        waiting.action_submit()
        draft = self._payment(100)
        for payment in ready | waiting:
            self._as_before_the_upgrade(payment)
        with self.refused(UserError, "changed after it was submitted"):
            ready.with_user(self.manager).action_export_onec()

        self.assertEqual(record_approved_recipients(self.env.cr), 2)
        (ready | waiting | draft).invalidate_recordset()
        for payment in ready | waiting:
            self.assertEqual(
                (payment.recipient_acc_number, payment.recipient_bic), ('40702810438000012345', '044525225')
            )
        self.assertFalse(draft.recipient_acc_number)
        ready.with_user(self.manager).action_export_onec()
        self.assertEqual(ready.state, 'exported')

    def test_recorded_recipients_are_kept(self):
        payment = self._payment(100)
        payment.action_submit()
        self.bank_ru.bic = '044525999'
        self.assertEqual(record_approved_recipients(self.env.cr), 0)
        payment.invalidate_recordset()
        self.assertEqual(payment.recipient_bic, '044525225')
        with self.refused(UserError, "changed after it was submitted"):
            payment.with_user(self.manager).action_export_onec()

    def test_manifest_version_has_the_migration(self):
        from odoo.modules.module import get_manifest, get_module_path
        from odoo.tools.parse_version import parse_version

        # a database before 18.0.1.1.0 runs this script when it upgrades to any later version
        version = get_manifest('odoo_bank_crm')['version']
        self.assertGreaterEqual(parse_version(version), parse_version('18.0.1.1.0'))
        with open(f"{get_module_path('odoo_bank_crm')}/migrations/18.0.1.1.0/post-migrate.py") as script:
            self.assertIn('record_approved_recipients(cr)', script.read())


# === 4. Demo data: the demo's supplier accounts are trusted === #


@tagged('post_install', '-at_install')
class TestDemoPaymentsCanBeSent(RefusedMixin, PaymentOrdersCommon):
    def test_demo_ready_payment_goes_to_the_bank(self):
        account = self.env.ref('odoo_bank_crm.res_partner_bank_office_rent', raise_if_not_found=False)
        if not account:
            self.skipTest("the database has no demo data")
        self.assertTrue(account.allow_out_payment)
        demo_manager = self.env.ref('odoo_bank_crm.user_bank_crm_manager')
        # sudo: the demo's payments are on the demo's journals, not the test user's
        ready = (
            self.env['bank.crm.payment.order']
            .sudo()
            .search([('partner_bank_id', '=', account.id), ('state', '=', 'ready')])
        )
        self.assertTrue(ready)
        ready.with_user(demo_manager)._bank_crm_check_sendable()
        ready.with_user(demo_manager).action_export_onec()
        self.assertEqual(ready.state, 'exported')
        self.assertEqual((ready.recipient_acc_number, ready.recipient_bic), (account.acc_number, account.bank_id.bic))
