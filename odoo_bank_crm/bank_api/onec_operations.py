"""1C statements as bank-neutral operations: the 1C → `BankOperation` mapping, beside
its reader `onec.py` (which stays self-contained, standard library only), as each
bank's client maps its own statement (its `to_operations`). docs/banks.md §4,
docs/onec-files.md."""

import hashlib
from collections.abc import Iterable

from . import onec
from .statement import BankOperation

__all__ = ["to_operation"]


def to_operation(document: onec.OneCDocument, own_accounts: Iterable[str], currency: str) -> BankOperation | None:
    """A document of a statement as a `BankOperation`, or ``None`` when it is neither
    paid from nor to one of ``own_accounts`` (`onec.direction`). Its id is stable across
    re-imports of the same document: a hash of its day, number, amount, parties and
    purpose."""
    way = onec.direction(document, own_accounts)
    if way is None:
        return None
    incoming = way == "in"
    other = document.payer if incoming else document.recipient
    day = (document.date_credited if incoming else document.date_debited) or document.date
    identity = "|".join(
        str(value or "")
        for value in (
            day,
            document.number,
            document.amount,
            document.payer.inn,
            document.payer.account,
            document.recipient.inn,
            document.recipient.account,
            document.purpose,
        )
    )
    return BankOperation(
        bank_operation_id="1c:" + hashlib.sha1(identity.encode()).hexdigest()[:24],
        date=day,
        amount=document.amount if incoming else -document.amount,
        currency=currency,
        confirmed=True,
        purpose=document.purpose or "",
        counterparty_name=other.name,
        counterparty_inn=other.inn,
        counterparty_kpp=other.kpp,
        counterparty_account=other.account,
        counterparty_bic=other.bic,
        counterparty_bank_name=other.bank_name,
        document_number=document.number,
    )
