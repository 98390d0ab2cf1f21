"""What the migration scripts (migrations/<version>/) do, as functions the tests call."""

import logging

from odoo import SUPERUSER_ID

_logger = logging.getLogger(__name__)


def record_approved_recipients(cr):
    """18.0.1.1.0: payments submitted before the approved recipient was recorded.

    Since 18.0.1.1.0 a payment goes to the bank only to the account number and BIC recorded
    when it was submitted (`recipient_acc_number`, `recipient_bic`, set by `action_submit`).
    Payments already past draft have none recorded: they are given the ones their
    recipient's account has now, the account their approver saw. Payments that already
    have them are left alone; drafts and canceled ones record theirs when submitted.

    :return: the number of payments updated
    """
    cr.execute("""
        UPDATE bank_crm_payment_order payment
           SET recipient_acc_number = account.acc_number,
               recipient_bic = bank.bic
          FROM res_partner_bank account
          LEFT JOIN res_bank bank ON bank.id = account.bank_id
         WHERE account.id = payment.partner_bank_id
           AND payment.state NOT IN ('draft', 'canceled')
           AND payment.recipient_acc_number IS NULL
           AND payment.recipient_bic IS NULL
    """)
    count = cr.rowcount
    _logger.info("Recorded the approved recipient of %s payments submitted before 18.0.1.1.0", count)
    return count


def record_reviewed_templates(env):
    """18.0.1.1.0: email templates saved before the addon recorded which code an
    administrator saved (`mail.template.bank_crm_reviewed_digest`).

    Since 18.0.1.1.0 the addon sends a template with code only while its code is the one
    an administrator saved. Templates whose last writer is an administrator (or Odoo
    itself, e.g. the addon's own "Invoice: Payment Link") are taken as reviewed as they
    are; the others wait for an administrator to save them.

    :return: the templates recorded as reviewed (mail.template)
    """
    templates = env['mail.template'].with_context(active_test=False).search([('bank_crm_reviewed_digest', '=', False)])
    reviewed = templates.filtered(lambda t: t.write_uid.id == SUPERUSER_ID or t.write_uid._is_system())
    reviewed._bank_crm_record_review()
    _logger.info("Recorded the code of %s email templates last saved by an administrator", len(reviewed))
    return reviewed
