"""What every bank adapter offers the flows, in bank-neutral terms (docs/architecture.md
"Where each bank lives").

An adapter turns a `bank.connection` into its bank_api client and the client's answers
into the shapes the flows speak: accounts (`BankAccountInfo`), statement pages
(`StatementPage` of `BankOperation`), outgoing payments (`OutgoingPayment` →
`SentPayment`, then `PaymentStatus` with a neutral `PaymentState`) and webhooks. The
flows (sync, payment orders, instant updates, the Add Account wizard) call adapters only.
"""

import abc
import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..bank_api.statement import BankAccountInfo


class PaymentState(enum.StrEnum):
    """Where an outgoing payment stands at its bank, whatever the bank's own word."""

    PENDING = 'pending'  # waiting for a signature or being executed
    DONE = 'done'  # executed: the money left the account
    FAILED = 'failed'  # refused or cancelled: the money did not leave


@dataclass(frozen=True)
class StatementPage:
    """A batch of operations, the cursor to resume after it, and the bank's balance
    (closing balance of the period) when the bank gave it with this page."""

    operations: list
    next_cursor: str | None = None
    balance: object | None = None


@dataclass(frozen=True)
class OutgoingPayment:
    """An outgoing payment as every bank's API needs it; amounts in roubles (`Decimal`)."""

    own_account: str
    own_bic: str | None
    payer_inn: str | None
    recipient_name: str
    recipient_inn: str | None
    recipient_account: str
    recipient_bic: str
    recipient_bank_name: str | None
    amount: Decimal
    purpose: str
    document_number: str
    payment_date: date | None
    idempotency_key: str


@dataclass(frozen=True)
class PaymentStatus:
    """The bank's answer about one payment: the neutral `state`, the bank's own word
    (`bank_status`, kept on the payment for people) and its reason when refused."""

    document_id: str
    state: PaymentState
    bank_status: str
    reason: str | None = None


@dataclass(frozen=True)
class SentPayment:
    """A payment the bank took: its document, its first status and, when the bank gives
    one, the page where a signer opens it."""

    document_id: str
    status: PaymentStatus
    sign_url: str | None = None


class BankAdapter(abc.ABC):
    """One bank on the Odoo side. Subclasses set the class attributes and implement the
    methods; `adapters/__init__.py` registers them."""

    #: the provider code stored on `bank.connection.provider_code` (and webhook events)
    code: str = ''
    #: the bank's name in the provider selections
    label: str = ''
    #: the bank's production API
    default_url: str = ''
    #: payment statuses asked in one call (`payment_statuses`)
    status_batch: int = 1
    #: the bank's payment status words per neutral state (Odoo's payment_stripe `STATUS_MAPPING`);
    #: any other word is `PaymentState.PENDING`
    payment_status_mapping: dict = {}
    #: the bank tests the webhook URL with signed deliveries while subscribing and may still
    #: deliver once instant updates are off: such deliveries are answered 200 and ignored
    webhook_tests_deliveries: bool = False
    #: the bank signs its webhooks with public keys (a JWKS URL and a client id on the connection)
    webhook_signed_with_keys: bool = False
    #: where the bank publishes those keys (the connection's default)
    webhook_keys_url: str | None = None

    def payment_state(self, bank_status) -> PaymentState:
        for state, words in self.payment_status_mapping.items():
            if bank_status in words:
                return state
        return PaymentState.PENDING

    @abc.abstractmethod
    def client(self, connection):
        """The bank_api client of `connection` (its token read with sudo, given to the client only)."""

    @abc.abstractmethod
    def accounts(self, client) -> list[BankAccountInfo]:
        """The accounts the connection reaches, with their balances."""

    @abc.abstractmethod
    def to_operations(self, answer, journal) -> list:
        """The bank's statement answer (a page, a statement) as the journal's `BankOperation`s."""

    @abc.abstractmethod
    def pages(self, client, journal, date_from, date_to, cursor=None) -> Iterator[StatementPage]:
        """The journal's operations of the period as `StatementPage`s, resumed after `cursor`."""

    @abc.abstractmethod
    def send_payment(self, client, payment: OutgoingPayment) -> SentPayment:
        """Put the payment in the bank's list of payments to sign.

        :raises ValueError: the payment cannot be sent as it is (nothing sent).
        """

    @abc.abstractmethod
    def payment_statuses(self, client, document_ids) -> dict:
        """{document id: `PaymentStatus`} of at most `status_batch` payments."""

    # === WEBHOOKS (docs/bank-webhooks.md) === #

    @abc.abstractmethod
    def subscribe_webhooks(self, connection, client, url, secret):
        """Subscribe the connection (its sudo record) to the bank's account webhooks at
        `url`; `secret` is a fresh one, or the connection's own, for banks that take one.

        :raises BankError, ValueError: the bank refused (the caller records it).
        """

    def unsubscribe_webhooks(self, connection):
        """Stop the bank's webhooks to the connection (its sudo record), where the bank's
        API has a way: by default nothing is asked of the bank."""
        return None

    @abc.abstractmethod
    def verify_webhook(self, connection, raw_body, authorization):
        """Check that a stored webhook body is the bank's.

        :raises bank_api.webhooks.WebhookForged: not the bank's.
        :raises bank_api.webhooks.WebhookKeysUnavailable: the bank's keys cannot be read.
        """

    @abc.abstractmethod
    def webhook_entries(self, event, raw_body=None):
        """The `bank.webhook.event`'s operations as entries (account number, currency →
        `BankOperation`, id of the operation in the event), or the (HTTP status, body)
        the event was finished with (refused, flagged for a person, or noted only)."""


__all__ = ['BankAdapter', 'OutgoingPayment', 'PaymentState', 'PaymentStatus', 'SentPayment', 'StatementPage']
