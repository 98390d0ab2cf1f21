"""Where Odoo's own screens meet the rights over money (bank.crm.money.right).

Record rules hide the accounts an employee is not granted; the operations a right
allows are checked here, on the server, whatever screen or RPC call asks for them.
"""

import json
import re

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from .bank_crm_money_right import MONEY_JOURNAL_TYPES

# The figures "see balances" covers: the account's balance in Odoo and at the bank.
BALANCE_FIELDS = frozenset(
    {
        'bank_crm_balance',
        'bank_crm_bank_balance',
        'bank_crm_balance_difference',
        'bank_crm_month_income',
        'bank_crm_month_expense',
        'current_statement_balance',
    }
)
# Odoo's own journal dashboard: its card's data (the balances blanked in it) and its chart.
ODOO_DASHBOARD_FIELDS = frozenset({'kanban_dashboard', 'kanban_dashboard_graph'})
# Everything "see balances" hides: the figures, our dashboard's income and expense chart,
# and Odoo's dashboard.
HIDDEN_WITHOUT_BALANCES = BALANCE_FIELDS | ODOO_DASHBOARD_FIELDS | {'bank_crm_dashboard_graph'}
# The chart, for whoever may not see it.
EMPTY_GRAPH = json.dumps([{'values': [], 'title': "", 'key': "", 'is_sample_data': False}])
# Records of an account that show its balance, by model: the figures blanked in reads
# (read, search_read, web_read) and refused in exports.
BALANCES_OF_RECORDS = {
    'account.bank.statement': frozenset({'balance_start', 'balance_end', 'balance_end_real'}),
    'account.bank.statement.line': frozenset({'running_balance', 'statement_balance_end_real'}),
    'account.move.line': frozenset({'cumulated_balance'}),
}
# Figures whose sums over an account's records are its balance: blanked in grouped reads
# (read_group: pivot, graph, the lists' group totals, Balances by Currency).
SUMMED_INTO_BALANCES = {
    'account.bank.statement': frozenset({'balance_start', 'balance_end', 'balance_end_real'}),
    'account.bank.statement.line': frozenset({'amount', 'amount_currency', 'amount_residual', 'running_balance'}),
    'account.move.line': frozenset(
        {'balance', 'debit', 'credit', 'amount_currency', 'amount_residual', 'amount_residual_currency'}
    ),
}
# Balances refused in searches, groupings and orders, by model: compared again and again
# with a value, or sorted on, they would tell what reads blank. The stored ones answer in SQL
# (the others Odoo cannot search: refused too, rather than silently ignored).
SEARCHED_BALANCES = {
    **BALANCES_OF_RECORDS,
    'account.journal': HIDDEN_WITHOUT_BALANCES,
    'account.account': frozenset({'current_balance'}),
}
# A read_group aggregate: "field", "field:agg" or "alias:agg(field)".
AGGREGATE_SPEC = re.compile(r'^(?P<key>\w+)(?::\w+(?:\((?P<field>\w+)\))?)?$')


def _blank_balances_in_read(records, result, fnames):
    """Blank, in `result` (the read of `records`), the balance figures among `fnames` of the
    records whose account's balance the current user may not see."""
    hidden = BALANCES_OF_RECORDS[records._name].intersection(fnames)
    if not hidden or not result or records.env.su:
        return result
    shown = records.browse([values['id'] for values in result])
    blind_journals = records.env['bank.crm.money.right']._bank_crm_balance_hidden_journals(shown.journal_id)
    if blind_journals:
        blind = set(shown.filtered(lambda record: record.journal_id in blind_journals).ids)
        for values in result:
            if values['id'] in blind:
                values.update(dict.fromkeys(hidden, False))
    return result


def _blank_balances_in_groups(model, domain, fields_, result):
    """Blank, in the groups of a read_group, the sums that add up to the balance of an
    account the current user may not see (any account the grouped records belong to)."""
    summed = SUMMED_INTO_BALANCES[model._name]
    keys = {'running_balance'} & summed  # Odoo's statement lines add it to their groups
    for spec in fields_:
        match = AGGREGATE_SPEC.match(spec.replace(' ', ''))
        if match and (match['field'] or match['key']) in summed:
            keys.add(match['key'])
    if not keys or not result or model.env.su:
        return result
    Right = model.env['bank.crm.money.right']
    if not Right._bank_crm_is_restricted():
        return result
    journals = model.env['account.journal'].union(*(group[0] for group in model._read_group(domain, ['journal_id'])))
    if Right._bank_crm_balance_hidden_journals(journals):
        for group in result:
            group.update(dict.fromkeys(keys & group.keys(), False))
    return result


def _check_balances_in_export(records, fields_to_export):
    """Exporting balance figures is seeing them."""
    hidden = BALANCES_OF_RECORDS[records._name]
    if hidden.intersection(path.split('/')[0] for path in fields_to_export):
        records.env['bank.crm.money.right']._bank_crm_check('can_see_balances', records.journal_id)


def _domain_field_names(domain):
    """The first field of every term of `domain` (a path's others are the comodels' own terms)."""
    return {
        term[0].split('.', 1)[0]
        for term in domain or ()
        if isinstance(term, (list, tuple)) and len(term) == 3 and isinstance(term[0], str)
    }


def _read_group_field_names(specs):
    """The fields of groupby specs ("date:month") or of a read_group order ("amount:sum desc")."""
    return {spec.strip().split(' ', 1)[0].split(':', 1)[0].split('.', 1)[0] for spec in specs if spec.strip()}


class BankCrmBalanceSearchGuard(models.AbstractModel):
    """No search, grouping or sorting on a balance by whoever may not see it.

    Reads blank balances; without this a clerk could still narrow one down by filtering on it
    again and again (balance_end_real > X), or group or sort by it. Every domain term on the
    model's balance fields (SEARCHED_BALANCES) reaches `_condition_to_sql` whatever its path
    (a many2one traversed by a subquery or a join, a related field, a record rule: those run
    as the superuser), every order term `_order_field_to_sql`; `_search` also sees the
    balances Odoo cannot search (ignored there otherwise) and `_read_group` the groupings
    and the orders of groups by an aggregate. Aggregates themselves stay: read_group blanks
    the sums (`_blank_balances_in_groups`)."""

    _name = 'bank.crm.balance.search.guard'
    _description = "Balances Refused in Searches"

    @api.model
    def _bank_crm_refuse_balance_terms(self, field_names):
        """Raise an AccessError if the current user searches, groups or sorts on a balance of
        `field_names` while an account of theirs has its balance hidden from them."""
        used = SEARCHED_BALANCES[self._name].intersection(field_names)
        if not used or self.env.su or not self._bank_crm_balances_hidden_here():
            return
        raise AccessError(
            _(
                "Your rights do not allow you to see balances, so you cannot search, group or sort "
                "by %(fields)s. Ask an Account Director.",
                fields=", ".join(sorted(self._fields[name]._description_string(self.env) for name in used)),
            )
        )

    @api.model
    def _bank_crm_balances_hidden_here(self):
        """Whether any account whose balances this model's records show hides them from the
        current user: the accounts they read, or for ledger accounts every bank and cash
        account's (a ledger account stays readable when its journal is hidden)."""
        Right = self.env['bank.crm.money.right']
        if not Right._bank_crm_is_restricted():
            return False
        Journal = self.env['account.journal']
        if self._name == 'account.account':
            Journal = Journal.sudo()  # sudo: every money journal books on a readable ledger account
        journals = Journal.search([('type', 'in', MONEY_JOURNAL_TYPES), ('company_id', 'in', self.env.companies.ids)])
        return bool(Right._bank_crm_balance_hidden_journals(journals))

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        self._bank_crm_refuse_balance_terms(_domain_field_names(domain))
        return super()._search(domain, offset=offset, limit=limit, order=order)

    @api.model
    def _read_group(self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None):
        self._bank_crm_refuse_balance_terms(_read_group_field_names([*groupby, *(order or '').split(',')]))
        return super()._read_group(domain, groupby, aggregates, having=having, offset=offset, limit=limit, order=order)

    def _condition_to_sql(self, alias, fname, operator, value, query):
        self._bank_crm_refuse_balance_terms({fname})
        return super()._condition_to_sql(alias, fname, operator, value, query)

    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        self._bank_crm_refuse_balance_terms({field_name.split('.', 1)[0]})
        return super()._order_field_to_sql(alias, field_name, direction, nulls, query)


class AccountJournal(models.Model):
    _name = 'account.journal'
    _inherit = ['account.journal', 'bank.crm.balance.search.guard']

    bank_crm_right_ids = fields.Many2many(
        'bank.crm.money.right',
        'bank_crm_money_right_journal_rel',
        'journal_id',
        'right_id',
        string="Employees' Rights",
        groups='odoo_bank_crm.group_bank_crm_director',
    )
    bank_crm_can_see_balances = fields.Boolean(string="May See Balances", compute='_compute_bank_crm_can_see_balances')

    @api.depends_context('uid', 'allowed_company_ids')
    def _compute_bank_crm_can_see_balances(self):
        hidden = self.env['bank.crm.money.right']._bank_crm_balance_hidden_journals(self._origin)
        for journal in self:
            journal.bank_crm_can_see_balances = journal._origin not in hidden

    def _read_format(self, fnames, load='_classic_read'):
        """Balances are blanked for whoever's rights do not show them (read, search_read,
        the web client's web_read), in our dashboard and in Odoo's."""
        result = super()._read_format(fnames, load)
        hidden = BALANCE_FIELDS.intersection(fnames)
        if HIDDEN_WITHOUT_BALANCES.intersection(fnames) and not self.env.su:
            blind = (
                self.browse([values['id'] for values in result])
                .filtered(lambda journal: not journal.bank_crm_can_see_balances)
                .ids
            )
            for values in result:
                if values['id'] in blind:
                    values.update(dict.fromkeys(hidden, 0.0))
                    for graph in ('bank_crm_dashboard_graph', 'kanban_dashboard_graph'):
                        if values.get(graph):
                            values[graph] = EMPTY_GRAPH
                    if values.get('kanban_dashboard'):
                        values['kanban_dashboard'] = self._bank_crm_blank_dashboard(values['kanban_dashboard'])
        return result

    @api.model
    def _bank_crm_blank_dashboard(self, dashboard):
        """Odoo's dashboard card without its amounts (balances, amounts to check, misc.
        operations: the formatted figures named *_balance); the counts stay."""
        data = json.loads(dashboard)
        for key, value in data.items():
            if key.endswith('_balance') and isinstance(value, str):
                data[key] = ""
        return json.dumps(data)

    def export_data(self, fields_to_export):
        if HIDDEN_WITHOUT_BALANCES.intersection(path.split('/')[0] for path in fields_to_export):
            self.env['bank.crm.money.right']._bank_crm_check('can_see_balances', self)
        return super().export_data(fields_to_export)


class BalancesOfRecords:
    """Reads, grouped reads and exports of the records that show an account's balance
    (BALANCES_OF_RECORDS, SUMMED_INTO_BALANCES), for whoever's rights do not show it.

    A plain Python base of the model classes below rather than an Odoo mixin: Odoo puts an
    `_inherit`ed mixin's methods after the models' own overrides, and Odoo's own read_group
    of statement lines adds a running balance to the groups after its `super()`. Listed
    first among the bases, these methods run before every other override of the model, so
    nothing is added back after the blanking."""

    __slots__ = ()  # the layout of Odoo's records, whose classes Odoo rebases at every set-up

    def _read_format(self, fnames, load='_classic_read'):
        return _blank_balances_in_read(self, super()._read_format(fnames, load), fnames)

    @api.model
    def read_group(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        """A sum of an account's transactions (or journal items, or statements) is its balance."""
        result = super().read_group(domain, fields, groupby, offset=offset, limit=limit, orderby=orderby, lazy=lazy)
        return _blank_balances_in_groups(self, domain, fields, result)

    def export_data(self, fields_to_export):
        """Exporting balance figures is seeing them."""
        _check_balances_in_export(self, fields_to_export)
        return super().export_data(fields_to_export)


class AccountBankStatement(BalancesOfRecords, models.Model):
    _name = 'account.bank.statement'
    _inherit = ['account.bank.statement', 'bank.crm.balance.search.guard']


class AccountBankStatementLine(BalancesOfRecords, models.Model):
    _name = 'account.bank.statement.line'
    _inherit = ['account.bank.statement.line', 'bank.crm.balance.search.guard']

    def export_data(self, fields_to_export):
        """Exporting transactions is downloading a statement."""
        self.env['bank.crm.money.right']._bank_crm_check('can_download_statements', self.journal_id)
        return super().export_data(fields_to_export)

    @api.model
    def action_bank_crm_balances(self):
        """Accounts > Balances by Currency, for whoever may see balances."""
        self.env['bank.crm.money.right']._bank_crm_check('can_see_balances')
        return self.env['ir.actions.act_window']._for_xml_id(
            'odoo_bank_crm.account_bank_statement_line_action_balances'
        )


class AccountMoveLine(BalancesOfRecords, models.Model):
    _name = 'account.move.line'
    _inherit = ['account.move.line', 'bank.crm.balance.search.guard']


class AccountAccount(models.Model):
    _name = 'account.account'
    _inherit = ['account.account', 'bank.crm.balance.search.guard']

    def _read_format(self, fnames, load='_classic_read'):
        """The current balance of a bank or cash account's ledger account is the account's balance."""
        result = super()._read_format(fnames, load)
        if 'current_balance' in fnames and result and not self.env.su:
            # sudo: which journals book on these ledger accounts, whatever the user sees of them
            journals = (
                self.env['account.journal']
                .sudo()  # sudo: see above
                .search([('default_account_id', 'in', [values['id'] for values in result])])
            )
            blind = self.env['bank.crm.money.right']._bank_crm_balance_hidden_journals(journals)
            blind_accounts = set(blind.sudo().default_account_id.ids)  # sudo: their ledger accounts' ids only
            for values in result:
                if values['id'] in blind_accounts:
                    values['current_balance'] = False
        return result


class AccountMove(models.Model):
    _inherit = 'account.move'

    @api.model_create_multi
    def create(self, vals_list):
        """A customer credit note is a refund however it is made: created directly (form,
        import, RPC), copied, or by Odoo's reversal wizard (which copies the invoice)."""
        moves = super().create(vals_list)
        if any(move.move_type == 'out_refund' for move in moves):
            self.env['bank.crm.money.right']._bank_crm_check('can_refund')
        return moves

    def write(self, vals):
        """An invoice switched into a credit note ("Switch into refund") is a refund too."""
        if vals.get('move_type') == 'out_refund' and any(move.move_type != 'out_refund' for move in self):
            self.env['bank.crm.money.right']._bank_crm_check('can_refund')
        return super().write(vals)


class PaymentTransaction(models.Model):
    _inherit = 'payment.transaction'

    def action_refund(self, amount_to_refund=None):
        """Card and SBP refunds (Odoo's refund wizard calls this)."""
        self.env['bank.crm.money.right']._bank_crm_check('can_refund')
        return super().action_refund(amount_to_refund=amount_to_refund)
