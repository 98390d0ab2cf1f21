"""The matcher: candidates for each incoming line among the open invoices, their scores
(the table in the package docstring), and whether the best one is sure enough to
reconcile without asking."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import product

from .payouts import DEFAULT_PAYOUT_RULES, _find_payout
from .references import _scan_references, parse_invoice_number
from .shapes import Allocation, Candidate, IncomingLine, MatchResult, OpenInvoice, PartnerRef
from .text import _clean_account, _clean_inn, normalize_text

DEFAULT_THRESHOLD = 85
DEFAULT_MARGIN = 15

#: Points and caps of the scoring table in the package docstring (`bank_api.matching`).
SCORES = {
    "number": 60,
    "number_year": 50,
    "number_only": 35,
    "invoice_date": 5,
    "amount_exact": 35,
    "partial": 5,
    "overpaid": 0,
    "payer": 25,
    "payer_both": 30,
    "unique_amount_for_payer": 20,
    "unique_amount": 10,
    "amount_only": 20,
    "payer_inn_differs": -40,
    "other_invoice_named": -25,
    "several_invoices_named": -10,
    "cap_without_number": 80,
    "cap_amount_only": 30,
    "cap_overpaid": 80,
    "cap_currency": 50,
    "min_score": 10,
}

#: Reason codes found in `Candidate.reasons`, with what they mean. The Odoo side shows
#: them to users through its own (translated) labels, keyed by code.
REASONS = {
    "number": "the full invoice number (prefix, year, sequence) is in the purpose",
    "number_year": "the invoice's sequence number and year are in the purpose",
    "number_only": "the invoice's sequence number is in the purpose (year not stated)",
    "invoice_date": "the invoice date is written after the number",
    "several_invoices": "the purpose names several invoices whose amounts due add up to the amount",
    "amount_exact": "the amount equals the amount due",
    "partial": "the amount is less than the amount due (partial payment)",
    "overpaid": "the amount exceeds the amount due",
    "currency_differs": "the line and the invoice are in different currencies",
    "payer_inn": "the payer's INN is the customer's",
    "payer_account": "the payer's account is known on the customer",
    "unique_amount_for_payer": "the payer's only open invoice with this amount",
    "amount_only": "only the amount matches",
    "unique_amount": "the only open invoice with this amount",
    "payer_inn_differs": "the payer's INN is not the customer's",
    "other_invoice_named": "the purpose names another invoice",
    "several_invoices_named": "the purpose names several invoices",
}

_LEVEL_RANK = {"number": 3, "number_year": 2, "number_only": 1}
_MULTI_OPTIONS = 4  # open invoices one number may name, for a multi-invoice candidate
_MULTI_COMBINATIONS = 64


def _add(index, key, value):
    bucket = index.get(key)
    if bucket is None:
        index[key] = [value]
    else:
        bucket.append(value)


class _Batch:
    """Amounts due as consumed by automatic matches earlier in the same `Matcher.match`."""

    __slots__ = ("residual", "by_amount", "by_partner_amount")

    def __init__(self):
        self.residual = {}
        self.by_amount = {}
        self.by_partner_amount = {}


@dataclass(slots=True)
class _Context:
    line: IncomingLine
    payer_inn: str | None
    payer_account: str | None
    payer_partners: frozenset
    refs: list
    ref_hits: dict = field(default_factory=dict)  # invoice id -> (level, date matches)
    named: int = 0  # distinct sets of open invoices the references name


class Matcher:
    """Matches incoming lines to open invoices; build once per batch of open invoices.

    :param invoices: the open customer invoices (`OpenInvoice`).
    :param partners: known partners (`PartnerRef`): recognise payers by INN/account.
    :param threshold: minimum score for ``auto`` (default 85).
    :param margin: minimum lead of the best candidate over the runner-up for ``auto``.
    :param payout_rules: acquirers (`PayoutRule`), default `DEFAULT_PAYOUT_RULES`.
    :param max_candidates: candidates kept per line.

    Indexes are built once (by full number, compact number, period + sequence, sequence,
    amount, partner + amount, INN, account), so matching N lines costs O(N).
    """

    def __init__(
        self,
        invoices: Iterable[OpenInvoice],
        partners: Iterable[PartnerRef] = (),
        *,
        threshold: int = DEFAULT_THRESHOLD,
        margin: int = DEFAULT_MARGIN,
        payout_rules=DEFAULT_PAYOUT_RULES,
        max_candidates: int = 5,
    ):
        self.threshold = threshold
        self.margin = margin
        self.payout_rules = tuple(payout_rules)
        self.max_candidates = max_candidates
        self._invoices = {}
        self._year = {}
        self._number = {}
        self._by_full, self._by_compact, self._by_period, self._by_seq = {}, {}, {}, {}
        self._by_amount, self._by_partner_amount, self._by_partner = {}, {}, {}
        self._inn_partners, self._account_partners = {}, {}
        self._partner_inns, self._partner_accounts = {}, {}
        prefixes = set()
        for inv in invoices:
            if inv.id in self._invoices:
                raise ValueError(f"invoice id {inv.id!r} given twice")
            self._invoices[inv.id] = inv
            self._know_partner(inv.partner_id, inv.partner_inn, inv.partner_accounts)
            parsed = parse_invoice_number(inv.number)
            self._number[inv.id] = parsed
            year = parsed.year if parsed else None
            if year is None and inv.invoice_date is not None:
                year = inv.invoice_date.year
            self._year[inv.id] = year
            if parsed is not None:
                if parsed.prefix:
                    prefixes.add(parsed.prefix)
                    _add(self._by_full, parsed.full_key, inv.id)
                    _add(self._by_compact, parsed.compact_key, inv.id)
                if parsed.period:
                    _add(self._by_period, parsed.period_key, inv.id)
                _add(self._by_seq, parsed.seq, inv.id)
            if inv.amount_residual > 0:
                _add(self._by_amount, (inv.currency, inv.amount_residual), inv.id)
                _add(self._by_partner_amount, (inv.partner_id, inv.currency, inv.amount_residual), inv.id)
            _add(self._by_partner, inv.partner_id, inv.id)
        for partner in partners:
            self._know_partner(partner.partner_id, partner.inn, partner.accounts)
        self._prefixes = frozenset(prefixes)

    def _know_partner(self, partner_id, inn, accounts):
        inn = _clean_inn(inn)
        if inn:
            self._inn_partners.setdefault(inn, set()).add(partner_id)
            self._partner_inns.setdefault(partner_id, set()).add(inn)
        for account in accounts or ():
            account = _clean_account(account)
            if account:
                self._account_partners.setdefault(account, set()).add(partner_id)
                self._partner_accounts.setdefault(partner_id, set()).add(account)

    # -- public ---------------------------------------------------------------------------

    def match(self, lines: Iterable[IncomingLine]) -> list:
        """One `MatchResult` per line, in order. Automatic matches consume amounts due for
        the following lines of the same call (not across calls)."""
        batch = _Batch()
        return [self._match_line(line, batch) for line in lines]

    def partners_of_payer(self, payer_inn=None, payer_account=None) -> frozenset:
        """Known partners with this INN or account (several: same INN on branches)."""
        found = set(self._inn_partners.get(_clean_inn(payer_inn), ()))
        found.update(self._account_partners.get(_clean_account(payer_account), ()))
        return frozenset(found)

    # -- internals --------------------------------------------------------------------------

    def _residual(self, invoice_id, batch):
        amount = batch.residual.get(invoice_id)
        return self._invoices[invoice_id].amount_residual if amount is None else amount

    def _consume(self, allocations, batch):
        for allocation in allocations:
            inv = self._invoices[allocation.invoice_id]
            left = self._residual(inv.id, batch) - allocation.amount
            batch.residual[inv.id] = left
            if left > 0:
                _add(batch.by_amount, (inv.currency, left), inv.id)
                _add(batch.by_partner_amount, (inv.partner_id, inv.currency, left), inv.id)

    def _with_amount(self, base, extra, key, amount, batch):
        found = [i for i in base.get(key, ()) if self._residual(i, batch) == amount]
        found += [i for i in extra.get(key, ()) if self._residual(i, batch) == amount and i not in found]
        return found

    def _resolve(self, ref, batch):
        """(level, open invoice ids) for one reference; ids may be empty (not open)."""
        ids, level = None, None
        if ref.strength == "strong":
            ids = self._by_full.get(ref.full_key) or self._by_compact.get(ref.compact_key)
            if ids or ref.prefix in self._prefixes:
                level = "number"
            ids = ids or ()
        if level is None:
            if ref.period:
                ids = self._by_period.get(ref.period_key, ())
                level = "number_year"
            else:
                ids = self._by_seq.get(ref.seq, ())
                level = "number_only"
            if ref.prefix:
                ids = [i for i in ids if self._number[i].prefix == ref.prefix]
        ids = [i for i in ids if self._residual(i, batch) > 0]
        if level == "number_only" and ref.year is not None:
            ids = [i for i in ids if self._year[i] in (None, ref.year)]
            if any(self._year[i] == ref.year for i in ids):
                level, ids = "number_year", [i for i in ids if self._year[i] == ref.year]
        if ref.date is not None and len(ids) > 1:
            dated = [i for i in ids if self._invoices[i].invoice_date == ref.date]
            if dated:
                ids = dated  # "№ 12 от 01.02.2026": the document of that date, of the two journals
        if level == "number" and len(ids) > 1:
            level = "number_year"  # the written number does not single one out
        return level, ids

    def _match_line(self, line, batch) -> MatchResult:
        payer_inn = _clean_inn(line.payer_inn)
        payer_account = _clean_account(line.payer_account)
        payer_partners = frozenset(self._inn_partners.get(payer_inn, ())) | frozenset(
            self._account_partners.get(payer_account, ())
        )
        payer_partner = next(iter(payer_partners)) if len(payer_partners) == 1 else None
        if line.amount <= 0:
            return MatchResult(line.id, "unknown", partner_id=payer_partner)
        purpose = normalize_text(line.purpose)
        payout = _find_payout(purpose, payer_inn, line.payer_name, self.payout_rules)
        if payout is not None:
            return MatchResult(line.id, "payout", (), payout.by_payer, payer_partner, payout.fee, payout.acquirer)

        ctx = _Context(
            line, payer_inn, payer_account, payer_partners, _scan_references(purpose, self._prefixes, line.amount)
        )
        resolved = []
        for ref in ctx.refs:
            level, ids = self._resolve(ref, batch)
            resolved.append((level, ids))
            for invoice_id in ids:
                date_ok = ref.date is not None and ref.date == self._invoices[invoice_id].invoice_date
                old = ctx.ref_hits.get(invoice_id)
                new = (level, date_ok)
                if old is None or (_LEVEL_RANK[level], date_ok) > (_LEVEL_RANK[old[0]], old[1]):
                    ctx.ref_hits[invoice_id] = new
        ctx.named = len({frozenset(ids) for _, ids in resolved if ids})

        # Candidates: named invoices, the payer's invoices with this amount, any invoice
        # with this amount (if few); failing all, the payer's few open invoices (partial).
        ids = list(ctx.ref_hits)
        seen = set(ids)
        payer_exact = []
        for partner_id in payer_partners:
            key = (partner_id, line.currency, line.amount)
            payer_exact += self._with_amount(self._by_partner_amount, batch.by_partner_amount, key, line.amount, batch)
        ids += [i for i in payer_exact if i not in seen and not seen.add(i)]
        same_amount = self._with_amount(
            self._by_amount, batch.by_amount, (line.currency, line.amount), line.amount, batch
        )
        if len(same_amount) <= 3:
            ids += [i for i in same_amount if i not in seen and not seen.add(i)]
        if not ids:
            for partner_id in payer_partners:
                own = self._by_partner.get(partner_id, ())
                if len(own) <= 5:
                    ids += own

        scored = []  # (points before the 0..100 clamp, candidate): rank and margin use the points
        for invoice_id in ids:
            residual = self._residual(invoice_id, batch)
            if residual > 0:
                points, candidate = self._score(ctx, invoice_id, residual, len(payer_exact) == 1, len(same_amount) == 1)
                if candidate.score >= SCORES["min_score"]:
                    scored.append((points, candidate))
        multi = self._multi_candidate(ctx, resolved, batch)
        if multi is not None:
            scored.append(multi)
        scored.sort(key=lambda pc: (-pc[0], -len(pc[1].allocations), self._sort_key(pc[1])))
        scored = scored[: self.max_candidates]
        candidates = tuple(candidate for _, candidate in scored)

        auto = False
        partner_id = payer_partner
        if candidates:
            best = candidates[0]
            runner_up = scored[1][0] if len(scored) > 1 else 0
            auto = best.score >= self.threshold and scored[0][0] - runner_up >= self.margin and self._auto_allowed(best)
            if auto:
                self._consume(best.allocations, batch)
                partners = {self._invoices[a.invoice_id].partner_id for a in best.allocations}
                if len(partners) == 1:
                    partner_id = partners.pop()
        return MatchResult(line.id, "invoice" if candidates else "unknown", candidates, auto, partner_id)

    def _sort_key(self, candidate):
        inv = self._invoices[candidate.allocations[0].invoice_id]
        return (inv.due_date or dt.date.max, str(inv.number), str(inv.id))

    @staticmethod
    def _auto_allowed(candidate) -> bool:
        reasons = candidate.reasons
        if "overpaid" in reasons or "currency_differs" in reasons or "amount_only" in reasons:
            return False
        return not candidate.partial or "number" in reasons

    def _payer_points(self, ctx, partner_id):
        """(points, reasons) for who paid."""
        inn_ok = bool(ctx.payer_inn) and ctx.payer_inn in self._partner_inns.get(partner_id, ())
        account_ok = bool(ctx.payer_account) and ctx.payer_account in self._partner_accounts.get(partner_id, ())
        if inn_ok and account_ok:
            return SCORES["payer_both"], ["payer_inn", "payer_account"]
        if inn_ok or account_ok:
            return SCORES["payer"], ["payer_inn" if inn_ok else "payer_account"]
        if ctx.payer_inn and self._partner_inns.get(partner_id):
            return SCORES["payer_inn_differs"], ["payer_inn_differs"]
        return 0, []

    def _score(self, ctx, invoice_id, residual, payer_unique, amount_unique) -> tuple:
        """(points, `Candidate`) for one invoice; the candidate's score is the points clamped
        to 0..100."""
        inv = self._invoices[invoice_id]
        line = ctx.line
        points, reasons = 0, []
        hit = ctx.ref_hits.get(invoice_id)
        if hit is not None:
            points += SCORES[hit[0]]
            reasons.append(hit[0])
            if hit[1]:
                points += SCORES["invoice_date"]
                reasons.append("invoice_date")
        payer_points, payer_reasons = self._payer_points(ctx, inv.partner_id)
        partial = over = exact = False
        apply = line.amount
        if line.currency != inv.currency:
            reasons.append("currency_differs")
            apply = min(line.amount, residual)
        elif line.amount == residual:
            exact = True
        elif line.amount < residual:
            partial = True
        else:
            over = True
            apply = residual
        if hit is None and payer_points <= 0:
            # the amount alone: a hint for the queue, never enough to reconcile
            if exact:
                points += SCORES["amount_only"]
                reasons.append("amount_only")
                if amount_unique:
                    points += SCORES["unique_amount"]
                    reasons.append("unique_amount")
        else:
            if exact:
                points += SCORES["amount_exact"]
                reasons.append("amount_exact")
            elif partial:
                points += SCORES["partial"]
                reasons.append("partial")
            elif over:
                points += SCORES["overpaid"]
                reasons.append("overpaid")
            if hit is None and exact and payer_unique:
                points += SCORES["unique_amount_for_payer"]
                reasons.append("unique_amount_for_payer")
        points += payer_points
        reasons += payer_reasons
        if hit is None and ctx.refs:
            points += SCORES["other_invoice_named"]
            reasons.append("other_invoice_named")
        elif hit is not None and ctx.named > 1:
            points += SCORES["several_invoices_named"]
            reasons.append("several_invoices_named")
        if hit is None:
            points = min(points, SCORES["cap_without_number"] if payer_points > 0 else SCORES["cap_amount_only"])
        if over:
            points = min(points, SCORES["cap_overpaid"])
        if "currency_differs" in reasons:
            points = min(points, SCORES["cap_currency"])
        return points, Candidate(
            invoice_id, max(0, min(100, points)), tuple(reasons), apply, (Allocation(invoice_id, apply),), partial
        )

    def _multi_candidate(self, ctx, resolved, batch) -> tuple | None:
        """One candidate paying several named invoices whose amounts due add up exactly.
        A number naming several open invoices (``№ 12`` of two years) is settled by the sum
        when exactly one choice adds up."""
        if ctx.named < 2:
            return None
        options, unresolved = [], 0
        for _, ids in resolved:
            ids = [i for i in ids if self._invoices[i].currency == ctx.line.currency]
            if len(ids) > 1 and ctx.payer_partners:
                ids = [i for i in ids if self._invoices[i].partner_id in ctx.payer_partners] or ids
            if not ids:
                unresolved += 1
            elif len(ids) <= _MULTI_OPTIONS:
                options.append(ids)
            else:
                return None
        size = 1
        for ids in options:
            size *= len(ids)
        if size > _MULTI_COMBINATIONS:
            return None
        choices = set()
        for combination in product(*options):
            chosen = frozenset(combination)  # an invoice named twice counts once
            if len(chosen) > 1 and sum((self._residual(i, batch) for i in chosen), Decimal(0)) == ctx.line.amount:
                choices.add(chosen)
        if len(choices) != 1:
            return None  # nothing adds up, or several ways do: leave it to a person
        order = {}
        for ids in options:
            for i in ids:
                order.setdefault(i, len(order))
        chosen = sorted(choices.pop(), key=order.__getitem__)
        levels = [ctx.ref_hits[i][0] for i in chosen]
        allocations = tuple(Allocation(i, self._residual(i, batch)) for i in chosen)
        total = ctx.line.amount
        level = min(levels, key=_LEVEL_RANK.__getitem__)
        points = SCORES[level] + SCORES["amount_exact"]
        reasons = ["several_invoices", level, "amount_exact"]
        worst = min((self._payer_points(ctx, self._invoices[i].partner_id) for i in chosen), key=lambda p: p[0])
        points += worst[0]
        reasons += worst[1]
        if unresolved:
            points += SCORES["other_invoice_named"]
            reasons.append("other_invoice_named")
        return points, Candidate(None, max(0, min(100, points)), tuple(reasons), total, allocations, False)
