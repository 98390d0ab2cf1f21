"""Small pure helpers shared by models and controllers."""

from decimal import Decimal

from odoo import SUPERUSER_ID
from odoo.tools import float_repr

from .bank_api.money import from_minor_units, to_minor_units


def to_decimal(amount, currency):
    """Odoo amount (float) → exact Decimal, after the currency's rounding."""
    return Decimal(float_repr(currency.round(amount), currency.decimal_places))


def to_minor(amount, currency):
    """Odoo amount (float) → exact integer minor units (kopecks), after the currency's rounding."""
    return to_minor_units(to_decimal(amount, currency), currency.decimal_places)


def from_minor(units, currency):
    """Integer minor units → float amount for Odoo fields, exact to the currency's precision."""
    return float(from_minor_units(int(units), currency.decimal_places))


def tracking_lang(env):
    """The language a tracking message's values are written in (issue #18 §1, docs/i18n.md).

    Odoo stores a tracked selection's labels (and a many2one's name) as text, in the language
    of the environment that wrote them; only the field's name follows the reader's language.
    A person's change keeps Odoo's rule (the writer's language); an automated one, by a job
    (OdooBot, no language in its context) or a bank's request (the public user), is written
    in the company's language, the one its staff reads, else left as it is. Code that knows
    its readers' language says so with the context key `bank_crm_tracking_lang`.
    """
    chosen = env.context.get('bank_crm_tracking_lang')  # code that knows its readers' language
    if chosen and chosen in env['res.lang']._get_active_by('code'):
        return chosen
    automated = env.uid == SUPERUSER_ID or not env.context.get('lang') or env.user._is_public()
    if not automated:
        return env.lang
    lang = env.company.partner_id.lang
    return lang if lang and lang in env['res.lang']._get_active_by('code') else env.lang


def config_number(env, key, default, minimum, maximum):
    """A number set in Settings → Bank CRM (a system parameter): a missing or malformed
    value gives `default`, and the value is kept within [`minimum`, `maximum`], so that a
    parameter edited by hand never stops a job (a negative sleep, a text)."""
    # sudo: a system parameter, read by whichever job or request needs it
    raw = env['ir.config_parameter'].sudo().get_param(key)
    try:
        value = float(raw) if raw not in (None, False, '') else float(default)
    except ValueError:
        value = float(default)
    return min(max(value, minimum), maximum)


# The kinds of notification Odoo's web client shows (its `notification` service).
NOTIFICATION_TYPES = ('info', 'success', 'warning', 'danger')


def notification_action(message, type='info', title=None, sticky=False, next=None, links=None):
    """The client action `display_notification`: a notification in the user's web client,
    as Odoo's own `displayNotificationAction` (web, actions/client_actions.js) reads it.

    :param message: the text shown (plain text: the client escapes it).
    :param type: one of `NOTIFICATION_TYPES`.
    :param title: a title above the message, if any.
    :param sticky: stays until closed (else fades after a few seconds).
    :param next: the action the client runs after showing it (e.g. close the dialog,
        ``{'type': 'ir.actions.act_window_close'}``, or open a list).
    :param links: ``[{'label': ..., 'url': ...}]``, put in the message's ``%s`` in order.
    :raise ValueError: an unknown type.
    """
    if type not in NOTIFICATION_TYPES:
        raise ValueError(f"notification type {type!r} is not one of {NOTIFICATION_TYPES}")
    params = {'type': type, 'message': message, 'sticky': sticky}
    if title:
        params['title'] = title
    if next:
        params['next'] = next
    if links:
        params['links'] = links
    return {'type': 'ir.actions.client', 'tag': 'display_notification', 'params': params}
