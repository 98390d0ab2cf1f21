import hashlib
import json

from lxml import etree, html as lxml_html

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.rendering_tools import parse_inline_template

TEXT_FIELD_TYPES = ('char', 'text', 'html')


class MailTemplate(models.Model):
    """Which templates the addon may render for someone else.

    Odoo lets its template editors (`mail.group_mail_template_editor`: administrators, and
    every internal user once Settings > "Restrict Template Rendering" is off) write code in
    a template (`{{ ... }}` expressions, `t-out`/`t-if` of QWeb beyond a few plain fields),
    and renders a saved template without asking who renders it
    (`mail.template._unrestricted_rendering`). The addon renders invoice emails for other
    people, under `sudo()` when an auto-invoice rule sends them. So it renders a template
    with code (Odoo's own test, `mail.render.mixin._has_unsafe_expression`, in every
    installed language) only when that code is the one an administrator saved: each save
    by an administrator (or by Odoo itself, for the templates of modules) records a digest
    of the template's code in every language, and the code must still match it."""

    _inherit = 'mail.template'

    bank_crm_reviewed_digest = fields.Char(
        string="Code Saved by an Administrator",
        readonly=True,
        copy=False,
        groups='base.group_system',
        help="Digest of the template's code, in every language, when an administrator last saved it: "
        "a template with code is sent by the Bank CRM only while its code matches it.",
    )

    # === WHO SAVED THE CODE === #

    def _bank_crm_saved_by_administrator(self):
        return self.env.uid == SUPERUSER_ID or self.env.user._is_system()

    def _bank_crm_code_digest(self):
        """A digest of the template's code, in every installed language: the expressions of
        its texts (`{{ ... }}`) and the QWeb directives of its HTML (every `t-*` attribute).
        Its wording, and its translations, may change without changing it."""
        self.ensure_one()
        template = self.sudo()  # sudo: the texts of the template, whoever asks
        names = [name for name, field in template._fields.items() if field.type in TEXT_FIELD_TYPES and field.store]
        code = set()
        for lang, _name in self.env['res.lang'].get_installed():
            localised = template.with_context(lang=lang)
            for name in names:
                text = str(localised[name] or '')
                code.update(
                    (name, '{{}}', expression)
                    for _text, expression, _default in parse_inline_template(text)
                    if expression
                )
                if 't-' in text:
                    try:
                        root = lxml_html.fragment_fromstring(text, create_parent='div')
                    except (etree.ParserError, ValueError):
                        code.add((name, 'text', text))
                        continue
                    code.update(
                        (name, attribute, value)
                        for element in root.iter()
                        for attribute, value in element.attrib.items()
                        if attribute.startswith('t-')
                    )
        return hashlib.sha256(json.dumps(sorted(code)).encode()).hexdigest()

    def _bank_crm_record_review(self):
        """Record the current code as the one an administrator saved."""
        self.flush_recordset()
        for template in self:
            self.env.cr.execute(
                SQL(
                    "UPDATE mail_template SET bank_crm_reviewed_digest = %s WHERE id = %s",
                    template._bank_crm_code_digest(),
                    template.id,
                )
            )
        self.invalidate_recordset(['bank_crm_reviewed_digest'])

    @api.model_create_multi
    def create(self, vals_list):
        templates = super().create(vals_list)
        if self._bank_crm_saved_by_administrator():
            templates._bank_crm_record_review()
        return templates

    def write(self, vals):
        result = super().write(vals)
        if self._bank_crm_saved_by_administrator():
            self._bank_crm_record_review()
        return result

    def _update_field_translations(self, field_name, translations, digest=None, source_lang=None):
        # a translation is a text of the template too (Odoo updates them in SQL, not by write)
        result = super()._update_field_translations(field_name, translations, digest=digest, source_lang=source_lang)
        if self._bank_crm_saved_by_administrator():
            self._bank_crm_record_review()
        return result

    # === MAY THE ADDON RENDER IT FOR OTHERS === #

    def _bank_crm_has_code(self):
        """Whether the template has code, in any installed language (Odoo's own test)."""
        self.ensure_one()
        template = self.sudo()  # sudo: the texts of the template, whoever asks
        return any(
            template.with_context(lang=lang)._has_unsafe_expression()
            for lang, _name in self.env['res.lang'].get_installed()
        )

    def _bank_crm_untrusted_reason(self):
        """Why the addon will not render the template for someone else, or None."""
        self.ensure_one()
        # sudo: the digest is an administrators' field; it is compared, not shown
        if self.sudo().bank_crm_reviewed_digest == self._bank_crm_code_digest() or not self._bank_crm_has_code():
            return None
        return _(
            "The email template “%(template)s” contains code (expressions beyond plain fields) that no "
            "administrator saved (last change by %(author)s): it is not sent for other people. Have an "
            "administrator review the template and save it, or keep only plain fields such as "
            "{{ object.name }}.",
            template=self.display_name,
            author=self.sudo().write_uid.display_name,  # sudo: the name of whoever changed it
        )

    def _bank_crm_check_trusted(self):
        """Raise UserError unless the addon may render the templates for someone else."""
        for template in self:
            reason = template._bank_crm_untrusted_reason()
            if reason:
                raise UserError(reason)
