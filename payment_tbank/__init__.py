from . import controllers
from . import models

from odoo.addons.payment import reset_payment_provider, setup_provider

# What odoo_bank_crm 18.0.1.1.0 declared and payment_tbank declares now (issue #14 §2):
# the provider, its payment method, views and fields. Odoo deletes at the end of an
# upgrade the records whose external ids their module no longer declares, so the ids
# are handed over to payment_tbank before it loads: the records (credentials, state,
# transactions' statuses) stay as they are, under their new module.
MOVED_XMLIDS = (
    'payment_provider_tbank',
    'payment_method_sbp',
    'tbank_redirect_form',
    'payment_provider_view_form',
)
MOVED_FIELDS = (
    ('payment_provider', 'tbank_terminal_key'),
    ('payment_provider', 'tbank_password'),
    ('payment_provider', 'tbank_api_url'),
    ('payment_provider', 'tbank_receipt_enabled'),
    ('payment_provider', 'tbank_taxation'),
    ('payment_provider', 'tbank_receipt_payment_method'),
    ('payment_provider', 'tbank_public_test_credentials'),
    ('payment_transaction', 'tbank_status'),
    ('payment_transaction', 'tbank_payment_url'),
)
# selection values: the provider code 'tbank' and the receipt settings' values
MOVED_SELECTION_PREFIXES = (
    'selection__payment_provider__code__tbank',
    'selection__payment_provider__tbank_',
)


def pre_init_hook(env):
    """Take over from odoo_bank_crm 18.0.1.1.0 the external ids of what now is
    payment_tbank's (a database upgraded with `-u odoo_bank_crm`, which installs
    payment_tbank first); on a database without them, nothing to do."""
    names = [*MOVED_XMLIDS, *(f'field_{model}__{field}' for model, field in MOVED_FIELDS)]
    env.cr.execute(
        """
        UPDATE ir_model_data SET module = 'payment_tbank'
         WHERE module = 'odoo_bank_crm'
           AND (name = ANY(%s) OR left(name, length(%s)) = %s OR left(name, length(%s)) = %s)
        """,
        [names, *(prefix for prefix in MOVED_SELECTION_PREFIXES for _twice in range(2))],
    )
    if env.cr.rowcount:
        # the provider now belongs to this module (its "Install" state on the providers' list)
        env.cr.execute(
            """
            UPDATE payment_provider SET module_id = (SELECT id FROM ir_module_module WHERE name = 'payment_tbank')
             WHERE id IN (SELECT res_id FROM ir_model_data
                           WHERE module = 'payment_tbank' AND model = 'payment.provider')
            """
        )


def post_init_hook(env):
    setup_provider(env, 'tbank')


def uninstall_hook(env):
    reset_payment_provider(env, 'tbank')
