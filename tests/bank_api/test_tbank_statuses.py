"""T-Bank payment status vocabulary and order (docs/banks.md §1.5)."""

import re
from pathlib import Path

import pytest

from tbank_api import (
    FAILURE_STATUSES,
    FINAL_STATUSES,
    NOTIFICATION_STATUSES,
    PAYMENT_STATUSES,
    REFUND_STATUSES,
    SUCCESS_STATUSES,
    is_newer_status,
    status_rank,
)

HAPPY_PATH = [
    "NEW",
    "FORM_SHOWED",
    "AUTHORIZING",
    "3DS_CHECKING",
    "3DS_CHECKED",
    "AUTHORIZED",
    "CONFIRMING",
    "CONFIRMED",
]


def test_happy_path_is_strictly_increasing():
    ranks = [status_rank(status) for status in HAPPY_PATH]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)


ROOT = Path(__file__).resolve().parents[2]


def test_refund_statuses_are_the_documented_ones():
    # docs/banks.md §1.5/§6.5: REVERSING → PARTIAL_REVERSED / REVERSED (cancel of an
    # authorised payment: the hold is released) and REFUNDING → PARTIAL_REFUNDED /
    # REFUNDED (refund of a confirmed one): the four statuses in which money went back.
    assert {"PARTIAL_REVERSED", "REVERSED", "PARTIAL_REFUNDED", "REFUNDED"} == REFUND_STATUSES
    # Steps still under way are not refunds yet; all four are notified (§1.5).
    assert REFUND_STATUSES.isdisjoint({"REVERSING", "REFUNDING", "ASYNC_REFUNDING"})
    assert REFUND_STATUSES <= NOTIFICATION_STATUSES
    assert REFUND_STATUSES.isdisjoint(SUCCESS_STATUSES | FAILURE_STATUSES)


def test_refund_statuses_are_defined_once():
    # payment_tbank's const.py imports this table; a second copy would drift again.
    definitions = [
        path.relative_to(ROOT).as_posix()
        for addon in ("odoo_bank_crm", "payment_tbank")
        for path in (ROOT / addon).rglob("*.py")
        if re.search(r"^REFUND_STATUSES\s*=", path.read_text(encoding="utf-8"), re.MULTILINE)
    ]
    assert definitions == ["payment_tbank/tbank_api/const.py"]


@pytest.mark.parametrize("status", sorted(REFUND_STATUSES))
def test_refunds_come_after_confirmed(status):
    assert is_newer_status(status, "CONFIRMED")
    assert not is_newer_status("CONFIRMED", status)


def test_partial_before_full_refund():
    assert is_newer_status("REFUNDED", "PARTIAL_REFUNDED")
    assert is_newer_status("REVERSED", "PARTIAL_REVERSED")
    assert not is_newer_status("PARTIAL_REFUNDED", "PARTIAL_REFUNDED")


@pytest.mark.parametrize("failure", sorted(FAILURE_STATUSES))
def test_failures_end_the_attempt_but_never_override_money(failure):
    for earlier in ("NEW", "FORM_SHOWED", "3DS_CHECKING"):
        assert is_newer_status(failure, earlier)
    assert not is_newer_status(failure, "AUTHORIZED")
    assert not is_newer_status(failure, "CONFIRMED")
    assert failure in FINAL_STATUSES


def test_vocabulary():
    assert {"AUTHORIZED", "CONFIRMED"} == SUCCESS_STATUSES
    assert NOTIFICATION_STATUSES <= PAYMENT_STATUSES
    assert SUCCESS_STATUSES.isdisjoint(FAILURE_STATUSES)
    assert not SUCCESS_STATUSES & FINAL_STATUSES


def test_unknown_status_never_wins():
    assert status_rank("SOMETHING_NEW") == -1
    assert not is_newer_status("SOMETHING_NEW", "NEW")
    assert is_newer_status("NEW", None)
    assert not is_newer_status("SOMETHING_NEW", None)
