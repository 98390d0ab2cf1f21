import json

from odoo import Command
from odoo.tools import SQL
from odoo.addons.payment import reset_payment_provider, setup_provider

from . import controllers
from . import models

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
# What an administrator may have changed on the taken-over records and this module's data
# would set again: a module's data is loaded in "init" mode when it is installed, where
# Odoo writes noupdate records too. Kept by pre_init_hook, put back by post_init_hook.
KEPT_FIELDS = {
    'payment_provider_tbank': ('name', 'image_128', 'payment_method_ids', 'available_currency_ids'),
    'payment_method_sbp': ('name', 'sequence', 'image', 'supported_currency_ids', 'support_refund'),
}
_kept = {}  # dbname -> {xmlid: (record, {field: value})}: one install, in this process


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
        _keep_admin_settings(env)
        # the provider now belongs to this module (its "Install" state on the providers' list)
        env.cr.execute(
            """
            UPDATE payment_provider SET module_id = (SELECT id FROM ir_module_module WHERE name = 'payment_tbank')
             WHERE id IN (SELECT res_id FROM ir_model_data
                           WHERE module = 'payment_tbank' AND model = 'payment.provider')
            """
        )


def _keep_admin_settings(env):
    """The values of KEPT_FIELDS as they are before this module's data loads (names in
    every language, as stored)."""
    kept = {}
    for name, fields_ in KEPT_FIELDS.items():
        record = env.ref(f'payment_tbank.{name}', raise_if_not_found=False)
        if not record:
            continue
        values = record.read([field for field in fields_ if field != 'name'])[0]
        values.pop('id')
        env.cr.execute(SQL('SELECT name FROM %s WHERE id = %s', SQL.identifier(record._table), record.id))
        kept[name] = (record, values, env.cr.fetchone()[0])
    _kept[env.cr.dbname] = kept


def _restore_admin_settings(env):
    for record, values, name in _kept.pop(env.cr.dbname, {}).values():
        record = record.with_env(env)
        record.write(
            {
                field: [Command.set(value)] if record._fields[field].type == 'many2many' else value
                for field, value in values.items()
            }
        )
        env.cr.execute(
            SQL('UPDATE %s SET name = %s WHERE id = %s', SQL.identifier(record._table), json.dumps(name), record.id)
        )
        record.invalidate_recordset(['name'])


def post_init_hook(env):
    setup_provider(env, 'tbank')
    _restore_admin_settings(env)


def uninstall_hook(env):
    reset_payment_provider(env, 'tbank')
