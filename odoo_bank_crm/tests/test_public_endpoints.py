import json

from odoo.tests import HttpCase, tagged

from ..models.bank_webhook_event import DEFAULT_RETENTION_DAYS, EVENT_MAX_ATTEMPTS, RETENTION_PARAM
from odoo.addons.payment_tbank.public_input import MAX_BODY_BYTES
from .tbank_common import TBankCommon

WEBHOOK = '/payment/tbank/webhook'


def chunks(data, size=64 * 1024):
    """`data` sent with Transfer-Encoding: chunked (no Content-Length)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


@tagged('post_install', '-at_install')
class TestWebhookUnderAbuse(TBankCommon, HttpCase):
    """The bank's webhook as an outsider hammers it: oversized, malformed and deeply
    nested bodies, and the stored junk's fate (never tried again, purged)."""

    def _post(self, data, headers=None):
        headers = {'Content-Type': 'application/json', **(headers or {})}
        headers = {name: value for name, value in headers.items() if value is not None}
        if isinstance(data, dict):
            data = json.dumps(data)
        return self.opener.post(self.base_url() + WEBHOOK, data=data, headers=headers, timeout=60)

    def _events(self):
        self.env.invalidate_all()
        return self.env['bank.webhook.event'].search([], order='id')

    def _make_due(self, events):
        """As if the time to their next attempt had passed (no waiting in a test)."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE bank_webhook_event SET next_attempt_at = now() AT TIME ZONE 'UTC' - interval '1 second'"
            " WHERE id IN %s AND next_attempt_at IS NOT NULL",
            [tuple(events.ids)],
        )
        self.env.invalidate_all()

    # === SIZE === #

    def test_bodies_over_one_mib_get_413_and_are_not_stored(self):
        tx = self._create_invoice_tx()
        events_before = self._events()
        over = b'{"TerminalKey": "' + b'x' * MAX_BODY_BYTES + b'"}'
        cases = [
            # Odoo's dispatcher refuses the declared length before parsing anything
            ("declared, JSON", over, {}),
            # no Content-Type: nothing parses it before the controller, which checks the length
            ("declared, no content type", over, {'Content-Type': None}),
            # no Content-Length at all: the controller stops reading past the cap
            ("chunked", chunks(over), {}),
            ("chunked, no content type", chunks(over), {'Content-Type': None}),
        ]
        for label, data, headers in cases:
            with self.subTest(label):
                response = self._post(data, headers)
                self.assertEqual(response.status_code, 413, response.text[:200])
                self.assertNotIn('Traceback', response.text)
        self.assertEqual(self._events(), events_before, "nothing stored")
        self.assertEqual(tx.state, 'draft')

    def test_notification_just_under_the_cap_is_applied(self):
        """A genuine notification with a large nested part (left out of the token, like
        the bank's DATA) is applied, also sent chunked."""
        invoice = self._create_invoice()
        tx = self._create_invoice_tx(invoice)
        payload = self._notification(tx, 'CONFIRMED')
        payload['DATA'] = {'padding': ''}
        payload['DATA']['padding'] = 'p' * (MAX_BODY_BYTES - len(json.dumps(payload).encode()) - 10)
        body = json.dumps(payload).encode()
        self.assertLess(len(body), MAX_BODY_BYTES)
        response = self._post(chunks(body))
        self.assertEqual((response.status_code, response.text), (200, 'OK'))
        event = self._events()[-1]
        self.assertEqual(event.state, 'processed')
        self.assertEqual(tx.state, 'done')

    # === PARSING === #

    def test_malformed_and_deeply_nested_json_is_400_and_never_tried_again(self):
        tx = self._create_invoice_tx()
        forged = dict(self._notification(tx, 'CONFIRMED'), Token='0' * 64)
        junk = {
            "deep arrays (Python's recursion limit)": b'[' * 200_000 + b']' * 200_000,
            "deep objects past the cap of 32": json.dumps(
                {
                    'TerminalKey': 'TinkoffBankTest',
                    'Status': 'CONFIRMED',
                    'Receipt': json.loads('{"a":' * 40 + '1' + '}' * 40),
                }
            ),
            "NUL character (PostgreSQL refuses it)": json.dumps(dict(forged, OrderId='INV\x00-1')),
            # stored (and processed) as U+FFFD: then a notification with a forged token, 403
            "NUL byte in the body": b'{"TerminalKey": "TinkoffBankTest", "Status": "\x00"}',
            "not UTF-8": b'{"TerminalKey": "\xff\xfe", "Status": "CONFIRMED"}',
            "terminal key not text": json.dumps(dict(forged, TerminalKey=['TinkoffBankTest'])),
            "status not text": json.dumps(dict(forged, Status={'x': 1})),
            "amount too large for a column": json.dumps(dict(forged, Amount=10**30)),
            "huge integer": b'{"TerminalKey": "T", "Status": "S", "Amount": ' + b'9' * 5000 + b'}',
            "not an object": b'"CONFIRMED"',
            "empty": b'',
        }
        for label, body in junk.items():
            with self.subTest(label):
                response = self._post(body)
                expected = 403 if label in ("NUL byte in the body", "not UTF-8") else 400
                self.assertEqual(response.status_code, expected, response.text[:200])
                self.assertNotIn('Traceback', response.text)
                event = self._events()[-1]
                self.assertNotIn('\x00', event.raw_body)
                self.assertEqual(event.state, 'rejected')
                self.assertEqual(event.attempt_count, 1)
                self.assertFalse(event.next_attempt_at, "junk is never tried again")
        events = self._events()
        self.assertEqual(len(events), len(junk), "every junk body is kept, for the record")
        self._make_due(events)
        self.assertFalse(self.env['bank.webhook.event']._cron_process_waiting(), "the job has nothing to retry")
        self.assertEqual(set(events.mapped('attempt_count')), {1})
        self.assertEqual(tx.state, 'draft')

    # === ATTEMPTS === #

    def _waiting_notification(self, invoice, reference, payment_id):
        return self._notification(
            self.env['payment.transaction'].new(
                {'reference': reference, 'amount': invoice.amount_residual, 'provider_reference': payment_id}
            ),
            'CONFIRMED',
        )

    def test_junk_cannot_starve_a_notification_waiting_for_its_order(self):
        """Junk first (among it what used to fail with a 500 and be retried, and bodies
        stored by requests that died before processing them), then a genuine notification
        for an order not created yet: once the order exists, the job applies it at its
        first run, even one that processes a single notification."""
        for index in range(30):
            self._post(b'[' * 5000 if index % 2 else b'junk')
        Event = self.env['bank.webhook.event']
        orphans = Event.browse([Event._store_raw('tbank', b'[' * 5000).id for _index in range(3)])
        invoice = self._create_invoice()
        self.assertEqual(self._post(self._waiting_notification(invoice, 'INV-LATE-7', '7007')).text, 'OK')
        waiting = self._events()[-1]
        self.assertEqual((waiting.state, waiting.attempt_count), ('waiting', 1))
        self.assertTrue(waiting.next_attempt_at)
        tx = self._create_invoice_tx(invoice, payment_id='7007', reference='INV-LATE-7')
        # the orphans have been due longer than the genuine one: the job takes them first
        self._make_due(self._events())
        self.env.cr.execute(
            "UPDATE bank_webhook_event SET next_attempt_at = next_attempt_at - interval '1 hour' WHERE id IN %s",
            [tuple(orphans.ids)],
        )
        for _run in range(len(orphans) + 1):
            Event._cron_process_waiting(limit=1)
        self.env.invalidate_all()
        self.assertEqual(waiting.state, 'processed')
        self.assertEqual(tx.state, 'done')
        self.assertEqual(set(orphans.mapped('state')), {'rejected'})
        self.assertFalse(self._events().filtered('next_attempt_at'), "nothing left to try again")

    def test_attempts_are_bounded_and_spaced(self):
        invoice = self._create_invoice()
        self._post(self._waiting_notification(invoice, 'INV-NEVER-1', '8008'))
        event = self._events()[-1]
        Event = self.env['bank.webhook.event']
        for _run in range(EVENT_MAX_ATTEMPTS + 3):
            self._make_due(event)
            Event._cron_process_waiting()
            self.env.invalidate_all()
        self.assertEqual(event.attempt_count, EVENT_MAX_ATTEMPTS, "no attempt past the bound")
        self.assertEqual(event.state, 'waiting')
        self.assertFalse(event.next_attempt_at)
        self.assertIn(str(EVENT_MAX_ATTEMPTS), event.result)
        self.assertEqual(
            [Event._retry_delay_minutes(count) for count in range(1, 6)], [1, 2, 4, 8, 16], "spaced out, doubling"
        )
        self.assertEqual(Event._retry_delay_minutes(30), 6 * 60)
        # an administrator can still process it by hand once its order exists
        tx = self._create_invoice_tx(invoice, payment_id='8008', reference='INV-NEVER-1')
        event.with_user(self.admin_user).action_process_again()
        self.assertEqual(event.state, 'processed')
        self.assertEqual(tx.state, 'done')

    # === PURGE === #

    def test_rejected_events_are_purged_after_the_retention_period(self):
        tx = self._create_invoice_tx()
        self._post(b'junk')
        self._post(dict(self._notification(tx, 'CONFIRMED'), Token='0' * 64))
        old_rejected = self._events()
        invoice = self._create_invoice()
        self._post(self._waiting_notification(invoice, 'INV-OLD-WAIT', '9009'))
        self._post(self._notification(tx, 'CONFIRMED'))
        self._post(b'recent junk')
        events = self._events()
        old_kept = events[2:4]
        recent_rejected = events[4]
        self.assertEqual(old_kept.mapped('state'), ['waiting', 'processed'])
        self.assertEqual(recent_rejected.state, 'rejected')
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE bank_webhook_event SET received_at = received_at - interval '31 days' WHERE id IN %s",
            [tuple((old_rejected | old_kept).ids)],
        )
        Event = self.env['bank.webhook.event']
        Params = self.env['ir.config_parameter'].sudo()
        self.assertEqual(Params.get_param(RETENTION_PARAM), str(DEFAULT_RETENTION_DAYS))

        Params.set_param(RETENTION_PARAM, '60')
        self.assertEqual(Event._cron_purge_rejected(), 0, "31 days are within a 60-day retention")

        Params.set_param(RETENTION_PARAM, 'thirty')  # not a number: the default
        self.assertEqual(Event._cron_purge_rejected(), len(old_rejected))
        self.assertFalse(old_rejected.exists())
        self.assertEqual(self._events(), old_kept | recent_rejected, "only rejected ones past retention go")

    def test_purge_job_runs_the_purge(self):
        cron = self.env.ref('odoo_bank_crm.cron_purge_rejected_webhooks')
        self._post(b'junk')
        event = self._events()[-1]
        self.env.cr.execute(
            "UPDATE bank_webhook_event SET received_at = received_at - interval '400 days' WHERE id = %s", [event.id]
        )
        cron.method_direct_trigger()
        self.assertFalse(event.exists())
