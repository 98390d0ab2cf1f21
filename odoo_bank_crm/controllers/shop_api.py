import json
import logging
import re
from decimal import Decimal

import psycopg2
import pydantic

from odoo import http
from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.http import request

from ..models.bank_crm_shop_order import ShopOrderRefused
from odoo.addons.payment_tbank.public_input import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    BodyTooLarge,
    BodyUnreadable,
    loads_json,
    read_body,
)
from ..schemas.shop_order import ShopOrderRequest

_logger = logging.getLogger(__name__)

BEARER = re.compile(r'^bearer\s+(\S+)\s*$', re.IGNORECASE)
# What the integration user needs to create the deal and the invoice.
REQUIRED_GROUPS = ('sales_team.group_sale_salesman_all_leads', 'account.group_account_invoice')


class ShopApiController(http.Controller):
    """The online shop's API: one order in, a deal, an invoice and a payment link out.

    Contract (all bodies JSON, UTF-8; authenticated by an Odoo API key of the company's
    shop integration user, ``Authorization: Bearer <key>``):

    - 201 ``{"order_id", "deal_id", "invoice_id", "invoice_number", "amount", "currency",
      "payment_url"}``; 200 with the same body when the order number was received before;
    - 400 ``{"error": "validation_error", "details": [{"field", "code", "message"}]}``,
      or ``invalid_json`` (also JSON nested deeper than 32 levels); 415
      ``unsupported_media_type`` for a body that is not JSON; 413 for a body over 1 MiB
      (``payload_too_large``, or Odoo's own 413 page when Content-Length declares it);
    - 409 ``order_conflict`` when the order number was already used by this shop for a
      different order;
    - 401 ``unauthorized`` (no or bad key); 403 ``forbidden`` (a valid key of a user who
      is not the integration user, or lacks rights);
    - 422 ``{"error": <code>, "message"}`` when the order is refused (unknown product,
      currency, acquiring not set up, ...); 502 ``bank_error`` when the bank failed.

    Nothing is created unless the answer is 201.
    """

    # max_content_length: Odoo's dispatcher answers 413 to a declared body over the cap
    # before it parses anything of it; `read_body` caps what is read (chunked bodies too).
    @http.route(
        '/bank_crm/api/v1/orders',
        type='http',
        methods=['POST'],
        auth='public',
        csrf=False,
        save_session=False,
        max_content_length=MAX_BODY_BYTES,
    )
    def shop_order_create(self):
        user = self._shop_api_user()
        if not user:
            return self._shop_error(
                401,
                'unauthorized',
                request.env._("A valid API key is required: send it as 'Authorization: Bearer <key>'."),
            )
        company = self._shop_api_company(user)
        if not company:
            return self._shop_error(
                403,
                'forbidden',
                request.env._(
                    "This API key's user is not the online shop's integration user of any company: "
                    "choose it in Settings > Bank CRM > Online shop API."
                ),
            )
        missing = [group for group in REQUIRED_GROUPS if not user.has_group(group)]
        if missing:
            return self._shop_error(
                403,
                'forbidden',
                request.env._(
                    "The integration user lacks the rights to create deals and invoices (%(groups)s).",
                    # read as the key's user (an employee reads group names): no sudo
                    groups=", ".join(user.env.ref(group).full_name for group in missing),
                ),
            )
        request.update_env(
            user=user.id, context=dict(request.env.context, allowed_company_ids=[company.id], lang=user.lang or 'en_US')
        )

        if request.httprequest.mimetype != 'application/json':
            return self._shop_error(
                415,
                'unsupported_media_type',
                request.env._("Send the order as JSON, with 'Content-Type: application/json'."),
            )
        try:
            raw_body = read_body(request.httprequest)
        except BodyTooLarge:
            response = self._shop_error(
                413,
                'payload_too_large',
                request.env._("The body is over %(size)s bytes.", size=MAX_BODY_BYTES),
            )
            response.headers['Connection'] = 'close'  # what was not read of the body is not read
            return response
        except BodyUnreadable:
            return self._shop_error(400, 'invalid_json', request.env._("The body could not be read."))
        try:
            payload = loads_json(raw_body, parse_float=Decimal)
        except ValueError as error:  # also a body that is not UTF-8, or nested too deep
            return self._shop_error(
                400,
                'invalid_json',
                request.env._(
                    "The body is not valid JSON (at most %(depth)s levels deep): %(error)s",
                    depth=MAX_JSON_DEPTH,
                    error=error,
                ),
            )
        try:
            order = ShopOrderRequest.model_validate(payload)
        except pydantic.ValidationError as error:
            return self._shop_json(
                400,
                {
                    'error': 'validation_error',
                    'message': request.env._("The order is not valid: see the details of each field."),
                    'details': [self._shop_field_error(detail) for detail in error.errors()],
                },
            )

        try:
            # A savepoint, because an error answer is a normal response that Odoo commits:
            # whatever this order created before the failure must go.
            with request.env.cr.savepoint():
                body, created = request.env['bank.crm.shop.order']._bank_crm_receive(order)
        except psycopg2.OperationalError:
            raise  # a lost race for the order number: Odoo retries the request (see _bank_crm_claim)
        except ShopOrderRefused as error:
            return self._shop_error(error.status, error.code, error.args[0])
        except AccessError as error:
            # Odoo's text may name the records refused (other companies' ones included, for a user
            # in debug mode): the shop gets what it can act on, the log gets the rest.
            _logger.warning("Shop order %s refused for lack of rights: %s", order.order_id, error)
            return self._shop_error(
                403,
                'forbidden',
                request.env._(
                    "The integration user may not read or create something this order needs: "
                    "ask an administrator to check its rights and the shop settings of its company."
                ),
            )
        except UserError as error:
            return self._shop_error(422, 'refused', str(error))
        except Exception:
            _logger.exception("Shop order %s could not be processed", order.order_id)
            return self._shop_error(
                500,
                'internal_error',
                request.env._(
                    "The order could not be processed because of an error on our side; nothing was created. "
                    "Please try again later."
                ),
            )
        return request.make_response(body, headers=self._shop_headers(), status=201 if created else 200)

    # === AUTHENTICATION === #

    @staticmethod
    def _shop_api_user():
        """The active user whose API key (Odoo's own ``res.users.apikeys``, global or
        ``rpc`` scope) is the request's bearer token; None without a valid one."""
        match = BEARER.match(request.httprequest.headers.get('Authorization') or '')
        if not match:
            return None
        try:
            uid = request.env['res.users.apikeys']._check_credentials(scope='rpc', key=match.group(1))
        except AccessDenied:
            return None
        if not uid:
            return None
        # The key's user reads its own record (no sudo: the request is still the public user's).
        user = request.env(user=uid)['res.users'].browse(uid)
        return user if not user.share else None

    @staticmethod
    def _shop_api_company(user):
        """The company that chose `user` as its shop integration user (the user's current
        company first), among the companies the user may work in."""
        companies = request.env['res.company'].with_user(user).search([('bank_crm_shop_user_id', '=', user.id)])
        return (companies & user.company_id) or companies[:1]

    # === ANSWERS === #

    @staticmethod
    def _shop_headers():
        return [('Content-Type', 'application/json; charset=utf-8'), ('Cache-Control', 'no-store')]

    def _shop_json(self, status, values):
        return request.make_response(
            json.dumps(values, ensure_ascii=False), headers=self._shop_headers(), status=status
        )

    def _shop_error(self, status, code, message):
        return self._shop_json(status, {'error': code, 'message': message})

    @staticmethod
    def _shop_field_error(detail):
        """One pydantic error as the API reports it: the field's path (``items.0.quantity``),
        the error's code, and a message in the integration user's language."""
        _ = request.env._
        context = detail.get('ctx') or {}
        kind = detail['type']
        messages = {
            'missing': lambda: _("This field is required."),
            'extra_forbidden': lambda: _("Unknown field."),
            'string_type': lambda: _("Must be text."),
            'string_too_short': lambda: _("Must not be empty."),
            'string_too_long': lambda: _("At most %(max)s characters.", max=context.get('max_length')),
            'string_pattern_mismatch': lambda: _("Not in the expected format."),
            'too_short': lambda: _("At least %(min)s item(s) required.", min=context.get('min_length')),
            'too_long': lambda: _("At most %(max)s items.", max=context.get('max_length')),
            'list_type': lambda: _("Must be a list."),
            'model_type': lambda: _("Must be an object."),
            'model_attributes_type': lambda: _("Must be an object."),
            'decimal_type': lambda: _("Must be a number."),
            'decimal_parsing': lambda: _("Must be a number."),
            'finite_number': lambda: _("Must be a number."),
            'greater_than': lambda: _("Must be greater than %(min)s.", min=context.get('gt')),
            'greater_than_equal': lambda: _("Must not be less than %(min)s.", min=context.get('ge')),
            'decimal_max_places': lambda: _("At most %(places)s decimal places.", places=context.get('decimal_places')),
            'decimal_max_digits': lambda: _("At most %(digits)s digits.", digits=context.get('max_digits')),
            'decimal_whole_digits': lambda: _("Too large."),
            'literal_error': lambda: _("Must be one of %(values)s.", values=context.get('expected')),
            'email_invalid': lambda: _("Not an email address."),
            'phone_invalid': lambda: _("Not a phone number."),
            'inn_invalid': lambda: _("An INN has 10 or 12 digits."),
            'inn_checksum': lambda: _("This INN's check digits are wrong."),
            'url_invalid': lambda: _("Must be an http:// or https:// URL."),
            'item_unnamed': lambda: _("Give the item's product code or its name."),
        }
        if not detail['loc'] and kind == 'model_type':
            message = _("The body must be a JSON object.")
        else:
            message = messages[kind]() if kind in messages else detail['msg']
        return {
            'field': '.'.join(str(part) for part in detail['loc']),
            'code': kind,
            'message': message,
        }
