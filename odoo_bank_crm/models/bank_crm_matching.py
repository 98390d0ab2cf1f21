"""Incoming transfers matched to invoices and deals.

The scoring lives in bank_api.matching (plain data, tested alone); here we feed it
Odoo's open invoices and partners in a few queries, reconcile what it is sure of with
Odoo's own reconciliation, and keep the rest as proposals one click confirms.
"""

import logging
from decimal import Decimal

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..bank_api import matching
from ..utils import to_decimal
from .odoo_compat import entry_items_model, reconcile_groups, rewrite_entry_items, statement_line_items

_logger = logging.getLogger(__name__)


class BankCrmMatchProposal(models.Model):
    _name = 'bank.crm.match.proposal'
    _description = "Proposed Match of a Bank Transaction"
    _order = 'score desc, id'
    _check_company_auto = True

    statement_line_id = fields.Many2one('account.bank.statement.line', required=True, ondelete='cascade', index=True)
    invoice_id = fields.Many2one('account.move', required=True, ondelete='cascade', check_company=True)
    lead_id = fields.Many2one(related='invoice_id.bank_crm_lead_id', string="Deal")
    partner_id = fields.Many2one(related='invoice_id.partner_id', string="Customer")
    currency_id = fields.Many2one(related='invoice_id.currency_id')
    amount = fields.Monetary(string="To Apply")
    invoice_residual = fields.Monetary(related='invoice_id.amount_residual', string="Invoice Due")
    score = fields.Integer()
    reasons = fields.Char()
    company_id = fields.Many2one(related='statement_line_id.company_id', store=True)

    def action_confirm(self):
        """Reconcile the transaction with this proposal's invoice (one click)."""
        self.ensure_one()
        line = self.statement_line_id
        line._bank_crm_reconcile_invoices([(self.invoice_id, self.amount)])
        return True


class AccountBankStatementLine(models.Model):
    _inherit = 'account.bank.statement.line'

    bank_crm_match_state = fields.Selection(
        selection=[
            ('to_match', "To Match"),
            ('proposed', "Proposals"),
            ('matched', "Matched"),
            ('payout', "Acquiring Payout"),
        ],
        string="Matching",
        readonly=True,
        index=True,
        copy=False,
    )
    bank_crm_proposal_ids = fields.One2many('bank.crm.match.proposal', 'statement_line_id', string="Proposals")
    bank_crm_acquiring_fee = fields.Monetary(
        string="Acquiring Fee", readonly=True, help="The fee the acquirer deducted, as its purpose states it."
    )

    @api.model_create_multi
    def create(self, vals_list):
        matchers = {}  # built once for the payers and the matching
        if not self.env.context.get('bank_crm_no_payer_recognition'):
            vals_list = self._bank_crm_recognise_payers(vals_list, matchers)
        lines = super().create(vals_list)
        if not self.env.context.get('bank_crm_no_matching'):
            lines.filtered(lambda l: l.amount > 0)._bank_crm_match(matchers=matchers)
        return lines

    @api.model
    def _bank_crm_recognise_payers(self, vals_list, matchers=None):
        """Transactions are born with their payer: an incoming one without a partner whose
        purpose surely pays open invoices of one customer gets that customer now, as the
        matching would set it afterwards (rewriting the entry, a few queries a line). The
        payers known by INN and account are recognised by the import already.

        :param matchers: {company id: `_bank_crm_matcher`'s answer} filled for the matching
            of these lines once created
        :return: the values, those of recognised payers copied with their partner
        """
        incoming_indexes = [
            index for index, vals in enumerate(vals_list) if (vals.get('amount') or 0) > 0 and vals.get('journal_id')
        ]
        todo = {index for index in incoming_indexes if not vals_list[index].get('partner_id')}
        if not todo:
            return vals_list
        vals_list = list(vals_list)
        if matchers is None or any((vals.get('amount') or 0) > 0 and not vals.get('journal_id') for vals in vals_list):
            matchers = {}  # not shared: an incoming line of a default journal would be missed
        journals = self.env['account.journal'].browse({vals_list[index]['journal_id'] for index in incoming_indexes})
        by_company = {}
        for index in incoming_indexes:
            by_company.setdefault(journals.browse(vals_list[index]['journal_id']).company_id, []).append(index)
        for company, of_company in by_company.items():
            if todo.isdisjoint(of_company):
                continue
            # the payers of all incoming lines, as the matching of the created lines knows them
            matchers[company.id] = self._bank_crm_matcher(
                company,
                {vals_list[index].get('bank_crm_counterparty_inn') for index in of_company} - {None, False},
                {vals_list[index].get('account_number') for index in of_company} - {None, False},
            )
            matcher = matchers[company.id][0]
            incoming = []
            for index in (index for index in of_company if index in todo):
                vals = vals_list[index]
                currency = journals.browse(vals['journal_id']).currency_id or company.currency_id
                incoming.append(
                    matching.IncomingLine(
                        id=index,
                        amount=self._bank_crm_decimal(vals['amount'], currency),
                        currency=currency.name,
                        purpose=vals.get('payment_ref') or '',
                        payer_inn=vals.get('bank_crm_counterparty_inn') or None,
                        payer_account=vals.get('account_number') or None,
                        payer_name=vals.get('partner_name') or None,
                        date=fields.Date.to_date(vals.get('date')),
                    )
                )
            for result in matcher.match(incoming):
                if result.auto and result.partner_id:
                    vals_list[result.line_id] = dict(vals_list[result.line_id], partner_id=result.partner_id)
        return vals_list

    @api.model
    def _bank_crm_matcher(self, company, payer_inns, payer_accounts):
        """The matcher of `company`'s open customer invoices, knowing their customers and
        the partners of these payers' INNs and accounts: (matcher, {id: invoice}). Three
        queries whatever the numbers: the open invoices, the partners, their accounts."""
        invoices = self.env['account.move'].search(
            [
                ('company_id', '=', company.id),
                ('move_type', '=', 'out_invoice'),
                ('state', '=', 'posted'),
                ('payment_state', 'in', ('not_paid', 'partial')),
            ]
        )
        commercial = invoices.commercial_partner_id
        # the payers among the partners the company may use (its own and the shared ones)
        known = self.env['res.partner'].search(
            [
                '|',
                ('id', 'in', commercial.ids),
                '&',
                *self.env['res.partner']._check_company_domain(company),
                '|',
                ('vat', 'in', list(payer_inns)),
                ('bank_ids.acc_number', 'in', list(payer_accounts)),
            ]
        )
        accounts = {}
        for bank_account in self.env['res.partner.bank'].search(
            [('partner_id', 'in', known.ids), *self.env['res.partner.bank']._check_company_domain(company)]
        ):
            accounts.setdefault(bank_account.partner_id.commercial_partner_id.id, set()).add(bank_account.acc_number)
        partners = [
            matching.PartnerRef(p.id, p.vat or None, frozenset(accounts.get(p.id, ())))
            for p in known.commercial_partner_id
        ]
        open_invoices = [
            matching.OpenInvoice(
                id=inv.id,
                number=inv.name,
                currency=inv.currency_id.name,
                amount_residual=self._bank_crm_decimal(inv.amount_residual, inv.currency_id),
                amount_total=self._bank_crm_decimal(inv.amount_total, inv.currency_id),
                partner_id=inv.commercial_partner_id.id,
                partner_inn=inv.commercial_partner_id.vat or None,
                partner_accounts=frozenset(accounts.get(inv.commercial_partner_id.id, ())),
                due_date=inv.invoice_date_due,
                lead_id=inv.bank_crm_lead_id.id or None,
                invoice_date=inv.invoice_date,
            )
            for inv in invoices
        ]
        return matching.Matcher(open_invoices, partners), {inv.id: inv for inv in invoices}

    def _bank_crm_match(self, auto=True, matchers=None):
        """Match incoming transactions to open invoices of their company: reconcile the
        sure ones, propose the others, recognise acquiring payouts. Queries do not grow
        with the number of lines: one read of the open invoices, one of the partners.

        :param matchers: {company id: `_bank_crm_matcher`'s answer} already built for these lines
        """
        lines = self.filtered(lambda l: l.amount > 0 and not l.is_reconciled)
        if not lines:
            return
        for company in lines.company_id:
            company_lines = lines.filtered(lambda l: l.company_id == company)
            matcher, invoices_by_id = (matchers or {}).get(company.id) or self._bank_crm_matcher(
                company,
                set(company_lines.mapped('bank_crm_counterparty_inn')) - {False},
                set(company_lines.mapped('account_number')) - {False},
            )
            by_id = {line.id: line for line in company_lines}
            results = matcher.match(
                [
                    matching.IncomingLine(
                        id=line.id,
                        amount=self._bank_crm_decimal(line.amount, line.currency_id),
                        currency=line.currency_id.name,
                        purpose=line.payment_ref or '',
                        payer_inn=line.bank_crm_counterparty_inn or None,
                        payer_account=line.account_number or None,
                        payer_name=line.partner_name or None,
                        date=line.date,
                    )
                    for line in company_lines
                ]
            )
            self._bank_crm_apply_match_results(results, by_id, invoices_by_id, auto)

    @api.model
    def _bank_crm_decimal(self, amount, currency):
        return to_decimal(amount, currency)

    @api.model
    def _bank_crm_apply_match_results(self, results, lines_by_id, invoices_by_id, auto):
        """Apply the matcher's answers in batches: one write per outcome (and per partner
        or fee found), one create of all proposals, the sure matches reconciled together
        (`_bank_crm_reconcile_batch`)."""
        Line = self.env['account.bank.statement.line']
        # ids in lists, recordsets made once: a recordset grown line by line costs its size each time
        by_partner, by_fee = {}, {}
        to_match_ids, proposed_ids, proposal_values, to_reconcile = [], [], [], []
        for result in results:
            line = lines_by_id[result.line_id]
            if result.partner_id and not line.partner_id:
                by_partner.setdefault(result.partner_id, []).append(line.id)
            if result.kind == 'payout' and not result.auto:
                to_match_ids.append(line.id)  # looks like a payout by the payer's name only: a person decides
            elif result.kind == 'payout':
                by_fee.setdefault(result.fee or Decimal(0), []).append(line.id)
            elif result.kind == 'invoice' and result.auto and auto and result.best:
                to_reconcile.append(
                    (line, [(invoices_by_id[a.invoice_id], float(a.amount)) for a in result.best.allocations], result)
                )
            elif result.candidates:
                proposed_ids.append(line.id)
                proposal_values += [
                    {
                        'statement_line_id': line.id,
                        'invoice_id': allocation.invoice_id,
                        'amount': float(allocation.amount),
                        'score': candidate.score,
                        'reasons': ", ".join(candidate.reasons),
                    }
                    for candidate in result.candidates
                    for allocation in candidate.allocations
                ]
            else:
                to_match_ids.append(line.id)
        # payers of lines created without recognition (see `_bank_crm_recognise_payers`): Odoo
        # rewrites each one's entry with its partner
        for partner_id, line_ids in by_partner.items():
            Line.browse(line_ids).partner_id = partner_id
        for fee, line_ids in by_fee.items():
            Line.browse(line_ids).write({'bank_crm_match_state': 'payout', 'bank_crm_acquiring_fee': float(fee)})
        Line.browse([line_id for line_ids in by_fee.values() for line_id in line_ids])._bank_crm_book_payout_fees()

        def propose(line, allocations, result, error):
            _logger.info("Bank transaction %s not reconciled automatically: %s", line.id, error)
            proposal_values.extend(
                {
                    'statement_line_id': line.id,
                    'invoice_id': invoice.id,
                    'amount': amount,
                    'score': result.best.score,
                    'reasons': ", ".join(result.best.reasons),
                }
                for invoice, amount in allocations
            )
            proposed_ids.append(line.id)

        # the sure matches are reconciled together (one batch of journal items and one
        # reconciliation plan); should the batch fail, one by one, each in its savepoint
        try:
            with self.env.cr.savepoint():
                failed = self._bank_crm_reconcile_batch(
                    [(line, allocations) for line, allocations, _result in to_reconcile]
                )
        except UserError:
            failed = None
        for line, allocations, result in to_reconcile:
            if failed is None:
                try:
                    with self.env.cr.savepoint():
                        line._bank_crm_reconcile_invoices(allocations)
                except UserError as error:
                    propose(line, allocations, result, error)
            elif line in failed:
                propose(line, allocations, result, failed[line])
        proposed, to_match = Line.browse(proposed_ids), Line.browse(to_match_ids)
        # sudo: proposals are the matcher's bookkeeping, kept whoever booked the transactions
        (proposed | to_match).sudo().bank_crm_proposal_ids.unlink()
        proposed.company_id  # read at once what the proposals' stored related fields need
        Proposal = self.env['bank.crm.match.proposal'].sudo()  # sudo: as above, for these lines only
        # the proposals' amounts are in their invoice's currency: read them all at once (else
        # the create reads each invoice on its own, a query a proposal)
        Proposal.env['account.move'].browse({v['invoice_id'] for v in proposal_values}).fetch(['currency_id'])
        Proposal.create(proposal_values)
        proposed.bank_crm_match_state = 'proposed'
        to_match.bank_crm_match_state = 'to_match'

    def _bank_crm_reconcile_invoices(self, allocations):
        """Reconcile this incoming transaction with invoices, through Odoo's reconciliation:
        the suspense line of its entry becomes receivable lines of the customer, reconciled
        with the invoices (what remains, an overpayment, stays in suspense). The invoices'
        payment state, the deal and the salesperson's announcement follow from there.

        :param allocations: [(account.move, amount in the transaction's currency)]
        """
        self.ensure_one()
        failed = self._bank_crm_reconcile_batch([(self, allocations)])
        if failed:
            raise failed[self]
        return True

    @api.model
    def _bank_crm_check_reconcilable(self, line, allocations):
        """What reconciling `line` with `allocations` takes, or the UserError saying why not:
        (suspense line, partner, [(invoice, its receivable lines, amount)], what stays in suspense)."""
        if line.is_reconciled:
            raise UserError(_("This transaction is already matched."))
        _liquidity, suspense, other = statement_line_items(line)
        if other or len(suspense) != 1:
            raise UserError(_("This transaction is already partly matched: undo that first."))
        company_currency = line.company_id.currency_id
        if line.currency_id != company_currency or any(
            inv.currency_id != company_currency for inv, _amount in allocations
        ):
            raise UserError(_("Only transactions and invoices in the company's currency are matched here."))
        total = sum(amount for _invoice, amount in allocations)
        if company_currency.compare_amounts(total, line.amount) > 0:
            raise UserError(_("The invoices take more than the transaction brought."))
        receivables = []
        for invoice, amount in allocations:
            receivable = invoice.line_ids.filtered(
                lambda l: l.account_id.account_type == 'asset_receivable' and not l.reconciled
            )
            if not receivable:
                raise UserError(_("Invoice %(invoice)s has nothing left to pay.", invoice=invoice.name))
            receivables.append((invoice, receivable, amount))
        return (
            suspense,
            allocations[0][0].commercial_partner_id,
            receivables,
            company_currency.round(line.amount - total),
        )

    @api.model
    def _bank_crm_quiet_items(self, companies):
        """Journal items for a batch: Odoo's per-item chatter notes off (the batch writes them
        at once, see `account.move.line._bank_crm_item_notes`); no exchange difference sought
        when reconciling, none can arise (everything in the company's currency, checked, and
        no cash-basis taxes). See odoo_compat.entry_items_model."""
        return entry_items_model(self.env, companies)

    @api.model
    def _bank_crm_item_analytics(self, companies):
        """The analytic distribution of new journal items, or None to let Odoo compute it:
        without any distribution model in these companies it is empty (Odoo would look the
        models up once per partner)."""
        models_count = self.env['account.analytic.distribution.model'].search_count(
            [('company_id', 'in', [*companies.ids, False])], limit=1
        )
        return None if models_count else {'analytic_distribution': False}

    @api.model
    def _bank_crm_reconcile_batch(self, items):
        """Reconcile incoming transactions with invoices, all in one go: the journal items
        of all their entries are replaced in one create and one unlink (the entries checked
        balanced once), and reconciled by one reconciliation plan, as Odoo's own
        reconciliation does line by line (see `_bank_crm_reconcile_invoices`). The chatter
        Odoo writes an item or an invoice at a time is written here at once: the notes of
        the journal items created and deleted, and on each invoice the transfer that paid it
        with its payment status. Queries do not grow with the number of transactions.

        :param items: [(statement line, [(account.move, amount in the line's currency)])]
        :return: {statement line: UserError} of the transactions that cannot be reconciled
        """
        Line = self.env['account.bank.statement.line']
        lines = Line.browse([line.id for line, _allocations in items])
        lines.move_id.line_ids.account_id  # read the entries of all lines at once
        invoices = self.env['account.move'].browse(
            {invoice.id for _line, allocations in items for invoice, _amount in allocations}
        )
        invoices.line_ids.account_id
        failed, ready = {}, []
        for line, allocations in items:
            try:
                ready.append((line, allocations, *self._bank_crm_check_reconcilable(line, allocations)))
            except UserError as error:
                failed[line] = error
        if not ready:
            return failed
        matched = Line.browse([line.id for line, *_rest in ready])
        companies = matched.company_id
        log_items = not self.env.context.get('tracking_disable')  # as Odoo's own notes of journal items
        MoveLine = self._bank_crm_quiet_items(companies)
        analytics = self._bank_crm_item_analytics(companies) or {}
        values, receivables, to_unlink, to_update = [], [], MoveLine, []
        for line, _allocations, suspense, partner, line_receivables, rest in ready:
            currency = line.company_id.currency_id
            for invoice, receivable, amount in line_receivables:
                receivables.append(receivable)
                values.append(
                    {
                        'move_id': line.move_id.id,
                        'name': line.payment_ref or invoice.name,
                        'account_id': receivable[0].account_id.id,
                        'partner_id': partner.id,
                        'balance': -amount,
                        'amount_currency': -amount,
                        'currency_id': currency.id,
                        **analytics,
                    }
                )
            if currency.is_zero(rest):
                to_unlink |= suspense
            else:
                to_update.append((suspense, rest))  # an overpayment stays in suspense
        # concrete ids: a many2one's lazy prefetch set is lost with the cache the unlink empties
        moves = self.env['account.move'].browse(matched.move_id.ids)
        notes = to_unlink._bank_crm_item_notes('deleted') if log_items else []
        new_lines = rewrite_entry_items(
            moves,
            MoveLine,
            create=values,
            update=[(suspense, {'balance': -rest, 'amount_currency': -rest}) for suspense, rest in to_update],
            delete=to_unlink,
        )
        moves.line_ids.account_id  # the unlink emptied the cache: read the entries again at once
        if log_items:
            notes += new_lines._bank_crm_item_notes('created')
        plan_lines = new_lines.union(*receivables)  # one prefetch set for the whole plan
        # Odoo's tracking stays on for the reconciliation (the invoices' payment status is
        # taken over below, what else it changes is tracked as usual)
        reconcile_groups(
            MoveLine.with_context(tracking_disable=False),
            [
                (new_line | receivable).with_prefetch(plan_lines._prefetch_ids)
                for new_line, receivable in zip(new_lines, receivables)
            ],
        )
        by_lead = {}
        for line, allocations, *_rest in ready:
            lead = next(
                (invoice.bank_crm_lead_id for invoice, _amount in allocations if invoice.bank_crm_lead_id),
                self.env['crm.lead'],
            )
            by_lead.setdefault(lead, []).append(line.id)
        # the entries' lines are final; the entries themselves must not be touched again
        for lead, line_ids in by_lead.items():
            Line.browse(line_ids).with_context(skip_account_move_synchronization=True).write(
                {'bank_crm_match_state': 'matched', 'bank_crm_lead_id': lead.id}
            )
        matched.sudo().bank_crm_proposal_ids.unlink()  # sudo: the matched lines' own proposals, now moot
        notes += self._bank_crm_payment_notes(ready)
        self.env['account.move']._bank_crm_log_batch(notes)
        return failed

    @api.model
    def _bank_crm_payment_notes(self, ready):
        """On each invoice a transfer paid: which transfer and how much, with the payment
        status it changed as Odoo tracks it (taken over from Odoo's tracking, which would post
        it at commit a message an invoice; its subtype kept, so that followers of "Paid"
        invoices are notified)."""
        Move = self.env['account.move']
        fields = Move.fields_get(['payment_state'], attributes=('string', 'type', 'selection', 'currency_field'))
        invoices = Move.browse({invoice.id for _line, allocations, *_rest in ready for invoice, _amount in allocations})
        invoices.mapped('payment_state')  # computed now: its tracking is prepared, to be taken over
        initial = Move._bank_crm_take_tracking(invoices, ['payment_state'])
        subtypes, notes = {}, []
        for line, allocations, *_rest in ready:
            for invoice, amount in allocations:
                tracking, subtype = [], None
                if invoice.id in initial:  # noted once, with the first transfer
                    before = initial.pop(invoice.id)
                    tracking = invoice._mail_track(fields, before)[1]
                    # Odoo's subtype for this change, asked once per kind of change
                    key = (invoice.move_type, before.get('payment_state'), invoice.payment_state)
                    if tracking and key not in subtypes:
                        subtypes[key] = invoice._track_subtype(before) or None
                    subtype = subtypes.get(key) if tracking else None
                notes.append(
                    (
                        invoice,
                        _(
                            "%(amount)s received on %(date)s by bank transfer to “%(journal)s”: %(purpose)s",
                            date=format_date(self.env, line.date),
                            journal=line.journal_id.display_name,
                            amount=invoice.currency_id.format(amount),
                            purpose=line.payment_ref or "—",
                        ),
                        tracking,
                        subtype,
                    )
                )
        return notes

    def _bank_crm_book_payout_fees(self):
        """Acquiring payouts: the fee each one's purpose states is booked as an expense next
        to it, all in one go. The bank brought the payout net of the fee: the fee's expense
        item is added and the suspense item grows to the gross amount the acquirer owed."""
        lines = self.filtered(
            lambda l: (
                l.bank_crm_acquiring_fee and not l.is_reconciled and l.company_id.bank_crm_acquiring_fee_account_id
            )
        )
        if not lines:
            return
        MoveLine = self._bank_crm_quiet_items(lines.company_id)
        analytics = self._bank_crm_item_analytics(lines.company_id) or {}
        moves = self.env['account.move'].browse(lines.move_id.ids)
        moves.line_ids.account_id
        values, suspenses = [], []
        for line in lines:
            _liquidity, suspense, _other = statement_line_items(line)
            fee = line.bank_crm_acquiring_fee
            values.append(
                {
                    'move_id': line.move_id.id,
                    'name': _("Acquiring fee"),
                    'currency_id': line.currency_id.id,
                    'account_id': line.company_id.bank_crm_acquiring_fee_account_id.id,
                    'balance': fee,
                    'amount_currency': fee,
                    **analytics,
                }
            )
            suspenses.append((suspense, fee))
        log_items = not self.env.context.get('tracking_disable')  # as Odoo's own notes of journal items
        tracked_fields, notes = MoveLine._bank_crm_tracked_fields(), []
        befores = [
            {'balance': suspense.balance, 'amount_currency': suspense.amount_currency} for suspense, _fee in suspenses
        ]
        items = rewrite_entry_items(
            moves,
            MoveLine,
            create=values,
            update=[
                (
                    suspense.with_env(MoveLine.env),
                    {'balance': before['balance'] - fee, 'amount_currency': before['amount_currency'] - fee},
                )
                for (suspense, fee), before in zip(suspenses, befores, strict=True)
            ],
        )
        if log_items:
            notes += [
                (
                    suspense.move_id,
                    _("Journal Item %s updated", suspense._get_html_link(title=f"#{suspense.id}")),
                    suspense._mail_track(tracked_fields, before)[1],
                    None,
                )
                for (suspense, _fee), before in zip(suspenses, befores, strict=True)
            ]
        notes += [
            (
                line.move_id,
                self.env._(
                    "Acquiring payout: fee of %(fee)s recorded on %(account)s.",
                    fee=line.currency_id.format(line.bank_crm_acquiring_fee),
                    account=line.company_id.bank_crm_acquiring_fee_account_id.display_name,
                ),
                [],
                None,
            )
            for line in lines
        ]
        if log_items:
            notes += items._bank_crm_item_notes('created')
        self.env['account.move']._bank_crm_log_batch(notes)

    def action_bank_crm_create_partner(self):
        """An unknown payer becomes a partner in one click (name, INN, KPP, account)."""
        self.ensure_one()
        if self.partner_id:
            return self.partner_id._get_records_action()
        partner = self.env['res.partner'].create(
            {
                'name': self.partner_name or self.payment_ref,
                'is_company': True,
                'vat': self.bank_crm_counterparty_inn or False,
                'bank_ids': [Command.create({'acc_number': self.account_number})] if self.account_number else [],
            }
        )
        self.partner_id = partner
        self._bank_crm_match()
        return partner._get_records_action()

    def action_bank_crm_match_again(self):
        self._bank_crm_match()
        return True
