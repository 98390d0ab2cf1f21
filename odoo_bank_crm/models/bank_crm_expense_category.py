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

from ..utils import notification_action

try:  # Python 3.11+
    from re import _constants as sre_constants, _parser as sre_parse
except ImportError:  # Python 3.10
    import sre_constants
    import sre_parse

# Words of a "contains" condition are separated by commas, semicolons or line breaks.
_WORD_SEPARATORS = re.compile(r"[,;\n]+")

# A regular expression is matched against the first characters of a purpose only: 210 is
# the length of a payment purpose in the 1C exchange format ("НазначениеПлатежа") and in
# the banks' payment orders, so no real purpose is cut.
PURPOSE_MATCHED_LENGTH = 210
# The limits of a rule's regular expression (see `_regex_problem`).
REGEX_MAX_LENGTH = 200
REGEX_MAX_VARIABLE_QUANTIFIERS = 6
_REPEATS = tuple(
    getattr(sre_constants, name)
    for name in ('MAX_REPEAT', 'MIN_REPEAT', 'POSSESSIVE_REPEAT')
    if hasattr(sre_constants, name)
)
_GROUPS = tuple(getattr(sre_constants, name) for name in ('SUBPATTERN', 'ATOMIC_GROUP') if hasattr(sre_constants, name))
_CATEGORY_REGEX = {
    sre_constants.CATEGORY_DIGIT: re.compile(r'\d'),
    sre_constants.CATEGORY_NOT_DIGIT: re.compile(r'\D'),
    sre_constants.CATEGORY_SPACE: re.compile(r'\s'),
    sre_constants.CATEGORY_NOT_SPACE: re.compile(r'\S'),
    sre_constants.CATEGORY_WORD: re.compile(r'\w'),
    sre_constants.CATEGORY_NOT_WORD: re.compile(r'\W'),
}
# Characters of each kind that the categories and classes of a pattern are tested on, to
# tell whether two quantifiers can take the same characters (with the pattern's own
# literals and the ends of its ranges).
_SAMPLE_CHARACTERS = ' \t\n\xa0aZzяЁё09_.,;:-/\\"«»№()+*?'


def _group_body(op, av):
    """The parsed sequence of a group: SUBPATTERN's is last of its arguments, ATOMIC_GROUP's is them."""
    return av[-1] if op == sre_constants.SUBPATTERN else av


def _body_items(body):
    """The parsed items of a quantifier's body, groups opened (`body` is a parsed sequence)."""
    items = []
    for op, av in body:
        if op in _GROUPS:
            items.extend(_body_items(_group_body(op, av)))
        else:
            items.append((op, av))
    return items


def _item_matches(op, av, char):
    """Whether the single-character item (LITERAL, NOT_LITERAL, ANY, IN) can take `char`,
    case ignored like the rules' matching; anything else is taken to match everything."""
    variants = {char, char.lower(), char.upper(), char.casefold()}
    if op == sre_constants.LITERAL:
        return chr(av) in variants or chr(av).casefold() in variants
    if op == sre_constants.NOT_LITERAL:
        return not _item_matches(sre_constants.LITERAL, av, char)
    if op == sre_constants.IN:
        negate = bool(av) and av[0][0] == sre_constants.NEGATE
        found = False
        for sub_op, sub_av in av[1 if negate else 0 :]:
            if sub_op == sre_constants.LITERAL:
                found = _item_matches(sub_op, sub_av, char)
            elif sub_op == sre_constants.RANGE:
                found = any(sub_av[0] <= ord(variant) <= sub_av[1] for variant in variants if len(variant) == 1)
            elif sub_op == sre_constants.CATEGORY and sub_av in _CATEGORY_REGEX:
                found = any(_CATEGORY_REGEX[sub_av].match(variant) for variant in variants)
            else:
                found = True
            if found:
                break
        return found != negate
    return op not in (sre_constants.AT,)


def _sample_characters(parsed):
    """The characters the overlap of quantifiers is tested on: the samples, the pattern's
    literals, and both ends of its ranges (two ranges that overlap share one of their ends)."""
    chars = set(_SAMPLE_CHARACTERS)

    def walk(sequence):
        for op, av in sequence:
            if op in (sre_constants.LITERAL, sre_constants.NOT_LITERAL):
                chars.add(chr(av))
            elif op == sre_constants.RANGE:
                chars.update((chr(av[0]), chr(av[1])))
            elif op == sre_constants.IN:
                walk(av)
            elif op in _REPEATS:
                walk(av[-1])
            elif op in _GROUPS:
                walk(_group_body(op, av))
            elif op == sre_constants.BRANCH:
                for alternative in av[1]:
                    walk(alternative)
            elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
                walk(av[1])

    walk(parsed)
    return chars


def _regex_problem(pattern):
    r"""What makes `pattern` unsafe to run on every synced line, as a key of
    `BankCrmCategorisationRule._bank_crm_regex_messages`, or None.

    Python's backtracking engine has no time limit; what makes it slow is known:
    - ``nested``: a repeated group holding a quantifier or an alternative, e.g. ``(a+)+``,
      ``(x|x?)+``: the ways to split the text grow exponentially with its length;
    - ``overlap``: three or more variable quantifiers that can take the same characters,
      e.g. ``\s*\s*\s*x``, ``.*a.*b.*c``: the time grows with the text's length to the power of
      their number, plus one (seconds on one 210-character purpose for three, minutes for
      four); two such quantifiers stay quadratic;
    - ``backreference``: ``(a)\1`` and conditionals, not needed to categorise;
    - ``length`` and ``count``: more than REGEX_MAX_LENGTH characters or
      REGEX_MAX_VARIABLE_QUANTIFIERS variable quantifiers.
    Together with matching the first PURPOSE_MATCHED_LENGTH characters only, this bounds
    the time a rule takes on a line.
    """
    if len(pattern) > REGEX_MAX_LENGTH:
        return 'length'
    parsed = sre_parse.parse(pattern, re.IGNORECASE)
    # in the order of the pattern: ('quantifier', the items it repeats) and ('separator', the
    # item) for a character every match must have there (out of any quantifier, alternative
    # or lookaround)
    events = []
    problem = None

    def walk(sequence, repeated, plain):
        nonlocal problem
        for op, av in sequence:
            if problem:
                return
            if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS) or (
                hasattr(sre_constants, 'GROUPREF_IGNORE') and op == sre_constants.GROUPREF_IGNORE
            ):
                problem = 'backreference'
            elif op in _REPEATS:
                low, high, body = av
                if low != high:
                    if repeated:
                        problem = 'nested'
                        return
                    events.append(('quantifier', _body_items(body)))
                walk(body, repeated or high > 1, plain and low == high)
            elif op in _GROUPS:
                walk(_group_body(op, av), repeated, plain)
            elif op == sre_constants.BRANCH:
                if repeated:
                    problem = 'nested'
                    return
                for alternative in av[1]:
                    walk(alternative, repeated, False)
            elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
                walk(av[1], repeated, False)
            elif plain and op in (sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.IN):
                events.append(('separator', [(op, av)]))

    walk(parsed, False, True)
    if problem:
        return problem
    if sum(kind == 'quantifier' for kind, _items in events) > REGEX_MAX_VARIABLE_QUANTIFIERS:
        return 'count'
    samples = _sample_characters(parsed)
    takes = []  # what each quantifier can take
    group = []  # quantifiers that can take the same characters, grouped (union-find): no group above two
    still_open = []  # the quantifiers that a later one can take characters from

    def root(index):
        while group[index] != index:
            index = group[index]
        return index

    for kind, items in events:
        chars = {char for char in samples if any(_item_matches(op, av, char) for op, av in items)}
        if kind == 'separator':
            # a quantifier that cannot take the separator ends at it, at one place: it is done
            still_open = [index for index in still_open if takes[index] & chars]
            continue
        later = len(takes)
        takes.append(chars)
        group.append(later)
        for earlier in still_open:
            if takes[earlier] & chars:
                group[root(later)] = root(earlier)
        still_open.append(later)
    sizes = {}
    for index in range(len(takes)):
        sizes[root(index)] = sizes.get(root(index), 0) + 1
    if any(size > 2 for size in sizes.values()):
        return 'overlap'
    return None


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
        """A rule's expression runs on every synced line: it must be valid, and of a kind
        whose time is bounded (`_regex_problem`)."""
        for rule in self.filtered(lambda r: r.purpose_match == 'regex' and r.purpose_text):
            try:
                re.compile(rule.purpose_text)
                problem = _regex_problem(rule.purpose_text)
            except (re.error, RecursionError, OverflowError) as error:
                raise ValidationError(
                    _("The expression of rule %(rule)s is not valid: %(error)s", rule=rule.name, error=error)
                ) from None
            if problem:
                raise ValidationError(
                    _(
                        "The expression of rule %(rule)s could take too long on a bank purpose: %(why)s",
                        rule=rule.name,
                        why=rule._bank_crm_regex_messages()[problem],
                    )
                )

    def _bank_crm_regex_messages(self):
        return {
            'length': _("it is longer than %(max)s characters.", max=REGEX_MAX_LENGTH),
            'nested': _(
                "a repeated group holds a quantifier or alternatives, as in (a+)+ or (x|x?)+; "
                "repeat a single character or class instead, as in [a-z]+."
            ),
            'overlap': _(
                "three or more of its quantifiers (*, +, ?, {m,n}) can take the same characters, "
                "as in .*a.*b.*c or \\s*\\s*\\s*; use more precise classes, e.g. \\d+ or [^,]*."
            ),
            'backreference': _("it refers back to a group (\\1) or tests whether a group matched."),
            'count': _("it has more than %(max)s quantifiers of variable length.", max=REGEX_MAX_VARIABLE_QUANTIFIERS),
        }

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
        return notification_action(
            _(
                "%(count)s of %(total)s transactions without a category were categorised.",
                count=categorised,
                total=len(lines),
            ),
            type='success',
            next={'type': 'ir.actions.act_window_close'},
        )


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
        # the first characters only: the time of an expression grows with the text's length
        if self.pattern is not None and not self.pattern.search(purpose[:PURPOSE_MATCHED_LENGTH]):
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
        return notification_action(
            _("%(count)s of %(total)s transactions matched a rule.", count=count, total=len(self)),
            next={'type': 'ir.actions.client', 'tag': 'soft_reload'},
        )

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
