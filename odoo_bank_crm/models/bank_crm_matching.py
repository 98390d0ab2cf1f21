"""Incoming transfers matched to invoices and deals (issue: bank connections, item 5).

The scoring lives in bank_api.matching (plain data, tested alone); here we feed it
Odoo's open invoices and partners in a few queries, reconcile what it is sure of with
Odoo's own reconciliation, and keep the rest as proposals one click confirms.
"""
import logging
from decimal import Decimal

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

from ..bank_api import matching
from ..utils import to_decimal

_logger = logging.getLogger(__name__)


class BankCrmMatchProposal(models.Model):
    _name = 'bank.crm.match.proposal'
    _description = "Proposed Match of a Bank Transaction"
    _order = 'score desc, id'

    statement_line_id = fields.Many2one('account.bank.statement.line', required=True, ondelete='cascade',
                                        index=True)
    invoice_id = fields.Many2one('account.move', string="Invoice", required=True, ondelete='cascade')
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
        selection=[('to_match', "To Match"), ('proposed', "Proposals"), ('matched', "Matched"),
                   ('payout', "Acquiring Payout")],
        string="Matching", readonly=True, index=True, copy=False)
    bank_crm_proposal_ids = fields.One2many('bank.crm.match.proposal', 'statement_line_id', string="Proposals")
    bank_crm_acquiring_fee = fields.Monetary(string="Acquiring Fee", readonly=True,
                                             help="The fee the acquirer deducted, as its purpose states it.")

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        if not self.env.context.get('bank_crm_no_matching'):
            lines.filtered(lambda l: l.amount > 0)._bank_crm_match()
        return lines

    def _bank_crm_match(self, auto=True):
        """Match incoming transactions to open invoices of their company: reconcile the
        sure ones, propose the others, recognise acquiring payouts. Queries do not grow
        with the number of lines: one read of the open invoices, one of the partners."""
        lines = self.filtered(lambda l: l.amount > 0 and not l.is_reconciled)
        if not lines:
            return
        Move = self.env['account.move']
        for company in lines.company_id:
            company_lines = lines.filtered(lambda l: l.company_id == company)
            invoices = Move.search([
                ('company_id', '=', company.id), ('move_type', '=', 'out_invoice'), ('state', '=', 'posted'),
                ('payment_state', 'in', ('not_paid', 'partial')),
            ])
            commercial = invoices.commercial_partner_id
            payer_inns = set(company_lines.mapped('bank_crm_counterparty_inn')) - {False}
            payer_accounts = set(company_lines.mapped('account_number')) - {False}
            known = self.env['res.partner'].search(['|', ('id', 'in', commercial.ids), '|',
                                                    ('vat', 'in', list(payer_inns)),
                                                    ('bank_ids.acc_number', 'in', list(payer_accounts))])
            accounts = {}
            for bank_account in self.env['res.partner.bank'].search([('partner_id', 'in', known.ids)]):
                accounts.setdefault(bank_account.partner_id.commercial_partner_id.id, set()).add(
                    bank_account.acc_number)
            partners = [matching.PartnerRef(p.id, p.vat or None, frozenset(accounts.get(p.id, ())))
                        for p in known.commercial_partner_id]
            open_invoices = [matching.OpenInvoice(
                id=inv.id, number=inv.name, currency=inv.currency_id.name,
                amount_residual=self._bank_crm_decimal(inv.amount_residual, inv.currency_id),
                amount_total=self._bank_crm_decimal(inv.amount_total, inv.currency_id),
                partner_id=inv.commercial_partner_id.id, partner_inn=inv.commercial_partner_id.vat or None,
                partner_accounts=frozenset(accounts.get(inv.commercial_partner_id.id, ())),
                due_date=inv.invoice_date_due, lead_id=inv.bank_crm_lead_id.id or None,
                invoice_date=inv.invoice_date) for inv in invoices]
            matcher = matching.Matcher(open_invoices, partners)
            by_id = {line.id: line for line in company_lines}
            results = matcher.match([matching.IncomingLine(
                id=line.id, amount=self._bank_crm_decimal(line.amount, line.currency_id),
                currency=line.currency_id.name, purpose=line.payment_ref or '',
                payer_inn=line.bank_crm_counterparty_inn or None, payer_account=line.account_number or None,
                payer_name=line.partner_name or None, date=line.date) for line in company_lines])
            invoices_by_id = {inv.id: inv for inv in invoices}
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
                to_reconcile.append((line, [(invoices_by_id[a.invoice_id], float(a.amount))
                                            for a in result.best.allocations], result))
            elif result.candidates:
                proposed_ids.append(line.id)
                proposal_values += [{
                    'statement_line_id': line.id, 'invoice_id': allocation.invoice_id,
                    'amount': float(allocation.amount), 'score': candidate.score,
                    'reasons': ", ".join(candidate.reasons),
                } for candidate in result.candidates for allocation in candidate.allocations]
            else:
                to_match_ids.append(line.id)
        for partner_id, line_ids in by_partner.items():
            Line.browse(line_ids).partner_id = partner_id
        for fee, line_ids in by_fee.items():
            lines = Line.browse(line_ids)
            lines.write({'bank_crm_match_state': 'payout', 'bank_crm_acquiring_fee': float(fee)})
            for line in lines:
                line._bank_crm_book_payout_fee()
        def propose(line, allocations, result, error):
            _logger.info("Bank transaction %s not reconciled automatically: %s", line.id, error)
            proposal_values.extend({
                'statement_line_id': line.id, 'invoice_id': invoice.id, 'amount': amount,
                'score': result.best.score, 'reasons': ", ".join(result.best.reasons),
            } for invoice, amount in allocations)
            proposed_ids.append(line.id)

        # the sure matches are reconciled together (one batch of journal items and one
        # reconciliation plan); should the batch fail, one by one, each in its savepoint
        try:
            with self.env.cr.savepoint():
                failed = self._bank_crm_reconcile_batch(
                    [(line, allocations) for line, allocations, _result in to_reconcile])
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
        # proposals are the matcher's bookkeeping, kept whoever booked the transactions
        (proposed | to_match).sudo().bank_crm_proposal_ids.unlink()
        proposed.company_id  # read at once what the proposals' stored related fields need
        Proposal = self.env['bank.crm.match.proposal'].sudo()
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
        _liquidity, suspense, other = line._seek_for_lines()
        if other or len(suspense) != 1:
            raise UserError(_("This transaction is already partly matched: undo that first."))
        company_currency = line.company_id.currency_id
        if line.currency_id != company_currency or any(inv.currency_id != company_currency
                                                       for inv, _amount in allocations):
            raise UserError(_("Only transactions and invoices in the company's currency are matched here."))
        total = sum(amount for _invoice, amount in allocations)
        if company_currency.compare_amounts(total, line.amount) > 0:
            raise UserError(_("The invoices take more than the transaction brought."))
        receivables = []
        for invoice, amount in allocations:
            receivable = invoice.line_ids.filtered(
                lambda l: l.account_id.account_type == 'asset_receivable' and not l.reconciled)
            if not receivable:
                raise UserError(_("Invoice %(invoice)s has nothing left to pay.", invoice=invoice.name))
            receivables.append((invoice, receivable, amount))
        return suspense, allocations[0][0].commercial_partner_id, receivables, \
            company_currency.round(line.amount - total)

    @api.model
    def _bank_crm_reconcile_batch(self, items):
        """Reconcile incoming transactions with invoices, all in one go: the journal items
        of all their entries are replaced in one create and one unlink (the entries checked
        balanced once), and reconciled by one reconciliation plan, as Odoo's own
        reconciliation does line by line (see `_bank_crm_reconcile_invoices`). Queries do not
        grow with the number of transactions, only Odoo's own bookkeeping of each entry.

        :param items: [(statement line, [(account.move, amount in the line's currency)])]
        :return: {statement line: UserError} of the transactions that cannot be reconciled
        """
        Line = self.env['account.bank.statement.line']
        MoveLine = self.env['account.move.line'].with_context(skip_readonly_check=True, skip_invoice_sync=True)
        lines = Line.browse([line.id for line, _allocations in items])
        lines.move_id.line_ids.account_id  # read the entries of all lines at once
        self.env['account.move'].browse(
            {invoice.id for _line, allocations in items for invoice, _amount in allocations}).line_ids.account_id
        failed, ready = {}, []
        for line, allocations in items:
            try:
                ready.append((line, allocations, *self._bank_crm_check_reconcilable(line, allocations)))
            except UserError as error:
                failed[line] = error
        if not ready:
            return failed
        values, receivables, to_unlink, to_update, matched = [], [], MoveLine, [], Line
        for line, allocations, suspense, partner, line_receivables, rest in ready:
            currency = line.company_id.currency_id
            matched |= line
            for invoice, receivable, amount in line_receivables:
                receivables.append(receivable)
                values.append({
                    'move_id': line.move_id.id, 'name': line.payment_ref or invoice.name,
                    'account_id': receivable[0].account_id.id, 'partner_id': partner.id,
                    'balance': -amount, 'amount_currency': -amount, 'currency_id': currency.id,
                })
            if currency.is_zero(rest):
                to_unlink |= suspense
            else:
                to_update.append((suspense, rest))  # an overpayment stays in suspense
        moves = matched.move_id
        with moves._check_balanced({'records': moves}):
            new_lines = MoveLine.create(values)
            for suspense, rest in to_update:
                suspense.with_context(skip_readonly_check=True).write({'balance': -rest, 'amount_currency': -rest})
            to_unlink.with_context(force_delete=True).unlink()
        MoveLine._reconcile_plan([new_line | receivable for new_line, receivable in zip(new_lines, receivables)])
        by_lead = {}
        for line, allocations, *_rest in ready:
            lead = next((invoice.bank_crm_lead_id for invoice, _amount in allocations if invoice.bank_crm_lead_id),
                        self.env['crm.lead'])
            by_lead[lead] = by_lead.get(lead, Line) | line
        # the entries' lines are final; the entries themselves must not be touched again
        for lead, lead_lines in by_lead.items():
            lead_lines.with_context(skip_account_move_synchronization=True).write(
                {'bank_crm_match_state': 'matched', 'bank_crm_lead_id': lead.id})
        matched.sudo().bank_crm_proposal_ids.unlink()
        return failed

    def _bank_crm_book_payout_fee(self):
        """An acquiring payout: the fee its purpose states is booked as an expense next to it."""
        account = self.company_id.bank_crm_acquiring_fee_account_id
        if not (self.bank_crm_acquiring_fee and account) or self.is_reconciled:
            return
        self.move_id.message_post(body=_("Acquiring payout: fee of %(fee)s recorded on %(account)s.",
                                         fee=self.currency_id.format(self.bank_crm_acquiring_fee),
                                         account=account.display_name))
        self.move_id.with_context(skip_readonly_check=True).write({'line_ids': [
            Command.create({'name': _("Acquiring fee"), 'account_id': account.id,
                            'balance': self.bank_crm_acquiring_fee, 'amount_currency': self.bank_crm_acquiring_fee,
                            'currency_id': self.currency_id.id}),
            Command.create({'name': _("Acquiring fee"), 'account_id': self.journal_id.suspense_account_id.id,
                            'balance': -self.bank_crm_acquiring_fee,
                            'amount_currency': -self.bank_crm_acquiring_fee, 'currency_id': self.currency_id.id}),
        ]})

    def action_bank_crm_create_partner(self):
        """An unknown payer becomes a partner in one click (name, INN, KPP, account)."""
        self.ensure_one()
        if self.partner_id:
            return self.partner_id._get_records_action()
        partner = self.env['res.partner'].create({
            'name': self.partner_name or self.payment_ref, 'is_company': True,
            'vat': self.bank_crm_counterparty_inn or False,
            'bank_ids': [Command.create({'acc_number': self.account_number})] if self.account_number else [],
        })
        self.partner_id = partner
        self._bank_crm_match()
        return partner._get_records_action()

    def action_bank_crm_match_again(self):
        self._bank_crm_match()
        return True
