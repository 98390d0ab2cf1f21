"""`utils.notification_action`: the one builder of the `display_notification` client action
(issue #14 §4), and the actions of the addon that return it."""

from odoo.tests import TransactionCase, tagged

from ..utils import NOTIFICATION_TYPES, notification_action

CLOSE = {'type': 'ir.actions.act_window_close'}


@tagged('post_install', '-at_install')
class TestNotificationAction(TransactionCase):
    def test_default_is_an_info_toast_that_fades(self):
        self.assertEqual(
            notification_action("Done."),
            {
                'type': 'ir.actions.client',
                'tag': 'display_notification',
                'params': {'type': 'info', 'message': "Done.", 'sticky': False},
            },
        )

    def test_every_option_reaches_the_web_client_params(self):
        links = [{'label': "INV/2026/00001", 'url': '/odoo/action-account.action_move_out_invoice_type'}]
        action = notification_action(
            "Invoice %s was sent.", type='warning', title="Email", sticky=True, next=CLOSE, links=links
        )
        self.assertEqual(
            action['params'],
            {
                'type': 'warning',
                'message': "Invoice %s was sent.",
                'sticky': True,
                'title': "Email",
                'next': CLOSE,
                'links': links,
            },
        )

    def test_every_type_of_odoo_notification_is_accepted(self):
        for kind in NOTIFICATION_TYPES:
            self.assertEqual(notification_action("x", type=kind)['params']['type'], kind)

    def test_unknown_type_is_refused(self):
        with self.assertRaisesRegex(ValueError, "notification type 'error'"):
            notification_action("x", type='error')

    def test_an_action_of_the_addon_returns_it(self):
        """The rules list's button "Apply to uncategorised" answers with the helper's action."""
        action = self.env['bank.crm.categorisation.rule'].action_bank_crm_apply_to_uncategorised()
        self.assertEqual(action['tag'], 'display_notification')
        self.assertEqual(action['params']['type'], 'success')
        self.assertEqual(action['params']['next'], CLOSE)
        self.assertIn("transactions without a category were categorised", action['params']['message'])
        self.assertEqual(action, notification_action(action['params']['message'], type='success', next=CLOSE))
