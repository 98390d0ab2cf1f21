"""The one place where banks differ on the Odoo side (docs/architecture.md "Layers").

Each adapter turns a `bank.connection` into a bank_api client and the client's
answers into bank-neutral `BankAccountInfo` / `BankOperation` pages. The sync
pipeline (`bank.connection`, `account.journal`) knows nothing else about a bank:
adding one means writing its bank_api client and registering an adapter here.
"""

from dataclasses import dataclass
from collections.abc import Iterator

from ..bank_api import tbank_business, tochka
from ..bank_api.statement import BankAccountInfo, BankOperation
from .. import const


@dataclass
class StatementPage:
    """A batch of operations, the cursor to resume after it, and the bank's balance
    (closing balance of the period) when the bank gave it with this page."""

    operations: list
    next_cursor: str | None = None
    balance: object | None = None


class TBankBusinessAdapter:
    code = 'tbank_business'
    default_url = tbank_business.PRODUCTION_URL

    def client(self, connection):
        return tbank_business.TBankBusinessClient(
            # sudo: the connection's token, given to the client only
            token=connection.sudo().api_token,
            base_url=connection.api_url,
            timeout=const.BANK_API_TIMEOUT,
        )

    def accounts(self, client) -> list[BankAccountInfo]:
        return [tbank_business.to_account_info(account) for account in client.list_accounts()]

    def pages(self, client, journal, date_from, date_to, cursor=None) -> Iterator[StatementPage]:
        account = journal.bank_crm_bank_account_ref or journal.bank_acc_number
        currency = (journal.currency_id or journal.company_id.currency_id).name
        for page in client.iter_statement(account, date_from, date_to, cursor=cursor, page_size=const.SYNC_PAGE_SIZE):
            balance = page.balances.balance_end if page.balances is not None else None
            yield StatementPage(tbank_business.to_operations(page, currency, account), page.next_cursor, balance)


class TochkaAdapter:
    code = 'tochka'
    default_url = tochka.PRODUCTION_URL

    def client(self, connection):
        return tochka.TochkaClient(
            # sudo: the connection's token, given to the client only
            token=connection.sudo().api_token,
            base_url=connection.api_url,
            timeout=const.BANK_API_TIMEOUT,
        )

    def accounts(self, client) -> list[BankAccountInfo]:
        return [
            tochka.to_account_info(account, client.get_balances(account.account_id))
            for account in client.list_accounts()
        ]

    def pages(self, client, journal, date_from, date_to, cursor=None) -> Iterator[StatementPage]:
        # Tochka builds a whole statement asynchronously: one page, no cursor.
        statement = client.fetch_statement(journal.bank_crm_bank_account_ref, date_from, date_to)
        yield StatementPage(tochka.to_operations(statement), None, statement.end_date_balance)


ADAPTERS = {adapter.code: adapter for adapter in (TBankBusinessAdapter(), TochkaAdapter())}


def adapter_for(code):
    return ADAPTERS[code]


__all__ = ['ADAPTERS', 'StatementPage', 'adapter_for', 'BankOperation']
