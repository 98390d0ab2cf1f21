"""Matching incoming bank transfers to open customer invoices, on plain data.

Flow 2 of docs/architecture.md ("Bank transfer (B2B)"): a statement line comes in, we look for the
open invoice it pays: the invoice number in the payment purpose, the amount, the payer's
INN and account. This package does that on plain dataclasses (no Odoo): the Odoo side feeds
it the open invoices and known partners once, then a batch of incoming lines, and acts on
the answers (reconcile automatically, or put proposals in the "To match" queue).

What it recognises
------------------
- Invoice numbers as people really write them: ``INV/2026/00012``, ``№INV/2026/00012``,
  ``INV-2026-12``, ``INV202600012``, Cyrillic look-alike letters (``ІNV``, ``СЧ``), no spaces
  (``счет№12от01.02.2026``), and the bare sequence number after "счет/счёт/сч./invoice/№"
  (``Оплата по счету № 12 от 01.02.2026``), whose year comes from the date written after it.
  A number after "договор", "п/п", "акт", "накладная", "заказ", "счет-фактура"... is not an
  invoice reference; nor is a date or an amount (``1 500,00``, ``1500 руб``).
- Acquiring payouts (docs/banks.md §1.9, §2.5, §6 item 10): the acquiring bank pays the day's
  card proceeds as ONE transfer; such a line is reported as ``kind="payout"`` with the fee
  when the purpose states it, and is never matched to an invoice.

Scoring (0..100; points add up, then caps and penalties apply)
--------------------------------------------------------------
==========================================================  ======
invoice number in the purpose, full (prefix + year + seq)     +60
sequence number with its year (written, or from "от <date>")  +50
sequence number alone (year not stated)                       +35
the date written after the number is the invoice date          +5
amount equals the amount due (residual)                       +35
amount below the amount due (partial payment)                  +5
amount above the amount due (overpayment)                      +0
payer INN, or payer account, known on the invoice's customer  +25
... both INN and account                                      +30
no number, but the payer's only open invoice with this amount +20
amount alone (no number, no payer): exact amount +20, and the
  only open invoice with this amount +10                     +20/+30
payer INN differs from the customer's (and account unknown)   -40
the purpose names another invoice, not this one               -25
the purpose names several invoices (single candidate)         -10
==========================================================  ======

Caps: without any invoice number at most 80 (so INN/account + exact amount, the
"medium-high" case, is a one-click proposal with the default threshold); amount alone at
most 30; overpayment at most 80; another currency at most 50.

Examples with the default threshold 85: full number + exact amount = 95 (auto); number
with its date + exact amount = 90 (auto); "№ 12" + payer INN + exact amount = 95 (auto);
"№ 12" + exact amount, payer unknown = 70 (proposal); INN + exact amount, only such invoice
= 80 (proposal); amount alone <= 30 (proposal, never auto).

A line is reconciled automatically (``auto``) only when ALL hold:

- the best candidate scores at least ``threshold`` (default 85);
- the runner-up scores at least ``margin`` (default 15) points less (points before the
  0..100 clamp): two equally good candidates (same customer, same amount, "№ 12" of two
  years) are never guessed between;
- same currency, not an overpayment, not the amount alone;
- a partial payment only with the full invoice number (prefix + year + sequence) written.

Which invoices a number names: a full number names that invoice only (``INV/2026/00012``
never names ``INV/2025/00012``); a bare "№ 12" names every open invoice with sequence 12
(never 120 or 112), narrowed to the year of the date written after it, and to the invoice
of exactly that date when one matches (two journals both have a "12" of that year).

Several invoices named in one purpose ("по счетам №12, №13") whose amounts due add up
exactly to the line make one multi-invoice candidate (``allocations`` has one entry per
invoice; ``invoice_id`` is ``None``), scored with the weakest of its numbers. When a number
names several open invoices, the sum settles it if exactly one choice adds up.

Within one `Matcher.match` call, automatic matches consume the invoices' amounts due in
line order: an invoice paid by an earlier line is no longer open for the next one (a
duplicate payment is not matched to it again), the second half of a split payment is an
exact match. Pass lines in statement order.

Everything is exact: amounts are `Decimal`, floats are refused.

Modules, one per reason to change
---------------------------------
- `shapes`: the plain data in and out (`IncomingLine`, `OpenInvoice`, `PartnerRef`,
  `Candidate`, `Allocation`, `MatchResult`);
- `text`: normalisation of purposes, names and numbers; INN and account clean-up;
- `references`: invoice numbers, and the invoice numbers a purpose names;
- `payouts`: acquiring payouts and their fee;
- `matcher`: candidates, scores and the decision (`Matcher`, `SCORES`, `REASONS`).

The names below are the public API: import them from ``bank_api.matching``.
"""

from .matcher import DEFAULT_MARGIN, DEFAULT_THRESHOLD, REASONS, SCORES, Matcher
from .payouts import DEFAULT_PAYOUT_RULES, Payout, PayoutRule, extract_fee, find_payout, is_acquiring_payout
from .references import (
    InvoiceNumber,
    InvoiceReference,
    find_invoice_references,
    invoice_number_keys,
    parse_invoice_number,
)
from .shapes import Allocation, Candidate, IncomingLine, MatchResult, OpenInvoice, PartnerRef
from .text import normalize_text

__all__ = [
    "IncomingLine",
    "OpenInvoice",
    "PartnerRef",
    "Allocation",
    "Candidate",
    "MatchResult",
    "InvoiceNumber",
    "InvoiceReference",
    "PayoutRule",
    "Payout",
    "Matcher",
    "normalize_text",
    "parse_invoice_number",
    "invoice_number_keys",
    "find_invoice_references",
    "find_payout",
    "is_acquiring_payout",
    "extract_fee",
    "DEFAULT_PAYOUT_RULES",
    "DEFAULT_THRESHOLD",
    "DEFAULT_MARGIN",
    "SCORES",
    "REASONS",
]
