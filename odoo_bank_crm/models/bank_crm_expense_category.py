"""Expense categories (a tree) and the rules that put bank transactions in them.

Precedence of the rules: they are tried in the order of their sequence (then of their
id, the older first), and the FIRST rule whose every condition holds decides the
category (and the analytic account, when it sets one); later rules are not looked at.
A condition left empty does not restrict, so a rule without any condition at the end
of the list categorises whatever no other rule took.

Rules are applied when transactions are created (bank sync, 1C import, by hand): one
pass over all the new lines, with the rules loaded once, and one write per rule that
matched, however many lines there are.
"""

import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import float_compare

# Words of a "contains" condition are separated by commas, semicolons or line breaks.
_WORD_SEPARATORS = re.compile(r"[,;\n]+")


def _fold(text):
    """Text compared without case, and ё as е (bank texts spell it both ways)."""
    return (text or '').casefold().replace('ё', 'е')


def _inn(value):
    """An INN as compared by the rules: its digits (a partner's VAT may carry "RU")."""
    return re.sub(r'\D', '', value or '') or None


class BankCrmExpenseCategory(models.Model):
    _name = 'bank.crm.expense.category'
    _description = "Expense Category"
    _parent_name = 'parent_id'
    _parent_store = True
    _rec_name = 'complete_name'
    _order = 'complete_name'

    name = fields.Char(required=True, index='trigram')
    complete_name = fields.Char(string="Full Name", compute='_compute_complete_name', recursive=True, store=True)
    parent_id = fields.Many2one(
        'bank.crm.expense.category', string="Parent Category", index=True, ondelete='restrict', check_company=True
    )
    parent_path = fields.Char(index=True)
    child_ids = fields.One2many('bank.crm.expense.category', 'parent_id', string="Subcategories")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one('res.company', index=True, help="Leave empty to share the category between companies.")
    color = fields.Integer()
    transaction_count = fields.Integer(string="Transactions", compute='_compute_transaction_count')

    @api.depends('name', 'parent_id.complete_name')
    def _compute_complete_name(self):
        for category in self:
            if category.parent_id:
                category.complete_name = f"{category.parent_id.complete_name} / {category.name}"
            else:
                category.complete_name = category.name

    @api.constrains('parent_id')
    def _check_parent_id(self):
        if self._has_cycle():
            raise ValidationError(_("A category cannot be inside itself."))

    def _compute_transaction_count(self):
        """Transactions of each category and its subcategories, in two queries."""
        Line = self.env['account.bank.statement.line']
        if not self.ids or not Line.has_access('read'):
            self.transaction_count = 0
            return
        counts = dict(
            Line._read_group([('bank_crm_category_id', 'child_of', self.ids)], ['bank_crm_category_id'], ['__count'])
        )
        for category in self:
            category.transaction_count = sum(
                count for counted, count in counts.items() if f"/{category.id}/" in f"/{counted.parent_path}"
            )

    def action_bank_crm_view_transactions(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('odoo_bank_crm.account_bank_statement_line_action')
        action['domain'] = [('bank_crm_category_id', 'child_of', self.id)]
        action['context'] = {'search_default_group_by_month': 1}
        action['display_name'] = self.complete_name
        return action


class BankCrmCategorisationRule(models.Model):
    _name = 'bank.crm.categorisation.rule'
    _description = "Categorisation Rule of Bank Transactions"
    _order = 'sequence, id'
    _check_company_auto = True

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10, help="Rules are tried in this order: the first that matches wins.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        'res.company',
        index=True,
        default=lambda self: self.env.company,
        help="Leave empty to apply the rule to every company's transactions.",
    )
    currency_id = fields.Many2one('res.currency', compute='_compute_currency_id')

    # --- conditions: every one that is set must hold --- #
    direction = fields.Selection(
        [('any', "Incoming and outgoing"), ('inbound', "Incoming"), ('outbound', "Outgoing")],
        default='any',
        required=True,
    )
    partner_id = fields.Many2one(
        'res.partner',
        string="Counterparty",
        check_company=True,
        help="The transaction's partner is this one or one of its contacts.",
    )
    counterparty_inn = fields.Char(
        string="Counterparty INN",
        help="The INN the bank gives for the counterparty, or the INN of the transaction's partner.",
    )
    purpose_match = fields.Selection(
        [('contains', "Contains one of the words"), ('regex', "Matches the regular expression")],
        string="Purpose",
        default='contains',
        required=True,
    )
    purpose_text = fields.Char(
        string="Words or Expression",
        help="Contains: words or parts of words separated by commas, any one of which in the purpose is "
        "enough (case and ё/е ignored). Regular expression: Python syntax, case ignored, found "
        "anywhere in the purpose.",
    )
    amount_min = fields.Monetary(
        string="Amount From", help="In the transaction's currency, without sign; 0 for no lower bound."
    )
    amount_max = fields.Monetary(
        string="Amount Up To", help="In the transaction's currency, without sign; 0 for no upper bound."
    )

    # --- result --- #
    category_id = fields.Many2one('bank.crm.expense.category', required=True, ondelete='cascade', check_company=True)
    analytic_account_id = fields.Many2one('account.analytic.account', ondelete='set null', check_company=True)
    transaction_count = fields.Integer(string="Transactions", compute='_compute_transaction_count')

    @api.depends('company_id')
    def _compute_currency_id(self):
        for rule in self:
            rule.currency_id = (rule.company_id or self.env.company).currency_id

    @api.constrains('purpose_match', 'purpose_text')
    def _check_purpose_regex(self):
        for rule in self.filtered(lambda r: r.purpose_match == 'regex' and r.purpose_text):
            try:
                re.compile(rule.purpose_text)
            except re.error as error:
                raise ValidationError(
                    _("The expression of rule %(rule)s is not valid: %(error)s", rule=rule.name, error=error)
                ) from None

    @api.constrains('amount_min', 'amount_max')
    def _check_amounts(self):
        for rule in self:
            if (
                rule.amount_min < 0
                or rule.amount_max < 0
                or (rule.amount_max and rule.currency_id.compare_amounts(rule.amount_min, rule.amount_max) > 0)
            ):
                raise ValidationError(
                    _(
                        "The amounts of rule %(rule)s are not a range: give positive amounts, the lower one first.",
                        rule=rule.name,
                    )
                )

    def _compute_transaction_count(self):
        Line = self.env['account.bank.statement.line']
        if not self.ids or not Line.has_access('read'):
            self.transaction_count = 0
            return
        counts = dict(
            Line._read_group(
                [('bank_crm_category_rule_id', 'in', self.ids)], ['bank_crm_category_rule_id'], ['__count']
            )
        )
        for rule in self:
            rule.transaction_count = counts.get(rule, 0)

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        # "Make a rule from this line": the line it was made from follows its new rule.
        line_id = self.env.context.get('bank_crm_rule_from_line_id')
        if line_id:
            line = self.env['account.bank.statement.line'].browse(line_id).exists()
            if line:
                line._bank_crm_categorise(rules=rules, force=True)
        return rules

    def _bank_crm_matcher(self):
        """The rule as plain data, checked against many lines without touching the ORM."""
        self.ensure_one()
        words = pattern = None
        if self.purpose_text:
            if self.purpose_match == 'regex':
                pattern = re.compile(self.purpose_text, re.IGNORECASE)
            else:
                words = [_fold(word.strip()) for word in _WORD_SEPARATORS.split(self.purpose_text) if word.strip()]
        return _RuleMatcher(
            rule_id=self.id,
            category_id=self.category_id.id,
            analytic_account_id=self.analytic_account_id.id,
            company_id=self.company_id.id,
            direction=None if self.direction == 'any' else self.direction,
            partner_id=self.partner_id.commercial_partner_id.id,
            inn=_inn(self.counterparty_inn),
            words=words,
            pattern=pattern,
            amount_min=self.amount_min or None,
            amount_max=self.amount_max or None,
        )

    def action_bank_crm_view_transactions(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('odoo_bank_crm.account_bank_statement_line_action')
        action['domain'] = [('bank_crm_category_rule_id', '=', self.id)]
        action['context'] = {}
        action['display_name'] = self.name
        return action

    @api.model
    def action_bank_crm_apply_to_uncategorised(self):
        """Button of the rules list: apply the rules to the transactions without a category."""
        Line = self.env['account.bank.statement.line']
        lines = Line.search([('bank_crm_category_id', '=', False), ('company_id', 'in', self.env.companies.ids)])
        categorised = 0
        for start in range(0, len(lines), 5000):
            categorised += lines[start : start + 5000]._bank_crm_categorise()
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'next': {'type': 'ir.actions.act_window_close'},
                'message': _(
                    "%(count)s of %(total)s transactions without a category were categorised.",
                    count=categorised,
                    total=len(lines),
                ),
            },
        }


class _RuleMatcher:
    """One rule's conditions on plain values."""

    __slots__ = (
        'rule_id',
        'category_id',
        'analytic_account_id',
        'company_id',
        'direction',
        'partner_id',
        'inn',
        'words',
        'pattern',
        'amount_min',
        'amount_max',
    )

    def __init__(self, **values):
        for name in self.__slots__:
            setattr(self, name, values[name])

    def matches(self, company_id, direction, partner_id, inns, purpose, folded_purpose, amount):
        if self.company_id and self.company_id != company_id:
            return False
        if self.direction and self.direction != direction:
            return False
        if self.partner_id and self.partner_id != partner_id:
            return False
        if self.inn and self.inn not in inns:
            return False
        if self.words is not None and not any(word in folded_purpose for word in self.words):
            return False
        if self.pattern is not None and not self.pattern.search(purpose):
            return False
        if self.amount_min and float_compare(amount, self.amount_min, precision_digits=2) < 0:
            return False
        return not (self.amount_max and float_compare(amount, self.amount_max, precision_digits=2) > 0)


class AccountBankStatementLine(models.Model):
    _inherit = 'account.bank.statement.line'

    bank_crm_category_id = fields.Many2one(
        'bank.crm.expense.category',
        string="Category",
        index='btree_not_null',
        ondelete='restrict',
        help="Set by the first categorisation rule that matches the transaction, or by hand.",
    )
    bank_crm_category_rule_id = fields.Many2one(
        'bank.crm.categorisation.rule',
        string="Categorised By",
        index='btree_not_null',
        ondelete='set null',
        readonly=True,
        copy=False,
    )
    bank_crm_analytic_account_id = fields.Many2one(
        'account.analytic.account',
        string="Analytic Account",
        index='btree_not_null',
        ondelete='set null',
        help="What the money is spent on: a deal, a project... Expenses of a deal are the outgoing "
        "transactions on its analytic account.",
    )
    # Stored for the pivot and graph: income and expenses as two positive measures.
    bank_crm_income = fields.Monetary(
        string="Income", compute='_compute_bank_crm_income_expense', store=True, precompute=True
    )
    bank_crm_expense = fields.Monetary(
        string="Expenses", compute='_compute_bank_crm_income_expense', store=True, precompute=True
    )

    @api.depends('amount')
    def _compute_bank_crm_income_expense(self):
        for line in self:
            line.bank_crm_income = line.amount if line.amount > 0 else 0.0
            line.bank_crm_expense = -line.amount if line.amount < 0 else 0.0

    @api.onchange('bank_crm_category_id')
    def _onchange_bank_crm_category_id(self):
        # a category chosen by hand is no rule's
        self.bank_crm_category_rule_id = False

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        if not self.env.context.get('bank_crm_no_categorisation'):
            lines._bank_crm_categorise()
        return lines

    def _bank_crm_categorise(self, rules=None, force=False):
        """Give these lines the category (and analytic account) of the first rule that
        matches each (see the module's docstring for the precedence). Lines that already
        have a category keep it unless `force`. Queries do not grow with the number of
        lines: the rules are read once, the lines' partners once, one write per rule.

        :param rules: the rules to try (by default every active rule of the lines' companies)
        :return: how many lines were categorised
        """
        lines = self if force else self.filtered(lambda line: not line.bank_crm_category_id)
        if not lines:
            return 0
        if rules is None:
            rules = (
                self.env['bank.crm.categorisation.rule']
                .sudo()  # sudo: the companies' own rules apply whoever imports the lines
                .search([('company_id', 'in', lines.company_id.ids + [False])], order='sequence, id')
            )
        # sudo: the rules' patterns are read to match, never returned to the user
        matchers = [rule._bank_crm_matcher() for rule in rules.sudo().sorted(lambda r: (r.sequence, r.id))]
        if not matchers:
            return 0
        by_rule = {}
        for line in lines:
            partner = line.partner_id.commercial_partner_id
            purpose = line.payment_ref or ''
            facts = (
                line.company_id.id,
                'outbound' if line.amount < 0 else 'inbound',
                partner.id,
                {_inn(line.bank_crm_counterparty_inn), _inn(partner.vat), _inn(line.partner_id.vat)} - {None},
                purpose,
                _fold(purpose),
                abs(line.amount),
            )
            matcher = next((m for m in matchers if m.matches(*facts)), None)
            if matcher:
                by_rule.setdefault(matcher, []).append(line.id)
        for matcher, line_ids in by_rule.items():
            values = {'bank_crm_category_id': matcher.category_id, 'bank_crm_category_rule_id': matcher.rule_id}
            if matcher.analytic_account_id:
                values['bank_crm_analytic_account_id'] = matcher.analytic_account_id
            self.browse(line_ids).write(values)
        return sum(len(line_ids) for line_ids in by_rule.values())

    def action_bank_crm_apply_rules(self):
        """Server action of the transactions list: categorise the selected lines again."""
        count = self._bank_crm_categorise(force=True)
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'info',
                'next': {'type': 'ir.actions.client', 'tag': 'soft_reload'},
                'message': _("%(count)s of %(total)s transactions matched a rule.", count=count, total=len(self)),
            },
        }

    def action_bank_crm_make_rule(self):
        """Button "Make a rule from this line": a new rule prefilled from this transaction
        (its counterparty, INN, purpose, direction, category); the line follows it once saved."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        purpose = ' '.join((self.payment_ref or '').replace(',', ' ').replace(';', ' ').split())
        return {
            'type': 'ir.actions.act_window',
            'name': _("New Categorisation Rule"),
            'res_model': 'bank.crm.categorisation.rule',
            'view_mode': 'form',
            'views': [(False, 'form')],
            'target': 'new',
            'context': {
                'bank_crm_rule_from_line_id': self.id,
                'default_name': partner.name or self.partner_name or purpose[:60] or _("New rule"),
                'default_company_id': self.company_id.id,
                'default_direction': 'outbound' if self.amount < 0 else 'inbound',
                'default_partner_id': partner.id or False,
                'default_counterparty_inn': self.bank_crm_counterparty_inn or partner.vat or False,
                'default_purpose_match': 'contains',
                'default_purpose_text': purpose or False,
                'default_category_id': self.bank_crm_category_id.id or False,
                'default_analytic_account_id': self.bank_crm_analytic_account_id.id or False,
            },
        }
