"""A transfer to the company's account at a business bank of the sandbox, naming an
invoice: the bank's webhook reaches Odoo (instant updates, docs/bank-webhooks.md) and the
deal shows up paid within seconds.

    python tools/demo_transfer.py --bank tbank_business --invoice INV/2026/00001 --amount 1500

The account is the bank's first ruble account unless ``--account`` names one; the payer is
the customer's INN (``--inn``), so Odoo recognises the customer.
"""

import argparse
import os
import sys
import uuid
from decimal import Decimal, InvalidOperation

import requests


def amount_text(value):
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {value!r}") from None
    if not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:
        raise argparse.ArgumentTypeError("a positive amount with at most 2 decimals, e.g. 1500 or 1500.50")
    return f"{amount:.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sandbox", default=f"http://127.0.0.1:{os.environ.get('SANDBOX_PORT', 8070)}")
    parser.add_argument("--bank", choices=("tbank_business", "tochka"), default="tbank_business")
    parser.add_argument("--invoice", required=True, help="the invoice's number, put in the payment's purpose")
    parser.add_argument("--amount", required=True, type=amount_text, help="rubles, e.g. 1500.50")
    parser.add_argument("--account", help="the company's account (20 digits); default: the bank's first ruble one")
    parser.add_argument("--inn", default="7707083893", help="the payer's INN")
    parser.add_argument("--payer-account", default="40702810900000000777")
    args = parser.parse_args()
    sandbox = args.sandbox.rstrip("/")
    try:
        account = args.account
        if not account:
            listed = requests.get(f"{sandbox}/_admin/business/accounts", params={"bank": args.bank}, timeout=10)
            listed.raise_for_status()
            account = next(a["account"] for a in listed.json()["accounts"][args.bank] if a["currency"] == "RUB")
        operation_id = f"demo-{uuid.uuid4().hex[:12]}"
        answer = requests.post(
            f"{sandbox}/_admin/business/operations",
            timeout=10,
            json={
                "bank": args.bank,
                "account": account,
                "id": operation_id,
                "amount": args.amount,
                "direction": "credit",
                "purpose": f"Оплата по счету № {args.invoice}",
                "document_number": str(uuid.uuid4().int % 900000 + 100000),
                "counterparty": {"name": "Плательщик", "inn": args.inn, "account": args.payer_account},
            },
        )
    except requests.RequestException as error:
        sys.exit(f"error: the sandbox at {sandbox} could not be reached: {type(error).__name__}")
    except (StopIteration, KeyError, ValueError):
        sys.exit(f"error: the sandbox has no ruble account of {args.bank}")
    if answer.status_code != 201:
        sys.exit(f"error: the sandbox refused the transfer ({answer.status_code}): {answer.text[:300]}")
    print(f"{args.amount} RUB sent to {account} at {args.bank} (operation {operation_id}); its webhook follows.")


if __name__ == "__main__":
    main()
