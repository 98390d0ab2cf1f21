import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.misc import file_path
from odoo.tools.translate import TranslationModuleReader


@tagged('post_install', '-at_install')
class TestTranslations(TransactionCase):
    def test_every_term_has_a_russian_translation(self):
        """ru.po translates every term Odoo exports for the addon, as installed
        (code, views, fields, menus, data), so a new string cannot ship in English only."""
        terms = {
            source
            for _module, _type, _name, _res_id, source, _value, _comments in TranslationModuleReader(
                self.env.cr, modules=['odoo_bank_crm']
            )
        }
        po = polib.pofile(file_path('odoo_bank_crm/i18n/ru.po'))
        translated = {entry.msgid for entry in po.translated_entries()}
        missing = sorted(terms - translated)
        self.assertFalse(
            missing, "Terms without a Russian translation (run `make i18n`, then translate):\n" + "\n".join(missing)
        )

    def test_menu_in_russian(self):
        self.env['res.lang']._activate_lang('ru_RU')
        self.env['ir.module.module']._load_module_terms(['odoo_bank_crm'], ['ru_RU'], overwrite=True)
        menu = self.env.ref('odoo_bank_crm.menu_bank_crm_root').with_context(lang='ru_RU')
        self.assertEqual(menu.name, "Счёт")

    def test_terms_load_in_russian_as_odoo_loads_them(self):
        """Odoo merges the template (.pot) into ru.po when it loads it: a term missing from the
        template is dropped there. Loaded the way Odoo loads them, the newest view terms are
        Russian (the provider form's warning about T-Bank's public test terminal)."""
        self.env['res.lang']._activate_lang('ru_RU')
        self.env['ir.module.module']._load_module_terms(['payment_tbank', 'odoo_bank_crm'], ['ru_RU'], overwrite=True)
        view = self.env.ref('payment_tbank.payment_provider_view_form').with_context(lang='ru_RU')
        self.assertIn("Публичный тестовый терминал Т-Банка", view.arch_db)
        self.assertNotIn("public test terminal", view.arch_db)
